/*
 * Channels and HTTP through the system calls (bw_channel.h, bw_http.h):
 *  - every open error, in the documented order, with handle_out untouched;
 *  - the open rate limit and the channel count;
 *  - an HTTP request the kernel judges itself is answered at once;
 *  - a relayed request: pieces out, response pieces in, headers and body
 *    read back; a response too large for the receive buffer; a lying one;
 *  - a lost link: CHANNELNOTCONNECTED, NETWORKDISCONNECTED, CHANNELCLOSED;
 *  - CONFIGFETCH (§17): every send error with nothing sent, the request
 *    stream, values and per-item results read back, the app's buffers
 *    untouched on every read error, lying/misrouted/late responses;
 *  - through the cloud layer (§16): HTTP_REQUEST pieces on bw/D/up/http at
 *    QoS 0 after STATUS, a full session loses no piece, HTTP_RESPONSE pieces
 *    from bw/D/down/http answer the request; stray and malformed ones are
 *    counted and change nothing;
 *  - MQTT (§18): connect, subscribe, publish, a message in and its
 *    acknowledgement, the FIFO's order, locally judged requests, outputs
 *    untouched on error, a lost message, a lying event stream ending the
 *    channel with a CLOSE for the cloud.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "bw_channel.h"
#include "bw_cloud.h"
#include "bw_config_fetch.h"
#include "bw_http.h"
#include "bw_http_relay.h"
#include "bw_appmqtt.h"
#include "bw_network.h"
#include "bw_syscalls.h"
#include "test_support.h"

#define RING ((struct MvNotification *)(void *)app_ram)
#define RX (app_ram + 1024)
#define TX (app_ram + 2048)
#define OUT (app_ram + 4096)

static MvNotificationHandle center;
static MvNetworkHandle network;
static size_t scratch;   /* bump allocator over app RAM from 12 KiB on */

/* A copy of len bytes at src in app RAM (the kernel reads app memory only). */
static void *in_app(const void *src, size_t len)
{
    uint8_t *at = app_ram + 12288 + scratch;
    scratch = (scratch + len + 7u) & ~(size_t)7u;
    assert_true(12288 + scratch <= APP_RAM_SIZE);
    memcpy(at, src, len);
    return at;
}
#define APP(value) in_app(&(value), sizeof(value))

static void connect_app(void)
{
    scratch = 0;
    memset(RING, 0, 8 * 16);
    struct MvNotificationSetup setup = { .irq = 17, .buffer = RING, .buffer_size = 8 * 16 };
    MvNotificationHandle *c = APP(center);
    assert_int_equal(bw_sys_setup_notifications(APP(setup), c), MV_STATUS_OKAY);
    center = *c;
    struct MvRequestNetworkParams rp = { .version = 1, .v1 = { .notification_handle = center } };
    MvNetworkHandle *n = APP(network);
    assert_int_equal(bw_sys_request_network(APP(rp), n), MV_STATUS_OKAY);
    network = *n;
}

static struct MvOpenChannelParams params(void)
{
    return (struct MvOpenChannelParams){ .version = 1, .v1 = {
        .notification_handle = center, .notification_tag = 9, .network_handle = network,
        .receive_buffer = RX, .receive_buffer_len = 512, .send_buffer = TX, .send_buffer_len = 512,
        .channel_type = MV_CHANNELTYPE_HTTP } };
}

/* Opens through app memory; *h gets what the kernel wrote. */
static enum MvStatus open_with(struct MvOpenChannelParams p, MvChannelHandle *h)
{
    MvChannelHandle *out = APP(*h);
    enum MvStatus status = bw_sys_open_channel(APP(p), out);
    *h = *out;
    return status;
}

static enum MvStatus close_channel(MvChannelHandle *h)
{
    MvChannelHandle *in = APP(*h);
    enum MvStatus status = bw_sys_close_channel(in);
    *h = *in;
    return status;
}

static enum MvStatus send(MvChannelHandle h, struct MvHttpRequest r)
{
    return bw_sys_send_http_request(h, APP(r));
}

static enum MvStatus data_of(MvChannelHandle h, struct MvHttpResponseData *d)
{
    struct MvHttpResponseData *out = APP(*d);
    enum MvStatus status = bw_sys_read_http_response_data(h, out);
    *d = *out;
    return status;
}

static enum MvStatus reason_of(MvChannelHandle h, enum MvClosureReason *why)
{
    enum MvClosureReason *out = APP(*why);
    enum MvStatus status = bw_sys_get_channel_closure_reason(h, out);
    *why = *out;
    return status;
}

static void open_errors(void **state)
{
    (void)state;
    connect_app();
    MvChannelHandle h = (MvChannelHandle)(uintptr_t)0x77;
    struct MvOpenChannelParams p = params();
    assert_int_equal(open_with(p, &h), MV_STATUS_NETWORKNOTCONNECTED);   /* link not up yet */
    bw_network_set_status(MV_NETWORKSTATUS_CONNECTED);
    assert_int_equal(bw_sys_open_channel(NULL, &h), MV_STATUS_PARAMETERFAULT);
    p.version = 2;
    assert_int_equal(open_with(p, &h), MV_STATUS_UNSUPPORTEDSTRUCTUREVERSION);
    p = params(); p.v1.channel_type = (enum MvChannelType)7;
    assert_int_equal(open_with(p, &h), MV_STATUS_UNKNOWNCHANNELTYPE);
    p = params(); p.v1.channel_type = MV_CHANNELTYPE_OPAQUEBYTES;
    assert_int_equal(open_with(p, &h), MV_STATUS_UNKNOWNCHANNELENDPOINT);
    p = params(); p.v1.receive_buffer_len = 500;
    assert_int_equal(open_with(p, &h), MV_STATUS_INVALIDBUFFERSIZE);
    p = params(); p.v1.send_buffer = TX + 8;
    assert_int_equal(open_with(p, &h), MV_STATUS_INVALIDBUFFERALIGNMENT);
    p = params(); p.v1.send_buffer = kernel_ram;
    assert_int_equal(open_with(p, &h), MV_STATUS_PARAMETERFAULT);
    p = params(); p.v1.send_buffer = RX;
    assert_int_equal(open_with(p, &h), MV_STATUS_BUFFERALREADYINUSE);
    p = params(); p.v1.notification_handle = (MvNotificationHandle)(uintptr_t)0x1234;
    assert_int_equal(open_with(p, &h), MV_STATUS_INVALIDHANDLE);
    p = params(); p.v1.network_handle = (MvNetworkHandle)center;
    assert_int_equal(open_with(p, &h), MV_STATUS_INVALIDHANDLE);
    assert_ptr_equal(h, (MvChannelHandle)(uintptr_t)0x77);   /* untouched by every failure */
    test_support_check_port_use();
}

