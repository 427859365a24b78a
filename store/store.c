/*
 * store.c — the LMDB side of the store: environment, transactions, and the
 * rules that make the safety invariant hold.
 *
 * Layout (one environment, named databases, keys in byte order):
 *   meta         "version" -> u64, "address" -> bin20, "cursor" -> [1, block, hash]
 *   channels     channelId(32) -> channel record
 *   breakpoints  channelId(32) ‖ nonce(8, big-endian) -> breakpoint record
 *   storage      channelId(32) -> private storage of the latest fully signed breakpoint
 *   ownsigs      channelId(32) ‖ nonce(8) -> [1, digest, sig]: what this node signed
 *   heads        channelId(32) -> latest fully signed nonce, final flag, highest own nonce
 *
 * Every rule is checked before the first write of a call, so a refused call
 * leaves an explicit transaction as it was. Durability is LMDB's default
 * (fsync of data and meta page on commit): no MDB_NOSYNC / MDB_NOMETASYNC,
 * since a signature may leave the node as soon as a commit returns.
 */
#include "store.h"

#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCHEMA_VERSION 1
#define DEFAULT_MAP_SIZE ((size_t)1 << 30)
#define MAX_GROW_RETRIES 8
/* Zeroed file space kept ahead of LMDB's last page (see ensure_headroom). */
#define HEADROOM_LOW ((uint64_t)2 << 20)
#define HEADROOM_CHUNK ((uint64_t)8 << 20)

static const char *const db_names[STORE_DB_COUNT_] = {
    "meta", "channels", "breakpoints", "storage", "ownsigs", "heads",
};

struct store {
    MDB_env *env;
    MDB_dbi dbi[STORE_DB_COUNT_];
    size_t map_size;
    int lock_fd;      /* flock'ed: one process per store */
    uint64_t file_size; /* bytes of data.mdb written out ahead (see headroom) */
    struct store_txn *open_txn; /* the caller's explicit transaction, if any */
};

struct store_txn {
    struct store *s;
    MDB_txn *txn;
    int spoilt; /* first IO/NOMEM/FULL error; commit fails with it */
};

const char *store_strerror(int err)
{
    switch (err) {
    case STORE_OK: return "success";
    case STORE_ERR_NOTFOUND: return "no such record";
    case STORE_ERR_CONFLICT: return "a different record is already stored (or signed) there";
    case STORE_ERR_STALE: return "nonce is not above the latest fully signed breakpoint";
    case STORE_ERR_FINAL: return "the channel already has a final breakpoint";
    case STORE_ERR_CORRUPT: return "a stored record is corrupt";
    case STORE_ERR_INVALID: return "invalid argument";
    case STORE_ERR_IO: return "LMDB or file system error";
    case STORE_ERR_NOMEM: return "out of memory";
    case STORE_ERR_FULL: return "the store's map was full (grown now; redo the transaction)";
    case STORE_ERR_VERSION: return "the store has an unknown schema version";
    case STORE_ERR_LOCKED: return "the store is open in another process";
    default: return "unknown store error";
    }
}

static int map_err(int rc)
{
    switch (rc) {
    case 0: return 0;
    case MDB_NOTFOUND: return STORE_ERR_NOTFOUND;
    case MDB_MAP_FULL: return STORE_ERR_FULL;
    case ENOMEM: return STORE_ERR_NOMEM;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH: return STORE_ERR_CORRUPT;
    default: return STORE_ERR_IO;
    }
}

/* Errors after which an LMDB write transaction must not be committed. */
static bool spoils(int err)
{
    return err == STORE_ERR_IO || err == STORE_ERR_NOMEM || err == STORE_ERR_FULL;
}

void store_bp_key(const vm_bytes32 *channel_id, uint64_t nonce, uint8_t key[40])
{
    memcpy(key, channel_id->b, 32);
    for (int i = 0; i < 8; i++) key[32 + i] = (uint8_t)(nonce >> (56 - 8 * i));
}

/* ---------------------------------------------------------------------
 * Low-level get/put inside a transaction
 * --------------------------------------------------------------------- */
static int db_get(struct store_txn *t, enum store_db db, const void *key, size_t key_len,
                  MDB_val *val)
{
    MDB_val k = {key_len, (void *)key};
    return map_err(mdb_get(t->txn, t->s->dbi[db], &k, val));
}

