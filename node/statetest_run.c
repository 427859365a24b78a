/*
 * statetest_run.c — parses one state-test file (jansson) and runs its cases
 * on vm/'s in-memory world: build the pre state, apply the transaction,
 * compare the state root and the logs hash with the expected ones.
 *
 * Parsing is kept apart from running: a test is first decoded into plain
 * structs (struct st_test), and only then executed case by case, each on a
 * fresh world.
 */
#include "statetest.h"

#include "vm.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct st_account {
    vm_address addr;
    uint64_t nonce;
    vm_u256 balance;
    uint8_t *code;
    size_t code_len;
    struct vm_storage_slot *slots;
    size_t n_slots;
};

struct st_bytes {
    uint8_t *data;
    size_t len;
    bool ok; /* false: the value does not decode (the fixture's malformed-tx cases) */
};

struct st_access_list {
    bool present; /* null in the fixture: no access list for this data index */
    struct vm_access_entry *entries;
    size_t len;
    vm_bytes32 *keys; /* backing store of every entry's keys */
};

struct st_test {
    struct vm_block_env env;
    struct st_account *pre;
    size_t n_pre;
    /* the transaction template */
    uint8_t type;
    struct vm_transaction tx; /* fields shared by all cases */
    bool nonce_ok;
    struct st_bytes *data;
    size_t n_data;
    struct st_access_list *access;
    size_t n_access;
    uint64_t *gas;
    bool *gas_ok;
    size_t n_gas;
    vm_u256 *value;
    bool *value_ok;
    size_t n_value;
    vm_bytes32 *blob_hashes;
    size_t n_blob_hashes;
};

static void test_free(struct st_test *t)
{
    for (size_t i = 0; i < t->n_pre; i++) {
        free(t->pre[i].code);
        free(t->pre[i].slots);
    }
    free(t->pre);
    for (size_t i = 0; i < t->n_data; i++) free(t->data[i].data);
    free(t->data);
    for (size_t i = 0; i < t->n_access; i++) {
        free(t->access[i].entries);
        free(t->access[i].keys);
    }
    free(t->access);
    free(t->gas);
    free(t->gas_ok);
    free(t->value);
    free(t->value_ok);
    free(t->blob_hashes);
    memset(t, 0, sizeof *t);
}

/* ---------------------------------------------------------------------- */
/* Field decoding                                                          */

static bool get_u256(json_t *v, vm_u256 *out)
{
    const char *s = json_string_value(v);
    return s && vm_u256_parse(s, out) == VM_OK;
}

static bool get_u64(json_t *v, uint64_t *out)
{
    vm_u256 u;
    if (!get_u256(v, &u) || !vm_u256_fits_u64(u)) return false;
    *out = u.w[0];
    return true;
}

static bool get_i64(json_t *v, int64_t *out)
{
    uint64_t u;
    if (!get_u64(v, &u) || u > INT64_MAX) return false;
    *out = (int64_t)u;
    return true;
}

static bool get_address(json_t *v, vm_address *out)
{
    const char *s = json_string_value(v);
    size_t n;
    return s && vm_hex_decode(s, out->b, 20, &n) == VM_OK && n == 20;
}

static bool get_bytes32(json_t *v, vm_bytes32 *out)
{
    /* Left-pads shorter values (storage keys are written minimally). */
    vm_u256 u;
    if (!get_u256(v, &u)) return false;
    vm_u256_to_be(u, out->b);
    return true;
}

/* Hex bytes into a fresh buffer. */
static bool get_bytes(json_t *v, uint8_t **data, size_t *len)
{
    const char *s = json_string_value(v);
    if (!s) return false;
    size_t hex_len = strlen(s);
    size_t cap = hex_len / 2 + 1;
    uint8_t *buf = malloc(cap);
    if (!buf) return false;
    if (vm_hex_decode(s, buf, cap, len) != VM_OK) {
        free(buf);
        return false;
    }
    *data = buf;
    return true;
}

/* ---------------------------------------------------------------------- */
/* Test parsing                                                            */

