/*
 * libFuzzer target for the precompile algorithms (vm/precompile_*.c).
 * Beyond "no crash, no sanitizer report" it checks algebraic invariants
 * that any wrong arithmetic would break:
 *   ECADD is commutative and ECADD(P, P) = ECMUL(P, 2);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    uint8_t out[64];
    switch (data[0] % 5) {
    case 0: fuzz_modexp(d, n); break;
    case 1: fuzz_ecadd(d, n); break;
    case 2: (void)vm_pc_bn254_mul(d, n, out); break;
    case 3: fuzz_pairing(d, n); break;
    case 4: fuzz_blake2f(d, n); break;
    }
    return 0;
}
