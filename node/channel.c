/*
 * The channel state machine (docs/node.md): breakpoint 0, moves, early
 * close, SYNC after a (re)connect, liveness and the decision to dispute.
 *
 * The one rule that is never bent: a signature leaves this node only after
 * the store has durably recorded it, and the store refuses a second,
 * different breakpoint at a nonce this node already signed. Writes go into
 * the loop's batch and sends wait in its outbox until it commits (batch.c).
 */
#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESEND_MS 1000
#define RETRY_DELAY_MS 400

static const vm_address *peer_of(const struct channel *c)
{
    return &c->rec.players[1 - c->rec.me];
}

static void chan_id(const struct channel *c, char out[16])
{
    node_short_hex(c->rec.id.b, 32, out);
}

static void digest_of(struct node *n, const struct vm_breakpoint *bp, uint8_t d[32])
{
    vm_breakpoint_digest(bp, vm_u256_from_u64(n->chain_id), &n->adjudicator, d);
}

/* True if sig over bp recovers to who. */
static bool signed_by(struct node *n, const struct vm_breakpoint *bp, const uint8_t sig[65],
                      const vm_address *who)
{
    uint8_t d[32];
    vm_address signer;
    digest_of(n, bp, d);
    int64_t t0 = node_now_ns();
    bool ok = vm_recover(n->secp, d, sig, &signer) == VM_OK;
    node_metrics_add(&n->metrics.recover, t0);
    return ok && memcmp(signer.b, who->b, 20) == 0;
}

/* One breakpoint record (with the app's storage when it is fully signed)
 * into the open batch, or durably on its own outside a batch. */
static int put_breakpoint(struct node *n, const struct store_breakpoint *rec,
                          const struct vm_storage_slot *slots, size_t n_slots)
{
    int rv = node_may_write(n);
    if (rv == STORE_OK) rv = store_put_breakpoint(n->store, node_txn(n), rec, slots, n_slots);
    if (rv == STORE_OK) n->metrics.writes++;
    return rv;
}

/* The app's move, timed for the cost split. */
static int run_move(struct node *n, struct channel *c, const vm_address *mover,
                    const uint8_t *calldata, size_t len, uint64_t nonce, struct app_outcome *out)
{
    int64_t t0 = node_now_ns();
    int rv = app_move(&c->app, mover, calldata, len, nonce, out);
    node_metrics_add(&n->metrics.evm, t0);
    return rv;
}

/* Signs rec->bp as ours and records it durably (pending if the peer's
 * signature is absent, else as the new latest with the app's storage).
 * Returns 0, or a store error (then nothing may be sent). */
static int sign_and_store(struct node *n, struct channel *c, struct store_breakpoint *rec,
                          bool full)
{
    uint8_t d[32];
    digest_of(n, &rec->bp, d);
    int64_t t0 = node_now_ns();
    int srv = vm_sign(n->secp, n->key, d, rec->sigs[c->rec.me]);
    node_metrics_add(&n->metrics.sign, t0);
    if (srv != VM_OK) return STORE_ERR_INVALID;
    rec->has_sig[c->rec.me] = true;
    if (!full) {
        int prv = put_breakpoint(n, rec, NULL, 0);
        if (prv == STORE_OK) node_signed(n);
        return prv;
    }
    vm_u256 keys[APP_MAX_SLOTS], values[APP_MAX_SLOTS];
    int count = app_slots(&c->app, keys, values, APP_MAX_SLOTS);
    if (count < 0) return STORE_ERR_INVALID;
    struct vm_storage_slot *slots = calloc((size_t)count + 1, sizeof *slots);
    if (!slots) return STORE_ERR_NOMEM;
    for (int i = 0; i < count; i++) {
        slots[i].key = keys[i];
        slots[i].value = values[i];
    }
    int rv = put_breakpoint(n, rec, slots, (size_t)count);
    free(slots);
    if (rv == STORE_OK) node_signed(n);
    return rv;
}

/* Rebuilds the world at the latest fully signed breakpoint (or empty). */
static int reload_app(struct node *n, struct channel *c)
{
    struct vm_storage_slot *slots = NULL;
    size_t n_slots = 0;
    uint64_t nonce;
    int rv = store_get_storage(n->store, node_txn(n), &c->rec.id, &nonce, &slots, &n_slots);
    if (rv && rv != STORE_ERR_NOTFOUND) return rv;
    vm_u256 *keys = calloc(n_slots + 1, sizeof *keys), *values = calloc(n_slots + 1, sizeof *values);
    if (!keys || !values) {
        free(keys);
        free(values);
        free(slots);
        return STORE_ERR_NOMEM;
    }
    for (size_t i = 0; i < n_slots; i++) {
        keys[i] = slots[i].key;
        values[i] = slots[i].value;
    }
    free(slots);
    if (c->app_loaded) app_free(&c->app);
    c->app_loaded = false;
    vm_u256 pot = vm_u256_add(c->rec.deposits[0], c->rec.deposits[1]);
    rv = app_load(&c->app, &c->rec.app, &n->adjudicator, vm_u256_from_u64(n->chain_id), pot,
                  c->code, c->code_len, keys, values, n_slots);
    free(keys);
    free(values);
    if (rv) return STORE_ERR_NOMEM;
    c->app_loaded = true;
    c->app_dirty = false;
    c->app_at_proposal = false;
    return 0;
}

static int ensure_app(struct node *n, struct channel *c)
{
    if (c->app_loaded && !c->app_dirty) return 0;
    return reload_app(n, c);
}

/* Takes m: sent at once, or when the open batch has committed. */
static void send_msg(struct node *n, struct channel *c, struct p2p_msg *m)
{
    m->channel_id = c->rec.id;
    node_send(n, peer_of(c), m);
}

static void send_propose(struct node *n, struct channel *c, const struct store_breakpoint *rec,
                         uint64_t base)
{
    struct p2p_msg *m = node_msg_new(n, P2P_MSG_PROPOSE);
    if (!m) return;
    m->u.propose.nonce = rec->bp.nonce;
    m->u.propose.base_nonce = base;
    m->u.propose.mover = rec->mover;
    m->u.propose.calldata_len = rec->calldata_len;
    memcpy(m->u.propose.calldata, rec->calldata, rec->calldata_len);
    memcpy(m->u.propose.sig, rec->sigs[c->rec.me], 65);
    send_msg(n, c, m);
}

