/*
 * A channel's private world: the app contract alone in an in-memory EVM
 * world. Every call runs as its own transaction boundary (begin/end), so
 * EIP-2200's "original" values and the warm sets behave as they would for a
 * transaction on-chain, and the storage root matches eth_getProof's.
 */
#include "app.h"

#include "chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *app_strerror(int err)
{
    switch (err) {
    case APP_OK: return "ok";
    case APP_ERR_NOMEM: return "out of memory";
    case APP_ERR_REVERTED: return "the move reverted";
    case APP_ERR_PAYOUTS: return "the app's payouts() must return two amounts that sum to the pot";
    case APP_ERR_TOO_BIG: return "the app's storage is larger than a breakpoint may carry";
    default: return "unknown error";
    }
}

int app_load(struct app *app, const vm_address *address, const vm_address *adjudicator,
             vm_u256 chain_id, vm_u256 pot, const uint8_t *code, size_t code_len,
             const vm_u256 *keys, const vm_u256 *values, size_t n_slots)
{
    memset(app, 0, sizeof *app);
    app->address = *address;
    app->adjudicator = *adjudicator;
    app->chain_id = chain_id;
    app->pot = pot;
    if (vm_world_new(&app->world) != VM_OK || vm_evm_new(&app->evm) != VM_OK) goto nomem;
    /* A deployed contract's nonce is 1 (EIP-161); it does not enter the storage root. */
    if (vm_world_set_account(app->world, address, 1, vm_u256_from_u64(0), code, code_len) != VM_OK)
        goto nomem;
    for (size_t i = 0; i < n_slots; i++) {
        if (vm_world_set_storage(app->world, address, keys[i], values[i]) != VM_OK) goto nomem;
    }
    return APP_OK;
nomem:
    app_free(app);
    return APP_ERR_NOMEM;
}

void app_free(struct app *app)
{
    if (app->world) vm_world_free(app->world);
    if (app->evm) vm_evm_free(app->evm);
    app->world = NULL;
    app->evm = NULL;
}

/* Error(string) from a revert, else a generic text. */
static void revert_reason(const struct vm_result *r, char *out, size_t cap)
{
    static const uint8_t error_selector[4] = {0x08, 0xc3, 0x79, 0xa0};
    if (r->status == VM_REVERT && r->output_size >= 4 &&
        memcmp(r->output, error_selector, 4) == 0) {
        struct chain_abi_value v;
        if (chain_abi_decode("(string)", r->output + 4, r->output_size - 4, &v) == CHAIN_OK) {
            const struct chain_abi_value *s = &v.items[0];
            snprintf(out, cap, "reverted: %.*s", (int)(s->len > 150 ? 150 : s->len),
                     (const char *)s->bytes);
            chain_abi_value_clear(&v);
            return;
        }
    }
    if (r->status == VM_REVERT) snprintf(out, cap, "reverted");
    else snprintf(out, cap, "failed: %s", vm_status_name(r->status));
}

/* One call as one transaction of the off-chain block nonce. */
static int run(struct app *app, const vm_address *sender, const uint8_t *input, size_t len,
               uint64_t nonce, bool is_static, struct vm_result *res)
{
    struct vm_tx_context txc;
    memset(&txc, 0, sizeof txc);
    txc.origin = *sender;
    txc.number = (int64_t)nonce;
    txc.gas_limit = APP_MOVE_GAS;
    txc.chain_id = app->chain_id;

    struct vm_message msg;
    memset(&msg, 0, sizeof msg);
    msg.kind = VM_CALL;
    msg.is_static = is_static;
    msg.gas = APP_MOVE_GAS;
    msg.recipient = app->address;
    msg.code_address = app->address;
    msg.sender = *sender;
    msg.input = input;
    msg.input_size = len;

    vm_world_begin_tx(app->world);
    struct vm_host host = vm_world_host(app->world);
    host.ops->access_account(host.ctx, sender);
    host.ops->access_account(host.ctx, &app->address);
    size_t snap = host.ops->snapshot(host.ctx);
    int err = vm_evm_execute(app->evm, &host, &txc, &msg, res);
    if (err != VM_OK || res->status != VM_SUCCESS || is_static) host.ops->revert(host.ctx, snap);
    vm_world_end_tx(app->world);
    return err == VM_OK ? APP_OK : APP_ERR_NOMEM;
}

