/*
 * json_values.h — private to node/: Ethereum values as the JSON the control
 * API and `bp debug dump` print (json_values.c).
 */
#ifndef BP_NODE_JSON_VALUES_H
#define BP_NODE_JSON_VALUES_H

#include "vm.h"

#include <jansson.h>

/* "0x" + lowercase hex; JSON null when out of memory. */
json_t *json_hex_value(const uint8_t *b, size_t len);
/* A 256-bit word in decimal (wei amounts), as a string. */
json_t *json_dec_value(vm_u256 v);

#endif
