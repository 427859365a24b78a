/*
 * evm_fuzz.c — libFuzzer target for the interpreter and frame driver.
 *
 * Input: [flags][code length hi][code length lo][code][calldata]. The code is
 * installed at two addresses (0xc0de... and 0x0100, which PUSH2 can reach),
 * then called (or, with flag bit 0, run as init code of a create) with 1e6
 * gas over the in-memory world. Each input runs twice on fresh worlds with
 * the same struct vm_evm: the results and state roots must be identical
 * (pooled stacks/memory/caches must not leak between runs), and every result
 * must obey the gas contract (0 <= gas_left <= gas; no gas and no output
 * after an exceptional halt).
 */
#include "vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_GAS 1000000

struct outcome {
    struct vm_result res;
    uint8_t root[32];
};

static const struct vm_tx_context fuzz_tx = {
    .number = 100, .timestamp = 1, .gas_limit = 30000000, .chain_id = {{1, 0, 0, 0}}};

static void fail(const char *why)
{
    fprintf(stderr, "evm_fuzz: %s\n", why);
    abort();
}

static void run_once(struct vm_evm *evm, const uint8_t *code, size_t code_len,
                     const uint8_t *input, size_t input_len, bool create, struct outcome *o)
{
    struct vm_world *w;
    if (vm_world_new(&w)) fail("world alloc");
    vm_address sender = {{0}}, contract = {{0}}, other = {{0}};
    sender.b[0] = 0x5e;
    contract.b[0] = 0xc0;
    contract.b[1] = 0xde;
    other.b[18] = 0x01;
    if (vm_world_set_account(w, &sender, 1, vm_u256_from_u64(1000000000000ULL), NULL, 0) ||
        vm_world_set_account(w, &contract, 1, vm_u256_from_u64(1000), code, code_len) ||
        vm_world_set_account(w, &other, 1, vm_u256_from_u64(5), code, code_len) ||
        vm_world_set_storage(w, &contract, vm_u256_from_u64(0), vm_u256_from_u64(7)))
        fail("world setup");
    vm_world_begin_tx(w);
    struct vm_host host = vm_world_host(w);
    (void)host.ops->access_account(host.ctx, &sender);
    struct vm_message msg = {
        .kind = create ? VM_CREATE : VM_CALL,
        .gas = FUZZ_GAS,
        .sender = sender,
        .value = vm_u256_from_u64(3),
    };
    if (create) {
        vm_create_address(&sender, 1, &msg.recipient);
        host.ops->set_nonce(host.ctx, &sender, 2);
        msg.input = code;
        msg.input_size = code_len;
    } else {
        msg.recipient = contract;
        msg.input = input;
        msg.input_size = input_len;
    }
    msg.code_address = msg.recipient;
    (void)host.ops->access_account(host.ctx, &msg.recipient);
    if (vm_evm_execute(evm, &host, &fuzz_tx, &msg, &o->res)) fail("execute: out of memory");
    vm_world_end_tx(w);
    if (vm_world_state_root(w, o->root)) fail("state root");
    vm_world_free(w);

    const struct vm_result *r = &o->res;
    if (r->gas_left < 0 || r->gas_left > FUZZ_GAS) fail("gas_left out of range");
    if (r->status > VM_INTERNAL_ERROR) fail("bad status");
    if (r->status != VM_SUCCESS && r->status != VM_REVERT && r->status != VM_UNSUPPORTED &&
        (r->gas_left != 0 || r->output_size != 0))
        fail("exceptional halt kept gas or output");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    bool create = data[0] & 1;
    size_t code_len = (size_t)data[1] << 8 | data[2];
    data += 3;
    size -= 3;
    if (code_len > size) code_len = size;
    const uint8_t *code = data, *input = data + code_len;
    size_t input_len = size - code_len;

    struct vm_evm *evm;
    if (vm_evm_new(&evm)) fail("evm alloc");
    struct outcome a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    run_once(evm, code, code_len, input, input_len, create, &a);
    run_once(evm, code, code_len, input, input_len, create, &b);
    if (a.res.status != b.res.status || a.res.gas_left != b.res.gas_left ||
        a.res.gas_refund != b.res.gas_refund || a.res.output_size != b.res.output_size ||
        (a.res.output_size && memcmp(a.res.output, b.res.output, a.res.output_size)) ||
        memcmp(a.root, b.root, 32))
        fail("two runs of the same input differ");
    vm_result_free(&a.res);
    vm_result_free(&b.res);
    vm_evm_free(evm);
    return 0;
}
