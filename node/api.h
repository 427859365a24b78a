/*
 * api.h — private to node/: the control API, JSON over HTTP on loopback.
 *
 * The daemon serves POST /v1/METHOD with a JSON object body and answers a
 * JSON object: {"result": ...} or {"error": {"code": N, "message": "..."}}.
 * Every request must carry "Authorization: Bearer TOKEN"; the token is a
 * random secret the daemon writes to DATADIR/api.token (mode 0600), like
 * bitcoind's cookie file. The CLI is a client of this API (api_client.c).
 *
 * Requests are handed to the daemon through a callback that runs on an nng
 * thread; the daemon answers later, from any thread, with api_reply. That
 * lets `move` answer only once the peer's signature is in.
 */
#ifndef BP_NODE_API_H
#define BP_NODE_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum api_error {
    API_OK = 0,
    API_ERR_ADDRESS = -1, /* not a loopback HOST:PORT */
    API_ERR_LISTEN = -2,  /* could not bind */
    API_ERR_NOMEM = -3,
    API_ERR_CONNECT = -4, /* client: daemon not reachable */
    API_ERR_AUTH = -5,    /* client: token missing or refused */
    API_ERR_PROTOCOL = -6,/* client: not a JSON answer */
    API_ERR_REMOTE = -7,  /* client: the daemon answered with an error */
    API_ERR_TOKEN = -8,   /* no token file could be read */
};
const char *api_strerror(int err);

struct api_server;
struct api_request;

/* Called on an nng thread for each authenticated request. It must
 * eventually call api_reply(req, ...) exactly once (from any thread). */
typedef void (*api_request_fn)(void *arg, struct api_request *req);

/*
 * Starts the server on HOST:PORT (loopback only: 127.0.0.0/8, localhost or
 * [::1]). Returns API_OK, API_ERR_ADDRESS, API_ERR_LISTEN or API_ERR_NOMEM.
 */
__attribute__((warn_unused_result)) int api_server_start(const char *hostport,
                                                         const char *token,
                                                         api_request_fn fn, void *arg,
                                                         struct api_server **out);
/* Stops accepting, then frees. Requests not yet answered are answered 503. */
void api_server_stop(struct api_server *srv);

/* The method (the path after /v1/) and the parsed body (borrowed). */
const char *api_request_method(const struct api_request *req);
json_t *api_request_params(const struct api_request *req);
/* Answers {"result": result} (steals the reference). */
void api_reply(struct api_request *req, json_t *result);
/* Answers {"error": {"code": code, "message": message}} with an HTTP status. */
void api_reply_error(struct api_request *req, int http_status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A new random token as 64 hex digits (+NUL). */
void api_token_new(char out[65]);

/*
 * Client: POSTs params to http://HOSTPORT/v1/method with the token and waits
 * up to timeout_s. On API_OK *result is the "result" value (caller decrefs).
 * On API_ERR_REMOTE, errbuf holds the daemon's message.
 */
__attribute__((warn_unused_result)) int api_call(const char *hostport, const char *token,
                                                 const char *method, json_t *params,
                                                 long timeout_s, json_t **result, char *errbuf,
                                                 size_t errlen);

#endif
