/*
 * Unit tests of vm_precompile_run / vm_is_precompile (vm/precompile.c):
 * addresses, prices, statuses and gas accounting of every precompile,
 * with vectors from go-ethereum's core/vm/testdata/precompiles
 * (ecRecover.json), the SHA-256/RIPEMD-160 reference digests, EIP-152
 * and EIP-2565.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vm.h"
#include "../lib/secp_fixture.h"

static vm_address pc_addr(uint8_t n)
{
    vm_address a;
    memset(&a, 0, sizeof a);
    a.b[19] = n;
    return a;
}

/* Runs precompile n on hex input with gas; checks the status, the gas left
 * and (for a success) the output hex ("" = empty output). */
static void expect(const struct vm_secp *secp, uint8_t n, const char *in_hex, int64_t gas,
                   enum vm_status status, int64_t gas_left, const char *out_hex)
{
    static uint8_t in[1024];
    size_t len = 0;
    assert_int_equal(vm_hex_decode(in_hex, in, sizeof in, &len), VM_OK);
    vm_address a = pc_addr(n);
    struct vm_result r;
    assert_int_equal(vm_precompile_run(secp, &a, in, len, gas, &r), VM_OK);
    assert_int_equal(r.status, status);
    assert_int_equal(r.gas_left, gas_left);
    assert_int_equal(r.gas_refund, 0);
    if (status == VM_SUCCESS) {
        char hex[2 * 256 + 3];
        assert_true(r.output_size <= 256);
        vm_hex_encode(r.output, r.output_size, hex);
        assert_string_equal(hex + 2, out_hex);
    } else {
        assert_int_equal(r.output_size, 0);
    }
    free(r.output);
}

static void test_addresses(void **state)
{
    (void)state;
    vm_address a = pc_addr(0);
    assert_false(vm_is_precompile(&a));
    for (uint8_t n = 1; n <= 10; n++) {
        a = pc_addr(n);
        assert_true(vm_is_precompile(&a));
    }
    a = pc_addr(11);
    assert_false(vm_is_precompile(&a));
    a = pc_addr(1);
    a.b[0] = 1;
    assert_false(vm_is_precompile(&a));
}

