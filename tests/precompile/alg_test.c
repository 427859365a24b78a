/*
 * Unit tests of the precompile algorithms (vm/precompile_{bn254,modexp,
 * blake2f}.c) through vm/precompile_internal.h.
 *
 * Vectors: EIP-152 (blake2f), EIP-198/EIP-2565 (modexp), go-ethereum's
 * core/vm/testdata/precompiles/bn256{Add,ScalarMul,Pairing}.json (the
 * vectors the EIP-196/197 implementations were cross-checked with), and
 * algebraic identities of the pairing (bilinearity, inverse pairs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "precompile_internal.h"

/* Decodes hex (must fit in cap) and returns the length. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    assert_int_equal(vm_hex_decode(hex, out, cap, &n), VM_OK);
    return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want_hex)
{
    char buf[1024];
    assert_true(2 * len + 3 <= sizeof buf);
    vm_hex_encode(got, len, buf);
    assert_string_equal(buf + 2, want_hex);
}

/* ------------------------------------------------------------ blake2f */

#define B2_TAIL                                                                                    \
    "48c9bdf267e6096a3ba7ca8485ae67bb2bf894fe72f36e3cf1361d5f3af54fa5d182e6ad7f520e511f6c3e2b8c" \
    "68059b6bbd41fbabd9831f79217e1319cde05b6162630000000000000000000000000000000000000000000000" \
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
    "0000000000000000000000000300000000000000000000000000000"

static void test_blake2f_eip152(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } ok[] = {
        /* vector 4: 0 rounds */
        {"00000000" B2_TAIL "001",
         "08c9bcf367e6096a3ba7ca8485ae67bb2bf894fe72f36e3cf1361d5f3af54fa5d282e6ad7f520e511f6c3e2b8c6"
         "8059b9442be0454267ce079217e1319cde05b"},
        /* vector 5: 12 rounds (BLAKE2b of "abc") */
        {"0000000c" B2_TAIL "001",
         "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4"
         "533cc9518d38aa8dbf1925ab92386edd4009923"},
        /* vector 6: not final */
        {"0000000c" B2_TAIL "000",
         "75ab69d3190a562c51aef8d88f1c2775876944407270c42c9844252c26d2875298743e7f6d5ea2f2d3e8d2260"
         "39cd31b4e426ac4f2d3d666a610c2116fde4735"},
        /* vector 7: 1 round */
        {"00000001" B2_TAIL "001",
         "b63a380cb2897d521994a85234ee2c181b5f844d2c624c002677e9703449d2fba551b3a8333bcdf5f2f7e0899"
         "3d53923de3d64fcc68c034e717b9293fed7a421"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint8_t in[256], out[64];
        size_t n = unhex(ok[i].in, in, sizeof in);
        assert_int_equal(n, 213);
        uint32_t rounds = 0;
        assert_int_equal(vm_pc_blake2f_rounds(in, n, &rounds), VM_OK);
        assert_int_equal(rounds, in[3]);
        assert_int_equal(vm_pc_blake2f(in, n, out), VM_OK);
        assert_hex(out, 64, ok[i].out);
    }
    uint8_t in[256], out[64];
    uint32_t rounds;
    /* vector 0: empty; vectors 1, 2: 212 and 214 bytes; vector 3: f = 2 */
    assert_int_equal(vm_pc_blake2f(in, 0, out), VM_ERR_INVALID);
    assert_int_equal(vm_pc_blake2f_rounds(in, 0, &rounds), VM_ERR_INVALID);
    size_t n = unhex("00000c" B2_TAIL "001", in, sizeof in);
    assert_int_equal(n, 212);
    assert_int_equal(vm_pc_blake2f(in, n, out), VM_ERR_INVALID);
    n = unhex("000000000c" B2_TAIL "001", in, sizeof in);
    assert_int_equal(n, 214);
    assert_int_equal(vm_pc_blake2f(in, n, out), VM_ERR_INVALID);
    n = unhex("0000000c" B2_TAIL "002", in, sizeof in);
    assert_int_equal(vm_pc_blake2f(in, n, out), VM_ERR_INVALID);
    /* vector 8 (2^32 - 1 rounds) prices at 4294967295 gas: check the price only. */
    n = unhex("ffffffff" B2_TAIL "001", in, sizeof in);
    assert_int_equal(vm_pc_blake2f_rounds(in, n, &rounds), VM_OK);
    assert_int_equal(rounds, 0xffffffffu);
}

