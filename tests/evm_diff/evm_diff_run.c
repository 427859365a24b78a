/*
 * The vm/ side of the differential test against anvil (evm_diff.js).
 *
 * Reads the trace that evm_diff.js recorded on anvil: the sender, and per
 * step a transaction (create or call) with anvil's return data (from an
 * eth_call on the state just before it), receipt status, gasUsed, logs, the
 * block it was mined in, and the storage roots (eth_getProof storageHash) of
 * the contracts after it; or a read-only eth_call with its return data.
 * Replays the same steps on a fresh vm_world with vm_transaction_apply (or
 * vm_evm_execute, reverted afterwards, for a read-only call) and compares
 * everything. Prints each difference and ends with "N passed, M failed".
 *
 * usage: evm_diff_run TRACE.json
 */
#include "vm.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIFF_MAX_BYTES (1u << 20)

struct bytes {
    uint8_t *p;
    size_t n;
};

/* Hex string field -> bytes (malloc'ed); an absent field is empty. */
static int get_hex(json_t *obj, const char *key, struct bytes *out)
{
    const char *s = json_string_value(json_object_get(obj, key));
    out->p = NULL;
    out->n = 0;
    if (!s) return 0;
    size_t cap = strlen(s) / 2 + 1;
    if (cap > DIFF_MAX_BYTES) return -1;
    out->p = malloc(cap);
    if (!out->p) return -1;
    return vm_hex_decode(s, out->p, cap, &out->n) ? -1 : 0;
}

static int get_u256(json_t *obj, const char *key, vm_u256 *out)
{
    const char *s = json_string_value(json_object_get(obj, key));
    *out = vm_u256_from_u64(0);
    return s ? vm_u256_parse(s, out) : 0;
}

static int get_addr(json_t *obj, const char *key, vm_address *out)
{
    const char *s = json_string_value(json_object_get(obj, key));
    memset(out, 0, sizeof *out);
    return s ? vm_address_parse(s, out) : -1;
}

static int64_t get_i64(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v)) return (int64_t)json_integer_value(v);
    const char *s = json_string_value(v);
    return s ? (int64_t)strtoll(s, NULL, 0) : 0;
}

static void hex_print(const char *what, const uint8_t *p, size_t n)
{
    char *h = malloc(2 * n + 3);
    if (!h) return;
    vm_hex_encode(p, n, h);
    printf("      %s %.200s%s\n", what, h, strlen(h) > 200 ? "..." : "");
    free(h);
}

/* Compares our logs with anvil's receipt logs; prints differences. */
static bool logs_equal(const struct vm_world *w, json_t *logs)
{
    size_t n = vm_world_log_count(w);
    if (n != json_array_size(logs)) {
        printf("    logs: %zu ours, %zu anvil\n", n, json_array_size(logs));
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        const struct vm_log *l = vm_world_log(w, i);
        json_t *a = json_array_get(logs, i);
        vm_address addr;
        struct bytes data = {0};
        json_t *topics = json_object_get(a, "topics");
        bool same = get_addr(a, "address", &addr) == 0 &&
                    memcmp(&addr, &l->address, sizeof addr) == 0 &&
                    json_array_size(topics) == l->n_topics && get_hex(a, "data", &data) == 0 &&
                    data.n == l->data_len && (data.n == 0 || memcmp(data.p, l->data, data.n) == 0);
        for (size_t t = 0; same && t < l->n_topics; t++) {
            uint8_t tb[32];
            size_t tl = 0;
            const char *ts = json_string_value(json_array_get(topics, t));
            same = ts && vm_hex_decode(ts, tb, sizeof tb, &tl) == 0 && tl == 32 &&
                   memcmp(tb, l->topics[t].b, 32) == 0;
        }
        if (!same) {
            printf("    log %zu differs\n", i);
            hex_print("ours data:", l->data, l->data_len);
            ok = false;
        }
        free(data.p);
    }
    return ok;
}

struct slot_list {
    struct vm_storage_slot *v;
    size_t n, cap;
};

static int collect_slot(void *arg, vm_u256 key, vm_u256 value)
{
    struct slot_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct vm_storage_slot *v = realloc(l->v, cap * sizeof *v);
        if (!v) return VM_ERR_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].key = key;
    l->v[l->n].value = value;
    l->n++;
    return VM_OK;
}

