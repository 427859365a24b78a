/*
 * keccak-256 and hex. Vectors: keccak("") is the well-known empty hash
 * (also the codeHash of every EOA); "abc" and the "quick brown fox" are the
 * classic Keccak-256 (pre-SHA3 padding) values; the rate-boundary and 1 MiB
 * vectors were computed with ethers v6 (an independent implementation).
 */
#include "test_util.h"

static void hash_str(const char *s, uint8_t out[32])
{
    vm_keccak256((const uint8_t *)s, strlen(s), out);
}

static void test_keccak_known(void **state)
{
    (void)state;
    uint8_t h[32];
    hash_str("", h);
    assert_hash(h, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    hash_str("abc", h);
    assert_hash(h, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    hash_str("The quick brown fox jumps over the lazy dog", h);
    assert_hash(h, "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
    /* keccak("transfer(address,uint256)")[0..4] is the ERC-20 selector a9059cbb. */
    hash_str("transfer(address,uint256)", h);
    assert_int_equal(h[0], 0xa9);
    assert_int_equal(h[1], 0x05);
    assert_int_equal(h[2], 0x9c);
    assert_int_equal(h[3], 0xbb);
}

/* Around the 136-byte rate: the padding bytes 0x01 and 0x80 meet in one byte at 135. */
static void test_keccak_rate_boundaries(void **state)
{
    (void)state;
    static const struct {
        size_t n;
        const char *hex;
    } v[] = {
        {135, "34367dc248bbd832f4e3e69dfaac2f92638bd0bbd18f2912ba4ef454919cf446"},
        {136, "a6c4d403279fe3e0af03729caada8374b5ca54d8065329a3ebcaeb4b60aa386e"},
        {137, "d869f639c7046b4929fc92a4d988a8b22c55fbadb802c0c66ebcd484f1915f39"},
        {272, "cf7fcd4f705ee749930d19ca84561a9bf62516bd90a471545fa2f49fdc7e63c8"},
        {1000, "b6a4ac1f51884d71f30fa397a5e155de3099e11fc0edef5d08b646e621e19de9"},
    };
    uint8_t buf[1000];
    memset(buf, 'a', sizeof buf);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t h[32];
        vm_keccak256(buf, v[i].n, h);
        assert_hash(h, v[i].hex);
    }
}

/* 1 MiB of (i*7+3) mod 256, hashed at once and in uneven pieces. */
static void test_keccak_long_incremental(void **state)
{
    (void)state;
    size_t n = (size_t)1 << 20;
    uint8_t *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (uint8_t)(i * 7 + 3);
    const char *want = "f2e34ac5feedafab149d3a2b3ed837fc240cc93748a48dd1cf739c1435b8af77";
    uint8_t h[32];
    vm_keccak256(big, n, h);
    assert_hash(h, want);

    struct vm_keccak k;
    vm_keccak_init(&k);
    size_t pos = 0, step = 1;
    while (pos < n) {
        size_t take = step < n - pos ? step : n - pos;
        vm_keccak_update(&k, big + pos, take);
        pos += take;
        step = step * 3 % 1021 + 1; /* 1, 4, 13, ... : crosses block edges at every offset */
    }
    vm_keccak_final(&k, h);
    assert_hash(h, want);
    free(big);
}

static void test_hex(void **state)
{
    (void)state;
    uint8_t out[8];
    size_t n = 99;
    assert_int_equal(vm_hex_decode("0xdeadBEEF", out, sizeof out, &n), VM_OK);
    assert_int_equal(n, 4);
    assert_int_equal(out[0], 0xde);
    assert_int_equal(out[3], 0xef);
    assert_int_equal(vm_hex_decode("", out, sizeof out, &n), VM_OK);
    assert_int_equal(n, 0);
    assert_int_equal(vm_hex_decode("0x", out, sizeof out, &n), VM_OK);
    assert_int_equal(n, 0);
    assert_int_equal(vm_hex_decode("abc", out, sizeof out, &n), VM_ERR_INVALID);
    assert_int_equal(vm_hex_decode("0xzz", out, sizeof out, &n), VM_ERR_INVALID);
    assert_int_equal(vm_hex_decode("0x1g", out, sizeof out, &n), VM_ERR_INVALID);
    assert_int_equal(vm_hex_decode("001122334455667788", out, sizeof out, &n), VM_ERR_RANGE);
    assert_int_equal(vm_hex_decode_n("0a0bXX", 4, out, sizeof out, &n), VM_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[1], 0x0b);

    char text[2 * 4 + 3];
    const uint8_t data[4] = {0x00, 0x0f, 0xa0, 0xff};
    vm_hex_encode(data, 4, text);
    assert_string_equal(text, "0x000fa0ff");
    vm_hex_encode(data, 0, text);
    assert_string_equal(text, "0x");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keccak_known),
        cmocka_unit_test(test_keccak_rate_boundaries),
        cmocka_unit_test(test_keccak_long_incremental),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
