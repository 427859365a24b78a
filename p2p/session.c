/*
 * session.c — the HELLO handshake (see session.h); the frame cipher is in cipher.c.
 */
#include <sodium.h>
#include <string.h>

#include "session.h"

static const char hs_tag[] = "breakpoint/p2p/hello/v1";

void p2p_hs_init(struct p2p_hs *hs, enum p2p_role role, const vm_address *self)
{
    memset(hs, 0, sizeof *hs);
    hs->role = (uint8_t)role;
    hs->self = *self;
    crypto_kx_keypair(hs->eph_pk, hs->eph_sk);
}

void p2p_hs_wipe(struct p2p_hs *hs)
{
    sodium_memzero(hs->eph_sk, sizeof hs->eph_sk);
}

void p2p_hs_hello(const struct p2p_hs *hs, struct p2p_msg *out)
{
    memset(out, 0, sizeof *out);
    out->type = P2P_MSG_HELLO;
    out->u.hello.version = P2P_PROTOCOL_VERSION;
    out->u.hello.role = hs->role;
    memcpy(out->u.hello.ephemeral_key, hs->eph_pk, 32);
    out->u.hello.address = hs->self;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

void p2p_hs_sign_hash(const struct p2p_hs *hs, uint8_t role, uint8_t out[32])
{
    struct vm_keccak k;
    vm_keccak_init(&k);
    vm_keccak_update(&k, (const uint8_t *)hs_tag, sizeof hs_tag - 1);
    vm_keccak_update(&k, &role, 1);
    vm_keccak_update(&k, hs->transcript, 32);
    vm_keccak_final(&k, out);
}

int p2p_hs_on_hello(struct p2p_hs *hs, const struct p2p_msg *in, struct p2p_cipher *cipher)
{
    const struct p2p_hello *h = &in->u.hello;
    if (in->type != P2P_MSG_HELLO || h->version != P2P_PROTOCOL_VERSION || h->role == hs->role ||
        !all_zero(h->sig, sizeof h->sig) || !all_zero(in->channel_id.b, 32))
        return P2P_ERR_HANDSHAKE;
    memcpy(hs->peer_eph, h->ephemeral_key, 32);
    hs->peer = h->address;

    bool dialer = hs->role == P2P_ROLE_DIALER;
    const uint8_t *eph_d = dialer ? hs->eph_pk : hs->peer_eph;
    const uint8_t *eph_l = dialer ? hs->peer_eph : hs->eph_pk;
    const vm_address *addr_d = dialer ? &hs->self : &hs->peer;
    const vm_address *addr_l = dialer ? &hs->peer : &hs->self;
    uint8_t version[4] = {0, 0, 0, P2P_PROTOCOL_VERSION};
    struct vm_keccak k;
    vm_keccak_init(&k);
    vm_keccak_update(&k, version, 4);
    vm_keccak_update(&k, eph_d, 32);
    vm_keccak_update(&k, eph_l, 32);
    vm_keccak_update(&k, addr_d->b, 20);
    vm_keccak_update(&k, addr_l->b, 20);
    vm_keccak_final(&k, hs->transcript);

    uint8_t rx[32], tx[32];
    int rc = dialer ? crypto_kx_client_session_keys(rx, tx, hs->eph_pk, hs->eph_sk, hs->peer_eph)
                    : crypto_kx_server_session_keys(rx, tx, hs->eph_pk, hs->eph_sk, hs->peer_eph);
    if (rc != 0) return P2P_ERR_HANDSHAKE; /* a low-order point: no shared secret */
    memset(cipher, 0, sizeof *cipher);
    /* Bind the keys to the whole transcript (addresses included), so that a
     * session key is only ever used with the identities both sides signed. */
    crypto_generichash(cipher->tx_key, 32, hs->transcript, 32, tx, 32);
    crypto_generichash(cipher->rx_key, 32, hs->transcript, 32, rx, 32);
    sodium_memzero(rx, sizeof rx);
    sodium_memzero(tx, sizeof tx);
    hs->have_peer = true;
    return P2P_OK;
}

int p2p_hs_auth(const struct p2p_hs *hs, const struct vm_secp *secp, const uint8_t key[32],
                struct p2p_msg *out)
{
    if (!hs->have_peer) return P2P_ERR_INVALID;
    p2p_hs_hello(hs, out);
    uint8_t hash[32];
    p2p_hs_sign_hash(hs, hs->role, hash);
    return vm_sign(secp, key, hash, out->u.hello.sig) == VM_OK ? P2P_OK : P2P_ERR_INVALID;
}

int p2p_hs_on_auth(const struct p2p_hs *hs, const struct vm_secp *secp, const struct p2p_msg *in)
{
    const struct p2p_hello *h = &in->u.hello;
    if (!hs->have_peer || in->type != P2P_MSG_HELLO || h->version != P2P_PROTOCOL_VERSION ||
        h->role == hs->role || memcmp(h->ephemeral_key, hs->peer_eph, 32) != 0 ||
        memcmp(h->address.b, hs->peer.b, 20) != 0 || !all_zero(in->channel_id.b, 32))
        return P2P_ERR_HANDSHAKE;
    uint8_t hash[32];
    p2p_hs_sign_hash(hs, h->role, hash);
    vm_address signer;
    if (vm_recover(secp, hash, h->sig, &signer) != VM_OK) return P2P_ERR_HANDSHAKE;
    return memcmp(signer.b, hs->peer.b, 20) == 0 ? P2P_OK : P2P_ERR_HANDSHAKE;
}
