/*
 * interp.c — the Cancun interpreter loop.
 *
 * One function runs every frame of a message: CALL/CREATE save the current
 * frame's registers (pc, stack height, gas) into its struct evm_frame, start
 * the next frame of the pool and keep dispatching; RETURN/STOP/REVERT and
 * exceptional halts finish the frame, pop back to the parent and deliver the
 * result there. So call depth never grows the C stack.
 *
 * Dispatch is by computed goto (labels as values). Constant gas and stack
 * bounds are checked once per basic block (see struct evm_block in
 * evm_internal.h and vm/analysis.c); dynamic costs are charged in the
 * instruction before any memory is allocated, so hostile code only ever gets
 * the memory its gas paid for.
 */
#include "evm_start.h"
#include "evm_u256.h"

#include <stdlib.h>
#include <string.h>

/* The byte range [off, off+size) of a memory operand. A zero size never
 * touches memory whatever the offset; any range beyond 2^32 bytes costs more
 * gas than exists, so it is an out-of-gas. */
static inline bool mem_range(const vm_u256 *off, const vm_u256 *size, uint64_t *o, uint64_t *s)
{
    if (w_is_zero(size)) {
        *o = 0;
        *s = 0;
        return true;
    }
    if (!w_fits64(off) || !w_fits64(size) || off->w[0] > 0xffffffffu || size->w[0] > 0xffffffffu)
        return false;
    *o = off->w[0];
    *s = size->w[0];
    return true;
}

/* The gas to expand f's memory to cover end bytes (end > current size). */
static inline int64_t mem_cost(const struct evm_frame *f, uint64_t words)
{
    return evm_memory_cost(words) - evm_memory_cost(f->mem_words);
}

/* dst[0..size) = src[off..off+size) with zeros past src_len. */
static void copy_padded(uint8_t *dst, uint64_t size, const uint8_t *src, size_t src_len,
                        const vm_u256 *off)
{
    uint64_t n = 0;
    if (w_fits64(off) && off->w[0] < src_len) {
        n = src_len - off->w[0];
        if (n > size) n = size;
        memcpy(dst, src + off->w[0], n);
    }
    if (size > n) memset(dst + n, 0, size - n);
}

static inline uint64_t words_of(uint64_t bytes)
{
    return (bytes + 31) / 32;
}

static bool is_empty_account(const struct vm_host *h, const vm_address *a)
{
    return !h->ops->account_exists(h->ctx, a) || h->ops->account_is_empty(h->ctx, a);
}

