/*
 * The kernel's MQTT session (bw_mqtt.h) against a real mosquitto on
 * 127.0.0.1, over a TCP bw_stream, and against scripted servers (our own
 * listening socket) for what a well-behaved broker never does. Every wait is
 * on an event (a socket becoming readable, a session event) with a deadline.
 *
 * Promises checked: CONNECT/CONNACK/SUBSCRIBE; publishes from mosquitto_pub
 * at QoS 0 and 1 reach the callback and QoS 1 ones are acknowledged; our
 * QoS 0/1 publishes reach another session and mosquitto_sub, QoS 1 ones end
 * in DELIVERED, the in-flight table is bounded; everything works with the
 * stream taking or giving a few bytes at a time; keepalive pings flow with
 * a short keepalive and a frozen broker is declared dead; a stopped broker
 * closes the session and reports every unacknowledged message UNDELIVERED;
 * the will reaches a subscriber when the socket is cut; a packet larger
 * than the receive buffer closes the session cleanly (and a new one works);
 * a refused CONNACK, a missing CONNACK, a packet before CONNACK each close
 * with their reason; an unacknowledged QoS 1 message is sent again with DUP.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "bw_mqtt.h"
#include "net_harness.h"

#define WAIT_MS 30000u   /* an upper bound only: every wait ends at its event */

typedef struct client {
    bw_mqtt session;
    bw_mqtt_config config;
    tcp_stream tcp;
    const char *subs[2];
    unsigned connected, subscribed, closed, messages;
    unsigned delivered, undelivered, undelivered_at_close;
    uint16_t delivered_ids[16], undelivered_ids[16];
    char last_topic[128];
    uint8_t last_payload[BW_MQTT_RX_MAX];
    size_t last_len;
    uint8_t last_qos;
    bool last_retain;
} client;

static void on_event(void *ctx, const bw_mqtt_event *ev)
{
    client *c = ctx;
    switch (ev->type) {
    case BW_MQTT_EV_CONNECTED:
        c->connected++;
        /* with a subscription, not before its SUBACK; with none, at once */
        assert_true(bw_mqtt_is_subscribed(&c->session) == (c->config.subscription_count == 0));
        break;
    case BW_MQTT_EV_SUBSCRIBED:
        c->subscribed++;
        assert_true(bw_mqtt_is_subscribed(&c->session));
        break;
    case BW_MQTT_EV_MESSAGE:
        c->messages++;
        assert_true(ev->topic_len < sizeof c->last_topic);
        memcpy(c->last_topic, ev->topic, ev->topic_len);
        c->last_topic[ev->topic_len] = '\0';
        memcpy(c->last_payload, ev->payload, ev->payload_len);
        c->last_len = ev->payload_len;
        c->last_qos = ev->qos;
        c->last_retain = ev->retain;
        break;
    case BW_MQTT_EV_DELIVERED:
        c->delivered_ids[c->delivered++ % 16] = ev->packet_id;
        break;
    case BW_MQTT_EV_UNDELIVERED:
        c->undelivered_ids[c->undelivered++ % 16] = ev->packet_id;
        break;
    case BW_MQTT_EV_CLOSED:
        c->closed++;
        c->undelivered_at_close = c->undelivered;
        assert_int_equal(ev->reason, bw_mqtt_get_close_reason(&c->session));
        break;
    }
}

static void client_init(client *c, const char *id, const char *sub)
{
    memset(c, 0, sizeof *c);
    c->subs[0] = sub;
    c->config.client_id = id;
    c->config.subscriptions = c->subs;
    c->config.subscription_count = sub ? 1 : 0;
    c->config.on_event = on_event;
    c->config.ctx = c;
}

static void client_start(client *c, int port, size_t max_chunk)
{
    assert_true(tcp_stream_connect(&c->tcp, port, max_chunk));
    assert_int_equal(bw_mqtt_start(&c->session, &c->config, &c->tcp.stream, now_ms()), BW_OK);
    assert_int_equal(bw_mqtt_get_state(&c->session), BW_MQTT_CONNECTING);
}

/* Polls the sessions until done(arg) or the deadline, sleeping only in
 * poll(2) on their sockets (at most 10 ms, so timers are looked at). */
