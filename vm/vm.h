/*
 * vm.h — breakpoint's Ethereum execution core: the one public header of vm/.
 *
 * 256-bit words, keccak-256, hex, RLP, secp256k1 Ethereum signatures, EIP-712,
 * Merkle Patricia trie roots, and the Cancun EVM behind a host interface.
 * vm/ includes nothing of the other parts of breakpoint, so it stays a reusable
 * library (like evmone behind EVMC). Everything not declared here is private.
 *
 * Conventions: functions that can fail return an int (0 = VM_OK, negative =
 * enum vm_error) and are marked VM_WARN_UNUSED; results go through out-params;
 * the caller owns what it passes in and what *_new returns (freed by *_free).
 */
#ifndef BP_VM_H
#define BP_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define VM_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define VM_WARN_UNUSED
#endif

/* ======================================================================
 * Errors
 * ====================================================================== */
enum vm_error {
    VM_OK = 0,
    VM_ERR_INVALID = -1,      /* malformed input */
    VM_ERR_TRUNCATED = -2,    /* input ends early */
    VM_ERR_NONCANONICAL = -3, /* valid but not the canonical encoding */
    VM_ERR_NOMEM = -4,
    VM_ERR_SIGNATURE = -5,   /* bad signature (high s, bad v, not on curve) */
    VM_ERR_RANGE = -6,       /* value does not fit / out of range */
    VM_ERR_UNSUPPORTED = -7, /* a feature this build does not provide */
    VM_ERR_KEY = -8,         /* invalid private key */
};

/* Returns a static, human-readable text for an enum vm_error value. */
const char *vm_strerror(int err);

/* ======================================================================
 * Plain data
 * ====================================================================== */
typedef struct {
    uint8_t b[20];
} vm_address;

typedef struct {
    uint8_t b[32];
} vm_bytes32;

/* A 256-bit unsigned word; w[0] is the least significant 64 bits. */
typedef struct {
    uint64_t w[4];
} vm_u256;

/* A growable byte buffer. Zero-initialise it; free with vm_buf_free. */
struct vm_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
};
VM_WARN_UNUSED int vm_buf_reserve(struct vm_buf *buf, size_t extra);
VM_WARN_UNUSED int vm_buf_append(struct vm_buf *buf, const void *data, size_t len);
void vm_buf_free(struct vm_buf *buf);

/* ======================================================================
 * Hex
 * ====================================================================== */
/*
 * Decodes hex text (optional "0x"/"0X" prefix, even length, either case).
 * In:  hex (NUL-terminated), cap = size of out.
 * Out: out, *out_len = bytes written.
 * Returns VM_OK, VM_ERR_INVALID (odd length or a non-hex digit) or
 * VM_ERR_RANGE (more than cap bytes).
 */
VM_WARN_UNUSED int vm_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *out_len);
/* Same, for a text of known length that need not be NUL-terminated. */
VM_WARN_UNUSED int vm_hex_decode_n(const char *hex, size_t hex_len, uint8_t *out, size_t cap,
                                   size_t *out_len);
/* Writes "0x" + 2*len lowercase hex digits + NUL to out (size >= 2*len+3). */
void vm_hex_encode(const uint8_t *data, size_t len, char *out);

/* ======================================================================
 * keccak-256 (Ethereum's padding over nettle's keccak-f[1600])
 * ====================================================================== */
struct vm_keccak {
    uint64_t state[25];
    size_t pos; /* bytes absorbed into the current block */
};
void vm_keccak_init(struct vm_keccak *k);
void vm_keccak_update(struct vm_keccak *k, const uint8_t *data, size_t len);
void vm_keccak_final(struct vm_keccak *k, uint8_t out[32]);
void vm_keccak256(const uint8_t *data, size_t len, uint8_t out[32]);

/* ======================================================================
 * 256-bit words (vm/u256.c). Pure, allocation-free, total functions:
 * division by zero yields 0 as the EVM defines it.
 * ====================================================================== */
