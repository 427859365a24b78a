/*
 * The JSON-RPC client against a real HTTP endpoint that misbehaves
 * (tests/chain/bad_rpc.js, node.js) and against a closed port: each fault
 * must come back as its own error code, with the details kept.
 *
 * Usage: fault_test NODE BAD_RPC_JS
 */
#include "chain.h"
#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char base_url[128];

static struct chain_client *client(const char *path, const struct chain_client_opts *opts)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", base_url, path);
    struct chain_client *c = NULL;
    int rc = chain_client_new(url, opts, &c);
    CHECK_EQ(rc, CHAIN_OK);
    return c;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A port that nothing listens on: bind one, read its number, close it. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: fault_test NODE BAD_RPC_JS\n");
        return 2;
    }
    char dir[] = "/tmp/bp-fault-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char log[256];
    snprintf(log, sizeof log, "%s/server.log", dir);
    char *const sargv[] = {argv[1], argv[2], NULL};
    pid_t pid = proc_start(sargv, log);
    char port[32];
    if (pid < 0 || !proc_wait_line(pid, log, "listening ", 10000, port, sizeof port)) {
        fprintf(stderr, "fault_test: the test server did not start (see %s)\n", log);
        proc_stop(pid);
        return 1;
    }
    snprintf(base_url, sizeof base_url, "http://127.0.0.1:%s", port);

    struct chain_client *c;
    uint64_t n;
    int rc;

    /* a well-behaved answer, for contrast */
    c = client("/ok", NULL);
    CHECK_EQ(chain_chain_id(c, &n), CHAIN_OK);
    CHECK_EQ(n, 31337);
    CHECK_EQ(chain_block_number(c, &n), CHAIN_OK);
    CHECK_EQ(n, 16);
    char *res = NULL;
    CHECK_EQ(chain_rpc(c, "eth_chainId", "[]", &res), CHAIN_OK);
    CHECK(res && strcmp(res, "\"0x7a69\"") == 0);
    free(res);
    CHECK_EQ(chain_rpc(c, "eth_chainId", "{not json", &res), CHAIN_ERR_INVALID);
    rc = chain_rpc(c, "evm_mine", "[]", NULL);
    CHECK_EQ(rc, CHAIN_ERR_RPC);
    CHECK_EQ(chain_client_rpc_error(c)->code, -32601);
    CHECK(strcmp(chain_client_rpc_error(c)->message, "method not found") == 0);
    CHECK(chain_client_rpc_error(c)->data == NULL);
    /* fees from eth_feeHistory alone: next base fee 100 (the last entry), the
     * median reward 5 as the tip (the node lacks eth_maxPriorityFeePerGas) */
    vm_u256 base, median, tip, max_fee;
    CHECK_EQ(chain_fee_history(c, 5, 50.0, &base, &median), CHAIN_OK);
    CHECK_EQ(base.w[0], 100);
    CHECK_EQ(median.w[0], 5);
    CHECK_EQ(chain_max_priority_fee(c, &tip), CHAIN_ERR_RPC);
    CHECK_EQ(chain_fee_history(c, 0, 50.0, &base, &median), CHAIN_ERR_INVALID);
    struct vm_secp *secp = NULL;
    CHECK_EQ(vm_secp_new(&secp), VM_OK);
    uint8_t key[32];
    memset(key, 0x11, sizeof key);
    struct chain_wallet *w = NULL;
    CHECK_EQ(chain_wallet_new(c, secp, key, NULL, &w), CHAIN_OK);
    if (w) {
        CHECK_EQ(chain_wallet_fees(w, &tip, &max_fee), CHAIN_OK);
        CHECK_EQ(tip.w[0], 5);
        CHECK_EQ(max_fee.w[0], 205);
        chain_wallet_free(w);
    }
    struct chain_wallet_opts capped = {.max_fee_cap = vm_u256_from_u64(3)};
    CHECK_EQ(chain_wallet_new(c, secp, key, &capped, &w), CHAIN_OK);
    if (w) {
        CHECK_EQ(chain_wallet_fees(w, &tip, &max_fee), CHAIN_OK);
        CHECK_EQ(max_fee.w[0], 3);
        CHECK_EQ(tip.w[0], 3);
        chain_wallet_free(w);
    }
    vm_secp_free(secp);
    chain_client_free(c);

    c = client("/http500", NULL);
    CHECK_EQ(chain_block_number(c, &n), CHAIN_ERR_HTTP);
    CHECK_EQ(chain_client_http_status(c), 500);
    chain_client_free(c);

    c = client("/garbage", NULL);
    CHECK_EQ(chain_block_number(c, &n), CHAIN_ERR_BAD_JSON);
    chain_client_free(c);

    /* 64 MiB offered, 1 MiB accepted: cut off while it arrives */
    struct chain_client_opts small = {.max_response = 1 << 20};
    c = client("/huge", &small);
    int64_t t0 = now_ms();
    CHECK_EQ(chain_block_number(c, &n), CHAIN_ERR_TOO_LARGE);
    CHECK(now_ms() - t0 < 10000);
    chain_client_free(c);

    c = client("/rpcerror", NULL);
    struct vm_buf out = {0};
    vm_address to = {{0}};
    struct chain_call call = {NULL, &to, {{0}}, NULL, 0, 0};
    CHECK_EQ(chain_eth_call(c, &call, CHAIN_BLOCK_LATEST, &out), CHAIN_ERR_RPC);
    const struct chain_rpc_error *e = chain_client_rpc_error(c);
    CHECK_EQ(e->code, 3);
    CHECK(strcmp(e->message, "execution reverted: nope") == 0);
    CHECK_EQ(e->data_len, 100);
    if (e->data_len == 100) {
        /* Error(string) revert data: the reason decodes as ABI */
        CHECK_HEX(e->data, 4, "08c379a0");
        char *json = NULL;
        CHECK_EQ(chain_abi_decode_json("(string)", e->data + 4, e->data_len - 4, &json), CHAIN_OK);
        CHECK(json && strcmp(json, "[\"nope\"]") == 0);
        free(json);
    }
    CHECK_EQ(out.len, 0);
    vm_buf_free(&out);
    chain_client_free(c);

    struct chain_client_opts quick = {.timeout_ms = 700};
    c = client("/hang", &quick);
    t0 = now_ms();
    CHECK_EQ(chain_block_number(c, &n), CHAIN_ERR_TIMEOUT);
    int64_t took = now_ms() - t0;
    CHECK(took >= 600 && took < 6000); /* generous: the machine may be loaded */
    chain_client_free(c);

    struct chain_client_opts expect = {.expected_chain_id = 31337};
    c = client("/wrongchain", &expect);
    CHECK_EQ(chain_check_chain_id(c), CHAIN_ERR_WRONG_CHAIN);
    chain_client_free(c);
    c = client("/ok", &expect);
    CHECK_EQ(chain_check_chain_id(c), CHAIN_OK);
    chain_client_free(c);

    c = client("/badid", NULL);
    CHECK_EQ(chain_block_number(c, &n), CHAIN_ERR_BAD_JSON);
    chain_client_free(c);

    c = client("/badshape", NULL);
    CHECK_EQ(chain_block_number(c, &n), CHAIN_ERR_BAD_JSON);
    CHECK_EQ(chain_chain_id(c, &n), CHAIN_ERR_BAD_JSON);
    vm_u256 b2, m2;
    CHECK_EQ(chain_fee_history(c, 1, 50.0, &b2, &m2), CHAIN_ERR_BAD_JSON);
    chain_client_free(c);

    c = client("/nosuchpath", NULL);
    CHECK_EQ(chain_block_number(c, &n), CHAIN_ERR_HTTP);
    CHECK_EQ(chain_client_http_status(c), 404);
    chain_client_free(c);

    proc_stop(pid);

    /* the node is down: a closed port */
    int p = closed_port();
    CHECK(p > 0);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", p);
    c = NULL;
    CHECK_EQ(chain_client_new(url, NULL, &c), CHAIN_OK);
    if (c) {
        CHECK_EQ(chain_block_number(c, &n), CHAIN_ERR_CONNECT);
        chain_client_free(c);
    }
    /* bad URLs are refused up front */
    CHECK_EQ(chain_client_new("ftp://127.0.0.1/", NULL, &c), CHAIN_ERR_INVALID);
    CHECK_EQ(chain_client_new("", NULL, &c), CHAIN_ERR_INVALID);
    /* every code has its own text */
    for (int i = CHAIN_ERR_EVENT; i < 0; i++)
        for (int j = i + 1; j < 0; j++)
            CHECK(strcmp(chain_strerror(i), chain_strerror(j)) != 0);

    unlink(log);
    rmdir(dir);
    return check_report("fault_test");
}
