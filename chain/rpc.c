/*
 * rpc.c — the JSON-RPC client: one struct chain_client per endpoint, a
 * libcurl easy handle reused across calls (keep-alive), jansson for JSON.
 *
 * Every way a call can fail maps to its own error code so that the caller can
 * decide what to retry: the node is down (CONNECT), slow (TIMEOUT), answers
 * with a non-200 status (HTTP), with a JSON-RPC error object (RPC: code,
 * message and revert data are kept), with something that is not a JSON-RPC
 * response (BAD_JSON), or with more bytes than we are willing to hold
 * (TOO_LARGE: the body is cut off while it arrives, never buffered whole).
 */
#include "internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_TIMEOUT_MS 10000L
#define DEFAULT_CONNECT_TIMEOUT_MS 3000L
#define DEFAULT_MAX_RESPONSE ((size_t)16 << 20)

struct chain_client {
    char *url;
    CURL *curl;
    struct curl_slist *headers;
    struct chain_client_opts opts;
    uint64_t next_id;
    char curl_errbuf[CURL_ERROR_SIZE];

    /* The body being received; capped at opts.max_response. */
    struct vm_buf body;
    bool body_too_large;
    bool body_nomem;

    /* Last-error details. */
    long http_status;
    char *rpc_message;
    struct vm_buf rpc_data;
    struct chain_rpc_error rpc_error;
};

const char *chain_strerror(int err)
{
    switch (err) {
    case CHAIN_OK:
        return "ok";
    case CHAIN_ERR_INVALID:
        return "invalid argument";
    case CHAIN_ERR_NOMEM:
        return "out of memory";
    case CHAIN_ERR_CONNECT:
        return "cannot connect to the RPC node";
    case CHAIN_ERR_TIMEOUT:
        return "RPC request timed out";
    case CHAIN_ERR_HTTP:
        return "RPC node answered with an HTTP error status";
    case CHAIN_ERR_RPC:
        return "RPC node returned a JSON-RPC error";
    case CHAIN_ERR_BAD_JSON:
        return "malformed JSON-RPC response";
    case CHAIN_ERR_TOO_LARGE:
        return "RPC response too large";
    case CHAIN_ERR_WRONG_CHAIN:
        return "RPC node is on the wrong chain (chain id mismatch)";
    case CHAIN_ERR_TRANSPORT:
        return "RPC transport error";
    case CHAIN_ERR_ABI:
        return "ABI encoding/decoding error";
    case CHAIN_ERR_NOT_FOUND:
        return "not found (yet)";
    case CHAIN_ERR_REVERTED:
        return "transaction reverted";
    case CHAIN_ERR_TX_TIMEOUT:
        return "transaction not confirmed in time";
    case CHAIN_ERR_KEY:
        return "invalid private key";
    case CHAIN_ERR_CRYPTO:
        return "signing or encoding failed";
    case CHAIN_ERR_EVENT:
        return "not a well-formed adjudicator event";
    default:
        return "unknown chain error";
    }
}

/* ---------------------------------------------------------------- time */

int64_t chain_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void chain_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---------------------------------------------------------------- hex/JSON */

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* A quantity: "0x" then 1..max_digits hex digits. Leading zeros are
 * tolerated (some nodes send them for storage keys), but the digit count is
 * bounded so that a hostile value cannot overflow. */
static int parse_quantity(const json_t *v, uint8_t out_be[32], size_t max_digits)
{
    if (!json_is_string(v)) return CHAIN_ERR_BAD_JSON;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return CHAIN_ERR_BAD_JSON;
    s += 2;
    n -= 2;
    while (n > 1 && *s == '0') {
        s++;
        n--;
    }
    if (n > max_digits) return CHAIN_ERR_BAD_JSON;
    memset(out_be, 0, 32);
    for (size_t i = 0; i < n; i++) {
        int d = hex_digit(s[n - 1 - i]);
        if (d < 0) return CHAIN_ERR_BAD_JSON;
        out_be[31 - i / 2] |= (uint8_t)(d << (4 * (i % 2)));
    }
    return CHAIN_OK;
}

