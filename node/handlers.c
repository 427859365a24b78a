/*
 * The control API's methods, run on the loop thread. Methods that wait for
 * the peer or the chain park their request in a channel's waiter; channel.c
 * and onchain.c answer it.
 */
#include "json_values.h"
#include "node.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOVE_TIMEOUT_MS 60000

static const char *state_name(int status)
{
    switch (status) {
    case STORE_CH_OPENING: return "opening";
    case STORE_CH_FUNDING: return "funding";
    case STORE_CH_OPEN: return "open";
    case STORE_CH_CLOSING: return "closing";
    case STORE_CH_CHALLENGED: return "challenged";
    case STORE_CH_SETTLED: return "settled";
    case STORE_CH_CONCLUDED: return "concluded";
    default: return "unknown";
    }
}

static json_t *address_json(const vm_address *a)
{
    char text[43];
    vm_address_to_checksum(a, text);
    return json_string(text);
}

json_t *handlers_channel_json(struct node *n, struct channel *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "channel", json_hex_value(c->rec.id.b, 32));
    json_object_set_new(o, "state", json_string(state_name(c->rec.status)));
    json_object_set_new(o, "nonce", json_integer(c->has_latest ? (json_int_t)c->latest.bp.nonce : 0));
    json_object_set_new(o, "stateRoot", c->has_latest ? json_hex_value(c->latest.bp.state_root.b, 32)
                                                      : json_null());
    json_t *payouts = json_array();
    for (int i = 0; i < VM_BP_PLAYERS; i++)
        json_array_append_new(payouts, json_dec_value(c->has_latest ? c->latest.bp.payouts[i]
                                                              : c->rec.deposits[i]));
    json_object_set_new(o, "payouts", payouts);
    json_object_set_new(o, "isFinal", json_boolean(c->has_latest && c->latest.bp.is_final));
    /* our proposal that waits for the peer's signature (null: none) */
    json_object_set_new(o, "pendingNonce", c->pending != PENDING_NONE
                                               ? json_integer((json_int_t)c->proposal.bp.nonce)
                                               : json_null());
    json_object_set_new(o, "peer", address_json(&c->rec.players[1 - c->rec.me]));
    json_object_set_new(o, "peerConnected", json_boolean(c->peer_connected));
    json_object_set_new(o, "me", json_integer(c->rec.me));
    json_object_set_new(o, "app", address_json(&c->rec.app));
    json_t *players = json_array(), *deposits = json_array();
    for (int i = 0; i < VM_BP_PLAYERS; i++) {
        json_array_append_new(players, address_json(&c->rec.players[i]));
        json_array_append_new(deposits, json_dec_value(c->rec.deposits[i]));
    }
    json_object_set_new(o, "players", players);
    json_object_set_new(o, "deposits", deposits);
    json_object_set_new(o, "challengePeriod", json_integer((json_int_t)c->rec.challenge_period));
    (void)n;
    return o;
}

/* The "channel" parameter: a full id, or a unique prefix of one (like git). */
static struct channel *find_param_channel(struct node *n, struct api_request *req)
{
    const char *text = json_string_value(json_object_get(api_request_params(req), "channel"));
    if (!text) {
        node_reply_error(n, req, 400, 400, "a channel id is required");
        return NULL;
    }
    const char *hex = strncmp(text, "0x", 2) == 0 ? text + 2 : text;
    size_t len = strlen(hex);
    struct channel *found = NULL;
    for (size_t i = 0; i < n->n_channels; i++) {
        char full[67];
        vm_hex_encode(n->channels[i]->rec.id.b, 32, full);
        if (len >= 4 && len <= 64 && strncasecmp(full + 2, hex, len) == 0) {
            if (found) {
                node_reply_error(n, req, 400, 400, "channel '%s' is ambiguous", text);
                return NULL;
            }
            found = n->channels[i];
        }
    }
    if (!found) node_reply_error(n, req, 404, 404, "no channel %s on this node", text);
    return found;
}

/* {"count": N, "micros": total} of a timed phase. */
static json_t *phase_json(const struct node_phase *p)
{
    return json_pack("{s:I,s:I}", "count", (json_int_t)p->count, "micros", (json_int_t)(p->ns / 1000));
}

static void handle_status(struct node *n, struct api_request *req)
{
    if (json_object_get(api_request_params(req), "channel")) {
        struct channel *c = find_param_channel(n, req);
        if (c) node_reply(n, req, handlers_channel_json(n, c));
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n->n_channels; i++)
        json_array_append_new(list, handlers_channel_json(n, n->channels[i]));
    json_t *r = json_object();
    json_object_set_new(r, "address", address_json(&n->self));
    json_object_set_new(r, "chainId", json_integer((json_int_t)n->chain_id));
    json_object_set_new(r, "adjudicator", address_json(&n->adjudicator));
    json_object_set_new(r, "chainReachable", json_boolean(n->chain_up));
    struct p2p_stats ps;
    p2p_stats(n->p2p, &ps);
    json_object_set_new(r, "p2p", json_pack("{s:I,s:I,s:I,s:I}", "framesSent",
                                            (json_int_t)ps.frames_sent, "framesReceived",
                                            (json_int_t)ps.frames_received, "framesDropped",
                                            (json_int_t)ps.frames_dropped, "peersRefused",
                                            (json_int_t)ps.peers_refused));
    const struct node_metrics *mt = &n->metrics;
    json_object_set_new(r, "metrics",
        json_pack("{s:o,s:o,s:o,s:o,s:o,s:I,s:I}", "evm", phase_json(&mt->evm), "sign",
                  phase_json(&mt->sign), "recover", phase_json(&mt->recover), "commit",
                  phase_json(&mt->commit), "chainPoll", phase_json(&mt->chain),
                  "storeWrites", (json_int_t)mt->writes,
                  "breakpoints", (json_int_t)mt->breakpoints));
    json_object_set_new(r, "channels", list);
    node_reply(n, req, r);
}

