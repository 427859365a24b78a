/*
 * session_test.c — the HELLO handshake and the frame cipher without a network:
 * two handshake states talk through p2p_encode/p2p_decode; the derived keys,
 * the signed transcript hash and the frame layout are checked against
 * libsodium and keccak used directly; replays, reordering, tampering, a
 * reflected or foreign signature and a weak X25519 key are refused.
 */
#include <sodium.h>
#include <string.h>

#include "../lib/check.h"
#include "p2p.h"
#include "session.h"

static const uint8_t key_a[32] = {[31] = 1}; /* private key 1 */
static const uint8_t key_b[32] = {[0] = 0x42, [31] = 7};
static const uint8_t key_c[32] = {[5] = 0x99, [31] = 3};

static struct p2p_msg m1, m2;

/* Passes a message through the codec, as the wire does. */
static void wire(const struct p2p_msg *in, struct p2p_msg *out)
{
    struct vm_buf b = {0};
    REQUIRE(p2p_encode(in, &b) == P2P_OK);
    REQUIRE(p2p_decode(b.data, b.len, out) == P2P_OK);
    vm_buf_free(&b);
}

/* Seals msg with c, opens it with d, decodes into out. */
static int sealed_wire(struct p2p_cipher *c, struct p2p_cipher *d, const struct p2p_msg *in,
                       struct p2p_msg *out)
{
    struct vm_buf plain = {0}, frame = {0};
    static uint8_t opened[P2P_MAX_PLAINTEXT];
    size_t n = 0;
    REQUIRE(p2p_encode(in, &plain) == P2P_OK);
    REQUIRE(p2p_seal(c, plain.data, plain.len, &frame) == P2P_OK);
    int rc = p2p_open(d, frame.data, frame.len, opened, &n);
    if (rc == P2P_OK) rc = p2p_decode(opened, n, out);
    vm_buf_free(&plain);
    vm_buf_free(&frame);
    return rc;
}

struct side {
    struct p2p_hs hs;
    struct p2p_cipher ci;
    vm_address addr;
};

static void handshake(struct side *a, struct side *b)
{
    p2p_hs_init(&a->hs, P2P_ROLE_DIALER, &a->addr);
    p2p_hs_init(&b->hs, P2P_ROLE_LISTENER, &b->addr);
    p2p_hs_hello(&a->hs, &m1);
    wire(&m1, &m2);
    CHECK_EQ(p2p_hs_on_hello(&b->hs, &m2, &b->ci), P2P_OK);
    p2p_hs_hello(&b->hs, &m1);
    wire(&m1, &m2);
    CHECK_EQ(p2p_hs_on_hello(&a->hs, &m2, &a->ci), P2P_OK);
}

