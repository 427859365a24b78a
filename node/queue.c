#include "queue.h"

#include <stdlib.h>
#include <time.h>

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void monotonic_lock_init(pthread_mutex_t *mu, pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(mu, NULL);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
}

void queue_init(struct queue *q)
{
    monotonic_lock_init(&q->lock, &q->cond);
    q->head = q->tail = NULL;
    q->closed = false;
}

void queue_destroy(struct queue *q, void (*free_data)(int kind, void *data))
{
    struct queue_item *it = q->head;
    while (it) {
        struct queue_item *next = it->next;
        if (free_data) free_data(it->kind, it->data);
        free(it);
        it = next;
    }
    q->head = q->tail = NULL;
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->lock);
}

bool queue_post(struct queue *q, int kind, void *data)
{
    struct queue_item *it = malloc(sizeof *it);
    if (!it) return false;
    it->next = NULL;
    it->kind = kind;
    it->data = data;
    pthread_mutex_lock(&q->lock);
    if (q->closed) {
        pthread_mutex_unlock(&q->lock);
        free(it);
        return false;
    }
    if (q->tail) q->tail->next = it;
    else q->head = it;
    q->tail = it;
    pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
    return true;
}

bool queue_take(struct queue *q, int64_t deadline_ms, int *kind, void **data)
{
    struct timespec ts = {.tv_sec = deadline_ms / 1000, .tv_nsec = (deadline_ms % 1000) * 1000000};
    pthread_mutex_lock(&q->lock);
    while (!q->head) {
        if (pthread_cond_timedwait(&q->cond, &q->lock, &ts) != 0 && !q->head) {
            pthread_mutex_unlock(&q->lock);
            return false;
        }
    }
    struct queue_item *it = q->head;
    q->head = it->next;
    if (!q->head) q->tail = NULL;
    pthread_mutex_unlock(&q->lock);
    *kind = it->kind;
    *data = it->data;
    free(it);
    return true;
}

void queue_close(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}
