/*
 * `bp node`: start-up, the loop thread, and shutdown. The loop is the only
 * thread that touches channels; p2p, the control API and signals reach it
 * through the queue (docs/node.md).
 */
#include "amount.h"
#include "api_token.h"
#include "cli.h"
#include "keystore.h"
#include "node.h"

#include <errno.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>

#define TICK_MS 100

void node_short_hex(const uint8_t *b, size_t len, char out[16])
{
    static const char digits[] = "0123456789abcdef";
    if (len < 4) {
        snprintf(out, 16, "0x");
        return;
    }
    snprintf(out, 16, "0x%c%c%c%c…%c%c%c%c", digits[b[0] >> 4], digits[b[0] & 15],
             digits[b[1] >> 4], digits[b[1] & 15], digits[b[len - 2] >> 4],
             digits[b[len - 2] & 15], digits[b[len - 1] >> 4], digits[b[len - 1] & 15]);
}

void node_log(struct node *n, const char *fmt, ...)
{
    (void)n;
    char when[32];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s.%03ld ", when, ts.tv_nsec / 1000000);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

struct channel *node_find_channel(struct node *n, const vm_bytes32 *id)
{
    for (size_t i = 0; i < n->n_channels; i++) {
        if (memcmp(n->channels[i]->rec.id.b, id->b, 32) == 0) return n->channels[i];
    }
    return NULL;
}

/* p2p's callback thread: copy and hand over to the loop. */
static void on_p2p_message(void *user, const vm_address *peer, const struct p2p_msg *msg)
{
    struct node *n = user;
    struct node_msg_event *ev = malloc(sizeof *ev);
    if (!ev) return; /* dropped like a lost frame; the protocol retries */
    ev->peer = *peer;
    /* only the part of the union that this type uses (SYNC_REPLY's storage
     * makes the whole struct ~50 KiB; the loop reads no other member) */
    size_t used = sizeof ev->msg;
    switch (msg->type) {
    case P2P_MSG_PROPOSE: used = offsetof(struct p2p_msg, u) + sizeof msg->u.propose; break;
    case P2P_MSG_ACCEPT: used = offsetof(struct p2p_msg, u) + sizeof msg->u.accept; break;
    case P2P_MSG_REJECT: used = offsetof(struct p2p_msg, u) + sizeof msg->u.reject; break;
    case P2P_MSG_SYNC: used = offsetof(struct p2p_msg, u) + sizeof msg->u.sync; break;
    case P2P_MSG_CLOSE: used = offsetof(struct p2p_msg, u) + sizeof msg->u.close; break;
    case P2P_MSG_PING: used = offsetof(struct p2p_msg, u) + sizeof msg->u.ping; break;
    default: break;
    }
    memcpy(&ev->msg, msg, used);
    if (!queue_post(&n->queue, NODE_EV_MESSAGE, ev)) free(ev);
}

static void on_p2p_peer(void *user, const vm_address *peer, bool connected)
{
    struct node *n = user;
    struct node_peer_event *ev = malloc(sizeof *ev);
    if (!ev) return;
    ev->peer = *peer;
    ev->connected = connected;
    if (!queue_post(&n->queue, NODE_EV_PEER, ev)) free(ev);
}

static void on_p2p_log(void *user, enum p2p_log_level level, const char *text)
{
    struct node *n = user;
    if (level >= P2P_LOG_INFO) node_log(n, "p2p: %s", text);
}

static void on_api_request(void *arg, struct api_request *req)
{
    struct node *n = arg;
    if (!queue_post(&n->queue, NODE_EV_API, req))
        api_reply_error(req, 503, 503, "the node is shutting down");
}

static void free_event(int kind, void *data)
{
    if (kind == NODE_EV_API) api_reply_error(data, 503, 503, "the node is shutting down");
    else free(data);
}

/* A thread that turns SIGINT/SIGTERM into a stop event. */
static void *signal_thread(void *arg)
{
    struct node *n = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig;
    if (sigwait(&set, &sig) == 0) {
        node_log(n, "received %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
        queue_post(&n->queue, NODE_EV_STOP, NULL);
    }
    return NULL;
}

static const char node_usage[] =
    "usage: bp node --datadir DIR --password-file F --eth URL --adjudicator ADDR\n"
    "               --listen tcp://HOST:PORT --api HOST:PORT [--peer-timeout S]\n"
    "               [--max-deposit AMOUNT] [--poll-ms MS] [--confirmations N]\n\n"
    "Runs a player's node: plays channels with peers over --listen, watches the\n"
    "adjudicator through the JSON-RPC endpoint --eth, and serves the control API on\n"
    "--api (loopback only; token in DIR/api.token). Stops on SIGINT/SIGTERM.\n";

const char *cmd_node_usage(void)
{
    return node_usage;
}

static int parse_node_args(int argc, char **argv, struct node_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->peer_timeout_ms = 30000;
    cfg->poll_ms = 500;
    if (amount_parse("10ether", &cfg->max_deposit) != VM_OK) return 1;
    const char *hook = getenv("BP_TEST_KILL_AFTER_SIGN");
    if (hook) cfg->test_kill_after_sign = strtol(hook, NULL, 10);
    hook = getenv("BP_TEST_FAIL_COMMIT");
    if (hook) cfg->test_fail_commit = strtol(hook, NULL, 10);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            cfg->json_logs = true;
            continue;
        }
        if (i + 1 >= argc) return cli_fail("node: %s needs a value (see bp node --help)", a);
        const char *v = argv[++i];
        if (strcmp(a, "--datadir") == 0) cfg->datadir = v;
        else if (strcmp(a, "--password-file") == 0) cfg->password_file = v;
        else if (strcmp(a, "--eth") == 0) cfg->eth_url = v;
        else if (strcmp(a, "--adjudicator") == 0) cfg->adjudicator = v;
        else if (strcmp(a, "--listen") == 0) cfg->listen = v;
        else if (strcmp(a, "--api") == 0) cfg->api = v;
        else if (strcmp(a, "--peer-timeout") == 0) {
            char *end;
            double s = strtod(v, &end);
            if (*end || s <= 0) return cli_fail("node: --peer-timeout takes seconds, e.g. 30");
            cfg->peer_timeout_ms = (int64_t)(s * 1000);
        } else if (strcmp(a, "--max-deposit") == 0) {
            if (amount_parse(v, &cfg->max_deposit) != VM_OK)
                return cli_fail("node: --max-deposit: '%s' is not an amount", v);
        } else if (strcmp(a, "--poll-ms") == 0) {
            cfg->poll_ms = strtol(v, NULL, 10);
            if (cfg->poll_ms <= 0) return cli_fail("node: --poll-ms must be positive");
        } else if (strcmp(a, "--confirmations") == 0) {
            cfg->confirmations = strtoull(v, NULL, 10);
        } else {
            return cli_fail("node: unknown option '%s' (see bp node --help)", a);
        }
    }
    const char *missing = !cfg->datadir ? "--datadir" : !cfg->password_file ? "--password-file"
                          : !cfg->eth_url ? "--eth" : !cfg->adjudicator ? "--adjudicator"
                          : !cfg->listen ? "--listen" : !cfg->api ? "--api" : NULL;
    if (missing) return cli_fail("node: %s is required (see bp node --help)", missing);
    return 0;
}

