/* Amount parsing as `bp open --deposit` takes it. */
#include "amount.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

static void expect(const char *text, const char *wei_dec)
{
    vm_u256 v;
    char out[80];
    assert_int_equal(amount_parse(text, &v), 0);
    vm_u256_to_dec(v, out);
    assert_string_equal(out, wei_dec);
}

static void test_units(void **state)
{
    (void)state;
    expect("1ether", "1000000000000000000");
    expect("1 ether", "1000000000000000000");
    expect("0.5ether", "500000000000000000");
    expect("1.000000000000000001ether", "1000000000000000001");
    expect("5gwei", "5000000000");
    expect("2.5gwei", "2500000000");
    expect("12wei", "12");
    expect("12", "12");
    expect("3eth", "3000000000000000000");
}

static void test_rejects(void **state)
{
    (void)state;
    vm_u256 v;
    assert_int_equal(amount_parse("", &v), VM_ERR_INVALID);
    assert_int_equal(amount_parse("ether", &v), VM_ERR_INVALID);
    assert_int_equal(amount_parse("1 dollar", &v), VM_ERR_INVALID);
    assert_int_equal(amount_parse("1.5", &v), VM_ERR_INVALID);           /* half a wei */
    assert_int_equal(amount_parse("0.0000000001gwei", &v), VM_ERR_INVALID);
    assert_int_equal(amount_parse("1.", &v), VM_ERR_INVALID);
    assert_int_equal(amount_parse("-1ether", &v), VM_ERR_INVALID);
    assert_int_equal(amount_parse("1e18", &v), VM_ERR_INVALID);
    assert_int_equal(amount_parse("999999999999999999999999999999999999999999999999999999999999999ether", &v),
                     VM_ERR_RANGE);
}

static void test_format(void **state)
{
    (void)state;
    char out[100];
    vm_u256 v;
    assert_int_equal(vm_u256_parse("1500000000000000000", &v), 0);
    amount_format_ether(v, out, sizeof out);
    assert_string_equal(out, "1.5 ETH");
    amount_format_ether(vm_u256_from_u64(0), out, sizeof out);
    assert_string_equal(out, "0 ETH");
    amount_format_ether(vm_u256_from_u64(1), out, sizeof out);
    assert_string_equal(out, "0.000000000000000001 ETH");
    assert_int_equal(vm_u256_parse("2000000000000000000", &v), 0);
    amount_format_ether(v, out, sizeof out);
    assert_string_equal(out, "2 ETH");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