/* ------------------------------------------------------------ modexp */

static void run_modexp(const char *in_hex, uint64_t want_gas, const char *want_out)
{
    uint8_t in[512];
    size_t n = unhex(in_hex, in, sizeof in);
    assert_int_equal(vm_pc_modexp_gas(in, n), want_gas);
    uint8_t *out = NULL;
    size_t out_len = 99;
    assert_int_equal(vm_pc_modexp(in, n, &out, &out_len), VM_OK);
    assert_int_equal(out_len, strlen(want_out) / 2);
    if (out_len > 0) assert_hex(out, out_len, want_out);
    free(out);
}

#define W(x) "00000000000000000000000000000000000000000000000000000000000000" x
static void test_modexp_eip198(void **state)
{
    (void)state;
    /* EIP-198 example 1: 3^(p-1) mod p = 1 (Fermat), p = secp256k1's field
     * prime; EIP-2565 prices it at 16 * 255 / 3 = 1360. */
    run_modexp(W("01") W("20") W("20") "03"
               "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2e"
               "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f",
               1360, "0000000000000000000000000000000000000000000000000000000000000001");
    /* EIP-198 example 2: base length 0 means base 0. */
    run_modexp(W("00") W("20") W("20")
               "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2e"
               "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f",
               1360, "0000000000000000000000000000000000000000000000000000000000000000");
    /* 2^10 mod 1000 = 24, output as long as the modulus; minimum price 200. */
    run_modexp(W("01") W("01") W("02") "02" "0a" "03e8", 200, "0018");
    /* Operands cut off by the end of the input read as zero-padded:
     * base 3, exponent 2, modulus 0x0700 (only 07 given) -> 9. */
    run_modexp(W("01") W("01") W("02") "03" "02" "07", 200, "0009");
    /* Zero modulus -> zeros; 0^0 mod 5 = 1. */
    run_modexp(W("01") W("01") W("01") "03" "02" "00", 200, "00");
    run_modexp(W("00") W("00") W("01") "05", 200, "01");
    /* go-ethereum modexp_eip2565.json "nagydani-1-pow0x10001": 64-byte
     * operands, exponent 65537 -> 64 * 16 / 3 = 341. */
    run_modexp(W("40") W("03") W("40")
               "e09ad9675465c53a109fac66a445c91b292d2bb2c5268addb30cd82f80fcb0033ff97c80a5fc6f39193ae9"
               "69c6ede6710a6b7ac27078a06d90ef1c72e5c85fb5010001fc9e1f6beb81516545975218075ec2af118cd8"
               "798df6e08a147c60fd6095ac2bb02c2908cf4dd7c81f11c289e4bce98f3553768f392a80ce22bf5c4f4a24"
               "8c6b",
               341,
               "c36d804180c35d4426b57b50c5bfcca5c01856d104564cd513b461d3c8b8409128a5573e416d0ebe38f5f7"
               "36766d9dc27143e4da981dfa4d67f7dc474cbee6d2");
    /* Empty input: all lengths zero, empty output. */
    run_modexp("", 200, "");
}

