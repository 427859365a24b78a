/*
 * probe.h — private to node/: is the Ethereum node answering? (probe.c)
 */
#ifndef BP_NODE_PROBE_H
#define BP_NODE_PROBE_H

#include "chain.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct chain_probe {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool running, stop;
    struct chain_client *rpc; /* the probe's own connection */
    int64_t period_ms;
    bool up;                  /* the last question was answered */
    int64_t asking_since_ms;  /* a question is open since then (0: none) */
};

/* Starts asking url for its block number every period_ms (each question
 * gives up after timeout_ms). Returns CHAIN_OK or a chain error. */
__attribute__((warn_unused_result)) int chain_probe_start(struct chain_probe *p, const char *url,
                                                          long timeout_ms, int64_t period_ms);
/* True if the last question was answered and none is hanging now (true
 * too when the probe never started). */
bool chain_probe_up(struct chain_probe *p);
/* Stops and joins the thread (waits for an open question to time out). */
void chain_probe_stop(struct chain_probe *p);

#endif
