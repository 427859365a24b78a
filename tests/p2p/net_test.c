/*
 * net_test.c — p2p sessions over real tcp on 127.0.0.1 (suite integration).
 *
 *  - two named peers handshake and exchange every message type, in order,
 *    the largest SYNC_REPLY included, and thousands of PINGs under
 *    back-pressure;
 *  - a third key is refused by the listener; a dialer refuses a listener with
 *    another key than the one it dialed;
 *  - a man in the middle (a tcp proxy in this test that understands only the
 *    length prefix) replays and tampers with sealed frames: they are dropped
 *    with a logged reason, the session survives, and 8 bad frames close it —
 *    after which the dialer reconnects;
 *  - raw garbage on the listening port (an absurd length, a junk HELLO,
 *    silence) closes that connection only;
 *  - the dialer reconnects after the listener restarts on the same port;
 *  - and, if the path of the p2p_peer program is given as argv[1], the same
 *    handshake and an echo with a peer in a separate process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tnode.h"

static const uint8_t key_a[32] = {[31] = 0x0a};
static const uint8_t key_b[32] = {[31] = 0x0b};
static const uint8_t key_c[32] = {[31] = 0x0c};

static void url_of(int port, char *out, size_t n)
{
    snprintf(out, n, "tcp://127.0.0.1:%d", port);
}

static struct p2p_msg *new_msg(enum p2p_msg_type type)
{
    struct p2p_msg *m = calloc(1, sizeof *m);
    REQUIRE(m != NULL);
    m->type = type;
    memset(m->channel_id.b, 0xc4, 32);
    return m;
}

static int send_ping(struct tnode *from, const vm_address *to, uint64_t seq)
{
    struct p2p_msg *m = new_msg(P2P_MSG_PING);
    m->u.ping.seq = seq;
    int rc = p2p_send(from->p, to, m);
    free(m);
    return rc;
}

/* Listener b (allows a) and dialer a, connected. */
static void pair_up(struct vm_secp *secp, struct tnode *a, struct tnode *b, int *port)
{
    struct p2p_config cb = tnode_config(b, secp, key_b, "tcp://127.0.0.1:0");
    REQUIRE(tnode_start(b, &cb) == P2P_OK);
    REQUIRE(p2p_listen_port(b->p, port) == P2P_OK);
    REQUIRE(*port > 0);
    struct p2p_config ca = tnode_config(a, secp, key_a, NULL);
    REQUIRE(tnode_start(a, &ca) == P2P_OK);
    REQUIRE(p2p_allow_peer(b->p, &a->addr) == P2P_OK);
    char url[64];
    url_of(*port, url, sizeof url);
    REQUIRE(p2p_connect(a->p, &b->addr, url) == P2P_OK);
    CHECK_WITHIN(p2p_peer_connected(a->p, &b->addr) && p2p_peer_connected(b->p, &a->addr), 5000);
    CHECK_WITHIN(tnode_ups(a) == 1 && tnode_ups(b) == 1, 2000);
}

