/*
 * evm_u256.h — static inline 256-bit word helpers for the interpreter's hot
 * path (private to vm/).
 *
 * vm/u256.c holds the complete, tested word arithmetic behind vm.h; it lives
 * in another static library, so calls into it cannot be inlined. The few
 * operations the interpreter runs millions of times a second (add, sub,
 * compare, bitwise, shifts, small mul/div, big-endian load/store) are
 * repeated here as inline functions; the rare heavy ones (long division,
 * mulmod, exp) still call vm/u256.c.
 */
#ifndef BP_VM_EVM_U256_H
#define BP_VM_EVM_U256_H

#include "vm.h"

#include <string.h>

typedef unsigned __int128 evm_u128;

static inline vm_u256 w_u64(uint64_t v)
{
    vm_u256 r = {{v, 0, 0, 0}};
    return r;
}

static inline bool w_is_zero(const vm_u256 *a)
{
    return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0;
}

static inline bool w_fits64(const vm_u256 *a)
{
    return (a->w[1] | a->w[2] | a->w[3]) == 0;
}

static inline bool w_eq(const vm_u256 *a, const vm_u256 *b)
{
    return ((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2]) |
            (a->w[3] ^ b->w[3])) == 0;
}

static inline bool w_lt(const vm_u256 *a, const vm_u256 *b)
{
    if (a->w[3] != b->w[3]) return a->w[3] < b->w[3];
    if (a->w[2] != b->w[2]) return a->w[2] < b->w[2];
    if (a->w[1] != b->w[1]) return a->w[1] < b->w[1];
    return a->w[0] < b->w[0];
}

static inline bool w_slt(const vm_u256 *a, const vm_u256 *b)
{
    int64_t ah = (int64_t)a->w[3], bh = (int64_t)b->w[3];
    if (ah != bh) return ah < bh;
    if (a->w[2] != b->w[2]) return a->w[2] < b->w[2];
    if (a->w[1] != b->w[1]) return a->w[1] < b->w[1];
    return a->w[0] < b->w[0];
}

static inline vm_u256 w_add(const vm_u256 *a, const vm_u256 *b)
{
    vm_u256 r;
    evm_u128 t = (evm_u128)a->w[0] + b->w[0];
    r.w[0] = (uint64_t)t;
    t = (evm_u128)a->w[1] + b->w[1] + (uint64_t)(t >> 64);
    r.w[1] = (uint64_t)t;
    t = (evm_u128)a->w[2] + b->w[2] + (uint64_t)(t >> 64);
    r.w[2] = (uint64_t)t;
    r.w[3] = a->w[3] + b->w[3] + (uint64_t)(t >> 64);
    return r;
}

static inline vm_u256 w_sub(const vm_u256 *a, const vm_u256 *b)
{
    vm_u256 r;
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t x = a->w[i], y = b->w[i];
        uint64_t d = x - y - borrow;
        borrow = (x < y) | ((x == y) & borrow);
        r.w[i] = d;
    }
    return r;
}