static void node_close(struct node *n)
{
    batch_free(n); /* empty unless the loop never ran a batch to its end */
    if (n->api) api_server_stop(n->api);
    if (n->p2p) p2p_free(n->p2p);
    queue_close(&n->queue);
    queue_destroy(&n->queue, free_event);
    for (size_t i = 0; i < n->n_channels; i++) channel_free(n->channels[i]);
    free(n->channels);
    chain_probe_stop(&n->probe);
    if (n->wallet) chain_wallet_free(n->wallet);
    if (n->rpc) chain_client_free(n->rpc);
    if (n->store) store_close(n->store);
    if (n->secp) vm_secp_free(n->secp);
    sodium_memzero(n->key, sizeof n->key);
}

static int node_start(struct node *n)
{
    char password[1024];
    int rv = keystore_read_password_file(n->cfg.password_file, password, sizeof password);
    if (rv) return cli_fail("node: cannot read the password file %s: %s", n->cfg.password_file,
                            keystore_strerror(rv));
    rv = keystore_load(n->cfg.datadir, password, n->key);
    sodium_memzero(password, sizeof password);
    if (rv) return cli_fail("node: cannot unlock the key in %s: %s", n->cfg.datadir,
                            keystore_strerror(rv));
    if (vm_secp_new(&n->secp) != VM_OK || vm_key_address(n->secp, n->key, &n->self) != VM_OK)
        return cli_fail("node: the stored key is not a valid secp256k1 key");
    if (vm_address_parse(n->cfg.adjudicator, &n->adjudicator) != VM_OK)
        return cli_fail("node: --adjudicator: '%s' is not an address", n->cfg.adjudicator);

    char path[1024];
    snprintf(path, sizeof path, "%s/store", n->cfg.datadir);
    rv = store_open(path, &n->store);
    if (rv) return cli_fail("node: cannot open the store %s: %s", path, store_strerror(rv));

    struct chain_client_opts copts;
    memset(&copts, 0, sizeof copts);
    copts.timeout_ms = 3000;
    rv = chain_client_new(n->cfg.eth_url, &copts, &n->rpc);
    if (rv) return cli_fail("node: --eth %s: %s", n->cfg.eth_url, chain_strerror(rv));
    rv = chain_chain_id(n->rpc, &n->chain_id);
    if (rv) return cli_fail("node: cannot reach the Ethereum node at %s: %s", n->cfg.eth_url,
                            chain_strerror(rv));
    n->chain_up = true;
    struct vm_buf code = {0};
    rv = chain_get_code(n->rpc, &n->adjudicator, CHAIN_BLOCK_LATEST, &code);
    size_t code_len = code.len;
    vm_buf_free(&code);
    if (rv) return cli_fail("node: eth_getCode of the adjudicator: %s", chain_strerror(rv));
    if (code_len == 0)
        return cli_fail("node: there is no contract at --adjudicator %s on chain %llu",
                        n->cfg.adjudicator, (unsigned long long)n->chain_id);
    rv = chain_probe_start(&n->probe, n->cfg.eth_url, copts.timeout_ms, n->cfg.poll_ms);
    if (rv) return cli_fail("node: --eth %s: %s", n->cfg.eth_url, chain_strerror(rv));
    struct chain_wallet_opts wopts;
    memset(&wopts, 0, sizeof wopts);
    wopts.confirmations = (unsigned)n->cfg.confirmations;
    rv = chain_wallet_new(n->rpc, n->secp, n->key, &wopts, &n->wallet);
    if (rv) return cli_fail("node: wallet: %s", chain_strerror(rv));

    rv = channel_load_all(n);
    if (rv) return cli_fail("node: cannot load the channels from the store: %s", store_strerror(rv));

    struct p2p_config pcfg;
    memset(&pcfg, 0, sizeof pcfg);
    pcfg.eth_key = n->key;
    pcfg.secp = n->secp;
    pcfg.listen_url = n->cfg.listen;
    pcfg.user = n;
    pcfg.on_message = on_p2p_message;
    pcfg.on_peer_state = on_p2p_peer;
    pcfg.on_log = on_p2p_log;
    pcfg.backoff_max_ms = 2000;
    rv = p2p_new(&pcfg, &n->p2p);
    if (rv) return cli_fail("node: cannot listen on %s: %s", n->cfg.listen, p2p_strerror(rv));

    char token[65];
    api_token_new(token);
    rv = api_server_start(n->cfg.api, token, on_api_request, n, &n->api);
    if (rv) return cli_fail("node: --api %s: %s", n->cfg.api, api_strerror(rv));
    if (api_token_publish(n->cfg.datadir, n->cfg.api, token) != API_OK)
        return cli_fail("node: cannot write %s/api.token", n->cfg.datadir);
    sodium_memzero(token, sizeof token);

    char addr[43];
    vm_address_to_checksum(&n->self, addr);
    node_log(n, "node %s up: chain %llu via %s, adjudicator %s, peers on %s, API on %s, "
                "%zu channel(s) loaded",
             addr, (unsigned long long)n->chain_id, n->cfg.eth_url, n->cfg.adjudicator,
             n->cfg.listen, n->cfg.api, n->n_channels);
    /* Peers of loaded channels: the opener dials, the other side allows. */
    for (size_t i = 0; i < n->n_channels; i++) {
        struct channel *c = n->channels[i];
        const vm_address *peer = &c->rec.players[1 - c->rec.me];
        int prv = c->rec.me == 0 && c->rec.peer_url[0] ? p2p_connect(n->p2p, peer, c->rec.peer_url)
                                                   : p2p_allow_peer(n->p2p, peer);
        if (prv) node_log(n, "cannot reach the peer of a channel: %s", p2p_strerror(prv));
    }
    return 0;
}

