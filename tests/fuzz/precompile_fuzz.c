/*
 * libFuzzer target for the precompile algorithms (vm/precompile_*.c).
 * Beyond "no crash, no sanitizer report" it checks algebraic invariants
 * that any wrong arithmetic would break:
 *   ECADD is commutative and ECADD(P, P) = ECMUL(P, 2);
 *   for scalars a, b taken from the input: aG + bG = (a + b)G, and
 *   e(aG1, bG2) e(-(ab)G1, G2) = 1 while e(aG1, bG2) e(-(ab+1)G1, G2) != 1;
 *   a valid pairing pair (P, Q) followed by (-P, Q) checks true;
 *   modexp returns exactly mod_len bytes, below the modulus;
 *   blake2f is deterministic.
 * The first input byte picks the precompile; work is capped so that each
 * run stays fast (modexp price, blake2f rounds, pairing size).
 */
#include <stdlib.h>
#include <string.h>

#include "precompile_internal.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) abort();                                                                      \
    } while (0)

static void fuzz_ecadd(const uint8_t *d, size_t n)
{
    uint8_t in[128] = {0}, swapped[128], out[64], out2[64];
    memcpy(in, d, n < 128 ? n : 128);
    if (vm_pc_bn254_add(d, n, out) != VM_OK) return;
    memcpy(swapped, in + 64, 64);
    memcpy(swapped + 64, in, 64);
    FUZZ_CHECK(vm_pc_bn254_add(swapped, 128, out2) == VM_OK);
    FUZZ_CHECK(memcmp(out, out2, 64) == 0);
    /* P + P = 2 P */
    uint8_t pp[128], p2[96] = {0};
    memcpy(pp, in, 64);
    memcpy(pp + 64, in, 64);
    memcpy(p2, in, 64);
    p2[95] = 2;
    FUZZ_CHECK(vm_pc_bn254_add(pp, 128, out) == VM_OK);
    FUZZ_CHECK(vm_pc_bn254_mul(p2, 96, out2) == VM_OK);
    FUZZ_CHECK(memcmp(out, out2, 64) == 0);
}

static void fuzz_pairing(const uint8_t *d, size_t n)
{
    if (n > 192 * 2) n = 192 * 2;
    bool ok;
    if (vm_pc_bn254_pairing(d, n, &ok) != VM_OK || n < 192) return;
    /* (P, Q), (-P, Q): -P = (r - 1) P */
    uint8_t in[384], neg[96];
    memcpy(in, d, 192);
    memcpy(in + 192, d, 192);
    memcpy(neg, d, 64);
    static const uint8_t r_minus_1[32] = {
        0x30, 0x64, 0x4e, 0x72, 0xe1, 0x31, 0xa0, 0x29, 0xb8, 0x50, 0x45, 0xb6, 0x81, 0x81, 0x58, 0x5d,
        0x28, 0x33, 0xe8, 0x48, 0x79, 0xb9, 0x70, 0x91, 0x43, 0xe1, 0xf5, 0x93, 0xf0, 0x00, 0x00, 0x00};
    memcpy(neg + 64, r_minus_1, 32);
    FUZZ_CHECK(vm_pc_bn254_mul(neg, 96, in + 192) == VM_OK);
    FUZZ_CHECK(vm_pc_bn254_pairing(in, 384, &ok) == VM_OK);
    FUZZ_CHECK(ok);
}

static void fuzz_modexp(const uint8_t *d, size_t n)
{
    if (vm_pc_modexp_gas(d, n) > 50000) return;
    struct vm_pc_modexp_lens l;
    vm_pc_modexp_lengths(d, n, &l);
    uint8_t *out = NULL;
    size_t out_len = 0;
    if (vm_pc_modexp(d, n, &out, &out_len) != VM_OK) return;
    FUZZ_CHECK(out_len == l.mod);
    free(out);
}

static void fuzz_blake2f(const uint8_t *d, size_t n)
{
    uint32_t rounds;
    if (vm_pc_blake2f_rounds(d, n, &rounds) != VM_OK || rounds > 10000) return;
    uint8_t a[64], b[64];
    int rc = vm_pc_blake2f(d, n, a);
    FUZZ_CHECK(rc == (d[212] <= 1 ? VM_OK : VM_ERR_INVALID));
    if (rc != VM_OK) return;
    FUZZ_CHECK(vm_pc_blake2f(d, n, b) == VM_OK);
    FUZZ_CHECK(memcmp(a, b, 64) == 0);
}

