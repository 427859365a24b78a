/*
 * codec.c — msgpack encoding and strict decoding of protocol messages.
 *
 * Decoding is two passes over a buffer of at most P2P_MAX_FRAME bytes:
 *  1. scan_item walks the msgpack structure without allocating: it accepts only
 *     the kinds the protocol uses (positive integers, booleans, str, bin,
 *     arrays), insists on the shortest header for every value, limits nesting,
 *     and checks every length — string, bin and array element count — against
 *     the bytes actually left. After it, nothing in the buffer can make
 *     msgpack-c allocate more than a small multiple of the input size (a
 *     hostile "array of 4 billion" prefix is rejected here, before msgpack-c
 *     would try to allocate room for it).
 *  2. msgpack_unpack_next builds the object tree in a zone, and the per-type
 *     readers below check arity, element kinds, exact bin lengths and ranges.
 * Encoding goes through msgpack-c's packer, which emits the shortest forms,
 * after validating the message with the same bounds the decoder applies.
 */
#include <msgpack.h>
#include <string.h>

#include "p2p.h"

#define SCAN_MAX_DEPTH 3 /* message -> slots list -> one slot */

static int need(size_t len, size_t pos, size_t n)
{
    return (n > len - pos) ? P2P_ERR_TRUNCATED : P2P_OK;
}

static uint64_t read_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Reads a length/value field of n bytes after the tag at *pos; checks that it
 * is >= min (else the shorter form should have been used). */
static int scan_field(const uint8_t *in, size_t len, size_t *pos, size_t n, uint64_t min,
                      uint64_t *v)
{
    int rc = need(len, *pos, n);
    if (rc != P2P_OK) return rc;
    *v = read_be(in + *pos, n);
    *pos += n;
    return *v < min ? P2P_ERR_NONCANONICAL : P2P_OK;
}

static int scan_item(const uint8_t *in, size_t len, size_t *pos, int depth)
{
    int rc = need(len, *pos, 1);
    if (rc != P2P_OK) return rc;
    uint8_t tag = in[(*pos)++];
    uint64_t v = 0;
    uint64_t count = 0; /* array elements */
    uint64_t bytes = 0; /* str/bin payload */
    bool is_array = false;

    if (tag <= 0x7f || tag == 0xc2 || tag == 0xc3) return P2P_OK; /* positive fixint, false, true */
    if (tag >= 0x90 && tag <= 0x9f) {
        is_array = true;
        count = tag & 0x0f;
    } else if (tag >= 0xa0 && tag <= 0xbf) {
        bytes = tag & 0x1f;
    } else {
        switch (tag) {
        case 0xcc:
            return scan_field(in, len, pos, 1, 0x80, &v);
        case 0xcd:
            return scan_field(in, len, pos, 2, 0x100, &v);
        case 0xce:
            return scan_field(in, len, pos, 4, 0x10000, &v);
        case 0xcf:
            return scan_field(in, len, pos, 8, 0x100000000ull, &v);
        case 0xc4:
            rc = scan_field(in, len, pos, 1, 0, &bytes);
            break;
        case 0xc5:
            rc = scan_field(in, len, pos, 2, 0x100, &bytes);
            break;
        case 0xc6:
            rc = scan_field(in, len, pos, 4, 0x10000, &bytes);
            break;
        case 0xd9:
            rc = scan_field(in, len, pos, 1, 32, &bytes);
            break;
        case 0xda:
            rc = scan_field(in, len, pos, 2, 0x100, &bytes);
            break;
        case 0xdb:
            rc = scan_field(in, len, pos, 4, 0x10000, &bytes);
            break;
        case 0xdc:
            rc = scan_field(in, len, pos, 2, 16, &count);
            is_array = true;
            break;
        case 0xdd:
            rc = scan_field(in, len, pos, 4, 0x10000, &count);
            is_array = true;
            break;
        default:
            return P2P_ERR_MALFORMED; /* nil, negative, float, map, ext, 0xc1 */
        }
        if (rc != P2P_OK) return rc;
    }
    if (!is_array) {
        if (bytes > len - *pos) return P2P_ERR_TRUNCATED;
        *pos += (size_t)bytes;
        return P2P_OK;
    }
    if (depth >= SCAN_MAX_DEPTH && count > 0) return P2P_ERR_MALFORMED;
    /* Every element takes at least one byte. */
    if (count > len - *pos) return P2P_ERR_TRUNCATED;
    for (uint64_t i = 0; i < count; i++) {
        rc = scan_item(in, len, pos, depth + 1);
        if (rc != P2P_OK) return rc;
    }
    return P2P_OK;
}