static int db_put(struct store_txn *t, enum store_db db, const void *key, size_t key_len,
                  const void *data, size_t len)
{
    MDB_val k = {key_len, (void *)key};
    MDB_val v = {len, (void *)data};
    int rv = map_err(mdb_put(t->txn, t->s->dbi[db], &k, &v, 0));
    if (rv && spoils(rv) && !t->spoilt) t->spoilt = rv;
    return rv;
}

static int db_put_sbuf(struct store_txn *t, enum store_db db, const void *key, size_t key_len,
                       msgpack_sbuffer *buf)
{
    int rv = db_put(t, db, key, key_len, buf->data, buf->size);
    msgpack_sbuffer_destroy(buf);
    return rv;
}

/* LMDB appends pages at the end of data.mdb as it grows. On ext4 (and most
 * file systems) a commit that extends the file makes fdatasync journal the
 * new size, which costs milliseconds instead of ~0.2 ms. So the store keeps
 * some megabytes of real zeros written past LMDB's last page: commits then
 * overwrite existing blocks. (fallocate would not do: its extents are
 * "unwritten" and converting them on first write is a metadata change too.)
 * LMDB ignores bytes past its last page. Best effort: a failure here only
 * costs speed, so it is not reported. */
static void ensure_headroom(struct store *s)
{
    MDB_envinfo info;
    MDB_stat st;
    if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0) return;
    uint64_t used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    if (s->file_size >= used + HEADROOM_LOW) return;
    int fd;
    if (mdb_env_get_fd(s->env, &fd) != 0) return;
    struct stat fst;
    if (fstat(fd, &fst) != 0) return;
    s->file_size = (uint64_t)fst.st_size;
    if (s->file_size >= used + HEADROOM_LOW) return;
    uint64_t target = used + HEADROOM_CHUNK;
    if (target > s->map_size) target = s->map_size;
    static const uint8_t zeros[65536];
    uint64_t off = s->file_size > used ? s->file_size : used;
    while (off < target) {
        size_t n = target - off < sizeof zeros ? (size_t)(target - off) : sizeof zeros;
        ssize_t w = pwrite(fd, zeros, n, (off_t)off);
        if (w <= 0) break;
        off += (uint64_t)w;
    }
    if (fdatasync(fd) == 0 && off > s->file_size) s->file_size = off;
}

/* ---------------------------------------------------------------------
 * Running an operation in the caller's transaction or in its own
 * --------------------------------------------------------------------- */
typedef int (*store_op)(struct store_txn *t, void *arg);

static int txn_begin_raw(struct store *s, unsigned flags, MDB_txn **out)
{
    int rc = mdb_txn_begin(s->env, NULL, flags, out);
    if (rc == MDB_MAP_RESIZED) {
        /* Another writer grew the map: adopt its size and go on. */
        if (mdb_env_set_mapsize(s->env, 0) != 0) return STORE_ERR_IO;
        rc = mdb_txn_begin(s->env, NULL, flags, out);
    }
    return map_err(rc);
}

static int grow_map(struct store *s)
{
    size_t next = s->map_size * 2;
    if (next < s->map_size) return STORE_ERR_FULL;
    if (mdb_env_set_mapsize(s->env, next) != 0) return STORE_ERR_IO;
    s->map_size = next;
    return 0;
}

static int run_read(struct store *s, struct store_txn *txn, store_op op, void *arg)
{
    if (txn) {
        if (txn->spoilt) return txn->spoilt;
        return op(txn, arg);
    }
    struct store_txn t = {s, NULL, 0};
    int rv = txn_begin_raw(s, MDB_RDONLY, &t.txn);
    if (rv) return rv;
    rv = op(&t, arg);
    mdb_txn_abort(t.txn);
    return rv;
}

static int run_write(struct store *s, struct store_txn *txn, store_op op, void *arg)
{
    if (txn) {
        if (txn->spoilt) return txn->spoilt;
        return op(txn, arg);
    }
    /* LMDB has one writer at a time: this would wait for the caller itself. */
    if (s->open_txn) return STORE_ERR_INVALID;
    for (int attempt = 0;; attempt++) {
        struct store_txn t = {s, NULL, 0};
        int rv = txn_begin_raw(s, 0, &t.txn);
        if (rv) return rv;
        rv = op(&t, arg);
        if (rv == 0 && !t.spoilt) {
            rv = map_err(mdb_txn_commit(t.txn));
            if (rv == 0) ensure_headroom(s);
        } else {
            mdb_txn_abort(t.txn);
            if (rv == 0) rv = t.spoilt;
        }
        if (rv != STORE_ERR_FULL || attempt >= MAX_GROW_RETRIES) return rv;
        rv = grow_map(s);
        if (rv) return rv;
    }
}