static void test_exchange(struct vm_secp *secp)
{
    struct tnode a = {0}, b = {0};
    int port = 0;
    pair_up(secp, &a, &b, &port);

    /* HELLO cannot be sent; an unknown peer is not connected. */
    struct p2p_msg *m = new_msg(P2P_MSG_HELLO);
    CHECK_EQ(p2p_send(a.p, &b.addr, m), P2P_ERR_INVALID);
    free(m);
    vm_address nobody = {{1, 2, 3}};
    CHECK_EQ(send_ping(&a, &nobody, 1), P2P_ERR_NOT_CONNECTED);
    CHECK(!p2p_peer_connected(a.p, &nobody));

    /* One of each type from a to b, the SYNC_REPLY at its maximal size. */
    struct p2p_msg *sent[7];
    enum p2p_msg_type types[7] = {P2P_MSG_PROPOSE,    P2P_MSG_ACCEPT, P2P_MSG_REJECT, P2P_MSG_SYNC,
                                  P2P_MSG_SYNC_REPLY, P2P_MSG_CLOSE,  P2P_MSG_PING};
    for (int i = 0; i < 7; i++) {
        sent[i] = new_msg(types[i]);
        sent[i]->channel_id.b[0] = (uint8_t)i;
    }
    sent[0]->u.propose.nonce = 5;
    sent[0]->u.propose.base_nonce = 4;
    sent[0]->u.propose.calldata_len = 36;
    memset(sent[0]->u.propose.calldata, 0x77, 36);
    sent[0]->u.propose.sig[64] = 28;
    sent[1]->u.accept.nonce = 5;
    sent[1]->u.accept.sig[0] = 0x99;
    sent[2]->u.reject.nonce = 6;
    strcpy(sent[2]->u.reject.reason, "move reverted: cell taken");
    sent[3]->u.sync.signed_nonce = 12;
    sent[3]->u.sync.own_nonce = 13;
    struct p2p_sync_reply *r = &sent[4]->u.sync_reply;
    r->bp.channel_id = sent[4]->channel_id;
    r->bp.nonce = 12;
    r->bp.payouts[0] = vm_u256_from_u64(1000000000000000000ull);
    r->bp.is_final = true;
    r->calldata_len = P2P_MAX_CALLDATA;
    memset(r->calldata, 0x5c, P2P_MAX_CALLDATA);
    r->n_slots = P2P_MAX_SLOTS;
    for (size_t i = 0; i < P2P_MAX_SLOTS; i++) {
        r->slots[i].key = vm_u256_from_u64(i);
        r->slots[i].value = vm_u256_from_u64(i + 1);
    }
    sent[5]->u.close.nonce = 13;
    sent[5]->u.close.base_nonce = 12;
    sent[6]->u.ping.seq = 77;
    for (int i = 0; i < 7; i++)
        CHECK_EQ(p2p_send(a.p, &b.addr, sent[i]), P2P_OK);
    CHECK_WITHIN(tnode_msgs(&b) == 7, 5000);
    for (int i = 0; i < 7 && tnode_msgs(&b) == 7; i++) {
        CHECK(memcmp(&b.msgs[i], sent[i], sizeof *sent[i]) == 0);
        CHECK(memcmp(b.msg_from[i].b, a.addr.b, 20) == 0);
    }
    for (int i = 0; i < 7; i++)
        free(sent[i]);

    /* Many PINGs both ways while b's callback is slow (back-pressure): all
     * arrive, in order, and b's echoes come back. */
    b.echo = true;
    b.slow_us = 200;
    const uint64_t n = 1500;
    size_t a_before = tnode_msgs(&a);
    for (uint64_t s = 0; s < n; s++) {
        int rc;
        while ((rc = send_ping(&a, &b.addr, 1000 + s)) == P2P_ERR_BUSY)
            sleep_ms(5);
        CHECK_EQ(rc, P2P_OK);
    }
    CHECK_WITHIN(tnode_msgs(&b) == 7 + n && tnode_msgs(&a) == a_before + n, 30000);
    bool in_order = true;
    for (uint64_t s = 0; s < n; s++) {
        const struct p2p_msg *got = &b.msgs[7 + s];
        const struct p2p_msg *echo = &a.msgs[a_before + s];
        if (got->type != P2P_MSG_PING || got->u.ping.seq != 1000 + s || got->u.ping.reply ||
            echo->type != P2P_MSG_PING || echo->u.ping.seq != 1000 + s || !echo->u.ping.reply)
            in_order = false;
    }
    CHECK(in_order);
    struct p2p_stats sa, sb;
    p2p_stats(a.p, &sa);
    p2p_stats(b.p, &sb);
    CHECK_EQ(sa.frames_sent, 7 + n);
    CHECK_EQ(sb.frames_received, 7 + n);
    CHECK_EQ(sb.frames_dropped, 0);
    CHECK_EQ(sa.handshakes_ok, 1);
    CHECK_EQ(sb.handshakes_ok, 1);
    /* Round-trip figures (printed, not asserted: sanitizers slow this down). */
    b.slow_us = 0;
    uint64_t rtt_us[200];
    for (int i = 0; i < 200; i++) {
        size_t before = tnode_msgs(&a);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK_EQ(send_ping(&a, &b.addr, 90000 + (uint64_t)i), P2P_OK);
        uint64_t give_up = now_ms() + 5000;
        while (tnode_msgs(&a) == before && now_ms() < give_up) {
        }
        CHECK(tnode_msgs(&a) == before + 1);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        rtt_us[i] = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000u +
                    (uint64_t)((t1.tv_nsec - t0.tv_nsec) / 1000);
    }
    for (int i = 1; i < 200; i++) /* insertion sort */
        for (int j = i; j > 0 && rtt_us[j] < rtt_us[j - 1]; j--) {
            uint64_t t = rtt_us[j];
            rtt_us[j] = rtt_us[j - 1];
            rtt_us[j - 1] = t;
        }
    printf("PING round trip over loopback: p50 %llu us, p99 %llu us\n",
           (unsigned long long)rtt_us[100], (unsigned long long)rtt_us[198]);
    tnode_free(&a);
    tnode_free(&b);
}

