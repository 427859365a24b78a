/*
 * store_test.c — unit tests of store/: record round trips, the safety
 * invariant, ordering rules, group commits, durability across reopen, map
 * growth, locking, and strict rejection of corrupt records.
 */
#include "util.h"

/* record.h is private to store/, on store_dep's include path: this is
 * store's own test of its decoders. */
#include "record.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

struct fx {
    char dir[256];
    char path[300];
    struct store *s;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL) return -1;
    util_scratch(f->dir, f->path);
    if (store_open(f->path, &f->s) != STORE_OK) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    store_close(f->s);
    util_rmtree(f->dir);
    free(f);
    return 0;
}

static void reopen(struct fx *f)
{
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(f->path, &f->s), STORE_OK);
}

/* Heap copies: the records are tens of KiB. */
static struct store_breakpoint *new_bp(void)
{
    struct store_breakpoint *b = malloc(sizeof *b);
    assert_non_null(b);
    return b;
}

static void add_channel(struct fx *f, struct store_channel *ch, uint64_t tag, uint8_t me)
{
    util_channel(ch, tag, me);
    assert_int_equal(store_put_channel(f->s, NULL, ch), STORE_OK);
}

static void put_full(struct fx *f, const vm_bytes32 *id, uint64_t nonce, int want)
{
    struct store_breakpoint *b = new_bp();
    struct vm_storage_slot slots[8];
    size_t n;
    util_breakpoint(b, id, nonce, true);
    util_slots(nonce, slots, &n);
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, slots, n), want);
    free(b);
}

static void assert_channel_equal(const struct store_channel *a, const struct store_channel *b)
{
    assert_memory_equal(a->id.b, b->id.b, 32);
    assert_true(a->chain_id == b->chain_id);
    assert_memory_equal(a->adjudicator.b, b->adjudicator.b, 20);
    assert_memory_equal(a->app.b, b->app.b, 20);
    assert_memory_equal(a->code_hash.b, b->code_hash.b, 32);
    for (int i = 0; i < 2; i++) {
        assert_memory_equal(a->players[i].b, b->players[i].b, 20);
        assert_true(vm_u256_eq(a->deposits[i], b->deposits[i]));
    }
    assert_int_equal(a->init_args_len, b->init_args_len);
    assert_memory_equal(a->init_args, b->init_args, a->init_args_len);
    assert_true(a->challenge_period == b->challenge_period);
    assert_memory_equal(a->salt.b, b->salt.b, 32);
    assert_string_equal(a->peer_url, b->peer_url);
    assert_int_equal(a->me, b->me);
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->flags, b->flags);
    assert_true(a->opened_block == b->opened_block);
    assert_true(a->challenge_deadline == b->challenge_deadline);
    assert_true(a->challenged_nonce == b->challenged_nonce);
    assert_int_equal(a->n_txs, b->n_txs);
    for (size_t i = 0; i < a->n_txs; i++) {
        assert_int_equal(a->txs[i].kind, b->txs[i].kind);
        assert_true(a->txs[i].nonce == b->txs[i].nonce);
        assert_memory_equal(a->txs[i].hash.b, b->txs[i].hash.b, 32);
        assert_true(a->txs[i].bp_nonce == b->txs[i].bp_nonce);
        assert_int_equal(a->txs[i].raw_len, b->txs[i].raw_len);
        assert_memory_equal(a->txs[i].raw, b->txs[i].raw, a->txs[i].raw_len);
    }
}

/* ------------------------------------------------------------------ */

static void test_meta(void **state)
{
    struct fx *f = *state;
    vm_address a, b, got;
    util_fill(a.b, 20, 1);
    util_fill(b.b, 20, 2);
    assert_int_equal(store_get_address(f->s, NULL, &got), STORE_ERR_NOTFOUND);
    assert_int_equal(store_bind_address(f->s, NULL, &a), STORE_OK);
    assert_int_equal(store_bind_address(f->s, NULL, &a), STORE_OK);
    assert_int_equal(store_bind_address(f->s, NULL, &b), STORE_ERR_CONFLICT);

    uint64_t block = 0;
    vm_bytes32 h, hg;
    util_fill(h.b, 32, 3);
    assert_int_equal(store_get_cursor(f->s, NULL, &block, &hg), STORE_ERR_NOTFOUND);
    assert_int_equal(store_put_cursor(f->s, NULL, 0x1234567890ull, &h), STORE_OK);

    reopen(f);
    assert_int_equal(store_get_address(f->s, NULL, &got), STORE_OK);
    assert_memory_equal(got.b, a.b, 20);
    assert_int_equal(store_get_cursor(f->s, NULL, &block, &hg), STORE_OK);
    assert_true(block == 0x1234567890ull);
    assert_memory_equal(hg.b, h.b, 32);

    /* A second opener of the same store is refused while the first lives. */
    struct store *other = NULL;
    assert_int_equal(store_open(f->path, &other), STORE_ERR_LOCKED);
    assert_null(other);
}

