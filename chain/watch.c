/*
 * watch.c — a log watcher that resumes from a caller-persisted cursor.
 *
 * The cursor holds the next block to read and the hash of the block before
 * it as it was read. Because block hashes chain, checking that one hash
 * detects any reorg that changed anything at or below it. On a mismatch the
 * cursor moves back reorg_rewind blocks and reads again; a reorg deeper than
 * that is beyond what this watcher can see (64 blocks by default; Ethereum
 * finality is 64-95 blocks).
 *
 * A poll reads at most max_range blocks with one eth_getLogs and takes the
 * hash of its last block before and after it: if the two differ, a reorg
 * raced the read, and the poll returns without advancing.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static bool is_zero32(const vm_bytes32 *h)
{
    for (int i = 0; i < 32; i++)
        if (h->b[i]) return false;
    return true;
}

/* Moves the cursor back by `rewind` blocks, anchored at the hash that block
 * has now. */
static int rewind_cursor(struct chain_client *c, struct chain_cursor *cur, uint64_t rewind)
{
    uint64_t next = cur->next > rewind ? cur->next - rewind : 0;
    struct chain_cursor nc = {next, {{0}}};
    if (next > 0) {
        struct chain_block b;
        int rc = chain_get_block(c, next - 1, &b);
        if (rc) return rc;
        nc.hash = b.hash;
    }
    *cur = nc;
    return CHAIN_OK;
}

int chain_watch_poll(struct chain_client *c, const struct chain_log_filter *f,
                     const struct chain_watch_opts *opts, struct chain_cursor *cursor,
                     struct chain_logs *logs, bool *reorged)
{
    struct chain_watch_opts o = {0};
    if (opts) o = *opts;
    if (o.max_range == 0) o.max_range = 1000;
    if (o.reorg_rewind == 0) o.reorg_rewind = 64;
    if (reorged) *reorged = false;

    struct chain_cursor cur = *cursor;
    uint64_t head;
    int rc = chain_block_number(c, &head);
    if (rc) return rc;

    if (cur.next > 0 && !is_zero32(&cur.hash)) {
        struct chain_block b;
        rc = chain_get_block(c, cur.next - 1, &b);
        if (rc && rc != CHAIN_ERR_NOT_FOUND) return rc;
        if (rc == CHAIN_ERR_NOT_FOUND || memcmp(b.hash.b, cur.hash.b, 32) != 0) {
            if ((rc = rewind_cursor(c, &cur, o.reorg_rewind))) return rc;
            if (reorged) *reorged = true;
        }
    }

    if (head < o.confirmations) goto done;
    uint64_t target = head - o.confirmations;
    if (cur.next > target) goto done;
    uint64_t to = target - cur.next + 1 > o.max_range ? cur.next + o.max_range - 1 : target;

    struct chain_block before, after;
    rc = chain_get_block(c, to, &before);
    if (rc == CHAIN_ERR_NOT_FOUND) goto done; /* the chain just got shorter: next time */
    if (rc) return rc;
    struct chain_logs got = {0};
    if ((rc = chain_get_logs(c, f, cur.next, to, &got))) {
        chain_logs_free(&got);
        return rc;
    }
    if ((rc = chain_get_block(c, to, &after))) {
        chain_logs_free(&got);
        if (rc == CHAIN_ERR_NOT_FOUND) goto done;
        return rc;
    }
    bool consistent = memcmp(before.hash.b, after.hash.b, 32) == 0;
    for (size_t i = 0; consistent && i < got.n; i++)
        if (got.items[i].block_number == to && memcmp(got.items[i].block_hash.b, after.hash.b, 32))
            consistent = false;
    if (!consistent) {
        /* A reorg raced the read: drop it; the next poll sees the new chain. */
        chain_logs_free(&got);
        goto done;
    }
    if (got.n) {
        if (got.n > SIZE_MAX / sizeof *got.items - logs->n) {
            chain_logs_free(&got);
            return CHAIN_ERR_NOMEM;
        }
        struct chain_log *items = realloc(logs->items, (logs->n + got.n) * sizeof *items);
        if (!items) {
            chain_logs_free(&got);
            return CHAIN_ERR_NOMEM;
        }
        memcpy(items + logs->n, got.items, got.n * sizeof *items);
        logs->items = items;
        logs->n += got.n;
        free(got.items); /* the data buffers moved to logs */
    }
    cur.next = to + 1;
    cur.hash = after.hash;
done:
    *cursor = cur;
    return CHAIN_OK;
}
