/*
 * queue.h — private to node/: the daemon's inbox. p2p callbacks, the control
 * API and the signal handler thread post events; the daemon's one loop
 * thread takes them, so all channel state is touched by one thread only.
 */
#ifndef BP_NODE_QUEUE_H
#define BP_NODE_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct queue_item {
    struct queue_item *next;
    int kind;
    void *data; /* owned by the item until taken */
};

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct queue_item *head, *tail;
    bool closed;
};

void queue_init(struct queue *q);
/* Frees what is left with free_data(kind, data). */
void queue_destroy(struct queue *q, void (*free_data)(int kind, void *data));
/* Appends; returns false (and takes nothing) when out of memory or closed. */
bool queue_post(struct queue *q, int kind, void *data);
/* Waits until an item arrives or deadline_ms (CLOCK_MONOTONIC, ms) passes.
 * Returns true with the item's kind and data set, false on timeout. */
bool queue_take(struct queue *q, int64_t deadline_ms, int *kind, void **data);
void queue_close(struct queue *q);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t now_ms(void);
/* A mutex and a condition whose timed waits count on CLOCK_MONOTONIC (like now_ms). */
void monotonic_lock_init(pthread_mutex_t *mu, pthread_cond_t *cond);

#endif
