/*
 * The modem driver (kernel/net/bw_modem.c, compiled natively) against the
 * real emulator (bulwark-modem) over loopback TCP, with a real TCP peer the
 * test runs: bring-up, byte-exact binary transfers both ways, close by the
 * peer, each fault the emulator injects, its byte counts, network loss and
 * return, refusal of hosts outside loopback. argv[1]: the emulator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "modem_harness.h"

extern const char *h_emulator_path;

static harness H;
static uint8_t tx[256 * 1024], rx[256 * 1024];

/* Every byte value, in an order that is not a simple ramp. */
static void pattern(uint8_t *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)((i * 151u + (i >> 8) + seed) & 0xFFu);
    }
}

static void connect_peer(harness *h)
{
    h_wait_state(h, BW_MODEM_READY, 5000);
    assert_int_equal(bw_modem_connect("127.0.0.1", h->peer.port), BW_OK);
    h_wait_state(h, BW_MODEM_CONNECTED, 5000);
}

static void expect_echo(harness *h, size_t len, unsigned seed)
{
    bool closed;
    pattern(tx, len, seed);
    memset(rx, 0, len);
    size_t got = h_transfer(h, tx, len, rx, len, 20000, &closed);
    assert_false(closed);
    assert_int_equal(got, len);
    assert_memory_equal(rx, tx, len);
}

/* Receives until the stream says closed; returns the bytes that came first. */
static size_t until_closed(harness *h, const uint8_t *data, size_t len)
{
    bool closed = false;
    size_t got = h_transfer(h, data, len, rx, sizeof rx, 10000, &closed);
    const bw_stream *s = bw_modem_stream();
    while (!closed) {   /* h_transfer ran out of room or time */
        assert_true(got < sizeof rx);
        got += h_transfer(h, NULL, 0, rx + got, sizeof rx - got, 10000, &closed);
    }
    assert_int_equal(s->recv(s->ctx, rx, 1), BW_STREAM_CLOSED);
    return got;
}

static void test_bring_up_and_binary_echo(void **state)
{
    (void)state;
    h_start(&H, NULL);
    assert_int_equal(h_state(), BW_MODEM_DOWN);
    connect_peer(&H);
    size_t len = 200000;   /* > 100 QISEND pieces, > 100 QIRD answers */
    expect_echo(&H, len, 0);
    assert_int_equal(h_stat(&H, "up_bytes"), len);
    assert_int_equal(h_stat(&H, "down_bytes"), len);
    assert_int_equal(h_stat(&H, "conn_up_bytes"), len);
    assert_int_equal(h_stat(&H, "connections"), 1);
    assert_int_equal(H.peer.got_len, len);
    bw_modem_close();
    h_wait_state(&H, BW_MODEM_READY, 3000);
    const bw_stream *s = bw_modem_stream();
    assert_int_equal(s->send(s->ctx, tx, 1), BW_STREAM_CLOSED);
    const char *final = h_stop(&H);
    assert_non_null(strstr(final, "\"up_bytes\":200000,"));
}

static void test_close_by_peer_then_reconnect(void **state)
{
    (void)state;
    h_start(&H, NULL);
    connect_peer(&H);
    H.peer.echo = false;
    static const char bye[] = "bye, all of it arrives before the close";
    memcpy(H.peer.out, bye, sizeof bye);
    H.peer.out_len = sizeof bye;
    H.peer.close_when_sent = true;
    size_t got = until_closed(&H, NULL, 0);
    assert_int_equal(got, sizeof bye);
    assert_memory_equal(rx, bye, sizeof bye);
    bw_modem_status st;
    h_wait_state(&H, BW_MODEM_READY, 3000);
    bw_modem_status_get(&st);
    assert_int_equal(st.reason, BW_MODEM_REASON_PEER_CLOSED);
    H.peer.echo = true;
    assert_int_equal(bw_modem_connect("localhost", H.peer.port), BW_OK);
    h_wait_state(&H, BW_MODEM_CONNECTED, 5000);
    expect_echo(&H, 5000, 1);
    assert_int_equal(h_stat(&H, "connections"), 2);
    h_stop(&H);
}

/* The peer's close while its bytes still wait in the module: sends wait
 * (0, not closed) until every byte has been read, then the stream closes.
 * An upper layer that answers what it reads (a FETCH after a CHUNK) must
 * not end the connection while the rest of what came is still unread. */
static void test_send_waits_while_draining(void **state)
{
    (void)state;
    h_start(&H, NULL);
    connect_peer(&H);
    H.peer.echo = false;
    const size_t len = 6000;   /* more than the driver's receive buffer holds */
    pattern(H.peer.out, len, 9);
    H.peer.out_len = len;
    H.peer.close_when_sent = true;
    const bw_stream *s = bw_modem_stream();
    /* Nothing read until the module has said closed. */
    while (h_stat(&H, "conn_down_bytes") < len) {
        h_run(&H, 10, NULL);
    }
    h_run(&H, 200, NULL);
    assert_int_equal(s->send(s->ctx, (const uint8_t *)"x", 1), 0);
    size_t got = until_closed(&H, NULL, 0);
    assert_int_equal(got, len);
    assert_memory_equal(rx, H.peer.out, len);
    assert_int_equal(s->send(s->ctx, (const uint8_t *)"x", 1), BW_STREAM_CLOSED);
    h_stop(&H);
}