int store_txn_begin(struct store *s, struct store_txn **out)
{
    if (s->open_txn) return STORE_ERR_INVALID;
    struct store_txn *t = calloc(1, sizeof *t);
    if (t == NULL) return STORE_ERR_NOMEM;
    t->s = s;
    int rv = txn_begin_raw(s, 0, &t->txn);
    if (rv) {
        free(t);
        return rv;
    }
    s->open_txn = t;
    *out = t;
    return 0;
}

int store_txn_commit(struct store_txn *t)
{
    struct store *s = t->s;
    s->open_txn = NULL;
    int rv = t->spoilt;
    if (rv) {
        mdb_txn_abort(t->txn);
    } else {
        rv = map_err(mdb_txn_commit(t->txn));
        if (rv == 0) ensure_headroom(s);
    }
    free(t);
    if (rv == STORE_ERR_FULL) {
        int g = grow_map(s);
        if (g) return g;
    }
    return rv;
}

void store_txn_abort(struct store_txn *t)
{
    if (t == NULL) return;
    t->s->open_txn = NULL;
    mdb_txn_abort(t->txn);
    free(t);
}

/* ---------------------------------------------------------------------
 * Opening
 * --------------------------------------------------------------------- */
static int check_version(struct store_txn *t, void *arg)
{
    (void)arg;
    MDB_val v;
    int rv = db_get(t, STORE_DB_META, "version", 7, &v);
    if (rv == STORE_ERR_NOTFOUND) {
        msgpack_sbuffer buf;
        rv = record_encode_u64(SCHEMA_VERSION, &buf);
        if (rv) return rv;
        return db_put_sbuf(t, STORE_DB_META, "version", 7, &buf);
    }
    if (rv) return rv;
    uint64_t version;
    if (record_decode_u64(v.mv_data, v.mv_size, &version)) return STORE_ERR_CORRUPT;
    return version == SCHEMA_VERSION ? 0 : STORE_ERR_VERSION;
}

int store_open_with(const char *path, size_t map_size, struct store **out)
{
    if (path == NULL || out == NULL) return STORE_ERR_INVALID;
    if (map_size == 0) map_size = DEFAULT_MAP_SIZE;
    if (mkdir(path, 0700) != 0 && errno != EEXIST) return STORE_ERR_IO;

    struct store *s = calloc(1, sizeof *s);
    if (s == NULL) return STORE_ERR_NOMEM;
    s->lock_fd = -1;

    /* LMDB itself lets several processes share an environment; two nodes on
     * one datadir would each believe their own view, so refuse the second. */
    char lock_path[4096];
    if ((size_t)snprintf(lock_path, sizeof lock_path, "%s/owner.lock", path) >= sizeof lock_path) {
        free(s);
        return STORE_ERR_INVALID;
    }
    s->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0) {
        free(s);
        return STORE_ERR_IO;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        close(s->lock_fd);
        free(s);
        return busy ? STORE_ERR_LOCKED : STORE_ERR_IO;
    }

    int rv = map_err(mdb_env_create(&s->env));
    if (rv) goto fail;
    if (mdb_env_set_maxdbs(s->env, STORE_DB_COUNT_) != 0 ||
        mdb_env_set_mapsize(s->env, map_size) != 0) {
        rv = STORE_ERR_IO;
        goto fail;
    }
    /* MDB_NOTLS: read transactions are not tied to the thread that made them. */
    rv = map_err(mdb_env_open(s->env, path, MDB_NOTLS, 0600));
    if (rv) goto fail;
    MDB_envinfo info;
    if (mdb_env_info(s->env, &info) != 0) {
        rv = STORE_ERR_IO;
        goto fail;
    }
    /* An existing file may be bigger than asked for (grown earlier). */
    s->map_size = info.me_mapsize > map_size ? info.me_mapsize : map_size;

    MDB_txn *txn;
    rv = txn_begin_raw(s, 0, &txn);
    if (rv) goto fail;
    for (int i = 0; i < STORE_DB_COUNT_; i++) {
        rv = map_err(mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]));
        if (rv) {
            mdb_txn_abort(txn);
            goto fail;
        }
    }
    rv = map_err(mdb_txn_commit(txn));
    if (rv) goto fail;
    rv = run_write(s, NULL, check_version, NULL);
    if (rv) goto fail;
    /* The new files' directory entries must survive a power cut too. */
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) != 0) rv = STORE_ERR_IO;
        close(dfd);
        if (rv) goto fail;
    }
    ensure_headroom(s);
    *out = s;
    return 0;

