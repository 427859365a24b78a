/*
 * EIP-712 typed-data hashing, and the one struct breakpoint signs
 * (DESIGN.md §3):
 *
 *   Breakpoint(bytes32 channelId,uint64 nonce,bytes32 stateRoot,
 *              bytes32 moveHash,uint256[] payouts,bool isFinal)
 *
 * encodeData puts every atomic field in one 32-byte word (integers and bools
 * left-padded, big-endian); the dynamic array uint256[] is replaced by the
 * keccak of its elements' words concatenated. The type hashes are computed
 * from the type strings rather than pasted as constants, so the string here
 * is the single source of truth and the tests check it against anvil.
 */
#include "vm.h"

#include <string.h>

static const char DOMAIN_TYPE[] =
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
static const char BREAKPOINT_TYPE[] = "Breakpoint(bytes32 channelId,uint64 nonce,bytes32 stateRoot,"
                                      "bytes32 moveHash,uint256[] payouts,bool isFinal)";

static void keccak_str(const char *s, uint8_t out[32])
{
    vm_keccak256((const uint8_t *)s, strlen(s), out);
}

void vm_eip712_domain(const char *name, const char *version, vm_u256 chain_id,
                      const vm_address *verifying_contract, uint8_t out[32])
{
    uint8_t enc[5 * 32];
    keccak_str(DOMAIN_TYPE, enc);
    keccak_str(name, enc + 32);
    keccak_str(version, enc + 64);
    vm_u256_to_be(chain_id, enc + 96);
    memset(enc + 128, 0, 12);
    memcpy(enc + 140, verifying_contract->b, 20);
    vm_keccak256(enc, sizeof enc, out);
}

void vm_eip712_digest(const uint8_t domain[32], const uint8_t struct_hash[32], uint8_t out[32])
{
    uint8_t enc[2 + 64];
    enc[0] = 0x19;
    enc[1] = 0x01;
    memcpy(enc + 2, domain, 32);
    memcpy(enc + 34, struct_hash, 32);
    vm_keccak256(enc, sizeof enc, out);
}

void vm_breakpoint_domain(vm_u256 chain_id, const vm_address *adjudicator, uint8_t out[32])
{
    vm_eip712_domain("breakpoint", "1", chain_id, adjudicator, out);
}

void vm_breakpoint_struct_hash(const struct vm_breakpoint *bp, uint8_t out[32])
{
    uint8_t payouts[VM_BP_PLAYERS * 32];
    for (int i = 0; i < VM_BP_PLAYERS; i++)
        vm_u256_to_be(bp->payouts[i], payouts + 32 * i);

    uint8_t enc[7 * 32];
    memset(enc, 0, sizeof enc);
    keccak_str(BREAKPOINT_TYPE, enc);
    memcpy(enc + 32, bp->channel_id.b, 32);
    vm_u256_to_be(vm_u256_from_u64(bp->nonce), enc + 64);
    memcpy(enc + 96, bp->state_root.b, 32);
    memcpy(enc + 128, bp->move_hash.b, 32);
    vm_keccak256(payouts, sizeof payouts, enc + 160);
    enc[223] = bp->is_final ? 1 : 0;
    vm_keccak256(enc, sizeof enc, out);
}

void vm_breakpoint_digest(const struct vm_breakpoint *bp, vm_u256 chain_id,
                          const vm_address *adjudicator, uint8_t out[32])
{
    uint8_t domain[32], sh[32];
    vm_breakpoint_domain(chain_id, adjudicator, domain);
    vm_breakpoint_struct_hash(bp, sh);
    vm_eip712_digest(domain, sh, out);
}