static void test_drop_up_at_n(void **state)
{
    (void)state;
    h_start(&H, NULL);
    connect_peer(&H);
    H.peer.echo = false;
    assert_string_equal(h_control(&H, "drop up 3001"), "ok");
    pattern(tx, 10000, 2);
    until_closed(&H, tx, 10000);
    assert_int_equal(H.peer.got_len, 3001);
    assert_memory_equal(H.peer.got, tx, 3001);
    assert_int_equal(h_stat(&H, "drops"), 1);
    assert_int_equal(h_stat(&H, "conn_up_bytes"), 3001);
    /* The driver reconnects over the same modem. */
    h_wait_state(&H, BW_MODEM_READY, 3000);
    H.peer.echo = true;
    H.peer.got_len = 0;
    assert_int_equal(bw_modem_connect("127.0.0.1", H.peer.port), BW_OK);
    h_wait_state(&H, BW_MODEM_CONNECTED, 5000);
    expect_echo(&H, 4000, 3);
    h_stop(&H);
}

static void test_drop_down_at_n_from_command_line(void **state)
{
    (void)state;
    static const char *const opts[] = { "--drop-down", "2500", NULL };
    h_start(&H, opts);
    connect_peer(&H);
    pattern(tx, 8000, 4);
    size_t got = until_closed(&H, tx, 8000);
    assert_int_equal(got, 2500);
    assert_memory_equal(rx, tx, 2500);
    assert_int_equal(h_stat(&H, "down_bytes"), 2500);
    assert_int_equal(h_stat(&H, "drops"), 1);
    h_stop(&H);
}

static void test_drop_now(void **state)
{
    (void)state;
    h_start(&H, NULL);
    connect_peer(&H);
    expect_echo(&H, 1000, 5);
    assert_string_equal(h_control(&H, "drop now"), "ok");
    until_closed(&H, NULL, 0);
    assert_string_equal(h_control(&H, "drop now"), "error no open connection");
    h_stop(&H);
}

static bool peer_has_bytes(harness *h)
{
    return h->peer.got_len > 0;
}

static void test_stall(void **state)
{
    (void)state;
    h_start(&H, NULL);
    connect_peer(&H);
    uint32_t start = h_now();
    assert_string_equal(h_control(&H, "stall 400"), "ok");
    pattern(tx, 3000, 6);
    const bw_stream *s = bw_modem_stream();
    assert_int_equal(s->send(s->ctx, tx, 1000), 1000);
    /* The module takes the bytes (SEND OK) but nothing moves until the stall ends. */
    assert_true(h_run(&H, 5000, peer_has_bytes));
    assert_true(h_now() - start >= 400);
    assert_int_equal(h_stat(&H, "stalls"), 1);
    bool closed;
    size_t got = h_transfer(&H, tx + 1000, 2000, rx, 3000, 10000, &closed);
    assert_int_equal(got, 3000);
    assert_memory_equal(rx, tx, 3000);
    h_stop(&H);
}

static void test_corrupt_each_way(void **state)
{
    (void)state;
    h_start(&H, NULL);
    connect_peer(&H);
    assert_string_equal(h_control(&H, "corrupt up 777"), "ok");
    assert_string_equal(h_control(&H, "corrupt down 4321"), "ok");
    size_t len = 6000;
    pattern(tx, len, 7);
    bool closed;
    size_t got = h_transfer(&H, tx, len, rx, len, 10000, &closed);
    assert_int_equal(got, len);
    for (size_t i = 0; i < len; i++) {
        uint8_t expect = tx[i] ^ (uint8_t)(i == 777 || i == 4321 ? 1 : 0);
        if (rx[i] != expect) {
            fail_msg("byte %zu: %02x, expected %02x", i, rx[i], expect);
        }
    }
    assert_int_equal(H.peer.got[777], tx[777] ^ 1);   /* up: the peer saw it flipped */
    assert_int_equal(H.peer.got[4321], tx[4321]);      /* down: flipped after the peer */
    assert_int_equal(h_stat(&H, "corruptions"), 2);
    h_stop(&H);
}

/* "+N" arms a fault N bytes past what the connection has moved so far. */
static void test_relative_offsets(void **state)
{
    (void)state;
    h_start(&H, NULL);
    connect_peer(&H);
    expect_echo(&H, 1000, 4);                       /* 1000 bytes each way already moved */
    assert_string_equal(h_control(&H, "corrupt up +100"), "ok");
    assert_string_equal(h_control(&H, "corrupt down +200"), "ok");
    size_t len = 600;
    pattern(tx, len, 8);
    bool closed;
    H.peer.got_len = 0;
    size_t got = h_transfer(&H, tx, len, rx, len, 10000, &closed);
    assert_int_equal(got, len);
    for (size_t i = 0; i < len; i++) {
        uint8_t expect = tx[i] ^ (uint8_t)(i == 100 || i == 200 ? 1 : 0);
        if (rx[i] != expect) {
            fail_msg("byte %zu: %02x, expected %02x", i, rx[i], expect);
        }
    }
    assert_int_equal(h_stat(&H, "corruptions"), 2);
    H.peer.echo = false;
    assert_string_equal(h_control(&H, "drop up +50"), "ok");
    until_closed(&H, tx, 1000);
    assert_int_equal(h_stat(&H, "conn_up_bytes"), 1650);
    h_stop(&H);
}

