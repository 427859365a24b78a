/*
 * Benchmark of the interpreter on the inputs of ../shared/bench (the
 * ipsilon/evm-benchmarks set that evmone and revm publish timings on).
 *
 * Each input runs as the callee of a call with 1e9 gas over the in-memory
 * world; the result is checked against expected_outputs.txt (output, status,
 * gas; a mismatch makes the run fail) and the median time of repeated runs
 * is printed. With --anvil PATH, the
 * same code and input are timed through anvil's eth_call (anvil started on a
 * free loopback port, code installed with anvil_setCode, gas 1e9), minus the
 * median time of an eth_call to a contract that only STOPs; per input it
 * prints our time, anvil's (medians), the ratio anvil/ours, and the geometric
 * mean of the ratios (over all inputs, and over those where anvil takes at
 * least 1 ms, since sub-millisecond RPC timings are mostly noise).
 * It asserts nothing about time; it exits non-zero if an output is wrong.
 * Build with buildtype=release and no sanitizers for meaningful figures.
 *
 * usage: bench_evm BENCH_DIR [--anvil PATH] [--filter TEXT] [--min-time S]
 */
#include "vm.h"

#include <curl/curl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_GAS 1000000000LL
#define MAX_RUNS 2000

static const char *const bench_names[] = {
    "snailtracer", "blake2b_shifts", "sha1_divs",  "weierstrudel", "loop_with_many_jumpdests",
    "blake2b_huff", "sha1_shifts",   "jump_around", "signextend",  "swap_math",
    "structarray_alloc", "memory_grow_mload", "memory_grow_mstore", "JUMPDEST_n0",
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of t[0..n) (sorts t); n >= 1. */
static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    if (buf) {
        buf[n] = 0;
        if (len) *len = (size_t)n;
    }
    return buf;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) s[--n] = 0;
    return s;
}

/* Finds "NAME/LABEL gas=G status=S out=0x..." in expected_outputs.txt. */
static bool expected_for(const char *exp, const char *key, long long *gas, char *status,
                         size_t status_cap, const char **out, size_t *out_len)
{
    size_t kl = strlen(key);
    for (const char *line = exp; line && *line;) {
        const char *end = strchr(line, '\n');
        if (!end) end = line + strlen(line);
        if ((size_t)(end - line) > kl && strncmp(line, key, kl) == 0 && line[kl] == ' ') {
            const char *g = strstr(line, "gas="), *st = strstr(line, "status="),
                       *o = strstr(line, "out=0x");
            if (!g || !st || !o || o > end) return false;
            *gas = atoll(g + 4);
            size_t sl = strcspn(st + 7, " ");
            if (sl >= status_cap) return false;
            memcpy(status, st + 7, sl);
            status[sl] = 0;
            *out = o + 6;
            *out_len = strcspn(o + 6, " \n");
            return true;
        }
        line = *end ? end + 1 : end;
    }
    return false;
}

struct ours {
    struct vm_world *w;
    struct vm_evm *evm;
    vm_address sender, contract;
};

static const struct vm_tx_context bench_tx = {.number = 1, .gas_limit = BENCH_GAS,
                                              .chain_id = {{1, 0, 0, 0}}};

/* One call; the world is put back as it was (host revert). */
static int run_ours(struct ours *o, const uint8_t *input, size_t len, struct vm_result *res)
{
    struct vm_host host = vm_world_host(o->w);
    vm_world_begin_tx(o->w);
    size_t snap = host.ops->snapshot(host.ctx);
    (void)host.ops->access_account(host.ctx, &o->sender);
    (void)host.ops->access_account(host.ctx, &o->contract);
    struct vm_message msg = {.kind = VM_CALL, .gas = BENCH_GAS, .recipient = o->contract,
                             .sender = o->sender, .code_address = o->contract,
                             .input = input, .input_size = len};
    int err = vm_evm_execute(o->evm, &host, &bench_tx, &msg, res);
    host.ops->revert(host.ctx, snap);
    return err;
}

