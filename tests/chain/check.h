/*
 * check.h — the few helpers the chain tests share: value checks that report
 * and count failures (a test keeps going to show every mismatch), hex
 * helpers, and starting/stopping a helper process (anvil, the misbehaving
 * node.js server) by its PID with its output in a log file.
 */
#ifndef BP_TESTS_CHAIN_CHECK_H
#define BP_TESTS_CHAIN_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

extern int check_failures;
extern int check_count;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        check_count++;                                                                             \
        if (!(cond)) {                                                                             \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

/* Compares integers and prints both sides on a mismatch. */
#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                            \
        check_count++;                                                                             \
        if (check_a_ != check_b_) {                                                                \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s = %lld, %s = %lld\n", __FILE__, __LINE__,  \
                    #a, check_a_, #b, check_b_);                                                   \
        }                                                                                          \
    } while (0)

/* Compares bytes with the hex text want (no 0x, whitespace ignored). */
#define CHECK_HEX(data, len, want) check_hex(__FILE__, __LINE__, (data), (len), (want))
void check_hex(const char *file, int line, const uint8_t *data, size_t len, const char *want);

/* Decodes hex (optional 0x, whitespace ignored) into a malloc'ed buffer; aborts on bad input
 * (the input is the test's own constant). */
uint8_t *hex_alloc(const char *hex, size_t *len);

/* Prints the summary; returns the process exit code (0 if no failure). */
int check_report(const char *name);

/*
 * Starts argv[0] (a path) with stdout and stderr to log_path, in its own
 * process group. Returns the PID or -1.
 */
pid_t proc_start(char *const argv[], const char *log_path);
/*
 * Waits until log_path contains a line starting with prefix and copies the
 * rest of that line to out. Returns false after timeout_ms or if pid exited.
 */
bool proc_wait_line(pid_t pid, const char *log_path, const char *prefix, long timeout_ms, char *out,
                    size_t cap);
/* Sends SIGTERM to exactly pid (then SIGKILL after 3 s) and reaps it. */
void proc_stop(pid_t pid);

/* Starts anvil (--hardfork cancun on 127.0.0.1, a free port) with extra
 * arguments; writes the URL to url. Returns the PID or -1. */
pid_t anvil_start(const char *anvil_path, const char *log_path, const char *const *extra, char *url,
                  size_t cap);

#endif
