/*
 * chain.h — breakpoint's view of an Ethereum chain: the one public header of chain/.
 *
 * - a JSON-RPC client (libcurl + jansson), one opaque struct chain_client per
 *   endpoint, with every transport and protocol fault a distinct error code;
 * - ABI encoding and decoding driven by signature strings ("play(uint8)",
 *   "board()(uint8[9])");
 * - EIP-1559 (type 2) transactions, RLP-encoded and signed locally: the RPC node
 *   is never asked to sign anything;
 * - a wallet (nonce, fees, send, confirmations, resubmission when stuck);
 * - decoding of the Adjudicator's events and a log watcher that resumes from a
 *   caller-persisted cursor and survives reorgs.
 *
 * Conventions (as vm.h): functions that can fail return an int (0 = CHAIN_OK,
 * negative = enum chain_error), marked CHAIN_WARN_UNUSED; results go through
 * out-parameters; the caller owns what it passes in and what *_new returns.
 * No global mutable state; see chain_client_new about curl_global_init.
 */
#ifndef BP_CHAIN_H
#define BP_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm.h"

#if defined(__GNUC__)
#define CHAIN_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define CHAIN_WARN_UNUSED
#endif

/* ======================================================================
 * Errors
 * ====================================================================== */
enum chain_error {
    CHAIN_OK = 0,
    CHAIN_ERR_INVALID = -1, /* a bad argument from the caller */
    CHAIN_ERR_NOMEM = -2,
    CHAIN_ERR_CONNECT = -3,  /* RPC node down: connection refused / unreachable / DNS */
    CHAIN_ERR_TIMEOUT = -4,  /* no complete answer within the configured timeout */
    CHAIN_ERR_HTTP = -5,     /* an HTTP status other than 200 (see chain_client_http_status) */
    CHAIN_ERR_RPC = -6,      /* a JSON-RPC error object (see chain_client_rpc_error) */
    CHAIN_ERR_BAD_JSON = -7, /* not JSON, not a JSON-RPC response, or a result of the wrong shape */
    CHAIN_ERR_TOO_LARGE = -8,   /* the response body exceeds the configured cap */
    CHAIN_ERR_WRONG_CHAIN = -9, /* eth_chainId differs from the expected chain id */
    CHAIN_ERR_TRANSPORT = -10,  /* any other libcurl failure */
    CHAIN_ERR_ABI = -11,        /* a bad signature, value or encoding */
    CHAIN_ERR_NOT_FOUND = -12,  /* no such receipt / block (yet) */
    CHAIN_ERR_REVERTED = -13,   /* the transaction was mined with status 0 */
    CHAIN_ERR_TX_TIMEOUT = -14, /* the transaction was not confirmed in time */
    CHAIN_ERR_KEY = -15,        /* an invalid private key */
    CHAIN_ERR_CRYPTO = -16,     /* vm/ failed to sign or encode */
    CHAIN_ERR_EVENT = -17,      /* a log that is not a well-formed Adjudicator event */
};

/* Returns a static, human-readable text for an enum chain_error value. */
const char *chain_strerror(int err);

/* ======================================================================
 * JSON-RPC client (chain/rpc.c)
 * ====================================================================== */
/* Opaque: one endpoint, one curl easy handle (connections are reused), the
 * last error's details. A client is not thread-safe: use it from one thread at
 * a time (the node's loop thread), or give each thread its own client. */
struct chain_client;

struct chain_client_opts {
    long timeout_ms;            /* whole request; 0 = default 10000 */
    long connect_timeout_ms;    /* 0 = default 3000 */
    size_t max_response;        /* cap on a response body in bytes; 0 = default 16 MiB */
    uint64_t expected_chain_id; /* 0 = accept any chain; else calls that sign check it */
};