int app_view(struct app *app, const uint8_t *calldata, size_t len, uint64_t nonce,
             uint8_t **output, size_t *output_len)
{
    struct vm_result res;
    memset(&res, 0, sizeof res);
    *output = NULL;
    *output_len = 0;
    int rv = run(app, &app->adjudicator, calldata, len, nonce, true, &res);
    if (rv == APP_OK && res.status != VM_SUCCESS) rv = APP_ERR_REVERTED;
    if (rv == APP_OK) {
        *output = res.output;
        *output_len = res.output_size;
        res.output = NULL;
    }
    vm_result_free(&res);
    return rv;
}

/* payouts(pot) and isFinal() after a successful call. */
static int evaluate(struct app *app, uint64_t nonce, struct app_outcome *out)
{
    uint8_t call[36];
    if (chain_abi_selector("payouts(uint256)", call, NULL, 0) != CHAIN_OK) return APP_ERR_NOMEM;
    vm_u256_to_be(app->pot, call + 4);
    uint8_t *ret;
    size_t ret_len;
    int rv = app_view(app, call, sizeof call, nonce, &ret, &ret_len);
    if (rv == APP_ERR_REVERTED) return APP_ERR_PAYOUTS;
    if (rv) return rv;
    struct chain_abi_value v;
    int dv = chain_abi_decode("(uint256[])", ret, ret_len, &v);
    free(ret);
    if (dv != CHAIN_OK) return APP_ERR_PAYOUTS;
    bool ok = v.items[0].n_items == VM_BP_PLAYERS;
    if (ok) {
        out->payouts[0] = v.items[0].items[0].word;
        out->payouts[1] = v.items[0].items[1].word;
        vm_u256 sum = vm_u256_add(out->payouts[0], out->payouts[1]);
        ok = vm_u256_eq(sum, app->pot) && vm_u256_cmp(sum, out->payouts[0]) >= 0;
    }
    chain_abi_value_clear(&v);
    if (!ok) return APP_ERR_PAYOUTS;

    uint8_t sel[4];
    if (chain_abi_selector("isFinal()", sel, NULL, 0) != CHAIN_OK) return APP_ERR_NOMEM;
    rv = app_view(app, sel, sizeof sel, nonce, &ret, &ret_len);
    if (rv == APP_ERR_REVERTED) return APP_ERR_PAYOUTS;
    if (rv) return rv;
    bool final_ok = ret_len == 32;
    for (size_t i = 0; final_ok && i < 31; i++) final_ok = ret[i] == 0;
    final_ok = final_ok && ret[31] <= 1;
    out->is_final = final_ok && ret[31] == 1;
    free(ret);
    if (!final_ok) return APP_ERR_PAYOUTS;
    if (vm_world_storage_root(app->world, &app->address, out->state_root) != VM_OK)
        return APP_ERR_NOMEM;
    return APP_OK;
}

static int call_and_evaluate(struct app *app, const vm_address *sender, const uint8_t *input,
                             size_t len, uint64_t nonce, struct app_outcome *out)
{
    memset(out, 0, sizeof *out);
    struct vm_result res;
    memset(&res, 0, sizeof res);
    int rv = run(app, sender, input, len, nonce, false, &res);
    if (rv == APP_OK && res.status != VM_SUCCESS) {
        revert_reason(&res, out->reason, sizeof out->reason);
        rv = APP_ERR_REVERTED;
    }
    vm_result_free(&res);
    if (rv) return rv;
    rv = evaluate(app, nonce, out);
    if (rv == APP_ERR_PAYOUTS) snprintf(out->reason, sizeof out->reason, "%s", app_strerror(rv));
    return rv;
}