/* One queued event. Returns false on a stop event. */
static bool handle_event(struct node *n, int kind, void *data)
{
    switch (kind) {
    case NODE_EV_MESSAGE: {
        struct node_msg_event *ev = data;
        channel_on_message(n, &ev->peer, &ev->msg);
        free(ev);
        break;
    }
    case NODE_EV_PEER: {
        struct node_peer_event *ev = data;
        channel_on_peer(n, &ev->peer, ev->connected);
        free(ev);
        break;
    }
    case NODE_EV_API:
        handlers_dispatch(n, data);
        break;
    case NODE_EV_STOP:
        return false;
    }
    return true;
}

/* Events that queue up while a batch commits form the next batch: under
 * load one fsync covers many channels' moves (batch.c). */
#define BATCH_MAX 512
/* Chain work (RPC calls) runs on this thread: between two pieces of it,
 * moves that wait longer than this are handled first (node_drain). */
#define DRAIN_AFTER_NS 2000000

/* Handles the taken event and whatever else is queued, up to BATCH_MAX,
 * inside the open batch. */
static void handle_queued(struct node *n, int kind, void *data)
{
    bool go_on = handle_event(n, kind, data);
    for (int k = 1; go_on && !n->fatal && k < BATCH_MAX && queue_take(&n->queue, 0, &kind, &data); k++)
        go_on = handle_event(n, kind, data);
    if (!go_on) n->stopping = true;
    n->last_take_ns = node_now_ns();
}

