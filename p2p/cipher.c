/*
 * cipher.c — the frame cipher of established sessions (see session.h):
 * XChaCha20-Poly1305 with an explicit, strictly increasing 64-bit counter per
 * direction. The counter travels in clear as the first 8 bytes of the body and
 * is both the nonce prefix and the associated data, so changing it breaks
 * authentication, and a counter not above the last accepted one is refused
 * before any decryption (replays and reordering).
 */
#include <sodium.h>
#include <string.h>

#include "session.h"

static void make_nonce(uint64_t counter, uint8_t nonce[24], uint8_t ad[8])
{
    memset(nonce, 0, 24);
    for (int i = 0; i < 8; i++)
        ad[i] = (uint8_t)(counter >> (56 - 8 * i));
    memcpy(nonce, ad, 8);
}

int p2p_seal(struct p2p_cipher *c, const uint8_t *plaintext, size_t len, struct vm_buf *out)
{
    if (len > P2P_MAX_PLAINTEXT) return P2P_ERR_TOO_LARGE;
    if (vm_buf_reserve(out, len + P2P_FRAME_OVERHEAD) != VM_OK) return P2P_ERR_NOMEM;
    uint64_t counter = c->tx_counter + 1;
    uint8_t nonce[24], ad[8];
    make_nonce(counter, nonce, ad);
    uint8_t *dst = out->data + out->len;
    memcpy(dst, ad, 8);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(dst + 8, &clen, plaintext, len, ad, 8, NULL, nonce,
                                               c->tx_key);
    out->len += 8 + (size_t)clen;
    c->tx_counter = counter;
    return P2P_OK;
}

int p2p_open(struct p2p_cipher *c, const uint8_t *body, size_t len, uint8_t *plain,
             size_t *plain_len)
{
    if (len < P2P_FRAME_OVERHEAD) return P2P_ERR_TRUNCATED;
    if (len > P2P_MAX_FRAME) return P2P_ERR_TOO_LARGE;
    uint64_t counter = 0;
    for (int i = 0; i < 8; i++)
        counter = (counter << 8) | body[i];
    if (counter <= c->rx_counter) return P2P_ERR_REPLAY;
    uint8_t nonce[24], ad[8];
    make_nonce(counter, nonce, ad);
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &mlen, NULL, body + 8, len - 8, ad, 8,
                                                   nonce, c->rx_key) != 0)
        return P2P_ERR_AUTH;
    c->rx_counter = counter;
    *plain_len = (size_t)mlen;
    return P2P_OK;
}