static void test_version(void **state)
{
    struct fx *f = *state;
    /* msgpack uint 2: a schema from the future must not be read as ours. */
    const uint8_t two = 0x02;
    assert_int_equal(store_raw_put(f->s, STORE_DB_META, (const uint8_t *)"version", 7, &two, 1),
                     STORE_OK);
    store_close(f->s);
    f->s = (void *)1;
    assert_int_equal(store_open(f->path, &f->s), STORE_ERR_VERSION);
    assert_true(f->s == (void *)1);
    /* A garbage version record is corrupt, not "version 0". */
    char other[400];
    snprintf(other, sizeof other, "%s/other", f->dir);
    assert_int_equal(store_open(other, &f->s), STORE_OK);
    const uint8_t junk[2] = {0xc1, 0x00};
    assert_int_equal(store_raw_put(f->s, STORE_DB_META, (const uint8_t *)"version", 7, junk, 2),
                     STORE_OK);
    store_close(f->s);
    assert_int_equal(store_open(other, &f->s), STORE_ERR_CORRUPT);
    /* The teardown needs a store. */
    snprintf(other, sizeof other, "%s/third", f->dir);
    assert_int_equal(store_open(other, &f->s), STORE_OK);
}

static void test_channel_roundtrip(void **state)
{
    struct fx *f = *state;
    struct store_channel *ch = malloc(sizeof *ch), *got = malloc(sizeof *got);
    assert_non_null(ch);
    assert_non_null(got);
    util_channel(ch, 42, 1);
    ch->init_args_len = STORE_MAX_INIT_ARGS;
    util_fill(ch->init_args, ch->init_args_len, 9);
    ch->deposits[0] = vm_u256_not(vm_u256_from_u64(0)); /* 2^256 - 1 */
    ch->chain_id = UINT64_MAX;
    ch->flags = STORE_FLAG_DEPOSIT0 | 0x80000000u;
    ch->status = STORE_CH_CHALLENGED;
    ch->opened_block = 77;
    ch->challenge_deadline = 1700000000;
    ch->challenged_nonce = 12;
    memset(ch->peer_url, 'u', STORE_MAX_URL - 1);
    ch->peer_url[STORE_MAX_URL - 1] = 0;
    ch->n_txs = 2;
    ch->txs[0].kind = STORE_TX_OPEN;
    ch->txs[0].nonce = 5;
    util_fill(ch->txs[0].hash.b, 32, 10);
    ch->txs[0].raw_len = STORE_MAX_RAW_TX;
    util_fill(ch->txs[0].raw, STORE_MAX_RAW_TX, 11);
    ch->txs[1].kind = STORE_TX_CHALLENGE;
    ch->txs[1].nonce = 6;
    ch->txs[1].bp_nonce = 9;
    util_fill(ch->txs[1].hash.b, 32, 12);
    ch->txs[1].raw_len = 1;
    ch->txs[1].raw[0] = 0x02;
    assert_int_equal(store_put_channel(f->s, NULL, ch), STORE_OK);
    reopen(f);
    memset(got, 0xee, sizeof *got);
    assert_int_equal(store_get_channel(f->s, NULL, &ch->id, got), STORE_OK);
    assert_channel_equal(ch, got);

    /* Replace: status change persists. */
    ch->status = STORE_CH_SETTLED;
    ch->n_txs = 0;
    ch->peer_url[0] = 0;
    assert_int_equal(store_put_channel(f->s, NULL, ch), STORE_OK);
    assert_int_equal(store_get_channel(f->s, NULL, &ch->id, got), STORE_OK);
    assert_channel_equal(ch, got);
    assert_int_equal(got->status, STORE_CH_SETTLED);

    /* Bounds are refused, not truncated. */
    ch->me = 2;
    assert_int_equal(store_put_channel(f->s, NULL, ch), STORE_ERR_INVALID);
    ch->me = 0;
    ch->init_args_len = STORE_MAX_INIT_ARGS + 1;
    assert_int_equal(store_put_channel(f->s, NULL, ch), STORE_ERR_INVALID);
    ch->init_args_len = 0;
    memset(ch->peer_url, 'u', STORE_MAX_URL);
    assert_int_equal(store_put_channel(f->s, NULL, ch), STORE_ERR_INVALID);
    ch->peer_url[0] = 0;
    ch->status = 0;
    assert_int_equal(store_put_channel(f->s, NULL, ch), STORE_ERR_INVALID);
    ch->status = STORE_CH_OPEN;
    ch->n_txs = 1;
    ch->txs[0].raw_len = 0;
    assert_int_equal(store_put_channel(f->s, NULL, ch), STORE_ERR_INVALID);

    vm_bytes32 missing;
    memset(missing.b, 0x55, 32);
    assert_int_equal(store_get_channel(f->s, NULL, &missing, got), STORE_ERR_NOTFOUND);
    free(ch);
    free(got);
}

