/*
 * store.h — breakpoint's persistence (DESIGN.md §6): the one public header of store/.
 *
 * One LMDB environment per datadir holds the channels, their breakpoints, the
 * private storage of each channel's latest breakpoint, this node's own
 * signatures, the chain cursor of the log watcher, and a little metadata.
 * Every record is a msgpack array decoded with strict bounds: a damaged record
 * makes a call fail with STORE_ERR_CORRUPT, never crash.
 *
 * The safety invariant of DESIGN.md §2 — this node never signs two different
 * breakpoints with the same channel id and nonce — is enforced here: every own
 * signature is recorded with the digest it signs (store_sign_breakpoint), a
 * second, different digest at the same (channel, nonce) is refused with
 * STORE_ERR_CONFLICT, and the record is durable (fsync'ed by LMDB's commit)
 * before the call that commits it returns. Send a signature only after that.
 *
 * Transactions. Every function takes `struct store_txn *txn`:
 *  - NULL: the call runs in its own transaction; a write is durably committed
 *    before the call returns (a full map is grown and the write retried).
 *  - a transaction from store_txn_begin: the call reads and writes inside it;
 *    nothing is durable until store_txn_commit returns 0. This is the group
 *    commit: batch many channels' moves into one fsync. Invariant checks still
 *    see every earlier write of the same transaction.
 * A refused call inside a transaction (CONFLICT, STALE, FINAL, INVALID,
 * NOTFOUND, CORRUPT) writes nothing, so the caller may go on with the
 * transaction. After STORE_ERR_IO, STORE_ERR_NOMEM or STORE_ERR_FULL the
 * transaction may be spoilt: then every further call in it and
 * store_txn_commit fail with that error (commit still frees it).
 *
 * On failure, out-parameters are unspecified (a get may have written part
 * of *out); out_sig of store_sign_breakpoint is written only on success.
 *
 * Only one explicit transaction may be open per store; while it is, writing
 * calls with txn NULL and store_txn_begin fail with STORE_ERR_INVALID
 * (LMDB has one writer: they would wait for the caller itself). Reads with
 * txn NULL see only committed data.
 *
 * Threads: a struct store may be used by one thread at a time (callers
 * serialise).
 */
#ifndef BP_STORE_STORE_H
#define BP_STORE_STORE_H

#include "vm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define STORE_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define STORE_WARN_UNUSED
#endif

enum store_error {
    STORE_OK = 0,
    STORE_ERR_NOTFOUND = -1, /* no such record */
    STORE_ERR_CONFLICT = -2, /* a different breakpoint/record already holds this place */
    STORE_ERR_STALE = -3,    /* nonce not above the latest fully signed one */
    STORE_ERR_FINAL = -4,    /* the channel already has a final breakpoint */
    STORE_ERR_CORRUPT = -5,  /* a stored record fails to decode */
    STORE_ERR_INVALID = -6,  /* bad argument (length over a bound, bad index, ...) */
    STORE_ERR_IO = -7,       /* LMDB or the file system failed */
    STORE_ERR_NOMEM = -8,
    STORE_ERR_FULL = -9,     /* the map was full: it has been grown, redo the transaction */
    STORE_ERR_VERSION = -10, /* the datadir has an unknown schema version */
    STORE_ERR_LOCKED = -11,  /* another process has this store open */
};

/* A static, human-readable text for an enum store_error value. */
const char *store_strerror(int err);

/* ======================================================================
 * Bounds
 * ====================================================================== */
#define STORE_MAX_INIT_ARGS 4096
#define STORE_MAX_URL 256         /* peer URL, NUL included */
#define STORE_MAX_CALLDATA 16384  /* same bound as p2p's PROPOSE */
#define STORE_MAX_TXS 4           /* pending on-chain transactions per channel */
#define STORE_MAX_RAW_TX 8192     /* a signed EIP-1559 transaction */
#define STORE_MAX_SLOTS 65536     /* private storage slots per channel */

/* ======================================================================
 * Records
 * ====================================================================== */
enum store_channel_status {
    STORE_CH_OPENING = 1, /* open tx sent / Opened not yet seen */
    STORE_CH_FUNDING,     /* breakpoint 0 signed, waiting for deposits */
    STORE_CH_OPEN,
    STORE_CH_CLOSING,     /* a final breakpoint exists, conclude in flight */
    STORE_CH_CHALLENGED,
    STORE_CH_SETTLED,
    STORE_CH_CONCLUDED,
};

enum store_tx_kind {
    STORE_TX_OPEN = 1,
    STORE_TX_DEPOSIT,
    STORE_TX_CONCLUDE,
    STORE_TX_CHALLENGE,
    STORE_TX_SETTLE,
    STORE_TX_RECLAIM,
};

