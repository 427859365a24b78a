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

/* The bit index of b if b is a power of two, else -1. */
static inline int w_pow2_index(const vm_u256 *b)
{
    int n = __builtin_popcountll(b->w[0]) + __builtin_popcountll(b->w[1]) +
            __builtin_popcountll(b->w[2]) + __builtin_popcountll(b->w[3]);
    if (n != 1) return -1;
    for (int i = 0; i < 4; i++)
        if (b->w[i]) return 64 * i + __builtin_ctzll(b->w[i]);
    return -1;
}

/* (hi:lo) / d for hi < d: one hardware division on x86-64. */
static inline uint64_t w_udiv_2by1(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem)
{
#if defined(__x86_64__) && defined(__GNUC__)
    uint64_t q, r;
    __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(d));
    *rem = r;
    return q;
#else
    evm_u128 num = ((evm_u128)hi << 64) | lo;
    *rem = (uint64_t)(num % d);
    return (uint64_t)(num / d);
#endif
}

/* a / d and a % d for a nonzero 64-bit d: schoolbook over four limbs. */
static inline vm_u256 w_divrem64(const vm_u256 *a, uint64_t d, uint64_t *rem)
{
    vm_u256 q;
    uint64_t r = 0;
    for (int i = 3; i >= 0; i--) q.w[i] = w_udiv_2by1(r, a->w[i], d, &r);
    *rem = r;
    return q;
}

static inline vm_u256 w_neg(const vm_u256 *a)
{
    vm_u256 zero = {{0, 0, 0, 0}};
    return w_sub(&zero, a);
}

/* Code compiled before shift opcodes (Constantinople) divides by powers of
 * two (sha1_divs and much deployed code): those become shifts and masks. */
static inline vm_u256 w_div(const vm_u256 *a, const vm_u256 *b)
{
    if (w_fits64(b)) {
        uint64_t d = b->w[0], r;
        if (w_fits64(a)) return w_u64(d ? a->w[0] / d : 0);
        if (d == 0) return w_u64(0);
        if ((d & (d - 1)) == 0) return w_shr(a, (unsigned)__builtin_ctzll(d));
        return w_divrem64(a, d, &r);
    }
    int k = w_pow2_index(b);
    if (k >= 0) return w_shr(a, (unsigned)k);
    return vm_u256_div(*a, *b);
}

static inline vm_u256 w_mod(const vm_u256 *a, const vm_u256 *b)
{
    if (w_fits64(b)) {
        uint64_t d = b->w[0], r;
        if (w_fits64(a)) return w_u64(d ? a->w[0] % d : 0);
        if (d == 0) return w_u64(0);
        (void)w_divrem64(a, d, &r);
        return w_u64(r);
    }
    int k = w_pow2_index(b);
    if (k >= 0) {
        vm_u256 r = *a;
        for (int i = 0; i < 4; i++) {
            int lo = 64 * i;
            if (k <= lo) r.w[i] = 0;
            else if (k < lo + 64) r.w[i] &= ((uint64_t)1 << (k - lo)) - 1;
        }
        return r;
    }
    return vm_u256_mod(*a, *b);
}

/* True if a is the two's complement of a value in int64_t range. */
static inline bool w_is_small_signed(const vm_u256 *a)
{
    uint64_t ext = (uint64_t)((int64_t)a->w[0] >> 63);
    return a->w[1] == ext && a->w[2] == ext && a->w[3] == ext;
}

static inline vm_u256 w_from_i64(int64_t v)
{
    uint64_t ext = (uint64_t)(v >> 63);
    vm_u256 r = {{(uint64_t)v, ext, ext, ext}};
    return r;
}

/* Signed division of small operands natively (fixed-point code such as
 * snailtracer lives there); INT64_MIN / -1 and the rest go to vm/u256.c. */
static inline vm_u256 w_sdiv(const vm_u256 *a, const vm_u256 *b)
{
    if (w_is_small_signed(a) && w_is_small_signed(b)) {
        int64_t x = (int64_t)a->w[0], y = (int64_t)b->w[0];
        if (y == 0) return w_u64(0);
        if (!(x == INT64_MIN && y == -1)) return w_from_i64(x / y);
    }
    /* |a| / |b| with the sign applied, when |b| fits 64 bits */
    bool na = (a->w[3] >> 63) != 0, nb = (b->w[3] >> 63) != 0;
    vm_u256 ub = nb ? w_neg(b) : *b;
    if (w_fits64(&ub) && ub.w[0] != 0) {
        vm_u256 ua = na ? w_neg(a) : *a;
        uint64_t r;
        vm_u256 q = w_divrem64(&ua, ub.w[0], &r);
        return na != nb ? w_neg(&q) : q;
    }
    return vm_u256_sdiv(*a, *b);
}

static inline vm_u256 w_smod(const vm_u256 *a, const vm_u256 *b)
{
    if (w_is_small_signed(a) && w_is_small_signed(b)) {
        int64_t x = (int64_t)a->w[0], y = (int64_t)b->w[0];
        if (y == 0) return w_u64(0);
        if (y == -1) return w_u64(0);
        return w_from_i64(x % y);
    }
    return vm_u256_smod(*a, *b);
}

/* SIGNEXTEND: extends the sign of byte b (0 = least significant) of x. */
static inline vm_u256 w_signextend(const vm_u256 *b, const vm_u256 *x)
{
    if (!w_fits64(b) || b->w[0] >= 31) return *x;
    unsigned bit = (unsigned)b->w[0] * 8 + 7, limb = bit / 64, off = bit % 64;
    uint64_t sign = (x->w[limb] >> off) & 1 ? ~(uint64_t)0 : 0;
    vm_u256 r = *x;
    uint64_t keep = off == 63 ? ~(uint64_t)0 : ((uint64_t)2 << off) - 1;
    r.w[limb] = (r.w[limb] & keep) | (sign & ~keep);
    for (unsigned i = limb + 1; i < 4; i++) r.w[i] = sign;
    return r;
}

/* BYTE: byte i of x counted from the most significant, 0 past 31. */
static inline vm_u256 w_byte(const vm_u256 *i, const vm_u256 *x)
{
    if (!w_fits64(i) || i->w[0] >= 32) return w_u64(0);
    unsigned pos = 31 - (unsigned)i->w[0]; /* from the least significant */
    return w_u64((x->w[pos / 8] >> (8 * (pos % 8))) & 0xff);
}

/* SAR: arithmetic shift right of x by s. */
static inline vm_u256 w_sar(const vm_u256 *s, const vm_u256 *x)
{
    bool neg = (x->w[3] >> 63) != 0;
    if (!w_fits64(s) || s->w[0] >= 256) {
        uint64_t v = neg ? ~(uint64_t)0 : 0;
        vm_u256 r = {{v, v, v, v}};
        return r;
    }
    unsigned n = (unsigned)s->w[0];
    if (!neg) return w_shr(x, n);
    /* ~(~x >> n) fills the vacated bits with ones */
    vm_u256 inv = {{~x->w[0], ~x->w[1], ~x->w[2], ~x->w[3]}};
    vm_u256 r = w_shr(&inv, n);
    for (int k = 0; k < 4; k++) r.w[k] = ~r.w[k];
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
