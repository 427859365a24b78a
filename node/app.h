/*
 * app.h — private to node/: a channel's private world.
 *
 * The app's runtime code lives at the app's own address in an in-memory
 * world (vm_world) whose only storage is the app's. Every move is a call into
 * it with msg.sender = the mover and the fixed off-chain block context of
 * DESIGN.md §4 (chainid = the channel's chain, number = nonce, everything
 * else zero, 30,000,000 gas). The storage root of the app account is what the
 * players sign.
 */
#ifndef BP_NODE_APP_H
#define BP_NODE_APP_H

#include "vm.h"

#define APP_MOVE_GAS 30000000
#define APP_MAX_SLOTS 512

enum app_error {
    APP_OK = 0,
    APP_ERR_NOMEM = -1,
    APP_ERR_REVERTED = -2, /* the call reverted or halted: an invalid move */
    APP_ERR_PAYOUTS = -3,  /* payouts() answered something that is not 2 words summing to the pot */
    APP_ERR_TOO_BIG = -4,  /* more storage slots than a breakpoint may carry */
};
const char *app_strerror(int err);

struct app {
    struct vm_world *world;
    struct vm_evm *evm;
    vm_address address;     /* the app contract's address */
    vm_address adjudicator; /* msg.sender of init() */
    vm_u256 chain_id;
    vm_u256 pot;
};

/* What a breakpoint needs after a call. */
struct app_outcome {
    uint8_t state_root[32];
    vm_u256 payouts[VM_BP_PLAYERS];
    bool is_final;
    char reason[200]; /* why a move was invalid */
};

/* Creates the private world with code at address and the given storage
 * (empty for a new channel). app->world/evm are owned by app (app_free). */
__attribute__((warn_unused_result)) int app_load(struct app *app, const vm_address *address,
                                                 const vm_address *adjudicator, vm_u256 chain_id,
                                                 vm_u256 pot, const uint8_t *code, size_t code_len,
                                                 const vm_u256 *keys, const vm_u256 *values,
                                                 size_t n_slots);
void app_free(struct app *app);

/* Runs init(players, args) from the adjudicator's address: breakpoint 0. */
__attribute__((warn_unused_result)) int app_init(struct app *app, const vm_address players[2],
                                                 const uint8_t *args, size_t args_len,
                                                 struct app_outcome *out);
/* Runs one move at nonce. On APP_ERR_REVERTED the state is unchanged and
 * out->reason says why. */
__attribute__((warn_unused_result)) int app_move(struct app *app, const vm_address *mover,
                                                 const uint8_t *calldata, size_t len,
                                                 uint64_t nonce, struct app_outcome *out);
/* A read-only call (STATICCALL semantics); *output malloc'ed (free()). */
__attribute__((warn_unused_result)) int app_view(struct app *app, const uint8_t *calldata,
                                                 size_t len, uint64_t nonce, uint8_t **output,
                                                 size_t *output_len);
/* The app's non-zero storage, sorted by key. Returns the count or a negative error. */
__attribute__((warn_unused_result)) int app_slots(const struct app *app, vm_u256 *keys,
                                                  vm_u256 *values, size_t cap);

/* keccak256(abi.encode(mover, calldata)): the breakpoint's moveHash. */
void app_move_hash(const vm_address *mover, const uint8_t *calldata, size_t len,
                   uint8_t out[32]);

#endif