static void send_close(struct node *n, struct channel *c, const struct store_breakpoint *rec,
                       uint64_t base)
{
    struct p2p_msg *m = node_msg_new(n, P2P_MSG_CLOSE);
    if (!m) return;
    m->u.close.nonce = rec->bp.nonce;
    m->u.close.base_nonce = base;
    memcpy(m->u.close.sig, rec->sigs[c->rec.me], 65);
    send_msg(n, c, m);
}

static void send_accept(struct node *n, struct channel *c, uint64_t nonce, const uint8_t sig[65])
{
    struct p2p_msg *m = node_msg_new(n, P2P_MSG_ACCEPT);
    if (!m) return;
    m->u.accept.nonce = nonce;
    memcpy(m->u.accept.sig, sig, 65);
    send_msg(n, c, m);
}

static void send_reject(struct node *n, struct channel *c, uint64_t nonce, const char *why)
{
    char id[16];
    chan_id(c, id);
    node_log(n, "channel %s: rejecting the peer's proposal at nonce %llu: %s", id,
             (unsigned long long)nonce, why);
    struct p2p_msg *m = node_msg_new(n, P2P_MSG_REJECT);
    if (!m) return;
    m->u.reject.nonce = nonce;
    snprintf(m->u.reject.reason, sizeof m->u.reject.reason, "%.*s", (int)sizeof m->u.reject.reason - 1, why);
    send_msg(n, c, m);
}

static void send_sync(struct node *n, struct channel *c)
{
    struct p2p_msg *m = node_msg_new(n, P2P_MSG_SYNC);
    if (!m) return;
    m->u.sync.signed_nonce = c->has_latest ? c->latest.bp.nonce : 0;
    m->u.sync.own_nonce = c->own_signed;
    send_msg(n, c, m);
}

static void send_sync_reply(struct node *n, struct channel *c)
{
    struct vm_storage_slot *slots = NULL;
    size_t n_slots = 0;
    uint64_t nonce;
    if (store_get_storage(n->store, node_txn(n), &c->rec.id, &nonce, &slots, &n_slots) != STORE_OK ||
        n_slots > P2P_MAX_SLOTS) {
        free(slots);
        return;
    }
    struct p2p_msg *m = node_msg_new(n, P2P_MSG_SYNC_REPLY);
    if (!m) {
        free(slots);
        return;
    }
    struct p2p_sync_reply *r = &m->u.sync_reply;
    r->bp = c->latest.bp;
    memcpy(r->sigs, c->latest.sigs, sizeof r->sigs);
    r->mover = c->latest.mover;
    r->calldata_len = c->latest.calldata_len;
    memcpy(r->calldata, c->latest.calldata, c->latest.calldata_len);
    /* the codec wants ascending keys and no zero values */
    for (size_t i = 0; i < n_slots; i++) {
        if (vm_u256_is_zero(slots[i].value)) continue;
        size_t j = r->n_slots++;
        while (j > 0 && vm_u256_cmp(r->slots[j - 1].key, slots[i].key) > 0) {
            r->slots[j] = r->slots[j - 1];
            j--;
        }
        r->slots[j].key = slots[i].key;
        r->slots[j].value = slots[i].value;
    }
    free(slots);
    send_msg(n, c, m);
}

/* Answers the caller of bp move / bp close. */
static void answer_waiter(struct node *n, struct channel *c, const char *error)
{
    struct api_request *req = c->waiter.req;
    if (!req) return;
    c->waiter.req = NULL;
    if (error) node_reply_error(n, req, 409, 409, "%s", error);
    else node_reply(n, req, handlers_channel_json(n, c));
}

static void drop_proposal(struct channel *c);

/* A fully signed breakpoint became the latest. */
static void adopt_latest(struct node *n, struct channel *c, const struct store_breakpoint *rec)
{
    /* Our proposal at or below the adopted nonce can never be accepted now
     * (the store refuses it): drop it and answer its caller, or the channel
     * would refuse every later move ("a move is already waiting"). */
    if (c->pending != PENDING_NONE && c->proposal.bp.nonce <= rec->bp.nonce) {
        char msg[160];
        snprintf(msg, sizeof msg, "the peer's breakpoint %llu superseded this move",
                 (unsigned long long)rec->bp.nonce);
        drop_proposal(c);
        answer_waiter(n, c, msg);
    }
    c->latest = *rec;
    c->has_latest = true;
    n->metrics.breakpoints++;
    if (rec->bp.nonce > c->own_signed || !c->signed_any) c->own_signed = rec->bp.nonce;
    c->signed_any = true;
    char id[16], root[16];
    chan_id(c, id);
    node_short_hex(rec->bp.state_root.b, 32, root);
    node_log(n, "channel %s: breakpoint %llu signed by both players (state root %s%s)", id,
             (unsigned long long)rec->bp.nonce, root, rec->bp.is_final ? ", final" : "");
    if (rec->bp.nonce == 0 && c->rec.status == STORE_CH_FUNDING && c->rec.me == 1 &&
        !(c->rec.flags & STORE_FLAG_DEPOSIT1) && c->tx_kind == TX_NONE) {
        char why[256];
        node_log(n, "channel %s: breakpoint 0 is signed, depositing our share", id);
        c->next_deposit_ms = now_ms() + 5000;
        if (onchain_deposit(n, c, why, sizeof why)) node_log(n, "cannot deposit: %s", why);
    }
    if (c->rec.status == STORE_CH_FUNDING && (c->rec.flags & STORE_FLAG_DEPOSIT1))
        c->rec.status = STORE_CH_OPEN;
    if (rec->bp.is_final && (c->rec.status == STORE_CH_OPEN || c->rec.status == STORE_CH_FUNDING)) {
        c->rec.status = STORE_CH_CLOSING;
        node_log(n, "channel %s: the game is over; concluding on-chain", id);
    }
    if (persist_channel(n, c)) node_log(n, "warning: cannot update the store");
}

/* The app's code for a channel we open: its hash becomes the channel's. */
int channel_fetch_code_unchecked(struct node *n, struct channel *c)
{
    struct vm_buf code = {0};
    if (chain_get_code(n->rpc, &c->rec.app, CHAIN_BLOCK_LATEST, &code) != CHAIN_OK || code.len == 0) {
        vm_buf_free(&code);
        return -1;
    }
    vm_keccak256(code.data, code.len, c->rec.code_hash.b);
    c->code = code.data;
    c->code_len = code.len;
    return 0;
}