int chain_json_u64(const json_t *v, uint64_t *out)
{
    uint8_t be[32];
    int rc = parse_quantity(v, be, 16);
    if (rc) return rc;
    uint64_t x = 0;
    for (int i = 24; i < 32; i++)
        x = (x << 8) | be[i];
    *out = x;
    return CHAIN_OK;
}

int chain_json_u256(const json_t *v, vm_u256 *out)
{
    uint8_t be[32];
    int rc = parse_quantity(v, be, 64);
    if (rc) return rc;
    *out = vm_u256_from_be(be, 32);
    return CHAIN_OK;
}

int chain_json_fixed(const json_t *v, uint8_t *out, size_t n)
{
    if (!json_is_string(v)) return CHAIN_ERR_BAD_JSON;
    size_t len = json_string_length(v);
    if (len != 2 + 2 * n) return CHAIN_ERR_BAD_JSON;
    size_t got;
    if (vm_hex_decode_n(json_string_value(v), len, out, n, &got) != VM_OK || got != n)
        return CHAIN_ERR_BAD_JSON;
    return CHAIN_OK;
}

int chain_json_data(const json_t *v, struct vm_buf *out)
{
    if (!json_is_string(v)) return CHAIN_ERR_BAD_JSON;
    size_t len = json_string_length(v);
    const char *s = json_string_value(v);
    if (len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || len % 2)
        return CHAIN_ERR_BAD_JSON;
    size_t n = (len - 2) / 2;
    if (n == 0) return CHAIN_OK;
    if (vm_buf_reserve(out, n) != VM_OK) return CHAIN_ERR_NOMEM;
    size_t got;
    if (vm_hex_decode_n(s, len, out->data + out->len, n, &got) != VM_OK || got != n)
        return CHAIN_ERR_BAD_JSON;
    out->len += n;
    return CHAIN_OK;
}

json_t *chain_json_quantity_u64(uint64_t v)
{
    char text[24];
    snprintf(text, sizeof text, "0x%llx", (unsigned long long)v);
    return json_string(text);
}

json_t *chain_json_quantity_u256(vm_u256 v)
{
    uint8_t be[32];
    vm_u256_to_be(v, be);
    char text[67] = "0x";
    size_t pos = 2;
    static const char digits[] = "0123456789abcdef";
    bool started = false;
    for (int i = 0; i < 64; i++) {
        int d = (be[i / 2] >> (i % 2 ? 0 : 4)) & 0xf;
        if (!started && d == 0 && i != 63) continue;
        started = true;
        text[pos++] = digits[d];
    }
    text[pos] = 0;
    return json_string(text);
}

json_t *chain_json_hex(const uint8_t *data, size_t len)
{
    if (len > (SIZE_MAX - 3) / 2) return NULL;
    char *text = malloc(2 * len + 3);
    if (!text) return NULL;
    vm_hex_encode(data, len, text);
    json_t *s = json_stringn_nocheck(text, 2 * len + 2);
    free(text);
    return s;
}

json_t *chain_json_block(uint64_t block)
{
    if (block == CHAIN_BLOCK_LATEST) return json_string("latest");
    if (block == CHAIN_BLOCK_PENDING) return json_string("pending");
    return chain_json_quantity_u64(block);
}

/* ---------------------------------------------------------------- client */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct chain_client *c = userdata;
    size_t n = size * nmemb;
    if (n > c->opts.max_response || c->body.len > c->opts.max_response - n) {
        c->body_too_large = true;
        return 0; /* makes libcurl abort the transfer with CURLE_WRITE_ERROR */
    }
    if (vm_buf_append(&c->body, ptr, n) != VM_OK) {
        c->body_nomem = true;
        return 0;
    }
    return n;
}

