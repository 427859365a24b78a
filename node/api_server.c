/*
 * The control API server on nng's HTTP server. A request is parsed and
 * authenticated here, on nng's thread, then handed to the daemon's callback;
 * the answer may come later from the daemon's own thread (api_reply), which
 * is why each request keeps its aio until answered.
 */
#include "api.h"

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_MAX_BODY (1u << 20)

struct api_request {
    nng_aio *aio;
    char method[64];
    json_t *params;
    struct api_server *srv;
    struct api_request *next, *prev; /* the server's list of unanswered requests */
};

struct api_server {
    nng_http_server *http;
    nng_http_handler *handler;
    char token[65];
    api_request_fn fn;
    void *arg;
    pthread_mutex_t lock;
    struct api_request *pending;
    bool stopping;
};

const char *api_strerror(int err)
{
    switch (err) {
    case API_OK: return "ok";
    case API_ERR_ADDRESS: return "the control API must listen on a loopback HOST:PORT";
    case API_ERR_LISTEN: return "could not listen on the control API address";
    case API_ERR_NOMEM: return "out of memory";
    case API_ERR_CONNECT: return "the node is not reachable at the control API address";
    case API_ERR_AUTH: return "the node refused the API token";
    case API_ERR_PROTOCOL: return "the node's answer is not valid JSON";
    case API_ERR_REMOTE: return "the node reported an error";
    case API_ERR_TOKEN: return "no API token found (give --datadir or set BP_DATADIR)";
    default: return "unknown error";
    }
}

void api_token_new(char out[65])
{
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, 65, raw, sizeof raw);
}

static bool is_loopback_host(const char *host, size_t len)
{
    if (len == 9 && memcmp(host, "localhost", 9) == 0) return true;
    if (len == 5 && memcmp(host, "[::1]", 5) == 0) return true;
    if (len >= 4 && memcmp(host, "127.", 4) == 0) {
        for (size_t i = 4; i < len; i++)
            if (!(host[i] == '.' || (host[i] >= '0' && host[i] <= '9'))) return false;
        return true;
    }
    return false;
}

