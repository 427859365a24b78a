/*
 * 256-bit unsigned words as four 64-bit limbs, least significant first.
 *
 * Everything is by value and allocation-free so the interpreter can keep
 * words in registers and on its own stack. Division is Knuth's algorithm D
 * on 64-bit digits (with a one-digit fast path), using unsigned __int128 for
 * the double-word steps; this is the same shape every fast EVM uses.
 */
#include "vm.h"

#include <string.h>

typedef unsigned __int128 u128;

vm_u256 vm_u256_from_u64(uint64_t v)
{
    vm_u256 r = {{v, 0, 0, 0}};
    return r;
}

vm_u256 vm_u256_from_be(const uint8_t *b, size_t len)
{
    vm_u256 r = {{0, 0, 0, 0}};
    if (len > 32) {
        b += len - 32;
        len = 32;
    }
    for (size_t i = 0; i < len; i++) {
        size_t pos = len - 1 - i; /* byte significance */
        r.w[pos / 8] |= (uint64_t)b[i] << (8 * (pos % 8));
    }
    return r;
}

void vm_u256_to_be(vm_u256 v, uint8_t out[32])
{
    for (int i = 0; i < 32; i++) out[31 - i] = (uint8_t)(v.w[i / 8] >> (8 * (i % 8)));
}

bool vm_u256_is_zero(vm_u256 a)
{
    return (a.w[0] | a.w[1] | a.w[2] | a.w[3]) == 0;
}

bool vm_u256_eq(vm_u256 a, vm_u256 b)
{
    return ((a.w[0] ^ b.w[0]) | (a.w[1] ^ b.w[1]) | (a.w[2] ^ b.w[2]) | (a.w[3] ^ b.w[3])) == 0;
}

int vm_u256_cmp(vm_u256 a, vm_u256 b)
{
    for (int i = 3; i >= 0; i--) {
        if (a.w[i] != b.w[i]) return a.w[i] < b.w[i] ? -1 : 1;
    }
    return 0;
}

static bool is_negative(vm_u256 a)
{
    return (a.w[3] >> 63) != 0;
}

int vm_u256_scmp(vm_u256 a, vm_u256 b)
{
    bool na = is_negative(a), nb = is_negative(b);
    if (na != nb) return na ? -1 : 1;
    return vm_u256_cmp(a, b);
}

bool vm_u256_fits_u64(vm_u256 a)
{
    return (a.w[1] | a.w[2] | a.w[3]) == 0;
}

vm_u256 vm_u256_add(vm_u256 a, vm_u256 b)
{
    vm_u256 r;
    uint64_t carry = 0;
    for (int i = 0; i < 4; i++) {
        u128 s = (u128)a.w[i] + b.w[i] + carry;
        r.w[i] = (uint64_t)s;
        carry = (uint64_t)(s >> 64);
    }
    return r;
}

