/*
 * abi.c — Solidity ABI encoding and decoding driven by signature strings.
 *
 * A signature is parsed into a small type tree (struct abi_type); values
 * travel as struct chain_abi_value trees, converted from/to JSON for the
 * text interfaces. The encoder is the spec's head/tail layout; the decoder
 * is strict and bounded: every offset and length is checked against what is
 * left of the data before it is used, static words must be canonical, and
 * a budget proportional to the data size limits the number of decoded
 * values, so offsets that point back at shared tails (the "ABI zip bomb")
 * cannot blow up memory or time.
 */
#include "internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TYPE_DEPTH 32
#define MAX_TUPLE_MEMBERS 256
/* Static arrays larger than this in a signature are refused: nothing we
 * call needs them, and it keeps every head-size computation far from overflow. */
#define MAX_STATIC_LENGTH ((size_t)1 << 20)

struct abi_type {
    enum chain_abi_kind kind;
    unsigned size; /* bits of uintN/intN, N of bytesN */
    size_t length; /* k of T[k] */
    struct abi_type *elem;
    struct abi_type **members;
    size_t n_members;
    bool dynamic;
    size_t head; /* bytes this type takes in its parent's head */
};

static void type_free(struct abi_type *t)
{
    if (!t) return;
    type_free(t->elem);
    for (size_t i = 0; i < t->n_members; i++)
        type_free(t->members[i]);
    free(t->members);
    free(t);
}

/* ---------------------------------------------------------------- parsing */

struct parser {
    const char *s;
    size_t pos;
};

static void skip_ws(struct parser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')
        p->pos++;
}

/* Sets dynamic and head of t from its children. */
static int finish_type(struct abi_type *t)
{
    switch (t->kind) {
    case CHAIN_ABI_BYTES:
    case CHAIN_ABI_STRING:
    case CHAIN_ABI_DYN_ARRAY:
        t->dynamic = true;
        t->head = 32;
        break;
    case CHAIN_ABI_ARRAY:
        t->dynamic = t->elem->dynamic;
        if (t->dynamic) {
            t->head = 32;
        } else {
            if (t->elem->head && t->length > MAX_STATIC_LENGTH * 32 / t->elem->head)
                return CHAIN_ERR_ABI;
            t->head = t->length * t->elem->head;
        }
        break;
    case CHAIN_ABI_TUPLE: {
        size_t h = 0;
        t->dynamic = false;
        for (size_t i = 0; i < t->n_members; i++)
            t->dynamic |= t->members[i]->dynamic;
        for (size_t i = 0; i < t->n_members; i++) {
            h += t->dynamic && t->members[i]->dynamic ? 32 : t->members[i]->head;
            if (h > MAX_STATIC_LENGTH * 32) return CHAIN_ERR_ABI;
        }
        t->head = t->dynamic ? 32 : h;
        break;
    }
    default:
        t->dynamic = false;
        t->head = 32;
        break;
    }
    return CHAIN_OK;
}

static const struct abi_type *seq_type_at(const struct abi_type *t, size_t i)
{
    return t->kind == CHAIN_ABI_TUPLE ? t->members[i] : t->elem;
}

static int parse_type(struct parser *p, int depth, struct abi_type **out);

static int parse_tuple(struct parser *p, int depth, struct abi_type **out)
{
    if (p->s[p->pos] != '(') return CHAIN_ERR_ABI;
    p->pos++;
    struct abi_type *t = calloc(1, sizeof *t);
    if (!t) return CHAIN_ERR_NOMEM;
    t->kind = CHAIN_ABI_TUPLE;
    int rc = CHAIN_OK;
    skip_ws(p);
    if (p->s[p->pos] == ')') {
        p->pos++;
        goto done;
    }
    for (;;) {
        if (t->n_members == MAX_TUPLE_MEMBERS) {
            rc = CHAIN_ERR_ABI;
            goto fail;
        }
        struct abi_type **m = realloc(t->members, (t->n_members + 1) * sizeof *m);
        if (!m) {
            rc = CHAIN_ERR_NOMEM;
            goto fail;
        }
        t->members = m;
        if ((rc = parse_type(p, depth + 1, &t->members[t->n_members]))) goto fail;
        t->n_members++;
        skip_ws(p);
        char ch = p->s[p->pos];
        if (ch == ')') {
            p->pos++;
            break;
        }
        if (ch != ',') {
            rc = CHAIN_ERR_ABI;
            goto fail;
        }
        p->pos++;
    }
done:
    if ((rc = finish_type(t))) goto fail;
    *out = t;
    return CHAIN_OK;
fail:
    type_free(t);
    return rc;
}