/* Encodes 'name(types)' with the string arguments of the request. */
static int encode_call(struct node *n, struct api_request *req, struct vm_buf *out)
{
    json_t *p = api_request_params(req);
    const char *sig = json_string_value(json_object_get(p, "signature"));
    json_t *args = json_object_get(p, "args");
    if (!sig) {
        node_reply_error(n, req, 400, 400, "a function signature such as 'play(uint8)' is required");
        return -1;
    }
    size_t argc = json_array_size(args);
    const char **argv = calloc(argc ? argc : 1, sizeof *argv);
    if (!argv) {
        node_reply_error(n, req, 500, 500, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < argc; i++) {
        argv[i] = json_string_value(json_array_get(args, i));
        if (!argv[i]) {
            free(argv);
            node_reply_error(n, req, 400, 400, "argument %zu must be a string", i + 1);
            return -1;
        }
    }
    int rv = chain_abi_encode_call_argv(sig, argv, argc, out);
    free(argv);
    if (rv) {
        node_reply_error(n, req, 400, 400, "cannot encode %s with these arguments: %s", sig,
                        chain_strerror(rv));
        return -1;
    }
    return 0;
}

static void handle_move(struct node *n, struct api_request *req)
{
    struct channel *c = find_param_channel(n, req);
    if (!c) return;
    struct vm_buf call = {0};
    if (encode_call(n, req, &call)) return;
    char why[256];
    int rv = channel_propose_move(n, c, &n->self, call.data, call.len, why, sizeof why);
    vm_buf_free(&call);
    if (rv) {
        node_reply_error(n, req, 409, 409, "%s", why);
        return;
    }
    c->waiter.req = req;
    c->waiter.deadline_ms = now_ms() + MOVE_TIMEOUT_MS;
}

static void handle_call(struct node *n, struct api_request *req)
{
    struct channel *c = find_param_channel(n, req);
    if (!c) return;
    if (!c->app_loaded) {
        node_reply_error(n, req, 409, 409, "the channel has no state yet (it is %s)",
                        state_name(c->rec.status));
        return;
    }
    struct vm_buf call = {0};
    if (encode_call(n, req, &call)) return;
    uint8_t *out = NULL;
    size_t out_len = 0;
    int rv = app_view(&c->app, call.data, call.len, c->latest.bp.nonce, &out, &out_len);
    vm_buf_free(&call);
    if (rv) {
        node_reply_error(n, req, 409, 409, "the call failed: %s", app_strerror(rv));
        return;
    }
    const char *sig = json_string_value(json_object_get(api_request_params(req), "signature"));
    json_t *r = json_object();
    json_object_set_new(r, "output", json_hex_value(out, out_len));
    /* "f(..)(R..)": decode the results if the signature names them */
    const char *close_paren = strchr(sig, ')');
    if (close_paren && close_paren[1] == '(') {
        char *values = NULL;
        int dv = chain_abi_decode_json(sig, out, out_len, &values);
        if (dv) {
            free(out);
            json_decref(r);
            node_reply_error(n, req, 409, 409, "the answer does not decode as %s: %s",
                            close_paren + 1, chain_strerror(dv));
            return;
        }
        json_object_set_new(r, "values", json_loads(values, 0, NULL));
        free(values);
    }
    free(out);
    node_reply(n, req, r);
}

static void handle_close(struct node *n, struct api_request *req)
{
    struct channel *c = find_param_channel(n, req);
    if (!c) return;
    char why[256];
    if (channel_propose_close(n, c, why, sizeof why)) {
        node_reply_error(n, req, 409, 409, "%s", why);
        return;
    }
    c->waiter.req = req;
    c->waiter.deadline_ms = now_ms() + MOVE_TIMEOUT_MS;
}

static void handle_chain_action(struct node *n, struct api_request *req,
                                int (*action)(struct node *, struct channel *, char *, size_t))
{
    struct channel *c = find_param_channel(n, req);
    if (!c) return;
    if (c->chain_waiter.req) {
        node_reply_error(n, req, 409, 409, "an on-chain action on this channel is already in progress");
        return;
    }
    char why[256];
    if (action(n, c, why, sizeof why)) {
        node_reply_error(n, req, 409, 409, "%s", why);
        return;
    }
    c->chain_waiter.req = req;
    c->chain_waiter.deadline_ms = now_ms() + 10 * 60 * 1000;
}

void handlers_open(struct node *n, struct api_request *req);

void handlers_dispatch(struct node *n, struct api_request *req)
{
    const char *m = api_request_method(req);
    if (strcmp(m, "status") == 0) handle_status(n, req);
    else if (strcmp(m, "open") == 0) handlers_open(n, req);
    else if (strcmp(m, "move") == 0) handle_move(n, req);
    else if (strcmp(m, "call") == 0) handle_call(n, req);
    else if (strcmp(m, "close") == 0) handle_close(n, req);
    else if (strcmp(m, "challenge") == 0) handle_chain_action(n, req, onchain_challenge);
    else if (strcmp(m, "settle") == 0) handle_chain_action(n, req, onchain_settle);
    else node_reply_error(n, req, 404, 404, "unknown method '%s'", m);
}

/* open: {peer "0xADDR@tcp://HOST:PORT", app, deposit, peerDeposit (decimal wei),
 *        initArgs (hex), challengePeriod (s)}. Answered when open() is mined. */
void handlers_open(struct node *n, struct api_request *req)
{
    json_t *p = api_request_params(req);
    const char *peer = json_string_value(json_object_get(p, "peer"));
    const char *app = json_string_value(json_object_get(p, "app"));
    const char *dep = json_string_value(json_object_get(p, "deposit"));
    const char *pdep = json_string_value(json_object_get(p, "peerDeposit"));
    const char *init = json_string_value(json_object_get(p, "initArgs"));
    json_int_t period = json_integer_value(json_object_get(p, "challengePeriod"));
    if (!json_object_get(p, "challengePeriod")) period = 3600;
    if (!peer || !app || !dep || !pdep) {
        node_reply_error(n, req, 400, 400, "open needs peer, app, deposit and peerDeposit");
        return;
    }
    const char *at = strchr(peer, '@');
    if (!at || strncmp(at + 1, "tcp://", 6) != 0 || strlen(at + 1) >= STORE_MAX_URL) {
        node_reply_error(n, req, 400, 400, "--peer must look like 0xADDRESS@tcp://HOST:PORT");
        return;
    }
    struct channel *c = calloc(1, sizeof *c);
    if (!c) {
        node_reply_error(n, req, 500, 500, "out of memory");
        return;
    }
    char peer_addr[64];
    snprintf(peer_addr, sizeof peer_addr, "%.*s", (int)(at - peer), peer);
    struct store_channel *r = &c->rec;
    const char *bad = NULL;
    if (vm_address_parse(peer_addr, &r->players[1]) != VM_OK) bad = "the peer's address is not valid";
    else if (memcmp(r->players[1].b, n->self.b, 20) == 0) bad = "a channel with yourself makes no sense";
    else if (vm_address_parse(app, &r->app) != VM_OK) bad = "--app is not an address";
    else if (vm_u256_parse(dep, &r->deposits[0]) != VM_OK ||
             vm_u256_parse(pdep, &r->deposits[1]) != VM_OK) bad = "the deposits are not amounts";
    else if (period <= 0) bad = "--challenge-period must be positive";
    else if (init && vm_hex_decode(init, r->init_args, sizeof r->init_args, &r->init_args_len) != VM_OK)
        bad = "--init-args must be hex of at most 4096 bytes";
    if (bad) {
        free(c);
        node_reply_error(n, req, 400, 400, "%s", bad);
        return;
    }
    r->players[0] = n->self;
    r->chain_id = n->chain_id;
    r->adjudicator = n->adjudicator;
    r->challenge_period = (uint64_t)period;
    randombytes_buf(r->salt.b, sizeof r->salt.b);
    snprintf(r->peer_url, sizeof r->peer_url, "%s", at + 1);
    r->me = 0;
    r->status = STORE_CH_OPENING;
    /* the code hash the channel commits to: the app's code as it is now */
    if (channel_fetch_code_unchecked(n, c)) {
        channel_free(c);
        node_reply_error(n, req, 409, 409, "there is no contract at --app %s on this chain", app);
        return;
    }
    onchain_channel_id(n, r);
    if (node_add_channel(n, c)) {
        channel_free(c);
        node_reply_error(n, req, 500, 500, "cannot record the channel in the store");
        return;
    }
    char why[300];
    int rv = p2p_connect(n->p2p, &r->players[1], r->peer_url);
    if (rv) node_log(n, "cannot dial the peer at %s: %s (will retry)", r->peer_url, p2p_strerror(rv));
    if (onchain_open(n, c, why, sizeof why)) {
        r->status = STORE_CH_CONCLUDED; /* nothing was locked */
        if (persist_channel(n, c)) node_log(n, "warning: cannot update the store");
        node_reply_error(n, req, 409, 409, "%s", why);
        return;
    }
    char id[16];
    node_short_hex(r->id.b, 32, id);
    node_log(n, "opening channel %s with %s (challenge period %lld s)", id, peer_addr, (long long)period);
    c->chain_waiter.req = req;
    c->chain_waiter.deadline_ms = now_ms() + 10 * 60 * 1000;
}
