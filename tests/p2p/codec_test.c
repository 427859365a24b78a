/*
 * codec_test.c — p2p_encode / p2p_decode: round trips of every message type,
 * hand-assembled msgpack vectors (from the msgpack spec, independent of
 * msgpack-c), and rejection of truncated, oversized, trailing, non-canonical,
 * wrongly typed and out-of-range inputs. Random mutations of valid frames
 * must either fail or decode to something that re-encodes to the same bytes.
 */
#include <string.h>

#include "../lib/check.h"
#include "p2p.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    /* xorshift64*: deterministic, so failures reproduce */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static void fill(void *p, size_t n)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)rng();
}

static vm_u256 rand_u256(void)
{
    vm_u256 v;
    for (int i = 0; i < 4; i++)
        v.w[i] = rng();
    return v;
}

/* A message of `type` with random field values within bounds. big: maximal sizes. */
static void make_msg(struct p2p_msg *m, enum p2p_msg_type type, bool big)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    fill(m->channel_id.b, 32);
    switch (type) {
    case P2P_MSG_HELLO:
        memset(m->channel_id.b, 0, 32);
        m->u.hello.version = (uint32_t)rng();
        m->u.hello.role = (uint8_t)(rng() & 1);
        fill(m->u.hello.ephemeral_key, 32);
        fill(m->u.hello.address.b, 20);
        fill(m->u.hello.sig, 65);
        break;
    case P2P_MSG_PROPOSE:
        m->u.propose.nonce = rng();
        m->u.propose.base_nonce = rng() & 0xffff;
        fill(m->u.propose.mover.b, 20);
        m->u.propose.calldata_len = big ? P2P_MAX_CALLDATA : rng() % 300;
        fill(m->u.propose.calldata, m->u.propose.calldata_len);
        fill(m->u.propose.sig, 65);
        break;
    case P2P_MSG_ACCEPT:
        m->u.accept.nonce = rng() % 200;
        fill(m->u.accept.sig, 65);
        break;
    case P2P_MSG_REJECT: {
        m->u.reject.nonce = 7;
        size_t n = big ? P2P_MAX_REASON : rng() % 60;
        for (size_t i = 0; i < n; i++)
            m->u.reject.reason[i] = (char)('a' + rng() % 26);
        break;
    }
    case P2P_MSG_SYNC:
        m->u.sync.signed_nonce = rng();
        m->u.sync.own_nonce = UINT64_MAX;
        break;
    case P2P_MSG_SYNC_REPLY: {
        struct p2p_sync_reply *r = &m->u.sync_reply;
        r->bp.channel_id = m->channel_id;
        r->bp.nonce = rng() % 100000;
        fill(r->bp.state_root.b, 32);
        fill(r->bp.move_hash.b, 32);
        r->bp.payouts[0] = rand_u256();
        r->bp.payouts[1] = vm_u256_from_u64(rng() % 3);
        r->bp.is_final = rng() & 1;
        fill(r->sigs, sizeof r->sigs);
        fill(r->mover.b, 20);
        r->calldata_len = big ? P2P_MAX_CALLDATA : rng() % 100;
        fill(r->calldata, r->calldata_len);
        r->n_slots = big ? P2P_MAX_SLOTS : rng() % 10;
        vm_u256 key = vm_u256_from_u64(rng() % 1000);
        for (size_t i = 0; i < r->n_slots; i++) {
            key = vm_u256_add(key, vm_u256_from_u64(1 + rng() % 5));
            r->slots[i].key = key;
            r->slots[i].value = vm_u256_from_u64(1 + rng());
        }
        break;
    }
    case P2P_MSG_CLOSE:
        m->u.close.nonce = 1ull << 40;
        m->u.close.base_nonce = (1ull << 40) - 3;
        fill(m->u.close.sig, 65);
        break;
    case P2P_MSG_PING:
        m->u.ping.seq = rng();
        m->u.ping.reply = rng() & 1;
        break;
    }
}

static struct p2p_msg ma, mb; /* ~50 KiB each: kept off the stack */

