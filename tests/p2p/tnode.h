/*
 * tnode.h — a p2p instance wrapped for tests: its callbacks record what
 * happened (messages, peer states, log lines) under a mutex, and wait_for
 * polls a condition with a deadline.
 */
#ifndef BP_TESTS_P2P_TNODE_H
#define BP_TESTS_P2P_TNODE_H

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../lib/check.h"
#include "p2p.h"

#define TNODE_MAX_MSGS 4096

struct tnode {
    struct p2p *p;
    vm_address addr;
    pthread_mutex_t mu;
    int ups, downs; /* on_peer_state events */
    size_t n_msgs;
    struct p2p_msg *msgs; /* TNODE_MAX_MSGS, the first ones received */
    vm_address msg_from[TNODE_MAX_MSGS];
    char log[16384];  /* log lines, newline separated, oldest dropped */
    bool echo;        /* answer PING with reply = false by a reply */
    unsigned slow_us; /* sleep in on_message, to exercise back-pressure */
};

static void tnode_on_message(void *user, const vm_address *peer, const struct p2p_msg *msg)
{
    struct tnode *t = user;
    if (t->slow_us) {
        struct timespec ts = {0, (long)t->slow_us * 1000};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&t->mu);
    if (t->n_msgs < TNODE_MAX_MSGS) {
        t->msgs[t->n_msgs] = *msg;
        t->msg_from[t->n_msgs] = *peer;
    }
    t->n_msgs++;
    pthread_mutex_unlock(&t->mu);
    if (t->echo && msg->type == P2P_MSG_PING && !msg->u.ping.reply) {
        struct p2p_msg *r = malloc(sizeof *r);
        REQUIRE(r != NULL);
        *r = *msg;
        r->u.ping.reply = true;
        if (p2p_send(t->p, peer, r) != P2P_OK) fprintf(stderr, "echo failed\n");
        free(r);
    }
}

static void tnode_on_state(void *user, const vm_address *peer, bool up)
{
    struct tnode *t = user;
    (void)peer;
    pthread_mutex_lock(&t->mu);
    if (up)
        t->ups++;
    else
        t->downs++;
    pthread_mutex_unlock(&t->mu);
}

static void tnode_on_log(void *user, enum p2p_log_level level, const char *text)
{
    struct tnode *t = user;
    pthread_mutex_lock(&t->mu);
    size_t have = strlen(t->log), add = strlen(text) + 1;
    if (have + add + 1 > sizeof t->log) {
        memmove(t->log, t->log + sizeof t->log / 2, have - sizeof t->log / 2 + 1);
        have = strlen(t->log);
    }
    if (add + 1 < sizeof t->log - have) {
        memcpy(t->log + have, text, add - 1);
        t->log[have + add - 1] = '\n';
        t->log[have + add] = '\0';
    }
    pthread_mutex_unlock(&t->mu);
    if (getenv("P2P_TEST_VERBOSE")) fprintf(stderr, "[%d] %s\n", (int)level, text);
}

static struct p2p_config tnode_config(struct tnode *t, const struct vm_secp *secp,
                                      const uint8_t key[32], const char *listen)
{
    struct p2p_config c = {
        .eth_key = key,
        .secp = secp,
        .listen_url = listen,
        .user = t,
        .on_message = tnode_on_message,
        .on_peer_state = tnode_on_state,
        .on_log = tnode_on_log,
        .backoff_min_ms = 50,
        .backoff_max_ms = 400,
        .handshake_timeout_ms = 1000,
    };
    return c;
}

/* Starts t (zeroed by the caller) with cfg. */
static int tnode_start(struct tnode *t, const struct p2p_config *cfg)
{
    pthread_mutex_init(&t->mu, NULL);
    t->msgs = calloc(TNODE_MAX_MSGS, sizeof *t->msgs);
    REQUIRE(t->msgs != NULL);
    int rc = p2p_new(cfg, &t->p);
    if (rc == P2P_OK) p2p_local_address(t->p, &t->addr);
    return rc;
}

static void tnode_stop(struct tnode *t)
{
    p2p_free(t->p);
    t->p = NULL;
}

static void tnode_free(struct tnode *t)
{
    tnode_stop(t);
    free(t->msgs);
    pthread_mutex_destroy(&t->mu);
}

static size_t tnode_msgs(struct tnode *t)
{
    pthread_mutex_lock(&t->mu);
    size_t n = t->n_msgs;
    pthread_mutex_unlock(&t->mu);
    return n;
}

static int tnode_ups(struct tnode *t)
{
    pthread_mutex_lock(&t->mu);
    int n = t->ups;
    pthread_mutex_unlock(&t->mu);
    return n;
}

static int tnode_downs(struct tnode *t)
{
    pthread_mutex_lock(&t->mu);
    int n = t->downs;
    pthread_mutex_unlock(&t->mu);
    return n;
}

static bool tnode_logged(struct tnode *t, const char *needle)
{
    pthread_mutex_lock(&t->mu);
    bool found = strstr(t->log, needle) != NULL;
    pthread_mutex_unlock(&t->mu);
    return found;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls expr every 10 ms for up to ms milliseconds, then CHECKs it. */
#define CHECK_WITHIN(expr, ms)                                                                     \
    do {                                                                                           \
        uint64_t until_ = now_ms() + (ms);                                                         \
        while (!(expr) && now_ms() < until_)                                                       \
            sleep_ms(10);                                                                          \
        CHECK(expr);                                                                               \
    } while (0)

#endif