/* Our non-zero slots of addr equal anvil's (a {key: value} object). */
static bool slots_equal(const struct vm_world *w, const vm_address *addr, json_t *want)
{
    struct slot_list ours = {0};
    bool ok = vm_world_storage_foreach(w, addr, collect_slot, &ours) == VM_OK &&
              ours.n == json_object_size(want);
    if (!ok) printf("    slot count: %zu ours, %zu anvil\n", ours.n, json_object_size(want));
    for (size_t i = 0; ok && i < ours.n; i++) {
        uint8_t kb[32];
        char kh[67];
        vm_u256_to_be(ours.v[i].key, kb);
        vm_hex_encode(kb, 32, kh);
        vm_u256 v;
        const char *vs = json_string_value(json_object_get(want, kh));
        if (!vs || vm_u256_parse(vs, &v) || !vm_u256_eq(v, ours.v[i].value)) {
            printf("    slot %s differs\n", kh);
            ok = false;
        }
    }
    free(ours.v);
    return ok;
}

/* Storage roots after the step vs anvil's eth_getProof storageHash. Where
 * anvil still holds cleared slots (its storageHash then counts them), the
 * slots are compared one by one and our root against the trie root of
 * anvil's non-zero slots. */
static bool roots_equal(const struct vm_world *w, json_t *roots, json_t *storage)
{
    bool ok = true;
    const char *key;
    json_t *val;
    json_object_foreach(roots, key, val) {
        vm_address addr;
        uint8_t want[32], got[32];
        size_t wl = 0;
        const char *ws = json_string_value(val);
        json_t *st = json_object_get(storage, key);
        json_t *slots = json_object_get(st, "slots");
        if (vm_address_parse(key, &addr) || !ws || vm_hex_decode(ws, want, 32, &wl) || wl != 32 ||
            !json_is_object(slots) || vm_world_storage_root(w, &addr, got)) {
            printf("    storage root of %s: bad trace or error\n", key);
            ok = false;
            continue;
        }
        if (!slots_equal(w, &addr, slots)) ok = false;
        if (json_integer_value(json_object_get(st, "zeros")) > 0) {
            /* Root of anvil's non-zero slots, over vm_storage_root. */
            size_t n = json_object_size(slots), k = 0;
            struct vm_storage_slot *v = calloc(n ? n : 1, sizeof *v);
            const char *sk;
            json_t *sv;
            if (!v) return false;
            json_object_foreach(slots, sk, sv) {
                if (vm_u256_parse(sk, &v[k].key) ||
                    vm_u256_parse(json_string_value(sv) ? json_string_value(sv) : "x", &v[k].value))
                    ok = false;
                k++;
            }
            if (vm_storage_root(v, n, want)) ok = false;
            free(v);
        }
        if (memcmp(want, got, 32) != 0) {
            printf("    storage root of %s differs\n", key);
            hex_print("ours: ", got, 32);
            hex_print("anvil:", want, 32);
            ok = false;
        }
    }
    return ok;
}

