/*
 * mallory — a scripted malicious peer for tests/node/mallory.js.
 *
 *   mallory KEYHEX PEER_ADDRESS LISTEN_URL CHAIN_ID ADJUDICATOR APP_ADDRESS CODE_HEX POT
 *
 * Holds a player's real key (it stands in for that player's node) and
 * listens where that node listened, so the other node connects to it. It
 * learns the channel's state from the peer's SYNC_REPLY and runs TicTacToe
 * moves on the node's own app code (node/app.c), so it can send proposals
 * that are valid except for the one thing a test wants wrong. Commands come
 * on stdin, one per line; everything it sees and does goes to stdout as one
 * JSON object per line:
 *   sync                         SYNC saying we know nothing (the peer answers with its latest)
 *   propose NONCE BASE CELL MODE a PROPOSE of play(CELL) at NONCE on breakpoint BASE; MODE:
 *                                ok, badsig (a signature by another key), othermover
 *                                (the mover is the peer itself), blind (not executed: the
 *                                signature covers an empty breakpoint)
 *   replay                       the last PROPOSE sent, once more, byte for byte
 *   accept MODE                  answers the peer's last PROPOSE: ok, or badsig
 *   acceptclose                  answers the peer's last CLOSE (signs the final breakpoint)
 *   syncreply MODE               the peer's last PROPOSE, executed and signed by us, sent back
 *                                as a SYNC_REPLY: ok, tamper-move (another cell than the one
 *                                signed), tamper-storage (a slot changed), badsig
 * A proposal of ours that the peer ACCEPTs with a valid signature, and a
 * breakpoint we sign for the peer (accept ok / syncreply ok), becomes our
 * latest state. Events: {"ev":"ready"}, {"ev":"connected"}, {"ev":"loaded","nonce":N},
 * {"ev":"msg","type":T,"nonce":N,...}, {"ev":"sent","what":...}, {"ev":"error","what":...}.
 */
#include "app.h"
#include "p2p.h"
#include "vm.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mallory {
    pthread_mutex_t mu;
    struct p2p *p2p;
    struct vm_secp *secp;
    uint8_t key[32], other_key[32];
    vm_address self, peer, adjudicator, app_address;
    vm_u256 chain_id, pot;
    uint8_t *code;
    size_t code_len;
    int me; /* our index in players[] */
    /* the latest fully signed state */
    bool loaded;
    vm_bytes32 channel_id;
    struct vm_breakpoint latest;
    uint8_t latest_sigs[2][65];
    size_t n_slots;
    vm_u256 keys[APP_MAX_SLOTS], values[APP_MAX_SLOTS];
    /* the peer's last PROPOSE, and our own proposal in flight */
    bool has_propose;
    struct p2p_propose propose;
    bool has_close;
    struct p2p_close close;
    bool has_sent;
    struct p2p_propose sent; /* for replay */
    bool has_own;
    struct vm_breakpoint own;
    uint8_t own_sig[65];
    size_t own_n_slots;
    vm_u256 own_keys[APP_MAX_SLOTS], own_values[APP_MAX_SLOTS];
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void digest(const struct mallory *m, const struct vm_breakpoint *bp, uint8_t d[32])
{
    vm_breakpoint_digest(bp, m->chain_id, &m->adjudicator, d);
}

static bool sign_bp(const struct mallory *m, const struct vm_breakpoint *bp, bool bad, uint8_t sig[65])
{
    uint8_t d[32];
    digest(m, bp, d);
    return vm_sign(m->secp, bad ? m->other_key : m->key, d, sig) == VM_OK;
}

static void play_calldata(unsigned cell, uint8_t out[36])
{
    uint8_t h[32];
    vm_keccak256((const uint8_t *)"play(uint8)", 11, h);
    memcpy(out, h, 4);
    memset(out + 4, 0, 32);
    out[35] = (uint8_t)cell;
}

