/*
 * state_map.h — private to vm/: the open-addressing hash map behind the
 * in-memory world (accounts, storage slots, warm sets, transient storage).
 *
 * Keys and values are fixed-size byte blocks chosen at init. Entries are
 * never removed one by one: the world represents "absent" inside the value
 * (a zero slot, an account marked not present), which keeps revert simple
 * and the table tombstone-free. smap_clear empties the whole map at once.
 * Value pointers are valid until the next insertion.
 */
#ifndef BP_VM_STATE_MAP_H
#define BP_VM_STATE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct smap {
    uint8_t *slots;   /* cap entries of [used byte, pad, key, pad, value] */
    size_t cap;       /* a power of two, or 0 */
    size_t count;
    size_t key_size;
    size_t value_size;
    size_t value_off; /* of the value inside an entry */
    size_t stride;
};

void smap_init(struct smap *m, size_t key_size, size_t value_size);
void smap_free(struct smap *m);
void smap_clear(struct smap *m);
/* The value stored under key, or NULL. */
void *smap_get(const struct smap *m, const void *key);
/* Finds or inserts key (a new value is zero-filled). Out: *value, *created
 * (may be NULL). Returns 0 or VM_ERR_NOMEM. */
int smap_put(struct smap *m, const void *key, void **value, bool *created);
/* Entry i (0 <= i < cap) if used: its key and value. */
bool smap_at(const struct smap *m, size_t i, const void **key, void **value);

#endif