vm_u256 vm_u256_from_u64(uint64_t v);
/* Big-endian bytes (len <= 32; shorter input is left-padded with zeros). */
vm_u256 vm_u256_from_be(const uint8_t *b, size_t len);
void vm_u256_to_be(vm_u256 v, uint8_t out[32]);
bool vm_u256_is_zero(vm_u256 a);
bool vm_u256_eq(vm_u256 a, vm_u256 b);
int vm_u256_cmp(vm_u256 a, vm_u256 b);  /* unsigned: -1, 0, 1 */
int vm_u256_scmp(vm_u256 a, vm_u256 b); /* two's complement signed */
bool vm_u256_fits_u64(vm_u256 a);
vm_u256 vm_u256_add(vm_u256 a, vm_u256 b);
vm_u256 vm_u256_sub(vm_u256 a, vm_u256 b);
vm_u256 vm_u256_mul(vm_u256 a, vm_u256 b);
vm_u256 vm_u256_div(vm_u256 a, vm_u256 b);
vm_u256 vm_u256_mod(vm_u256 a, vm_u256 b);
vm_u256 vm_u256_sdiv(vm_u256 a, vm_u256 b);
vm_u256 vm_u256_smod(vm_u256 a, vm_u256 b);
vm_u256 vm_u256_addmod(vm_u256 a, vm_u256 b, vm_u256 m);
vm_u256 vm_u256_mulmod(vm_u256 a, vm_u256 b, vm_u256 m);
vm_u256 vm_u256_exp(vm_u256 base, vm_u256 exponent);
vm_u256 vm_u256_signextend(vm_u256 byte_index, vm_u256 x);
vm_u256 vm_u256_and(vm_u256 a, vm_u256 b);
vm_u256 vm_u256_or(vm_u256 a, vm_u256 b);
vm_u256 vm_u256_xor(vm_u256 a, vm_u256 b);
vm_u256 vm_u256_not(vm_u256 a);
vm_u256 vm_u256_shl(vm_u256 shift, vm_u256 x);
vm_u256 vm_u256_shr(vm_u256 shift, vm_u256 x);
vm_u256 vm_u256_sar(vm_u256 shift, vm_u256 x);
vm_u256 vm_u256_byte(vm_u256 index, vm_u256 x);
/* Number of significant bytes (0 for zero); EXP gas uses it. */
unsigned vm_u256_byte_length(vm_u256 a);
/* Decimal text: writes at most 78 digits + NUL to out (size >= 79). */
void vm_u256_to_dec(vm_u256 a, char *out);
/* Parses decimal digits, or hex with a 0x prefix. VM_ERR_INVALID / VM_ERR_RANGE. */
VM_WARN_UNUSED int vm_u256_parse(const char *text, vm_u256 *out);

/* ======================================================================
 * RLP (vm/rlp.c)
 * ====================================================================== */
/* Encoding appends to a vm_buf. A list is opened with vm_rlp_list_begin,
 * which returns a mark, and closed with vm_rlp_list_end(mark). */
VM_WARN_UNUSED int vm_rlp_put_bytes(struct vm_buf *out, const uint8_t *data, size_t len);
VM_WARN_UNUSED int vm_rlp_put_u64(struct vm_buf *out, uint64_t v);
VM_WARN_UNUSED int vm_rlp_put_u256(struct vm_buf *out, vm_u256 v); /* minimal big-endian */
VM_WARN_UNUSED int vm_rlp_list_begin(struct vm_buf *out, size_t *mark);
VM_WARN_UNUSED int vm_rlp_list_end(struct vm_buf *out, size_t mark);

struct vm_rlp_item {
    const uint8_t *payload; /* points into the input */
    size_t len;             /* payload length */
    bool is_list;
};
/*
 * Decodes one item at the start of in[0..len).
 * Out: *item, *consumed = header + payload bytes.
 * Returns VM_OK, VM_ERR_TRUNCATED (the item claims more bytes than there are)
 * or VM_ERR_NONCANONICAL (a single byte < 0x80 wrapped in a string header,
 * a long form for a short payload, a length with leading zeros).
 * Never reads outside in[0..len).
 */