/* Runs mover's call at nonce on the latest state. Fills bp and the storage after it. */
static bool execute(struct mallory *m, const vm_address *mover, const uint8_t *cd, size_t len,
                    uint64_t nonce, struct vm_breakpoint *bp, vm_u256 *keys, vm_u256 *values,
                    size_t *n_slots)
{
    struct app app;
    if (app_load(&app, &m->app_address, &m->adjudicator, m->chain_id, m->pot, m->code, m->code_len,
                 m->keys, m->values, m->n_slots) != APP_OK)
        return false;
    struct app_outcome out;
    int rv = app_move(&app, mover, cd, len, nonce, &out);
    int count = rv == APP_OK ? app_slots(&app, keys, values, APP_MAX_SLOTS) : -1;
    app_free(&app);
    if (rv != APP_OK) {
        say("{\"ev\":\"error\",\"what\":\"the move does not execute: %s\"}", out.reason);
        return false;
    }
    if (count < 0) return false;
    *n_slots = (size_t)count;
    memset(bp, 0, sizeof *bp);
    bp->channel_id = m->channel_id;
    bp->nonce = nonce;
    memcpy(bp->state_root.b, out.state_root, 32);
    app_move_hash(mover, cd, len, bp->move_hash.b);
    memcpy(bp->payouts, out.payouts, sizeof out.payouts);
    bp->is_final = out.is_final;
    return true;
}

static void adopt(struct mallory *m, const struct vm_breakpoint *bp, const uint8_t sigs[2][65],
                  const vm_u256 *keys, const vm_u256 *values, size_t n)
{
    m->latest = *bp;
    memcpy(m->latest_sigs, sigs, sizeof m->latest_sigs);
    m->n_slots = n;
    memcpy(m->keys, keys, n * sizeof *keys);
    memcpy(m->values, values, n * sizeof *values);
    m->loaded = true;
    say("{\"ev\":\"loaded\",\"nonce\":%llu}", (unsigned long long)bp->nonce);
}

static void send(struct mallory *m, struct p2p_msg *msg, const char *what)
{
    msg->channel_id = m->channel_id;
    int rv = p2p_send(m->p2p, &m->peer, msg);
    if (rv) say("{\"ev\":\"error\",\"what\":\"send %s: %s\"}", what, p2p_strerror(rv));
    else say("{\"ev\":\"sent\",\"what\":\"%s\"}", what);
}

static void say_proposal(const char *type, uint64_t nonce, uint64_t base)
{
    say("{\"ev\":\"msg\",\"type\":\"%s\",\"nonce\":%llu,\"base\":%llu}", type,
        (unsigned long long)nonce, (unsigned long long)base);
}

