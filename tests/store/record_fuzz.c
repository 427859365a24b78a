/*
 * record_fuzz.c — libFuzzer target for the store's record decoders.
 *
 * The first input byte picks a decoder; the rest is the record. A decode
 * must either fail with STORE_ERR_CORRUPT or give a record whose encoding
 * decodes again to the same encoding (encode ∘ decode is idempotent), and
 * never read out of bounds or allocate more than the input justifies.
 */
#include "record.h"

#include <stdlib.h>
#include <string.h>

static void check_same(msgpack_sbuffer *a, msgpack_sbuffer *b)
{
    if (a->size != b->size || memcmp(a->data, b->data, a->size) != 0) abort();
    msgpack_sbuffer_destroy(a);
    msgpack_sbuffer_destroy(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct store_channel ch, ch2;
    static struct store_breakpoint bp, bp2;
    if (size == 0) return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    msgpack_sbuffer e1, e2;
    int rv;
    switch (data[0] % 7) {
    case 0:
        rv = record_decode_channel(p, n, &ch);
        if (rv == 0) {
            if (record_encode_channel(&ch, &e1) || record_decode_channel((uint8_t *)e1.data, e1.size, &ch2) ||
                record_encode_channel(&ch2, &e2))
                abort();
            check_same(&e1, &e2);
        }
        break;
    case 1:
        rv = record_decode_breakpoint(p, n, &bp);
        if (rv == 0) {
            if (record_encode_breakpoint(&bp, &e1) ||
                record_decode_breakpoint((uint8_t *)e1.data, e1.size, &bp2) ||
                record_encode_breakpoint(&bp2, &e2))
                abort();
            check_same(&e1, &e2);
        }
        break;
    case 2: {
        uint64_t nonce;
        struct vm_storage_slot *slots;
        size_t ns;
        rv = record_decode_storage(p, n, &nonce, &slots, &ns);
        if (rv == 0) {
            if ((ns > 0 && slots == NULL) || ns > STORE_MAX_SLOTS) abort();
            free(slots);
        }
        break;
    }
    case 3: {
        uint8_t d[32], sig[65];
        rv = record_decode_ownsig(p, n, d, sig);
        break;
    }
    case 4: {
        struct store_heads h;
        rv = record_decode_heads(p, n, &h);
        break;
    }
    case 5: {
        uint64_t block;
        vm_bytes32 hash;
        rv = record_decode_cursor(p, n, &block, &hash);
        break;
    }
    default: {
        uint64_t v;
        rv = record_decode_u64(p, n, &v);
        break;
    }
    }
    if (rv != 0 && rv != STORE_ERR_CORRUPT && rv != STORE_ERR_NOMEM) abort();
    return 0;
}
