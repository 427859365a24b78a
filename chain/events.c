/*
 * events.c — decoding of the Adjudicator's events (docs/contracts.md).
 *
 * Each event is described once, as its Solidity parameter list with the
 * indexed ones marked; topic0, the indexed topics and the ABI-encoded data
 * are all derived from that description, so a change to an event in the
 * contract is a change to one line of the table below. A log that does not
 * match its description exactly (topic count, data layout, value ranges) is
 * CHAIN_ERR_EVENT: the chain is untrusted input like any other.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 8

struct event_def {
    enum chain_event_kind kind;
    const char *name;
    size_t n;
    const char *types[MAX_PARAMS];
    bool indexed[MAX_PARAMS];
};

/* The Adjudicator's events, in parameter order (docs/contracts.md). */
static const struct event_def events[] = {
    {CHAIN_EV_OPENED,
     "Opened",
     8,
     {"bytes32", "address", "bytes32", "address[2]", "uint256[2]", "bytes", "uint64", "bytes32"},
     {true, false, false, false, false, false, false, false}},
    {CHAIN_EV_DEPOSITED,
     "Deposited",
     4,
     {"bytes32", "address", "uint256", "uint256"},
     {true, true, false, false}},
    {CHAIN_EV_CHALLENGED, "Challenged", 3, {"bytes32", "uint64", "uint64"}, {true, false, false}},
    {CHAIN_EV_CONCLUDED, "Concluded", 2, {"bytes32", "uint64"}, {true, false}},
    {CHAIN_EV_SETTLED, "Settled", 2, {"bytes32", "uint64"}, {true, false}},
    {CHAIN_EV_RECLAIMED, "Reclaimed", 2, {"bytes32", "uint256"}, {true, false}},
    {CHAIN_EV_CREDITED, "Credited", 2, {"address", "uint256"}, {true, false}},
    {CHAIN_EV_WITHDRAWN, "Withdrawn", 2, {"address", "uint256"}, {true, false}},
};
#define N_EVENTS (sizeof events / sizeof *events)

static const struct event_def *def_of(enum chain_event_kind kind)
{
    for (size_t i = 0; i < N_EVENTS; i++)
        if (events[i].kind == kind) return &events[i];
    return NULL;
}

/* Writes "Name(T1,...)" (indexed ones included) or "(Ta,...)" (only the
 * non-indexed ones when data_only). Returns the length or 0 if it does not fit. */
static size_t signature(const struct event_def *d, bool data_only, char *out, size_t cap)
{
    size_t o = 0;
    int n = snprintf(out, cap, "%s(", data_only ? "" : d->name);
    if (n < 0 || (size_t)n >= cap) return 0;
    o = (size_t)n;
    bool first = true;
    for (size_t i = 0; i < d->n; i++) {
        if (data_only && d->indexed[i]) continue;
        n = snprintf(out + o, cap - o, "%s%s", first ? "" : ",", d->types[i]);
        if (n < 0 || (size_t)n >= cap - o) return 0;
        o += (size_t)n;
        first = false;
    }
    if (o + 2 > cap) return 0;
    out[o++] = ')';
    out[o] = 0;
    return o;
}

void chain_event_topic(enum chain_event_kind kind, vm_bytes32 *topic)
{
    memset(topic->b, 0, 32);
    const struct event_def *d = def_of(kind);
    char sig[256];
    size_t n = d ? signature(d, false, sig, sizeof sig) : 0;
    if (n) vm_keccak256((const uint8_t *)sig, n, topic->b);
}

void chain_event_clear(struct chain_event *ev)
{
    if (!ev) return;
    if (ev->kind == CHAIN_EV_OPENED) free(ev->u.opened.init_args);
    memset(ev, 0, sizeof *ev);
}

/* ---------------------------------------------------------------- value getters */

static bool get_b32(const struct chain_abi_value *v, vm_bytes32 *out)
{
    if (v->kind != CHAIN_ABI_FIXED_BYTES || v->len != 32) return false;
    memcpy(out->b, v->bytes, 32);
    return true;
}

static bool get_addr(const struct chain_abi_value *v, vm_address *out)
{
    if (v->kind != CHAIN_ABI_ADDRESS) return false;
    uint8_t be[32];
    vm_u256_to_be(v->word, be);
    memcpy(out->b, be + 12, 20);
    return true;
}

static bool get_u256(const struct chain_abi_value *v, vm_u256 *out)
{
    if (v->kind != CHAIN_ABI_UINT) return false;
    *out = v->word;
    return true;
}

static bool get_u64(const struct chain_abi_value *v, uint64_t *out)
{
    if (v->kind != CHAIN_ABI_UINT || !vm_u256_fits_u64(v->word)) return false;
    *out = v->word.w[0];
    return true;
}

