/*
 * Micro-benchmark of vm/'s primitives: keccak-256 throughput (1 KiB and
 * 1 MiB inputs), secp256k1 sign and recover latency. Prints figures only;
 * it asserts nothing about time (run with `meson test --benchmark`).
 * Build with -Db_sanitize=none and buildtype=release for meaningful numbers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vm.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Hashes len-byte inputs for about min_s seconds; returns MB/s (1 MB = 1e6 B). */
static double keccak_mbps(size_t len, double min_s, uint8_t sink[32])
{
    uint8_t *buf = malloc(len);
    if (!buf) return 0;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 31 + 7);
    size_t iters = 0;
    double start = now_s(), elapsed;
    do {
        for (int k = 0; k < 8; k++) {
            vm_keccak256(buf, len, sink);
            buf[0] ^= sink[0]; /* keeps the compiler from hoisting the hash */
        }
        iters += 8;
        elapsed = now_s() - start;
    } while (elapsed < min_s);
    free(buf);
    return (double)iters * (double)len / elapsed / 1e6;
}

int main(void)
{
    uint8_t sink[32] = {0};
    printf("keccak256 1 KiB: %8.1f MB/s\n", keccak_mbps(1024, 0.5, sink));
    printf("keccak256 1 MiB: %8.1f MB/s\n", keccak_mbps(1024 * 1024, 0.5, sink));

    struct vm_secp *secp = NULL;
    if (vm_secp_new(&secp) != VM_OK) {
        fprintf(stderr, "bench: no secp256k1 context\n");
        return 1;
    }
    uint8_t key[32], hash[32], sig[65];
    memset(key, 0x42, sizeof key);
    vm_keccak256(key, sizeof key, hash);

    const int n = 2000;
    int bad = 0;
    double start = now_s();
    for (int i = 0; i < n; i++) {
        hash[0] = (uint8_t)i;
        hash[1] = (uint8_t)(i >> 8);
        bad |= vm_sign(secp, key, hash, sig);
    }
    double sign_us = (now_s() - start) / n * 1e6;

    vm_address who;
    start = now_s();
    for (int i = 0; i < n; i++)
        bad |= vm_recover(secp, hash, sig, &who);
    double recover_us = (now_s() - start) / n * 1e6;
    vm_secp_free(secp);
    if (bad) {
        fprintf(stderr, "bench: sign/recover failed\n");
        return 1;
    }
    printf("secp256k1 sign:    %8.1f us\n", sign_us);
    printf("secp256k1 recover: %8.1f us\n", recover_us);
    printf("(checksum %02x)\n", sink[0]);
    return 0;
}
