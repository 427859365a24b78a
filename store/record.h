/*
 * record.h — private to store/: the msgpack encoding of every stored record.
 *
 * Encoders write with msgpack-c's packer into a msgpack_sbuffer (caller
 * destroys it). Decoders are our own strict readers: each record is one
 * msgpack array with a leading format version, every length is checked
 * against the bytes that are left before anything is read or allocated, and
 * a record with trailing bytes, a wrong type, a wrong fixed size or a value
 * out of its domain is STORE_ERR_CORRUPT.
 */
#ifndef BP_STORE_RECORD_H
#define BP_STORE_RECORD_H

#include "store.h"

#include <msgpack.h>

#define RECORD_VERSION 1

/* Semantic checks shared by encoder (STORE_ERR_INVALID) and decoder. */
bool record_channel_valid(const struct store_channel *ch);
bool record_breakpoint_valid(const struct store_breakpoint *rec);

int record_encode_channel(const struct store_channel *ch, msgpack_sbuffer *out);
int record_decode_channel(const uint8_t *p, size_t n, struct store_channel *out);

int record_encode_breakpoint(const struct store_breakpoint *rec, msgpack_sbuffer *out);
int record_decode_breakpoint(const uint8_t *p, size_t n, struct store_breakpoint *out);

int record_encode_storage(uint64_t nonce, const struct vm_storage_slot *slots, size_t n_slots,
                          msgpack_sbuffer *out);
/* *slots is malloc'ed (NULL when empty). */
int record_decode_storage(const uint8_t *p, size_t n, uint64_t *nonce,
                          struct vm_storage_slot **slots, size_t *n_slots);

int record_encode_ownsig(const uint8_t digest[32], const uint8_t sig[65], msgpack_sbuffer *out);
int record_decode_ownsig(const uint8_t *p, size_t n, uint8_t digest[32], uint8_t sig[65]);

int record_encode_heads(const struct store_heads *h, msgpack_sbuffer *out);
int record_decode_heads(const uint8_t *p, size_t n, struct store_heads *out);

int record_encode_cursor(uint64_t block, const vm_bytes32 *hash, msgpack_sbuffer *out);
int record_decode_cursor(const uint8_t *p, size_t n, uint64_t *block, vm_bytes32 *hash);

int record_encode_u64(uint64_t v, msgpack_sbuffer *out);
int record_decode_u64(const uint8_t *p, size_t n, uint64_t *v);

int record_encode_address(const vm_address *a, msgpack_sbuffer *out);
int record_decode_address(const uint8_t *p, size_t n, vm_address *a);

#endif