VM_WARN_UNUSED int vm_rlp_decode(const uint8_t *in, size_t len, struct vm_rlp_item *item,
                                 size_t *consumed);
/* Iterates the items of a list payload: *pos starts at 0; returns VM_OK with
 * an item, 1 at the end, or a negative error. */
VM_WARN_UNUSED int vm_rlp_next(const struct vm_rlp_item *list, size_t *pos,
                               struct vm_rlp_item *item);
/* A string item as an integer: no leading zeros, at most 32 / 8 bytes. */
VM_WARN_UNUSED int vm_rlp_to_u256(const struct vm_rlp_item *item, vm_u256 *out);
VM_WARN_UNUSED int vm_rlp_to_u64(const struct vm_rlp_item *item, uint64_t *out);

/* ======================================================================
 * secp256k1 Ethereum signatures (vm/secp.c, over libsecp256k1)
 * ====================================================================== */
struct vm_secp; /* opaque: a libsecp256k1 context, randomised at creation */
VM_WARN_UNUSED int vm_secp_new(struct vm_secp **out);
void vm_secp_free(struct vm_secp *ctx);

/* Signs a 32-byte hash: sig = r || s || v with v in {27, 28} and low s
 * (RFC 6979 nonces). Returns VM_OK or VM_ERR_KEY. */
VM_WARN_UNUSED int vm_sign(const struct vm_secp *ctx, const uint8_t key[32],
                           const uint8_t hash[32], uint8_t sig[65]);
/* Recovers the signer of an Ethereum signature (r||s||v, v 27/28).
 * Returns VM_OK or VM_ERR_SIGNATURE (high s, bad v, r/s out of range,
 * no such point). */
VM_WARN_UNUSED int vm_recover(const struct vm_secp *ctx, const uint8_t hash[32],
                              const uint8_t sig[65], vm_address *signer);
/* The ecrecover precompile's rule: any 0 < r,s < n, recid 0/1 (v - 27).
 * Returns VM_OK or VM_ERR_SIGNATURE. */
VM_WARN_UNUSED int vm_ecrecover(const struct vm_secp *ctx, const uint8_t hash[32],
                                const uint8_t r[32], const uint8_t s[32], int recid,
                                vm_address *signer);
/* The address of a private key. Returns VM_OK or VM_ERR_KEY. */
VM_WARN_UNUSED int vm_key_address(const struct vm_secp *ctx, const uint8_t key[32],
                                  vm_address *addr);

/* ======================================================================
 * Addresses
 * ====================================================================== */
/* keccak(pubkey64)[12..32]. */
void vm_address_from_pubkey(const uint8_t pubkey64[64], vm_address *addr);
/* EIP-55 mixed-case hex with 0x: out has room for 43 bytes. */
void vm_address_to_checksum(const vm_address *addr, char out[43]);
/* Parses 40 hex digits (optional 0x). If the text is mixed case it must be a
 * valid EIP-55 checksum. VM_ERR_INVALID otherwise. */
VM_WARN_UNUSED int vm_address_parse(const char *text, vm_address *addr);
/* keccak(rlp([sender, nonce]))[12..] and keccak(0xff ++ sender ++ salt ++ keccak(init))[12..]. */
void vm_create_address(const vm_address *sender, uint64_t nonce, vm_address *out);
void vm_create2_address(const vm_address *sender, const vm_bytes32 *salt,
                        const uint8_t init_code_hash[32], vm_address *out);

/* ======================================================================
 * EIP-712 and the Breakpoint (DESIGN.md §3)
 * ====================================================================== */
#define VM_BP_PLAYERS 2

struct vm_breakpoint {
    vm_bytes32 channel_id;
    uint64_t nonce;
    vm_bytes32 state_root;
    vm_bytes32 move_hash;
    vm_u256 payouts[VM_BP_PLAYERS];
    bool is_final;
};

