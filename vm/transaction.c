/*
 * transaction.c — one transaction applied to the in-memory world, as the
 * Ethereum state tests (and geth's state transition) define it for Cancun.
 *
 * Validation comes first and changes nothing: a transaction that fails it
 * is rejected with a named reason and leaves the world exactly as it was
 * (that is what a fixture's expectException means). Then: buy gas, bump the
 * nonce, warm the EIP-2929/2930/3651 sets, run the message (vm_evm_execute),
 * refund at most a fifth of the gas used (EIP-3529), pay the coinbase the
 * priority fee, and end the transaction (EIP-161/6780 deletions).
 */
#include "world_internal.h"

#include <stdlib.h>
#include <string.h>

enum {
    TX_GAS = 21000,
    TX_CREATE_GAS = 32000,
    TX_DATA_ZERO_GAS = 4,
    TX_DATA_NONZERO_GAS = 16,            /* EIP-2028 */
    TX_ACCESS_ADDRESS_GAS = 2400,        /* EIP-2930 */
    TX_ACCESS_KEY_GAS = 1900,
    TX_INITCODE_WORD_GAS = 2,            /* EIP-3860 */
    MAX_INITCODE_SIZE = 2 * 24576,       /* EIP-3860 */
    GAS_PER_BLOB = 1 << 17,              /* EIP-4844 */
    MAX_BLOBS_PER_TX = 6,                /* 786432 / 131072 */
    BLOB_BASE_FEE_UPDATE_FRACTION = 3338477,
    BLOB_COMMITMENT_VERSION_KZG = 1,
    REFUND_QUOTIENT = 5,                 /* EIP-3529 */
    PRECOMPILE_COUNT = 10,               /* 0x01..0x0a in Cancun */
};

const char *vm_tx_invalid_name(int reason)
{
    switch (reason) {
    case VM_TX_VALID: return "valid";
    case VM_TX_TYPE_UNSUPPORTED: return "unsupported transaction type";
    case VM_TX_NONCE_MISMATCH: return "nonce mismatch";
    case VM_TX_NONCE_MAX: return "sender nonce is at its maximum";
    case VM_TX_SENDER_NOT_EOA: return "sender has code (EIP-3607)";
    case VM_TX_GAS_ALLOWANCE: return "gas limit above the block gas limit";
    case VM_TX_FEE_CAP_BELOW_BASE: return "max fee per gas below the base fee";
    case VM_TX_PRIORITY_ABOVE_MAX: return "max priority fee above max fee";
    case VM_TX_INTRINSIC_GAS: return "intrinsic gas too low";
    case VM_TX_INITCODE_SIZE: return "initcode too large (EIP-3860)";
    case VM_TX_INSUFFICIENT_FUNDS: return "insufficient funds for gas * price + value";
    case VM_TX_BLOB_CREATE: return "blob transaction without a recipient";
    case VM_TX_BLOB_NONE: return "blob transaction without blobs";
    case VM_TX_BLOB_TOO_MANY: return "too many blobs";
    case VM_TX_BLOB_VERSION: return "invalid blob versioned hash";
    case VM_TX_BLOB_FEE_BELOW_BASE: return "max fee per blob gas below the blob base fee";
    default: return "unknown";
    }
}

void vm_tx_outcome_free(struct vm_tx_outcome *o)
{
    free(o->output);
    o->output = NULL;
    o->output_size = 0;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    return (b && a > UINT64_MAX / b) ? UINT64_MAX : a * b;
}

uint64_t vm_intrinsic_gas(const struct vm_transaction *tx)
{
    uint64_t gas = TX_GAS;
    size_t zeros = 0;
    for (size_t i = 0; i < tx->data_len; i++) zeros += tx->data[i] == 0;
    gas = sat_add(gas, sat_mul(zeros, TX_DATA_ZERO_GAS));
    gas = sat_add(gas, sat_mul(tx->data_len - zeros, TX_DATA_NONZERO_GAS));
    if (tx->is_create) {
        gas = sat_add(gas, TX_CREATE_GAS);
        uint64_t words = tx->data_len / 32 + (tx->data_len % 32 != 0);
        gas = sat_add(gas, sat_mul(words, TX_INITCODE_WORD_GAS));
    }
    for (size_t i = 0; i < tx->access_list_len; i++) {
        gas = sat_add(gas, TX_ACCESS_ADDRESS_GAS);
        gas = sat_add(gas, sat_mul(tx->access_list[i].n_keys, TX_ACCESS_KEY_GAS));
    }
    return gas;
}

/* a * b, or false if it overflows 256 bits. */
static bool mul_checked(vm_u256 a, vm_u256 b, vm_u256 *out)
{
    if (!vm_u256_is_zero(a) && vm_u256_cmp(b, vm_u256_div(vm_u256_not(vm_u256_from_u64(0)), a)) > 0)
        return false;
    *out = vm_u256_mul(a, b);
    return true;
}

static bool add_checked(vm_u256 a, vm_u256 b, vm_u256 *out)
{
    *out = vm_u256_add(a, b);
    return vm_u256_cmp(*out, a) >= 0;
}