/* Parses a decimal number that must lie in [lo, hi] from text[0..n). */
static bool parse_small(const char *text, size_t n, unsigned long lo, unsigned long hi,
                        unsigned long *out)
{
    if (n == 0 || n > 7 || text[0] == '0') return false;
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)text[i])) return false;
        v = v * 10 + (unsigned long)(text[i] - '0');
    }
    if (v < lo || v > hi) return false;
    *out = v;
    return true;
}

static int parse_elementary(const char *w, size_t n, struct abi_type *t)
{
    unsigned long v;
#define IS(lit) (n == sizeof(lit) - 1 && memcmp(w, lit, n) == 0)
    if (IS("address"))
        t->kind = CHAIN_ABI_ADDRESS;
    else if (IS("bool"))
        t->kind = CHAIN_ABI_BOOL;
    else if (IS("string"))
        t->kind = CHAIN_ABI_STRING;
    else if (IS("bytes"))
        t->kind = CHAIN_ABI_BYTES;
    else if (IS("uint"))
        t->kind = CHAIN_ABI_UINT, t->size = 256;
    else if (IS("int"))
        t->kind = CHAIN_ABI_INT, t->size = 256;
    else if (n > 4 && memcmp(w, "uint", 4) == 0 && parse_small(w + 4, n - 4, 8, 256, &v) &&
             v % 8 == 0)
        t->kind = CHAIN_ABI_UINT, t->size = (unsigned)v;
    else if (n > 3 && memcmp(w, "int", 3) == 0 && parse_small(w + 3, n - 3, 8, 256, &v) &&
             v % 8 == 0)
        t->kind = CHAIN_ABI_INT, t->size = (unsigned)v;
    else if (n > 5 && memcmp(w, "bytes", 5) == 0 && parse_small(w + 5, n - 5, 1, 32, &v))
        t->kind = CHAIN_ABI_FIXED_BYTES, t->size = (unsigned)v;
    else
        return CHAIN_ERR_ABI;
#undef IS
    return finish_type(t);
}

static int parse_type(struct parser *p, int depth, struct abi_type **out)
{
    if (depth > MAX_TYPE_DEPTH) return CHAIN_ERR_ABI;
    skip_ws(p);
    struct abi_type *t = NULL;
    int rc;
    if (strncmp(p->s + p->pos, "tuple(", 6) == 0) p->pos += 5;
    if (p->s[p->pos] == '(') {
        if ((rc = parse_tuple(p, depth, &t))) return rc;
    } else {
        size_t start = p->pos;
        while (isalnum((unsigned char)p->s[p->pos]))
            p->pos++;
        t = calloc(1, sizeof *t);
        if (!t) return CHAIN_ERR_NOMEM;
        if ((rc = parse_elementary(p->s + start, p->pos - start, t))) {
            type_free(t);
            return rc;
        }
    }
    /* Array suffixes: T[2][] is a dynamic array of T[2]. */
    while (p->s[p->pos] == '[') {
        if (++depth > MAX_TYPE_DEPTH) {
            type_free(t);
            return CHAIN_ERR_ABI;
        }
        p->pos++;
        size_t start = p->pos;
        while (isdigit((unsigned char)p->s[p->pos]))
            p->pos++;
        unsigned long k = 0;
        bool fixed = p->pos > start;
        if (p->s[p->pos] != ']' ||
            (fixed && !parse_small(p->s + start, p->pos - start, 1, MAX_STATIC_LENGTH, &k))) {
            type_free(t);
            return CHAIN_ERR_ABI;
        }
        p->pos++;
        struct abi_type *a = calloc(1, sizeof *a);
        if (!a) {
            type_free(t);
            return CHAIN_ERR_NOMEM;
        }
        a->kind = fixed ? CHAIN_ABI_ARRAY : CHAIN_ABI_DYN_ARRAY;
        a->length = k;
        a->elem = t;
        t = a;
        if ((rc = finish_type(t))) {
            type_free(t);
            return rc;
        }
    }
    *out = t;
    return CHAIN_OK;
}

/* A parsed function signature. */
struct abi_sig {
    size_t name_len; /* 0 for a bare type list */
    struct abi_type *inputs;
    struct abi_type *outputs; /* NULL if absent */
};

static void sig_free(struct abi_sig *s)
{
    type_free(s->inputs);
    type_free(s->outputs);
}

/* "name(T..)" with an optional "(R..)", or — with allow_bare — a type list
 * "(T..)" or a single type "T". */
