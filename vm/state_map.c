/*
 * state_map.c — a small open-addressing (linear probing) hash map with
 * fixed-size keys and values; see state_map.h for why it never deletes.
 */
#include "state_map.h"

#include "vm.h"

#include <stdlib.h>
#include <string.h>

#define SMAP_HEADER 8 /* the used byte, padded so keys stay 8-aligned */

void smap_init(struct smap *m, size_t key_size, size_t value_size)
{
    memset(m, 0, sizeof *m);
    m->key_size = key_size;
    m->value_size = value_size;
    /* Values start 8-aligned so they may hold pointers and words. */
    m->value_off = (SMAP_HEADER + key_size + 7) & ~(size_t)7;
    m->stride = (m->value_off + value_size + 7) & ~(size_t)7;
}

void smap_free(struct smap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}

void smap_clear(struct smap *m)
{
    if (m->slots) memset(m->slots, 0, m->cap * m->stride);
    m->count = 0;
}

static uint64_t smap_hash(const uint8_t *key, size_t len)
{
    uint64_t h = 0x243f6a8885a308d3u ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, key + i, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15u;
        h ^= h >> 29;
    }
    for (; i < len; i++) h = (h ^ key[i]) * 0x100000001b3u;
    h ^= h >> 32;
    return h;
}

static uint8_t *smap_slot(const struct smap *m, size_t i)
{
    return m->slots + i * m->stride;
}

/* Index of key's entry, or of the free slot where it would go. */
static size_t smap_find(const struct smap *m, const void *key)
{
    size_t mask = m->cap - 1;
    size_t i = smap_hash(key, m->key_size) & mask;
    for (;;) {
        uint8_t *s = smap_slot(m, i);
        if (!s[0] || memcmp(s + SMAP_HEADER, key, m->key_size) == 0) return i;
        i = (i + 1) & mask;
    }
}

void *smap_get(const struct smap *m, const void *key)
{
    if (!m->cap) return NULL;
    uint8_t *s = smap_slot(m, smap_find(m, key));
    return s[0] ? s + m->value_off : NULL;
}

static int smap_grow(struct smap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    if (cap > SIZE_MAX / m->stride) return VM_ERR_NOMEM;
    uint8_t *slots = calloc(cap, m->stride);
    if (!slots) return VM_ERR_NOMEM;
    struct smap old = *m;
    m->slots = slots;
    m->cap = cap;
    for (size_t i = 0; i < old.cap; i++) {
        uint8_t *s = smap_slot(&old, i);
        if (!s[0]) continue;
        memcpy(smap_slot(m, smap_find(m, s + SMAP_HEADER)), s, m->stride);
    }
    free(old.slots);
    return VM_OK;
}

int smap_put(struct smap *m, const void *key, void **value, bool *created)
{
    /* Keep the load below 3/4 so probes stay short. */
    if ((m->count + 1) * 4 > m->cap * 3) {
        int err = smap_grow(m);
        if (err) return err;
    }
    uint8_t *s = smap_slot(m, smap_find(m, key));
    bool is_new = !s[0];
    if (is_new) {
        s[0] = 1;
        memcpy(s + SMAP_HEADER, key, m->key_size);
        memset(s + m->value_off, 0, m->value_size);
        m->count++;
    }
    if (created) *created = is_new;
    *value = s + m->value_off;
    return VM_OK;
}

bool smap_at(const struct smap *m, size_t i, const void **key, void **value)
{
    uint8_t *s = smap_slot(m, i);
    if (!s[0]) return false;
    if (key) *key = s + SMAP_HEADER;
    if (value) *value = s + m->value_off;
    return true;
}
