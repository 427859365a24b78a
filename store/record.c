/*
 * record.c — the msgpack form of the store's records.
 *
 * Writing goes through msgpack-c's packer. Reading does not use msgpack-c's
 * unpacker on purpose: it allocates object arrays as large as a header
 * claims before checking that the bytes exist. The schema of every record is
 * fixed, so a small cursor reader that checks each length against what is
 * left, and insists on exact sizes for hashes, addresses and signatures, is
 * both stricter and simpler.
 */
#include "record.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------
 * Writing
 * --------------------------------------------------------------------- */
struct wr {
    msgpack_packer pk;
    int err; /* sticky: the first packer failure (allocation) */
};

static void wr_init(struct wr *w, msgpack_sbuffer *out)
{
    msgpack_sbuffer_init(out);
    msgpack_packer_init(&w->pk, out, msgpack_sbuffer_write);
    w->err = 0;
}

static void wr_array(struct wr *w, size_t n)
{
    if (!w->err && msgpack_pack_array(&w->pk, n) != 0) w->err = STORE_ERR_NOMEM;
}

static void wr_u64(struct wr *w, uint64_t v)
{
    if (!w->err && msgpack_pack_uint64(&w->pk, v) != 0) w->err = STORE_ERR_NOMEM;
}

static void wr_bool(struct wr *w, bool v)
{
    if (!w->err && (v ? msgpack_pack_true(&w->pk) : msgpack_pack_false(&w->pk)) != 0)
        w->err = STORE_ERR_NOMEM;
}

static void wr_nil(struct wr *w)
{
    if (!w->err && msgpack_pack_nil(&w->pk) != 0) w->err = STORE_ERR_NOMEM;
}

static void wr_bin(struct wr *w, const uint8_t *p, size_t n)
{
    if (w->err) return;
    if (msgpack_pack_bin(&w->pk, n) != 0 || (n > 0 && msgpack_pack_bin_body(&w->pk, p, n) != 0))
        w->err = STORE_ERR_NOMEM;
}

static void wr_str(struct wr *w, const char *s, size_t n)
{
    if (w->err) return;
    if (msgpack_pack_str(&w->pk, n) != 0 || (n > 0 && msgpack_pack_str_body(&w->pk, s, n) != 0))
        w->err = STORE_ERR_NOMEM;
}

static void wr_u256(struct wr *w, vm_u256 v)
{
    uint8_t be[32];
    vm_u256_to_be(v, be);
    wr_bin(w, be, 32);
}

static int wr_finish(struct wr *w, msgpack_sbuffer *out)
{
    if (w->err) {
        msgpack_sbuffer_destroy(out);
        msgpack_sbuffer_init(out);
    }
    return w->err;
}

/* ---------------------------------------------------------------------
 * Reading
 * --------------------------------------------------------------------- */
struct rd {
    const uint8_t *p;
    size_t n;
};

static int rd_take(struct rd *r, size_t k, const uint8_t **out)
{
    if (k > r->n) return STORE_ERR_CORRUPT;
    *out = r->p;
    r->p += k;
    r->n -= k;
    return 0;
}

static int rd_be(struct rd *r, size_t k, uint64_t *v)
{
    const uint8_t *b;
    if (rd_take(r, k, &b)) return STORE_ERR_CORRUPT;
    uint64_t x = 0;
    for (size_t i = 0; i < k; i++) x = x << 8 | b[i];
    *v = x;
    return 0;
}

static int rd_tag(struct rd *r, uint8_t *tag)
{
    const uint8_t *b;
    if (rd_take(r, 1, &b)) return STORE_ERR_CORRUPT;
    *tag = b[0];
    return 0;
}

static int rd_array(struct rd *r, uint64_t *count)
{
    uint8_t t;
    if (rd_tag(r, &t)) return STORE_ERR_CORRUPT;
    if (t >= 0x90 && t <= 0x9f) {
        *count = t & 0x0f;
        return 0;
    }
    if (t == 0xdc) return rd_be(r, 2, count);
    if (t == 0xdd) return rd_be(r, 4, count);
    return STORE_ERR_CORRUPT;
}