/* ---------------------------------------------------------------------- */
/* Encoding */

static int buf_write(void *data, const char *bytes, size_t len)
{
    return vm_buf_append(data, bytes, len) == VM_OK ? 0 : -1;
}

static int put_u64(msgpack_packer *pk, uint64_t v)
{
    return msgpack_pack_uint64(pk, v);
}

static int put_bin(msgpack_packer *pk, const void *p, size_t n)
{
    if (msgpack_pack_bin(pk, n) != 0) return -1;
    return n ? msgpack_pack_bin_body(pk, p, n) : 0;
}

static int put_u256(msgpack_packer *pk, vm_u256 v)
{
    uint8_t be[32];
    vm_u256_to_be(v, be);
    return put_bin(pk, be, 32);
}

static int put_bool(msgpack_packer *pk, bool b)
{
    return b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
}

static bool slots_canonical(const struct p2p_slot *slots, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (vm_u256_is_zero(slots[i].value)) return false;
        if (i > 0 && vm_u256_cmp(slots[i - 1].key, slots[i].key) >= 0) return false;
    }
    return true;
}

static int check_encodable(const struct p2p_msg *m)
{
    switch (m->type) {
    case P2P_MSG_HELLO:
        return m->u.hello.role <= P2P_ROLE_LISTENER ? P2P_OK : P2P_ERR_INVALID;
    case P2P_MSG_PROPOSE:
        return m->u.propose.calldata_len <= P2P_MAX_CALLDATA ? P2P_OK : P2P_ERR_INVALID;
    case P2P_MSG_REJECT: {
        size_t n = strnlen(m->u.reject.reason, sizeof m->u.reject.reason);
        return n <= P2P_MAX_REASON ? P2P_OK : P2P_ERR_INVALID;
    }
    case P2P_MSG_SYNC_REPLY: {
        const struct p2p_sync_reply *r = &m->u.sync_reply;
        if (r->calldata_len > P2P_MAX_CALLDATA || r->n_slots > P2P_MAX_SLOTS)
            return P2P_ERR_INVALID;
        if (memcmp(&r->bp.channel_id, &m->channel_id, sizeof m->channel_id) != 0)
            return P2P_ERR_INVALID;
        return slots_canonical(r->slots, r->n_slots) ? P2P_OK : P2P_ERR_INVALID;
    }
    case P2P_MSG_ACCEPT:
    case P2P_MSG_SYNC:
    case P2P_MSG_CLOSE:
    case P2P_MSG_PING:
        return P2P_OK;
    }
    return P2P_ERR_INVALID;
}

