/*
 * Adjudicator event decoding: logs built by ethers v6 from the events'
 * Solidity declarations (docs/contracts.md) must decode to the same values;
 * damaged logs (wrong topic count, short data, unknown topic0) are refused.
 *
 * Usage: events_test NODE ETHERS_EVENT_JS NODE_MODULES_DIR
 */
#include "chain.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CH "0x9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9"
#define APP "0x5FbDB2315678afecb367f032d93F642f64180aa3"
#define P0 "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
#define P1 "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

static const char *const cases[][2] = {
    {"event Opened(bytes32 indexed channelId, address app, bytes32 codeHash, address[2] players, "
     "uint256[2] deposits, bytes initArgs, uint64 challengePeriod, bytes32 salt)",
     "[\"" CH "\", \"" APP "\", \"0x"
     "11111111111111111111111111111111"
     "11111111111111111111111111111111"
     "\", [\"" P0 "\", \"" P1
     "\"], [\"1000000000000000000\", \"2000000000000000000\"], \"0xc0ffee\", 3600, \"0x"
     "00000000000000000000000000000000000000000000000000000000000000ff\"]"},
    {"event Deposited(bytes32 indexed channelId, address indexed player, uint256 amount, uint256 "
     "total)",
     "[\"" CH "\", \"" P1 "\", \"2000000000000000000\", \"3000000000000000000\"]"},
    {"event Challenged(bytes32 indexed channelId, uint64 nonce, uint64 deadline)",
     "[\"" CH "\", 17, 1795924484]"},
    {"event Concluded(bytes32 indexed channelId, uint64 nonce)", "[\"" CH "\", 9]"},
    {"event Settled(bytes32 indexed channelId, uint64 nonce)",
     "[\"" CH "\", \"18446744073709551615\"]"},
    {"event Reclaimed(bytes32 indexed channelId, uint256 amount)",
     "[\"" CH "\", \"1000000000000000000\"]"},
    {"event Credited(address indexed recipient, uint256 amount)", "[\"" P1 "\", 5]"},
    {"event Withdrawn(address indexed recipient, uint256 amount)", "[\"" P0 "\", 6]"},
};

static void parse_line(char *line, struct chain_log *log)
{
    memset(log, 0, sizeof *log);
    char *tok = strtok(line, " \r\n");
    size_t n;
    log->data = hex_alloc(tok ? tok : "", &n);
    log->data_len = n;
    while ((tok = strtok(NULL, " \r\n")) && log->n_topics < 4) {
        uint8_t *t = hex_alloc(tok, &n);
        if (n == 32) memcpy(log->topics[log->n_topics++].b, t, 32);
        free(t);
    }
    log->block_number = 77;
}