/* An array of exactly `want` elements. */
static int rd_array_n(struct rd *r, uint64_t want)
{
    uint64_t n;
    if (rd_array(r, &n) || n != want) return STORE_ERR_CORRUPT;
    return 0;
}

static int rd_u64(struct rd *r, uint64_t *v)
{
    uint8_t t;
    if (rd_tag(r, &t)) return STORE_ERR_CORRUPT;
    if (t <= 0x7f) {
        *v = t;
        return 0;
    }
    switch (t) {
    case 0xcc: return rd_be(r, 1, v);
    case 0xcd: return rd_be(r, 2, v);
    case 0xce: return rd_be(r, 4, v);
    case 0xcf: return rd_be(r, 8, v);
    default: return STORE_ERR_CORRUPT;
    }
}

static int rd_u64_max(struct rd *r, uint64_t max, uint64_t *v)
{
    if (rd_u64(r, v) || *v > max) return STORE_ERR_CORRUPT;
    return 0;
}

static int rd_bool(struct rd *r, bool *v)
{
    uint8_t t;
    if (rd_tag(r, &t)) return STORE_ERR_CORRUPT;
    if (t != 0xc2 && t != 0xc3) return STORE_ERR_CORRUPT;
    *v = t == 0xc3;
    return 0;
}

static bool rd_nil(struct rd *r)
{
    if (r->n > 0 && r->p[0] == 0xc0) {
        r->p++;
        r->n--;
        return true;
    }
    return false;
}

/* A bin of at most max bytes; *data points into the record. */
static int rd_bin(struct rd *r, size_t max, const uint8_t **data, size_t *len)
{
    uint8_t t;
    uint64_t n;
    if (rd_tag(r, &t)) return STORE_ERR_CORRUPT;
    switch (t) {
    case 0xc4: if (rd_be(r, 1, &n)) return STORE_ERR_CORRUPT; break;
    case 0xc5: if (rd_be(r, 2, &n)) return STORE_ERR_CORRUPT; break;
    case 0xc6: if (rd_be(r, 4, &n)) return STORE_ERR_CORRUPT; break;
    default: return STORE_ERR_CORRUPT;
    }
    if (n > max || rd_take(r, (size_t)n, data)) return STORE_ERR_CORRUPT;
    *len = (size_t)n;
    return 0;
}

static int rd_bin_exact(struct rd *r, void *out, size_t size)
{
    const uint8_t *d;
    size_t n;
    if (rd_bin(r, size, &d, &n) || n != size) return STORE_ERR_CORRUPT;
    memcpy(out, d, size);
    return 0;
}

static int rd_u256(struct rd *r, vm_u256 *v)
{
    uint8_t be[32];
    if (rd_bin_exact(r, be, 32)) return STORE_ERR_CORRUPT;
    *v = vm_u256_from_be(be, 32);
    return 0;
}

static int rd_str(struct rd *r, size_t max, const uint8_t **data, size_t *len)
{
    uint8_t t;
    uint64_t n;
    if (rd_tag(r, &t)) return STORE_ERR_CORRUPT;
    if (t >= 0xa0 && t <= 0xbf) {
        n = t & 0x1f;
    } else if (t == 0xd9) {
        if (rd_be(r, 1, &n)) return STORE_ERR_CORRUPT;
    } else if (t == 0xda) {
        if (rd_be(r, 2, &n)) return STORE_ERR_CORRUPT;
    } else if (t == 0xdb) {
        if (rd_be(r, 4, &n)) return STORE_ERR_CORRUPT;
    } else {
        return STORE_ERR_CORRUPT;
    }
    if (n > max || rd_take(r, (size_t)n, data)) return STORE_ERR_CORRUPT;
    *len = (size_t)n;
    return 0;
}

/* The record header: [version, ...] with `fields` elements after it. */
static int rd_header(struct rd *r, uint64_t fields)
{
    uint64_t version;
    if (rd_array_n(r, fields + 1) || rd_u64(r, &version) || version != RECORD_VERSION)
        return STORE_ERR_CORRUPT;
    return 0;
}

