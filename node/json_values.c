#include "json_values.h"

#include <stdlib.h>

json_t *json_hex_value(const uint8_t *b, size_t len)
{
    char *text = malloc(2 * len + 3);
    if (!text) return json_null();
    vm_hex_encode(b, len, text);
    json_t *s = json_string(text);
    free(text);
    return s;
}

json_t *json_dec_value(vm_u256 v)
{
    char dec[80];
    vm_u256_to_dec(v, dec);
    return json_string(dec);
}