static void test_refusals(struct vm_secp *secp)
{
    struct tnode a = {0}, b = {0}, c = {0}, d = {0};
    int port = 0;
    pair_up(secp, &a, &b, &port);
    char url[64];
    url_of(port, url, sizeof url);

    /* C (not allowed by B) dials B. */
    struct p2p_config cc = tnode_config(&c, secp, key_c, NULL);
    REQUIRE(tnode_start(&c, &cc) == P2P_OK);
    REQUIRE(p2p_connect(c.p, &b.addr, url) == P2P_OK);
    struct p2p_stats sb;
    CHECK_WITHIN((p2p_stats(b.p, &sb), sb.peers_refused >= 1), 5000);
    char needle[80];
    char hex[43];
    vm_hex_encode(c.addr.b, 20, hex);
    snprintf(needle, sizeof needle, "peer %s is not allowed", hex);
    CHECK_WITHIN(tnode_logged(&b, needle), 2000);
    sleep_ms(300); /* C redials a few times meanwhile */
    CHECK(!p2p_peer_connected(c.p, &b.addr));
    CHECK(!p2p_peer_connected(b.p, &c.addr));
    CHECK_EQ(tnode_ups(&c), 0);
    CHECK_EQ(tnode_ups(&b), 1); /* only A */
    CHECK(p2p_peer_connected(b.p, &a.addr));

    tnode_free(&c);

    /* D (allowed by B) dials B's port but names C: D refuses B. */
    vm_address c_addr;
    REQUIRE(vm_key_address(secp, key_c, &c_addr) == VM_OK);
    static const uint8_t key_d[32] = {[31] = 0x0d};
    struct p2p_config cd = tnode_config(&d, secp, key_d, NULL);
    REQUIRE(tnode_start(&d, &cd) == P2P_OK);
    REQUIRE(p2p_allow_peer(b.p, &d.addr) == P2P_OK);
    REQUIRE(p2p_connect(d.p, &c_addr, url) == P2P_OK);
    struct p2p_stats sd;
    CHECK_WITHIN((p2p_stats(d.p, &sd), sd.peers_refused >= 1), 5000);
    CHECK_WITHIN(tnode_logged(&d, "but the peer is"), 2000);
    CHECK(!p2p_peer_connected(d.p, &c_addr));
    CHECK(!p2p_peer_connected(d.p, &b.addr));
    tnode_free(&d);

    /* A still talks to B. */
    CHECK_EQ(send_ping(&a, &b.addr, 9), P2P_OK);
    CHECK_WITHIN(tnode_msgs(&b) == 1, 3000);
    tnode_free(&a);
    tnode_free(&b);
}

/* ---------------------------------------------------------------------- */
/* A man in the middle: forwards bytes between a client and 127.0.0.1:target,
 * and, in the client -> target direction, cuts the stream into frames by
 * their length prefix so that it can replay or corrupt whole frames. */
struct proxy {
    int lfd;
    int port;
    int target;
    pthread_t thread;
    atomic_bool stop;
    atomic_int replay;       /* duplicate this many of the next session frames */
    atomic_int tamper;       /* flip a bit in this many of the next session frames */
    atomic_int tamper_hello; /* flip a bit of the ephemeral key in this many HELLOs */
    atomic_int connections;
};

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void proxy_session(struct proxy *px, int cfd)
{
    int sfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)px->target)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (sfd < 0 || connect(sfd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (sfd >= 0) close(sfd);
        return;
    }
    static uint8_t buf[4 + P2P_MAX_FRAME];
    size_t have = 0;
    int frame_no = 0;
    while (!atomic_load(&px->stop)) {
        struct pollfd fds[2] = {{cfd, POLLIN, 0}, {sfd, POLLIN, 0}};
        if (poll(fds, 2, 50) < 0) break;
        if (fds[1].revents) {
            uint8_t tmp[4096];
            ssize_t r = recv(sfd, tmp, sizeof tmp, 0);
            if (r <= 0 || !write_all(cfd, tmp, (size_t)r)) break;
        }
        if (fds[0].revents) {
            ssize_t r = recv(cfd, buf + have, sizeof buf - have, 0);
            if (r <= 0) break;
            have += (size_t)r;
            bool ok = true;
            while (ok && have >= 4) {
                size_t len = ((size_t)buf[0] << 24) | ((size_t)buf[1] << 16) |
                             ((size_t)buf[2] << 8) | buf[3];
                if (len > P2P_MAX_FRAME) { /* not ours to judge: pass through */
                    ok = write_all(sfd, buf, have);
                    have = 0;
                    break;
                }
                if (have < 4 + len) break;
                frame_no++;
                bool session_frame = frame_no >= 3; /* after HELLO and signed HELLO */
                if (frame_no == 1 && len > 50 && atomic_load(&px->tamper_hello) > 0) {
                    atomic_fetch_sub(&px->tamper_hello, 1);
                    buf[4 + 45] ^= 0x20; /* inside the ephemeral key (body offset 40..71) */
                }
                if (session_frame && atomic_load(&px->tamper) > 0) {
                    atomic_fetch_sub(&px->tamper, 1);
                    buf[4 + len - 1] ^= 0x01; /* the Poly1305 tag */
                }
                ok = write_all(sfd, buf, 4 + len);
                if (ok && session_frame && atomic_load(&px->replay) > 0) {
                    atomic_fetch_sub(&px->replay, 1);
                    ok = write_all(sfd, buf, 4 + len);
                }
                memmove(buf, buf + 4 + len, have - 4 - len);
                have -= 4 + len;
            }
            if (!ok) break;
        }
    }
    close(sfd);
}