/* ---- anvil over JSON-RPC ---- */
struct anvil {
    pid_t pid;
    char url[64];
    CURL *curl;
    char *resp;
    size_t resp_len;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct anvil *a = arg;
    size_t k = size * n;
    char *p = realloc(a->resp, a->resp_len + k + 1);
    if (!p) return 0;
    memcpy(p + a->resp_len, data, k);
    a->resp = p;
    a->resp_len += k;
    a->resp[a->resp_len] = 0;
    return k;
}

/* Posts body; returns the response text (owned by a) or NULL. */
static const char *rpc(struct anvil *a, const char *body)
{
    a->resp_len = 0;
    if (a->resp) a->resp[0] = 0;
    curl_easy_setopt(a->curl, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(a->curl) != CURLE_OK) return NULL;
    return a->resp ? a->resp : "";
}

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    int port = -1;
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(s, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    close(s);
    return port;
}

static bool anvil_start(struct anvil *a, const char *bin)
{
    int port = free_port();
    if (port < 0) return false;
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    snprintf(a->url, sizeof a->url, "http://127.0.0.1:%d", port);
    a->pid = fork();
    if (a->pid < 0) return false;
    if (a->pid == 0) {
        /* anvil dies with us even if we are killed (e.g. a meson timeout). */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(127);
        if (!freopen("/dev/null", "w", stdout)) _exit(127);
        execl(bin, bin, "--hardfork", "cancun", "--host", "127.0.0.1", "--port", ports,
              "--disable-block-gas-limit", "--disable-code-size-limit", "--silent", (char *)NULL);
        _exit(127);
    }
    a->curl = curl_easy_init();
    if (!a->curl) return false;
    static struct curl_slist *hdr;
    if (!hdr) hdr = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(a->curl, CURLOPT_URL, a->url);
    curl_easy_setopt(a->curl, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(a->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(a->curl, CURLOPT_WRITEDATA, a);
    for (int i = 0; i < 100; i++) {
        const char *r = rpc(a, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}");
        if (r && strstr(r, "result")) return true;
        usleep(100000);
    }
    return false;
}

static void anvil_stop(struct anvil *a)
{
    if (a->curl) curl_easy_cleanup(a->curl);
    if (a->pid > 0) {
        kill(a->pid, SIGTERM);
        waitpid(a->pid, NULL, 0);
    }
    free(a->resp);
}

static bool anvil_set_code(struct anvil *a, const char *addr, const char *code_hex)
{
    size_t n = strlen(code_hex) + 200;
    char *body = malloc(n);
    if (!body) return false;
    snprintf(body, n,
             "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"anvil_setCode\",\"params\":[\"%s\",\"0x%s\"]}",
             addr, code_hex);
    const char *r = rpc(a, body);
    free(body);
    return r && strstr(r, "\"result\"");
}

/* Median time of eth_call(to, data) over reps (<= 256); *out_ok: every
 * result matched expect. Returns -1 if a request failed. */
static double anvil_call(struct anvil *a, const char *addr, const char *data_hex, int reps,
                         const char *expect, size_t expect_len, bool *out_ok)
{
    size_t n = strlen(data_hex) + 300;
    char *body = malloc(n);
    if (!body) return -1;
    snprintf(body, n,
             "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"eth_call\",\"params\":[{\"to\":\"%s\","
             "\"gas\":\"0x3b9aca00\",\"data\":\"0x%s\"},\"latest\"]}",
             addr, data_hex);
    double times[256];
    if (reps > 256) reps = 256;
    bool ok = true;
    int done = 0;
    for (; done < reps; done++) {
        double t0 = now_s();
        const char *r = rpc(a, body);
        times[done] = now_s() - t0;
        if (!r) break;
        const char *res = strstr(r, "\"result\":\"0x");
        if (!res || (expect && (strncmp(res + 12, expect, expect_len) != 0 ||
                                res[12 + expect_len] != '"')))
            ok = false;
    }
    free(body);
    if (out_ok) *out_ok = ok && done == reps;
    return done == reps ? median(times, done) : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s BENCH_DIR [--anvil PATH] [--filter TEXT] [--min-time S]\n",
                argv[0]);
        return 2;
    }
    const char *dir = argv[1], *anvil_bin = NULL, *filter = NULL;
    double min_time = 0.5;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--anvil") == 0) anvil_bin = argv[i + 1];
        else if (strcmp(argv[i], "--filter") == 0) filter = argv[i + 1];
        else if (strcmp(argv[i], "--min-time") == 0) min_time = atof(argv[i + 1]);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/expected_outputs.txt", dir);
    char *expected = read_file(path, NULL);
    if (!expected) {
        fprintf(stderr, "bench_evm: %s not found: skipping\n", path);
        return 77;
    }

    struct anvil anvil = {0};
    bool use_anvil = false;
    if (anvil_bin && access(anvil_bin, X_OK) == 0) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        use_anvil = anvil_start(&anvil, anvil_bin);
        if (!use_anvil) fprintf(stderr, "bench_evm: anvil did not start; timing ours only\n");
    }
    const char *anvil_addr = "0xbe7c43a580000000000000000000000000000001";
    const char *empty_addr = "0xbe7c43a580000000000000000000000000000002";
    double anvil_empty = 0;
    if (use_anvil) {
        if (!anvil_set_code(&anvil, empty_addr, "00")) use_anvil = false;
        else anvil_empty = anvil_call(&anvil, empty_addr, "", 101, NULL, 0, NULL);
        if (anvil_empty < 0) use_anvil = false;
        printf("anvil empty eth_call (median of 101): %.3f ms (subtracted)\n", anvil_empty * 1e3);
    }

    int rc = 1, wrong = 0, n_ratio = 0;
    double log_sum = 0, log_sum_big = 0;
    int n_big = 0;
    struct ours o = {0};
    if (vm_world_new(&o.w) || vm_evm_new(&o.evm)) goto out;
    o.sender.b[19] = 0x5e;
    o.contract.b[0] = 0xbe;
    o.contract.b[19] = 1;
    if (vm_world_set_account(o.w, &o.sender, 0, vm_u256_from_u64(0), NULL, 0)) goto out;

    printf("%-36s %12s %12s %8s\n", "input", "ours ms", "anvil ms", "ratio");
    for (size_t b = 0; b < sizeof bench_names / sizeof bench_names[0]; b++) {
        const char *name = bench_names[b];
        snprintf(path, sizeof path, "%s/hex/%s.runtime.hex", dir, name);
        char *code_hex = read_file(path, NULL);
        snprintf(path, sizeof path, "%s/hex/%s.calldata.txt", dir, name);
        char *calls = read_file(path, NULL);
        if (!code_hex || !calls) {
            free(code_hex);
            free(calls);
            continue;
        }
        char *ch = trim(code_hex);
        if (ch[0] == '0' && ch[1] == 'x') ch += 2;
        size_t code_cap = strlen(ch) / 2 + 1, code_len;
        uint8_t *code = malloc(code_cap);
        if (!code || vm_hex_decode(ch, code, code_cap, &code_len) ||
            vm_world_set_account(o.w, &o.contract, 1, vm_u256_from_u64(0), code, code_len)) {
            fprintf(stderr, "%s: bad code\n", name);
            goto out;
        }
        if (use_anvil && !anvil_set_code(&anvil, anvil_addr, ch))
            fprintf(stderr, "%s: anvil_setCode failed\n", name);

        for (char *line = strtok(calls, "\n"); line; line = strtok(NULL, "\n")) {
            line = trim(line);
            char *sp = strchr(line, ' ');
            char *label = line, *data_hex = sp ? trim(sp + 1) : (char *)"";
            if (sp) *sp = 0;
            if (!*label) continue;
            char key[256];
            snprintf(key, sizeof key, "%s/%s", name, label);
            if (filter && !strstr(key, filter)) continue;
            if (data_hex[0] == '0' && data_hex[1] == 'x') data_hex += 2;
            size_t in_cap = strlen(data_hex) / 2 + 1, in_len;
            uint8_t *input = malloc(in_cap);
            if (!input || vm_hex_decode(data_hex, input, in_cap, &in_len)) {
                fprintf(stderr, "%s: bad calldata\n", key);
                goto out;
            }

            long long exp_gas = 0;
            char exp_status[32];
            const char *exp_out = NULL;
            size_t exp_out_len = 0;
            bool have_exp = expected_for(expected, key, &exp_gas, exp_status, sizeof exp_status,
                                         &exp_out, &exp_out_len);
            /* Check once, then time. */
            struct vm_result res;
            if (run_ours(&o, input, in_len, &res)) goto out;
            long long used = BENCH_GAS - res.gas_left;
            char *out_hex = malloc(res.output_size * 2 + 3);
            if (!out_hex) goto out;
            vm_hex_encode(res.output, res.output_size, out_hex);
            bool ok = have_exp && used == exp_gas &&
                      strcmp(exp_status, res.status == VM_SUCCESS ? "ok" : "fail") == 0 &&
                      strlen(out_hex + 2) == exp_out_len &&
                      strncmp(out_hex + 2, exp_out, exp_out_len) == 0;
            if (!ok) {
                wrong++;
                printf("%-36s WRONG: gas %lld (expected %lld), status %s, out %.80s\n", key, used,
                       exp_gas, vm_status_name(res.status), out_hex);
            }
            vm_result_free(&res);
            free(out_hex);

            /* Median of repeated runs: at least 5, more until min_time. */
            double times[MAX_RUNS], total = 0;
            int runs = 0;
            while (runs < 5 || (total < min_time && runs < MAX_RUNS)) {
                double t0 = now_s();
                if (run_ours(&o, input, in_len, &res)) goto out;
                double t = now_s() - t0;
                vm_result_free(&res);
                total += t;
                times[runs++] = t;
            }
            double best = median(times, runs);
            if (use_anvil) {
                int reps = best > 0.05 ? 7 : 21;
                bool aok = false;
                double at = anvil_call(&anvil, anvil_addr, data_hex, reps, exp_out, exp_out_len,
                                       &aok) - anvil_empty;
                if (!aok) wrong++; /* anvil computed something else: no comparison */
                if (at < 1e-6) at = 1e-6;
                double ratio = at / best;
                log_sum += log(ratio);
                n_ratio++;
                /* Sub-millisecond inputs are dominated by timer and RPC noise. */
                if (at >= 1e-3) {
                    log_sum_big += log(ratio);
                    n_big++;
                }
                printf("%-36s %12.3f %12.3f %8.2f%s\n", key, best * 1e3, at * 1e3, ratio,
                       aok ? "" : "  (anvil output differs)");
            } else {
                printf("%-36s %12.3f %12s %8s\n", key, best * 1e3, "-", "-");
            }
            fflush(stdout);
            free(input);
        }
        free(code);
        free(code_hex);
        free(calls);
    }
    rc = wrong ? 1 : 0;
out:
    if (n_ratio)
        printf("geometric mean of anvil/ours over %d inputs: %.2f (>= 1.0: as fast as revm)\n",
               n_ratio, exp(log_sum / n_ratio));
    if (n_big)
        printf("geometric mean over the %d inputs where anvil takes >= 1 ms: %.2f\n", n_big,
               exp(log_sum_big / n_big));
    anvil_stop(&anvil); /* also when it was started but never answered */
    vm_evm_free(o.evm);
    vm_world_free(o.w);
    free(expected);
    if (rc) fprintf(stderr, "bench_evm: %s\n", wrong ? "WRONG RESULTS: these figures are void" : "error");
    return rc;
}