static int pack_body(msgpack_packer *pk, const struct p2p_msg *m)
{
    int e = 0;
    switch (m->type) {
    case P2P_MSG_HELLO: {
        const struct p2p_hello *h = &m->u.hello;
        e |= msgpack_pack_array(pk, 7);
        e |= put_u64(pk, m->type);
        e |= put_bin(pk, m->channel_id.b, 32);
        e |= put_u64(pk, h->version);
        e |= put_u64(pk, h->role);
        e |= put_bin(pk, h->ephemeral_key, 32);
        e |= put_bin(pk, h->address.b, 20);
        e |= put_bin(pk, h->sig, P2P_SIG_LEN);
        break;
    }
    case P2P_MSG_PROPOSE: {
        const struct p2p_propose *p = &m->u.propose;
        e |= msgpack_pack_array(pk, 7);
        e |= put_u64(pk, m->type);
        e |= put_bin(pk, m->channel_id.b, 32);
        e |= put_u64(pk, p->nonce);
        e |= put_u64(pk, p->base_nonce);
        e |= put_bin(pk, p->mover.b, 20);
        e |= put_bin(pk, p->calldata, p->calldata_len);
        e |= put_bin(pk, p->sig, P2P_SIG_LEN);
        break;
    }
    case P2P_MSG_ACCEPT:
        e |= msgpack_pack_array(pk, 4);
        e |= put_u64(pk, m->type);
        e |= put_bin(pk, m->channel_id.b, 32);
        e |= put_u64(pk, m->u.accept.nonce);
        e |= put_bin(pk, m->u.accept.sig, P2P_SIG_LEN);
        break;
    case P2P_MSG_REJECT: {
        size_t n = strlen(m->u.reject.reason);
        e |= msgpack_pack_array(pk, 4);
        e |= put_u64(pk, m->type);
        e |= put_bin(pk, m->channel_id.b, 32);
        e |= put_u64(pk, m->u.reject.nonce);
        e |= msgpack_pack_str(pk, n);
        if (n) e |= msgpack_pack_str_body(pk, m->u.reject.reason, n);
        break;
    }
    case P2P_MSG_SYNC:
        e |= msgpack_pack_array(pk, 4);
        e |= put_u64(pk, m->type);
        e |= put_bin(pk, m->channel_id.b, 32);
        e |= put_u64(pk, m->u.sync.signed_nonce);
        e |= put_u64(pk, m->u.sync.own_nonce);
        break;
    case P2P_MSG_SYNC_REPLY: {
        const struct p2p_sync_reply *r = &m->u.sync_reply;
        e |= msgpack_pack_array(pk, 11);
        e |= put_u64(pk, m->type);
        e |= put_bin(pk, m->channel_id.b, 32);
        e |= put_u64(pk, r->bp.nonce);
        e |= put_bin(pk, r->bp.state_root.b, 32);
        e |= put_bin(pk, r->bp.move_hash.b, 32);
        e |= msgpack_pack_array(pk, VM_BP_PLAYERS);
        for (int i = 0; i < VM_BP_PLAYERS; i++)
            e |= put_u256(pk, r->bp.payouts[i]);
        e |= put_bool(pk, r->bp.is_final);
        e |= msgpack_pack_array(pk, VM_BP_PLAYERS);
        for (int i = 0; i < VM_BP_PLAYERS; i++)
            e |= put_bin(pk, r->sigs[i], P2P_SIG_LEN);
        e |= put_bin(pk, r->mover.b, 20);
        e |= put_bin(pk, r->calldata, r->calldata_len);
        e |= msgpack_pack_array(pk, r->n_slots);
        for (size_t i = 0; i < r->n_slots && e == 0; i++) {
            e |= msgpack_pack_array(pk, 2);
            e |= put_u256(pk, r->slots[i].key);
            e |= put_u256(pk, r->slots[i].value);
        }
        break;
    }
    case P2P_MSG_CLOSE:
        e |= msgpack_pack_array(pk, 5);
        e |= put_u64(pk, m->type);
        e |= put_bin(pk, m->channel_id.b, 32);
        e |= put_u64(pk, m->u.close.nonce);
        e |= put_u64(pk, m->u.close.base_nonce);
        e |= put_bin(pk, m->u.close.sig, P2P_SIG_LEN);
        break;
    case P2P_MSG_PING:
        e |= msgpack_pack_array(pk, 4);
        e |= put_u64(pk, m->type);
        e |= put_bin(pk, m->channel_id.b, 32);
        e |= put_u64(pk, m->u.ping.seq);
        e |= put_bool(pk, m->u.ping.reply);
        break;
    }
    return e == 0 ? P2P_OK : P2P_ERR_NOMEM;
}

