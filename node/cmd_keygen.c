/*
 * bp keygen: creates (or imports) the node's private key and stores it
 * encrypted in the datadir. Prints the key's EIP-55 address.
 */
#include "cli.h"
#include "keystore.h"
#include "vm.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* Reads a hex private key file: optional 0x, surrounding white space allowed. */
static int read_key_file(const char *path, uint8_t key[32])
{
    FILE *f = fopen(path, "rb");
    if (!f) return cli_fail("keygen: cannot open --import file %s: %s", path, strerror(errno));
    char text[256];
    size_t n = fread(text, 1, sizeof text - 1, f);
    bool more = fgetc(f) != EOF;
    fclose(f);
    if (more) {
        sodium_memzero(text, sizeof text);
        return cli_fail("keygen: %s: not a hex private key (file too long)", path);
    }
    text[n] = '\0';
    char *start = text;
    while (*start == ' ' || *start == '\t' || *start == '\n' || *start == '\r')
        start++;
    size_t len = strlen(start);
    while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t' || start[len - 1] == '\n' ||
                       start[len - 1] == '\r'))
        len--;
    size_t got = 0;
    int err = vm_hex_decode_n(start, len, key, 32, &got);
    sodium_memzero(text, sizeof text);
    if (err || got != 32)
        return cli_fail("keygen: %s: not a hex private key (want 64 hex digits, optional 0x)",
                        path);
    return 0;
}

static void print_address(const vm_address *addr, bool json)
{
    char text[43];
    vm_address_to_checksum(addr, text);
    if (json)
        printf("{\"address\": \"%s\"}\n", text);
    else
        printf("%s\n", text);
}

static int read_password(const char *path, char *password, size_t cap)
{
    int err = keystore_read_password_file(path, password, cap);
    if (err == KEYSTORE_ERR_ARG)
        return cli_fail("keygen: password file %s must hold a non-empty password of at most %d "
                        "bytes (one trailing newline is ignored)",
                        path, KEYSTORE_PASSWORD_MAX);
    if (err)
        return cli_fail("keygen: cannot read password file %s: %s", path,
                        err == KEYSTORE_ERR_NOT_FOUND ? "no such file" : strerror(errno));
    return 0;
}

/* --address: decrypts the existing key and prints its address. */
static int show_address(const char *datadir, const char *password_file, bool json)
{
    char password[KEYSTORE_PASSWORD_MAX + 1];
    int rc = read_password(password_file, password, sizeof password);
    if (rc) return rc;
    uint8_t key[32];
    int err = keystore_load(datadir, password, key);
    sodium_memzero(password, sizeof password);
    if (err == KEYSTORE_ERR_NOT_FOUND)
        return cli_fail("keygen: no key in %s (create one with bp keygen --datadir %s ...)",
                        datadir, datadir);
    if (err == KEYSTORE_ERR_PASSWORD)
        return cli_fail("keygen: wrong password for the key in %s/%s (or the file is damaged)",
                        datadir, KEYSTORE_FILE_NAME);
    if (err == KEYSTORE_ERR_IO)
        return cli_fail("keygen: cannot read %s/%s: %s", datadir, KEYSTORE_FILE_NAME,
                        strerror(errno));
    if (err)
        return cli_fail("keygen: %s/%s: %s", datadir, KEYSTORE_FILE_NAME, keystore_strerror(err));
    struct vm_secp *secp = NULL;
    vm_address addr;
    if (vm_secp_new(&secp) != VM_OK)
        rc = cli_fail("keygen: cannot create a secp256k1 context");
    else if (vm_key_address(secp, key, &addr) != VM_OK)
        rc = cli_fail("keygen: the stored key is not a valid secp256k1 key");
    vm_secp_free(secp);
    sodium_memzero(key, sizeof key);
    if (rc) return rc;
    print_address(&addr, json);
    return 0;
}

int cmd_keygen(int argc, char **argv)
{
    const char *datadir = NULL, *password_file = NULL, *import = NULL;
    bool json = false, show = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--json") == 0) {
            json = true;
            continue;
        }
        if (strcmp(a, "--address") == 0) {
            show = true;
            continue;
        }
        if (strcmp(a, "--datadir") == 0)
            slot = &datadir;
        else if (strcmp(a, "--password-file") == 0)
            slot = &password_file;
        else if (strcmp(a, "--import") == 0)
            slot = &import;
        else
            return cli_fail("keygen: unknown option '%s' (see bp keygen --help)", a);
        if (i + 1 >= argc) return cli_fail("keygen: %s needs a value", a);
        *slot = argv[++i];
    }
    if (!datadir) return cli_fail("keygen: --datadir DIR is required");
    if (!password_file) return cli_fail("keygen: --password-file F is required");
    if (sodium_init() < 0) return cli_fail("keygen: libsodium failed to initialise");
    if (show && import) return cli_fail("keygen: --address and --import exclude each other");
    if (show) return show_address(datadir, password_file, json);

    /* Refuse early, before reading secrets or running the KDF. */
    if (keystore_exists(datadir))
        return cli_fail("keygen: %s already holds a key (%s/%s); refusing to overwrite it", datadir,
                        datadir, KEYSTORE_FILE_NAME);

    char password[KEYSTORE_PASSWORD_MAX + 1];
    int err = read_password(password_file, password, sizeof password);
    if (err) return err;

    struct vm_secp *secp = NULL;
    if (vm_secp_new(&secp) != VM_OK) {
        sodium_memzero(password, sizeof password);
        return cli_fail("keygen: cannot create a secp256k1 context");
    }
    uint8_t key[32];
    vm_address addr;
    int rc = 0;
    if (import) {
        rc = read_key_file(import, key);
        if (rc == 0 && vm_key_address(secp, key, &addr) != VM_OK)
            rc = cli_fail("keygen: %s: not a valid secp256k1 private key (zero or >= n)", import);
    } else {
        /* A uniform 32-byte string is a valid key but with probability ~2^-128. */
        do
            randombytes_buf(key, sizeof key);
        while (vm_key_address(secp, key, &addr) != VM_OK);
    }
    vm_secp_free(secp);

    if (rc == 0) {
        err = keystore_create(datadir, password, key);
        if (err == KEYSTORE_ERR_EXISTS)
            rc = cli_fail("keygen: %s already holds a key (%s/%s); refusing to overwrite it",
                          datadir, datadir, KEYSTORE_FILE_NAME);
        else if (err == KEYSTORE_ERR_IO)
            rc = cli_fail("keygen: cannot write the key to %s: %s", datadir, strerror(errno));
        else if (err)
            rc = cli_fail("keygen: %s", keystore_strerror(err));
    }
    sodium_memzero(key, sizeof key);
    sodium_memzero(password, sizeof password);
    if (rc) return rc;

    print_address(&addr, json);
    return 0;
}
