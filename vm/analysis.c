/*
 * analysis.c — JUMPDEST analysis, done once per code and cached by code hash.
 *
 * The analysis is a padded copy of the code (EVM_CODE_PADDING zero bytes, so
 * a PUSH at the very end reads zeros and the instruction after it is STOP,
 * and the interpreter needs no end-of-code check) plus a bitmap of the valid
 * jump destinations. Deployed code is cached by its keccak hash, which the
 * host already knows; init code is analysed into a buffer of its frame.
 * The cache is an open-addressing table; it is only emptied between runs,
 * so entries in use by suspended frames stay valid.
 */
#include "evm_internal.h"

#include <stdlib.h>
#include <string.h>

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (*cap >= need) return VM_OK;
    size_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    uint8_t *p = realloc(*buf, n);
    if (!p) return VM_ERR_NOMEM;
    *buf = p;
    *cap = n;
    return VM_OK;
}

static void mark_jumpdests(uint8_t *map, const uint8_t *code, size_t len)
{
    memset(map, 0, (len + 7) / 8 + 1);
    for (size_t i = 0; i < len; i++) {
        uint8_t op = code[i];
        if (op == 0x5b)
            map[i >> 3] |= (uint8_t)(1u << (i & 7));
        else if (op >= 0x60 && op <= 0x7f)
            i += (size_t)(op - 0x5f);
    }
}

int evm_analyse_into(struct evm_code *c, size_t *cap_code, size_t *cap_map, const uint8_t *code,
                     size_t len)
{
    if (grow(&c->code, cap_code, len + EVM_CODE_PADDING) ||
        grow(&c->jumpdest, cap_map, (len + 7) / 8 + 1))
        return VM_ERR_NOMEM;
    if (len) memcpy(c->code, code, len);
    memset(c->code + len, 0, EVM_CODE_PADDING);
    c->len = len;
    mark_jumpdests(c->jumpdest, c->code, len);
    return VM_OK;
}

static size_t slot_of(const vm_bytes32 *h, size_t cap)
{
    uint64_t v;
    memcpy(&v, h->b, 8);
    return (size_t)v & (cap - 1);
}

static int cache_resize(struct evm_cache *cache, size_t cap)
{
    struct evm_cache_entry *slots = calloc(cap, sizeof *slots);
    if (!slots) return VM_ERR_NOMEM;
    for (size_t i = 0; i < cache->cap; i++) {
        struct evm_cache_entry *e = &cache->slots[i];
        if (!e->code) continue;
        size_t j = slot_of(&e->hash, cap);
        while (slots[j].code) j = (j + 1) & (cap - 1);
        slots[j] = *e;
    }
    free(cache->slots);
    cache->slots = slots;
    cache->cap = cap;
    return VM_OK;
}

int evm_cache_get(struct evm_cache *cache, const vm_bytes32 *hash, const uint8_t *code, size_t len,
                  const struct evm_code **out)
{
    if (cache->cap) {
        size_t j = slot_of(hash, cache->cap);
        while (cache->slots[j].code) {
            struct evm_cache_entry *e = &cache->slots[j];
            if (e->code->len == len && memcmp(e->hash.b, hash->b, 32) == 0) {
                *out = e->code;
                return VM_OK;
            }
            j = (j + 1) & (cache->cap - 1);
        }
    }
    if ((cache->count + 1) * 2 > cache->cap &&
        cache_resize(cache, cache->cap ? cache->cap * 2 : 64))
        return VM_ERR_NOMEM;
    struct evm_code *c = calloc(1, sizeof *c);
    size_t cc = 0, cm = 0;
    if (!c || evm_analyse_into(c, &cc, &cm, code, len)) {
        if (c) {
            free(c->code);
            free(c->jumpdest);
        }
        free(c);
        return VM_ERR_NOMEM;
    }
    size_t j = slot_of(hash, cache->cap);
    while (cache->slots[j].code) j = (j + 1) & (cache->cap - 1);
    cache->slots[j].hash = *hash;
    cache->slots[j].code = c;
    cache->count++;
    cache->bytes += cc + cm + sizeof *c;
    *out = c;
    return VM_OK;
}

void evm_cache_trim(struct evm_cache *cache, size_t max_bytes)
{
    if (cache->bytes <= max_bytes) return;
    for (size_t i = 0; i < cache->cap; i++) {
        struct evm_code *c = cache->slots[i].code;
        if (!c) continue;
        free(c->code);
        free(c->jumpdest);
        free(c);
        cache->slots[i].code = NULL;
    }
    cache->count = 0;
    cache->bytes = 0;
}

void evm_cache_free(struct evm_cache *cache)
{
    evm_cache_trim(cache, 0);
    free(cache->slots);
    memset(cache, 0, sizeof *cache);
}