fail:
    store_close(s);
    return rv;
}

int store_open(const char *path, struct store **out)
{
    return store_open_with(path, 0, out);
}

void store_close(struct store *s)
{
    if (s == NULL) return;
    store_txn_abort(s->open_txn);
    if (s->env) mdb_env_close(s->env);
    if (s->lock_fd >= 0) close(s->lock_fd); /* releases the flock */
    free(s);
}

/* ---------------------------------------------------------------------
 * Metadata and cursor
 * --------------------------------------------------------------------- */
struct addr_arg {
    const vm_address *in;
    vm_address *out;
};

static int get_address_op(struct store_txn *t, void *arg)
{
    struct addr_arg *a = arg;
    MDB_val v;
    int rv = db_get(t, STORE_DB_META, "address", 7, &v);
    if (rv) return rv;
    return record_decode_address(v.mv_data, v.mv_size, a->out);
}

static int bind_address_op(struct store_txn *t, void *arg)
{
    struct addr_arg *a = arg;
    vm_address have;
    struct addr_arg g = {NULL, &have};
    int rv = get_address_op(t, &g);
    if (rv == 0) return memcmp(have.b, a->in->b, 20) == 0 ? 0 : STORE_ERR_CONFLICT;
    if (rv != STORE_ERR_NOTFOUND) return rv;
    msgpack_sbuffer buf;
    rv = record_encode_address(a->in, &buf);
    if (rv) return rv;
    return db_put_sbuf(t, STORE_DB_META, "address", 7, &buf);
}

int store_bind_address(struct store *s, struct store_txn *txn, const vm_address *addr)
{
    struct addr_arg a = {addr, NULL};
    return run_write(s, txn, bind_address_op, &a);
}

int store_get_address(struct store *s, struct store_txn *txn, vm_address *out)
{
    struct addr_arg a = {NULL, out};
    return run_read(s, txn, get_address_op, &a);
}

struct cursor_arg {
    uint64_t block;
    vm_bytes32 hash;
};

static int put_cursor_op(struct store_txn *t, void *arg)
{
    struct cursor_arg *c = arg;
    msgpack_sbuffer buf;
    int rv = record_encode_cursor(c->block, &c->hash, &buf);
    if (rv) return rv;
    return db_put_sbuf(t, STORE_DB_META, "cursor", 6, &buf);
}

static int get_cursor_op(struct store_txn *t, void *arg)
{
    struct cursor_arg *c = arg;
    MDB_val v;
    int rv = db_get(t, STORE_DB_META, "cursor", 6, &v);
    if (rv) return rv;
    return record_decode_cursor(v.mv_data, v.mv_size, &c->block, &c->hash);
}

int store_put_cursor(struct store *s, struct store_txn *txn, uint64_t block,
                     const vm_bytes32 *hash)
{
    struct cursor_arg c = {block, *hash};
    return run_write(s, txn, put_cursor_op, &c);
}

int store_get_cursor(struct store *s, struct store_txn *txn, uint64_t *block, vm_bytes32 *hash)
{
    struct cursor_arg c;
    int rv = run_read(s, txn, get_cursor_op, &c);
    if (rv) return rv;
    *block = c.block;
    *hash = c.hash;
    return 0;
}

/* ---------------------------------------------------------------------
 * Channels
 * --------------------------------------------------------------------- */
static int put_channel_op(struct store_txn *t, void *arg)
{
    const struct store_channel *ch = arg;
    msgpack_sbuffer buf;
    int rv = record_encode_channel(ch, &buf);
    if (rv) return rv;
    return db_put_sbuf(t, STORE_DB_CHANNELS, ch->id.b, 32, &buf);
}

int store_put_channel(struct store *s, struct store_txn *txn, const struct store_channel *ch)
{
    return run_write(s, txn, put_channel_op, (void *)ch);
}

struct channel_arg {
    const vm_bytes32 *id;
    struct store_channel *out;
};

static int get_channel_op(struct store_txn *t, void *arg)
{
    struct channel_arg *c = arg;
    MDB_val v;
    int rv = db_get(t, STORE_DB_CHANNELS, c->id->b, 32, &v);
    if (rv) return rv;
    return record_decode_channel(v.mv_data, v.mv_size, c->out);
}

