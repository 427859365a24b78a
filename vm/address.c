/*
 * Ethereum addresses: derivation from a public key, EIP-55 checksummed text,
 * and the CREATE / CREATE2 (EIP-1014) contract addresses.
 */
#include "vm.h"

#include <string.h>

void vm_address_from_pubkey(const uint8_t pubkey64[64], vm_address *addr)
{
    uint8_t h[32];
    vm_keccak256(pubkey64, 64, h);
    memcpy(addr->b, h + 12, 20);
}

/* EIP-55: hex digit i is upper case when nibble i of keccak(lowercase hex) is >= 8. */
void vm_address_to_checksum(const vm_address *addr, char out[43])
{
    static const char digits[] = "0123456789abcdef";
    char lower[40];
    for (int i = 0; i < 20; i++) {
        lower[2 * i] = digits[addr->b[i] >> 4];
        lower[2 * i + 1] = digits[addr->b[i] & 15];
    }
    uint8_t h[32];
    vm_keccak256((const uint8_t *)lower, sizeof lower, h);
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 40; i++) {
        uint8_t nibble = (i % 2 == 0) ? (uint8_t)(h[i / 2] >> 4) : (uint8_t)(h[i / 2] & 15);
        char c = lower[i];
        if (c >= 'a' && nibble >= 8) c = (char)(c - 'a' + 'A');
        out[2 + i] = c;
    }
    out[42] = '\0';
}

int vm_address_parse(const char *text, vm_address *addr)
{
    const char *p = text;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) p += 2;
    if (strlen(p) != 40) return VM_ERR_INVALID;
    bool has_lower = false, has_upper = false;
    for (int i = 0; i < 40; i++) {
        if (p[i] >= 'a' && p[i] <= 'f') has_lower = true;
        if (p[i] >= 'A' && p[i] <= 'F') has_upper = true;
    }
    vm_address a;
    size_t n = 0;
    if (vm_hex_decode_n(p, 40, a.b, sizeof a.b, &n) != VM_OK || n != 20) return VM_ERR_INVALID;
    /* All-lower or all-upper text carries no checksum; mixed case must be exact. */
    if (has_lower && has_upper) {
        char want[43];
        vm_address_to_checksum(&a, want);
        if (memcmp(want + 2, p, 40) != 0) return VM_ERR_INVALID;
    }
    *addr = a;
    return VM_OK;
}

void vm_create_address(const vm_address *sender, uint64_t nonce, vm_address *out)
{
    /* rlp([sender, nonce]) is at most 1 + 21 + 9 bytes: build it in place. */
    uint8_t enc[32];
    size_t n = 1;
    enc[n++] = 0x80 + 20;
    memcpy(enc + n, sender->b, 20);
    n += 20;
    if (nonce == 0) {
        enc[n++] = 0x80;
    } else if (nonce < 0x80) {
        enc[n++] = (uint8_t)nonce;
    } else {
        size_t len = 0;
        for (uint64_t t = nonce; t; t >>= 8)
            len++;
        enc[n++] = (uint8_t)(0x80 + len);
        for (size_t i = 0; i < len; i++)
            enc[n++] = (uint8_t)(nonce >> (8 * (len - 1 - i)));
    }
    enc[0] = (uint8_t)(0xc0 + (n - 1));
    uint8_t h[32];
    vm_keccak256(enc, n, h);
    memcpy(out->b, h + 12, 20);
}

void vm_create2_address(const vm_address *sender, const vm_bytes32 *salt,
                        const uint8_t init_code_hash[32], vm_address *out)
{
    uint8_t pre[1 + 20 + 32 + 32];
    pre[0] = 0xff;
    memcpy(pre + 1, sender->b, 20);
    memcpy(pre + 21, salt->b, 32);
    memcpy(pre + 53, init_code_hash, 32);
    uint8_t h[32];
    vm_keccak256(pre, sizeof pre, h);
    memcpy(out->b, h + 12, 20);
}