static bool output_equal(const uint8_t *ours, size_t n, json_t *step)
{
    struct bytes want = {0};
    if (!json_object_get(step, "output")) return true; /* not compared (create) */
    bool ok = get_hex(step, "output", &want) == 0 && want.n == n &&
              (n == 0 || memcmp(want.p, ours, n) == 0);
    if (!ok) {
        printf("    return data differs\n");
        hex_print("ours: ", ours, n);
        hex_print("anvil:", want.p, want.n);
    }
    free(want.p);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s TRACE.json\n", argv[0]);
        return 2;
    }
    json_error_t jerr;
    json_t *trace = json_load_file(argv[1], 0, &jerr);
    if (!trace) {
        fprintf(stderr, "%s: %s\n", argv[1], jerr.text);
        return 2;
    }
    struct vm_world *w = NULL;
    struct vm_evm *evm = NULL;
    vm_address sender;
    vm_u256 chain_id;
    if (vm_world_new(&w) || vm_evm_new(&evm) || get_addr(trace, "sender", &sender) ||
        get_u256(trace, "chainId", &chain_id) ||
        /* Balance is not compared; only enough to pay for everything. */
        vm_world_set_account(w, &sender, 0, vm_u256_from_u64(UINT64_MAX), NULL, 0)) {
        fprintf(stderr, "setup failed\n");
        return 2;
    }
    json_t *steps = json_object_get(trace, "steps");
    int passed = 0, failed = 0;
    size_t i;
    json_t *step;
    json_array_foreach(steps, i, step) {
        const char *name = json_string_value(json_object_get(step, "name"));
        const char *kind = json_string_value(json_object_get(step, "kind"));
        json_t *blk = json_object_get(step, "block");
        struct vm_block_env env = {.number = get_i64(blk, "number"),
                                   .timestamp = get_i64(blk, "timestamp"),
                                   .gas_limit = get_i64(blk, "gasLimit")};
        struct bytes data = {0};
        bool ok = true;
        if (get_addr(blk, "miner", &env.coinbase) || get_u256(blk, "baseFeePerGas", &env.base_fee) ||
            get_u256(blk, "mixHash", &env.prevrandao) || get_hex(step, "data", &data)) {
            printf("step %zu %s: bad trace\n", i, name ? name : "?");
            failed++;
            continue;
        }
        env.chain_id = chain_id;
        if (kind && strcmp(kind, "call") == 0) {
            /* eth_call: run on the current state, then undo everything. */
            struct vm_host host = vm_world_host(w);
            struct vm_tx_context ctx = {.origin = sender, .coinbase = env.coinbase,
                                        .number = env.number, .timestamp = env.timestamp,
                                        .gas_limit = env.gas_limit, .prevrandao = env.prevrandao,
                                        .chain_id = chain_id, .base_fee = env.base_fee};
            struct vm_message msg = {.kind = VM_CALL, .gas = get_i64(step, "gas"),
                                     .sender = sender, .input = data.p, .input_size = data.n};
            struct vm_result res;
            if (get_addr(step, "to", &msg.recipient)) ok = false;
            msg.code_address = msg.recipient;
            vm_world_begin_tx(w);
            size_t snap = host.ops->snapshot(host.ctx);
            (void)host.ops->access_account(host.ctx, &sender);
            (void)host.ops->access_account(host.ctx, &msg.recipient);
            if (!ok || vm_evm_execute(evm, &host, &ctx, &msg, &res) != VM_OK) {
                printf("step %zu %s: could not run\n", i, name);
                ok = false;
            } else {
                host.ops->revert(host.ctx, snap);
                bool want_ok = json_is_true(json_object_get(step, "success"));
                if ((res.status == VM_SUCCESS) != want_ok) {
                    printf("    status %s, anvil %s\n", vm_status_name(res.status),
                           want_ok ? "success" : "failure");
                    ok = false;
                }
                ok = output_equal(res.output, res.output_size, step) && ok;
                vm_result_free(&res);
            }
        } else {
            struct vm_transaction tx = {.type = 0, .nonce = (uint64_t)get_i64(step, "nonce"),
                                        .gas_limit = (uint64_t)get_i64(step, "gas"),
                                        .sender = sender, .data = data.p, .data_len = data.n};
            struct vm_tx_outcome out = {0};
            tx.is_create = json_object_get(step, "to") == NULL ||
                           json_is_null(json_object_get(step, "to"));
            if ((!tx.is_create && get_addr(step, "to", &tx.to)) ||
                get_u256(step, "gasPrice", &tx.gas_price) || get_u256(step, "value", &tx.value) ||
                vm_transaction_apply(evm, w, &env, &tx, &out) != VM_OK) {
                printf("step %zu %s: could not run\n", i, name);
                ok = false;
            } else if (out.invalid != VM_TX_VALID) {
                printf("    transaction rejected: %s\n", vm_tx_invalid_name((int)out.invalid));
                ok = false;
            } else {
                bool want_ok = get_i64(step, "status") == 1;
                uint64_t want_gas = (uint64_t)get_i64(step, "gasUsed");
                if ((out.status == VM_SUCCESS) != want_ok) {
                    printf("    status %s, anvil %s\n", vm_status_name(out.status),
                           want_ok ? "success" : "failure");
                    ok = false;
                }
                if (out.gas_used != want_gas) {
                    printf("    gas used %llu, anvil %llu\n", (unsigned long long)out.gas_used,
                           (unsigned long long)want_gas);
                    ok = false;
                }
                ok = output_equal(out.output, out.output_size, step) && ok;
                ok = logs_equal(w, json_object_get(step, "logs")) && ok;
                ok = roots_equal(w, json_object_get(step, "roots"), json_object_get(step, "storage")) &&
                     ok;
            }
            vm_tx_outcome_free(&out);
        }
        free(data.p);
        printf("%s step %zu %s\n", ok ? "ok  " : "FAIL", i, name ? name : "?");
        if (ok) passed++;
        else failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    json_decref(trace);
    vm_evm_free(evm);
    vm_world_free(w);
    return failed || passed == 0 ? 1 : 0;
}
