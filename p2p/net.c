/*
 * net.c — peer sessions over nng streams (tcp://).
 *
 * One struct p2p holds: an optional stream listener, a list of known peers
 * (allowed to connect, and possibly dialed by us), and a list of live
 * connections. A connection belongs to a peer once the handshake has
 * authenticated it; each peer has at most one active connection, which all
 * its channels share.
 *
 * Concurrency. nng completes stream operations on its own threads and calls
 * the aio callbacks below; every callback takes p->mu before touching state.
 * Nothing here ever blocks under p->mu. Two jobs cannot run in an aio
 * callback and are left to one worker thread of ours:
 *   - calling the user's callbacks (they may call back into p2p, which would
 *     deadlock under p->mu, and they may be slow, which would stall nng);
 *   - freeing a closed connection, which needs nng_aio_stop (it waits for the
 *     connection's callbacks, so it may not run inside one of them).
 * A closed connection is therefore marked CLOSED (its callbacks then do
 * nothing), its stream closed, and it is moved to p->dead for the worker.
 *
 * Back-pressure: when more than EVQ_HIGH events wait for the user, connections
 * stop reading (TCP then slows the sender down) until the queue drains to
 * EVQ_LOW. Sends beyond TXQ_MAX queued bytes per peer fail with P2P_ERR_BUSY.
 */
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p.h"
#include "session.h"

#define EVQ_HIGH 256
#define EVQ_LOW 64
#define TXQ_MAX (4u << 20)
/* Before authentication a connection costs little and may send little: a
 * HELLO frame is ~160 bytes, so handshake frames are capped at HS_MAX_FRAME,
 * full-size buffers are allocated only once the peer is authenticated, and
 * at most HS_MAX_PENDING connections may be in their handshake at once. */
#define HS_MAX_FRAME 512
#define HS_MAX_PENDING 64

enum conn_state {
    CS_HELLO, /* waiting for the peer's plaintext HELLO */
    CS_AUTH,  /* waiting for the peer's sealed, signed HELLO */
    CS_OPEN,  /* authenticated */
    CS_CLOSED,
};

struct txframe {
    struct txframe *next;
    size_t len; /* header + body */
    uint8_t data[];
};

struct peer;

struct conn {
    struct p2p *p;
    struct conn *next;
    struct peer *peer; /* dialer: the peer we dialed; listener: set once authenticated */
    nng_stream *stream;
    nng_aio *rx_aio;
    nng_aio *tx_aio;
    enum conn_state state;
    bool dialer;
    uint64_t id;
    char remote[48]; /* "127.0.0.1:4000", for logs */
    nng_time hs_deadline;
    struct p2p_hs hs;
    struct p2p_cipher cipher;
    /* receive: a 4-byte length, then the body */
    uint8_t hdr[4];
    uint8_t *body;  /* HS_MAX_FRAME bytes, P2P_MAX_FRAME once open */
    uint8_t *plain; /* HS_MAX_FRAME bytes, P2P_MAX_PLAINTEXT once open */
    size_t want, got;
    bool in_body;
    bool rx_paused;
    /* send */
    struct txframe *tx_head, *tx_tail;
    size_t tx_off, tx_bytes;
    bool tx_busy;
    unsigned bad_frames;
};

struct peer {
    struct peer *next;
    struct p2p *p;
    vm_address addr;
    bool allowed;
    char *url;        /* dial target, or NULL */
    char *dialer_url; /* the URL `dialer` was made for */
    nng_stream_dialer *dialer;
    nng_aio *dial_aio;
    nng_aio *sleep_aio;
    bool dial_busy; /* a sleep or a dial is in flight */
    uint32_t backoff_ms;
    struct conn *conn; /* the active authenticated connection */
};

enum event_kind { EV_MSG, EV_STATE, EV_LOG };

struct event {
    struct event *next;
    enum event_kind kind;
    vm_address peer;
    bool connected;
    enum p2p_log_level level;
    char *text;
    struct p2p_msg *msg;
};

struct p2p {
    struct p2p_config cfg;
    uint8_t key[32];
    vm_address self;
    const struct vm_secp *secp;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t worker;
    bool worker_started;
    bool closing;
    bool stop_worker;
    nng_stream_listener *listener;
    nng_aio *accept_aio;
    struct peer *peers;
    struct conn *conns;
    struct conn *dead;
    struct event *ev_head, *ev_tail;
    size_t ev_len;
    unsigned pending; /* connections in their handshake */
    uint64_t next_conn_id;
    struct p2p_stats stats;
};

/* ---------------------------------------------------------------------- */
/* Events and logging (called with p->mu held) */

static void push_event(struct p2p *p, struct event *ev)
{
    ev->next = NULL;
    if (p->ev_tail)
        p->ev_tail->next = ev;
    else
        p->ev_head = ev;
    p->ev_tail = ev;
    p->ev_len++;
    pthread_cond_signal(&p->cv);
}