/* Fills ev from the values of its parameters, in declaration order. */
static int fill(struct chain_event *ev, const struct chain_abi_value *p)
{
    switch (ev->kind) {
    case CHAIN_EV_OPENED: {
        if (!get_b32(&p[0], &ev->channel_id) || !get_addr(&p[1], &ev->u.opened.app) ||
            !get_b32(&p[2], &ev->u.opened.code_hash) || p[3].n_items != 2 || p[4].n_items != 2 ||
            !get_addr(&p[3].items[0], &ev->u.opened.players[0]) ||
            !get_addr(&p[3].items[1], &ev->u.opened.players[1]) ||
            !get_u256(&p[4].items[0], &ev->u.opened.deposits[0]) ||
            !get_u256(&p[4].items[1], &ev->u.opened.deposits[1]) || p[5].kind != CHAIN_ABI_BYTES ||
            !get_u64(&p[6], &ev->u.opened.challenge_period) || !get_b32(&p[7], &ev->u.opened.salt))
            return CHAIN_ERR_EVENT;
        size_t n = p[5].len;
        ev->u.opened.init_args = malloc(n ? n : 1);
        if (!ev->u.opened.init_args) return CHAIN_ERR_NOMEM;
        if (n) memcpy(ev->u.opened.init_args, p[5].bytes, n);
        ev->u.opened.init_args_len = n;
        return CHAIN_OK;
    }
    case CHAIN_EV_DEPOSITED:
        return get_b32(&p[0], &ev->channel_id) && get_addr(&p[1], &ev->u.deposited.player) &&
                       get_u256(&p[2], &ev->u.deposited.amount) &&
                       get_u256(&p[3], &ev->u.deposited.total)
                   ? CHAIN_OK
                   : CHAIN_ERR_EVENT;
    case CHAIN_EV_CHALLENGED:
        return get_b32(&p[0], &ev->channel_id) && get_u64(&p[1], &ev->u.challenged.nonce) &&
                       get_u64(&p[2], &ev->u.challenged.deadline)
                   ? CHAIN_OK
                   : CHAIN_ERR_EVENT;
    case CHAIN_EV_CONCLUDED:
        return get_b32(&p[0], &ev->channel_id) && get_u64(&p[1], &ev->u.concluded.nonce)
                   ? CHAIN_OK
                   : CHAIN_ERR_EVENT;
    case CHAIN_EV_SETTLED:
        return get_b32(&p[0], &ev->channel_id) && get_u64(&p[1], &ev->u.settled.nonce)
                   ? CHAIN_OK
                   : CHAIN_ERR_EVENT;
    case CHAIN_EV_RECLAIMED:
        return get_b32(&p[0], &ev->channel_id) && get_u256(&p[1], &ev->u.reclaimed.amount)
                   ? CHAIN_OK
                   : CHAIN_ERR_EVENT;
    case CHAIN_EV_CREDITED:
        return get_addr(&p[0], &ev->u.credited.recipient) && get_u256(&p[1], &ev->u.credited.amount)
                   ? CHAIN_OK
                   : CHAIN_ERR_EVENT;
    case CHAIN_EV_WITHDRAWN:
        return get_addr(&p[0], &ev->u.withdrawn.recipient) &&
                       get_u256(&p[1], &ev->u.withdrawn.amount)
                   ? CHAIN_OK
                   : CHAIN_ERR_EVENT;
    }
    return CHAIN_ERR_EVENT;
}

int chain_event_decode(const struct chain_log *log, struct chain_event *ev)
{
    memset(ev, 0, sizeof *ev);
    if (log->n_topics == 0 || log->n_topics > 4) return CHAIN_ERR_EVENT;
    const struct event_def *d = NULL;
    for (size_t i = 0; i < N_EVENTS && !d; i++) {
        vm_bytes32 t;
        chain_event_topic(events[i].kind, &t);
        if (memcmp(t.b, log->topics[0].b, 32) == 0) d = &events[i];
    }
    if (!d) return CHAIN_ERR_EVENT;
    size_t n_indexed = 0;
    for (size_t i = 0; i < d->n; i++)
        n_indexed += d->indexed[i];
    if (log->n_topics != 1 + n_indexed) return CHAIN_ERR_EVENT;

    char types[256];
    if (!signature(d, true, types, sizeof types)) return CHAIN_ERR_EVENT;
    struct chain_abi_value data, topic_vals[4] = {{0}};
    int rc = chain_abi_decode(types, log->data, log->data_len, &data);
    if (rc) return rc == CHAIN_ERR_NOMEM ? rc : CHAIN_ERR_EVENT;

    struct chain_abi_value params[MAX_PARAMS];
    size_t next_topic = 1, next_data = 0;
    for (size_t i = 0; i < d->n && !rc; i++) {
        if (d->indexed[i]) {
            /* an indexed value type is its ABI word in the topic */
            char one[64];
            snprintf(one, sizeof one, "(%s)", d->types[i]);
            struct chain_abi_value *tv = &topic_vals[next_topic - 1];
            rc = chain_abi_decode(one, log->topics[next_topic].b, 32, tv);
            if (!rc && tv->n_items != 1) rc = CHAIN_ERR_EVENT;
            if (!rc) params[i] = tv->items[0];
            next_topic++;
        } else {
            params[i] = data.items[next_data++];
        }
    }
    if (!rc) {
        ev->kind = d->kind;
        rc = fill(ev, params);
    }
    if (rc == CHAIN_ERR_ABI) rc = CHAIN_ERR_EVENT;
    chain_abi_value_clear(&data);
    for (size_t i = 0; i < 4; i++)
        chain_abi_value_clear(&topic_vals[i]);
    if (rc) {
        chain_event_clear(ev);
        return rc;
    }
    ev->block_number = log->block_number;
    ev->block_hash = log->block_hash;
    ev->tx_hash = log->tx_hash;
    ev->log_index = log->log_index;
    return CHAIN_OK;
}
