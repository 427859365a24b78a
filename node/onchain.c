/*
 * The node's side of the chain: the adjudicator's transactions (open,
 * deposit, conclude, challenge, settle) and its events. Runs on the loop
 * thread; every step is non-blocking apart from one short JSON-RPC call, so a
 * chain node that is down only delays on-chain work, never play.
 *
 * A transaction is recorded in the store before it is broadcast (see
 * persist.c); after a crash the channel's state says what was in flight and
 * the adjudicator refuses duplicates (an open with the same salt, a second
 * deposit), so a transaction is never paid twice.
 */
#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARAMS_TYPE "(address,bytes32,address[2],uint256[2],bytes32,uint64,bytes32)"
#define BP_TYPE "(bytes32,uint64,bytes32,bytes32,uint256[],bool)"

static const char *tx_name(enum onchain_kind k)
{
    switch (k) {
    case TX_OPEN: return "open";
    case TX_DEPOSIT: return "deposit";
    case TX_CONCLUDE: return "conclude";
    case TX_CHALLENGE: return "challenge";
    case TX_SETTLE: return "settle";
    default: return "?";
    }
}

static void hex(const uint8_t *b, size_t len, char *out)
{
    vm_hex_encode(b, len, out);
}

/* The Params tuple as JSON text for chain_abi_encode_call. */
static void params_json(const struct store_channel *p, char *out, size_t cap)
{
    char app[43], p0[43], p1[43], ch[67], ih[67], salt[67], d0[80], d1[80];
    uint8_t init_hash[32];
    vm_keccak256(p->init_args, p->init_args_len, init_hash);
    hex(p->app.b, 20, app);
    hex(p->players[0].b, 20, p0);
    hex(p->players[1].b, 20, p1);
    hex(p->code_hash.b, 32, ch);
    hex(init_hash, 32, ih);
    hex(p->salt.b, 32, salt);
    vm_u256_to_dec(p->deposits[0], d0);
    vm_u256_to_dec(p->deposits[1], d1);
    snprintf(out, cap, "[\"%s\",\"%s\",[\"%s\",\"%s\"],[\"%s\",\"%s\"],\"%s\",\"%llu\",\"%s\"]", app,
             ch, p0, p1, d0, d1, ih, (unsigned long long)p->challenge_period, salt);
}

static void bp_json(const struct store_breakpoint *b, char *out, size_t cap)
{
    char id[67], root[67], mh[67], a0[80], a1[80], s0[133], s1[133];
    hex(b->bp.channel_id.b, 32, id);
    hex(b->bp.state_root.b, 32, root);
    hex(b->bp.move_hash.b, 32, mh);
    vm_u256_to_dec(b->bp.payouts[0], a0);
    vm_u256_to_dec(b->bp.payouts[1], a1);
    hex(b->sigs[0], 65, s0);
    hex(b->sigs[1], 65, s1);
    snprintf(out, cap, "[\"%s\",\"%llu\",\"%s\",\"%s\",[\"%s\",\"%s\"],%s],[\"%s\",\"%s\"]", id,
             (unsigned long long)b->bp.nonce, root, mh, a0, a1, b->bp.is_final ? "true" : "false",
             s0, s1);
}

/* Computes the channel id of DESIGN.md §3 for params p on this chain. */
void onchain_channel_id(struct node *n, struct store_channel *p)
{
    uint8_t words[11][32];
    memset(words, 0, sizeof words);
    vm_u256_to_be(vm_u256_from_u64(n->chain_id), words[0]);
    memcpy(words[1] + 12, n->adjudicator.b, 20);
    memcpy(words[2] + 12, p->app.b, 20);
    memcpy(words[3], p->code_hash.b, 32);
    memcpy(words[4] + 12, p->players[0].b, 20);
    memcpy(words[5] + 12, p->players[1].b, 20);
    vm_u256_to_be(p->deposits[0], words[6]);
    vm_u256_to_be(p->deposits[1], words[7]);
    vm_keccak256(p->init_args, p->init_args_len, words[8]);
    vm_u256_to_be(vm_u256_from_u64(p->challenge_period), words[9]);
    memcpy(words[10], p->salt.b, 32);
    vm_keccak256(&words[0][0], sizeof words, p->id.b);
}

/* The next account nonce: the node's pending count, but never one of our own
 * stored transactions' (one may be signed and stored but not yet seen). */