static void send_json(nng_aio *aio, int status, json_t *body)
{
    nng_http_res *res = NULL;
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text || nng_http_res_alloc(&res) != 0) {
        free(text);
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    nng_http_res_set_status(res, (uint16_t)status);
    nng_http_res_set_header(res, "Content-Type", "application/json");
    int rv = nng_http_res_copy_data(res, text, strlen(text));
    free(text);
    if (rv != 0) {
        nng_http_res_free(res);
        nng_aio_finish(aio, rv);
        return;
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

static json_t *error_body(int code, const char *message)
{
    return json_pack("{s:{s:i,s:s}}", "error", "code", code, "message", message);
}

static void finish_request(struct api_request *req, int status, json_t *body)
{
    struct api_server *srv = req->srv;
    pthread_mutex_lock(&srv->lock);
    if (req->prev) req->prev->next = req->next;
    else srv->pending = req->next;
    if (req->next) req->next->prev = req->prev;
    pthread_mutex_unlock(&srv->lock);
    send_json(req->aio, status, body);
    json_decref(req->params);
    free(req);
}

static void handle(nng_aio *aio)
{
    nng_http_req *hreq = nng_aio_get_input(aio, 0);
    nng_http_handler *h = nng_aio_get_input(aio, 1);
    struct api_server *srv = nng_http_handler_get_data(h);

    const char *auth = nng_http_req_get_header(hreq, "Authorization");
    const char *prefix = "Bearer ";
    if (!auth || strncmp(auth, prefix, strlen(prefix)) != 0 ||
        strlen(auth + strlen(prefix)) != 64 ||
        sodium_memcmp(auth + strlen(prefix), srv->token, 64) != 0) {
        send_json(aio, 401, error_body(401, "missing or wrong API token"));
        return;
    }
    const char *uri = nng_http_req_get_uri(hreq);
    const char *method = uri + strlen("/v1/");
    size_t mlen = strcspn(method, "?");
    if (strncmp(uri, "/v1/", 4) != 0 || mlen == 0 || mlen >= 64) {
        send_json(aio, 404, error_body(404, "unknown API path"));
        return;
    }
    void *data;
    size_t len;
    nng_http_req_get_data(hreq, &data, &len);
    json_t *params;
    if (len == 0) {
        params = json_object();
    } else {
        json_error_t jerr;
        params = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!params || !json_is_object(params)) {
            json_decref(params);
            send_json(aio, 400, error_body(400, "the request body must be a JSON object"));
            return;
        }
    }
    struct api_request *req = calloc(1, sizeof *req);
    if (!req) {
        json_decref(params);
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    req->aio = aio;
    req->params = params;
    req->srv = srv;
    memcpy(req->method, method, mlen);
    pthread_mutex_lock(&srv->lock);
    bool stopping = srv->stopping;
    if (!stopping) {
        req->next = srv->pending;
        if (srv->pending) srv->pending->prev = req;
        srv->pending = req;
    }
    pthread_mutex_unlock(&srv->lock);
    if (stopping) {
        json_decref(params);
        free(req);
        send_json(aio, 503, error_body(503, "the node is shutting down"));
        return;
    }
    srv->fn(srv->arg, req);
}

int api_server_start(const char *hostport, const char *token, api_request_fn fn, void *arg,
                     struct api_server **out)
{
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || !colon[1] || !is_loopback_host(hostport, (size_t)(colon - hostport)))
        return API_ERR_ADDRESS;
    for (const char *p = colon + 1; *p; p++)
        if (*p < '0' || *p > '9') return API_ERR_ADDRESS;

    struct api_server *srv = calloc(1, sizeof *srv);
    if (!srv) return API_ERR_NOMEM;
    snprintf(srv->token, sizeof srv->token, "%s", token);
    srv->fn = fn;
    srv->arg = arg;
    pthread_mutex_init(&srv->lock, NULL);

    char urltext[300];
    snprintf(urltext, sizeof urltext, "http://%s", hostport);
    nng_url *url = NULL;
    int rv = API_ERR_LISTEN;
    if (nng_url_parse(&url, urltext) != 0) {
        rv = API_ERR_ADDRESS;
        goto fail;
    }
    if (nng_http_server_hold(&srv->http, url) != 0) goto fail;
    if (nng_http_handler_alloc(&srv->handler, "/v1", handle) != 0 ||
        nng_http_handler_set_method(srv->handler, "POST") != 0 ||
        nng_http_handler_set_tree(srv->handler) != 0 ||
        nng_http_handler_collect_body(srv->handler, true, API_MAX_BODY) != 0 ||
        nng_http_handler_set_data(srv->handler, srv, NULL) != 0) {
        rv = API_ERR_NOMEM;
        goto fail;
    }
    if (nng_http_server_add_handler(srv->http, srv->handler) != 0) goto fail;
    srv->handler = NULL; /* the server owns it now */
    if (nng_http_server_start(srv->http) != 0) goto fail;
    nng_url_free(url);
    *out = srv;
    return API_OK;
fail:
    if (srv->handler) nng_http_handler_free(srv->handler);
    if (srv->http) nng_http_server_release(srv->http);
    if (url) nng_url_free(url);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
    return rv;
}

void api_server_stop(struct api_server *srv)
{
    if (!srv) return;
    pthread_mutex_lock(&srv->lock);
    srv->stopping = true;
    pthread_mutex_unlock(&srv->lock);
    for (;;) {
        pthread_mutex_lock(&srv->lock);
        struct api_request *req = srv->pending;
        pthread_mutex_unlock(&srv->lock);
        if (!req) break;
        finish_request(req, 503, error_body(503, "the node is shutting down"));
    }
    nng_http_server_stop(srv->http);
    nng_http_server_release(srv->http);
    pthread_mutex_destroy(&srv->lock);
    sodium_memzero(srv->token, sizeof srv->token);
    free(srv);
}

const char *api_request_method(const struct api_request *req)
{
    return req->method;
}

json_t *api_request_params(const struct api_request *req)
{
    return req->params;
}

void api_reply(struct api_request *req, json_t *result)
{
    json_t *body = json_object();
    json_object_set_new(body, "result", result ? result : json_null());
    finish_request(req, 200, body);
}

void api_reply_error(struct api_request *req, int http_status, int code, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    finish_request(req, http_status, error_body(code, message));
}