/* An on-chain transaction this node signed for a channel. The raw signed
 * bytes are kept so that after a restart it is re-broadcast as is, never
 * re-signed with another account nonce. */
struct store_tx {
    enum store_tx_kind kind;
    uint64_t nonce;     /* account nonce */
    vm_bytes32 hash;    /* keccak of raw */
    uint64_t bp_nonce;  /* the breakpoint it carries (conclude/challenge), else 0 */
    size_t raw_len;     /* 1..STORE_MAX_RAW_TX */
    uint8_t raw[STORE_MAX_RAW_TX];
};

/* Flags of struct store_channel (bits are the node's; the store keeps them). */
#define STORE_FLAG_DEPOSIT0 (1u << 0) /* players[0]'s deposit seen on chain */
#define STORE_FLAG_DEPOSIT1 (1u << 1) /* players[1]'s deposit seen on chain */

struct store_channel {
    vm_bytes32 id;
    /* the parameters the channel id commits to (DESIGN.md §3) */
    uint64_t chain_id;
    vm_address adjudicator;
    vm_address app;
    vm_bytes32 code_hash;
    vm_address players[VM_BP_PLAYERS];
    vm_u256 deposits[VM_BP_PLAYERS];
    size_t init_args_len; /* 0..STORE_MAX_INIT_ARGS */
    uint8_t init_args[STORE_MAX_INIT_ARGS];
    uint64_t challenge_period; /* seconds */
    vm_bytes32 salt;
    /* this node's view */
    char peer_url[STORE_MAX_URL]; /* NUL-terminated; "" when the peer dials us */
    uint8_t me;                   /* our index in players[]: 0 or 1 */
    enum store_channel_status status;
    uint32_t flags;               /* STORE_FLAG_* and the node's own bits */
    /* chain bookkeeping */
    uint64_t opened_block;        /* block of the Opened event, 0 if unknown */
    uint64_t challenge_deadline;  /* unix time from Challenged, 0 if none */
    uint64_t challenged_nonce;    /* nonce registered on chain by a challenge */
    size_t n_txs;                 /* 0..STORE_MAX_TXS */
    struct store_tx txs[STORE_MAX_TXS];
};

/* A breakpoint with its signatures and the move that produced it. */
struct store_breakpoint {
    struct vm_breakpoint bp;
    bool has_sig[VM_BP_PLAYERS];
    uint8_t sigs[VM_BP_PLAYERS][65]; /* in players[] order, r || s || v */
    vm_address mover;                /* zero for breakpoint 0 and CLOSE */
    size_t calldata_len;             /* 0..STORE_MAX_CALLDATA */
    uint8_t calldata[STORE_MAX_CALLDATA];
};

/* What the store knows about a channel's nonces, cheaply. */
struct store_heads {
    bool has_latest;     /* a fully signed breakpoint exists */
    uint64_t latest;     /* its nonce */
    bool latest_final;   /* it is final: nothing may follow it */
    bool has_own;        /* this node signed something in the channel */
    uint64_t own_max;    /* the highest nonce it signed */
};

/* ======================================================================
 * Opening and transactions
 * ====================================================================== */
struct store;
struct store_txn;

/* Opens (creating if absent, mode 0700) the store directory at path with a
 * 1 GiB map that grows when full.
 * Returns STORE_OK, STORE_ERR_IO (cannot create/open, e.g. not a directory),
 * STORE_ERR_LOCKED (another process has it open), STORE_ERR_VERSION (unknown
 * schema), STORE_ERR_CORRUPT, STORE_ERR_NOMEM. Out: *out, to be freed with store_close. */
STORE_WARN_UNUSED int store_open(const char *path, struct store **out);
/* Same, with the initial map size in bytes (tests use a small one to exercise
 * growth). map_size 0 means the default. */
STORE_WARN_UNUSED int store_open_with(const char *path, size_t map_size, struct store **out);
/* Closes the store (aborting an open transaction); s may be NULL. */
void store_close(struct store *s);

/* Begins the store's write transaction.
 * Returns STORE_OK, STORE_ERR_INVALID (one is already open), STORE_ERR_IO,
 * STORE_ERR_NOMEM. Out: *out. */
STORE_WARN_UNUSED int store_txn_begin(struct store *s, struct store_txn **out);
/* Commits durably (fsync) and frees txn, whatever the result.
 * Returns STORE_OK, STORE_ERR_FULL (nothing written; the map has been grown:
 * redo the work in a new transaction), STORE_ERR_IO, STORE_ERR_NOMEM. */