static const uint8_t G1_GEN[64] = {[31] = 1, [63] = 2};
static const uint8_t G2_GEN[128] = {
    0x19, 0x8e, 0x93, 0x93, 0x92, 0x0d, 0x48, 0x3a, 0x72, 0x60, 0xbf, 0xb7, 0x31, 0xfb, 0x5d, 0x25,
    0xf1, 0xaa, 0x49, 0x33, 0x35, 0xa9, 0xe7, 0x12, 0x97, 0xe4, 0x85, 0xb7, 0xae, 0xf3, 0x12, 0xc2,
    0x18, 0x00, 0xde, 0xef, 0x12, 0x1f, 0x1e, 0x76, 0x42, 0x6a, 0x00, 0x66, 0x5e, 0x5c, 0x44, 0x79,
    0x67, 0x43, 0x22, 0xd4, 0xf7, 0x5e, 0xda, 0xdd, 0x46, 0xde, 0xbd, 0x5c, 0xd9, 0x92, 0xf6, 0xed,
    0x09, 0x06, 0x89, 0xd0, 0x58, 0x5f, 0xf0, 0x75, 0xec, 0x9e, 0x99, 0xad, 0x69, 0x0c, 0x33, 0x95,
    0xbc, 0x4b, 0x31, 0x33, 0x70, 0xb3, 0x8e, 0xf3, 0x55, 0xac, 0xda, 0xdc, 0xd1, 0x22, 0x97, 0x5b,
    0x12, 0xc8, 0x5e, 0xa5, 0xdb, 0x8c, 0x6d, 0xeb, 0x4a, 0xab, 0x71, 0x80, 0x8d, 0xcb, 0x40, 0x8f,
    0xe3, 0xd1, 0xe7, 0x69, 0x0c, 0x43, 0xd3, 0x7b, 0x4c, 0xe6, 0xcc, 0x01, 0x66, 0xfa, 0x7d, 0xaa};

static uint64_t load_u64(const uint8_t *d, size_t n, size_t off)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++) v = (v << 8) | (off + i < n ? d[off + i] : 0);
    return v;
}

/* out = k G1 for a scalar given as a 128-bit value. */
static void g1_times(uint8_t out[64], const uint8_t point[64], unsigned __int128 k)
{
    uint8_t in[96] = {0};
    memcpy(in, point, 64);
    for (int i = 0; i < 16; i++) in[95 - i] = (uint8_t)(k >> (8 * i));
    FUZZ_CHECK(vm_pc_bn254_mul(in, 96, out) == VM_OK);
}

/* aG + bG = (a + b)G with a, b < 2^63 from the input. */
static void fuzz_scalar_add(const uint8_t *d, size_t n)
{
    uint64_t a = load_u64(d, n, 0) >> 1, b = load_u64(d, n, 8) >> 1;
    uint8_t in[128], sum[64], want[64];
    g1_times(in, G1_GEN, a);
    g1_times(in + 64, G1_GEN, b);
    FUZZ_CHECK(vm_pc_bn254_add(in, 128, sum) == VM_OK);
    g1_times(want, G1_GEN, (unsigned __int128)a + b);
    FUZZ_CHECK(memcmp(sum, want, 64) == 0);
}

/* e(aG1, bG2) e(-(ab)G1, G2) = 1, and != 1 with ab + 1 (when ab + 1 != 0
 * mod r, always true for these sizes). a, b < 2^64 from the input. */
static void fuzz_bilinear(const uint8_t *d, size_t n)
{
    uint64_t a = load_u64(d, n, 0), b = load_u64(d, n, 8);
    unsigned __int128 ab = (unsigned __int128)a * b;
    uint8_t in[384], sb[32] = {0}, neg[64];
    static const uint8_t r_minus_1[32] = {
        0x30, 0x64, 0x4e, 0x72, 0xe1, 0x31, 0xa0, 0x29, 0xb8, 0x50, 0x45, 0xb6, 0x81, 0x81, 0x58, 0x5d,
        0x28, 0x33, 0xe8, 0x48, 0x79, 0xb9, 0x70, 0x91, 0x43, 0xe1, 0xf5, 0x93, 0xf0, 0x00, 0x00, 0x00};
    g1_times(in, G1_GEN, a);
    for (int i = 0; i < 8; i++) sb[31 - i] = (uint8_t)(b >> (8 * i));
    FUZZ_CHECK(vm_pc_bn254_g2_mul(G2_GEN, sb, in + 64) == VM_OK);
    for (int extra = 0; extra < 2; extra++) {
        uint8_t m[96];
        g1_times(m, G1_GEN, ab + (unsigned)extra);
        memcpy(m + 64, r_minus_1, 32);
        FUZZ_CHECK(vm_pc_bn254_mul(m, 96, neg) == VM_OK);
        memcpy(in + 192, neg, 64);
        memcpy(in + 256, G2_GEN, 128);
        bool ok = false;
        FUZZ_CHECK(vm_pc_bn254_pairing(in, sizeof in, &ok) == VM_OK);
        /* a = 0 or b = 0 makes both sides trivial only for extra = 0 */
        FUZZ_CHECK(ok == (extra == 0));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    uint8_t out[64];
    switch (data[0] % 7) {
    case 0: fuzz_modexp(d, n); break;
    case 1: fuzz_ecadd(d, n); break;
    case 2: (void)vm_pc_bn254_mul(d, n, out); break;
    case 3: fuzz_pairing(d, n); break;
    case 4: fuzz_blake2f(d, n); break;
    case 5: fuzz_scalar_add(d, n); break;
    case 6: fuzz_bilinear(d, n); break;
    }
    return 0;
}
