/*
 * tx_test.c — transaction application: intrinsic gas (EIP-2028/2930/3860),
 * the EIP-4844 blob base fee (values of the EIP's fake_exponential), the
 * validation rules (an invalid transaction changes nothing), and a plain
 * value transfer checked against ethereum/tests stTransactionTest/HighGasLimit
 * (expected post state root from the fixture).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vm.h"

static vm_address addr_of(const char *hex)
{
    vm_address a;
    size_t n;
    assert_int_equal(vm_hex_decode(hex, a.b, 20, &n), VM_OK);
    return a;
}

static vm_u256 u(uint64_t v)
{
    return vm_u256_from_u64(v);
}

static void assert_hex32(const uint8_t got[32], const char *want_hex)
{
    uint8_t want[32];
    size_t n;
    assert_int_equal(vm_hex_decode(want_hex, want, 32, &n), VM_OK);
    assert_memory_equal(got, want, 32);
}

static void test_intrinsic_gas(void **state)
{
    (void)state;
    static const uint8_t data[] = {0x32, 0x40, 0x34, 0x95, 0x48, 0x98, 0x34, 0x54};
    struct vm_transaction tx = {.data = data, .data_len = sizeof data};
    assert_int_equal(vm_intrinsic_gas(&tx), 21000 + 8 * 16);
    static const uint8_t mixed[33] = {1}; /* 1 non-zero, 32 zero bytes */
    tx.data = mixed;
    tx.data_len = sizeof mixed;
    assert_int_equal(vm_intrinsic_gas(&tx), 21000 + 16 + 32 * 4);
    tx.is_create = true; /* + 32000 + 2 words * 2 */
    assert_int_equal(vm_intrinsic_gas(&tx), 21000 + 32000 + 16 + 32 * 4 + 4);
    vm_bytes32 keys[3] = {{{0}}};
    struct vm_access_entry al[2] = {{.keys = keys, .n_keys = 3}, {.keys = NULL, .n_keys = 0}};
    tx.is_create = false;
    tx.data_len = 0;
    tx.access_list = al;
    tx.access_list_len = 2;
    assert_int_equal(vm_intrinsic_gas(&tx), 21000 + 2 * 2400 + 3 * 1900);
}

static void test_blob_base_fee(void **state)
{
    (void)state;
    assert_true(vm_u256_eq(vm_blob_base_fee(0), u(1)));
    assert_true(vm_u256_eq(vm_blob_base_fee(1310720), u(1)));
    assert_true(vm_u256_eq(vm_blob_base_fee(3338477), u(2)));
    assert_true(vm_u256_eq(vm_blob_base_fee(7864320), u(10)));
    assert_true(vm_u256_eq(vm_blob_base_fee(33554432), u(23174)));
}