static int parse_sig(const char *text, bool allow_bare, struct abi_sig *sig)
{
    memset(sig, 0, sizeof *sig);
    if (!text) return CHAIN_ERR_ABI;
    struct parser p = {text, 0};
    skip_ws(&p);
    size_t start = p.pos;
    while (isalnum((unsigned char)text[p.pos]) || text[p.pos] == '_' || text[p.pos] == '$')
        p.pos++;
    size_t name_end = p.pos;
    int rc;
    if (name_end > start && text[p.pos] == '(' &&
        !(name_end - start == 5 && memcmp(text + start, "tuple", 5) == 0)) {
        sig->name_len = name_end - start;
        if ((rc = parse_tuple(&p, 0, &sig->inputs))) goto fail;
        skip_ws(&p);
        if (text[p.pos] == '(' && (rc = parse_tuple(&p, 0, &sig->outputs))) goto fail;
    } else {
        if (!allow_bare) {
            rc = CHAIN_ERR_ABI;
            goto fail;
        }
        p.pos = start;
        struct abi_type *t;
        if ((rc = parse_type(&p, 0, &t))) goto fail;
        if (t->kind != CHAIN_ABI_TUPLE || text[start] != '(') {
            /* one bare type: wrap it as a one-member list */
            struct abi_type *w = calloc(1, sizeof *w);
            struct abi_type **m = malloc(sizeof *m);
            if (!w || !m) {
                free(w);
                free(m);
                type_free(t);
                rc = CHAIN_ERR_NOMEM;
                goto fail;
            }
            w->kind = CHAIN_ABI_TUPLE;
            m[0] = t;
            w->members = m;
            w->n_members = 1;
            if ((rc = finish_type(w))) {
                type_free(w);
                goto fail;
            }
            t = w;
        }
        sig->inputs = t;
    }
    skip_ws(&p);
    if (text[p.pos] != 0) {
        rc = CHAIN_ERR_ABI;
        goto fail;
    }
    return CHAIN_OK;
fail:
    sig_free(sig);
    return rc;
}

/* Writes the canonical text of t. */
static int canon_type(const struct abi_type *t, struct vm_buf *out)
{
    char tmp[32];
    const char *lit = NULL;
    switch (t->kind) {
    case CHAIN_ABI_UINT:
    case CHAIN_ABI_INT:
    case CHAIN_ABI_FIXED_BYTES:
        /* The sized types: their name, then the size always spelled out
         * (canonical "uint256", never "uint"). */
        snprintf(tmp, sizeof tmp, "%s%u",
                 t->kind == CHAIN_ABI_UINT  ? "uint"
                 : t->kind == CHAIN_ABI_INT ? "int"
                                            : "bytes",
                 t->size);
        lit = tmp;
        break;
    case CHAIN_ABI_ADDRESS:
        lit = "address";
        break;
    case CHAIN_ABI_BOOL:
        lit = "bool";
        break;
    case CHAIN_ABI_BYTES:
        lit = "bytes";
        break;
    case CHAIN_ABI_STRING:
        lit = "string";
        break;
    case CHAIN_ABI_ARRAY:
    case CHAIN_ABI_DYN_ARRAY: {
        int rc = canon_type(t->elem, out);
        if (rc) return rc;
        if (t->kind == CHAIN_ABI_ARRAY)
            snprintf(tmp, sizeof tmp, "[%zu]", t->length);
        else
            snprintf(tmp, sizeof tmp, "[]");
        return vm_buf_append(out, tmp, strlen(tmp)) ? CHAIN_ERR_NOMEM : CHAIN_OK;
    }
    case CHAIN_ABI_TUPLE:
        if (vm_buf_append(out, "(", 1)) return CHAIN_ERR_NOMEM;
        for (size_t i = 0; i < t->n_members; i++) {
            if (i && vm_buf_append(out, ",", 1)) return CHAIN_ERR_NOMEM;
            int rc = canon_type(t->members[i], out);
            if (rc) return rc;
        }
        return vm_buf_append(out, ")", 1) ? CHAIN_ERR_NOMEM : CHAIN_OK;
    }
    return vm_buf_append(out, lit, strlen(lit)) ? CHAIN_ERR_NOMEM : CHAIN_OK;
}

static int sig_selector(const char *text, const struct abi_sig *sig, uint8_t selector[4],
                        char *canonical, size_t cap)
{
    struct vm_buf b = {0};
    const char *name = text;
    while (*name == ' ' || *name == '\t')
        name++;
    int rc = CHAIN_ERR_NOMEM;
    if (vm_buf_append(&b, name, sig->name_len)) goto out;
    if ((rc = canon_type(sig->inputs, &b))) goto out;
    uint8_t h[32];
    vm_keccak256(b.data, b.len, h);
    if (selector) memcpy(selector, h, 4);
    if (canonical) {
        if (b.len + 1 > cap) {
            rc = CHAIN_ERR_INVALID;
            goto out;
        }
        memcpy(canonical, b.data, b.len);
        canonical[b.len] = 0;
    }
    rc = CHAIN_OK;
out:
    vm_buf_free(&b);
    return rc;
}

int chain_abi_selector(const char *signature, uint8_t selector[4], char *canonical,
                       size_t canonical_cap)
{
    struct abi_sig sig;
    int rc = parse_sig(signature, false, &sig);
    if (rc) return rc;
    rc = sig_selector(signature, &sig, selector, canonical, canonical_cap);
    sig_free(&sig);
    return rc;
}