int store_get_channel(struct store *s, struct store_txn *txn, const vm_bytes32 *id,
                      struct store_channel *out)
{
    struct channel_arg c = {id, out};
    return run_read(s, txn, get_channel_op, &c);
}

struct list_arg {
    vm_bytes32 *ids;
    size_t n;
};

static int list_channels_op(struct store_txn *t, void *arg)
{
    struct list_arg *l = arg;
    MDB_cursor *cur;
    int rv = map_err(mdb_cursor_open(t->txn, t->s->dbi[STORE_DB_CHANNELS], &cur));
    if (rv) return rv;
    MDB_stat st;
    rv = map_err(mdb_stat(t->txn, t->s->dbi[STORE_DB_CHANNELS], &st));
    size_t cap = rv ? 0 : st.ms_entries;
    l->ids = NULL;
    l->n = 0;
    if (rv == 0 && cap > 0) {
        l->ids = malloc(cap * sizeof *l->ids);
        if (l->ids == NULL) rv = STORE_ERR_NOMEM;
    }
    MDB_val k, v;
    int rc = rv ? MDB_NOTFOUND : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        if (k.mv_size != 32 || l->n >= cap) {
            rv = STORE_ERR_CORRUPT;
            break;
        }
        memcpy(l->ids[l->n++].b, k.mv_data, 32);
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rv == 0 && rc != MDB_NOTFOUND) rv = map_err(rc);
    mdb_cursor_close(cur);
    if (rv) {
        free(l->ids);
        l->ids = NULL;
        l->n = 0;
    }
    return rv;
}

int store_list_channels(struct store *s, struct store_txn *txn, vm_bytes32 **ids, size_t *n)
{
    struct list_arg l = {NULL, 0};
    int rv = run_read(s, txn, list_channels_op, &l);
    if (rv) return rv;
    *ids = l.ids;
    *n = l.n;
    return 0;
}

/* ---------------------------------------------------------------------
 * Heads and own signatures
 * --------------------------------------------------------------------- */
static int heads_get(struct store_txn *t, const vm_bytes32 *id, struct store_heads *h)
{
    MDB_val v;
    int rv = db_get(t, STORE_DB_HEADS, id->b, 32, &v);
    if (rv == STORE_ERR_NOTFOUND) {
        memset(h, 0, sizeof *h);
        return 0;
    }
    if (rv) return rv;
    return record_decode_heads(v.mv_data, v.mv_size, h);
}

static int heads_put(struct store_txn *t, const vm_bytes32 *id, const struct store_heads *h)
{
    msgpack_sbuffer buf;
    int rv = record_encode_heads(h, &buf);
    if (rv) return rv;
    return db_put_sbuf(t, STORE_DB_HEADS, id->b, 32, &buf);
}

/* What the own-signature table says about (id, nonce) for `digest`:
 * 1 = that digest is signed there (stored sig in *have), 0 = nothing signed
 * there and signing is allowed, or a negative error. Writes nothing. */
static int own_check(struct store_txn *t, const vm_bytes32 *id, uint64_t nonce,
                     const uint8_t digest[32], const struct store_heads *h, uint8_t have[65])
{
    uint8_t key[40];
    store_bp_key(id, nonce, key);
    MDB_val v;
    int rv = db_get(t, STORE_DB_OWNSIGS, key, 40, &v);
    if (rv == 0) {
        uint8_t d[32];
        rv = record_decode_ownsig(v.mv_data, v.mv_size, d, have);
        if (rv) return rv;
        return memcmp(d, digest, 32) == 0 ? 1 : STORE_ERR_CONFLICT;
    }
    if (rv != STORE_ERR_NOTFOUND) return rv;
    if (h->has_latest) {
        if (h->latest_final && nonce > h->latest) return STORE_ERR_FINAL;
        if (nonce <= h->latest) return STORE_ERR_STALE;
    }
    return 0;
}

/* Records a new own signature; updates *h (the caller writes heads). */
static int own_put(struct store_txn *t, const vm_bytes32 *id, uint64_t nonce,
                   const uint8_t digest[32], const uint8_t sig[65], struct store_heads *h)
{
    uint8_t key[40];
    store_bp_key(id, nonce, key);
    msgpack_sbuffer buf;
    int rv = record_encode_ownsig(digest, sig, &buf);
    if (rv) return rv;
    rv = db_put_sbuf(t, STORE_DB_OWNSIGS, key, 40, &buf);
    if (rv) return rv;
    if (!h->has_own || nonce > h->own_max) {
        h->has_own = true;
        h->own_max = nonce;
    }
    return 0;
}

