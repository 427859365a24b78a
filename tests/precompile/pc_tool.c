/*
 * pc_tool — runs the precompile algorithms on lines from stdin, for the
 * differential test against anvil (anvil_diff.js). Each input line is
 * "<op> <hex input>" with op one of 5 (modexp), 6 (ecadd), 7 (ecmul),
 * 8 (pairing), 9 (blake2f), g2mul (128-byte point ++ 32-byte scalar),
 * or gas5 / gas9 (the price of a modexp / blake2f input); each output line
 * is "ok <hex output>" (for gas*: "ok <decimal gas>") or "fail".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "precompile_internal.h"

#define MAX_INPUT (64 * 1024)

static void print_ok(const uint8_t *out, size_t len)
{
    char *hex = malloc(2 * len + 3);
    if (!hex) abort();
    vm_hex_encode(out, len, hex);
    printf("ok %s\n", hex + 2);
    free(hex);
}

static void run(const char *op, const uint8_t *in, size_t len)
{
    uint8_t out[128];
    if (strcmp(op, "5") == 0) {
        uint8_t *res = NULL;
        size_t res_len = 0;
        if (vm_pc_modexp(in, len, &res, &res_len) != VM_OK) {
            puts("fail");
            return;
        }
        print_ok(res, res_len);
        free(res);
    } else if (strcmp(op, "6") == 0 || strcmp(op, "7") == 0) {
        int rc = op[0] == '6' ? vm_pc_bn254_add(in, len, out) : vm_pc_bn254_mul(in, len, out);
        if (rc != VM_OK) {
            puts("fail");
            return;
        }
        print_ok(out, 64);
    } else if (strcmp(op, "8") == 0) {
        bool ok = false;
        if (vm_pc_bn254_pairing(in, len, &ok) != VM_OK) {
            puts("fail");
            return;
        }
        memset(out, 0, 32);
        out[31] = ok;
        print_ok(out, 32);
    } else if (strcmp(op, "9") == 0) {
        if (vm_pc_blake2f(in, len, out) != VM_OK) {
            puts("fail");
            return;
        }
        print_ok(out, 64);
    } else if (strcmp(op, "gas5") == 0) {
        printf("ok %llu\n", (unsigned long long)vm_pc_modexp_gas(in, len));
    } else if (strcmp(op, "gas9") == 0) {
        uint32_t rounds = 0;
        if (vm_pc_blake2f_rounds(in, len, &rounds) != VM_OK) {
            puts("fail");
            return;
        }
        printf("ok %u\n", (unsigned)rounds);
    } else if (strcmp(op, "g2mul") == 0 && len == 160) {
        if (vm_pc_bn254_g2_mul(in, in + 128, out) != VM_OK) {
            puts("fail");
            return;
        }
        print_ok(out, 128);
    } else {
        puts("fail");
    }
}

int main(void)
{
    static char line[2 * MAX_INPUT + 64];
    static uint8_t in[MAX_INPUT];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        char *sp = strchr(line, ' ');
        const char *hex = sp ? sp + 1 : "";
        if (sp) *sp = 0;
        size_t len = 0;
        if (vm_hex_decode(hex, in, sizeof in, &len) != VM_OK) {
            puts("fail");
            continue;
        }
        run(line, in, len);
    }
    return 0;
}
