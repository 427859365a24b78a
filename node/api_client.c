/* The CLI side of the control API: one JSON POST with libcurl. */
#include "api.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_MAX_ANSWER (8u << 20)

struct answer {
    char *data;
    size_t len;
    bool too_big;
};

static size_t collect(char *ptr, size_t size, size_t n, void *userdata)
{
    struct answer *a = userdata;
    size_t add = size * n;
    if (a->len + add > API_MAX_ANSWER) {
        a->too_big = true;
        return 0;
    }
    char *p = realloc(a->data, a->len + add + 1);
    if (!p) return 0;
    memcpy(p + a->len, ptr, add);
    a->data = p;
    a->len += add;
    a->data[a->len] = '\0';
    return add;
}

int api_call(const char *hostport, const char *token, const char *method, json_t *params,
             long timeout_s, json_t **result, char *errbuf, size_t errlen)
{
    *result = NULL;
    if (errlen) errbuf[0] = '\0';
    char url[512], auth[128];
    snprintf(url, sizeof url, "http://%s/v1/%s", hostport, method);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    char *body = json_dumps(params, JSON_COMPACT);
    if (!body) return API_ERR_NOMEM;

    CURL *curl = curl_easy_init();
    if (!curl) {
        free(body);
        return API_ERR_NOMEM;
    }
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    headers = curl_slist_append(headers, auth);
    struct answer a = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    CURLcode cr = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    free(body);

    int rv = API_OK;
    json_t *doc = NULL;
    if (cr != CURLE_OK) {
        snprintf(errbuf, errlen, "%s: %s", hostport, curl_easy_strerror(cr));
        rv = cr == CURLE_OPERATION_TIMEDOUT ? API_ERR_REMOTE : API_ERR_CONNECT;
        if (cr == CURLE_OPERATION_TIMEDOUT)
            snprintf(errbuf, errlen, "no answer from the node within %ld s", timeout_s);
        goto out;
    }
    doc = a.data ? json_loads(a.data, 0, NULL) : NULL;
    if (!json_is_object(doc)) {
        rv = API_ERR_PROTOCOL;
        goto out;
    }
    json_t *err = json_object_get(doc, "error");
    if (err) {
        const char *msg = json_string_value(json_object_get(err, "message"));
        snprintf(errbuf, errlen, "%s", msg ? msg : "unspecified error");
        rv = status == 401 ? API_ERR_AUTH : API_ERR_REMOTE;
        goto out;
    }
    json_t *res = json_object_get(doc, "result");
    if (!res) {
        rv = API_ERR_PROTOCOL;
        goto out;
    }
    *result = json_incref(res);
out:
    json_decref(doc);
    free(a.data);
    return rv;
}
