/*
 * RLP: the examples of the Ethereum wiki / ethereum.org RLP page (yellow
 * paper appendix B), round trips, and malformed input. Every decode runs on a
 * heap copy of exactly the input's size, so ASan catches any read past it.
 */
#include "test_util.h"

struct exact {
    uint8_t *p;
    size_t n;
};

static struct exact copy_exact(const uint8_t *data, size_t n)
{
    struct exact e = {malloc(n ? n : 1), n};
    assert_non_null(e.p);
    if (n) memcpy(e.p, data, n);
    return e;
}

/* Decodes from an exact-size heap copy that is freed again: only *item's
 * lengths and flags may be looked at afterwards, never its payload. */
static int decode_exact(const uint8_t *data, size_t n, struct vm_rlp_item *item, size_t *used)
{
    struct exact e = copy_exact(data, n);
    int err = vm_rlp_decode(e.p, e.n, item, used);
    free(e.p);
    return err;
}

static void assert_buf(const struct vm_buf *b, const uint8_t *want, size_t n)
{
    assert_int_equal(b->len, n);
    assert_memory_equal(b->data, want, n);
}

static const char LOREM[] = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";

static void test_encode_wiki_examples(void **state)
{
    (void)state;
    struct vm_buf b = {0};
    size_t m1, m2, m3;

    assert_int_equal(vm_rlp_put_bytes(&b, (const uint8_t *)"dog", 3), VM_OK);
    assert_buf(&b, (const uint8_t[]){0x83, 'd', 'o', 'g'}, 4);
    b.len = 0;

    assert_int_equal(vm_rlp_list_begin(&b, &m1), VM_OK);
    assert_int_equal(vm_rlp_put_bytes(&b, (const uint8_t *)"cat", 3), VM_OK);
    assert_int_equal(vm_rlp_put_bytes(&b, (const uint8_t *)"dog", 3), VM_OK);
    assert_int_equal(vm_rlp_list_end(&b, m1), VM_OK);
    assert_buf(&b, (const uint8_t[]){0xc8, 0x83, 'c', 'a', 't', 0x83, 'd', 'o', 'g'}, 9);
    b.len = 0;

    assert_int_equal(vm_rlp_put_bytes(&b, NULL, 0), VM_OK);
    assert_buf(&b, (const uint8_t[]){0x80}, 1);
    b.len = 0;

    assert_int_equal(vm_rlp_list_begin(&b, &m1), VM_OK);
    assert_int_equal(vm_rlp_list_end(&b, m1), VM_OK);
    assert_buf(&b, (const uint8_t[]){0xc0}, 1);
    b.len = 0;

    /* Integers: 0 is the empty string, 15 a single byte, 1024 two bytes. */
    assert_int_equal(vm_rlp_put_u64(&b, 0), VM_OK);
    assert_int_equal(vm_rlp_put_u64(&b, 15), VM_OK);
    assert_int_equal(vm_rlp_put_u64(&b, 1024), VM_OK);
    assert_int_equal(vm_rlp_put_u256(&b, vm_u256_from_u64(0)), VM_OK);
    assert_int_equal(vm_rlp_put_u256(&b, vm_u256_from_u64(1024)), VM_OK);
    assert_int_equal(vm_rlp_put_bytes(&b, (const uint8_t[]){0x00}, 1), VM_OK);
    assert_buf(&b, (const uint8_t[]){0x80, 0x0f, 0x82, 0x04, 0x00, 0x80, 0x82, 0x04, 0x00, 0x00},
               10);
    b.len = 0;

    /* The set-theoretic three: [ [], [[]], [ [], [[]] ] ]. */
    assert_int_equal(vm_rlp_list_begin(&b, &m1), VM_OK);
    assert_int_equal(vm_rlp_list_begin(&b, &m2), VM_OK);
    assert_int_equal(vm_rlp_list_end(&b, m2), VM_OK);
    assert_int_equal(vm_rlp_list_begin(&b, &m2), VM_OK);
    assert_int_equal(vm_rlp_list_begin(&b, &m3), VM_OK);
    assert_int_equal(vm_rlp_list_end(&b, m3), VM_OK);
    assert_int_equal(vm_rlp_list_end(&b, m2), VM_OK);
    assert_int_equal(vm_rlp_list_begin(&b, &m2), VM_OK);
    assert_int_equal(vm_rlp_list_begin(&b, &m3), VM_OK);
    assert_int_equal(vm_rlp_list_end(&b, m3), VM_OK);
    assert_int_equal(vm_rlp_list_begin(&b, &m3), VM_OK);
    size_t m4;
    assert_int_equal(vm_rlp_list_begin(&b, &m4), VM_OK);
    assert_int_equal(vm_rlp_list_end(&b, m4), VM_OK);
    assert_int_equal(vm_rlp_list_end(&b, m3), VM_OK);
    assert_int_equal(vm_rlp_list_end(&b, m2), VM_OK);
    assert_int_equal(vm_rlp_list_end(&b, m1), VM_OK);
    assert_buf(&b, (const uint8_t[]){0xc7, 0xc0, 0xc1, 0xc0, 0xc3, 0xc0, 0xc1, 0xc0}, 8);
    b.len = 0;

    /* The 56-byte string takes the long form: 0xb8 0x38. */
    assert_int_equal(strlen(LOREM), 56);
    assert_int_equal(vm_rlp_put_bytes(&b, (const uint8_t *)LOREM, 56), VM_OK);
    assert_int_equal(b.len, 58);
    assert_int_equal(b.data[0], 0xb8);
    assert_int_equal(b.data[1], 0x38);
    assert_memory_equal(b.data + 2, LOREM, 56);
    b.len = 0;

    /* A 55-byte string is the last short one; a list of that string has payload 56. */
    assert_int_equal(vm_rlp_list_begin(&b, &m1), VM_OK);
    assert_int_equal(vm_rlp_put_bytes(&b, (const uint8_t *)LOREM, 55), VM_OK);
    assert_int_equal(vm_rlp_list_end(&b, m1), VM_OK);
    assert_int_equal(b.len, 58);
    assert_int_equal(b.data[0], 0xf8);
    assert_int_equal(b.data[1], 56);
    assert_int_equal(b.data[2], 0x80 + 55);
    b.len = 0;

    /* A 1024-byte string: 0xb9 0x04 0x00. */
    uint8_t kib[1024];
    memset(kib, 'x', sizeof kib);
    assert_int_equal(vm_rlp_put_bytes(&b, kib, sizeof kib), VM_OK);
    assert_int_equal(b.len, 1027);
    assert_int_equal(b.data[0], 0xb9);
    assert_int_equal(b.data[1], 0x04);
    assert_int_equal(b.data[2], 0x00);

    /* u256 max is 32 bytes of 0xff behind 0xa0. */
    b.len = 0;
    assert_int_equal(vm_rlp_put_u256(&b, vm_u256_not(vm_u256_from_u64(0))), VM_OK);
    assert_int_equal(b.len, 33);
    assert_int_equal(b.data[0], 0xa0);
    assert_int_equal(b.data[32], 0xff);
    vm_buf_free(&b);
}