static int next_account_nonce(struct node *n, uint64_t *out)
{
    int rv = chain_get_nonce(n->rpc, &n->self, CHAIN_BLOCK_PENDING, out);
    if (rv) return rv;
    for (size_t i = 0; i < n->n_channels; i++) {
        const struct store_channel *r = &n->channels[i]->rec;
        for (size_t k = 0; k < r->n_txs && k < STORE_MAX_TXS; k++)
            if (r->txs[k].nonce + 1 > *out) *out = r->txs[k].nonce + 1;
    }
    return 0;
}

/* Every change of reachability is said once, whichever call noticed it. */
static void set_chain_up(struct node *n, bool up)
{
    if (up == n->chain_up) return;
    n->chain_up = up;
    node_log(n, up ? "the Ethereum node is reachable again"
                   : "the Ethereum node at %s is not reachable; play goes on off-chain",
             n->cfg.eth_url);
}

/* Forgets the stored transactions of a kind (mined, or refused by the node). */
static void drop_stored_tx(struct channel *c, enum onchain_kind kind)
{
    size_t k = 0;
    for (size_t i = 0; i < c->rec.n_txs && i < STORE_MAX_TXS; i++)
        if ((int)c->rec.txs[i].kind != (int)kind) c->rec.txs[k++] = c->rec.txs[i];
    c->rec.n_txs = k;
}

/* Builds, signs and durably stores the transaction, THEN broadcasts it: after
 * a crash the stored raw bytes are re-broadcast as they are (same hash), so a
 * transaction is neither lost from sight nor sent twice. */
static int submit(struct node *n, struct channel *c, enum onchain_kind kind, vm_u256 value,
                  const char *signature, const char *args_json, char *why, size_t why_len)
{
    if (c->tx_kind != TX_NONE) {
        snprintf(why, why_len, "a %s transaction of this channel is still in flight",
                 tx_name(c->tx_kind));
        return -1;
    }
    if (c->rec.n_txs >= STORE_MAX_TXS) drop_stored_tx(c, (enum onchain_kind)c->rec.txs[0].kind);
    vm_buf_free(&c->tx_data);
    int rv = chain_abi_encode_call(signature, args_json, &c->tx_data);
    if (rv) {
        snprintf(why, why_len, "cannot encode %s: %s", tx_name(kind), chain_strerror(rv));
        return -1;
    }
    struct chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.chain_id = n->chain_id;
    tx.has_to = true;
    tx.to = n->adjudicator;
    tx.value = value;
    tx.data = c->tx_data.data;
    tx.data_len = c->tx_data.len;
    struct chain_call call = {&n->self, &n->adjudicator, value, tx.data, tx.data_len, 0};
    uint64_t est = 0;
    rv = chain_estimate_gas(n->rpc, &call, &est);
    if (!rv) rv = chain_wallet_fees(n->wallet, &tx.max_priority_fee_per_gas, &tx.max_fee_per_gas);
    if (!rv) rv = next_account_nonce(n, &tx.nonce);
    if (rv) {
        const struct chain_rpc_error *e = chain_client_rpc_error(n->rpc);
        char reason[200] = "";
        if (rv == CHAIN_ERR_RPC && e && e->data_len &&
            chain_abi_revert_reason(e->data, e->data_len, reason, sizeof reason) != CHAIN_OK)
            reason[0] = 0;
        snprintf(why, why_len, "%s transaction refused: %s%s%s%s%s", tx_name(kind), chain_strerror(rv),
                 rv == CHAIN_ERR_RPC && e ? ": " : "", rv == CHAIN_ERR_RPC && e ? e->message : "",
                 *reason ? " " : "", reason);
        if (rv != CHAIN_ERR_RPC) set_chain_up(n, false);
        return -1;
    }
    tx.gas_limit = est + est / 5;
    struct vm_buf raw = {0};
    uint8_t hash[32];
    rv = chain_tx_sign(n->secp, &tx, n->key, &raw, hash);
    if (rv || raw.len > STORE_MAX_RAW_TX) {
        vm_buf_free(&raw);
        snprintf(why, why_len, "cannot sign the %s transaction", tx_name(kind));
        return -1;
    }
    struct store_tx *st = &c->rec.txs[c->rec.n_txs];
    memset(st, 0, sizeof *st);
    st->kind = (enum store_tx_kind)kind;
    st->nonce = tx.nonce;
    memcpy(st->hash.b, hash, 32);
    st->bp_nonce = (kind == TX_CONCLUDE || kind == TX_CHALLENGE) && c->has_latest ? c->latest.bp.nonce : 0;
    memcpy(st->raw, raw.data, raw.len);
    st->raw_len = raw.len;
    vm_buf_free(&raw);
    c->rec.n_txs++;
    c->tx_kind = kind;
    /* durable before it is broadcast: this also commits the loop's batch */
    if (persist_channel(n, c) || batch_commit(n)) {
        c->rec.n_txs--;
        c->tx_kind = TX_NONE;
        snprintf(why, why_len, "cannot record the %s transaction in the store", tx_name(kind));
        return -1;
    }
    memset(&c->tx, 0, sizeof c->tx);
    c->tx.tx = tx;
    memcpy(c->tx.hashes[0].b, hash, 32);
    c->tx.n_hashes = 1;
    c->tx.last_sent_ms = now_ms();
    rv = chain_send_raw(n->rpc, st->raw, st->raw_len, NULL);
    char h[67];
    hex(hash, 32, h);
    if (rv == CHAIN_ERR_RPC) {
        /* refused outright (nothing is in flight): forget it */
        const struct chain_rpc_error *e = chain_client_rpc_error(n->rpc);
        snprintf(why, why_len, "%s transaction refused: %s", tx_name(kind), e ? e->message : "?");
        drop_stored_tx(c, kind);
        c->tx_kind = TX_NONE;
        if (persist_channel(n, c)) node_log(n, "warning: cannot update the store");
        return -1;
    }
    if (rv) {
        set_chain_up(n, false);
        node_log(n, "%s transaction %s stored; the Ethereum node did not take it yet (%s), will re-send",
                 tx_name(kind), h, chain_strerror(rv));
        return 0;
    }
    node_log(n, "sent %s transaction %s", tx_name(kind), h);
    return 0;
}