int channel_fetch_code(struct node *n, struct channel *c)
{
    if (c->code) return 0;
    struct vm_buf buf = {0};
    int rv = chain_get_code(n->rpc, &c->rec.app, CHAIN_BLOCK_LATEST, &buf);
    uint8_t *code = buf.data;
    size_t len = buf.len;
    char id[16];
    chan_id(c, id);
    if (rv) {
        node_log(n, "channel %s: cannot fetch the app's code: %s", id, chain_strerror(rv));
        return -1;
    }
    uint8_t h[32];
    vm_keccak256(code, len, h);
    if (len == 0 || memcmp(h, c->rec.code_hash.b, 32) != 0) {
        node_log(n, "channel %s: the app's code on-chain does not match the channel's code hash", id);
        free(code);
        return -1;
    }
    c->code = code;
    c->code_len = len;
    return 0;
}

/* Breakpoint 0: init(players, initArgs) from the adjudicator, signed by us. */
void channel_start(struct node *n, struct channel *c)
{
    char id[16];
    chan_id(c, id);
    /* A new channel with a peer whose session is already up (another
     * channel's): no "connected" event will come for it, so start here. */
    if (!c->peer_connected && p2p_peer_connected(n->p2p, peer_of(c))) {
        c->peer_connected = true;
        c->last_heard_ms = now_ms();
        send_sync(n, c);
    }
    if (c->has_latest || c->has_bp0) return;
    if (channel_fetch_code(n, c) || reload_app(n, c)) return;
    struct app_outcome out;
    int rv = app_init(&c->app, c->rec.players, c->rec.init_args, c->rec.init_args_len, &out);
    if (rv) {
        node_log(n, "channel %s: the app's init failed (%s); the channel cannot start", id,
                 rv == APP_ERR_REVERTED ? out.reason : app_strerror(rv));
        return;
    }
    memset(&c->bp0, 0, sizeof c->bp0);
    c->bp0.bp.channel_id = c->rec.id;
    c->bp0.bp.nonce = 0;
    memcpy(c->bp0.bp.state_root.b, out.state_root, 32);
    memcpy(c->bp0.bp.payouts, out.payouts, sizeof out.payouts);
    c->bp0.bp.is_final = out.is_final;
    rv = sign_and_store(n, c, &c->bp0, false);
    if (rv) {
        node_log(n, "channel %s: cannot sign breakpoint 0: %s", id, store_strerror(rv));
        return;
    }
    c->has_bp0 = true;
    c->signed_any = true;
    c->own_signed = 0;
    c->app_dirty = false; /* the world is at bp 0 */
    node_log(n, "channel %s: breakpoint 0 signed by us", id);
    if (c->rec.me == 1 && c->peer_connected) send_propose(n, c, &c->bp0, 0);
}

/* ---------------------------------------------------------------------- */

static bool may_propose(struct channel *c, bool retry, char *why, size_t why_len)
{
    if (c->rec.status != STORE_CH_OPEN) {
        snprintf(why, why_len, "the channel is not open for moves (both deposits and breakpoint 0 come first)");
        return false;
    }
    if (!c->has_latest || c->latest.bp.is_final) {
        snprintf(why, why_len, "the game is over: no move follows a final breakpoint");
        return false;
    }
    /* a retry after a concurrent proposal still has its caller waiting */
    if (c->pending != PENDING_NONE || (c->waiter.req && !retry)) {
        snprintf(why, why_len, "a move is already waiting for the peer's signature");
        return false;
    }
    if (!c->peer_connected) {
        snprintf(why, why_len, "the peer is not connected");
        return false;
    }
    if (!c->synced) {
        snprintf(why, why_len, "still synchronising with the peer; try again in a moment");
        return false;
    }
    return true;
}

static uint64_t next_nonce(const struct channel *c)
{
    uint64_t top = c->latest.bp.nonce > c->own_signed ? c->latest.bp.nonce : c->own_signed;
    return top + 1;
}

/* Signs c->proposal through the store (durable before it exists anywhere
 * else), marks it in flight and sends it as a PROPOSE or a CLOSE. */
static int send_own_proposal(struct node *n, struct channel *c, enum channel_pending_kind kind,
                             char *why, size_t why_len)
{
    struct store_breakpoint *p = &c->proposal;
    int rv = sign_and_store(n, c, p, false);
    if (rv) {
        snprintf(why, why_len, "cannot sign the %s: %s", kind == PENDING_MOVE ? "move" : "close",
                 store_strerror(rv));
        return -1;
    }
    c->own_signed = p->bp.nonce;
    c->pending = kind;
    c->pending_since_ms = now_ms();
    if (kind == PENDING_MOVE) send_propose(n, c, p, c->latest.bp.nonce);
    else send_close(n, c, p, c->latest.bp.nonce);
    return 0;
}

static int propose_move(struct node *n, struct channel *c, const vm_address *mover,
                        const uint8_t *calldata, size_t len, bool retry, char *why, size_t why_len)
{
    if (!may_propose(c, retry, why, why_len)) return -1;
    if (len > STORE_MAX_CALLDATA || len > P2P_MAX_CALLDATA) {
        snprintf(why, why_len, "the call data is too large");
        return -1;
    }
    if (ensure_app(n, c)) {
        snprintf(why, why_len, "cannot load the channel's state");
        return -1;
    }
    uint64_t nonce = next_nonce(c);
    struct app_outcome out;
    int rv = run_move(n, c, mover, calldata, len, nonce, &out);
    if (rv) {
        snprintf(why, why_len, "invalid move: %s", rv == APP_ERR_REVERTED ? out.reason : app_strerror(rv));
        c->app_dirty = rv != APP_ERR_REVERTED;
        return -1;
    }
    c->app_dirty = true; /* at `nonce` until the peer signs */
    c->app_at_proposal = true;
    struct store_breakpoint *p = &c->proposal;
    memset(p, 0, sizeof *p);
    p->bp.channel_id = c->rec.id;
    p->bp.nonce = nonce;
    memcpy(p->bp.state_root.b, out.state_root, 32);
    app_move_hash(mover, calldata, len, p->bp.move_hash.b);
    memcpy(p->bp.payouts, out.payouts, sizeof out.payouts);
    p->bp.is_final = out.is_final;
    p->mover = *mover;
    memcpy(p->calldata, calldata, len);
    p->calldata_len = len;
    return send_own_proposal(n, c, PENDING_MOVE, why, why_len);
}