static int rd_end(const struct rd *r)
{
    return r->n == 0 ? 0 : STORE_ERR_CORRUPT;
}

/* ---------------------------------------------------------------------
 * Channel
 * --------------------------------------------------------------------- */
static bool tx_kind_valid(uint64_t k)
{
    return k >= STORE_TX_OPEN && k <= STORE_TX_RECLAIM;
}

static bool status_valid(uint64_t s)
{
    return s >= STORE_CH_OPENING && s <= STORE_CH_CONCLUDED;
}

bool record_channel_valid(const struct store_channel *ch)
{
    if (ch->init_args_len > STORE_MAX_INIT_ARGS || ch->me > 1 || !status_valid(ch->status) ||
        ch->n_txs > STORE_MAX_TXS)
        return false;
    if (memchr(ch->peer_url, 0, STORE_MAX_URL) == NULL) return false;
    for (size_t i = 0; i < ch->n_txs; i++) {
        const struct store_tx *tx = &ch->txs[i];
        if (!tx_kind_valid(tx->kind) || tx->raw_len == 0 || tx->raw_len > STORE_MAX_RAW_TX)
            return false;
    }
    return true;
}

#define CHANNEL_FIELDS 18

int record_encode_channel(const struct store_channel *ch, msgpack_sbuffer *out)
{
    if (!record_channel_valid(ch)) return STORE_ERR_INVALID;
    struct wr w;
    wr_init(&w, out);
    wr_array(&w, CHANNEL_FIELDS + 1);
    wr_u64(&w, RECORD_VERSION);
    wr_bin(&w, ch->id.b, 32);
    wr_u64(&w, ch->chain_id);
    wr_bin(&w, ch->adjudicator.b, 20);
    wr_bin(&w, ch->app.b, 20);
    wr_bin(&w, ch->code_hash.b, 32);
    wr_array(&w, VM_BP_PLAYERS);
    for (int i = 0; i < VM_BP_PLAYERS; i++) wr_bin(&w, ch->players[i].b, 20);
    wr_array(&w, VM_BP_PLAYERS);
    for (int i = 0; i < VM_BP_PLAYERS; i++) wr_u256(&w, ch->deposits[i]);
    wr_bin(&w, ch->init_args, ch->init_args_len);
    wr_u64(&w, ch->challenge_period);
    wr_bin(&w, ch->salt.b, 32);
    wr_str(&w, ch->peer_url, strlen(ch->peer_url));
    wr_u64(&w, ch->me);
    wr_u64(&w, (uint64_t)ch->status);
    wr_u64(&w, ch->flags);
    wr_u64(&w, ch->opened_block);
    wr_u64(&w, ch->challenge_deadline);
    wr_u64(&w, ch->challenged_nonce);
    wr_array(&w, ch->n_txs);
    for (size_t i = 0; i < ch->n_txs; i++) {
        const struct store_tx *tx = &ch->txs[i];
        wr_array(&w, 5);
        wr_u64(&w, (uint64_t)tx->kind);
        wr_u64(&w, tx->nonce);
        wr_bin(&w, tx->hash.b, 32);
        wr_u64(&w, tx->bp_nonce);
        wr_bin(&w, tx->raw, tx->raw_len);
    }
    return wr_finish(&w, out);
}