int chain_client_new(const char *url, const struct chain_client_opts *opts,
                     struct chain_client **out)
{
    *out = NULL;
    if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
        return CHAIN_ERR_INVALID;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return CHAIN_ERR_NOMEM;
    struct chain_client *c = calloc(1, sizeof *c);
    if (!c) {
        curl_global_cleanup();
        return CHAIN_ERR_NOMEM;
    }
    if (opts) c->opts = *opts;
    if (c->opts.timeout_ms <= 0) c->opts.timeout_ms = DEFAULT_TIMEOUT_MS;
    if (c->opts.connect_timeout_ms <= 0) c->opts.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    if (c->opts.max_response == 0) c->opts.max_response = DEFAULT_MAX_RESPONSE;
    c->next_id = 1;
    c->url = strdup(url);
    c->curl = curl_easy_init();
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    c->rpc_message = strdup("");
    if (!c->url || !c->curl || !c->headers || !c->rpc_message) {
        chain_client_free(c);
        return CHAIN_ERR_NOMEM;
    }
    CURL *h = c->curl;
    /* Options that never change between calls. Redirects are not followed and
     * only http(s) is allowed, so an endpoint cannot bounce us elsewhere. */
    if (curl_easy_setopt(h, CURLOPT_URL, c->url) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_POST, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->opts.timeout_ms) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEDATA, c) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_errbuf) != CURLE_OK) {
        chain_client_free(c);
        return CHAIN_ERR_NOMEM;
    }
    c->rpc_error.message = c->rpc_message;
    *out = c;
    return CHAIN_OK;
}

void chain_client_free(struct chain_client *c)
{
    if (!c) return;
    if (c->curl) curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    free(c->url);
    free(c->rpc_message);
    vm_buf_free(&c->rpc_data);
    vm_buf_free(&c->body);
    free(c);
    curl_global_cleanup();
}

const struct chain_rpc_error *chain_client_rpc_error(const struct chain_client *c)
{
    return &c->rpc_error;
}

long chain_client_http_status(const struct chain_client *c)
{
    return c->http_status;
}

static void clear_rpc_error(struct chain_client *c)
{
    c->rpc_error.code = 0;
    c->rpc_message[0] = 0;
    c->rpc_error.message = c->rpc_message;
    c->rpc_data.len = 0;
    c->rpc_error.data = NULL;
    c->rpc_error.data_len = 0;
}

/* Keeps code, message and (hex) data of a JSON-RPC error object. */
static int keep_rpc_error(struct chain_client *c, const json_t *err)
{
    json_t *code = json_object_get(err, "code");
    json_t *msg = json_object_get(err, "message");
    if (!json_is_integer(code)) return CHAIN_ERR_BAD_JSON;
    c->rpc_error.code = json_integer_value(code);
    const char *text = json_is_string(msg) ? json_string_value(msg) : "";
    char *copy = strdup(text);
    if (!copy) return CHAIN_ERR_NOMEM;
    free(c->rpc_message);
    c->rpc_message = copy;
    c->rpc_error.message = copy;
    json_t *data = json_object_get(err, "data");
    /* Revert data is a hex string in geth and anvil; some nodes nest it as
     * {"data": "0x.."}. Anything else is ignored (the message still says it). */
    if (json_is_object(data)) data = json_object_get(data, "data");
    c->rpc_data.len = 0;
    if (data && chain_json_data(data, &c->rpc_data) == CHAIN_OK && c->rpc_data.len > 0) {
        c->rpc_error.data = c->rpc_data.data;
        c->rpc_error.data_len = c->rpc_data.len;
    } else {
        c->rpc_data.len = 0;
    }
    return CHAIN_ERR_RPC;
}

static int map_curl(struct chain_client *c, CURLcode code)
{
    switch (code) {
    case CURLE_OK:
        return CHAIN_OK;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return CHAIN_ERR_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return CHAIN_ERR_TIMEOUT;
    case CURLE_WRITE_ERROR:
        if (c->body_too_large) return CHAIN_ERR_TOO_LARGE;
        if (c->body_nomem) return CHAIN_ERR_NOMEM;
        return CHAIN_ERR_TRANSPORT;
    case CURLE_FILESIZE_EXCEEDED:
        return CHAIN_ERR_TOO_LARGE;
    case CURLE_OUT_OF_MEMORY:
        return CHAIN_ERR_NOMEM;
    default:
        return CHAIN_ERR_TRANSPORT;
    }
}

