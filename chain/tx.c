/*
 * tx.c — EIP-1559 (type 2) transactions, RLP-encoded and signed locally.
 *
 *   sighash = keccak(0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas,
 *                                maxFeePerGas, gasLimit, to, value, data, accessList]))
 *   raw     = 0x02 ‖ rlp([... the same nine ..., yParity, r, s])
 *   hash    = keccak(raw)
 *
 * The access list is always empty: the node's few transactions (open,
 * deposit, challenge, settle, conclude, deploy) gain nothing from one.
 */
#include "internal.h"

#include <string.h>

#define TX_TYPE_EIP1559 0x02

/* Appends the nine unsigned fields as RLP items (no list header). */
static int put_fields(struct vm_buf *b, const struct chain_tx *tx)
{
    size_t al;
    if (vm_rlp_put_u64(b, tx->chain_id) || vm_rlp_put_u64(b, tx->nonce) ||
        vm_rlp_put_u256(b, tx->max_priority_fee_per_gas) ||
        vm_rlp_put_u256(b, tx->max_fee_per_gas) || vm_rlp_put_u64(b, tx->gas_limit) ||
        vm_rlp_put_bytes(b, tx->to.b, tx->has_to ? 20 : 0) || vm_rlp_put_u256(b, tx->value) ||
        vm_rlp_put_bytes(b, tx->data, tx->data_len) || vm_rlp_list_begin(b, &al) ||
        vm_rlp_list_end(b, al))
        return CHAIN_ERR_NOMEM;
    return CHAIN_OK;
}

/* 0x02 ‖ rlp([fields..., (sig)]). sig = NULL for the signing payload. */
static int encode(const struct chain_tx *tx, const uint8_t sig[65], struct vm_buf *out)
{
    if (tx->data_len && !tx->data) return CHAIN_ERR_INVALID;
    size_t start = out->len;
    uint8_t type = TX_TYPE_EIP1559;
    size_t mark;
    int rc = CHAIN_ERR_NOMEM;
    if (vm_buf_append(out, &type, 1) || vm_rlp_list_begin(out, &mark)) goto fail;
    if ((rc = put_fields(out, tx))) goto fail;
    rc = CHAIN_ERR_NOMEM;
    if (sig) {
        if (sig[64] != 27 && sig[64] != 28) {
            rc = CHAIN_ERR_CRYPTO;
            goto fail;
        }
        if (vm_rlp_put_u64(out, (uint64_t)(sig[64] - 27)) ||
            vm_rlp_put_u256(out, vm_u256_from_be(sig, 32)) ||
            vm_rlp_put_u256(out, vm_u256_from_be(sig + 32, 32)))
            goto fail;
    }
    if (vm_rlp_list_end(out, mark)) goto fail;
    return CHAIN_OK;
fail:
    out->len = start;
    return rc;
}

int chain_tx_sighash(const struct chain_tx *tx, uint8_t hash[32])
{
    struct vm_buf b = {0};
    int rc = encode(tx, NULL, &b);
    if (!rc) vm_keccak256(b.data, b.len, hash);
    vm_buf_free(&b);
    return rc;
}

int chain_tx_sign(const struct vm_secp *secp, const struct chain_tx *tx, const uint8_t key[32],
                  struct vm_buf *raw, uint8_t hash[32])
{
    uint8_t sighash[32], sig[65];
    int rc = chain_tx_sighash(tx, sighash);
    if (rc) return rc;
    int vrc = vm_sign(secp, key, sighash, sig);
    if (vrc == VM_ERR_KEY) return CHAIN_ERR_KEY;
    if (vrc) return CHAIN_ERR_CRYPTO;
    size_t start = raw->len;
    if ((rc = encode(tx, sig, raw))) return rc;
    if (hash) vm_keccak256(raw->data + start, raw->len - start, hash);
    return CHAIN_OK;
}

/* Reads the next list element, which must be a string. */
static int next_str(const struct vm_rlp_item *list, size_t *pos, struct vm_rlp_item *it)
{
    if (vm_rlp_next(list, pos, it) != VM_OK || it->is_list) return CHAIN_ERR_INVALID;
    return CHAIN_OK;
}

int chain_tx_decode(const struct vm_secp *secp, const uint8_t *raw, size_t len, struct chain_tx *tx,
                    vm_address *from)
{
    memset(tx, 0, sizeof *tx);
    if (len < 2 || raw[0] != TX_TYPE_EIP1559) return CHAIN_ERR_INVALID;
    struct vm_rlp_item list, it;
    size_t used, pos = 0;
    if (vm_rlp_decode(raw + 1, len - 1, &list, &used) != VM_OK || !list.is_list || used != len - 1)
        return CHAIN_ERR_INVALID;
    uint64_t y;
    vm_u256 r, s;
    if (next_str(&list, &pos, &it) || vm_rlp_to_u64(&it, &tx->chain_id) ||
        next_str(&list, &pos, &it) || vm_rlp_to_u64(&it, &tx->nonce) ||
        next_str(&list, &pos, &it) || vm_rlp_to_u256(&it, &tx->max_priority_fee_per_gas) ||
        next_str(&list, &pos, &it) || vm_rlp_to_u256(&it, &tx->max_fee_per_gas) ||
        next_str(&list, &pos, &it) || vm_rlp_to_u64(&it, &tx->gas_limit))
        return CHAIN_ERR_INVALID;
    if (next_str(&list, &pos, &it) || (it.len != 0 && it.len != 20)) return CHAIN_ERR_INVALID;
    tx->has_to = it.len == 20;
    if (tx->has_to) memcpy(tx->to.b, it.payload, 20);
    if (next_str(&list, &pos, &it) || vm_rlp_to_u256(&it, &tx->value)) return CHAIN_ERR_INVALID;
    if (next_str(&list, &pos, &it)) return CHAIN_ERR_INVALID;
    tx->data = it.payload;
    tx->data_len = it.len;
    /* only the empty access list is representable in struct chain_tx */
    if (vm_rlp_next(&list, &pos, &it) != VM_OK || !it.is_list || it.len != 0)
        return CHAIN_ERR_INVALID;
    if (next_str(&list, &pos, &it) || vm_rlp_to_u64(&it, &y) || y > 1 ||
        next_str(&list, &pos, &it) || vm_rlp_to_u256(&it, &r) || next_str(&list, &pos, &it) ||
        vm_rlp_to_u256(&it, &s))
        return CHAIN_ERR_INVALID;
    if (vm_rlp_next(&list, &pos, &it) != 1) return CHAIN_ERR_INVALID; /* trailing items */
    uint8_t sighash[32], sig[65];
    if (chain_tx_sighash(tx, sighash)) return CHAIN_ERR_INVALID;
    vm_u256_to_be(r, sig);
    vm_u256_to_be(s, sig + 32);
    sig[64] = (uint8_t)(27 + y);
    if (vm_recover(secp, sighash, sig, from) != VM_OK) return CHAIN_ERR_INVALID;
    return CHAIN_OK;
}