static void test_list_channels(void **state)
{
    struct fx *f = *state;
    vm_bytes32 *ids = (void *)1;
    size_t n = 99;
    assert_int_equal(store_list_channels(f->s, NULL, &ids, &n), STORE_OK);
    assert_int_equal(n, 0);
    assert_null(ids);
    struct store_channel *ch = malloc(sizeof *ch);
    assert_non_null(ch);
    vm_bytes32 want[5];
    for (int i = 0; i < 5; i++) {
        add_channel(f, ch, 100 + (uint64_t)i, (uint8_t)(i & 1));
        want[i] = ch->id;
    }
    assert_int_equal(store_list_channels(f->s, NULL, &ids, &n), STORE_OK);
    assert_int_equal(n, 5);
    /* Byte order of the keys, each id exactly once. */
    for (size_t i = 1; i < n; i++) assert_true(memcmp(ids[i - 1].b, ids[i].b, 32) < 0);
    for (int i = 0; i < 5; i++) {
        int hits = 0;
        for (size_t j = 0; j < n; j++) hits += memcmp(ids[j].b, want[i].b, 32) == 0;
        assert_int_equal(hits, 1);
    }
    free(ids);
    free(ch);
}

static void test_breakpoint_roundtrip(void **state)
{
    struct fx *f = *state;
    struct store_channel ch;
    add_channel(f, &ch, 7, 0);
    struct store_breakpoint *b = new_bp(), *got = new_bp();

    struct store_heads h;
    assert_int_equal(store_get_heads(f->s, NULL, &ch.id, &h), STORE_OK);
    assert_false(h.has_latest);
    assert_false(h.has_own);
    assert_int_equal(store_get_latest(f->s, NULL, &ch.id, got), STORE_ERR_NOTFOUND);

    /* Breakpoint 0, pending (our signature only), largest calldata. */
    util_breakpoint(b, &ch.id, 0, false);
    b->calldata_len = STORE_MAX_CALLDATA;
    util_fill(b->calldata, STORE_MAX_CALLDATA, 5);
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, NULL, 0), STORE_OK);
    reopen(f);
    assert_int_equal(store_get_breakpoint(f->s, NULL, &ch.id, 0, got), STORE_OK);
    assert_true(util_bp_equal(b, got));
    assert_false(got->has_sig[1]);
    assert_int_equal(store_get_heads(f->s, NULL, &ch.id, &h), STORE_OK);
    assert_false(h.has_latest);
    assert_true(h.has_own);
    assert_true(h.own_max == 0);
    assert_int_equal(store_get_latest(f->s, NULL, &ch.id, got), STORE_ERR_NOTFOUND);

    /* The same, now fully signed, with private storage. */
    b->has_sig[1] = true;
    util_fill(b->sigs[1], 65, 99);
    b->bp.payouts[1] = vm_u256_not(vm_u256_from_u64(1));
    struct vm_storage_slot slots[3] = {
        {vm_u256_from_u64(0), vm_u256_from_u64(1)},
        {vm_u256_not(vm_u256_from_u64(0)), vm_u256_from_u64(0xabcdef)},
        {vm_u256_from_u64(5), vm_u256_not(vm_u256_from_u64(7))},
    };
    /* Different payouts = different digest than what we signed pending. */
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, slots, 3), STORE_ERR_CONFLICT);
    b->bp.payouts[1] = vm_u256_from_u64(2000000000000000000ull);
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, slots, 3), STORE_OK);
    reopen(f);
    assert_int_equal(store_get_latest(f->s, NULL, &ch.id, got), STORE_OK);
    assert_true(util_bp_equal(b, got));
    assert_int_equal(store_get_heads(f->s, NULL, &ch.id, &h), STORE_OK);
    assert_true(h.has_latest && h.latest == 0 && !h.latest_final);

    uint64_t nonce = 99;
    struct vm_storage_slot *gs = NULL;
    size_t gn = 0;
    assert_int_equal(store_get_storage(f->s, NULL, &ch.id, &nonce, &gs, &gn), STORE_OK);
    assert_true(nonce == 0);
    assert_int_equal(gn, 3);
    for (int i = 0; i < 3; i++) {
        assert_true(vm_u256_eq(gs[i].key, slots[i].key));
        assert_true(vm_u256_eq(gs[i].value, slots[i].value));
    }
    free(gs);

    /* Empty storage is a valid state (breakpoint 1 here). */
    util_breakpoint(b, &ch.id, 1, true);
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, NULL, 0), STORE_OK);
    assert_int_equal(store_get_storage(f->s, NULL, &ch.id, &nonce, &gs, &gn), STORE_OK);
    assert_true(nonce == 1);
    assert_int_equal(gn, 0);
    assert_null(gs);

    /* Bounds. */
    b->calldata_len = STORE_MAX_CALLDATA + 1;
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, NULL, 0), STORE_ERR_INVALID);
    util_breakpoint(b, &ch.id, 2, false);
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, slots, 3), STORE_ERR_INVALID);
    util_breakpoint(b, &ch.id, 2, true);
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, NULL, 3), STORE_ERR_INVALID);
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, slots, STORE_MAX_SLOTS + 1),
                     STORE_ERR_INVALID);
    /* A channel the store does not know. */
    vm_bytes32 other;
    memset(other.b, 0x31, 32);
    util_breakpoint(b, &other, 1, true);
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, NULL, 0), STORE_ERR_NOTFOUND);
    free(b);
    free(got);
}

