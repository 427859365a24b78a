/*
 * p2p.h — breakpoint's peer sessions: the one public header of p2p/.
 *
 * Two layers (DESIGN.md §5):
 *
 *  1. The message codec. struct p2p_msg is a plain, fixed-size value (no
 *     pointers, so it can be copied, queued and compared); p2p_encode writes
 *     it as one msgpack array [type, channelId(bin 32), ...] and p2p_decode
 *     parses such an array with strict checks (exact arity per type, exact bin
 *     lengths, integers in range, canonical msgpack headers, every length
 *     checked against the bytes left before anything is allocated, no trailing
 *     bytes). The codec has no state and no I/O.
 *
 *  2. Sessions. A struct p2p owns one optional listening tcp:// address that
 *     serves any number of peers, and one connection per peer (all channels
 *     with one peer share it). Each connection starts with a HELLO handshake:
 *     both sides send an ephemeral X25519 key and their Ethereum address, then
 *     each signs the transcript hash with its Ethereum key; a peer whose
 *     recovered address is not the one allowed/expected is dropped. Session
 *     keys come from the X25519 shared secret bound to the transcript; every
 *     later frame is XChaCha20-Poly1305 sealed under a strictly increasing
 *     counter per direction, so replayed, reordered or tampered frames fail and
 *     are dropped with a logged reason; max_bad_frames of them close the session.
 *     The side that called p2p_connect dials and redials with capped
 *     exponential backoff after any disconnect.
 *
 * Wire format of a frame: a 4-byte big-endian body length (1..P2P_MAX_FRAME),
 * then the body. The two handshake frames per side: first a plaintext msgpack
 * HELLO (signature all zero), then, sealed with the session key, a HELLO that
 * repeats the same fields with the transcript signature. After that each body
 * is counter(8, big-endian) || XChaCha20-Poly1305(msgpack message), with the
 * counter in the nonce and as associated data. Handshake frames may not
 * exceed 512 bytes, at most 64 connections may be in their handshake at once,
 * and a handshake must finish within handshake_timeout_ms. A frame length out
 * of bounds closes the connection at once (the framing is lost); a frame that
 * fails to open or decode is dropped and counted.
 *
 * Threads: p2p runs its network I/O on nng's threads and calls the user's
 * callbacks from ONE thread of its own, one call at a time, never while it
 * holds its internal lock — so a callback may call p2p_send, p2p_connect,
 * p2p_allow_peer, p2p_peer_connected, p2p_stats (never p2p_free). All public
 * functions are thread-safe.
 *
 * Conventions: functions that can fail return an int (0 = P2P_OK, negative =
 * enum p2p_error) and are marked P2P_WARN_UNUSED; results go through
 * out-params; the caller owns what it passes in and what p2p_new returns.
 */
#ifndef BP_P2P_H
#define BP_P2P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm.h"

#if defined(__GNUC__)
#define P2P_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define P2P_WARN_UNUSED
#endif

/* ======================================================================
 * Errors
 * ====================================================================== */
enum p2p_error {
    P2P_OK = 0,
    P2P_ERR_INVALID = -1,      /* a bad argument, or a message that may not be encoded */
    P2P_ERR_MALFORMED = -2,    /* input is not a well-formed message */
    P2P_ERR_TRUNCATED = -3,    /* input ends early */
    P2P_ERR_TOO_LARGE = -4,    /* a length beyond a protocol bound */
    P2P_ERR_TRAILING = -5,     /* bytes after the message */
    P2P_ERR_NONCANONICAL = -6, /* valid msgpack, but not the shortest encoding */
    P2P_ERR_TYPE = -7,         /* unknown message type, or one not allowed here */
    P2P_ERR_NOMEM = -8,
    P2P_ERR_NOT_CONNECTED = -9, /* no authenticated session with that peer */
    P2P_ERR_TRANSPORT = -10,    /* nng refused (bad URL, address in use, ...) */
    P2P_ERR_AUTH = -11,         /* a frame failed authentication */
    P2P_ERR_REPLAY = -12,       /* a frame counter not above the last one */
    P2P_ERR_PEER = -13,         /* the peer's address is not allowed / not expected */
    P2P_ERR_HANDSHAKE = -14,    /* a broken or badly signed HELLO */
    P2P_ERR_BUSY = -15,         /* the peer's send queue is full */
    P2P_ERR_CLOSED = -16,       /* the p2p instance is shutting down */
};

