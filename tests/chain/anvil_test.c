/*
 * The chain client against a real node: anvil (pinned npm binary, --hardfork
 * cancun, 127.0.0.1 on a free port, stopped by its PID).
 *
 * Covers: chain id, balances and a value transfer, deploying a contract from
 * raw init code (our own signed type-2 transactions), eth_call, receipts and
 * logs, eth_getLogs, eth_getProof (checked against the block's state root and
 * our own storage-root computation), confirmations, nonces over several
 * transactions in flight, resubmission of a stuck transaction with a higher
 * fee, a reverted transaction, the wrong-chain guard, generic calls to
 * test-only methods, and the log watcher across a reorg.
 *
 * Usage: anvil_test ANVIL
 */
#include "chain.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEY0 "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define ADDR1 "70997970c51812dc3a010c7d01b50e0d17dc79c8"

/*
 * A tiny contract, hand-assembled. Runtime: x = calldataload(0);
 * if x == 0 return sload(0); else sstore(0, x) and LOG1(data = x, topic = 0x11..11).
 * Init code: copy the runtime (67 bytes at offset 11) to memory and return it.
 */
#define RUNTIME                                                                                    \
    "6000358015603657806000556000527f"                                                             \
    "1111111111111111111111111111111111111111111111111111111111111111"                             \
    "60206000a1005b5060005460005260206000f3"
#define INIT "604380600b6000396000f3" RUNTIME
#define TOPIC "1111111111111111111111111111111111111111111111111111111111111111"

static char anvil_url[256];
static struct chain_client *cl;
static struct vm_secp *secp;
static uint8_t *key0;

static void mine(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        CHECK_EQ(chain_rpc(cl, "evm_mine", "[]", NULL), CHAIN_OK);
}

static void set_automine(bool on)
{
    CHECK_EQ(chain_rpc(cl, "evm_setAutomine", on ? "[true]" : "[false]", NULL), CHAIN_OK);
}

static void word_of(uint64_t v, uint8_t out[32])
{
    vm_u256_to_be(vm_u256_from_u64(v), out);
}

/* The state the later steps share. */
static vm_address contract;

static void basics(struct chain_wallet *w)
{
    uint64_t id, head;
    CHECK_EQ(chain_chain_id(cl, &id), CHAIN_OK);
    CHECK_EQ(id, 31337);
    CHECK_EQ(chain_check_chain_id(cl), CHAIN_OK);
    CHECK_EQ(chain_block_number(cl, &head), CHAIN_OK);
    CHECK_EQ(head, 0);

    vm_u256 tip, max_fee;
    CHECK_EQ(chain_wallet_fees(w, &tip, &max_fee), CHAIN_OK);
    struct chain_block b;
    CHECK_EQ(chain_get_block(cl, CHAIN_BLOCK_LATEST, &b), CHAIN_OK);
    CHECK(vm_u256_cmp(max_fee, b.base_fee) > 0);
    CHECK(vm_u256_cmp(max_fee, tip) >= 0);
    CHECK_EQ(chain_get_block(cl, 1000000, &b), CHAIN_ERR_NOT_FOUND);

    /* send value: 1 ether from account 0 to account 1 */
    vm_address a1;
    CHECK_EQ(vm_address_parse(ADDR1, &a1), VM_OK);
    vm_u256 before, after, one_ether = vm_u256_from_u64(1000000000000000000ULL);
    CHECK_EQ(chain_get_balance(cl, &a1, CHAIN_BLOCK_LATEST, &before), CHAIN_OK);
    CHECK(vm_u256_eq(before, vm_u256_mul(vm_u256_from_u64(10000), one_ether)));
    struct chain_receipt r;
    CHECK_EQ(chain_wallet_send(w, &a1, one_ether, NULL, 0, 0, &r), CHAIN_OK);
    CHECK(r.status);
    CHECK_EQ(r.gas_used, 21000);
    CHECK_EQ(r.block_number, 1);
    CHECK(!r.has_contract_address);
    chain_receipt_free(&r);
    CHECK_EQ(chain_get_balance(cl, &a1, CHAIN_BLOCK_LATEST, &after), CHAIN_OK);
    CHECK(vm_u256_eq(after, vm_u256_add(before, one_ether)));
    /* history is queryable by number */
    CHECK_EQ(chain_get_balance(cl, &a1, 0, &after), CHAIN_OK);
    CHECK(vm_u256_eq(after, before));
    uint64_t nonce;
    CHECK_EQ(chain_get_nonce(cl, chain_wallet_address(w), CHAIN_BLOCK_LATEST, &nonce), CHAIN_OK);
    CHECK_EQ(nonce, 1);
}

