/*
 * precompile_internal.h — private interface between the precompile
 * dispatcher (precompile.c) and the algorithm files. Not part of vm.h:
 * only the tests in tests/precompile/ use it besides vm/ itself.
 *
 * Each algorithm works on the raw call input and reports malformed input
 * as VM_ERR_INVALID; the dispatcher turns that into VM_PRECOMPILE_FAILURE
 * (all gas consumed). Gas is priced by the dispatcher before any algorithm
 * runs, so no algorithm allocates more than its price allows.
 */
#ifndef BP_VM_PRECOMPILE_INTERNAL_H
#define BP_VM_PRECOMPILE_INTERNAL_H

#include "vm.h"

/* ---- modexp (0x05, EIP-198 with EIP-2565 pricing) ---- */

/* The three declared lengths, saturated to UINT64_MAX when they do not fit. */
struct vm_pc_modexp_lens {
    uint64_t base;
    uint64_t exp;
    uint64_t mod;
};
/* Reads the lengths from the first 96 bytes of input (zero-padded). */
void vm_pc_modexp_lengths(const uint8_t *in, size_t len, struct vm_pc_modexp_lens *out);
/* EIP-2565 gas, saturated to UINT64_MAX; reads only the first 32 bytes of
 * the exponent, never allocates. */
uint64_t vm_pc_modexp_gas(const uint8_t *in, size_t len);
/*
 * Computes base^exp mod mod. Call only after the gas was paid.
 * Out: *out (malloc'ed, exactly lens.mod bytes; NULL when 0), *out_len.
 * Returns VM_OK or VM_ERR_NOMEM (also for lengths too large to hold in
 * memory, which no affordable gas amount reaches).
 */
VM_WARN_UNUSED int vm_pc_modexp(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len);

/* ---- blake2f (0x09, EIP-152) ---- */
/* The round count of a 213-byte input (gas = rounds); VM_ERR_INVALID for
 * any other length. */
VM_WARN_UNUSED int vm_pc_blake2f_rounds(const uint8_t *in, size_t len, uint32_t *rounds);
/* Runs the F compression. VM_ERR_INVALID for a bad length or final flag. */
VM_WARN_UNUSED int vm_pc_blake2f(const uint8_t *in, size_t len, uint8_t out[64]);

/* ---- alt_bn128 (0x06, 0x07, 0x08, EIP-196/197) ---- */
/* ECADD: input zero-padded/truncated to 128 bytes. VM_ERR_INVALID for a
 * coordinate >= p or a point not on the curve. */
VM_WARN_UNUSED int vm_pc_bn254_add(const uint8_t *in, size_t len, uint8_t out[64]);
/* ECMUL: point (64 bytes) and scalar (32 bytes), zero-padded to 96 bytes. */
VM_WARN_UNUSED int vm_pc_bn254_mul(const uint8_t *in, size_t len, uint8_t out[64]);
/* Pairing check over len/192 pairs (G1, G2): *ok = product of pairings == 1.
 * VM_ERR_INVALID for len % 192 != 0, coordinates >= p, points off their
 * curve, or a G2 point outside the order-r subgroup; VM_ERR_NOMEM if the
 * per-pair scratch (len/192 entries of ~500 bytes) cannot be allocated. */
VM_WARN_UNUSED int vm_pc_bn254_pairing(const uint8_t *in, size_t len, bool *ok);
/* For tests: a G2 point (128 bytes, EIP-197 encoding) times a 32-byte
 * big-endian scalar. VM_ERR_INVALID if the point is not on the twist. */
VM_WARN_UNUSED int vm_pc_bn254_g2_mul(const uint8_t in[128], const uint8_t scalar[32],
                                      uint8_t out[128]);

#endif /* BP_VM_PRECOMPILE_INTERNAL_H */