/* stTransactionTest/HighGasLimit */
static struct vm_world *high_gas_world(void)
{
    struct vm_world *w;
    assert_int_equal(vm_world_new(&w), VM_OK);
    vm_address a = addr_of("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
    assert_int_equal(vm_world_set_account(w, &a, 0, vm_u256_not(u(0)), NULL, 0), VM_OK);
    return w;
}

static struct vm_block_env high_gas_env(void)
{
    struct vm_block_env env = {
        .coinbase = addr_of("2adc25665018aa1fe0e6bc666dac8fc2697ff9ba"),
        .number = 1,
        .timestamp = 1000,
        .gas_limit = INT64_MAX,
        .prevrandao = u(0x20000),
        .chain_id = u(1),
        .base_fee = u(10),
    };
    return env;
}

static const uint8_t high_gas_data[] = {0x32, 0x40, 0x34, 0x95, 0x48, 0x98, 0x34, 0x54};

static struct vm_transaction high_gas_tx(void)
{
    struct vm_transaction tx = {
        .type = 0,
        .nonce = 0,
        .gas_limit = 0x1000000000000000u,
        .gas_price = u(10),
        .sender = addr_of("a94f5374fce5edbc8e2a8697c15331677e6ebf0b"),
        .to = addr_of("b94f5374fce5edbc8e2a8697c15331677e6ebf0b"),
        .value = u(0x384),
        .data = high_gas_data,
        .data_len = sizeof high_gas_data,
    };
    return tx;
}

static void test_value_transfer(void **state)
{
    (void)state;
    struct vm_world *w = high_gas_world();
    struct vm_evm *evm;
    assert_int_equal(vm_evm_new(&evm), VM_OK);
    struct vm_block_env env = high_gas_env();
    struct vm_transaction tx = high_gas_tx();
    struct vm_tx_outcome out;
    assert_int_equal(vm_transaction_apply(evm, w, &env, &tx, &out), VM_OK);
    assert_int_equal(out.invalid, VM_TX_VALID);
    assert_int_equal(out.status, VM_SUCCESS);
    assert_int_equal(out.gas_used, 21128);
    uint8_t root[32];
    assert_int_equal(vm_world_state_root(w, root), VM_OK);
    assert_hex32(root, "0x0fe6bab2c793b162cde7bb7bd479abdcfb5437183e7efee71bf4d6efcb75ae4c");
    /* The coinbase got a zero tip: touched, empty, so removed. */
    assert_false(vm_world_account_exists(w, &env.coinbase));
    vm_tx_outcome_free(&out);
    vm_evm_free(evm);
    vm_world_free(w);
}

static void check_invalid(struct vm_transaction tx, struct vm_block_env env, int want)
{
    struct vm_world *w = high_gas_world();
    struct vm_evm *evm;
    assert_int_equal(vm_evm_new(&evm), VM_OK);
    uint8_t before[32], after[32];
    assert_int_equal(vm_world_state_root(w, before), VM_OK);
    struct vm_tx_outcome out;
    assert_int_equal(vm_transaction_apply(evm, w, &env, &tx, &out), VM_OK);
    assert_int_equal(out.invalid, want);
    assert_int_equal(vm_world_state_root(w, after), VM_OK);
    assert_memory_equal(before, after, 32);
    vm_tx_outcome_free(&out);
    vm_evm_free(evm);
    vm_world_free(w);
}

static void test_invalid(void **state)
{
    (void)state;
    struct vm_block_env env = high_gas_env();
    struct vm_transaction tx = high_gas_tx();
    tx.nonce = 1;
    check_invalid(tx, env, VM_TX_NONCE_MISMATCH);
    tx = high_gas_tx();
    tx.gas_limit = 21127;
    check_invalid(tx, env, VM_TX_INTRINSIC_GAS);
    tx = high_gas_tx();
    tx.gas_price = u(9);
    check_invalid(tx, env, VM_TX_FEE_CAP_BELOW_BASE);
    tx = high_gas_tx();
    tx.gas_price = vm_u256_not(u(0)); /* gasLimit * price overflows */
    check_invalid(tx, env, VM_TX_INSUFFICIENT_FUNDS);
    tx = high_gas_tx();
    env.gas_limit = 0x0fffffffffffffff;
    check_invalid(tx, env, VM_TX_GAS_ALLOWANCE);
    env = high_gas_env();
    tx.type = 2;
    tx.max_fee = u(10);
    tx.max_priority_fee = u(11);
    check_invalid(tx, env, VM_TX_PRIORITY_ABOVE_MAX);
    tx.type = 3;
    tx.max_priority_fee = u(0);
    check_invalid(tx, env, VM_TX_BLOB_NONE);
    vm_bytes32 bad = {{2}};
    tx.blob_hashes = &bad;
    tx.blob_hashes_count = 1;
    check_invalid(tx, env, VM_TX_BLOB_VERSION);
    bad.b[0] = 1;
    tx.max_fee_per_blob_gas = u(0);
    check_invalid(tx, env, VM_TX_BLOB_FEE_BELOW_BASE);
    tx.is_create = true;
    check_invalid(tx, env, VM_TX_BLOB_CREATE);
    tx = high_gas_tx();
    tx.is_create = true;
    static uint8_t big[49153];
    tx.data = big;
    tx.data_len = sizeof big;
    check_invalid(tx, env, VM_TX_INITCODE_SIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intrinsic_gas),
        cmocka_unit_test(test_blob_base_fee),
        cmocka_unit_test(test_value_transfer),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
