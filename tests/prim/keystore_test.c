/*
 * node/keystore.c: round trip, wrong password, tampering, no overwrite,
 * file modes, and the password-file rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keystore.h"

struct fixture {
    char dir[64];
    char datadir[128];
    char keyfile[160];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    strcpy(f->dir, "/tmp/bp-keystore-test-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->datadir, sizeof f->datadir, "%s/a/b", f->dir);
    snprintf(f->keyfile, sizeof f->keyfile, "%s/%s", f->datadir, KEYSTORE_FILE_NAME);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static const uint8_t KEY[32] = {
    0xac, 0x09, 0x74, 0xbe, 0xc3, 0x9a, 0x17, 0xe3, 0x6b, 0xa4, 0xa6, 0xb4, 0xd2, 0x38, 0xff, 0x94,
    0x4b, 0xac, 0xb4, 0x78, 0xcb, 0xed, 0x5e, 0xfc, 0xae, 0x78, 0x4d, 0x7b, 0xf4, 0xf2, 0xff, 0x80,
};

static void flip_byte(const char *path, long offset)
{
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, offset, SEEK_SET), 0);
    int c = fgetc(fp);
    assert_true(c != EOF);
    assert_int_equal(fseek(fp, offset, SEEK_SET), 0);
    assert_int_equal(fputc(c ^ 0x01, fp), c ^ 0x01);
    assert_int_equal(fclose(fp), 0);
}

static void test_round_trip_and_modes(void **state)
{
    struct fixture *f = *state;
    uint8_t got[32];
    assert_false(keystore_exists(f->datadir));
    assert_int_equal(keystore_load(f->datadir, "pw", got), KEYSTORE_ERR_NOT_FOUND);
    assert_int_equal(keystore_create(f->datadir, "correct horse", KEY), KEYSTORE_OK);
    assert_true(keystore_exists(f->datadir));

    struct stat st;
    assert_int_equal(stat(f->keyfile, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, KEYSTORE_FILE_SIZE);
    assert_int_equal(stat(f->datadir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    /* The key is not stored in clear. */
    FILE *fp = fopen(f->keyfile, "rb");
    assert_non_null(fp);
    uint8_t raw[KEYSTORE_FILE_SIZE];
    assert_int_equal(fread(raw, 1, sizeof raw, fp), sizeof raw);
    fclose(fp);
    assert_memory_equal(raw, "BPKS\x01", 5);
    for (size_t i = 0; i + 4 <= sizeof raw; i++)
        assert_memory_not_equal(raw + i, KEY, 4);

    memset(got, 0, sizeof got);
    assert_int_equal(keystore_load(f->datadir, "correct horse", got), KEYSTORE_OK);
    assert_memory_equal(got, KEY, 32);

    uint8_t untouched[32];
    memset(untouched, 0x5a, sizeof untouched);
    assert_int_equal(keystore_load(f->datadir, "correct horse!", untouched), KEYSTORE_ERR_PASSWORD);
    assert_int_equal(keystore_load(f->datadir, "Correct horse", untouched), KEYSTORE_ERR_PASSWORD);
    for (int i = 0; i < 32; i++)
        assert_int_equal(untouched[i], 0x5a);
    assert_string_equal(keystore_strerror(KEYSTORE_ERR_PASSWORD),
                        "wrong password (or a damaged key file)");

    /* Never overwritten, whatever the password or key. */
    uint8_t other[32];
    memset(other, 7, sizeof other);
    assert_int_equal(keystore_create(f->datadir, "other", other), KEYSTORE_ERR_EXISTS);
    assert_int_equal(keystore_load(f->datadir, "correct horse", got), KEYSTORE_OK);
    assert_memory_equal(got, KEY, 32);
    /* No temporary files left behind. */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", f->datadir);
    assert_int_equal(system(cmd), 0);
}