static void test_modexp_huge_lengths(void **state)
{
    (void)state;
    uint8_t in[96 + 8];
    memset(in, 0, sizeof in);
    /* base_len = 2^256 - 1: unaffordable, and never allocated. */
    memset(in, 0xff, 32);
    in[95] = 1;
    assert_int_equal(vm_pc_modexp_gas(in, sizeof in), UINT64_MAX);
    /* base_len = 2^32 bytes: (2^29)^2 / 3 words^2 > any block. */
    memset(in, 0, 32);
    in[27] = 1;
    assert_true(vm_pc_modexp_gas(in, sizeof in) > ((uint64_t)1 << 56));
    /* exp_len = 2^255 with base and modulus empty: the complexity is 0, so
     * the price is the 200 minimum and the result is empty (geth agrees). */
    memset(in, 0, sizeof in);
    in[32] = 0x80;
    assert_int_equal(vm_pc_modexp_gas(in, sizeof in), 200);
    uint8_t *out = (uint8_t *)1;
    size_t out_len = 7;
    assert_int_equal(vm_pc_modexp(in, sizeof in, &out, &out_len), VM_OK);
    assert_null(out);
    assert_int_equal(out_len, 0);
    /* exp_len = 2^64 + 1 with a 1-byte modulus: saturates, never wraps. */
    memset(in, 0, sizeof in);
    in[55] = 1;
    in[63] = 1;
    in[95] = 1;
    assert_true(vm_pc_modexp_gas(in, sizeof in) >= UINT64_MAX / 3);
    /* exp_len = 64: iterations = 8 * 32 + log2(head); head = 0x01 << 248. */
    uint8_t in2[96 + 1 + 64 + 1];
    memset(in2, 0, sizeof in2);
    in2[31] = 1;
    in2[63] = 64;
    in2[95] = 1;
    in2[97] = 0x01; /* the exponent's first byte */
    /* words = 1, iterations = 256 + 248 = 504, price 504 / 3 = 168 -> 200 */
    assert_int_equal(vm_pc_modexp_gas(in2, sizeof in2), 200);
    in2[63] = 0;
    in2[62] = 1; /* exp_len = 256: iterations 8 * 224 + 248 = 2040 -> 680 */
    assert_int_equal(vm_pc_modexp_gas(in2, sizeof in2), 680);
}

/* ------------------------------------------------------------ bn254 */

static void test_bn254_add(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } v[] = {
        /* chfast1 */
        {"18b18acfb4c2c30276db5411368e7185b311dd124691610c5d3b74034e093dc9063c909c4720840cb5134cb9"
         "f59fa749755796819658d32efc0d288198f3726607c2b7f58a84bd6145f00c9c2bc0bb1a187f20ff2c92963a8"
         "8019e7c6a014eed06614e20c147e940f2d70da3f74c9a17df361706a4485c742bd6788478fa17d7",
         "2243525c5efd4b9c3d3c45ac0ca3fe4dd85e830a4ce6b65fa1eeaee202839703301d1d33be6da8e509df21cc3"
         "5964723180eed7532537db9ae5e7d48f195c915"},
        /* chfast2 */
        {"2243525c5efd4b9c3d3c45ac0ca3fe4dd85e830a4ce6b65fa1eeaee202839703301d1d33be6da8e509df21cc3"
         "5964723180eed7532537db9ae5e7d48f195c91518b18acfb4c2c30276db5411368e7185b311dd124691610c5d"
         "3b74034e093dc9063c909c4720840cb5134cb9f59fa749755796819658d32efc0d288198f37266",
         "2bd3e6d0f3b142924f5ca7b49ce5b9d54c4703d7ae5648e61d02268b1a0a9fb721611ce0a6af85915e2f1d703"
         "00909ce2e49dfad4a4619c8390cae66cefdb204"},
        /* cdetrio4: empty input is O + O */
        {"", "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
             "0000000000000000000000000000000000000000"},
        /* cdetrio11: G + G (doubling through the addition formula) */
        {"0000000000000000000000000000000000000000000000000000000000000001000000000000000000000000"
         "0000000000000000000000000000000000000002000000000000000000000000000000000000000000000000"
         "00000000000000010000000000000000000000000000000000000000000000000000000000000002",
         "030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd315ed738c0e0a7c92e7845f96b"
         "2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4"},
        /* cdetrio13 */
        {"17c139df0efee0f766bc0204762b774362e4ded88953a39ce849a8a7fa163fa901e0559bacb160664764a357"
         "af8a9fe70baa9258e0b959273ffc5718c6d4cc7c039730ea8dff1254c0fee9c0ea777d29a9c710b7e616683f1"
         "94f18c43b43b869073a5ffcc6fc7a28c30723d6e58ce577356982d65b833a5a5c15bf9024b43d98",
         "15bf2bb17880144b5d1cd2b1f46eff9d617bffd1ca57c37fb5a49bd84e53cf66049c797f9ce0d17083deb32b5"
         "e36f2ea2a212ee036598dd7624c168993d1355f"},
        /* cdetrio14: P + (-P) = O */
        {"17c139df0efee0f766bc0204762b774362e4ded88953a39ce849a8a7fa163fa901e0559bacb160664764a357"
         "af8a9fe70baa9258e0b959273ffc5718c6d4cc7c17c139df0efee0f766bc0204762b774362e4ded88953a39ce"
         "849a8a7fa163fa92e83f8d734803fc370eba25ed1f6b8768bd6d83887b87165fc2434fe11a830cb",
         "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
         "0000000000000000000000000000000000000000"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t in[256], out[64];
        size_t n = unhex(v[i].in, in, sizeof in);
        assert_int_equal(vm_pc_bn254_add(in, n, out), VM_OK);
        assert_hex(out, 64, v[i].out);
    }
    uint8_t in[128] = {0}, out[64];
    /* (1, 3) is not on y^2 = x^3 + 3 */
    in[31] = 1;
    in[63] = 3;
    assert_int_equal(vm_pc_bn254_add(in, 128, out), VM_ERR_INVALID);
    /* x = p (not reduced) is rejected even though p = 0 mod p */
    size_t n = unhex("30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47", in, 32);
    assert_int_equal(n, 32);
    memset(in + 32, 0, 96);
    assert_int_equal(vm_pc_bn254_add(in, 128, out), VM_ERR_INVALID);
}