static bool run_until(client *const *cs, size_t n, bool (*done)(void *), void *arg,
                      uint32_t timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        struct pollfd fds[4];
        size_t nfds = 0;
        for (size_t i = 0; i < n; i++) {
            bw_mqtt_poll(&cs[i]->session, now_ms());
            if (cs[i]->tcp.fd >= 0 && nfds < 4) {
                fds[nfds++] = (struct pollfd){ .fd = cs[i]->tcp.fd, .events = POLLIN };
            }
        }
        if (done(arg)) {
            return true;
        }
        if (now_ms() >= deadline) {
            return false;
        }
        poll(fds, nfds, 10);
    }
}

static bool run1(client *c, bool (*done)(void *), uint32_t timeout_ms)
{
    client *cs[] = { c };
    return run_until(cs, 1, done, c, timeout_ms);
}

static bool is_subscribed(void *arg)
{
    return ((client *)arg)->subscribed > 0;
}

static bool is_connected(void *arg)
{
    return ((client *)arg)->connected > 0;
}

static bool is_closed(void *arg)
{
    return ((client *)arg)->closed > 0;
}

static unsigned want_messages;
static bool has_messages(void *arg)
{
    return ((client *)arg)->messages >= want_messages;
}

static unsigned want_delivered;
static bool has_delivered(void *arg)
{
    return ((client *)arg)->delivered >= want_delivered;
}

static bool broker_got_puback(void *arg)
{
    return broker_log_contains(arg, "Received PUBACK from BWRECV");
}

/* arg: client *[2] */
static bool pair_subscribed(void *arg)
{
    client **cs = arg;
    return cs[0]->subscribed && cs[1]->subscribed;
}

/* arg: client *[2]: publisher delivered one, subscriber saw two */
static bool pair_seen(void *arg)
{
    client **cs = arg;
    return cs[0]->delivered >= 1 && cs[1]->messages >= 2;
}

static bool two_pongs(void *arg)
{
    return bw_mqtt_get_stats(&((client *)arg)->session)->pongs >= 2;
}

static bool one_stray_ack(void *arg)
{
    return bw_mqtt_get_stats(&((client *)arg)->session)->stray_acks == 1;
}

static void port_text(const broker *b, char out[8])
{
    snprintf(out, 8, "%d", b->port);
}

/* ---- against mosquitto ---- */

static void receives_qos0_and_qos1(void **state)
{
    (void)state;
    broker b;
    assert_true(broker_start(&b, NULL));
    static client c;
    client_init(&c, "BWRECV", "bw/BWRECV/down/#");
    client_start(&c, b.port, 0);
    assert_true(run1(&c, is_subscribed, WAIT_MS));
    assert_int_equal(bw_mqtt_get_state(&c.session), BW_MQTT_CONNECTED);

    char port[8];
    port_text(&b, port);
    char *pub0[] = { "mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-q", "0", "-t",
                     "bw/BWRECV/down/time", "-m", "hello zero", NULL };
    assert_int_equal(run_tool(pub0, NULL, 0), 0);
    want_messages = 1;
    assert_true(run1(&c, has_messages, WAIT_MS));
    assert_string_equal(c.last_topic, "bw/BWRECV/down/time");
    assert_int_equal(c.last_len, 10);
    assert_memory_equal(c.last_payload, "hello zero", 10);
    assert_int_equal(c.last_qos, 0);

    char *pub1[] = { "mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-q", "1", "-t",
                     "bw/BWRECV/down/x", "-m", "hello one", NULL };
    assert_int_equal(run_tool(pub1, NULL, 0), 0);
    want_messages = 2;
    assert_true(run1(&c, has_messages, WAIT_MS));
    assert_string_equal(c.last_topic, "bw/BWRECV/down/x");
    assert_memory_equal(c.last_payload, "hello one", 9);
    assert_int_equal(c.last_qos, 1);
    /* Our PUBACK reached the broker (its log says so). */
    client *cs[] = { &c };
    assert_true(run_until(cs, 1, broker_got_puback, &b, WAIT_MS));

    bw_mqtt_close(&c.session);
    assert_int_equal(bw_mqtt_get_close_reason(&c.session), BW_MQTT_CLOSE_LOCAL);
    tcp_stream_cut(&c.tcp);
    broker_stop(&b);
}