struct sign_arg {
    const vm_bytes32 *id;
    uint64_t nonce;
    const uint8_t *digest;
    const uint8_t *sig;
    uint8_t *out_sig;
};

static int sign_op(struct store_txn *t, void *arg)
{
    struct sign_arg *a = arg;
    struct store_heads h;
    uint8_t have[65];
    int rv = heads_get(t, a->id, &h);
    if (rv) return rv;
    rv = own_check(t, a->id, a->nonce, a->digest, &h, have);
    if (rv < 0) return rv;
    if (rv == 1) {
        memcpy(a->out_sig, have, 65);
        return 0;
    }
    rv = own_put(t, a->id, a->nonce, a->digest, a->sig, &h);
    if (rv) return rv;
    rv = heads_put(t, a->id, &h);
    if (rv) return rv;
    memcpy(a->out_sig, a->sig, 65);
    return 0;
}

int store_sign_breakpoint(struct store *s, struct store_txn *txn, const vm_bytes32 *channel_id,
                          uint64_t nonce, const uint8_t digest[32], const uint8_t sig[65],
                          uint8_t out_sig[65])
{
    uint8_t result[65];
    struct sign_arg a = {channel_id, nonce, digest, sig, result};
    int rv = run_write(s, txn, sign_op, &a);
    if (rv == 0) memcpy(out_sig, result, 65);
    return rv;
}

struct ownsig_arg {
    const vm_bytes32 *id;
    uint64_t nonce;
    uint8_t digest[32];
    uint8_t sig[65];
};

static int get_ownsig_op(struct store_txn *t, void *arg)
{
    struct ownsig_arg *a = arg;
    uint8_t key[40];
    store_bp_key(a->id, a->nonce, key);
    MDB_val v;
    int rv = db_get(t, STORE_DB_OWNSIGS, key, 40, &v);
    if (rv) return rv;
    return record_decode_ownsig(v.mv_data, v.mv_size, a->digest, a->sig);
}

int store_get_own_sig(struct store *s, struct store_txn *txn, const vm_bytes32 *channel_id,
                      uint64_t nonce, uint8_t digest[32], uint8_t sig[65])
{
    struct ownsig_arg a = {channel_id, nonce, {0}, {0}};
    int rv = run_read(s, txn, get_ownsig_op, &a);
    if (rv) return rv;
    if (digest) memcpy(digest, a.digest, 32);
    if (sig) memcpy(sig, a.sig, 65);
    return 0;
}

struct heads_arg {
    const vm_bytes32 *id;
    struct store_heads *out;
};

static int get_heads_op(struct store_txn *t, void *arg)
{
    struct heads_arg *a = arg;
    return heads_get(t, a->id, a->out);
}

int store_get_heads(struct store *s, struct store_txn *txn, const vm_bytes32 *channel_id,
                    struct store_heads *out)
{
    struct heads_arg a = {channel_id, out};
    return run_read(s, txn, get_heads_op, &a);
}

/* ---------------------------------------------------------------------
 * Breakpoints and private storage
 * --------------------------------------------------------------------- */
struct put_bp_arg {
    const struct store_breakpoint *rec;
    const struct vm_storage_slot *slots;
    size_t n_slots;
    struct store_channel ch; /* scratch: too big for the stack of every caller */
};