/* ---------------------------------------------------------------- values */

void chain_abi_value_clear(struct chain_abi_value *v)
{
    if (!v) return;
    for (size_t i = 0; i < v->n_items; i++)
        chain_abi_value_clear(&v->items[i]);
    free(v->items);
    free(v->bytes);
    memset(v, 0, sizeof *v);
}

/* 2^bits - 1 style range checks on a word. */
static bool uint_fits(vm_u256 w, unsigned bits)
{
    if (bits >= 256) return true;
    return vm_u256_is_zero(vm_u256_shr(vm_u256_from_u64(bits), w));
}

static bool int_fits(vm_u256 w, unsigned bits)
{
    if (bits >= 256) return true;
    return vm_u256_eq(vm_u256_signextend(vm_u256_from_u64(bits / 8 - 1), w), w);
}

/* ---------------------------------------------------------------- JSON -> value */

static int json_to_value(const struct abi_type *t, const json_t *j, struct chain_abi_value *v);

static int hex_to_bytes(const json_t *j, struct chain_abi_value *v)
{
    struct vm_buf b = {0};
    int rc = chain_json_data(j, &b);
    if (rc) {
        vm_buf_free(&b);
        return rc == CHAIN_ERR_NOMEM ? rc : CHAIN_ERR_ABI;
    }
    v->bytes = b.data;
    v->len = b.len;
    return CHAIN_OK;
}

static int json_to_int(const struct abi_type *t, const json_t *j, vm_u256 *out)
{
    bool neg = false;
    vm_u256 mag;
    if (json_is_integer(j)) {
        json_int_t x = json_integer_value(j);
        neg = x < 0;
        /* -(x+1)+1 avoids overflow for the most negative value */
        mag = neg ? vm_u256_add(vm_u256_from_u64((uint64_t)(-(x + 1))), vm_u256_from_u64(1))
                  : vm_u256_from_u64((uint64_t)x);
    } else if (json_is_string(j)) {
        const char *s = json_string_value(j);
        if (*s == '-') {
            neg = true;
            s++;
        }
        if (*s == '-' || *s == '+' || *s == 0 || vm_u256_parse(s, &mag) != VM_OK)
            return CHAIN_ERR_ABI;
    } else {
        return CHAIN_ERR_ABI;
    }
    if (t->kind == CHAIN_ABI_UINT) {
        if (neg && !vm_u256_is_zero(mag)) return CHAIN_ERR_ABI;
        if (!uint_fits(mag, t->size)) return CHAIN_ERR_ABI;
        *out = mag;
        return CHAIN_OK;
    }
    /* intN: magnitude at most 2^(N-1) for negatives, 2^(N-1)-1 otherwise */
    vm_u256 limit = vm_u256_shl(vm_u256_from_u64(t->size - 1), vm_u256_from_u64(1));
    int c = vm_u256_cmp(mag, limit);
    if (neg ? c > 0 : c >= 0) return CHAIN_ERR_ABI;
    *out = neg ? vm_u256_sub(vm_u256_from_u64(0), mag) : mag;
    return CHAIN_OK;
}

static int json_to_value(const struct abi_type *t, const json_t *j, struct chain_abi_value *v)
{
    memset(v, 0, sizeof *v);
    v->kind = t->kind;
    int rc;
    switch (t->kind) {
    case CHAIN_ABI_UINT:
    case CHAIN_ABI_INT:
        return json_to_int(t, j, &v->word);
    case CHAIN_ABI_BOOL:
        if (!json_is_boolean(j)) return CHAIN_ERR_ABI;
        v->word = vm_u256_from_u64(json_is_true(j) ? 1 : 0);
        return CHAIN_OK;
    case CHAIN_ABI_ADDRESS: {
        vm_address a;
        if (!json_is_string(j) || vm_address_parse(json_string_value(j), &a) != VM_OK)
            return CHAIN_ERR_ABI;
        v->word = vm_u256_from_be(a.b, 20);
        return CHAIN_OK;
    }
    case CHAIN_ABI_FIXED_BYTES:
        if ((rc = hex_to_bytes(j, v))) return rc;
        if (v->len != t->size) {
            chain_abi_value_clear(v);
            return CHAIN_ERR_ABI;
        }
        return CHAIN_OK;
    case CHAIN_ABI_BYTES:
        return hex_to_bytes(j, v);
    case CHAIN_ABI_STRING: {
        if (!json_is_string(j)) return CHAIN_ERR_ABI;
        size_t n = json_string_length(j);
        v->bytes = malloc(n ? n : 1);
        if (!v->bytes) return CHAIN_ERR_NOMEM;
        memcpy(v->bytes, json_string_value(j), n);
        v->len = n;
        return CHAIN_OK;
    }
    case CHAIN_ABI_ARRAY:
    case CHAIN_ABI_DYN_ARRAY:
    case CHAIN_ABI_TUPLE: {
        if (!json_is_array(j)) return CHAIN_ERR_ABI;
        size_t n = json_array_size(j);
        if (t->kind == CHAIN_ABI_ARRAY && n != t->length) return CHAIN_ERR_ABI;
        if (t->kind == CHAIN_ABI_TUPLE && n != t->n_members) return CHAIN_ERR_ABI;
        if (n == 0) return CHAIN_OK;
        v->items = calloc(n, sizeof *v->items);
        if (!v->items) return CHAIN_ERR_NOMEM;
        v->n_items = n;
        for (size_t i = 0; i < n; i++) {
            if ((rc = json_to_value(seq_type_at(t, i), json_array_get(j, i), &v->items[i]))) {
                chain_abi_value_clear(v);
                return rc;
            }
        }
        return CHAIN_OK;
    }
    }
    return CHAIN_ERR_ABI;
}