static int parse_env(json_t *env, struct vm_block_env *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof *out);
    out->chain_id = vm_u256_from_u64(1);
    json_t *random = json_object_get(env, "currentRandom");
    if (!random) random = json_object_get(env, "currentDifficulty");
    json_t *base = json_object_get(env, "currentBaseFee");
    json_t *excess = json_object_get(env, "currentExcessBlobGas");
    if (!get_address(json_object_get(env, "currentCoinbase"), &out->coinbase) ||
        !get_i64(json_object_get(env, "currentNumber"), &out->number) ||
        !get_i64(json_object_get(env, "currentTimestamp"), &out->timestamp) ||
        !get_i64(json_object_get(env, "currentGasLimit"), &out->gas_limit) ||
        (random && !get_u256(random, &out->prevrandao)) ||
        (base && !get_u256(base, &out->base_fee)) ||
        (excess && !get_u64(excess, &out->excess_blob_gas))) {
        snprintf(why, why_len, "bad env");
        return -1;
    }
    return 0;
}

static int parse_pre(json_t *pre, struct st_test *t, char *why, size_t why_len)
{
    size_t n = json_object_size(pre);
    t->pre = calloc(n ? n : 1, sizeof *t->pre);
    if (!t->pre) return -1;
    const char *key;
    json_t *acc;
    json_object_foreach(pre, key, acc) {
        struct st_account *a = &t->pre[t->n_pre++];
        json_t *storage = json_object_get(acc, "storage");
        size_t hex_n;
        if (vm_hex_decode(key, a->addr.b, 20, &hex_n) != VM_OK || hex_n != 20 ||
            !get_u64(json_object_get(acc, "nonce"), &a->nonce) ||
            !get_u256(json_object_get(acc, "balance"), &a->balance) ||
            !get_bytes(json_object_get(acc, "code"), &a->code, &a->code_len) ||
            (storage && !json_is_object(storage))) {
            snprintf(why, why_len, "bad pre account %s", key);
            return -1;
        }
        size_t ns = storage ? json_object_size(storage) : 0;
        a->slots = calloc(ns ? ns : 1, sizeof *a->slots);
        if (!a->slots) return -1;
        const char *skey;
        json_t *sval;
        if (storage) {
            json_object_foreach(storage, skey, sval) {
                struct vm_storage_slot *s = &a->slots[a->n_slots++];
                if (vm_u256_parse(skey, &s->key) != VM_OK || !get_u256(sval, &s->value)) {
                    snprintf(why, why_len, "bad storage of %s", key);
                    return -1;
                }
            }
        }
    }
    return 0;
}

static int parse_access_list(json_t *list, struct st_access_list *out)
{
    memset(out, 0, sizeof *out);
    if (!list || json_is_null(list)) return 0;
    if (!json_is_array(list)) return 1;
    out->present = true;
    size_t n = json_array_size(list), total = 0;
    for (size_t i = 0; i < n; i++)
        total += json_array_size(json_object_get(json_array_get(list, i), "storageKeys"));
    out->entries = calloc(n ? n : 1, sizeof *out->entries);
    out->keys = calloc(total ? total : 1, sizeof *out->keys);
    if (!out->entries || !out->keys) return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(list, i);
        json_t *keys = json_object_get(e, "storageKeys");
        struct vm_access_entry *ae = &out->entries[out->len++];
        if (!get_address(json_object_get(e, "address"), &ae->address)) return 1;
        ae->keys = out->keys + k;
        for (size_t j = 0; j < json_array_size(keys); j++) {
            if (!get_bytes32(json_array_get(keys, j), &out->keys[k])) return 1;
            k++;
            ae->n_keys++;
        }
    }
    return 0;
}

