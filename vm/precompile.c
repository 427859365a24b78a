/*
 * precompile.c — the Cancun precompiled contracts 0x01..0x0a: dispatch,
 * pricing, and the small ones (ecrecover, sha256, ripemd160, identity).
 *
 * Every call is priced before anything is computed or allocated, so an
 * input that declares enormous sizes (modexp) fails on gas. A precompile
 * that rejects its input consumes all the gas it was given, as an
 * exceptional halt does; ecrecover is the exception: a signature that does
 * not recover is a success with empty output (yellow paper, appendix E).
 */
#include "precompile_internal.h"

#include <nettle/ripemd160.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

enum pc_id {
    PC_ECRECOVER = 1,
    PC_SHA256,
    PC_RIPEMD160,
    PC_IDENTITY,
    PC_MODEXP,
    PC_BN254_ADD,
    PC_BN254_MUL,
    PC_BN254_PAIRING,
    PC_BLAKE2F,
    PC_POINT_EVALUATION,
};

bool vm_is_precompile(const vm_address *addr)
{
    for (int i = 0; i < 19; i++)
        if (addr->b[i] != 0) return false;
    return addr->b[19] >= PC_ECRECOVER && addr->b[19] <= PC_POINT_EVALUATION;
}

/* Number of 32-byte words, rounded up, without overflow. */
static uint64_t pc_words(size_t len)
{
    return (uint64_t)(len / 32) + (len % 32 != 0);
}

/* base + per_word * words, saturated (no input can make it wrap). */
static uint64_t pc_linear_gas(uint64_t base, uint64_t per_word, size_t len)
{
    unsigned __int128 g = (unsigned __int128)per_word * pc_words(len) + base;
    return g > UINT64_MAX ? UINT64_MAX : (uint64_t)g;
}

static uint64_t pc_gas(enum pc_id id, const uint8_t *in, size_t len)
{
    switch (id) {
    case PC_ECRECOVER: return 3000;
    case PC_SHA256: return pc_linear_gas(60, 12, len);
    case PC_RIPEMD160: return pc_linear_gas(600, 120, len);
    case PC_IDENTITY: return pc_linear_gas(15, 3, len);
    case PC_MODEXP: return vm_pc_modexp_gas(in, len);
    case PC_BN254_ADD: return 150; /* EIP-1108 */
    case PC_BN254_MUL: return 6000;
    case PC_BN254_PAIRING: {
        unsigned __int128 g = (unsigned __int128)34000 * (len / 192) + 45000;
        return g > UINT64_MAX ? UINT64_MAX : (uint64_t)g;
    }
    case PC_BLAKE2F: {
        uint32_t rounds = 0;
        /* A malformed input fails in the run; price it at nothing here. */
        if (vm_pc_blake2f_rounds(in, len, &rounds) != VM_OK) return 0;
        return rounds;
    }
    case PC_POINT_EVALUATION: return 50000;
    }
    return UINT64_MAX;
}

/* Hands a copy of data to the result as its output. */
static int pc_set_output(struct vm_result *result, const uint8_t *data, size_t len)
{
    if (len == 0) return VM_OK;
    result->output = malloc(len);
    if (!result->output) return VM_ERR_NOMEM;
    memcpy(result->output, data, len);
    result->output_size = len;
    return VM_OK;
}

/* Copies input[0..len) into a zero-padded fixed-size buffer. */
static void pc_padded(const uint8_t *in, size_t len, uint8_t *buf, size_t size)
{
    memset(buf, 0, size);
    if (len > size) len = size;
    if (len > 0) memcpy(buf, in, len);
}

static int pc_ecrecover(const struct vm_secp *secp, const uint8_t *in, size_t len,
                        struct vm_result *result)
{
    uint8_t buf[128];
    pc_padded(in, len, buf, sizeof buf);
    /* v is a whole 32-byte word that must be exactly 27 or 28. */
    for (int i = 32; i < 63; i++)
        if (buf[i] != 0) return VM_OK;
    if (buf[63] != 27 && buf[63] != 28) return VM_OK;
    if (!secp) return VM_ERR_INVALID;
    vm_address signer;
    if (vm_ecrecover(secp, buf, buf + 64, buf + 96, buf[63] - 27, &signer) != VM_OK)
        return VM_OK;
    uint8_t out[32] = {0};
    memcpy(out + 12, signer.b, 20);
    return pc_set_output(result, out, 32);
}