static void test_decode_wiki_examples(void **state)
{
    (void)state;
    struct vm_rlp_item it, sub, sub2;
    size_t used, pos;

    const uint8_t dog[] = {0x83, 'd', 'o', 'g'};
    assert_int_equal(decode_exact(dog, sizeof dog, &it, &used), VM_OK);
    assert_false(it.is_list);
    assert_int_equal(it.len, 3);
    assert_int_equal(used, 4);

    const uint8_t catdog[] = {0xc8, 0x83, 'c', 'a', 't', 0x83, 'd', 'o', 'g'};
    struct exact e = copy_exact(catdog, sizeof catdog);
    assert_int_equal(vm_rlp_decode(e.p, e.n, &it, &used), VM_OK);
    assert_true(it.is_list);
    assert_int_equal(used, 9);
    pos = 0;
    assert_int_equal(vm_rlp_next(&it, &pos, &sub), VM_OK);
    assert_int_equal(sub.len, 3);
    assert_memory_equal(sub.payload, "cat", 3);
    assert_int_equal(vm_rlp_next(&it, &pos, &sub), VM_OK);
    assert_memory_equal(sub.payload, "dog", 3);
    assert_int_equal(vm_rlp_next(&it, &pos, &sub), 1);
    free(e.p);

    const uint8_t empty_str[] = {0x80}, empty_list[] = {0xc0};
    assert_int_equal(decode_exact(empty_str, 1, &it, &used), VM_OK);
    assert_false(it.is_list);
    assert_int_equal(it.len, 0);
    uint64_t u;
    assert_int_equal(vm_rlp_to_u64(&it, &u), VM_OK);
    assert_int_equal(u, 0);
    assert_int_equal(decode_exact(empty_list, 1, &it, &used), VM_OK);
    assert_true(it.is_list);
    assert_int_equal(it.len, 0);

    const uint8_t fifteen[] = {0x0f}, k1024[] = {0x82, 0x04, 0x00};
    e = copy_exact(fifteen, 1);
    assert_int_equal(vm_rlp_decode(e.p, e.n, &it, &used), VM_OK);
    assert_int_equal(vm_rlp_to_u64(&it, &u), VM_OK);
    assert_int_equal(u, 15);
    free(e.p);
    e = copy_exact(k1024, 3);
    assert_int_equal(vm_rlp_decode(e.p, e.n, &it, &used), VM_OK);
    assert_int_equal(vm_rlp_to_u64(&it, &u), VM_OK);
    assert_int_equal(u, 1024);
    vm_u256 w;
    assert_int_equal(vm_rlp_to_u256(&it, &w), VM_OK);
    assert_true(vm_u256_eq(w, vm_u256_from_u64(1024)));
    free(e.p);

    /* [ [], [[]], [ [], [[]] ] ]: walk the whole tree. */
    const uint8_t three[] = {0xc7, 0xc0, 0xc1, 0xc0, 0xc3, 0xc0, 0xc1, 0xc0};
    e = copy_exact(three, sizeof three);
    assert_int_equal(vm_rlp_decode(e.p, e.n, &it, &used), VM_OK);
    assert_int_equal(used, 8);
    pos = 0;
    assert_int_equal(vm_rlp_next(&it, &pos, &sub), VM_OK);
    assert_true(sub.is_list);
    assert_int_equal(sub.len, 0);
    assert_int_equal(vm_rlp_next(&it, &pos, &sub), VM_OK);
    assert_true(sub.is_list);
    assert_int_equal(sub.len, 1);
    assert_int_equal(vm_rlp_next(&it, &pos, &sub), VM_OK);
    assert_true(sub.is_list);
    assert_int_equal(sub.len, 3);
    size_t pos2 = 0;
    assert_int_equal(vm_rlp_next(&sub, &pos2, &sub2), VM_OK);
    assert_int_equal(sub2.len, 0);
    assert_int_equal(vm_rlp_next(&sub, &pos2, &sub2), VM_OK);
    assert_int_equal(sub2.len, 1);
    assert_int_equal(vm_rlp_next(&sub, &pos2, &sub2), 1);
    assert_int_equal(vm_rlp_next(&it, &pos, &sub), 1);
    free(e.p);

    uint8_t lorem[58] = {0xb8, 0x38};
    memcpy(lorem + 2, LOREM, 56);
    assert_int_equal(decode_exact(lorem, sizeof lorem, &it, &used), VM_OK);
    assert_int_equal(it.len, 56);
    assert_int_equal(used, 58);

    /* Trailing bytes after the item are not consumed. */
    const uint8_t two[] = {0x83, 'd', 'o', 'g', 0x01};
    assert_int_equal(decode_exact(two, sizeof two, &it, &used), VM_OK);
    assert_int_equal(used, 4);
}

