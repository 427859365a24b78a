/*
 * chain/ against the real contracts on anvil: deploy the Adjudicator and
 * TicTacToe artifacts with our own signed transactions, open a channel and
 * deposit (ABI-encoded calls), and check that the events decode
 * (chain_event_decode) to exactly what was sent — the channel id equal to
 * keccak256(abi.encode(chainId, adjudicator, app, codeHash, players,
 * deposits, keccak256(initArgs), challengePeriod, salt)) (DESIGN.md §3) and
 * to what open() returns, the code hash equal to keccak(eth_getCode(app)) —
 * and that the log watcher delivers both events in order.
 *
 * Usage: adjudicator_test ANVIL ADJUDICATOR.json TICTACTOE.json
 */
#include "chain.h"
#include "check.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEY0 "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define KEY1 "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"

static struct chain_client *cl;
static struct vm_secp *secp;

/* The creation code of an artifact ("bytecode" or evm.bytecode.object). */
static bool artifact_code(const char *path, struct vm_buf *code)
{
    json_error_t e;
    json_t *root = json_load_file(path, 0, &e);
    if (!root) return false;
    json_t *b = json_object_get(root, "bytecode");
    if (json_is_object(b)) b = json_object_get(b, "object");
    if (!json_is_string(b))
        b = json_object_get(json_object_get(json_object_get(root, "evm"), "bytecode"), "object");
    bool ok = false;
    if (json_is_string(b)) {
        size_t n = strlen(json_string_value(b));
        ok = vm_buf_reserve(code, n / 2 + 1) == VM_OK &&
             vm_hex_decode(json_string_value(b), code->data, n / 2 + 1, &code->len) == VM_OK &&
             code->len > 0;
    }
    json_decref(root);
    return ok;
}

static bool deploy(struct chain_wallet *w, const char *artifact, vm_address *addr)
{
    struct vm_buf code = {0};
    bool ok = artifact_code(artifact, &code);
    CHECK(ok);
    struct chain_receipt r = {0};
    if (ok) {
        int rc = chain_wallet_send(w, NULL, vm_u256_from_u64(0), code.data, code.len, 0, &r);
        CHECK_EQ(rc, CHAIN_OK);
        if (rc == CHAIN_ERR_RPC) fprintf(stderr, "  %s\n", chain_client_rpc_error(cl)->message);
        ok = rc == CHAIN_OK && r.has_contract_address;
        if (ok) *addr = r.contract_address;
        printf("deployed %s: gas %llu\n", artifact, (unsigned long long)r.gas_used);
    }
    chain_receipt_free(&r);
    vm_buf_free(&code);
    return ok;
}

