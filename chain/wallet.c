/*
 * wallet.c — one key on one chain: nonces, fees, broadcasting, waiting for
 * confirmations and replacing a stuck transaction with a better-paying one.
 *
 * Nonces: the wallet remembers the next nonce it will use and takes the
 * larger of that and the node's pending count, so several transactions can
 * be in flight without waiting, and a restart (or another user of the key)
 * is caught up with. A "nonce too low" answer re-reads the count once.
 *
 * Stuck transactions are re-signed with the same nonce and fees raised by at
 * least 10% (the txpool replacement rule of geth and anvil). Every version's
 * hash is kept, because any of them may be the one that gets mined.
 */
#include "internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct chain_wallet {
    struct chain_client *client;
    const struct vm_secp *secp;
    uint8_t key[32];
    vm_address address;
    struct chain_wallet_opts opts;
    bool have_nonce;
    uint64_t next_nonce;
};

/* Compilers may drop a plain memset of memory that is about to be freed. */
static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

int chain_wallet_new(struct chain_client *client, const struct vm_secp *secp, const uint8_t key[32],
                     const struct chain_wallet_opts *opts, struct chain_wallet **out)
{
    *out = NULL;
    if (!client || !secp) return CHAIN_ERR_INVALID;
    struct chain_wallet *w = calloc(1, sizeof *w);
    if (!w) return CHAIN_ERR_NOMEM;
    if (vm_key_address(secp, key, &w->address) != VM_OK) {
        free(w);
        return CHAIN_ERR_KEY;
    }
    w->client = client;
    w->secp = secp;
    memcpy(w->key, key, 32);
    if (opts) w->opts = *opts;
    if (w->opts.confirmations == 0) w->opts.confirmations = 1;
    if (w->opts.poll_interval_ms <= 0) w->opts.poll_interval_ms = 500;
    if (w->opts.wait_timeout_ms <= 0) w->opts.wait_timeout_ms = 120000;
    if (w->opts.stuck_after_ms <= 0) w->opts.stuck_after_ms = 15000;
    if (w->opts.fee_bump_percent == 0) w->opts.fee_bump_percent = 20;
    if (w->opts.fee_bump_percent < 10) w->opts.fee_bump_percent = 10;
    if (w->opts.gas_margin_percent == 0) w->opts.gas_margin_percent = 20;
    *out = w;
    return CHAIN_OK;
}

void chain_wallet_free(struct chain_wallet *w)
{
    if (!w) return;
    wipe(w->key, sizeof w->key);
    free(w);
}

const vm_address *chain_wallet_address(const struct chain_wallet *w)
{
    return &w->address;
}

/* a * (100 + pct) / 100, rounded up so that a bump is never zero. */
static vm_u256 bump(vm_u256 a, unsigned pct)
{
    vm_u256 hundred = vm_u256_from_u64(100);
    vm_u256 x = vm_u256_mul(a, vm_u256_from_u64(100 + pct));
    vm_u256 q = vm_u256_div(vm_u256_add(x, vm_u256_from_u64(99)), hundred);
    if (vm_u256_cmp(q, a) <= 0) q = vm_u256_add(a, vm_u256_from_u64(1));
    return q;
}

static vm_u256 min_u256(vm_u256 a, vm_u256 b)
{
    return vm_u256_cmp(a, b) <= 0 ? a : b;
}

static vm_u256 max_u256(vm_u256 a, vm_u256 b)
{
    return vm_u256_cmp(a, b) >= 0 ? a : b;
}

/* Applies the configured cap to a (tip, max fee) pair; tip <= max fee always. */
static void apply_cap(const struct chain_wallet *w, vm_u256 *tip, vm_u256 *max_fee)
{
    if (!vm_u256_is_zero(w->opts.max_fee_cap)) *max_fee = min_u256(*max_fee, w->opts.max_fee_cap);
    *tip = min_u256(*tip, *max_fee);
}

