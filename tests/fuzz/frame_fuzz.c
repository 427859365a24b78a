/*
 * frame_fuzz.c — libFuzzer target for what a peer can send us.
 *
 * The first input byte picks the path, the rest is the data:
 *  - 0 mod 4: p2p_decode on the data (a plaintext message, as in the handshake);
 *  - 2 mod 4: structure-aware: the data fills a message's fields, which is
 *          encoded, then a few of its bytes are edited as the data says, and
 *          the result decoded — so mutations start from valid messages;
 *  - odd:  the post-handshake frame path: the data is opened as a sealed frame
 *          body (it must fail, never crash), then sealed with the session key
 *          as if an authenticated peer had sent it, opened and decoded — so
 *          the decoder is reached through the real receive path.
 * Oracle: whatever decodes must re-encode to exactly the same bytes (the
 * codec accepts only canonical encodings), and a frame that failed to open
 * must leave the receive counter where it was.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "p2p.h"
#include "session.h"

static struct p2p_msg msg;
static uint8_t plain[P2P_MAX_PLAINTEXT];

static void check_canonical(const uint8_t *data, size_t len)
{
    if (p2p_decode(data, len, &msg) != P2P_OK) return;
    struct vm_buf again = {0};
    if (p2p_encode(&msg, &again) != P2P_OK || again.len != len ||
        memcmp(again.data, data, len) != 0)
        __builtin_trap();
    vm_buf_free(&again);
}

/* A bool filled with arbitrary bytes, read as a byte (reading it as a bool
 * would be undefined). */
static bool bool_bits(const bool *b)
{
    uint8_t v;
    memcpy(&v, b, 1);
    return v & 1;
}

/* Fills a message from fuzz bytes, clamped to what p2p_encode accepts. */
static void edit_valid(const uint8_t *in, size_t len)
{
    if (len < 2) return;
    memset(&msg, 0, sizeof msg);
    msg.type = (enum p2p_msg_type)(1 + in[0] % 8);
    uint8_t edits = in[1] % 5;
    in += 2;
    len -= 2;
    size_t edit_bytes = (size_t)edits * 3;
    if (len < edit_bytes) return;
    const uint8_t *edit = in + len - edit_bytes;
    len -= edit_bytes;
    size_t take = len < sizeof msg.u ? len : sizeof msg.u;
    memcpy(&msg.u, in, take);
    if (len > take) memcpy(msg.channel_id.b, in + take, len - take < 32 ? len - take : 32);
    switch (msg.type) {
    case P2P_MSG_HELLO:
        msg.u.hello.role &= 1;
        break;
    case P2P_MSG_PROPOSE:
        msg.u.propose.calldata_len %= P2P_MAX_CALLDATA + 1;
        break;
    case P2P_MSG_REJECT:
        msg.u.reject.reason[P2P_MAX_REASON] = 0;
        break;
    case P2P_MSG_SYNC_REPLY: {
        struct p2p_sync_reply *r = &msg.u.sync_reply;
        r->bp.channel_id = msg.channel_id;
        r->bp.is_final = bool_bits(&r->bp.is_final);
        r->calldata_len %= P2P_MAX_CALLDATA + 1;
        r->n_slots %= 8;
        for (size_t i = 0; i < r->n_slots; i++) {
            r->slots[i].key = vm_u256_from_u64(i * 3 + 1);
            r->slots[i].value.w[0] |= 1;
        }
        break;
    }
    case P2P_MSG_PING:
        msg.u.ping.reply = bool_bits(&msg.u.ping.reply);
        break;
    default:
        break;
    }
    struct vm_buf enc = {0};
    if (p2p_encode(&msg, &enc) != P2P_OK) __builtin_trap(); /* everything was clamped into bounds */
    for (uint8_t e = 0; e < edits; e++) {
        size_t at = ((size_t)edit[3 * e] << 8 | edit[3 * e + 1]) % enc.len;
        enc.data[at] ^= edit[3 * e + 2];
    }
    check_canonical(enc.data, enc.len);
    vm_buf_free(&enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    const uint8_t *in = data + 1;
    size_t len = size - 1;
    if ((data[0] & 3) == 0) {
        check_canonical(in, len);
        return 0;
    }
    if ((data[0] & 3) == 2) {
        edit_valid(in, len);
        return 0;
    }
    struct p2p_cipher tx = {0}, rx = {0};
    memset(tx.tx_key, 0x42, 32);
    memset(rx.rx_key, 0x42, 32);
    rx.rx_counter = 5;
    tx.tx_counter = 5;
    size_t n = 0;
    if (p2p_open(&rx, in, len, plain, &n) == P2P_OK || rx.rx_counter != 5)
        __builtin_trap(); /* forging a frame without the key */
    struct vm_buf frame = {0};
    if (p2p_seal(&tx, in, len, &frame) == P2P_OK) {
        if (p2p_open(&rx, frame.data, frame.len, plain, &n) != P2P_OK || n != len ||
            rx.rx_counter != 6)
            __builtin_trap();
        check_canonical(plain, n);
        /* the same frame again is a replay */
        if (p2p_open(&rx, frame.data, frame.len, plain, &n) != P2P_ERR_REPLAY) __builtin_trap();
    }
    vm_buf_free(&frame);
    return 0;
}

/* libsodium must be initialised once before use. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return sodium_init() < 0 ? 1 : 0;
}
