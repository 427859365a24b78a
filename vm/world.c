/*
 * world.c — the in-memory world: accounts, storage, transient storage,
 * warm/cold sets and logs behind struct vm_host, with a journal for revert.
 *
 * Every mutation made through the host appends the previous value to the
 * journal; a snapshot is the journal length and revert pops entries back to
 * it, newest first. Entries are never deleted from the hash maps during a
 * transaction: an account that "does not exist" is an entry with present ==
 * false, a slot holding zero is as good as absent. That keeps every undo a
 * plain assignment. Deleting accounts (EIP-161, EIP-6780) happens only at the
 * end of a transaction, when the journal is dropped.
 *
 * The tries are rebuilt from the maps when a root is asked for (mpt.c).
 */
#include "world_internal.h"

#include <stdlib.h>
#include <string.h>

enum journal_kind {
    J_BALANCE,
    J_NONCE,
    J_CODE,
    J_STORAGE,
    J_STORAGE_TABLE, /* create_account swapped in an empty storage map */
    J_TRANSIENT,
    J_WARM_ACCOUNT,
    J_WARM_SLOT,
    J_PRESENT,
    J_FLAGS,
    J_LOG,
};

struct journal_entry {
    enum journal_kind kind;
    struct account *acct;
    vm_address addr;
    vm_u256 key;
    union {
        vm_u256 u;
        uint64_t nonce;
        uint8_t flags;
        bool present;
        size_t count;
        struct smap *storage;
        struct {
            uint8_t *data;
            size_t len;
            vm_bytes32 hash;
        } code;
    } old;
};

/* keccak("") */
static const vm_bytes32 empty_code_hash = {{
    0xc5, 0xd2, 0x46, 0x01, 0x86, 0xf7, 0x23, 0x3c, 0x92, 0x7e, 0x7d, 0xb2, 0xdc, 0xc7, 0x03, 0xc0,
    0xe5, 0x00, 0xb6, 0x53, 0xca, 0x82, 0x27, 0x3b, 0x7b, 0xfa, 0xd8, 0x04, 0x5d, 0x85, 0xa4, 0x70,
}};

static const vm_address ripemd_address = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3}};

/* ---------------------------------------------------------------------- */
/* Accounts                                                                 */

struct account *world_find(const struct vm_world *w, const vm_address *addr)
{
    struct account **p = smap_get(&w->accounts, addr->b);
    return p ? *p : NULL;
}

/* The account record for addr, created (not present) if missing. */
static struct account *world_slot_for(struct vm_world *w, const vm_address *addr)
{
    void *v;
    bool created;
    if (smap_put(&w->accounts, addr->b, &v, &created)) return NULL;
    struct account **p = v;
    if (created) {
        struct account *a = calloc(1, sizeof *a);
        if (!a) {
            /* Leave a NULL value: world_find treats it as missing. */
            *p = NULL;
            return NULL;
        }
        a->addr = *addr;
        a->code_hash = empty_code_hash;
        *p = a;
    }
    return *p;
}

static bool account_is_empty(const struct account *a)
{
    return a->nonce == 0 && vm_u256_is_zero(a->balance) && a->code_len == 0;
}

/* Frees an account's contents and makes it absent. */
static void account_wipe(struct account *a)
{
    free(a->code);
    a->code = NULL;
    a->code_len = 0;
    a->code_hash = empty_code_hash;
    if (a->storage) {
        smap_free(a->storage);
        free(a->storage);
        a->storage = NULL;
    }
    a->nonce = 0;
    a->balance = vm_u256_from_u64(0);
    a->present = false;
    a->flags = 0;
}

static struct slot *account_slot(const struct account *a, vm_u256 key)
{
    return a->storage ? smap_get(a->storage, key.w) : NULL;
}

static int account_put_slot(struct account *a, vm_u256 key, struct slot **out)
{
    if (!a->storage) {
        a->storage = malloc(sizeof *a->storage);
        if (!a->storage) return VM_ERR_NOMEM;
        smap_init(a->storage, sizeof key.w, sizeof(struct slot));
    }
    void *v;
    int err = smap_put(a->storage, key.w, &v, NULL);
    if (err) return err;
    *out = v;
    return VM_OK;
}