/* keccak(typeHash(EIP712Domain) ‖ keccak(name) ‖ keccak(version) ‖ chainId ‖ verifyingContract). */
void vm_eip712_domain(const char *name, const char *version, vm_u256 chain_id,
                      const vm_address *verifying_contract, uint8_t out[32]);
/* keccak(0x19 0x01 ‖ domain ‖ struct_hash). */
void vm_eip712_digest(const uint8_t domain[32], const uint8_t struct_hash[32], uint8_t out[32]);
/* The Breakpoint domain: name "breakpoint", version "1". */
void vm_breakpoint_domain(vm_u256 chain_id, const vm_address *adjudicator, uint8_t out[32]);
void vm_breakpoint_struct_hash(const struct vm_breakpoint *bp, uint8_t out[32]);
/* digest = eip712_digest(breakpoint_domain, struct_hash(bp)). */
void vm_breakpoint_digest(const struct vm_breakpoint *bp, vm_u256 chain_id,
                          const vm_address *adjudicator, uint8_t out[32]);

/* ======================================================================
 * Merkle Patricia trie (vm/mpt.c)
 * ====================================================================== */
struct vm_mpt_entry {
    const uint8_t *key; /* the trie path (already hashed for secure tries) */
    size_t key_len;
    const uint8_t *value; /* the stored value (already RLP where the trie says so) */
    size_t value_len;     /* entries with value_len == 0 are absent */
};
/* Root hash of the trie holding the entries (in any order; keys distinct).
 * Returns VM_OK or VM_ERR_NOMEM. The empty trie's root is keccak(0x80). */
VM_WARN_UNUSED int vm_mpt_root(const struct vm_mpt_entry *entries, size_t n, uint8_t root[32]);

struct vm_storage_slot {
    vm_u256 key;
    vm_u256 value;
};
/* The storage root as eth_getProof's storageHash: keccak(key) -> rlp(value),
 * zero values absent. */
VM_WARN_UNUSED int vm_storage_root(const struct vm_storage_slot *slots, size_t n,
                                   uint8_t root[32]);

/* ======================================================================
 * The EVM (Cancun): host interface and execution
 *
 * The interpreter never owns world state: it reads and writes it through a
 * struct vm_host. Calls and creates are run by an explicit frame stack in
 * struct vm_evm, never by C recursion per call level, so depth 1024 cannot
 * overflow the C stack. Call/create semantics (value transfer, precompiles,
 * address derivation, code deposit, snapshots) live in vm/ and are generic
 * over the host; the host only stores state.
 * ====================================================================== */
enum vm_status {
    VM_SUCCESS = 0,
    VM_REVERT,
    VM_OUT_OF_GAS,
    VM_INVALID_INSTRUCTION,   /* 0xFE */
    VM_UNDEFINED_INSTRUCTION, /* an opcode Cancun does not define */
    VM_STACK_OVERFLOW,
    VM_STACK_UNDERFLOW,
    VM_BAD_JUMP_DESTINATION,
    VM_INVALID_MEMORY_ACCESS, /* RETURNDATACOPY out of bounds */
    VM_CALL_DEPTH_EXCEEDED,
    VM_STATIC_MODE_VIOLATION,
    VM_PRECOMPILE_FAILURE,
    VM_CONTRACT_VALIDATION_FAILURE, /* code starting with 0xEF, code too large */
    VM_INSUFFICIENT_BALANCE,
    VM_NONCE_OVERFLOW,
    VM_ADDRESS_COLLISION,
    VM_UNSUPPORTED, /* e.g. the KZG point evaluation precompile */
    VM_INTERNAL_ERROR,
};
const char *vm_status_name(enum vm_status s);

enum vm_call_kind {
    VM_CALL = 0,
    VM_DELEGATECALL,
    VM_CALLCODE,
    VM_CREATE,
    VM_CREATE2,
};