void node_drain(struct node *n)
{
    if (n->draining || n->stopping || n->fatal || !n->batching) return;
    if (node_now_ns() - n->last_take_ns < DRAIN_AFTER_NS) return;
    int kind;
    void *data;
    n->last_take_ns = node_now_ns();
    if (!queue_take(&n->queue, 0, &kind, &data)) return;
    n->draining = true;
    /* what the chain work did so far is committed with the moves' batch */
    handle_queued(n, kind, data);
    if (batch_commit(n) == 0) n->last_take_ns = node_now_ns();
    n->draining = false;
}

/* Returns 0 on a stop event, 1 when a commit failed. */
static int loop(struct node *n)
{
    for (;;) {
        int64_t now = now_ms();
        batch_begin(n);
        n->last_take_ns = node_now_ns();
        if (now >= n->next_poll_ms) {
            int64_t t0 = node_now_ns();
            onchain_poll(n);
            node_metrics_add(&n->metrics.chain, t0);
            n->next_poll_ms = now_ms() + n->cfg.poll_ms;
        }
        for (size_t i = 0; i < n->n_channels && !n->fatal && !n->stopping; i++) {
            channel_tick(n, n->channels[i], now_ms());
            node_drain(n);
        }
        if (batch_end(n)) return 1;
        if (n->stopping) return 0;
        int kind;
        void *data;
        int64_t deadline = now_ms() + TICK_MS;
        while (queue_take(&n->queue, deadline, &kind, &data)) {
            batch_begin(n);
            handle_queued(n, kind, data);
            if (batch_end(n)) return 1;
            if (n->stopping) return 0;
            /* keep timers honest under a stream of events */
            if (now_ms() >= deadline) break;
        }
    }
}

int cmd_node(int argc, char **argv)
{
    struct node *n = calloc(1, sizeof *n);
    if (!n) return cli_fail("node: out of memory");
    if (parse_node_args(argc, argv, &n->cfg)) {
        free(n);
        return 1;
    }
    /* Signals go to the signal thread only; block them before any thread starts. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0) return cli_fail("node: libsodium failed to initialise");
#if defined(__GLIBC__)
    /* Every protocol message is a ~50 KiB struct, allocated on one thread and
     * freed on another: keep freed memory instead of giving it back to the
     * kernel and faulting fresh zero pages in for the next message. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif

    queue_init(&n->queue);
    int status = 1;
    if (node_start(n) == 0) {
        pthread_t sig;
        pthread_create(&sig, NULL, signal_thread, n);
        pthread_detach(sig);
        status = loop(n);
        node_log(n, status ? "stopped after a store failure" : "stopped");
    }
    node_close(n);
    free(n);
    return status;
}
