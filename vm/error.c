#include "vm.h"

const char *vm_strerror(int err)
{
    switch (err) {
    case VM_OK: return "ok";
    case VM_ERR_INVALID: return "malformed input";
    case VM_ERR_TRUNCATED: return "input is truncated";
    case VM_ERR_NONCANONICAL: return "non-canonical encoding";
    case VM_ERR_NOMEM: return "out of memory";
    case VM_ERR_SIGNATURE: return "invalid signature";
    case VM_ERR_RANGE: return "value out of range";
    case VM_ERR_UNSUPPORTED: return "unsupported";
    case VM_ERR_KEY: return "invalid private key";
    default: return "unknown error";
    }
}
