/*
 * node.h — private to node/: the daemon's state, shared by daemon.c (the
 * loop, start-up and shutdown), channel.c (the channel state machine),
 * onchain.c (transactions and the adjudicator's events) and handlers.c (the
 * control API). Only the loop thread touches a struct node after start-up;
 * see docs/node.md.
 */
#ifndef BP_NODE_NODE_H
#define BP_NODE_NODE_H

#include "api.h"
#include "app.h"
#include "chain.h"
#include "p2p.h"
#include "probe.h"
#include "queue.h"
#include "store.h"
#include "vm.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

struct node_config {
    const char *datadir;
    const char *password_file;
    const char *eth_url;
    const char *adjudicator; /* text as given */
    const char *listen;
    const char *api;
    int64_t peer_timeout_ms;
    vm_u256 max_deposit;
    int64_t poll_ms;         /* chain polling period */
    uint64_t confirmations;  /* blocks before an event counts */
    bool json_logs;
    /* Test hook (env BP_TEST_KILL_AFTER_SIGN=N): the process SIGKILLs itself
     * right after its Nth durable signature, before anything is sent, so the
     * crash tests hit the window between the store write and the send. 0 = off. */
    long test_kill_after_sign;
    /* Test hook (env BP_TEST_FAIL_COMMIT=N): the batch that holds the Nth
     * durable signature fails to commit, as on a full or broken disk. 0 = off. */
    long test_fail_commit;
};

/* Queue item kinds. */
enum node_event {
    NODE_EV_MESSAGE = 1, /* struct node_msg_event * */
    NODE_EV_PEER,        /* struct node_peer_event * */
    NODE_EV_API,         /* struct api_request * */
    NODE_EV_STOP,        /* NULL */
};

struct node_msg_event {
    vm_address peer;
    struct p2p_msg msg;
};

struct node_peer_event {
    vm_address peer;
    bool connected;
};

/* An API request that waits for something (a peer's answer, a receipt). */
struct node_waiter {
    struct api_request *req;
    int64_t deadline_ms;
};

enum channel_pending_kind {
    PENDING_NONE = 0,
    PENDING_MOVE,  /* our PROPOSE awaits ACCEPT/REJECT */
    PENDING_CLOSE, /* our CLOSE awaits ACCEPT/REJECT */
};

enum onchain_kind {
    TX_NONE = 0,
    TX_OPEN,
    TX_DEPOSIT,
    TX_CONCLUDE,
    TX_CHALLENGE,
    TX_SETTLE,
};

struct channel {
    struct store_channel rec;        /* parameters, state, chain bookkeeping (persisted) */
    struct store_breakpoint latest;  /* latest fully signed breakpoint (has_latest) */
    bool has_latest;
    uint64_t own_signed;             /* highest nonce this node signed */
    bool signed_any;
    struct app app;                  /* the world at `latest` (or at bp 0 being signed) */
    bool app_loaded;
    bool app_dirty;                  /* app holds a state past `latest`: reload before use */
    bool app_at_proposal;            /* app holds exactly the state of our pending proposal */
    uint8_t *code;                   /* the app's runtime code, checked against code_hash */
    size_t code_len;
    struct store_breakpoint bp0;     /* breakpoint 0 as we computed it (own sig) */
    bool has_bp0;
    /* our proposal in flight */
    enum channel_pending_kind pending;
    struct store_breakpoint proposal;
    struct node_waiter waiter;       /* bp move / bp close caller */
    int64_t pending_since_ms;
    /* a move to retry after a concurrent proposal */
    bool has_retry;
    vm_address retry_mover;
    uint8_t retry_calldata[STORE_MAX_CALLDATA];
    size_t retry_len;
    int64_t retry_at_ms;
    /* peer liveness */
    bool peer_connected;
    bool synced;                     /* the peer's SYNC was handled since it connected */
    int64_t last_heard_ms;
    int64_t loaded_ms;               /* when this process loaded the channel (0: created here) */
    int64_t next_ping_ms;
    int64_t next_resend_ms;
    uint64_t ping_seq;
    bool silent_reported;
    /* on-chain */
    enum onchain_kind tx_kind;
    struct chain_pending tx;
    struct vm_buf tx_data;
    struct node_waiter chain_waiter; /* bp open / challenge / settle caller */
    int64_t next_deposit_ms;         /* players[1]: next try to deposit (after a crash or a refusal) */
    int64_t next_answer_ms;          /* next try to answer a stale on-chain challenge */
};

/* Where a node's time goes (the channel benchmark's cost split). */
struct node_phase {
    int64_t ns;
    uint64_t count;
};
struct node_metrics {
    struct node_phase evm;     /* app init / move executions */
    struct node_phase sign;    /* own signatures */
    struct node_phase recover; /* peer signatures checked */
    struct node_phase commit;  /* durable store commits (one per batch) */
    struct node_phase chain;   /* polls of the Ethereum node (receipts, events) */
    uint64_t writes;           /* store writes, all commits together */
    uint64_t breakpoints;      /* breakpoints that became fully signed */
};

struct node_out;

