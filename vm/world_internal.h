/*
 * world_internal.h — private to vm/: the in-memory world's records, shared
 * by world.c (host and journal) and transaction.c (fee payment).
 */
#ifndef BP_VM_WORLD_INTERNAL_H
#define BP_VM_WORLD_INTERNAL_H

#include "state_map.h"
#include "vm.h"

struct slot {
    vm_u256 value;
    vm_u256 original; /* at the start of the transaction (EIP-2200) */
};

enum {
    ACCT_TOUCHED = 1,    /* modified in this tx: removed at its end if empty (EIP-161) */
    ACCT_CREATED = 2,    /* created in this tx (EIP-6780) */
    ACCT_DESTRUCTED = 4, /* selfdestructed after being created in this tx */
};

struct account {
    vm_address addr;
    bool present;
    uint8_t flags;
    uint64_t nonce;
    vm_u256 balance;
    uint8_t *code;
    size_t code_len;
    vm_bytes32 code_hash; /* keccak(code), cached */
    struct smap *storage; /* u256 key words -> struct slot; NULL when empty */
};

struct journal_entry;

struct vm_world {
    struct smap accounts;      /* address -> struct account * */
    struct smap warm_accounts; /* address -> uint8_t */
    struct smap warm_slots;    /* address ‖ key words -> uint8_t */
    struct smap transient;     /* address ‖ key words -> vm_u256 */
    struct journal_entry *journal;
    size_t journal_len, journal_cap;
    struct vm_log *logs;
    size_t logs_len, logs_cap;
    bool ripemd_touched;
    bool failed; /* a host callback without an error return ran out of memory */
    vm_bytes32 (*block_hash_fn)(void *arg, int64_t number);
    void *block_hash_arg;
};

struct account *world_find(const struct vm_world *w, const vm_address *addr);
/* Journaled balance changes that create and touch the account, as geth's
 * AddBalance/SubBalance do. Return VM_OK or VM_ERR_NOMEM. */
int world_add_balance(struct vm_world *w, const vm_address *addr, vm_u256 amount);
int world_sub_balance(struct vm_world *w, const vm_address *addr, vm_u256 amount);

#endif
