/*
 * amount.h — private to node/: amounts as the CLI takes them.
 * "1ether", "0.5ether", "5gwei", "12wei", "12" (wei); a space before the unit
 * is allowed. Units: wei, gwei, ether (eth).
 */
#ifndef BP_NODE_AMOUNT_H
#define BP_NODE_AMOUNT_H

#include "vm.h"

/* Returns 0, or VM_ERR_INVALID (no number, unknown unit, too many decimals
 * for the unit) or VM_ERR_RANGE (above 2^256-1). */
__attribute__((warn_unused_result)) int amount_parse(const char *text, vm_u256 *wei);
/* Writes e.g. "1.5 ETH" or "0 ETH" (exact, no rounding) to out (>= 100 bytes). */
void amount_format_ether(vm_u256 wei, char *out, size_t cap);

#endif
