/*
 * The encrypted key file of the datadir: Argon2id (libsodium crypto_pwhash)
 * derives a 32-byte key from the password, XChaCha20-Poly1305 encrypts the
 * private key. The file layout and its write discipline are described in
 * keystore.h.
 */
#include "keystore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "BPKS"
#define VERSION 1
#define HEADER_SIZE 62
#define OFF_ALG 5
#define OFF_OPS 6
#define OFF_MEM 14
#define OFF_SALT 22
#define OFF_NONCE 38
#define CIPHER_SIZE (32 + crypto_aead_xchacha20poly1305_ietf_ABYTES)

/* What new files use: libsodium's "interactive" Argon2id level (2 passes,
 * 64 MiB). The key only guards a node's hot wallet on its own disk, and the
 * node reads it at every start. */
#define OPSLIMIT_NEW crypto_pwhash_OPSLIMIT_INTERACTIVE
#define MEMLIMIT_NEW crypto_pwhash_MEMLIMIT_INTERACTIVE
/* The most a file may ask for on load. */
#define OPSLIMIT_MAX 16ULL
#define MEMLIMIT_MAX (1024ULL * 1024 * 1024)

_Static_assert(HEADER_SIZE + CIPHER_SIZE == KEYSTORE_FILE_SIZE, "file layout");
_Static_assert(crypto_pwhash_SALTBYTES == 16, "salt size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == 24, "nonce size");

/* The secp256k1 group order n, big-endian. */
static const uint8_t SECP_N[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

const char *keystore_strerror(int err)
{
    switch (err) {
    case KEYSTORE_OK:
        return "ok";
    case KEYSTORE_ERR_IO:
        return "file system error";
    case KEYSTORE_ERR_EXISTS:
        return "the datadir already holds a key";
    case KEYSTORE_ERR_NOT_FOUND:
        return "no such file";
    case KEYSTORE_ERR_PASSWORD:
        return "wrong password (or a damaged key file)";
    case KEYSTORE_ERR_FORMAT:
        return "not a breakpoint key file, or an unsupported version";
    case KEYSTORE_ERR_KEY:
        return "not a valid secp256k1 private key";
    case KEYSTORE_ERR_CRYPTO:
        return "key derivation failed (out of memory?)";
    case KEYSTORE_ERR_ARG:
        return "invalid argument";
    default:
        return "unknown keystore error";
    }
}

static bool key_in_range(const uint8_t key[32])
{
    uint8_t any = 0;
    for (int i = 0; i < 32; i++)
        any |= key[i];
    return any != 0 && memcmp(key, SECP_N, 32) < 0;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static int key_path(const char *datadir, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", datadir, name);
    if (n < 0 || (size_t)n >= cap) return KEYSTORE_ERR_ARG;
    return KEYSTORE_OK;
}

/* mkdir -p with mode 0700 for the components it creates. */
static int make_datadir(const char *datadir)
{
    char path[PATH_MAX];
    size_t len = strlen(datadir);
    if (len == 0 || len >= sizeof path) return KEYSTORE_ERR_ARG;
    memcpy(path, datadir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0') continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) return KEYSTORE_ERR_IO;
        path[i] = saved;
    }
    struct stat st;
    if (stat(datadir, &st) != 0) return KEYSTORE_ERR_IO;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return KEYSTORE_ERR_IO;
    }
    return KEYSTORE_OK;
}

static int derive(const char *password, const uint8_t *salt, uint64_t ops, uint64_t mem,
                  uint8_t out[32])
{
    size_t plen = strlen(password);
    if (plen == 0) return KEYSTORE_ERR_ARG;
    if (crypto_pwhash(out, 32, password, plen, salt, (unsigned long long)ops, (size_t)mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return KEYSTORE_ERR_CRYPTO;
    return KEYSTORE_OK;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return KEYSTORE_ERR_IO;
        p += w;
        n -= (size_t)w;
    }
    return KEYSTORE_OK;
}

static int fsync_dir(const char *datadir)
{
    int fd = open(datadir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return KEYSTORE_ERR_IO;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc == 0 ? KEYSTORE_OK : KEYSTORE_ERR_IO;
}

bool keystore_exists(const char *datadir)
{
    char path[PATH_MAX];
    struct stat st;
    if (key_path(datadir, KEYSTORE_FILE_NAME, path, sizeof path) != KEYSTORE_OK) return false;
    return lstat(path, &st) == 0;
}

/* Builds the whole file image in file[KEYSTORE_FILE_SIZE]. */
static int seal(const char *password, const uint8_t key[32], uint8_t *file)
{
    memcpy(file, MAGIC, 4);
    file[4] = VERSION;
    file[OFF_ALG] = (uint8_t)crypto_pwhash_ALG_ARGON2ID13;
    put_be64(file + OFF_OPS, OPSLIMIT_NEW);
    put_be64(file + OFF_MEM, MEMLIMIT_NEW);
    randombytes_buf(file + OFF_SALT, crypto_pwhash_SALTBYTES);
    randombytes_buf(file + OFF_NONCE, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    uint8_t kek[32];
    int err = derive(password, file + OFF_SALT, OPSLIMIT_NEW, MEMLIMIT_NEW, kek);
    if (err) return err;
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(file + HEADER_SIZE, &clen, key, 32, file,
                                               HEADER_SIZE, NULL, file + OFF_NONCE, kek);
    sodium_memzero(kek, sizeof kek);
    return clen == CIPHER_SIZE ? KEYSTORE_OK : KEYSTORE_ERR_CRYPTO;
}

int keystore_create(const char *datadir, const char *password, const uint8_t key[32])
{
    if (sodium_init() < 0) return KEYSTORE_ERR_CRYPTO;
    if (!password || !*password) return KEYSTORE_ERR_ARG;
    if (!key_in_range(key)) return KEYSTORE_ERR_KEY;
    char final_path[PATH_MAX], tmp_path[PATH_MAX];
    int err = key_path(datadir, KEYSTORE_FILE_NAME, final_path, sizeof final_path);
    if (!err) err = key_path(datadir, KEYSTORE_FILE_NAME ".tmp.XXXXXX", tmp_path, sizeof tmp_path);
    if (err) return err;
    err = make_datadir(datadir);
    if (err) return err;
    /* Checked before the slow KDF; link() below is what makes it race-free. */
    if (keystore_exists(datadir)) return KEYSTORE_ERR_EXISTS;

    uint8_t file[KEYSTORE_FILE_SIZE];
    err = seal(password, key, file);
    if (err) return err;

    int fd = mkstemp(tmp_path);
    if (fd < 0) return KEYSTORE_ERR_IO;
    if (fchmod(fd, 0600) != 0 || write_all(fd, file, sizeof file) != KEYSTORE_OK ||
        fsync(fd) != 0) {
        int saved = errno;
        close(fd);
        unlink(tmp_path);
        errno = saved;
        return KEYSTORE_ERR_IO;
    }
    if (close(fd) != 0) {
        int saved = errno;
        unlink(tmp_path);
        errno = saved;
        return KEYSTORE_ERR_IO;
    }
    if (link(tmp_path, final_path) != 0) {
        int saved = errno;
        unlink(tmp_path);
        errno = saved;
        return saved == EEXIST ? KEYSTORE_ERR_EXISTS : KEYSTORE_ERR_IO;
    }
    unlink(tmp_path);
    return fsync_dir(datadir);
}

/* Reads exactly KEYSTORE_FILE_SIZE bytes from path into file. */
static int read_file(const char *path, uint8_t *file)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW);
    if (fd < 0) return errno == ENOENT ? KEYSTORE_ERR_NOT_FOUND : KEYSTORE_ERR_IO;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return KEYSTORE_ERR_IO;
    }
    if (!S_ISREG(st.st_mode) || st.st_size != KEYSTORE_FILE_SIZE) {
        close(fd);
        return KEYSTORE_ERR_FORMAT;
    }
    size_t got = 0;
    while (got < KEYSTORE_FILE_SIZE) {
        ssize_t r = read(fd, file + got, KEYSTORE_FILE_SIZE - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            return r == 0 ? KEYSTORE_ERR_FORMAT : KEYSTORE_ERR_IO;
        }
        got += (size_t)r;
    }
    close(fd);
    return KEYSTORE_OK;
}

int keystore_load(const char *datadir, const char *password, uint8_t key[32])
{
    if (sodium_init() < 0) return KEYSTORE_ERR_CRYPTO;
    if (!password || !*password) return KEYSTORE_ERR_ARG;
    char path[PATH_MAX];
    int err = key_path(datadir, KEYSTORE_FILE_NAME, path, sizeof path);
    if (err) return err;
    uint8_t file[KEYSTORE_FILE_SIZE];
    err = read_file(path, file);
    if (err) return err;

    if (memcmp(file, MAGIC, 4) != 0 || file[4] != VERSION ||
        file[OFF_ALG] != (uint8_t)crypto_pwhash_ALG_ARGON2ID13)
        return KEYSTORE_ERR_FORMAT;
    uint64_t ops = get_be64(file + OFF_OPS), mem = get_be64(file + OFF_MEM);
    if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > OPSLIMIT_MAX ||
        mem < crypto_pwhash_MEMLIMIT_MIN || mem > MEMLIMIT_MAX)
        return KEYSTORE_ERR_FORMAT;

    uint8_t kek[32], plain[32];
    err = derive(password, file + OFF_SALT, ops, mem, kek);
    if (err) return err;
    unsigned long long plen = 0;
    int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plen, NULL, file + HEADER_SIZE,
                                                        CIPHER_SIZE, file, HEADER_SIZE,
                                                        file + OFF_NONCE, kek);
    sodium_memzero(kek, sizeof kek);
    if (rc != 0 || plen != 32) {
        sodium_memzero(plain, sizeof plain);
        return KEYSTORE_ERR_PASSWORD;
    }
    if (!key_in_range(plain)) {
        sodium_memzero(plain, sizeof plain);
        return KEYSTORE_ERR_KEY;
    }
    memcpy(key, plain, 32);
    sodium_memzero(plain, sizeof plain);
    return KEYSTORE_OK;
}