static void test_handshake(struct vm_secp *secp)
{
    struct side a, b;
    REQUIRE(vm_key_address(secp, key_a, &a.addr) == VM_OK);
    REQUIRE(vm_key_address(secp, key_b, &b.addr) == VM_OK);
    handshake(&a, &b);
    CHECK(memcmp(a.ci.tx_key, b.ci.rx_key, 32) == 0);
    CHECK(memcmp(a.ci.rx_key, b.ci.tx_key, 32) == 0);
    CHECK(memcmp(a.ci.tx_key, a.ci.rx_key, 32) != 0);
    CHECK(memcmp(a.hs.transcript, b.hs.transcript, 32) == 0);

    /* The transcript and the signed hash, computed here from their definition. */
    uint8_t t[4 + 32 + 32 + 20 + 20] = {0, 0, 0, 1};
    memcpy(t + 4, a.hs.eph_pk, 32);
    memcpy(t + 36, b.hs.eph_pk, 32);
    memcpy(t + 68, a.addr.b, 20);
    memcpy(t + 88, b.addr.b, 20);
    uint8_t th[32];
    vm_keccak256(t, sizeof t, th);
    CHECK(memcmp(th, a.hs.transcript, 32) == 0);
    const char tag[] = "breakpoint/p2p/hello/v1";
    uint8_t s[sizeof tag - 1 + 1 + 32];
    memcpy(s, tag, sizeof tag - 1);
    s[sizeof tag - 1] = P2P_ROLE_LISTENER;
    memcpy(s + sizeof tag, th, 32);
    uint8_t sh[32], got[32];
    vm_keccak256(s, sizeof s, sh);
    p2p_hs_sign_hash(&a.hs, P2P_ROLE_LISTENER, got);
    CHECK(memcmp(sh, got, 32) == 0);

    /* The session key: keyed BLAKE2b of the transcript under crypto_kx's key. */
    uint8_t rx[32], tx[32], k[32];
    REQUIRE(crypto_kx_client_session_keys(rx, tx, a.hs.eph_pk, a.hs.eph_sk, b.hs.eph_pk) == 0);
    crypto_generichash(k, 32, th, 32, tx, 32);
    CHECK(memcmp(k, a.ci.tx_key, 32) == 0);

    /* Signed HELLOs, sealed, both ways. */
    REQUIRE(p2p_hs_auth(&a.hs, secp, key_a, &m1) == P2P_OK);
    CHECK_EQ(sealed_wire(&a.ci, &b.ci, &m1, &m2), P2P_OK);
    CHECK_EQ(p2p_hs_on_auth(&b.hs, secp, &m2), P2P_OK);
    REQUIRE(p2p_hs_auth(&b.hs, secp, key_b, &m1) == P2P_OK);
    CHECK_EQ(sealed_wire(&b.ci, &a.ci, &m1, &m2), P2P_OK);
    CHECK_EQ(p2p_hs_on_auth(&a.hs, secp, &m2), P2P_OK);

    /* The sealed frame layout: counter(8, BE) || XChaCha20-Poly1305 with the
     * counter as nonce prefix and as associated data. */
    {
        struct vm_buf frame = {0};
        const uint8_t msg[] = "hello frame";
        REQUIRE(p2p_seal(&a.ci, msg, sizeof msg, &frame) == P2P_OK);
        CHECK_EQ(frame.len, 8 + sizeof msg + 16);
        CHECK(frame.data[7] == 2 && frame.data[0] == 0); /* second frame a -> b */
        uint8_t nonce[24] = {0};
        memcpy(nonce, frame.data, 8);
        uint8_t out[64];
        unsigned long long n = 0;
        CHECK(crypto_aead_xchacha20poly1305_ietf_decrypt(
                  out, &n, NULL, frame.data + 8, frame.len - 8, frame.data, 8, nonce, k) == 0);
        CHECK(n == sizeof msg && memcmp(out, msg, sizeof msg) == 0);
        vm_buf_free(&frame);
    }

    /* A's own signed HELLO reflected back at A: refused (role). */
    REQUIRE(p2p_hs_auth(&a.hs, secp, key_a, &m1) == P2P_OK);
    CHECK_EQ(p2p_hs_on_auth(&a.hs, secp, &m1), P2P_ERR_HANDSHAKE);
    /* B's HELLO signed by key C: the recovered signer is not B. */
    REQUIRE(p2p_hs_auth(&b.hs, secp, key_c, &m1) == P2P_OK);
    CHECK_EQ(p2p_hs_on_auth(&a.hs, secp, &m1), P2P_ERR_HANDSHAKE);
    /* B's genuine signed HELLO with another ephemeral key, or a flipped sig bit. */
    REQUIRE(p2p_hs_auth(&b.hs, secp, key_b, &m1) == P2P_OK);
    CHECK_EQ(p2p_hs_on_auth(&a.hs, secp, &m1), P2P_OK);
    m1.u.hello.ephemeral_key[0] ^= 1;
    CHECK_EQ(p2p_hs_on_auth(&a.hs, secp, &m1), P2P_ERR_HANDSHAKE);
    m1.u.hello.ephemeral_key[0] ^= 1;
    m1.u.hello.sig[10] ^= 1;
    CHECK_EQ(p2p_hs_on_auth(&a.hs, secp, &m1), P2P_ERR_HANDSHAKE);

    /* A signature from another session (new ephemeral keys) does not verify here. */
    struct side a2 = {.addr = a.addr}, b2 = {.addr = b.addr};
    handshake(&a2, &b2);
    REQUIRE(p2p_hs_auth(&b2.hs, secp, key_b, &m1) == P2P_OK);
    memcpy(m1.u.hello.ephemeral_key, b.hs.eph_pk, 32); /* splice into the old session */
    CHECK_EQ(p2p_hs_on_auth(&a.hs, secp, &m1), P2P_ERR_HANDSHAKE);

    /* Plaintext HELLO checks. */
    struct side x = {.addr = a.addr};
    p2p_hs_init(&x.hs, P2P_ROLE_DIALER, &x.addr);
    p2p_hs_hello(&b.hs, &m1);
    m1.u.hello.sig[0] = 1;
    CHECK_EQ(p2p_hs_on_hello(&x.hs, &m1, &x.ci), P2P_ERR_HANDSHAKE);
    p2p_hs_hello(&b.hs, &m1);
    m1.u.hello.version = 2;
    CHECK_EQ(p2p_hs_on_hello(&x.hs, &m1, &x.ci), P2P_ERR_HANDSHAKE);
    p2p_hs_hello(&a.hs, &m1); /* same role as x */
    CHECK_EQ(p2p_hs_on_hello(&x.hs, &m1, &x.ci), P2P_ERR_HANDSHAKE);
    p2p_hs_hello(&b.hs, &m1);
    memset(m1.u.hello.ephemeral_key, 0, 32); /* a low-order point */
    CHECK_EQ(p2p_hs_on_hello(&x.hs, &m1, &x.ci), P2P_ERR_HANDSHAKE);
    p2p_hs_hello(&b.hs, &m1);
    CHECK_EQ(p2p_hs_on_hello(&x.hs, &m1, &x.ci), P2P_OK);
    /* auth before on_hello is refused */
    struct side y = {.addr = a.addr};
    p2p_hs_init(&y.hs, P2P_ROLE_DIALER, &y.addr);
    CHECK_EQ(p2p_hs_auth(&y.hs, secp, key_a, &m1), P2P_ERR_INVALID);
}