static int put_bp_op(struct store_txn *t, void *arg)
{
    struct put_bp_arg *a = arg;
    const struct store_breakpoint *rec = a->rec;
    const vm_bytes32 *id = &rec->bp.channel_id;
    uint64_t nonce = rec->bp.nonce;
    bool full = rec->has_sig[0] && rec->has_sig[1];

    struct channel_arg ca = {id, &a->ch};
    int rv = get_channel_op(t, &ca);
    if (rv) return rv;
    struct store_heads h;
    rv = heads_get(t, id, &h);
    if (rv) return rv;

    msgpack_sbuffer rec_buf;
    rv = record_encode_breakpoint(rec, &rec_buf);
    if (rv) return rv;
    uint8_t key[40];
    store_bp_key(id, nonce, key);

    /* Ordering against the latest fully signed breakpoint. */
    if (h.has_latest) {
        if (nonce < h.latest) {
            rv = STORE_ERR_STALE;
        } else if (nonce == h.latest) {
            /* Only the very same fully signed record may be saved again. */
            MDB_val v;
            rv = db_get(t, STORE_DB_BREAKPOINTS, key, 40, &v);
            if (rv == 0) {
                bool same = full && v.mv_size == rec_buf.size &&
                            memcmp(v.mv_data, rec_buf.data, rec_buf.size) == 0;
                rv = same ? 0 : full ? STORE_ERR_CONFLICT : STORE_ERR_STALE;
            } else if (rv == STORE_ERR_NOTFOUND) {
                rv = STORE_ERR_CORRUPT; /* heads name a record that is not there */
            }
        } else if (h.latest_final) {
            rv = STORE_ERR_FINAL;
        }
    }

    /* Our own signature in the record must agree with what we signed. */
    int me = a->ch.me;
    uint8_t digest[32];
    bool new_own = false;
    if (rv == 0 && rec->has_sig[me]) {
        vm_breakpoint_digest(&rec->bp, vm_u256_from_u64(a->ch.chain_id), &a->ch.adjudicator,
                             digest);
        uint8_t have[65];
        /* own_check's ordering rules were applied above (with the equal-nonce
         * case allowed), so only its table lookup matters here. */
        struct store_heads none;
        memset(&none, 0, sizeof none);
        rv = own_check(t, id, nonce, digest, &none, have);
        if (rv == 0) new_own = true;
        if (rv == 1) rv = 0;
    } else if (rv == 0) {
        /* A record without our signature must not overwrite one we signed at
         * this nonce with a different breakpoint: after a restart that record
         * is what the node would re-send (store.h: CONFLICT). */
        vm_breakpoint_digest(&rec->bp, vm_u256_from_u64(a->ch.chain_id), &a->ch.adjudicator,
                             digest);
        uint8_t have[65];
        struct store_heads none;
        memset(&none, 0, sizeof none);
        rv = own_check(t, id, nonce, digest, &none, have);
        if (rv == 1) rv = 0;
    }

    msgpack_sbuffer slot_buf;
    msgpack_sbuffer_init(&slot_buf);
    if (rv == 0) {
        if (full)
            rv = record_encode_storage(nonce, a->slots, a->n_slots, &slot_buf);
        else if (a->slots != NULL || a->n_slots != 0)
            rv = STORE_ERR_INVALID;
    }
    if (rv) {
        msgpack_sbuffer_destroy(&rec_buf);
        msgpack_sbuffer_destroy(&slot_buf);
        return rv;
    }

    /* All checks passed: write. */
    bool heads_dirty = false;
    if (new_own) {
        rv = own_put(t, id, nonce, digest, rec->sigs[me], &h);
        heads_dirty = true;
    }
    if (rv == 0) rv = db_put_sbuf(t, STORE_DB_BREAKPOINTS, key, 40, &rec_buf);
    else msgpack_sbuffer_destroy(&rec_buf);
    if (rv == 0 && full) {
        rv = db_put_sbuf(t, STORE_DB_STORAGE, id->b, 32, &slot_buf);
        h.has_latest = true;
        h.latest = nonce;
        h.latest_final = rec->bp.is_final;
        heads_dirty = true;
    } else {
        msgpack_sbuffer_destroy(&slot_buf);
    }
    if (rv == 0 && heads_dirty) rv = heads_put(t, id, &h);
    return rv;
}

int store_put_breakpoint(struct store *s, struct store_txn *txn,
                         const struct store_breakpoint *rec, const struct vm_storage_slot *slots,
                         size_t n_slots)
{
    if (rec == NULL || !record_breakpoint_valid(rec) || n_slots > STORE_MAX_SLOTS ||
        (n_slots > 0 && slots == NULL))
        return STORE_ERR_INVALID;
    struct put_bp_arg *a = malloc(sizeof *a);
    if (a == NULL) return STORE_ERR_NOMEM;
    a->rec = rec;
    a->slots = slots;
    a->n_slots = n_slots;
    int rv = run_write(s, txn, put_bp_op, a);
    free(a);
    return rv;
}

struct get_bp_arg {
    const vm_bytes32 *id;
    uint64_t nonce;
    bool latest;
    struct store_breakpoint *out;
};

