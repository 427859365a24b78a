/*
 * mpt.c — root hashes of Merkle Patricia tries (yellow paper, appendix D).
 *
 * We never keep a trie: the state and storage tries of breakpoint are small
 * and rebuilt from the sorted entries each time a root is asked for. The
 * build walks the sorted keys (as nibble strings) and encodes each node into
 * one growing buffer: a child node is encoded in place where its parent's
 * list needs it, and if its RLP is 32 bytes or more it is replaced by
 * rlp(keccak(node)) (a hashed reference); shorter nodes stay inline, exactly
 * as the yellow paper's c(J, i) says. Recursion depth is bounded by the key
 * length in nibbles (64 for the secure tries), never by the number of entries.
 */
#include "vm.h"

#include <stdlib.h>
#include <string.h>

struct mpt_key {
    const uint8_t *nibbles;
    size_t len; /* in nibbles */
    const uint8_t *value;
    size_t value_len;
};

static int mpt_key_cmp(const void *a, const void *b)
{
    const struct mpt_key *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->nibbles, y->nibbles, n) : 0;
    if (c) return c;
    return (x->len > y->len) - (x->len < y->len);
}

/* RLP string header + payload. */
static int put_string(struct vm_buf *out, const uint8_t *data, size_t len)
{
    return vm_rlp_put_bytes(out, data, len);
}

/* Hex-prefix encoding (appendix C) of nibbles[0..n) with the leaf flag,
 * written as an RLP string. */
static int put_hex_prefix(struct vm_buf *out, const uint8_t *nibbles, size_t n, bool leaf)
{
    uint8_t tmp[1 + 64];
    uint8_t *hp = tmp;
    size_t hp_len = n / 2 + 1;
    if (hp_len > sizeof tmp) {
        hp = malloc(hp_len);
        if (!hp) return VM_ERR_NOMEM;
    }
    uint8_t flag = (uint8_t)((leaf ? 2 : 0) + (n & 1));
    size_t i = 0;
    if (n & 1) {
        hp[0] = (uint8_t)(flag << 4 | nibbles[0]);
        i = 1;
    } else {
        hp[0] = (uint8_t)(flag << 4);
    }
    for (size_t o = 1; i < n; i += 2, o++) hp[o] = (uint8_t)(nibbles[i] << 4 | nibbles[i + 1]);
    int err = put_string(out, hp, hp_len);
    if (hp != tmp) free(hp);
    return err;
}

/* Turns the node encoded at out[start..] into its reference: unchanged if it
 * is shorter than 32 bytes, else rlp(keccak(node)). */
static int make_reference(struct vm_buf *out, size_t start)
{
    size_t len = out->len - start;
    if (len < 32) return VM_OK;
    uint8_t h[32];
    vm_keccak256(out->data + start, len, h);
    out->len = start;
    return put_string(out, h, 32);
}

/* Encodes the node holding keys[0..n) (sorted, distinct, n >= 1), whose
 * first `depth` nibbles are already consumed, appending its full RLP. */
static int encode_node(struct vm_buf *out, const struct mpt_key *keys, size_t n, size_t depth)
{
    int err;
    size_t mark;
    if (n == 1) {
        if ((err = vm_rlp_list_begin(out, &mark))) return err;
        if ((err = put_hex_prefix(out, keys[0].nibbles + depth, keys[0].len - depth, true)))
            return err;
        if ((err = put_string(out, keys[0].value, keys[0].value_len))) return err;
        return vm_rlp_list_end(out, mark);
    }
    /* Sorted keys: the prefix shared by all is the one the first and the
     * last share. */
    const struct mpt_key *first = &keys[0], *last = &keys[n - 1];
    size_t common = 0;
    while (depth + common < first->len && depth + common < last->len &&
           first->nibbles[depth + common] == last->nibbles[depth + common])
        common++;
    if (common > 0) {
        if ((err = vm_rlp_list_begin(out, &mark))) return err;
        if ((err = put_hex_prefix(out, first->nibbles + depth, common, false))) return err;
        size_t child = out->len;
        if ((err = encode_node(out, keys, n, depth + common))) return err;
        if ((err = make_reference(out, child))) return err;
        return vm_rlp_list_end(out, mark);
    }
    /* A branch. A key that ends here sorts first and becomes the value. */
    if ((err = vm_rlp_list_begin(out, &mark))) return err;
    const struct mpt_key *ends_here = NULL;
    size_t i = 0;
    if (first->len == depth) {
        ends_here = first;
        i = 1;
    }
    for (uint8_t nib = 0; nib < 16; nib++) {
        size_t j = i;
        while (j < n && keys[j].nibbles[depth] == nib) j++;
        if (j == i) {
            if ((err = put_string(out, NULL, 0))) return err;
            continue;
        }
        size_t child = out->len;
        if ((err = encode_node(out, keys + i, j - i, depth + 1))) return err;
        if ((err = make_reference(out, child))) return err;
        i = j;
    }
    if (ends_here)
        err = put_string(out, ends_here->value, ends_here->value_len);
    else
        err = put_string(out, NULL, 0);
    if (err) return err;
    return vm_rlp_list_end(out, mark);
}