struct vm_message {
    enum vm_call_kind kind;
    bool is_static;
    int32_t depth;
    int64_t gas;
    vm_address recipient; /* the account whose storage is used; for a CREATE at
                             depth 0 the new address, already computed by the caller */
    vm_address sender;
    vm_address code_address; /* whose code runs (differs for DELEGATECALL/CALLCODE) */
    const uint8_t *input;    /* calldata, or init code for CREATE/CREATE2 */
    size_t input_size;
    vm_u256 value;
    vm_bytes32 create2_salt;
};

struct vm_result {
    enum vm_status status;
    int64_t gas_left;
    int64_t gas_refund;    /* accumulated SSTORE refund (may be negative in a frame) */
    uint8_t *output;       /* malloc'ed, freed by vm_result_free */
    size_t output_size;
    vm_address create_address; /* for CREATE/CREATE2 on success */
};
void vm_result_free(struct vm_result *r);

struct vm_tx_context {
    vm_address origin;
    vm_u256 gas_price; /* effective gas price */
    vm_address coinbase;
    int64_t number;
    int64_t timestamp;
    int64_t gas_limit;
    vm_u256 prevrandao;
    vm_u256 chain_id;
    vm_u256 base_fee;
    vm_u256 blob_base_fee;
    const vm_bytes32 *blob_hashes;
    size_t blob_hashes_count;
};

/* The state a host stores. Every mutation is journaled by the host so that
 * revert(snapshot) undoes it, warm/cold marks included. */
struct vm_host_ops {
    /* Account existence as EIP-161 sees it (an account that is present,
     * empty or not). */
    bool (*account_exists)(void *ctx, const vm_address *addr);
    /* present and nonce == 0 && balance == 0 && code empty */
    bool (*account_is_empty)(void *ctx, const vm_address *addr);
    vm_u256 (*get_balance)(void *ctx, const vm_address *addr);
    /* Moves value; creates `to` if absent; touches both (EIP-161).
     * Returns false (and changes nothing) if `from` has less than value. */
    bool (*transfer)(void *ctx, const vm_address *from, const vm_address *to, vm_u256 value);
    uint64_t (*get_nonce)(void *ctx, const vm_address *addr);
    void (*set_nonce)(void *ctx, const vm_address *addr, uint64_t nonce);
    /* Code of addr (empty if absent); *code stays valid until the next
     * mutation of that account's code. hash: keccak of the code, or zero for
     * an absent account (EXTCODEHASH). */
    size_t (*get_code)(void *ctx, const vm_address *addr, const uint8_t **code);
    vm_bytes32 (*get_code_hash)(void *ctx, const vm_address *addr);
    /* Returns VM_OK or VM_ERR_NOMEM. */
    int (*set_code)(void *ctx, const vm_address *addr, const uint8_t *code, size_t len);
    vm_u256 (*get_storage)(void *ctx, const vm_address *addr, vm_u256 key);
    /* The value at the start of the transaction (EIP-2200 "original"). */
    vm_u256 (*get_committed_storage)(void *ctx, const vm_address *addr, vm_u256 key);
    int (*set_storage)(void *ctx, const vm_address *addr, vm_u256 key, vm_u256 value);
    vm_u256 (*get_transient)(void *ctx, const vm_address *addr, vm_u256 key);
    int (*set_transient)(void *ctx, const vm_address *addr, vm_u256 key, vm_u256 value);
    /* Mark warm; return true if it already was (EIP-2929). */
    bool (*access_account)(void *ctx, const vm_address *addr);
    bool (*access_storage)(void *ctx, const vm_address *addr, vm_u256 key);
    int (*emit_log)(void *ctx, const vm_address *addr, const vm_bytes32 *topics,
                    size_t n_topics, const uint8_t *data, size_t data_len);
    /* Makes a fresh contract account for CREATE/CREATE2 at addr: keeps its
     * balance, clears storage, nonce 1, marks it created in this transaction
     * (EIP-6780). Returns VM_OK or VM_ERR_NOMEM. */
    int (*create_account)(void *ctx, const vm_address *addr);
    /* SELFDESTRUCT (EIP-6780): moves the whole balance to beneficiary (burnt if
     * it is addr itself and the account is destroyed); the account is deleted at
     * the end of the transaction only if it was created in this transaction. */
    int (*selfdestruct)(void *ctx, const vm_address *addr, const vm_address *beneficiary);
    /* EIP-161 touch without a transfer (e.g. a precompile call). */
    void (*touch)(void *ctx, const vm_address *addr);
    size_t (*snapshot)(void *ctx);
    void (*revert)(void *ctx, size_t snapshot);
    /* BLOCKHASH of a block within the last 256; zero otherwise. */
    vm_bytes32 (*get_block_hash)(void *ctx, int64_t number);
    /* Optional (may be NULL = "no"): true if addr has any non-zero storage
     * slot. CREATE/CREATE2 treat such an address as a collision (EIP-7610,
     * which the state tests apply to every fork). */
    bool (*has_storage)(void *ctx, const vm_address *addr);
};