static void deploy_and_call(struct chain_wallet *w)
{
    size_t init_len, rt_len;
    uint8_t *init = hex_alloc(INIT, &init_len);
    uint8_t *runtime = hex_alloc(RUNTIME, &rt_len);
    CHECK_EQ(rt_len, 0x43);
    struct chain_receipt r;
    CHECK_EQ(chain_wallet_send(w, NULL, vm_u256_from_u64(0), init, init_len, 0, &r), CHAIN_OK);
    CHECK(r.status);
    CHECK(r.has_contract_address);
    vm_address want;
    vm_create_address(chain_wallet_address(w), 1, &want);
    CHECK(memcmp(r.contract_address.b, want.b, 20) == 0);
    contract = r.contract_address;
    chain_receipt_free(&r);

    struct vm_buf code = {0};
    CHECK_EQ(chain_get_code(cl, &contract, CHAIN_BLOCK_LATEST, &code), CHAIN_OK);
    CHECK_HEX(code.data, code.len, RUNTIME);
    vm_buf_free(&code);

    /* store 42: one log with our topic and the value as data */
    uint8_t word[32];
    word_of(42, word);
    CHECK_EQ(chain_wallet_send(w, &contract, vm_u256_from_u64(0), word, 32, 0, &r), CHAIN_OK);
    CHECK(r.status);
    CHECK_EQ(r.logs.n, 1);
    if (r.logs.n == 1) {
        CHECK(memcmp(r.logs.items[0].address.b, contract.b, 20) == 0);
        CHECK_EQ(r.logs.items[0].n_topics, 1);
        CHECK_HEX(r.logs.items[0].topics[0].b, 32, TOPIC);
        CHECK_EQ(r.logs.items[0].data_len, 32);
        CHECK(r.logs.items[0].data_len == 32 && memcmp(r.logs.items[0].data, word, 32) == 0);
        CHECK_EQ(r.logs.items[0].block_number, r.block_number);
    }
    uint64_t stored_block = r.block_number;
    chain_receipt_free(&r);

    /* eth_call reads it back; decode as ABI */
    struct chain_call call = {NULL, &contract, {{0}}, NULL, 0, 0};
    struct vm_buf out = {0};
    CHECK_EQ(chain_eth_call(cl, &call, CHAIN_BLOCK_LATEST, &out), CHAIN_OK);
    struct chain_abi_value v;
    CHECK_EQ(chain_abi_decode("(uint256)", out.data, out.len, &v), CHAIN_OK);
    CHECK_EQ(v.n_items, 1);
    if (v.n_items == 1) CHECK_EQ(v.items[0].word.w[0], 42);
    chain_abi_value_clear(&v);
    out.len = 0;
    /* at the block before the store it was 0 */
    CHECK_EQ(chain_eth_call(cl, &call, stored_block - 1, &out), CHAIN_OK);
    CHECK(out.len == 32 && vm_u256_is_zero(vm_u256_from_be(out.data, 32)));
    vm_buf_free(&out);

    /* eth_getLogs by address and topic */
    struct chain_log_filter f = {&contract, {{{0}}}, {true}, 1};
    size_t tl;
    uint8_t *topic = hex_alloc(TOPIC, &tl);
    memcpy(f.topics[0].b, topic, 32);
    free(topic);
    struct chain_logs logs = {0};
    uint64_t head;
    CHECK_EQ(chain_block_number(cl, &head), CHAIN_OK);
    CHECK_EQ(chain_get_logs(cl, &f, 0, head, &logs), CHAIN_OK);
    CHECK_EQ(logs.n, 1);
    if (logs.n == 1) CHECK_EQ(logs.items[0].block_number, stored_block);
    chain_logs_free(&logs);
    /* a topic that matches nothing */
    f.topics[0].b[0] ^= 1;
    CHECK_EQ(chain_get_logs(cl, &f, 0, head, &logs), CHAIN_OK);
    CHECK_EQ(logs.n, 0);
    chain_logs_free(&logs);
    CHECK_EQ(chain_get_logs(cl, &f, 5, 4, &logs), CHAIN_ERR_INVALID);

    /* eth_getProof: slot 0 holds 42; the proofs hash up to the roots */
    vm_u256 keys[1] = {vm_u256_from_u64(0)};
    struct chain_account_proof pr;
    CHECK_EQ(chain_get_proof(cl, &contract, keys, 1, CHAIN_BLOCK_LATEST, &pr), CHAIN_OK);
    CHECK_EQ(pr.n_storage, 1);
    CHECK_EQ(pr.nonce, 1);
    if (pr.n_storage == 1) {
        CHECK_EQ(pr.storage[0].value.w[0], 42);
        CHECK(pr.storage[0].proof.n >= 1);
        if (pr.storage[0].proof.n) {
            uint8_t h[32];
            vm_keccak256(pr.storage[0].proof.nodes[0].data, pr.storage[0].proof.nodes[0].len, h);
            CHECK(memcmp(h, pr.storage_hash.b, 32) == 0);
        }
    }
    struct chain_block b;
    CHECK_EQ(chain_get_block(cl, CHAIN_BLOCK_LATEST, &b), CHAIN_OK);
    CHECK(pr.account_proof.n >= 1);
    if (pr.account_proof.n) {
        uint8_t h[32];
        vm_keccak256(pr.account_proof.nodes[0].data, pr.account_proof.nodes[0].len, h);
        CHECK(memcmp(h, b.state_root.b, 32) == 0);
    }
    uint8_t ch[32];
    vm_keccak256(runtime, rt_len, ch);
    CHECK(memcmp(ch, pr.code_hash.b, 32) == 0);
    /* our storage root of {0: 42} equals the node's storageHash (DESIGN §3) */
    struct vm_storage_slot slot = {vm_u256_from_u64(0), vm_u256_from_u64(42)};
    uint8_t root[32];
    CHECK_EQ(vm_storage_root(&slot, 1, root), VM_OK);
    CHECK(memcmp(root, pr.storage_hash.b, 32) == 0);
    chain_account_proof_free(&pr);
    free(init);
    free(runtime);
}