/* Publisher p and subscriber s; p's stream moves at most `chunk` bytes a call. */
static void publish_and_see(size_t chunk)
{
    broker b;
    assert_true(broker_start(&b, NULL));
    static client p, s;
    client_init(&p, "BWPUB", "bw/BWPUB/down/#");
    client_init(&s, "BWSUB", "bw/BWPUB/up/#");
    client_start(&p, b.port, chunk);
    client_start(&s, b.port, chunk);
    client *both[] = { &p, &s };
    assert_true(run_until(both, 2, pair_subscribed, both, WAIT_MS));

    uint16_t id = 0;
    static const uint8_t zero[] = "qos zero";
    static uint8_t big[1500];
    for (size_t i = 0; i < sizeof big; i++) {
        big[i] = (uint8_t)(i * 13);
    }
    assert_int_equal(bw_mqtt_publish(&p.session, "bw/BWPUB/up/log", zero, 8, 0, false, NULL,
                                     now_ms()), BW_OK);
    assert_int_equal(bw_mqtt_publish(&p.session, "bw/BWPUB/up/status", big, sizeof big, 1, false,
                                     &id, now_ms()), BW_OK);
    assert_int_not_equal(id, 0);
    assert_true(run_until(both, 2, pair_seen, both, WAIT_MS));
    assert_int_equal(p.delivered_ids[0], id);
    assert_string_equal(s.last_topic, "bw/BWPUB/up/status");
    assert_int_equal(s.last_len, sizeof big);
    assert_memory_equal(s.last_payload, big, sizeof big);

    /* The in-flight table holds BW_MQTT_INFLIGHT_MAX: one more is refused
     * until a PUBACK frees a slot. */
    static const uint8_t small[] = "x";
    uint16_t ids[BW_MQTT_INFLIGHT_MAX];
    for (size_t i = 0; i < BW_MQTT_INFLIGHT_MAX; i++) {
        assert_int_equal(bw_mqtt_publish(&p.session, "bw/BWPUB/up/log", small, 1, 1, false,
                                         &ids[i], now_ms()), BW_OK);
    }
    uint16_t extra;
    assert_int_equal(bw_mqtt_publish(&p.session, "bw/BWPUB/up/log", small, 1, 1, false, &extra,
                                     now_ms()), BW_E_FULL);
    want_delivered = 1 + BW_MQTT_INFLIGHT_MAX;
    assert_true(run1(&p, has_delivered, WAIT_MS));
    for (size_t i = 0; i < BW_MQTT_INFLIGHT_MAX; i++) {
        assert_int_equal(p.delivered_ids[1 + i], ids[i]);
    }

    /* A retained QoS 1 message, once DELIVERED, is what mosquitto_sub reads. */
    static const uint8_t crash[] = "retained-crash";
    assert_int_equal(bw_mqtt_publish(&p.session, "bw/BWPUB/up/crash", crash, 14, 1, true, &id,
                                     now_ms()), BW_OK);
    want_delivered = 2 + BW_MQTT_INFLIGHT_MAX;
    assert_true(run1(&p, has_delivered, WAIT_MS));
    char port[8];
    port_text(&b, port);
    char *sub[] = { "mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", "bw/BWPUB/up/crash",
                    "-C", "1", "-W", "5", NULL };
    char out[64];
    assert_int_equal(run_tool(sub, out, sizeof out), 0);
    assert_string_equal(out, "retained-crash\n");
    assert_int_equal(p.undelivered, 0);

    bw_mqtt_close(&p.session);
    bw_mqtt_close(&s.session);
    tcp_stream_cut(&p.tcp);
    tcp_stream_cut(&s.tcp);
    broker_stop(&b);
}

static void publishes_reach_subscribers(void **state)
{
    (void)state;
    publish_and_see(0);
}

static void partial_reads_and_writes(void **state)
{
    (void)state;
    publish_and_see(3);
}