static void test_ecrecover(void **state)
{
    struct vm_secp *secp = *state;
    const char *valid =
        "18c547e4f7b0f325ad1e56f57e26c745b09a3e503d86e00e5255ff7f715d3d1c"
        "000000000000000000000000000000000000000000000000000000000000001c"
        "73b1693892219d736caba55bdb67216e485557ea6b6af75f37096c9aa6a5a75f"
        "eeb940b1d03b21e36b0e47e79769f095fe2ab855bd91e3a38756b7d75a9c4549";
    expect(secp, 1, valid, 3000, VM_SUCCESS, 0,
           "000000000000000000000000a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
    expect(secp, 1, valid, 5000, VM_SUCCESS, 2000,
           "000000000000000000000000a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
    expect(secp, 1, valid, 2999, VM_OUT_OF_GAS, 0, "");
    /* v with high bits set: not 27/28 -> success, empty output, gas charged */
    expect(secp, 1,
           "18c547e4f7b0f325ad1e56f57e26c745b09a3e503d86e00e5255ff7f715d3d1c"
           "100000000000000000000000000000000000000000000000000000000000001c"
           "73b1693892219d736caba55bdb67216e485557ea6b6af75f37096c9aa6a5a75f"
           "eeb940b1d03b21e36b0e47e79769f095fe2ab855bd91e3a38756b7d75a9c4549",
           3000, VM_SUCCESS, 0, "");
    /* unrecoverable key (r is not an x coordinate on the curve) */
    expect(secp, 1,
           "a8b53bdf3306a35a7103ab5504a0c9b492295564b6202b1942a84ef300107281"
           "000000000000000000000000000000000000000000000000000000000000001b"
           "3078356531653033663533636531386237373263636230303933666637316633"
           "6635336635633735623734646362333161383561613862383839326234653862"
           "1122334455667788991011121314151617181920212223242526272829303132",
           3000, VM_SUCCESS, 0, "");
    /* empty input: v = 0 -> empty output */
    expect(secp, 1, "", 3000, VM_SUCCESS, 0, "");
}

static void test_hashes(void **state)
{
    struct vm_secp *secp = *state;
    /* SHA-256: 60 + 12 per word */
    expect(secp, 2, "", 60, VM_SUCCESS, 0,
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(secp, 2, "616263", 100, VM_SUCCESS, 28,
           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(secp, 2, "616263", 71, VM_OUT_OF_GAS, 0, "");
    /* RIPEMD-160: 600 + 120 per word, left-padded to 32 bytes */
    expect(secp, 3, "", 600, VM_SUCCESS, 0,
           "0000000000000000000000009c1185a5c5e9fc54612808977ee8f548b2258d31");
    expect(secp, 3, "616263", 720, VM_SUCCESS, 0,
           "0000000000000000000000008eb208f7e05d987a9b044a8e98c6b087f15a0bfc");
    expect(secp, 3, "616263", 719, VM_OUT_OF_GAS, 0, "");
    /* identity: 15 + 3 per word; 33 bytes are 2 words */
    expect(secp, 4, "", 15, VM_SUCCESS, 0, "");
    expect(secp, 4,
           "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", 21,
           VM_SUCCESS, 0, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
    expect(secp, 4, "01", 17, VM_OUT_OF_GAS, 0, "");
}

#define W(x) "00000000000000000000000000000000000000000000000000000000000000" x
static void test_modexp(void **state)
{
    struct vm_secp *secp = *state;
    const char *ex1 = W("01") W("20") W("20") "03"
                      "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2e"
                      "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f";
    expect(secp, 5, ex1, 1360, VM_SUCCESS, 0,
           "0000000000000000000000000000000000000000000000000000000000000001");
    expect(secp, 5, ex1, 1359, VM_OUT_OF_GAS, 0, "");
    /* A 2^255-byte modulus fails on gas, however much gas there is. */
    expect(secp, 5,
           W("01") W("01") "8000000000000000000000000000000000000000000000000000000000000000",
           INT64_MAX, VM_OUT_OF_GAS, 0, "");
    /* A 2^32-byte base: priced, not allocated. */
    expect(secp, 5, "0000000000000000000000000000000000000000000000000000000100000000"
                    W("01") W("01"),
           30000000, VM_OUT_OF_GAS, 0, "");
}

static void test_blake2f(void **state)
{
    struct vm_secp *secp = *state;
    const char *v5 =
        "0000000c48c9bdf267e6096a3ba7ca8485ae67bb2bf894fe72f36e3cf1361d5f3af54fa5d182e6ad7f520e51"
        "1f6c3e2b8c68059b6bbd41fbabd9831f79217e1319cde05b6162630000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000000000300000000000000000000000000000001";
    expect(secp, 9, v5, 12, VM_SUCCESS, 0,
           "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4"
           "533cc9518d38aa8dbf1925ab92386edd4009923");
    expect(secp, 9, v5, 11, VM_OUT_OF_GAS, 0, "");
    /* Bad length: failure, all gas consumed. */
    expect(secp, 9, "0000000c", 100000, VM_PRECOMPILE_FAILURE, 0, "");
}

static void test_bn254(void **state)
{
    struct vm_secp *secp = *state;
    const char *g1 = W("01") W("02");
    char in[512];
    /* ECADD G + G, 150 gas (EIP-1108) */
    snprintf(in, sizeof in, "%s%s", g1, g1);
    expect(secp, 6, in, 1150, VM_SUCCESS, 1000,
           "030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd315ed738c0e0a7c92e7845f96b"
           "2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4");
    expect(secp, 6, in, 149, VM_OUT_OF_GAS, 0, "");
    /* a point off the curve: failure, all gas gone */
    expect(secp, 6, W("01") W("03"), 10000, VM_PRECOMPILE_FAILURE, 0, "");
    /* ECMUL 2 G, 6000 gas */
    snprintf(in, sizeof in, "%s%s", g1, W("02"));
    expect(secp, 7, in, 6000, VM_SUCCESS, 0,
           "030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd315ed738c0e0a7c92e7845f96b"
           "2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4");
    /* pairing: 45000 + 34000 k; empty input is true */
    expect(secp, 8, "", 45000, VM_SUCCESS, 0, W("01"));
    expect(secp, 8, "", 44999, VM_OUT_OF_GAS, 0, "");
    snprintf(in, sizeof in, "%s%s", g1,
             "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"
             "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"
             "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"
             "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa");
    expect(secp, 8, in, 80000, VM_SUCCESS, 1000, W("00"));
    expect(secp, 8, in, 78999, VM_OUT_OF_GAS, 0, "");
    /* 64 bytes is not a whole pair */
    expect(secp, 8, g1, 100000, VM_PRECOMPILE_FAILURE, 0, "");
}

/* An empty input may come as a NULL pointer: every precompile copes. */
static void test_null_empty_input(void **state)
{
    struct vm_secp *secp = *state;
    for (uint8_t n = 1; n <= 9; n++) {
        vm_address a = pc_addr(n);
        struct vm_result r;
        assert_int_equal(vm_precompile_run(secp, &a, NULL, 0, 100000, &r), VM_OK);
        /* only blake2f rejects the empty input */
        assert_int_equal(r.status, n == 9 ? VM_PRECOMPILE_FAILURE : VM_SUCCESS);
        free(r.output);
    }
}

static void test_point_evaluation(void **state)
{
    struct vm_secp *secp = *state;
    vm_address a = pc_addr(10);
    struct vm_result r;
    assert_int_equal(vm_precompile_run(secp, &a, NULL, 0, 100000, &r), VM_OK);
    assert_int_equal(r.status, VM_UNSUPPORTED);
    assert_null(r.output);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addresses),   cmocka_unit_test(test_ecrecover),
        cmocka_unit_test(test_hashes),      cmocka_unit_test(test_modexp),
        cmocka_unit_test(test_blake2f),     cmocka_unit_test(test_bn254),
        cmocka_unit_test(test_null_empty_input), cmocka_unit_test(test_point_evaluation),
    };
    return cmocka_run_group_tests(tests, secp_setup, secp_teardown);
}
