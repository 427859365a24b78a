/*
 * Addresses, secp256k1 signatures and EIP-712.
 * Vectors: the anvil/hardhat key 0 and its address; EIP-55's own examples;
 * EIP-1014's CREATE2 examples; CREATE addresses of anvil's account 0 (the
 * nonce-0 one is the address every anvil user's first deployment gets);
 * EIP-712's "Mail" example (assets/eip-712/Example.js: domain separator,
 * struct hash, digest and the RFC 6979 signature with key keccak("cow"));
 * a Breakpoint vector computed with ethers v6 TypedDataEncoder/signTypedData.
 */
#include "test_util.h"
#include "../lib/secp_fixture.h"

static const char ANVIL_KEY[] = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
static const char ANVIL_ADDR[] = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

static const uint8_t SECP_N[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};


static void assert_address(const vm_address *a, const char *want_checksummed)
{
    char text[43];
    vm_address_to_checksum(a, text);
    assert_string_equal(text, want_checksummed);
}

static void test_anvil_key_address(void **state)
{
    uint8_t key[32];
    unhex(ANVIL_KEY, key, 32);
    vm_address a;
    assert_int_equal(vm_key_address(*state, key, &a), VM_OK);
    assert_address(&a, ANVIL_ADDR);

    uint8_t zero[32] = {0};
    assert_int_equal(vm_key_address(*state, zero, &a), VM_ERR_KEY);
    assert_int_equal(vm_key_address(*state, SECP_N, &a), VM_ERR_KEY);
}

