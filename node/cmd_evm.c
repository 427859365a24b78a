/*
 * cmd_evm.c — `bp evm run (--code HEX | --code-file F) [--input HEX] [--gas N] [--json]`:
 * runs bytecode as the callee of a call from a fixed sender in a fresh
 * in-memory world (Cancun rules, as a transaction's top-level call: sender,
 * callee and precompiles warm) and prints the output, the execution gas used
 * (no intrinsic gas, before refunds) and the status.
 */
#include "cli.h"

#include "vm.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Fixed addresses of the run. */
static const vm_address evm_run_sender = {{0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                           0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}};
static const vm_address evm_run_callee = {{0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                           0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02}};

/* Decodes hex text (whitespace around it ignored) into a fresh buffer. */
static int decode_hex_arg(const char *text, size_t len, uint8_t **out, size_t *out_len)
{
    while (len && strchr(" \t\r\n", text[0])) text++, len--;
    while (len && strchr(" \t\r\n", text[len - 1])) len--;
    uint8_t *buf = malloc(len / 2 + 1);
    if (!buf) return VM_ERR_NOMEM;
    int err = vm_hex_decode_n(text, len, buf, len / 2 + 1, out_len);
    if (err) {
        free(buf);
        return err;
    }
    *out = buf;
    return VM_OK;
}

static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    struct vm_buf b = {0};
    char chunk[65536];
    size_t n;
    int err = 0;
    while (!err && (n = fread(chunk, 1, sizeof chunk, f)) > 0) err = vm_buf_append(&b, chunk, n);
    if (ferror(f)) err = -1;
    fclose(f);
    if (err) {
        vm_buf_free(&b);
        return -1;
    }
    *out = (char *)b.data;
    *len = b.len;
    return 0;
}

static const char *status_word(enum vm_status s)
{
    if (s == VM_SUCCESS) return "success";
    if (s == VM_REVERT) return "revert";
    return "halt";
}

static int evm_run(const uint8_t *code, size_t code_len, const uint8_t *input, size_t input_len,
                   int64_t gas, bool json)
{
    struct vm_world *w = NULL;
    struct vm_evm *evm = NULL;
    if (vm_world_new(&w) || vm_evm_new(&evm)) {
        vm_world_free(w);
        return cli_fail("evm run: out of memory");
    }
    int err = vm_world_set_account(w, &evm_run_sender, 1, vm_u256_from_u64(0), NULL, 0);
    if (!err) err = vm_world_set_account(w, &evm_run_callee, 1, vm_u256_from_u64(0), code, code_len);
    struct vm_host host = vm_world_host(w);
    struct vm_result res;
    memset(&res, 0, sizeof res);
    if (!err) {
        vm_world_begin_tx(w);
        (void)host.ops->access_account(host.ctx, &evm_run_sender);
        (void)host.ops->access_account(host.ctx, &evm_run_callee);
        for (int i = 1; i <= 10; i++) {
            vm_address p = {{0}};
            p.b[19] = (uint8_t)i;
            (void)host.ops->access_account(host.ctx, &p);
        }
        struct vm_tx_context ctx = {
            .origin = evm_run_sender,
            .number = 1,
            .gas_limit = gas,
            .chain_id = vm_u256_from_u64(1),
        };
        struct vm_message msg = {
            .kind = VM_CALL,
            .gas = gas,
            .recipient = evm_run_callee,
            .sender = evm_run_sender,
            .code_address = evm_run_callee,
            .input = input,
            .input_size = input_len,
        };
        err = vm_evm_execute(evm, &host, &ctx, &msg, &res);
    }
    vm_evm_free(evm);
    vm_world_free(w);
    if (err) return cli_fail("evm run: %s", vm_strerror(err));

    int64_t used = gas - (res.gas_left < 0 ? 0 : res.gas_left);
    char *hex = malloc(2 * res.output_size + 3);
    if (!hex) {
        vm_result_free(&res);
        return cli_fail("evm run: out of memory");
    }
    vm_hex_encode(res.output, res.output_size, hex);
    if (json) {
        json_t *o = json_pack("{s:s, s:I, s:s}", "output", hex, "gasUsed", (json_int_t)used,
                              "status", status_word(res.status));
        char *text = o ? json_dumps(o, 0) : NULL;
        if (text) puts(text);
        free(text);
        json_decref(o);
    } else {
        printf("output: %s\ngas used: %lld\nstatus: %s", hex, (long long)used,
               status_word(res.status));
        if (res.status != VM_SUCCESS && res.status != VM_REVERT)
            printf(" (%s)", vm_status_name(res.status));
        putchar('\n');
    }
    free(hex);
    vm_result_free(&res);
    return 0;
}

int cmd_evm(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "run") != 0)
        return cli_fail("evm: expected `bp evm run ...` (see bp evm --help)");
    const char *code_hex = NULL, *code_file = NULL, *input_hex = "";
    int64_t gas = 30000000;
    bool json = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--code") == 0 && has_value) {
            code_hex = argv[++i];
        } else if (strcmp(a, "--code-file") == 0 && has_value) {
            code_file = argv[++i];
        } else if (strcmp(a, "--input") == 0 && has_value) {
            input_hex = argv[++i];
        } else if (strcmp(a, "--gas") == 0 && has_value) {
            vm_u256 g;
            if (vm_u256_parse(argv[++i], &g) || !vm_u256_fits_u64(g) || g.w[0] > INT64_MAX)
                return cli_fail("evm run: bad --gas: %s", argv[i]);
            gas = (int64_t)g.w[0];
        } else {
            return cli_fail("evm run: unknown option or missing value: %s", a);
        }
    }
    if (!code_hex == !code_file) return cli_fail("evm run: give exactly one of --code, --code-file");

    char *file_text = NULL;
    size_t file_len = 0;
    if (code_file && read_file(code_file, &file_text, &file_len))
        return cli_fail("evm run: cannot read %s", code_file);
    uint8_t *code = NULL, *input = NULL;
    size_t code_len = 0, input_len = 0;
    int err = code_file ? decode_hex_arg(file_text, file_len, &code, &code_len)
                        : decode_hex_arg(code_hex, strlen(code_hex), &code, &code_len);
    free(file_text);
    if (err) return cli_fail("evm run: bad code hex: %s", vm_strerror(err));
    if ((err = decode_hex_arg(input_hex, strlen(input_hex), &input, &input_len))) {
        free(code);
        return cli_fail("evm run: bad --input hex: %s", vm_strerror(err));
    }
    int rc = evm_run(code, code_len, input, input_len, gas, json);
    free(code);
    free(input);
    return rc;
}