int p2p_encode(const struct p2p_msg *msg, struct vm_buf *out)
{
    if (msg == NULL || out == NULL) return P2P_ERR_INVALID;
    int rc = check_encodable(msg);
    if (rc != P2P_OK) return rc;
    size_t start = out->len;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, buf_write);
    rc = pack_body(&pk, msg);
    if (rc != P2P_OK) out->len = start; /* leave out as it was */
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Decoding (after scan_item accepted the buffer) */

static int get_u64(const msgpack_object *o, uint64_t *v)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) return P2P_ERR_MALFORMED;
    *v = o->via.u64;
    return P2P_OK;
}

static int get_bool(const msgpack_object *o, bool *v)
{
    if (o->type != MSGPACK_OBJECT_BOOLEAN) return P2P_ERR_MALFORMED;
    *v = o->via.boolean;
    return P2P_OK;
}

static int get_bin(const msgpack_object *o, void *out, size_t n)
{
    if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size != n) return P2P_ERR_MALFORMED;
    if (n) memcpy(out, o->via.bin.ptr, n);
    return P2P_OK;
}

/* A variable-length bin of at most max bytes. */
static int get_bin_var(const msgpack_object *o, uint8_t *out, size_t max, size_t *n)
{
    if (o->type != MSGPACK_OBJECT_BIN) return P2P_ERR_MALFORMED;
    if (o->via.bin.size > max) return P2P_ERR_TOO_LARGE;
    *n = o->via.bin.size;
    if (*n) memcpy(out, o->via.bin.ptr, *n);
    return P2P_OK;
}

static int get_u256(const msgpack_object *o, vm_u256 *v)
{
    uint8_t be[32];
    int rc = get_bin(o, be, 32);
    if (rc == P2P_OK) *v = vm_u256_from_be(be, 32);
    return rc;
}

static const msgpack_object *get_array(const msgpack_object *o, size_t n)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != n) return NULL;
    return o->via.array.ptr;
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != P2P_OK) return rc_;                                                             \
    } while (0)

static int read_hello(const msgpack_object *a, struct p2p_hello *h)
{
    uint64_t v, role;
    TRY(get_u64(&a[2], &v));
    if (v > UINT32_MAX) return P2P_ERR_MALFORMED;
    h->version = (uint32_t)v;
    TRY(get_u64(&a[3], &role));
    if (role > P2P_ROLE_LISTENER) return P2P_ERR_MALFORMED;
    h->role = (uint8_t)role;
    TRY(get_bin(&a[4], h->ephemeral_key, 32));
    TRY(get_bin(&a[5], h->address.b, 20));
    return get_bin(&a[6], h->sig, P2P_SIG_LEN);
}

static int read_propose(const msgpack_object *a, struct p2p_propose *p)
{
    TRY(get_u64(&a[2], &p->nonce));
    TRY(get_u64(&a[3], &p->base_nonce));
    TRY(get_bin(&a[4], p->mover.b, 20));
    TRY(get_bin_var(&a[5], p->calldata, P2P_MAX_CALLDATA, &p->calldata_len));
    return get_bin(&a[6], p->sig, P2P_SIG_LEN);
}

static int read_reject(const msgpack_object *a, struct p2p_reject *r)
{
    TRY(get_u64(&a[2], &r->nonce));
    if (a[3].type != MSGPACK_OBJECT_STR) return P2P_ERR_MALFORMED;
    size_t n = a[3].via.str.size;
    if (n > P2P_MAX_REASON) return P2P_ERR_TOO_LARGE;
    if (n && memchr(a[3].via.str.ptr, 0, n) != NULL)
        return P2P_ERR_MALFORMED; /* would silently truncate the reason */
    if (n) memcpy(r->reason, a[3].via.str.ptr, n);
    r->reason[n] = '\0';
    return P2P_OK;
}

