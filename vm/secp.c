/*
 * Ethereum-style secp256k1 signatures over libsecp256k1 (with its recovery
 * module): a 65-byte r || s || v with v = 27 + recovery id.
 *
 * Two verification rules exist and both are needed:
 *  - vm_recover is what breakpoint accepts from peers and what the
 *    adjudicator checks: low s only (EIP-2), v in {27, 28}. Anything else is
 *    malleable and rejected.
 *  - vm_ecrecover is the ecrecover precompile (address 0x01), which predates
 *    EIP-2 and accepts any 0 < r, s < n.
 */
#include "vm.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct vm_secp {
    secp256k1_context *ctx;
};

/* The group order n, big-endian. */
static const uint8_t SECP_N[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

int vm_secp_new(struct vm_secp **out)
{
    *out = NULL;
    if (sodium_init() < 0) return VM_ERR_UNSUPPORTED;
    struct vm_secp *s = calloc(1, sizeof *s);
    if (!s) return VM_ERR_NOMEM;
    s->ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!s->ctx) {
        free(s);
        return VM_ERR_NOMEM;
    }
    /* Blinding against side channels in signing and key generation. */
    uint8_t seed[32];
    randombytes_buf(seed, sizeof seed);
    int ok = secp256k1_context_randomize(s->ctx, seed);
    sodium_memzero(seed, sizeof seed);
    if (!ok) {
        secp256k1_context_destroy(s->ctx);
        free(s);
        return VM_ERR_UNSUPPORTED;
    }
    *out = s;
    return VM_OK;
}

void vm_secp_free(struct vm_secp *ctx)
{
    if (!ctx) return;
    secp256k1_context_destroy(ctx->ctx);
    free(ctx);
}

/* True if 0 < x < n (x big-endian). */
static bool in_scalar_range(const uint8_t x[32])
{
    bool zero = true;
    for (int i = 0; i < 32; i++)
        zero = zero && x[i] == 0;
    if (zero) return false;
    return memcmp(x, SECP_N, 32) < 0;
}

static void pubkey_address(const secp256k1_context *ctx, const secp256k1_pubkey *pk,
                           vm_address *addr)
{
    uint8_t ser[65];
    size_t n = sizeof ser;
    /* Cannot fail for a valid pubkey and a 65-byte buffer. */
    (void)secp256k1_ec_pubkey_serialize(ctx, ser, &n, pk, SECP256K1_EC_UNCOMPRESSED);
    vm_address_from_pubkey(ser + 1, addr);
}

int vm_sign(const struct vm_secp *ctx, const uint8_t key[32], const uint8_t hash[32],
            uint8_t sig[65])
{
    secp256k1_ecdsa_recoverable_signature rs;
    /* The default nonce function is RFC 6979; libsecp256k1 always emits low s. */
    if (!secp256k1_ecdsa_sign_recoverable(ctx->ctx, &rs, hash, key, NULL, NULL)) return VM_ERR_KEY;
    int recid = 0;
    (void)secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx->ctx, sig, &recid, &rs);
    sig[64] = (uint8_t)(27 + recid);
    return VM_OK;
}

static int recover(const secp256k1_context *ctx, const uint8_t hash[32], const uint8_t rs64[64],
                   int recid, bool low_s_only, vm_address *signer)
{
    if (recid < 0 || recid > 1) return VM_ERR_SIGNATURE;
    if (!in_scalar_range(rs64) || !in_scalar_range(rs64 + 32)) return VM_ERR_SIGNATURE;
    secp256k1_ecdsa_recoverable_signature rsig;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rsig, rs64, recid))
        return VM_ERR_SIGNATURE;
    if (low_s_only) {
        secp256k1_ecdsa_signature plain;
        (void)secp256k1_ecdsa_recoverable_signature_convert(ctx, &plain, &rsig);
        /* normalize returns 1 exactly when s was in the upper half. */
        if (secp256k1_ecdsa_signature_normalize(ctx, NULL, &plain)) return VM_ERR_SIGNATURE;
    }
    secp256k1_pubkey pk;
    if (!secp256k1_ecdsa_recover(ctx, &pk, &rsig, hash)) return VM_ERR_SIGNATURE;
    pubkey_address(ctx, &pk, signer);
    return VM_OK;
}

int vm_recover(const struct vm_secp *ctx, const uint8_t hash[32], const uint8_t sig[65],
               vm_address *signer)
{
    if (sig[64] != 27 && sig[64] != 28) return VM_ERR_SIGNATURE;
    return recover(ctx->ctx, hash, sig, sig[64] - 27, true, signer);
}

int vm_ecrecover(const struct vm_secp *ctx, const uint8_t hash[32], const uint8_t r[32],
                 const uint8_t s[32], int recid, vm_address *signer)
{
    uint8_t rs64[64];
    memcpy(rs64, r, 32);
    memcpy(rs64 + 32, s, 32);
    return recover(ctx->ctx, hash, rs64, recid, false, signer);
}

int vm_key_address(const struct vm_secp *ctx, const uint8_t key[32], vm_address *addr)
{
    secp256k1_pubkey pk;
    if (!secp256k1_ec_pubkey_create(ctx->ctx, &pk, key)) return VM_ERR_KEY;
    pubkey_address(ctx->ctx, &pk, addr);
    return VM_OK;
}