static void test_throttle(void **state)
{
    (void)state;
    h_start(&H, NULL);
    connect_peer(&H);
    const uint64_t rate = 25000;
    assert_string_equal(h_control(&H, "throttle 25000"), "ok");
    size_t len = 40000;
    pattern(tx, len, 8);
    uint32_t start = h_now();
    bool closed;
    size_t got = h_transfer(&H, tx, len, rx, len, 20000, &closed);
    uint32_t elapsed = h_now() - start;
    assert_int_equal(got, len);
    assert_memory_equal(rx, tx, len);
    /* A lower bound from the bytes the emulator counted (each way through the
     * bucket, at most rate/20 of burst): cannot flake on a slow machine. */
    uint64_t down = h_stat(&H, "conn_down_bytes");
    assert_int_equal(down, len);
    uint64_t floor_ms = (down - rate / 20u) * 1000u / rate;
    printf("throttle %llu B/s: %zu bytes echoed in %u ms (floor %llu ms)\n",
           (unsigned long long)rate, len, elapsed, (unsigned long long)floor_ms);
    assert_true(elapsed >= floor_ms);
    assert_string_equal(h_control(&H, "throttle 0"), "ok");
    h_stop(&H);
}

static bool registering_and_no_new_connection(harness *h)
{
    (void)h;
    return false;
}

static void test_network_lost_and_back(void **state)
{
    (void)state;
    h_start(&H, NULL);
    connect_peer(&H);
    expect_echo(&H, 2000, 9);
    assert_string_equal(h_control(&H, "network lost"), "ok");
    until_closed(&H, NULL, 0);
    h_wait_state(&H, BW_MODEM_REGISTERING, 3000);
    bw_modem_status st;
    bw_modem_status_get(&st);
    assert_int_equal(st.reason, BW_MODEM_REASON_NETWORK_LOST);
    /* A connect asked for while the network is gone waits for it. */
    assert_int_equal(bw_modem_connect("127.0.0.1", H.peer.port), BW_OK);
    h_run(&H, 1000, registering_and_no_new_connection);   /* ~10 registration polls */
    assert_int_equal(h_state(), BW_MODEM_REGISTERING);
    assert_int_equal(h_stat(&H, "connections"), 1);
    assert_string_equal(h_control(&H, "network back"), "ok");
    h_wait_state(&H, BW_MODEM_CONNECTED, 5000);
    expect_echo(&H, 2000, 10);
    assert_int_equal(h_stat(&H, "connections"), 2);
    h_stop(&H);
}

static void expect_refused(const char *host, uint32_t module_error)
{
    assert_int_equal(bw_modem_connect(host, 80), BW_OK);
    h_wait_state(&H, BW_MODEM_FAILED, 5000);
    bw_modem_status st;
    bw_modem_status_get(&st);
    assert_int_equal(st.reason, BW_MODEM_REASON_OPEN_REFUSED);
    assert_int_equal(st.module_error, module_error);
}

static void test_refuses_hosts_outside_loopback(void **state)
{
    (void)state;
    h_start(&H, NULL);
    h_wait_state(&H, BW_MODEM_READY, 5000);
    expect_refused("192.0.2.1", 566);
    expect_refused("example.com", 565);
    assert_int_equal(bw_modem_connect("bad\"host", 80), BW_E_INVALID);
    assert_int_equal(bw_modem_connect("127.0.0.1", 0), BW_E_INVALID);
    assert_int_equal(h_stat(&H, "refused"), 2);
    assert_int_equal(h_stat(&H, "connections"), 0);
    /* and still connects where it may */
    assert_int_equal(bw_modem_connect("127.0.0.1", H.peer.port), BW_OK);
    h_wait_state(&H, BW_MODEM_CONNECTED, 5000);
    h_stop(&H);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s path/to/bulwark-modem\n", argv[0]);
        return 2;
    }
    h_emulator_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bring_up_and_binary_echo),
        cmocka_unit_test(test_close_by_peer_then_reconnect),
        cmocka_unit_test(test_send_waits_while_draining),
        cmocka_unit_test(test_drop_up_at_n),
        cmocka_unit_test(test_drop_down_at_n_from_command_line),
        cmocka_unit_test(test_drop_now),
        cmocka_unit_test(test_stall),
        cmocka_unit_test(test_corrupt_each_way),
        cmocka_unit_test(test_relative_offsets),
        cmocka_unit_test(test_throttle),
        cmocka_unit_test(test_network_lost_and_back),
        cmocka_unit_test(test_refuses_hosts_outside_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