static void count_and_rate(void **state)
{
    (void)state;
    connect_app();
    bw_network_set_status(MV_NETWORKSTATUS_CONNECTED);
    port_host_set_time_us(5000000);
    MvChannelHandle h[BW_CHANNELS_MAX + 1];
    for (size_t i = 0; i <= BW_CHANNELS_MAX; i++) {
        struct MvOpenChannelParams p = params();
        p.v1.receive_buffer = app_ram + 8192 + 1024 * i;
        p.v1.send_buffer = app_ram + 8192 + 1024 * i + 512;
        enum MvStatus want = i < BW_CHANNELS_MAX ? MV_STATUS_OKAY : MV_STATUS_TOOMANYCHANNELS;
        assert_int_equal(open_with(p, &h[i]), want);
    }
    /* Close and reopen until 8 opens fall in one second. */
    for (size_t i = BW_CHANNELS_MAX; i < BW_CHANNEL_OPENS_PER_SECOND; i++) {
        struct MvOpenChannelParams p = params();
        p.v1.receive_buffer = app_ram + 8192;
        p.v1.send_buffer = app_ram + 8192 + 512;
        assert_int_equal(close_channel(&h[0]), MV_STATUS_OKAY);
        assert_null(h[0]);
        assert_int_equal(open_with(p, &h[0]), MV_STATUS_OKAY);
    }
    assert_int_equal(close_channel(&h[0]), MV_STATUS_OKAY);
    struct MvOpenChannelParams p = params();
    assert_int_equal(open_with(p, &h[0]), MV_STATUS_RATELIMITED);
    port_host_set_time_us(6000001);
    assert_int_equal(open_with(p, &h[0]), MV_STATUS_OKAY);
    test_support_check_port_use();
}

static MvChannelHandle open_http(void)
{
    connect_app();
    bw_network_set_status(MV_NETWORKSTATUS_CONNECTED);
    MvChannelHandle h = NULL;
    assert_int_equal(open_with(params(), &h), MV_STATUS_OKAY);
    return h;
}

static struct MvHttpRequest get_request(const char *url, const char *method, const struct MvHttpHeader *hs,
                                        uint32_t n)
{
    return (struct MvHttpRequest){ .method = { in_app(method, strlen(method)), (uint32_t)strlen(method) },
                                   .url = { in_app(url, strlen(url)), (uint32_t)strlen(url) },
                                   .num_headers = n, .headers = n > 0 ? in_app(hs, n * sizeof *hs) : NULL,
                                   .timeout_ms = 5000 };
}

static void local_results(void **state)
{
    (void)state;
    MvChannelHandle h = open_http();
    struct MvHttpResponseData d;
    assert_int_equal(data_of(h, &d), MV_STATUS_RESPONSENOTPRESENT);
    struct MvHttpRequest r = get_request("http://x/", "GET", NULL, 0);
    r.num_headers = 33;
    assert_int_equal(send(h, r), MV_STATUS_TOOMANYELEMENTS);
    r.num_headers = 0;
    assert_int_equal(send(h, r), MV_STATUS_OKAY);
    /* RING[0]: the request's NETWORKSTATUSCHANGED for CONNECTED. */
    assert_int_equal(RING[1].event_type, MV_EVENTTYPE_CHANNELDATAREADABLE);
    assert_int_equal(RING[1].tag, 9);
    assert_int_equal(data_of(h, &d), MV_STATUS_OKAY);
    assert_int_equal(d.result, MV_HTTPRESULT_UNSUPPORTEDURISCHEME);
    assert_int_equal(send(h, r), MV_STATUS_REQUESTALREADYSENT);
    static const char *bad[][2] = { { "https://x/", "FETCH" } };
    MvChannelHandle h2 = NULL;
    struct MvOpenChannelParams p = params();
    p.v1.receive_buffer = app_ram + 8192;
    p.v1.send_buffer = app_ram + 8704;
    assert_int_equal(open_with(p, &h2), MV_STATUS_OKAY);
    r = get_request(bad[0][0], bad[0][1], NULL, 0);
    assert_int_equal(send(h2, r), MV_STATUS_OKAY);
    assert_int_equal(data_of(h2, &d), MV_STATUS_OKAY);
    assert_int_equal(d.result, MV_HTTPRESULT_UNSUPPORTEDMETHOD);
    test_support_check_port_use();
}

static void relayed(void **state)
{
    (void)state;
    MvChannelHandle h = open_http();
    static const char line[] = "Accept: text/plain";
    struct MvHttpHeader hs[1] = { { sizeof line - 1, in_app(line, sizeof line - 1) } };
    struct MvHttpRequest r = get_request("https://127.0.0.1/x", "GET", hs, 1);
    assert_int_equal(send(h, r), MV_STATUS_OKAY);
    uint8_t buf[64];
    bw_http_piece piece;
    assert_true(bw_http_next_piece(buf, 10, &piece));
    assert_int_equal(piece.total, 16 + 2 + 3 + 19 + 18);
    assert_int_equal(piece.len, 10);
    bw_http_piece_sent(&piece);
    assert_true(bw_http_next_piece(buf, sizeof buf, &piece));
    assert_int_equal(piece.offset, 10);
    bw_http_piece_sent(&piece);
    assert_false(bw_http_next_piece(buf, sizeof buf, &piece));
    /* Response: 200, one header "A: b" (4), body "hello" (5). */
    uint8_t resp[16 + 2 + 4 + 5] = { 0, 0, 200, 0, 1, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 4, 0 };
    memcpy(resp + 18, "A: bhello", 9);
    assert_int_equal(bw_http_response_piece(MV_CHANNELTYPE_HTTP, piece.request_id + 1, 0, sizeof resp, resp, 20),
                     BW_E_HANDLE);
    assert_int_equal(bw_http_response_piece(MV_CHANNELTYPE_HTTP, piece.request_id, 0, sizeof resp, resp, 20), BW_OK);
    struct MvHttpResponseData d;
    assert_int_equal(data_of(h, &d), MV_STATUS_RESPONSENOTPRESENT);
    assert_int_equal(bw_http_response_piece(MV_CHANNELTYPE_HTTP, piece.request_id, 20, sizeof resp, resp + 20,
                                            sizeof resp - 20),
                     BW_OK);
    assert_int_equal(data_of(h, &d), MV_STATUS_OKAY);
    assert_int_equal(d.result, MV_HTTPRESULT_OK);
    assert_int_equal(d.status_code, 200);
    assert_int_equal(d.num_headers, 1);
    assert_int_equal(d.body_length, 5);
    memset(OUT, 0, 16);
    assert_int_equal(bw_sys_read_http_response_header(h, 0, OUT, 16), MV_STATUS_OKAY);
    assert_memory_equal(OUT, "A: b\0", 5);
    assert_int_equal(bw_sys_read_http_response_header(h, 1, OUT, 16), MV_STATUS_INDEXINVALID);
    assert_int_equal(bw_sys_read_http_response_body(h, 1, OUT, 16), MV_STATUS_OKAY);
    assert_memory_equal(OUT, "ello", 4);
    assert_int_equal(bw_sys_read_http_response_body(h, 6, OUT, 16), MV_STATUS_OFFSETINVALID);
    assert_int_equal(bw_sys_read_http_response_body(h, 0, kernel_ram, 16), MV_STATUS_PARAMETERFAULT);
    test_support_check_port_use();
}

