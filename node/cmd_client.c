/*
 * The client commands of bp: open, move, call, status, close, challenge,
 * settle. Each is a thin client of the daemon's control API (api.h): parse
 * the arguments, POST them, print the answer as text or, with --json, as is.
 */
#include "amount.h"
#include "api.h"
#include "api_token.h"
#include "cli.h"

#include <stdlib.h>
#include <string.h>

struct client_opts {
    const char *api;
    const char *datadir;
    bool json;
    long timeout_s;
    /* positional arguments, in order */
    const char *pos[16];
    int npos;
};

/* Takes the options every client command shares; anything else that starts
 * with -- is looked up in `extra` (NAME=VALUE pairs of the caller's table). */
struct extra_opt {
    const char *name;
    const char **value;
};

static int parse_client_args(int argc, char **argv, struct client_opts *o,
                             struct extra_opt *extra, size_t n_extra)
{
    o->timeout_s = 120;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc && o->npos < 16; i++) o->pos[o->npos++] = argv[i];
            break;
        }
        if (strncmp(a, "--", 2) == 0) {
            if (i + 1 >= argc) return cli_fail("%s: %s needs a value", argv[0], a);
            const char *v = argv[++i];
            if (strcmp(a, "--api") == 0) o->api = v;
            else if (strcmp(a, "--datadir") == 0) o->datadir = v;
            else if (strcmp(a, "--timeout") == 0) o->timeout_s = strtol(v, NULL, 10);
            else {
                bool found = false;
                for (size_t k = 0; k < n_extra; k++) {
                    if (strcmp(a + 2, extra[k].name) == 0) {
                        *extra[k].value = v;
                        found = true;
                    }
                }
                if (!found) return cli_fail("%s: unknown option '%s'", argv[0], a);
            }
            continue;
        }
        if (o->npos >= 16) return cli_fail("%s: too many arguments", argv[0]);
        o->pos[o->npos++] = a;
    }
    if (!o->api) return cli_fail("%s: --api HOST:PORT is required", argv[0]);
    if (o->timeout_s <= 0) return cli_fail("%s: --timeout must be a positive number of seconds", argv[0]);
    return 0;
}

/* Calls the daemon; on success *result holds the answer. */
static int call_daemon(const char *cmd, const struct client_opts *o, const char *method,
                       json_t *params, json_t **result)
{
    char token[65];
    if (api_token_find(o->api, o->datadir, token) != API_OK) {
        json_decref(params);
        return cli_fail("%s: no API token for %s (start `bp node` first, or pass --datadir)",
                        cmd, o->api);
    }
    char err[512];
    int rv = api_call(o->api, token, method, params, o->timeout_s, result, err, sizeof err);
    json_decref(params);
    if (rv == API_ERR_REMOTE) return cli_fail("%s: %s", cmd, err);
    if (rv != API_OK) return cli_fail("%s: %s%s%s", cmd, api_strerror(rv), *err ? ": " : "", err);
    return 0;
}

static void print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (s) puts(s);
    free(s);
}

static const char *str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "?";
}

static void print_payouts(json_t *payouts)
{
    size_t i;
    json_t *p;
    json_array_foreach(payouts, i, p) {
        vm_u256 wei;
        char eth[100];
        if (json_string_value(p) && vm_u256_parse(json_string_value(p), &wei) == VM_OK) {
            amount_format_ether(wei, eth, sizeof eth);
            printf("%s%s", i ? ", " : "", eth);
        }
    }
}

static int parse_amount_arg(const char *cmd, const char *what, const char *text, char out[80])
{
    vm_u256 wei;
    if (!text) return cli_fail("%s: --%s AMOUNT is required", cmd, what);
    if (amount_parse(text, &wei) != VM_OK)
        return cli_fail("%s: --%s: '%s' is not an amount (e.g. 1ether, 5gwei, 1000 wei)", cmd,
                        what, text);
    vm_u256_to_dec(wei, out);
    return 0;
}

int cmd_open(int argc, char **argv)
{
    struct client_opts o = {0};
    const char *peer = NULL, *app = NULL, *deposit = NULL, *peer_deposit = NULL,
               *init_args = NULL, *period = NULL;
    struct extra_opt extra[] = {{"peer", &peer}, {"app", &app}, {"deposit", &deposit},
                                {"peer-deposit", &peer_deposit}, {"init-args", &init_args},
                                {"challenge-period", &period}};
    if (parse_client_args(argc, argv, &o, extra, sizeof extra / sizeof extra[0])) return 1;
    if (!peer || !strchr(peer, '@')) return cli_fail("open: --peer ADDR@tcp://HOST:PORT is required");
    if (!app) return cli_fail("open: --app ADDR is required");
    char dep[80], pdep[80];
    if (parse_amount_arg("open", "deposit", deposit, dep) ||
        parse_amount_arg("open", "peer-deposit", peer_deposit, pdep))
        return 1;
    json_t *params = json_pack("{s:s,s:s,s:s,s:s,s:s}", "peer", peer, "app", app, "deposit", dep,
                               "peerDeposit", pdep, "initArgs", init_args ? init_args : "0x");
    if (period) {
        char *end;
        long long s = strtoll(period, &end, 10);
        if (*end || s <= 0) {
            json_decref(params);
            return cli_fail("open: --challenge-period must be a positive number of seconds");
        }
        json_object_set_new(params, "challengePeriod", json_integer(s));
    }
    json_t *r;
    if (call_daemon("open", &o, "open", params, &r)) return 1;
    if (o.json) {
        print_json(r);
    } else {
        printf("opened on-chain in tx %s (gas %lld)\n", str(r, "txHash"),
               (long long)json_integer_value(json_object_get(r, "gasUsed")));
        printf("%s\n", str(r, "channel"));
    }
    json_decref(r);
    return 0;
}