int record_decode_channel(const uint8_t *p, size_t n, struct store_channel *out)
{
    struct rd r = {p, n};
    struct store_channel ch;
    memset(&ch, 0, sizeof ch);
    const uint8_t *d;
    size_t len;
    uint64_t v;
    if (rd_header(&r, CHANNEL_FIELDS) || rd_bin_exact(&r, ch.id.b, 32) || rd_u64(&r, &ch.chain_id) ||
        rd_bin_exact(&r, ch.adjudicator.b, 20) || rd_bin_exact(&r, ch.app.b, 20) ||
        rd_bin_exact(&r, ch.code_hash.b, 32) || rd_array_n(&r, VM_BP_PLAYERS))
        return STORE_ERR_CORRUPT;
    for (int i = 0; i < VM_BP_PLAYERS; i++)
        if (rd_bin_exact(&r, ch.players[i].b, 20)) return STORE_ERR_CORRUPT;
    if (rd_array_n(&r, VM_BP_PLAYERS)) return STORE_ERR_CORRUPT;
    for (int i = 0; i < VM_BP_PLAYERS; i++)
        if (rd_u256(&r, &ch.deposits[i])) return STORE_ERR_CORRUPT;
    if (rd_bin(&r, STORE_MAX_INIT_ARGS, &d, &len)) return STORE_ERR_CORRUPT;
    if (len) memcpy(ch.init_args, d, len);
    ch.init_args_len = len;
    if (rd_u64(&r, &ch.challenge_period) || rd_bin_exact(&r, ch.salt.b, 32) ||
        rd_str(&r, STORE_MAX_URL - 1, &d, &len))
        return STORE_ERR_CORRUPT;
    /* A URL with an embedded NUL would silently change meaning. */
    if (len && memchr(d, 0, len)) return STORE_ERR_CORRUPT;
    if (len) memcpy(ch.peer_url, d, len);
    ch.peer_url[len] = 0;
    if (rd_u64_max(&r, 1, &v)) return STORE_ERR_CORRUPT;
    ch.me = (uint8_t)v;
    if (rd_u64(&r, &v) || !status_valid(v)) return STORE_ERR_CORRUPT;
    ch.status = (enum store_channel_status)v;
    if (rd_u64_max(&r, UINT32_MAX, &v)) return STORE_ERR_CORRUPT;
    ch.flags = (uint32_t)v;
    if (rd_u64(&r, &ch.opened_block) || rd_u64(&r, &ch.challenge_deadline) ||
        rd_u64(&r, &ch.challenged_nonce) || rd_array(&r, &v) || v > STORE_MAX_TXS)
        return STORE_ERR_CORRUPT;
    ch.n_txs = (size_t)v;
    for (size_t i = 0; i < ch.n_txs; i++) {
        struct store_tx *tx = &ch.txs[i];
        if (rd_array_n(&r, 5) || rd_u64(&r, &v) || !tx_kind_valid(v)) return STORE_ERR_CORRUPT;
        tx->kind = (enum store_tx_kind)v;
        if (rd_u64(&r, &tx->nonce) || rd_bin_exact(&r, tx->hash.b, 32) ||
            rd_u64(&r, &tx->bp_nonce) || rd_bin(&r, STORE_MAX_RAW_TX, &d, &len) || len == 0)
            return STORE_ERR_CORRUPT;
        memcpy(tx->raw, d, len);
        tx->raw_len = len;
    }
    if (rd_end(&r)) return STORE_ERR_CORRUPT;
    *out = ch;
    return 0;
}

/* ---------------------------------------------------------------------
 * Breakpoint
 * --------------------------------------------------------------------- */
#define BREAKPOINT_FIELDS 10

bool record_breakpoint_valid(const struct store_breakpoint *rec)
{
    return rec->calldata_len <= STORE_MAX_CALLDATA;
}

int record_encode_breakpoint(const struct store_breakpoint *rec, msgpack_sbuffer *out)
{
    if (!record_breakpoint_valid(rec)) return STORE_ERR_INVALID;
    const struct vm_breakpoint *bp = &rec->bp;
    struct wr w;
    wr_init(&w, out);
    wr_array(&w, BREAKPOINT_FIELDS + 1);
    wr_u64(&w, RECORD_VERSION);
    wr_bin(&w, bp->channel_id.b, 32);
    wr_u64(&w, bp->nonce);
    wr_bin(&w, bp->state_root.b, 32);
    wr_bin(&w, bp->move_hash.b, 32);
    wr_array(&w, VM_BP_PLAYERS);
    for (int i = 0; i < VM_BP_PLAYERS; i++) wr_u256(&w, bp->payouts[i]);
    wr_bool(&w, bp->is_final);
    for (int i = 0; i < VM_BP_PLAYERS; i++) {
        if (rec->has_sig[i])
            wr_bin(&w, rec->sigs[i], 65);
        else
            wr_nil(&w);
    }
    wr_bin(&w, rec->mover.b, 20);
    wr_bin(&w, rec->calldata, rec->calldata_len);
    return wr_finish(&w, out);
}

