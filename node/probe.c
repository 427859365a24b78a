/*
 * A thread that asks the Ethereum node for its block number every period,
 * on a connection of its own. The loop thread makes its RPC calls only while
 * the last answer was good and no question has hung for long: an RPC node
 * that stops answering (but keeps its socket open) then costs the moves at
 * most one timeout, not one per poll.
 */
#include "probe.h"
#include "queue.h"

#include <string.h>
#include <time.h>

/* A question open longer than this counts as no answer. */
#define PROBE_HUNG_MS 1000

static void *probe_main(void *arg)
{
    struct chain_probe *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        p->asking_since_ms = now_ms();
        pthread_mutex_unlock(&p->mu);
        uint64_t head = 0;
        bool ok = chain_block_number(p->rpc, &head) == CHAIN_OK;
        pthread_mutex_lock(&p->mu);
        p->asking_since_ms = 0;
        p->up = ok;
        int64_t until = now_ms() + p->period_ms;
        struct timespec ts = {.tv_sec = until / 1000, .tv_nsec = (until % 1000) * 1000000};
        while (!p->stop && now_ms() < until) pthread_cond_timedwait(&p->cond, &p->mu, &ts);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int chain_probe_start(struct chain_probe *p, const char *url, long timeout_ms, int64_t period_ms)
{
    memset(p, 0, sizeof *p);
    struct chain_client_opts o;
    memset(&o, 0, sizeof o);
    o.timeout_ms = timeout_ms;
    int rv = chain_client_new(url, &o, &p->rpc);
    if (rv) return rv;
    p->period_ms = period_ms;
    p->up = true; /* the node was reachable at start-up */
    monotonic_lock_init(&p->mu, &p->cond);
    if (pthread_create(&p->thread, NULL, probe_main, p) != 0) {
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->mu);
        chain_client_free(p->rpc);
        p->rpc = NULL;
        return CHAIN_ERR_NOMEM;
    }
    p->running = true;
    return CHAIN_OK;
}

bool chain_probe_up(struct chain_probe *p)
{
    if (!p->running) return true;
    pthread_mutex_lock(&p->mu);
    bool up = p->up && !(p->asking_since_ms && now_ms() - p->asking_since_ms > PROBE_HUNG_MS);
    pthread_mutex_unlock(&p->mu);
    return up;
}

void chain_probe_stop(struct chain_probe *p)
{
    if (!p->running) return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL); /* at most one RPC timeout */
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);
    chain_client_free(p->rpc);
    p->running = false;
}