/*
 * Creates a client for an http(s) JSON-RPC endpoint.
 * curl_global_init is not thread-safe and must run before any other libcurl
 * call; this constructor calls curl_global_init(CURL_GLOBAL_DEFAULT) itself
 * (libcurl counts the calls, and chain_client_free balances each one with
 * curl_global_cleanup), so a program that creates its clients from one
 * thread needs nothing else. A multi-threaded program must create its first
 * client before it starts threads that use libcurl.
 * In:  url (copied), opts (NULL = defaults).
 * Out: *out. Returns CHAIN_OK, CHAIN_ERR_INVALID (empty/non-http URL) or CHAIN_ERR_NOMEM.
 */
CHAIN_WARN_UNUSED int chain_client_new(const char *url, const struct chain_client_opts *opts,
                                       struct chain_client **out);
void chain_client_free(struct chain_client *c);

/* Details of the last CHAIN_ERR_RPC: the JSON-RPC error code, its message,
 * and the revert data ("data" as bytes) if the node sent any. Valid until the
 * next call on the client. */
struct chain_rpc_error {
    int64_t code;
    const char *message; /* never NULL */
    const uint8_t *data; /* NULL if absent or not hex */
    size_t data_len;
};
const struct chain_rpc_error *chain_client_rpc_error(const struct chain_client *c);
/* The HTTP status of the last response (0 if none arrived). */
long chain_client_http_status(const struct chain_client *c);

/*
 * Generic JSON-RPC call, e.g. for test-only methods (evm_mine,
 * evm_increaseTime, anvil_setCode).
 * In:  method, params_json: the params array as JSON text ("[]" if NULL).
 * Out: *result_json (malloc'ed compact JSON text of "result"; free()); may be NULL
 *      if the caller does not want it.
 * Returns CHAIN_OK or any transport/protocol error above.
 */
CHAIN_WARN_UNUSED int chain_rpc(struct chain_client *c, const char *method, const char *params_json,
                                char **result_json);

/* The `block` argument of the calls below: a block number, or one of these tags. */
#define CHAIN_BLOCK_LATEST UINT64_MAX
#define CHAIN_BLOCK_PENDING (UINT64_MAX - 1)

/* eth_chainId. */
CHAIN_WARN_UNUSED int chain_chain_id(struct chain_client *c, uint64_t *out);
/* eth_chainId compared with opts.expected_chain_id (always OK if that is 0).
 * Returns CHAIN_OK, CHAIN_ERR_WRONG_CHAIN, or a transport error. */
CHAIN_WARN_UNUSED int chain_check_chain_id(struct chain_client *c);
/* eth_blockNumber. */
CHAIN_WARN_UNUSED int chain_block_number(struct chain_client *c, uint64_t *out);
/* eth_getBalance(addr, block). */
CHAIN_WARN_UNUSED int chain_get_balance(struct chain_client *c, const vm_address *addr,
                                        uint64_t block, vm_u256 *out);
/* eth_getTransactionCount(addr, block) — use CHAIN_BLOCK_PENDING for the next nonce. */
CHAIN_WARN_UNUSED int chain_get_nonce(struct chain_client *c, const vm_address *addr,
                                      uint64_t block, uint64_t *out);
/* eth_getCode(addr, block). Out: *code (appended to a zeroed or empty vm_buf). */
CHAIN_WARN_UNUSED int chain_get_code(struct chain_client *c, const vm_address *addr, uint64_t block,
                                     struct vm_buf *code);

/* A message call for eth_call / eth_estimateGas. */
struct chain_call {
    const vm_address *from; /* NULL = none */
    const vm_address *to;   /* NULL = contract creation (estimateGas only) */
    vm_u256 value;
    const uint8_t *data;
    size_t data_len;
    uint64_t gas; /* 0 = none */
};
/* eth_call. Out: *output (appended). A revert is CHAIN_ERR_RPC with the revert
 * data in chain_client_rpc_error. */