int channel_propose_move(struct node *n, struct channel *c, const vm_address *mover,
                         const uint8_t *calldata, size_t len, char *why, size_t why_len)
{
    return propose_move(n, c, mover, calldata, len, false, why, why_len);
}

int channel_propose_close(struct node *n, struct channel *c, char *why, size_t why_len)
{
    if (!may_propose(c, false, why, why_len)) return -1;
    uint64_t nonce = next_nonce(c);
    struct store_breakpoint *p = &c->proposal;
    memset(p, 0, sizeof *p);
    p->bp = c->latest.bp;
    p->bp.nonce = nonce;
    memset(p->bp.move_hash.b, 0, 32);
    p->bp.is_final = true;
    return send_own_proposal(n, c, PENDING_CLOSE, why, why_len);
}

/* Our proposal is dead (rejected, superseded): the world goes back to `latest`. */
static void drop_proposal(struct channel *c)
{
    c->pending = PENDING_NONE;
    c->app_dirty = true;
    c->app_at_proposal = false;
}

/* The peer's breakpoint 0 signature: players[1] sends it as PROPOSE at
 * nonce 0, the opener answers with ACCEPT 0. Only a PROPOSE is answered, so
 * two nodes that both hold breakpoint 0 never bounce ACCEPTs between them. */
static void on_bp0(struct node *n, struct channel *c, const uint8_t sig[65], bool is_propose)
{
    if (c->has_latest) {
        if (is_propose && c->latest.bp.nonce == 0) send_accept(n, c, 0, c->latest.sigs[c->rec.me]);
        return;
    }
    if (!c->has_bp0) return; /* not computed yet: the peer resends */
    int peer = 1 - c->rec.me;
    if (!signed_by(n, &c->bp0.bp, sig, &c->rec.players[peer])) {
        char id[16];
        chan_id(c, id);
        node_log(n, "channel %s: the peer's signature of breakpoint 0 does not match ours; "
                    "refusing it (the app or its code differs?)", id);
        return;
    }
    struct store_breakpoint rec = c->bp0;
    memcpy(rec.sigs[peer], sig, 65);
    rec.has_sig[peer] = true;
    if (ensure_app(n, c) == 0 && sign_and_store(n, c, &rec, true) == 0) {
        adopt_latest(n, c, &rec);
        if (c->rec.me == 0) send_accept(n, c, 0, rec.sigs[c->rec.me]);
    }
}

/* A peer's proposal may skip a few nonces (a retry after a concurrent
 * proposal does), but not jump arbitrarily far: next_nonce() would wrap at
 * UINT64_MAX and every later proposal of ours would be refused by the store. */
#define MAX_NONCE_JUMP 1000000u
static bool nonce_jump_ok(const struct channel *c, uint64_t nonce)
{
    uint64_t top = c->latest.bp.nonce > c->own_signed ? c->latest.bp.nonce : c->own_signed;
    return top < UINT64_MAX - MAX_NONCE_JUMP && nonce <= top + MAX_NONCE_JUMP;
}

static void on_propose(struct node *n, struct channel *c, const struct p2p_msg *m)
{
    const struct p2p_propose *pr = &m->u.propose;
    const vm_address *peer = peer_of(c);
    char why[300];
    if (pr->nonce == 0) {
        on_bp0(n, c, pr->sig, true);
        return;
    }
    if (memcmp(pr->mover.b, peer->b, 20) != 0) {
        send_reject(n, c, pr->nonce, "the mover must be the proposing player");
        return;
    }
    /* A re-sent proposal we already signed: answer again. */
    if (c->has_latest && pr->nonce == c->latest.bp.nonce) {
        uint8_t mh[32];
        app_move_hash(&pr->mover, pr->calldata, pr->calldata_len, mh);
        if (memcmp(mh, c->latest.bp.move_hash.b, 32) == 0)
            send_accept(n, c, pr->nonce, c->latest.sigs[c->rec.me]);
        return;
    }
    if (c->rec.status != STORE_CH_OPEN) {
        send_reject(n, c, pr->nonce, "the channel is not open for moves here yet");
        return;
    }
    if (!c->has_latest || c->latest.bp.is_final) {
        send_reject(n, c, pr->nonce, "the game is over");
        return;
    }
    if (pr->base_nonce > c->latest.bp.nonce) {
        send_reject(n, c, pr->nonce, "behind the proposer's state; synchronising");
        send_sync(n, c);
        return;
    }
    if (pr->base_nonce < c->latest.bp.nonce) {
        send_reject(n, c, pr->nonce, "stale base breakpoint");
        send_sync_reply(n, c);
        return;
    }
    if (!nonce_jump_ok(c, pr->nonce)) {
        send_reject(n, c, pr->nonce, "the nonce jumps too far ahead");
        return;
    }
    if (pr->nonce <= c->own_signed) {
        /* Both moved at once: each signed its own breakpoint at this nonce. */
        if (c->pending != PENDING_NONE && c->proposal.bp.nonce == pr->nonce &&
            c->pending == PENDING_MOVE) {
            c->has_retry = true;
            c->retry_mover = c->proposal.mover;
            memcpy(c->retry_calldata, c->proposal.calldata, c->proposal.calldata_len);
            c->retry_len = c->proposal.calldata_len;
            c->retry_at_ms = now_ms() + (c->rec.me == 0 ? 0 : RETRY_DELAY_MS);
            drop_proposal(c);
        }
        snprintf(why, sizeof why, "concurrent proposal at nonce %llu", (unsigned long long)pr->nonce);
        send_reject(n, c, pr->nonce, why);
        return;
    }
    if (c->pending != PENDING_NONE) {
        /* our proposal at a lower nonce waits: the world is at it, and the
         * peer has not signed it yet; the peer retries after our answer */
        snprintf(why, sizeof why, "concurrent proposal at nonce %llu (ours at %llu waits)",
                 (unsigned long long)pr->nonce, (unsigned long long)c->proposal.bp.nonce);
        send_reject(n, c, pr->nonce, why);
        return;
    }
    if (ensure_app(n, c)) {
        send_reject(n, c, pr->nonce, "internal error: cannot load the state");
        return;
    }
    struct app_outcome out;
    int rv = run_move(n, c, &pr->mover, pr->calldata, pr->calldata_len, pr->nonce, &out);
    if (rv) {
        c->app_dirty = rv != APP_ERR_REVERTED;
        snprintf(why, sizeof why, "invalid move: %s",
                 rv == APP_ERR_REVERTED ? out.reason : app_strerror(rv));
        send_reject(n, c, pr->nonce, why);
        return;
    }
    struct store_breakpoint rec;
    memset(&rec, 0, sizeof rec);
    rec.bp.channel_id = c->rec.id;
    rec.bp.nonce = pr->nonce;
    memcpy(rec.bp.state_root.b, out.state_root, 32);
    app_move_hash(&pr->mover, pr->calldata, pr->calldata_len, rec.bp.move_hash.b);
    memcpy(rec.bp.payouts, out.payouts, sizeof out.payouts);
    rec.bp.is_final = out.is_final;
    rec.mover = pr->mover;
    memcpy(rec.calldata, pr->calldata, pr->calldata_len);
    rec.calldata_len = pr->calldata_len;
    int pi = 1 - c->rec.me;
    if (!signed_by(n, &rec.bp, pr->sig, peer)) {
        c->app_dirty = true;
        send_reject(n, c, pr->nonce, "the signature does not match the breakpoint this move produces");
        return;
    }
    memcpy(rec.sigs[pi], pr->sig, 65);
    rec.has_sig[pi] = true;
    rv = sign_and_store(n, c, &rec, true);
    if (rv) {
        c->app_dirty = true;
        snprintf(why, sizeof why, "cannot store the breakpoint: %s", store_strerror(rv));
        send_reject(n, c, pr->nonce, why);
        return;
    }
    c->app_dirty = false;
    adopt_latest(n, c, &rec);
    send_accept(n, c, rec.bp.nonce, rec.sigs[c->rec.me]);
    if (c->has_retry) c->retry_at_ms = now_ms();
}