int record_decode_breakpoint(const uint8_t *p, size_t n, struct store_breakpoint *out)
{
    struct rd r = {p, n};
    struct vm_breakpoint *bp = &out->bp;
    const uint8_t *d;
    size_t len;
    memset(out, 0, offsetof(struct store_breakpoint, calldata));
    if (rd_header(&r, BREAKPOINT_FIELDS) || rd_bin_exact(&r, bp->channel_id.b, 32) ||
        rd_u64(&r, &bp->nonce) || rd_bin_exact(&r, bp->state_root.b, 32) ||
        rd_bin_exact(&r, bp->move_hash.b, 32) || rd_array_n(&r, VM_BP_PLAYERS))
        return STORE_ERR_CORRUPT;
    for (int i = 0; i < VM_BP_PLAYERS; i++)
        if (rd_u256(&r, &bp->payouts[i])) return STORE_ERR_CORRUPT;
    if (rd_bool(&r, &bp->is_final)) return STORE_ERR_CORRUPT;
    for (int i = 0; i < VM_BP_PLAYERS; i++) {
        if (rd_nil(&r)) continue;
        if (rd_bin_exact(&r, out->sigs[i], 65)) return STORE_ERR_CORRUPT;
        out->has_sig[i] = true;
    }
    if (rd_bin_exact(&r, out->mover.b, 20) || rd_bin(&r, STORE_MAX_CALLDATA, &d, &len) ||
        rd_end(&r))
        return STORE_ERR_CORRUPT;
    if (len) memcpy(out->calldata, d, len);
    out->calldata_len = len;
    return 0;
}

/* ---------------------------------------------------------------------
 * Private storage: [1, nonce, [[key, value], ...]]
 * --------------------------------------------------------------------- */
int record_encode_storage(uint64_t nonce, const struct vm_storage_slot *slots, size_t n_slots,
                          msgpack_sbuffer *out)
{
    if (n_slots > STORE_MAX_SLOTS || (n_slots > 0 && slots == NULL)) return STORE_ERR_INVALID;
    struct wr w;
    wr_init(&w, out);
    wr_array(&w, 3);
    wr_u64(&w, RECORD_VERSION);
    wr_u64(&w, nonce);
    wr_array(&w, n_slots);
    for (size_t i = 0; i < n_slots; i++) {
        wr_array(&w, 2);
        wr_u256(&w, slots[i].key);
        wr_u256(&w, slots[i].value);
    }
    return wr_finish(&w, out);
}

/* One encoded slot: fixarray tag + 2 × (bin8 tag, length, 32 bytes). */
#define SLOT_BYTES (1 + 2 * (2 + 32))

int record_decode_storage(const uint8_t *p, size_t n, uint64_t *nonce,
                          struct vm_storage_slot **slots, size_t *n_slots)
{
    struct rd r = {p, n};
    uint64_t count;
    *slots = NULL;
    *n_slots = 0;
    if (rd_header(&r, 2) || rd_u64(&r, nonce) || rd_array(&r, &count) || count > STORE_MAX_SLOTS)
        return STORE_ERR_CORRUPT;
    /* The bytes must be there before the allocation is. */
    if (count > r.n / SLOT_BYTES) return STORE_ERR_CORRUPT;
    if (count == 0) return rd_end(&r);
    struct vm_storage_slot *s = malloc((size_t)count * sizeof *s);
    if (s == NULL) return STORE_ERR_NOMEM;
    for (size_t i = 0; i < count; i++) {
        if (rd_array_n(&r, 2) || rd_u256(&r, &s[i].key) || rd_u256(&r, &s[i].value)) {
            free(s);
            return STORE_ERR_CORRUPT;
        }
    }
    if (rd_end(&r)) {
        free(s);
        return STORE_ERR_CORRUPT;
    }
    *slots = s;
    *n_slots = (size_t)count;
    return 0;
}