STORE_WARN_UNUSED int store_txn_commit(struct store_txn *txn);
/* Drops every write of txn and frees it; txn may be NULL. */
void store_txn_abort(struct store_txn *txn);

/* ======================================================================
 * Metadata and the chain cursor
 * ====================================================================== */
/* Binds the store to this node's address: records it if none is recorded.
 * Returns STORE_OK, STORE_ERR_CONFLICT (the datadir belongs to another
 * address), STORE_ERR_IO, STORE_ERR_CORRUPT. */
STORE_WARN_UNUSED int store_bind_address(struct store *s, struct store_txn *txn,
                                         const vm_address *addr);
/* Returns STORE_OK or STORE_ERR_NOTFOUND (never bound), STORE_ERR_CORRUPT. */
STORE_WARN_UNUSED int store_get_address(struct store *s, struct store_txn *txn, vm_address *out);

/* The log watcher's cursor: the last processed block and its hash. */
STORE_WARN_UNUSED int store_put_cursor(struct store *s, struct store_txn *txn, uint64_t block,
                                       const vm_bytes32 *hash);
/* Returns STORE_OK, STORE_ERR_NOTFOUND (none yet), STORE_ERR_CORRUPT, STORE_ERR_IO. */
STORE_WARN_UNUSED int store_get_cursor(struct store *s, struct store_txn *txn, uint64_t *block,
                                       vm_bytes32 *hash);

/* ======================================================================
 * Channels
 * ====================================================================== */
/* Inserts or replaces the channel record ch->id.
 * Returns STORE_OK, STORE_ERR_INVALID (a length over its bound, me > 1, an
 * unknown status or tx kind, peer_url not NUL-terminated), STORE_ERR_IO,
 * STORE_ERR_FULL (in a transaction), STORE_ERR_NOMEM. */
STORE_WARN_UNUSED int store_put_channel(struct store *s, struct store_txn *txn,
                                        const struct store_channel *ch);
/* Returns STORE_OK, STORE_ERR_NOTFOUND, STORE_ERR_CORRUPT, STORE_ERR_IO. Out: *out. */
STORE_WARN_UNUSED int store_get_channel(struct store *s, struct store_txn *txn,
                                        const vm_bytes32 *id, struct store_channel *out);
/* All channel ids, in key order. Out: *ids (malloc'ed; free() it; NULL when
 * *n == 0), *n. Returns STORE_OK, STORE_ERR_IO, STORE_ERR_NOMEM. */
STORE_WARN_UNUSED int store_list_channels(struct store *s, struct store_txn *txn, vm_bytes32 **ids,
                                          size_t *n);

/* ======================================================================
 * Own signatures: the safety invariant
 * ====================================================================== */
/* Records that this node signs `digest` (the EIP-712 digest of the
 * breakpoint) at (channel_id, nonce) with `sig`, unless it already signed
 * there.
 * In: sig: the new signature (computed by the caller; used only when nothing
 *     is recorded yet).
 * Out: out_sig: the signature to send — the recorded one if this digest was
 *     signed before (idempotent re-send), else sig.
 * Returns STORE_OK (with txn NULL: durable on return), STORE_ERR_CONFLICT (a
 * different digest is signed at this nonce: do NOT sign), STORE_ERR_FINAL
 * (nonce above a final breakpoint), STORE_ERR_STALE (nonce not above the
 * latest fully signed breakpoint, except the same digest at it),
 * STORE_ERR_IO, STORE_ERR_FULL, STORE_ERR_CORRUPT. */
STORE_WARN_UNUSED int store_sign_breakpoint(struct store *s, struct store_txn *txn,
                                            const vm_bytes32 *channel_id, uint64_t nonce,
                                            const uint8_t digest[32], const uint8_t sig[65],
                                            uint8_t out_sig[65]);
/* Returns STORE_OK, STORE_ERR_NOTFOUND (nothing signed at this nonce),
 * STORE_ERR_CORRUPT, STORE_ERR_IO. Out: digest, sig (either may be NULL). */
STORE_WARN_UNUSED int store_get_own_sig(struct store *s, struct store_txn *txn,
                                        const vm_bytes32 *channel_id, uint64_t nonce,
                                        uint8_t digest[32], uint8_t sig[65]);

/* ======================================================================
 * Breakpoints and private storage
 * ====================================================================== */