static void check_values(size_t i, const struct chain_event *ev)
{
    size_t n;
    uint8_t *ch = hex_alloc(CH, &n);
    if (i < 6)
        CHECK(memcmp(ev->channel_id.b, ch, 32) == 0);
    else
        CHECK(ev->channel_id.b[0] == 0 && ev->channel_id.b[31] == 0);
    free(ch);
    CHECK_EQ(ev->block_number, 77);
    vm_address p0, p1, app;
    CHECK_EQ(vm_address_parse(P0, &p0), VM_OK);
    CHECK_EQ(vm_address_parse(P1, &p1), VM_OK);
    CHECK_EQ(vm_address_parse(APP, &app), VM_OK);
    vm_u256 eth = vm_u256_from_u64(1000000000000000000ULL);
    switch (i) {
    case 0:
        CHECK_EQ(ev->kind, CHAIN_EV_OPENED);
        CHECK(memcmp(ev->u.opened.app.b, app.b, 20) == 0);
        CHECK_EQ(ev->u.opened.code_hash.b[0], 0x11);
        CHECK(memcmp(ev->u.opened.players[0].b, p0.b, 20) == 0);
        CHECK(memcmp(ev->u.opened.players[1].b, p1.b, 20) == 0);
        CHECK(vm_u256_eq(ev->u.opened.deposits[0], eth));
        CHECK(vm_u256_eq(ev->u.opened.deposits[1], vm_u256_add(eth, eth)));
        CHECK_EQ(ev->u.opened.init_args_len, 3);
        CHECK_HEX(ev->u.opened.init_args, ev->u.opened.init_args_len, "c0ffee");
        CHECK_EQ(ev->u.opened.challenge_period, 3600);
        CHECK_EQ(ev->u.opened.salt.b[31], 0xff);
        break;
    case 1:
        CHECK_EQ(ev->kind, CHAIN_EV_DEPOSITED);
        CHECK(memcmp(ev->u.deposited.player.b, p1.b, 20) == 0);
        CHECK(vm_u256_eq(ev->u.deposited.amount, vm_u256_add(eth, eth)));
        CHECK(vm_u256_eq(ev->u.deposited.total, vm_u256_mul(eth, vm_u256_from_u64(3))));
        break;
    case 2:
        CHECK_EQ(ev->kind, CHAIN_EV_CHALLENGED);
        CHECK_EQ(ev->u.challenged.nonce, 17);
        CHECK_EQ(ev->u.challenged.deadline, 1795924484);
        break;
    case 3:
        CHECK_EQ(ev->kind, CHAIN_EV_CONCLUDED);
        CHECK_EQ(ev->u.concluded.nonce, 9);
        break;
    case 4:
        CHECK_EQ(ev->kind, CHAIN_EV_SETTLED);
        CHECK(ev->u.settled.nonce == UINT64_MAX);
        break;
    case 5:
        CHECK_EQ(ev->kind, CHAIN_EV_RECLAIMED);
        CHECK(vm_u256_eq(ev->u.reclaimed.amount, eth));
        break;
    case 6:
        CHECK_EQ(ev->kind, CHAIN_EV_CREDITED);
        CHECK(memcmp(ev->u.credited.recipient.b, p1.b, 20) == 0);
        CHECK_EQ(ev->u.credited.amount.w[0], 5);
        break;
    case 7:
        CHECK_EQ(ev->kind, CHAIN_EV_WITHDRAWN);
        CHECK(memcmp(ev->u.withdrawn.recipient.b, p0.b, 20) == 0);
        CHECK_EQ(ev->u.withdrawn.amount.w[0], 6);
        break;
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: events_test NODE ETHERS_EVENT_JS NODE_MODULES\n");
        return 2;
    }
    setenv("BP_NODE_MODULES", argv[3], 1);
    char path[] = "/tmp/bp-event-cases-XXXXXX";
    FILE *f = cases_file(path);
    if (!f) return 1;
    size_t n = sizeof cases / sizeof *cases;
    fputc('[', f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s{\"event\":\"%s\",\"values\":%s}", i ? "," : "", cases[i][0], cases[i][1]);
    fputs("]\n", f);
    fclose(f);
    FILE *p = node_script(argv[1], argv[2], path);
    CHECK(p != NULL);
    static char line[1 << 14];
    size_t got = 0;
    enum chain_event_kind kinds[] = {CHAIN_EV_OPENED,    CHAIN_EV_DEPOSITED, CHAIN_EV_CHALLENGED,
                                     CHAIN_EV_CONCLUDED, CHAIN_EV_SETTLED,   CHAIN_EV_RECLAIMED,
                                     CHAIN_EV_CREDITED,  CHAIN_EV_WITHDRAWN};
    while (p && got < n && fgets(line, sizeof line, p)) {
        struct chain_log log;
        parse_line(line, &log);
        /* topic0 as ethers computes it from the declaration */
        vm_bytes32 t;
        chain_event_topic(kinds[got], &t);
        CHECK(log.n_topics > 0 && memcmp(t.b, log.topics[0].b, 32) == 0);
        struct chain_event ev;
        int rc = chain_event_decode(&log, &ev);
        CHECK_EQ(rc, CHAIN_OK);
        if (!rc) check_values(got, &ev);
        chain_event_clear(&ev);

        /* damaged copies are refused */
        if (log.data_len >= 32) {
            log.data_len -= 32;
            CHECK_EQ(chain_event_decode(&log, &ev), CHAIN_ERR_EVENT);
            log.data_len += 32;
        }
        log.n_topics++;
        CHECK_EQ(chain_event_decode(&log, &ev), CHAIN_ERR_EVENT);
        log.n_topics -= 2;
        CHECK_EQ(chain_event_decode(&log, &ev), CHAIN_ERR_EVENT);
        log.n_topics++;
        log.topics[0].b[5] ^= 0x40;
        CHECK_EQ(chain_event_decode(&log, &ev), CHAIN_ERR_EVENT);
        free(log.data);
        got++;
    }
    CHECK_EQ(got, n);
    CHECK_EQ(p ? pclose(p) : -1, 0);
    unlink(path);
    return check_report("events_test");
}
