/*
 * keccak-256 as Ethereum uses it: the original Keccak padding (0x01 ... 0x80),
 * not SHA3's (0x06), rate 136 bytes. The permutation is nettle's
 * keccak-f[1600]; this file is only the sponge around it, because no library
 * on Debian 12 offers Keccak-256 with the old padding.
 */
#include "vm.h"

#include <nettle/sha3.h>
#include <string.h>

#define KECCAK_RATE 136

/* nettle keeps the state as 25 little-endian lanes; bytes are XORed in lane order. */
static void absorb_byte(struct vm_keccak *k, size_t pos, uint8_t byte)
{
    k->state[pos / 8] ^= (uint64_t)byte << (8 * (pos % 8));
}

static void permute(struct vm_keccak *k)
{
    struct sha3_state st;
    memcpy(st.a, k->state, sizeof st.a);
    nettle_sha3_permute(&st);
    memcpy(k->state, st.a, sizeof st.a);
}

void vm_keccak_init(struct vm_keccak *k)
{
    memset(k, 0, sizeof *k);
}

void vm_keccak_update(struct vm_keccak *k, const uint8_t *data, size_t len)
{
    while (len > 0) {
        if (k->pos == 0 && len >= KECCAK_RATE) {
            for (size_t lane = 0; lane < KECCAK_RATE / 8; lane++) {
                uint64_t v = 0;
                for (int i = 7; i >= 0; i--) v = (v << 8) | data[lane * 8 + (size_t)i];
                k->state[lane] ^= v;
            }
            permute(k);
            data += KECCAK_RATE;
            len -= KECCAK_RATE;
            continue;
        }
        absorb_byte(k, k->pos, *data++);
        len--;
        if (++k->pos == KECCAK_RATE) {
            permute(k);
            k->pos = 0;
        }
    }
}

void vm_keccak_final(struct vm_keccak *k, uint8_t out[32])
{
    absorb_byte(k, k->pos, 0x01);
    absorb_byte(k, KECCAK_RATE - 1, 0x80);
    permute(k);
    for (size_t i = 0; i < 32; i++) out[i] = (uint8_t)(k->state[i / 8] >> (8 * (i % 8)));
    memset(k, 0, sizeof *k);
}

void vm_keccak256(const uint8_t *data, size_t len, uint8_t out[32])
{
    struct vm_keccak k;
    vm_keccak_init(&k);
    vm_keccak_update(&k, data, len);
    vm_keccak_final(&k, out);
}