static void too_large_and_lies(void **state)
{
    (void)state;
    MvChannelHandle h = open_http();
    struct MvHttpRequest r = get_request("https://127.0.0.1/big", "GET", NULL, 0);
    assert_int_equal(send(h, r), MV_STATUS_OKAY);
    uint8_t buf[128];
    bw_http_piece piece;
    assert_true(bw_http_next_piece(buf, sizeof buf, &piece));
    bw_http_piece_sent(&piece);
    uint8_t head[16] = { 0, 0, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x02, 0, 0 };   /* body 513 */
    memset(RX, 0xEE, 512);
    assert_int_equal(bw_http_response_piece(MV_CHANNELTYPE_HTTP, piece.request_id, 0, 16 + 513, head, 16), BW_OK);
    struct MvHttpResponseData d;
    assert_int_equal(data_of(h, &d), MV_STATUS_OKAY);
    assert_int_equal(d.result, MV_HTTPRESULT_RESPONSETOOLARGE);
    assert_int_equal(RX[0], 0xEE);   /* nothing written */
    /* A lying head (header lengths not summing up) fails the request. */
    MvChannelHandle h2 = NULL;
    struct MvOpenChannelParams p = params();
    p.v1.receive_buffer = app_ram + 8192;
    p.v1.send_buffer = app_ram + 8704;
    assert_int_equal(open_with(p, &h2), MV_STATUS_OKAY);
    assert_int_equal(send(h2, r), MV_STATUS_OKAY);
    assert_true(bw_http_next_piece(buf, sizeof buf, &piece));
    bw_http_piece_sent(&piece);
    uint8_t lie[18] = { 0, 0, 200, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 3, 0 };
    assert_int_equal(bw_http_response_piece(MV_CHANNELTYPE_HTTP, piece.request_id, 0, 18 + 9, lie, sizeof lie),
                     BW_E_INVALID);
    assert_int_equal(data_of(h2, &d), MV_STATUS_OKAY);
    assert_int_equal(d.result, MV_HTTPRESULT_REQUESTFAILED);
    test_support_check_port_use();
}

#define DEVICE "BW00112233445566778899AABBCCDDEEFF"

static struct {
    char topic[BW_CLOUD_TOPIC_MAX];
    uint8_t payload[BW_CLOUD_HTTP_HEADER + BW_CLOUD_HTTP_PIECE_MAX];
    size_t len;
    uint8_t qos;
} published[8];
static size_t published_count;
static bool session_full;

static bw_err record(void *ctx, const char *topic, const uint8_t *payload, size_t len, uint8_t qos, uint16_t *id)
{
    (void)ctx;
    if (session_full) {
        return BW_E_FULL;
    }
    assert_true(published_count < 8 && len <= sizeof published[0].payload);
    snprintf(published[published_count].topic, BW_CLOUD_TOPIC_MAX, "%s", topic);
    memcpy(published[published_count].payload, payload, len);
    published[published_count].len = len;
    published[published_count].qos = qos;
    *id = (uint16_t)++published_count;
    return BW_OK;
}