static void test_round_trips(void)
{
    for (int type = P2P_MSG_HELLO; type <= P2P_MSG_PING; type++) {
        for (int round = 0; round < 20; round++) {
            make_msg(&ma, (enum p2p_msg_type)type, round == 0);
            struct vm_buf buf = {0};
            REQUIRE(p2p_encode(&ma, &buf) == P2P_OK);
            CHECK(buf.len <= P2P_MAX_FRAME - 24);
            int rc = p2p_decode(buf.data, buf.len, &mb);
            CHECK_EQ(rc, P2P_OK);
            CHECK_EQ(mb.type, type);
            /* make_msg zeroes the whole struct first, so bytewise equality
             * holds exactly when every field came back. */
            CHECK(memcmp(&ma, &mb, sizeof ma) == 0);
            /* Every strict prefix is truncated. */
            for (size_t cut = 0; cut < buf.len; cut += (buf.len > 600 ? 97 : 1))
                CHECK_EQ(p2p_decode(buf.data, cut, &mb), P2P_ERR_TRUNCATED);
            /* One extra byte is trailing. */
            REQUIRE(vm_buf_append(&buf, "\x00", 1) == VM_OK);
            CHECK_EQ(p2p_decode(buf.data, buf.len, &mb), P2P_ERR_TRAILING);
            vm_buf_free(&buf);
        }
    }
}

/* Vectors written by hand from the msgpack spec. */
static void test_vectors(void)
{
    /* PING: [8, bin8(32) of 0x11, 5, true] */
    uint8_t ping[1 + 1 + 2 + 32 + 1 + 1];
    size_t n = 0;
    ping[n++] = 0x94;
    ping[n++] = 0x08;
    ping[n++] = 0xc4;
    ping[n++] = 0x20;
    memset(ping + n, 0x11, 32);
    n += 32;
    ping[n++] = 0x05;
    ping[n++] = 0xc3;
    REQUIRE(n == sizeof ping);
    CHECK_EQ(p2p_decode(ping, n, &mb), P2P_OK);
    CHECK_EQ(mb.type, P2P_MSG_PING);
    CHECK_EQ(mb.channel_id.b[31], 0x11);
    CHECK_EQ(mb.u.ping.seq, 5);
    CHECK(mb.u.ping.reply);
    /* and our encoder produces exactly these bytes */
    struct vm_buf buf = {0};
    REQUIRE(p2p_encode(&mb, &buf) == P2P_OK);
    CHECK(buf.len == n && memcmp(buf.data, ping, n) == 0);
    vm_buf_free(&buf);

    /* SYNC: [5, bin32, uint16 300, uint64 2^63] */
    uint8_t sync[64];
    n = 0;
    sync[n++] = 0x94;
    sync[n++] = 0x05;
    sync[n++] = 0xc4;
    sync[n++] = 0x20;
    memset(sync + n, 0xab, 32);
    n += 32;
    sync[n++] = 0xcd;
    sync[n++] = 0x01;
    sync[n++] = 0x2c;
    sync[n++] = 0xcf;
    sync[n++] = 0x80;
    for (int i = 0; i < 7; i++)
        sync[n++] = 0;
    CHECK_EQ(p2p_decode(sync, n, &mb), P2P_OK);
    CHECK_EQ(mb.u.sync.signed_nonce, 300);
    CHECK(mb.u.sync.own_nonce == (1ull << 63));
    REQUIRE(p2p_encode(&mb, &buf) == P2P_OK);
    CHECK(buf.len == n && memcmp(buf.data, sync, n) == 0);
    vm_buf_free(&buf);

    /* The same SYNC with 300 as uint32 (0xce): valid msgpack, not canonical. */
    uint8_t nc[64];
    memcpy(nc, sync, 36);
    size_t m = 36;
    nc[m++] = 0xce;
    nc[m++] = 0;
    nc[m++] = 0;
    nc[m++] = 0x01;
    nc[m++] = 0x2c;
    memcpy(nc + m, sync + 39, 9);
    m += 9;
    CHECK_EQ(p2p_decode(nc, m, &mb), P2P_ERR_NONCANONICAL);
    /* 5 as uint8 (0xcc 0x05) is non-canonical too */
    memcpy(nc, sync, 36);
    m = 36;
    nc[m++] = 0xcc;
    nc[m++] = 0x05;
    nc[m++] = 0x07;
    CHECK_EQ(p2p_decode(nc, m, &mb), P2P_ERR_NONCANONICAL);
    /* bin16 for a 32-byte channel id: non-canonical */
    uint8_t nb[] = {0x94, 0x05, 0xc5, 0x00, 0x20};
    uint8_t nbm[sizeof nb + 32 + 2];
    memcpy(nbm, nb, sizeof nb);
    memset(nbm + sizeof nb, 0, 32);
    nbm[sizeof nb + 32] = 1;
    nbm[sizeof nb + 33] = 2;
    CHECK_EQ(p2p_decode(nbm, sizeof nbm, &mb), P2P_ERR_NONCANONICAL);
}