int chain_rpc_json(struct chain_client *c, const char *method, json_t *params, json_t **result)
{
    *result = NULL;
    clear_rpc_error(c);
    c->http_status = 0;
    if (!params) return CHAIN_ERR_NOMEM;
    uint64_t id = c->next_id++;
    json_t *req = json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id", (json_int_t)id,
                            "method", method, "params", params);
    if (!req) return CHAIN_ERR_NOMEM;
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!text) return CHAIN_ERR_NOMEM;

    c->body.len = 0;
    c->body_too_large = false;
    c->body_nomem = false;
    c->curl_errbuf[0] = 0;
    CURLcode cc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, text);
    if (cc == CURLE_OK)
        cc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
    if (cc == CURLE_OK) cc = curl_easy_perform(c->curl);
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->http_status);
    /* libcurl keeps a pointer to the POST body; drop it before freeing. */
    (void)curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
    free(text);
    int rc = map_curl(c, cc);
    if (rc) return rc;
    if (c->http_status != 200) return CHAIN_ERR_HTTP;

    json_error_t jerr;
    json_t *resp =
        json_loadb((const char *)c->body.data, c->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!resp) return CHAIN_ERR_BAD_JSON;
    rc = CHAIN_ERR_BAD_JSON;
    json_t *rid = json_object_get(resp, "id");
    if (!json_is_object(resp) || !json_is_integer(rid) || (uint64_t)json_integer_value(rid) != id)
        goto out;
    json_t *err = json_object_get(resp, "error");
    if (err && !json_is_null(err)) {
        rc = json_is_object(err) ? keep_rpc_error(c, err) : CHAIN_ERR_BAD_JSON;
        goto out;
    }
    json_t *res = json_object_get(resp, "result");
    if (!res) goto out;
    *result = json_incref(res);
    rc = CHAIN_OK;
out:
    json_decref(resp);
    return rc;
}

int chain_rpc(struct chain_client *c, const char *method, const char *params_json,
              char **result_json)
{
    if (result_json) *result_json = NULL;
    json_t *params;
    if (params_json) {
        json_error_t jerr;
        params = json_loads(params_json, 0, &jerr);
        if (!params || !json_is_array(params)) {
            json_decref(params);
            return CHAIN_ERR_INVALID;
        }
    } else {
        params = json_array();
    }
    json_t *res;
    int rc = chain_rpc_json(c, method, params, &res);
    if (rc) return rc;
    if (result_json) {
        *result_json = json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!*result_json) rc = CHAIN_ERR_NOMEM;
    }
    json_decref(res);
    return rc;
}

/* ---------------------------------------------------------------- typed calls */

/* Runs method(params) and parses the result with parse(result, out). */
static int call_u64(struct chain_client *c, const char *method, json_t *params, uint64_t *out)
{
    json_t *res;
    int rc = chain_rpc_json(c, method, params, &res);
    if (rc) return rc;
    rc = chain_json_u64(res, out);
    json_decref(res);
    return rc;
}

static int call_u256(struct chain_client *c, const char *method, json_t *params, vm_u256 *out)
{
    json_t *res;
    int rc = chain_rpc_json(c, method, params, &res);
    if (rc) return rc;
    rc = chain_json_u256(res, out);
    json_decref(res);
    return rc;
}

static json_t *addr_json(const vm_address *a)
{
    return chain_json_hex(a->b, 20);
}

int chain_chain_id(struct chain_client *c, uint64_t *out)
{
    return call_u64(c, "eth_chainId", json_array(), out);
}

uint64_t chain_client_expected_chain_id(const struct chain_client *c)
{
    return c->opts.expected_chain_id;
}

