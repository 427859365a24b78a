/*
 * bp debug dump: a read-only JSON dump of a stopped node's store (channels,
 * every breakpoint record with its EIP-712 digest and signatures, and the
 * own-signature table). The crash tests read both players' stores with it to
 * show that no nonce was ever signed twice with different content.
 */
#include "cli.h"
#include "json_values.h"
#include "store.h"
#include "vm.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds the nonce scan of one channel (a game has far fewer breakpoints). */
#define DEBUG_MAX_SCAN 100000

static json_t *bp_json(const struct store_channel *ch, const struct store_breakpoint *b)
{
    uint8_t d[32];
    vm_breakpoint_digest(&b->bp, vm_u256_from_u64(ch->chain_id), &ch->adjudicator, d);
    json_t *sigs = json_array(), *pay = json_array();
    for (int i = 0; i < VM_BP_PLAYERS; i++) {
        json_array_append_new(sigs, b->has_sig[i] ? json_hex_value(b->sigs[i], 65) : json_null());
        json_array_append_new(pay, json_dec_value(b->bp.payouts[i]));
    }
    return json_pack("{s:I,s:o,s:o,s:o,s:o,s:b,s:o,s:o,s:o}", "nonce", (json_int_t)b->bp.nonce,
                     "digest", json_hex_value(d, 32), "stateRoot", json_hex_value(b->bp.state_root.b, 32), "moveHash",
                     json_hex_value(b->bp.move_hash.b, 32), "payouts", pay, "isFinal", b->bp.is_final, "sigs",
                     sigs, "mover", json_hex_value(b->mover.b, 20), "calldata",
                     json_hex_value(b->calldata, b->calldata_len));
}

static int dump_channel(struct store *s, const vm_bytes32 *id, json_t *out)
{
    struct store_channel *ch = calloc(1, sizeof *ch);
    struct store_breakpoint *b = calloc(1, sizeof *b);
    int rv = ch && b ? store_get_channel(s, NULL, id, ch) : STORE_ERR_NOMEM;
    struct store_heads h;
    if (!rv) rv = store_get_heads(s, NULL, id, &h);
    if (rv) {
        free(ch);
        free(b);
        return rv;
    }
    json_t *players = json_array(), *bps = json_array(), *own = json_array();
    for (int i = 0; i < VM_BP_PLAYERS; i++) json_array_append_new(players, json_hex_value(ch->players[i].b, 20));
    uint64_t top = h.latest > h.own_max ? h.latest : h.own_max;
    if (top > DEBUG_MAX_SCAN) top = DEBUG_MAX_SCAN;
    for (uint64_t nonce = 0; (h.has_latest || h.has_own) && nonce <= top; nonce++) {
        int r = store_get_breakpoint(s, NULL, id, nonce, b);
        if (r == STORE_OK) json_array_append_new(bps, bp_json(ch, b));
        else if (r != STORE_ERR_NOTFOUND) rv = r;
        uint8_t d[32], sig[65];
        r = store_get_own_sig(s, NULL, id, nonce, d, sig);
        if (r == STORE_OK)
            json_array_append_new(own, json_pack("{s:I,s:o,s:o}", "nonce", (json_int_t)nonce, "digest",
                                                 json_hex_value(d, 32), "sig", json_hex_value(sig, 65)));
        else if (r != STORE_ERR_NOTFOUND) rv = r;
    }
    json_t *c = json_pack("{s:o,s:I,s:o,s:o,s:i,s:i,s:I,s:b,s:I,s:b,s:I,s:o,s:o}", "channel",
                          json_hex_value(id->b, 32), "chainId", (json_int_t)ch->chain_id, "adjudicator",
                          json_hex_value(ch->adjudicator.b, 20), "players", players, "me", (int)ch->me,
                          "status", (int)ch->status, "latest", (json_int_t)h.latest, "hasLatest",
                          h.has_latest, "ownMax", (json_int_t)h.own_max, "hasOwn", h.has_own,
                          "challengedNonce", (json_int_t)ch->challenged_nonce, "breakpoints", bps,
                          "ownSigs", own);
    json_array_append_new(out, c);
    free(ch);
    free(b);
    return rv;
}

int cmd_debug(int argc, char **argv)
{
    const char *datadir = NULL;
    if (argc < 2 || strcmp(argv[1], "dump") != 0)
        return cli_fail("debug: expected 'dump --datadir DIR' (see bp debug --help)");
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) continue; /* the output is always JSON */
        if (strcmp(argv[i], "--datadir") == 0 && i + 1 < argc) datadir = argv[++i];
        else return cli_fail("debug dump: unknown argument '%s'", argv[i]);
    }
    if (!datadir) return cli_fail("debug dump: --datadir DIR is required");
    char path[1024];
    snprintf(path, sizeof path, "%s/store", datadir);
    struct store *s = NULL;
    int rv = store_open(path, &s);
    if (rv) return cli_fail("debug dump: cannot open %s: %s (is its node still running?)", path,
                            store_strerror(rv));
    vm_address self;
    json_t *root = json_object(), *list = json_array();
    if (store_get_address(s, NULL, &self) == STORE_OK)
        json_object_set_new(root, "address", json_hex_value(self.b, 20));
    vm_bytes32 *ids = NULL;
    size_t count = 0;
    rv = store_list_channels(s, NULL, &ids, &count);
    for (size_t i = 0; !rv && i < count; i++) rv = dump_channel(s, &ids[i], list);
    free(ids);
    store_close(s);
    json_object_set_new(root, "channels", list);
    if (rv) {
        json_decref(root);
        return cli_fail("debug dump: cannot read the store: %s", store_strerror(rv));
    }
    char *text = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    if (!text) return cli_fail("debug dump: out of memory");
    puts(text);
    free(text);
    return 0;
}