CHAIN_WARN_UNUSED int chain_eth_call(struct chain_client *c, const struct chain_call *call,
                                     uint64_t block, struct vm_buf *output);
/* eth_estimateGas (against "latest"). */
CHAIN_WARN_UNUSED int chain_estimate_gas(struct chain_client *c, const struct chain_call *call,
                                         uint64_t *gas);
/* eth_maxPriorityFeePerGas. */
CHAIN_WARN_UNUSED int chain_max_priority_fee(struct chain_client *c, vm_u256 *out);
/*
 * eth_feeHistory(blocks, "latest", [percentile]).
 * Out: *next_base_fee: the base fee of the next block (the last entry of
 *      baseFeePerGas); *median_reward: the median over the blocks of the
 *      percentile reward (0 if the node gave none).
 */
CHAIN_WARN_UNUSED int chain_fee_history(struct chain_client *c, unsigned blocks, double percentile,
                                        vm_u256 *next_base_fee, vm_u256 *median_reward);
/* eth_sendRawTransaction. Out: *hash as the node reports it (may be NULL). */
CHAIN_WARN_UNUSED int chain_send_raw(struct chain_client *c, const uint8_t *raw, size_t len,
                                     vm_bytes32 *hash);

struct chain_log {
    vm_address address;
    vm_bytes32 topics[4];
    size_t n_topics;
    uint8_t *data; /* malloc'ed */
    size_t data_len;
    uint64_t block_number;
    vm_bytes32 block_hash;
    vm_bytes32 tx_hash;
    uint64_t log_index;
    bool removed;
};
/* A list of logs; zero-initialise, free with chain_logs_free. */
struct chain_logs {
    struct chain_log *items;
    size_t n;
};
void chain_logs_free(struct chain_logs *logs);

struct chain_receipt {
    vm_bytes32 tx_hash;
    vm_bytes32 block_hash;
    uint64_t block_number;
    bool status; /* true = success */
    uint64_t gas_used;
    vm_u256 effective_gas_price;
    bool has_contract_address;
    vm_address contract_address;
    struct chain_logs logs;
};
void chain_receipt_free(struct chain_receipt *r);
/* eth_getTransactionReceipt. Returns CHAIN_ERR_NOT_FOUND while not mined.
 * Out: *r (free with chain_receipt_free). */
CHAIN_WARN_UNUSED int chain_get_receipt(struct chain_client *c, const vm_bytes32 *tx_hash,
                                        struct chain_receipt *r);

/* eth_getBlockByNumber(block, false), reduced to what the watcher needs.
 * Returns CHAIN_ERR_NOT_FOUND for a block beyond the head. */
struct chain_block {
    uint64_t number;
    vm_bytes32 hash;
    vm_bytes32 parent_hash;
    vm_bytes32 state_root;
    uint64_t timestamp;
    vm_u256 base_fee; /* 0 before London */
};
CHAIN_WARN_UNUSED int chain_get_block(struct chain_client *c, uint64_t block,
                                      struct chain_block *out);

/* An eth_getLogs filter: one address (or none), topic i must equal topics[i]
 * where has_topic[i] (a NULL position otherwise). */
struct chain_log_filter {
    const vm_address *address; /* NULL = any */
    vm_bytes32 topics[4];
    bool has_topic[4];
    size_t n_topics; /* positions used (trailing wildcards may be omitted) */
};
/* eth_getLogs over [from, to] (numbers, inclusive). Out: *logs appended. */
CHAIN_WARN_UNUSED int chain_get_logs(struct chain_client *c, const struct chain_log_filter *f,
                                     uint64_t from, uint64_t to, struct chain_logs *logs);