void evm_interpret(struct vm_evm *evm, struct vm_result *result)
{
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Winitializer-overrides"
#elif defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#endif
    /* Every opcode defaults to "undefined"; the defined ones override it. */
    static const void *const labels[256] = {
        [0 ... 255] = &&op_undefined,
        [0x00] = &&op_stop, [0x01] = &&op_add, [0x02] = &&op_mul, [0x03] = &&op_sub,
        [0x04] = &&op_div, [0x05] = &&op_sdiv, [0x06] = &&op_mod, [0x07] = &&op_smod,
        [0x08] = &&op_addmod, [0x09] = &&op_mulmod, [0x0a] = &&op_exp,
        [0x0b] = &&op_signextend,
        [0x10] = &&op_lt, [0x11] = &&op_gt, [0x12] = &&op_slt, [0x13] = &&op_sgt,
        [0x14] = &&op_eq, [0x15] = &&op_iszero, [0x16] = &&op_and, [0x17] = &&op_or,
        [0x18] = &&op_xor, [0x19] = &&op_not, [0x1a] = &&op_byte, [0x1b] = &&op_shl,
        [0x1c] = &&op_shr, [0x1d] = &&op_sar,
        [0x20] = &&op_keccak,
        [0x30] = &&op_address, [0x31] = &&op_balance, [0x32] = &&op_origin,
        [0x33] = &&op_caller, [0x34] = &&op_callvalue, [0x35] = &&op_calldataload,
        [0x36] = &&op_calldatasize, [0x37] = &&op_calldatacopy, [0x38] = &&op_codesize,
        [0x39] = &&op_codecopy, [0x3a] = &&op_gasprice, [0x3b] = &&op_extcodesize,
        [0x3c] = &&op_extcodecopy, [0x3d] = &&op_returndatasize,
        [0x3e] = &&op_returndatacopy, [0x3f] = &&op_extcodehash,
        [0x40] = &&op_blockhash, [0x41] = &&op_coinbase, [0x42] = &&op_timestamp,
        [0x43] = &&op_number, [0x44] = &&op_prevrandao, [0x45] = &&op_gaslimit,
        [0x46] = &&op_chainid, [0x47] = &&op_selfbalance, [0x48] = &&op_basefee,
        [0x49] = &&op_blobhash, [0x4a] = &&op_blobbasefee,
        [0x50] = &&op_pop, [0x51] = &&op_mload, [0x52] = &&op_mstore, [0x53] = &&op_mstore8,
        [0x54] = &&op_sload, [0x55] = &&op_sstore, [0x56] = &&op_jump, [0x57] = &&op_jumpi,
        [0x58] = &&op_pc, [0x59] = &&op_msize, [0x5a] = &&op_gas, [0x5b] = &&op_jumpdest,
        [0x5c] = &&op_tload, [0x5d] = &&op_tstore, [0x5e] = &&op_mcopy, [0x5f] = &&op_push0,
        [0x60] = &&op_push1, [0x61 ... 0x67] = &&op_push_small, [0x68 ... 0x7f] = &&op_push,
        [0x80 ... 0x8f] = &&op_dup, [0x90 ... 0x9f] = &&op_swap, [0xa0 ... 0xa4] = &&op_log,
        [0xf0] = &&op_create, [0xf1] = &&op_call, [0xf2] = &&op_call, [0xf3] = &&op_return,
        [0xf4] = &&op_call, [0xf5] = &&op_create, [0xfa] = &&op_call, [0xfd] = &&op_revert,
        [0xfe] = &&op_invalid, [0xff] = &&op_selfdestruct,
    };
#if defined(__clang__)
#pragma clang diagnostic pop
#elif defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

    const struct vm_host *host = evm->host;
    const struct vm_host_ops *ops = host->ops;
    void *hctx = host->ctx;
    const struct vm_tx_context *tx = evm->tx;

    struct evm_frame *f = &evm->frames[0];
    const uint8_t *code;
    const uint8_t *ip;
    vm_u256 *sp, *stack_base;
    int64_t gas;

    /* halt state */
    enum vm_status status = VM_SUCCESS;
    uint64_t out_off = 0, out_len = 0;

    /* delivery of a finished child to its parent */
    struct evm_done d = {0};
    vm_address d_addr = {{0}};

#define SAVE()                                                                                     \
    do {                                                                                           \
        f->pc = (size_t)(ip - code);                                                               \
        f->sp = (int)(sp - f->stack);                                                              \
        f->gas = gas;                                                                              \
    } while (0)
#define LOAD()                                                                                     \
    do {                                                                                           \
        code = f->code->code;                                                                      \
        ip = code + f->pc;                                                                         \
        stack_base = f->stack;                                                                     \
        sp = stack_base + f->sp;                                                                   \
        gas = f->gas;                                                                              \
    } while (0)
#define DISPATCH() goto *labels[*ip]
/* The start of a basic block: its constant gas and stack bounds at once. */
#define BEGIN_BLOCK()                                                                              \
    do {                                                                                           \
        const struct evm_block *b_ = &f->code->blocks[ip - code];                                  \
        int h_ = (int)(sp - stack_base);                                                           \
        if ((gas -= b_->gas) < 0) goto oog;                                                        \
        if (h_ < b_->min_height) goto underflow;                                                   \
        if (h_ + b_->max_growth > EVM_STACK_LIMIT) goto overflow;                                  \
    } while (0)
/* Entering a block by falling into it: a JUMPDEST begins its block itself
 * (it is also entered by jumps), so it is not charged here. */
#define ENTER_BLOCK()                                                                              \
    do {                                                                                           \
        if (*ip != 0x5b) BEGIN_BLOCK();                                                            \
    } while (0)
/* Continue with a new block at ip + n. */
#define NEXT_BLOCK(n)                                                                              \
    do {                                                                                           \
        ip += (n);                                                                                 \
        ENTER_BLOCK();                                                                             \
        DISPATCH();                                                                                \
    } while (0)
#define NEXT(n)                                                                                    \
    do {                                                                                           \
        ip += (n);                                                                                 \
        DISPATCH();                                                                                \
    } while (0)
/* a op b with a on top: pops two words, pushes one (most arithmetic and logic opcodes) */
#define BINARY_OP(fn)                                                                              \
    do {                                                                                           \
        sp[-2] = fn(&sp[-1], &sp[-2]);                                                             \
        sp--;                                                                                      \
        NEXT(1);                                                                                   \
    } while (0)
/* a comparison of two stack words: pops two, pushes 1 or 0 */
#define COMPARE_OP(fn, x, y)                                                                       \
    do {                                                                                           \
        sp[-2] = w_u64(fn(&(x), &(y)));                                                            \
        sp--;                                                                                      \
        NEXT(1);                                                                                   \
    } while (0)
#define FAIL(s)                                                                                    \
    do {                                                                                           \
        status = (s);                                                                              \
        goto halt;                                                                                 \
    } while (0)
/* Memory expansion is paid for before it is allocated. */
#define MEM(end)                                                                                   \
    do {                                                                                           \
        uint64_t w_ = ((end) + 31) / 32;                                                           \
        if (w_ > f->mem_words) {                                                                   \
            if ((gas -= mem_cost(f, w_)) < 0) goto oog;                                            \
            if (evm_memory_grow(f, w_)) goto nomem;                                                \
            f->mem_words = w_;                                                                     \
        }                                                                                          \
    } while (0)
#define CHARGE(c)                                                                                  \
    do {                                                                                           \
        if ((gas -= (int64_t)(c)) < 0) goto oog;                                                   \
    } while (0)

    LOAD();
    ENTER_BLOCK();
    DISPATCH();

op_stop:
    out_off = out_len = 0;
    FAIL(VM_SUCCESS);

op_add:
    BINARY_OP(w_add);
op_mul:
    BINARY_OP(w_mul);
op_sub:
    BINARY_OP(w_sub);
op_div:
    BINARY_OP(w_div);
op_sdiv:
    BINARY_OP(w_sdiv);
op_mod:
    BINARY_OP(w_mod);
op_smod:
    BINARY_OP(w_smod);
op_addmod:
    sp[-3] = vm_u256_addmod(sp[-1], sp[-2], sp[-3]);
    sp -= 2;
    NEXT(1);
op_mulmod:
    sp[-3] = vm_u256_mulmod(sp[-1], sp[-2], sp[-3]);
    sp -= 2;
    NEXT(1);
op_exp:
    CHARGE(50 * (int64_t)vm_u256_byte_length(sp[-2]));
    sp[-2] = vm_u256_exp(sp[-1], sp[-2]);
    sp--;
    NEXT(1);
op_signextend:
    BINARY_OP(w_signextend);

op_lt:
    COMPARE_OP(w_lt, sp[-1], sp[-2]);
op_gt:
    COMPARE_OP(w_lt, sp[-2], sp[-1]);
op_slt:
    COMPARE_OP(w_slt, sp[-1], sp[-2]);
op_sgt:
    COMPARE_OP(w_slt, sp[-2], sp[-1]);
op_eq:
    COMPARE_OP(w_eq, sp[-1], sp[-2]);
op_iszero:
    sp[-1] = w_u64(w_is_zero(&sp[-1]));
    NEXT(1);
op_and:
    BINARY_OP(w_and);
op_or:
    BINARY_OP(w_or);
op_xor:
    BINARY_OP(w_xor);
op_not:
    sp[-1].w[0] = ~sp[-1].w[0];
    sp[-1].w[1] = ~sp[-1].w[1];
    sp[-1].w[2] = ~sp[-1].w[2];
    sp[-1].w[3] = ~sp[-1].w[3];
    NEXT(1);
op_byte:
    BINARY_OP(w_byte);
op_shl:
    sp[-2] = (w_fits64(&sp[-1]) && sp[-1].w[0] < 256) ? w_shl(&sp[-2], (unsigned)sp[-1].w[0])
                                                       : w_u64(0);
    sp--;
    NEXT(1);
op_shr:
    sp[-2] = (w_fits64(&sp[-1]) && sp[-1].w[0] < 256) ? w_shr(&sp[-2], (unsigned)sp[-1].w[0])
                                                       : w_u64(0);
    sp--;
    NEXT(1);
op_sar:
    BINARY_OP(w_sar);

op_keccak: {
    uint64_t o, s;
    if (!mem_range(&sp[-1], &sp[-2], &o, &s)) goto oog;
    CHARGE(6 * words_of(s));
    if (s) MEM(o + s);
    uint8_t h[32];
    vm_keccak256(s ? f->mem + o : (const uint8_t *)"", (size_t)s, h);
    sp[-2] = w_load32_be(h);
    sp--;
    NEXT(1);
}

op_address:
    *sp++ = w_from_address(&f->recipient);
    NEXT(1);
op_balance: {
    vm_address a = w_to_address(&sp[-1]);
    if (!ops->access_account(hctx, &a)) CHARGE(2500);
    sp[-1] = ops->get_balance(hctx, &a);
    NEXT(1);
}
op_origin:
    *sp++ = w_from_address(&tx->origin);
    NEXT(1);
op_caller:
    *sp++ = w_from_address(&f->sender);
    NEXT(1);
op_callvalue:
    *sp++ = f->value;
    NEXT(1);
op_calldataload: {
    uint8_t buf[32];
    copy_padded(buf, 32, f->input, f->input_size, &sp[-1]);
    sp[-1] = w_load32_be(buf);
    NEXT(1);
}
op_calldatasize:
    *sp++ = w_u64(f->input_size);
    NEXT(1);
op_calldatacopy:
op_codecopy:
op_returndatacopy: {
    uint64_t o, s;
    if (!mem_range(&sp[-1], &sp[-3], &o, &s)) goto oog;
    if (*ip == 0x3e) {
        /* Reading past the return data is an exceptional halt (EIP-211). */
        const vm_u256 *src = &sp[-2];
        if (!w_fits64(src) || !w_fits64(&sp[-3]) || src->w[0] > f->ret_len ||
            sp[-3].w[0] > f->ret_len - src->w[0])
            FAIL(VM_INVALID_MEMORY_ACCESS);
    }
    CHARGE(3 * words_of(s));
    if (s) {
        MEM(o + s);
        if (*ip == 0x37)
            copy_padded(f->mem + o, s, f->input, f->input_size, &sp[-2]);
        else if (*ip == 0x39)
            copy_padded(f->mem + o, s, code, f->code->len, &sp[-2]);
        else
            memcpy(f->mem + o, f->ret + sp[-2].w[0], s);
    }
    sp -= 3;
    NEXT(1);
}
op_codesize:
    *sp++ = w_u64(f->code->len);
    NEXT(1);
op_gasprice:
    *sp++ = tx->gas_price;
    NEXT(1);
op_extcodesize: {
    vm_address a = w_to_address(&sp[-1]);
    if (!ops->access_account(hctx, &a)) CHARGE(2500);
    const uint8_t *c;
    sp[-1] = w_u64(ops->get_code(hctx, &a, &c));
    NEXT(1);
}
op_extcodecopy: {
    vm_address a = w_to_address(&sp[-1]);
    uint64_t o, s;
    if (!mem_range(&sp[-2], &sp[-4], &o, &s)) goto oog;
    CHARGE(3 * words_of(s));
    if (s) MEM(o + s);
    if (!ops->access_account(hctx, &a)) CHARGE(2500);
    if (s) {
        const uint8_t *c;
        size_t n = ops->get_code(hctx, &a, &c);
        copy_padded(f->mem + o, s, c, n, &sp[-3]);
    }
    sp -= 4;
    NEXT(1);
}
op_returndatasize:
    *sp++ = w_u64(f->ret_len);
    NEXT(1);
op_extcodehash: {
    vm_address a = w_to_address(&sp[-1]);
    if (!ops->access_account(hctx, &a)) CHARGE(2500);
    vm_bytes32 h = ops->get_code_hash(hctx, &a);
    sp[-1] = w_load32_be(h.b);
    NEXT(1);
}

op_blockhash: {
    vm_u256 r = w_u64(0);
    if (w_fits64(&sp[-1]) && sp[-1].w[0] < (uint64_t)INT64_MAX) {
        int64_t n = (int64_t)sp[-1].w[0];
        if (n < tx->number && n >= tx->number - 256) {
            vm_bytes32 h = ops->get_block_hash(hctx, n);
            r = w_load32_be(h.b);
        }
    }
    sp[-1] = r;
    NEXT(1);
}
op_coinbase:
    *sp++ = w_from_address(&tx->coinbase);
    NEXT(1);
op_timestamp:
    *sp++ = w_u64((uint64_t)tx->timestamp);
    NEXT(1);
op_number:
    *sp++ = w_u64((uint64_t)tx->number);
    NEXT(1);
op_prevrandao:
    *sp++ = tx->prevrandao;
    NEXT(1);
op_gaslimit:
    *sp++ = w_u64((uint64_t)tx->gas_limit);
    NEXT(1);
op_chainid:
    *sp++ = tx->chain_id;
    NEXT(1);
op_selfbalance:
    *sp++ = ops->get_balance(hctx, &f->recipient);
    NEXT(1);
op_basefee:
    *sp++ = tx->base_fee;
    NEXT(1);
op_blobhash:
    if (w_fits64(&sp[-1]) && sp[-1].w[0] < tx->blob_hashes_count)
        sp[-1] = w_load32_be(tx->blob_hashes[sp[-1].w[0]].b);
    else
        sp[-1] = w_u64(0);
    NEXT(1);
op_blobbasefee:
    *sp++ = tx->blob_base_fee;
    NEXT(1);

op_pop:
    sp--;
    NEXT(1);
op_mload: {
    if (!w_fits64(&sp[-1]) || sp[-1].w[0] > 0xffffffffu) goto oog;
    uint64_t o = sp[-1].w[0];
    MEM(o + 32);
    sp[-1] = w_load32_be(f->mem + o);
    NEXT(1);
}
op_mstore: {
    if (!w_fits64(&sp[-1]) || sp[-1].w[0] > 0xffffffffu) goto oog;
    uint64_t o = sp[-1].w[0];
    MEM(o + 32);
    w_store32_be(f->mem + o, &sp[-2]);
    sp -= 2;
    NEXT(1);
}
op_mstore8: {
    if (!w_fits64(&sp[-1]) || sp[-1].w[0] > 0xffffffffu) goto oog;
    uint64_t o = sp[-1].w[0];
    MEM(o + 1);
    f->mem[o] = (uint8_t)sp[-2].w[0];
    sp -= 2;
    NEXT(1);
}
op_sload:
    if (!ops->access_storage(hctx, &f->recipient, sp[-1])) CHARGE(2000);
    sp[-1] = ops->get_storage(hctx, &f->recipient, sp[-1]);
    NEXT(1);
op_sstore: {
    if (f->is_static) FAIL(VM_STATIC_MODE_VIOLATION);
    /* EIP-2200 sentry: SSTORE needs more than the call stipend left. */
    if (gas <= 2300) goto oog;
    vm_u256 key = sp[-1], val = sp[-2];
    int64_t cost = 0;
    if (!ops->access_storage(hctx, &f->recipient, key)) cost += 2100;
    vm_u256 cur = ops->get_storage(hctx, &f->recipient, key);
    if (w_eq(&cur, &val)) {
        cost += 100;
    } else {
        vm_u256 orig = ops->get_committed_storage(hctx, &f->recipient, key);
        if (w_eq(&orig, &cur)) {
            cost += w_is_zero(&orig) ? 20000 : 2900;
            if (!w_is_zero(&orig) && w_is_zero(&val)) f->refund += 4800;
        } else {
            cost += 100;
            if (!w_is_zero(&orig)) {
                if (w_is_zero(&cur))
                    f->refund -= 4800;
                else if (w_is_zero(&val))
                    f->refund += 4800;
            }
            if (w_eq(&orig, &val)) f->refund += w_is_zero(&orig) ? 19900 : 2800;
        }
    }
    CHARGE(cost);
    if (!w_eq(&cur, &val) && ops->set_storage(hctx, &f->recipient, key, val)) goto nomem;
    sp -= 2;
    NEXT_BLOCK(1);
}
op_jump:
    if (!w_fits64(&sp[-1]) || !evm_is_jumpdest(f->code, sp[-1].w[0]))
        FAIL(VM_BAD_JUMP_DESTINATION);
    ip = code + sp[-1].w[0];
    sp--;
    DISPATCH();
op_jumpi:
    if (!w_is_zero(&sp[-2])) {
        if (!w_fits64(&sp[-1]) || !evm_is_jumpdest(f->code, sp[-1].w[0]))
            FAIL(VM_BAD_JUMP_DESTINATION);
        ip = code + sp[-1].w[0];
        sp -= 2;
        DISPATCH();
    }
    sp -= 2;
    NEXT_BLOCK(1);
op_pc:
    *sp++ = w_u64((uint64_t)(ip - code));
    NEXT(1);
op_msize:
    *sp++ = w_u64(f->mem_words * 32);
    NEXT(1);
op_gas:
    *sp++ = w_u64((uint64_t)gas);
    NEXT_BLOCK(1);
op_jumpdest:
    BEGIN_BLOCK();
    NEXT(1);
op_tload:
    sp[-1] = ops->get_transient(hctx, &f->recipient, sp[-1]);
    NEXT(1);
op_tstore:
    if (f->is_static) FAIL(VM_STATIC_MODE_VIOLATION);
    if (ops->set_transient(hctx, &f->recipient, sp[-1], sp[-2])) goto nomem;
    sp -= 2;
    NEXT(1);
op_mcopy: {
    uint64_t dst, s, src;
    if (!mem_range(&sp[-1], &sp[-3], &dst, &s) || !mem_range(&sp[-2], &sp[-3], &src, &s))
        goto oog;
    CHARGE(3 * words_of(s));
    if (s) {
        MEM((dst > src ? dst : src) + s);
        memmove(f->mem + dst, f->mem + src, s);
    }
    sp -= 3;
    NEXT(1);
}
op_push0:
    *sp++ = w_u64(0);
    NEXT(1);
op_push1:
    *sp++ = w_u64(ip[1]);
    NEXT(2);
op_push_small: {
    /* PUSH2..PUSH8: one 8-byte load; the code padding keeps it in bounds. */
    unsigned n = (unsigned)(*ip - 0x5f);
    *sp++ = w_u64(w_load64_be(ip + 1) >> (64 - 8 * n));
    NEXT(1 + n);
}
op_push: {
    unsigned n = (unsigned)(*ip - 0x5f);
    *sp++ = w_load_be_n(ip + 1, n);
    NEXT(1 + n);
}
op_dup: {
    unsigned n = (unsigned)(*ip - 0x7f);
    *sp = sp[-(int)n];
    sp++;
    NEXT(1);
}
op_swap: {
    unsigned n = (unsigned)(*ip - 0x8f);
    vm_u256 t = sp[-1];
    sp[-1] = sp[-1 - (int)n];
    sp[-1 - (int)n] = t;
    NEXT(1);
}
op_log: {
    if (f->is_static) FAIL(VM_STATIC_MODE_VIOLATION);
    unsigned n = (unsigned)(*ip - 0xa0);
    uint64_t o, s;
    if (!mem_range(&sp[-1], &sp[-2], &o, &s)) goto oog;
    CHARGE(8 * s);
    if (s) MEM(o + s);
    vm_bytes32 topics[4];
    for (unsigned k = 0; k < n; k++) w_store32_be(topics[k].b, &sp[-3 - (int)k]);
    if (ops->emit_log(hctx, &f->recipient, topics, n, s ? f->mem + o : NULL, (size_t)s))
        goto nomem;
    sp -= 2 + n;
    NEXT(1);
}

op_return:
op_revert: {
    uint64_t o, s;
    if (!mem_range(&sp[-1], &sp[-2], &o, &s)) goto oog;
    if (s) MEM(o + s);
    out_off = o;
    out_len = s;
    FAIL(*ip == 0xf3 ? VM_SUCCESS : VM_REVERT);
}
op_invalid:
    FAIL(VM_INVALID_INSTRUCTION);
op_undefined:
    FAIL(VM_UNDEFINED_INSTRUCTION);

op_selfdestruct: {
    if (f->is_static) FAIL(VM_STATIC_MODE_VIOLATION);
    vm_address b = w_to_address(&sp[-1]);
    if (!ops->access_account(hctx, &b)) CHARGE(2600);
    vm_u256 bal = ops->get_balance(hctx, &f->recipient);
    if (!w_is_zero(&bal) && is_empty_account(host, &b)) CHARGE(25000);
    if (ops->selfdestruct(hctx, &f->recipient, &b)) goto nomem;
    out_off = out_len = 0;
    FAIL(VM_SUCCESS);
}

op_call: {
    uint8_t op = *ip;
    bool has_value = op == 0xf1 || op == 0xf2;
    int hv = has_value ? 1 : 0;
    vm_address to = w_to_address(&sp[-2]);
    vm_u256 value = has_value ? sp[-3] : w_u64(0);
    bool nonzero = !w_is_zero(&value);
    if (op == 0xf1 && nonzero && f->is_static) FAIL(VM_STATIC_MODE_VIOLATION);
    uint64_t in_o, in_s, out_o, out_s;
    if (!mem_range(&sp[-3 - hv], &sp[-4 - hv], &in_o, &in_s) ||
        !mem_range(&sp[-5 - hv], &sp[-6 - hv], &out_o, &out_s))
        goto oog;
    uint64_t end = in_s ? in_o + in_s : 0;
    if (out_s && out_o + out_s > end) end = out_o + out_s;
    if (end) MEM(end);
    if (!ops->access_account(hctx, &to)) CHARGE(2500);
    if (nonzero) {
        CHARGE(9000);
        if (op == 0xf1 && is_empty_account(host, &to)) CHARGE(25000);
    }
    /* EIP-150: all but one 64th of what is left, at most what was asked. */
    int64_t cap = gas - gas / 64;
    int64_t child_gas = (w_fits64(&sp[-1]) && sp[-1].w[0] < (uint64_t)cap) ? (int64_t)sp[-1].w[0]
                                                                            : cap;
    gas -= child_gas;
    if (nonzero) child_gas += 2300;
    sp -= 6 + hv;

    bool cannot = f->depth + 1 > EVM_MAX_DEPTH;
    if (!cannot && nonzero) {
        vm_u256 bal = ops->get_balance(hctx, &f->recipient);
        cannot = w_lt(&bal, &value);
    }
    if (cannot) {
        gas += child_gas;
        f->ret_len = 0;
        *sp++ = w_u64(0);
        NEXT_BLOCK(1);
    }
    struct evm_frame *c = f + 1;
    /* A STATICCALL starts like a value-less CALL: geth touches its target
     * (AddBalance of zero) inside the call's snapshot, as a zero transfer does. */
    c->kind = op == 0xf2 ? VM_CALLCODE : op == 0xf4 ? VM_DELEGATECALL : VM_CALL;
    c->is_static = f->is_static || op == 0xfa;
    c->depth = f->depth + 1;
    c->gas = child_gas;
    c->code_address = to;
    switch (op) {
    case 0xf1: c->recipient = to; c->sender = f->recipient; c->value = value; break;
    case 0xf2: c->recipient = f->recipient; c->sender = f->recipient; c->value = value; break;
    case 0xf4: c->recipient = f->recipient; c->sender = f->sender; c->value = f->value; break;
    default: c->recipient = to; c->sender = f->recipient; c->value = w_u64(0); break;
    }
    /* Never a NULL pointer, even for empty input: callees may memcpy it. */
    c->input = in_s ? f->mem + in_o : (const uint8_t *)"";
    c->input_size = (size_t)in_s;
    f->pending_create = false;
    f->pending_ret_off = out_o;
    f->pending_ret_size = out_s;
    SAVE();
    if (evm_start_message(evm, c, &d) == EVM_START_RUN) {
        f = c;
        LOAD();
        ENTER_BLOCK();
        DISPATCH();
    }
    goto deliver;
}

op_create: {
    if (f->is_static) FAIL(VM_STATIC_MODE_VIOLATION);
    bool is2 = *ip == 0xf5;
    vm_u256 value = sp[-1];
    uint64_t o, s;
    if (!mem_range(&sp[-2], &sp[-3], &o, &s)) goto oog;
    if (s > EVM_MAX_INITCODE_SIZE) goto oog;
    CHARGE((is2 ? 8 : 2) * words_of(s));
    if (s) MEM(o + s);
    vm_bytes32 salt;
    if (is2) w_store32_be(salt.b, &sp[-4]);
    sp -= is2 ? 4 : 3;
    int64_t child_gas = gas - gas / 64;
    gas -= child_gas;
    f->ret_len = 0;
    vm_u256 bal = ops->get_balance(hctx, &f->recipient);
    uint64_t nonce = ops->get_nonce(hctx, &f->recipient);
    if (f->depth + 1 > EVM_MAX_DEPTH || w_lt(&bal, &value) || nonce == UINT64_MAX) {
        gas += child_gas;
        *sp++ = w_u64(0);
        NEXT_BLOCK(1);
    }
    const uint8_t *init = s ? f->mem + o : NULL;
    struct evm_frame *c = f + 1;
    if (is2) {
        uint8_t h[32];
        vm_keccak256(init ? init : (const uint8_t *)"", (size_t)s, h);
        vm_create2_address(&f->recipient, &salt, h, &c->recipient);
    } else {
        vm_create_address(&f->recipient, nonce, &c->recipient);
    }
    ops->set_nonce(hctx, &f->recipient, nonce + 1);
    (void)ops->access_account(hctx, &c->recipient);
    c->kind = is2 ? VM_CREATE2 : VM_CREATE;
    c->is_static = false;
    c->depth = f->depth + 1;
    c->gas = child_gas;
    c->sender = f->recipient;
    c->code_address = c->recipient;
    c->value = value;
    c->input = init;
    c->input_size = (size_t)s;
    f->pending_create = true;
    SAVE();
    if (evm_start_message(evm, c, &d) == EVM_START_RUN) {
        f = c;
        LOAD();
        ENTER_BLOCK();
        DISPATCH();
    }
    d_addr = c->recipient;
    goto deliver;
}

    /* ---- exceptional halts ---- */
oog:
    FAIL(VM_OUT_OF_GAS);
underflow:
    FAIL(VM_STACK_UNDERFLOW);
overflow:
    FAIL(VM_STACK_OVERFLOW);
nomem:
    evm->nomem = true;
    FAIL(VM_INTERNAL_ERROR);

halt: {
    /* Finish frame f: code deposit for a create, revert on failure. */
    if (evm->nomem) goto abort;
    if (status == VM_SUCCESS && (f->kind == VM_CREATE || f->kind == VM_CREATE2)) {
        const uint8_t *out = out_len ? f->mem + out_off : NULL;
        if (out_len > EVM_MAX_CODE_SIZE || (out_len && out[0] == 0xef)) {
            status = VM_CONTRACT_VALIDATION_FAILURE;
        } else if (gas < 200 * (int64_t)out_len) {
            status = VM_OUT_OF_GAS;
        } else {
            gas -= 200 * (int64_t)out_len;
            if (ops->set_code(hctx, &f->recipient, out, (size_t)out_len)) {
                evm->nomem = true;
                goto abort;
            }
        }
    }
    if (status != VM_SUCCESS) {
        ops->revert(hctx, f->snapshot);
        if (status != VM_REVERT) gas = 0;
    }
    if (f == &evm->frames[0]) {
        result->status = status;
        result->gas_left = gas;
        result->gas_refund = status == VM_SUCCESS ? f->refund : 0;
        if (status == VM_SUCCESS && (f->kind == VM_CREATE || f->kind == VM_CREATE2))
            result->create_address = f->recipient;
        if (out_len && (status == VM_SUCCESS || status == VM_REVERT)) {
            result->output = malloc((size_t)out_len);
            if (!result->output) {
                evm->nomem = true;
                return;
            }
            memcpy(result->output, f->mem + out_off, (size_t)out_len);
            result->output_size = (size_t)out_len;
        }
        return;
    }
    d.status = status;
    d.gas_left = gas;
    d.output = (status == VM_SUCCESS || status == VM_REVERT) && out_len ? f->mem + out_off : NULL;
    d.output_size = d.output ? (size_t)out_len : 0;
    d.owned = NULL;
    d_addr = f->recipient;
    int64_t child_refund = f->refund;
    f--;
    LOAD();
    if (status == VM_SUCCESS) f->refund += child_refund;
    goto deliver_loaded;
}

deliver:
    /* An immediate result (no frame ran): the parent is f, still loaded. */
    if (evm->nomem || evm->unsupported) {
        free(d.owned);
        goto abort;
    }
deliver_loaded: {
    gas += d.gas_left;
    bool ok = d.status == VM_SUCCESS;
    int err;
    if (f->pending_create) {
        err = evm_set_return_data(f, d.status == VM_REVERT ? d.output : NULL,
                                  d.status == VM_REVERT ? d.output_size : 0);
        *sp++ = ok ? w_from_address(&d_addr) : w_u64(0);
    } else {
        err = evm_set_return_data(f, d.output, d.output_size);
        uint64_t n = d.output_size < f->pending_ret_size ? d.output_size : f->pending_ret_size;
        if (n) memcpy(f->mem + f->pending_ret_off, d.output, (size_t)n);
        *sp++ = w_u64(ok);
    }
    free(d.owned);
    d.owned = NULL;
    if (err) {
        evm->nomem = true;
        goto abort;
    }
    NEXT_BLOCK(1);
}

abort:
    /* vm_evm_execute reverts the whole run and reports it. */
    return;

#undef SAVE
#undef LOAD
#undef DISPATCH
#undef NEXT
#undef FAIL
#undef MEM
#undef CHARGE
}
