/*
 * keystore.h — private to node/: the node's Ethereum private key, stored
 * encrypted in the datadir (DESIGN.md §6).
 *
 * One file, DATADIR/keystore, mode 0600, of fixed size (KEYSTORE_FILE_SIZE):
 *
 *   offset size
 *        0    4  magic "BPKS"
 *        4    1  format version (1)
 *        5    1  KDF algorithm (crypto_pwhash_ALG_ARGON2ID13)
 *        6    8  KDF opslimit, big-endian
 *       14    8  KDF memlimit in bytes, big-endian
 *       22   16  KDF salt (random)
 *       38   24  XChaCha20-Poly1305 nonce (random)
 *       62   48  the 32-byte key encrypted, then the 16-byte tag
 *
 * The 62-byte header is the AEAD's associated data, so neither the KDF
 * parameters nor the salt can be changed without the tag failing. The KDF
 * parameters are stored rather than implied so that later versions may raise
 * them and still read old files; on load they are bounded, so a tampered
 * file cannot make the node allocate or spin without limit.
 *
 * The file is written to a temporary file in the same directory, fsync'ed,
 * then link()ed to its final name — link, unlike rename, fails if the name
 * exists, so an existing key is never replaced even by a racing writer —
 * and the directory is fsync'ed. A datadir that does not exist is created
 * with mode 0700.
 */
#ifndef BP_NODE_KEYSTORE_H
#define BP_NODE_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYSTORE_FILE_NAME "keystore"
#define KEYSTORE_FILE_SIZE 110
/* Longest password keystore_read_password_file accepts, without the NUL. */
#define KEYSTORE_PASSWORD_MAX 1023

enum keystore_error {
    KEYSTORE_OK = 0,
    KEYSTORE_ERR_IO = -1,        /* a file system call failed: errno tells which */
    KEYSTORE_ERR_EXISTS = -2,    /* the datadir already holds a key */
    KEYSTORE_ERR_NOT_FOUND = -3, /* no key in the datadir */
    KEYSTORE_ERR_PASSWORD = -4,  /* wrong password (or a damaged file: the tag fails) */
    KEYSTORE_ERR_FORMAT = -5,    /* not a keystore file, or an unknown version/parameters */
    KEYSTORE_ERR_KEY = -6,       /* not a valid secp256k1 private key (0 or >= n) */
    KEYSTORE_ERR_CRYPTO = -7,    /* libsodium failed (e.g. out of memory for Argon2) */
    KEYSTORE_ERR_ARG = -8,       /* empty password, path too long, password file invalid */
};

#if defined(__GNUC__)
#define KEYSTORE_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define KEYSTORE_WARN_UNUSED
#endif

/* Returns a static text for an enum keystore_error value. */
const char *keystore_strerror(int err);

/*
 * Stores key encrypted under password in DATADIR/keystore, creating datadir
 * (mode 0700, and its missing parents) if needed.
 * In:  datadir, password (non-empty, NUL-terminated), key (32 bytes, 0 < key < n).
 * Returns KEYSTORE_OK, KEYSTORE_ERR_EXISTS (nothing is written),
 * KEYSTORE_ERR_KEY, KEYSTORE_ERR_ARG, KEYSTORE_ERR_CRYPTO or KEYSTORE_ERR_IO
 * (errno set; no partial file is left behind).
 */
KEYSTORE_WARN_UNUSED int keystore_create(const char *datadir, const char *password,
                                         const uint8_t key[32]);

/*
 * Loads and decrypts the key of DATADIR/keystore.
 * Out: key (32 bytes; untouched on failure).
 * Returns KEYSTORE_OK, KEYSTORE_ERR_NOT_FOUND, KEYSTORE_ERR_PASSWORD,
 * KEYSTORE_ERR_FORMAT, KEYSTORE_ERR_KEY, KEYSTORE_ERR_ARG, KEYSTORE_ERR_CRYPTO
 * or KEYSTORE_ERR_IO (errno set).
 */
KEYSTORE_WARN_UNUSED int keystore_load(const char *datadir, const char *password, uint8_t key[32]);

/* True if DATADIR/keystore exists (whatever its content). */
bool keystore_exists(const char *datadir);

/*
 * Reads a password file: its whole content, minus one trailing "\n" (or
 * "\r\n"). The password must be non-empty, at most cap - 1 bytes, and hold
 * no NUL byte.
 * Out: out (NUL-terminated).
 * Returns KEYSTORE_OK, KEYSTORE_ERR_NOT_FOUND, KEYSTORE_ERR_IO (errno set)
 * or KEYSTORE_ERR_ARG (empty, too long, or a NUL byte).
 */
KEYSTORE_WARN_UNUSED int keystore_read_password_file(const char *path, char *out, size_t cap);

#endif