static void test_cipher(struct vm_secp *secp)
{
    struct side a, b;
    REQUIRE(vm_key_address(secp, key_a, &a.addr) == VM_OK);
    REQUIRE(vm_key_address(secp, key_b, &b.addr) == VM_OK);
    handshake(&a, &b);

    static uint8_t plain[P2P_MAX_PLAINTEXT];
    size_t n = 0;
    struct vm_buf f[4] = {{0}};
    for (int i = 0; i < 4; i++) {
        uint8_t msg[3] = {'m', (uint8_t)('0' + i), 0};
        REQUIRE(p2p_seal(&a.ci, msg, sizeof msg, &f[i]) == P2P_OK);
    }
    CHECK_EQ(a.ci.tx_counter, 4);
    CHECK_EQ(p2p_open(&b.ci, f[0].data, f[0].len, plain, &n), P2P_OK);
    CHECK(n == 3 && plain[1] == '0');
    /* replay of frame 1 */
    CHECK_EQ(p2p_open(&b.ci, f[0].data, f[0].len, plain, &n), P2P_ERR_REPLAY);
    /* tampered ciphertext: refused, and the counter does not move */
    f[1].data[9] ^= 0x40;
    CHECK_EQ(p2p_open(&b.ci, f[1].data, f[1].len, plain, &n), P2P_ERR_AUTH);
    CHECK_EQ(b.ci.rx_counter, 1);
    f[1].data[9] ^= 0x40;
    /* a tampered counter (jumping ahead) fails authentication */
    f[1].data[0] ^= 0x01;
    CHECK_EQ(p2p_open(&b.ci, f[1].data, f[1].len, plain, &n), P2P_ERR_AUTH);
    f[1].data[0] ^= 0x01;
    /* a tampered tag */
    f[1].data[f[1].len - 1] ^= 0x80;
    CHECK_EQ(p2p_open(&b.ci, f[1].data, f[1].len, plain, &n), P2P_ERR_AUTH);
    f[1].data[f[1].len - 1] ^= 0x80;
    /* reordering: 3 before 2 — 3 is accepted, 2 is then a replay */
    CHECK_EQ(p2p_open(&b.ci, f[2].data, f[2].len, plain, &n), P2P_OK);
    CHECK(plain[1] == '2');
    CHECK_EQ(p2p_open(&b.ci, f[1].data, f[1].len, plain, &n), P2P_ERR_REPLAY);
    CHECK_EQ(p2p_open(&b.ci, f[3].data, f[3].len, plain, &n), P2P_OK);
    /* a frame of our own direction does not open */
    CHECK_EQ(p2p_open(&a.ci, f[3].data, f[3].len, plain, &n), P2P_ERR_AUTH);
    /* short and long bodies */
    CHECK_EQ(p2p_open(&b.ci, f[3].data, 23, plain, &n), P2P_ERR_TRUNCATED);
    struct vm_buf big = {0};
    static uint8_t zeros[P2P_MAX_PLAINTEXT + 1];
    CHECK_EQ(p2p_seal(&a.ci, zeros, sizeof zeros, &big), P2P_ERR_TOO_LARGE);
    CHECK_EQ(p2p_seal(&a.ci, zeros, P2P_MAX_PLAINTEXT, &big), P2P_OK);
    CHECK_EQ(big.len, P2P_MAX_FRAME);
    CHECK_EQ(p2p_open(&b.ci, big.data, big.len, plain, &n), P2P_OK);
    CHECK_EQ(n, P2P_MAX_PLAINTEXT);
    vm_buf_free(&big);
    for (int i = 0; i < 4; i++)
        vm_buf_free(&f[i]);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    struct vm_secp *secp = NULL;
    REQUIRE(vm_secp_new(&secp) == VM_OK);
    test_handshake(secp);
    test_cipher(secp);
    vm_secp_free(secp);
    return check_report("p2p session");
}
