/* check.c — see check.h. */
#include "check.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int nibble(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

uint8_t *hex_alloc(const char *hex, size_t *len)
{
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex += 2;
    size_t n = 0;
    uint8_t *out = malloc(strlen(hex) / 2 + 1);
    if (!out) abort();
    int hi = -1;
    for (; *hex; hex++) {
        if (isspace((unsigned char)*hex)) continue;
        int d = nibble(*hex);
        if (d < 0) abort();
        if (hi < 0) {
            hi = d;
        } else {
            out[n++] = (uint8_t)(hi << 4 | d);
            hi = -1;
        }
    }
    if (hi >= 0) abort();
    *len = n;
    return out;
}

void check_hex(const char *file, int line, const uint8_t *data, size_t len, const char *want)
{
    size_t wlen;
    uint8_t *w = hex_alloc(want, &wlen);
    check_count++;
    if (wlen != len || (len && memcmp(w, data, len) != 0)) {
        check_failures++;
        fprintf(stderr, "%s:%d: CHECK_HEX failed\n  got  (%zu): ", file, line, len);
        for (size_t i = 0; i < len; i++)
            fprintf(stderr, "%02x", data[i]);
        fprintf(stderr, "\n  want (%zu): ", wlen);
        for (size_t i = 0; i < wlen; i++)
            fprintf(stderr, "%02x", w[i]);
        fputc('\n', stderr);
    }
    free(w);
}

FILE *cases_file(char *path)
{
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "w");
    if (!f) close(fd);
    return f;
}

FILE *node_script(const char *node, const char *script, const char *cases_path)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s'", node, script, cases_path);
    return popen(cmd, "r");
}

pid_t proc_start(char *const argv[], const char *log_path)
{
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fd);
    return pid;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

bool proc_wait_line(pid_t pid, const char *log_path, const char *prefix, long timeout_ms, char *out,
                    size_t cap)
{
    size_t plen = strlen(prefix);
    for (long waited = 0; waited < timeout_ms; waited += 50) {
        FILE *f = fopen(log_path, "r");
        if (f) {
            char line[1024];
            while (fgets(line, sizeof line, f)) {
                if (strncmp(line, prefix, plen) != 0) continue;
                snprintf(out, cap, "%s", line + plen);
                out[strcspn(out, "\r\n")] = 0;
                fclose(f);
                return true;
            }
            fclose(f);
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) return false;
        sleep_ms(50);
    }
    return false;
}

void proc_stop(pid_t pid)
{
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 60; i++) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) return;
        sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

pid_t anvil_start(const char *anvil_path, const char *log_path, const char *const *extra, char *url,
                  size_t cap)
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)anvil_path;
    argv[n++] = "--host";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--hardfork";
    argv[n++] = "cancun";
    for (; extra && *extra && n < 30; extra++)
        argv[n++] = (char *)*extra;
    argv[n] = NULL;
    pid_t pid = proc_start(argv, log_path);
    if (pid < 0) return -1;
    char addr[128];
    if (!proc_wait_line(pid, log_path, "Listening on ", 20000, addr, sizeof addr)) {
        proc_stop(pid);
        return -1;
    }
    snprintf(url, cap, "http://%s", addr);
    return pid;
}

bool anvil_tmp_start(struct anvil_tmp *a, const char *dir_pattern, const char *anvil_path,
                     char *url, size_t cap)
{
    a->pid = -1;
    snprintf(a->dir, sizeof a->dir, "%s", dir_pattern);
    if (!mkdtemp(a->dir)) return false;
    snprintf(a->log, sizeof a->log, "%s/anvil.log", a->dir);
    a->pid = anvil_start(anvil_path, a->log, NULL, url, cap);
    if (a->pid < 0) {
        fprintf(stderr, "anvil did not start (see %s)\n", a->log);
        return false;
    }
    return true;
}

int anvil_tmp_finish(struct anvil_tmp *a, const char *name)
{
    proc_stop(a->pid);
    int ret = check_report(name);
    if (ret == 0) {
        unlink(a->log);
        rmdir(a->dir);
    }
    return ret;
}