static void plog(struct p2p *p, enum p2p_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void plog(struct p2p *p, enum p2p_log_level level, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    struct event *ev = calloc(1, sizeof *ev);
    if (ev == NULL) return;
    ev->kind = EV_LOG;
    ev->level = level;
    ev->text = strdup(line);
    if (ev->text == NULL) {
        free(ev);
        return;
    }
    push_event(p, ev);
}

static void push_state(struct p2p *p, const vm_address *peer, bool connected)
{
    struct event *ev = calloc(1, sizeof *ev);
    if (ev == NULL) return; /* the node also polls p2p_peer_connected */
    ev->kind = EV_STATE;
    ev->peer = *peer;
    ev->connected = connected;
    push_event(p, ev);
}

/* "0x" + 40 hex digits, or a connection's remote end */
struct addr_text {
    char s[64];
};
static struct addr_text addr_text(const vm_address *a)
{
    struct addr_text t;
    vm_hex_encode(a->b, 20, t.s);
    return t;
}
#define ADDR(a) (addr_text(a).s)

/* How a connection is named in logs before and after authentication. */
static struct addr_text conn_who(const struct conn *c)
{
    if (c->peer) return addr_text(&c->peer->addr);
    struct addr_text t;
    snprintf(t.s, sizeof t.s, "%s", c->remote);
    return t;
}
#define WHO(c) (conn_who(c).s)

/* ---------------------------------------------------------------------- */
/* Peers */

static struct peer *find_peer(struct p2p *p, const vm_address *addr)
{
    for (struct peer *q = p->peers; q; q = q->next)
        if (memcmp(q->addr.b, addr->b, 20) == 0) return q;
    return NULL;
}

static void dial_cb(void *arg);
static void sleep_cb(void *arg);

static int get_peer(struct p2p *p, const vm_address *addr, struct peer **out)
{
    struct peer *q = find_peer(p, addr);
    if (q == NULL) {
        q = calloc(1, sizeof *q);
        if (q == NULL) return P2P_ERR_NOMEM;
        q->p = p;
        q->addr = *addr;
        q->backoff_ms = p->cfg.backoff_min_ms;
        if (nng_aio_alloc(&q->dial_aio, dial_cb, q) != 0 ||
            nng_aio_alloc(&q->sleep_aio, sleep_cb, q) != 0) {
            nng_aio_free(q->dial_aio);
            free(q);
            return P2P_ERR_NOMEM;
        }
        q->next = p->peers;
        p->peers = q;
    }
    *out = q;
    return P2P_OK;
}

static void schedule_redial(struct peer *q)
{
    struct p2p *p = q->p;
    if (p->closing || q->dial_busy || q->url == NULL || q->conn != NULL) return;
    q->dial_busy = true;
    plog(p, P2P_LOG_INFO, "redialing %s at %s in %u ms", ADDR(&q->addr), q->url, q->backoff_ms);
    nng_sleep_aio((nng_duration)q->backoff_ms, q->sleep_aio);
    uint32_t next = q->backoff_ms * 2;
    q->backoff_ms = next > p->cfg.backoff_max_ms ? p->cfg.backoff_max_ms : next;
}

static void start_dial(struct peer *q)
{
    struct p2p *p = q->p;
    if (q->dialer == NULL || q->dialer_url == NULL || strcmp(q->dialer_url, q->url) != 0) {
        /* No dial is in flight here (dial_busy was clear), so the old dialer
         * can go. */
        nng_stream_dialer_free(q->dialer);
        q->dialer = NULL;
        free(q->dialer_url);
        q->dialer_url = strdup(q->url);
        int rv = q->dialer_url ? nng_stream_dialer_alloc(&q->dialer, q->url) : NNG_ENOMEM;
        /* small request/answer frames: Nagle + delayed ACK would add ~40 ms a move */
        if (rv == 0 && (rv = nng_stream_dialer_set_bool(q->dialer, NNG_OPT_TCP_NODELAY, true)) != 0)
            nng_stream_dialer_free(q->dialer);
        if (rv != 0) {
            plog(p, P2P_LOG_WARN, "cannot dial %s: %s", q->url, nng_strerror(rv));
            q->dialer = NULL;
            q->dial_busy = false;
            schedule_redial(q);
            return;
        }
    }
    q->dial_busy = true;
    nng_stream_dialer_dial(q->dialer, q->dial_aio);
}

/* ---------------------------------------------------------------------- */
/* Connections */

static void rx_cb(void *arg);
static void tx_cb(void *arg);

static void start_rx(struct conn *c)
{
    nng_iov iov;
    if (c->in_body) {
        iov.iov_buf = c->body + c->got;
        iov.iov_len = c->want - c->got;
    } else {
        iov.iov_buf = c->hdr + c->got;
        iov.iov_len = sizeof c->hdr - c->got;
    }
    if (nng_aio_set_iov(c->rx_aio, 1, &iov) != 0) return; /* cannot fail for one iov */
    if (c->state != CS_OPEN) {
        nng_time now = nng_clock();
        nng_duration left = c->hs_deadline > now ? (nng_duration)(c->hs_deadline - now) : 1;
        nng_aio_set_timeout(c->rx_aio, left);
    } else {
        nng_aio_set_timeout(c->rx_aio, NNG_DURATION_INFINITE);
    }
    nng_stream_recv(c->stream, c->rx_aio);
}

static void start_tx(struct conn *c)
{
    struct txframe *f = c->tx_head;
    nng_iov iov = {.iov_buf = f->data + c->tx_off, .iov_len = f->len - c->tx_off};
    if (nng_aio_set_iov(c->tx_aio, 1, &iov) != 0) return;
    c->tx_busy = true;
    nng_stream_send(c->stream, c->tx_aio);
}

/* Queues one frame body (adds the length header). */
static int queue_frame(struct conn *c, const uint8_t *body, size_t len)
{
    if (c->tx_bytes + len > TXQ_MAX) return P2P_ERR_BUSY;
    struct txframe *f = malloc(sizeof *f + 4 + len);
    if (f == NULL) return P2P_ERR_NOMEM;
    f->next = NULL;
    f->len = 4 + len;
    f->data[0] = (uint8_t)(len >> 24);
    f->data[1] = (uint8_t)(len >> 16);
    f->data[2] = (uint8_t)(len >> 8);
    f->data[3] = (uint8_t)len;
    memcpy(f->data + 4, body, len);
    if (c->tx_tail)
        c->tx_tail->next = f;
    else
        c->tx_head = f;
    c->tx_tail = f;
    c->tx_bytes += f->len;
    if (!c->tx_busy) start_tx(c);
    return P2P_OK;
}

/* Encodes msg, seals it if `seal`, queues it. */
static int send_msg(struct conn *c, const struct p2p_msg *msg, bool seal)
{
    struct vm_buf plain = {0}, sealed = {0};
    int rc = p2p_encode(msg, &plain);
    if (rc == P2P_OK && seal) rc = p2p_seal(&c->cipher, plain.data, plain.len, &sealed);
    if (rc == P2P_OK)
        rc = seal ? queue_frame(c, sealed.data, sealed.len) : queue_frame(c, plain.data, plain.len);
    vm_buf_free(&plain);
    vm_buf_free(&sealed);
    return rc;
}

static void conn_close(struct conn *c, enum p2p_log_level level, const char *why)
{
    struct p2p *p = c->p;
    if (c->state == CS_CLOSED) return;
    plog(p, level, "session with %s closed: %s", WHO(c), why);
    if (c->state != CS_OPEN) p->pending--;
    c->state = CS_CLOSED;
    nng_stream_close(c->stream);
    p->stats.sessions_closed++;
    for (struct conn **pp = &p->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    c->next = p->dead;
    p->dead = c;
    pthread_cond_signal(&p->cv);
    struct peer *q = c->peer;
    if (q && q->conn == c) {
        q->conn = NULL;
        push_state(p, &q->addr, false);
    }
    if (q) schedule_redial(q);
}

static void conn_free(struct conn *c)
{
    nng_aio_free(c->rx_aio); /* stops it first: no callback runs after this */
    nng_aio_free(c->tx_aio);
    nng_stream_free(c->stream);
    while (c->tx_head) {
        struct txframe *f = c->tx_head;
        c->tx_head = f->next;
        free(f);
    }
    p2p_hs_wipe(&c->hs);
    sodium_memzero(&c->cipher, sizeof c->cipher);
    free(c->body);
    free(c->plain);
    free(c);
}

/* "inbound #N from 1.2.3.4:5" / "outbound #N to ..." (IPv4), or without the
 * address otherwise. */
static void remote_text(nng_stream *s, bool dialer, uint64_t id, char *out, size_t n)
{
    const char *dir = dialer ? "outbound" : "inbound";
    const char *prep = dialer ? "to" : "from";
    nng_sockaddr sa;
    if (nng_stream_get_addr(s, NNG_OPT_REMADDR, &sa) == 0 && sa.s_family == NNG_AF_INET) {
        const uint8_t *ip = (const uint8_t *)&sa.s_in.sa_addr; /* network order */
        const uint8_t *port = (const uint8_t *)&sa.s_in.sa_port;
        snprintf(out, n, "%s #%llu %s %u.%u.%u.%u:%u", dir, (unsigned long long)id, prep, ip[0],
                 ip[1], ip[2], ip[3], (unsigned)(port[0] << 8 | port[1]));
    } else {
        snprintf(out, n, "%s #%llu", dir, (unsigned long long)id);
    }
}

static int conn_start(struct p2p *p, nng_stream *s, bool dialer, struct peer *q)
{
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL) return P2P_ERR_NOMEM;
    c->p = p;
    c->stream = s;
    c->dialer = dialer;
    c->peer = q;
    c->id = ++p->next_conn_id;
    remote_text(s, dialer, c->id, c->remote, sizeof c->remote);
    c->body = malloc(HS_MAX_FRAME);
    c->plain = malloc(HS_MAX_FRAME);
    if (c->body == NULL || c->plain == NULL || nng_aio_alloc(&c->rx_aio, rx_cb, c) != 0 ||
        nng_aio_alloc(&c->tx_aio, tx_cb, c) != 0) {
        c->stream = NULL; /* the caller frees s */
        conn_free(c);
        return P2P_ERR_NOMEM;
    }
    c->state = CS_HELLO;
    p->pending++;
    c->hs_deadline = nng_clock() + p->cfg.handshake_timeout_ms;
    c->next = p->conns;
    p->conns = c;
    p2p_hs_init(&c->hs, dialer ? P2P_ROLE_DIALER : P2P_ROLE_LISTENER, &p->self);
    struct p2p_msg *hello = malloc(sizeof *hello);
    int rc = hello ? P2P_OK : P2P_ERR_NOMEM;
    if (rc == P2P_OK) {
        p2p_hs_hello(&c->hs, hello);
        rc = send_msg(c, hello, false);
        free(hello);
    }
    if (rc != P2P_OK) {
        conn_close(c, P2P_LOG_WARN, p2p_strerror(rc));
        return P2P_OK; /* the stream is owned by the closed connection now */
    }
    start_rx(c);
    return P2P_OK;
}

/* The connection authenticated as c->peer: make it the peer's session. */
static void conn_established(struct conn *c)
{
    struct p2p *p = c->p;
    struct peer *q = c->peer;
    uint8_t *body = realloc(c->body, P2P_MAX_FRAME);
    if (body) c->body = body;
    uint8_t *plain = body ? realloc(c->plain, P2P_MAX_PLAINTEXT) : NULL;
    if (plain) c->plain = plain;
    if (body == NULL || plain == NULL) {
        conn_close(c, P2P_LOG_WARN, "out of memory");
        return;
    }
    struct conn *old = q->conn;
    if (old) {
        /* Two sessions with one peer. If both were dialed by the same side,
         * the peer (or we) reconnected: the newer one is alive. If each side
         * dialed one, both sides must pick the same: the one dialed by the
         * lower address. */
        bool keep_new = true;
        if (old->dialer != c->dialer) {
            bool self_lower = memcmp(p->self.b, q->addr.b, 20) < 0;
            keep_new = c->dialer == self_lower;
        }
        if (!keep_new) {
            c->peer = NULL; /* not the peer's session: no state change, no redial */
            conn_close(c, P2P_LOG_INFO, "a session with this peer already exists");
            return;
        }
        q->conn = NULL;
        push_state(p, &q->addr, false);
        old->peer = NULL; /* detached: closing it must not redial */
        conn_close(old, P2P_LOG_INFO, "replaced by a newer session");
    }
    q->conn = c;
    c->state = CS_OPEN;
    p->pending--;
    q->backoff_ms = p->cfg.backoff_min_ms;
    p->stats.handshakes_ok++;
    p2p_hs_wipe(&c->hs);
    plog(p, P2P_LOG_INFO, "session with %s established (%s)", ADDR(&q->addr),
         c->dialer ? "dialed" : "accepted");
    push_state(p, &q->addr, true);
}

/* Drops a connection whose peer is not the one we may talk to. */
static void refuse(struct conn *c, const vm_address *claimed)
{
    char why[256];
    if (c->dialer)
        snprintf(why, sizeof why, "dialed %s, but the peer is %s", ADDR(&c->peer->addr),
                 ADDR(claimed));
    else
        snprintf(why, sizeof why, "peer %s is not allowed", ADDR(claimed));
    c->p->stats.peers_refused++;
    conn_close(c, P2P_LOG_WARN, why);
}

static void on_hello(struct conn *c, const uint8_t *body, size_t len, struct p2p_msg *m)
{
    struct p2p *p = c->p;
    char why[128];
    int rc = p2p_decode(body, len, m);
    if (rc == P2P_OK) rc = p2p_hs_on_hello(&c->hs, m, &c->cipher);
    if (rc != P2P_OK) {
        snprintf(why, sizeof why, "bad HELLO: %s", p2p_strerror(rc));
        conn_close(c, P2P_LOG_WARN, why);
        return;
    }
    /* Refuse early, before spending a signature, on a claimed address that
     * cannot be accepted anyway; the signed HELLO is checked again. */
    if (c->dialer && memcmp(c->hs.peer.b, c->peer->addr.b, 20) != 0) {
        refuse(c, &c->hs.peer);
        return;
    }
    if (!c->dialer) {
        struct peer *q = find_peer(p, &c->hs.peer);
        if (q == NULL || !q->allowed) {
            refuse(c, &c->hs.peer);
            return;
        }
    }
    rc = p2p_hs_auth(&c->hs, p->secp, p->key, m);
    if (rc == P2P_OK) rc = send_msg(c, m, true);
    if (rc != P2P_OK) {
        snprintf(why, sizeof why, "cannot answer HELLO: %s", p2p_strerror(rc));
        conn_close(c, P2P_LOG_WARN, why);
        return;
    }
    c->state = CS_AUTH;
}

static void on_auth(struct conn *c, const uint8_t *body, size_t len, struct p2p_msg *m)
{
    struct p2p *p = c->p;
    char why[128];
    size_t plen = 0;
    int rc = p2p_open(&c->cipher, body, len, c->plain, &plen);
    if (rc == P2P_OK) rc = p2p_decode(c->plain, plen, m);
    if (rc == P2P_OK) rc = p2p_hs_on_auth(&c->hs, p->secp, m);
    if (rc != P2P_OK) {
        snprintf(why, sizeof why, "bad signed HELLO from %s: %s", ADDR(&c->hs.peer),
                 p2p_strerror(rc));
        p->stats.peers_refused++;
        conn_close(c, P2P_LOG_WARN, why);
        return;
    }
    if (!c->dialer) {
        struct peer *q = find_peer(p, &c->hs.peer);
        if (q == NULL || !q->allowed) {
            refuse(c, &c->hs.peer);
            return;
        }
        c->peer = q;
    }
    conn_established(c);
}

static void bad_frame(struct conn *c, const char *what, int err)
{
    struct p2p *p = c->p;
    p->stats.frames_dropped++;
    c->bad_frames++;
    plog(p, P2P_LOG_WARN, "dropped frame from %s: %s: %s (%u bad so far)", WHO(c), what,
         p2p_strerror(err), c->bad_frames);
    if (c->bad_frames >= p->cfg.max_bad_frames) conn_close(c, P2P_LOG_WARN, "too many bad frames");
}

static void on_frame(struct conn *c, const uint8_t *body, size_t len)
{
    struct p2p *p = c->p;
    struct p2p_msg *m = malloc(sizeof *m);
    if (m == NULL) {
        conn_close(c, P2P_LOG_WARN, "out of memory");
        return;
    }
    if (c->state == CS_HELLO) {
        on_hello(c, body, len, m);
    } else if (c->state == CS_AUTH) {
        on_auth(c, body, len, m);
    } else {
        size_t plen = 0;
        int rc = p2p_open(&c->cipher, body, len, c->plain, &plen);
        if (rc != P2P_OK) {
            bad_frame(c, "cannot open", rc);
        } else if ((rc = p2p_decode(c->plain, plen, m)) != P2P_OK) {
            bad_frame(c, "cannot decode", rc);
        } else if (m->type == P2P_MSG_HELLO) {
            bad_frame(c, "HELLO inside a session", P2P_ERR_TYPE);
        } else {
            struct event *ev = calloc(1, sizeof *ev);
            if (ev == NULL) {
                conn_close(c, P2P_LOG_WARN, "out of memory");
            } else {
                p->stats.frames_received++;
                ev->kind = EV_MSG;
                ev->peer = c->peer->addr;
                ev->msg = m;
                m = NULL;
                push_event(p, ev);
            }
        }
    }
    free(m);
}

static void rx_cb(void *arg)
{
    struct conn *c = arg;
    struct p2p *p = c->p;
    pthread_mutex_lock(&p->mu);
    if (c->state == CS_CLOSED) {
        pthread_mutex_unlock(&p->mu);
        return;
    }
    int rv = nng_aio_result(c->rx_aio);
    if (rv != 0) {
        char why[96];
        if (rv == NNG_ETIMEDOUT)
            snprintf(why, sizeof why, "handshake timed out");
        else
            snprintf(why, sizeof why, "connection lost: %s", nng_strerror(rv));
        conn_close(c, rv == NNG_ECONNSHUT || rv == NNG_ECLOSED ? P2P_LOG_INFO : P2P_LOG_WARN, why);
        pthread_mutex_unlock(&p->mu);
        return;
    }
    c->got += nng_aio_count(c->rx_aio);
    size_t want = c->in_body ? c->want : sizeof c->hdr;
    if (c->got == want) {
        c->got = 0;
        if (!c->in_body) {
            uint32_t n = ((uint32_t)c->hdr[0] << 24) | ((uint32_t)c->hdr[1] << 16) |
                         ((uint32_t)c->hdr[2] << 8) | c->hdr[3];
            uint32_t max = c->state == CS_OPEN ? P2P_MAX_FRAME : HS_MAX_FRAME;
            if (n == 0 || n > max) {
                /* The framing is lost: nothing after this can be trusted. */
                char why[96];
                snprintf(why, sizeof why, "frame length %u out of bounds (1..%u)", n,
                         (unsigned)max);
                p->stats.frames_dropped++;
                conn_close(c, P2P_LOG_WARN, why);
                pthread_mutex_unlock(&p->mu);
                return;
            }
            c->in_body = true;
            c->want = n;
        } else {
            c->in_body = false;
            on_frame(c, c->body, c->want);
        }
    }
    if (c->state != CS_CLOSED) {
        if (p->ev_len >= EVQ_HIGH)
            c->rx_paused = true;
        else
            start_rx(c);
    }
    pthread_mutex_unlock(&p->mu);
}

static void tx_cb(void *arg)
{
    struct conn *c = arg;
    struct p2p *p = c->p;
    pthread_mutex_lock(&p->mu);
    c->tx_busy = false;
    if (c->state == CS_CLOSED) {
        pthread_mutex_unlock(&p->mu);
        return;
    }
    int rv = nng_aio_result(c->tx_aio);
    if (rv != 0) {
        char why[96];
        snprintf(why, sizeof why, "send failed: %s", nng_strerror(rv));
        conn_close(c, P2P_LOG_INFO, why);
        pthread_mutex_unlock(&p->mu);
        return;
    }
    c->tx_off += nng_aio_count(c->tx_aio);
    struct txframe *f = c->tx_head;
    if (c->tx_off >= f->len) {
        c->tx_head = f->next;
        if (c->tx_head == NULL) c->tx_tail = NULL;
        c->tx_bytes -= f->len;
        c->tx_off = 0;
        free(f);
    }
    if (c->tx_head) start_tx(c);
    pthread_mutex_unlock(&p->mu);
}

static void accept_cb(void *arg)
{
    struct p2p *p = arg;
    pthread_mutex_lock(&p->mu);
    int rv = nng_aio_result(p->accept_aio);
    if (rv == 0) {
        nng_stream *s = nng_aio_get_output(p->accept_aio, 0);
        if (!p->closing && p->pending >= HS_MAX_PENDING) {
            plog(p, P2P_LOG_WARN, "refused a connection: %u handshakes already pending",
                 p->pending);
            nng_stream_free(s);
        } else if (p->closing || conn_start(p, s, false, NULL) != P2P_OK) {
            nng_stream_free(s);
        }
    } else if (rv != NNG_ECLOSED && rv != NNG_ECANCELED) {
        plog(p, P2P_LOG_WARN, "accept failed: %s", nng_strerror(rv));
    }
    if (!p->closing && rv != NNG_ECLOSED) nng_stream_listener_accept(p->listener, p->accept_aio);
    pthread_mutex_unlock(&p->mu);
}

static void dial_cb(void *arg)
{
    struct peer *q = arg;
    struct p2p *p = q->p;
    pthread_mutex_lock(&p->mu);
    q->dial_busy = false;
    int rv = nng_aio_result(q->dial_aio);
    if (rv == 0) {
        nng_stream *s = nng_aio_get_output(q->dial_aio, 0);
        if (q->url == NULL) {
            nng_stream_free(s); /* forgotten while dialing */
        } else if (p->closing || conn_start(p, s, true, q) != P2P_OK) {
            nng_stream_free(s);
            schedule_redial(q);
        }
    } else if (!p->closing) {
        plog(p, P2P_LOG_DEBUG, "dialing %s at %s failed: %s", ADDR(&q->addr), q->url,
             nng_strerror(rv));
        schedule_redial(q);
    }
    pthread_mutex_unlock(&p->mu);
}

static void sleep_cb(void *arg)
{
    struct peer *q = arg;
    struct p2p *p = q->p;
    pthread_mutex_lock(&p->mu);
    q->dial_busy = false;
    if (!p->closing && nng_aio_result(q->sleep_aio) == 0 && q->conn == NULL && q->url)
        start_dial(q);
    pthread_mutex_unlock(&p->mu);
}

/* ---------------------------------------------------------------------- */
/* The worker: user callbacks and freeing closed connections */

static void deliver(struct p2p *p, struct event *ev)
{
    switch (ev->kind) {
    case EV_MSG:
        if (p->cfg.on_message) p->cfg.on_message(p->cfg.user, &ev->peer, ev->msg);
        break;
    case EV_STATE:
        if (p->cfg.on_peer_state) p->cfg.on_peer_state(p->cfg.user, &ev->peer, ev->connected);
        break;
    case EV_LOG:
        if (p->cfg.on_log)
            p->cfg.on_log(p->cfg.user, ev->level, ev->text);
        else if (ev->level >= P2P_LOG_INFO)
            fprintf(stderr, "p2p: %s\n", ev->text);
        break;
    }
}

static void event_free(struct event *ev)
{
    free(ev->text);
    free(ev->msg);
    free(ev);
}

static void *worker_main(void *arg)
{
    struct p2p *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->dead) {
            struct conn *dead = p->dead;
            p->dead = NULL;
            pthread_mutex_unlock(&p->mu);
            while (dead) {
                struct conn *next = dead->next;
                conn_free(dead);
                dead = next;
            }
            pthread_mutex_lock(&p->mu);
            continue;
        }
        if (p->stop_worker) break;
        if (p->ev_head) {
            struct event *ev = p->ev_head;
            p->ev_head = ev->next;
            if (p->ev_head == NULL) p->ev_tail = NULL;
            pthread_mutex_unlock(&p->mu);
            deliver(p, ev);
            event_free(ev);
            pthread_mutex_lock(&p->mu);
            p->ev_len--;
            if (p->ev_len <= EVQ_LOW) {
                for (struct conn *c = p->conns; c; c = c->next) {
                    if (c->rx_paused && c->state != CS_CLOSED) {
                        c->rx_paused = false;
                        start_rx(c);
                    }
                }
            }
            continue;
        }
        pthread_cond_wait(&p->cv, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* Public API */

int p2p_new(const struct p2p_config *cfg, struct p2p **out)
{
    if (cfg == NULL || out == NULL || cfg->eth_key == NULL || cfg->secp == NULL)
        return P2P_ERR_INVALID;
    if (sodium_init() < 0) return P2P_ERR_NOMEM;
    struct p2p *p = calloc(1, sizeof *p);
    if (p == NULL) return P2P_ERR_NOMEM;
    p->cfg = *cfg;
    p->cfg.listen_url = NULL; /* not kept: the caller's string */
    p->cfg.eth_key = NULL;
    if (p->cfg.backoff_min_ms == 0) p->cfg.backoff_min_ms = 100;
    if (p->cfg.backoff_max_ms == 0) p->cfg.backoff_max_ms = 5000;
    if (p->cfg.backoff_max_ms < p->cfg.backoff_min_ms)
        p->cfg.backoff_max_ms = p->cfg.backoff_min_ms;
    if (p->cfg.handshake_timeout_ms == 0) p->cfg.handshake_timeout_ms = 5000;
    if (p->cfg.max_bad_frames == 0) p->cfg.max_bad_frames = 8;
    memcpy(p->key, cfg->eth_key, 32);
    p->secp = cfg->secp;
    if (vm_key_address(p->secp, p->key, &p->self) != VM_OK) {
        sodium_memzero(p->key, sizeof p->key);
        free(p);
        return P2P_ERR_INVALID;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    int rc = P2P_OK;
    if (pthread_create(&p->worker, NULL, worker_main, p) != 0)
        rc = P2P_ERR_NOMEM;
    else
        p->worker_started = true;
    if (rc == P2P_OK && cfg->listen_url) {
        int rv = nng_stream_listener_alloc(&p->listener, cfg->listen_url);
        if (rv == 0) rv = nng_stream_listener_set_bool(p->listener, NNG_OPT_TCP_NODELAY, true);
        if (rv == 0) rv = nng_stream_listener_listen(p->listener);
        if (rv == 0) rv = nng_aio_alloc(&p->accept_aio, accept_cb, p);
        if (rv != 0) {
            rc = rv == NNG_ENOMEM ? P2P_ERR_NOMEM : P2P_ERR_TRANSPORT;
        } else {
            pthread_mutex_lock(&p->mu);
            nng_stream_listener_accept(p->listener, p->accept_aio);
            pthread_mutex_unlock(&p->mu);
        }
    }
    if (rc != P2P_OK) {
        p2p_free(p);
        return rc;
    }
    *out = p;
    return P2P_OK;
}

void p2p_free(struct p2p *p)
{
    if (p == NULL) return;
    pthread_mutex_lock(&p->mu);
    p->closing = true;
    pthread_mutex_unlock(&p->mu);

    /* Stop the sources of new connections first (without the lock: stopping
     * an aio waits for its callback, which takes the lock). */
    if (p->listener) nng_stream_listener_close(p->listener);
    nng_aio_free(p->accept_aio);
    nng_stream_listener_free(p->listener);
    pthread_mutex_lock(&p->mu);
    struct peer *peers = p->peers;
    pthread_mutex_unlock(&p->mu);
    for (struct peer *q = peers; q; q = q->next) {
        nng_aio_stop(q->sleep_aio);
        nng_aio_stop(q->dial_aio);
    }

    pthread_mutex_lock(&p->mu);
    while (p->conns)
        conn_close(p->conns, P2P_LOG_DEBUG, "shutting down");
    p->stop_worker = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (p->worker_started) pthread_join(p->worker, NULL);

    while (p->dead) { /* only if the worker never ran */
        struct conn *c = p->dead;
        p->dead = c->next;
        conn_free(c);
    }
    while (p->ev_head) {
        struct event *ev = p->ev_head;
        p->ev_head = ev->next;
        event_free(ev);
    }
    while (p->peers) {
        struct peer *q = p->peers;
        p->peers = q->next;
        nng_aio_free(q->sleep_aio);
        nng_aio_free(q->dial_aio);
        nng_stream_dialer_free(q->dialer);
        free(q->url);
        free(q->dialer_url);
        free(q);
    }
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    sodium_memzero(p->key, sizeof p->key);
    free(p);
}

void p2p_local_address(const struct p2p *p, vm_address *out)
{
    *out = p->self;
}

int p2p_listen_port(const struct p2p *p, int *port)
{
    if (p == NULL || port == NULL || p->listener == NULL) return P2P_ERR_INVALID;
    return nng_stream_listener_get_int(p->listener, NNG_OPT_TCP_BOUND_PORT, port) == 0
               ? P2P_OK
               : P2P_ERR_TRANSPORT;
}

int p2p_allow_peer(struct p2p *p, const vm_address *addr)
{
    if (p == NULL || addr == NULL) return P2P_ERR_INVALID;
    pthread_mutex_lock(&p->mu);
    struct peer *q = NULL;
    int rc = p->closing ? P2P_ERR_CLOSED : get_peer(p, addr, &q);
    if (rc == P2P_OK) q->allowed = true;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int p2p_connect(struct p2p *p, const vm_address *addr, const char *url)
{
    if (p == NULL || addr == NULL || url == NULL) return P2P_ERR_INVALID;
    /* Check the URL now, so that a typo fails here and not in a log later. */
    nng_stream_dialer *probe = NULL;
    int rv = nng_stream_dialer_alloc(&probe, url);
    if (rv != 0) return rv == NNG_ENOMEM ? P2P_ERR_NOMEM : P2P_ERR_TRANSPORT;
    nng_stream_dialer_free(probe);
    char *copy = strdup(url);
    if (copy == NULL) return P2P_ERR_NOMEM;
    pthread_mutex_lock(&p->mu);
    struct peer *q = NULL;
    int rc = p->closing ? P2P_ERR_CLOSED : get_peer(p, addr, &q);
    if (rc == P2P_OK) {
        q->allowed = true;
        free(q->url);
        q->url = copy;
        copy = NULL;
        if (!q->dial_busy && q->conn == NULL) start_dial(q);
    }
    pthread_mutex_unlock(&p->mu);
    free(copy);
    return rc;
}

int p2p_send(struct p2p *p, const vm_address *addr, const struct p2p_msg *msg)
{
    if (p == NULL || addr == NULL || msg == NULL || msg->type == P2P_MSG_HELLO)
        return P2P_ERR_INVALID;
    struct vm_buf plain = {0}, sealed = {0};
    int rc = p2p_encode(msg, &plain);
    if (rc != P2P_OK) return rc;
    pthread_mutex_lock(&p->mu);
    struct peer *q = find_peer(p, addr);
    struct conn *c = q ? q->conn : NULL;
    if (p->closing)
        rc = P2P_ERR_CLOSED;
    else if (c == NULL || c->state != CS_OPEN)
        rc = P2P_ERR_NOT_CONNECTED;
    else if (c->tx_bytes + plain.len > TXQ_MAX)
        rc = P2P_ERR_BUSY;
    else
        rc = p2p_seal(&c->cipher, plain.data, plain.len, &sealed);
    if (rc == P2P_OK) rc = queue_frame(c, sealed.data, sealed.len);
    if (rc == P2P_OK) p->stats.frames_sent++;
    pthread_mutex_unlock(&p->mu);
    vm_buf_free(&plain);
    vm_buf_free(&sealed);
    return rc;
}

int p2p_forget_peer(struct p2p *p, const vm_address *addr)
{
    if (p == NULL || addr == NULL) return P2P_ERR_INVALID;
    pthread_mutex_lock(&p->mu);
    /* The peer record stays (its aios may be in flight); it just no longer
     * dials, is no longer allowed, and loses its session. */
    struct peer *q = find_peer(p, addr);
    if (q) {
        q->allowed = false;
        free(q->url);
        q->url = NULL;
        q->backoff_ms = p->cfg.backoff_min_ms;
        if (q->conn) conn_close(q->conn, P2P_LOG_INFO, "peer forgotten");
        /* connections still in their handshake with this peer */
        for (struct conn *c = p->conns; c;) {
            struct conn *next = c->next;
            if (c->peer == q) conn_close(c, P2P_LOG_INFO, "peer forgotten");
            c = next;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return P2P_OK;
}

bool p2p_peer_connected(struct p2p *p, const vm_address *addr)
{
    if (p == NULL || addr == NULL) return false;
    pthread_mutex_lock(&p->mu);
    struct peer *q = find_peer(p, addr);
    bool up = q && q->conn && q->conn->state == CS_OPEN;
    pthread_mutex_unlock(&p->mu);
    return up;
}

void p2p_stats(struct p2p *p, struct p2p_stats *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->stats;
    pthread_mutex_unlock(&p->mu);
}