struct vm_host {
    const struct vm_host_ops *ops;
    void *ctx;
};

struct vm_evm; /* opaque: frame stack, code-analysis cache, scratch memory */
VM_WARN_UNUSED int vm_evm_new(struct vm_evm **out);
void vm_evm_free(struct vm_evm *evm);

/*
 * Runs one message (a call, or a create) to completion, with all nested
 * calls, against host. For a message at depth 0 the caller has already
 * checked the sender's balance and, for a create, bumped the sender's nonce
 * and put the new address in msg->recipient.
 * Out: *result (free with vm_result_free). If any frame ran a precompile
 * this build does not provide (0x0a), the whole run is reverted and
 * result->status is VM_UNSUPPORTED with gas_left 0.
 * Returns VM_OK, or VM_ERR_NOMEM if the run could not be completed (then the
 * host has been reverted).
 */
VM_WARN_UNUSED int vm_evm_execute(struct vm_evm *evm, const struct vm_host *host,
                                  const struct vm_tx_context *tx, const struct vm_message *msg,
                                  struct vm_result *result);

/* ======================================================================
 * Precompiles (vm/precompile_*.c), Cancun: 0x01..0x0a
 * ====================================================================== */
/* True for addresses 0x01..0x0a. */
bool vm_is_precompile(const vm_address *addr);
/*
 * Runs a precompile. gas: what the caller forwards.
 * Out: *result with status VM_SUCCESS (gas_left = gas - cost, output),
 * VM_OUT_OF_GAS / VM_PRECOMPILE_FAILURE (gas_left 0), or VM_UNSUPPORTED.
 * Returns VM_OK, or VM_ERR_NOMEM.
 */
VM_WARN_UNUSED int vm_precompile_run(const struct vm_secp *secp, const vm_address *addr,
                                     const uint8_t *input, size_t len, int64_t gas,
                                     struct vm_result *result);

/* ======================================================================
 * In-memory world and transactions (vm/world.c, vm/transaction.c)
 *
 * struct vm_world is one implementation of struct vm_host: accounts (nonce,
 * balance, code, storage), transient storage, warm/cold sets, logs, and a
 * journal so that the host's revert(snapshot) undoes any of it. It also
 * applies whole transactions as the Ethereum state tests define them, and
 * computes the state root and the storage roots that players sign
 * (DESIGN.md §3).
 *
 * Its host semantics (geth's): transfer() creates the recipient and touches
 * both sides even for a zero value; touch() of an absent account leaves no
 * trace; get_code_hash() is zero for an absent or empty account; every
 * modified account counts as touched (EIP-161), and a touch of 0x03 survives
 * a revert (geth's RIPEMD-160 quirk); has_storage() answers EIP-7610.
 * ====================================================================== */
struct vm_world; /* opaque */
VM_WARN_UNUSED int vm_world_new(struct vm_world **out);
void vm_world_free(struct vm_world *w);
/* The host interface over w (valid while w lives). */
struct vm_host vm_world_host(struct vm_world *w);