static void on_close(struct node *n, struct channel *c, const struct p2p_msg *m)
{
    const struct p2p_close *cl = &m->u.close;
    char why[200];
    if (c->has_latest && cl->nonce == c->latest.bp.nonce && c->latest.bp.is_final) {
        send_accept(n, c, cl->nonce, c->latest.sigs[c->rec.me]);
        return;
    }
    if (c->rec.status != STORE_CH_OPEN || !c->has_latest || c->latest.bp.is_final) {
        send_reject(n, c, cl->nonce, "the channel is not open");
        return;
    }
    if (cl->base_nonce != c->latest.bp.nonce) {
        send_reject(n, c, cl->nonce, "a close must follow the latest breakpoint");
        if (cl->base_nonce > c->latest.bp.nonce) send_sync(n, c);
        return;
    }
    if (!nonce_jump_ok(c, cl->nonce)) {
        send_reject(n, c, cl->nonce, "the nonce jumps too far ahead");
        return;
    }
    if (cl->nonce <= c->own_signed || c->pending != PENDING_NONE) {
        snprintf(why, sizeof why, "concurrent proposal at nonce %llu", (unsigned long long)cl->nonce);
        send_reject(n, c, cl->nonce, why);
        return;
    }
    struct store_breakpoint rec;
    memset(&rec, 0, sizeof rec);
    rec.bp = c->latest.bp;
    rec.bp.nonce = cl->nonce;
    memset(rec.bp.move_hash.b, 0, 32);
    rec.bp.is_final = true;
    int pi = 1 - c->rec.me;
    if (!signed_by(n, &rec.bp, cl->sig, peer_of(c))) {
        send_reject(n, c, cl->nonce, "the signature does not match the closing breakpoint");
        return;
    }
    memcpy(rec.sigs[pi], cl->sig, 65);
    rec.has_sig[pi] = true;
    if (ensure_app(n, c) || sign_and_store(n, c, &rec, true)) {
        send_reject(n, c, cl->nonce, "cannot store the closing breakpoint");
        return;
    }
    adopt_latest(n, c, &rec);
    send_accept(n, c, rec.bp.nonce, rec.sigs[c->rec.me]);
}

static void on_accept(struct node *n, struct channel *c, const struct p2p_msg *m)
{
    const struct p2p_accept *a = &m->u.accept;
    char id[16];
    chan_id(c, id);
    if (a->nonce == 0) { /* the opener's answer to our breakpoint 0 */
        on_bp0(n, c, a->sig, false);
        return;
    }
    if (c->pending == PENDING_NONE || c->proposal.bp.nonce != a->nonce) return; /* stale */
    if (c->has_latest && c->proposal.bp.nonce <= c->latest.bp.nonce) {
        /* a newer breakpoint was adopted meanwhile: this proposal is dead */
        drop_proposal(c);
        answer_waiter(n, c, "a newer breakpoint superseded this move");
        return;
    }
    int pi = 1 - c->rec.me;
    if (!signed_by(n, &c->proposal.bp, a->sig, peer_of(c))) {
        node_log(n, "channel %s: the peer's ACCEPT of nonce %llu carries a wrong signature; ignored",
                 id, (unsigned long long)a->nonce);
        return;
    }
    struct store_breakpoint rec = c->proposal;
    memcpy(rec.sigs[pi], a->sig, 65);
    rec.has_sig[pi] = true;
    /* The world is at the proposal's state: the record and its storage go
     * into the store in ONE durable write (a crash between two writes would
     * leave the latest breakpoint with the wrong storage). */
    int rv = 0;
    if (c->pending == PENDING_CLOSE) {
        rv = ensure_app(n, c); /* a close keeps the state of `latest` */
    } else if (!c->app_at_proposal) {
        /* the world is not at our proposal (it was re-sent after a restart):
         * rebuild it from `latest` and re-execute the move */
        struct app_outcome out;
        rv = reload_app(n, c);
        if (!rv && (run_move(n, c, &rec.mover, rec.calldata, rec.calldata_len, rec.bp.nonce, &out) ||
                    memcmp(out.state_root, rec.bp.state_root.b, 32) != 0))
            rv = STORE_ERR_INVALID;
        c->app_dirty = true;
    }
    vm_u256 *keys = calloc(APP_MAX_SLOTS, sizeof *keys), *values = calloc(APP_MAX_SLOTS, sizeof *values);
    int count = !rv && keys && values ? app_slots(&c->app, keys, values, APP_MAX_SLOTS) : -1;
    struct vm_storage_slot *slots = calloc(count > 0 ? (size_t)count : 1, sizeof *slots);
    rv = count < 0 || !slots ? STORE_ERR_NOMEM : 0;
    for (int i = 0; !rv && i < count; i++) {
        slots[i].key = keys[i];
        slots[i].value = values[i];
    }
    if (!rv) rv = put_breakpoint(n, &rec, slots, (size_t)count);
    free(slots);
    free(keys);
    free(values);
    if (rv) {
        node_log(n, "channel %s: cannot store breakpoint %llu: %s", id,
                 (unsigned long long)a->nonce, store_strerror(rv));
        return;
    }
    bool was_close = c->pending == PENDING_CLOSE;
    c->pending = PENDING_NONE;
    c->app_dirty = was_close; /* a move's world is now exactly `latest` */
    c->app_at_proposal = false;
    adopt_latest(n, c, &rec);
    answer_waiter(n, c, NULL);
}