/* The safety invariant, through both entry points. */
static void test_invariant(void **state)
{
    struct fx *f = *state;
    struct store_channel ch;
    add_channel(f, &ch, 8, 1); /* we are players[1] */
    struct store_breakpoint *b = new_bp(), *b2 = new_bp();
    util_breakpoint(b, &ch.id, 5, true);
    util_breakpoint(b2, &ch.id, 5, true);
    b2->bp.state_root.b[0] ^= 1;

    uint8_t d1[32], d2[32], sig1[65], sig2[65], out[65];
    vm_breakpoint_digest(&b->bp, vm_u256_from_u64(ch.chain_id), &ch.adjudicator, d1);
    vm_breakpoint_digest(&b2->bp, vm_u256_from_u64(ch.chain_id), &ch.adjudicator, d2);
    assert_memory_not_equal(d1, d2, 32);
    util_fill(sig1, 65, 1);
    util_fill(sig2, 65, 2);

    assert_int_equal(store_get_own_sig(f->s, NULL, &ch.id, 5, NULL, NULL), STORE_ERR_NOTFOUND);
    assert_int_equal(store_sign_breakpoint(f->s, NULL, &ch.id, 5, d1, sig1, out), STORE_OK);
    assert_memory_equal(out, sig1, 65);
    /* Same digest again, another candidate signature: the recorded one comes back. */
    assert_int_equal(store_sign_breakpoint(f->s, NULL, &ch.id, 5, d1, sig2, out), STORE_OK);
    assert_memory_equal(out, sig1, 65);
    /* A different digest at the same nonce: refused; nothing changes. */
    memset(out, 0, 65);
    assert_int_equal(store_sign_breakpoint(f->s, NULL, &ch.id, 5, d2, sig2, out), STORE_ERR_CONFLICT);
    reopen(f);
    assert_int_equal(store_sign_breakpoint(f->s, NULL, &ch.id, 5, d2, sig2, out), STORE_ERR_CONFLICT);
    uint8_t gd[32], gsig[65];
    assert_int_equal(store_get_own_sig(f->s, NULL, &ch.id, 5, gd, gsig), STORE_OK);
    assert_memory_equal(gd, d1, 32);
    assert_memory_equal(gsig, sig1, 65);

    /* A fully signed record whose breakpoint we did not sign at 5: refused.
     * (The store computes the digest itself from the channel record.) */
    memcpy(b2->sigs[1], sig2, 65);
    assert_int_equal(store_put_breakpoint(f->s, NULL, b2, NULL, 0), STORE_ERR_CONFLICT);
    /* The one we signed is accepted (our slot is sigs[1]: me == 1). */
    memcpy(b->sigs[1], sig1, 65);
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, NULL, 0), STORE_OK);

    /* A restored backup: a fully signed record at 9 carries our signature
     * that the own table never saw; the store learns it, then refuses
     * another digest at 9. */
    util_breakpoint(b, &ch.id, 9, true);
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, NULL, 0), STORE_OK);
    vm_breakpoint_digest(&b->bp, vm_u256_from_u64(ch.chain_id), &ch.adjudicator, d1);
    assert_int_equal(store_get_own_sig(f->s, NULL, &ch.id, 9, gd, gsig), STORE_OK);
    assert_memory_equal(gd, d1, 32);
    assert_memory_equal(gsig, b->sigs[1], 65);
    assert_int_equal(store_sign_breakpoint(f->s, NULL, &ch.id, 9, d2, sig2, out), STORE_ERR_CONFLICT);
    assert_int_equal(store_sign_breakpoint(f->s, NULL, &ch.id, 9, d1, sig2, out), STORE_OK);
    assert_memory_equal(out, b->sigs[1], 65);

    struct store_heads h;
    assert_int_equal(store_get_heads(f->s, NULL, &ch.id, &h), STORE_OK);
    assert_true(h.has_latest && h.latest == 9 && h.has_own && h.own_max == 9);
    /* Signing below the latest is stale (nothing is signed at 7). */
    assert_int_equal(store_sign_breakpoint(f->s, NULL, &ch.id, 7, d2, sig2, out), STORE_ERR_STALE);
    /* own_max tracks the highest nonce we signed, even ahead of the latest. */
    assert_int_equal(store_sign_breakpoint(f->s, NULL, &ch.id, 12, d2, sig2, out), STORE_OK);
    assert_int_equal(store_get_heads(f->s, NULL, &ch.id, &h), STORE_OK);
    assert_true(h.latest == 9 && h.own_max == 12);
    free(b);
    free(b2);
}