static void on_message(void *user, const vm_address *from, const struct p2p_msg *msg)
{
    struct mallory *m = user;
    (void)from;
    pthread_mutex_lock(&m->mu);
    m->channel_id = msg->channel_id;
    switch (msg->type) {
    case P2P_MSG_PROPOSE:
        m->propose = msg->u.propose;
        m->has_propose = true;
        say_proposal("PROPOSE", msg->u.propose.nonce, msg->u.propose.base_nonce);
        break;
    case P2P_MSG_ACCEPT: {
        bool ours = m->has_own && msg->u.accept.nonce == m->own.nonce;
        /* an ACCEPT of the latest again (a replayed proposal): is it the same signature? */
        bool again = !ours && m->loaded && msg->u.accept.nonce == m->latest.nonce;
        uint8_t d[32];
        vm_address signer;
        bool valid = false;
        if (ours || again) {
            digest(m, ours ? &m->own : &m->latest, d);
            valid = vm_recover(m->secp, d, msg->u.accept.sig, &signer) == VM_OK &&
                    memcmp(signer.b, m->peer.b, 20) == 0;
        }
        bool same = again && memcmp(msg->u.accept.sig, m->latest_sigs[1 - m->me], 65) == 0;
        say("{\"ev\":\"msg\",\"type\":\"ACCEPT\",\"nonce\":%llu,\"ours\":%s,\"valid\":%s,\"same\":%s}",
            (unsigned long long)msg->u.accept.nonce, ours ? "true" : "false", valid ? "true" : "false",
            same ? "true" : "false");
        if (valid && m->own.nonce > m->latest.nonce) {
            uint8_t sigs[2][65];
            memcpy(sigs[m->me], m->own_sig, 65);
            memcpy(sigs[1 - m->me], msg->u.accept.sig, 65);
            adopt(m, &m->own, (const uint8_t(*)[65])sigs, m->own_keys, m->own_values, m->own_n_slots);
            m->has_own = false;
        }
        break;
    }
    case P2P_MSG_REJECT:
        say("{\"ev\":\"msg\",\"type\":\"REJECT\",\"nonce\":%llu}", (unsigned long long)msg->u.reject.nonce);
        break;
    case P2P_MSG_CLOSE:
        m->close = msg->u.close;
        m->has_close = true;
        say_proposal("CLOSE", msg->u.close.nonce, msg->u.close.base_nonce);
        break;
    case P2P_MSG_SYNC:
        say("{\"ev\":\"msg\",\"type\":\"SYNC\",\"nonce\":%llu}", (unsigned long long)msg->u.sync.signed_nonce);
        break;
    case P2P_MSG_SYNC_REPLY: {
        const struct p2p_sync_reply *r = &msg->u.sync_reply;
        say("{\"ev\":\"msg\",\"type\":\"SYNC_REPLY\",\"nonce\":%llu}", (unsigned long long)r->bp.nonce);
        if (m->loaded && r->bp.nonce <= m->latest.nonce) break;
        vm_u256 *k = calloc(APP_MAX_SLOTS, sizeof *k), *v = calloc(APP_MAX_SLOTS, sizeof *v);
        if (k && v && r->n_slots <= APP_MAX_SLOTS) {
            for (size_t i = 0; i < r->n_slots; i++) {
                k[i] = r->slots[i].key;
                v[i] = r->slots[i].value;
            }
            struct vm_breakpoint bp = r->bp;
            bp.channel_id = msg->channel_id;
            adopt(m, &bp, r->sigs, k, v, r->n_slots);
        }
        free(k);
        free(v);
        break;
    }
    default:
        say("{\"ev\":\"msg\",\"type\":\"%s\"}", p2p_msg_type_name(msg->type));
        break;
    }
    pthread_mutex_unlock(&m->mu);
}

static void on_peer(void *user, const vm_address *peer, bool connected)
{
    (void)user;
    (void)peer;
    say("{\"ev\":\"%s\"}", connected ? "connected" : "disconnected");
}

static void cmd_propose(struct mallory *m, struct p2p_msg *msg, uint64_t nonce, uint64_t base,
                        unsigned cell, const char *mode)
{
    uint8_t cd[36];
    play_calldata(cell, cd);
    vm_address mover = strcmp(mode, "othermover") == 0 ? m->peer : m->self;
    struct vm_breakpoint bp;
    memset(&bp, 0, sizeof bp);
    if (strcmp(mode, "blind") != 0 &&
        !execute(m, &m->self, cd, sizeof cd, nonce, &bp, m->own_keys, m->own_values, &m->own_n_slots))
        return;
    uint8_t sig[65];
    if (!sign_bp(m, &bp, strcmp(mode, "badsig") == 0, sig)) return;
    if (strcmp(mode, "ok") == 0) {
        m->own = bp;
        memcpy(m->own_sig, sig, 65);
        m->has_own = true;
    }
    msg->type = P2P_MSG_PROPOSE;
    msg->u.propose.nonce = nonce;
    msg->u.propose.base_nonce = base;
    msg->u.propose.mover = mover;
    msg->u.propose.calldata_len = sizeof cd;
    memcpy(msg->u.propose.calldata, cd, sizeof cd);
    memcpy(msg->u.propose.sig, sig, 65);
    m->sent = msg->u.propose;
    m->has_sent = true;
    send(m, msg, "PROPOSE");
}