static void test_bn254_mul(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } v[] = {
        /* chfast1 */
        {"2bd3e6d0f3b142924f5ca7b49ce5b9d54c4703d7ae5648e61d02268b1a0a9fb721611ce0a6af85915e2f1d703"
         "00909ce2e49dfad4a4619c8390cae66cefdb20400000000000000000000000000000000000000000000000011"
         "138ce750fa15c2",
         "070a8d6a982153cae4be29d434e8faef8a47b274a053f5a4ee2a6c9c13c31e5c031b8ce914eba3a9ffb989f9c"
         "dd5b0f01943074bf4f0f315690ec3cec6981afc"},
        /* chfast2: scalar p - 1 (larger than r) */
        {"070a8d6a982153cae4be29d434e8faef8a47b274a053f5a4ee2a6c9c13c31e5c031b8ce914eba3a9ffb989f9c"
         "dd5b0f01943074bf4f0f315690ec3cec6981afc30644e72e131a029b85045b68181585d97816a916871ca8d3c"
         "208c16d87cfd46",
         "025a6f4181d2b4ea8b724290ffb40156eb0adb514c688556eb79cdea0752c2bb2eff3f31dea215f1eb86023a1"
         "33a996eb6300b44da664d64251d05381bb8a02e"},
        /* cdetrio1: scalar 2^256 - 1 */
        {"1a87b0584ce92f4593d161480614f2989035225609f08058ccfa3d0f940febe31a2f3c951f6dadcc7ee9007df"
         "f81504b0fcd6d7cf59996efdc33d92bf7f9f8f6ffffffffffffffffffffffffffffffffffffffffffffffffff"
         "ffffffffffffff",
         "2cde5879ba6f13c0b5aa4ef627f159a3347df9722efce88a9afbb20b763b4c411aa7e43076f6aee272755a7f9"
         "b84832e71559ba0d2e0b17d5f9f01755e5b0d11"},
        /* cdetrio2: scalar r - 1 gives -P */
        {"1a87b0584ce92f4593d161480614f2989035225609f08058ccfa3d0f940febe31a2f3c951f6dadcc7ee9007df"
         "f81504b0fcd6d7cf59996efdc33d92bf7f9f8f630644e72e131a029b85045b68181585d2833e84879b970914"
         "3e1f593f0000000",
         "1a87b0584ce92f4593d161480614f2989035225609f08058ccfa3d0f940febe3163511ddc1c3f25d396745388"
         "200081287b3fd1472d8339d5fecb2eae0830451"},
        /* cdetrio4: scalar 9 */
        {"1a87b0584ce92f4593d161480614f2989035225609f08058ccfa3d0f940febe31a2f3c951f6dadcc7ee9007df"
         "f81504b0fcd6d7cf59996efdc33d92bf7f9f8f600000000000000000000000000000000000000000000000000"
         "00000000000009",
         "1dbad7d39dbc56379f78fac1bca147dc8e66de1b9d183c7b167351bfe0aeab742cd757d51289cd8dbd0acf9e6"
         "73ad67d0f0a89f912af47ed1be53664f5692575"},
        /* cdetrio11 */
        {"039730ea8dff1254c0fee9c0ea777d29a9c710b7e616683f194f18c43b43b869073a5ffcc6fc7a28c30723d6e"
         "58ce577356982d65b833a5a5c15bf9024b43d98ffffffffffffffffffffffffffffffffffffffffffffffffff"
         "ffffffffffffff",
         "00a1a234d08efaa2616607e31eca1980128b00b415c845ff25bba3afcb81dc00242077290ed33906aeb8e42fd"
         "98c41bcb9057ba03421af3f2d08cfc441186024"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t in[256], out[64];
        size_t n = unhex(v[i].in, in, sizeof in);
        assert_int_equal(vm_pc_bn254_mul(in, n, out), VM_OK);
        assert_hex(out, 64, v[i].out);
    }
    /* r * G = O */
    uint8_t in[96] = {0}, out[64], zero[64] = {0};
    in[31] = 1;
    in[63] = 2;
    size_t n = unhex("30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001", in + 64, 32);
    assert_int_equal(n, 32);
    assert_int_equal(vm_pc_bn254_mul(in, 96, out), VM_OK);
    assert_memory_equal(out, zero, 64);
    /* a point off the curve fails even with scalar 0 */
    in[63] = 3;
    memset(in + 64, 0, 32);
    assert_int_equal(vm_pc_bn254_mul(in, 96, out), VM_ERR_INVALID);
}