vm_u256 vm_blob_base_fee(uint64_t excess_blob_gas)
{
    /* EIP-4844 fake_exponential(MIN_BLOB_BASE_FEE = 1, excess, fraction):
     * the Taylor series of e^(excess/fraction), in integers. */
    const vm_u256 denominator = vm_u256_from_u64(BLOB_BASE_FEE_UPDATE_FRACTION);
    const vm_u256 numerator = vm_u256_from_u64(excess_blob_gas);
    vm_u256 output = vm_u256_from_u64(0);
    vm_u256 accum = denominator; /* factor (1) * denominator */
    for (uint64_t i = 1; !vm_u256_is_zero(accum); i++) {
        if (!add_checked(output, accum, &output)) return vm_u256_not(vm_u256_from_u64(0));
        vm_u256 next;
        if (!mul_checked(accum, numerator, &next)) return vm_u256_not(vm_u256_from_u64(0));
        accum = vm_u256_div(next, vm_u256_mul(denominator, vm_u256_from_u64(i)));
    }
    return vm_u256_div(output, denominator);
}

/* Checks everything that makes a transaction invalid. Out: the effective
 * gas price. Returns VM_TX_VALID or the reason. */
static enum vm_tx_invalid validate(const struct vm_world *w, const struct vm_block_env *env,
                                   const struct vm_transaction *tx, vm_u256 *effective_price)
{
    if (tx->type > 3) return VM_TX_TYPE_UNSUPPORTED;
    if (tx->type == 3) {
        if (tx->is_create) return VM_TX_BLOB_CREATE;
        if (tx->blob_hashes_count == 0) return VM_TX_BLOB_NONE;
        if (tx->blob_hashes_count > MAX_BLOBS_PER_TX) return VM_TX_BLOB_TOO_MANY;
        for (size_t i = 0; i < tx->blob_hashes_count; i++)
            if (tx->blob_hashes[i].b[0] != BLOB_COMMITMENT_VERSION_KZG) return VM_TX_BLOB_VERSION;
    }
    vm_u256 fee_cap;
    if (tx->type >= 2) {
        if (vm_u256_cmp(tx->max_priority_fee, tx->max_fee) > 0) return VM_TX_PRIORITY_ABOVE_MAX;
        fee_cap = tx->max_fee;
        if (vm_u256_cmp(fee_cap, env->base_fee) < 0) return VM_TX_FEE_CAP_BELOW_BASE;
        /* min(maxFee, baseFee + priority); the sum cannot overflow past
         * maxFee's range in a way that matters: if it wraps it is >= base. */
        vm_u256 tip_price;
        if (!add_checked(env->base_fee, tx->max_priority_fee, &tip_price) ||
            vm_u256_cmp(tip_price, fee_cap) > 0)
            tip_price = fee_cap;
        *effective_price = tip_price;
    } else {
        fee_cap = tx->gas_price;
        if (vm_u256_cmp(fee_cap, env->base_fee) < 0) return VM_TX_FEE_CAP_BELOW_BASE;
        *effective_price = fee_cap;
    }
    if (env->gas_limit < 0 || tx->gas_limit > (uint64_t)env->gas_limit) return VM_TX_GAS_ALLOWANCE;

    const struct account *s = world_find(w, &tx->sender);
    uint64_t nonce = s && s->present ? s->nonce : 0;
    if (nonce == UINT64_MAX) return VM_TX_NONCE_MAX;
    if (tx->nonce != nonce) return VM_TX_NONCE_MISMATCH;
    if (s && s->present && s->code_len) return VM_TX_SENDER_NOT_EOA;

    if (vm_intrinsic_gas(tx) > tx->gas_limit) return VM_TX_INTRINSIC_GAS;
    if (tx->is_create && tx->data_len > MAX_INITCODE_SIZE) return VM_TX_INITCODE_SIZE;

    /* The balance must cover the worst case: gasLimit * feeCap + value
     * (+ blob gas * maxFeePerBlobGas). */
    vm_u256 cost, part;
    bool ok = mul_checked(vm_u256_from_u64(tx->gas_limit), fee_cap, &cost) &&
              add_checked(cost, tx->value, &cost);
    if (ok && tx->type == 3) {
        vm_u256 blob_gas = vm_u256_from_u64((uint64_t)tx->blob_hashes_count * GAS_PER_BLOB);
        ok = mul_checked(blob_gas, tx->max_fee_per_blob_gas, &part) &&
             add_checked(cost, part, &cost);
    }
    vm_u256 balance = s && s->present ? s->balance : vm_u256_from_u64(0);
    if (!ok || vm_u256_cmp(balance, cost) < 0) return VM_TX_INSUFFICIENT_FUNDS;
    if (tx->type == 3 &&
        vm_u256_cmp(tx->max_fee_per_blob_gas, vm_blob_base_fee(env->excess_blob_gas)) < 0)
        return VM_TX_BLOB_FEE_BELOW_BASE;
    return VM_TX_VALID;
}