/* The peer's last proposal, executed and signed by us. */
static bool sign_peer_proposal(struct mallory *m, bool bad, struct vm_breakpoint *bp, uint8_t sigs[2][65],
                               vm_u256 *keys, vm_u256 *values, size_t *n)
{
    if (!m->has_propose) {
        say("{\"ev\":\"error\",\"what\":\"no PROPOSE from the peer yet\"}");
        return false;
    }
    const struct p2p_propose *p = &m->propose;
    if (!execute(m, &p->mover, p->calldata, p->calldata_len, p->nonce, bp, keys, values, n)) return false;
    memcpy(sigs[1 - m->me], p->sig, 65);
    return sign_bp(m, bp, bad, sigs[m->me]);
}

static void cmd_answer(struct mallory *m, struct p2p_msg *msg, bool as_sync_reply, const char *mode)
{
    struct vm_breakpoint bp;
    uint8_t sigs[2][65];
    size_t n = 0;
    vm_u256 *keys = calloc(APP_MAX_SLOTS, sizeof *keys), *values = calloc(APP_MAX_SLOTS, sizeof *values);
    if (!keys || !values ||
        !sign_peer_proposal(m, strcmp(mode, "badsig") == 0, &bp, sigs, keys, values, &n))
        goto out;
    if (!as_sync_reply) {
        msg->type = P2P_MSG_ACCEPT;
        msg->u.accept.nonce = bp.nonce;
        memcpy(msg->u.accept.sig, sigs[m->me], 65);
        send(m, msg, "ACCEPT");
    } else {
        struct p2p_sync_reply *r = &msg->u.sync_reply;
        msg->type = P2P_MSG_SYNC_REPLY;
        r->bp = bp;
        memcpy(r->sigs, sigs, sizeof r->sigs);
        r->mover = m->propose.mover;
        r->calldata_len = m->propose.calldata_len;
        memcpy(r->calldata, m->propose.calldata, r->calldata_len);
        if (strcmp(mode, "tamper-move") == 0) r->calldata[r->calldata_len - 1] ^= 1;
        r->n_slots = n;
        for (size_t i = 0; i < n; i++) {
            r->slots[i].key = keys[i];
            r->slots[i].value = values[i];
        }
        if (strcmp(mode, "tamper-storage") == 0 && n > 0)
            r->slots[n - 1].value = vm_u256_add(r->slots[n - 1].value, vm_u256_from_u64(1));
        send(m, msg, "SYNC_REPLY");
    }
    if (strcmp(mode, "ok") == 0) adopt(m, &bp, (const uint8_t(*)[65])sigs, keys, values, n);
out:
    free(keys);
    free(values);
}

/* The peer's CLOSE: the latest state, final, no move, at the CLOSE's nonce. */
static void cmd_accept_close(struct mallory *m, struct p2p_msg *msg)
{
    if (!m->has_close || m->close.base_nonce != m->latest.nonce) {
        say("{\"ev\":\"error\",\"what\":\"no CLOSE on our latest breakpoint\"}");
        return;
    }
    struct vm_breakpoint bp = m->latest;
    bp.nonce = m->close.nonce;
    memset(bp.move_hash.b, 0, 32);
    bp.is_final = true;
    uint8_t sigs[2][65];
    memcpy(sigs[1 - m->me], m->close.sig, 65);
    if (!sign_bp(m, &bp, false, sigs[m->me])) return;
    msg->type = P2P_MSG_ACCEPT;
    msg->u.accept.nonce = bp.nonce;
    memcpy(msg->u.accept.sig, sigs[m->me], 65);
    send(m, msg, "ACCEPT");
    adopt(m, &bp, (const uint8_t(*)[65])sigs, m->keys, m->values, m->n_slots);
}