static void keepalive_pings(void **state)
{
    (void)state;
    broker b;
    assert_true(broker_start(&b, NULL));
    static client c;
    client_init(&c, "BWPING", NULL);
    c.config.keepalive_s = 1;
    c.config.ping_timeout_ms = 1500;
    client_start(&c, b.port, 0);
    uint64_t t0 = now_ms();
    assert_true(run1(&c, two_pongs, WAIT_MS));
    /* Two pings need two idle keepalive periods, not less. */
    assert_true(now_ms() - t0 >= 2000);
    assert_true(bw_mqtt_get_stats(&c.session)->pings >= 2);
    assert_int_equal(bw_mqtt_get_state(&c.session), BW_MQTT_CONNECTED);

    /* A frozen broker answers nothing: dead after keepalive + ping timeout. */
    broker_signal(&b, SIGSTOP);
    assert_true(run1(&c, is_closed, WAIT_MS));
    assert_int_equal(bw_mqtt_get_close_reason(&c.session), BW_MQTT_CLOSE_KEEPALIVE_TIMEOUT);
    tcp_stream_cut(&c.tcp);
    broker_stop(&b);
}

static void broker_stopped_reports_undelivered(void **state)
{
    (void)state;
    broker b;
    assert_true(broker_start(&b, NULL));
    static client c;
    client_init(&c, "BWSTOP", "bw/BWSTOP/down/#");
    client_start(&c, b.port, 0);
    assert_true(run1(&c, is_subscribed, WAIT_MS));
    /* Frozen: the two messages go out but are never acknowledged. */
    broker_signal(&b, SIGSTOP);
    uint16_t id1, id2;
    static const uint8_t m[] = "log batch";
    assert_int_equal(bw_mqtt_publish(&c.session, "bw/BWSTOP/up/log", m, 9, 1, false, &id1,
                                     now_ms()), BW_OK);
    assert_int_equal(bw_mqtt_publish(&c.session, "bw/BWSTOP/up/crash", m, 9, 1, false, &id2,
                                     now_ms()), BW_OK);
    bw_mqtt_poll(&c.session, now_ms());
    broker_signal(&b, SIGKILL);
    assert_true(run1(&c, is_closed, WAIT_MS));
    assert_int_equal(bw_mqtt_get_state(&c.session), BW_MQTT_CLOSED);
    assert_int_equal(bw_mqtt_get_close_reason(&c.session), BW_MQTT_CLOSE_STREAM_CLOSED);
    assert_int_equal(c.delivered, 0);
    assert_int_equal(c.undelivered, 2);
    assert_int_equal(c.undelivered_at_close, 2);    /* reported before CLOSED */
    assert_true((c.undelivered_ids[0] == id1 && c.undelivered_ids[1] == id2) ||
                (c.undelivered_ids[0] == id2 && c.undelivered_ids[1] == id1));
    /* Closed: publishing is refused until a new start. */
    assert_int_equal(bw_mqtt_publish(&c.session, "bw/BWSTOP/up/log", m, 9, 1, false, &id1,
                                     now_ms()), BW_E_UNAVAILABLE);
    tcp_stream_cut(&c.tcp);
    broker_stop(&b);
}

static void will_on_cut(void **state)
{
    (void)state;
    broker b;
    assert_true(broker_start(&b, NULL));
    static client dev, watcher;
    static const uint8_t will[] = { 1, 1, 0 };     /* STATUS-like: version, type, offline */
    client_init(&dev, "BWWILL", "bw/BWWILL/down/#");
    dev.config.will_topic = "bw/BWWILL/up/status";
    dev.config.will_payload = will;
    dev.config.will_len = sizeof will;
    dev.config.will_qos = 1;
    client_init(&watcher, "BWWATCH", "bw/+/up/status");
    client_start(&dev, b.port, 0);
    client_start(&watcher, b.port, 0);
    client *both[] = { &dev, &watcher };
    assert_true(run_until(both, 2, pair_subscribed, both, WAIT_MS));
    assert_int_equal(watcher.messages, 0);
    tcp_stream_cut(&dev.tcp);      /* no DISCONNECT */
    want_messages = 1;
    assert_true(run1(&watcher, has_messages, WAIT_MS));
    assert_string_equal(watcher.last_topic, "bw/BWWILL/up/status");
    assert_int_equal(watcher.last_len, sizeof will);
    assert_memory_equal(watcher.last_payload, will, sizeof will);
    assert_int_equal(watcher.last_qos, 1);
    bw_mqtt_close(&watcher.session);
    tcp_stream_cut(&watcher.tcp);
    broker_stop(&b);
}