static void *proxy_main(void *arg)
{
    struct proxy *px = arg;
    while (!atomic_load(&px->stop)) {
        struct pollfd pfd = {px->lfd, POLLIN, 0};
        if (poll(&pfd, 1, 50) <= 0) continue;
        int cfd = accept(px->lfd, NULL, NULL);
        if (cfd < 0) continue;
        atomic_fetch_add(&px->connections, 1);
        proxy_session(px, cfd);
        close(cfd);
    }
    return NULL;
}

static void proxy_start(struct proxy *px, int target)
{
    px->target = target;
    px->lfd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(px->lfd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(px->lfd, (struct sockaddr *)&sa, sizeof sa) == 0);
    REQUIRE(listen(px->lfd, 4) == 0);
    socklen_t sl = sizeof sa;
    REQUIRE(getsockname(px->lfd, (struct sockaddr *)&sa, &sl) == 0);
    px->port = ntohs(sa.sin_port);
    REQUIRE(pthread_create(&px->thread, NULL, proxy_main, px) == 0);
}

static void proxy_stop(struct proxy *px)
{
    atomic_store(&px->stop, true);
    pthread_join(px->thread, NULL);
    close(px->lfd);
}

static void test_mitm(struct vm_secp *secp)
{
    struct tnode a = {0}, b = {0};
    struct p2p_config cb = tnode_config(&b, secp, key_b, "tcp://127.0.0.1:0");
    REQUIRE(tnode_start(&b, &cb) == P2P_OK);
    int bport = 0;
    REQUIRE(p2p_listen_port(b.p, &bport) == P2P_OK);
    static struct proxy px; /* its frame buffer is static too: one proxy at a time */
    memset(&px, 0, sizeof px);
    proxy_start(&px, bport);
    struct p2p_config ca = tnode_config(&a, secp, key_a, NULL);
    REQUIRE(tnode_start(&a, &ca) == P2P_OK);
    REQUIRE(p2p_allow_peer(b.p, &a.addr) == P2P_OK);
    char url[64];
    url_of(px.port, url, sizeof url);
    /* The first handshake has its ephemeral key swapped in transit: the two
     * sides derive different keys, neither can open the other's signed
     * HELLO, and no session comes up; the next attempt is left alone. */
    atomic_store(&px.tamper_hello, 1);
    REQUIRE(p2p_connect(a.p, &b.addr, url) == P2P_OK);
    CHECK_WITHIN(p2p_peer_connected(a.p, &b.addr) && p2p_peer_connected(b.p, &a.addr), 5000);
    CHECK_EQ(atomic_load(&px.tamper_hello), 0);
    CHECK(atomic_load(&px.connections) >= 2);
    CHECK_WITHIN(tnode_logged(&b, "bad signed HELLO"), 2000);
    CHECK_WITHIN(tnode_ups(&a) == 1 && tnode_ups(&b) == 1, 2000);
    int conns_before = atomic_load(&px.connections);

    /* Replayed frame: dropped as a replay, the original delivered once. */
    atomic_store(&px.replay, 1);
    CHECK_EQ(send_ping(&a, &b.addr, 1), P2P_OK);
    struct p2p_stats sb;
    CHECK_WITHIN((p2p_stats(b.p, &sb), sb.frames_dropped == 1), 3000);
    CHECK_WITHIN(tnode_logged(&b, "replayed or reordered frame"), 2000);
    CHECK_EQ(send_ping(&a, &b.addr, 2), P2P_OK);
    CHECK_WITHIN(tnode_msgs(&b) == 2, 3000);
    CHECK(b.msgs[0].u.ping.seq == 1 && b.msgs[1].u.ping.seq == 2);

    /* Tampered frame: fails authentication, is dropped; the next one passes
     * (the receive counter did not move). */
    atomic_store(&px.tamper, 1);
    CHECK_EQ(send_ping(&a, &b.addr, 3), P2P_OK);
    CHECK_WITHIN((p2p_stats(b.p, &sb), sb.frames_dropped == 2), 3000);
    CHECK_WITHIN(tnode_logged(&b, "frame failed authentication"), 2000);
    CHECK_EQ(send_ping(&a, &b.addr, 4), P2P_OK);
    CHECK_WITHIN(tnode_msgs(&b) == 3, 3000);
    CHECK(b.msgs[2].u.ping.seq == 4);
    CHECK(p2p_peer_connected(b.p, &a.addr));
    CHECK_EQ(tnode_downs(&b), 0);

    /* Six more bad frames make eight: B closes the session, A reconnects
     * through the proxy and the session works again. */
    atomic_store(&px.tamper, 6);
    for (uint64_t s = 10; s < 16; s++)
        CHECK_EQ(send_ping(&a, &b.addr, s), P2P_OK);
    CHECK_WITHIN(tnode_logged(&b, "too many bad frames"), 3000);
    CHECK_WITHIN(tnode_downs(&a) == 1 && tnode_downs(&b) == 1, 3000);
    p2p_stats(b.p, &sb);
    CHECK_EQ(sb.frames_dropped, 8);
    CHECK_EQ(tnode_msgs(&b), 3); /* nothing tampered was delivered */
    CHECK_WITHIN(p2p_peer_connected(a.p, &b.addr) && p2p_peer_connected(b.p, &a.addr), 5000);
    CHECK(atomic_load(&px.connections) >= conns_before + 1);
    CHECK_EQ(send_ping(&a, &b.addr, 20), P2P_OK);
    CHECK_WITHIN(tnode_msgs(&b) == 4, 3000);

    tnode_free(&a);
    tnode_free(&b);
    proxy_stop(&px);
}