static int pc_ripemd160(const uint8_t *in, size_t len, struct vm_result *result)
{
    struct ripemd160_ctx ctx;
    uint8_t out[32] = {0};
    ripemd160_init(&ctx);
    ripemd160_update(&ctx, len, in);
    ripemd160_digest(&ctx, RIPEMD160_DIGEST_SIZE, out + 12);
    return pc_set_output(result, out, 32);
}

/* Runs a priced precompile. Returns VM_OK with result->status set, or
 * VM_ERR_NOMEM; VM_ERR_INVALID means "fail, consume all gas". */
static int pc_execute(const struct vm_secp *secp, enum pc_id id, const uint8_t *in, size_t len,
                      struct vm_result *result)
{
    uint8_t out[64];
    int rc;
    switch (id) {
    case PC_ECRECOVER: return pc_ecrecover(secp, in, len, result);
    case PC_SHA256:
        crypto_hash_sha256(out, in, len);
        return pc_set_output(result, out, 32);
    case PC_RIPEMD160: return pc_ripemd160(in, len, result);
    case PC_IDENTITY: return pc_set_output(result, in, len);
    case PC_MODEXP:
        return vm_pc_modexp(in, len, &result->output, &result->output_size);
    case PC_BN254_ADD:
        rc = vm_pc_bn254_add(in, len, out);
        return rc != VM_OK ? rc : pc_set_output(result, out, 64);
    case PC_BN254_MUL:
        rc = vm_pc_bn254_mul(in, len, out);
        return rc != VM_OK ? rc : pc_set_output(result, out, 64);
    case PC_BN254_PAIRING: {
        bool ok = false;
        rc = vm_pc_bn254_pairing(in, len, &ok);
        if (rc != VM_OK) return rc;
        memset(out, 0, 32);
        out[31] = ok ? 1 : 0;
        return pc_set_output(result, out, 32);
    }
    case PC_BLAKE2F:
        rc = vm_pc_blake2f(in, len, out);
        return rc != VM_OK ? rc : pc_set_output(result, out, 64);
    case PC_POINT_EVALUATION: return VM_ERR_UNSUPPORTED;
    }
    return VM_ERR_INVALID;
}

int vm_precompile_run(const struct vm_secp *secp, const vm_address *addr, const uint8_t *input,
                      size_t len, int64_t gas, struct vm_result *result)
{
    memset(result, 0, sizeof *result);
    if (len > 0 && !input) return VM_ERR_INVALID;
    if (!vm_is_precompile(addr)) {
        result->status = VM_INTERNAL_ERROR;
        return VM_OK;
    }
    enum pc_id id = (enum pc_id)addr->b[19];
    if (id == PC_POINT_EVALUATION) {
        /* KZG needs a trusted setup this build does not carry. */
        result->status = VM_UNSUPPORTED;
        return VM_OK;
    }
    uint64_t cost = pc_gas(id, input, len);
    uint64_t avail = gas > 0 ? (uint64_t)gas : 0;
    if (cost > avail) {
        result->status = VM_OUT_OF_GAS;
        return VM_OK;
    }
    int rc = pc_execute(secp, id, input, len, result);
    if (rc == VM_ERR_NOMEM) {
        free(result->output);
        memset(result, 0, sizeof *result);
        return rc;
    }
    if (rc != VM_OK) {
        free(result->output);
        memset(result, 0, sizeof *result);
        result->status = VM_PRECOMPILE_FAILURE;
        return VM_OK;
    }
    result->status = VM_SUCCESS;
    result->gas_left = (int64_t)(avail - cost);
    return VM_OK;
}