int chain_wallet_fees(struct chain_wallet *w, vm_u256 *tip, vm_u256 *max_fee)
{
    vm_u256 base, median;
    int rc = chain_fee_history(w->client, 5, 50.0, &base, &median);
    if (rc) return rc;
    rc = chain_max_priority_fee(w->client, tip);
    /* A node without eth_maxPriorityFeePerGas answers with an RPC error;
     * the feeHistory median is the documented fallback. */
    if (rc == CHAIN_ERR_RPC)
        *tip = median;
    else if (rc)
        return rc;
    *max_fee = vm_u256_add(vm_u256_add(base, base), *tip);
    apply_cap(w, tip, max_fee);
    return CHAIN_OK;
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n) return true;
    }
    return false;
}

static bool rpc_says(struct chain_wallet *w, int rc, const char *text)
{
    return rc == CHAIN_ERR_RPC && contains_ci(chain_client_rpc_error(w->client)->message, text);
}

/* Signs tx and broadcasts it. Out: *hash. "already known" counts as sent. */
static int sign_and_send(struct chain_wallet *w, const struct chain_tx *tx, vm_bytes32 *hash)
{
    struct vm_buf raw = {0};
    int rc = chain_tx_sign(w->secp, tx, w->key, &raw, hash->b);
    if (!rc) {
        rc = chain_send_raw(w->client, raw.data, raw.len, NULL);
        if (rpc_says(w, rc, "already known")) rc = CHAIN_OK;
    }
    vm_buf_free(&raw);
    return rc;
}

static int checked_chain_id(struct chain_wallet *w, uint64_t *id)
{
    int rc = chain_chain_id(w->client, id);
    if (rc) return rc;
    uint64_t want = chain_client_expected_chain_id(w->client);
    if (want && *id != want) return CHAIN_ERR_WRONG_CHAIN;
    return CHAIN_OK;
}

static int fresh_nonce(struct chain_wallet *w, uint64_t *nonce)
{
    uint64_t pending;
    int rc = chain_get_nonce(w->client, &w->address, CHAIN_BLOCK_PENDING, &pending);
    if (rc) return rc;
    *nonce = w->have_nonce && w->next_nonce > pending ? w->next_nonce : pending;
    return CHAIN_OK;
}

int chain_wallet_submit(struct chain_wallet *w, const vm_address *to, vm_u256 value,
                        const uint8_t *data, size_t data_len, uint64_t gas_limit,
                        struct chain_pending *p)
{
    memset(p, 0, sizeof *p);
    if (data_len && !data) return CHAIN_ERR_INVALID;
    struct chain_tx *tx = &p->tx;
    int rc;
    if ((rc = checked_chain_id(w, &tx->chain_id))) return rc;
    tx->has_to = to != NULL;
    if (to) tx->to = *to;
    tx->value = value;
    tx->data = data;
    tx->data_len = data_len;
    if (gas_limit == 0) {
        struct chain_call call = {&w->address, to, value, data, data_len, 0};
        uint64_t est;
        if ((rc = chain_estimate_gas(w->client, &call, &est))) return rc;
        uint64_t margin = est / 100 * w->opts.gas_margin_percent;
        gas_limit = est + margin < est ? UINT64_MAX : est + margin;
    }
    tx->gas_limit = gas_limit;
    if ((rc = chain_wallet_fees(w, &tx->max_priority_fee_per_gas, &tx->max_fee_per_gas))) return rc;
    if ((rc = fresh_nonce(w, &tx->nonce))) return rc;
    rc = sign_and_send(w, tx, &p->hashes[0]);
    if (rpc_says(w, rc, "nonce too low")) {
        /* Our memory is ahead of reality or behind it; trust the node once. */
        w->have_nonce = false;
        if ((rc = fresh_nonce(w, &tx->nonce))) return rc;
        rc = sign_and_send(w, tx, &p->hashes[0]);
    }
    if (rc) return rc;
    p->n_hashes = 1;
    p->last_sent_ms = chain_now_ms();
    w->next_nonce = tx->nonce + 1;
    w->have_nonce = true;
    return CHAIN_OK;
}

