/*
 * ABI encoding/decoding: the worked examples of the Solidity ABI
 * specification (docs.soliditylang.org, "abi-spec", Examples), hostile and
 * malformed return data, and a cross-check of tuples, signed integers and
 * nested arrays against ethers v6's AbiCoder (an independent encoder).
 *
 * Usage: abi_test NODE ETHERS_ABI_JS NODE_MODULES_DIR
 */
#include "chain.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void check_call(const char *sig, const char *args, const char *want)
{
    struct vm_buf b = {0};
    int rc = chain_abi_encode_call(sig, args, &b);
    CHECK_EQ(rc, CHAIN_OK);
    if (!rc)
        CHECK_HEX(b.data, b.len, want);
    else
        fprintf(stderr, "  (signature %s)\n", sig);
    vm_buf_free(&b);
}

static void check_enc(const char *types, const char *args, const char *want)
{
    struct vm_buf b = {0};
    int rc = chain_abi_encode(types, args, &b);
    CHECK_EQ(rc, CHAIN_OK);
    if (!rc)
        CHECK_HEX(b.data, b.len, want);
    else
        fprintf(stderr, "  (types %s)\n", types);
    vm_buf_free(&b);
}

/* Decodes hex with types and compares the JSON rendering. */
static void check_decode(const char *types, const char *hex, const char *want_json)
{
    size_t n;
    uint8_t *d = hex_alloc(hex, &n);
    char *json = NULL;
    int rc = chain_abi_decode_json(types, d, n, &json);
    CHECK_EQ(rc, CHAIN_OK);
    if (!rc) {
        CHECK(strcmp(json, want_json) == 0);
        if (strcmp(json, want_json) != 0) fprintf(stderr, "  got %s\n  want %s\n", json, want_json);
    }
    free(json);
    free(d);
}

static void check_decode_fails(const char *types, const char *hex)
{
    size_t n;
    uint8_t *d = hex_alloc(hex, &n);
    struct chain_abi_value v;
    int rc = chain_abi_decode(types, d, n, &v);
    CHECK_EQ(rc, CHAIN_ERR_ABI);
    if (rc != CHAIN_ERR_ABI) fprintf(stderr, "  decoded %s from %s\n", types, hex);
    if (rc == CHAIN_OK) chain_abi_value_clear(&v);
    free(d);
}

static void check_encode_fails(const char *sig, const char *args)
{
    struct vm_buf b = {0};
    int rc = chain_abi_encode_call(sig, args, &b);
    CHECK_EQ(rc, CHAIN_ERR_ABI);
    CHECK_EQ(b.len, 0);
    vm_buf_free(&b);
}

#define W0 "0000000000000000000000000000000000000000000000000000000000000000"
#define W(x) "00000000000000000000000000000000000000000000000000000000000000" x