int app_init(struct app *app, const vm_address players[2], const uint8_t *args, size_t args_len,
             struct app_outcome *out)
{
    struct chain_abi_value v[2], arr_items[2], top;
    memset(v, 0, sizeof v);
    memset(arr_items, 0, sizeof arr_items);
    for (int i = 0; i < 2; i++) {
        arr_items[i].kind = CHAIN_ABI_ADDRESS;
        arr_items[i].word = vm_u256_from_be(players[i].b, 20);
    }
    v[0].kind = CHAIN_ABI_DYN_ARRAY;
    v[0].items = arr_items;
    v[0].n_items = 2;
    v[1].kind = CHAIN_ABI_BYTES;
    v[1].bytes = (uint8_t *)args;
    v[1].len = args_len;
    memset(&top, 0, sizeof top);
    top.kind = CHAIN_ABI_TUPLE;
    top.items = v;
    top.n_items = 2;
    struct vm_buf call = {0};
    uint8_t sel[4];
    if (chain_abi_selector("init(address[],bytes)", sel, NULL, 0) != CHAIN_OK ||
        vm_buf_append(&call, sel, 4) != VM_OK ||
        chain_abi_encode_value("(address[],bytes)", &top, &call) != CHAIN_OK) {
        vm_buf_free(&call);
        return APP_ERR_NOMEM;
    }
    int rv = call_and_evaluate(app, &app->adjudicator, call.data, call.len, 0, out);
    vm_buf_free(&call);
    return rv;
}

int app_move(struct app *app, const vm_address *mover, const uint8_t *calldata, size_t len,
             uint64_t nonce, struct app_outcome *out)
{
    return call_and_evaluate(app, mover, calldata, len, nonce, out);
}

struct slot_list {
    vm_u256 *keys, *values;
    size_t n, cap;
};

static int collect_slot(void *arg, vm_u256 key, vm_u256 value)
{
    struct slot_list *l = arg;
    if (l->n == l->cap) return APP_ERR_TOO_BIG;
    size_t i = l->n++;
    /* insertion sort: a handful of slots */
    while (i > 0 && vm_u256_cmp(l->keys[i - 1], key) > 0) {
        l->keys[i] = l->keys[i - 1];
        l->values[i] = l->values[i - 1];
        i--;
    }
    l->keys[i] = key;
    l->values[i] = value;
    return 0;
}

int app_slots(const struct app *app, vm_u256 *keys, vm_u256 *values, size_t cap)
{
    struct slot_list l = {keys, values, 0, cap};
    int rv = vm_world_storage_foreach(app->world, &app->address, collect_slot, &l);
    if (rv) return rv == APP_ERR_TOO_BIG ? APP_ERR_TOO_BIG : APP_ERR_NOMEM;
    return (int)l.n;
}

void app_move_hash(const vm_address *mover, const uint8_t *calldata, size_t len, uint8_t out[32])
{
    /* abi.encode(address, bytes): word(mover) ‖ word(0x40) ‖ word(len) ‖ data padded */
    struct vm_keccak k;
    uint8_t word[32];
    vm_keccak_init(&k);
    memset(word, 0, 12);
    memcpy(word + 12, mover->b, 20);
    vm_keccak_update(&k, word, 32);
    vm_u256_to_be(vm_u256_from_u64(0x40), word);
    vm_keccak_update(&k, word, 32);
    vm_u256_to_be(vm_u256_from_u64(len), word);
    vm_keccak_update(&k, word, 32);
    vm_keccak_update(&k, calldata, len);
    memset(word, 0, 32);
    if (len % 32) vm_keccak_update(&k, word, 32 - len % 32);
    vm_keccak_final(&k, out);
}