/* Saves a breakpoint record at (rec->bp.channel_id, rec->bp.nonce).
 * The channel record must exist (its chain id, adjudicator and `me` are used
 * to compute the digest and to know which signature is ours). The store does
 * not verify signatures: the caller has.
 *  - Fully signed (both has_sig): becomes the channel's latest. Its nonce must
 *    be above the latest (skipping is fine), or equal to it with identical
 *    content; nothing follows a final breakpoint. slots (n_slots pairs, keys
 *    distinct, zero values allowed but pointless) replace the channel's
 *    private storage in the same transaction; slots may be NULL only when
 *    n_slots is 0 (empty storage).
 *  - Otherwise (a pending breakpoint, e.g. our proposal awaiting the peer's
 *    signature): stored so that it can be re-sent after a restart; its nonce
 *    must be above the latest; slots must be NULL / 0 and are not stored.
 * Our own signature in rec, if present, is checked against and recorded in
 * the own-signature table exactly as store_sign_breakpoint does (a restored
 * backup learns what it signed).
 * Returns STORE_OK, STORE_ERR_NOTFOUND (no such channel), STORE_ERR_CONFLICT
 * (a different breakpoint is signed by us at this nonce, or a different
 * fully signed breakpoint is stored at it), STORE_ERR_STALE, STORE_ERR_FINAL,
 * STORE_ERR_INVALID (lengths, n_slots over STORE_MAX_SLOTS, slots on a
 * pending record), STORE_ERR_CORRUPT, STORE_ERR_IO, STORE_ERR_FULL,
 * STORE_ERR_NOMEM. */
STORE_WARN_UNUSED int store_put_breakpoint(struct store *s, struct store_txn *txn,
                                           const struct store_breakpoint *rec,
                                           const struct vm_storage_slot *slots, size_t n_slots);
/* The record at (channel_id, nonce), fully signed or pending.
 * Returns STORE_OK, STORE_ERR_NOTFOUND, STORE_ERR_CORRUPT, STORE_ERR_IO. */
STORE_WARN_UNUSED int store_get_breakpoint(struct store *s, struct store_txn *txn,
                                           const vm_bytes32 *channel_id, uint64_t nonce,
                                           struct store_breakpoint *out);
/* The latest fully signed breakpoint.
 * Returns STORE_OK, STORE_ERR_NOTFOUND (none yet), STORE_ERR_CORRUPT, STORE_ERR_IO. */
STORE_WARN_UNUSED int store_get_latest(struct store *s, struct store_txn *txn,
                                       const vm_bytes32 *channel_id, struct store_breakpoint *out);
/* The channel's nonces; all false/0 for a channel with nothing signed.
 * Returns STORE_OK, STORE_ERR_CORRUPT, STORE_ERR_IO. */
STORE_WARN_UNUSED int store_get_heads(struct store *s, struct store_txn *txn,
                                      const vm_bytes32 *channel_id, struct store_heads *out);
/* The private storage saved with the latest fully signed breakpoint.
 * Out: *nonce (that breakpoint's nonce), *slots (malloc'ed; free() it; NULL
 * when *n_slots == 0), *n_slots.
 * Returns STORE_OK, STORE_ERR_NOTFOUND, STORE_ERR_CORRUPT, STORE_ERR_IO,
 * STORE_ERR_NOMEM. */
STORE_WARN_UNUSED int store_get_storage(struct store *s, struct store_txn *txn,
                                        const vm_bytes32 *channel_id, uint64_t *nonce,
                                        struct vm_storage_slot **slots, size_t *n_slots);

/* ======================================================================
 * Raw access, for tests and repair tools
 * ====================================================================== */
enum store_db {
    STORE_DB_META = 0,
    STORE_DB_CHANNELS,
    STORE_DB_BREAKPOINTS,
    STORE_DB_STORAGE,
    STORE_DB_OWNSIGS,
    STORE_DB_HEADS,
    STORE_DB_COUNT_,
};
/* Overwrites the raw value of a key (no checks at all: this is how the tests
 * plant corrupt records). Returns STORE_OK, STORE_ERR_INVALID, STORE_ERR_IO. */
STORE_WARN_UNUSED int store_raw_put(struct store *s, enum store_db db, const uint8_t *key,
                                    size_t key_len, const uint8_t *value, size_t value_len);
/* Reads the raw value of a key. Out: *value (malloc'ed; free() it), *value_len.
 * Returns STORE_OK, STORE_ERR_NOTFOUND, STORE_ERR_INVALID, STORE_ERR_IO,
 * STORE_ERR_NOMEM. */
STORE_WARN_UNUSED int store_raw_get(struct store *s, enum store_db db, const uint8_t *key,
                                    size_t key_len, uint8_t **value, size_t *value_len);
/* Key of a breakpoint or own signature: channel id ‖ nonce, big-endian. */
void store_bp_key(const vm_bytes32 *channel_id, uint64_t nonce, uint8_t key[40]);

#endif