/* Encodes m, applies edit at byte offset `at` (replace one byte), decodes. */
static int decode_edited(const struct p2p_msg *m, size_t at, uint8_t byte)
{
    struct vm_buf buf = {0};
    REQUIRE(p2p_encode(m, &buf) == P2P_OK);
    REQUIRE(at < buf.len);
    buf.data[at] = byte;
    int rc = p2p_decode(buf.data, buf.len, &mb);
    vm_buf_free(&buf);
    return rc;
}

static void test_rejects(void)
{
    static uint8_t big[P2P_MAX_FRAME + 1];
    CHECK_EQ(p2p_decode(big, 0, &mb), P2P_ERR_TRUNCATED);
    CHECK_EQ(p2p_decode(big, sizeof big, &mb), P2P_ERR_TOO_LARGE);

    /* Not an array at the top. */
    uint8_t notarr[] = {0x08};
    CHECK_EQ(p2p_decode(notarr, 1, &mb), P2P_ERR_MALFORMED);
    /* array32 claiming 4 billion elements: rejected before any allocation */
    uint8_t huge_arr[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x08};
    CHECK_EQ(p2p_decode(huge_arr, sizeof huge_arr, &mb), P2P_ERR_TRUNCATED);
    /* bin32 claiming 4 GiB inside a PING */
    uint8_t huge_bin[] = {0x94, 0x08, 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00};
    CHECK_EQ(p2p_decode(huge_bin, sizeof huge_bin, &mb), P2P_ERR_TRUNCATED);
    /* str32 claiming 2 GiB */
    uint8_t huge_str[] = {0x94, 0x04, 0xdb, 0x7f, 0xff, 0xff, 0xff, 0x00};
    CHECK_EQ(p2p_decode(huge_str, sizeof huge_str, &mb), P2P_ERR_TRUNCATED);
    /* Empty array, one-element array */
    uint8_t empty[] = {0x90};
    CHECK_EQ(p2p_decode(empty, 1, &mb), P2P_ERR_MALFORMED);
    /* Unknown types 0 and 9 */
    make_msg(&ma, P2P_MSG_PING, false);
    CHECK_EQ(decode_edited(&ma, 1, 0x00), P2P_ERR_TYPE);
    CHECK_EQ(decode_edited(&ma, 1, 0x09), P2P_ERR_TYPE);
    /* A PING relabelled as ACCEPT (same arity 4): its fields have the wrong kinds */
    CHECK_EQ(decode_edited(&ma, 1, P2P_MSG_ACCEPT), P2P_ERR_MALFORMED);
    /* PING relabelled as CLOSE: wrong arity */
    CHECK_EQ(decode_edited(&ma, 1, P2P_MSG_CLOSE), P2P_ERR_MALFORMED);
    /* Channel id as bin8 of length 31 (then one byte left over inside): the
     * array still has 4 elements but the next element starts inside the id. */
    CHECK(decode_edited(&ma, 3, 31) != P2P_OK);
    /* Bool where the seq is: PING [8, id, true, true] */
    {
        struct vm_buf buf = {0};
        make_msg(&ma, P2P_MSG_PING, false);
        ma.u.ping.seq = 1;
        REQUIRE(p2p_encode(&ma, &buf) == P2P_OK);
        buf.data[36] = 0xc3;
        CHECK_EQ(p2p_decode(buf.data, buf.len, &mb), P2P_ERR_MALFORMED);
        /* nil, negative fixint, float, map, ext: kinds the protocol never uses */
        const uint8_t kinds[] = {0xc0, 0xff, 0xe0, 0x80, 0xd4};
        for (size_t i = 0; i < sizeof kinds; i++) {
            buf.data[36] = kinds[i];
            CHECK_EQ(p2p_decode(buf.data, buf.len, &mb), P2P_ERR_MALFORMED);
        }
        vm_buf_free(&buf);
    }
    /* HELLO with role 2, and a version above 32 bits */
    make_msg(&ma, P2P_MSG_HELLO, false);
    ma.u.hello.version = 1;
    ma.u.hello.role = 1;
    CHECK_EQ(decode_edited(&ma, 37, 0x02), P2P_ERR_MALFORMED);
    {
        /* [1, id, 2^32, 0, eph, addr, sig] built by hand */
        uint8_t h[200];
        size_t n = 0;
        h[n++] = 0x97;
        h[n++] = 0x01;
        h[n++] = 0xc4;
        h[n++] = 32;
        memset(h + n, 0, 32);
        n += 32;
        h[n++] = 0xcf;
        const uint8_t v[8] = {0, 0, 0, 1, 0, 0, 0, 0};
        memcpy(h + n, v, 8);
        n += 8;
        h[n++] = 0x00;
        h[n++] = 0xc4;
        h[n++] = 32;
        memset(h + n, 1, 32);
        n += 32;
        h[n++] = 0xc4;
        h[n++] = 20;
        memset(h + n, 2, 20);
        n += 20;
        h[n++] = 0xc4;
        h[n++] = 65;
        memset(h + n, 3, 65);
        n += 65;
        CHECK_EQ(p2p_decode(h, n, &mb), P2P_ERR_MALFORMED);
        h[37] = 0xce; /* another version beyond 32 bits */
        CHECK_EQ(p2p_decode(h, n, &mb), P2P_ERR_MALFORMED);
    }

    /* Oversized calldata: encode refuses; a hand-made 16385-byte bin is TOO_LARGE. */
    make_msg(&ma, P2P_MSG_PROPOSE, false);
    ma.u.propose.calldata_len = P2P_MAX_CALLDATA + 1;
    struct vm_buf buf = {0};
    CHECK_EQ(p2p_encode(&ma, &buf), P2P_ERR_INVALID);
    CHECK_EQ(buf.len, 0);
    {
        ma.u.propose.calldata_len = P2P_MAX_CALLDATA;
        REQUIRE(p2p_encode(&ma, &buf) == P2P_OK);
        /* the calldata's bin16 header sits before calldata and the sig bin8(65) */
        size_t at = buf.len - 67 - P2P_MAX_CALLDATA - 3;
        REQUIRE(buf.data[at] == 0xc5 && buf.data[at + 1] == 0x40 && buf.data[at + 2] == 0x00);
        struct vm_buf grown = {0};
        REQUIRE(vm_buf_append(&grown, buf.data, at + 3) == VM_OK);
        grown.data[at + 2] = 0x01; /* 0x4001 = 16385 */
        REQUIRE(vm_buf_append(&grown, buf.data + at + 3, buf.len - at - 3) == VM_OK);
        /* insert one byte of calldata: append it before the sig */
        struct vm_buf fin = {0};
        REQUIRE(vm_buf_append(&fin, grown.data, at + 3 + P2P_MAX_CALLDATA) == VM_OK);
        REQUIRE(vm_buf_append(&fin, "\x5a", 1) == VM_OK);
        REQUIRE(vm_buf_append(&fin, grown.data + at + 3 + P2P_MAX_CALLDATA,
                              grown.len - at - 3 - P2P_MAX_CALLDATA) == VM_OK);
        CHECK_EQ(p2p_decode(fin.data, fin.len, &mb), P2P_ERR_TOO_LARGE);
        vm_buf_free(&grown);
        vm_buf_free(&fin);
        vm_buf_free(&buf);
    }

    /* REJECT: a 256-byte reason cannot be encoded; NUL inside is malformed. */
    make_msg(&ma, P2P_MSG_REJECT, false);
    memset(ma.u.reject.reason, 'x', sizeof ma.u.reject.reason);
    CHECK_EQ(p2p_encode(&ma, &buf), P2P_ERR_INVALID);
    memset(ma.u.reject.reason, 0, sizeof ma.u.reject.reason);
    memcpy(ma.u.reject.reason, "bad move", 8);
    REQUIRE(p2p_encode(&ma, &buf) == P2P_OK);
    buf.data[buf.len - 4] = 0; /* "bad\0move" */
    CHECK_EQ(p2p_decode(buf.data, buf.len, &mb), P2P_ERR_MALFORMED);
    vm_buf_free(&buf);
    {
        /* [4, id, 1, str8(256 x 'r')] */
        static uint8_t r[400];
        size_t n = 0;
        r[n++] = 0x94;
        r[n++] = 0x04;
        r[n++] = 0xc4;
        r[n++] = 32;
        memset(r + n, 0, 32);
        n += 32;
        r[n++] = 0x01;
        r[n++] = 0xda; /* str16: 256 needs it */
        r[n++] = 0x01;
        r[n++] = 0x00;
        memset(r + n, 'r', 256);
        n += 256;
        CHECK_EQ(p2p_decode(r, n, &mb), P2P_ERR_TOO_LARGE);
        r[38] = 0x00; /* str16 of 255: non-canonical (str8 suffices) */
        r[39] = 0xff;
        CHECK_EQ(p2p_decode(r, n - 1, &mb), P2P_ERR_NONCANONICAL);
    }

    /* SYNC_REPLY slots: unsorted, duplicate, zero value, too many. */
    make_msg(&ma, P2P_MSG_SYNC_REPLY, false);
    ma.u.sync_reply.n_slots = 3;
    for (int i = 0; i < 3; i++) {
        ma.u.sync_reply.slots[i].key = vm_u256_from_u64(10 + (uint64_t)i);
        ma.u.sync_reply.slots[i].value = vm_u256_from_u64(1);
    }
    REQUIRE(p2p_encode(&ma, &buf) == P2P_OK);
    /* the last byte is the last slot's value's low byte; the key of slot 2 ends 33 bytes earlier */
    size_t key2_low = buf.len - 1 - 34;
    CHECK_EQ(buf.data[key2_low], 12);
    buf.data[key2_low] = 11; /* duplicate key */
    CHECK_EQ(p2p_decode(buf.data, buf.len, &mb), P2P_ERR_MALFORMED);
    buf.data[key2_low] = 3; /* descending */
    CHECK_EQ(p2p_decode(buf.data, buf.len, &mb), P2P_ERR_MALFORMED);
    buf.data[key2_low] = 12;
    buf.data[buf.len - 1] = 0; /* zero value */
    CHECK_EQ(p2p_decode(buf.data, buf.len, &mb), P2P_ERR_MALFORMED);
    buf.data[buf.len - 1] = 1;
    CHECK_EQ(p2p_decode(buf.data, buf.len, &mb), P2P_OK);
    vm_buf_free(&buf);
    ma.u.sync_reply.slots[1].key = vm_u256_from_u64(99);
    CHECK_EQ(p2p_encode(&ma, &buf), P2P_ERR_INVALID);
    ma.u.sync_reply.slots[1].key = vm_u256_from_u64(11);
    ma.u.sync_reply.n_slots = P2P_MAX_SLOTS + 1;
    CHECK_EQ(p2p_encode(&ma, &buf), P2P_ERR_INVALID);
    /* bp.channel_id must be the message's */
    ma.u.sync_reply.n_slots = 0;
    ma.u.sync_reply.bp.channel_id.b[0] ^= 1;
    CHECK_EQ(p2p_encode(&ma, &buf), P2P_ERR_INVALID);
    /* 513 slots decoded: TOO_LARGE */
    make_msg(&ma, P2P_MSG_SYNC_REPLY, true);
    REQUIRE(p2p_encode(&ma, &buf) == P2P_OK);
    {
        /* the slot list header is array16 0xdc 0x02 0x00; bump it to 0x0201 and add one slot */
        size_t at = buf.len - (size_t)P2P_MAX_SLOTS * 69 - 3;
        REQUIRE(buf.data[at] == 0xdc && buf.data[at + 1] == 0x02 && buf.data[at + 2] == 0x00);
        buf.data[at + 2] = 0x01;
        uint8_t slot[69] = {0x92, 0xc4, 32};
        memset(slot + 3, 0xff, 32); /* key above every other */
        slot[35] = 0xc4;
        slot[36] = 32;
        memset(slot + 37, 0x01, 32);
        REQUIRE(vm_buf_append(&buf, slot, sizeof slot) == VM_OK);
        CHECK_EQ(p2p_decode(buf.data, buf.len, &mb), P2P_ERR_TOO_LARGE);
    }
    vm_buf_free(&buf);

    /* Nesting deeper than the protocol's: payouts element replaced by [[...]] */
    uint8_t deep[] = {0x94, 0x08, 0x91, 0x91, 0x91, 0x01, 0x00, 0xc2};
    CHECK_EQ(p2p_decode(deep, sizeof deep, &mb), P2P_ERR_MALFORMED);

    /* encode refuses an unknown type and a bad HELLO role */
    memset(&ma, 0, sizeof ma);
    ma.type = (enum p2p_msg_type)9;
    CHECK_EQ(p2p_encode(&ma, &buf), P2P_ERR_INVALID);
    ma.type = P2P_MSG_HELLO;
    ma.u.hello.role = 2;
    CHECK_EQ(p2p_encode(&ma, &buf), P2P_ERR_INVALID);
    CHECK_EQ(buf.len, 0);
}