/* Returns a static, human-readable text for an enum p2p_error value. */
const char *p2p_strerror(int err);

/* ======================================================================
 * Messages (the codec)
 * ====================================================================== */
#define P2P_PROTOCOL_VERSION 1
#define P2P_MAX_FRAME 65536    /* bytes of one frame body on the wire */
#define P2P_MAX_CALLDATA 16384 /* bytes of calldata in PROPOSE / SYNC_REPLY */
#define P2P_MAX_REASON 255     /* bytes of a REJECT reason (no NUL inside) */
#define P2P_MAX_SLOTS 512      /* storage slots carried by SYNC_REPLY */
#define P2P_SIG_LEN 65         /* r || s || v */

enum p2p_msg_type {
    P2P_MSG_HELLO = 1, /* handshake only: p2p_send refuses it */
    P2P_MSG_PROPOSE = 2,
    P2P_MSG_ACCEPT = 3,
    P2P_MSG_REJECT = 4,
    P2P_MSG_SYNC = 5,
    P2P_MSG_SYNC_REPLY = 6,
    P2P_MSG_CLOSE = 7,
    P2P_MSG_PING = 8,
};
/* "HELLO", "PROPOSE", ... or "?" for an unknown value. */
const char *p2p_msg_type_name(int type);

enum p2p_role {
    P2P_ROLE_DIALER = 0,
    P2P_ROLE_LISTENER = 1,
};

/* [HELLO, channelId(zero), version, role, ephemeral X25519 key(32),
 *  Ethereum address(20), transcript signature(65)] */
struct p2p_hello {
    uint32_t version;
    uint8_t role; /* enum p2p_role of the sender */
    uint8_t ephemeral_key[32];
    vm_address address;
    uint8_t sig[P2P_SIG_LEN]; /* all zero in the plaintext HELLO */
};

/* A move proposal: the sender already executed `calldata` as `mover` on its
 * breakpoint `base_nonce` and signed the resulting breakpoint `nonce`.
 * [PROPOSE, channelId, nonce, base_nonce, mover(20), calldata(bin), sig(65)] */
struct p2p_propose {
    uint64_t nonce;
    uint64_t base_nonce;
    vm_address mover;
    size_t calldata_len; /* <= P2P_MAX_CALLDATA; may be 0 */
    uint8_t calldata[P2P_MAX_CALLDATA];
    uint8_t sig[P2P_SIG_LEN];
};

/* [ACCEPT, channelId, nonce, sig(65)] */
struct p2p_accept {
    uint64_t nonce;
    uint8_t sig[P2P_SIG_LEN];
};

/* [REJECT, channelId, nonce, reason(str)] */
struct p2p_reject {
    uint64_t nonce;
    char reason[P2P_MAX_REASON + 1]; /* NUL-terminated */
};

/* [SYNC, channelId, latest fully signed nonce, highest own-signed nonce] */
struct p2p_sync {
    uint64_t signed_nonce;
    uint64_t own_nonce;
};

/* One storage slot of the app's private storage (value never zero). */
struct p2p_slot {
    vm_u256 key;
    vm_u256 value;
};

/* A fully signed breakpoint with its move and the app's storage there.
 * [SYNC_REPLY, channelId, nonce, stateRoot(32), moveHash(32),
 *  [payout0(32), payout1(32)], isFinal(bool), [sig0(65), sig1(65)],
 *  mover(20), calldata(bin), [[key(32), value(32)], ...]]
 * bp.channel_id is the message's channel_id (not repeated on the wire).
 * u256 values travel as 32-byte big-endian bins. Slots are sorted by
 * strictly ascending key and have non-zero values (the canonical form; both
 * encode and decode insist on it). */
