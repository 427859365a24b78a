/*
 * vm_u256 against GMP: every operation on random and edge-case words must
 * equal the exact integer result reduced as the EVM defines it. GMP is an
 * independent implementation, so agreement means something.
 */
#include "vm.h"

#include <gmp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define ROUNDS 20000

/* xorshift: deterministic, so a failure reproduces. */
struct rng {
    uint64_t s;
};
static uint64_t next(struct rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

/* Random words biased to the shapes that break arithmetic: small, large,
 * one limb, all ones, powers of two, sign boundaries. */
static vm_u256 random_word(struct rng *r)
{
    vm_u256 v = {{next(r), next(r), next(r), next(r)}};
    switch (next(r) % 9) {
    case 0: return vm_u256_from_u64(next(r) % 4);
    case 1: return vm_u256_from_u64(next(r));
    case 2: v.w[2] = v.w[3] = 0; return v;
    case 3: return vm_u256_not(vm_u256_from_u64(next(r) % 3));
    case 4: return vm_u256_shl(vm_u256_from_u64(next(r) % 256), vm_u256_from_u64(1));
    case 5: v.w[3] = 0x8000000000000000ULL; v.w[0] = v.w[1] = v.w[2] = 0; return v;
    case 6: v.w[0] = 0; v.w[3] |= 0x8000000000000000ULL; return v;
    case 7: v.w[1] = v.w[2] = v.w[3] = 0; v.w[0] |= 1ULL << 63; return v;
    default: return v;
    }
}

static void to_mpz(mpz_t z, vm_u256 v)
{
    uint8_t be[32];
    vm_u256_to_be(v, be);
    mpz_import(z, 32, 1, 1, 1, 0, be);
}

/* signed interpretation */
static void to_mpz_signed(mpz_t z, vm_u256 v)
{
    to_mpz(z, v);
    if (v.w[3] >> 63) {
        mpz_t two256;
        mpz_init(two256);
        mpz_ui_pow_ui(two256, 2, 256);
        mpz_sub(z, z, two256);
        mpz_clear(two256);
    }
}

static vm_u256 from_mpz(const mpz_t z_in)
{
    mpz_t z, two256;
    mpz_inits(z, two256, NULL);
    mpz_ui_pow_ui(two256, 2, 256);
    mpz_mod(z, z_in, two256); /* into [0, 2^256) */
    uint8_t be[32] = {0};
    size_t count = 0;
    uint8_t tmp[32];
    mpz_export(tmp, &count, 1, 1, 1, 0, z);
    memcpy(be + 32 - count, tmp, count);
    mpz_clears(z, two256, NULL);
    return vm_u256_from_be(be, 32);
}

static void check(vm_u256 got, const mpz_t want, const char *op, vm_u256 a, vm_u256 b)
{
    vm_u256 w = from_mpz(want);
    if (!vm_u256_eq(got, w)) {
        uint8_t x[32];
        char ha[67], hb[67], hg[67], hw[67];
        vm_u256_to_be(a, x); vm_hex_encode(x, 32, ha);
        vm_u256_to_be(b, x); vm_hex_encode(x, 32, hb);
        vm_u256_to_be(got, x); vm_hex_encode(x, 32, hg);
        vm_u256_to_be(w, x); vm_hex_encode(x, 32, hw);
        fail_msg("%s(%s, %s) = %s, want %s", op, ha, hb, hg, hw);
    }
}

static void test_arithmetic_matches_gmp(void **state)
{
    (void)state;
    struct rng r = {0x9e3779b97f4a7c15ULL};
    mpz_t a, b, c, m, w;
    mpz_inits(a, b, c, m, w, NULL);
    for (int i = 0; i < ROUNDS; i++) {
        vm_u256 x = random_word(&r), y = random_word(&r), z = random_word(&r);
        to_mpz(a, x);
        to_mpz(b, y);
        to_mpz(m, z);
        mpz_add(w, a, b);
        check(vm_u256_add(x, y), w, "add", x, y);
        mpz_sub(w, a, b);
        check(vm_u256_sub(x, y), w, "sub", x, y);
        mpz_mul(w, a, b);
        check(vm_u256_mul(x, y), w, "mul", x, y);
        if (mpz_sgn(b)) mpz_fdiv_q(w, a, b); else mpz_set_ui(w, 0);
        check(vm_u256_div(x, y), w, "div", x, y);
        if (mpz_sgn(b)) mpz_fdiv_r(w, a, b); else mpz_set_ui(w, 0);
        check(vm_u256_mod(x, y), w, "mod", x, y);
        if (mpz_sgn(m)) { mpz_add(w, a, b); mpz_fdiv_r(w, w, m); } else mpz_set_ui(w, 0);
        check(vm_u256_addmod(x, y, z), w, "addmod", x, y);
        if (mpz_sgn(m)) { mpz_mul(w, a, b); mpz_fdiv_r(w, w, m); } else mpz_set_ui(w, 0);
        check(vm_u256_mulmod(x, y, z), w, "mulmod", x, y);
        /* signed: truncated division, remainder takes the dividend's sign */
        to_mpz_signed(a, x);
        to_mpz_signed(b, y);
        if (mpz_sgn(b)) mpz_tdiv_q(w, a, b); else mpz_set_ui(w, 0);
        check(vm_u256_sdiv(x, y), w, "sdiv", x, y);
        if (mpz_sgn(b)) mpz_tdiv_r(w, a, b); else mpz_set_ui(w, 0);
        check(vm_u256_smod(x, y), w, "smod", x, y);
        int sc = mpz_cmp(a, b);
        assert_int_equal(vm_u256_scmp(x, y), sc < 0 ? -1 : sc > 0);
        to_mpz(a, x);
        to_mpz(b, y);
        int uc = mpz_cmp(a, b);
        assert_int_equal(vm_u256_cmp(x, y), uc < 0 ? -1 : uc > 0);
    }
    mpz_clears(a, b, c, m, w, NULL);
}

static void test_exp_matches_gmp(void **state)
{
    (void)state;
    struct rng r = {12345};
    mpz_t a, w, mod;
    mpz_inits(a, w, mod, NULL);
    mpz_ui_pow_ui(mod, 2, 256);
    for (int i = 0; i < 2000; i++) {
        vm_u256 x = random_word(&r), e = random_word(&r);
        mpz_t ez;
        mpz_init(ez);
        to_mpz(a, x);
        to_mpz(ez, e);
        mpz_powm(w, a, ez, mod);
        check(vm_u256_exp(x, e), w, "exp", x, e);
        mpz_clear(ez);
    }
    mpz_clears(a, w, mod, NULL);
}

static void test_shifts_and_bytes(void **state)
{
    (void)state;
    struct rng r = {777};
    mpz_t a, w;
    mpz_inits(a, w, NULL);
    for (int i = 0; i < ROUNDS; i++) {
        vm_u256 x = random_word(&r);
        unsigned n = (unsigned)(next(&r) % 300);
        vm_u256 s = vm_u256_from_u64(n);
        to_mpz(a, x);
        if (n < 256) mpz_mul_2exp(w, a, n); else mpz_set_ui(w, 0);
        check(vm_u256_shl(s, x), w, "shl", s, x);
        if (n < 256) mpz_fdiv_q_2exp(w, a, n); else mpz_set_ui(w, 0);
        check(vm_u256_shr(s, x), w, "shr", s, x);
        to_mpz_signed(a, x);
        mpz_fdiv_q_2exp(w, a, n < 256 ? n : 256); /* floor = arithmetic shift */
        check(vm_u256_sar(s, x), w, "sar", s, x);
        /* BYTE: the n-th byte from the most significant end */
        uint8_t be[32];
        vm_u256_to_be(x, be);
        vm_u256 byte = vm_u256_byte(vm_u256_from_u64(n % 40), x);
        assert_true(vm_u256_eq(byte, vm_u256_from_u64(n % 40 < 32 ? be[n % 40] : 0)));
    }
    /* a shift amount above 2^64 is still "everything out" */
    vm_u256 huge = {{0, 1, 0, 0}};
    assert_true(vm_u256_is_zero(vm_u256_shl(huge, vm_u256_from_u64(1))));
    assert_true(vm_u256_eq(vm_u256_sar(huge, vm_u256_not(vm_u256_from_u64(5))),
                           vm_u256_not(vm_u256_from_u64(0))));
    mpz_clears(a, w, NULL);
}

static void test_signextend(void **state)
{
    (void)state;
    /* signextend(0, 0xff) = -1; signextend(0, 0x7f) = 0x7f; index >= 31 is identity */
    vm_u256 all = vm_u256_not(vm_u256_from_u64(0));
    assert_true(vm_u256_eq(vm_u256_signextend(vm_u256_from_u64(0), vm_u256_from_u64(0xff)), all));
    assert_true(vm_u256_eq(vm_u256_signextend(vm_u256_from_u64(0), vm_u256_from_u64(0x7f)),
                           vm_u256_from_u64(0x7f)));
    assert_true(vm_u256_eq(vm_u256_signextend(vm_u256_from_u64(1), vm_u256_from_u64(0x12ff80)),
                           vm_u256_sub(vm_u256_from_u64(0), vm_u256_from_u64(0x80))));
    vm_u256 x = {{1, 2, 3, 0x8000000000000004ULL}};
    assert_true(vm_u256_eq(vm_u256_signextend(vm_u256_from_u64(31), x), x));
    assert_true(vm_u256_eq(vm_u256_signextend(all, x), x));
    /* byte 7 (bit 63) of limb 0 set: sign-extends through limbs 1..3 */
    vm_u256 y = {{0x8000000000000000ULL, 5, 0, 0}};
    vm_u256 e = {{0x8000000000000000ULL, ~0ULL, ~0ULL, ~0ULL}};
    assert_true(vm_u256_eq(vm_u256_signextend(vm_u256_from_u64(7), y), e));
}

static void test_decimal_and_parse(void **state)
{
    (void)state;
    char buf[80];
    vm_u256 max = vm_u256_not(vm_u256_from_u64(0));
    vm_u256_to_dec(max, buf);
    assert_string_equal(buf,
        "115792089237316195423570985008687907853269984665640564039457584007913129639935");
    vm_u256_to_dec(vm_u256_from_u64(0), buf);
    assert_string_equal(buf, "0");
    vm_u256_to_dec(vm_u256_from_u64(10000000000000000000ULL), buf);
    assert_string_equal(buf, "10000000000000000000");
    vm_u256 v;
    assert_int_equal(vm_u256_parse(
        "115792089237316195423570985008687907853269984665640564039457584007913129639935", &v), 0);
    assert_true(vm_u256_eq(v, max));
    assert_int_equal(vm_u256_parse(
        "115792089237316195423570985008687907853269984665640564039457584007913129639936", &v),
        VM_ERR_RANGE);
    assert_int_equal(vm_u256_parse("1000000000000000000", &v), 0);
    vm_u256_to_dec(v, buf);
    assert_string_equal(buf, "1000000000000000000");
    assert_int_equal(vm_u256_parse("0x0de0b6b3a7640000", &v), 0);
    vm_u256_to_dec(v, buf);
    assert_string_equal(buf, "1000000000000000000");
    assert_int_equal(vm_u256_parse("0xabc", &v), 0);
    assert_true(vm_u256_eq(v, vm_u256_from_u64(0xabc)));
    assert_int_equal(vm_u256_parse("12a", &v), VM_ERR_INVALID);
    assert_int_equal(vm_u256_parse("", &v), VM_ERR_INVALID);
    assert_int_equal(vm_u256_parse("0x", &v), VM_ERR_INVALID);
    assert_int_equal(vm_u256_parse("0x1" "0000000000000000000000000000000000000000000000000000000000000000", &v),
                     VM_ERR_RANGE);
    assert_int_equal(vm_u256_byte_length(vm_u256_from_u64(0)), 0);
    assert_int_equal(vm_u256_byte_length(vm_u256_from_u64(0x100)), 2);
    assert_int_equal(vm_u256_byte_length(max), 32);
}

static void test_be_round_trip(void **state)
{
    (void)state;
    uint8_t in[32], out[32];
    for (int i = 0; i < 32; i++) in[i] = (uint8_t)(i * 7 + 1);
    vm_u256_to_be(vm_u256_from_be(in, 32), out);
    assert_memory_equal(in, out, 32);
    /* short input is left-padded */
    uint8_t two[2] = {0x12, 0x34};
    assert_true(vm_u256_eq(vm_u256_from_be(two, 2), vm_u256_from_u64(0x1234)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arithmetic_matches_gmp),
        cmocka_unit_test(test_exp_matches_gmp),
        cmocka_unit_test(test_shifts_and_bytes),
        cmocka_unit_test(test_signextend),
        cmocka_unit_test(test_decimal_and_parse),
        cmocka_unit_test(test_be_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
