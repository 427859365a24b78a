/*
 * check.h — the few helpers the chain tests share: the value checks of
 * tests/lib/check.h, hex checks and helpers, and starting/stopping a helper
 * process (anvil, the misbehaving node.js server) by its PID with its output
 * in a log file.
 */
#ifndef BP_TESTS_CHAIN_CHECK_H
#define BP_TESTS_CHAIN_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../lib/check.h"

/* Compares bytes with the hex text want (no 0x, whitespace ignored). */
#define CHECK_HEX(data, len, want) check_hex(__FILE__, __LINE__, (data), (len), (want))
void check_hex(const char *file, int line, const uint8_t *data, size_t len, const char *want);

/* Decodes hex (optional 0x, whitespace ignored) into a malloc'ed buffer; aborts on bad input
 * (the input is the test's own constant). */
uint8_t *hex_alloc(const char *hex, size_t *len);

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

/* Creates a temporary file from the mkstemp pattern path (rewritten in place
 * to the real name) and opens it for writing the cases of a node script.
 * Returns the stream or NULL. */
FILE *cases_file(char *path);
/* Runs `node script cases_path` (argv quoted) and returns its stdout to read
 * (close with pclose), or NULL. */
FILE *node_script(const char *node, const char *script, const char *cases_path);

/* Starts anvil (--hardfork cancun on 127.0.0.1, a free port) with extra
 * arguments; writes the URL to url. Returns the PID or -1. */
pid_t anvil_start(const char *anvil_path, const char *log_path, const char *const *extra, char *url,
                  size_t cap);

/* An anvil with its log in a fresh temporary directory (kept if a check fails). */
struct anvil_tmp {
    char dir[64];
    char log[128];
    pid_t pid;
};
/* Makes the directory from the mkdtemp pattern dir_pattern and starts anvil
 * (as anvil_start) logging there; writes the URL to url. Returns false (and
 * says why on stderr) if either fails. */
bool anvil_tmp_start(struct anvil_tmp *a, const char *dir_pattern, const char *anvil_path,
                     char *url, size_t cap);
/* Stops anvil, prints the check summary as name and, if no check failed,
 * removes the log and the directory. Returns the process exit code. */
int anvil_tmp_finish(struct anvil_tmp *a, const char *name);

#endif