/* eth_getProof(addr, keys, block). Proof nodes are RLP bytes. */
struct chain_proof_node_list {
    struct vm_buf *nodes;
    size_t n;
};
struct chain_storage_proof {
    vm_u256 key;
    vm_u256 value;
    struct chain_proof_node_list proof;
};
struct chain_account_proof {
    vm_u256 balance;
    uint64_t nonce;
    vm_bytes32 code_hash;
    vm_bytes32 storage_hash;
    struct chain_proof_node_list account_proof;
    struct chain_storage_proof *storage;
    size_t n_storage;
};
CHAIN_WARN_UNUSED int chain_get_proof(struct chain_client *c, const vm_address *addr,
                                      const vm_u256 *keys, size_t n_keys, uint64_t block,
                                      struct chain_account_proof *out);
void chain_account_proof_free(struct chain_account_proof *p);

/* ======================================================================
 * ABI (chain/abi.c)
 *
 * Types: uintN/intN (N = 8..256 step 8; "uint"/"int" mean 256), address,
 * bool, bytes, bytesN (1..32), string, T[k], T[], tuples "(T1,T2)".
 * Decoding is strict: every offset and length is checked against the data,
 * padding of static words must be canonical (zero / sign extension), bool is
 * 0 or 1, and the total work is bounded by the data size, so hostile return
 * data cannot make the decoder read out of bounds or allocate without limit.
 * ====================================================================== */
enum chain_abi_kind {
    CHAIN_ABI_UINT,
    CHAIN_ABI_INT,
    CHAIN_ABI_ADDRESS,
    CHAIN_ABI_BOOL,
    CHAIN_ABI_FIXED_BYTES, /* bytesN */
    CHAIN_ABI_BYTES,
    CHAIN_ABI_STRING,
    CHAIN_ABI_ARRAY,     /* T[k] */
    CHAIN_ABI_DYN_ARRAY, /* T[] */
    CHAIN_ABI_TUPLE,
};

/* A decoded (or to-be-encoded) value. Plain data:
 * - UINT/INT/BOOL/ADDRESS: word (INT in two's complement; ADDRESS right-aligned);
 * - FIXED_BYTES/BYTES/STRING: bytes[0..len) (malloc'ed);
 * - ARRAY/DYN_ARRAY/TUPLE: items[0..n_items) (malloc'ed). */
struct chain_abi_value {
    enum chain_abi_kind kind;
    vm_u256 word;
    uint8_t *bytes;
    size_t len;
    struct chain_abi_value *items;
    size_t n_items;
};
/* Frees what the value holds (not the value itself). */
void chain_abi_value_clear(struct chain_abi_value *v);

/*
 * Parses a function signature "name(T1,...)" with an optional result list
 * "(R1,...)" after it, e.g. "board()(uint8[9])".
 * Out: selector[4] = keccak(canonical "name(T1,...)")[0..4] (may be NULL);
 *      canonical (may be NULL, size canonical_cap): the canonical text of the
 *      function part ("uint" -> "uint256", no spaces).
 * Returns CHAIN_OK or CHAIN_ERR_ABI.
 */
CHAIN_WARN_UNUSED int chain_abi_selector(const char *signature, uint8_t selector[4],
                                         char *canonical, size_t canonical_cap);

/*
 * Encodes the arguments of a function call: selector ‖ abi.encode(args).
 * args_json: a JSON array with one element per parameter:
 *   integers as JSON numbers or strings (decimal, "0x" hex, "-" allowed for intN),
 *   address/bytes/bytesN as "0x" hex strings, bool as true/false,
 *   string as a JSON string, arrays and tuples as JSON arrays.
 * Out: appended to *out.
 * Returns CHAIN_OK, CHAIN_ERR_ABI (bad signature, wrong arity, a value that
 * does not fit its type) or CHAIN_ERR_NOMEM.
 */
CHAIN_WARN_UNUSED int chain_abi_encode_call(const char *signature, const char *args_json,
                                            struct vm_buf *out);
/* Same with one text per argument (as typed on a command line): a scalar is
 * its literal (4, 0x.., true, hello), a composite its JSON text. */
