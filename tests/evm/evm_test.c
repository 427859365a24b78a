/*
 * evm_test.c — unit tests of the interpreter and frame driver (vm/evm.c,
 * vm/interp.c) over the in-memory world. Expected values come from the EIPs
 * (EIP-3529's SSTORE table, EIP-170/3541/3860), the yellow paper's gas
 * schedule, and hand-counted gas for short programs.
 */
#include "evm_internal.h"
#include "evm_u256.h"
#include "vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);              \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static vm_address addr_of(uint8_t last)
{
    vm_address a;
    memset(&a, 0, sizeof a);
    a.b[0] = 0xaa;
    a.b[19] = last;
    return a;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (vm_hex_decode(hex, out, cap, &n)) {
        fprintf(stderr, "bad hex in test: %s\n", hex);
        exit(1);
    }
    return n;
}

struct run {
    struct vm_world *w;
    struct vm_evm *evm;
    struct vm_result res;
    vm_address sender, contract;
};

static const struct vm_tx_context tx_ctx = {.number = 1000, .gas_limit = 30000000};

/* Installs code at `contract` (and child_hex, if not NULL, at address
 * 0x..03), optionally with slot 0 = orig (committed), and calls it with gas.
 * warm_slot0: pre-warm slot 0 (as an access list). */
static void run_code_with(struct run *r, const char *code_hex, const char *child_hex, int64_t gas,
                          bool set_orig, uint64_t orig, bool warm_slot0)
{
    uint8_t code[4096], child[4096];
    size_t n = unhex(code_hex, code, sizeof code);
    size_t cn = child_hex ? unhex(child_hex, child, sizeof child) : 0;
    vm_address child_at = addr_of(3);
    r->sender = addr_of(1);
    r->contract = addr_of(2);
    if (vm_world_new(&r->w) || vm_evm_new(&r->evm)) exit(1);
    if (vm_world_set_account(r->w, &r->sender, 0, vm_u256_from_u64(1000000000), NULL, 0) ||
        vm_world_set_account(r->w, &r->contract, 1, vm_u256_from_u64(0), code, n) ||
        (child_hex && vm_world_set_account(r->w, &child_at, 1, vm_u256_from_u64(0), child, cn)))
        exit(1);
    if (set_orig && vm_world_set_storage(r->w, &r->contract, vm_u256_from_u64(0),
                                         vm_u256_from_u64(orig)))
        exit(1);
    vm_world_begin_tx(r->w);
    struct vm_host host = vm_world_host(r->w);
    (void)host.ops->access_account(host.ctx, &r->sender);
    (void)host.ops->access_account(host.ctx, &r->contract);
    if (warm_slot0) (void)host.ops->access_storage(host.ctx, &r->contract, vm_u256_from_u64(0));
    struct vm_message msg = {
        .kind = VM_CALL,
        .gas = gas,
        .recipient = r->contract,
        .sender = r->sender,
        .code_address = r->contract,
        .input = (const uint8_t *)"",
    };
    if (vm_evm_execute(r->evm, &host, &tx_ctx, &msg, &r->res)) exit(1);
}

static void run_code(struct run *r, const char *code_hex, int64_t gas, bool set_orig,
                     uint64_t orig, bool warm_slot0)
{
    run_code_with(r, code_hex, NULL, gas, set_orig, orig, warm_slot0);
}

