/*
 * Prints what vm/ computes for one Breakpoint, for anvil_sign_test.js to
 * compare with anvil's eth_signTypedData_v4:
 *
 *   breakpoint_sign KEYHEX CHAINID ADJUDICATOR CHANNELID NONCE STATEROOT MOVEHASH
 *                   PAYOUT0 PAYOUT1 ISFINAL(0|1)
 *
 * Output, one per line: "domain 0x..", "struct 0x..", "digest 0x..",
 * "signer 0x.." (EIP-55) and "signature 0x.." (r||s||v, 65 bytes).
 * The numbers are decimal (or 0x hex); exit code 2 on bad arguments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm.h"

static int hex32(const char *text, uint8_t out[32])
{
    size_t n = 0;
    return vm_hex_decode(text, out, 32, &n) == VM_OK && n == 32 ? 0 : -1;
}

static void print_hex(const char *label, const uint8_t *data, size_t len)
{
    char text[2 * 65 + 3];
    vm_hex_encode(data, len, text);
    printf("%s %s\n", label, text);
}

int main(int argc, char **argv)
{
    if (argc != 11) {
        fprintf(stderr,
                "usage: %s KEY CHAINID ADJUDICATOR CHANNELID NONCE STATEROOT MOVEHASH "
                "PAYOUT0 PAYOUT1 ISFINAL\n",
                argv[0]);
        return 2;
    }
    uint8_t key[32];
    vm_u256 chain_id, nonce;
    vm_address adjudicator;
    struct vm_breakpoint bp;
    memset(&bp, 0, sizeof bp);
    if (hex32(argv[1], key) || vm_u256_parse(argv[2], &chain_id) != VM_OK ||
        vm_address_parse(argv[3], &adjudicator) != VM_OK || hex32(argv[4], bp.channel_id.b) ||
        vm_u256_parse(argv[5], &nonce) != VM_OK || !vm_u256_fits_u64(nonce) ||
        hex32(argv[6], bp.state_root.b) || hex32(argv[7], bp.move_hash.b) ||
        vm_u256_parse(argv[8], &bp.payouts[0]) != VM_OK ||
        vm_u256_parse(argv[9], &bp.payouts[1]) != VM_OK ||
        (strcmp(argv[10], "0") != 0 && strcmp(argv[10], "1") != 0)) {
        fprintf(stderr, "breakpoint_sign: bad argument\n");
        return 2;
    }
    bp.nonce = nonce.w[0];
    bp.is_final = argv[10][0] == '1';

    uint8_t domain[32], sh[32], digest[32], sig[65];
    vm_breakpoint_domain(chain_id, &adjudicator, domain);
    vm_breakpoint_struct_hash(&bp, sh);
    vm_breakpoint_digest(&bp, chain_id, &adjudicator, digest);

    struct vm_secp *secp = NULL;
    vm_address signer, recovered;
    if (vm_secp_new(&secp) != VM_OK || vm_key_address(secp, key, &signer) != VM_OK ||
        vm_sign(secp, key, digest, sig) != VM_OK ||
        vm_recover(secp, digest, sig, &recovered) != VM_OK ||
        memcmp(signer.b, recovered.b, 20) != 0) {
        fprintf(stderr, "breakpoint_sign: signing failed\n");
        vm_secp_free(secp);
        return 1;
    }
    vm_secp_free(secp);
    char text[43];
    vm_address_to_checksum(&signer, text);
    print_hex("domain", domain, 32);
    print_hex("struct", sh, 32);
    print_hex("digest", digest, 32);
    printf("signer %s\n", text);
    print_hex("signature", sig, 65);
    return 0;
}
