/* A growable byte buffer: the output side of every encoder (RLP, ABI, msgpack glue). */
#include "vm.h"

#include <stdlib.h>
#include <string.h>

int vm_buf_reserve(struct vm_buf *buf, size_t extra)
{
    if (extra > SIZE_MAX - buf->len) return VM_ERR_NOMEM;
    size_t need = buf->len + extra;
    if (need <= buf->cap) return VM_OK;
    size_t cap = buf->cap ? buf->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(buf->data, cap);
    if (!p) return VM_ERR_NOMEM;
    buf->data = p;
    buf->cap = cap;
    return VM_OK;
}

int vm_buf_append(struct vm_buf *buf, const void *data, size_t len)
{
    int err = vm_buf_reserve(buf, len);
    if (err) return err;
    if (len) memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    return VM_OK;
}

void vm_buf_free(struct vm_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}