static void test_ordering(void **state)
{
    struct fx *f = *state;
    struct store_channel ch;
    add_channel(f, &ch, 9, 0);
    struct store_breakpoint *b = new_bp();
    put_full(f, &ch.id, 1, STORE_OK);
    put_full(f, &ch.id, 3, STORE_OK); /* skipping nonces is allowed */
    put_full(f, &ch.id, 2, STORE_ERR_STALE);
    put_full(f, &ch.id, 3, STORE_OK); /* identical: idempotent */
    util_breakpoint(b, &ch.id, 3, true);
    b->sigs[1][10] ^= 0x40; /* same breakpoint, different peer signature bytes */
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, NULL, 0), STORE_ERR_CONFLICT);
    util_breakpoint(b, &ch.id, 3, false);
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, NULL, 0), STORE_ERR_STALE);
    util_breakpoint(b, &ch.id, 4, false);
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, NULL, 0), STORE_OK);

    /* A final breakpoint closes the channel's sequence. */
    util_breakpoint(b, &ch.id, 4, true);
    b->bp.is_final = true;
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, NULL, 0), STORE_ERR_CONFLICT); /* != pending at 4 */
    util_breakpoint(b, &ch.id, 6, true);
    b->bp.is_final = true;
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, NULL, 0), STORE_OK);
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, NULL, 0), STORE_OK);
    put_full(f, &ch.id, 7, STORE_ERR_FINAL);
    util_breakpoint(b, &ch.id, 7, false);
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, NULL, 0), STORE_ERR_FINAL);
    uint8_t d[32] = {1}, sig[65] = {2}, out[65];
    assert_int_equal(store_sign_breakpoint(f->s, NULL, &ch.id, 7, d, sig, out), STORE_ERR_FINAL);
    reopen(f);
    struct store_heads h;
    assert_int_equal(store_get_heads(f->s, NULL, &ch.id, &h), STORE_OK);
    assert_true(h.has_latest && h.latest == 6 && h.latest_final);
    assert_int_equal(store_get_latest(f->s, NULL, &ch.id, b), STORE_OK);
    assert_true(b->bp.nonce == 6 && b->bp.is_final);
    free(b);
}

/* A record that lacks our signature must not replace the breakpoint we
 * signed at its nonce (store.h: CONFLICT when "a different breakpoint is
 * signed by us at this nonce"); our pending record stays readable. */
static void test_foreign_pending(void **state)
{
    struct fx *f = *state;
    struct store_channel ch;
    add_channel(f, &ch, 21, 0);
    put_full(f, &ch.id, 1, STORE_OK);
    struct store_breakpoint *ours = new_bp(), *b = new_bp();
    util_breakpoint(ours, &ch.id, 2, false); /* our proposal: only sigs[0] (me) */
    assert_int_equal(store_put_breakpoint(f->s, NULL, ours, NULL, 0), STORE_OK);
    util_breakpoint(b, &ch.id, 2, false);
    b->has_sig[0] = false;
    b->has_sig[1] = true;
    b->bp.state_root.b[0] ^= 1; /* a different breakpoint at the same nonce */
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, NULL, 0), STORE_ERR_CONFLICT);
    assert_int_equal(store_get_breakpoint(f->s, NULL, &ch.id, 2, b), STORE_OK);
    assert_true(util_bp_equal(b, ours));
    /* where we signed nothing, a record without our signature is stored */
    util_breakpoint(b, &ch.id, 3, false);
    b->has_sig[0] = false;
    b->has_sig[1] = true;
    assert_int_equal(store_put_breakpoint(f->s, NULL, b, NULL, 0), STORE_OK);
    free(ours);
    free(b);
}

/* Group commit: many channels in one transaction; the invariant is checked
 * against the transaction's own earlier writes; abort drops everything. */
static void test_txn(void **state)
{
    struct fx *f = *state;
    enum { N = 8 };
    struct store_channel ch[N];
    for (int i = 0; i < N; i++) add_channel(f, &ch[i], 200 + (uint64_t)i, (uint8_t)(i & 1));
    struct store_breakpoint *b = new_bp();
    struct vm_storage_slot slots[8];
    size_t n;
    uint8_t d1[32], d2[32], sig[65], out[65];
    memset(d1, 1, 32);
    memset(d2, 2, 32);
    memset(sig, 3, 65);

    struct store_txn *t;
    assert_int_equal(store_txn_begin(f->s, &t), STORE_OK);
    for (int i = 0; i < N; i++) {
        util_breakpoint(b, &ch[i].id, 1, true);
        util_slots(1, slots, &n);
        assert_int_equal(store_put_breakpoint(f->s, t, b, slots, n), STORE_OK);
        assert_int_equal(store_sign_breakpoint(f->s, t, &ch[i].id, 2, d1, sig, out), STORE_OK);
        assert_int_equal(store_sign_breakpoint(f->s, t, &ch[i].id, 2, d2, sig, out),
                         STORE_ERR_CONFLICT);
    }
    /* Reads inside the transaction see its writes; reads outside do not. */
    struct store_heads h;
    assert_int_equal(store_get_heads(f->s, t, &ch[3].id, &h), STORE_OK);
    assert_true(h.has_latest && h.latest == 1 && h.own_max == 2);
    assert_int_equal(store_get_heads(f->s, NULL, &ch[3].id, &h), STORE_OK);
    assert_false(h.has_latest || h.has_own);
    /* A second writer on this thread would wait for itself: refused. */
    struct store_txn *t2 = NULL;
    assert_int_equal(store_txn_begin(f->s, &t2), STORE_ERR_INVALID);
    assert_null(t2);
    assert_int_equal(store_put_channel(f->s, NULL, &ch[0]), STORE_ERR_INVALID);
    store_txn_abort(t);
    for (int i = 0; i < N; i++) {
        assert_int_equal(store_get_heads(f->s, NULL, &ch[i].id, &h), STORE_OK);
        assert_false(h.has_latest || h.has_own);
    }

    assert_int_equal(store_txn_begin(f->s, &t), STORE_OK);
    for (int i = 0; i < N; i++) {
        util_breakpoint(b, &ch[i].id, 1, true);
        util_slots(1, slots, &n);
        assert_int_equal(store_put_breakpoint(f->s, t, b, slots, n), STORE_OK);
        /* A refused call leaves the transaction usable. */
        util_breakpoint(b, &ch[i].id, 0, true);
        assert_int_equal(store_put_breakpoint(f->s, t, b, NULL, 0), STORE_ERR_STALE);
    }
    assert_int_equal(store_txn_commit(t), STORE_OK);
    reopen(f);
    for (int i = 0; i < N; i++) {
        assert_int_equal(store_get_latest(f->s, NULL, &ch[i].id, b), STORE_OK);
        assert_true(b->bp.nonce == 1);
    }
    free(b);
}