static void spec_examples(void)
{
    /* baz(uint32 x, bool y) with 69, true */
    check_call("baz(uint32,bool)", "[69, true]", "cdcd77c0" W("45") W("01"));
    /* bar(bytes3[2]) with ["abc", "def"] */
    check_call("bar(bytes3[2])", "[[\"0x616263\", \"0x646566\"]]",
               "fce353f6"
               "6162630000000000000000000000000000000000000000000000000000000000"
               "6465660000000000000000000000000000000000000000000000000000000000");
    /* sam(bytes,bool,uint256[]) with "dave", true, [1,2,3] */
    const char *sam = "a5643bf2" W("60") W("01") W("a0")
        W("04") "6461766500000000000000000000000000000000000000000000000000000000" W("03") W("01")
            W("02") W("03");
    check_call("sam(bytes,bool,uint256[])", "[\"0x64617665\", true, [1, 2, 3]]", sam);
    /* f(uint256,uint32[],bytes10,bytes) with 0x123, [0x456, 0x789], "1234567890", "Hello, world!"
     */
    const char *f =
        "8be65246"
        "0000000000000000000000000000000000000000000000000000000000000123" W(
            "80") "3132333435363738393000000000000000000000000000000000000000000000" W("e0")
            W("02") "0000000000000000000000000000000000000000000000000000000000000456"
                    "0000000000000000000000000000000000000000000000000000000000000789" W(
                        "0d") "48656c6c6f2c20776f726c642100000000000000000000000000000000000000";
    check_call("f(uint,uint32[],bytes10,bytes)",
               "[\"0x123\", [\"0x456\", \"0x789\"], \"0x31323334353637383930\","
               " \"0x48656c6c6f2c20776f726c6421\"]",
               f);
    /* g(uint256[][],string[]) with [[1, 2], [3]], ["one", "two", "three"] */
    const char *g =
        "2289b18c" W("40") "0000000000000000000000000000000000000000000000000000000000000140" W(
            "02") W("40") W("a0") W("02") W("01") W("02") W("01") W("03") W("03") W("60") W("a0")
            W("e0") W("03") "6f6e65000000000000000000000000000000000000000000000000000000000"
                            "0" W("03") "74776f000000000000000000000000000000000000000000000000"
                                        "0000000000" W("05") "746872656500000000000000000000000"
                                                             "0000000000000000000000000000000";
    check_call("g(uint256[][],string[])", "[[[1, 2], [3]], [\"one\", \"two\", \"three\"]]", g);

    /* Decoding the same bytes (minus the selector) gives the values back. */
    check_decode("(bytes,bool,uint256[])", sam + 8, "[\"0x64617665\",true,[1,2,3]]");
    check_decode("(uint256[][],string[])", g + 8, "[[[1,2],[3]],[\"one\",\"two\",\"three\"]]");
    check_decode("(uint256,uint32[],bytes10,bytes)", f + 8,
                 "[291,[1110,1929],\"0x31323334353637383930\",\"0x48656c6c6f2c20776f726c6421\"]");

    /* The argv form: one text per argument, as typed on a command line. */
    struct vm_buf b = {0};
    const char *argv[] = {"69", "true"};
    CHECK_EQ(chain_abi_encode_call_argv("baz(uint32,bool)", argv, 2, &b), CHAIN_OK);
    CHECK_HEX(b.data, b.len, "cdcd77c0" W("45") W("01"));
    b.len = 0;
    const char *argv2[] = {"0x64617665", "true", "[1,2,3]"};
    CHECK_EQ(chain_abi_encode_call_argv("sam(bytes,bool,uint256[])", argv2, 3, &b), CHAIN_OK);
    CHECK_HEX(b.data, b.len, sam);
    b.len = 0;
    const char *argv3[] = {"4"};
    CHECK_EQ(chain_abi_encode_call_argv("play(uint8)", argv3, 1, &b), CHAIN_OK);
    uint8_t h[32];
    vm_keccak256((const uint8_t *)"play(uint8)", 11, h);
    CHECK_EQ(b.len, 36);
    if (b.len == 36) {
        CHECK(memcmp(b.data, h, 4) == 0);
        CHECK_HEX(b.data + 4, 32, W("04"));
    }
    vm_buf_free(&b);
}

static void selectors(void)
{
    uint8_t sel[4];
    char canon[128];
    CHECK_EQ(chain_abi_selector("transfer(address,uint)", sel, canon, sizeof canon), CHAIN_OK);
    CHECK(strcmp(canon, "transfer(address,uint256)") == 0);
    CHECK_HEX(sel, 4, "a9059cbb");
    CHECK_EQ(chain_abi_selector("balanceOf(address)", sel, NULL, 0), CHAIN_OK);
    CHECK_HEX(sel, 4, "70a08231");
    /* tuples are written as (..) in the canonical form; spaces are dropped */
    CHECK_EQ(
        chain_abi_selector("conclude(tuple(bytes32, uint64), bytes[2])", sel, canon, sizeof canon),
        CHAIN_OK);
    CHECK(strcmp(canon, "conclude((bytes32,uint64),bytes[2])") == 0);
    /* the result list is not part of the selector */
    CHECK_EQ(chain_abi_selector("board()(uint8[9])", sel, canon, sizeof canon), CHAIN_OK);
    CHECK(strcmp(canon, "board()") == 0);
    const char *bad[] = {"f(uint7)", "f(uint264)",       "f(uint0)",     "f(bytes33)", "f(bytes0)",
                         "f(uint8",  "f(uint8)x",        "f(uint8,)",    "f(,)",       "(uint8)",
                         "f(foo)",   "f(uint8[0])",      "f(uint8[01])", "f(int08)",   "f(uint8)(",
                         "",         "f(uint8[2000000])"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = chain_abi_selector(bad[i], sel, NULL, 0);
        CHECK_EQ(rc, CHAIN_ERR_ABI);
        if (rc != CHAIN_ERR_ABI) fprintf(stderr, "  accepted bad signature '%s'\n", bad[i]);
    }
    /* nesting beyond the depth limit is refused, not recursed into */
    char deep[400] = "f(";
    for (int i = 0; i < 100; i++)
        strcat(deep, "(");
    strcat(deep, "uint8");
    for (int i = 0; i < 100; i++)
        strcat(deep, ")");
    strcat(deep, ")");
    CHECK_EQ(chain_abi_selector(deep, sel, NULL, 0), CHAIN_ERR_ABI);
}