int chain_check_chain_id(struct chain_client *c)
{
    uint64_t id;
    int rc = chain_chain_id(c, &id);
    if (rc) return rc;
    if (c->opts.expected_chain_id && id != c->opts.expected_chain_id) return CHAIN_ERR_WRONG_CHAIN;
    return CHAIN_OK;
}

int chain_block_number(struct chain_client *c, uint64_t *out)
{
    return call_u64(c, "eth_blockNumber", json_array(), out);
}

int chain_get_balance(struct chain_client *c, const vm_address *addr, uint64_t block, vm_u256 *out)
{
    return call_u256(c, "eth_getBalance",
                     json_pack("[o,o]", addr_json(addr), chain_json_block(block)), out);
}

int chain_get_nonce(struct chain_client *c, const vm_address *addr, uint64_t block, uint64_t *out)
{
    return call_u64(c, "eth_getTransactionCount",
                    json_pack("[o,o]", addr_json(addr), chain_json_block(block)), out);
}

int chain_get_code(struct chain_client *c, const vm_address *addr, uint64_t block,
                   struct vm_buf *code)
{
    json_t *res;
    int rc = chain_rpc_json(c, "eth_getCode",
                            json_pack("[o,o]", addr_json(addr), chain_json_block(block)), &res);
    if (rc) return rc;
    rc = chain_json_data(res, code);
    json_decref(res);
    return rc;
}

