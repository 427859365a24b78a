/*
 * bench/store.c — durable commits per second of the store.
 *
 * 64 channels; each "move" is what the node does for one breakpoint: record
 * the own signature (store_sign_breakpoint) and save the fully signed
 * breakpoint with its private storage (store_put_breakpoint). Measured:
 *   - one move per durable commit (the latency-bound path),
 *   - batches of 64 moves (one per channel) per durable commit (group commit).
 * Prints figures; asserts nothing about time. Usage: store_bench [DIR]
 * (default $TMPDIR or /tmp: put it on the disk the node will use).
 */
#include "../store/util.h"

#include <time.h>

#define CHANNELS 64

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int move(struct store *s, struct store_txn *t, const struct store_channel *ch,
                uint64_t nonce, struct store_breakpoint *b)
{
    uint8_t d[32], out[65];
    struct vm_storage_slot slots[8];
    size_t n;
    util_breakpoint(b, &ch->id, nonce, true);
    vm_breakpoint_digest(&b->bp, vm_u256_from_u64(ch->chain_id), &ch->adjudicator, d);
    int rv = store_sign_breakpoint(s, t, &ch->id, nonce, d, b->sigs[ch->me], out);
    if (rv) return rv;
    util_slots(nonce, slots, &n);
    return store_put_breakpoint(s, t, b, slots, n);
}

static int fail(const char *what, int rv)
{
    fprintf(stderr, "store_bench: %s: %s\n", what, store_strerror(rv));
    return 1;
}

int main(int argc, char **argv)
{
    char dir[256], path[300];
    if (argc > 1) setenv("TMPDIR", argv[1], 1);
    util_scratch(dir, path);
    struct store *s;
    int rv = store_open(path, &s);
    if (rv) return fail("open", rv);
    static struct store_channel ch[CHANNELS];
    for (int i = 0; i < CHANNELS; i++) {
        util_channel(&ch[i], 1000 + (uint64_t)i, (uint8_t)(i & 1));
        rv = store_put_channel(s, NULL, &ch[i]);
        if (rv) return fail("put channel", rv);
    }
    struct store_breakpoint *b = malloc(sizeof *b);
    if (b == NULL) return 1;
    uint64_t nonce = 0;

    /* One move per durable commit. */
    const int single = 1000;
    double t0 = now_s();
    for (int i = 0; i < single; i++) {
        struct store_txn *t;
        rv = store_txn_begin(s, &t);
        if (rv) return fail("begin", rv);
        rv = move(s, t, &ch[i % CHANNELS], nonce + (uint64_t)(i / CHANNELS), b);
        if (rv) {
            store_txn_abort(t);
            return fail("move", rv);
        }
        rv = store_txn_commit(t);
        if (rv) return fail("commit", rv);
    }
    double t1 = now_s();
    nonce += (uint64_t)(single / CHANNELS) + 1;
    printf("store: 1 move per commit:   %6d commits in %.3f s = %8.0f durable commits/s, "
           "%8.0f moves/s (%.0f us/commit)\n",
           single, t1 - t0, single / (t1 - t0), single / (t1 - t0), (t1 - t0) / single * 1e6);

    /* Batches of 64 moves, one per channel. */
    const int batches = 100;
    t0 = now_s();
    for (int k = 0; k < batches; k++, nonce++) {
        struct store_txn *t;
        rv = store_txn_begin(s, &t);
        if (rv) return fail("begin", rv);
        for (int i = 0; i < CHANNELS && rv == 0; i++) rv = move(s, t, &ch[i], nonce, b);
        if (rv) {
            store_txn_abort(t);
            return fail("move", rv);
        }
        rv = store_txn_commit(t);
        if (rv) return fail("commit", rv);
    }
    t1 = now_s();
    printf("store: 64 moves per commit: %6d commits in %.3f s = %8.0f durable commits/s, "
           "%8.0f moves/s (%.0f us/commit)\n",
           batches, t1 - t0, batches / (t1 - t0), batches * CHANNELS / (t1 - t0),
           (t1 - t0) / batches * 1e6);

    /* The same without an explicit transaction: two commits per move. */
    const int naive = 500;
    t0 = now_s();
    for (int i = 0; i < naive; i++) {
        rv = move(s, NULL, &ch[i % CHANNELS], nonce + (uint64_t)(i / CHANNELS), b);
        if (rv) return fail("move", rv);
    }
    t1 = now_s();
    printf("store: autocommit calls:    %6d moves in %.3f s = %8.0f moves/s (2 commits each)\n",
           naive, t1 - t0, naive / (t1 - t0));
    free(b);
    store_close(s);
    util_rmtree(dir);
    return 0;
}
