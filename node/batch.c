/*
 * Group commit. The loop handles a batch of queued events (many channels'
 * moves) inside ONE store transaction and fsyncs once for all of them. A
 * signature must never leave before the breakpoint it signs is durable, so
 * while a batch is open every p2p send and every API answer waits in the
 * outbox; batch_commit makes the store durable first and only then lets
 * them go. Anything else that must be durable before it acts (a transaction
 * broadcast to the chain) calls batch_commit itself first.
 */
#include "node.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum out_kind { OUT_MSG, OUT_REPLY, OUT_ERROR };

struct node_out {
    enum out_kind kind;
    vm_address peer;
    struct p2p_msg *msg;
    struct api_request *req;
    json_t *result;
    int http_status, code;
    char *text;
};

/* Messages are ~50 KiB: reuse them instead of making malloc hand fresh pages
 * back and forth with the kernel on every send. */
#define MSG_POOL_MAX (sizeof ((struct node *)0)->msg_pool / sizeof(struct p2p_msg *))

struct p2p_msg *node_msg_new(struct node *n, enum p2p_msg_type type)
{
    struct p2p_msg *m = n->n_msg_pool ? n->msg_pool[--n->n_msg_pool] : malloc(sizeof *m);
    if (!m) return NULL;
    memset(m, 0, sizeof *m);
    m->type = type;
    return m;
}

void node_msg_free(struct node *n, struct p2p_msg *m)
{
    if (!m) return;
    if (n->n_msg_pool < MSG_POOL_MAX) n->msg_pool[n->n_msg_pool++] = m;
    else free(m);
}

void node_metrics_add(struct node_phase *p, int64_t start_ns)
{
    p->ns += node_now_ns() - start_ns;
    p->count++;
}

int64_t node_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void send_now(struct node *n, const vm_address *peer, struct p2p_msg *m)
{
    int rv = p2p_send(n->p2p, peer, m);
    if (rv && rv != P2P_ERR_NOT_CONNECTED) {
        char id[16];
        node_short_hex(m->channel_id.b, 32, id);
        node_log(n, "channel %s: cannot send %s: %s", id, p2p_msg_type_name(m->type),
                 p2p_strerror(rv));
    }
    node_msg_free(n, m);
}

static int out_push(struct node *n, const struct node_out *o)
{
    if (n->n_out == n->cap_out) {
        size_t cap = n->cap_out ? 2 * n->cap_out : 64;
        struct node_out *grown = realloc(n->outbox, cap * sizeof *grown);
        if (!grown) return -1;
        n->outbox = grown;
        n->cap_out = cap;
    }
    n->outbox[n->n_out++] = *o;
    return 0;
}

void node_send(struct node *n, const vm_address *peer, struct p2p_msg *m)
{
    if (!m) return;
    if (!n->batching) {
        send_now(n, peer, m);
        return;
    }
    struct node_out o = {.kind = OUT_MSG, .peer = *peer, .msg = m};
    /* no room to hold it: drop it like a lost frame (the protocol re-sends) */
    if (out_push(n, &o)) node_msg_free(n, m);
}

void node_reply(struct node *n, struct api_request *req, json_t *result)
{
    struct node_out o = {.kind = OUT_REPLY, .req = req, .result = result};
    if (!n->batching || out_push(n, &o)) api_reply(req, result);
}

void node_reply_error(struct node *n, struct api_request *req, int http_status, int code,
                      const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    struct node_out o = {.kind = OUT_ERROR, .req = req, .http_status = http_status, .code = code};
    if (n->batching && (o.text = strdup(text)) != NULL && out_push(n, &o) == 0) return;
    free(o.text);
    api_reply_error(req, http_status, code, "%s", text);
}

struct store_txn *node_txn(struct node *n)
{
    if (!n->batching || n->fatal) return n->txn; /* after a failed commit writes refuse (node_may_write) */
    if (!n->txn) {
        int rv = store_txn_begin(n->store, &n->txn);
        if (rv) {
            /* each write then commits on its own: slower, still safe */
            node_log(n, "warning: cannot begin a store transaction: %s", store_strerror(rv));
            n->txn = NULL;
        }
    }
    return n->txn;
}

int node_may_write(const struct node *n)
{
    return n->fatal ? STORE_ERR_IO : STORE_OK;
}

void node_signed(struct node *n)
{
    if (n->cfg.test_fail_commit > 0 && --n->cfg.test_fail_commit == 0 && n->txn) n->fail_commit = true;
    if (n->cfg.test_kill_after_sign > 0 && --n->cfg.test_kill_after_sign == 0) {
        if (n->txn) {
            n->kill_after_commit = true;
            return;
        }
        node_log(n, "test hook: killing this node between the store write and the send");
        raise(SIGKILL);
    }
}

void batch_begin(struct node *n)
{
    n->batching = true;
}

static void flush_outbox(struct node *n, bool deliver)
{
    /* entries may add entries (a reply builds JSON only): index, not pointer */
    for (size_t i = 0; i < n->n_out; i++) {
        struct node_out o = n->outbox[i];
        switch (o.kind) {
        case OUT_MSG:
            if (deliver) send_now(n, &o.peer, o.msg);
            else node_msg_free(n, o.msg);
            break;
        case OUT_REPLY:
            if (deliver) api_reply(o.req, o.result);
            else {
                json_decref(o.result);
                api_reply_error(o.req, 503, 503, "the node is stopping: its store could not commit");
            }
            break;
        case OUT_ERROR:
            if (deliver) api_reply_error(o.req, o.http_status, o.code, "%s", o.text);
            else api_reply_error(o.req, 503, 503, "the node is stopping: its store could not commit");
            free(o.text);
            break;
        }
    }
    n->n_out = 0;
}

int batch_commit(struct node *n)
{
    int rv = 0;
    if (n->fatal) {
        /* an earlier commit of this batch failed: nothing more leaves */
        flush_outbox(n, false);
        return STORE_ERR_IO;
    }
    if (n->txn && n->fail_commit) {
        node_log(n, "test hook: this commit fails");
        store_txn_abort(n->txn);
        n->txn = NULL;
        rv = STORE_ERR_IO;
    } else if (n->txn) {
        int64_t t0 = node_now_ns();
        rv = store_txn_commit(n->txn);
        n->txn = NULL;
        if (rv == STORE_OK) node_metrics_add(&n->metrics.commit, t0);
    }
    if (rv) {
        /* The memory is ahead of the disk now and nothing of it may leave:
         * drop what waits, and stop so that a restart reloads the last
         * durable state (the peer re-sends what we did not answer). */
        node_log(n, "the store could not commit (%s): nothing of the last %zu action(s) was sent; "
                    "stopping, restart the node to resume from its last durable state",
                 store_strerror(rv), n->n_out);
        n->fatal = true;
        flush_outbox(n, false);
        return rv;
    }
    if (n->kill_after_commit) {
        node_log(n, "test hook: killing this node between the store write and the send");
        raise(SIGKILL);
    }
    flush_outbox(n, true);
    return 0;
}

int batch_end(struct node *n)
{
    int rv = batch_commit(n);
    n->batching = false;
    return rv;
}

void batch_free(struct node *n)
{
    store_txn_abort(n->txn);
    n->txn = NULL;
    flush_outbox(n, false);
    free(n->outbox);
    n->outbox = NULL;
    n->cap_out = 0;
    while (n->n_msg_pool) free(n->msg_pool[--n->n_msg_pool]);
}
