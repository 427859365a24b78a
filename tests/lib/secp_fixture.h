/*
 * secp_fixture.h — the cmocka group fixture of the tests that need a secp
 * context: one context for the whole group, passed to each test in *state.
 * Include after <cmocka.h> and "vm.h".
 */
#ifndef BP_TESTS_LIB_SECP_FIXTURE_H
#define BP_TESTS_LIB_SECP_FIXTURE_H

static inline int secp_setup(void **state)
{
    struct vm_secp *secp = NULL;
    if (vm_secp_new(&secp) != VM_OK) return -1;
    *state = secp;
    return 0;
}

static inline int secp_teardown(void **state)
{
    vm_secp_free(*state);
    return 0;
}

#endif