int keystore_read_password_file(const char *path, char *out, size_t cap)
{
    if (cap < 2) return KEYSTORE_ERR_ARG;
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? KEYSTORE_ERR_NOT_FOUND : KEYSTORE_ERR_IO;
    /* Read one byte more than fits, to tell "exactly full" from "too long"
     * (a trailing newline may still make a cap-byte file fit). */
    size_t n = 0;
    int c;
    int err = KEYSTORE_OK;
    char extra[2];
    size_t n_extra = 0;
    while ((c = fgetc(f)) != EOF) {
        if (n < cap - 1) {
            out[n++] = (char)c;
        } else if (n_extra < sizeof extra) {
            extra[n_extra++] = (char)c;
        } else {
            err = KEYSTORE_ERR_ARG;
            break;
        }
    }
    if (!err && ferror(f)) err = KEYSTORE_ERR_IO;
    fclose(f);
    if (!err) {
        /* Anything beyond cap - 1 bytes must be the trailing newline itself. */
        if (n_extra == 1 && extra[0] == '\n') {
            if (n > 0 && out[n - 1] == '\r') n--;
        } else if (n_extra == 2 && extra[0] == '\r' && extra[1] == '\n') {
            /* fine: "\r\n" right after a full buffer */
        } else if (n_extra > 0) {
            err = KEYSTORE_ERR_ARG;
        } else if (n > 0 && out[n - 1] == '\n') {
            n--;
            if (n > 0 && out[n - 1] == '\r') n--;
        }
    }
    if (!err && (n == 0 || memchr(out, '\0', n) != NULL)) err = KEYSTORE_ERR_ARG;
    if (err) {
        sodium_memzero(out, cap);
        return err;
    }
    out[n] = '\0';
    return KEYSTORE_OK;
}
