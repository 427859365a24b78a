/*
 * RLP (Recursive Length Prefix), the Ethereum serialisation of the yellow
 * paper, appendix B.
 *
 * Encoding appends to a vm_buf. A list's length is only known once its items
 * are written, so vm_rlp_list_begin reserves nothing and remembers where the
 * payload starts; vm_rlp_list_end then inserts the header in front of the
 * payload (a memmove of the payload: lists in Ethereum are small, and this
 * keeps the caller's code a flat sequence of puts).
 *
 * Decoding never copies: items point into the input. The decoder is strict:
 * it rejects every non-canonical form (a single byte < 0x80 behind a string
 * header, a long header for a payload < 56 bytes, a length with leading zero
 * bytes), so that one value has exactly one accepted encoding, and it checks
 * each length against what is left before touching a byte.
 */
#include "vm.h"

#include <string.h>

/* Big-endian bytes of v without leading zeros; returns how many (0 for v == 0). */
static size_t be_minimal(uint64_t v, uint8_t out[8])
{
    size_t n = 0;
    for (uint64_t t = v; t; t >>= 8)
        n++;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return n;
}

/* Writes the header for a payload of len bytes (offset 0x80 strings, 0xc0 lists). */
static size_t header(uint8_t offset, size_t len, uint8_t out[9])
{
    if (len < 56) {
        out[0] = (uint8_t)(offset + len);
        return 1;
    }
    uint8_t be[8];
    size_t n = be_minimal((uint64_t)len, be);
    out[0] = (uint8_t)(offset + 55 + n);
    memcpy(out + 1, be, n);
    return 1 + n;
}

int vm_rlp_put_bytes(struct vm_buf *out, const uint8_t *data, size_t len)
{
    if (len == 1 && data[0] < 0x80) return vm_buf_append(out, data, 1);
    uint8_t h[9];
    size_t hn = header(0x80, len, h);
    int err = vm_buf_reserve(out, hn + len);
    if (err) return err;
    err = vm_buf_append(out, h, hn);
    if (err) return err;
    return vm_buf_append(out, data, len);
}

int vm_rlp_put_u64(struct vm_buf *out, uint64_t v)
{
    uint8_t be[8];
    size_t n = be_minimal(v, be);
    return vm_rlp_put_bytes(out, be, n);
}

int vm_rlp_put_u256(struct vm_buf *out, vm_u256 v)
{
    uint8_t be[32];
    vm_u256_to_be(v, be);
    size_t skip = 0;
    while (skip < 32 && be[skip] == 0)
        skip++;
    return vm_rlp_put_bytes(out, be + skip, 32 - skip);
}

int vm_rlp_list_begin(struct vm_buf *out, size_t *mark)
{
    *mark = out->len;
    return VM_OK;
}

int vm_rlp_list_end(struct vm_buf *out, size_t mark)
{
    if (mark > out->len) return VM_ERR_INVALID;
    size_t payload = out->len - mark;
    uint8_t h[9];
    size_t hn = header(0xc0, payload, h);
    int err = vm_buf_reserve(out, hn);
    if (err) return err;
    memmove(out->data + mark + hn, out->data + mark, payload);
    memcpy(out->data + mark, h, hn);
    out->len += hn;
    return VM_OK;
}

/* Reads a long-form length of n bytes (1..8) at in[0..n); strict about leading zeros. */
static int read_length(const uint8_t *in, size_t n, size_t *out)
{
    if (in[0] == 0) return VM_ERR_NONCANONICAL;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | in[i];
    if (v < 56) return VM_ERR_NONCANONICAL;
    if (v > SIZE_MAX) return VM_ERR_TRUNCATED; /* cannot be present in memory */
    *out = (size_t)v;
    return VM_OK;
}

int vm_rlp_decode(const uint8_t *in, size_t len, struct vm_rlp_item *item, size_t *consumed)
{
    if (len == 0) return VM_ERR_TRUNCATED;
    uint8_t b = in[0];
    size_t hlen, plen;
    bool is_list = false;

    if (b < 0x80) {
        item->payload = in;
        item->len = 1;
        item->is_list = false;
        *consumed = 1;
        return VM_OK;
    }
    if (b <= 0xb7) {
        hlen = 1;
        plen = (size_t)(b - 0x80);
    } else if (b <= 0xbf) {
        size_t n = (size_t)(b - 0xb7);
        if (len - 1 < n) return VM_ERR_TRUNCATED;
        int err = read_length(in + 1, n, &plen);
        if (err) return err;
        hlen = 1 + n;
    } else if (b <= 0xf7) {
        is_list = true;
        hlen = 1;
        plen = (size_t)(b - 0xc0);
    } else {
        is_list = true;
        size_t n = (size_t)(b - 0xf7);
        if (len - 1 < n) return VM_ERR_TRUNCATED;
        int err = read_length(in + 1, n, &plen);
        if (err) return err;
        hlen = 1 + n;
    }
    if (plen > len - hlen) return VM_ERR_TRUNCATED;
    /* A single byte below 0x80 is its own encoding; the 0x81 form is not canonical. */
    if (!is_list && plen == 1 && in[hlen] < 0x80) return VM_ERR_NONCANONICAL;
    item->payload = in + hlen;
    item->len = plen;
    item->is_list = is_list;
    *consumed = hlen + plen;
    return VM_OK;
}

int vm_rlp_next(const struct vm_rlp_item *list, size_t *pos, struct vm_rlp_item *item)
{
    if (!list->is_list) return VM_ERR_INVALID;
    if (*pos > list->len) return VM_ERR_INVALID;
    if (*pos == list->len) return 1;
    size_t used;
    int err = vm_rlp_decode(list->payload + *pos, list->len - *pos, item, &used);
    if (err) return err;
    *pos += used;
    return VM_OK;
}

int vm_rlp_to_u256(const struct vm_rlp_item *item, vm_u256 *out)
{
    if (item->is_list) return VM_ERR_INVALID;
    if (item->len > 32) return VM_ERR_RANGE;
    if (item->len > 0 && item->payload[0] == 0) return VM_ERR_NONCANONICAL;
    *out = vm_u256_from_be(item->payload, item->len);
    return VM_OK;
}

int vm_rlp_to_u64(const struct vm_rlp_item *item, uint64_t *out)
{
    if (item->is_list) return VM_ERR_INVALID;
    if (item->len > 8) return VM_ERR_RANGE;
    if (item->len > 0 && item->payload[0] == 0) return VM_ERR_NONCANONICAL;
    uint64_t v = 0;
    for (size_t i = 0; i < item->len; i++)
        v = (v << 8) | item->payload[i];
    *out = v;
    return VM_OK;
}