static void confirmations_and_nonces(void)
{
    struct chain_wallet_opts o = {.confirmations = 3, .stuck_after_ms = 600000};
    struct chain_wallet *w;
    CHECK_EQ(chain_wallet_new(cl, secp, key0, &o, &w), CHAIN_OK);
    uint8_t word[32];
    word_of(7, word);
    struct chain_pending p;
    struct chain_receipt r;
    CHECK_EQ(chain_wallet_submit(w, &contract, vm_u256_from_u64(0), word, 32, 100000, &p),
             CHAIN_OK);
    /* automine: mined at once, but one confirmation is not three */
    CHECK_EQ(chain_wallet_poll(w, &p, &r), CHAIN_ERR_NOT_FOUND);
    mine(1);
    CHECK_EQ(chain_wallet_poll(w, &p, &r), CHAIN_ERR_NOT_FOUND);
    mine(1);
    CHECK_EQ(chain_wallet_poll(w, &p, &r), CHAIN_OK);
    CHECK(r.status);
    CHECK(memcmp(r.tx_hash.b, p.hashes[0].b, 32) == 0);
    chain_receipt_free(&r);
    chain_wallet_free(w);

    /* three transactions in flight at once (no automine): consecutive nonces */
    o.confirmations = 1;
    CHECK_EQ(chain_wallet_new(cl, secp, key0, &o, &w), CHAIN_OK);
    uint64_t start;
    CHECK_EQ(chain_get_nonce(cl, chain_wallet_address(w), CHAIN_BLOCK_LATEST, &start), CHAIN_OK);
    set_automine(false);
    struct chain_pending ps[3];
    uint8_t words[3][32];
    for (int i = 0; i < 3; i++) {
        word_of(100 + (uint64_t)i, words[i]);
        CHECK_EQ(
            chain_wallet_submit(w, &contract, vm_u256_from_u64(0), words[i], 32, 100000, &ps[i]),
            CHAIN_OK);
        CHECK_EQ(ps[i].tx.nonce, start + (uint64_t)i);
    }
    uint64_t pending;
    CHECK_EQ(chain_get_nonce(cl, chain_wallet_address(w), CHAIN_BLOCK_PENDING, &pending), CHAIN_OK);
    CHECK_EQ(pending, start + 3);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(chain_wallet_poll(w, &ps[i], &r), CHAIN_ERR_NOT_FOUND);
    mine(1);
    uint64_t block = 0;
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(chain_wallet_poll(w, &ps[i], &r), CHAIN_OK);
        CHECK(r.status);
        if (i == 0) block = r.block_number;
        CHECK_EQ(r.block_number, block);
        chain_receipt_free(&r);
    }
    uint64_t now;
    CHECK_EQ(chain_get_nonce(cl, chain_wallet_address(w), CHAIN_BLOCK_LATEST, &now), CHAIN_OK);
    CHECK_EQ(now, start + 3);
    chain_wallet_free(w);

    /* a fee cap is respected: never more than 1.5 gwei per gas, tip within it */
    struct chain_wallet_opts capped = o;
    capped.max_fee_cap = vm_u256_from_u64(1500000000);
    struct chain_wallet *wc;
    CHECK_EQ(chain_wallet_new(cl, secp, key0, &capped, &wc), CHAIN_OK);
    CHECK_EQ(chain_wallet_submit(wc, &contract, vm_u256_from_u64(0), words[1], 32, 100000, &p),
             CHAIN_OK);
    CHECK(vm_u256_cmp(p.tx.max_fee_per_gas, capped.max_fee_cap) <= 0);
    CHECK(vm_u256_cmp(p.tx.max_priority_fee_per_gas, p.tx.max_fee_per_gas) <= 0);
    mine(1);
    CHECK_EQ(chain_wallet_poll(wc, &p, &r), CHAIN_OK);
    CHECK(vm_u256_cmp(r.effective_gas_price, capped.max_fee_cap) <= 0);
    chain_receipt_free(&r);
    chain_wallet_free(wc);

    /* a second wallet on the same key starts from the node's count */
    CHECK_EQ(chain_wallet_new(cl, secp, key0, &o, &w), CHAIN_OK);
    CHECK_EQ(chain_wallet_submit(w, &contract, vm_u256_from_u64(0), words[0], 32, 100000, &p),
             CHAIN_OK);
    CHECK_EQ(p.tx.nonce, start + 4);
    mine(1);
    CHECK_EQ(chain_wallet_poll(w, &p, &r), CHAIN_OK);
    chain_receipt_free(&r);
    chain_wallet_free(w);
    set_automine(true);
}