#define G1_GEN                                                                                     \
    "0000000000000000000000000000000000000000000000000000000000000001"                             \
    "0000000000000000000000000000000000000000000000000000000000000002"
#define G2_GEN                                                                                     \
    "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"                             \
    "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"                             \
    "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"                             \
    "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa"

static void check_pairing(const char *in_hex, int want)
{
    static uint8_t in[192 * 4];
    size_t n = unhex(in_hex, in, sizeof in);
    bool ok = false;
    int rc = vm_pc_bn254_pairing(in, n, &ok);
    if (want < 0) {
        assert_int_equal(rc, VM_ERR_INVALID);
        return;
    }
    assert_int_equal(rc, VM_OK);
    assert_int_equal(ok, want == 1);
}

static void test_bn254_pairing_vectors(void **state)
{
    (void)state;
    /* jeff1 */
    check_pairing(
        "1c76476f4def4bb94541d57ebba1193381ffa7aa76ada664dd31c16024c43f593034dd2920f673e204fee2811c"
        "678745fc819b55d3e9d294e45c9b03a76aef41209dd15ebff5d46c4bd888e51a93cf99a7329636c63514396b4a"
        "452003a35bf704bf11ca01483bfa8b34b43561848d28905960114c8ac04049af4b6315a416782bb8324af6cfc9"
        "3537a2ad1a445cfd0ca2a71acd7ac41fadbf933c2a51be344d120a2a4cf30c1bf9845f20c6fe39e07ea2cce61f"
        "0c9bb048165fe5e4de877550111e129f1cf1097710d41c4ac70fcdfa5ba2023c6ff1cbeac322de49d1b6df7c20"
        "32c61a830e3c17286de9462bf242fca2883585b93870a73853face6a6bf411" G2_GEN,
        1);
    /* jeff2 */
    check_pairing(
        "2eca0c7238bf16e83e7a1e6c5d49540685ff51380f309842a98561558019fc0203d3260361bb8451de5ff5ecd1"
        "7f010ff22f5c31cdf184e9020b06fa5997db841213d2149b006137fcfb23036606f848d638d576a120ca981b5b"
        "1a5f9300b3ee2276cf730cf493cd95d64677bbb75fc42db72513a4c1e387b476d056f80aa75f21ee6226d31426"
        "322afcda621464d0611d226783262e21bb3bc86b537e986237096df1f82dff337dd5972e32a8ad43e28a78a96a"
        "823ef1cd4debe12b6552ea5f06967a1237ebfeca9aaae0d6d0bab8e28c198c5a339ef8a2407e31cdac516db922"
        "160fa257a5fd5b280642ff47b65eca77e626cb685c84fa6d3b6882a283ddd1" G2_GEN,
        1);
    /* jeff6: jeff1 with a different G1 point in the second pair -> false */
    check_pairing(
        "1c76476f4def4bb94541d57ebba1193381ffa7aa76ada664dd31c16024c43f593034dd2920f673e204fee2811c"
        "678745fc819b55d3e9d294e45c9b03a76aef41209dd15ebff5d46c4bd888e51a93cf99a7329636c63514396b4a"
        "452003a35bf704bf11ca01483bfa8b34b43561848d28905960114c8ac04049af4b6315a416782bb8324af6cfc9"
        "3537a2ad1a445cfd0ca2a71acd7ac41fadbf933c2a51be344d120a2a4cf30c1bf9845f20c6fe39e07ea2cce61f"
        "0c9bb048165fe5e4de877550111e129f1cf1097710d41c4ac70fcdfa5ba2023c6ff1cbeac322de49d1b6df7c10"
        "3188585e2364128fe25c70558f1560f4f9350baf3959e603cc91486e110936" G2_GEN,
        0);
    /* empty_data: the empty product is 1 */
    check_pairing("", 1);
    /* one_point: e(G1, G2) != 1 */
    check_pairing(G1_GEN G2_GEN, 0);
    /* two_point_match_2: e(G1, G2) e(G1, -G2) = 1 */
    check_pairing(G1_GEN G2_GEN G1_GEN
                  "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"
                  "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"
                  "275dc4a288d1afb3cbb1ac09187524c7db36395df7be3b99e673b13a075a65ec"
                  "1d9befcd05a5323e6da4d435f3b617cdb3af83285c2df711ef39c01571827f9d",
                  1);
    /* Infinity on either side contributes 1. */
    check_pairing("0000000000000000000000000000000000000000000000000000000000000000"
                  "0000000000000000000000000000000000000000000000000000000000000000" G2_GEN,
                  1);
    check_pairing(G1_GEN "0000000000000000000000000000000000000000000000000000000000000000"
                         "0000000000000000000000000000000000000000000000000000000000000000"
                         "0000000000000000000000000000000000000000000000000000000000000000"
                         "0000000000000000000000000000000000000000000000000000000000000000",
                  1);
    /* Malformed: a length that is not a multiple of 192. */
    check_pairing(G1_GEN, -1);
    /* A point on the twist that is not in G2 (x = 1: its order is not r). */
    check_pairing(G1_GEN "0000000000000000000000000000000000000000000000000000000000000000"
                         "0000000000000000000000000000000000000000000000000000000000000001"
                         "0d1271953ed9ea0836846e70a1934187998c7f790cb4d7511b7f8da82de048a4"
                         "2869111d5381f072f8e2728fdb825a51aadd70e52c9830e9ab4b871c0531f1bb",
                  -1);
    /* G2 generator with y perturbed: off the twist. */
    check_pairing(G1_GEN
                  "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"
                  "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"
                  "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"
                  "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7dab",
                  -1);
    /* G1 point off the curve. */
    check_pairing("0000000000000000000000000000000000000000000000000000000000000001"
                  "0000000000000000000000000000000000000000000000000000000000000003" G2_GEN,
                  -1);
    /* A G2 coordinate equal to p. */
    check_pairing(G1_GEN
                  "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47"
                  "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"
                  "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"
                  "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa",
                  -1);
}

