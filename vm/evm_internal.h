/*
 * evm_internal.h — private structures of the EVM (vm/evm.c, vm/interp.c,
 * vm/analysis.c, vm/gas.c). Not part of vm.h.
 *
 * Shape: struct vm_evm owns a pool of 1025 frames (depth 0..1024). Each frame
 * keeps its stack, memory and return-data buffers across runs, so once warm
 * the interpreter never allocates on the hot path. A call pushes the next
 * frame of the pool and the interpreter loop simply continues with it; a
 * return pops it. No C recursion per call level.
 */
#ifndef BP_VM_EVM_INTERNAL_H
#define BP_VM_EVM_INTERNAL_H

#include "vm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVM_STACK_LIMIT 1024
#define EVM_MAX_DEPTH 1024
#define EVM_MAX_CODE_SIZE 24576        /* EIP-170 */
#define EVM_MAX_INITCODE_SIZE 49152    /* EIP-3860 */
#define EVM_CODE_PADDING 33            /* zero bytes after the code: PUSH32 never reads past */

/* ---- opcode traits (vm/gas.c): one table for interpreter and tests ---- */
struct evm_trait {
    const char *name;   /* NULL: undefined in Cancun */
    int16_t gas;        /* the constant part charged before the instruction */
    uint8_t stack_in;   /* items it needs */
    int8_t stack_change; /* out - in */
};
extern const struct evm_trait evm_traits[256];

/* Memory expansion cost of a memory of `words` 32-byte words (YP: 3w + w^2/512). */
static inline int64_t evm_memory_cost(uint64_t words)
{
    return (int64_t)(3 * words + words * words / 512);
}

/* ---- code analysis (vm/analysis.c) ---- */
/*
 * Gas and stack are checked once per basic block, not per instruction. A
 * block starts at pc 0, at every JUMPDEST, after JUMPI, and after every
 * instruction that reads the gas left (GAS, SSTORE's sentry, CALL*,
 * CREATE*): those end their block, so when they run exactly the constant
 * gas of everything up to and including them has been charged, as with
 * per-instruction charging. Charging a block's constant gas up front can
 * only move an out-of-gas earlier within the same block, and every
 * exceptional halt has the same effect (all gas gone, frame reverted).
 */
struct evm_block {
    int32_t gas;        /* sum of the constant gas of the block's instructions */
    int16_t min_height; /* stack height the block needs at entry */
    int16_t max_growth; /* highest height above the entry height it reaches (>= 0) */
};

struct evm_code {
    uint8_t *code;       /* code + EVM_CODE_PADDING zero bytes */
    size_t len;          /* without the padding */
    uint8_t *jumpdest;   /* bitmap: bit i set iff code[i] is a JUMPDEST outside push data */
    struct evm_block *blocks; /* len + 1 entries; valid at block starts */
    size_t code_cap, map_cap, blocks_cap; /* buffer capacities, for reuse */
};

struct evm_cache_entry {
    vm_bytes32 hash;
    struct evm_code *code; /* NULL: free slot; separately allocated so that
                              frames may hold it while the table grows */
};

struct evm_cache {
    struct evm_cache_entry *slots;
    size_t cap; /* power of two or 0 */
    size_t count;
    size_t bytes;
};

/* Fills c (its buffers reused/grown; caller keeps ownership) with a padded
 * copy of code, its jumpdest bitmap and its blocks. VM_OK or VM_ERR_NOMEM. */
VM_WARN_UNUSED int evm_analyse_into(struct evm_code *c, const uint8_t *code, size_t len);
/* Frees c's buffers. */
void evm_code_release(struct evm_code *c);
/* The analysis of code with the given keccak hash, from the cache or made
 * now and cached. *out stays valid until evm_cache_trim. */
VM_WARN_UNUSED int evm_cache_get(struct evm_cache *cache, const vm_bytes32 *hash,
                                 const uint8_t *code, size_t len, const struct evm_code **out);
/* Empties the cache if it holds more than max_bytes (only between runs). */
void evm_cache_trim(struct evm_cache *cache, size_t max_bytes);
void evm_cache_free(struct evm_cache *cache);

static inline bool evm_is_jumpdest(const struct evm_code *c, uint64_t pos)
{
    return pos < c->len && (c->jumpdest[pos >> 3] >> (pos & 7)) & 1;
}

/* ---- frames ---- */
struct evm_frame {
    /* pooled buffers, kept across runs */
    vm_u256 *stack;       /* EVM_STACK_LIMIT words, allocated on first use */
    uint8_t *mem;
    size_t mem_cap;
    uint8_t *ret;         /* return data of the last call made by this frame */
    size_t ret_len, ret_cap;
    struct evm_code own;  /* analysed init code for a create frame */

    /* the message */
    enum vm_call_kind kind;
    bool is_static;
    int32_t depth;
    vm_address recipient, sender, code_address;
    vm_u256 value;
    const uint8_t *input;
    size_t input_size;
    const struct evm_code *code;

    /* execution state, saved while a child runs */
    size_t pc;
    int sp;               /* stack height */
    int64_t gas;
    int64_t refund;
    uint64_t mem_words;   /* active memory size in words (paid for) */
    size_t snapshot;

    /* the call this frame is waiting for */
    bool pending_create;
    uint64_t pending_ret_off, pending_ret_size;
};

struct vm_evm {
    struct evm_frame frames[EVM_MAX_DEPTH + 1];
    struct evm_cache cache;
    struct vm_secp *secp; /* for the ecrecover precompile; NULL if unavailable */

    /* the current run */
    const struct vm_host *host;
    const struct vm_tx_context *tx;
    bool nomem;           /* an allocation failed: abort the run */
    bool unsupported;     /* a precompile this build does not provide ran */
};

/* Runs evm->frames[0] (already set up) and every nested call to completion.
 * Out: the depth-0 result. vm/interp.c. */
void evm_interpret(struct vm_evm *evm, struct vm_result *result);

/* Makes sure frame f can hold memory of `words` words. Returns VM_OK or
 * VM_ERR_NOMEM. */
/* Grows *buf to at least need bytes, doubling from *cap (or from first). */
VM_WARN_UNUSED int evm_grow(uint8_t **buf, size_t *cap, size_t need, size_t first);
VM_WARN_UNUSED int evm_memory_grow(struct evm_frame *f, uint64_t words);
/* Copies data into f's return-data buffer. Returns VM_OK or VM_ERR_NOMEM. */
VM_WARN_UNUSED int evm_set_return_data(struct evm_frame *f, const uint8_t *data, size_t len);

#endif /* BP_VM_EVM_INTERNAL_H */
