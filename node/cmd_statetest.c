/*
 * cmd_statetest.c — `bp statetest PATH... [--fork Cancun] [--filter TEXT] [--json]`:
 * runs state-test files, or every *.json below a folder (recursively, in
 * name order), prints each failure and ends with "N passed, M failed,
 * K skipped". Exit 0 only if nothing failed.
 */
#include "cli.h"
#include "statetest.h"

#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_json_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".json") == 0;
}

/* Runs path (a file, or a folder walked recursively). Returns 0 or -1 (out
 * of memory). An unreadable path counts as a failure. */
static int run_path(const char *path, const struct statetest_options *opt,
                    struct statetest_counts *counts, struct statetest_failures *failures, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0 || depth > 32) {
        counts->failed++;
        if (opt->report) fprintf(opt->report, "FAIL %s: cannot read\n", path);
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) return statetest_run_file(path, opt, counts, failures);

    DIR *dir = opendir(path);
    if (!dir) {
        counts->failed++;
        if (opt->report) fprintf(opt->report, "FAIL %s: cannot open folder\n", path);
        return 0;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) {
                rc = -1;
                break;
            }
            names = p;
        }
        size_t len = strlen(path) + 1 + strlen(e->d_name) + 1;
        names[n] = malloc(len);
        if (!names[n]) {
            rc = -1;
            break;
        }
        snprintf(names[n], len, "%s/%s", path, e->d_name);
        n++;
    }
    closedir(dir);
    if (!rc) qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; !rc && i < n; i++) {
        struct stat sub;
        if (stat(names[i], &sub) != 0) continue;
        if (S_ISDIR(sub.st_mode) || has_json_suffix(names[i]))
            rc = run_path(names[i], opt, counts, failures, depth + 1);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

static void print_json(const struct statetest_counts *c, const struct statetest_failures *f)
{
    json_t *root = json_object();
    json_t *list = json_array();
    if (!root || !list) {
        json_decref(root);
        json_decref(list);
        return;
    }
    for (size_t i = 0; i < f->len; i++) {
        const struct statetest_failure *x = &f->items[i];
        json_array_append_new(list, json_pack("{s:s, s:s, s:i, s:i, s:i, s:s}", "file", x->file,
                                              "test", x->test, "data", x->data, "gas", x->gas,
                                              "value", x->value, "what", x->what));
    }
    json_object_set_new(root, "passed", json_integer((json_int_t)c->passed));
    json_object_set_new(root, "failed", json_integer((json_int_t)c->failed));
    json_object_set_new(root, "skipped", json_integer((json_int_t)c->skipped));
    json_object_set_new(root, "failures", list);
    char *text = json_dumps(root, JSON_INDENT(2));
    if (text) puts(text);
    free(text);
    json_decref(root);
}

int cmd_statetest(int argc, char **argv)
{
    struct statetest_options opt = {.fork = "Cancun", .filter = NULL, .report = stdout};
    bool json = false;
    const char **paths = calloc((size_t)argc, sizeof *paths);
    if (!paths) return cli_fail("out of memory");
    size_t n_paths = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--fork") == 0 && i + 1 < argc) {
            opt.fork = argv[++i];
        } else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc) {
            opt.filter = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            free(paths);
            return cli_fail("statetest: unknown option or missing value: %s", argv[i]);
        } else {
            paths[n_paths++] = argv[i];
        }
    }
    if (strcmp(opt.fork, "Cancun") != 0) {
        free(paths);
        return cli_fail("statetest: only --fork Cancun is implemented (got %s)", opt.fork);
    }
    if (n_paths == 0) {
        free(paths);
        return cli_fail("statetest: no PATH given (see bp statetest --help)");
    }
    if (json) opt.report = NULL;
    struct statetest_counts counts = {0};
    struct statetest_failures failures = {0};
    int rc = 0;
    for (size_t i = 0; !rc && i < n_paths; i++)
        rc = run_path(paths[i], &opt, &counts, json ? &failures : NULL, 0);
    free(paths);
    if (rc) {
        free(failures.items);
        return cli_fail("statetest: out of memory");
    }
    if (json)
        print_json(&counts, &failures);
    else
        printf("%zu passed, %zu failed, %zu skipped\n", counts.passed, counts.failed,
               counts.skipped);
    free(failures.items);
    return counts.failed ? 1 : 0;
}
