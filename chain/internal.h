/*
 * internal.h — private to chain/: helpers the .c files of chain/ share
 * (JSON-RPC request with jansson values, hex <-> JSON, a monotonic clock).
 * Nothing here is part of the public API (chain.h).
 */
#ifndef BP_CHAIN_INTERNAL_H
#define BP_CHAIN_INTERNAL_H

#include "chain.h"

#include <jansson.h>

/*
 * Sends {"jsonrpc":"2.0","id":N,"method":method,"params":params} and returns
 * the "result" member.
 * In:  params is stolen (decref'ed by this function, also on error).
 * Out: *result: a new reference (json null allowed).
 */
int chain_rpc_json(struct chain_client *c, const char *method, json_t *params, json_t **result);

/* The chain id the client was told to expect (0 = any). */
uint64_t chain_client_expected_chain_id(const struct chain_client *c);

/* Parses an Ethereum quantity ("0x" + 1..16 / 1..64 hex digits). */
int chain_json_u64(const json_t *v, uint64_t *out);
int chain_json_u256(const json_t *v, vm_u256 *out);
/* Parses "0x" + hex data of exactly n bytes. */
int chain_json_fixed(const json_t *v, uint8_t *out, size_t n);
/* Parses "0x" + hex data of any length (appended to *out). */
int chain_json_data(const json_t *v, struct vm_buf *out);

/* Builds JSON strings: quantity (minimal hex), data (0x + hex). NULL on NOMEM. */
json_t *chain_json_quantity_u64(uint64_t v);
json_t *chain_json_quantity_u256(vm_u256 v);
json_t *chain_json_hex(const uint8_t *data, size_t len);
/* A block number or tag for the `block` argument of the RPC calls. */
json_t *chain_json_block(uint64_t block);

/* Parses one log object of eth_getLogs / a receipt into *log (data malloc'ed). */
int chain_json_log(const json_t *v, struct chain_log *log);

/* Milliseconds of a monotonic clock. */
int64_t chain_now_ms(void);
/* Sleeps ms milliseconds. */
void chain_sleep_ms(long ms);

#endif