static int read_sync_reply(const msgpack_object *a, struct p2p_sync_reply *r)
{
    TRY(get_u64(&a[2], &r->bp.nonce));
    TRY(get_bin(&a[3], r->bp.state_root.b, 32));
    TRY(get_bin(&a[4], r->bp.move_hash.b, 32));
    const msgpack_object *pay = get_array(&a[5], VM_BP_PLAYERS);
    if (pay == NULL) return P2P_ERR_MALFORMED;
    for (int i = 0; i < VM_BP_PLAYERS; i++)
        TRY(get_u256(&pay[i], &r->bp.payouts[i]));
    TRY(get_bool(&a[6], &r->bp.is_final));
    const msgpack_object *sigs = get_array(&a[7], VM_BP_PLAYERS);
    if (sigs == NULL) return P2P_ERR_MALFORMED;
    for (int i = 0; i < VM_BP_PLAYERS; i++)
        TRY(get_bin(&sigs[i], r->sigs[i], P2P_SIG_LEN));
    TRY(get_bin(&a[8], r->mover.b, 20));
    TRY(get_bin_var(&a[9], r->calldata, P2P_MAX_CALLDATA, &r->calldata_len));
    if (a[10].type != MSGPACK_OBJECT_ARRAY) return P2P_ERR_MALFORMED;
    if (a[10].via.array.size > P2P_MAX_SLOTS) return P2P_ERR_TOO_LARGE;
    r->n_slots = a[10].via.array.size;
    for (size_t i = 0; i < r->n_slots; i++) {
        const msgpack_object *kv = get_array(&a[10].via.array.ptr[i], 2);
        if (kv == NULL) return P2P_ERR_MALFORMED;
        TRY(get_u256(&kv[0], &r->slots[i].key));
        TRY(get_u256(&kv[1], &r->slots[i].value));
    }
    return slots_canonical(r->slots, r->n_slots) ? P2P_OK : P2P_ERR_MALFORMED;
}

static size_t arity_of(uint64_t type)
{
    switch (type) {
    case P2P_MSG_HELLO:
        return 7;
    case P2P_MSG_PROPOSE:
        return 7;
    case P2P_MSG_ACCEPT:
        return 4;
    case P2P_MSG_REJECT:
        return 4;
    case P2P_MSG_SYNC:
        return 4;
    case P2P_MSG_SYNC_REPLY:
        return 11;
    case P2P_MSG_CLOSE:
        return 5;
    case P2P_MSG_PING:
        return 4;
    default:
        return 0;
    }
}

static int read_message(const msgpack_object *root, struct p2p_msg *m)
{
    if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size < 2) return P2P_ERR_MALFORMED;
    const msgpack_object *a = root->via.array.ptr;
    uint64_t type;
    TRY(get_u64(&a[0], &type));
    size_t arity = arity_of(type);
    if (arity == 0) return P2P_ERR_TYPE;
    if (root->via.array.size != arity) return P2P_ERR_MALFORMED;
    m->type = (enum p2p_msg_type)type;
    TRY(get_bin(&a[1], m->channel_id.b, 32));
    switch (m->type) {
    case P2P_MSG_HELLO:
        return read_hello(a, &m->u.hello);
    case P2P_MSG_PROPOSE:
        return read_propose(a, &m->u.propose);
    case P2P_MSG_ACCEPT:
        TRY(get_u64(&a[2], &m->u.accept.nonce));
        return get_bin(&a[3], m->u.accept.sig, P2P_SIG_LEN);
    case P2P_MSG_REJECT:
        return read_reject(a, &m->u.reject);
    case P2P_MSG_SYNC:
        TRY(get_u64(&a[2], &m->u.sync.signed_nonce));
        return get_u64(&a[3], &m->u.sync.own_nonce);
    case P2P_MSG_SYNC_REPLY:
        m->u.sync_reply.bp.channel_id = m->channel_id;
        return read_sync_reply(a, &m->u.sync_reply);
    case P2P_MSG_CLOSE:
        TRY(get_u64(&a[2], &m->u.close.nonce));
        TRY(get_u64(&a[3], &m->u.close.base_nonce));
        return get_bin(&a[4], m->u.close.sig, P2P_SIG_LEN);
    case P2P_MSG_PING:
        TRY(get_u64(&a[2], &m->u.ping.seq));
        return get_bool(&a[3], &m->u.ping.reply);
    }
    return P2P_ERR_TYPE;
}