static int setup(struct mallory *m, char **argv)
{
    size_t got = 0;
    if (vm_hex_decode(argv[1], m->key, 32, &got) != VM_OK || got != 32) return 1;
    if (vm_address_parse(argv[2], &m->peer) != VM_OK) return 1;
    uint64_t chain = strtoull(argv[4], NULL, 10);
    m->chain_id = vm_u256_from_u64(chain);
    if (vm_address_parse(argv[5], &m->adjudicator) != VM_OK ||
        vm_address_parse(argv[6], &m->app_address) != VM_OK)
        return 1;
    const char *hex = argv[7];
    if (hex[0] == '0' && hex[1] == 'x') hex += 2;
    m->code = malloc(strlen(hex) / 2 + 1);
    if (!m->code || vm_hex_decode(hex, m->code, strlen(hex) / 2 + 1, &m->code_len) != VM_OK) return 1;
    if (vm_u256_parse(argv[8], &m->pot) != VM_OK) return 1;
    if (vm_secp_new(&m->secp) != VM_OK || vm_key_address(m->secp, m->key, &m->self) != VM_OK) return 1;
    /* another key, for signatures that must not verify */
    memset(m->other_key, 0x42, 32);
    /* the opener (players[0]) dials; we stand in for players[1] */
    m->me = 1;
    struct p2p_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.eth_key = m->key;
    cfg.secp = m->secp;
    cfg.listen_url = argv[3];
    cfg.user = m;
    cfg.on_message = on_message;
    cfg.on_peer_state = on_peer;
    if (p2p_new(&cfg, &m->p2p) != P2P_OK || p2p_allow_peer(m->p2p, &m->peer) != P2P_OK) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: mallory KEYHEX PEER LISTEN_URL CHAIN_ID ADJUDICATOR APP CODE_HEX POT\n");
        return 2;
    }
    struct mallory *m = calloc(1, sizeof *m);
    struct p2p_msg *msg = malloc(sizeof *msg);
    if (!m || !msg) return 1;
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_lock(&m->mu); /* no callback before setup is complete */
    if (setup(m, argv)) {
        fprintf(stderr, "mallory: bad arguments or cannot listen\n");
        return 1;
    }
    pthread_mutex_unlock(&m->mu);
    say("{\"ev\":\"ready\"}");
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        char mode[32] = "ok";
        unsigned long long nonce = 0, base = 0;
        unsigned cell = 0;
        pthread_mutex_lock(&m->mu);
        memset(msg, 0, sizeof *msg);
        if (strncmp(line, "sync", 4) == 0 && (line[4] == '\n' || line[4] == 0)) {
            msg->type = P2P_MSG_SYNC;
            send(m, msg, "SYNC");
        } else if (sscanf(line, "propose %llu %llu %u %31s", &nonce, &base, &cell, mode) == 4) {
            if (m->loaded) cmd_propose(m, msg, nonce, base, cell, mode);
            else say("{\"ev\":\"error\",\"what\":\"no state yet\"}");
        } else if (strncmp(line, "replay", 6) == 0 && m->has_sent) {
            msg->type = P2P_MSG_PROPOSE;
            msg->u.propose = m->sent;
            send(m, msg, "PROPOSE");
        } else if (strncmp(line, "acceptclose", 11) == 0) {
            cmd_accept_close(m, msg);
        } else if (sscanf(line, "accept %31s", mode) == 1) {
            cmd_answer(m, msg, false, mode);
        } else if (sscanf(line, "syncreply %31s", mode) == 1) {
            cmd_answer(m, msg, true, mode);
        } else {
            say("{\"ev\":\"error\",\"what\":\"unknown command\"}");
        }
        pthread_mutex_unlock(&m->mu);
    }
    p2p_free(m->p2p);
    vm_secp_free(m->secp);
    free(m->code);
    free(msg);
    free(m);
    return 0;
}