static void oversized_packet_refused(void **state)
{
    (void)state;
    broker b;
    assert_true(broker_start(&b, NULL));
    static client c;
    client_init(&c, "BWBIG", "bw/BWBIG/down/#");
    client_start(&c, b.port, 0);
    assert_true(run1(&c, is_subscribed, WAIT_MS));
    static char big[BW_MQTT_RX_MAX + 100];
    memset(big, 'B', sizeof big - 1);
    char port[8];
    port_text(&b, port);
    char *pub[] = { "mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-q", "0", "-t",
                    "bw/BWBIG/down/big", "-m", big, NULL };
    assert_int_equal(run_tool(pub, NULL, 0), 0);
    assert_true(run1(&c, is_closed, WAIT_MS));
    assert_int_equal(bw_mqtt_get_close_reason(&c.session), BW_MQTT_CLOSE_PROTOCOL);
    assert_int_equal(bw_mqtt_protocol_error(&c.session), BW_MQTT_E_TOO_BIG);
    assert_int_equal(c.messages, 0);
    tcp_stream_cut(&c.tcp);
    /* The same session struct starts again on a new connection. */
    c.connected = c.subscribed = c.closed = 0;
    client_start(&c, b.port, 0);
    assert_true(run1(&c, is_subscribed, WAIT_MS));
    bw_mqtt_close(&c.session);
    tcp_stream_cut(&c.tcp);
    broker_stop(&b);
}

static void connack_refused(void **state)
{
    (void)state;
    broker b;
    /* An empty password file: no user name is known, so CONNACK refuses. */
    assert_true(broker_start(&b, "password_file /dev/null\n"));
    static client c;
    client_init(&c, "BWNOAUTH", NULL);
    c.config.user_name = "nobody";
    client_start(&c, b.port, 0);
    assert_true(run1(&c, is_closed, WAIT_MS));
    assert_int_equal(bw_mqtt_get_close_reason(&c.session), BW_MQTT_CLOSE_REFUSED);
    assert_int_equal(bw_mqtt_get_connack_code(&c.session), BW_MQTT_CONNACK_NOT_AUTHORIZED);
    assert_int_equal(c.connected, 0);
    tcp_stream_cut(&c.tcp);
    broker_stop(&b);
}

/* ---- scripted servers ---- */

static int listen_on(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Reads one small packet (remaining length < 128) from the server side of
 * the connection, polling the client session meanwhile. Returns its first byte. */
static uint8_t server_read(int fd, client *c, uint8_t *body, size_t *len)
{
    uint8_t hdr[2];
    size_t got = 0;
    uint64_t deadline = now_ms() + WAIT_MS;
    size_t need = 2;
    while (got < need) {
        assert_true(now_ms() < deadline);
        bw_mqtt_poll(&c->session, now_ms());
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 10) <= 0) {
            continue;
        }
        uint8_t *dst = got < 2 ? hdr + got : body + got - 2;
        ssize_t n = recv(fd, dst, got < 2 ? 2 - got : need - got, 0);
        assert_true(n > 0);
        got += (size_t)n;
        if (got == 2) {
            assert_true(hdr[1] < 128);
            need = 2u + hdr[1];
        }
    }
    *len = need - 2;
    return hdr[0];
}

static void connack_timeout(void **state)
{
    (void)state;
    int port;
    int lfd = listen_on(&port);
    static client c;
    client_init(&c, "BWSILENT", NULL);
    c.config.connack_timeout_ms = 300;
    client_start(&c, port, 0);
    uint64_t t0 = now_ms();
    assert_true(run1(&c, is_closed, WAIT_MS));
    assert_true(now_ms() - t0 >= 300);
    assert_int_equal(bw_mqtt_get_close_reason(&c.session), BW_MQTT_CLOSE_CONNACK_TIMEOUT);
    tcp_stream_cut(&c.tcp);
    close(lfd);
}