static void resubmission(void)
{
    /* generous times: the first poll must come before the stuck limit even on a loaded machine */
    struct chain_wallet_opts o = {.stuck_after_ms = 2000, .fee_bump_percent = 25};
    struct chain_wallet *w;
    CHECK_EQ(chain_wallet_new(cl, secp, key0, &o, &w), CHAIN_OK);
    set_automine(false);
    uint8_t word[32];
    word_of(555, word);
    struct chain_pending p;
    struct chain_receipt r;
    CHECK_EQ(chain_wallet_submit(w, &contract, vm_u256_from_u64(0), word, 32, 100000, &p),
             CHAIN_OK);
    vm_u256 first_tip = p.tx.max_priority_fee_per_gas, first_max = p.tx.max_fee_per_gas;
    uint64_t nonce = p.tx.nonce;
    CHECK_EQ(chain_wallet_poll(w, &p, &r), CHAIN_ERR_NOT_FOUND);
    CHECK_EQ(p.n_hashes, 1);
    usleep(2200 * 1000);
    CHECK_EQ(chain_wallet_poll(w, &p, &r), CHAIN_ERR_NOT_FOUND);
    CHECK_EQ(p.n_hashes, 2);
    CHECK_EQ(p.tx.nonce, nonce);
    CHECK(memcmp(p.hashes[0].b, p.hashes[1].b, 32) != 0);
    /* at least 25% more on both fees */
    CHECK(vm_u256_cmp(vm_u256_mul(p.tx.max_priority_fee_per_gas, vm_u256_from_u64(100)),
                      vm_u256_mul(first_tip, vm_u256_from_u64(125))) >= 0);
    CHECK(vm_u256_cmp(vm_u256_mul(p.tx.max_fee_per_gas, vm_u256_from_u64(100)),
                      vm_u256_mul(first_max, vm_u256_from_u64(125))) >= 0);
    mine(1);
    CHECK_EQ(chain_wallet_poll(w, &p, &r), CHAIN_OK);
    /* the replacement is what got mined; the first version never will be */
    CHECK(memcmp(r.tx_hash.b, p.hashes[1].b, 32) == 0);
    chain_receipt_free(&r);
    CHECK_EQ(chain_get_receipt(cl, &p.hashes[0], &r), CHAIN_ERR_NOT_FOUND);
    chain_wallet_free(w);
    set_automine(true);
}