int vm_mpt_root(const struct vm_mpt_entry *entries, size_t n, uint8_t root[32])
{
    size_t total = 0, count = 0;
    for (size_t i = 0; i < n; i++) {
        if (entries[i].value_len == 0) continue;
        if (entries[i].key_len > (SIZE_MAX - total) / 2) return VM_ERR_NOMEM;
        total += 2 * entries[i].key_len;
        count++;
    }
    if (count == 0) {
        static const uint8_t empty = 0x80;
        vm_keccak256(&empty, 1, root);
        return VM_OK;
    }
    struct mpt_key *keys = calloc(count, sizeof *keys);
    uint8_t *nibbles = malloc(total ? total : 1);
    if (!keys || !nibbles) {
        free(keys);
        free(nibbles);
        return VM_ERR_NOMEM;
    }
    size_t k = 0, off = 0;
    for (size_t i = 0; i < n; i++) {
        const struct vm_mpt_entry *e = &entries[i];
        if (e->value_len == 0) continue;
        for (size_t b = 0; b < e->key_len; b++) {
            nibbles[off + 2 * b] = e->key[b] >> 4;
            nibbles[off + 2 * b + 1] = e->key[b] & 0x0f;
        }
        keys[k].nibbles = nibbles + off;
        keys[k].len = 2 * e->key_len;
        keys[k].value = e->value;
        keys[k].value_len = e->value_len;
        off += 2 * e->key_len;
        k++;
    }
    qsort(keys, count, sizeof *keys, mpt_key_cmp);
    struct vm_buf out = {0};
    int err = encode_node(&out, keys, count, 0);
    /* The root is always hashed, however short its node. */
    if (!err) vm_keccak256(out.data, out.len, root);
    vm_buf_free(&out);
    free(keys);
    free(nibbles);
    return err;
}

int vm_storage_root(const struct vm_storage_slot *slots, size_t n, uint8_t root[32])
{
    if (n == 0) return vm_mpt_root(NULL, 0, root);
    /* Per slot: keccak(key) (32) and rlp(value) (at most 33). */
    struct vm_mpt_entry *entries = calloc(n, sizeof *entries);
    uint8_t *mem = malloc(n * (32 + 33));
    if (!entries || !mem) {
        free(entries);
        free(mem);
        return VM_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t *hk = mem + i * 65, *rv = hk + 32;
        uint8_t be[32];
        vm_u256_to_be(slots[i].key, be);
        vm_keccak256(be, 32, hk);
        entries[i].key = hk;
        entries[i].key_len = 32;
        entries[i].value = rv;
        if (vm_u256_is_zero(slots[i].value)) {
            entries[i].value_len = 0;
            continue;
        }
        vm_u256_to_be(slots[i].value, be);
        size_t lead = 0;
        while (be[lead] == 0) lead++;
        size_t len = 32 - lead;
        if (len == 1 && be[31] < 0x80) {
            rv[0] = be[31];
            entries[i].value_len = 1;
        } else {
            rv[0] = (uint8_t)(0x80 + len);
            memcpy(rv + 1, be + lead, len);
            entries[i].value_len = 1 + len;
        }
    }
    int err = vm_mpt_root(entries, n, root);
    free(entries);
    free(mem);
    return err;
}