/* ---------------------------------------------------------------------- */
/* Raw bytes on the listening port. */

static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    return fd;
}

/* True if the peer closes fd within ms (reading and discarding its HELLO). */
static bool closed_within(int fd, unsigned ms)
{
    uint64_t until = now_ms() + ms;
    while (now_ms() < until) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 20) > 0) {
            uint8_t tmp[512];
            ssize_t r = recv(fd, tmp, sizeof tmp, 0);
            if (r == 0 || (r < 0 && errno == ECONNRESET)) return true;
        }
    }
    return false;
}

static void test_garbage(struct vm_secp *secp)
{
    struct tnode a = {0}, b = {0};
    int port = 0;
    pair_up(secp, &a, &b, &port);

    int fd = raw_connect(port);
    const uint8_t absurd[4] = {0xff, 0xff, 0xff, 0xff};
    CHECK(write_all(fd, absurd, 4));
    CHECK(closed_within(fd, 3000));
    close(fd);
    CHECK_WITHIN(tnode_logged(&b, "out of bounds"), 2000);

    fd = raw_connect(port);
    const uint8_t junk[] = {0, 0, 0, 6, 'h', 'e', 'l', 'l', 'o', '?'};
    CHECK(write_all(fd, junk, sizeof junk));
    CHECK(closed_within(fd, 3000));
    close(fd);
    CHECK_WITHIN(tnode_logged(&b, "bad HELLO"), 2000);

    fd = raw_connect(port); /* says nothing: the handshake times out (1 s) */
    CHECK(closed_within(fd, 4000));
    close(fd);
    CHECK_WITHIN(tnode_logged(&b, "handshake timed out"), 2000);

    /* A handshake frame may not be large (a HELLO is ~160 bytes). */
    fd = raw_connect(port);
    const uint8_t big_hello[4] = {0, 0, 0x02, 0x01}; /* 513 */
    CHECK(write_all(fd, big_hello, 4));
    CHECK(closed_within(fd, 3000));
    close(fd);
    CHECK_WITHIN(tnode_logged(&b, "frame length 513 out of bounds (1..512)"), 2000);

    /* At most 64 connections may be in their handshake: the 65th is closed
     * at once, long before the 1 s handshake timeout. */
    int silent[64];
    for (int i = 0; i < 64; i++)
        silent[i] = raw_connect(port);
    sleep_ms(200);
    fd = raw_connect(port);
    uint64_t t0 = now_ms();
    CHECK(closed_within(fd, 3000));
    CHECK(now_ms() - t0 < 800);
    close(fd);
    CHECK_WITHIN(tnode_logged(&b, "64 handshakes already pending"), 2000);
    for (int i = 0; i < 64; i++)
        close(silent[i]);

    /* The real session was not disturbed. */
    CHECK(p2p_peer_connected(b.p, &a.addr));
    CHECK_EQ(send_ping(&a, &b.addr, 5), P2P_OK);
    CHECK_WITHIN(tnode_msgs(&b) == 1, 3000);
    CHECK_EQ(tnode_downs(&b), 0);
    tnode_free(&a);
    tnode_free(&b);
}

