/*
 * check.h — the value checks the C tests share (chain, p2p): a failed check
 * prints where and what and is counted, and the test keeps going to show every
 * mismatch; check_report gives the exit code at the end. REQUIRE is the fatal
 * form for what the rest of a test depends on. Link tests/lib/check.c.
 */
#ifndef BP_TESTS_LIB_CHECK_H
#define BP_TESTS_LIB_CHECK_H

#include <stdio.h>
#include <stdlib.h>

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

/* A fatal check: the rest of the test makes no sense without it. */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        check_count++;                                                                             \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);             \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* Prints the summary; returns the process exit code (0 if no failure). */
int check_report(const char *name);

#endif