static uint32_t u32_at(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* An HTTP_RESPONSE payload for request_id: the stream bytes at offset. */
static size_t response_piece(uint8_t *out, uint32_t request_id, uint32_t offset, uint32_t total,
                             const uint8_t *bytes, uint16_t len)
{
    uint8_t h[16] = { 1, 0x84, (uint8_t)len, (uint8_t)(len >> 8) };
    for (int i = 0; i < 4; i++) {
        h[4 + i] = (uint8_t)(request_id >> 8 * i);
        h[8 + i] = (uint8_t)(offset >> 8 * i);
        h[12 + i] = (uint8_t)(total >> 8 * i);
    }
    memcpy(out, h, 16);
    memcpy(out + 16, bytes, len);
    return 16u + len;
}

static void through_the_cloud_layer(void **state)
{
    (void)state;
    published_count = 0;
    session_full = false;
    bw_cloud_init(DEVICE, 1, 0x00010000u);
    MvChannelHandle h = open_http();
    struct MvHttpRequest r = get_request("https://127.0.0.1/relay", "POST", NULL, 0);
    r.body = (struct MvSizedString){ .data = in_app("ping", 4), .length = 4 };
    assert_int_equal(send(h, r), MV_STATUS_OKAY);
    bw_cloud_pump(0);                                   /* offline: nothing */
    assert_int_equal(published_count, 0);
    bw_cloud_connected(7, record, NULL);
    session_full = true;                                /* nothing taken: nothing lost */
    bw_cloud_pump(0);
    session_full = false;
    bw_cloud_pump(0);
    assert_int_equal(published_count, 2);
    assert_string_equal(published[0].topic, "bw/" DEVICE "/up/status");
    assert_string_equal(published[1].topic, "bw/" DEVICE "/up/http");
    assert_int_equal(published[1].qos, 0);
    const uint8_t *p = published[1].payload;
    uint32_t total = 16 + 4 + 23 + 4;
    assert_int_equal(published[1].len, 16 + total);
    assert_int_equal(p[0], 1);
    assert_int_equal(p[1], BW_CLOUD_TYPE_HTTP_REQUEST);
    assert_int_equal(p[2] | p[3] << 8, total);
    uint32_t id = u32_at(p + 4);
    assert_int_not_equal(id, 0);
    assert_int_equal(u32_at(p + 8), 0);
    assert_int_equal(u32_at(p + 12), total);
    assert_memory_equal(p + 16 + 16, "POSThttps://127.0.0.1/relayping", 31);
    assert_int_equal(u32_at(p + 16 + 12), 512);         /* the response capacity */
    bw_cloud_pump(0);                                   /* sent once */
    assert_int_equal(published_count, 2);

    const char *down = "bw/" DEVICE "/down/http";
    uint8_t stream[16 + 2 + 4 + 2] = { 0, 0, 201, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 4, 0 };
    memcpy(stream + 18, "A: bok", 6);
    uint8_t msg[64];
    bw_http_relay_counters before = *bw_http_relay_stats();
    uint32_t bad_before = bw_cloud_stats()->bad_messages;
    size_t n = response_piece(msg, id + 1, 0, sizeof stream, stream, sizeof stream);
    bw_cloud_received(down, msg, n, 0);                 /* nobody waits for it */
    n = response_piece(msg, id, 0, sizeof stream, stream, 20);
    bw_cloud_received(down, msg, n - 1, 0);             /* length disagrees: ignored whole */
    bw_cloud_received(down, msg, n, 0);
    struct MvHttpResponseData d;
    assert_int_equal(data_of(h, &d), MV_STATUS_RESPONSENOTPRESENT);
    n = response_piece(msg, id, 20, sizeof stream, stream + 20, sizeof stream - 20);
    bw_cloud_received(down, msg, n, 0);
    assert_int_equal(data_of(h, &d), MV_STATUS_OKAY);
    assert_int_equal(d.result, MV_HTTPRESULT_OK);
    assert_int_equal(d.status_code, 201);
    assert_int_equal(d.body_length, 2);
    assert_int_equal(bw_sys_read_http_response_body(h, 0, OUT, 2), MV_STATUS_OKAY);
    assert_memory_equal(OUT, "ok", 2);
    bw_cloud_received(down, msg, n, 0);                 /* a repeat after the end: dropped */
    assert_int_equal(bw_http_relay_stats()->pieces_received, before.pieces_received + 2);
    assert_int_equal(bw_http_relay_stats()->pieces_dropped, before.pieces_dropped + 2);
    assert_int_equal(bw_http_relay_stats()->pieces_refused, before.pieces_refused);
    assert_int_equal(bw_cloud_stats()->bad_messages, bad_before + 1);
    test_support_check_port_use();
}

static void link_lost(void **state)
{
    (void)state;
    MvChannelHandle h = open_http();
    struct MvHttpRequest r = get_request("https://127.0.0.1/", "GET", NULL, 0);
    assert_int_equal(send(h, r), MV_STATUS_OKAY);
    bw_network_set_status(MV_NETWORKSTATUS_CONNECTING);
    assert_int_equal(RING[1].event_type, MV_EVENTTYPE_CHANNELNOTCONNECTED);
    assert_int_equal(RING[2].event_type, MV_EVENTTYPE_NETWORKSTATUSCHANGED);
    enum MvClosureReason why = MV_CLOSUREREASON_NONE;
    assert_int_equal(reason_of(h, &why), MV_STATUS_OKAY);
    assert_int_equal(why, MV_CLOSUREREASON_NETWORKDISCONNECTED);
    struct MvHttpResponseData d;
    assert_int_equal(data_of(h, &d), MV_STATUS_CHANNELCLOSED);
    MvChannelHandle dead = h;
    assert_int_equal(close_channel(&h), MV_STATUS_OKAY);
    assert_int_equal(reason_of(dead, &why), MV_STATUS_INVALIDHANDLE);
    test_support_check_port_use();
}

/* ---- CONFIGFETCH (§17) ---- */

static MvChannelHandle open_config(void)
{
    connect_app();
    bw_network_set_status(MV_NETWORKSTATUS_CONNECTED);
    MvChannelHandle h = NULL;
    struct MvOpenChannelParams p = params();
    p.v1.channel_type = MV_CHANNELTYPE_CONFIGFETCH;
    assert_int_equal(open_with(p, &h), MV_STATUS_OKAY);
    return h;
}

static struct MvConfigKeyToFetch key(uint32_t scope, uint32_t store, const char *name)
{
    return (struct MvConfigKeyToFetch){ .scope = (enum MvConfigKeyFetchScope)scope,
                                        .store = (enum MvConfigKeyFetchStore)store,
                                        .key = { in_app(name, strlen(name)), (uint32_t)strlen(name) } };
}

static enum MvStatus fetch(MvChannelHandle h, const struct MvConfigKeyToFetch *keys, uint32_t n)
{
    struct MvConfigKeyFetchParams r = { .num_items = n, .keys_to_fetch = in_app(keys, n * sizeof keys[0]) };
    return bw_sys_send_config_fetch_request(h, APP(r));
}

static enum MvStatus config_data(MvChannelHandle h, struct MvConfigResponseData *d)
{
    struct MvConfigResponseData *out = APP(*d);
    enum MvStatus status = bw_sys_read_config_fetch_response_data(h, out);
    *d = *out;
    return status;
}

/* Item index into OUT (size bytes); *result and *len from app memory. */
static enum MvStatus item(MvChannelHandle h, uint32_t index, uint32_t size, uint32_t *result, uint32_t *len)
{
    uint32_t *r = APP(*result);
    uint32_t *l = APP(*len);
    struct MvConfigResponseReadItemParams p = { .item_index = index, .result = (enum MvConfigKeyFetchResult *)r,
                                                .buf = { .data = OUT, .size = size, .length = l } };
    enum MvStatus status = bw_sys_read_config_response_item(h, APP(p));
    *result = *r;
    *len = *l;
    return status;
}

static void config_send_errors(void **state)
{
    (void)state;
    MvChannelHandle h = open_config();
    struct MvConfigKeyToFetch keys[BW_CONFIG_KEYS_MAX + 1];
    for (size_t i = 0; i < BW_CONFIG_KEYS_MAX + 1; i++) {
        keys[i] = key(1, 1, "k");
    }
    assert_int_equal(fetch(h, keys, 0), MV_STATUS_PARAMETERFAULT);
    assert_int_equal(fetch(h, keys, BW_CONFIG_KEYS_MAX + 1), MV_STATUS_TOOMANYCONFIGKEYS);
    assert_int_equal(bw_sys_send_config_fetch_request(h, (void *)kernel_ram), MV_STATUS_PARAMETERFAULT);
    struct MvConfigKeyToFetch bad[1] = { key(2, 1, "k") };
    assert_int_equal(fetch(h, bad, 1), MV_STATUS_UNKNOWNCONFIGSCOPE);
    bad[0] = key(0, 2, "k");
    assert_int_equal(fetch(h, bad, 1), MV_STATUS_UNKNOWNCONFIGSTORE);
    bad[0] = key(0, 1, "has space");
    assert_int_equal(fetch(h, bad, 1), MV_STATUS_INVALIDCONFIGKEY);
    bad[0] = key(0, 1, "");
    assert_int_equal(fetch(h, bad, 1), MV_STATUS_INVALIDCONFIGKEY);
    char long_key[BW_CONFIG_KEY_MAX + 2];
    memset(long_key, 'a', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = 0;
    bad[0] = key(0, 1, long_key);
    assert_int_equal(fetch(h, bad, 1), MV_STATUS_INVALIDCONFIGKEY);
    bad[0] = key(0, 1, "k");
    bad[0].key.data = kernel_ram;
    assert_int_equal(fetch(h, bad, 1), MV_STATUS_PARAMETERFAULT);
    /* 16 keys of 100 bytes: 1672 bytes, more than the 512-byte send buffer. */
    long_key[BW_CONFIG_KEY_MAX] = 0;
    for (size_t i = 0; i < BW_CONFIG_KEYS_MAX; i++) {
        keys[i] = key(0, 1, long_key);
    }
    assert_int_equal(fetch(h, keys, BW_CONFIG_KEYS_MAX), MV_STATUS_INVALIDBUFFERSIZE);
    struct MvConfigResponseData d;
    assert_int_equal(config_data(h, &d), MV_STATUS_RESPONSENOTPRESENT);
    uint8_t buf[64];
    bw_http_piece piece;
    assert_false(bw_http_next_piece(buf, sizeof buf, &piece));   /* nothing was sent */
    MvChannelHandle http = NULL;
    struct MvOpenChannelParams p = params();
    p.v1.receive_buffer = app_ram + 8192;
    p.v1.send_buffer = app_ram + 8704;
    assert_int_equal(open_with(p, &http), MV_STATUS_OKAY);
    bad[0] = key(0, 1, "k");
    assert_int_equal(fetch(http, bad, 1), MV_STATUS_UNAVAILABLE);
    assert_int_equal(config_data(http, &d), MV_STATUS_UNAVAILABLE);
    assert_int_equal(fetch((MvChannelHandle)(uintptr_t)0x1234, bad, 1), MV_STATUS_INVALIDHANDLE);
    test_support_check_port_use();
}

static void config_relayed(void **state)
{
    (void)state;
    MvChannelHandle h = open_config();
    struct MvConfigKeyToFetch keys[3] = { key(0, 1, "greeting"), key(1, 0, "token"), key(1, 1, "gone") };
    assert_int_equal(fetch(h, keys, 3), MV_STATUS_OKAY);
    assert_int_equal(fetch(h, keys, 3), MV_STATUS_REQUESTALREADYSENT);
    uint8_t buf[128];
    bw_http_piece piece;
    assert_true(bw_http_next_piece(buf, sizeof buf, &piece));
    static const uint8_t want[] = { 3, 0, 0, 0, 0, 2, 0, 0, 0, 1, 8, 0, 1, 0, 5, 0, 1, 1, 4, 0,
                                    'g', 'r', 'e', 'e', 't', 'i', 'n', 'g', 't', 'o', 'k', 'e', 'n',
                                    'g', 'o', 'n', 'e' };
    assert_int_equal(piece.type, MV_CHANNELTYPE_CONFIGFETCH);
    assert_int_equal(piece.total, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
    bw_http_piece_sent(&piece);
    /* greeting = "hi" (OK), token = "s3" (OK), gone: KEYNOTFOUND. */
    uint8_t resp[8 + 12 + 4] = { 0, 3, 0, 0, 4, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 1, 0, 0, 0, 'h', 'i', 's', '3' };
    assert_int_equal(bw_http_response_piece(MV_CHANNELTYPE_HTTP, piece.request_id, 0, sizeof resp, resp,
                                            sizeof resp), BW_E_HANDLE);   /* an HTTP piece feeds no fetch */
    assert_int_equal(bw_http_response_piece(MV_CHANNELTYPE_CONFIGFETCH, piece.request_id, 0, sizeof resp, resp,
                                            sizeof resp), BW_OK);
    struct MvConfigResponseData d;
    assert_int_equal(config_data(h, &d), MV_STATUS_OKAY);
    assert_int_equal(d.result, MV_CONFIGFETCHRESULT_OK);
    assert_int_equal(d.num_items, 3);
    uint32_t result = 7, len = 7;
    memset(OUT, 0xEE, 16);
    assert_int_equal(item(h, 1, 16, &result, &len), MV_STATUS_OKAY);
    assert_int_equal(result, MV_CONFIGKEYFETCHRESULT_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(OUT, "s3\xEE", 3);
    assert_int_equal(item(h, 2, 16, &result, &len), MV_STATUS_OKAY);
    assert_int_equal(result, MV_CONFIGKEYFETCHRESULT_KEYNOTFOUND);
    assert_int_equal(len, 0);
    /* Errors write nothing: not the value, the result nor the length. */
    memset(OUT, 0xEE, 16);
    result = 7, len = 7;
    assert_int_equal(item(h, 3, 16, &result, &len), MV_STATUS_INDEXINVALID);
    assert_int_equal(item(h, 0, 1, &result, &len), MV_STATUS_INVALIDBUFFERSIZE);
    assert_true(result == 7 && len == 7 && OUT[0] == 0xEE);
    struct MvConfigResponseReadItemParams p = { .item_index = 0, .result = APP(result),
                                                .buf = { .data = OUT, .size = 16, .length = (uint32_t *)kernel_ram } };
    assert_int_equal(bw_sys_read_config_response_item(h, APP(p)), MV_STATUS_PARAMETERFAULT);
    p.buf.length = APP(len);
    p.buf.data = kernel_ram;
    assert_int_equal(bw_sys_read_config_response_item(h, APP(p)), MV_STATUS_PARAMETERFAULT);
    assert_true(*p.result == 7 && *p.buf.length == 7 && OUT[0] == 0xEE);
    assert_int_equal(bw_sys_read_config_response_item(h, (void *)kernel_ram), MV_STATUS_PARAMETERFAULT);
    assert_int_equal(item(h, 0, 2, &result, &len), MV_STATUS_OKAY);
    assert_memory_equal(OUT, "hi", 2);
    assert_int_equal(bw_sys_read_config_fetch_response_data(h, (void *)kernel_ram), MV_STATUS_PARAMETERFAULT);
    test_support_check_port_use();
}

/* Sends a one-key fetch on a fresh channel at RX/TX + off; its piece. */
static MvChannelHandle config_sent(size_t off, bw_http_piece *piece)
{
    MvChannelHandle h = NULL;
    struct MvOpenChannelParams p = params();
    p.v1.channel_type = MV_CHANNELTYPE_CONFIGFETCH;
    p.v1.receive_buffer = app_ram + 8192 + off;
    p.v1.send_buffer = app_ram + 8704 + off;
    assert_int_equal(open_with(p, &h), MV_STATUS_OKAY);
    struct MvConfigKeyToFetch keys[1] = { key(0, 1, "k") };
    assert_int_equal(fetch(h, keys, 1), MV_STATUS_OKAY);
    uint8_t buf[64];
    assert_true(bw_http_next_piece(buf, sizeof buf, piece));
    bw_http_piece_sent(piece);
    return h;
}

static void config_lies_and_deadline(void **state)
{
    (void)state;
    connect_app();
    bw_network_set_status(MV_NETWORKSTATUS_CONNECTED);
    struct MvConfigResponseData d;
    uint32_t result = 7, len = 7;
    /* Lies: wrong count, reserved byte, item result 3, a non-OK item with a length, lengths not summing. */
    static const uint8_t lies[][12] = {
        { 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, { 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
        { 0, 1, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0 }, { 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0 },
        { 0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0 },
    };
    for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
        bw_http_piece piece;
        memset(RX, 0xEE, 16);
        MvChannelHandle h = config_sent(0, &piece);
        uint32_t total = 12 + lies[i][4];
        assert_int_equal(bw_http_response_piece(MV_CHANNELTYPE_CONFIGFETCH, piece.request_id, 0, total, lies[i], 12),
                         BW_E_INVALID);
        assert_int_equal(config_data(h, &d), MV_STATUS_OKAY);
        assert_true(d.result == MV_CONFIGFETCHRESULT_OK && d.num_items == 1);
        assert_int_equal(item(h, 0, 16, &result, &len), MV_STATUS_OKAY);
        assert_true(result == MV_CONFIGKEYFETCHRESULT_SERVERERROR && len == 0);
        assert_int_equal(close_channel(&h), MV_STATUS_OKAY);
    }
    /* Too large for the 512-byte receive buffer: RESPONSETOOLARGE, nothing written. */
    bw_http_piece piece;
    MvChannelHandle h = config_sent(0, &piece);
    uint8_t big[12] = { 0, 1, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x01, 0x02 };
    memset(app_ram + 8192, 0xEE, 512);
    assert_int_equal(bw_http_response_piece(MV_CHANNELTYPE_CONFIGFETCH, piece.request_id, 0, 12 + 513, big, 12),
                     BW_OK);
    assert_int_equal(config_data(h, &d), MV_STATUS_OKAY);
    assert_true(d.result == MV_CONFIGFETCHRESULT_RESPONSETOOLARGE && d.num_items == 0);
    assert_int_equal(app_ram[8192], 0xEE);
    assert_int_equal(item(h, 0, 16, &result, &len), MV_STATUS_INDEXINVALID);
    assert_int_equal(close_channel(&h), MV_STATUS_OKAY);
    /* No answer: the deadline fails it; a piece after that is dropped. */
    h = config_sent(0, &piece);
    bw_http_poll(port_time_us() + 1000u * BW_CONFIG_FETCH_DEADLINE_MS - 1u);
    assert_int_equal(config_data(h, &d), MV_STATUS_RESPONSENOTPRESENT);
    bw_http_poll(port_time_us() + 1000u * BW_CONFIG_FETCH_DEADLINE_MS + 1u);
    assert_int_equal(config_data(h, &d), MV_STATUS_OKAY);
    assert_int_equal(item(h, 0, 16, &result, &len), MV_STATUS_OKAY);
    assert_int_equal(result, MV_CONFIGKEYFETCHRESULT_SERVERERROR);
    static const uint8_t late[14] = { 0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 2, 0, 'o', 'k' };
    assert_int_equal(bw_http_response_piece(MV_CHANNELTYPE_CONFIGFETCH, piece.request_id, 0, 14, late, 14),
                     BW_E_HANDLE);
    /* The link drops before an answer: CHANNELCLOSED. */
    MvChannelHandle h2 = config_sent(1024, &piece);
    bw_network_set_status(MV_NETWORKSTATUS_DELIBERATELYOFFLINE);
    assert_int_equal(config_data(h2, &d), MV_STATUS_CHANNELCLOSED);
    test_support_check_port_use();
}

/* ---- MQTT ---- */

static MvChannelHandle open_mqtt(uint32_t rx_len)
{
    connect_app();
    bw_network_set_status(MV_NETWORKSTATUS_CONNECTED);
    struct MvOpenChannelParams p = params();
    p.v1.channel_type = MV_CHANNELTYPE_MQTT;
    p.v1.receive_buffer_len = rx_len;
    p.v1.send_buffer = app_ram + 8192;
    p.v1.send_buffer_len = 2048;
    MvChannelHandle h = NULL;
    assert_int_equal(open_with(p, &h), MV_STATUS_OKAY);
    return h;
}

static struct MvSizedString text(const char *s)
{
    return (struct MvSizedString){ in_app(s, strlen(s)), (uint32_t)strlen(s) };
}

/* Sends every waiting piece; the last stream's bytes into out (if any). */
static uint32_t drain(uint8_t *out, size_t cap, uint32_t *session)
{
    uint8_t buf[BW_CLOUD_HTTP_PIECE_MAX];
    bw_http_piece piece;
    uint32_t total = 0;
    while (bw_appmqtt_next_piece(buf, sizeof buf, &piece)) {
        if (out != NULL && piece.offset + piece.len <= cap) {
            memcpy(out + piece.offset, buf, piece.len);
        }
        total = piece.total;
        *session = piece.request_id;
        bw_appmqtt_piece_sent(&piece);
    }
    return total;
}

static void event(uint32_t session, const uint8_t *stream, uint32_t len, bw_err want)
{
    assert_int_equal(bw_appmqtt_event_piece(session, 0, len, stream, len), want);
}

static void connect_mqtt(MvChannelHandle h, uint32_t *session)
{
    struct MvSizedString ca = text("-----BEGIN CERTIFICATE-----");
    struct MvTlsCredentials tls = { .cacert = { 1, APP(ca) } };
    struct MvMqttConnectRequest c = {
        .host = text("127.0.0.1"), .port = 8883, .clientid = text("dev"),
        .authentication = { .method = MV_MQTTAUTHENTICATIONMETHOD_USERNAMEPASSWORD,
                            .username_password = { text("user"), text("pw") } },
        .tls_credentials = APP(tls), .keepalive = 60, .clean_start = 1 };
    assert_int_equal(bw_sys_mqtt_request_connect(h, APP(c)), MV_STATUS_OKAY);
    assert_int_equal(bw_sys_mqtt_request_connect(h, APP(c)), MV_STATUS_REQUESTALREADYSENT);
    uint8_t out[256];
    uint32_t total = drain(out, sizeof out, session);
    /* head 24, 8 lengths, host dev user pw ca */
    assert_int_equal(total, 24 + 2 * 8 + 9 + 3 + 4 + 2 + 27);
    assert_int_equal(out[0], BW_MQTT_OP_CONNECT);
    assert_int_equal(out[8] | out[9] << 8, 8883);
    assert_int_equal(out[16], 1);
    assert_int_equal(out[20], 1);
    assert_memory_equal(out + 40, "127.0.0.1devuserpw-----BEGIN", 28);
    uint8_t accepted[12] = { MV_MQTTREADABLEDATATYPE_CONNECTRESPONSE };
    event(*session, accepted, sizeof accepted, BW_OK);
    struct MvMqttConnectResponse *r = APP((struct MvMqttConnectResponse){ 0 });
    assert_int_equal(bw_sys_mqtt_read_connect_response(h, r), MV_STATUS_OKAY);
    assert_int_equal(r->request_state, MV_MQTTREQUESTSTATE_REQUESTCOMPLETED);
    assert_int_equal(r->reason_code, 0);
}

static enum MvMqttReadableDataType next_type(MvChannelHandle h)
{
    enum MvMqttReadableDataType *t = APP((enum MvMqttReadableDataType){ 0 });
    assert_int_equal(bw_sys_mqtt_get_next_readable_data_type(h, t), MV_STATUS_OKAY);
    return *t;
}

static void mqtt_session(void **state)
{
    (void)state;
    MvChannelHandle h = open_mqtt(512);
    uint32_t session = 0;
    struct MvMqttSubscription sub = { .topic = text("a/#"), .desired_qos = 1 };
    struct MvMqttSubscribeRequest sr = { .correlation_id = 7, .subscriptions = APP(sub), .num_subscriptions = 1 };
    assert_int_equal(bw_sys_mqtt_request_subscribe(h, APP(sr)), MV_STATUS_OKAY);   /* not connected yet */
    assert_int_equal(next_type(h), MV_MQTTREADABLEDATATYPE_SUBSCRIBERESPONSE);
    uint32_t *st = APP((uint32_t){ 99 }), *corr = APP((uint32_t){ 0 }), *codes = APP((uint32_t[8]){ 0 }),
             *codes_len = APP((uint32_t){ 0 });
    struct MvMqttSubscribeResponse resp = { (enum MvMqttRequestState *)st, corr, codes, 32, codes_len };
    assert_int_equal(bw_sys_mqtt_read_subscribe_response(h, APP(resp)), MV_STATUS_OKAY);
    assert_int_equal(*st, MV_MQTTREQUESTSTATE_NOTCONNECTED);
    assert_int_equal(*corr, 7);
    assert_int_equal(bw_sys_mqtt_read_subscribe_response(h, APP(resp)), MV_STATUS_RESPONSENOTPRESENT);
    connect_mqtt(h, &session);
    sub.desired_qos = 2;
    sr.subscriptions = APP(sub);
    assert_int_equal(bw_sys_mqtt_request_subscribe(h, APP(sr)), MV_STATUS_OKAY);   /* judged here */
    assert_int_equal(bw_sys_mqtt_read_subscribe_response(h, APP(resp)), MV_STATUS_OKAY);
    assert_int_equal(*st, MV_MQTTREQUESTSTATE_INVALIDPARAMETERS);
    sub.desired_qos = 1;
    sr.subscriptions = APP(sub);
    sr.num_subscriptions = 9;
    assert_int_equal(bw_sys_mqtt_request_subscribe(h, APP(sr)), MV_STATUS_TOOMANYELEMENTS);
    sr.num_subscriptions = 1;
    assert_int_equal(bw_sys_mqtt_request_subscribe(h, APP(sr)), MV_STATUS_OKAY);
    assert_int_equal(bw_sys_mqtt_request_subscribe(h, APP(sr)), MV_STATUS_RATELIMITED);   /* one at a time */
    struct MvMqttPublishRequest pub = { .correlation_id = 11, .topic = text("a/b"), .payload = text("hi"),
                                        .desired_qos = 1 };
    assert_int_equal(bw_sys_mqtt_request_publish(h, APP(pub)), MV_STATUS_OKAY);
    uint8_t out[64];
    assert_int_equal(drain(out, sizeof out, &session), 16 + 3 + 2);
    assert_memory_equal(out + 16, "a/bhi", 5);
    /* Responses and a message, in arrival order. */
    uint8_t suback[9] = { MV_MQTTREADABLEDATATYPE_SUBSCRIBERESPONSE, 0, 1, 0, 7, 0, 0, 0, 1 };
    uint8_t puback[12] = { MV_MQTTREADABLEDATATYPE_PUBLISHRESPONSE, 0, 0, 0, 11 };
    uint8_t message[16 + 3 + 5] = { MV_MQTTREADABLEDATATYPE_MESSAGERECEIVED, 0, 0, 0, 42, 0, 0, 0, 1, 0, 3, 0, 5 };
    memcpy(message + 16, "a/bhello", 8);
    event(session, puback, sizeof puback, BW_OK);
    event(session, suback, sizeof suback, BW_OK);
    assert_int_equal(bw_appmqtt_event_piece(session, 0, sizeof message, message, 20), BW_OK);
    assert_int_equal(bw_appmqtt_event_piece(session, 20, sizeof message, message + 20, 4), BW_OK);
    assert_memory_equal(RX, "a/bhello", 8);   /* held in the receive buffer, from its start */
    assert_int_equal(next_type(h), MV_MQTTREADABLEDATATYPE_PUBLISHRESPONSE);
    assert_int_equal(bw_sys_mqtt_read_subscribe_response(h, APP(resp)), MV_STATUS_WRONGDATAREQUESTED);
    struct MvMqttPublishResponse *pr = APP((struct MvMqttPublishResponse){ 0 });
    assert_int_equal(bw_sys_mqtt_read_publish_response(h, pr), MV_STATUS_OKAY);
    assert_int_equal(pr->correlation_id, 11);
    resp.reason_codes_size = 0;   /* too small: nothing written, the item stays */
    *st = 99;
    assert_int_equal(bw_sys_mqtt_read_subscribe_response(h, APP(resp)), MV_STATUS_INVALIDBUFFERSIZE);
    assert_int_equal(*st, 99);
    resp.reason_codes_size = 32;
    assert_int_equal(bw_sys_mqtt_read_subscribe_response(h, APP(resp)), MV_STATUS_OKAY);
    assert_int_equal(*codes_len, 1);
    assert_int_equal(codes[0], 1);
    /* The message: a payload buffer too small changes nothing. */
    uint8_t *topic = OUT, *payload = OUT + 64;
    memset(OUT, 0x5A, 128);
    uint32_t *mid = APP((uint32_t){ 0 }), *tlen = APP((uint32_t){ 0 }), *plen = APP((uint32_t){ 0 }),
             *qos = APP((uint32_t){ 0 });
    uint8_t *retain = APP((uint8_t){ 0 });
    struct MvMqttMessage m = { mid, { topic, 64, tlen }, { payload, 4, plen }, qos, retain };
    assert_int_equal(bw_sys_mqtt_receive_message(h, APP(m)), MV_STATUS_INVALIDBUFFERSIZE);
    assert_int_equal(topic[0], 0x5A);
    assert_int_equal(*tlen, 0);
    m.payload.size = 64;
    assert_int_equal(bw_sys_mqtt_acknowledge_message(h, 42), MV_STATUS_REQUESTUNSUCCESSFUL);   /* not read yet */
    assert_int_equal(bw_sys_mqtt_receive_message(h, APP(m)), MV_STATUS_OKAY);
    assert_int_equal(*mid, 42);
    assert_int_equal(*qos, 1);
    assert_memory_equal(topic, "a/b", *tlen);
    assert_memory_equal(payload, "hello", *plen);
    assert_int_equal(next_type(h), MV_MQTTREADABLEDATATYPE_NONE);
    assert_int_equal(bw_sys_mqtt_acknowledge_message(h, 43), MV_STATUS_REQUESTUNSUCCESSFUL);
    assert_int_equal(bw_sys_mqtt_acknowledge_message(h, 42), MV_STATUS_OKAY);
    assert_int_equal(bw_sys_mqtt_acknowledge_message(h, 42), MV_STATUS_REQUESTUNSUCCESSFUL);
    assert_int_equal(drain(out, sizeof out, &session), 8);
    assert_int_equal(out[0], BW_MQTT_OP_ACK);
    assert_int_equal(out[4], 42);
    /* Not an MQTT channel, not a handle. */
    assert_int_equal(bw_sys_mqtt_request_disconnect((MvChannelHandle)(uintptr_t)0x1234), MV_STATUS_INVALIDHANDLE);
    test_support_check_port_use();
}

static void mqtt_lost_and_lies(void **state)
{
    (void)state;
    MvChannelHandle h = open_mqtt(512);
    uint32_t session = 0;
    connect_mqtt(h, &session);
    /* 600 payload bytes cannot fit a 512-byte receive buffer: lost, topic kept. */
    uint8_t head[16 + 3] = { MV_MQTTREADABLEDATATYPE_MESSAGERECEIVED, 0, 0, 0, 5, 0, 0, 0, 0, 0, 3, 0, 0x58, 2 };
    memcpy(head + 16, "x/y", 3);
    assert_int_equal(bw_appmqtt_event_piece(session, 0, 16 + 3 + 600, head, sizeof head), BW_OK);
    static uint8_t rest[600];
    assert_int_equal(bw_appmqtt_event_piece(session, sizeof head, 16 + 3 + 600, rest, sizeof rest), BW_OK);
    assert_int_equal(next_type(h), MV_MQTTREADABLEDATATYPE_MESSAGELOST);
    uint32_t *reason = APP((uint32_t){ 9 }), *tlen = APP((uint32_t){ 0 }), *mlen = APP((uint32_t){ 0 });
    struct MvMqttLostMessageInfo li = { (enum MvMqttLostMessageReason *)reason, { OUT, 16, tlen }, mlen };
    assert_int_equal(bw_sys_mqtt_receive_lost_message_info(h, APP(li)), MV_STATUS_OKAY);
    assert_int_equal(*reason, MV_MQTTLOSTMESSAGEREASON_DEVICERECEIVEBUFFERTOOSMALL);
    assert_int_equal(*mlen, 600);
    assert_memory_equal(OUT, "x/y", 3);
    /* A response nobody asked for: the channel ends, the cloud is told. */
    uint8_t unasked[12] = { MV_MQTTREADABLEDATATYPE_PUBLISHRESPONSE };
    event(session, unasked, sizeof unasked, BW_E_INVALID);
    enum MvClosureReason why = MV_CLOSUREREASON_NONE;
    assert_int_equal(reason_of(h, &why), MV_STATUS_OKAY);
    assert_int_equal(why, MV_CLOSUREREASON_UNEXPECTEDLYTERMINATED);
    event(session, unasked, sizeof unasked, BW_E_HANDLE);   /* nobody holds it now */
    uint8_t out[16];
    uint32_t closed = 0;
    assert_int_equal(drain(out, sizeof out, &closed), 8);
    assert_int_equal(out[0], BW_MQTT_OP_CLOSE);
    assert_int_equal(closed, session);
    struct MvMqttPublishRequest pub = { .topic = text("a"), .payload = text("b") };
    assert_int_equal(bw_sys_mqtt_request_publish(h, APP(pub)), MV_STATUS_CHANNELCLOSED);
    test_support_check_port_use();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(open_errors, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(count_and_rate, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(local_results, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(relayed, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(too_large_and_lies, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(link_lost, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(through_the_cloud_layer, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(config_send_errors, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(config_relayed, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(config_lies_and_deadline, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(mqtt_session, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(mqtt_lost_and_lies, test_setup, test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