static void test_decode_malformed(void **state)
{
    (void)state;
    struct vm_rlp_item it;
    size_t used;
    static const struct {
        const char *name;
        uint8_t in[12];
        size_t n;
        int want;
    } bad[] = {
        {"empty input", {0}, 0, VM_ERR_TRUNCATED},
        {"string cut short", {0x83, 'd', 'o'}, 3, VM_ERR_TRUNCATED},
        {"list cut short", {0xc8, 0x83, 'c', 'a', 't'}, 5, VM_ERR_TRUNCATED},
        {"long string, length bytes missing", {0xb9, 0x04}, 2, VM_ERR_TRUNCATED},
        {"long list, length bytes missing", {0xfb, 0x01, 0x00}, 3, VM_ERR_TRUNCATED},
        {"long string, payload missing", {0xb8, 0x38, 'a'}, 3, VM_ERR_TRUNCATED},
        {"oversized 8-byte length",
         {0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00},
         10,
         VM_ERR_TRUNCATED},
        {"oversized list length",
         {0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
         9,
         VM_ERR_TRUNCATED},
        {"single byte < 0x80 in a string header", {0x81, 0x05}, 2, VM_ERR_NONCANONICAL},
        {"zero byte in a string header", {0x81, 0x00}, 2, VM_ERR_NONCANONICAL},
        {"long form for a short string",
         {0xb8, 0x05, 'a', 'b', 'c', 'd', 'e'},
         7,
         VM_ERR_NONCANONICAL},
        {"long form for a short list", {0xf8, 0x01, 0xc0}, 3, VM_ERR_NONCANONICAL},
        {"length with a leading zero", {0xb9, 0x00, 0x38}, 3, VM_ERR_NONCANONICAL},
        {"list length with a leading zero", {0xf9, 0x00, 0x01}, 3, VM_ERR_NONCANONICAL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int got = decode_exact(bad[i].in, bad[i].n, &it, &used);
        if (got != bad[i].want) fail_msg("%s: got %d, want %d", bad[i].name, got, bad[i].want);
    }

    /* 0x81 0x80 is canonical: 0x80 cannot stand for itself. */
    const uint8_t ok[] = {0x81, 0x80};
    assert_int_equal(decode_exact(ok, 2, &it, &used), VM_OK);

    /* An item inside a list may not run past the list's own payload. */
    const uint8_t overrun[] = {0xc2, 0x83, 'a', 'b', 'c'};
    struct exact e = copy_exact(overrun, sizeof overrun);
    assert_int_equal(vm_rlp_decode(e.p, e.n, &it, &used), VM_OK);
    assert_int_equal(used, 3);
    size_t pos = 0;
    struct vm_rlp_item sub;
    assert_int_equal(vm_rlp_next(&it, &pos, &sub), VM_ERR_TRUNCATED);
    free(e.p);

    /* vm_rlp_next on a string is an error, not a walk. */
    const uint8_t dog[] = {0x83, 'd', 'o', 'g'};
    assert_int_equal(decode_exact(dog, 4, &it, &used), VM_OK);
    pos = 0;
    assert_int_equal(vm_rlp_next(&it, &pos, &sub), VM_ERR_INVALID);
}

static void test_integers_malformed(void **state)
{
    (void)state;
    struct vm_rlp_item it;
    uint64_t u;
    vm_u256 w;
    uint8_t p[33];
    memset(p, 0x11, sizeof p);

    it = (struct vm_rlp_item){p, 9, false};
    assert_int_equal(vm_rlp_to_u64(&it, &u), VM_ERR_RANGE);
    it.len = 8;
    assert_int_equal(vm_rlp_to_u64(&it, &u), VM_OK);
    assert_true(u == 0x1111111111111111ULL);
    it.len = 33;
    assert_int_equal(vm_rlp_to_u256(&it, &w), VM_ERR_RANGE);
    it.len = 32;
    assert_int_equal(vm_rlp_to_u256(&it, &w), VM_OK);
    p[0] = 0;
    assert_int_equal(vm_rlp_to_u256(&it, &w), VM_ERR_NONCANONICAL);
    it.len = 2;
    assert_int_equal(vm_rlp_to_u64(&it, &u), VM_ERR_NONCANONICAL);
    it.is_list = true;
    assert_int_equal(vm_rlp_to_u64(&it, &u), VM_ERR_INVALID);
    assert_int_equal(vm_rlp_to_u256(&it, &w), VM_ERR_INVALID);

    /* Encoded 0x820001 (leading zero) decodes as a string but is no integer. */
    const uint8_t lead[] = {0x82, 0x00, 0x01};
    size_t used;
    struct exact e = copy_exact(lead, 3);
    assert_int_equal(vm_rlp_decode(e.p, e.n, &it, &used), VM_OK);
    assert_int_equal(vm_rlp_to_u64(&it, &u), VM_ERR_NONCANONICAL);
    free(e.p);
}

/* Re-encodes an accepted item from its decoded form. */
static void reencode(const struct vm_rlp_item *it, struct vm_buf *b)
{
    b->len = 0;
    if (it->is_list) {
        size_t m;
        assert_int_equal(vm_rlp_list_begin(b, &m), VM_OK);
        assert_int_equal(vm_buf_append(b, it->payload, it->len), VM_OK);
        assert_int_equal(vm_rlp_list_end(b, m), VM_OK);
    } else {
        assert_int_equal(vm_rlp_put_bytes(b, it->payload, it->len), VM_OK);
    }
}

/*
 * Canonical means one encoding per value: whatever the decoder accepts must
 * re-encode to exactly the bytes it consumed. Checked for every 1- and 2-byte
 * input and for pseudo-random longer ones shaped like headers.
 */
static void test_accepted_is_canonical(void **state)
{
    (void)state;
    struct vm_buf b = {0};
    struct vm_rlp_item it;
    size_t used;
    size_t accepted = 0;
    for (unsigned x = 0; x < 256 + 65536; x++) {
        uint8_t in[2];
        size_t n = x < 256 ? 1 : 2;
        if (n == 1) {
            in[0] = (uint8_t)x;
        } else {
            in[0] = (uint8_t)((x - 256) >> 8);
            in[1] = (uint8_t)(x - 256);
        }
        struct exact e = copy_exact(in, n);
        if (vm_rlp_decode(e.p, e.n, &it, &used) == VM_OK) {
            accepted++;
            assert_true(used <= n);
            reencode(&it, &b);
            assert_int_equal(b.len, used);
            assert_memory_equal(b.data, in, used);
        }
        free(e.p);
    }
    assert_true(accepted > 256);

    accepted = 0;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    uint8_t in[80];
    for (int round = 0; round < 20000; round++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        size_t n = (size_t)(seed % sizeof in);
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)(seed >> (8 * (i % 8))) ^ (uint8_t)i;
        if (n > 0) in[0] = (uint8_t)(0xb6 + seed % 10); /* around the long-form edges */
        if (n > 1 && round % 2) in[1] = (uint8_t)(seed % 80);
        struct exact e = copy_exact(in, n);
        if (vm_rlp_decode(e.p, e.n, &it, &used) == VM_OK) {
            accepted++;
            reencode(&it, &b);
            assert_int_equal(b.len, used);
            assert_memory_equal(b.data, in, used);
        }
        free(e.p);
    }
    assert_true(accepted > 1000); /* the generator does reach valid long forms */
    vm_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_wiki_examples),  cmocka_unit_test(test_decode_wiki_examples),
        cmocka_unit_test(test_decode_malformed),      cmocka_unit_test(test_integers_malformed),
        cmocka_unit_test(test_accepted_is_canonical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