static int parse_tx(json_t *tx, struct st_test *t, char *why, size_t why_len)
{
    struct vm_transaction *x = &t->tx;
    json_t *max_fee = json_object_get(tx, "maxFeePerGas");
    json_t *blobs = json_object_get(tx, "blobVersionedHashes");
    json_t *access = json_object_get(tx, "accessLists");
    json_t *to = json_object_get(tx, "to");
    const char *to_s = json_string_value(to);
    bool ok = get_address(json_object_get(tx, "sender"), &x->sender) && to_s;
    t->nonce_ok = get_u64(json_object_get(tx, "nonce"), &x->nonce);
    if (max_fee) {
        t->type = blobs ? 3 : 2;
        ok = ok && get_u256(max_fee, &x->max_fee) &&
             get_u256(json_object_get(tx, "maxPriorityFeePerGas"), &x->max_priority_fee);
    } else {
        t->type = access ? 1 : 0;
        ok = ok && get_u256(json_object_get(tx, "gasPrice"), &x->gas_price);
    }
    if (ok && blobs) {
        ok = get_u256(json_object_get(tx, "maxFeePerBlobGas"), &x->max_fee_per_blob_gas) &&
             json_is_array(blobs);
        size_t n = json_array_size(blobs);
        t->blob_hashes = calloc(n ? n : 1, sizeof *t->blob_hashes);
        if (!t->blob_hashes) return -1;
        for (size_t i = 0; ok && i < n; i++)
            ok = get_bytes32(json_array_get(blobs, i), &t->blob_hashes[t->n_blob_hashes++]);
    }
    if (ok) {
        x->is_create = to_s[0] == 0;
        ok = x->is_create || get_address(to, &x->to);
    }
    json_t *data = json_object_get(tx, "data"), *gas = json_object_get(tx, "gasLimit"),
           *value = json_object_get(tx, "value");
    if (!ok || !json_is_array(data) || !json_is_array(gas) || !json_is_array(value) ||
        (access && !json_is_array(access))) {
        snprintf(why, why_len, "bad transaction");
        return -1;
    }
    t->n_data = json_array_size(data);
    t->n_gas = json_array_size(gas);
    t->n_value = json_array_size(value);
    t->n_access = access ? json_array_size(access) : 0;
    t->data = calloc(t->n_data + 1, sizeof *t->data);
    t->gas = calloc(t->n_gas + 1, sizeof *t->gas);
    t->gas_ok = calloc(t->n_gas + 1, sizeof *t->gas_ok);
    t->value = calloc(t->n_value + 1, sizeof *t->value);
    t->value_ok = calloc(t->n_value + 1, sizeof *t->value_ok);
    t->access = calloc(t->n_access + 1, sizeof *t->access);
    if (!t->data || !t->gas || !t->gas_ok || !t->value || !t->value_ok || !t->access) return -1;
    for (size_t i = 0; i < t->n_data; i++)
        t->data[i].ok = get_bytes(json_array_get(data, i), &t->data[i].data, &t->data[i].len);
    for (size_t i = 0; i < t->n_gas; i++) t->gas_ok[i] = get_u64(json_array_get(gas, i), &t->gas[i]);
    for (size_t i = 0; i < t->n_value; i++)
        t->value_ok[i] = get_u256(json_array_get(value, i), &t->value[i]);
    for (size_t i = 0; i < t->n_access; i++) {
        int rc = parse_access_list(json_array_get(access, i), &t->access[i]);
        if (rc < 0) return -1;
        if (rc > 0) {
            snprintf(why, why_len, "bad access list %zu", i);
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Running one case                                                        */

/* BLOCKHASH in state tests (geth's vmTestBlockHash): keccak of the block
 * number's decimal text, for the 256 blocks before the current one. */
struct block_hashes {
    int64_t current;
};

static vm_bytes32 test_block_hash(void *arg, int64_t number)
{
    const struct block_hashes *b = arg;
    vm_bytes32 h = {{0}};
    if (number < 0 || number >= b->current || b->current - number > 256) return h;
    char text[24];
    int n = snprintf(text, sizeof text, "%lld", (long long)number);
    vm_keccak256((const uint8_t *)text, (size_t)n, h.b);
    return h;
}

static int build_world(const struct st_test *t, struct vm_world **out)
{
    struct vm_world *w;
    int err = vm_world_new(&w);
    if (err) return err;
    for (size_t i = 0; !err && i < t->n_pre; i++) {
        const struct st_account *a = &t->pre[i];
        err = vm_world_set_account(w, &a->addr, a->nonce, a->balance, a->code, a->code_len);
        for (size_t s = 0; !err && s < a->n_slots; s++)
            if (!vm_u256_is_zero(a->slots[s].value))
                err = vm_world_set_storage(w, &a->addr, a->slots[s].key, a->slots[s].value);
    }
    if (err) {
        vm_world_free(w);
        return err;
    }
    *out = w;
    return VM_OK;
}

enum case_result { CASE_PASS, CASE_FAIL, CASE_SKIP, CASE_NOMEM };

static void hex32(const uint8_t h[32], char out[67])
{
    vm_hex_encode(h, 32, out);
}

static enum case_result run_case(const struct st_test *t, struct vm_evm *evm, json_t *post,
                                 int di, int gi, int vi, char *what, size_t what_len)
{
    vm_bytes32 want_root, want_logs;
    json_t *expect = json_object_get(post, "expectException");
    if (!get_bytes32(json_object_get(post, "hash"), &want_root) ||
        !get_bytes32(json_object_get(post, "logs"), &want_logs)) {
        snprintf(what, what_len, "bad post entry");
        return CASE_FAIL;
    }
    if (di < 0 || gi < 0 || vi < 0 || (size_t)di >= t->n_data || (size_t)gi >= t->n_gas ||
        (size_t)vi >= t->n_value) {
        snprintf(what, what_len, "indexes out of range");
        return CASE_FAIL;
    }
    struct vm_transaction tx = t->tx;
    tx.type = t->type;
    tx.data = t->data[di].data;
    tx.data_len = t->data[di].len;
    tx.gas_limit = t->gas[gi];
    tx.value = t->value[vi];
    tx.blob_hashes = t->blob_hashes;
    tx.blob_hashes_count = t->n_blob_hashes;
    if ((size_t)di < t->n_access && t->access[di].present) {
        tx.access_list = t->access[di].entries;
        tx.access_list_len = t->access[di].len;
    } else if (tx.type == 1) {
        tx.type = 0;
    }
    /* A field that does not even decode (e.g. a value above 2^256) makes
     * the transaction malformed: it is rejected like any invalid one. */
    bool malformed = !t->nonce_ok || !t->data[di].ok || !t->gas_ok[gi] || !t->value_ok[vi];

    struct vm_world *w;
    if (build_world(t, &w)) return CASE_NOMEM;
    struct block_hashes bh = {t->env.number};
    vm_world_set_block_hashes(w, test_block_hash, &bh);
    struct vm_tx_outcome out;
    memset(&out, 0, sizeof out);
    if (!malformed && vm_transaction_apply(evm, w, &t->env, &tx, &out)) {
        vm_world_free(w);
        return CASE_NOMEM;
    }
    bool rejected = malformed || out.invalid != VM_TX_VALID;
    if (!rejected && out.status == VM_UNSUPPORTED) {
        vm_tx_outcome_free(&out);
        vm_world_free(w);
        return CASE_SKIP;
    }
    uint8_t root[32], logs[32];
    int err = vm_world_state_root(w, root);
    if (!err) {
        if (rejected) {
            static const uint8_t empty_list = 0xc0;
            vm_keccak256(&empty_list, 1, logs);
        } else {
            err = vm_world_logs_hash(w, logs);
        }
    }
    vm_world_free(w);
    if (err) {
        vm_tx_outcome_free(&out);
        return CASE_NOMEM;
    }

    enum case_result r = CASE_PASS;
    size_t used = 0;
    what[0] = 0;
#define WHAT(...)                                                                        \
    do {                                                                                 \
        if (used < what_len) {                                                           \
            int k_ = snprintf(what + used, what_len - used, __VA_ARGS__);                \
            if (k_ > 0) used += (size_t)k_;                                              \
        }                                                                                \
    } while (0)
    char a[67], b[67];
    if (memcmp(root, want_root.b, 32) != 0) {
        hex32(want_root.b, a);
        hex32(root, b);
        WHAT("state root: expected %s, got %s; ", a, b);
        r = CASE_FAIL;
    }
    if (memcmp(logs, want_logs.b, 32) != 0) {
        hex32(want_logs.b, a);
        hex32(logs, b);
        WHAT("logs hash: expected %s, got %s; ", a, b);
        r = CASE_FAIL;
    }
    if (expect && !rejected) {
        WHAT("expected exception %s, but the transaction was valid (status %s, gas used "
             "%llu); ",
             json_string_value(expect), vm_status_name(out.status),
             (unsigned long long)out.gas_used);
        r = CASE_FAIL;
    } else if (!expect && rejected) {
        WHAT("transaction rejected: %s; ",
             malformed ? "malformed field" : vm_tx_invalid_name(out.invalid));
        r = CASE_FAIL;
    } else if (r == CASE_FAIL && !rejected) {
        WHAT("status %s, gas used %llu", vm_status_name(out.status),
             (unsigned long long)out.gas_used);
    }
#undef WHAT
    vm_tx_outcome_free(&out);
    return r;
}

/* ---------------------------------------------------------------------- */

static int add_failure(struct statetest_failures *f, const char *file, const char *test, int d,
                       int g, int v, const char *what)
{
    if (!f) return 0;
    if (f->len == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        struct statetest_failure *p = realloc(f->items, cap * sizeof *p);
        if (!p) return -1;
        f->items = p;
        f->cap = cap;
    }
    struct statetest_failure *x = &f->items[f->len++];
    snprintf(x->file, sizeof x->file, "%s", file);
    snprintf(x->test, sizeof x->test, "%s", test);
    x->data = d;
    x->gas = g;
    x->value = v;
    snprintf(x->what, sizeof x->what, "%s", what);
    return 0;
}

static int report_failure(const struct statetest_options *opt, struct statetest_counts *counts,
                          struct statetest_failures *failures, const char *path,
                          const char *name, int d, int g, int v, const char *what)
{
    counts->failed++;
    if (opt->report)
        fprintf(opt->report, "FAIL %s: %s [data %d, gas %d, value %d]: %s\n", path, name, d, g,
                v, what);
    return add_failure(failures, path, name, d, g, v, what);
}

static int index_of(json_t *indexes, const char *key)
{
    json_t *v = json_object_get(indexes, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < 1000000
               ? (int)json_integer_value(v)
               : -1;
}

int statetest_run_file(const char *path, const struct statetest_options *opt,
                       struct statetest_counts *counts, struct statetest_failures *failures)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root || !json_is_object(root)) {
        char what[300];
        snprintf(what, sizeof what, "cannot parse: %s (line %d)", jerr.text, jerr.line);
        json_decref(root);
        return report_failure(opt, counts, failures, path, "-", -1, -1, -1, what);
    }
    struct vm_evm *evm = NULL;
    if (vm_evm_new(&evm)) {
        json_decref(root);
        return -1;
    }
    const char *fork = opt->fork ? opt->fork : "Cancun";
    int rc = 0;
    const char *name;
    json_t *test;
    json_object_foreach(root, name, test) {
        if (opt->filter && !strstr(name, opt->filter)) continue;
        json_t *cases = json_object_get(json_object_get(test, "post"), fork);
        if (!json_is_array(cases) || json_array_size(cases) == 0) continue;
        struct st_test t;
        memset(&t, 0, sizeof t);
        char why[256] = "out of memory";
        if (parse_env(json_object_get(test, "env"), &t.env, why, sizeof why) ||
            parse_pre(json_object_get(test, "pre"), &t, why, sizeof why) ||
            parse_tx(json_object_get(test, "transaction"), &t, why, sizeof why)) {
            test_free(&t);
            rc = report_failure(opt, counts, failures, path, name, -1, -1, -1, why);
            if (rc) break;
            continue;
        }
        size_t i;
        json_t *post;
        json_array_foreach(cases, i, post) {
            json_t *idx = json_object_get(post, "indexes");
            int d = index_of(idx, "data"), g = index_of(idx, "gas"), v = index_of(idx, "value");
            char what[700];
            enum case_result r = run_case(&t, evm, post, d, g, v, what, sizeof what);
            if (r == CASE_NOMEM) {
                rc = -1;
                break;
            }
            if (r == CASE_PASS) counts->passed++;
            if (r == CASE_SKIP) counts->skipped++;
            if (r == CASE_FAIL && (rc = report_failure(opt, counts, failures, path, name, d, g, v,
                                                       what)))
                break;
        }
        test_free(&t);
        if (rc) break;
    }
    vm_evm_free(evm);
    json_decref(root);
    return rc;
}
