/*
 * statetest.h — private to node/: the runner of the official Ethereum state
 * tests behind `bp statetest` (statetest_run.c), modelled on evmone's
 * test/statetest. One file holds {name: {env, pre, transaction, post}}; every
 * post[fork][i] case picks one (data, gas, value) combination of the
 * transaction template and gives the expected state root and logs hash.
 */
#ifndef BP_NODE_STATETEST_H
#define BP_NODE_STATETEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct statetest_options {
    const char *fork;   /* the post key to run, "Cancun" by default */
    const char *filter; /* run only tests whose name contains it; NULL = all */
    FILE *report;       /* failures are printed here (NULL: not printed) */
};

struct statetest_counts {
    size_t passed;
    size_t failed;
    size_t skipped; /* cases that need the KZG point evaluation precompile */
};

/* One failed case, as the JSON output lists it. */
struct statetest_failure {
    char file[512];
    char test[256];
    int data, gas, value;
    char what[768];
};

struct statetest_failures {
    struct statetest_failure *items;
    size_t len, cap;
};

/*
 * Runs every matching case of one state-test JSON file and adds to *counts.
 * A file that cannot be read or parsed counts as one failed case.
 * failures (may be NULL) collects each failure.
 * Returns 0, or -1 when out of memory.
 */
int statetest_run_file(const char *path, const struct statetest_options *opt,
                       struct statetest_counts *counts, struct statetest_failures *failures);

#endif