static void failures(void)
{
    struct chain_wallet *w;
    CHECK_EQ(chain_wallet_new(cl, secp, key0, NULL, &w), CHAIN_OK);
    /* a contract that always reverts: REVERT(0, 0) */
    size_t n;
    uint8_t *init = hex_alloc("6005600c60003960056000f360006000fd", &n);
    struct chain_receipt r;
    CHECK_EQ(chain_wallet_send(w, NULL, vm_u256_from_u64(0), init, n, 0, &r), CHAIN_OK);
    vm_address reverter = r.contract_address;
    chain_receipt_free(&r);
    free(init);
    struct chain_call call = {chain_wallet_address(w), &reverter, {{0}}, NULL, 0, 0};
    struct vm_buf out = {0};
    CHECK_EQ(chain_eth_call(cl, &call, CHAIN_BLOCK_LATEST, &out), CHAIN_ERR_RPC);
    CHECK_EQ(chain_client_rpc_error(cl)->code, 3);
    uint64_t gas;
    CHECK_EQ(chain_estimate_gas(cl, &call, &gas), CHAIN_ERR_RPC);
    vm_buf_free(&out);
    /* with an explicit gas limit it is mined, and fails */
    CHECK_EQ(chain_wallet_send(w, &reverter, vm_u256_from_u64(0), NULL, 0, 60000, &r),
             CHAIN_ERR_REVERTED);
    CHECK(!r.status);
    CHECK(r.block_number > 0);
    chain_receipt_free(&r);
    chain_wallet_free(w);

    /* the wrong chain: nothing is signed or sent */
    struct chain_client *other;
    struct chain_client_opts co = {.expected_chain_id = 1};
    CHECK_EQ(chain_client_new(anvil_url, &co, &other), CHAIN_OK);
    CHECK_EQ(chain_wallet_new(other, secp, key0, NULL, &w), CHAIN_OK);
    uint64_t before, after;
    CHECK_EQ(chain_get_nonce(cl, chain_wallet_address(w), CHAIN_BLOCK_PENDING, &before), CHAIN_OK);
    struct chain_pending p;
    CHECK_EQ(chain_wallet_submit(w, &contract, vm_u256_from_u64(0), NULL, 0, 50000, &p),
             CHAIN_ERR_WRONG_CHAIN);
    CHECK_EQ(chain_check_chain_id(other), CHAIN_ERR_WRONG_CHAIN);
    CHECK_EQ(chain_get_nonce(cl, chain_wallet_address(w), CHAIN_BLOCK_PENDING, &after), CHAIN_OK);
    CHECK_EQ(after, before);
    chain_wallet_free(w);
    chain_client_free(other);

    /* an invalid key */
    uint8_t zero[32] = {0};
    CHECK_EQ(chain_wallet_new(cl, secp, zero, NULL, &w), CHAIN_ERR_KEY);

    /* generic calls: anvil_setCode then eth_getCode; evm_increaseTime moves the clock */
    CHECK_EQ(chain_rpc(cl, "anvil_setCode",
                       "[\"0x00000000000000000000000000000000000000aa\", \"0x60016000f3\"]", NULL),
             CHAIN_OK);
    vm_address aa = {{0}};
    aa.b[19] = 0xaa;
    struct vm_buf code = {0};
    CHECK_EQ(chain_get_code(cl, &aa, CHAIN_BLOCK_LATEST, &code), CHAIN_OK);
    CHECK_HEX(code.data, code.len, "60016000f3");
    vm_buf_free(&code);
    struct chain_block b1, b2;
    CHECK_EQ(chain_get_block(cl, CHAIN_BLOCK_LATEST, &b1), CHAIN_OK);
    char *res = NULL;
    CHECK_EQ(chain_rpc(cl, "evm_increaseTime", "[3600]", &res), CHAIN_OK);
    free(res);
    mine(1);
    CHECK_EQ(chain_get_block(cl, CHAIN_BLOCK_LATEST, &b2), CHAIN_OK);
    CHECK(b2.timestamp >= b1.timestamp + 3600);
    CHECK(memcmp(b2.parent_hash.b, b1.hash.b, 32) == 0);
}