/* Big-endian 32-byte scalar from a small integer. */
static void scalar_u64(uint8_t s[32], uint64_t v)
{
    memset(s, 0, 32);
    for (int i = 0; i < 8; i++) s[31 - i] = (uint8_t)(v >> (8 * i));
}

static void g1_mul_gen(uint8_t out[64], const uint8_t point[64], uint64_t k)
{
    uint8_t in[96];
    memcpy(in, point, 64);
    scalar_u64(in + 64, k);
    assert_int_equal(vm_pc_bn254_mul(in, 96, out), VM_OK);
}

/* -P as k = r - 1 times P. */
static void g1_neg(uint8_t out[64], const uint8_t point[64])
{
    uint8_t in[96];
    memcpy(in, point, 64);
    assert_int_equal(
        vm_hex_decode("30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000000", in + 64,
                      32, &(size_t){0}),
        VM_OK);
    assert_int_equal(vm_pc_bn254_mul(in, 96, out), VM_OK);
}

static bool pairing2(const uint8_t p1[64], const uint8_t q1[128], const uint8_t p2[64],
                     const uint8_t q2[128])
{
    uint8_t in[384];
    memcpy(in, p1, 64);
    memcpy(in + 64, q1, 128);
    memcpy(in + 192, p2, 64);
    memcpy(in + 256, q2, 128);
    bool ok = false;
    assert_int_equal(vm_pc_bn254_pairing(in, sizeof in, &ok), VM_OK);
    return ok;
}