static void test_listener_restart(struct vm_secp *secp)
{
    struct tnode a = {0}, b = {0};
    int port = 0;
    pair_up(secp, &a, &b, &port);
    tnode_free(&b);
    CHECK_WITHIN(tnode_downs(&a) == 1, 3000);
    CHECK(!p2p_peer_connected(a.p, &b.addr));
    CHECK_EQ(send_ping(&a, &b.addr, 1), P2P_ERR_NOT_CONNECTED);
    sleep_ms(700); /* A keeps redialing a closed port; backoff reaches its cap */
    CHECK_WITHIN(tnode_logged(&a, "redialing"), 1000);

    struct tnode b2 = {0};
    char url[64];
    url_of(port, url, sizeof url);
    struct p2p_config cb = tnode_config(&b2, secp, key_b, url);
    REQUIRE(tnode_start(&b2, &cb) == P2P_OK);
    REQUIRE(p2p_allow_peer(b2.p, &a.addr) == P2P_OK);
    CHECK_WITHIN(p2p_peer_connected(a.p, &b2.addr) && p2p_peer_connected(b2.p, &a.addr), 5000);
    CHECK_WITHIN(tnode_ups(&a) == 2, 2000);
    CHECK_EQ(send_ping(&a, &b2.addr, 2), P2P_OK);
    CHECK_WITHIN(tnode_msgs(&b2) == 1, 3000);
    CHECK(b2.msgs[0].u.ping.seq == 2);
    tnode_free(&a);
    tnode_free(&b2);
}

/* Both sides dial each other at once: they settle on one session (the one
 * dialed by the lower address) and it carries messages both ways. */
static void test_mutual(struct vm_secp *secp)
{
    struct tnode a = {0}, b = {0};
    struct p2p_config ca = tnode_config(&a, secp, key_a, "tcp://127.0.0.1:0");
    struct p2p_config cb = tnode_config(&b, secp, key_b, "tcp://127.0.0.1:0");
    REQUIRE(tnode_start(&a, &ca) == P2P_OK && tnode_start(&b, &cb) == P2P_OK);
    int pa = 0, pb = 0;
    REQUIRE(p2p_listen_port(a.p, &pa) == P2P_OK && p2p_listen_port(b.p, &pb) == P2P_OK);
    char ua[64], ub[64];
    url_of(pa, ua, sizeof ua);
    url_of(pb, ub, sizeof ub);
    REQUIRE(p2p_connect(a.p, &b.addr, ub) == P2P_OK);
    REQUIRE(p2p_connect(b.p, &a.addr, ua) == P2P_OK);
    CHECK_WITHIN(p2p_peer_connected(a.p, &b.addr) && p2p_peer_connected(b.p, &a.addr), 5000);
    sleep_ms(500); /* let any duplicate be resolved */
    CHECK(p2p_peer_connected(a.p, &b.addr) && p2p_peer_connected(b.p, &a.addr));
    struct p2p_stats sa1, sb1, sa2, sb2;
    p2p_stats(a.p, &sa1);
    p2p_stats(b.p, &sb1);
    sleep_ms(500); /* stable: no more handshakes */
    p2p_stats(a.p, &sa2);
    p2p_stats(b.p, &sb2);
    CHECK_EQ(sa2.handshakes_ok, sa1.handshakes_ok);
    CHECK_EQ(sb2.handshakes_ok, sb1.handshakes_ok);
    CHECK_EQ(send_ping(&a, &b.addr, 1), P2P_OK);
    CHECK_EQ(send_ping(&b, &a.addr, 2), P2P_OK);
    CHECK_WITHIN(tnode_msgs(&a) == 1 && tnode_msgs(&b) == 1, 3000);
    CHECK(a.msgs[0].u.ping.seq == 2 && b.msgs[0].u.ping.seq == 1);
    tnode_free(&a);
    tnode_free(&b);
}

