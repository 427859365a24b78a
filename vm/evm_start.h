/*
 * evm_start.h — starting a message on a frame (vm/evm.c), used by the
 * interpreter for nested calls and by vm_evm_execute for depth 0. Private.
 */
#ifndef BP_VM_EVM_START_H
#define BP_VM_EVM_START_H

#include "evm_internal.h"

/* A message that finished without running code (precompile, no code, or a
 * failure before execution). */
struct evm_done {
    enum vm_status status;
    int64_t gas_left;
    const uint8_t *output;
    size_t output_size;
    uint8_t *owned; /* malloc'ed output to free after use, or NULL */
};

enum evm_start { EVM_START_RUN, EVM_START_DONE };

/*
 * Starts the message already written into f (kind, is_static, depth, gas,
 * recipient, sender, code_address, value, input). The caller has done the
 * depth, balance and (for creates) nonce checks and warmed the addresses.
 * Returns EVM_START_RUN with f ready to interpret (snapshot taken, code
 * set), or EVM_START_DONE with *d filled (the host reverted on failure).
 * On allocation failure sets evm->nomem and returns EVM_START_DONE.
 */
enum evm_start evm_start_message(struct vm_evm *evm, struct evm_frame *f, struct evm_done *d);

#endif /* BP_VM_EVM_START_H */