CHAIN_WARN_UNUSED int chain_abi_encode_call_argv(const char *signature, const char *const *args,
                                                 size_t n_args, struct vm_buf *out);
/* abi.encode of a type list "(T1,T2,...)" (no selector) from a JSON array. */
CHAIN_WARN_UNUSED int chain_abi_encode(const char *types, const char *args_json,
                                       struct vm_buf *out);
/* abi.encode of a value tree whose shape matches the type list "(T1,...)". */
CHAIN_WARN_UNUSED int chain_abi_encode_value(const char *types, const struct chain_abi_value *v,
                                             struct vm_buf *out);

/*
 * Decodes data as the type list "(T1,...)" — or, given a full signature
 * "f(..)(R1,..)", as its result list.
 * Out: *out, a TUPLE value (free with chain_abi_value_clear).
 * Returns CHAIN_OK, CHAIN_ERR_ABI (malformed data or types) or CHAIN_ERR_NOMEM.
 */
CHAIN_WARN_UNUSED int chain_abi_decode(const char *types, const uint8_t *data, size_t len,
                                       struct chain_abi_value *out);
/* Same, rendered as a JSON array text (malloc'ed, free()): integers whose
 * magnitude is below 2^53 as JSON numbers, larger ones as decimal strings,
 * address with EIP-55 checksum, bytes as "0x" hex. */
CHAIN_WARN_UNUSED int chain_abi_decode_json(const char *types, const uint8_t *data, size_t len,
                                            char **json);

/*
 * Renders revert data as text: Error(string) gives the reason, Panic(uint256)
 * gives "panic 0x..", a custom error gives "custom error 0x<selector>",
 * empty data gives "". Out: out (NUL-terminated, truncated to cap).
 * Returns CHAIN_OK or CHAIN_ERR_ABI (an Error/Panic selector with bad data).
 */
CHAIN_WARN_UNUSED int chain_abi_revert_reason(const uint8_t *data, size_t len, char *out,
                                              size_t cap);

/* ======================================================================
 * EIP-1559 transactions (chain/tx.c)
 * ====================================================================== */
struct chain_tx {
    uint64_t chain_id;
    uint64_t nonce;
    vm_u256 max_priority_fee_per_gas;
    vm_u256 max_fee_per_gas;
    uint64_t gas_limit;
    bool has_to; /* false = contract creation */
    vm_address to;
    vm_u256 value;
    const uint8_t *data;
    size_t data_len;
    /* The access list is always empty. */
};

/* The signing hash: keccak(0x02 ‖ rlp([chainId, nonce, tip, maxFee, gas, to, value, data, []])). */
CHAIN_WARN_UNUSED int chain_tx_sighash(const struct chain_tx *tx, uint8_t hash[32]);
/*
 * Signs tx with key. Out: *raw (appended): 0x02 ‖ rlp([... , yParity, r, s]),
 * ready for eth_sendRawTransaction; hash (may be NULL): keccak(raw), the tx hash.
 * Returns CHAIN_OK, CHAIN_ERR_KEY, CHAIN_ERR_CRYPTO or CHAIN_ERR_NOMEM.
 */
CHAIN_WARN_UNUSED int chain_tx_sign(const struct vm_secp *secp, const struct chain_tx *tx,
                                    const uint8_t key[32], struct vm_buf *raw, uint8_t hash[32]);
/*
 * Decodes a signed type-2 transaction and recovers its sender.
 * Out: *tx (tx->data points into raw), *from. Returns CHAIN_OK or CHAIN_ERR_INVALID.
 */
CHAIN_WARN_UNUSED int chain_tx_decode(const struct vm_secp *secp, const uint8_t *raw, size_t len,
                                      struct chain_tx *tx, vm_address *from);

/* ======================================================================
 * Wallet (chain/wallet.c): one key on one chain.
 * ====================================================================== */
struct chain_wallet; /* opaque: client (borrowed), key copy, next nonce, pending txs */