/* The listener forgets its peer: the session ends and the redials are
 * refused until it allows the peer again; the dialer that forgets stops. */
static void test_forget(struct vm_secp *secp)
{
    struct tnode a = {0}, b = {0};
    int port = 0;
    pair_up(secp, &a, &b, &port);
    CHECK_EQ(p2p_forget_peer(b.p, &a.addr), P2P_OK);
    CHECK_WITHIN(tnode_downs(&a) == 1 && tnode_downs(&b) == 1, 3000);
    struct p2p_stats sb;
    CHECK_WITHIN((p2p_stats(b.p, &sb), sb.peers_refused >= 2), 5000); /* A keeps trying */
    CHECK(!p2p_peer_connected(a.p, &b.addr));
    REQUIRE(p2p_allow_peer(b.p, &a.addr) == P2P_OK);
    CHECK_WITHIN(p2p_peer_connected(a.p, &b.addr) && p2p_peer_connected(b.p, &a.addr), 5000);
    CHECK_WITHIN(tnode_ups(&a) == 2, 2000);

    CHECK_EQ(p2p_forget_peer(a.p, &b.addr), P2P_OK);
    CHECK_WITHIN(tnode_downs(&a) == 2 && tnode_downs(&b) == 2, 3000);
    p2p_stats(b.p, &sb);
    uint64_t handshakes = sb.handshakes_ok;
    sleep_ms(600); /* longer than A's backoff cap: A would have redialed */
    p2p_stats(b.p, &sb);
    CHECK_EQ(sb.handshakes_ok, handshakes);
    CHECK(!p2p_peer_connected(b.p, &a.addr));
    vm_address nobody = {{7}};
    CHECK_EQ(p2p_forget_peer(a.p, &nobody), P2P_OK);
    tnode_free(&a);
    tnode_free(&b);
}

/* Argument and setup errors are reported, not crashed on. */
static void test_api_errors(struct vm_secp *secp)
{
    struct p2p *p = NULL;
    static const uint8_t zero_key[32];
    struct p2p_config c = {.eth_key = zero_key, .secp = secp};
    CHECK_EQ(p2p_new(&c, &p), P2P_ERR_INVALID);
    c.eth_key = key_a;
    c.secp = NULL;
    CHECK_EQ(p2p_new(&c, &p), P2P_ERR_INVALID);
    c.secp = secp;
    c.listen_url = "nonsense://x";
    CHECK_EQ(p2p_new(&c, &p), P2P_ERR_TRANSPORT);
    c.listen_url = "tcp://127.0.0.1:0";
    REQUIRE(p2p_new(&c, &p) == P2P_OK);
    int port = 0;
    REQUIRE(p2p_listen_port(p, &port) == P2P_OK);
    struct p2p *q = NULL;
    char url[64];
    url_of(port, url, sizeof url);
    c.listen_url = url; /* in use */
    CHECK_EQ(p2p_new(&c, &q), P2P_ERR_TRANSPORT);
    vm_address peer = {{9}};
    CHECK_EQ(p2p_connect(p, &peer, "tcp://"), P2P_ERR_TRANSPORT);
    CHECK_EQ(p2p_connect(p, &peer, "bogus"), P2P_ERR_TRANSPORT);
    CHECK(!p2p_peer_connected(p, &peer));
    c.listen_url = NULL;
    REQUIRE(p2p_new(&c, &q) == P2P_OK);
    CHECK_EQ(p2p_listen_port(q, &port), P2P_ERR_INVALID);
    p2p_free(q);
    p2p_free(p);
    p2p_free(NULL);
}

/* ---------------------------------------------------------------------- */
/* A peer in another process: p2p_peer KEYHEX ALLOWHEX [PORT] prints
 * "port N address 0x..." and echoes PINGs until its stdin closes. */
struct child {
    pid_t pid;
    int to; /* its stdin */
    FILE *from;
    int port;
    vm_address addr;
};