struct node {
    struct node_config cfg;
    uint8_t key[32];
    vm_address self;
    vm_address adjudicator;
    uint64_t chain_id;
    struct vm_secp *secp;
    struct store *store;
    struct p2p *p2p;
    struct api_server *api;
    struct chain_client *rpc;
    struct chain_wallet *wallet;
    struct chain_probe probe;    /* gates the loop's RPC calls (probe.c) */
    struct queue queue;
    struct channel **channels;
    size_t n_channels;
    int64_t next_poll_ms;
    bool chain_up;
    struct chain_cursor cursor; /* the last RPC call succeeded */
    /* group commit (batch.c) */
    bool batching;               /* sends and replies wait for the commit */
    struct store_txn *txn;       /* the batch's transaction, begun at its first store call */
    bool kill_after_commit;      /* test hook fired inside a batch */
    bool fail_commit;            /* test hook: the batch's commit fails */
    bool fatal;                  /* a commit failed: the loop stops */
    bool stopping;               /* a stop event was taken */
    bool draining;               /* inside node_drain */
    int64_t last_take_ns;        /* when the loop last looked at its queue */
    struct node_out *outbox;
    size_t n_out, cap_out;
    struct p2p_msg *msg_pool[32];
    size_t n_msg_pool;
    struct node_metrics metrics;
};

/* Logging: one line per event, in words a player understands. */
void node_log(struct node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "0xab12…cdef" */
void node_short_hex(const uint8_t *b, size_t len, char out[16]);

struct channel *node_find_channel(struct node *n, const vm_bytes32 *id);

/* batch.c: group commit. While a batch is open (batch_begin .. batch_end),
 * store calls go through node_txn(n) (one transaction, begun lazily) and
 * node_send / node_reply* hold their message or answer until batch_commit
 * has made the store durable. Outside a batch they act at once and
 * node_txn(n) is NULL (each write commits on its own). A failed commit
 * sets n->fatal: nothing held is sent and the loop stops. */
void batch_begin(struct node *n);
int batch_commit(struct node *n); /* durable now; then sends/answers what waits */
int batch_end(struct node *n);
void batch_free(struct node *n);
struct store_txn *node_txn(struct node *n);
struct p2p_msg *node_msg_new(struct node *n, enum p2p_msg_type type);
void node_msg_free(struct node *n, struct p2p_msg *m);
void node_send(struct node *n, const vm_address *peer, struct p2p_msg *m); /* takes m */
void node_reply(struct node *n, struct api_request *req, json_t *result); /* steals result */
void node_reply_error(struct node *n, struct api_request *req, int http_status, int code,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* daemon.c: between two pieces of chain work (RPC calls on the loop
 * thread), handles the moves that queued up meanwhile, so that a burst of
 * on-chain actions does not stall every channel. A no-op when called again
 * from inside, outside a batch, or when the queue was looked at recently. */
void node_drain(struct node *n);
/* STORE_OK, or STORE_ERR_IO once a commit failed: the memory is then ahead
 * of the disk, and no further write may record any of it. */
int node_may_write(const struct node *n);
/* Counts an own durable signature for the crash tests' kill hook. */
void node_signed(struct node *n);
int64_t node_now_ns(void);
void node_metrics_add(struct node_phase *p, int64_t start_ns);

/* persist.c: the node's records in the store */
int persist_channel(struct node *n, struct channel *c);
int persist_cursor(struct node *n);
int node_add_channel(struct node *n, struct channel *c);

/* channel.c */
int channel_load_all(struct node *n);
int channel_fetch_code(struct node *n, struct channel *c);
int channel_fetch_code_unchecked(struct node *n, struct channel *c);
void channel_start(struct node *n, struct channel *c);
void channel_finished(struct node *n, struct channel *c);
void channel_free(struct channel *c);
void channel_on_message(struct node *n, const vm_address *peer, const struct p2p_msg *msg);
void channel_on_peer(struct node *n, const vm_address *peer, bool connected);
void channel_tick(struct node *n, struct channel *c, int64_t now);
int channel_propose_move(struct node *n, struct channel *c, const vm_address *mover,
                         const uint8_t *calldata, size_t len, char *why, size_t why_len);
int channel_propose_close(struct node *n, struct channel *c, char *why, size_t why_len);

/* onchain.c */
void onchain_poll(struct node *n);
void onchain_channel_id(struct node *n, struct store_channel *p);
int onchain_open(struct node *n, struct channel *c, char *why, size_t why_len);
int onchain_deposit(struct node *n, struct channel *c, char *why, size_t why_len);
int onchain_conclude(struct node *n, struct channel *c, char *why, size_t why_len);
int onchain_challenge(struct node *n, struct channel *c, char *why, size_t why_len);
int onchain_settle(struct node *n, struct channel *c, char *why, size_t why_len);
void onchain_resume_tx(struct node *n, struct channel *c);

/* handlers.c */
void handlers_dispatch(struct node *n, struct api_request *req);
void handlers_open(struct node *n, struct api_request *req);
json_t *handlers_channel_json(struct node *n, struct channel *c);

#endif
