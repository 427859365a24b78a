/*
 * EIP-1559 transaction signing: our raw signed transactions must equal, byte
 * for byte, what ethers v6 produces for the same fields and key (both use
 * RFC 6979 deterministic nonces and low s), and the hashes must agree.
 * Our decoder must read them back and recover the sender.
 *
 * Usage: tx_test NODE ETHERS_TX_JS NODE_MODULES_DIR
 */
#include "chain.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* anvil's (and hardhat's) well-known development key #0 and its address */
#define KEY0 "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define ADDR0 "f39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define KEY1 "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"

struct tcase {
    const char *key, *chain_id, *nonce, *tip, *max_fee, *gas, *to, *value, *data;
};

static const struct tcase cases[] = {
    {KEY0, "31337", "0", "1000000000", "3000000000", "21000",
     "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", "1000000000000000000", "0x"},
    {KEY0, "1", "127", "0", "1", "30000000", NULL, "0",
     "0x6080604052348015600f57600080fd5b50603f80601d6000396000f3fe6080604052600080fdfea164736f6c634"
     "3000825000a"},
    {KEY1, "11155111", "9007199254740991",
     "115792089237316195423570985008687907853269984665640564039457584007913129639935",
     "115792089237316195423570985008687907853269984665640564039457584007913129639935",
     "18446744073709551615", "0x0000000000000000000000000000000000000000",
     "115792089237316195423570985008687907853269984665640564039457584007913129639935", "0x00"},
    {KEY1, "31337", "5", "1500000000", "2500000001", "100000",
     "0x5fbdb2315678afecb367f032d93f642f64180aa3", "0",
     "0x53a04b050000000000000000000000000000000000000000000000000000000000000004"},
};

static uint64_t u64(const char *s)
{
    return strtoull(s, NULL, 10);
}