static void spawn_peer(const char *prog, const vm_address *allow, int port, struct child *ch)
{
    char keyhex[67], allowhex[43], portstr[16];
    vm_hex_encode(key_b, 32, keyhex);
    vm_hex_encode(allow->b, 20, allowhex);
    snprintf(portstr, sizeof portstr, "%d", port);
    int to_child[2], from_child[2];
    REQUIRE(pipe(to_child) == 0 && pipe(from_child) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(to_child[0], 0);
        dup2(from_child[1], 1);
        close(to_child[1]);
        close(from_child[0]);
        execl(prog, prog, keyhex, allowhex, port ? portstr : NULL, (char *)NULL);
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    ch->pid = pid;
    ch->to = to_child[1];
    ch->from = fdopen(from_child[0], "r");
    REQUIRE(ch->from != NULL);
    char addrhex[64] = {0};
    ch->port = 0;
    CHECK(fscanf(ch->from, "port %d address %42s", &ch->port, addrhex) == 2);
    size_t alen = 0;
    CHECK(vm_hex_decode(addrhex, ch->addr.b, 20, &alen) == VM_OK && alen == 20);
}

static void echo_round(struct tnode *a, const vm_address *peer, uint64_t base)
{
    size_t before = tnode_msgs(a);
    for (uint64_t s = 0; s < 10; s++)
        CHECK_EQ(send_ping(a, peer, base + s), P2P_OK);
    CHECK_WITHIN(tnode_msgs(a) == before + 10, 5000);
    for (size_t i = 0; i < 10 && tnode_msgs(a) == before + 10; i++)
        CHECK(a->msgs[before + i].u.ping.reply && a->msgs[before + i].u.ping.seq == base + i);
}

static void test_process(struct vm_secp *secp, const char *peer_prog)
{
    struct tnode a = {0};
    struct p2p_config ca = tnode_config(&a, secp, key_a, NULL);
    REQUIRE(tnode_start(&a, &ca) == P2P_OK);
    vm_address b_expected;
    REQUIRE(vm_key_address(secp, key_b, &b_expected) == VM_OK);

    struct child ch;
    spawn_peer(peer_prog, &a.addr, 0, &ch);
    CHECK(memcmp(ch.addr.b, b_expected.b, 20) == 0);
    REQUIRE(ch.port > 0);
    char url[64];
    url_of(ch.port, url, sizeof url);
    REQUIRE(p2p_connect(a.p, &b_expected, url) == P2P_OK);
    CHECK_WITHIN(p2p_peer_connected(a.p, &b_expected), 5000);
    echo_round(&a, &b_expected, 500);

    /* kill -9 the peer process: A notices, keeps redialing, and the peer
     * restarted on the same port is reconnected to. */
    int status = 0;
    kill(ch.pid, SIGKILL);
    CHECK(waitpid(ch.pid, &status, 0) == ch.pid);
    close(ch.to);
    fclose(ch.from);
    CHECK_WITHIN(!p2p_peer_connected(a.p, &b_expected), 3000);
    CHECK_WITHIN(tnode_downs(&a) == 1, 2000);
    sleep_ms(300);
    struct child ch2;
    spawn_peer(peer_prog, &a.addr, ch.port, &ch2);
    CHECK_EQ(ch2.port, ch.port);
    CHECK_WITHIN(p2p_peer_connected(a.p, &b_expected), 5000);
    CHECK_WITHIN(tnode_ups(&a) == 2, 2000);
    echo_round(&a, &b_expected, 900);

    close(ch2.to); /* the child exits on EOF */
    CHECK(waitpid(ch2.pid, &status, 0) == ch2.pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fclose(ch2.from);
    tnode_free(&a);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    struct vm_secp *secp = NULL;
    REQUIRE(vm_secp_new(&secp) == VM_OK);
    const char *only = getenv("P2P_TEST_ONLY");
#define RUN(name, call)                                                                            \
    do {                                                                                           \
        if (only == NULL || strcmp(only, name) == 0) {                                             \
            fprintf(stderr, "-- %s\n", name);                                                      \
            call;                                                                                  \
        }                                                                                          \
    } while (0)
    RUN("exchange", test_exchange(secp));
    RUN("refusals", test_refusals(secp));
    RUN("mitm", test_mitm(secp));
    RUN("garbage", test_garbage(secp));
    RUN("restart", test_listener_restart(secp));
    RUN("mutual", test_mutual(secp));
    RUN("forget", test_forget(secp));
    RUN("api", test_api_errors(secp));
    if (argc > 1) RUN("process", test_process(secp, argv[1]));
    vm_secp_free(secp);
    return check_report("p2p net");
}
