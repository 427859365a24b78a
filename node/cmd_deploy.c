/*
 * bp deploy — deploys a contract with a raw transaction signed locally
 * (chain/ wallet: EIP-1559, our own nonce and fee estimate), waits for the
 * receipt, checks that code is now at the new address and prints it.
 * scripts/devnet uses it to put the Adjudicator and TicTacToe on anvil.
 */
#include "chain.h"
#include "cli.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Init code larger than this is refused before any work (EIP-3860 allows 49152 bytes). */
#define MAX_INIT_HEX (2 * 49152 + 2)

static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

/* Reads a hex private key (optional 0x, surrounding whitespace ignored). */
static int read_key(const char *path, uint8_t key[32])
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char text[200];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    char *s = text;
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        s[--len] = 0;
    size_t got = 0;
    int rc = vm_hex_decode(s, key, 32, &got) == VM_OK && got == 32 ? 0 : -1;
    wipe(text, sizeof text);
    return rc;
}

/* Finds the creation bytecode in a compiler artifact: "bytecode" (a hex
 * string or {"object": hex}) or solc's "evm.bytecode.object". */
static const char *artifact_bytecode(json_t *root)
{
    json_t *b = json_object_get(root, "bytecode");
    if (json_is_object(b)) b = json_object_get(b, "object");
    if (!json_is_string(b)) {
        json_t *evm = json_object_get(root, "evm");
        b = json_object_get(json_object_get(evm, "bytecode"), "object");
    }
    return json_is_string(b) ? json_string_value(b) : NULL;
}

/* Appends hex (optional 0x) to buf. */
static int append_hex(struct vm_buf *buf, const char *hex)
{
    size_t len = strlen(hex);
    if (len > MAX_INIT_HEX) return -1;
    if (vm_buf_reserve(buf, len / 2 + 1) != VM_OK) return -1;
    size_t got;
    if (vm_hex_decode(hex, buf->data + buf->len, len / 2 + 1, &got) != VM_OK) return -1;
    buf->len += got;
    return 0;
}

int cmd_deploy(int argc, char **argv)
{
    const char *eth = NULL, *key_file = NULL, *artifact = NULL, *code_hex = NULL, *args_hex = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--json") == 0)
            json = true;
        else if (strcmp(a, "--eth") == 0 && has_value)
            eth = argv[++i];
        else if (strcmp(a, "--key-file") == 0 && has_value)
            key_file = argv[++i];
        else if (strcmp(a, "--artifact") == 0 && has_value)
            artifact = argv[++i];
        else if (strcmp(a, "--code") == 0 && has_value)
            code_hex = argv[++i];
        else if (strcmp(a, "--args") == 0 && has_value)
            args_hex = argv[++i];
        else
            return cli_fail("deploy: unknown option or missing value '%s'", a);
    }
    if (!eth || !key_file) return cli_fail("deploy: --eth and --key-file are required");
    if (!artifact == !code_hex)
        return cli_fail("deploy: give exactly one of --artifact and --code");

    struct vm_buf init = {0};
    json_t *root = NULL;
    if (artifact) {
        json_error_t jerr;
        root = json_load_file(artifact, 0, &jerr);
        if (!root)
            return cli_fail("deploy: cannot read %s: %s (line %d)", artifact, jerr.text, jerr.line);
        code_hex = artifact_bytecode(root);
        if (!code_hex) {
            json_decref(root);
            return cli_fail("deploy: %s has no bytecode", artifact);
        }
    }
    int ret = 1;
    struct vm_secp *secp = NULL;
    struct chain_client *client = NULL;
    struct chain_wallet *wallet = NULL;
    struct chain_receipt receipt = {0};
    uint8_t key[32];
    bool have_key = false;
    if (append_hex(&init, code_hex) != 0 || init.len == 0) {
        cli_fail("deploy: the bytecode is not valid hex (or is empty or too large)");
        goto out;
    }
    if (args_hex && append_hex(&init, args_hex) != 0) {
        cli_fail("deploy: --args is not valid hex");
        goto out;
    }
    if (read_key(key_file, key) != 0) {
        cli_fail("deploy: %s does not hold a 32-byte hex private key", key_file);
        goto out;
    }
    have_key = true;
    int rc;
    if (vm_secp_new(&secp) != VM_OK) {
        cli_fail("deploy: out of memory");
        goto out;
    }
    if ((rc = chain_client_new(eth, NULL, &client))) {
        cli_fail("deploy: %s: %s", eth, chain_strerror(rc));
        goto out;
    }
    struct chain_wallet_opts wo = {.poll_interval_ms = 100, .wait_timeout_ms = 120000};
    if ((rc = chain_wallet_new(client, secp, key, &wo, &wallet))) {
        cli_fail("deploy: %s", chain_strerror(rc));
        goto out;
    }
    rc = chain_wallet_send(wallet, NULL, vm_u256_from_u64(0), init.data, init.len, 0, &receipt);
    if (rc) {
        if (rc == CHAIN_ERR_RPC) {
            const struct chain_rpc_error *e = chain_client_rpc_error(client);
            char reason[200] = "";
            if (e->data &&
                chain_abi_revert_reason(e->data, e->data_len, reason, sizeof reason) != CHAIN_OK)
                reason[0] = 0;
            cli_fail("deploy: %s: %s%s%s", chain_strerror(rc), e->message, reason[0] ? ": " : "",
                     reason);
        } else
            cli_fail("deploy: %s", chain_strerror(rc));
        goto out;
    }
    if (!receipt.has_contract_address) {
        cli_fail("deploy: the receipt names no contract address");
        goto out;
    }
    struct vm_buf code = {0};
    rc = chain_get_code(client, &receipt.contract_address, CHAIN_BLOCK_LATEST, &code);
    size_t code_len = code.len;
    vm_buf_free(&code);
    if (rc || code_len == 0) {
        cli_fail("deploy: no code at the new address (%s)", rc ? chain_strerror(rc) : "empty");
        goto out;
    }
    char addr[43], hash[67];
    vm_address_to_checksum(&receipt.contract_address, addr);
    vm_hex_encode(receipt.tx_hash.b, 32, hash);
    if (json)
        printf(
            "{\"address\": \"%s\", \"txHash\": \"%s\", \"blockNumber\": %llu, \"gasUsed\": %llu, "
            "\"codeSize\": %zu}\n",
            addr, hash, (unsigned long long)receipt.block_number,
            (unsigned long long)receipt.gas_used, code_len);
    else
        printf("%s\n", addr);
    ret = 0;
out:
    if (have_key) wipe(key, sizeof key);
    chain_receipt_free(&receipt);
    chain_wallet_free(wallet);
    chain_client_free(client);
    vm_secp_free(secp);
    vm_buf_free(&init);
    json_decref(root);
    return ret;
}
