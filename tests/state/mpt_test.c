/*
 * mpt_test.c — Merkle Patricia trie roots against the ethereum/tests
 * TrieTests vectors (trieanyorder.json: emptyValues, dogs, puppy, foo,
 * smallValues, testy, hex, singleItem) and the empty storage root of
 * DESIGN.md §3.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vm.h"

struct kv {
    const char *k, *v;
};

static void check_root(const struct kv *kvs, size_t n, const char *want_hex, bool hex_items)
{
    struct vm_mpt_entry e[64];
    uint8_t kb[64][64], vb[64][64];
    assert_true(n <= 64);
    for (size_t i = 0; i < n; i++) {
        if (hex_items) {
            size_t kl, vl;
            assert_int_equal(vm_hex_decode(kvs[i].k, kb[i], 64, &kl), VM_OK);
            assert_int_equal(vm_hex_decode(kvs[i].v, vb[i], 64, &vl), VM_OK);
            e[i] = (struct vm_mpt_entry){kb[i], kl, vb[i], vl};
        } else {
            e[i] = (struct vm_mpt_entry){(const uint8_t *)kvs[i].k, strlen(kvs[i].k),
                                         (const uint8_t *)kvs[i].v, strlen(kvs[i].v)};
        }
    }
    uint8_t root[32], want[32];
    size_t wl;
    assert_int_equal(vm_hex_decode(want_hex, want, 32, &wl), VM_OK);
    assert_int_equal(vm_mpt_root(e, n, root), VM_OK);
    assert_memory_equal(root, want, 32);
    /* Order must not matter: the same entries reversed. */
    for (size_t i = 0; i < n / 2; i++) {
        struct vm_mpt_entry t = e[i];
        e[i] = e[n - 1 - i];
        e[n - 1 - i] = t;
    }
    assert_int_equal(vm_mpt_root(e, n, root), VM_OK);
    assert_memory_equal(root, want, 32);
}

static void test_empty(void **state)
{
    (void)state;
    check_root(NULL, 0, "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421", false);
    uint8_t root[32], want[32];
    size_t wl;
    assert_int_equal(vm_storage_root(NULL, 0, root), VM_OK);
    assert_int_equal(vm_hex_decode("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
                                   want, 32, &wl),
                     VM_OK);
    assert_memory_equal(root, want, 32);
    /* Zero-valued slots are absent. */
    struct vm_storage_slot zero = {vm_u256_from_u64(7), vm_u256_from_u64(0)};
    assert_int_equal(vm_storage_root(&zero, 1, root), VM_OK);
    assert_memory_equal(root, want, 32);
}

static void test_dogs(void **state)
{
    (void)state;
    const struct kv kv[] = {{"doe", "reindeer"}, {"dog", "puppy"}, {"dogglesworth", "cat"}};
    check_root(kv, 3, "0x8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3", false);
}

static void test_puppy_and_empty_values(void **state)
{
    (void)state;
    const struct kv kv[] = {{"do", "verb"}, {"horse", "stallion"}, {"doge", "coin"}, {"dog", "puppy"}};
    check_root(kv, 4, "0x5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84", false);
    /* emptyValues: "ether" and "shaman" deleted again = absent entries. */
    const struct kv kv2[] = {{"do", "verb"},  {"ether", ""},   {"horse", "stallion"},
                             {"shaman", ""}, {"doge", "coin"}, {"dog", "puppy"}};
    check_root(kv2, 6, "0x5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84", false);
}

static void test_small_tries(void **state)
{
    (void)state;
    const struct kv foo[] = {{"foo", "bar"}, {"food", "bass"}};
    check_root(foo, 2, "0x17beaa1648bafa633cda809c90c04af50fc8aed3cb40d16efbddee6fdf63c4c3", false);
    const struct kv small[] = {{"be", "e"}, {"dog", "puppy"}, {"bed", "d"}};
    check_root(small, 3, "0x3f67c7a47520f79faa29255d2d3c084a7a6df0453116ed7232ff10277a8be68b", false);
    const struct kv testy[] = {{"test", "test"}, {"te", "testy"}};
    check_root(testy, 2, "0x8452568af70d8d140f58d941338542f645fcca50094b20f3c3d8c3df49337928", false);
    const struct kv hex[] = {{"0x0045", "0x0123456789"}, {"0x4500", "0x9876543210"}};
    check_root(hex, 2, "0x285505fcabe84badc8aa310e2aae17eddc7d120aabec8a476902c8184b3a3503", true);
    const struct kv single[] = {{"A", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}};
    check_root(single, 1, "0xd23786fb4a010da3ce639d66d5e904a11dbc02746d1ce25029e53290cabf28ab", false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_dogs),
        cmocka_unit_test(test_puppy_and_empty_values),
        cmocka_unit_test(test_small_tries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
