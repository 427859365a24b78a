/*
 * session.h — private to p2p/ (and its tests): the HELLO handshake and the
 * per-frame cipher, as pure functions without I/O so that they can be unit
 * tested and fuzzed apart from the network code in net.c.
 *
 * Handshake (both roles run the same steps; only the role byte differs):
 *   1. send hello(role, ephemeral X25519 key, address, sig = 0)  [plaintext]
 *   2. on the peer's hello: check version and opposite role, derive the
 *      transcript and the session keys
 *   3. send hello(same fields, sig = sign(transcript_hash(own role)))  [sealed]
 *   4. on the peer's sealed hello: same fields as in step 2, and the address
 *      recovered from its signature over transcript_hash(peer role) is the
 *      address it claimed.
 * transcript_hash(role) = keccak(tag ‖ role ‖ version ‖ eph_dialer ‖ eph_listener
 *                                ‖ addr_dialer ‖ addr_listener), tag
 * "breakpoint/p2p/hello/v1". The role in the signed hash keeps a signature
 * from being reflected back at its author.
 * Session keys: crypto_kx (dialer = client) keyed-BLAKE2b over the transcript,
 * one key per direction.
 */
#ifndef BP_P2P_SESSION_H
#define BP_P2P_SESSION_H

#include "p2p.h"

#define P2P_FRAME_OVERHEAD 24 /* counter(8) + Poly1305 tag(16) */
#define P2P_MAX_PLAINTEXT (P2P_MAX_FRAME - P2P_FRAME_OVERHEAD)

struct p2p_cipher {
    uint8_t tx_key[32];
    uint8_t rx_key[32];
    uint64_t tx_counter; /* last counter sent (first frame: 1) */
    uint64_t rx_counter; /* last counter accepted */
};

struct p2p_hs {
    uint8_t role; /* enum p2p_role of this side */
    uint8_t eph_pk[32];
    uint8_t eph_sk[32];
    vm_address self;
    bool have_peer; /* step 2 done */
    uint8_t peer_eph[32];
    vm_address peer;
    uint8_t transcript[32]; /* keccak of the fields, without tag and role */
};

/* Fresh ephemeral keys for one handshake. */
void p2p_hs_init(struct p2p_hs *hs, enum p2p_role role, const vm_address *self);
/* Wipes the ephemeral secret key. */
void p2p_hs_wipe(struct p2p_hs *hs);

/* Step 1: the plaintext HELLO. */
void p2p_hs_hello(const struct p2p_hs *hs, struct p2p_msg *out);

/*
 * Step 2. In: the peer's plaintext HELLO.
 * Out: *cipher with both session keys, counters 0.
 * Returns P2P_OK or P2P_ERR_HANDSHAKE (wrong type, version or role, a non-zero
 * signature, a weak X25519 key).
 */
P2P_WARN_UNUSED int p2p_hs_on_hello(struct p2p_hs *hs, const struct p2p_msg *in,
                                    struct p2p_cipher *cipher);

/* The hash a side with `role` signs (after step 2). */
void p2p_hs_sign_hash(const struct p2p_hs *hs, uint8_t role, uint8_t out[32]);

/* Step 3: the HELLO to seal, signed with key. Returns P2P_OK or P2P_ERR_INVALID. */
P2P_WARN_UNUSED int p2p_hs_auth(const struct p2p_hs *hs, const struct vm_secp *secp,
                                const uint8_t key[32], struct p2p_msg *out);

/* Step 4. In: the peer's unsealed HELLO. Returns P2P_OK or P2P_ERR_HANDSHAKE. */
P2P_WARN_UNUSED int p2p_hs_on_auth(const struct p2p_hs *hs, const struct vm_secp *secp,
                                   const struct p2p_msg *in);

/*
 * Seals plaintext[0..len) as the next frame body (counter ‖ ciphertext ‖ tag),
 * appended to out. Returns P2P_OK, P2P_ERR_TOO_LARGE (len > P2P_MAX_PLAINTEXT)
 * or P2P_ERR_NOMEM.
 */
P2P_WARN_UNUSED int p2p_seal(struct p2p_cipher *c, const uint8_t *plaintext, size_t len,
                             struct vm_buf *out);

/*
 * Opens one frame body. Accepts it only if its counter is above the last one
 * accepted and it authenticates; only then advances the receive counter.
 * Out: plain (room for P2P_MAX_PLAINTEXT bytes), *plain_len.
 * Returns P2P_OK, P2P_ERR_TRUNCATED (shorter than the overhead),
 * P2P_ERR_TOO_LARGE, P2P_ERR_REPLAY or P2P_ERR_AUTH.
 */
P2P_WARN_UNUSED int p2p_open(struct p2p_cipher *c, const uint8_t *body, size_t len, uint8_t *plain,
                             size_t *plain_len);

#endif