/* After a restart: the transaction stored last is in flight again (same raw
 * bytes, same hash); its receipt is polled as before the crash. */
void onchain_resume_tx(struct node *n, struct channel *c)
{
    if (c->rec.n_txs == 0 || c->rec.n_txs > STORE_MAX_TXS) return;
    struct store_tx *st = &c->rec.txs[c->rec.n_txs - 1];
    struct chain_tx tx;
    vm_address from;
    if (chain_tx_decode(n->secp, st->raw, st->raw_len, &tx, &from) != CHAIN_OK ||
        memcmp(from.b, n->self.b, 20) != 0) {
        node_log(n, "warning: a stored transaction does not decode; dropped");
        c->rec.n_txs--;
        return;
    }
    /* tx.data points into st->raw, which lives as long as the channel */
    memset(&c->tx, 0, sizeof c->tx);
    c->tx.tx = tx;
    c->tx.hashes[0] = st->hash;
    c->tx.n_hashes = 1;
    c->tx.last_sent_ms = now_ms();
    c->tx_kind = (enum onchain_kind)st->kind;
    char h[67];
    hex(st->hash.b, 32, h);
    int rv = chain_send_raw(n->rpc, st->raw, st->raw_len, NULL);
    node_log(n, "re-sent the stored %s transaction %s%s", tx_name(c->tx_kind), h,
             rv ? " (the node already knows it, or will get it later)" : "");
}

