/*
 * evm.c — the call/create frame driver around the interpreter.
 *
 * vm_evm_execute sets up frame 0 for the depth-0 message and hands over to
 * evm_interpret (vm/interp.c), which runs every nested call on the same
 * frame pool. evm_start_message is the part of a call or create that is the
 * same at every depth: the snapshot, the collision check, the account
 * creation, the value transfer, precompile dispatch and code lookup.
 */
#include "evm_start.h"

#include <stdlib.h>
#include <string.h>

/* Above this much cached code analysis, the cache is emptied between runs. */
#define EVM_CACHE_MAX_BYTES ((size_t)64 << 20)

int vm_evm_new(struct vm_evm **out)
{
    *out = NULL;
    struct vm_evm *evm = calloc(1, sizeof *evm);
    if (!evm) return VM_ERR_NOMEM;
    /* Without a secp context ecrecover fails as a precompile failure; a
     * missing context is an allocation failure here, so report it. */
    if (vm_secp_new(&evm->secp)) {
        free(evm);
        return VM_ERR_NOMEM;
    }
    *out = evm;
    return VM_OK;
}

void vm_evm_free(struct vm_evm *evm)
{
    if (!evm) return;
    for (size_t i = 0; i <= EVM_MAX_DEPTH; i++) {
        struct evm_frame *f = &evm->frames[i];
        free(f->stack);
        free(f->mem);
        free(f->ret);
        evm_code_release(&f->own);
    }
    evm_cache_free(&evm->cache);
    vm_secp_free(evm->secp);
    free(evm);
}

void vm_result_free(struct vm_result *r)
{
    if (!r) return;
    free(r->output);
    r->output = NULL;
    r->output_size = 0;
}

const char *vm_status_name(enum vm_status s)
{
    switch (s) {
    case VM_SUCCESS: return "success";
    case VM_REVERT: return "revert";
    case VM_OUT_OF_GAS: return "out of gas";
    case VM_INVALID_INSTRUCTION: return "invalid instruction";
    case VM_UNDEFINED_INSTRUCTION: return "undefined instruction";
    case VM_STACK_OVERFLOW: return "stack overflow";
    case VM_STACK_UNDERFLOW: return "stack underflow";
    case VM_BAD_JUMP_DESTINATION: return "bad jump destination";
    case VM_INVALID_MEMORY_ACCESS: return "invalid memory access";
    case VM_CALL_DEPTH_EXCEEDED: return "call depth exceeded";
    case VM_STATIC_MODE_VIOLATION: return "static mode violation";
    case VM_PRECOMPILE_FAILURE: return "precompile failure";
    case VM_CONTRACT_VALIDATION_FAILURE: return "contract validation failure";
    case VM_INSUFFICIENT_BALANCE: return "insufficient balance";
    case VM_NONCE_OVERFLOW: return "nonce overflow";
    case VM_ADDRESS_COLLISION: return "address collision";
    case VM_UNSUPPORTED: return "unsupported";
    case VM_INTERNAL_ERROR: return "internal error";
    }
    return "unknown status";
}

int evm_grow(uint8_t **buf, size_t *cap, size_t need, size_t first)
{
    if (*cap >= need) return VM_OK;
    size_t n = *cap ? *cap : first;
    while (n < need) n *= 2;
    uint8_t *p = realloc(*buf, n);
    if (!p) return VM_ERR_NOMEM;
    *buf = p;
    *cap = n;
    return VM_OK;
}

int evm_memory_grow(struct evm_frame *f, uint64_t words)
{
    size_t need = (size_t)words * 32;
    if (evm_grow(&f->mem, &f->mem_cap, need, 4096)) return VM_ERR_NOMEM;
    /* The buffer is reused across frames and runs: clear what becomes new. */
    size_t old = (size_t)f->mem_words * 32;
    if (need > old) memset(f->mem + old, 0, need - old);
    return VM_OK;
}

int evm_set_return_data(struct evm_frame *f, const uint8_t *data, size_t len)
{
    if (evm_grow(&f->ret, &f->ret_cap, len, 256)) return VM_ERR_NOMEM;
    if (len) memcpy(f->ret, data, len);
    f->ret_len = len;
    return VM_OK;
}

static void done_with(struct evm_done *d, enum vm_status status, int64_t gas_left)
{
    d->status = status;
    d->gas_left = gas_left;
    d->output = NULL;
    d->output_size = 0;
    d->owned = NULL;
}

enum evm_start evm_start_message(struct vm_evm *evm, struct evm_frame *f, struct evm_done *d)
{
    const struct vm_host_ops *ops = evm->host->ops;
    void *ctx = evm->host->ctx;
    bool is_create = f->kind == VM_CREATE || f->kind == VM_CREATE2;

    if (!f->stack && !(f->stack = malloc(sizeof(vm_u256) * EVM_STACK_LIMIT))) goto nomem;
    f->pc = 0;
    f->sp = 0;
    f->refund = 0;
    f->mem_words = 0;
    f->ret_len = 0;