/* ---------------------------------------------------------------- encoding */

static int encode_any(const struct abi_type *t, const struct chain_abi_value *v,
                      struct vm_buf *out);

static void put_word(uint8_t *dst, vm_u256 w)
{
    vm_u256_to_be(w, dst);
}

/* The 32-byte word of a scalar value, range-checked. */
static int scalar_word(const struct abi_type *t, const struct chain_abi_value *v, uint8_t dst[32])
{
    if (v->kind != t->kind) return CHAIN_ERR_ABI;
    switch (t->kind) {
    case CHAIN_ABI_UINT:
        if (!uint_fits(v->word, t->size)) return CHAIN_ERR_ABI;
        break;
    case CHAIN_ABI_INT:
        if (!int_fits(v->word, t->size)) return CHAIN_ERR_ABI;
        break;
    case CHAIN_ABI_ADDRESS:
        if (!uint_fits(v->word, 160)) return CHAIN_ERR_ABI;
        break;
    case CHAIN_ABI_BOOL:
        if (!uint_fits(v->word, 1)) return CHAIN_ERR_ABI;
        break;
    case CHAIN_ABI_FIXED_BYTES:
        if (v->len != t->size) return CHAIN_ERR_ABI;
        memset(dst, 0, 32);
        memcpy(dst, v->bytes, v->len);
        return CHAIN_OK;
    default:
        return CHAIN_ERR_ABI;
    }
    put_word(dst, v->word);
    return CHAIN_OK;
}

/* Encodes n items of the tuple/array t as a head/tail sequence appended to out. */
static int encode_seq(const struct abi_type *t, const struct chain_abi_value *items, size_t n,
                      struct vm_buf *out)
{
    size_t start = out->len;
    size_t head = 0;
    for (size_t i = 0; i < n; i++)
        head += seq_type_at(t, i)->head;
    if (head) {
        if (vm_buf_reserve(out, head)) return CHAIN_ERR_NOMEM;
        memset(out->data + out->len, 0, head);
        out->len += head;
    }
    size_t slot = start;
    for (size_t i = 0; i < n; i++) {
        const struct abi_type *ti = seq_type_at(t, i);
        int rc;
        if (ti->dynamic) {
            size_t offset = out->len - start;
            if ((rc = encode_any(ti, &items[i], out))) return rc;
            put_word(out->data + slot, vm_u256_from_u64(offset));
        } else {
            /* Static values are encoded at the end, then moved into their slot:
             * a static tuple or array is itself a flat sequence of words. */
            size_t mark = out->len;
            if ((rc = encode_any(ti, &items[i], out))) return rc;
            if (out->len - mark != ti->head) return CHAIN_ERR_ABI;
            if (ti->head) memcpy(out->data + slot, out->data + mark, ti->head);
            out->len = mark;
        }
        slot += ti->head;
    }
    return CHAIN_OK;
}

static int encode_any(const struct abi_type *t, const struct chain_abi_value *v, struct vm_buf *out)
{
    if (v->kind != t->kind) return CHAIN_ERR_ABI;
    switch (t->kind) {
    case CHAIN_ABI_BYTES:
    case CHAIN_ABI_STRING: {
        size_t padded = (v->len + 31) / 32 * 32;
        if (padded < v->len) return CHAIN_ERR_ABI;
        if (vm_buf_reserve(out, 32 + padded)) return CHAIN_ERR_NOMEM;
        put_word(out->data + out->len, vm_u256_from_u64(v->len));
        memset(out->data + out->len + 32, 0, padded);
        if (v->len) memcpy(out->data + out->len + 32, v->bytes, v->len);
        out->len += 32 + padded;
        return CHAIN_OK;
    }
    case CHAIN_ABI_DYN_ARRAY: {
        uint8_t w[32];
        put_word(w, vm_u256_from_u64(v->n_items));
        if (vm_buf_append(out, w, 32)) return CHAIN_ERR_NOMEM;
        return encode_seq(t, v->items, v->n_items, out);
    }
    case CHAIN_ABI_ARRAY:
        if (v->n_items != t->length) return CHAIN_ERR_ABI;
        return encode_seq(t, v->items, v->n_items, out);
    case CHAIN_ABI_TUPLE:
        if (v->n_items != t->n_members) return CHAIN_ERR_ABI;
        return encode_seq(t, v->items, v->n_items, out);
    default: {
        uint8_t w[32];
        int rc = scalar_word(t, v, w);
        if (rc) return rc;
        return vm_buf_append(out, w, 32) ? CHAIN_ERR_NOMEM : CHAIN_OK;
    }
    }
}