static void on_reject(struct node *n, struct channel *c, const struct p2p_msg *m)
{
    const struct p2p_reject *r = &m->u.reject;
    if (c->pending == PENDING_NONE || c->proposal.bp.nonce != r->nonce) return;
    char id[16];
    chan_id(c, id);
    node_log(n, "channel %s: the peer rejected nonce %llu: %s", id, (unsigned long long)r->nonce,
             r->reason);
    bool concurrent = strncmp(r->reason, "concurrent", 10) == 0;
    if (concurrent && c->pending == PENDING_MOVE) {
        c->has_retry = true;
        c->retry_mover = c->proposal.mover;
        memcpy(c->retry_calldata, c->proposal.calldata, c->proposal.calldata_len);
        c->retry_len = c->proposal.calldata_len;
        c->retry_at_ms = now_ms() + (c->rec.me == 0 ? 0 : RETRY_DELAY_MS);
        drop_proposal(c);
        return;
    }
    drop_proposal(c);
    char msg[400];
    snprintf(msg, sizeof msg, "the peer rejected the move: %s", r->reason);
    answer_waiter(n, c, msg);
}

static void on_sync(struct node *n, struct channel *c, const struct p2p_msg *m)
{
    /* A peer ahead of us (e.g. we run on a restored backup) answers our own
     * SYNC with its latest: no move of ours until that is adopted, or we
     * could sign a nonce again that the backup forgot we signed. */
    bool was_synced = c->synced;
    if (!c->has_latest || m->u.sync.signed_nonce <= c->latest.bp.nonce) c->synced = true;
    /* our own SYNC may have been dropped (the peer did not know the channel yet) */
    if (!was_synced) send_sync(n, c);
    if (c->has_latest && m->u.sync.signed_nonce < c->latest.bp.nonce) send_sync_reply(n, c);
}

static void on_sync_reply(struct node *n, struct channel *c, const struct p2p_msg *m)
{
    const struct p2p_sync_reply *r = &m->u.sync_reply;
    char id[16];
    chan_id(c, id);
    if (c->has_latest && r->bp.nonce <= c->latest.bp.nonce) return;
    if (memcmp(r->bp.channel_id.b, c->rec.id.b, 32) != 0) return;
    for (int i = 0; i < VM_BP_PLAYERS; i++) {
        if (!signed_by(n, &r->bp, r->sigs[i], &c->rec.players[i])) {
            node_log(n, "channel %s: the peer's SYNC_REPLY is not signed by both players; ignored", id);
            return;
        }
    }
    /* the signatures cover only move_hash: mover/calldata must match it (a
     * close and breakpoint 0 have a zero move hash and no move) */
    static const uint8_t zero32[32];
    bool no_move = memcmp(r->bp.move_hash.b, zero32, 32) == 0;
    if (!no_move) {
        uint8_t mh[32];
        app_move_hash(&r->mover, r->calldata, r->calldata_len, mh);
        if (memcmp(mh, r->bp.move_hash.b, 32) != 0) {
            node_log(n, "channel %s: the move in the peer's SYNC_REPLY does not match its move hash; ignored", id);
            return;
        }
    }
    struct vm_storage_slot *slots = calloc(r->n_slots + 1, sizeof *slots);
    if (!slots) return;
    for (size_t i = 0; i < r->n_slots; i++) {
        slots[i].key = r->slots[i].key;
        slots[i].value = r->slots[i].value;
    }
    uint8_t root[32];
    if (vm_storage_root(slots, r->n_slots, root) != VM_OK || memcmp(root, r->bp.state_root.b, 32)) {
        free(slots);
        node_log(n, "channel %s: the storage in the peer's SYNC_REPLY does not match its state root; ignored", id);
        return;
    }
    struct store_breakpoint rec;
    memset(&rec, 0, sizeof rec);
    rec.bp = r->bp;
    memcpy(rec.sigs, r->sigs, sizeof rec.sigs);
    rec.has_sig[0] = rec.has_sig[1] = true;
    if (!no_move) {
        rec.mover = r->mover;
        rec.calldata_len = r->calldata_len;
        memcpy(rec.calldata, r->calldata, r->calldata_len);
    }
    int rv = put_breakpoint(n, &rec, slots, r->n_slots);
    free(slots);
    if (rv) {
        node_log(n, "channel %s: cannot adopt the peer's breakpoint %llu: %s", id,
                 (unsigned long long)r->bp.nonce, store_strerror(rv));
        return;
    }
    node_log(n, "channel %s: adopted the peer's newer breakpoint %llu (it carries our signature too)",
             id, (unsigned long long)r->bp.nonce);
    bool ours = c->pending != PENDING_NONE && c->proposal.bp.nonce == rec.bp.nonce;
    if (c->pending != PENDING_NONE && c->proposal.bp.nonce <= rec.bp.nonce) drop_proposal(c);
    c->app_dirty = true;
    adopt_latest(n, c, &rec);
    c->synced = true;
    if (ensure_app(n, c)) node_log(n, "channel %s: cannot load the adopted state", id);
    if (c->waiter.req) answer_waiter(n, c, ours ? NULL : "the peer's newer breakpoint superseded this move");
}