static void run_done(struct run *r)
{
    vm_result_free(&r->res);
    vm_evm_free(r->evm);
    vm_world_free(r->w);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A word of a random shape: random limbs, a power of two, small, or all ones. */
static vm_u256 rnd_word(void)
{
    vm_u256 r = {{0, 0, 0, 0}};
    switch (rnd() % 8) {
    case 6:
    case 7: /* small signed values, INT64_MIN and -1 included */
        r.w[0] = (uint64_t)-(int64_t)(rnd() % 100000);
        if (r.w[0] == 0) r.w[0] = rnd() % 2 ? (uint64_t)INT64_MIN : UINT64_MAX;
        r.w[1] = r.w[2] = r.w[3] = (uint64_t)((int64_t)r.w[0] >> 63);
        break;
    case 0: r.w[rnd() % 4] = (uint64_t)1 << (rnd() % 64); break;
    case 1: r.w[0] = rnd() % 1000; break;
    case 2: r.w[0] = r.w[1] = r.w[2] = r.w[3] = UINT64_MAX; break;
    case 3: r.w[0] = rnd(); r.w[1] = rnd(); break;
    default:
        for (int i = 0; i < 4; i++) r.w[i] = rnd();
    }
    return r;
}

/* The interpreter's inline word helpers against vm/u256.c (itself tested
 * against GMP in tests/u256). */
static void test_inline_words(void)
{
    for (int i = 0; i < 200000; i++) {
        vm_u256 a = rnd_word(), b = rnd_word();
        unsigned sh = (unsigned)(rnd() % 256);
        vm_u256 x;
        x = w_add(&a, &b);
        CHECK(vm_u256_eq(x, vm_u256_add(a, b)));
        x = w_sub(&a, &b);
        CHECK(vm_u256_eq(x, vm_u256_sub(a, b)));
        x = w_mul(&a, &b);
        CHECK(vm_u256_eq(x, vm_u256_mul(a, b)));
        x = w_div(&a, &b);
        CHECK(vm_u256_eq(x, vm_u256_div(a, b)));
        x = w_mod(&a, &b);
        CHECK(vm_u256_eq(x, vm_u256_mod(a, b)));
        x = w_sdiv(&a, &b);
        CHECK(vm_u256_eq(x, vm_u256_sdiv(a, b)));
        x = w_smod(&a, &b);
        CHECK(vm_u256_eq(x, vm_u256_smod(a, b)));
        x = w_shl(&a, sh);
        CHECK(vm_u256_eq(x, vm_u256_shl(vm_u256_from_u64(sh), a)));
        x = w_shr(&a, sh);
        CHECK(vm_u256_eq(x, vm_u256_shr(vm_u256_from_u64(sh), a)));
        vm_u256 shw = rnd() % 8 ? vm_u256_from_u64(rnd() % 300) : b;
        x = w_sar(&shw, &a);
        CHECK(vm_u256_eq(x, vm_u256_sar(shw, a)));
        vm_u256 idx = rnd() % 8 ? vm_u256_from_u64(rnd() % 40) : b;
        x = w_byte(&idx, &a);
        CHECK(vm_u256_eq(x, vm_u256_byte(idx, a)));
        x = w_signextend(&idx, &a);
        CHECK(vm_u256_eq(x, vm_u256_signextend(idx, a)));
        CHECK(w_lt(&a, &b) == (vm_u256_cmp(a, b) < 0));
        CHECK(w_slt(&a, &b) == (vm_u256_scmp(a, b) < 0));
        CHECK(w_eq(&a, &b) == vm_u256_eq(a, b));
        uint8_t be[32];
        vm_u256_to_be(a, be);
        x = w_load32_be(be);
        CHECK(vm_u256_eq(x, a));
        unsigned n = 1 + (unsigned)(rnd() % 32);
        x = w_load_be_n(be + 32 - n, n);
        CHECK(vm_u256_eq(x, vm_u256_from_be(be + 32 - n, n)));
        if (failures > 20) return;
    }
}

static void test_traits(void)
{
    /* Yellow paper appendix G / EIP-2929 warm costs. */
    CHECK(evm_traits[0x01].gas == 3 && evm_traits[0x01].stack_in == 2);
    CHECK(evm_traits[0x02].gas == 5);
    CHECK(evm_traits[0x0a].gas == 10);
    CHECK(evm_traits[0x20].gas == 30);
    CHECK(evm_traits[0x40].gas == 20);
    CHECK(evm_traits[0x47].gas == 5);
    CHECK(evm_traits[0x54].gas == 100);
    CHECK(evm_traits[0x5b].gas == 1);
    CHECK(evm_traits[0x5f].gas == 2 && evm_traits[0x5f].stack_change == 1);
    CHECK(evm_traits[0x9f].stack_in == 17 && evm_traits[0x9f].stack_change == 0);
    CHECK(evm_traits[0x8f].stack_in == 16 && evm_traits[0x8f].stack_change == 1);
    CHECK(evm_traits[0xa4].gas == 1875 && evm_traits[0xa4].stack_in == 6);
    CHECK(evm_traits[0xf1].stack_in == 7 && evm_traits[0xfa].stack_in == 6);
    CHECK(evm_traits[0xff].gas == 5000);
    CHECK(evm_traits[0x0c].name == NULL && evm_traits[0x4b].name == NULL);
    CHECK(evm_traits[0xef].name == NULL && evm_traits[0xfe].name != NULL);
    CHECK(strcmp(vm_status_name(VM_REVERT), "revert") == 0);
}

static void test_add_return(void)
{
    /* PUSH1 2 PUSH1 3 ADD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN:
     * 3+3+3+3+(3+3 memory)+3+3 = 24 gas. */
    struct run r;
    run_code(&r, "6002600301600052602060" "00f3", 100000, false, 0, false);
    CHECK(r.res.status == VM_SUCCESS);
    CHECK(r.res.gas_left == 100000 - 24);
    CHECK(r.res.output_size == 32 && r.res.output && r.res.output[31] == 5 && r.res.output[0] == 0);
    run_done(&r);
}

/* EIP-3529 "Test cases" (slot warm, London+): code, used gas, refund, original. */
static void test_sstore_eip3529(void)
{
    static const struct {
        const char *code;
        int64_t used, refund;
        uint64_t orig;
    } cases[] = {
        {"60006000556000600055", 212, 0, 0},
        {"60006000556001600055", 20112, 0, 0},
        {"60016000556000600055", 20112, 19900, 0},
        {"60016000556002600055", 20112, 0, 0},
        {"60016000556001600055", 20112, 0, 0},
        {"60006000556000600055", 3012, 4800, 1},
        {"60006000556001600055", 3012, 2800, 1},
        {"60006000556002600055", 3012, 0, 1},
        {"60026000556000600055", 3012, 4800, 1},
        {"60026000556003600055", 3012, 0, 1},
        {"60026000556001600055", 3012, 2800, 1},
        {"60026000556002600055", 3012, 0, 1},
        {"60016000556000600055", 3012, 4800, 1},
        {"60016000556002600055", 3012, 0, 1},
        {"60016000556001600055", 212, 0, 1},
        {"600160005560006000556001600055", 40118, 19900, 0},
        {"600060005560016000556000600055", 5918, 7600, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run r;
        run_code(&r, cases[i].code, 100000, true, cases[i].orig, true);
        CHECK(r.res.status == VM_SUCCESS);
        if (100000 - r.res.gas_left != cases[i].used || r.res.gas_refund != cases[i].refund) {
            fprintf(stderr, "sstore case %zu (%s): used %lld refund %lld\n", i, cases[i].code,
                    (long long)(100000 - r.res.gas_left), (long long)r.res.gas_refund);
            failures++;
        }
        run_done(&r);
    }
    /* Cold slot: +2100 once (EIP-2929). */
    struct run r;
    run_code(&r, "60006000556000600055", 100000, true, 0, false);
    CHECK(100000 - r.res.gas_left == 2312);
    run_done(&r);
    /* EIP-2200 sentry: with 2300 gas left SSTORE fails, all gas gone. */
    run_code(&r, "6001600055", 2306, false, 0, true);
    CHECK(r.res.status == VM_OUT_OF_GAS && r.res.gas_left == 0);
    run_done(&r);
}

static void test_blocks_and_gas_opcode(void)
{
    /* GAS must see exactly the constant gas of what ran before it, not of
     * its whole basic block: PUSH1 1, POP, GAS = 3 + 2 + 2 charged. */
    struct run r;
    run_code(&r, "600150" "5a" "600052" "60206000f3", 100000, false, 0, false);
    CHECK(r.res.status == VM_SUCCESS && r.res.output_size == 32);
    if (r.res.output_size == 32)
        CHECK(r.res.output[31] == (uint8_t)((100000 - 7) & 0xff) &&
              r.res.output[30] == (uint8_t)((100000 - 7) >> 8) &&
              r.res.output[29] == (uint8_t)((100000 - 7) >> 16));
    CHECK(r.res.gas_left == 100000 - 7 - 3 - 6 - 3 - 3);
    run_done(&r);

    /* Blocks: [PUSH1 PUSH1 ADD JUMPI] [PUSH0 STOP] [JUMPDEST POP POP ...] */
    struct evm_code c = {0};
    uint8_t code[] = {0x60, 0x01, 0x60, 0x02, 0x01, 0x57, 0x5f, 0x00, 0x5b, 0x50, 0x50, 0x00};
    CHECK(evm_analyse_into(&c, code, sizeof code) == VM_OK);
    CHECK(c.blocks[0].gas == 3 + 3 + 3 + 10 && c.blocks[0].min_height == 1 &&
          c.blocks[0].max_growth == 2);
    CHECK(c.blocks[6].gas == 2 && c.blocks[6].max_growth == 1);
    CHECK(c.blocks[8].gas == 1 + 2 + 2 && c.blocks[8].min_height == 2 &&
          c.blocks[8].max_growth == 0);
    CHECK(evm_is_jumpdest(&c, 8) && !evm_is_jumpdest(&c, 9) && !evm_is_jumpdest(&c, 100));
    /* a JUMPDEST inside push data is no destination */
    uint8_t code2[] = {0x61, 0x5b, 0x5b, 0x5b};
    CHECK(evm_analyse_into(&c, code2, sizeof code2) == VM_OK);
    CHECK(!evm_is_jumpdest(&c, 1) && !evm_is_jumpdest(&c, 2) && evm_is_jumpdest(&c, 3));
    evm_code_release(&c);

    /* Underflow detected at a block's start: ADD on an empty stack fails. */
    run_code(&r, "01", 100000, false, 0, false);
    CHECK(r.res.status == VM_STACK_UNDERFLOW && r.res.gas_left == 0);
    run_done(&r);
}

static void test_memory_bounded(void)
{
    /* MSTORE at 2^31: memory cost ~2^43 gas, far beyond 1e6: out of gas,
     * without the interpreter allocating 2 GiB. */
    struct run r;
    run_code(&r, "600163800000005200", 1000000, false, 0, false);
    CHECK(r.res.status == VM_OUT_OF_GAS && r.res.gas_left == 0);
    run_done(&r);
    /* MSTORE at 2^16-32 then MSIZE == 65536; cost 3*2048 + 2048^2/512 = 14336. */
    run_code(&r, "600161ffe052596000526020" "6000f3", 1000000, false, 0, false);
    CHECK(r.res.status == VM_SUCCESS && r.res.output_size == 32);
    CHECK(r.res.output && r.res.output[29] == 1 && r.res.output[30] == 0 && r.res.output[31] == 0);
    CHECK(1000000 - r.res.gas_left == 3 + 3 + 3 + 14336 + 2 + 3 + 3 + 3 + 3);
    run_done(&r);
}

static void test_deep_recursion(void)
{
    /* Each level: slot0 += 1, then CALL itself with all gas. Levels 0..1024
     * run; the call from depth 1024 fails. No C stack growth per level. */
    struct run r;
    run_code(&r, "6000546001016000556000600060006000600030" "5af100", 1000000000000LL, false, 0,
             false);
    CHECK(r.res.status == VM_SUCCESS);
    vm_u256 v = vm_world_storage(r.w, &r.contract, vm_u256_from_u64(0));
    CHECK(vm_u256_eq(v, vm_u256_from_u64(1025)));
    run_done(&r);
}

static void test_revert_returndata(void)
{
    /* The child (address 0x..03) stores 0x2a in memory and REVERTs 32 bytes;
     * the parent CALLs it, RETURNDATACOPYs and returns the data with the
     * CALL's 0 in front. */
    const char *parent = "60006000600060006000" "73aa00000000000000000000000000000000000003"
                         "5af1" /* CALL -> success flag */
                         "600052"           /* mstore(0, flag) */
                         "3d600060203e"     /* returndatacopy(32, 0, size) */
                         "60406000f3";      /* return(0, 64) */
    struct run r;
    run_code_with(&r, parent, "602a60005260206000fd", 1000000, false, 0, false);
    CHECK(r.res.status == VM_SUCCESS && r.res.output_size == 64);
    if (r.res.output_size == 64) {
        CHECK(r.res.output[31] == 0);  /* the CALL returned 0 */
        CHECK(r.res.output[63] == 42); /* the revert data */
    }
    run_done(&r);
}

static void test_create(void)
{
    /* Init code returning 1 byte of runtime code (0x00) via MSTORE8/RETURN;
     * the parent CREATEs it from memory and returns the new address. */
    /* init: PUSH1 0 PUSH1 0 MSTORE8 PUSH1 1 PUSH1 0 RETURN = 600060005360016000f3 (10 bytes) */
    const char *parent = "69600060005360016000f3" /* PUSH10 init */
                         "600052"                 /* mstore(0, init) -> bytes 22..31 */
                         "600a6016" "6000f0"      /* create(0, 22, 10) */
                         "60005260206000f3";
    struct run r;
    run_code(&r, parent, 1000000, false, 0, false);
    CHECK(r.res.status == VM_SUCCESS && r.res.output_size == 32);
    vm_address expect;
    vm_create_address(&r.contract, 1, &expect);
    if (r.res.output_size == 32) CHECK(memcmp(r.res.output + 12, expect.b, 20) == 0);
    const uint8_t *code;
    CHECK(vm_world_code(r.w, &expect, &code) == 1);
    CHECK(vm_world_nonce(r.w, &expect) == 1);
    CHECK(vm_world_nonce(r.w, &r.contract) == 2);
    run_done(&r);

    /* Same, but the runtime code starts with 0xEF (EIP-3541): CREATE pushes 0. */
    run_code(&r, "6960ef60005360016000f3600052600a60166000f060005260206000f3", 1000000, false, 0,
             false);
    CHECK(r.res.status == VM_SUCCESS && r.res.output_size == 32);
    if (r.res.output_size == 32) {
        uint8_t zero[32] = {0};
        CHECK(memcmp(r.res.output, zero, 32) == 0);
    }
    CHECK(vm_world_nonce(r.w, &r.contract) == 2); /* the nonce is bumped anyway */
    run_done(&r);
}

static void test_static_violation(void)
{
    /* STATICCALL into a contract that SSTOREs: the inner call fails (0). */
    struct run r;
    run_code_with(&r, "6000600060006000" "73aa00000000000000000000000000000000000003" "5afa"
                      "60005260206000f3", "6001600055", 100000, false, 0, false);
    CHECK(r.res.status == VM_SUCCESS && r.res.output_size == 32 && r.res.output[31] == 0);
    vm_address c = addr_of(3);
    CHECK(vm_u256_is_zero(vm_world_storage(r.w, &c, vm_u256_from_u64(0))));
    run_done(&r);
}

int main(void)
{
    test_traits();
    test_inline_words();
    test_add_return();
    test_sstore_eip3529();
    test_blocks_and_gas_opcode();
    test_memory_bounded();
    test_deep_recursion();
    test_revert_returndata();
    test_create();
    test_static_violation();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("evm tests passed\n");
    return 0;
}