/* ---------------------------------------------------------------------
 * Own signature, heads, cursor, scalars
 * --------------------------------------------------------------------- */
int record_encode_ownsig(const uint8_t digest[32], const uint8_t sig[65], msgpack_sbuffer *out)
{
    struct wr w;
    wr_init(&w, out);
    wr_array(&w, 3);
    wr_u64(&w, RECORD_VERSION);
    wr_bin(&w, digest, 32);
    wr_bin(&w, sig, 65);
    return wr_finish(&w, out);
}

int record_decode_ownsig(const uint8_t *p, size_t n, uint8_t digest[32], uint8_t sig[65])
{
    struct rd r = {p, n};
    uint8_t d[32], s[65];
    if (rd_header(&r, 2) || rd_bin_exact(&r, d, 32) || rd_bin_exact(&r, s, 65) || rd_end(&r))
        return STORE_ERR_CORRUPT;
    memcpy(digest, d, 32);
    memcpy(sig, s, 65);
    return 0;
}

int record_encode_heads(const struct store_heads *h, msgpack_sbuffer *out)
{
    struct wr w;
    wr_init(&w, out);
    wr_array(&w, 6);
    wr_u64(&w, RECORD_VERSION);
    wr_bool(&w, h->has_latest);
    wr_u64(&w, h->latest);
    wr_bool(&w, h->latest_final);
    wr_bool(&w, h->has_own);
    wr_u64(&w, h->own_max);
    return wr_finish(&w, out);
}

int record_decode_heads(const uint8_t *p, size_t n, struct store_heads *out)
{
    struct rd r = {p, n};
    struct store_heads h;
    if (rd_header(&r, 5) || rd_bool(&r, &h.has_latest) || rd_u64(&r, &h.latest) ||
        rd_bool(&r, &h.latest_final) || rd_bool(&r, &h.has_own) || rd_u64(&r, &h.own_max) ||
        rd_end(&r))
        return STORE_ERR_CORRUPT;
    /* Values that cannot come from our writer. */
    if ((!h.has_latest && (h.latest || h.latest_final)) || (!h.has_own && h.own_max))
        return STORE_ERR_CORRUPT;
    *out = h;
    return 0;
}

int record_encode_cursor(uint64_t block, const vm_bytes32 *hash, msgpack_sbuffer *out)
{
    struct wr w;
    wr_init(&w, out);
    wr_array(&w, 3);
    wr_u64(&w, RECORD_VERSION);
    wr_u64(&w, block);
    wr_bin(&w, hash->b, 32);
    return wr_finish(&w, out);
}

int record_decode_cursor(const uint8_t *p, size_t n, uint64_t *block, vm_bytes32 *hash)
{
    struct rd r = {p, n};
    uint64_t b;
    vm_bytes32 h;
    if (rd_header(&r, 2) || rd_u64(&r, &b) || rd_bin_exact(&r, h.b, 32) || rd_end(&r))
        return STORE_ERR_CORRUPT;
    *block = b;
    *hash = h;
    return 0;
}

int record_encode_u64(uint64_t v, msgpack_sbuffer *out)
{
    struct wr w;
    wr_init(&w, out);
    wr_u64(&w, v);
    return wr_finish(&w, out);
}

int record_decode_u64(const uint8_t *p, size_t n, uint64_t *v)
{
    struct rd r = {p, n};
    uint64_t x;
    if (rd_u64(&r, &x) || rd_end(&r)) return STORE_ERR_CORRUPT;
    *v = x;
    return 0;
}

int record_encode_address(const vm_address *a, msgpack_sbuffer *out)
{
    struct wr w;
    wr_init(&w, out);
    wr_bin(&w, a->b, 20);
    return wr_finish(&w, out);
}

int record_decode_address(const uint8_t *p, size_t n, vm_address *a)
{
    struct rd r = {p, n};
    vm_address x;
    if (rd_bin_exact(&r, x.b, 20) || rd_end(&r)) return STORE_ERR_CORRUPT;
    *a = x;
    return 0;
}