void channel_on_message(struct node *n, const vm_address *peer, const struct p2p_msg *m)
{
    struct channel *c = node_find_channel(n, &m->channel_id);
    if (!c) return; /* not ours: p2p only connects peers of our channels */
    if (memcmp(peer->b, peer_of(c)->b, 20) != 0) {
        char id[16];
        chan_id(c, id);
        node_log(n, "channel %s: a message from a node that is not this channel's peer; dropped", id);
        return;
    }
    /* Liveness is the peer's, not the channel's: any frame from it counts for
     * every channel it shares with us (pings go on one channel per peer). */
    int64_t heard = now_ms();
    for (size_t i = 0; i < n->n_channels; i++) {
        struct channel *o = n->channels[i];
        if (memcmp(peer_of(o)->b, peer->b, 20) != 0) continue;
        o->last_heard_ms = heard;
        o->silent_reported = false;
    }
    switch (m->type) {
    case P2P_MSG_PROPOSE: on_propose(n, c, m); break;
    case P2P_MSG_ACCEPT: on_accept(n, c, m); break;
    case P2P_MSG_REJECT: on_reject(n, c, m); break;
    case P2P_MSG_SYNC: on_sync(n, c, m); break;
    case P2P_MSG_SYNC_REPLY: on_sync_reply(n, c, m); break;
    case P2P_MSG_CLOSE: on_close(n, c, m); break;
    case P2P_MSG_PING:
        if (!m->u.ping.reply) {
            struct p2p_msg *r = node_msg_new(n, P2P_MSG_PING);
            if (r) {
                r->u.ping.seq = m->u.ping.seq;
                r->u.ping.reply = true;
                send_msg(n, c, r);
            }
        }
        break;
    default: break;
    }
}

void channel_on_peer(struct node *n, const vm_address *peer, bool connected)
{
    char who[43];
    vm_address_to_checksum(peer, who);
    node_log(n, "peer %s %s", who, connected ? "connected" : "disconnected");
    for (size_t i = 0; i < n->n_channels; i++) {
        struct channel *c = n->channels[i];
        if (memcmp(peer_of(c)->b, peer->b, 20) != 0) continue;
        c->peer_connected = connected;
        c->synced = false;
        if (!connected) continue;
        c->last_heard_ms = now_ms();
        if (c->rec.status == STORE_CH_SETTLED || c->rec.status == STORE_CH_CONCLUDED) continue;
        send_sync(n, c);
        if (c->pending == PENDING_MOVE) send_propose(n, c, &c->proposal, c->latest.bp.nonce);
        if (c->pending == PENDING_CLOSE) send_close(n, c, &c->proposal, c->latest.bp.nonce);
        if (!c->has_latest && c->has_bp0 && c->rec.me == 1) send_propose(n, c, &c->bp0, 0);
    }
}

void channel_finished(struct node *n, struct channel *c)
{
    answer_waiter(n, c, "the channel was closed on-chain");
    c->pending = PENDING_NONE;
    for (size_t i = 0; i < n->n_channels; i++) {
        struct channel *o = n->channels[i];
        if (o != c && memcmp(peer_of(o)->b, peer_of(c)->b, 20) == 0 &&
            o->rec.status != STORE_CH_SETTLED && o->rec.status != STORE_CH_CONCLUDED)
            return;
    }
    if (p2p_forget_peer(n->p2p, peer_of(c)) != P2P_OK) node_log(n, "cannot forget the peer");
}

/* One channel per peer carries the pings: the first one still running. */
static bool pings_for_peer(struct node *n, const struct channel *c)
{
    for (size_t i = 0; i < n->n_channels; i++) {
        const struct channel *o = n->channels[i];
        if (o == c) return true;
        if (memcmp(peer_of(o)->b, peer_of(c)->b, 20) == 0 && o->rec.status != STORE_CH_SETTLED &&
            o->rec.status != STORE_CH_CONCLUDED)
            return false;
    }
    return true;
}

void channel_tick(struct node *n, struct channel *c, int64_t now)
{
    char id[16], why[300];
    chan_id(c, id);
    if (c->rec.status == STORE_CH_SETTLED || c->rec.status == STORE_CH_CONCLUDED) return;

    if (c->waiter.req && now > c->waiter.deadline_ms)
        answer_waiter(n, c, "no answer from the peer in time; the move may still complete when it answers");

    if (c->has_retry && now >= c->retry_at_ms && c->pending == PENDING_NONE && c->synced) {
        c->has_retry = false;
        node_log(n, "channel %s: the peer moved at the same time; retrying our move at the next nonce", id);
        if (propose_move(n, c, &c->retry_mover, c->retry_calldata, c->retry_len, true, why,
                         sizeof why))
            answer_waiter(n, c, why);
    }

    /* players[1]'s deposit once breakpoint 0 is signed by both: normally sent
     * at once (adopt_latest); this retries after a crash between the store
     * write of breakpoint 0 and the deposit, or after a refusal. A deposit in
     * flight is stored (onchain.c), so it is never sent twice. */
    if (c->rec.me == 1 && c->rec.status == STORE_CH_FUNDING && c->has_latest &&
        !(c->rec.flags & STORE_FLAG_DEPOSIT1) && c->tx_kind == TX_NONE && n->chain_up &&
        now >= c->next_deposit_ms) {
        c->next_deposit_ms = now + 5000;
        node_log(n, "channel %s: breakpoint 0 is signed and our deposit is not on-chain; depositing", id);
        if (onchain_deposit(n, c, why, sizeof why)) node_log(n, "cannot deposit: %s", why);
    }

    /* breakpoint 0: players[1] proposes until the opener answers */
    if (!c->has_latest && c->has_bp0 && c->rec.me == 1 && c->peer_connected &&
        now >= c->next_resend_ms) {
        send_propose(n, c, &c->bp0, 0);
        c->next_resend_ms = now + RESEND_MS;
    }

    if (c->peer_connected && now >= c->next_ping_ms && pings_for_peer(n, c)) {
        struct p2p_msg *m = node_msg_new(n, P2P_MSG_PING);
        if (m) {
            m->u.ping.seq = ++c->ping_seq;
            send_msg(n, c, m);
        }
        int64_t every = n->cfg.peer_timeout_ms / 4;
        c->next_ping_ms = now + (every < 200 ? 200 : every);
    }

    /* The final breakpoint goes on-chain: the opener at once, the other as a fallback. */
    /* (after a restart the peer's silence counts from the load, not from 0) */
    int64_t heard = c->last_heard_ms ? c->last_heard_ms : c->loaded_ms;
    if (c->rec.status == STORE_CH_CLOSING && c->tx_kind == TX_NONE && n->chain_up &&
        (c->rec.me == 0 || now - heard > n->cfg.peer_timeout_ms)) {
        if (onchain_conclude(n, c, why, sizeof why)) node_log(n, "channel %s: cannot conclude: %s", id, why);
    }

    /* A silent peer: dispute with the latest breakpoint both signed. */
    bool live = c->rec.status == STORE_CH_OPEN ||
                (c->rec.status == STORE_CH_FUNDING && (c->rec.flags & STORE_FLAG_DEPOSIT1));
    if (live && c->has_latest && c->last_heard_ms > 0 &&
        now - c->last_heard_ms > n->cfg.peer_timeout_ms && c->tx_kind == TX_NONE && n->chain_up) {
        if (!c->silent_reported) {
            char who[43];
            vm_address_to_checksum(peer_of(c), who);
            node_log(n, "peer %s silent for %lld s, challenging with nonce %llu", who,
                     (long long)((now - c->last_heard_ms) / 1000),
                     (unsigned long long)c->latest.bp.nonce);
            c->silent_reported = true;
        }
        if (c->pending != PENDING_NONE) {
            drop_proposal(c);
            answer_waiter(n, c, "the peer is silent; the channel goes to dispute on-chain");
        }
        if (onchain_challenge(n, c, why, sizeof why)) node_log(n, "channel %s: cannot challenge: %s", id, why);
    }
}