static void packet_before_connack(void **state)
{
    (void)state;
    int port;
    int lfd = listen_on(&port);
    static client c;
    client_init(&c, "BWEARLY", NULL);
    client_start(&c, port, 0);
    int sfd = accept(lfd, NULL, NULL);
    uint8_t body[128];
    size_t len;
    assert_int_equal(server_read(sfd, &c, body, &len) >> 4, BW_MQTT_CONNECT);
    static const uint8_t pingresp[] = { 0xD0, 0 };
    assert_int_equal(send(sfd, pingresp, 2, 0), 2);
    assert_true(run1(&c, is_closed, WAIT_MS));
    assert_int_equal(bw_mqtt_get_close_reason(&c.session), BW_MQTT_CLOSE_PROTOCOL);
    assert_int_equal(bw_mqtt_protocol_error(&c.session), BW_MQTT_E_UNEXPECTED);
    tcp_stream_cut(&c.tcp);
    close(sfd);
    close(lfd);
}

static void retransmits_with_dup(void **state)
{
    (void)state;
    int port;
    int lfd = listen_on(&port);
    static client c;
    client_init(&c, "BWDUP", NULL);
    c.config.retry_ms = 200;
    client_start(&c, port, 0);
    int sfd = accept(lfd, NULL, NULL);
    uint8_t body[128];
    size_t len;
    assert_int_equal(server_read(sfd, &c, body, &len) >> 4, BW_MQTT_CONNECT);
    static const uint8_t connack[] = { 0x20, 2, 0, 0 };
    assert_int_equal(send(sfd, connack, 4, 0), 4);
    assert_true(run1(&c, is_connected, WAIT_MS));
    uint16_t id;
    static const uint8_t m[] = "again";
    assert_int_equal(bw_mqtt_publish(&c.session, "bw/BWDUP/up/log", m, 5, 1, false, &id,
                                     now_ms()), BW_OK);
    uint8_t first = server_read(sfd, &c, body, &len);
    assert_int_equal(first, 0x32);                    /* QoS 1, no DUP */
    uint64_t t0 = now_ms();
    first = server_read(sfd, &c, body, &len);         /* not acknowledged: sent again */
    assert_true(now_ms() - t0 >= 150);
    assert_int_equal(first, 0x3A);                    /* QoS 1, DUP */
    assert_int_equal(body[2 + 15] << 8 | body[2 + 15 + 1], id);
    assert_int_equal(bw_mqtt_get_stats(&c.session)->retransmissions, 1);
    uint8_t puback[] = { 0x40, 2, (uint8_t)(id >> 8), (uint8_t)id };
    assert_int_equal(send(sfd, puback, 4, 0), 4);
    want_delivered = 1;
    assert_true(run1(&c, has_delivered, WAIT_MS));
    assert_int_equal(c.delivered_ids[0], id);
    /* A second PUBACK for the same message is a harmless stray. */
    assert_int_equal(send(sfd, puback, 4, 0), 4);
    assert_true(run1(&c, one_stray_ack, WAIT_MS));
    assert_int_equal(c.delivered, 1);
    assert_int_equal(bw_mqtt_get_state(&c.session), BW_MQTT_CONNECTED);
    bw_mqtt_close(&c.session);
    assert_int_equal(server_read(sfd, &c, body, &len), 0xE0);    /* DISCONNECT */
    tcp_stream_cut(&c.tcp);
    close(sfd);
    close(lfd);
}

static int teardown(void **state)
{
    (void)state;
    broker_stop_all();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(receives_qos0_and_qos1, teardown),
        cmocka_unit_test_teardown(publishes_reach_subscribers, teardown),
        cmocka_unit_test_teardown(partial_reads_and_writes, teardown),
        cmocka_unit_test_teardown(keepalive_pings, teardown),
        cmocka_unit_test_teardown(broker_stopped_reports_undelivered, teardown),
        cmocka_unit_test_teardown(will_on_cut, teardown),
        cmocka_unit_test_teardown(oversized_packet_refused, teardown),
        cmocka_unit_test_teardown(connack_refused, teardown),
        cmocka_unit_test_teardown(connack_timeout, teardown),
        cmocka_unit_test_teardown(packet_before_connack, teardown),
        cmocka_unit_test_teardown(retransmits_with_dup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