static void test_bn254_bilinearity(void **state)
{
    (void)state;
    uint8_t g1[64], g2[128];
    unhex(G1_GEN, g1, sizeof g1);
    unhex(G2_GEN, g2, sizeof g2);
    const uint64_t a = 0x1234567, b = 0xfedcba9;
    uint8_t ap[64], abp[64], neg_abp[64], neg_g1[64], abp1[64], neg_abp1[64];
    uint8_t bq[128], sb[32];
    g1_mul_gen(ap, g1, a);
    g1_mul_gen(abp, g1, a * b);
    g1_neg(neg_abp, abp);
    g1_neg(neg_g1, g1);
    scalar_u64(sb, b);
    assert_int_equal(vm_pc_bn254_g2_mul(g2, sb, bq), VM_OK);
    /* e(aP, bQ) = e(abP, Q) */
    assert_true(pairing2(ap, bq, neg_abp, g2));
    /* e(P, Q) e(-P, Q) = 1 */
    assert_true(pairing2(g1, g2, neg_g1, g2));
    /* ... and a wrong scalar breaks it: e(aP, bQ) != e((ab+1)P, Q) */
    g1_mul_gen(abp1, g1, a * b + 1);
    g1_neg(neg_abp1, abp1);
    assert_false(pairing2(ap, bq, neg_abp1, g2));
    /* e(P, Q) e(P, Q) != 1 (non-degenerate, order not 2) */
    assert_false(pairing2(g1, g2, g1, g2));
    /* e(2P, Q) = e(P, 2Q) */
    uint8_t p2[64], q2[128], neg_p2[64], two[32];
    g1_mul_gen(p2, g1, 2);
    g1_neg(neg_p2, p2);
    scalar_u64(two, 2);
    assert_int_equal(vm_pc_bn254_g2_mul(g2, two, q2), VM_OK);
    assert_true(pairing2(g1, q2, neg_p2, g2));
    /* r Q = O on the twist */
    uint8_t r[32], rq[128], zero[128] = {0};
    unhex("30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001", r, sizeof r);
    assert_int_equal(vm_pc_bn254_g2_mul(g2, r, rq), VM_OK);
    assert_memory_equal(rq, zero, 128);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blake2f_eip152),
        cmocka_unit_test(test_modexp_eip198),
        cmocka_unit_test(test_modexp_huge_lengths),
        cmocka_unit_test(test_bn254_add),
        cmocka_unit_test(test_bn254_mul),
        cmocka_unit_test(test_bn254_pairing_vectors),
        cmocka_unit_test(test_bn254_bilinearity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