/* Creates the account if absent (it then exists, even if empty) and sets its
 * nonce, balance and code; its storage is kept. Not journaled: for building
 * a state outside a transaction. Returns VM_OK or VM_ERR_NOMEM. */
VM_WARN_UNUSED int vm_world_set_account(struct vm_world *w, const vm_address *addr,
                                        uint64_t nonce, vm_u256 balance, const uint8_t *code,
                                        size_t code_len);
/* Sets a slot as committed state (its EIP-2200 original value too); the
 * account is created if absent. Not journaled. VM_OK or VM_ERR_NOMEM. */
VM_WARN_UNUSED int vm_world_set_storage(struct vm_world *w, const vm_address *addr, vm_u256 key,
                                        vm_u256 value);
bool vm_world_account_exists(const struct vm_world *w, const vm_address *addr);
/* Zero / empty for an absent account. *code stays valid until the account's
 * code changes. */
uint64_t vm_world_nonce(const struct vm_world *w, const vm_address *addr);
vm_u256 vm_world_balance(const struct vm_world *w, const vm_address *addr);
size_t vm_world_code(const struct vm_world *w, const vm_address *addr, const uint8_t **code);
vm_u256 vm_world_storage(const struct vm_world *w, const vm_address *addr, vm_u256 key);
/* Calls visit(arg, key, value) for each non-zero slot of addr, in no
 * particular order, and stops at the first non-zero return, which it
 * returns. Returns VM_OK after the last slot. */
VM_WARN_UNUSED int vm_world_storage_foreach(const struct vm_world *w, const vm_address *addr,
                                            int (*visit)(void *arg, vm_u256 key, vm_u256 value),
                                            void *arg);
/* The storage root of addr (eth_getProof's storageHash; keccak(0x80) for an
 * absent account or empty storage). Returns VM_OK or VM_ERR_NOMEM. */
VM_WARN_UNUSED int vm_world_storage_root(const struct vm_world *w, const vm_address *addr,
                                         uint8_t root[32]);
/* The state root: keccak(address) -> rlp([nonce, balance, storageRoot,
 * codeHash]) over the existing accounts. Returns VM_OK or VM_ERR_NOMEM. */
VM_WARN_UNUSED int vm_world_state_root(const struct vm_world *w, uint8_t root[32]);
/* Where BLOCKHASH comes from: fn(arg, number) for a number the interpreter
 * asks for; without it every block hash is zero. */
void vm_world_set_block_hashes(struct vm_world *w, vm_bytes32 (*fn)(void *arg, int64_t number),
                               void *arg);

/* Transaction boundaries, for callers that run vm_evm_execute themselves
 * (vm_transaction_apply calls both). begin: clears logs, warm sets,
 * transient storage and the journal. end: deletes the accounts selfdestructed
 * after being created in this transaction (EIP-6780) and the touched empty
 * ones (EIP-161), and commits storage (the current values become the
 * originals); logs stay readable until the next begin. */
void vm_world_begin_tx(struct vm_world *w);
void vm_world_end_tx(struct vm_world *w);

struct vm_log {
    vm_address address;
    vm_bytes32 topics[4];
    size_t n_topics;
    const uint8_t *data; /* owned by the world */
    size_t data_len;
};
/* The logs of the current (or last) transaction, in emission order. */
size_t vm_world_log_count(const struct vm_world *w);
const struct vm_log *vm_world_log(const struct vm_world *w, size_t i);
/* keccak(rlp([[address, [topics...], data], ...])) over those logs, as the
 * state tests' "logs" field. Returns VM_OK or VM_ERR_NOMEM. */
VM_WARN_UNUSED int vm_world_logs_hash(const struct vm_world *w, uint8_t out[32]);