struct chain_wallet_opts {
    unsigned confirmations;      /* blocks including the receipt's; 0 = 1 */
    long poll_interval_ms;       /* 0 = 500 */
    long wait_timeout_ms;        /* chain_wallet_send: give up after; 0 = 120000 */
    long stuck_after_ms;         /* resubmit with a higher fee after; 0 = 15000 */
    unsigned fee_bump_percent;   /* per resubmission, at least 10 (the txpool rule); 0 = 20 */
    unsigned gas_margin_percent; /* added to eth_estimateGas; 0 = 20 */
    vm_u256 max_fee_cap;         /* never offer more per gas; zero = no cap */
};

/* Creates a wallet. client and secp are borrowed and must outlive it; the key
 * is copied (and wiped on free). Returns CHAIN_OK, CHAIN_ERR_KEY, CHAIN_ERR_NOMEM. */
CHAIN_WARN_UNUSED int chain_wallet_new(struct chain_client *client, const struct vm_secp *secp,
                                       const uint8_t key[32], const struct chain_wallet_opts *opts,
                                       struct chain_wallet **out);
void chain_wallet_free(struct chain_wallet *w);
const vm_address *chain_wallet_address(const struct chain_wallet *w);

/* Current fee suggestion: tip = eth_maxPriorityFeePerGas (or the feeHistory
 * median if the node lacks it), max fee = 2 * next base fee + tip. */
CHAIN_WARN_UNUSED int chain_wallet_fees(struct chain_wallet *w, vm_u256 *tip, vm_u256 *max_fee);

/* A transaction in flight: every signed version (same nonce) that was sent. */
#define CHAIN_PENDING_MAX_VERSIONS 16
struct chain_pending {
    struct chain_tx tx; /* the latest version's fields (data borrowed from the caller) */
    vm_bytes32 hashes[CHAIN_PENDING_MAX_VERSIONS];
    size_t n_hashes;
    int64_t last_sent_ms; /* monotonic clock of the latest (re)submission */
};

/*
 * Signs and broadcasts a transaction (to == NULL: contract creation).
 * gas_limit 0 = eth_estimateGas + margin. The nonce is max(local next nonce,
 * the node's pending count); on "nonce too low" the wallet re-reads it once.
 * Before signing, the chain id is checked (CHAIN_ERR_WRONG_CHAIN).
 * data must stay valid until the transaction is confirmed (resubmission re-signs it).
 * Out: *p. Returns CHAIN_OK or an error. After CHAIN_ERR_TIMEOUT/TRANSPORT from
 * the broadcast itself the node may still have received the transaction; the
 * next submit reads the node's pending count, so no nonce gap can follow.
 */
CHAIN_WARN_UNUSED int chain_wallet_submit(struct chain_wallet *w, const vm_address *to,
                                          vm_u256 value, const uint8_t *data, size_t data_len,
                                          uint64_t gas_limit, struct chain_pending *p);
/*
 * One non-blocking step for a transaction in flight: looks up the receipts
 * of every version; if one is mined with enough confirmations, fills *r and
 * returns CHAIN_OK (or CHAIN_ERR_REVERTED with *r filled); if none is mined
 * and the latest was sent more than stuck_after_ms ago, re-signs it with fees
 * raised by fee_bump_percent and broadcasts it; then returns CHAIN_ERR_NOT_FOUND.
 */
CHAIN_WARN_UNUSED int chain_wallet_poll(struct chain_wallet *w, struct chain_pending *p,
                                        struct chain_receipt *r);
/* submit + poll until confirmed or wait_timeout_ms (CHAIN_ERR_TX_TIMEOUT). */
CHAIN_WARN_UNUSED int chain_wallet_send(struct chain_wallet *w, const vm_address *to, vm_u256 value,
                                        const uint8_t *data, size_t data_len, uint64_t gas_limit,
                                        struct chain_receipt *r);

