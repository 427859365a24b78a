/* Small helpers shared by the tests of tests/prim. */
#ifndef BP_TESTS_PRIM_UTIL_H
#define BP_TESTS_PRIM_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vm.h"

/* Decodes a hex literal of exactly n bytes into out (fails the test otherwise). */
static inline void unhex(const char *hex, uint8_t *out, size_t n)
{
    size_t got = 0;
    assert_int_equal(vm_hex_decode(hex, out, n, &got), VM_OK);
    assert_int_equal(got, n);
}

/* Asserts that data[0..32) equals the hex literal. */
static inline void assert_hash(const uint8_t got[32], const char *want_hex)
{
    uint8_t want[32];
    unhex(want_hex, want, 32);
    char a[67], b[67];
    vm_hex_encode(got, 32, a);
    vm_hex_encode(want, 32, b);
    assert_string_equal(a, b);
}

#endif