static void hex_of(const uint8_t *b, size_t n, char *out)
{
    vm_hex_encode(b, n, out);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: adjudicator_test ANVIL ADJUDICATOR.json TICTACTOE.json\n");
        return 2;
    }
    if (access(argv[2], R_OK) != 0 || access(argv[3], R_OK) != 0) {
        printf("adjudicator_test: SKIP: contract artifacts not built (%s)\n", argv[2]);
        return 77;
    }
    struct anvil_tmp anvil;
    char url[256];
    if (!anvil_tmp_start(&anvil, "/tmp/bp-adj-XXXXXX", argv[1], url, sizeof url)) return 1;
    struct chain_client_opts co = {.expected_chain_id = 31337};
    if (chain_client_new(url, &co, &cl) != CHAIN_OK || vm_secp_new(&secp) != VM_OK) {
        proc_stop(anvil.pid);
        return 1;
    }
    size_t kl;
    uint8_t *k0 = hex_alloc(KEY0, &kl), *k1 = hex_alloc(KEY1, &kl);
    struct chain_wallet_opts wo = {.poll_interval_ms = 50};
    struct chain_wallet *w0, *w1;
    CHECK_EQ(chain_wallet_new(cl, secp, k0, &wo, &w0), CHAIN_OK);
    CHECK_EQ(chain_wallet_new(cl, secp, k1, &wo, &w1), CHAIN_OK);

    vm_address adj, app;
    if (!deploy(w0, argv[2], &adj) || !deploy(w0, argv[3], &app)) goto out;

    char adj_hex[43], app_hex[43], p0_hex[43], p1_hex[43];
    hex_of(adj.b, 20, adj_hex);
    hex_of(app.b, 20, app_hex);
    hex_of(chain_wallet_address(w0)->b, 20, p0_hex);
    hex_of(chain_wallet_address(w1)->b, 20, p1_hex);
    const char *d0 = "1000000000000000000", *d1 = "2000000000000000000";
    const char *salt = "0x00000000000000000000000000000000000000000000000000000000000000a5";
    char args[1024];
    snprintf(args, sizeof args,
             "[\"%s\", [\"%s\", \"%s\"], [\"%s\", \"%s\"], \"0xbeef\", 3600, \"%s\"]", app_hex,
             p0_hex, p1_hex, d0, d1, salt);
    struct vm_buf call = {0};
    CHECK_EQ(chain_abi_encode_call("open(address,address[2],uint256[2],bytes,uint64,bytes32)", args,
                                   &call),
             CHAIN_OK);

    /* the expected channel id, from DESIGN.md §3 */
    struct vm_buf code = {0};
    CHECK_EQ(chain_get_code(cl, &app, CHAIN_BLOCK_LATEST, &code), CHAIN_OK);
    uint8_t code_hash[32], init_hash[32], want_id[32];
    vm_keccak256(code.data, code.len, code_hash);
    vm_buf_free(&code);
    const uint8_t beef[2] = {0xbe, 0xef};
    vm_keccak256(beef, 2, init_hash);
    char ch_hex[67], ih_hex[67], id_args[1024];
    hex_of(code_hash, 32, ch_hex);
    hex_of(init_hash, 32, ih_hex);
    snprintf(
        id_args, sizeof id_args,
        "[31337, \"%s\", \"%s\", \"%s\", [\"%s\", \"%s\"], [\"%s\", \"%s\"], \"%s\", 3600, \"%s\"]",
        adj_hex, app_hex, ch_hex, p0_hex, p1_hex, d0, d1, ih_hex, salt);
    struct vm_buf enc = {0};
    CHECK_EQ(chain_abi_encode(
                 "(uint256,address,address,bytes32,address[2],uint256[2],bytes32,uint64,bytes32)",
                 id_args, &enc),
             CHAIN_OK);
    vm_keccak256(enc.data, enc.len, want_id);
    vm_buf_free(&enc);

    /* what open() returns (eth_call) */
    vm_u256 value0, value1;
    CHECK_EQ(vm_u256_parse(d0, &value0), VM_OK);
    CHECK_EQ(vm_u256_parse(d1, &value1), VM_OK);
    struct chain_call c = {chain_wallet_address(w0), &adj, value0, call.data, call.len, 0};
    struct vm_buf out = {0};
    int rc = chain_eth_call(cl, &c, CHAIN_BLOCK_LATEST, &out);
    CHECK_EQ(rc, CHAIN_OK);
    if (rc == CHAIN_ERR_RPC) fprintf(stderr, "  open: %s\n", chain_client_rpc_error(cl)->message);
    CHECK(out.len == 32 && memcmp(out.data, want_id, 32) == 0);
    vm_buf_free(&out);

    struct chain_receipt r;
    CHECK_EQ(chain_wallet_send(w0, &adj, value0, call.data, call.len, 0, &r), CHAIN_OK);
    printf("open: gas %llu\n", (unsigned long long)r.gas_used);
    struct chain_event ev;
    bool found = false;
    for (size_t i = 0; i < r.logs.n; i++) {
        if (chain_event_decode(&r.logs.items[i], &ev) != CHAIN_OK) continue;
        found = true;
        CHECK_EQ(ev.kind, CHAIN_EV_OPENED);
        CHECK(memcmp(ev.channel_id.b, want_id, 32) == 0);
        CHECK(memcmp(ev.u.opened.app.b, app.b, 20) == 0);
        CHECK(memcmp(ev.u.opened.code_hash.b, code_hash, 32) == 0);
        CHECK(memcmp(ev.u.opened.players[0].b, chain_wallet_address(w0)->b, 20) == 0);
        CHECK(memcmp(ev.u.opened.players[1].b, chain_wallet_address(w1)->b, 20) == 0);
        CHECK(vm_u256_eq(ev.u.opened.deposits[0], value0));
        CHECK(vm_u256_eq(ev.u.opened.deposits[1], value1));
        CHECK_HEX(ev.u.opened.init_args, ev.u.opened.init_args_len, "beef");
        CHECK_EQ(ev.u.opened.challenge_period, 3600);
        CHECK_EQ(ev.u.opened.salt.b[31], 0xa5);
        CHECK_EQ(ev.block_number, r.block_number);
        chain_event_clear(&ev);
    }
    CHECK(found);
    chain_receipt_free(&r);
    vm_buf_free(&call);

    /* player 1 deposits */
    char id_hex[67];
    hex_of(want_id, 32, id_hex);
    snprintf(args, sizeof args, "[\"%s\"]", id_hex);
    CHECK_EQ(chain_abi_encode_call("deposit(bytes32)", args, &call), CHAIN_OK);
    /* the wrong amount reverts with the documented custom error, and its revert
     * data comes back through the JSON-RPC error object */
    struct chain_call bad = {chain_wallet_address(w1), &adj, value0, call.data, call.len, 0};
    uint64_t gas;
    CHECK_EQ(chain_estimate_gas(cl, &bad, &gas), CHAIN_ERR_RPC);
    const struct chain_rpc_error *e = chain_client_rpc_error(cl);
    CHECK_EQ(e->data_len, 4);
    uint8_t sel[4];
    CHECK_EQ(chain_abi_selector("NotPlayer1OrBadValue()", sel, NULL, 0), CHAIN_OK);
    CHECK(e->data_len == 4 && memcmp(e->data, sel, 4) == 0);
    char reason[64];
    CHECK_EQ(chain_abi_revert_reason(e->data, e->data_len, reason, sizeof reason), CHAIN_OK);
    CHECK(strncmp(reason, "custom error 0x", 15) == 0);

    CHECK_EQ(chain_wallet_send(w1, &adj, value1, call.data, call.len, 0, &r), CHAIN_OK);
    printf("deposit: gas %llu\n", (unsigned long long)r.gas_used);
    found = false;
    for (size_t i = 0; i < r.logs.n; i++) {
        if (chain_event_decode(&r.logs.items[i], &ev) != CHAIN_OK) continue;
        found = true;
        CHECK_EQ(ev.kind, CHAIN_EV_DEPOSITED);
        CHECK(memcmp(ev.channel_id.b, want_id, 32) == 0);
        CHECK(memcmp(ev.u.deposited.player.b, chain_wallet_address(w1)->b, 20) == 0);
        CHECK(vm_u256_eq(ev.u.deposited.amount, value1));
        CHECK(vm_u256_eq(ev.u.deposited.total, vm_u256_add(value0, value1)));
        chain_event_clear(&ev);
    }
    CHECK(found);
    chain_receipt_free(&r);
    vm_buf_free(&call);

    /* the watcher, filtered on the adjudicator and this channel (topic 1), sees both, in order */
    struct chain_log_filter f = {&adj, {{{0}}}, {false, true}, 2};
    memcpy(f.topics[1].b, want_id, 32);
    struct chain_cursor cur = {0, {{0}}};
    struct chain_logs logs = {0};
    CHECK_EQ(chain_watch_poll(cl, &f, NULL, &cur, &logs, NULL), CHAIN_OK);
    CHECK_EQ(logs.n, 2);
    enum chain_event_kind want[2] = {CHAIN_EV_OPENED, CHAIN_EV_DEPOSITED};
    for (size_t i = 0; i < logs.n && i < 2; i++) {
        CHECK_EQ(chain_event_decode(&logs.items[i], &ev), CHAIN_OK);
        CHECK_EQ(ev.kind, want[i]);
        chain_event_clear(&ev);
    }
    chain_logs_free(&logs);

out:
    chain_wallet_free(w0);
    chain_wallet_free(w1);
    chain_client_free(cl);
    vm_secp_free(secp);
    free(k0);
    free(k1);
    return anvil_tmp_finish(&anvil, "adjudicator_test");
}