static void values(void)
{
    /* intN range and two's complement */
    check_enc("(int8)", "[-128]",
              "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80");
    check_enc("(int256)", "[\"-1\"]",
              "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    check_enc("(int16)", "[\"0x7fff\"]",
              "0000000000000000000000000000000000000000000000000000000000007fff");
    check_enc(
        "(uint256)",
        "[\"115792089237316195423570985008687907853269984665640564039457584007913129639935\"]",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    check_encode_fails("f(int8)", "[-129]");
    check_encode_fails("f(int8)", "[128]");
    check_encode_fails("f(uint8)", "[256]");
    check_encode_fails("f(uint8)", "[-1]");
    check_encode_fails(
        "f(uint256)",
        "[\"115792089237316195423570985008687907853269984665640564039457584007913129639936\"]");
    check_encode_fails("f(uint8)", "[1.5]");
    check_encode_fails("f(uint8)", "[\"12abc\"]");
    check_encode_fails("f(bool)", "[1]");
    check_encode_fails("f(bytes3)", "[\"0x6162\"]");
    check_encode_fails("f(bytes)", "[\"0x616\"]");
    check_encode_fails("f(address)", "[\"0x1234\"]");
    /* a mixed-case address must be a valid EIP-55 checksum */
    check_encode_fails("f(address)", "[\"0xF39fd6e51aad88f6f4ce6ab8827279cfffb92266\"]");
    check_enc("(address)", "[\"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\"]",
              "000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266");
    check_encode_fails("f(uint8,uint8)", "[1]");
    check_encode_fails("f(uint8[2])", "[[1,2,3]]");
    check_encode_fails("f((uint8,bool))", "[[1]]");
    check_encode_fails("f(uint8)", "{\"a\":1}");

    /* decoding: board()(uint8[9]) as an app returns it */
    check_decode("board()(uint8[9])",
                 W("01") W("00") W("02") W("00") W("01") W("00") W("00") W("00") W("02"),
                 "[[1,0,2,0,1,0,0,0,2]]");
    /* large numbers become decimal strings; negative ints keep their sign; addresses are EIP-55 */
    check_decode(
        "(uint256,int256,int8,address)",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff85"
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80"
        "000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266",
        "[\"115792089237316195423570985008687907853269984665640564039457584007913129639935\","
        "-123,-128,\"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\"]");
    check_decode("(uint64)", "0000000000000000000000000000000000000000000000000020000000000000",
                 "[\"9007199254740992\"]");
    check_decode("(uint64)", "000000000000000000000000000000000000000000000000001fffffffffffff",
                 "[9007199254740991]");
    check_decode("()", "", "[]");
    /* the value tree round-trips through encode_value */
    size_t n;
    uint8_t *d = hex_alloc(W("40") W("01") W("02") W("07") W("08"), &n);
    struct chain_abi_value v;
    CHECK_EQ(chain_abi_decode("(uint16[],bool)", d, n, &v), CHAIN_OK);
    CHECK_EQ(v.kind, CHAIN_ABI_TUPLE);
    CHECK_EQ(v.n_items, 2);
    if (v.n_items == 2) {
        CHECK_EQ(v.items[0].n_items, 2);
        CHECK_EQ(v.items[0].items[1].word.w[0], 8);
        CHECK_EQ(v.items[1].word.w[0], 1);
    }
    struct vm_buf b = {0};
    CHECK_EQ(chain_abi_encode_value("(uint16[],bool)", &v, &b), CHAIN_OK);
    CHECK_HEX(b.data, b.len, W("40") W("01") W("02") W("07") W("08"));
    chain_abi_value_clear(&v);
    vm_buf_free(&b);
    free(d);
}

static void malformed(void)
{
    check_decode_fails("(uint256)", "00");            /* short */
    check_decode_fails("(uint256,uint256)", W("01")); /* missing word */
    check_decode_fails("(uint8)",
                       "0000000000000000000000000000000000000000000000000000000000000100");
    check_decode_fails("(bool)", W("02"));
    check_decode_fails("(address)",
                       "000000000000000000000001f39fd6e51aad88f6f4ce6ab8827279cfffb92266");
    check_decode_fails("(int8)", W("80")); /* 128 is not sign-extended */
    check_decode_fails("(int8)",
                       "ff000000000000000000000000000000000000000000000000000000000000ff");
    check_decode_fails("(bytes3)",
                       "6162636400000000000000000000000000000000000000000000000000000000");
    check_decode_fails("(bytes)", W("40") W("01"));    /* offset beyond the data */
    check_decode_fails("(bytes)", W("20") W("21") W0); /* length beyond the data */
    check_decode_fails("(bytes)",
                       "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe0");
    check_decode_fails("(string)",
                       "0000000000000000000000000000000000000000000000010000000000000020");
    check_decode_fails("(uint256[])",
                       W("20") "00000000000000000000000000000000000000000000000000000000ffffffff");
    check_decode_fails("(uint256[2])", W("01"));
    check_decode_fails("board()(uint8[9])", W("01") W("00"));
    check_decode_fails("f(uint8)", W("01")); /* no result list to decode */
    /* A "zip bomb": 1000 offsets that all point at one 1000-element array
     * would decode to 10^6 values from 64 KiB; the budget refuses it. */
    {
        size_t k = 1000;
        size_t len = 32 * (2 + k + 1 + k);
        uint8_t *d = calloc(1, len);
        d[31] = 0x20;                                            /* offset of the outer array */
        d[32 + 30] = (uint8_t)(k >> 8), d[32 + 31] = (uint8_t)k; /* outer count */
        size_t inner = 32 * k; /* relative to the outer elements */
        for (size_t i = 0; i < k; i++) {
            d[64 + 32 * i + 30] = (uint8_t)(inner >> 8);
            d[64 + 32 * i + 31] = (uint8_t)inner;
        }
        size_t ic = 64 + 32 * k;
        d[ic + 30] = (uint8_t)(k >> 8), d[ic + 31] = (uint8_t)k;
        struct chain_abi_value v;
        int rc = chain_abi_decode("(uint256[][])", d, len, &v);
        CHECK_EQ(rc, CHAIN_ERR_ABI);
        if (!rc) chain_abi_value_clear(&v);
        /* the same layout with 3 outer elements is legitimate and decodes */
        d[32 + 30] = 0, d[32 + 31] = 3;
        rc = chain_abi_decode("(uint256[][])", d, len, &v);
        CHECK_EQ(rc, CHAIN_OK);
        if (!rc) {
            CHECK_EQ(v.items[0].n_items, 3);
            CHECK_EQ(v.items[0].items[2].n_items, k);
            chain_abi_value_clear(&v);
        }
        free(d);
    }
    /* an array of empty tuples takes no bytes; its count must still be bounded */
    check_decode_fails("(()[])",
                       W("20") "00000000000000000000000000000000000000000000000000000000ffffffff");
}

/* Cases for the ethers cross-check: types (JSON array) and values (JSON array). */
static const char *const xcases[][2] = {
    {"[\"(uint256,bytes)[]\",\"(address,bool)\",\"int24[2]\",\"string\"]",
     "[[[1,\"0x01\"],[\"0xffffffffffffffffffffffffffffffff\",\"0x\"]],"
     "[\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\",true],[-8388608,8388607],\"h\\u00e9llo\"]"},
    {"[\"bytes32\",\"uint64\",\"bytes32\",\"bytes32\",\"uint256[]\",\"bool\"]",
     "[\"0x1111111111111111111111111111111111111111111111111111111111111111\",7,"
     "\"0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421\","
     "\"0x0000000000000000000000000000000000000000000000000000000000000000\","
     "[\"1000000000000000000\",\"0\"],true]"},
    {"[\"(bytes32,uint64,bytes32,bytes32,uint256[],bool)\",\"bytes[2]\"]",
     "[[\"0x2222222222222222222222222222222222222222222222222222222222222222\",3,"
     "\"0x3333333333333333333333333333333333333333333333333333333333333333\","
     "\"0x4444444444444444444444444444444444444444444444444444444444444444\",[5,6],false],"
     "[\"0xaabbcc\",\"0x"
     "0102030405060708091011121314151617181920212223242526272829303132"
     "3334353637383940414243444546474849505152535455565758596061626364"
     "1b\"]]"},
    {"[\"string[][2]\",\"int256\",\"bytes1\",\"uint8[][]\"]",
     "[[[\"a\",\"\"],[]],\"-"
     "57896044618658097711785492504343953926634992332820282019728792003956564819968\","
     "\"0xff\",[[],[1,2,3]]]"},
    {"[\"address[2]\",\"uint256[2]\",\"bytes\",\"uint64\",\"bytes32\"]",
     "[[\"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\","
     "\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"],"
     "[\"1000000000000000000\",\"2000000000000000000\"],\"0x\",3600,"
     "\"0x0000000000000000000000000000000000000000000000000000000000000001\"]"},
};

/* "[\"a\",\"b\"]" -> "(a,b)" */
static void types_to_list(const char *json_types, char *out, size_t cap)
{
    size_t o = 0, n = strlen(json_types);
    out[o++] = '(';
    for (size_t i = 1; i + 1 < n && o + 2 < cap; i++) {
        if (json_types[i] == '"') continue;
        out[o++] = json_types[i];
    }
    out[o++] = ')';
    out[o] = 0;
}

static void ethers_crosscheck(const char *node, const char *script)
{
    char path[] = "/tmp/bp-abi-cases-XXXXXX";
    FILE *f = cases_file(path);
    CHECK(f != NULL);
    if (!f) return;
    fputc('[', f);
    size_t n = sizeof xcases / sizeof *xcases;
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s{\"types\":%s,\"values\":%s}", i ? "," : "", xcases[i][0], xcases[i][1]);
    fputs("]\n", f);
    fclose(f);
    FILE *p = node_script(node, script, path);
    CHECK(p != NULL);
    size_t got = 0;
    static char line[1 << 16];
    while (p && fgets(line, sizeof line, p) && got < n) {
        line[strcspn(line, "\r\n")] = 0;
        char types[512];
        types_to_list(xcases[got][0], types, sizeof types);
        struct vm_buf b = {0};
        int rc = chain_abi_encode(types, xcases[got][1], &b);
        CHECK_EQ(rc, CHAIN_OK);
        if (rc)
            fprintf(stderr, "  case %zu: %s\n", got, types);
        else
            CHECK_HEX(b.data, b.len, line);
        /* and our decoder reads ethers' bytes back to the same encoding */
        struct chain_abi_value v;
        size_t dl;
        uint8_t *d = hex_alloc(line, &dl);
        rc = chain_abi_decode(types, d, dl, &v);
        CHECK_EQ(rc, CHAIN_OK);
        if (!rc) {
            struct vm_buf b2 = {0};
            CHECK_EQ(chain_abi_encode_value(types, &v, &b2), CHAIN_OK);
            CHECK_HEX(b2.data, b2.len, line);
            vm_buf_free(&b2);
            chain_abi_value_clear(&v);
        }
        free(d);
        vm_buf_free(&b);
        got++;
    }
    int st = p ? pclose(p) : -1;
    CHECK_EQ(st, 0);
    CHECK_EQ(got, n);
    unlink(path);
}

static void revert_reasons(void)
{
    /* Error(string) selector = keccak("Error(string)")[0..4], computed here independently */
    uint8_t h[32];
    vm_keccak256((const uint8_t *)"Error(string)", 13, h);
    CHECK_HEX(h, 4, "08c379a0");
    vm_keccak256((const uint8_t *)"Panic(uint256)", 14, h);
    CHECK_HEX(h, 4, "4e487b71");
    char text[64];
    size_t n;
    uint8_t *d =
        hex_alloc("08c379a0" W("20")
                      W("04") "6e6f706500000000000000000000000000000000000000000000000000000000",
                  &n);
    CHECK_EQ(chain_abi_revert_reason(d, n, text, sizeof text), CHAIN_OK);
    CHECK(strcmp(text, "nope") == 0);
    CHECK_EQ(chain_abi_revert_reason(d, n - 32, text, sizeof text), CHAIN_ERR_ABI);
    CHECK_EQ(chain_abi_revert_reason(d, n, text, 3), CHAIN_OK);
    CHECK(strcmp(text, "no") == 0);
    free(d);
    d = hex_alloc("4e487b71" W("11"), &n);
    CHECK_EQ(chain_abi_revert_reason(d, n, text, sizeof text), CHAIN_OK);
    CHECK(strcmp(text, "panic 0x11") == 0);
    free(d);
    d = hex_alloc("deadbeef", &n);
    CHECK_EQ(chain_abi_revert_reason(d, n, text, sizeof text), CHAIN_OK);
    CHECK(strcmp(text, "custom error 0xdeadbeef") == 0);
    CHECK_EQ(chain_abi_revert_reason(d, 0, text, sizeof text), CHAIN_OK);
    CHECK(text[0] == 0);
    free(d);
}

/* Random, mostly-small words (so that offsets and lengths often land inside
 * the data) against nested types: the decoder must answer OK or
 * CHAIN_ERR_ABI without reading out of bounds (ASan watches), and whatever it
 * accepts must re-encode to a canonical form that decodes and re-encodes to
 * the same bytes. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void random_data(void)
{
    const char *types[] = {"(uint256[][],string[])", "((bytes,uint8)[2],bool[])",
                           "(bytes[],int16,address)", "((uint8[],string)[],bytes3)"};
    uint8_t data[640];
    int accepted = 0;
    for (int round = 0; round < 20000; round++) {
        size_t words = rng() % 20;
        memset(data, 0, sizeof data);
        for (size_t w = 0; w < words; w++) {
            uint64_t r = rng();
            switch (r % 4) {
            case 0:
                data[32 * w + 31] = (uint8_t)(r >> 8) & 0xe0;
                break; /* an offset-like value */
            case 1:
                data[32 * w + 31] = (uint8_t)((r >> 8) % 4);
                break; /* a small count */
            case 2:
                break; /* zero */
            default:
                for (int b = 0; b < 32; b++)
                    data[32 * w + b] = (uint8_t)(rng() >> 11);
            }
        }
        const char *t = types[rng() % 4];
        struct chain_abi_value v;
        int rc = chain_abi_decode(t, data, 32 * words, &v);
        if (rc != CHAIN_OK && rc != CHAIN_ERR_ABI) {
            CHECK(!"decode answers OK or CHAIN_ERR_ABI");
            break;
        }
        if (rc) continue;
        accepted++;
        struct vm_buf a = {0}, b = {0};
        CHECK_EQ(chain_abi_encode_value(t, &v, &a), CHAIN_OK);
        chain_abi_value_clear(&v);
        CHECK_EQ(chain_abi_decode(t, a.data, a.len, &v), CHAIN_OK);
        CHECK_EQ(chain_abi_encode_value(t, &v, &b), CHAIN_OK);
        CHECK(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
        chain_abi_value_clear(&v);
        vm_buf_free(&a);
        vm_buf_free(&b);
    }
    /* the generator must reach the accepting paths too, or the property says nothing */
    CHECK(accepted > 100);
    printf("random_data: %d of 20000 accepted\n", accepted);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: abi_test NODE ETHERS_ABI_JS NODE_MODULES\n");
        return 2;
    }
    setenv("BP_NODE_MODULES", argv[3], 1);
    spec_examples();
    selectors();
    values();
    malformed();
    revert_reasons();
    random_data();
    ethers_crosscheck(argv[1], argv[2]);
    return check_report("abi_test");
}
