#include "amount.h"

#include <stdio.h>
#include <string.h>

struct unit {
    const char *name;
    unsigned decimals;
};

static const struct unit units[] = {
    {"wei", 0}, {"gwei", 9}, {"ether", 18}, {"eth", 18},
};

int amount_parse(const char *text, vm_u256 *wei)
{
    const char *p = text;
    char digits[100];
    size_t nd = 0, frac = 0;
    bool seen_point = false;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (nd + 1 >= sizeof digits) return VM_ERR_RANGE;
            digits[nd++] = *p;
            if (seen_point) frac++;
        } else if (*p == '.' && !seen_point) {
            seen_point = true;
        } else {
            break;
        }
    }
    if (nd == 0 || (seen_point && frac == 0)) return VM_ERR_INVALID;
    while (*p == ' ') p++;
    unsigned decimals = 0;
    if (*p) {
        bool found = false;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            if (strcmp(p, units[i].name) == 0) {
                decimals = units[i].decimals;
                found = true;
            }
        }
        if (!found) return VM_ERR_INVALID;
    }
    if (frac > decimals) return VM_ERR_INVALID; /* below one wei */
    for (size_t i = frac; i < decimals; i++) {
        if (nd + 1 >= sizeof digits) return VM_ERR_RANGE;
        digits[nd++] = '0';
    }
    digits[nd] = '\0';
    return vm_u256_parse(digits, wei);
}

void amount_format_ether(vm_u256 wei, char *out, size_t cap)
{
    char dec[80];
    vm_u256_to_dec(wei, dec);
    size_t n = strlen(dec);
    char whole[80], frac[19];
    if (n > 18) {
        memcpy(whole, dec, n - 18);
        whole[n - 18] = '\0';
        memcpy(frac, dec + n - 18, 18);
    } else {
        strcpy(whole, "0");
        memset(frac, '0', 18 - n);
        memcpy(frac + 18 - n, dec, n);
    }
    frac[18] = '\0';
    size_t f = 18;
    while (f > 0 && frac[f - 1] == '0') frac[--f] = '\0';
    if (f) snprintf(out, cap, "%s.%s ETH", whole, frac);
    else snprintf(out, cap, "%s ETH", whole);
}