static vm_u256 u256(const char *s)
{
    vm_u256 v;
    if (vm_u256_parse(s, &v) != VM_OK) abort();
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: tx_test NODE ETHERS_TX_JS NODE_MODULES\n");
        return 2;
    }
    setenv("BP_NODE_MODULES", argv[3], 1);
    struct vm_secp *secp;
    if (vm_secp_new(&secp) != VM_OK) return 1;
    size_t n = sizeof cases / sizeof *cases;

    char path[] = "/tmp/bp-tx-cases-XXXXXX";
    FILE *f = cases_file(path);
    if (!f) return 1;
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        const struct tcase *t = &cases[i];
        fprintf(f,
                "%s{\"key\":\"0x%s\",\"chainId\":\"%s\",\"nonce\":\"%s\",\"tip\":\"%s\",\"maxFee\":"
                "\"%s\","
                "\"gas\":\"%s\",\"to\":%s%s%s,\"value\":\"%s\",\"data\":\"%s\"}",
                i ? "," : "", t->key, t->chain_id, t->nonce, t->tip, t->max_fee, t->gas,
                t->to ? "\"" : "", t->to ? t->to : "null", t->to ? "\"" : "", t->value, t->data);
    }
    fputs("]\n", f);
    fclose(f);

    FILE *p = node_script(argv[1], argv[2], path);
    CHECK(p != NULL);
    char line[8192];
    size_t got = 0;
    while (p && got < n && fgets(line, sizeof line, p)) {
        const struct tcase *t = &cases[got++];
        char *raw_hex = strtok(line, " \r\n");
        char *hash_hex = strtok(NULL, " \r\n");
        char *from_hex = strtok(NULL, " \r\n");
        if (!raw_hex || !hash_hex || !from_hex) {
            CHECK(!"ethers printed three fields");
            continue;
        }
        size_t key_len, data_len;
        uint8_t *key = hex_alloc(t->key, &key_len);
        uint8_t *data = hex_alloc(t->data, &data_len);
        struct chain_tx tx = {0};
        tx.chain_id = u64(t->chain_id);
        tx.nonce = u64(t->nonce);
        tx.max_priority_fee_per_gas = u256(t->tip);
        tx.max_fee_per_gas = u256(t->max_fee);
        tx.gas_limit = u64(t->gas);
        tx.has_to = t->to != NULL;
        if (t->to) CHECK_EQ(vm_address_parse(t->to, &tx.to), VM_OK);
        tx.value = u256(t->value);
        tx.data = data;
        tx.data_len = data_len;

        struct vm_buf raw = {0};
        uint8_t hash[32];
        CHECK_EQ(chain_tx_sign(secp, &tx, key, &raw, hash), CHAIN_OK);
        CHECK_HEX(raw.data, raw.len, raw_hex);
        CHECK_HEX(hash, 32, hash_hex);

        struct chain_tx back;
        vm_address from, want_from;
        CHECK_EQ(chain_tx_decode(secp, raw.data, raw.len, &back, &from), CHAIN_OK);
        CHECK_EQ(vm_address_parse(from_hex, &want_from), VM_OK);
        CHECK(memcmp(from.b, want_from.b, 20) == 0);
        CHECK_EQ(back.nonce, tx.nonce);
        CHECK_EQ(back.chain_id, tx.chain_id);
        CHECK_EQ(back.gas_limit, tx.gas_limit);
        CHECK(vm_u256_eq(back.value, tx.value));
        CHECK(vm_u256_eq(back.max_fee_per_gas, tx.max_fee_per_gas));
        CHECK_EQ(back.has_to, tx.has_to);
        CHECK_EQ(back.data_len, tx.data_len);

        /* a damaged transaction never decodes: cut short, extra byte, wrong type */
        CHECK_EQ(chain_tx_decode(secp, raw.data, raw.len - 1, &back, &from), CHAIN_ERR_INVALID);
        uint8_t *longer = malloc(raw.len + 1);
        memcpy(longer, raw.data, raw.len);
        longer[raw.len] = 0;
        CHECK_EQ(chain_tx_decode(secp, longer, raw.len + 1, &back, &from), CHAIN_ERR_INVALID);
        longer[0] = 0x01;
        CHECK_EQ(chain_tx_decode(secp, longer, raw.len, &back, &from), CHAIN_ERR_INVALID);
        free(longer);
        vm_buf_free(&raw);
        free(key);
        free(data);
    }
    CHECK_EQ(got, n);
    CHECK_EQ(p ? pclose(p) : -1, 0);
    unlink(path);

    /* Mutated transactions: a decoder answer of OK or CHAIN_ERR_INVALID only,
     * never a read outside the buffer (ASan watches). The unmutated one must
     * decode; a mutation inside r or s usually changes the recovered sender. */
    {
        size_t kl0;
        uint8_t *k = hex_alloc(KEY0, &kl0);
        uint8_t payload[100];
        memset(payload, 0xab, sizeof payload);
        struct chain_tx t = {31337,
                             3,
                             vm_u256_from_u64(7),
                             vm_u256_from_u64(9),
                             50000,
                             true,
                             {{0}},
                             vm_u256_from_u64(1),
                             payload,
                             sizeof payload};
        struct vm_buf raw = {0};
        CHECK_EQ(chain_tx_sign(secp, &t, k, &raw, NULL), CHAIN_OK);
        uint64_t st = 0x243f6a8885a308d3ULL;
        int ok = 0, invalid = 0;
        uint8_t *m = malloc(raw.len);
        for (int round = 0; round < 5000; round++) {
            memcpy(m, raw.data, raw.len);
            size_t len = raw.len;
            st ^= st << 13, st ^= st >> 7, st ^= st << 17;
            int flips = 1 + (int)(st % 3);
            for (int i = 0; i < flips; i++) {
                st ^= st << 13, st ^= st >> 7, st ^= st << 17;
                m[st % len] ^= (uint8_t)(1u << (st >> 32) % 8);
            }
            if (st % 5 == 0) len = (size_t)((st >> 20) % len);
            struct chain_tx back;
            vm_address from;
            int rc = chain_tx_decode(secp, m, len, &back, &from);
            if (rc == CHAIN_OK)
                ok++;
            else if (rc == CHAIN_ERR_INVALID)
                invalid++;
        }
        CHECK_EQ(ok + invalid, 5000);
        CHECK(invalid > 1000);
        printf("mutations: %d decoded, %d refused\n", ok, invalid);
        free(m);
        vm_buf_free(&raw);
        free(k);
    }

    /* the address of key #0 is anvil's account #0 */
    size_t kl;
    uint8_t *k0 = hex_alloc(KEY0, &kl);
    vm_address a0;
    CHECK_EQ(vm_key_address(secp, k0, &a0), VM_OK);
    CHECK_HEX(a0.b, 20, ADDR0);
    /* an invalid key (zero) is refused */
    uint8_t zero[32] = {0};
    struct chain_tx tx = {0};
    struct vm_buf raw = {0};
    CHECK_EQ(chain_tx_sign(secp, &tx, zero, &raw, NULL), CHAIN_ERR_KEY);
    CHECK_EQ(raw.len, 0);
    vm_buf_free(&raw);
    free(k0);
    vm_secp_free(secp);
    return check_report("tx_test");
}