/* Encodes a JSON array as the tuple t, optionally after a selector. On error
 * out keeps its original length. */
static int encode_json_tuple(const struct abi_type *t, const json_t *args, const uint8_t *selector,
                             struct vm_buf *out)
{
    struct chain_abi_value v;
    int rc = json_to_value(t, args, &v);
    if (rc) return rc;
    size_t mark = out->len;
    if (selector && vm_buf_append(out, selector, 4)) rc = CHAIN_ERR_NOMEM;
    if (!rc) rc = encode_any(t, &v, out);
    if (rc) out->len = mark;
    chain_abi_value_clear(&v);
    return rc;
}

static json_t *load_args(const char *args_json)
{
    json_error_t jerr;
    json_t *j = json_loads(args_json ? args_json : "[]", JSON_DECODE_ANY, &jerr);
    if (j && !json_is_array(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

int chain_abi_encode_call(const char *signature, const char *args_json, struct vm_buf *out)
{
    struct abi_sig sig;
    int rc = parse_sig(signature, false, &sig);
    if (rc) return rc;
    uint8_t sel[4];
    json_t *args = NULL;
    if ((rc = sig_selector(signature, &sig, sel, NULL, 0))) goto out;
    rc = CHAIN_ERR_ABI;
    if (!(args = load_args(args_json))) goto out;
    rc = encode_json_tuple(sig.inputs, args, sel, out);
out:
    json_decref(args);
    sig_free(&sig);
    return rc;
}

/* One command-line text as the JSON value its type expects. */
static json_t *arg_to_json(const struct abi_type *t, const char *arg)
{
    json_error_t jerr;
    switch (t->kind) {
    case CHAIN_ABI_ARRAY:
    case CHAIN_ABI_DYN_ARRAY:
    case CHAIN_ABI_TUPLE:
        return json_loads(arg, JSON_DECODE_ANY, &jerr);
    case CHAIN_ABI_BOOL:
        if (strcmp(arg, "true") == 0) return json_true();
        if (strcmp(arg, "false") == 0) return json_false();
        return NULL;
    default:
        return json_string(arg);
    }
}

int chain_abi_encode_call_argv(const char *signature, const char *const *args, size_t n_args,
                               struct vm_buf *out)
{
    struct abi_sig sig;
    int rc = parse_sig(signature, false, &sig);
    if (rc) return rc;
    uint8_t sel[4];
    json_t *arr = json_array();
    if ((rc = sig_selector(signature, &sig, sel, NULL, 0))) goto out;
    rc = CHAIN_ERR_NOMEM;
    if (!arr) goto out;
    rc = CHAIN_ERR_ABI;
    if (n_args != sig.inputs->n_members) goto out;
    for (size_t i = 0; i < n_args; i++) {
        json_t *j = arg_to_json(sig.inputs->members[i], args[i]);
        if (!j || json_array_append_new(arr, j)) goto out;
    }
    rc = encode_json_tuple(sig.inputs, arr, sel, out);
out:
    json_decref(arr);
    sig_free(&sig);
    return rc;
}

int chain_abi_encode(const char *types, const char *args_json, struct vm_buf *out)
{
    struct abi_sig sig;
    int rc = parse_sig(types, true, &sig);
    if (rc) return rc;
    json_t *args = load_args(args_json);
    rc = args ? encode_json_tuple(sig.inputs, args, NULL, out) : CHAIN_ERR_ABI;
    json_decref(args);
    sig_free(&sig);
    return rc;
}

int chain_abi_encode_value(const char *types, const struct chain_abi_value *v, struct vm_buf *out)
{
    struct abi_sig sig;
    int rc = parse_sig(types, true, &sig);
    if (rc) return rc;
    size_t mark = out->len;
    rc = encode_any(sig.inputs, v, out);
    if (rc) out->len = mark;
    sig_free(&sig);
    return rc;
}

/* ---------------------------------------------------------------- decoding */

struct decoder {
    size_t budget; /* values left to decode */
};

static int decode_any(struct decoder *d, const struct abi_type *t, const uint8_t *p, size_t len,
                      struct chain_abi_value *v);

/* A word that must hold a length or offset: fits in 64 bits and is at most max. */
static int read_size(const uint8_t *p, size_t max, size_t *out)
{
    for (int i = 0; i < 24; i++)
        if (p[i]) return CHAIN_ERR_ABI;
    uint64_t x = 0;
    for (int i = 24; i < 32; i++)
        x = (x << 8) | p[i];
    if (x > max) return CHAIN_ERR_ABI;
    *out = (size_t)x;
    return CHAIN_OK;
}

/* Decodes n items of t laid out as a head/tail sequence at p[0..len). */
static int decode_seq(struct decoder *d, const struct abi_type *t, size_t n, const uint8_t *p,
                      size_t len, struct chain_abi_value *v)
{
    if (n == 0) return CHAIN_OK;
    if (n > d->budget) return CHAIN_ERR_ABI;
    v->items = calloc(n, sizeof *v->items);
    if (!v->items) return CHAIN_ERR_NOMEM;
    v->n_items = n;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        const struct abi_type *ti = seq_type_at(t, i);
        if (ti->head > len - pos) return CHAIN_ERR_ABI;
        int rc;
        if (ti->dynamic) {
            size_t off;
            if ((rc = read_size(p + pos, len, &off))) return rc;
            rc = decode_any(d, ti, p + off, len - off, &v->items[i]);
        } else {
            rc = decode_any(d, ti, p + pos, ti->head, &v->items[i]);
        }
        if (rc) return rc;
        pos += ti->head;
    }
    return CHAIN_OK;
}

static int decode_any(struct decoder *d, const struct abi_type *t, const uint8_t *p, size_t len,
                      struct chain_abi_value *v)
{
    if (d->budget == 0) return CHAIN_ERR_ABI;
    d->budget--;
    v->kind = t->kind;
    switch (t->kind) {
    case CHAIN_ABI_BYTES:
    case CHAIN_ABI_STRING: {
        size_t n;
        if (len < 32 || read_size(p, len - 32, &n)) return CHAIN_ERR_ABI;
        v->bytes = malloc(n ? n : 1);
        if (!v->bytes) return CHAIN_ERR_NOMEM;
        if (n) memcpy(v->bytes, p + 32, n);
        v->len = n;
        return CHAIN_OK;
    }
    case CHAIN_ABI_DYN_ARRAY: {
        size_t n;
        if (len < 32 || read_size(p, len - 32, &n)) return CHAIN_ERR_ABI;
        /* each element takes elem->head bytes of head space (0 only for "()") */
        if (t->elem->head && n > (len - 32) / t->elem->head) return CHAIN_ERR_ABI;
        return decode_seq(d, t, n, p + 32, len - 32, v);
    }
    case CHAIN_ABI_ARRAY:
        return decode_seq(d, t, t->length, p, len, v);
    case CHAIN_ABI_TUPLE:
        return decode_seq(d, t, t->n_members, p, len, v);
    default:
        break;
    }
    if (len < 32) return CHAIN_ERR_ABI;
    vm_u256 w = vm_u256_from_be(p, 32);
    switch (t->kind) {
    case CHAIN_ABI_UINT:
        if (!uint_fits(w, t->size)) return CHAIN_ERR_ABI;
        break;
    case CHAIN_ABI_INT:
        if (!int_fits(w, t->size)) return CHAIN_ERR_ABI;
        break;
    case CHAIN_ABI_ADDRESS:
        if (!uint_fits(w, 160)) return CHAIN_ERR_ABI;
        break;
    case CHAIN_ABI_BOOL:
        if (!uint_fits(w, 1)) return CHAIN_ERR_ABI;
        break;
    case CHAIN_ABI_FIXED_BYTES:
        for (unsigned i = t->size; i < 32; i++)
            if (p[i]) return CHAIN_ERR_ABI;
        v->bytes = malloc(t->size);
        if (!v->bytes) return CHAIN_ERR_NOMEM;
        memcpy(v->bytes, p, t->size);
        v->len = t->size;
        return CHAIN_OK;
    default:
        return CHAIN_ERR_ABI;
    }
    v->word = w;
    return CHAIN_OK;
}

/* Resolves the list to decode: the result list of a signature, or a type list. */
static int decode_types(const char *types, struct abi_sig *sig, const struct abi_type **t)
{
    int rc = parse_sig(types, true, sig);
    if (rc) return rc;
    if (sig->name_len) {
        if (!sig->outputs) {
            sig_free(sig);
            return CHAIN_ERR_ABI;
        }
        *t = sig->outputs;
    } else {
        *t = sig->inputs;
    }
    return CHAIN_OK;
}

static int decode_with(const struct abi_type *t, const uint8_t *data, size_t len,
                       struct chain_abi_value *out)
{
    memset(out, 0, sizeof *out);
    struct decoder d = {len / 8 + 4096};
    int rc = decode_any(&d, t, data, len, out);
    if (rc) chain_abi_value_clear(out);
    return rc;
}

int chain_abi_decode(const char *types, const uint8_t *data, size_t len,
                     struct chain_abi_value *out)
{
    memset(out, 0, sizeof *out);
    struct abi_sig sig;
    const struct abi_type *t;
    int rc = decode_types(types, &sig, &t);
    if (rc) return rc;
    /* The top level is always a tuple: decode it as a sequence in place. */
    rc = decode_with(t, data, len, out);
    sig_free(&sig);
    return rc;
}

/* ---------------------------------------------------------------- value -> JSON */

static json_t *word_to_json(vm_u256 w, bool neg)
{
    vm_u256 limit = vm_u256_from_u64((uint64_t)1 << 53);
    if (vm_u256_cmp(w, limit) < 0) {
        json_int_t x = (json_int_t)w.w[0];
        return json_integer(neg ? -x : x);
    }
    char dec[80];
    dec[0] = '-';
    vm_u256_to_dec(w, dec + 1);
    return json_string(neg ? dec : dec + 1);
}

static json_t *value_to_json(const struct chain_abi_value *v)
{
    switch (v->kind) {
    case CHAIN_ABI_UINT:
        return word_to_json(v->word, false);
    case CHAIN_ABI_INT: {
        bool neg = v->word.w[3] >> 63;
        return word_to_json(neg ? vm_u256_sub(vm_u256_from_u64(0), v->word) : v->word, neg);
    }
    case CHAIN_ABI_BOOL:
        return json_boolean(!vm_u256_is_zero(v->word));
    case CHAIN_ABI_ADDRESS: {
        uint8_t be[32];
        vm_u256_to_be(v->word, be);
        vm_address a;
        memcpy(a.b, be + 12, 20);
        char text[43];
        vm_address_to_checksum(&a, text);
        return json_string(text);
    }
    case CHAIN_ABI_FIXED_BYTES:
    case CHAIN_ABI_BYTES:
        return chain_json_hex(v->bytes, v->len);
    case CHAIN_ABI_STRING:
        return json_stringn(v->len ? (const char *)v->bytes : "", v->len);
    case CHAIN_ABI_ARRAY:
    case CHAIN_ABI_DYN_ARRAY:
    case CHAIN_ABI_TUPLE: {
        json_t *a = json_array();
        for (size_t i = 0; a && i < v->n_items; i++) {
            if (json_array_append_new(a, value_to_json(&v->items[i]))) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    }
    return NULL;
}

int chain_abi_decode_json(const char *types, const uint8_t *data, size_t len, char **json)
{
    *json = NULL;
    struct chain_abi_value v;
    int rc = chain_abi_decode(types, data, len, &v);
    if (rc) return rc;
    json_t *j = value_to_json(&v);
    chain_abi_value_clear(&v);
    /* NULL here: out of memory, or a string that is not valid UTF-8. */
    if (!j) return CHAIN_ERR_ABI;
    *json = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return *json ? CHAIN_OK : CHAIN_ERR_NOMEM;
}

/* ---------------------------------------------------------------- revert data */

int chain_abi_revert_reason(const uint8_t *data, size_t len, char *out, size_t cap)
{
    if (cap == 0) return CHAIN_ERR_INVALID;
    out[0] = 0;
    if (len == 0) return CHAIN_OK;
    if (len < 4) return CHAIN_ERR_ABI;
    static const uint8_t error_sel[4] = {0x08, 0xc3, 0x79, 0xa0}; /* Error(string) */
    static const uint8_t panic_sel[4] = {0x4e, 0x48, 0x7b, 0x71}; /* Panic(uint256) */
    struct chain_abi_value v;
    int rc;
    if (memcmp(data, error_sel, 4) == 0) {
        if ((rc = chain_abi_decode("(string)", data + 4, len - 4, &v))) return rc;
        size_t n = v.items[0].len < cap - 1 ? v.items[0].len : cap - 1;
        if (n) memcpy(out, v.items[0].bytes, n);
        out[n] = 0;
        chain_abi_value_clear(&v);
        return CHAIN_OK;
    }
    if (memcmp(data, panic_sel, 4) == 0) {
        if ((rc = chain_abi_decode("(uint256)", data + 4, len - 4, &v))) return rc;
        snprintf(out, cap, "panic 0x%llx", (unsigned long long)v.items[0].word.w[0]);
        chain_abi_value_clear(&v);
        return CHAIN_OK;
    }
    snprintf(out, cap, "custom error 0x%02x%02x%02x%02x", data[0], data[1], data[2], data[3]);
    return CHAIN_OK;
}