static void test_eip55(void **state)
{
    (void)state;
    static const char *const v[] = {
        /* all caps */
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
        /* all lower */
        "0xde709f2102306220921060314715629080e2fb77",
        "0x27b1fdb04752bbc536007a920d24acb045561c26",
        /* normal */
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        vm_address a;
        assert_int_equal(vm_address_parse(v[i], &a), VM_OK);
        assert_address(&a, v[i]);
        assert_int_equal(vm_address_parse(v[i] + 2, &a), VM_OK); /* without 0x */
    }
    vm_address a;
    /* One letter's case flipped breaks the checksum. */
    assert_int_equal(vm_address_parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", &a),
                     VM_ERR_INVALID);
    assert_int_equal(vm_address_parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", &a), VM_OK);
    assert_int_equal(vm_address_parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea", &a),
                     VM_ERR_INVALID);
    assert_int_equal(vm_address_parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00", &a),
                     VM_ERR_INVALID);
    assert_int_equal(vm_address_parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg", &a),
                     VM_ERR_INVALID);
    assert_int_equal(vm_address_parse("", &a), VM_ERR_INVALID);
}

static void test_create_addresses(void **state)
{
    (void)state;
    vm_address sender, out;
    assert_int_equal(vm_address_parse(ANVIL_ADDR, &sender), VM_OK);
    static const struct {
        uint64_t nonce;
        const char *addr;
    } c[] = {
        {0, "0x5FbDB2315678afecb367f032d93F642f64180aa3"},
        {1, "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"},
        {127, "0x5fc748f1FEb28d7b76fa1c6B07D8ba2d5535177c"},
        {128, "0xB82008565FdC7e44609fA118A4a681E92581e680"},
        {0x1234567890, "0xcDb4D1e47381E174D0A4dbdAA94643Cf79f6ce6f"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        vm_create_address(&sender, c[i].nonce, &out);
        assert_address(&out, c[i].addr);
    }

    /* EIP-1014 examples 0..6. */
    static const struct {
        const char *sender, *salt, *init, *want;
    } e[] = {
        {"0x0000000000000000000000000000000000000000",
         "0x0000000000000000000000000000000000000000000000000000000000000000", "0x00",
         "0x4D1A2e2bB4F88F0250f26Ffff098B0b30B26BF38"},
        {"0xdeadbeef00000000000000000000000000000000",
         "0x0000000000000000000000000000000000000000000000000000000000000000", "0x00",
         "0xB928f69Bb1D91Cd65274e3c79d8986362984fDA3"},
        {"0xdeadbeef00000000000000000000000000000000",
         "0x000000000000000000000000feed000000000000000000000000000000000000", "0x00",
         "0xD04116cDd17beBE565EB2422F2497E06cC1C9833"},
        {"0x0000000000000000000000000000000000000000",
         "0x0000000000000000000000000000000000000000000000000000000000000000", "0xdeadbeef",
         "0x70f2b2914A2a4b783FaEFb75f459A580616Fcb5e"},
        {"0x00000000000000000000000000000000deadbeef",
         "0x00000000000000000000000000000000000000000000000000000000cafebabe", "0xdeadbeef",
         "0x60f3f640a8508fC6a86d45DF051962668E1e8AC7"},
        {"0x00000000000000000000000000000000deadbeef",
         "0x00000000000000000000000000000000000000000000000000000000cafebabe",
         "0xdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdead"
         "beef",
         "0x1d8bfDC5D46DC4f61D6b6115972536eBE6A8854C"},
        {"0x0000000000000000000000000000000000000000",
         "0x0000000000000000000000000000000000000000000000000000000000000000", "0x",
         "0xE33C0C7F7df4809055C3ebA6c09CFe4BaF1BD9e0"},
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        vm_bytes32 salt;
        uint8_t init[64], init_hash[32];
        size_t init_len = 0;
        assert_int_equal(vm_address_parse(e[i].sender, &sender), VM_OK);
        unhex(e[i].salt, salt.b, 32);
        assert_int_equal(vm_hex_decode(e[i].init, init, sizeof init, &init_len), VM_OK);
        vm_keccak256(init, init_len, init_hash);
        vm_create2_address(&sender, &salt, init_hash, &out);
        assert_address(&out, e[i].want);
    }
}

/* out = n - s (s < n), big-endian. */
static void negate_mod_n(const uint8_t s[32], uint8_t out[32])
{
    vm_u256 r = vm_u256_sub(vm_u256_from_be(SECP_N, 32), vm_u256_from_be(s, 32));
    vm_u256_to_be(r, out);
}

static void test_sign_recover(void **state)
{
    const struct vm_secp *ctx = *state;
    uint8_t key[32], hash[32], sig[65], sig2[65];
    unhex(ANVIL_KEY, key, 32);
    vm_address want, got;
    assert_int_equal(vm_key_address(ctx, key, &want), VM_OK);

    for (int i = 0; i < 16; i++) {
        uint8_t msg[1] = {(uint8_t)i};
        vm_keccak256(msg, 1, hash);
        assert_int_equal(vm_sign(ctx, key, hash, sig), VM_OK);
        assert_true(sig[64] == 27 || sig[64] == 28);
        /* Low s: s <= n/2. */
        vm_u256 half_n = vm_u256_shr(vm_u256_from_u64(1), vm_u256_from_be(SECP_N, 32));
        assert_true(vm_u256_cmp(vm_u256_from_be(sig + 32, 32), half_n) <= 0);
        /* RFC 6979: the same key and hash give the same signature. */
        assert_int_equal(vm_sign(ctx, key, hash, sig2), VM_OK);
        assert_memory_equal(sig, sig2, 65);

        assert_int_equal(vm_recover(ctx, hash, sig, &got), VM_OK);
        assert_memory_equal(got.b, want.b, 20);

        /* Another hash recovers someone else. */
        uint8_t other[32];
        memcpy(other, hash, 32);
        other[0] ^= 1;
        if (vm_recover(ctx, other, sig, &got) == VM_OK) assert_memory_not_equal(got.b, want.b, 20);

        /* The malleable twin (n - s, flipped v) is the same signer for
         * ecrecover, but vm_recover must refuse it (EIP-2). */
        memcpy(sig2, sig, 65);
        negate_mod_n(sig + 32, sig2 + 32);
        sig2[64] = (uint8_t)(sig[64] == 27 ? 28 : 27);
        assert_int_equal(vm_recover(ctx, hash, sig2, &got), VM_ERR_SIGNATURE);
        assert_int_equal(vm_ecrecover(ctx, hash, sig2, sig2 + 32, sig2[64] - 27, &got), VM_OK);
        assert_memory_equal(got.b, want.b, 20);
        assert_int_equal(vm_ecrecover(ctx, hash, sig, sig + 32, sig[64] - 27, &got), VM_OK);
        assert_memory_equal(got.b, want.b, 20);

        /* The wrong recovery id gives a different address (or none). */
        if (vm_ecrecover(ctx, hash, sig, sig + 32, 28 - sig[64], &got) == VM_OK)
            assert_memory_not_equal(got.b, want.b, 20);
    }

    /* Bad v. */
    static const uint8_t bad_v[] = {0, 1, 2, 26, 29, 35, 255};
    for (size_t i = 0; i < sizeof bad_v; i++) {
        memcpy(sig2, sig, 65);
        sig2[64] = bad_v[i];
        assert_int_equal(vm_recover(ctx, hash, sig2, &got), VM_ERR_SIGNATURE);
    }
    assert_int_equal(vm_ecrecover(ctx, hash, sig, sig + 32, 2, &got), VM_ERR_SIGNATURE);
    assert_int_equal(vm_ecrecover(ctx, hash, sig, sig + 32, -1, &got), VM_ERR_SIGNATURE);

    /* r or s zero or >= n. */
    uint8_t zero[32] = {0};
    assert_int_equal(vm_ecrecover(ctx, hash, zero, sig + 32, 0, &got), VM_ERR_SIGNATURE);
    assert_int_equal(vm_ecrecover(ctx, hash, sig, zero, 0, &got), VM_ERR_SIGNATURE);
    assert_int_equal(vm_ecrecover(ctx, hash, SECP_N, sig + 32, 0, &got), VM_ERR_SIGNATURE);
    assert_int_equal(vm_ecrecover(ctx, hash, sig, SECP_N, 0, &got), VM_ERR_SIGNATURE);
    memcpy(sig2, sig, 65);
    memcpy(sig2 + 32, SECP_N, 32);
    assert_int_equal(vm_recover(ctx, hash, sig2, &got), VM_ERR_SIGNATURE);
    memset(sig2, 0, 32);
    memcpy(sig2 + 32, sig + 32, 32);
    assert_int_equal(vm_recover(ctx, hash, sig2, &got), VM_ERR_SIGNATURE);

    /* Invalid keys. */
    assert_int_equal(vm_sign(ctx, zero, hash, sig2), VM_ERR_KEY);
    assert_int_equal(vm_sign(ctx, SECP_N, hash, sig2), VM_ERR_KEY);
}

static void keccak_str(const char *s, uint8_t out[32])
{
    vm_keccak256((const uint8_t *)s, strlen(s), out);
}

/* hashStruct(Person{name, wallet}). */
static void person_hash(const char *name, const char *wallet, uint8_t out[32])
{
    uint8_t enc[96] = {0};
    vm_address a;
    keccak_str("Person(string name,address wallet)", enc);
    keccak_str(name, enc + 32);
    assert_int_equal(vm_address_parse(wallet, &a), VM_OK);
    memcpy(enc + 76, a.b, 20);
    vm_keccak256(enc, sizeof enc, out);
}

static void test_eip712_mail(void **state)
{
    const struct vm_secp *ctx = *state;
    vm_address verifying;
    assert_int_equal(vm_address_parse("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC", &verifying),
                     VM_OK);
    uint8_t domain[32];
    vm_eip712_domain("Ether Mail", "1", vm_u256_from_u64(1), &verifying, domain);
    assert_hash(domain, "f2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f");

    uint8_t mail[128];
    keccak_str("Mail(Person from,Person to,string contents)Person(string name,address wallet)",
               mail);
    assert_hash(mail, "a0cedeb2dc280ba39b857546d74f5549c3a1d7bdc2dd96bf881f76108e23dac2");
    person_hash("Cow", "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826", mail + 32);
    person_hash("Bob", "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB", mail + 64);
    keccak_str("Hello, Bob!", mail + 96);
    uint8_t struct_hash[32];
    vm_keccak256(mail, sizeof mail, struct_hash);
    assert_hash(struct_hash, "c52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e");

    uint8_t digest[32];
    vm_eip712_digest(domain, struct_hash, digest);
    assert_hash(digest, "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2");

    uint8_t key[32], sig[65];
    keccak_str("cow", key);
    vm_address signer;
    assert_int_equal(vm_key_address(ctx, key, &signer), VM_OK);
    assert_address(&signer, "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826");
    assert_int_equal(vm_sign(ctx, key, digest, sig), VM_OK);
    assert_hash(sig, "4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d");
    assert_hash(sig + 32, "07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562");
    assert_int_equal(sig[64], 28);
    vm_address got;
    assert_int_equal(vm_recover(ctx, digest, sig, &got), VM_OK);
    assert_memory_equal(got.b, signer.b, 20);
}

static void test_breakpoint_ethers_vector(void **state)
{
    const struct vm_secp *ctx = *state;
    struct vm_breakpoint bp;
    memset(&bp, 0, sizeof bp);
    keccak_str("channel", bp.channel_id.b);
    bp.nonce = 7;
    unhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421", bp.state_root.b, 32);
    keccak_str("move", bp.move_hash.b);
    assert_int_equal(vm_u256_parse("1500000000000000000", &bp.payouts[0]), VM_OK);
    assert_int_equal(vm_u256_parse("500000000000000001", &bp.payouts[1]), VM_OK);
    bp.is_final = true;
    vm_address adj;
    assert_int_equal(vm_address_parse("0x5FbDB2315678afecb367f032d93F642f64180aa3", &adj), VM_OK);

    uint8_t domain[32], sh[32], digest[32];
    vm_breakpoint_domain(vm_u256_from_u64(31337), &adj, domain);
    assert_hash(domain, "46f40b1d910a4f5591e6e46cbfb6a3164aa60fd4ee00a8538c9d7726efb7f76f");
    vm_breakpoint_struct_hash(&bp, sh);
    assert_hash(sh, "906362344cedde2512eb26e840a529546194ca081d4a100f4033c02192fd744a");
    vm_breakpoint_digest(&bp, vm_u256_from_u64(31337), &adj, digest);
    assert_hash(digest, "99e2c3f65925b14a91dc300dc45eb6ef2249b6dd8e5df268e3ec0a382c2e44f3");

    uint8_t key[32], sig[65];
    unhex(ANVIL_KEY, key, 32);
    assert_int_equal(vm_sign(ctx, key, digest, sig), VM_OK);
    uint8_t want[65];
    unhex("db49b867336544dac7e96d576f3d565ffdd2fb7209144c463964b1e57c91830a52c62bbe4840a67185f9d7e2"
          "c8ae27bf926c220d354e3bd0b7513f780ef0afeb1b",
          want, 65);
    assert_memory_equal(sig, want, 65);

    /* Every field is covered by the hash. */
    struct vm_breakpoint t = bp;
    uint8_t d2[32];
    t.is_final = false;
    vm_breakpoint_digest(&t, vm_u256_from_u64(31337), &adj, d2);
    assert_memory_not_equal(d2, digest, 32);
    t = bp;
    t.nonce = 8;
    vm_breakpoint_digest(&t, vm_u256_from_u64(31337), &adj, d2);
    assert_memory_not_equal(d2, digest, 32);
    t = bp;
    t.payouts[1] = vm_u256_from_u64(0);
    vm_breakpoint_digest(&t, vm_u256_from_u64(31337), &adj, d2);
    assert_memory_not_equal(d2, digest, 32);
    vm_breakpoint_digest(&bp, vm_u256_from_u64(1), &adj, d2);
    assert_memory_not_equal(d2, digest, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anvil_key_address), cmocka_unit_test(test_eip55),
        cmocka_unit_test(test_create_addresses),  cmocka_unit_test(test_sign_recover),
        cmocka_unit_test(test_eip712_mail),       cmocka_unit_test(test_breakpoint_ethers_vector),
    };
    return cmocka_run_group_tests(tests, secp_setup, secp_teardown);
}