int p2p_decode(const uint8_t *in, size_t len, struct p2p_msg *msg)
{
    if (msg == NULL || (in == NULL && len > 0)) return P2P_ERR_INVALID;
    memset(msg, 0, sizeof *msg);
    if (len > P2P_MAX_FRAME) return P2P_ERR_TOO_LARGE;
    if (len == 0) return P2P_ERR_TRUNCATED;
    if (in[0] < 0x90 || (in[0] > 0x9f && in[0] != 0xdc && in[0] != 0xdd))
        return P2P_ERR_MALFORMED; /* a message is an array */
    size_t pos = 0;
    int rc = scan_item(in, len, &pos, 0);
    if (rc != P2P_OK) return rc;
    if (pos != len) return P2P_ERR_TRAILING;

    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack_next(&up, (const char *)in, len, &off);
    if (ur == MSGPACK_UNPACK_SUCCESS && off == len)
        rc = read_message(&up.data, msg);
    else if (ur == MSGPACK_UNPACK_NOMEM_ERROR)
        rc = P2P_ERR_NOMEM;
    else
        rc = P2P_ERR_MALFORMED; /* the scan accepted what msgpack-c did not: be safe */
    msgpack_unpacked_destroy(&up);
    return rc;
}

const char *p2p_msg_type_name(int type)
{
    switch (type) {
    case P2P_MSG_HELLO:
        return "HELLO";
    case P2P_MSG_PROPOSE:
        return "PROPOSE";
    case P2P_MSG_ACCEPT:
        return "ACCEPT";
    case P2P_MSG_REJECT:
        return "REJECT";
    case P2P_MSG_SYNC:
        return "SYNC";
    case P2P_MSG_SYNC_REPLY:
        return "SYNC_REPLY";
    case P2P_MSG_CLOSE:
        return "CLOSE";
    case P2P_MSG_PING:
        return "PING";
    default:
        return "?";
    }
}

const char *p2p_strerror(int err)
{
    switch (err) {
    case P2P_OK:
        return "ok";
    case P2P_ERR_INVALID:
        return "invalid argument";
    case P2P_ERR_MALFORMED:
        return "malformed message";
    case P2P_ERR_TRUNCATED:
        return "truncated input";
    case P2P_ERR_TOO_LARGE:
        return "length beyond protocol bound";
    case P2P_ERR_TRAILING:
        return "trailing bytes after message";
    case P2P_ERR_NONCANONICAL:
        return "non-canonical msgpack encoding";
    case P2P_ERR_TYPE:
        return "unknown or unexpected message type";
    case P2P_ERR_NOMEM:
        return "out of memory";
    case P2P_ERR_NOT_CONNECTED:
        return "peer not connected";
    case P2P_ERR_TRANSPORT:
        return "transport error";
    case P2P_ERR_AUTH:
        return "frame failed authentication";
    case P2P_ERR_REPLAY:
        return "replayed or reordered frame";
    case P2P_ERR_PEER:
        return "peer address not allowed";
    case P2P_ERR_HANDSHAKE:
        return "handshake failed";
    case P2P_ERR_BUSY:
        return "send queue full";
    case P2P_ERR_CLOSED:
        return "p2p instance closed";
    default:
        return "unknown p2p error";
    }
}
