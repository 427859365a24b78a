/*
 * util.h — helpers shared by the store tests and the store benchmark:
 * scratch directories and deterministic records.
 */
#ifndef BP_TESTS_STORE_UTIL_H
#define BP_TESTS_STORE_UTIL_H

#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* nftw */
#endif
#include "store.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fresh directory under $TMPDIR (default /tmp: a real disk here, so fsync
 * costs what it costs in production). The store lives in DIR/store. */
static inline void util_scratch(char dir[256], char store_path[300])
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, 256, "%s/bp-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(store_path, 300, "%s/store", dir);
}

static inline int util_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(path);
}

static inline void util_rmtree(const char *dir)
{
    if (nftw(dir, util_rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0) perror("nftw");
}

/* Bytes that depend on (tag, i): records are reproducible from their nonce. */
static inline void util_fill(uint8_t *p, size_t n, uint64_t tag)
{
    uint64_t x = tag * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
}

static inline void util_channel(struct store_channel *ch, uint64_t tag, uint8_t me)
{
    memset(ch, 0, sizeof *ch);
    util_fill(ch->id.b, 32, tag);
    ch->chain_id = 31337;
    util_fill(ch->adjudicator.b, 20, tag + 1);
    util_fill(ch->app.b, 20, tag + 2);
    util_fill(ch->code_hash.b, 32, tag + 3);
    util_fill(ch->players[0].b, 20, tag + 4);
    util_fill(ch->players[1].b, 20, tag + 5);
    ch->deposits[0] = vm_u256_from_u64(1000000000000000000ull);
    ch->deposits[1] = vm_u256_from_u64(tag);
    ch->init_args_len = 3;
    memcpy(ch->init_args, "\x01\x02\x03", 3);
    ch->challenge_period = 3600;
    util_fill(ch->salt.b, 32, tag + 6);
    snprintf(ch->peer_url, sizeof ch->peer_url, "tcp://127.0.0.1:%u", (unsigned)(9000 + tag % 1000));
    ch->me = me;
    ch->status = STORE_CH_OPEN;
}

/* The breakpoint a test writes at (channel, nonce); sigs are stand-ins (the
 * store never verifies them). */
static inline void util_breakpoint(struct store_breakpoint *rec, const vm_bytes32 *id,
                                   uint64_t nonce, bool full)
{
    memset(rec, 0, sizeof *rec);
    rec->bp.channel_id = *id;
    rec->bp.nonce = nonce;
    util_fill(rec->bp.state_root.b, 32, nonce * 3 + id->b[0]);
    util_fill(rec->bp.move_hash.b, 32, nonce * 5 + id->b[1]);
    rec->bp.payouts[0] = vm_u256_from_u64(nonce);
    rec->bp.payouts[1] = vm_u256_from_u64(2000000000000000000ull - nonce);
    rec->has_sig[0] = true;
    util_fill(rec->sigs[0], 65, nonce * 7 + id->b[2]);
    rec->has_sig[1] = full;
    if (full) util_fill(rec->sigs[1], 65, nonce * 11 + id->b[3]);
    util_fill(rec->mover.b, 20, nonce & 1);
    rec->calldata_len = (size_t)(nonce % 37) + 4;
    util_fill(rec->calldata, rec->calldata_len, nonce * 13 + id->b[4]);
}

/* The private storage written with breakpoint `nonce`. *n <= 8. */
static inline void util_slots(uint64_t nonce, struct vm_storage_slot slots[8], size_t *n)
{
    *n = (size_t)(nonce % 8) + 1;
    for (size_t i = 0; i < *n; i++) {
        slots[i].key = vm_u256_from_u64(i);
        slots[i].value = vm_u256_from_u64(nonce * 100 + i);
    }
}

static inline bool util_bp_equal(const struct store_breakpoint *a, const struct store_breakpoint *b)
{
    const struct vm_breakpoint *x = &a->bp, *y = &b->bp;
    if (memcmp(x->channel_id.b, y->channel_id.b, 32) || x->nonce != y->nonce ||
        memcmp(x->state_root.b, y->state_root.b, 32) || memcmp(x->move_hash.b, y->move_hash.b, 32) ||
        x->is_final != y->is_final)
        return false;
    for (int i = 0; i < VM_BP_PLAYERS; i++) {
        if (!vm_u256_eq(x->payouts[i], y->payouts[i]) || a->has_sig[i] != b->has_sig[i]) return false;
        if (a->has_sig[i] && memcmp(a->sigs[i], b->sigs[i], 65)) return false;
    }
    return memcmp(a->mover.b, b->mover.b, 20) == 0 && a->calldata_len == b->calldata_len &&
           memcmp(a->calldata, b->calldata, a->calldata_len) == 0;
}

#endif