static void watcher(void)
{
    struct chain_wallet *w;
    CHECK_EQ(chain_wallet_new(cl, secp, key0, NULL, &w), CHAIN_OK);
    struct chain_log_filter f = {&contract, {{{0}}}, {false}, 0};
    struct chain_watch_opts wo = {.max_range = 5, .reorg_rewind = 3};
    struct chain_cursor cur = {0, {{0}}};
    struct chain_logs logs = {0};
    bool reorged = true;
    uint64_t head;
    CHECK_EQ(chain_block_number(cl, &head), CHAIN_OK);
    /* catch up in steps of at most 5 blocks: sees the stores made above (42, 7, 100..102, 101, 100,
     * 555) */
    int polls = 0;
    while (cur.next <= head && polls < 100) {
        CHECK_EQ(chain_watch_poll(cl, &f, &wo, &cur, &logs, &reorged), CHAIN_OK);
        CHECK(!reorged);
        polls++;
    }
    CHECK(polls >= (int)(head + 1 + 4) / 5);
    CHECK_EQ(cur.next, head + 1);
    CHECK_EQ(logs.n, 8);
    if (logs.n == 8) {
        CHECK_EQ(logs.items[0].data[31], 42);
        CHECK_EQ(vm_u256_from_be(logs.items[7].data, 32).w[0], 555);
    }
    chain_logs_free(&logs);
    /* nothing new: nothing returned, cursor unchanged */
    struct chain_cursor saved = cur;
    CHECK_EQ(chain_watch_poll(cl, &f, &wo, &cur, &logs, &reorged), CHAIN_OK);
    CHECK_EQ(logs.n, 0);
    CHECK_EQ(cur.next, saved.next);

    /* a reorg: snapshot, a block with a store of 1, watch it, revert, a block with 2 */
    char *snap = NULL;
    CHECK_EQ(chain_rpc(cl, "evm_snapshot", "[]", &snap), CHAIN_OK);
    uint8_t word[32];
    word_of(1, word);
    struct chain_receipt r;
    CHECK_EQ(chain_wallet_send(w, &contract, vm_u256_from_u64(0), word, 32, 100000, &r), CHAIN_OK);
    chain_receipt_free(&r);
    CHECK_EQ(chain_watch_poll(cl, &f, &wo, &cur, &logs, &reorged), CHAIN_OK);
    CHECK(!reorged);
    CHECK_EQ(logs.n, 1);
    if (logs.n == 1) CHECK_EQ(logs.items[0].data[31], 1);
    chain_logs_free(&logs);
    struct chain_cursor persisted = cur; /* what the caller would have stored */
    char params[128];
    snprintf(params, sizeof params, "[%s]", snap ? snap : "\"0x0\"");
    char *ok = NULL;
    CHECK_EQ(chain_rpc(cl, "evm_revert", params, &ok), CHAIN_OK);
    CHECK(ok && strcmp(ok, "true") == 0);
    free(ok);
    free(snap);
    chain_wallet_free(w);
    CHECK_EQ(chain_wallet_new(cl, secp, key0, NULL, &w), CHAIN_OK);
    mine(1); /* a different block at the same height */
    word_of(2, word);
    CHECK_EQ(chain_wallet_send(w, &contract, vm_u256_from_u64(0), word, 32, 100000, &r), CHAIN_OK);
    chain_receipt_free(&r);
    /* resuming from the persisted cursor notices the changed hash and re-reads */
    cur = persisted;
    CHECK_EQ(chain_watch_poll(cl, &f, &wo, &cur, &logs, &reorged), CHAIN_OK);
    CHECK(reorged);
    bool saw_one = false, saw_two = false;
    for (size_t i = 0; i < logs.n; i++) {
        if (logs.items[i].data[31] == 1) saw_one = true;
        if (logs.items[i].data[31] == 2) saw_two = true;
    }
    CHECK(!saw_one);
    CHECK(saw_two);
    chain_logs_free(&logs);
    CHECK_EQ(chain_block_number(cl, &head), CHAIN_OK);
    CHECK_EQ(cur.next, head + 1);
    /* and with confirmations, the newest blocks wait */
    wo.confirmations = 2;
    word_of(3, word);
    CHECK_EQ(chain_wallet_send(w, &contract, vm_u256_from_u64(0), word, 32, 100000, &r), CHAIN_OK);
    chain_receipt_free(&r);
    CHECK_EQ(chain_watch_poll(cl, &f, &wo, &cur, &logs, &reorged), CHAIN_OK);
    CHECK_EQ(logs.n, 0);
    mine(2);
    CHECK_EQ(chain_watch_poll(cl, &f, &wo, &cur, &logs, &reorged), CHAIN_OK);
    CHECK_EQ(logs.n, 1);
    chain_logs_free(&logs);
    chain_wallet_free(w);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: anvil_test ANVIL\n");
        return 2;
    }
    if (access(argv[1], X_OK) != 0) {
        fprintf(stderr, "anvil_test: %s not found — run scripts/setup (npm ci)\n", argv[1]);
        return 77;
    }
    struct anvil_tmp anvil;
    if (!anvil_tmp_start(&anvil, "/tmp/bp-anvil-XXXXXX", argv[1], anvil_url, sizeof anvil_url))
        return 1;
    struct chain_client_opts co = {.expected_chain_id = 31337};
    if (chain_client_new(anvil_url, &co, &cl) != CHAIN_OK || vm_secp_new(&secp) != VM_OK) {
        proc_stop(anvil.pid);
        return 1;
    }
    size_t kl;
    key0 = hex_alloc(KEY0, &kl);
    struct chain_wallet_opts o = {.poll_interval_ms = 50};
    struct chain_wallet *w;
    CHECK_EQ(chain_wallet_new(cl, secp, key0, &o, &w), CHAIN_OK);
    basics(w);
    deploy_and_call(w);
    chain_wallet_free(w);
    confirmations_and_nonces();
    resubmission();
    failures();
    watcher();

    chain_client_free(cl);
    vm_secp_free(secp);
    free(key0);
    return anvil_tmp_finish(&anvil, "anvil_test");
}
