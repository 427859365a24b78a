/*
 * The node's records in the store: inside the loop's open batch (batch.c),
 * durable when it commits, before anything that depends on them leaves.
 */
#include "node.h"

#include <stdlib.h>
#include <string.h>

int persist_channel(struct node *n, struct channel *c)
{
    int rv = node_may_write(n);
    if (rv == STORE_OK) rv = store_put_channel(n->store, node_txn(n), &c->rec);
    if (rv == STORE_OK) n->metrics.writes++;
    return rv;
}

int persist_cursor(struct node *n)
{
    if (n->cursor.next == 0) return 0;
    if (node_may_write(n)) return STORE_ERR_IO;
    return store_put_cursor(n->store, node_txn(n), n->cursor.next - 1, &n->cursor.hash);
}

int node_add_channel(struct node *n, struct channel *c)
{
    struct channel **list = realloc(n->channels, (n->n_channels + 1) * sizeof *list);
    if (!list) return STORE_ERR_NOMEM;
    n->channels = list;
    int rv = persist_channel(n, c);
    if (rv) return rv;
    n->channels[n->n_channels++] = c;
    return 0;
}
