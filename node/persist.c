/*
 * The node's records in the store. Every write here is a durable commit
 * (txn NULL) because a signature or a transaction may depend on it.
 */
#include "node.h"

#include <stdlib.h>
#include <string.h>

int persist_channel(struct node *n, struct channel *c)
{
    return store_put_channel(n->store, NULL, &c->rec);
}

int persist_cursor(struct node *n)
{
    if (n->cursor.next == 0) return 0;
    return store_put_cursor(n->store, NULL, n->cursor.next - 1, &n->cursor.hash);
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