vm_u256 vm_u256_sub(vm_u256 a, vm_u256 b)
{
    vm_u256 r;
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 d = (u128)a.w[i] - b.w[i] - borrow;
        r.w[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
    return r;
}

vm_u256 vm_u256_mul(vm_u256 a, vm_u256 b)
{
    vm_u256 r = {{0, 0, 0, 0}};
    for (int i = 0; i < 4; i++) {
        uint64_t carry = 0;
        for (int j = 0; i + j < 4; j++) {
            u128 t = (u128)a.w[i] * b.w[j] + r.w[i + j] + carry;
            r.w[i + j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
    }
    return r;
}

static vm_u256 negate(vm_u256 a)
{
    return vm_u256_sub(vm_u256_from_u64(0), a);
}

/* Number of significant 64-bit digits of an n-digit little-endian number. */
static int digits_used(const uint64_t *x, int n)
{
    while (n > 0 && x[n - 1] == 0) n--;
    return n;
}

static int leading_zeros64(uint64_t x)
{
    return x ? __builtin_clzll(x) : 64;
}

/* (hi:lo) / d for hi < d (so the quotient fits 64 bits): one hardware
 * division on x86-64 instead of the generic 128-bit division routine. */
static inline uint64_t udiv_2by1(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem)
{
#if defined(__x86_64__) && defined(__GNUC__)
    uint64_t q, r;
    __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(d));
    *rem = r;
    return q;
#else
    u128 num = ((u128)hi << 64) | lo;
    *rem = (uint64_t)(num % d);
    return (uint64_t)(num / d);
#endif
}

/* Möller & Granlund, "Improved division by invariant integers" (2011):
 * for a normalised d (top bit set), v = floor((2^128 - 1) / d) - 2^64 turns
 * every later 128/64 division by d into two multiplications. */
static inline uint64_t reciprocal_2by1(uint64_t d)
{
    uint64_t r;
    return udiv_2by1(~d, ~(uint64_t)0, d, &r);
}

/* (hi:lo) / d for a normalised d, hi < d, with v = reciprocal_2by1(d). */
static inline uint64_t udivrem_2by1(uint64_t hi, uint64_t lo, uint64_t d, uint64_t v,
                                    uint64_t *rem)
{
    u128 q = (u128)v * hi + (((u128)hi << 64) | lo);
    uint64_t q1 = (uint64_t)(q >> 64) + 1, q0 = (uint64_t)q;
    uint64_t r = lo - q1 * d;
    if (r > q0) {
        q1--;
        r += d;
    }
    if (r >= d) {
        q1++;
        r -= d;
    }
    *rem = r;
    return q1;
}

/*
 * Knuth algorithm D: u (m digits) / v (n digits, n >= 1, top digit nonzero).
 * q gets m - n + 1 digits, r gets n digits. Up to 8 digits so that the
 * 512-bit intermediate of MULMOD fits through the same code.
 */
static void divmod_digits(const uint64_t *u_in, int m, const uint64_t *v_in, int n, uint64_t *q,
                          uint64_t *r)
{
    if (n == 1) {
        uint64_t rem = 0, d = v_in[0];
        for (int i = m - 1; i >= 0; i--) q[i] = udiv_2by1(rem, u_in[i], d, &rem);
        r[0] = rem;
        return;
    }
    int s = leading_zeros64(v_in[n - 1]);
    uint64_t u[9] = {0}, v[8] = {0};
    for (int i = n - 1; i > 0; i--)
        v[i] = (v_in[i] << s) | (s ? v_in[i - 1] >> (64 - s) : 0);
    v[0] = v_in[0] << s;
    u[m] = s ? u_in[m - 1] >> (64 - s) : 0;
    for (int i = m - 1; i > 0; i--)
        u[i] = (u_in[i] << s) | (s ? u_in[i - 1] >> (64 - s) : 0);
    u[0] = u_in[0] << s;

    uint64_t vinv = reciprocal_2by1(v[n - 1]);
    for (int j = m - n; j >= 0; j--) {
        /* The estimate qhat of Knuth's step D3. u[j+n] <= v[n-1] always; on
         * equality the quotient digit is at most b - 1 (and the hardware
         * division would overflow). */
        uint64_t qhat, rhat;
        bool rhat_big = false;
        if (u[j + n] >= v[n - 1]) {
            qhat = UINT64_MAX;
            u128 rr = (u128)u[j + n - 1] + v[n - 1];
            rhat = (uint64_t)rr;
            rhat_big = (rr >> 64) != 0;
        } else {
            qhat = udivrem_2by1(u[j + n], u[j + n - 1], v[n - 1], vinv, &rhat);
        }
        while (!rhat_big && (u128)qhat * v[n - 2] > (((u128)rhat << 64) | u[j + n - 2])) {
            qhat--;
            u128 rr = (u128)rhat + v[n - 1];
            rhat = (uint64_t)rr;
            rhat_big = (rr >> 64) != 0;
        }
        /* u[j..j+n] -= qhat * v */
        uint64_t borrow = 0, carry = 0;
        for (int i = 0; i < n; i++) {
            u128 p = (u128)qhat * v[i] + carry;
            carry = (uint64_t)(p >> 64);
            u128 t = (u128)u[i + j] - (uint64_t)p - borrow;
            u[i + j] = (uint64_t)t;
            borrow = (uint64_t)(t >> 64) & 1;
        }
        u128 t = (u128)u[j + n] - carry - borrow;
        u[j + n] = (uint64_t)t;
        borrow = (uint64_t)(t >> 64) & 1;
        if (borrow) { /* qhat was one too large: add v back */
            qhat--;
            uint64_t c = 0;
            for (int i = 0; i < n; i++) {
                u128 s2 = (u128)u[i + j] + v[i] + c;
                u[i + j] = (uint64_t)s2;
                c = (uint64_t)(s2 >> 64);
            }
            u[j + n] += c;
        }
        q[j] = (uint64_t)qhat;
    }
    for (int i = 0; i < n; i++) r[i] = (u[i] >> s) | (s ? u[i + 1] << (64 - s) : 0);
}

/*
 * u (8 digits) mod v (4 digits, v[3] != 0): the MULMOD case with a full
 * 256-bit modulus, as algorithm D with every loop bound constant so that
 * the compiler unrolls it.
 */
static vm_u256 mod_8by4(const uint64_t *u_in, const uint64_t *v_in)
{
    unsigned s = (unsigned)__builtin_clzll(v_in[3]);
    uint64_t v[4], u[9];
    /* x << s | y >> (64 - s), also for s == 0 */
    for (int i = 3; i > 0; i--) v[i] = (v_in[i] << s) | ((v_in[i - 1] >> 1) >> (63 - s));
    v[0] = v_in[0] << s;
    u[8] = (u_in[7] >> 1) >> (63 - s);
    for (int i = 7; i > 0; i--) u[i] = (u_in[i] << s) | ((u_in[i - 1] >> 1) >> (63 - s));
    u[0] = u_in[0] << s;

    uint64_t vinv = reciprocal_2by1(v[3]);
    for (int j = 4; j >= 0; j--) {
        uint64_t qhat, rhat;
        bool rhat_big = false;
        if (u[j + 4] >= v[3]) {
            qhat = UINT64_MAX;
            u128 rr = (u128)u[j + 3] + v[3];
            rhat = (uint64_t)rr;
            rhat_big = (rr >> 64) != 0;
        } else {
            qhat = udivrem_2by1(u[j + 4], u[j + 3], v[3], vinv, &rhat);
        }
        while (!rhat_big && (u128)qhat * v[2] > (((u128)rhat << 64) | u[j + 2])) {
            qhat--;
            u128 rr = (u128)rhat + v[3];
            rhat = (uint64_t)rr;
            rhat_big = (rr >> 64) != 0;
        }
        if (qhat == 0) continue;
        uint64_t borrow = 0, carry = 0;
        for (int i = 0; i < 4; i++) {
            u128 p = (u128)qhat * v[i] + carry;
            carry = (uint64_t)(p >> 64);
            uint64_t lo = (uint64_t)p, x = u[i + j];
            uint64_t d = x - lo;
            uint64_t b1 = x < lo;
            u[i + j] = d - borrow;
            borrow = b1 | (d < borrow);
        }
        uint64_t x = u[j + 4];
        uint64_t d = x - carry;
        uint64_t b1 = x < carry;
        u[j + 4] = d - borrow;
        borrow = b1 | (d < borrow);
        if (borrow) { /* qhat was one too large: add v back */
            uint64_t c = 0;
            for (int i = 0; i < 4; i++) {
                u128 s2 = (u128)u[i + j] + v[i] + c;
                u[i + j] = (uint64_t)s2;
                c = (uint64_t)(s2 >> 64);
            }
            u[j + 4] += c;
        }
    }
    vm_u256 r;
    for (int i = 0; i < 3; i++) r.w[i] = (u[i] >> s) | ((u[i + 1] << 1) << (63 - s));
    r.w[3] = u[3] >> s;
    return r;
}

/* a / b and a % b for a of up to 8 digits and a nonzero 256-bit b. */
static void divmod_wide(const uint64_t *a, int a_digits, vm_u256 b, vm_u256 *quot, vm_u256 *rem)
{
    uint64_t q[8] = {0}, r[4] = {0};
    int m = digits_used(a, a_digits), n = digits_used(b.w, 4);
    if (m < n) {
        memcpy(r, a, sizeof(uint64_t) * (size_t)m);
    } else {
        divmod_digits(a, m, b.w, n, q, r);
    }
    if (quot) memcpy(quot->w, q, sizeof quot->w);
    if (rem) memcpy(rem->w, r, sizeof rem->w);
}

static void divmod(vm_u256 a, vm_u256 b, vm_u256 *quot, vm_u256 *rem)
{
    if (vm_u256_fits_u64(a) && vm_u256_fits_u64(b)) {
        if (quot) *quot = vm_u256_from_u64(a.w[0] / b.w[0]);
        if (rem) *rem = vm_u256_from_u64(a.w[0] % b.w[0]);
        return;
    }
    divmod_wide(a.w, 4, b, quot, rem);
}

vm_u256 vm_u256_div(vm_u256 a, vm_u256 b)
{
    vm_u256 q = {{0, 0, 0, 0}};
    if (vm_u256_is_zero(b)) return q;
    divmod(a, b, &q, NULL);
    return q;
}

vm_u256 vm_u256_mod(vm_u256 a, vm_u256 b)
{
    vm_u256 r = {{0, 0, 0, 0}};
    if (vm_u256_is_zero(b)) return r;
    divmod(a, b, NULL, &r);
    return r;
}

vm_u256 vm_u256_sdiv(vm_u256 a, vm_u256 b)
{
    if (vm_u256_is_zero(b)) return b;
    bool na = is_negative(a), nb = is_negative(b);
    /* -2^255 / -1 overflows back to -2^255, which the two's complement wrap gives. */
    vm_u256 q = vm_u256_div(na ? negate(a) : a, nb ? negate(b) : b);
    return na != nb ? negate(q) : q;
}

vm_u256 vm_u256_smod(vm_u256 a, vm_u256 b)
{
    if (vm_u256_is_zero(b)) return b;
    bool na = is_negative(a), nb = is_negative(b);
    vm_u256 r = vm_u256_mod(na ? negate(a) : a, nb ? negate(b) : b);
    return na ? negate(r) : r; /* the result takes the dividend's sign */
}

vm_u256 vm_u256_addmod(vm_u256 a, vm_u256 b, vm_u256 m)
{
    if (vm_u256_is_zero(m)) return m;
    uint64_t sum[5];
    uint64_t carry = 0;
    for (int i = 0; i < 4; i++) {
        u128 s = (u128)a.w[i] + b.w[i] + carry;
        sum[i] = (uint64_t)s;
        carry = (uint64_t)(s >> 64);
    }
    sum[4] = carry;
    vm_u256 r;
    divmod_wide(sum, 5, m, NULL, &r);
    return r;
}

vm_u256 vm_u256_mulmod(vm_u256 a, vm_u256 b, vm_u256 m)
{
    if (vm_u256_is_zero(m)) return m;
    uint64_t prod[8] = {0};
    for (int i = 0; i < 4; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < 4; j++) {
            u128 t = (u128)a.w[i] * b.w[j] + prod[i + j] + carry;
            prod[i + j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
        prod[i + 4] = carry;
    }
    if (m.w[3] != 0) return mod_8by4(prod, m.w);
    vm_u256 r;
    divmod_wide(prod, 8, m, NULL, &r);
    return r;
}

vm_u256 vm_u256_exp(vm_u256 base, vm_u256 exponent)
{
    vm_u256 result = vm_u256_from_u64(1);
    unsigned nbits = vm_u256_byte_length(exponent) * 8;
    for (unsigned i = 0; i < nbits; i++) {
        if ((exponent.w[i / 64] >> (i % 64)) & 1) result = vm_u256_mul(result, base);
        if (i + 1 < nbits) base = vm_u256_mul(base, base);
    }
    return result;
}

vm_u256 vm_u256_signextend(vm_u256 byte_index, vm_u256 x)
{
    if (!vm_u256_fits_u64(byte_index) || byte_index.w[0] >= 31) return x;
    unsigned bit = (unsigned)byte_index.w[0] * 8 + 7; /* the sign bit */
    int limb = (int)(bit / 64);
    unsigned off = bit % 64;
    bool neg = (x.w[limb] >> off) & 1;
    uint64_t mask = off == 63 ? ~0ULL : ((1ULL << (off + 1)) - 1);
    if (neg) {
        x.w[limb] |= ~mask;
    } else {
        x.w[limb] &= mask;
    }
    for (int i = limb + 1; i < 4; i++) x.w[i] = neg ? ~0ULL : 0;
    return x;
}

vm_u256 vm_u256_and(vm_u256 a, vm_u256 b)
{
    for (int i = 0; i < 4; i++) a.w[i] &= b.w[i];
    return a;
}

vm_u256 vm_u256_or(vm_u256 a, vm_u256 b)
{
    for (int i = 0; i < 4; i++) a.w[i] |= b.w[i];
    return a;
}

vm_u256 vm_u256_xor(vm_u256 a, vm_u256 b)
{
    for (int i = 0; i < 4; i++) a.w[i] ^= b.w[i];
    return a;
}

vm_u256 vm_u256_not(vm_u256 a)
{
    for (int i = 0; i < 4; i++) a.w[i] = ~a.w[i];
    return a;
}

/* Shift amount as 0..256 (256 meaning "everything shifted out"). */
static unsigned shift_amount(vm_u256 shift)
{
    if (!vm_u256_fits_u64(shift) || shift.w[0] >= 256) return 256;
    return (unsigned)shift.w[0];
}

vm_u256 vm_u256_shl(vm_u256 shift, vm_u256 x)
{
    unsigned n = shift_amount(shift);
    vm_u256 r = {{0, 0, 0, 0}};
    if (n >= 256) return r;
    unsigned limbs = n / 64, bits = n % 64;
    for (int i = 3; i >= (int)limbs; i--) {
        r.w[i] = x.w[i - (int)limbs] << bits;
        if (bits && i - (int)limbs - 1 >= 0) r.w[i] |= x.w[i - (int)limbs - 1] >> (64 - bits);
    }
    return r;
}

vm_u256 vm_u256_shr(vm_u256 shift, vm_u256 x)
{
    unsigned n = shift_amount(shift);
    vm_u256 r = {{0, 0, 0, 0}};
    if (n >= 256) return r;
    unsigned limbs = n / 64, bits = n % 64;
    for (int i = 0; i + (int)limbs < 4; i++) {
        r.w[i] = x.w[i + (int)limbs] >> bits;
        if (bits && i + (int)limbs + 1 < 4) r.w[i] |= x.w[i + (int)limbs + 1] << (64 - bits);
    }
    return r;
}

vm_u256 vm_u256_sar(vm_u256 shift, vm_u256 x)
{
    if (!is_negative(x)) return vm_u256_shr(shift, x);
    unsigned n = shift_amount(shift);
    if (n >= 256) return vm_u256_not(vm_u256_from_u64(0));
    /* Arithmetic shift of a negative number: shift the complement, complement back. */
    return vm_u256_not(vm_u256_shr(shift, vm_u256_not(x)));
}

vm_u256 vm_u256_byte(vm_u256 index, vm_u256 x)
{
    if (!vm_u256_fits_u64(index) || index.w[0] >= 32) return vm_u256_from_u64(0);
    unsigned pos = 31 - (unsigned)index.w[0]; /* byte significance */
    return vm_u256_from_u64((x.w[pos / 8] >> (8 * (pos % 8))) & 0xff);
}

unsigned vm_u256_byte_length(vm_u256 a)
{
    for (int i = 3; i >= 0; i--) {
        if (a.w[i]) return (unsigned)i * 8 + (unsigned)(64 - leading_zeros64(a.w[i]) + 7) / 8;
    }
    return 0;
}

void vm_u256_to_dec(vm_u256 a, char *out)
{
    char tmp[80];
    int n = 0;
    const vm_u256 ten19 = vm_u256_from_u64(10000000000000000000ULL);
    do {
        vm_u256 q, r;
        divmod(a, ten19, &q, &r);
        uint64_t chunk = r.w[0];
        bool last = vm_u256_is_zero(q);
        for (int i = 0; i < 19 && (!last || chunk); i++) {
            tmp[n++] = (char)('0' + chunk % 10);
            chunk /= 10;
        }
        a = q;
    } while (!vm_u256_is_zero(a));
    if (n == 0) tmp[n++] = '0';
    for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

int vm_u256_parse(const char *text, vm_u256 *out)
{
    if (!text || !*text) return VM_ERR_INVALID;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        const char *digits = text + 2;
        size_t len = strlen(digits);
        if (len == 0) return VM_ERR_INVALID;
        while (len > 64 && *digits == '0') {
            digits++;
            len--;
        }
        if (len > 64) return VM_ERR_RANGE;
        uint8_t bytes[32] = {0};
        char padded[65];
        size_t pad = len % 2;
        if (pad) padded[0] = '0';
        memcpy(padded + pad, digits, len);
        padded[len + pad] = '\0';
        size_t n;
        int err = vm_hex_decode(padded, bytes, sizeof bytes, &n);
        if (err) return err;
        *out = vm_u256_from_be(bytes, n);
        return VM_OK;
    }
    vm_u256 r = vm_u256_from_u64(0);
    const vm_u256 ten = vm_u256_from_u64(10);
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9') return VM_ERR_INVALID;
        vm_u256 next = vm_u256_add(vm_u256_mul(r, ten), vm_u256_from_u64((uint64_t)(*p - '0')));
        /* overflow iff (r*10 + d) / 10 != r, checked cheaply via r's bound */
        if (vm_u256_cmp(r, vm_u256_div(vm_u256_not(vm_u256_from_u64(0)), ten)) > 0) return VM_ERR_RANGE;
        if (vm_u256_cmp(next, r) < 0) return VM_ERR_RANGE;
        r = next;
    }
    *out = r;
    return VM_OK;
}