static int get_bp_op(struct store_txn *t, void *arg)
{
    struct get_bp_arg *a = arg;
    uint64_t nonce = a->nonce;
    if (a->latest) {
        struct store_heads h;
        int rv = heads_get(t, a->id, &h);
        if (rv) return rv;
        if (!h.has_latest) return STORE_ERR_NOTFOUND;
        nonce = h.latest;
    }
    uint8_t key[40];
    store_bp_key(a->id, nonce, key);
    MDB_val v;
    int rv = db_get(t, STORE_DB_BREAKPOINTS, key, 40, &v);
    if (rv == STORE_ERR_NOTFOUND && a->latest) return STORE_ERR_CORRUPT;
    if (rv) return rv;
    rv = record_decode_breakpoint(v.mv_data, v.mv_size, a->out);
    if (rv) return rv;
    /* The key and the record must agree, else it is not the record asked for. */
    if (a->out->bp.nonce != nonce || memcmp(a->out->bp.channel_id.b, a->id->b, 32) != 0)
        return STORE_ERR_CORRUPT;
    if (a->latest && !(a->out->has_sig[0] && a->out->has_sig[1])) return STORE_ERR_CORRUPT;
    return 0;
}

int store_get_breakpoint(struct store *s, struct store_txn *txn, const vm_bytes32 *channel_id,
                         uint64_t nonce, struct store_breakpoint *out)
{
    struct get_bp_arg a = {channel_id, nonce, false, out};
    return run_read(s, txn, get_bp_op, &a);
}

int store_get_latest(struct store *s, struct store_txn *txn, const vm_bytes32 *channel_id,
                     struct store_breakpoint *out)
{
    struct get_bp_arg a = {channel_id, 0, true, out};
    return run_read(s, txn, get_bp_op, &a);
}

struct storage_arg {
    const vm_bytes32 *id;
    uint64_t nonce;
    struct vm_storage_slot *slots;
    size_t n;
};

static int get_storage_op(struct store_txn *t, void *arg)
{
    struct storage_arg *a = arg;
    MDB_val v;
    int rv = db_get(t, STORE_DB_STORAGE, a->id->b, 32, &v);
    if (rv) return rv;
    return record_decode_storage(v.mv_data, v.mv_size, &a->nonce, &a->slots, &a->n);
}

int store_get_storage(struct store *s, struct store_txn *txn, const vm_bytes32 *channel_id,
                      uint64_t *nonce, struct vm_storage_slot **slots, size_t *n_slots)
{
    struct storage_arg a = {channel_id, 0, NULL, 0};
    int rv = run_read(s, txn, get_storage_op, &a);
    if (rv) return rv;
    *nonce = a.nonce;
    *slots = a.slots;
    *n_slots = a.n;
    return 0;
}

/* ---------------------------------------------------------------------
 * Raw access
 * --------------------------------------------------------------------- */
struct raw_arg {
    enum store_db db;
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
};

static int raw_put_op(struct store_txn *t, void *arg)
{
    struct raw_arg *a = arg;
    return db_put(t, a->db, a->key, a->key_len, a->value, a->value_len);
}

int store_raw_put(struct store *s, enum store_db db, const uint8_t *key, size_t key_len,
                  const uint8_t *value, size_t value_len)
{
    if ((unsigned)db >= STORE_DB_COUNT_ || key == NULL || key_len == 0 || key_len > 511 ||
        (value == NULL && value_len > 0))
        return STORE_ERR_INVALID;
    struct raw_arg a = {db, key, key_len, value, value_len};
    return run_write(s, NULL, raw_put_op, &a);
}

struct raw_get_arg {
    enum store_db db;
    const uint8_t *key;
    size_t key_len;
    uint8_t *value;
    size_t value_len;
};

static int raw_get_op(struct store_txn *t, void *arg)
{
    struct raw_get_arg *a = arg;
    MDB_val v;
    int rv = db_get(t, a->db, a->key, a->key_len, &v);
    if (rv) return rv;
    a->value = malloc(v.mv_size ? v.mv_size : 1);
    if (a->value == NULL) return STORE_ERR_NOMEM;
    if (v.mv_size) memcpy(a->value, v.mv_data, v.mv_size);
    a->value_len = v.mv_size;
    return 0;
}

int store_raw_get(struct store *s, enum store_db db, const uint8_t *key, size_t key_len,
                  uint8_t **value, size_t *value_len)
{
    if ((unsigned)db >= STORE_DB_COUNT_ || key == NULL || key_len == 0 || key_len > 511)
        return STORE_ERR_INVALID;
    struct raw_get_arg a = {db, key, key_len, NULL, 0};
    int rv = run_read(s, NULL, raw_get_op, &a);
    if (rv) return rv;
    *value = a.value;
    *value_len = a.value_len;
    return 0;
}