int onchain_open(struct node *n, struct channel *c, char *why, size_t why_len)
{
    char app[43], p0[43], p1[43], d0[80], d1[80], salt[67];
    char *init = malloc(2 * c->rec.init_args_len + 3), *args = malloc(2 * c->rec.init_args_len + 1024);
    if (!init || !args) {
        free(init);
        free(args);
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    hex(c->rec.app.b, 20, app);
    hex(c->rec.players[0].b, 20, p0);
    hex(c->rec.players[1].b, 20, p1);
    vm_u256_to_dec(c->rec.deposits[0], d0);
    vm_u256_to_dec(c->rec.deposits[1], d1);
    hex(c->rec.init_args, c->rec.init_args_len, init);
    hex(c->rec.salt.b, 32, salt);
    sprintf(args, "[\"%s\",[\"%s\",\"%s\"],[\"%s\",\"%s\"],\"%s\",\"%llu\",\"%s\"]", app, p0, p1,
            d0, d1, init, (unsigned long long)c->rec.challenge_period, salt);
    int rv = submit(n, c, TX_OPEN, c->rec.deposits[0],
                    "open(address,address[2],uint256[2],bytes,uint64,bytes32)", args, why, why_len);
    free(init);
    free(args);
    return rv;
}

int onchain_deposit(struct node *n, struct channel *c, char *why, size_t why_len)
{
    char id[67], args[80];
    hex(c->rec.id.b, 32, id);
    snprintf(args, sizeof args, "[\"%s\"]", id);
    return submit(n, c, TX_DEPOSIT, c->rec.deposits[1], "deposit(bytes32)", args, why, why_len);
}

static int with_breakpoint(struct node *n, struct channel *c, enum onchain_kind kind,
                           const char *sig, char *why, size_t why_len)
{
    if (!c->has_latest) {
        snprintf(why, why_len, "the channel has no breakpoint signed by both players yet");
        return -1;
    }
    char params[1200], bp[1200], args[2500];
    params_json(&c->rec, params, sizeof params);
    bp_json(&c->latest, bp, sizeof bp);
    snprintf(args, sizeof args, "[%s,%s]", params, bp);
    return submit(n, c, kind, vm_u256_from_u64(0), sig, args, why, why_len);
}

int onchain_conclude(struct node *n, struct channel *c, char *why, size_t why_len)
{
    if (!c->has_latest || !c->latest.bp.is_final) {
        snprintf(why, why_len, "the latest breakpoint is not final");
        return -1;
    }
    return with_breakpoint(n, c, TX_CONCLUDE, "conclude(" PARAMS_TYPE "," BP_TYPE ",bytes[2])", why,
                           why_len);
}

int onchain_challenge(struct node *n, struct channel *c, char *why, size_t why_len)
{
    if (c->rec.status == STORE_CH_OPENING || c->rec.status == STORE_CH_SETTLED || c->rec.status == STORE_CH_CONCLUDED ||
        (c->rec.status == STORE_CH_FUNDING && !(c->rec.flags & STORE_FLAG_DEPOSIT1))) {
        snprintf(why, why_len, "a channel that is %s cannot be challenged",
                 c->rec.status == STORE_CH_FUNDING ? "not funded yet" : "not open");
        return -1;
    }
    if (c->rec.status == STORE_CH_CHALLENGED && c->has_latest && c->latest.bp.nonce <= c->rec.challenged_nonce) {
        snprintf(why, why_len, "nonce %llu is already registered on-chain",
                 (unsigned long long)c->rec.challenged_nonce);
        return -1;
    }
    return with_breakpoint(n, c, TX_CHALLENGE, "challenge(" PARAMS_TYPE "," BP_TYPE ",bytes[2])",
                           why, why_len);
}

int onchain_settle(struct node *n, struct channel *c, char *why, size_t why_len)
{
    if (c->rec.status != STORE_CH_CHALLENGED) {
        snprintf(why, why_len, "only a challenged channel can be settled");
        return -1;
    }
    char params[1200], args[1300];
    params_json(&c->rec, params, sizeof params);
    snprintf(args, sizeof args, "[%s]", params);
    return submit(n, c, TX_SETTLE, vm_u256_from_u64(0), "settle(" PARAMS_TYPE ")", args, why,
                  why_len);
}

/* Answers the API caller waiting for the channel's on-chain action. */
static void answer_chain_waiter(struct node *n, struct channel *c, const struct chain_receipt *r,
                                const char *error)
{
    struct api_request *req = c->chain_waiter.req;
    if (!req) return;
    c->chain_waiter.req = NULL;
    if (error) {
        node_reply_error(n, req, 409, 409, "%s", error);
        return;
    }
    json_t *o = handlers_channel_json(n, c);
    char h[67];
    hex(r->tx_hash.b, 32, h);
    json_object_set_new(o, "txHash", json_string(h));
    json_object_set_new(o, "gasUsed", json_integer((json_int_t)r->gas_used));
    json_object_set_new(o, "block", json_integer((json_int_t)r->block_number));
    node_reply(n, req, o);
}

/* True when the transaction in flight can no longer be mined in a version we
 * know: the account's mined nonce is past it, and none of the hashes we hold
 * has a receipt. This happens when a fee-bumped version (kept only in memory
 * by the wallet) was mined and the node restarted before seeing its receipt;
 * without this check the channel would keep a transaction "in flight" forever
 * and refuse every later one (even the answer to a stale challenge). */
static bool tx_replaced(struct node *n, struct channel *c)
{
    uint64_t mined = 0;
    if (chain_get_nonce(n->rpc, &n->self, CHAIN_BLOCK_LATEST, &mined) != CHAIN_OK) return false;
    if (mined <= c->tx.tx.nonce) return false;
    for (size_t i = 0; i < c->tx.n_hashes && i < CHAIN_PENDING_MAX_VERSIONS; i++) {
        struct chain_receipt r;
        memset(&r, 0, sizeof r);
        int rv = chain_get_receipt(n->rpc, &c->tx.hashes[i], &r);
        if (rv == CHAIN_OK) chain_receipt_free(&r);
        if (rv != CHAIN_ERR_NOT_FOUND) return false; /* mined (awaiting confirmations) or RPC trouble */
    }
    return true;
}

static void poll_tx(struct node *n, struct channel *c)
{
    struct chain_receipt r;
    memset(&r, 0, sizeof r);
    int rv = chain_wallet_poll(n->wallet, &c->tx, &r);
    if (rv == CHAIN_ERR_NOT_FOUND) {
        if (tx_replaced(n, c)) {
            enum onchain_kind kind = c->tx_kind;
            char msg[300];
            snprintf(msg, sizeof msg,
                     "the account nonce moved past the %s transaction but no version this node "
                     "knows was mined; its outcome follows from the adjudicator's events",
                     tx_name(kind));
            node_log(n, "%s", msg);
            c->tx_kind = TX_NONE;
            drop_stored_tx(c, kind);
            answer_chain_waiter(n, c, NULL, msg);
            if (persist_channel(n, c)) node_log(n, "warning: cannot update the store");
        }
        return;
    }
    if (rv != CHAIN_OK && rv != CHAIN_ERR_REVERTED) {
        set_chain_up(n, false);
        return; /* transport trouble: try again next poll */
    }
    enum onchain_kind kind = c->tx_kind;
    char h[67];
    hex(r.tx_hash.b, 32, h);
    c->tx_kind = TX_NONE;
    drop_stored_tx(c, kind);
    if (rv == CHAIN_ERR_REVERTED) {
        char msg[300];
        snprintf(msg, sizeof msg, "the %s transaction %s reverted", tx_name(kind), h);
        node_log(n, "%s", msg);
        if (kind == TX_OPEN) c->rec.status = STORE_CH_CONCLUDED; /* nothing was locked */
        answer_chain_waiter(n, c, &r, msg);
    } else {
        node_log(n, "%s transaction %s mined in block %llu, gas %llu", tx_name(kind), h,
                 (unsigned long long)r.block_number, (unsigned long long)r.gas_used);
        if (kind == TX_OPEN && c->rec.status == STORE_CH_OPENING) c->rec.status = STORE_CH_FUNDING;
        /* our deposit is in: the pot is complete (the Deposited event says the same later) */
        if (kind == TX_DEPOSIT) {
            c->rec.flags |= STORE_FLAG_DEPOSIT1;
            if (c->rec.status == STORE_CH_FUNDING && c->has_latest) c->rec.status = STORE_CH_OPEN;
        }
        /* the receipt may come before the Opened event: breakpoint 0 starts on either */
        if (kind == TX_OPEN && c->rec.status == STORE_CH_FUNDING) channel_start(n, c);
        /* open/deposit waiters also learn from events; answer now with the receipt */
        answer_chain_waiter(n, c, &r, NULL);
    }
    if (persist_channel(n, c)) node_log(n, "warning: cannot update the store");
    chain_receipt_free(&r);
}

/* Opened for us as players[1]: apply the acceptance policy of DESIGN.md §2. */
static void adopt_opened(struct node *n, const struct chain_event *ev)
{
    const struct chain_event *o_ev = ev;
#define o (&o_ev->u.opened)
    char id[16];
    node_short_hex(ev->channel_id.b, 32, id);
    if (memcmp(o->players[1].b, n->self.b, 20) != 0) return;
    if (vm_u256_cmp(o->deposits[1], n->cfg.max_deposit) > 0) {
        node_log(n, "ignoring channel %s: it asks a deposit above --max-deposit", id);
        return;
    }
    if (o->init_args_len > STORE_MAX_INIT_ARGS) {
        node_log(n, "ignoring channel %s: init args too large", id);
        return;
    }
    struct channel *c = calloc(1, sizeof *c);
    if (!c) return;
    c->rec.id = ev->channel_id;
    c->rec.app = o->app;
    c->rec.code_hash = o->code_hash;
    memcpy(c->rec.players, o->players, sizeof c->rec.players);
    memcpy(c->rec.deposits, o->deposits, sizeof c->rec.deposits);
    memcpy(c->rec.init_args, o->init_args, o->init_args_len);
    c->rec.init_args_len = o->init_args_len;
    c->rec.challenge_period = o->challenge_period;
    c->rec.salt = o->salt;
    struct store_channel check = c->rec;
    onchain_channel_id(n, &check);
    if (memcmp(check.id.b, c->rec.id.b, 32) != 0) {
        node_log(n, "ignoring channel %s: its id does not match its parameters", id);
        free(c);
        return;
    }
    c->rec.me = 1;
    c->rec.chain_id = n->chain_id;
    c->rec.adjudicator = n->adjudicator;
    c->rec.status = STORE_CH_FUNDING;
    c->rec.opened_block = ev->block_number;
    if (channel_fetch_code(n, c) != 0) {
        free(c);
        return;
    }
    if (node_add_channel(n, c) != 0) {
        channel_free(c);
        return;
    }
    if (p2p_allow_peer(n->p2p, &c->rec.players[0]) != P2P_OK)
        node_log(n, "channel %s: cannot allow the peer to connect", id);
    char peer[43];
    vm_address_to_checksum(&c->rec.players[0], peer);
    char dep[80];
    vm_u256_to_dec(c->rec.deposits[1], dep);
    node_log(n, "channel %s opened by %s: accepted, our deposit will be %s wei once breakpoint 0 is signed",
             id, peer, dep);
    channel_start(n, c);
}
#undef o

static void on_event(struct node *n, const struct chain_event *ev)
{
    struct channel *c = node_find_channel(n, &ev->channel_id);
    char id[16];
    node_short_hex(ev->channel_id.b, 32, id);
    switch (ev->kind) {
    case CHAIN_EV_OPENED:
        if (!c) {
            adopt_opened(n, ev);
        } else if (c->rec.status == STORE_CH_OPENING || c->rec.status == STORE_CH_FUNDING) {
            c->rec.status = STORE_CH_FUNDING;
            channel_start(n, c); /* no-op once breakpoint 0 is signed */
        }
        return;
    case CHAIN_EV_DEPOSITED:
        if (!c) return;
        if (c->rec.flags & STORE_FLAG_DEPOSIT1) {
            if (c->rec.status == STORE_CH_FUNDING && c->has_latest) c->rec.status = STORE_CH_OPEN;
            break;
        }
        c->rec.flags |= STORE_FLAG_DEPOSIT1;
        node_log(n, "channel %s funded: pot complete", id);
        if (c->rec.status == STORE_CH_FUNDING && c->has_latest) c->rec.status = STORE_CH_OPEN;
        break;
    case CHAIN_EV_CHALLENGED:
        if (!c) return;
        c->rec.status = STORE_CH_CHALLENGED;
        c->rec.challenged_nonce = ev->u.challenged.nonce;
        c->rec.challenge_deadline = ev->u.challenged.deadline;
        node_log(n, "channel %s challenged on-chain with nonce %llu, deadline %llu", id,
                 (unsigned long long)c->rec.challenged_nonce,
                 (unsigned long long)c->rec.challenge_deadline);
        if (c->has_latest && c->latest.bp.nonce > c->rec.challenged_nonce && c->tx_kind == TX_NONE) {
            char why[256];
            node_log(n, "answering with our latest breakpoint, nonce %llu",
                     (unsigned long long)c->latest.bp.nonce);
            if (onchain_challenge(n, c, why, sizeof why))
                node_log(n, "cannot answer the challenge: %s", why);
        }
        break;
    case CHAIN_EV_CONCLUDED:
    case CHAIN_EV_SETTLED:
        if (!c) return;
        c->rec.status = ev->kind == CHAIN_EV_CONCLUDED ? STORE_CH_CONCLUDED : STORE_CH_SETTLED;
        node_log(n, "channel %s %s on-chain at nonce %llu: funds paid out", id,
                 ev->kind == CHAIN_EV_CONCLUDED ? "concluded" : "settled",
                 (unsigned long long)(ev->kind == CHAIN_EV_CONCLUDED ? ev->u.concluded.nonce
                                                                     : ev->u.settled.nonce));
        channel_finished(n, c);
        break;
    default: /* Reclaimed, Credited, Withdrawn: nothing to do for a running channel */
        return;
    }
    if (persist_channel(n, c)) node_log(n, "warning: cannot update the store");
}

/* Called on every poll while the channel is challenged, before the deadline,
 * with no transaction of the channel in flight: if we hold a breakpoint newer
 * than the one registered, register it (or conclude with it when final). This
 * is level-triggered on purpose: an answer sent once at the event can be lost
 * (RPC down, reverted, a restart, a newer breakpoint adopted afterwards) and
 * losing it lets the peer's older breakpoint settle. Rate-limited. */
static void answer_stale_challenge(struct node *n, struct channel *c)
{
    if (!c->has_latest || c->latest.bp.nonce <= c->rec.challenged_nonce) return;
    int64_t now = now_ms();
    if (now < c->next_answer_ms) return;
    c->next_answer_ms = now + 5000;
    char why[256];
    node_log(n, "the on-chain challenge holds nonce %llu; answering with our latest breakpoint, nonce %llu",
             (unsigned long long)c->rec.challenged_nonce, (unsigned long long)c->latest.bp.nonce);
    int rv = c->latest.bp.is_final ? onchain_conclude(n, c, why, sizeof why)
                                   : onchain_challenge(n, c, why, sizeof why);
    if (rv) node_log(n, "cannot answer the challenge yet: %s", why);
}

void onchain_poll(struct node *n)
{
    uint64_t head;
    /* no question to an Ethereum node that the probe found hung: it would
     * stall every channel for the whole RPC timeout */
    set_chain_up(n, chain_probe_up(&n->probe) && chain_block_number(n->rpc, &head) == CHAIN_OK);
    if (!n->chain_up) return;

    for (size_t i = 0; i < n->n_channels; i++) {
        if (n->channels[i]->tx_kind == TX_NONE) continue;
        poll_tx(n, n->channels[i]);
        node_drain(n);
    }

    struct chain_log_filter f;
    memset(&f, 0, sizeof f);
    f.address = &n->adjudicator;
    struct chain_watch_opts wo;
    memset(&wo, 0, sizeof wo);
    wo.confirmations = (unsigned)n->cfg.confirmations;
    struct chain_logs logs;
    memset(&logs, 0, sizeof logs);
    struct chain_cursor cur = n->cursor;
    bool reorged = false;
    if (chain_watch_poll(n->rpc, &f, &wo, &cur, &logs, &reorged) != CHAIN_OK) {
        chain_logs_free(&logs);
        return;
    }
    if (reorged) node_log(n, "the chain reorganised; re-reading recent adjudicator events");
    for (size_t i = 0; i < logs.n; i++) {
        if (logs.items[i].removed) continue;
        struct chain_event ev;
        if (chain_event_decode(&logs.items[i], &ev) != CHAIN_OK) continue;
        on_event(n, &ev);
        chain_event_clear(&ev);
    }
    chain_logs_free(&logs);
    if (memcmp(&cur, &n->cursor, sizeof cur) != 0) {
        n->cursor = cur;
        if (persist_cursor(n)) node_log(n, "warning: cannot store the chain cursor");
    }

    /* Settle challenged channels whose deadline has passed on-chain. */
    struct chain_block b;
    bool have_block = false;
    for (size_t i = 0; i < n->n_channels; i++) {
        struct channel *c = n->channels[i];
        if (c->rec.status != STORE_CH_CHALLENGED || c->tx_kind != TX_NONE) continue;
        if (!have_block) {
            if (chain_get_block(n->rpc, head, &b) != CHAIN_OK) return;
            have_block = true;
        }
        if (b.timestamp < c->rec.challenge_deadline) {
            answer_stale_challenge(n, c);
            continue;
        }
        char why[256];
        node_log(n, "challenge period over: settling");
        if (onchain_settle(n, c, why, sizeof why)) node_log(n, "cannot settle: %s", why);
        node_drain(n);
    }
}
