/*
 * peer_main.c — p2p_peer, a p2p listener in its own process for net_test:
 *   p2p_peer KEYHEX ALLOWED_ADDRESS_HEX [PORT]
 * listens on 127.0.0.1 (PORT, or any port), prints "port N address 0x..." on stdout,
 * answers every PING (reply = false) with a reply, and exits 0 when its stdin
 * reaches EOF (1 on a setup error).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p.h"

static void on_message(void *user, const vm_address *peer, const struct p2p_msg *msg)
{
    struct p2p **p = user;
    if (msg->type != P2P_MSG_PING || msg->u.ping.reply) return;
    struct p2p_msg *r = malloc(sizeof *r);
    if (r == NULL) return;
    *r = *msg;
    r->u.ping.reply = true;
    int rc = p2p_send(*p, peer, r);
    if (rc != P2P_OK) fprintf(stderr, "p2p_peer: echo: %s\n", p2p_strerror(rc));
    free(r);
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) return 1;
    char listen[64] = "tcp://127.0.0.1:0";
    if (argc == 4) snprintf(listen, sizeof listen, "tcp://127.0.0.1:%d", atoi(argv[3]));
    uint8_t key[32];
    vm_address allowed, self;
    size_t n = 0, m = 0;
    if (vm_hex_decode(argv[1], key, 32, &n) != VM_OK || n != 32 ||
        vm_hex_decode(argv[2], allowed.b, 20, &m) != VM_OK || m != 20)
        return 1;
    struct vm_secp *secp = NULL;
    if (vm_secp_new(&secp) != VM_OK) return 1;
    struct p2p *p = NULL;
    struct p2p_config cfg = {
        .eth_key = key,
        .secp = secp,
        .listen_url = listen,
        .user = &p,
        .on_message = on_message,
    };
    int port = 0;
    /* on_message reads p: it cannot run before p2p_new returns, since no
     * peer is allowed until p2p_allow_peer below. */
    if (p2p_new(&cfg, &p) != P2P_OK || p2p_listen_port(p, &port) != P2P_OK ||
        p2p_allow_peer(p, &allowed) != P2P_OK)
        return 1;
    p2p_local_address(p, &self);
    char hex[43];
    vm_hex_encode(self.b, 20, hex);
    printf("port %d address %s\n", port, hex);
    fflush(stdout);
    char buf[64];
    while (fgets(buf, sizeof buf, stdin) != NULL) {
    }
    p2p_free(p);
    vm_secp_free(secp);
    return 0;
}