struct p2p_sync_reply {
    struct vm_breakpoint bp;
    uint8_t sigs[VM_BP_PLAYERS][P2P_SIG_LEN]; /* in players[] order */
    vm_address mover;
    size_t calldata_len;
    uint8_t calldata[P2P_MAX_CALLDATA];
    size_t n_slots; /* <= P2P_MAX_SLOTS */
    struct p2p_slot slots[P2P_MAX_SLOTS];
};

/* A proposal to stop early: breakpoint `nonce` = breakpoint `base_nonce`'s
 * state root and payouts, moveHash zero, isFinal true, signed by the sender.
 * [CLOSE, channelId, nonce, base_nonce, sig(65)] */
struct p2p_close {
    uint64_t nonce;
    uint64_t base_nonce;
    uint8_t sig[P2P_SIG_LEN];
};

/* Liveness: answer a PING with reply = false by the same seq, reply = true.
 * [PING, channelId, seq, reply(bool)] */
struct p2p_ping {
    uint64_t seq;
    bool reply;
};

/* A protocol message. About 50 KiB: allocate it on the heap. */
struct p2p_msg {
    enum p2p_msg_type type;
    vm_bytes32 channel_id;
    union {
        struct p2p_hello hello;
        struct p2p_propose propose;
        struct p2p_accept accept;
        struct p2p_reject reject;
        struct p2p_sync sync;
        struct p2p_sync_reply sync_reply;
        struct p2p_close close;
        struct p2p_ping ping;
    } u;
};

/*
 * Encodes a message as one msgpack array, appended to out.
 * In:  msg (its fields must be within the bounds above; REJECT reason a
 *      NUL-terminated string of <= P2P_MAX_REASON bytes).
 * Out: out grows by the encoding (at most P2P_MAX_FRAME - 24 bytes).
 * Returns P2P_OK, P2P_ERR_INVALID (a field out of bounds, unsorted slots,
 * unknown type; out unchanged) or P2P_ERR_NOMEM.
 */
P2P_WARN_UNUSED int p2p_encode(const struct p2p_msg *msg, struct vm_buf *out);

/*
 * Decodes exactly one message from in[0..len).
 * Out: *msg (zeroed first, then filled; unspecified on failure).
 * Returns P2P_OK, P2P_ERR_TRUNCATED, P2P_ERR_TRAILING, P2P_ERR_TOO_LARGE
 * (len > P2P_MAX_FRAME, or a calldata / reason / slot list beyond its bound),
 * P2P_ERR_NONCANONICAL, P2P_ERR_TYPE (unknown type) or P2P_ERR_MALFORMED
 * (anything else: wrong arity, wrong element kind, wrong bin length, integer
 * out of range, unsorted or zero slots, a NUL in a reason).
 * Never reads outside in[0..len) and allocates at most O(len).
 */
P2P_WARN_UNUSED int p2p_decode(const uint8_t *in, size_t len, struct p2p_msg *msg);

/* ======================================================================
 * Sessions
 * ====================================================================== */
struct p2p; /* opaque */

enum p2p_log_level {
    P2P_LOG_DEBUG = 0,
    P2P_LOG_INFO = 1,
    P2P_LOG_WARN = 2, /* a dropped frame, a refused peer */
};

struct p2p_config {
    const uint8_t *eth_key;     /* 32-byte secp256k1 key; copied by p2p_new */
    const struct vm_secp *secp; /* borrowed: must outlive the p2p instance */
    const char *listen_url;     /* "tcp://127.0.0.1:7000", port 0 = any; NULL: don't listen */
    void *user;                 /* passed to every callback */
    /* A decoded, authenticated message from peer (never HELLO). msg is only
     * valid during the call. May be NULL. */
    void (*on_message)(void *user, const vm_address *peer, const struct p2p_msg *msg);
    /* A session with peer was authenticated (true) or lost (false). May be NULL. */
    void (*on_peer_state)(void *user, const vm_address *peer, bool connected);
    /* One line of log text, without newline. NULL: lines go to stderr. */
    void (*on_log)(void *user, enum p2p_log_level level, const char *text);
    uint32_t backoff_min_ms;       /* first redial delay; 0: 100 ms */
    uint32_t backoff_max_ms;       /* cap of the doubling delay; 0: 5000 ms */
    uint32_t handshake_timeout_ms; /* 0: 5000 ms */
    uint32_t max_bad_frames;       /* bad frames that close a session; 0: 8 */
};