/* Random mutations: never crash; whatever decodes re-encodes to the same bytes. */
static void test_mutations(void)
{
    size_t accepted = 0;
    for (int iter = 0; iter < 4000; iter++) {
        make_msg(&ma, (enum p2p_msg_type)(1 + rng() % 8), false);
        struct vm_buf buf = {0};
        REQUIRE(p2p_encode(&ma, &buf) == P2P_OK);
        int flips = 1 + (int)(rng() % 3);
        for (int f = 0; f < flips; f++)
            buf.data[rng() % buf.len] ^= (uint8_t)(1u << (rng() % 8));
        size_t len = buf.len;
        if (rng() % 4 == 0) len = rng() % buf.len;
        if (p2p_decode(buf.data, len, &mb) == P2P_OK) {
            accepted++;
            struct vm_buf again = {0};
            REQUIRE(p2p_encode(&mb, &again) == P2P_OK);
            CHECK(again.len == len && memcmp(again.data, buf.data, len) == 0);
            vm_buf_free(&again);
        }
        vm_buf_free(&buf);
    }
    /* flips inside bins keep a frame valid, so some must have been accepted */
    CHECK(accepted > 100);
}

static void test_strings(void)
{
    for (int e = 0; e >= -16; e--)
        CHECK(strcmp(p2p_strerror(e), "unknown p2p error") != 0);
    CHECK(strcmp(p2p_strerror(-99), "unknown p2p error") == 0);
    CHECK(strcmp(p2p_msg_type_name(P2P_MSG_SYNC_REPLY), "SYNC_REPLY") == 0);
    CHECK(strcmp(p2p_msg_type_name(0), "?") == 0);
}

int main(void)
{
    test_round_trips();
    test_vectors();
    test_rejects();
    test_mutations();
    test_strings();
    return check_report("p2p codec");
}