/* ---------------------------------------------------------------------- */
/* Journal                                                                  */

static struct journal_entry *journal_push(struct vm_world *w, enum journal_kind kind,
                                          struct account *a)
{
    if (w->journal_len == w->journal_cap) {
        size_t cap = w->journal_cap ? w->journal_cap * 2 : 256;
        struct journal_entry *j = realloc(w->journal, cap * sizeof *j);
        if (!j) return NULL;
        w->journal = j;
        w->journal_cap = cap;
    }
    struct journal_entry *e = &w->journal[w->journal_len++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->acct = a;
    return e;
}

/* Drops the journal; old code kept for undo is freed. */
static void journal_drop(struct vm_world *w)
{
    for (size_t i = 0; i < w->journal_len; i++) {
        struct journal_entry *e = &w->journal[i];
        if (e->kind == J_CODE) free(e->old.code.data);
        if (e->kind == J_STORAGE_TABLE && e->old.storage) {
            smap_free(e->old.storage);
            free(e->old.storage);
        }
    }
    w->journal_len = 0;
}

static void log_free(struct vm_log *l)
{
    free((void *)l->data);
    l->data = NULL;
}

static void journal_undo(struct vm_world *w, struct journal_entry *e)
{
    struct account *a = e->acct;
    switch (e->kind) {
    case J_BALANCE: a->balance = e->old.u; break;
    case J_NONCE: a->nonce = e->old.nonce; break;
    case J_CODE:
        free(a->code);
        a->code = e->old.code.data;
        a->code_len = e->old.code.len;
        a->code_hash = e->old.code.hash;
        break;
    case J_STORAGE: {
        struct slot *s = account_slot(a, e->key);
        if (s) s->value = e->old.u;
        break;
    }
    case J_STORAGE_TABLE:
        if (a->storage) {
            smap_free(a->storage);
            free(a->storage);
        }
        a->storage = e->old.storage;
        break;
    case J_TRANSIENT: {
        uint8_t k[52];
        memcpy(k, e->addr.b, 20);
        memcpy(k + 20, e->key.w, 32);
        vm_u256 *v = smap_get(&w->transient, k);
        if (v) *v = e->old.u;
        break;
    }
    case J_WARM_ACCOUNT: {
        uint8_t *v = smap_get(&w->warm_accounts, e->addr.b);
        if (v) *v = 0;
        break;
    }
    case J_WARM_SLOT: {
        uint8_t k[52];
        memcpy(k, e->addr.b, 20);
        memcpy(k + 20, e->key.w, 32);
        uint8_t *v = smap_get(&w->warm_slots, k);
        if (v) *v = 0;
        break;
    }
    case J_PRESENT: a->present = e->old.present; break;
    case J_FLAGS:
        /* The RIPEMD-160 quirk (geth, since the 2016 Shanghai attack
         * cleanup): its touch survives a revert. */
        if ((a->flags & ACCT_TOUCHED) && !(e->old.flags & ACCT_TOUCHED) &&
            memcmp(a->addr.b, ripemd_address.b, 20) == 0)
            w->ripemd_touched = true;
        a->flags = e->old.flags;
        break;
    case J_LOG:
        while (w->logs_len > e->old.count) log_free(&w->logs[--w->logs_len]);
        break;
    }
}

/* Journaled setters. Each returns VM_OK or VM_ERR_NOMEM (then nothing
 * changed). */
static int set_flags(struct vm_world *w, struct account *a, uint8_t flags)
{
    if (a->flags == flags) return VM_OK;
    struct journal_entry *e = journal_push(w, J_FLAGS, a);
    if (!e) return VM_ERR_NOMEM;
    e->old.flags = a->flags;
    a->flags = flags;
    return VM_OK;
}

static int make_present(struct vm_world *w, struct account *a)
{
    if (a->present) return VM_OK;
    struct journal_entry *e = journal_push(w, J_PRESENT, a);
    if (!e) return VM_ERR_NOMEM;
    e->old.present = false;
    a->present = true;
    return VM_OK;
}

static int set_balance(struct vm_world *w, struct account *a, vm_u256 v)
{
    struct journal_entry *e = journal_push(w, J_BALANCE, a);
    if (!e) return VM_ERR_NOMEM;
    e->old.u = a->balance;
    a->balance = v;
    return VM_OK;
}

static int touch(struct vm_world *w, struct account *a)
{
    return set_flags(w, a, a->flags | ACCT_TOUCHED);
}

/* The account at addr, made present and touched (what geth's AddBalance
 * does, even with a zero amount). NULL when out of memory. */
static struct account *touch_create(struct vm_world *w, const vm_address *addr)
{
    struct account *a = world_slot_for(w, addr);
    if (!a || make_present(w, a) || touch(w, a)) return NULL;
    return a;
}

/* ---------------------------------------------------------------------- */
/* Host callbacks. The vm_host_ops signature has no error return for most
 * mutations; an allocation failure there leaves w->failed set, and
 * vm_transaction_apply reports VM_ERR_NOMEM. */

static bool h_account_exists(void *ctx, const vm_address *addr)
{
    struct account *a = world_find(ctx, addr);
    return a && a->present;
}

static bool h_account_is_empty(void *ctx, const vm_address *addr)
{
    struct account *a = world_find(ctx, addr);
    return a && a->present && account_is_empty(a);
}

static vm_u256 h_get_balance(void *ctx, const vm_address *addr)
{
    struct account *a = world_find(ctx, addr);
    return a ? a->balance : vm_u256_from_u64(0);
}

static bool h_transfer(void *ctx, const vm_address *from, const vm_address *to, vm_u256 value)
{
    struct vm_world *w = ctx;
    struct account *f = world_find(w, from);
    vm_u256 have = f ? f->balance : vm_u256_from_u64(0);
    if (vm_u256_cmp(have, value) < 0) return false;
    f = touch_create(w, from);
    struct account *t = f ? touch_create(w, to) : NULL;
    if (!t) {
        w->failed = true;
        return false;
    }
    if (vm_u256_is_zero(value)) return true;
    if (set_balance(w, f, vm_u256_sub(f->balance, value)) ||
        set_balance(w, t, vm_u256_add(t->balance, value))) {
        w->failed = true;
        return false;
    }
    return true;
}

static uint64_t h_get_nonce(void *ctx, const vm_address *addr)
{
    struct account *a = world_find(ctx, addr);
    return a ? a->nonce : 0;
}

static void h_set_nonce(void *ctx, const vm_address *addr, uint64_t nonce)
{
    struct vm_world *w = ctx;
    struct account *a = world_slot_for(w, addr);
    struct journal_entry *e =
        a && !make_present(w, a) && !touch(w, a) ? journal_push(w, J_NONCE, a) : NULL;
    if (!e) {
        w->failed = true;
        return;
    }
    e->old.nonce = a->nonce;
    a->nonce = nonce;
}

static size_t h_get_code(void *ctx, const vm_address *addr, const uint8_t **code)
{
    struct account *a = world_find(ctx, addr);
    if (!a || !a->code_len) {
        *code = NULL;
        return 0;
    }
    *code = a->code;
    return a->code_len;
}

static vm_bytes32 h_get_code_hash(void *ctx, const vm_address *addr)
{
    /* EXTCODEHASH: zero for an absent and for an empty account (EIP-1052,
     * EIP-161). */
    struct account *a = world_find(ctx, addr);
    if (!a || !a->present || account_is_empty(a)) return (vm_bytes32){{0}};
    return a->code_hash;
}

static int h_set_code(void *ctx, const vm_address *addr, const uint8_t *code, size_t len)
{
    struct vm_world *w = ctx;
    struct account *a = world_slot_for(w, addr);
    if (!a || make_present(w, a) || touch(w, a)) return VM_ERR_NOMEM;
    uint8_t *copy = NULL;
    if (len) {
        copy = malloc(len);
        if (!copy) return VM_ERR_NOMEM;
        memcpy(copy, code, len);
    }
    struct journal_entry *e = journal_push(w, J_CODE, a);
    if (!e) {
        free(copy);
        return VM_ERR_NOMEM;
    }
    e->old.code.data = a->code;
    e->old.code.len = a->code_len;
    e->old.code.hash = a->code_hash;
    a->code = copy;
    a->code_len = len;
    vm_keccak256(copy, len, a->code_hash.b);
    return VM_OK;
}

static vm_u256 h_get_storage(void *ctx, const vm_address *addr, vm_u256 key)
{
    struct account *a = world_find(ctx, addr);
    struct slot *s = a ? account_slot(a, key) : NULL;
    return s ? s->value : vm_u256_from_u64(0);
}

static vm_u256 h_get_committed_storage(void *ctx, const vm_address *addr, vm_u256 key)
{
    struct account *a = world_find(ctx, addr);
    struct slot *s = a ? account_slot(a, key) : NULL;
    return s ? s->original : vm_u256_from_u64(0);
}

static int h_set_storage(void *ctx, const vm_address *addr, vm_u256 key, vm_u256 value)
{
    struct vm_world *w = ctx;
    struct account *a = world_slot_for(w, addr);
    struct slot *s;
    if (!a || make_present(w, a) || touch(w, a) || account_put_slot(a, key, &s))
        return VM_ERR_NOMEM;
    struct journal_entry *e = journal_push(w, J_STORAGE, a);
    if (!e) return VM_ERR_NOMEM;
    e->key = key;
    e->old.u = s->value;
    s->value = value;
    return VM_OK;
}

static void pair_key(uint8_t k[52], const vm_address *addr, vm_u256 key)
{
    memcpy(k, addr->b, 20);
    memcpy(k + 20, key.w, 32);
}

static vm_u256 h_get_transient(void *ctx, const vm_address *addr, vm_u256 key)
{
    struct vm_world *w = ctx;
    uint8_t k[52];
    pair_key(k, addr, key);
    vm_u256 *v = smap_get(&w->transient, k);
    return v ? *v : vm_u256_from_u64(0);
}

static int h_set_transient(void *ctx, const vm_address *addr, vm_u256 key, vm_u256 value)
{
    struct vm_world *w = ctx;
    uint8_t k[52];
    pair_key(k, addr, key);
    void *v;
    if (smap_put(&w->transient, k, &v, NULL)) return VM_ERR_NOMEM;
    struct journal_entry *e = journal_push(w, J_TRANSIENT, NULL);
    if (!e) return VM_ERR_NOMEM;
    e->addr = *addr;
    e->key = key;
    memcpy(&e->old.u, v, sizeof e->old.u);
    memcpy(v, &value, sizeof value);
    return VM_OK;
}

/* Marks `k` warm in `set`, journaled as `kind` for addr/key; returns true if
 * it already was (EIP-2929). An allocation failure marks the world failed. */
static bool mark_warm(struct vm_world *w, struct smap *set, const uint8_t *k,
                      enum journal_kind kind, const vm_address *addr, vm_u256 key)
{
    void *v;
    if (smap_put(set, k, &v, NULL)) {
        w->failed = true;
        return false;
    }
    uint8_t *warm = v;
    if (*warm) return true;
    struct journal_entry *e = journal_push(w, kind, NULL);
    if (!e) {
        w->failed = true;
        return false;
    }
    e->addr = *addr;
    e->key = key;
    *warm = 1;
    return false;
}

static bool h_access_account(void *ctx, const vm_address *addr)
{
    struct vm_world *w = ctx;
    return mark_warm(w, &w->warm_accounts, addr->b, J_WARM_ACCOUNT, addr, vm_u256_from_u64(0));
}

static bool h_access_storage(void *ctx, const vm_address *addr, vm_u256 key)
{
    struct vm_world *w = ctx;
    uint8_t k[52];
    pair_key(k, addr, key);
    return mark_warm(w, &w->warm_slots, k, J_WARM_SLOT, addr, key);
}

static int h_emit_log(void *ctx, const vm_address *addr, const vm_bytes32 *topics,
                      size_t n_topics, const uint8_t *data, size_t data_len)
{
    struct vm_world *w = ctx;
    if (n_topics > 4) return VM_ERR_INVALID;
    if (w->logs_len == w->logs_cap) {
        size_t cap = w->logs_cap ? w->logs_cap * 2 : 16;
        struct vm_log *l = realloc(w->logs, cap * sizeof *l);
        if (!l) return VM_ERR_NOMEM;
        w->logs = l;
        w->logs_cap = cap;
    }
    uint8_t *copy = malloc(data_len ? data_len : 1);
    if (!copy) return VM_ERR_NOMEM;
    struct journal_entry *e = journal_push(w, J_LOG, NULL);
    if (!e) {
        free(copy);
        return VM_ERR_NOMEM;
    }
    e->old.count = w->logs_len;
    if (data_len) memcpy(copy, data, data_len);
    struct vm_log *l = &w->logs[w->logs_len++];
    memset(l, 0, sizeof *l);
    l->address = *addr;
    for (size_t i = 0; i < n_topics; i++) l->topics[i] = topics[i];
    l->n_topics = n_topics;
    l->data = copy;
    l->data_len = data_len;
    return VM_OK;
}

static int h_create_account(void *ctx, const vm_address *addr)
{
    struct vm_world *w = ctx;
    struct account *a = world_slot_for(w, addr);
    if (!a || make_present(w, a)) return VM_ERR_NOMEM;
    struct journal_entry *e = journal_push(w, J_STORAGE_TABLE, a);
    if (!e) return VM_ERR_NOMEM;
    /* The old map now belongs to the journal (freed when it is dropped). */
    e->old.storage = a->storage;
    a->storage = NULL;
    e = journal_push(w, J_NONCE, a);
    if (!e) return VM_ERR_NOMEM;
    e->old.nonce = a->nonce;
    a->nonce = 1;
    return set_flags(w, a, a->flags | ACCT_CREATED | ACCT_TOUCHED);
}

static int h_selfdestruct(void *ctx, const vm_address *addr, const vm_address *beneficiary)
{
    struct vm_world *w = ctx;
    struct account *a = world_slot_for(w, addr);
    if (!a || make_present(w, a)) return VM_ERR_NOMEM;
    /* geth's order: take the balance, credit the beneficiary (creating and
     * touching it), and only then destroy a contract created in this
     * transaction, burning whatever it holds (its own balance when it
     * names itself). */
    vm_u256 bal = a->balance;
    int err = set_balance(w, a, vm_u256_from_u64(0));
    if (err) return err;
    struct account *b = touch_create(w, beneficiary);
    if (!b) return VM_ERR_NOMEM;
    if ((err = set_balance(w, b, vm_u256_add(b->balance, bal)))) return err;
    if (a->flags & ACCT_CREATED) {
        if ((err = set_flags(w, a, a->flags | ACCT_DESTRUCTED))) return err;
        return set_balance(w, a, vm_u256_from_u64(0));
    }
    return VM_OK;
}

static void h_touch(void *ctx, const vm_address *addr)
{
    struct vm_world *w = ctx;
    struct account *a = world_find(w, addr);
    /* Touching an absent account leaves no trace (geth creates and then
     * deletes it as empty); only existing ones can be removed by it. */
    if (!a || !a->present) return;
    if (touch(w, a)) w->failed = true;
}

static size_t h_snapshot(void *ctx)
{
    struct vm_world *w = ctx;
    return w->journal_len;
}

static void h_revert(void *ctx, size_t snapshot)
{
    struct vm_world *w = ctx;
    while (w->journal_len > snapshot) journal_undo(w, &w->journal[--w->journal_len]);
}

static vm_bytes32 h_get_block_hash(void *ctx, int64_t number)
{
    struct vm_world *w = ctx;
    if (!w->block_hash_fn) return (vm_bytes32){{0}};
    return w->block_hash_fn(w->block_hash_arg, number);
}

/* EIP-7610: geth asks whether the account's storage root (as committed
 * before the transaction) is non-empty; a slot that is non-zero now or was
 * at the start of the transaction answers the same for every reachable
 * case (a slot written in this transaction means code already ran there). */
static bool h_has_storage(void *ctx, const vm_address *addr)
{
    struct account *a = world_find(ctx, addr);
    if (!a || !a->storage) return false;
    for (size_t i = 0; i < a->storage->cap; i++) {
        void *v;
        if (!smap_at(a->storage, i, NULL, &v)) continue;
        const struct slot *s = v;
        if (!vm_u256_is_zero(s->value) || !vm_u256_is_zero(s->original)) return true;
    }
    return false;
}

static const struct vm_host_ops world_ops = {
    .account_exists = h_account_exists,
    .account_is_empty = h_account_is_empty,
    .get_balance = h_get_balance,
    .transfer = h_transfer,
    .get_nonce = h_get_nonce,
    .set_nonce = h_set_nonce,
    .get_code = h_get_code,
    .get_code_hash = h_get_code_hash,
    .set_code = h_set_code,
    .get_storage = h_get_storage,
    .get_committed_storage = h_get_committed_storage,
    .set_storage = h_set_storage,
    .get_transient = h_get_transient,
    .set_transient = h_set_transient,
    .access_account = h_access_account,
    .access_storage = h_access_storage,
    .emit_log = h_emit_log,
    .create_account = h_create_account,
    .selfdestruct = h_selfdestruct,
    .touch = h_touch,
    .snapshot = h_snapshot,
    .revert = h_revert,
    .get_block_hash = h_get_block_hash,
    .has_storage = h_has_storage,
};

/* ---------------------------------------------------------------------- */
/* Internal helpers for transaction.c                                       */

int world_add_balance(struct vm_world *w, const vm_address *addr, vm_u256 amount)
{
    struct account *a = touch_create(w, addr);
    if (!a) return VM_ERR_NOMEM;
    return set_balance(w, a, vm_u256_add(a->balance, amount));
}

int world_sub_balance(struct vm_world *w, const vm_address *addr, vm_u256 amount)
{
    struct account *a = touch_create(w, addr);
    if (!a) return VM_ERR_NOMEM;
    return set_balance(w, a, vm_u256_sub(a->balance, amount));
}

/* ---------------------------------------------------------------------- */
/* Public API                                                               */

int vm_world_new(struct vm_world **out)
{
    struct vm_world *w = calloc(1, sizeof *w);
    if (!w) return VM_ERR_NOMEM;
    smap_init(&w->accounts, 20, sizeof(struct account *));
    smap_init(&w->warm_accounts, 20, 1);
    smap_init(&w->warm_slots, 52, 1);
    smap_init(&w->transient, 52, sizeof(vm_u256));
    *out = w;
    return VM_OK;
}

static void logs_clear(struct vm_world *w)
{
    while (w->logs_len) log_free(&w->logs[--w->logs_len]);
}

void vm_world_free(struct vm_world *w)
{
    if (!w) return;
    journal_drop(w);
    free(w->journal);
    logs_clear(w);
    free(w->logs);
    for (size_t i = 0; i < w->accounts.cap; i++) {
        void *v;
        if (!smap_at(&w->accounts, i, NULL, &v)) continue;
        struct account *a = *(struct account **)v;
        if (!a) continue;
        account_wipe(a);
        free(a);
    }
    smap_free(&w->accounts);
    smap_free(&w->warm_accounts);
    smap_free(&w->warm_slots);
    smap_free(&w->transient);
    free(w);
}

struct vm_host vm_world_host(struct vm_world *w)
{
    return (struct vm_host){.ops = &world_ops, .ctx = w};
}

int vm_world_set_account(struct vm_world *w, const vm_address *addr, uint64_t nonce,
                         vm_u256 balance, const uint8_t *code, size_t code_len)
{
    struct account *a = world_slot_for(w, addr);
    if (!a) return VM_ERR_NOMEM;
    uint8_t *copy = NULL;
    if (code_len) {
        copy = malloc(code_len);
        if (!copy) return VM_ERR_NOMEM;
        memcpy(copy, code, code_len);
    }
    free(a->code);
    a->code = copy;
    a->code_len = code_len;
    vm_keccak256(copy, code_len, a->code_hash.b);
    a->nonce = nonce;
    a->balance = balance;
    a->present = true;
    return VM_OK;
}

int vm_world_set_storage(struct vm_world *w, const vm_address *addr, vm_u256 key, vm_u256 value)
{
    struct account *a = world_slot_for(w, addr);
    struct slot *s;
    if (!a || account_put_slot(a, key, &s)) return VM_ERR_NOMEM;
    a->present = true;
    s->value = value;
    s->original = value;
    return VM_OK;
}

bool vm_world_account_exists(const struct vm_world *w, const vm_address *addr)
{
    struct account *a = world_find(w, addr);
    return a && a->present;
}

uint64_t vm_world_nonce(const struct vm_world *w, const vm_address *addr)
{
    struct account *a = world_find(w, addr);
    return a ? a->nonce : 0;
}

vm_u256 vm_world_balance(const struct vm_world *w, const vm_address *addr)
{
    struct account *a = world_find(w, addr);
    return a ? a->balance : vm_u256_from_u64(0);
}

size_t vm_world_code(const struct vm_world *w, const vm_address *addr, const uint8_t **code)
{
    return h_get_code((void *)w, addr, code);
}

vm_u256 vm_world_storage(const struct vm_world *w, const vm_address *addr, vm_u256 key)
{
    return h_get_storage((void *)w, addr, key);
}

int vm_world_storage_foreach(const struct vm_world *w, const vm_address *addr,
                             int (*visit)(void *arg, vm_u256 key, vm_u256 value), void *arg)
{
    struct account *a = world_find(w, addr);
    if (!a || !a->storage) return VM_OK;
    for (size_t i = 0; i < a->storage->cap; i++) {
        const void *k;
        void *v;
        if (!smap_at(a->storage, i, &k, &v)) continue;
        const struct slot *s = v;
        if (vm_u256_is_zero(s->value)) continue;
        vm_u256 key;
        memcpy(key.w, k, sizeof key.w);
        int rc = visit(arg, key, s->value);
        if (rc) return rc;
    }
    return VM_OK;
}

static int account_storage_root(const struct account *a, uint8_t root[32])
{
    size_t n = 0;
    struct vm_storage_slot *slots = NULL;
    if (a->storage && a->storage->count) {
        slots = malloc(a->storage->count * sizeof *slots);
        if (!slots) return VM_ERR_NOMEM;
        for (size_t i = 0; i < a->storage->cap; i++) {
            const void *k;
            void *v;
            if (!smap_at(a->storage, i, &k, &v)) continue;
            const struct slot *s = v;
            if (vm_u256_is_zero(s->value)) continue;
            memcpy(slots[n].key.w, k, sizeof slots[n].key.w);
            slots[n].value = s->value;
            n++;
        }
    }
    int err = vm_storage_root(slots, n, root);
    free(slots);
    return err;
}

int vm_world_storage_root(const struct vm_world *w, const vm_address *addr, uint8_t root[32])
{
    struct account *a = world_find(w, addr);
    if (!a || !a->present) return vm_storage_root(NULL, 0, root);
    return account_storage_root(a, root);
}

int vm_world_state_root(const struct vm_world *w, uint8_t root[32])
{
    size_t n = 0, cap = w->accounts.count;
    struct vm_mpt_entry *entries = calloc(cap ? cap : 1, sizeof *entries);
    /* Per account: keccak(address) (32) and its RLP (at most 1+3 + 9 + 33 + 33 + 33). */
    enum { KEY = 32, VAL = 128 };
    uint8_t *mem = malloc((cap ? cap : 1) * (KEY + VAL));
    int err = (!entries || !mem) ? VM_ERR_NOMEM : VM_OK;
    struct vm_buf rlp = {0};
    for (size_t i = 0; !err && i < w->accounts.cap; i++) {
        void *v;
        if (!smap_at(&w->accounts, i, NULL, &v)) continue;
        const struct account *a = *(struct account **)v;
        if (!a || !a->present) continue;
        uint8_t sroot[32];
        size_t mark;
        rlp.len = 0;
        if ((err = account_storage_root(a, sroot))) break;
        if ((err = vm_rlp_list_begin(&rlp, &mark)) || (err = vm_rlp_put_u64(&rlp, a->nonce)) ||
            (err = vm_rlp_put_u256(&rlp, a->balance)) ||
            (err = vm_rlp_put_bytes(&rlp, sroot, 32)) ||
            (err = vm_rlp_put_bytes(&rlp, a->code_hash.b, 32)) ||
            (err = vm_rlp_list_end(&rlp, mark)))
            break;
        if (rlp.len > VAL) {
            err = VM_ERR_INVALID; /* cannot happen: the fields are bounded */
            break;
        }
        uint8_t *key = mem + n * (KEY + VAL), *val = key + KEY;
        vm_keccak256(a->addr.b, 20, key);
        memcpy(val, rlp.data, rlp.len);
        entries[n] = (struct vm_mpt_entry){key, KEY, val, rlp.len};
        n++;
    }
    if (!err) err = vm_mpt_root(entries, n, root);
    vm_buf_free(&rlp);
    free(entries);
    free(mem);
    return err;
}

void vm_world_set_block_hashes(struct vm_world *w, vm_bytes32 (*fn)(void *arg, int64_t number),
                               void *arg)
{
    w->block_hash_fn = fn;
    w->block_hash_arg = arg;
}

void vm_world_begin_tx(struct vm_world *w)
{
    journal_drop(w);
    logs_clear(w);
    smap_clear(&w->warm_accounts);
    smap_clear(&w->warm_slots);
    smap_clear(&w->transient);
    w->ripemd_touched = false;
    w->failed = false;
    for (size_t i = 0; i < w->accounts.cap; i++) {
        void *v;
        if (!smap_at(&w->accounts, i, NULL, &v)) continue;
        struct account *a = *(struct account **)v;
        if (a) a->flags = 0;
    }
}

void vm_world_end_tx(struct vm_world *w)
{
    journal_drop(w);
    for (size_t i = 0; i < w->accounts.cap; i++) {
        void *v;
        if (!smap_at(&w->accounts, i, NULL, &v)) continue;
        struct account *a = *(struct account **)v;
        if (!a) continue;
        bool touched = (a->flags & ACCT_TOUCHED) ||
                       (w->ripemd_touched && memcmp(a->addr.b, ripemd_address.b, 20) == 0);
        if ((a->flags & ACCT_DESTRUCTED) || (a->present && touched && account_is_empty(a))) {
            account_wipe(a);
            continue;
        }
        a->flags = 0;
        if (!a->storage) continue;
        for (size_t j = 0; j < a->storage->cap; j++) {
            void *sv;
            if (!smap_at(a->storage, j, NULL, &sv)) continue;
            struct slot *s = sv;
            s->original = s->value;
        }
    }
    smap_clear(&w->warm_accounts);
    smap_clear(&w->warm_slots);
    smap_clear(&w->transient);
    w->ripemd_touched = false;
}

size_t vm_world_log_count(const struct vm_world *w)
{
    return w->logs_len;
}

const struct vm_log *vm_world_log(const struct vm_world *w, size_t i)
{
    return i < w->logs_len ? &w->logs[i] : NULL;
}

int vm_world_logs_hash(const struct vm_world *w, uint8_t out[32])
{
    struct vm_buf rlp = {0};
    size_t outer, entry, topics;
    int err = vm_rlp_list_begin(&rlp, &outer);
    for (size_t i = 0; !err && i < w->logs_len; i++) {
        const struct vm_log *l = &w->logs[i];
        if ((err = vm_rlp_list_begin(&rlp, &entry)) ||
            (err = vm_rlp_put_bytes(&rlp, l->address.b, 20)) ||
            (err = vm_rlp_list_begin(&rlp, &topics)))
            break;
        for (size_t t = 0; !err && t < l->n_topics; t++)
            err = vm_rlp_put_bytes(&rlp, l->topics[t].b, 32);
        if (err || (err = vm_rlp_list_end(&rlp, topics)) ||
            (err = vm_rlp_put_bytes(&rlp, l->data, l->data_len)) ||
            (err = vm_rlp_list_end(&rlp, entry)))
            break;
    }
    if (!err) err = vm_rlp_list_end(&rlp, outer);
    if (!err) vm_keccak256(rlp.data, rlp.len, out);
    vm_buf_free(&rlp);
    return err;
}