/* ======================================================================
 * Adjudicator events (chain/events.c), exactly as docs/contracts.md declares them.
 * ====================================================================== */
enum chain_event_kind {
    CHAIN_EV_OPENED = 1,
    CHAIN_EV_DEPOSITED,
    CHAIN_EV_CHALLENGED,
    CHAIN_EV_CONCLUDED,
    CHAIN_EV_SETTLED,
    CHAIN_EV_RECLAIMED, /* the unfunded channel's deposit went back to players[0] */
    CHAIN_EV_CREDITED,  /* a payout transfer failed; channel_id is zero (not in the event) */
    CHAIN_EV_WITHDRAWN, /* a credited recipient took its credit; channel_id is zero */
};

struct chain_event {
    enum chain_event_kind kind;
    vm_bytes32 channel_id;
    uint64_t block_number;
    vm_bytes32 block_hash;
    vm_bytes32 tx_hash;
    uint64_t log_index;
    union {
        struct {
            vm_address app;
            vm_bytes32 code_hash;
            vm_address players[2];
            vm_u256 deposits[2];
            uint8_t *init_args; /* malloc'ed; freed by chain_event_clear */
            size_t init_args_len;
            uint64_t challenge_period;
            vm_bytes32 salt;
        } opened;
        struct {
            vm_address player;
            vm_u256 amount;
            vm_u256 total;
        } deposited;
        struct {
            uint64_t nonce;
            uint64_t deadline;
        } challenged;
        struct {
            uint64_t nonce;
        } concluded, settled;
        struct {
            vm_u256 amount;
        } reclaimed;
        struct {
            vm_address recipient;
            vm_u256 amount;
        } credited, withdrawn;
    } u;
};
/* The topic0 of an event kind. */
void chain_event_topic(enum chain_event_kind kind, vm_bytes32 *topic);
/* Decodes one log. Returns CHAIN_OK, CHAIN_ERR_EVENT (not one of ours or
 * malformed) or CHAIN_ERR_NOMEM. Free with chain_event_clear. */
CHAIN_WARN_UNUSED int chain_event_decode(const struct chain_log *log, struct chain_event *ev);
void chain_event_clear(struct chain_event *ev);

/* ======================================================================
 * Log watcher (chain/watch.c)
 * ====================================================================== */
/* Where a watcher stands; the caller persists it (e.g. in store/) after it
 * has processed the logs of a poll. next = first block not yet read;
 * hash = the hash of block next-1 as it was read (zero if next == start). */
struct chain_cursor {
    uint64_t next;
    vm_bytes32 hash;
};

struct chain_watch_opts {
    unsigned confirmations; /* only read blocks with this many confirmations; 0 = head */
    uint64_t max_range;     /* blocks per eth_getLogs; 0 = 1000 */
    uint64_t reorg_rewind;  /* blocks to re-read after a reorg; 0 = 64 */
};

/*
 * Reads the logs matching f from cursor->next up to the head (minus
 * confirmations, at most max_range blocks).
 * If the block at cursor->next - 1 no longer has cursor->hash (a reorg), the
 * cursor is moved back by reorg_rewind blocks and *reorged is set: the logs
 * returned then repeat some the caller has seen, so the caller's handling
 * must be idempotent (and it should drop what it derived from removed blocks).
 * In:  *cursor. Out: *logs (appended), *cursor advanced (persist it after
 *      handling the logs), *reorged (may be NULL).
 * Returns CHAIN_OK (possibly with no logs) or a transport error; on error the
 * cursor is unchanged.
 */
CHAIN_WARN_UNUSED int chain_watch_poll(struct chain_client *c, const struct chain_log_filter *f,
                                       const struct chain_watch_opts *opts,
                                       struct chain_cursor *cursor, struct chain_logs *logs,
                                       bool *reorged);

#endif /* BP_CHAIN_H */