/* The API call that decodes the record of `db` for (id, nonce 1). */
static int read_back(struct store *s, enum store_db db, const vm_bytes32 *id)
{
    static struct store_channel ch;
    static struct store_breakpoint b;
    uint64_t nonce;
    struct vm_storage_slot *slots = NULL;
    size_t n;
    struct store_heads h;
    int rv;
    switch (db) {
    case STORE_DB_CHANNELS: return store_get_channel(s, NULL, id, &ch);
    case STORE_DB_BREAKPOINTS: return store_get_breakpoint(s, NULL, id, 1, &b);
    case STORE_DB_STORAGE:
        rv = store_get_storage(s, NULL, id, &nonce, &slots, &n);
        free(slots);
        return rv;
    case STORE_DB_OWNSIGS: return store_get_own_sig(s, NULL, id, 1, NULL, NULL);
    default: return store_get_heads(s, NULL, id, &h);
    }
}

/* Every truncation and every single-byte change of valid records is either
 * rejected with STORE_ERR_CORRUPT or decodes; none may crash (ASan/UBSan
 * watch). Specific damage must be an error. */
static void test_corrupt(void **state)
{
    struct fx *f = *state;
    struct store_channel ch;
    util_channel(&ch, 10, 0);
    ch.n_txs = 1;
    ch.txs[0].kind = STORE_TX_DEPOSIT;
    ch.txs[0].raw_len = 100;
    util_fill(ch.txs[0].raw, 100, 1);
    assert_int_equal(store_put_channel(f->s, NULL, &ch), STORE_OK);
    put_full(f, &ch.id, 1, STORE_OK);

    uint8_t bpkey[40];
    store_bp_key(&ch.id, 1, bpkey);
    const struct {
        enum store_db db;
        const uint8_t *key;
        size_t key_len;
    } recs[] = {
        {STORE_DB_CHANNELS, ch.id.b, 32}, {STORE_DB_BREAKPOINTS, bpkey, 40},
        {STORE_DB_STORAGE, ch.id.b, 32},  {STORE_DB_OWNSIGS, bpkey, 40},
        {STORE_DB_HEADS, ch.id.b, 32},
    };
    for (size_t r = 0; r < sizeof recs / sizeof recs[0]; r++) {
        enum store_db db = recs[r].db;
        uint8_t *orig;
        size_t len;
        assert_int_equal(store_raw_get(f->s, db, recs[r].key, recs[r].key_len, &orig, &len),
                         STORE_OK);
        assert_int_equal(read_back(f->s, db, &ch.id), STORE_OK);
        uint8_t *mut = malloc(len + 1);
        assert_non_null(mut);
        /* Truncations (a record is a fixed-arity array, so all fail): every
         * cut near the ends, every 3rd in between (each one is a durable
         * commit; test_decoder_mutations covers the decoders exhaustively). */
        for (size_t cut = 0; cut < len; cut++) {
            if (cut > 16 && cut + 16 < len && cut % 3 != 0) continue;
            assert_int_equal(store_raw_put(f->s, db, recs[r].key, recs[r].key_len, orig, cut),
                             STORE_OK);
            assert_int_equal(read_back(f->s, db, &ch.id), STORE_ERR_CORRUPT);
        }
        /* A trailing byte. */
        memcpy(mut, orig, len);
        mut[len] = 0x00;
        assert_int_equal(store_raw_put(f->s, db, recs[r].key, recs[r].key_len, mut, len + 1),
                         STORE_OK);
        assert_int_equal(read_back(f->s, db, &ch.id), STORE_ERR_CORRUPT);
        /* Another array arity, another format version. */
        memcpy(mut, orig, len);
        mut[0] ^= 0x01;
        assert_int_equal(store_raw_put(f->s, db, recs[r].key, recs[r].key_len, mut, len), STORE_OK);
        assert_int_equal(read_back(f->s, db, &ch.id), STORE_ERR_CORRUPT);
        memcpy(mut, orig, len);
        mut[1] = 0x02;
        assert_int_equal(store_raw_put(f->s, db, recs[r].key, recs[r].key_len, mut, len), STORE_OK);
        assert_int_equal(read_back(f->s, db, &ch.id), STORE_ERR_CORRUPT);
        /* Single-byte changes (two patterns, every 3rd byte): never a crash,
         * and at least the structural bytes are caught. */
        size_t caught = 0;
        for (size_t i = 0; i < len; i += 3) {
            for (int pat = 0; pat < 2; pat++) {
                memcpy(mut, orig, len);
                mut[i] = pat ? 0xdb : (uint8_t)(mut[i] ^ 0x5a);
                assert_int_equal(store_raw_put(f->s, db, recs[r].key, recs[r].key_len, mut, len),
                                 STORE_OK);
                int rv = read_back(f->s, db, &ch.id);
                assert_true(rv == STORE_OK || rv == STORE_ERR_CORRUPT);
                caught += rv == STORE_ERR_CORRUPT;
            }
        }
        assert_true(caught > 0);
        assert_int_equal(store_raw_put(f->s, db, recs[r].key, recs[r].key_len, orig, len),
                         STORE_OK);
        assert_int_equal(read_back(f->s, db, &ch.id), STORE_OK);
        free(mut);
        free(orig);
    }

    /* Lengths that claim more than there is: no allocation, an error. */
    const uint8_t huge_slots16[] = {0x93, 0x01, 0x01, 0xdc, 0xff, 0xff, 0x92};
    const uint8_t huge_slots32[] = {0x93, 0x01, 0x01, 0xdd, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(store_raw_put(f->s, STORE_DB_STORAGE, ch.id.b, 32, huge_slots16,
                                   sizeof huge_slots16), STORE_OK);
    assert_int_equal(read_back(f->s, STORE_DB_STORAGE, &ch.id), STORE_ERR_CORRUPT);
    assert_int_equal(store_raw_put(f->s, STORE_DB_STORAGE, ch.id.b, 32, huge_slots32,
                                   sizeof huge_slots32), STORE_OK);
    assert_int_equal(read_back(f->s, STORE_DB_STORAGE, &ch.id), STORE_ERR_CORRUPT);
    const uint8_t huge_bin[] = {0x96, 0x01, 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00};
    assert_int_equal(store_raw_put(f->s, STORE_DB_CHANNELS, ch.id.b, 32, huge_bin,
                                   sizeof huge_bin), STORE_OK);
    assert_int_equal(read_back(f->s, STORE_DB_CHANNELS, &ch.id), STORE_ERR_CORRUPT);

    /* A valid record under the wrong key is not the record asked for. */
    uint8_t *rec1;
    size_t len1;
    assert_int_equal(store_raw_get(f->s, STORE_DB_BREAKPOINTS, bpkey, 40, &rec1, &len1), STORE_OK);
    uint8_t key2[40];
    store_bp_key(&ch.id, 2, key2);
    assert_int_equal(store_raw_put(f->s, STORE_DB_BREAKPOINTS, key2, 40, rec1, len1), STORE_OK);
    struct store_breakpoint *b = new_bp();
    assert_int_equal(store_get_breakpoint(f->s, NULL, &ch.id, 2, b), STORE_ERR_CORRUPT);
    free(rec1);

    /* Writes that depend on a corrupt record refuse and change nothing. */
    const uint8_t bad = 0xc1;
    assert_int_equal(store_raw_put(f->s, STORE_DB_HEADS, ch.id.b, 32, &bad, 1), STORE_OK);
    put_full(f, &ch.id, 3, STORE_ERR_CORRUPT);
    assert_int_equal(store_get_breakpoint(f->s, NULL, &ch.id, 3, b), STORE_ERR_NOTFOUND);
    uint8_t d[32] = {0}, sig[65] = {0}, out[65];
    assert_int_equal(store_sign_breakpoint(f->s, NULL, &ch.id, 3, d, sig, out), STORE_ERR_CORRUPT);
    free(b);
}

/* A tiny map grows on MDB_MAP_FULL: with and without an explicit transaction. */
static void test_map_growth(void **state)
{
    struct fx *f = *state;
    store_close(f->s);
    f->s = NULL;
    snprintf(f->path, sizeof f->path, "%s/small", f->dir);
    assert_int_equal(store_open_with(f->path, 64 * 1024, &f->s), STORE_OK);
    struct store_channel ch;
    add_channel(f, &ch, 11, 0);
    struct store_breakpoint *b = new_bp();
    /* ~16 KiB per record, 100 records: far more than 64 KiB. */
    for (uint64_t nonce = 1; nonce <= 100; nonce++) {
        util_breakpoint(b, &ch.id, nonce, true);
        b->calldata_len = STORE_MAX_CALLDATA;
        assert_int_equal(store_put_breakpoint(f->s, NULL, b, NULL, 0), STORE_OK);
    }
    /* In a transaction: fill until the map is full, commit says so (and
     * grows), and the redone transaction fits. */
    int full_seen = 0;
    for (int round = 0; round < 6; round++) {
        struct store_txn *t;
        assert_int_equal(store_txn_begin(f->s, &t), STORE_OK);
        int rv = 0;
        uint64_t first = 101 + (uint64_t)round * 1000;
        for (uint64_t nonce = first; nonce < first + 400 && rv == 0; nonce++) {
            util_breakpoint(b, &ch.id, nonce, true);
            b->calldata_len = STORE_MAX_CALLDATA;
            rv = store_put_breakpoint(f->s, t, b, NULL, 0);
        }
        assert_true(rv == STORE_OK || rv == STORE_ERR_FULL);
        int crv = store_txn_commit(t);
        assert_int_equal(crv, rv);
        if (rv == STORE_ERR_FULL) {
            full_seen++;
            continue;
        }
        break;
    }
    assert_true(full_seen > 0);
    reopen(f);
    for (uint64_t nonce = 1; nonce <= 100; nonce++)
        assert_int_equal(store_get_breakpoint(f->s, NULL, &ch.id, nonce, b), STORE_OK);
    struct store_heads h;
    assert_int_equal(store_get_heads(f->s, NULL, &ch.id, &h), STORE_OK);
    assert_true(h.latest > 100);
    free(b);
}

/* Random damage (byte changes, truncation, extension) to encoded records,
 * straight through the decoders: each result is an error or a record that
 * survives encode -> decode unchanged. */
static void test_decoder_mutations(void **state)
{
    (void)state;
    struct store_channel *ch = malloc(sizeof *ch), *c1 = malloc(sizeof *c1), *c2 = malloc(sizeof *c2);
    struct store_breakpoint *b = new_bp(), *b1 = new_bp(), *b2 = new_bp();
    assert_true(ch && c1 && c2);
    util_channel(ch, 77, 1);
    ch->n_txs = 2;
    ch->txs[0].kind = STORE_TX_OPEN;
    ch->txs[0].raw_len = 300;
    ch->txs[1].kind = STORE_TX_SETTLE;
    ch->txs[1].raw_len = 5;
    util_breakpoint(b, &ch->id, 300, true);
    msgpack_sbuffer enc_ch, enc_bp, enc_slots, re;
    struct vm_storage_slot slots[8];
    size_t n_slots;
    util_slots(7, slots, &n_slots);
    assert_int_equal(record_encode_channel(ch, &enc_ch), 0);
    assert_int_equal(record_encode_breakpoint(b, &enc_bp), 0);
    assert_int_equal(record_encode_storage(7, slots, n_slots, &enc_slots), 0);
    const msgpack_sbuffer *recs[3] = {&enc_ch, &enc_bp, &enc_slots};
    srand(12345);
    size_t ok = 0, bad = 0;
    for (int kind = 0; kind < 3; kind++) {
        const msgpack_sbuffer *src = recs[kind];
        uint8_t *m = malloc(src->size + 16);
        assert_non_null(m);
        for (int iter = 0; iter < 4000; iter++) {
            size_t len = src->size;
            memcpy(m, src->data, len);
            int changes = 1 + rand() % 4;
            for (int c = 0; c < changes; c++) m[(size_t)rand() % len] = (uint8_t)rand();
            if (rand() % 4 == 0) len = (size_t)rand() % (len + 1);
            else if (rand() % 8 == 0) len += (size_t)(rand() % 16);
            int rv;
            if (kind == 0) {
                rv = record_decode_channel(m, len, c1);
                if (rv == 0) {
                    assert_int_equal(record_encode_channel(c1, &re), 0);
                    assert_int_equal(record_decode_channel((uint8_t *)re.data, re.size, c2), 0);
                    assert_channel_equal(c1, c2);
                    msgpack_sbuffer_destroy(&re);
                }
            } else if (kind == 1) {
                rv = record_decode_breakpoint(m, len, b1);
                if (rv == 0) {
                    assert_int_equal(record_encode_breakpoint(b1, &re), 0);
                    assert_int_equal(record_decode_breakpoint((uint8_t *)re.data, re.size, b2), 0);
                    assert_true(util_bp_equal(b1, b2));
                    msgpack_sbuffer_destroy(&re);
                }
            } else {
                uint64_t nonce;
                struct vm_storage_slot *got;
                size_t n;
                rv = record_decode_storage(m, len, &nonce, &got, &n);
                if (rv == 0) {
                    assert_true(n <= STORE_MAX_SLOTS);
                    assert_true(n == 0 || got != NULL);
                    free(got);
                }
            }
            assert_true(rv == 0 || rv == STORE_ERR_CORRUPT);
            if (rv == 0) ok++; else bad++;
        }
        free(m);
    }
    /* Both outcomes occur: the mutations are neither all fatal nor all harmless. */
    assert_true(ok > 100 && bad > 1000);
    msgpack_sbuffer_destroy(&enc_ch);
    msgpack_sbuffer_destroy(&enc_bp);
    msgpack_sbuffer_destroy(&enc_slots);
    free(ch);
    free(c1);
    free(c2);
    free(b);
    free(b1);
    free(b2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_channel_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_channels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_breakpoint_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invariant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ordering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_txn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_growth, setup, teardown),
        cmocka_unit_test(test_decoder_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
