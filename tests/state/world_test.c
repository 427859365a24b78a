/*
 * world_test.c — the in-memory world: state root of a known pre state
 * (ethereum/tests stEIP1559/lowGasLimit: its transaction is invalid, so the
 * expected post root is the pre state's root), journal and revert of every
 * kind of change, EIP-2200 originals, EIP-161 removal of touched empty
 * accounts, EIP-6780 selfdestruct, logs hash of no logs.
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
    assert_int_equal(n, 20);
    return a;
}

static void assert_hex32(const uint8_t got[32], const char *want_hex)
{
    uint8_t want[32];
    size_t n;
    assert_int_equal(vm_hex_decode(want_hex, want, 32, &n), VM_OK);
    assert_memory_equal(got, want, 32);
}

static vm_u256 u(uint64_t v)
{
    return vm_u256_from_u64(v);
}

static const char *EMPTY_ROOT = "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421";

/* stEIP1559/lowGasLimit pre state. */
static struct vm_world *known_world(void)
{
    struct vm_world *w;
    assert_int_equal(vm_world_new(&w), VM_OK);
    vm_address a = addr_of("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
    vm_address c = addr_of("cccccccccccccccccccccccccccccccccccccccc");
    vm_u256 eth = u(1000000000000000000u);
    static const uint8_t code[] = {0x60, 0x02, 0x60, 0x00, 0x55, 0x00};
    assert_int_equal(vm_world_set_account(w, &a, 1, eth, NULL, 0), VM_OK);
    assert_int_equal(vm_world_set_account(w, &c, 0, eth, code, sizeof code), VM_OK);
    assert_int_equal(vm_world_set_storage(w, &c, u(0), u(0x60a7)), VM_OK);
    return w;
}

static const char *KNOWN_ROOT = "0xb2b8d1860969ed21cd1eee5c69206176b951fbf820ee6b7f8ad84e8234094a5e";

static void test_roots(void **state)
{
    (void)state;
    struct vm_world *w;
    uint8_t root[32];
    assert_int_equal(vm_world_new(&w), VM_OK);
    assert_int_equal(vm_world_state_root(w, root), VM_OK);
    assert_hex32(root, EMPTY_ROOT);
    vm_world_free(w);

    w = known_world();
    assert_int_equal(vm_world_state_root(w, root), VM_OK);
    assert_hex32(root, KNOWN_ROOT);
    vm_address c = addr_of("cccccccccccccccccccccccccccccccccccccccc");
    vm_address nobody = addr_of("0000000000000000000000000000000000000bad");
    struct vm_storage_slot s = {u(0), u(0x60a7)};
    uint8_t want[32];
    assert_int_equal(vm_storage_root(&s, 1, want), VM_OK);
    assert_int_equal(vm_world_storage_root(w, &c, root), VM_OK);
    assert_memory_equal(root, want, 32);
    assert_int_equal(vm_world_storage_root(w, &nobody, root), VM_OK);
    assert_hex32(root, EMPTY_ROOT);
    uint8_t logs[32];
    assert_int_equal(vm_world_logs_hash(w, logs), VM_OK);
    /* keccak(rlp([])) = keccak(0xc0) */
    assert_hex32(logs, "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347");
    vm_world_free(w);
}

static void test_revert_everything(void **state)
{
    (void)state;
    struct vm_world *w = known_world();
    struct vm_host h = vm_world_host(w);
    const struct vm_host_ops *o = h.ops;
    vm_address a = addr_of("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
    vm_address c = addr_of("cccccccccccccccccccccccccccccccccccccccc");
    vm_address n = addr_of("00000000000000000000000000000000000000ee");
    vm_world_begin_tx(w);
    assert_false(o->access_account(w, &a));
    size_t snap = o->snapshot(w);

    assert_true(o->transfer(w, &a, &n, u(5)));
    assert_true(o->account_exists(w, &n));
    assert_false(o->transfer(w, &n, &a, u(6))); /* only 5 there */
    o->set_nonce(w, &a, 9);
    assert_int_equal(o->set_storage(w, &c, u(0), u(1)), VM_OK);
    assert_int_equal(o->set_storage(w, &c, u(3), u(4)), VM_OK);
    static const uint8_t code[] = {0x00};
    assert_int_equal(o->set_code(w, &n, code, 1), VM_OK);
    assert_int_equal(o->set_transient(w, &c, u(1), u(2)), VM_OK);
    assert_true(o->access_account(w, &a));
    assert_false(o->access_account(w, &n));
    assert_true(o->access_account(w, &n));
    assert_false(o->access_storage(w, &c, u(8)));
    assert_true(o->access_storage(w, &c, u(8)));
    vm_bytes32 topic = {{1}};
    assert_int_equal(o->emit_log(w, &c, &topic, 1, code, 1), VM_OK);
    assert_int_equal(vm_world_log_count(w), 1);
    assert_int_equal(o->create_account(w, &c), VM_OK);
    assert_true(vm_u256_is_zero(o->get_storage(w, &c, u(0))));
    assert_int_equal(o->get_nonce(w, &c), 1);

    o->revert(w, snap);
    uint8_t root[32];
    assert_int_equal(vm_world_state_root(w, root), VM_OK);
    assert_hex32(root, KNOWN_ROOT);
    assert_false(o->account_exists(w, &n));
    assert_true(o->access_account(w, &a));  /* warmed before the snapshot */
    assert_false(o->access_account(w, &n)); /* the warm mark was undone */
    assert_false(o->access_storage(w, &c, u(8)));
    assert_true(vm_u256_is_zero(o->get_transient(w, &c, u(1))));
    assert_int_equal(vm_world_log_count(w), 0);
    assert_int_equal(o->get_nonce(w, &a), 1);
    assert_true(vm_u256_eq(o->get_storage(w, &c, u(0)), u(0x60a7)));
    vm_world_end_tx(w);
    vm_world_free(w);
}

static void test_originals_and_commit(void **state)
{
    (void)state;
    struct vm_world *w = known_world();
    struct vm_host h = vm_world_host(w);
    const struct vm_host_ops *o = h.ops;
    vm_address c = addr_of("cccccccccccccccccccccccccccccccccccccccc");
    vm_world_begin_tx(w);
    assert_int_equal(o->set_storage(w, &c, u(0), u(7)), VM_OK);
    assert_int_equal(o->set_storage(w, &c, u(1), u(8)), VM_OK);
    assert_true(vm_u256_eq(o->get_storage(w, &c, u(0)), u(7)));
    assert_true(vm_u256_eq(o->get_committed_storage(w, &c, u(0)), u(0x60a7)));
    assert_true(vm_u256_is_zero(o->get_committed_storage(w, &c, u(1))));
    assert_int_equal(o->set_transient(w, &c, u(1), u(2)), VM_OK);
    vm_world_end_tx(w);
    vm_world_begin_tx(w);
    assert_true(vm_u256_eq(o->get_committed_storage(w, &c, u(0)), u(7)));
    assert_true(vm_u256_eq(o->get_committed_storage(w, &c, u(1)), u(8)));
    assert_true(vm_u256_is_zero(o->get_transient(w, &c, u(1))));
    vm_world_end_tx(w);
    vm_world_free(w);
}

static void test_eip161_and_eip6780(void **state)
{
    (void)state;
    struct vm_world *w = known_world();
    struct vm_host h = vm_world_host(w);
    const struct vm_host_ops *o = h.ops;
    vm_address a = addr_of("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
    vm_address c = addr_of("cccccccccccccccccccccccccccccccccccccccc");
    vm_address empty = addr_of("00000000000000000000000000000000000000e0");
    vm_address absent = addr_of("00000000000000000000000000000000000000e1");
    vm_address fresh = addr_of("00000000000000000000000000000000000000e2");
    assert_int_equal(vm_world_set_account(w, &empty, 0, u(0), NULL, 0), VM_OK);
    vm_world_begin_tx(w);
    assert_true(o->account_is_empty(w, &empty));
    o->touch(w, &empty);
    o->touch(w, &absent);
    assert_false(o->account_exists(w, &absent));
    /* A zero transfer to an absent account creates it empty and touched. */
    assert_true(o->transfer(w, &a, &absent, u(0)));
    assert_true(o->account_exists(w, &absent));
    /* Created in this tx, then selfdestructed: gone at the end, its balance burnt. */
    assert_int_equal(o->create_account(w, &fresh), VM_OK);
    assert_true(o->transfer(w, &a, &fresh, u(100)));
    assert_int_equal(o->selfdestruct(w, &fresh, &fresh), VM_OK);
    assert_true(o->account_exists(w, &fresh));
    /* Not created in this tx: only the balance moves. */
    vm_u256 cbal = o->get_balance(w, &c);
    vm_u256 abal = o->get_balance(w, &a);
    assert_int_equal(o->selfdestruct(w, &c, &a), VM_OK);
    assert_true(vm_u256_is_zero(o->get_balance(w, &c)));
    assert_true(vm_u256_eq(o->get_balance(w, &a), vm_u256_add(abal, cbal)));
    vm_world_end_tx(w);
    assert_false(vm_world_account_exists(w, &empty));
    assert_false(vm_world_account_exists(w, &absent));
    assert_false(vm_world_account_exists(w, &fresh));
    assert_true(vm_world_account_exists(w, &c));
    assert_true(vm_u256_eq(vm_world_storage(w, &c, u(0)), u(0x60a7)));
    const uint8_t *code;
    assert_int_equal(vm_world_code(w, &c, &code), 6);
    vm_world_free(w);
}

static void test_code_hash(void **state)
{
    (void)state;
    struct vm_world *w = known_world();
    struct vm_host h = vm_world_host(w);
    vm_address a = addr_of("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
    vm_address c = addr_of("cccccccccccccccccccccccccccccccccccccccc");
    vm_address absent = addr_of("00000000000000000000000000000000000000e1");
    vm_bytes32 ha = h.ops->get_code_hash(w, &a), hc = h.ops->get_code_hash(w, &c),
               hn = h.ops->get_code_hash(w, &absent);
    /* keccak("") for an existing account without code */
    assert_hex32(ha.b, "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    uint8_t want[32];
    static const uint8_t code[] = {0x60, 0x02, 0x60, 0x00, 0x55, 0x00};
    vm_keccak256(code, sizeof code, want);
    assert_memory_equal(hc.b, want, 32);
    assert_memory_equal(hn.b, (uint8_t[32]){0}, 32);
    vm_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roots),
        cmocka_unit_test(test_revert_everything),
        cmocka_unit_test(test_originals_and_commit),
        cmocka_unit_test(test_eip161_and_eip6780),
        cmocka_unit_test(test_code_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