/* Why a transaction is invalid (it then changes nothing at all). */
enum vm_tx_invalid {
    VM_TX_VALID = 0,
    VM_TX_TYPE_UNSUPPORTED,
    VM_TX_NONCE_MISMATCH,
    VM_TX_NONCE_MAX,            /* EIP-2681 */
    VM_TX_SENDER_NOT_EOA,       /* EIP-3607 */
    VM_TX_GAS_ALLOWANCE,        /* gas limit above the block's */
    VM_TX_FEE_CAP_BELOW_BASE,   /* max fee (or gas price) < base fee */
    VM_TX_PRIORITY_ABOVE_MAX,   /* max priority fee > max fee */
    VM_TX_INTRINSIC_GAS,        /* gas limit below the intrinsic gas */
    VM_TX_INITCODE_SIZE,        /* EIP-3860 */
    VM_TX_INSUFFICIENT_FUNDS,   /* incl. gasLimit * price overflowing 256 bits */
    VM_TX_BLOB_CREATE,          /* EIP-4844: a blob tx must have a recipient */
    VM_TX_BLOB_NONE,
    VM_TX_BLOB_TOO_MANY,
    VM_TX_BLOB_VERSION,         /* a versioned hash not starting with 0x01 */
    VM_TX_BLOB_FEE_BELOW_BASE,  /* max fee per blob gas < blob base fee */
};
const char *vm_tx_invalid_name(int reason);

struct vm_access_entry {
    vm_address address;
    const vm_bytes32 *keys;
    size_t n_keys;
};

struct vm_transaction {
    uint8_t type;             /* 0 legacy, 1 EIP-2930, 2 EIP-1559, 3 EIP-4844 */
    uint64_t nonce;
    uint64_t gas_limit;
    vm_u256 gas_price;        /* types 0 and 1 */
    vm_u256 max_fee;          /* types 2 and 3 */
    vm_u256 max_priority_fee; /* types 2 and 3 */
    vm_address sender;        /* already recovered */
    bool is_create;
    vm_address to;            /* unless is_create */
    vm_u256 value;
    const uint8_t *data;
    size_t data_len;
    const struct vm_access_entry *access_list;
    size_t access_list_len;
    const vm_bytes32 *blob_hashes; /* type 3 */
    size_t blob_hashes_count;
    vm_u256 max_fee_per_blob_gas;
};

struct vm_block_env {
    vm_address coinbase;
    int64_t number;
    int64_t timestamp;
    int64_t gas_limit;
    vm_u256 prevrandao;
    vm_u256 chain_id;
    vm_u256 base_fee;
    uint64_t excess_blob_gas;
};

struct vm_tx_outcome {
    enum vm_tx_invalid invalid; /* VM_TX_VALID unless rejected */
    enum vm_status status;      /* of the top-level call or create */
    uint64_t gas_used;          /* after the refund */
    uint8_t *output;            /* malloc'ed; vm_tx_outcome_free */
    size_t output_size;
    vm_address create_address;  /* for a create */
};
void vm_tx_outcome_free(struct vm_tx_outcome *o);

/* Intrinsic gas (21000, +32000 and EIP-3860 word cost for a create, EIP-2028
 * calldata, EIP-2930 access list); saturates at UINT64_MAX. */
uint64_t vm_intrinsic_gas(const struct vm_transaction *tx);
/* EIP-4844 blob base fee for a block's excess blob gas. */
vm_u256 vm_blob_base_fee(uint64_t excess_blob_gas);

/*
 * Applies one transaction to w as the state tests define it (Cancun):
 * validates it, buys gas, bumps the nonce, warms sender, recipient,
 * precompiles, coinbase and the access list, runs it, refunds (capped at
 * gasUsed/5), pays the coinbase the priority fee, burns the base and blob
 * fees, and ends the transaction (vm_world_end_tx). An invalid transaction
 * leaves w unchanged and sets out->invalid.
 * Out: *out (free with vm_tx_outcome_free).
 * Returns VM_OK (valid or not), or VM_ERR_NOMEM (w is then unspecified).
 */
VM_WARN_UNUSED int vm_transaction_apply(struct vm_evm *evm, struct vm_world *w,
                                        const struct vm_block_env *env,
                                        const struct vm_transaction *tx,
                                        struct vm_tx_outcome *out);

#endif /* BP_VM_H */