static json_t *call_object(const struct chain_call *call)
{
    json_t *o = json_object();
    if (!o) return NULL;
    int bad = 0;
    if (call->from) bad |= json_object_set_new(o, "from", addr_json(call->from));
    if (call->to) bad |= json_object_set_new(o, "to", addr_json(call->to));
    if (!vm_u256_is_zero(call->value))
        bad |= json_object_set_new(o, "value", chain_json_quantity_u256(call->value));
    if (call->gas) bad |= json_object_set_new(o, "gas", chain_json_quantity_u64(call->gas));
    bad |= json_object_set_new(o, "data", chain_json_hex(call->data, call->data_len));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int chain_eth_call(struct chain_client *c, const struct chain_call *call, uint64_t block,
                   struct vm_buf *output)
{
    json_t *res;
    int rc = chain_rpc_json(c, "eth_call",
                            json_pack("[o,o]", call_object(call), chain_json_block(block)), &res);
    if (rc) return rc;
    rc = chain_json_data(res, output);
    json_decref(res);
    return rc;
}

int chain_estimate_gas(struct chain_client *c, const struct chain_call *call, uint64_t *gas)
{
    return call_u64(c, "eth_estimateGas", json_pack("[o]", call_object(call)), gas);
}

int chain_max_priority_fee(struct chain_client *c, vm_u256 *out)
{
    return call_u256(c, "eth_maxPriorityFeePerGas", json_array(), out);
}

static int cmp_u256(const void *a, const void *b)
{
    return vm_u256_cmp(*(const vm_u256 *)a, *(const vm_u256 *)b);
}

int chain_fee_history(struct chain_client *c, unsigned blocks, double percentile,
                      vm_u256 *next_base_fee, vm_u256 *median_reward)
{
    if (blocks == 0 || blocks > 1024 || !(percentile >= 0 && percentile <= 100))
        return CHAIN_ERR_INVALID;
    json_t *res;
    int rc = chain_rpc_json(
        c, "eth_feeHistory",
        json_pack("[o,s,[f]]", chain_json_quantity_u64(blocks), "latest", percentile), &res);
    if (rc) return rc;
    rc = CHAIN_ERR_BAD_JSON;
    vm_u256 *rewards = NULL;
    json_t *base = json_object_get(res, "baseFeePerGas");
    if (!json_is_array(base) || json_array_size(base) == 0) goto out;
    if ((rc = chain_json_u256(json_array_get(base, json_array_size(base) - 1), next_base_fee)))
        goto out;
    *median_reward = vm_u256_from_u64(0);
    json_t *reward = json_object_get(res, "reward");
    size_t n = json_is_array(reward) ? json_array_size(reward) : 0;
    if (n > 1024) {
        rc = CHAIN_ERR_BAD_JSON;
        goto out;
    }
    if (n > 0) {
        rewards = calloc(n, sizeof *rewards);
        if (!rewards) {
            rc = CHAIN_ERR_NOMEM;
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            json_t *row = json_array_get(reward, i);
            rc = CHAIN_ERR_BAD_JSON;
            if (!json_is_array(row) || json_array_size(row) != 1) goto out;
            if ((rc = chain_json_u256(json_array_get(row, 0), &rewards[i]))) goto out;
        }
        qsort(rewards, n, sizeof *rewards, cmp_u256);
        *median_reward = rewards[n / 2];
    }
    rc = CHAIN_OK;
out:
    free(rewards);
    json_decref(res);
    return rc;
}

int chain_send_raw(struct chain_client *c, const uint8_t *raw, size_t len, vm_bytes32 *hash)
{
    json_t *res;
    int rc = chain_rpc_json(c, "eth_sendRawTransaction", json_pack("[o]", chain_json_hex(raw, len)),
                            &res);
    if (rc) return rc;
    vm_bytes32 h;
    rc = chain_json_fixed(res, h.b, 32);
    if (!rc && hash) *hash = h;
    json_decref(res);
    return rc;
}

/* ---------------------------------------------------------------- logs */

void chain_logs_free(struct chain_logs *logs)
{
    if (!logs) return;
    for (size_t i = 0; i < logs->n; i++)
        free(logs->items[i].data);
    free(logs->items);
    logs->items = NULL;
    logs->n = 0;
}

int chain_json_log(const json_t *v, struct chain_log *log)
{
    memset(log, 0, sizeof *log);
    if (!json_is_object(v)) return CHAIN_ERR_BAD_JSON;
    int rc;
    if ((rc = chain_json_fixed(json_object_get(v, "address"), log->address.b, 20))) return rc;
    json_t *topics = json_object_get(v, "topics");
    if (!json_is_array(topics) || json_array_size(topics) > 4) return CHAIN_ERR_BAD_JSON;
    log->n_topics = json_array_size(topics);
    for (size_t i = 0; i < log->n_topics; i++)
        if ((rc = chain_json_fixed(json_array_get(topics, i), log->topics[i].b, 32))) return rc;
    /* Pending logs have null block fields; they are reported as block 0. */
    json_t *bn = json_object_get(v, "blockNumber");
    if (bn && !json_is_null(bn) && (rc = chain_json_u64(bn, &log->block_number))) return rc;
    json_t *bh = json_object_get(v, "blockHash");
    if (bh && !json_is_null(bh) && (rc = chain_json_fixed(bh, log->block_hash.b, 32))) return rc;
    json_t *th = json_object_get(v, "transactionHash");
    if (th && !json_is_null(th) && (rc = chain_json_fixed(th, log->tx_hash.b, 32))) return rc;
    json_t *li = json_object_get(v, "logIndex");
    if (li && !json_is_null(li) && (rc = chain_json_u64(li, &log->log_index))) return rc;
    log->removed = json_is_true(json_object_get(v, "removed"));
    struct vm_buf data = {0};
    if ((rc = chain_json_data(json_object_get(v, "data"), &data))) {
        vm_buf_free(&data);
        return rc;
    }
    log->data = data.data;
    log->data_len = data.len;
    return CHAIN_OK;
}

static int parse_logs(const json_t *arr, struct chain_logs *logs)
{
    if (!json_is_array(arr)) return CHAIN_ERR_BAD_JSON;
    size_t n = json_array_size(arr);
    if (n == 0) return CHAIN_OK;
    if (n > SIZE_MAX / sizeof(struct chain_log) - logs->n) return CHAIN_ERR_NOMEM;
    struct chain_log *items = realloc(logs->items, (logs->n + n) * sizeof *items);
    if (!items) return CHAIN_ERR_NOMEM;
    logs->items = items;
    for (size_t i = 0; i < n; i++) {
        int rc = chain_json_log(json_array_get(arr, i), &logs->items[logs->n]);
        if (rc) return rc;
        logs->n++;
    }
    return CHAIN_OK;
}

int chain_get_logs(struct chain_client *c, const struct chain_log_filter *f, uint64_t from,
                   uint64_t to, struct chain_logs *logs)
{
    if (from > to || f->n_topics > 4) return CHAIN_ERR_INVALID;
    json_t *flt = json_pack("{s:o,s:o}", "fromBlock", chain_json_quantity_u64(from), "toBlock",
                            chain_json_quantity_u64(to));
    if (!flt) return CHAIN_ERR_NOMEM;
    int bad = 0;
    if (f->address) bad |= json_object_set_new(flt, "address", addr_json(f->address));
    json_t *topics = json_array();
    bad |= json_object_set_new(flt, "topics", topics);
    for (size_t i = 0; i < f->n_topics && !bad; i++)
        bad |= json_array_append_new(topics, f->has_topic[i] ? chain_json_hex(f->topics[i].b, 32)
                                                             : json_null());
    if (bad) {
        json_decref(flt);
        return CHAIN_ERR_NOMEM;
    }
    json_t *res;
    int rc = chain_rpc_json(c, "eth_getLogs", json_pack("[o]", flt), &res);
    if (rc) return rc;
    rc = parse_logs(res, logs);
    json_decref(res);
    return rc;
}

/* ---------------------------------------------------------------- receipts, blocks */

void chain_receipt_free(struct chain_receipt *r)
{
    if (r) chain_logs_free(&r->logs);
}

int chain_get_receipt(struct chain_client *c, const vm_bytes32 *tx_hash, struct chain_receipt *r)
{
    memset(r, 0, sizeof *r);
    json_t *res;
    int rc = chain_rpc_json(c, "eth_getTransactionReceipt",
                            json_pack("[o]", chain_json_hex(tx_hash->b, 32)), &res);
    if (rc) return rc;
    if (json_is_null(res)) {
        json_decref(res);
        return CHAIN_ERR_NOT_FOUND;
    }
    uint64_t status = 0;
    json_t *ca = json_object_get(res, "contractAddress");
    json_t *bn = json_object_get(res, "blockNumber");
    /* Some nodes return a receipt skeleton for a pending tx: no block yet. */
    if (json_is_object(res) && (!bn || json_is_null(bn))) {
        rc = CHAIN_ERR_NOT_FOUND;
        goto out;
    }
    if ((rc = chain_json_fixed(json_object_get(res, "transactionHash"), r->tx_hash.b, 32)) ||
        (rc = chain_json_fixed(json_object_get(res, "blockHash"), r->block_hash.b, 32)) ||
        (rc = chain_json_u64(bn, &r->block_number)) ||
        (rc = chain_json_u64(json_object_get(res, "status"), &status)) ||
        (rc = chain_json_u64(json_object_get(res, "gasUsed"), &r->gas_used)))
        goto out;
    json_t *egp = json_object_get(res, "effectiveGasPrice");
    if (egp && (rc = chain_json_u256(egp, &r->effective_gas_price))) goto out;
    if (ca && !json_is_null(ca)) {
        if ((rc = chain_json_fixed(ca, r->contract_address.b, 20))) goto out;
        r->has_contract_address = true;
    }
    if (status > 1) {
        rc = CHAIN_ERR_BAD_JSON;
        goto out;
    }
    r->status = status == 1;
    rc = parse_logs(json_object_get(res, "logs"), &r->logs);
out:
    if (rc) chain_receipt_free(r);
    json_decref(res);
    return rc;
}

int chain_get_block(struct chain_client *c, uint64_t block, struct chain_block *out)
{
    memset(out, 0, sizeof *out);
    json_t *res;
    int rc = chain_rpc_json(c, "eth_getBlockByNumber",
                            json_pack("[o,b]", chain_json_block(block), 0), &res);
    if (rc) return rc;
    if (json_is_null(res)) {
        json_decref(res);
        return CHAIN_ERR_NOT_FOUND;
    }
    if ((rc = chain_json_u64(json_object_get(res, "number"), &out->number)) ||
        (rc = chain_json_fixed(json_object_get(res, "hash"), out->hash.b, 32)) ||
        (rc = chain_json_fixed(json_object_get(res, "parentHash"), out->parent_hash.b, 32)) ||
        (rc = chain_json_fixed(json_object_get(res, "stateRoot"), out->state_root.b, 32)) ||
        (rc = chain_json_u64(json_object_get(res, "timestamp"), &out->timestamp)))
        goto out;
    json_t *bf = json_object_get(res, "baseFeePerGas");
    if (bf) rc = chain_json_u256(bf, &out->base_fee);
out:
    json_decref(res);
    return rc;
}

/* ---------------------------------------------------------------- proofs */

static void node_list_free(struct chain_proof_node_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        vm_buf_free(&l->nodes[i]);
    free(l->nodes);
    l->nodes = NULL;
    l->n = 0;
}

void chain_account_proof_free(struct chain_account_proof *p)
{
    if (!p) return;
    node_list_free(&p->account_proof);
    for (size_t i = 0; i < p->n_storage; i++)
        node_list_free(&p->storage[i].proof);
    free(p->storage);
    memset(p, 0, sizeof *p);
}

static int parse_node_list(const json_t *arr, struct chain_proof_node_list *l)
{
    if (!json_is_array(arr)) return CHAIN_ERR_BAD_JSON;
    size_t n = json_array_size(arr);
    if (n == 0) return CHAIN_OK;
    l->nodes = calloc(n, sizeof *l->nodes);
    if (!l->nodes) return CHAIN_ERR_NOMEM;
    l->n = n;
    for (size_t i = 0; i < n; i++) {
        int rc = chain_json_data(json_array_get(arr, i), &l->nodes[i]);
        if (rc) return rc;
    }
    return CHAIN_OK;
}

int chain_get_proof(struct chain_client *c, const vm_address *addr, const vm_u256 *keys,
                    size_t n_keys, uint64_t block, struct chain_account_proof *out)
{
    memset(out, 0, sizeof *out);
    json_t *jkeys = json_array();
    for (size_t i = 0; jkeys && i < n_keys; i++) {
        uint8_t be[32];
        vm_u256_to_be(keys[i], be);
        if (json_array_append_new(jkeys, chain_json_hex(be, 32))) {
            json_decref(jkeys);
            jkeys = NULL;
        }
    }
    json_t *res;
    int rc =
        chain_rpc_json(c, "eth_getProof",
                       json_pack("[o,o,o]", addr_json(addr), jkeys, chain_json_block(block)), &res);
    if (rc) return rc;
    if ((rc = chain_json_u256(json_object_get(res, "balance"), &out->balance)) ||
        (rc = chain_json_u64(json_object_get(res, "nonce"), &out->nonce)) ||
        (rc = chain_json_fixed(json_object_get(res, "codeHash"), out->code_hash.b, 32)) ||
        (rc = chain_json_fixed(json_object_get(res, "storageHash"), out->storage_hash.b, 32)) ||
        (rc = parse_node_list(json_object_get(res, "accountProof"), &out->account_proof)))
        goto out;
    json_t *sp = json_object_get(res, "storageProof");
    rc = CHAIN_ERR_BAD_JSON;
    if (!json_is_array(sp)) goto out;
    size_t n = json_array_size(sp);
    if (n) {
        rc = CHAIN_ERR_NOMEM;
        out->storage = calloc(n, sizeof *out->storage);
        if (!out->storage) goto out;
        out->n_storage = n;
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(sp, i);
            struct chain_storage_proof *s = &out->storage[i];
            if ((rc = chain_json_u256(json_object_get(e, "key"), &s->key)) ||
                (rc = chain_json_u256(json_object_get(e, "value"), &s->value)) ||
                (rc = parse_node_list(json_object_get(e, "proof"), &s->proof)))
                goto out;
        }
    }
    rc = CHAIN_OK;
out:
    if (rc) chain_account_proof_free(out);
    json_decref(res);
    return rc;
}