/* ---------------------------------------------------------------------- */

void channel_free(struct channel *c)
{
    if (!c) return;
    if (c->app_loaded) app_free(&c->app);
    free(c->code);
    vm_buf_free(&c->tx_data);
    free(c);
}

static int load_one(struct node *n, const vm_bytes32 *id)
{
    struct channel *c = calloc(1, sizeof *c);
    if (!c) return STORE_ERR_NOMEM;
    int rv = store_get_channel(n->store, node_txn(n), id, &c->rec);
    if (rv) {
        free(c);
        return rv;
    }
    struct store_heads h;
    rv = store_get_heads(n->store, node_txn(n), id, &h);
    if (rv) {
        free(c);
        return rv;
    }
    c->signed_any = h.has_own;
    c->own_signed = h.own_max;
    c->loaded_ms = now_ms();
    if (h.has_latest) {
        rv = store_get_latest(n->store, node_txn(n), id, &c->latest);
        if (rv) {
            free(c);
            return rv;
        }
        c->has_latest = true;
    }
    struct channel **list = realloc(n->channels, (n->n_channels + 1) * sizeof *list);
    if (!list) {
        free(c);
        return STORE_ERR_NOMEM;
    }
    n->channels = list;
    n->channels[n->n_channels++] = c;
    if (c->rec.status == STORE_CH_SETTLED || c->rec.status == STORE_CH_CONCLUDED) return 0;
    /* The status follows the latest breakpoint: a crash right after the store
     * write of a breakpoint (before adopt_latest updated the channel record)
     * must not leave a final breakpoint unconcluded. */
    if (c->has_latest && c->rec.status == STORE_CH_FUNDING && (c->rec.flags & STORE_FLAG_DEPOSIT1))
        c->rec.status = STORE_CH_OPEN;
    if (c->has_latest && c->latest.bp.is_final &&
        (c->rec.status == STORE_CH_OPEN || c->rec.status == STORE_CH_FUNDING)) {
        c->rec.status = STORE_CH_CLOSING;
        if (persist_channel(n, c)) node_log(n, "warning: cannot update the store");
    }
    /* a transaction in flight when we stopped: re-broadcast its stored raw bytes */
    onchain_resume_tx(n, c);
    if (c->rec.status == STORE_CH_OPENING && c->rec.n_txs == 0) {
        /* stopped before the open transaction was signed and stored: it was
         * never broadcast (submit stores before it sends), nothing is locked */
        char cid[16];
        chan_id(c, cid);
        node_log(n, "channel %s: the node stopped before its open transaction was sent; dropped", cid);
        c->rec.status = STORE_CH_CONCLUDED;
        return persist_channel(n, c);
    }
    if (channel_fetch_code(n, c) == 0) {
        if (reload_app(n, c)) return STORE_ERR_NOMEM;
        if (!c->has_latest && c->rec.status != STORE_CH_OPENING) {
            /* breakpoint 0 again: deterministic, and the store returns the same signature */
            channel_start(n, c);
        } else if (h.has_own && (!h.has_latest || h.own_max > h.latest)) {
            /* our proposal was in flight when we stopped: re-send it, never replace it */
            struct store_breakpoint p;
            if (store_get_breakpoint(n->store, node_txn(n), id, h.own_max, &p) == STORE_OK &&
                !(p.has_sig[0] && p.has_sig[1])) {
                c->proposal = p;
                /* a close's move hash is all zero (a move's is a keccak) */
                static const uint8_t zero32[32];
                c->pending = memcmp(p.bp.move_hash.b, zero32, 32) == 0 && p.calldata_len == 0 &&
                                     p.bp.is_final
                                 ? PENDING_CLOSE : PENDING_MOVE;
                c->pending_since_ms = now_ms();
            }
        }
    }
    return 0;
}

int channel_load_all(struct node *n)
{
    int rv = store_bind_address(n->store, node_txn(n), &n->self);
    if (rv) return rv;
    uint64_t block;
    vm_bytes32 hash;
    rv = store_get_cursor(n->store, node_txn(n), &block, &hash);
    if (rv == STORE_OK) {
        n->cursor.next = block + 1;
        n->cursor.hash = hash;
    } else if (rv == STORE_ERR_NOTFOUND) {
        uint64_t head = 0;
        if (chain_block_number(n->rpc, &head) != CHAIN_OK) return STORE_ERR_IO;
        n->cursor.next = head; /* a new node cares about channels opened from now on */
        memset(&n->cursor.hash, 0, sizeof n->cursor.hash);
    } else {
        return rv;
    }
    vm_bytes32 *ids = NULL;
    size_t count = 0;
    rv = store_list_channels(n->store, node_txn(n), &ids, &count);
    for (size_t i = 0; !rv && i < count; i++) rv = load_one(n, &ids[i]);
    free(ids);
    return rv;
}
