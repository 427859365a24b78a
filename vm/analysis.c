/*
 * analysis.c — code analysis, done once per code and cached by code hash.
 *
 * The analysis is a padded copy of the code (EVM_CODE_PADDING zero bytes, so
 * a PUSH at the very end reads zeros and the instruction after it is STOP,
 * and the interpreter needs no end-of-code check), a bitmap of the valid
 * jump destinations, and the basic blocks with their constant gas and stack
 * bounds (struct evm_block). Deployed code is cached by its keccak hash,
 * which the host already knows; init code is analysed into a buffer of its
 * frame. The cache is an open-addressing table of separately allocated
 * entries; it is only emptied between runs, so entries in use by suspended
 * frames stay valid.
 */
#include "evm_internal.h"

#include <stdlib.h>
#include <string.h>

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

/* Instructions after which execution never falls through. */
static bool is_terminator(uint8_t op)
{
    return op == 0x00 || op == 0x56 || op == 0xf3 || op == 0xfd || op == 0xfe || op == 0xff ||
           evm_traits[op].name == NULL;
}

/* Instructions that read the gas left, or after which the interpreter
 * resumes from a child frame, and JUMPI: they end their block. */
static bool ends_block(uint8_t op)
{
    switch (op) {
    case 0x57: /* JUMPI */
    case 0x5a: /* GAS */
    case 0x55: /* SSTORE */
    case 0xf0:
    case 0xf1:
    case 0xf2:
    case 0xf4:
    case 0xf5:
    case 0xfa:
        return true;
    default:
        return false;
    }
}

static struct evm_block block_of(int64_t gas, int need, int peak)
{
    /* Heights beyond the stack limit fail the same way whatever their value;
     * clamping keeps them in int16_t for any code size. */
    if (need > EVM_STACK_LIMIT + 1) need = EVM_STACK_LIMIT + 1;
    if (peak > EVM_STACK_LIMIT + 1) peak = EVM_STACK_LIMIT + 1;
    struct evm_block b = {(int32_t)gas, (int16_t)need, (int16_t)peak};
    return b;
}

/* Splits code into blocks (see struct evm_block) and writes each block's
 * totals at its first position. */
static void mark_blocks(struct evm_block *blocks, const uint8_t *code, size_t len)
{
    memset(blocks, 0, sizeof *blocks * (len + 1));
    size_t start = 0;
    int64_t gas = 0;
    int height = 0, need = 0, peak = 0;
    for (size_t pos = 0; pos < len;) {
        uint8_t op = code[pos];
        if (op == 0x5b && pos != start) {
            blocks[start] = block_of(gas, need, peak);
            start = pos;
            gas = height = need = peak = 0;
        }
        const struct evm_trait *t = &evm_traits[op];
        gas += t->gas;
        if (t->stack_in - height > need) need = t->stack_in - height;
        height += t->stack_change;
        if (height > peak) peak = height;
        size_t next = pos + 1 + (op >= 0x60 && op <= 0x7f ? (size_t)(op - 0x5f) : 0);
        if (next > len) next = len;
        if (is_terminator(op) || ends_block(op)) {
            blocks[start] = block_of(gas, need, peak);
            start = next;
            gas = height = need = peak = 0;
        }
        pos = next;
    }
    if (start < len) blocks[start] = block_of(gas, need, peak);
}

int evm_analyse_into(struct evm_code *c, const uint8_t *code, size_t len)
{
    uint8_t *b = (uint8_t *)c->blocks;
    int err = VM_OK;
    if (evm_grow(&c->code, &c->code_cap, len + EVM_CODE_PADDING, 64) ||
        evm_grow(&c->jumpdest, &c->map_cap, (len + 7) / 8 + 1, 64) ||
        evm_grow(&b, &c->blocks_cap, sizeof(struct evm_block) * (len + 1), 64))
        err = VM_ERR_NOMEM;
    c->blocks = (struct evm_block *)b;
    if (err) return err;
    if (len) memcpy(c->code, code, len);
    memset(c->code + len, 0, EVM_CODE_PADDING);
    c->len = len;
    mark_jumpdests(c->jumpdest, c->code, len);
    mark_blocks(c->blocks, c->code, len);
    return VM_OK;
}

void evm_code_release(struct evm_code *c)
{
    free(c->code);
    free(c->jumpdest);
    free(c->blocks);
    memset(c, 0, sizeof *c);
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
    if (!c) return VM_ERR_NOMEM;
    if (evm_analyse_into(c, code, len)) {
        evm_code_release(c);
        free(c);
        return VM_ERR_NOMEM;
    }
    size_t j = slot_of(hash, cache->cap);
    while (cache->slots[j].code) j = (j + 1) & (cache->cap - 1);
    cache->slots[j].hash = *hash;
    cache->slots[j].code = c;
    cache->count++;
    cache->bytes += c->code_cap + c->map_cap + c->blocks_cap + sizeof *c;
    *out = c;
    return VM_OK;
}

void evm_cache_trim(struct evm_cache *cache, size_t max_bytes)
{
    if (cache->bytes <= max_bytes) return;
    for (size_t i = 0; i < cache->cap; i++) {
        struct evm_code *c = cache->slots[i].code;
        if (!c) continue;
        evm_code_release(c);
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
