/* Hex text <-> bytes. Every hex argument of breakpoint accepts an optional 0x. */
#include "vm.h"

#include <string.h>

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int vm_hex_decode_n(const char *hex, size_t hex_len, uint8_t *out, size_t cap, size_t *out_len)
{
    if (hex_len >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
        hex += 2;
        hex_len -= 2;
    }
    if (hex_len % 2 != 0) return VM_ERR_INVALID;
    if (hex_len / 2 > cap) return VM_ERR_RANGE;
    for (size_t i = 0; i < hex_len / 2; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return VM_ERR_INVALID;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = hex_len / 2;
    return VM_OK;
}

int vm_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *out_len)
{
    return vm_hex_decode_n(hex, strlen(hex), out, cap, out_len);
}

void vm_hex_encode(const uint8_t *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    *out++ = '0';
    *out++ = 'x';
    for (size_t i = 0; i < len; i++) {
        *out++ = digits[data[i] >> 4];
        *out++ = digits[data[i] & 15];
    }
    *out = '\0';
}