static void test_tampering(void **state)
{
    struct fixture *f = *state;
    uint8_t got[32];
    assert_int_equal(keystore_create(f->datadir, "pw", KEY), KEYSTORE_OK);

    /* Salt, nonce, ciphertext and tag are all authenticated: any flip fails. */
    static const long offsets[] = {22, 37, 38, 61, 62, 93, 94, 109};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        flip_byte(f->keyfile, offsets[i]);
        assert_int_equal(keystore_load(f->datadir, "pw", got), KEYSTORE_ERR_PASSWORD);
        flip_byte(f->keyfile, offsets[i]);
        assert_int_equal(keystore_load(f->datadir, "pw", got), KEYSTORE_OK);
    }
    /* The KDF parameters too (ops 2 -> 3 is still in bounds: the tag catches it). */
    flip_byte(f->keyfile, 13);
    assert_int_equal(keystore_load(f->datadir, "pw", got), KEYSTORE_ERR_PASSWORD);
    flip_byte(f->keyfile, 13);
    /* Magic, version, algorithm, or parameters out of bounds: a format error. */
    static const long format_offsets[] = {0, 4, 5, 6, 14};
    for (size_t i = 0; i < sizeof format_offsets / sizeof format_offsets[0]; i++) {
        flip_byte(f->keyfile, format_offsets[i]);
        assert_int_equal(keystore_load(f->datadir, "pw", got), KEYSTORE_ERR_FORMAT);
        flip_byte(f->keyfile, format_offsets[i]);
    }
    /* A truncated or extended file. */
    assert_int_equal(truncate(f->keyfile, KEYSTORE_FILE_SIZE - 1), 0);
    assert_int_equal(keystore_load(f->datadir, "pw", got), KEYSTORE_ERR_FORMAT);
    assert_int_equal(truncate(f->keyfile, KEYSTORE_FILE_SIZE + 1), 0);
    assert_int_equal(keystore_load(f->datadir, "pw", got), KEYSTORE_ERR_FORMAT);
}

static void test_bad_arguments(void **state)
{
    struct fixture *f = *state;
    uint8_t zero[32] = {0}, n[32];
    memset(n, 0xff, sizeof n);
    assert_int_equal(keystore_create(f->datadir, "", KEY), KEYSTORE_ERR_ARG);
    assert_int_equal(keystore_create(f->datadir, "pw", zero), KEYSTORE_ERR_KEY);
    assert_int_equal(keystore_create(f->datadir, "pw", n), KEYSTORE_ERR_KEY);
    assert_false(keystore_exists(f->datadir));
    /* A datadir path that is a file. */
    char file[160];
    snprintf(file, sizeof file, "%s/plainfile", f->dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(keystore_create(file, "pw", KEY), KEYSTORE_ERR_IO);
}

static void write_file(const char *path, const char *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

static void test_password_file(void **state)
{
    struct fixture *f = *state;
    char path[160], out[8];
    snprintf(path, sizeof path, "%s/pw", f->dir);
    static const struct {
        const char *data;
        size_t n;
        int rc;
        const char *want;
    } v[] = {
        {"secret\n", 7, KEYSTORE_OK, "secret"},
        {"secret", 6, KEYSTORE_OK, "secret"},
        {"secret\r\n", 8, KEYSTORE_OK, "secret"},
        {"two\n\n", 5, KEYSTORE_OK, "two\n"}, /* only one newline is stripped */
        {" sp ace\n", 8, KEYSTORE_OK, " sp ace"},
        {"1234567\n", 8, KEYSTORE_OK, "1234567"}, /* exactly cap - 1 bytes + newline */
        {"1234567\r\n", 9, KEYSTORE_OK, "1234567"},
        {"1234567", 7, KEYSTORE_OK, "1234567"},
        {"12345678", 8, KEYSTORE_ERR_ARG, NULL}, /* too long */
        {"12345678\n", 9, KEYSTORE_ERR_ARG, NULL},
        {"\n", 1, KEYSTORE_ERR_ARG, NULL}, /* empty */
        {"", 0, KEYSTORE_ERR_ARG, NULL},
        {"a\0b\n", 4, KEYSTORE_ERR_ARG, NULL}, /* NUL inside */
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        write_file(path, v[i].data, v[i].n);
        memset(out, 'x', sizeof out);
        int rc = keystore_read_password_file(path, out, sizeof out);
        if (rc != v[i].rc) fail_msg("case %zu: rc %d, want %d", i, rc, v[i].rc);
        if (v[i].want) assert_string_equal(out, v[i].want);
    }
    snprintf(path, sizeof path, "%s/missing", f->dir);
    assert_int_equal(keystore_read_password_file(path, out, sizeof out), KEYSTORE_ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_and_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
