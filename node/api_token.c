/*
 * Where the control API token lives. The daemon writes it to DATADIR/api.token
 * and, so that `bp move --api HOST:PORT` works without naming the datadir, to
 * ~/.breakpoint/api/HOST_PORT.token; both mode 0600 in 0700 folders.
 */
#include "api.h"
#include "api_token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int registry_path(const char *hostport, char *out, size_t cap, bool create_dirs)
{
    const char *home = getenv("HOME");
    if (!home || !*home) return API_ERR_TOKEN;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/.breakpoint", home);
    if (create_dirs && mkdir(dir, 0700) != 0 && errno != EEXIST) return API_ERR_TOKEN;
    snprintf(dir, sizeof dir, "%s/.breakpoint/api", home);
    if (create_dirs && mkdir(dir, 0700) != 0 && errno != EEXIST) return API_ERR_TOKEN;
    char name[300];
    size_t i = 0;
    for (const char *p = hostport; *p && i + 1 < sizeof name; p++)
        name[i++] = (*p == ':' || *p == '/' || *p == '[' || *p == ']') ? '_' : *p;
    name[i] = '\0';
    if ((size_t)snprintf(out, cap, "%s/%s.token", dir, name) >= cap) return API_ERR_TOKEN;
    return API_OK;
}

static int write_secret(const char *path, const char *token)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return API_ERR_TOKEN;
    size_t len = strlen(token);
    bool ok = write(fd, token, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return API_ERR_TOKEN;
    }
    return API_OK;
}

static int read_secret(const char *path, char out[65])
{
    FILE *f = fopen(path, "r");
    if (!f) return API_ERR_TOKEN;
    char line[128];
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!ok) return API_ERR_TOKEN;
    line[strcspn(line, "\r\n")] = '\0';
    if (strlen(line) != 64) return API_ERR_TOKEN;
    memcpy(out, line, 65);
    return API_OK;
}

int api_token_publish(const char *datadir, const char *hostport, const char *token)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/api.token", datadir);
    int rv = write_secret(path, token);
    if (rv) return rv;
    if (registry_path(hostport, path, sizeof path, true) == API_OK) {
        /* Best effort: the datadir copy is the authoritative one. */
        (void)write_secret(path, token);
    }
    return API_OK;
}

int api_token_find(const char *hostport, const char *datadir, char out[65])
{
    char path[1100];
    if (!datadir) datadir = getenv("BP_DATADIR");
    if (datadir && *datadir) {
        snprintf(path, sizeof path, "%s/api.token", datadir);
        return read_secret(path, out);
    }
    int rv = registry_path(hostport, path, sizeof path, false);
    if (rv) return rv;
    return read_secret(path, out);
}