/* The low 256 bits of a * b (schoolbook on 64-bit limbs). */
static inline vm_u256 w_mul(const vm_u256 *a, const vm_u256 *b)
{
    vm_u256 r = {{0, 0, 0, 0}};
    for (int i = 0; i < 4; i++) {
        uint64_t carry = 0;
        if (a->w[i] == 0) continue;
        for (int j = 0; i + j < 4; j++) {
            evm_u128 t = (evm_u128)a->w[i] * b->w[j] + r.w[i + j] + carry;
            r.w[i + j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
    }
    return r;
}

static inline vm_u256 w_div(const vm_u256 *a, const vm_u256 *b)
{
    if (w_fits64(a) && w_fits64(b)) return w_u64(b->w[0] ? a->w[0] / b->w[0] : 0);
    return vm_u256_div(*a, *b);
}

static inline vm_u256 w_mod(const vm_u256 *a, const vm_u256 *b)
{
    if (w_fits64(a) && w_fits64(b)) return w_u64(b->w[0] ? a->w[0] % b->w[0] : 0);
    return vm_u256_mod(*a, *b);
}

static inline vm_u256 w_and(const vm_u256 *a, const vm_u256 *b)
{
    vm_u256 r = {{a->w[0] & b->w[0], a->w[1] & b->w[1], a->w[2] & b->w[2], a->w[3] & b->w[3]}};
    return r;
}

static inline vm_u256 w_or(const vm_u256 *a, const vm_u256 *b)
{
    vm_u256 r = {{a->w[0] | b->w[0], a->w[1] | b->w[1], a->w[2] | b->w[2], a->w[3] | b->w[3]}};
    return r;
}

static inline vm_u256 w_xor(const vm_u256 *a, const vm_u256 *b)
{
    vm_u256 r = {{a->w[0] ^ b->w[0], a->w[1] ^ b->w[1], a->w[2] ^ b->w[2], a->w[3] ^ b->w[3]}};
    return r;
}

/* x << s for s < 256. */
static inline vm_u256 w_shl(const vm_u256 *x, unsigned s)
{
    vm_u256 r = {{0, 0, 0, 0}};
    unsigned limbs = s / 64, bits = s % 64;
    for (int i = 3; i >= (int)limbs; i--) {
        uint64_t v = x->w[i - limbs] << bits;
        if (bits && i - (int)limbs - 1 >= 0) v |= x->w[i - limbs - 1] >> (64 - bits);
        r.w[i] = v;
    }
    return r;
}

/* x >> s for s < 256. */
static inline vm_u256 w_shr(const vm_u256 *x, unsigned s)
{
    vm_u256 r = {{0, 0, 0, 0}};
    unsigned limbs = s / 64, bits = s % 64;
    for (unsigned i = 0; i + limbs < 4; i++) {
        uint64_t v = x->w[i + limbs] >> bits;
        if (bits && i + limbs + 1 < 4) v |= x->w[i + limbs + 1] << (64 - bits);
        r.w[i] = v;
    }
    return r;
}

static inline uint64_t w_load64_be(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}

static inline void w_store64_be(uint8_t *p, uint64_t v)
{
    v = __builtin_bswap64(v);
    memcpy(p, &v, 8);
}

static inline vm_u256 w_load32_be(const uint8_t *p)
{
    vm_u256 r = {{w_load64_be(p + 24), w_load64_be(p + 16), w_load64_be(p + 8), w_load64_be(p)}};
    return r;
}

static inline void w_store32_be(uint8_t *p, const vm_u256 *v)
{
    w_store64_be(p, v->w[3]);
    w_store64_be(p + 8, v->w[2]);
    w_store64_be(p + 16, v->w[1]);
    w_store64_be(p + 24, v->w[0]);
}

/* n (1..32) big-endian bytes at p as a word. */
static inline vm_u256 w_load_be_n(const uint8_t *p, unsigned n)
{
    vm_u256 r = {{0, 0, 0, 0}};
    unsigned i = n, limb = 0;
    while (i >= 8) {
        r.w[limb++] = w_load64_be(p + i - 8);
        i -= 8;
    }
    if (i) {
        uint64_t v = 0;
        for (unsigned k = 0; k < i; k++) v = v << 8 | p[k];
        r.w[limb] = v;
    }
    return r;
}

static inline vm_u256 w_from_address(const vm_address *a)
{
    vm_u256 r = {{w_load64_be(a->b + 12), w_load64_be(a->b + 4),
                  (uint64_t)a->b[0] << 24 | (uint64_t)a->b[1] << 16 | (uint64_t)a->b[2] << 8 |
                      a->b[3],
                  0}};
    return r;
}

static inline vm_address w_to_address(const vm_u256 *v)
{
    vm_address a;
    a.b[0] = (uint8_t)(v->w[2] >> 24);
    a.b[1] = (uint8_t)(v->w[2] >> 16);
    a.b[2] = (uint8_t)(v->w[2] >> 8);
    a.b[3] = (uint8_t)v->w[2];
    w_store64_be(a.b + 4, v->w[1]);
    w_store64_be(a.b + 12, v->w[0]);
    return a;
}

#endif /* BP_VM_EVM_U256_H */