static int warm_up(const struct vm_host *host, const struct vm_block_env *env,
                   const struct vm_transaction *tx, const vm_address *target)
{
    void *ctx = host->ctx;
    (void)host->ops->access_account(ctx, &tx->sender);
    (void)host->ops->access_account(ctx, target);
    for (int i = 1; i <= PRECOMPILE_COUNT; i++) {
        vm_address p = {{0}};
        p.b[19] = (uint8_t)i;
        (void)host->ops->access_account(ctx, &p);
    }
    (void)host->ops->access_account(ctx, &env->coinbase); /* EIP-3651 */
    for (size_t i = 0; i < tx->access_list_len; i++) {
        const struct vm_access_entry *e = &tx->access_list[i];
        (void)host->ops->access_account(ctx, &e->address);
        for (size_t k = 0; k < e->n_keys; k++)
            (void)host->ops->access_storage(ctx, &e->address,
                                            vm_u256_from_be(e->keys[k].b, 32));
    }
    return VM_OK;
}

int vm_transaction_apply(struct vm_evm *evm, struct vm_world *w, const struct vm_block_env *env,
                         const struct vm_transaction *tx, struct vm_tx_outcome *out)
{
    memset(out, 0, sizeof *out);
    vm_u256 price;
    out->invalid = validate(w, env, tx, &price);
    if (out->invalid != VM_TX_VALID) return VM_OK;

    vm_world_begin_tx(w);
    struct vm_host host = vm_world_host(w);
    vm_u256 blob_base_fee = vm_blob_base_fee(env->excess_blob_gas);
    uint64_t blob_gas = tx->type == 3 ? (uint64_t)tx->blob_hashes_count * GAS_PER_BLOB : 0;

    /* Buy gas at the effective price; blob gas at the blob base fee (burnt).
     * validate() made sure neither product overflows nor exceeds the
     * balance. */
    vm_u256 gas_cost = vm_u256_mul(vm_u256_from_u64(tx->gas_limit), price);
    vm_u256 blob_cost = vm_u256_mul(vm_u256_from_u64(blob_gas), blob_base_fee);
    int err = world_sub_balance(w, &tx->sender, vm_u256_add(gas_cost, blob_cost));
    if (err) return err;

    uint64_t nonce = vm_world_nonce(w, &tx->sender);
    vm_address target = tx->to;
    if (tx->is_create) vm_create_address(&tx->sender, nonce, &target);
    host.ops->set_nonce(w, &tx->sender, nonce + 1);
    if ((err = warm_up(&host, env, tx, &target))) return err;
    if (w->failed) return VM_ERR_NOMEM;

    struct vm_tx_context ctx = {
        .origin = tx->sender,
        .gas_price = price,
        .coinbase = env->coinbase,
        .number = env->number,
        .timestamp = env->timestamp,
        .gas_limit = env->gas_limit,
        .prevrandao = env->prevrandao,
        .chain_id = env->chain_id,
        .base_fee = env->base_fee,
        .blob_base_fee = blob_base_fee,
        .blob_hashes = tx->blob_hashes,
        .blob_hashes_count = tx->type == 3 ? tx->blob_hashes_count : 0,
    };
    uint64_t intrinsic = vm_intrinsic_gas(tx);
    struct vm_message msg = {
        .kind = tx->is_create ? VM_CREATE : VM_CALL,
        .is_static = false,
        .depth = 0,
        .gas = (int64_t)(tx->gas_limit - intrinsic),
        .recipient = target,
        .sender = tx->sender,
        .code_address = target,
        .input = tx->data,
        .input_size = tx->data_len,
        .value = tx->value,
    };
    struct vm_result res;
    memset(&res, 0, sizeof res);
    if ((err = vm_evm_execute(evm, &host, &ctx, &msg, &res))) return err;
    if (w->failed) {
        vm_result_free(&res);
        return VM_ERR_NOMEM;
    }

    int64_t gas_left = res.gas_left < 0 ? 0 : res.gas_left;
    if ((uint64_t)gas_left > tx->gas_limit - intrinsic) gas_left = 0; /* a bug: never trust it */
    uint64_t gas_used = tx->gas_limit - (uint64_t)gas_left;
    uint64_t refund = res.status == VM_SUCCESS && res.gas_refund > 0 ? (uint64_t)res.gas_refund : 0;
    if (refund > gas_used / REFUND_QUOTIENT) refund = gas_used / REFUND_QUOTIENT;
    gas_used -= refund;
    uint64_t gas_back = tx->gas_limit - gas_used;

    if ((err = world_add_balance(w, &tx->sender,
                                 vm_u256_mul(vm_u256_from_u64(gas_back), price))))
        goto done;
    /* The coinbase gets the priority part of the price; the base fee is
     * burnt. It is credited (and so touched) even when that is zero. */
    vm_u256 tip = vm_u256_sub(price, env->base_fee);
    if ((err = world_add_balance(w, &env->coinbase, vm_u256_mul(vm_u256_from_u64(gas_used), tip))))
        goto done;
    vm_world_end_tx(w);

    out->status = res.status;
    out->gas_used = gas_used;
    out->create_address = tx->is_create ? target : res.create_address;
    out->output = res.output;
    out->output_size = res.output_size;
    res.output = NULL;
done:
    vm_result_free(&res);
    return err;
}