/* Re-signs the pending transaction with higher fees and broadcasts it. */
static int resubmit(struct chain_wallet *w, struct chain_pending *p)
{
    if (p->n_hashes == CHAIN_PENDING_MAX_VERSIONS) return CHAIN_OK;
    struct chain_tx tx = p->tx;
    vm_u256 tip, max_fee;
    int rc = chain_wallet_fees(w, &tip, &max_fee);
    if (rc) return rc;
    tx.max_priority_fee_per_gas =
        max_u256(bump(p->tx.max_priority_fee_per_gas, w->opts.fee_bump_percent), tip);
    tx.max_fee_per_gas = max_u256(bump(p->tx.max_fee_per_gas, w->opts.fee_bump_percent), max_fee);
    apply_cap(w, &tx.max_priority_fee_per_gas, &tx.max_fee_per_gas);
    /* Capped below a valid replacement: keep waiting on what is out there. */
    if (vm_u256_cmp(tx.max_fee_per_gas, p->tx.max_fee_per_gas) <= 0 ||
        vm_u256_cmp(tx.max_priority_fee_per_gas, p->tx.max_priority_fee_per_gas) <= 0) {
        p->last_sent_ms = chain_now_ms();
        return CHAIN_OK;
    }
    vm_bytes32 h;
    rc = sign_and_send(w, &tx, &h);
    p->last_sent_ms = chain_now_ms();
    /* An older version may have been mined meanwhile ("nonce too low"), or the
     * pool may still prefer the old one: the receipts will tell. */
    if (rpc_says(w, rc, "nonce too low") || rpc_says(w, rc, "underpriced")) return CHAIN_OK;
    if (rc) return rc;
    p->tx = tx;
    p->hashes[p->n_hashes++] = h;
    return CHAIN_OK;
}

int chain_wallet_poll(struct chain_wallet *w, struct chain_pending *p, struct chain_receipt *r)
{
    memset(r, 0, sizeof *r);
    for (size_t i = p->n_hashes; i-- > 0;) {
        struct chain_receipt got;
        int rc = chain_get_receipt(w->client, &p->hashes[i], &got);
        if (rc == CHAIN_ERR_NOT_FOUND) continue;
        if (rc) return rc;
        uint64_t head;
        if ((rc = chain_block_number(w->client, &head))) {
            chain_receipt_free(&got);
            return rc;
        }
        if (head < got.block_number || head - got.block_number + 1 < w->opts.confirmations) {
            chain_receipt_free(&got);
            return CHAIN_ERR_NOT_FOUND; /* mined, not yet deep enough */
        }
        *r = got;
        return got.status ? CHAIN_OK : CHAIN_ERR_REVERTED;
    }
    if (chain_now_ms() - p->last_sent_ms >= w->opts.stuck_after_ms) {
        int rc = resubmit(w, p);
        if (rc) return rc;
    }
    return CHAIN_ERR_NOT_FOUND;
}

int chain_wallet_send(struct chain_wallet *w, const vm_address *to, vm_u256 value,
                      const uint8_t *data, size_t data_len, uint64_t gas_limit,
                      struct chain_receipt *r)
{
    memset(r, 0, sizeof *r);
    struct chain_pending p;
    int rc = chain_wallet_submit(w, to, value, data, data_len, gas_limit, &p);
    if (rc) return rc;
    int64_t deadline = chain_now_ms() + w->opts.wait_timeout_ms;
    for (;;) {
        rc = chain_wallet_poll(w, &p, r);
        if (rc != CHAIN_ERR_NOT_FOUND) return rc;
        if (chain_now_ms() >= deadline) return CHAIN_ERR_TX_TIMEOUT;
        chain_sleep_ms(w->opts.poll_interval_ms);
    }
}
