/*
 * precompile_modexp.c — 0x05, arbitrary-precision modular exponentiation
 * (EIP-198), priced by EIP-2565, computed with GMP's mpz_powm.
 *
 * Input: base_len, exp_len, mod_len as 32-byte big-endian words, then the
 * three numbers; anything past the end of the input reads as zero. The
 * lengths are 256-bit, so they are saturated to 64 bits and the price is
 * computed in 128-bit arithmetic: an enormous declared length makes the
 * call unaffordable, and nothing is allocated before it is paid for.
 */
#include "precompile_internal.h"

#include <gmp.h>
#include <stdlib.h>
#include <string.h>

/* Beyond these sizes no affordable call exists (a 64 MiB modulus costs
 * ~2e13 gas, a 256 MiB exponent ~7e8), so refusing them only guards the
 * process against absurd gas allowances. */
#define MODEXP_MAX_OPERAND ((uint64_t)1 << 26)
#define MODEXP_MAX_EXP ((uint64_t)1 << 28)

static uint8_t modexp_byte(const uint8_t *in, size_t len, uint64_t pos)
{
    return pos < len ? in[pos] : 0;
}

/* A 32-byte big-endian word at offset off, saturated to UINT64_MAX. */
static uint64_t modexp_word(const uint8_t *in, size_t len, uint64_t off)
{
    uint64_t v = 0;
    for (uint64_t i = 0; i < 24; i++)
        if (modexp_byte(in, len, off + i) != 0) return UINT64_MAX;
    for (uint64_t i = 24; i < 32; i++) v = (v << 8) | modexp_byte(in, len, off + i);
    return v;
}

void vm_pc_modexp_lengths(const uint8_t *in, size_t len, struct vm_pc_modexp_lens *out)
{
    out->base = modexp_word(in, len, 0);
    out->exp = modexp_word(in, len, 32);
    out->mod = modexp_word(in, len, 64);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    unsigned __int128 p = (unsigned __int128)a * b;
    return p > UINT64_MAX ? UINT64_MAX : (uint64_t)p;
}

/* Index of the highest set bit of the exponent's first min(exp_len, 32)
 * bytes, or 0 when they are all zero (EIP-2565's "bit_length - 1"). */
static uint64_t modexp_head_log2(const uint8_t *in, size_t len, const struct vm_pc_modexp_lens *l)
{
    uint64_t head_len = l->exp < 32 ? l->exp : 32;
    uint64_t off = sat_add(96, l->base);
    for (uint64_t i = 0; i < head_len; i++) {
        uint8_t b = off == UINT64_MAX ? 0 : modexp_byte(in, len, sat_add(off, i));
        if (b != 0) {
            unsigned top = 7;
            while (!(b >> top)) top--;
            return (head_len - 1 - i) * 8 + top;
        }
    }
    return 0;
}

uint64_t vm_pc_modexp_gas(const uint8_t *in, size_t len)
{
    struct vm_pc_modexp_lens l;
    vm_pc_modexp_lengths(in, len, &l);
    uint64_t max_len = l.base > l.mod ? l.base : l.mod;
    uint64_t words = max_len / 8 + (max_len % 8 != 0);
    uint64_t complexity = sat_mul(words, words);
    uint64_t iterations = modexp_head_log2(in, len, &l);
    if (l.exp > 32) iterations = sat_add(sat_mul(8, l.exp - 32), iterations);
    if (iterations == 0) iterations = 1;
    if (complexity == 0) return 200;
    /* A saturated factor stands for a price beyond any gas there is. */
    if (complexity == UINT64_MAX || iterations == UINT64_MAX) return UINT64_MAX;
    unsigned __int128 gas = (unsigned __int128)complexity * iterations / 3;
    if (gas < 200) return 200;
    return gas > UINT64_MAX ? UINT64_MAX : (uint64_t)gas;
}

/* Loads the operand at input offset off with n bytes, zero-padded. */
static int modexp_load(mpz_t z, const uint8_t *in, size_t len, uint64_t off, uint64_t n)
{
    if (n == 0) {
        mpz_set_ui(z, 0);
        return VM_OK;
    }
    uint8_t *buf = calloc(1, (size_t)n);
    if (!buf) return VM_ERR_NOMEM;
    if (off < len) {
        uint64_t have = len - off < n ? len - off : n;
        memcpy(buf, in + off, (size_t)have);
    }
    mpz_import(z, (size_t)n, 1, 1, 0, 0, buf);
    free(buf);
    return VM_OK;
}

int vm_pc_modexp(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
    struct vm_pc_modexp_lens l;
    vm_pc_modexp_lengths(in, len, &l);
    *out = NULL;
    *out_len = 0;
    if (l.mod == 0) return VM_OK;
    if (l.base > MODEXP_MAX_OPERAND || l.mod > MODEXP_MAX_OPERAND || l.exp > MODEXP_MAX_EXP)
        return VM_ERR_NOMEM;
    uint8_t *res = calloc(1, (size_t)l.mod);
    if (!res) return VM_ERR_NOMEM;
    mpz_t b, e, m, r;
    mpz_inits(b, e, m, r, NULL);
    int rc = modexp_load(b, in, len, 96, l.base);
    if (rc == VM_OK) rc = modexp_load(e, in, len, 96 + l.base, l.exp);
    if (rc == VM_OK) rc = modexp_load(m, in, len, 96 + l.base + l.exp, l.mod);
    /* A zero modulus yields zeros (EIP-198), which res already holds. */
    if (rc == VM_OK && mpz_sgn(m) != 0) {
        mpz_powm(r, b, e, m);
        size_t n = (mpz_sizeinbase(r, 2) + 7) / 8;
        if (mpz_sgn(r) != 0) mpz_export(res + (l.mod - n), NULL, 1, 1, 0, 0, r);
    }
    mpz_clears(b, e, m, r, NULL);
    if (rc != VM_OK) {
        free(res);
        return rc;
    }
    *out = res;
    *out_len = (size_t)l.mod;
    return VM_OK;
}