    if (is_create) {
        /* EIP-684 (+ EIP-7610 where the host can tell): an address with a
         * nonce or code cannot be created at; all the gas is lost. */
        const uint8_t *c;
        if (ops->get_nonce(ctx, &f->recipient) != 0 || ops->get_code(ctx, &f->recipient, &c) != 0 ||
            (ops->has_storage && ops->has_storage(ctx, &f->recipient))) {
            done_with(d, VM_ADDRESS_COLLISION, 0);
            return EVM_START_DONE;
        }
        f->snapshot = ops->snapshot(ctx);
        if (ops->create_account(ctx, &f->recipient)) goto nomem;
        if (!ops->transfer(ctx, &f->sender, &f->recipient, f->value)) {
            ops->revert(ctx, f->snapshot);
            done_with(d, VM_INSUFFICIENT_BALANCE, f->gas);
            return EVM_START_DONE;
        }
        if (evm_analyse_into(&f->own, f->input, f->input_size)) goto nomem;
        f->code = &f->own;
        /* Init code is not calldata. */
        f->input = NULL;
        f->input_size = 0;
        return EVM_START_RUN;
    }

    f->snapshot = ops->snapshot(ctx);
    bool precompile = vm_is_precompile(&f->code_address);
    if (f->kind == VM_CALL) {
        /* geth: a value-less call to a non-existent account changes nothing;
         * otherwise the transfer (of zero, too) creates and touches it. */
        if (!vm_u256_is_zero(f->value) || precompile || ops->account_exists(ctx, &f->recipient)) {
            if (!ops->transfer(ctx, &f->sender, &f->recipient, f->value)) {
                ops->revert(ctx, f->snapshot);
                done_with(d, VM_INSUFFICIENT_BALANCE, f->gas);
                return EVM_START_DONE;
            }
        }
    }
    if (precompile) {
        struct vm_result r;
        memset(&r, 0, sizeof r);
        if (vm_precompile_run(evm->secp, &f->code_address, f->input, f->input_size, f->gas, &r))
            goto nomem;
        if (r.status == VM_UNSUPPORTED) evm->unsupported = true;
        if (r.status != VM_SUCCESS) {
            ops->revert(ctx, f->snapshot);
            free(r.output);
            done_with(d, r.status, r.status == VM_REVERT ? r.gas_left : 0);
            return EVM_START_DONE;
        }
        done_with(d, VM_SUCCESS, r.gas_left);
        d->output = r.output;
        d->output_size = r.output_size;
        d->owned = r.output;
        return EVM_START_DONE;
    }
    const uint8_t *code;
    size_t len = ops->get_code(ctx, &f->code_address, &code);
    if (len == 0) {
        done_with(d, VM_SUCCESS, f->gas);
        return EVM_START_DONE;
    }
    vm_bytes32 hash = ops->get_code_hash(ctx, &f->code_address);
    if (evm_cache_get(&evm->cache, &hash, code, len, &f->code)) goto nomem;
    return EVM_START_RUN;

nomem:
    evm->nomem = true;
    done_with(d, VM_INTERNAL_ERROR, 0);
    return EVM_START_DONE;
}

int vm_evm_execute(struct vm_evm *evm, const struct vm_host *host, const struct vm_tx_context *tx,
                   const struct vm_message *msg, struct vm_result *result)
{
    memset(result, 0, sizeof *result);
    evm_cache_trim(&evm->cache, EVM_CACHE_MAX_BYTES);
    evm->host = host;
    evm->tx = tx;
    evm->nomem = false;
    evm->unsupported = false;
    size_t root = host->ops->snapshot(host->ctx);

    struct evm_frame *f = &evm->frames[0];
    f->kind = msg->kind;
    f->is_static = msg->is_static;
    f->depth = msg->depth;
    f->gas = msg->gas;
    f->recipient = msg->recipient;
    f->sender = msg->sender;
    f->code_address = msg->code_address;
    f->value = msg->value;
    f->input = msg->input;
    f->input_size = msg->input_size;

    if (msg->depth < 0 || msg->depth > EVM_MAX_DEPTH) {
        result->status = VM_CALL_DEPTH_EXCEEDED;
        result->gas_left = msg->gas;
        return VM_OK;
    }
    if ((msg->kind == VM_CREATE || msg->kind == VM_CREATE2) &&
        msg->input_size > EVM_MAX_INITCODE_SIZE) {
        result->status = VM_OUT_OF_GAS;
        return VM_OK;
    }

    struct evm_done d;
    if (evm_start_message(evm, f, &d) == EVM_START_RUN) {
        evm_interpret(evm, result);
    } else {
        result->status = d.status;
        result->gas_left = d.gas_left;
        if (d.output_size && !evm->nomem) {
            result->output = d.owned;
            result->output_size = d.output_size;
            d.owned = NULL;
        }
        free(d.owned);
    }
    if (evm->nomem || evm->unsupported) {
        host->ops->revert(host->ctx, root);
        vm_result_free(result);
        result->status = evm->nomem ? VM_INTERNAL_ERROR : VM_UNSUPPORTED;
        result->gas_left = 0;
        result->gas_refund = 0;
        if (evm->nomem) return VM_ERR_NOMEM;
    }
    return VM_OK;
}