/* move and call: CHANNEL SIGNATURE ARGS... */
static json_t *call_params(const char *cmd, const struct client_opts *o)
{
    if (o->npos < 2) {
        cli_fail("%s: expected CHANNEL 'function(types)' [ARGS...]", cmd);
        return NULL;
    }
    json_t *args = json_array();
    for (int i = 2; i < o->npos; i++) json_array_append_new(args, json_string(o->pos[i]));
    return json_pack("{s:s,s:s,s:o}", "channel", o->pos[0], "signature", o->pos[1], "args", args);
}

int cmd_move(int argc, char **argv)
{
    struct client_opts o = {0};
    if (parse_client_args(argc, argv, &o, NULL, 0)) return 1;
    json_t *params = call_params("move", &o), *r;
    if (!params) return 1;
    if (call_daemon("move", &o, "move", params, &r)) return 1;
    if (o.json) {
        print_json(r);
    } else {
        printf("nonce %lld signed by both players\nstate root %s\npayouts ",
               (long long)json_integer_value(json_object_get(r, "nonce")), str(r, "stateRoot"));
        print_payouts(json_object_get(r, "payouts"));
        printf("%s\n", json_is_true(json_object_get(r, "isFinal")) ? " (final)" : "");
    }
    json_decref(r);
    return 0;
}

int cmd_call(int argc, char **argv)
{
    struct client_opts o = {0};
    if (parse_client_args(argc, argv, &o, NULL, 0)) return 1;
    json_t *params = call_params("call", &o), *r;
    if (!params) return 1;
    if (call_daemon("call", &o, "call", params, &r)) return 1;
    if (o.json) {
        print_json(r);
    } else {
        json_t *values = json_object_get(r, "values");
        size_t i;
        json_t *v;
        if (json_array_size(values) == 0) printf("%s\n", str(r, "output"));
        json_array_foreach(values, i, v) {
            char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            /* strings print bare, like cast call does */
            if (json_is_string(v)) printf("%s\n", json_string_value(v));
            else if (s) printf("%s\n", s);
            free(s);
        }
    }
    json_decref(r);
    return 0;
}

static void print_channel(json_t *c)
{
    printf("channel   %s\n", str(c, "channel"));
    printf("state     %s\n", str(c, "state"));
    printf("peer      %s (%s)\n", str(c, "peer"),
           json_is_true(json_object_get(c, "peerConnected")) ? "connected" : "not connected");
    printf("nonce     %lld", (long long)json_integer_value(json_object_get(c, "nonce")));
    json_t *pending = json_object_get(c, "pendingNonce");
    if (json_is_integer(pending))
        printf(" (our proposal %lld waits for the peer's signature)", (long long)json_integer_value(pending));
    printf("\n");
    printf("stateRoot %s\n", str(c, "stateRoot"));
    printf("payouts   ");
    print_payouts(json_object_get(c, "payouts"));
    printf("\n");
}

int cmd_status(int argc, char **argv)
{
    struct client_opts o = {0};
    if (parse_client_args(argc, argv, &o, NULL, 0)) return 1;
    json_t *params = o.npos > 0 ? json_pack("{s:s}", "channel", o.pos[0]) : json_object(), *r;
    if (call_daemon("status", &o, "status", params, &r)) return 1;
    if (o.json) {
        print_json(r);
    } else if (o.npos > 0) {
        print_channel(r);
    } else {
        json_t *list = json_object_get(r, "channels");
        printf("node %s, %zu channel(s)\n", str(r, "address"), json_array_size(list));
        size_t i;
        json_t *c;
        json_array_foreach(list, i, c) {
            printf("\n");
            print_channel(c);
        }
    }
    json_decref(r);
    return 0;
}

/* close, challenge, settle: CHANNEL */
static int channel_action(int argc, char **argv, const char *method, const char *done)
{
    struct client_opts o = {0};
    if (parse_client_args(argc, argv, &o, NULL, 0)) return 1;
    if (o.npos != 1) return cli_fail("%s: expected CHANNEL", method);
    json_t *r;
    if (call_daemon(method, &o, method, json_pack("{s:s}", "channel", o.pos[0]), &r)) return 1;
    if (o.json) {
        print_json(r);
    } else {
        printf("%s: nonce %lld", done, (long long)json_integer_value(json_object_get(r, "nonce")));
        if (json_object_get(r, "txHash")) printf(", tx %s", str(r, "txHash"));
        printf("\n");
    }
    json_decref(r);
    return 0;
}

int cmd_close(int argc, char **argv)
{
    return channel_action(argc, argv, "close", "closed");
}

int cmd_challenge(int argc, char **argv)
{
    return channel_action(argc, argv, "challenge", "challenged");
}

int cmd_settle(int argc, char **argv)
{
    return channel_action(argc, argv, "settle", "settled");
}