/* Counters since p2p_new, for logs and tests. */
struct p2p_stats {
    uint64_t frames_sent;     /* sealed message frames queued */
    uint64_t frames_received; /* frames authenticated and decoded */
    uint64_t frames_dropped;  /* bad frames (auth, replay, decode) */
    uint64_t handshakes_ok;
    uint64_t peers_refused;   /* handshakes dropped: wrong or unknown address, bad signature */
    uint64_t sessions_closed; /* connections closed for any reason */
};

/*
 * Creates a p2p instance and, if cfg->listen_url is set, starts listening.
 * In:  cfg (copied; eth_key copied, secp borrowed).
 * Out: *out, to be freed with p2p_free.
 * Returns P2P_OK, P2P_ERR_INVALID (no key / secp, or a bad key),
 * P2P_ERR_TRANSPORT (bad URL, address in use) or P2P_ERR_NOMEM.
 */
P2P_WARN_UNUSED int p2p_new(const struct p2p_config *cfg, struct p2p **out);

/* Closes every session, stops listening and dialing, waits for the callback
 * thread (so no callback runs after it returns) and frees. NULL is a no-op.
 * Must not be called from a callback. */
void p2p_free(struct p2p *p2p);

/* The local address (derived from eth_key). */
void p2p_local_address(const struct p2p *p2p, vm_address *out);

/*
 * The TCP port the listener is bound to (useful with port 0).
 * Returns P2P_OK, P2P_ERR_INVALID (not listening) or P2P_ERR_TRANSPORT.
 */
P2P_WARN_UNUSED int p2p_listen_port(const struct p2p *p2p, int *port);

/*
 * Lets `peer` connect to our listener (idempotent). Connections whose
 * authenticated address was never allowed are dropped after the handshake.
 * Returns P2P_OK or P2P_ERR_NOMEM / P2P_ERR_CLOSED.
 */
P2P_WARN_UNUSED int p2p_allow_peer(struct p2p *p2p, const vm_address *peer);

/*
 * Dials `peer` at url ("tcp://host:port") now and, after any disconnect or
 * failed attempt, again with exponential backoff (backoff_min_ms doubling up
 * to backoff_max_ms; reset by a successful handshake). The dialed side must
 * authenticate as `peer`. Also allows `peer` (p2p_allow_peer). Calling it
 * again for the same peer replaces the URL used for the next attempt.
 * Returns P2P_OK, P2P_ERR_TRANSPORT (the URL is not usable), P2P_ERR_NOMEM
 * or P2P_ERR_CLOSED.
 */
P2P_WARN_UNUSED int p2p_connect(struct p2p *p2p, const vm_address *peer, const char *url);

/*
 * Encodes, seals and queues msg on the session with `peer`.
 * Returns P2P_OK (queued; delivery is not confirmed: the protocol above
 * answers), P2P_ERR_NOT_CONNECTED, P2P_ERR_INVALID (see p2p_encode; HELLO
 * is refused), P2P_ERR_BUSY (more than 4 MiB waiting), P2P_ERR_CLOSED
 * (p2p_free has begun) or P2P_ERR_NOMEM.
 */
P2P_WARN_UNUSED int p2p_send(struct p2p *p2p, const vm_address *peer, const struct p2p_msg *msg);

/*
 * Undoes p2p_allow_peer and p2p_connect for `peer`: stops dialing it, refuses
 * it from now on and closes its session (on_peer_state(false) follows if it
 * was up). Unknown peers are ignored. Returns P2P_OK or P2P_ERR_INVALID.
 */
P2P_WARN_UNUSED int p2p_forget_peer(struct p2p *p2p, const vm_address *peer);

/* True if an authenticated session with `peer` is up. */
bool p2p_peer_connected(struct p2p *p2p, const vm_address *peer);

/* Copies the counters. */
void p2p_stats(struct p2p *p2p, struct p2p_stats *out);

#endif /* BP_P2P_H */
