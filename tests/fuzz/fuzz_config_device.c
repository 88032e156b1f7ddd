/*
 * libFuzzer target for the kernel's side of relayed config replies
 * (docs/SPEC.md §17, with §16's shared exchange): the kernel core and the
 * device relay built for the host, driven as a malicious cloud would.
 *
 * Each input starts a fresh kernel with the app's RAM registered: two
 * CONFIGFETCH channels with fetches in flight (3 keys and 1 key) and one
 * HTTP channel with a request in flight. The input is then a script of
 * operations: a down message (CONFIG_RESPONSE or HTTP_RESPONSE, or raw
 * bytes) for one of the three request IDs or any other, with fuzzed offset,
 * total and bytes, through bw_cloud_decode_down and bw_http_relay_received;
 * time passing (bw_http_poll); the link dropping; the app reading items and
 * response data with fuzzed indexes and sizes through the system calls.
 * Promises: no crash or sanitizer report, and no byte of the app's RAM
 * changes outside the channels' receive buffers and the app's own output
 * area; a finished fetch never claims more items than asked or values that
 * do not fit its receive buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bw_cloud_proto.h"
#include "bw_config_fetch.h"
#include "bw_http.h"
#include "bw_http_relay.h"
#include "bw_kernel.h"
#include "bw_network.h"
#include "bw_syscalls.h"
#include "port_host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM 16384u
#define OUT_AT 12288u      /* the app's output area: 2 KiB */
#define OUT_LEN 2048u
#define ARGS_AT 14336u     /* syscall arguments: 2 KiB */
static _Alignas(512) uint8_t ram[RAM];
static uint8_t before[RAM];

typedef struct channel {
    MvChannelHandle h;
    uint32_t request_id;
    uint32_t rx_at, rx_len;
    uint32_t asked;
} channel;

static uint8_t *args;
static void *arg(const void *v, size_t n)
{
    uint8_t *at = args;
    memcpy(at, v, n);
    args += (n + 7u) & ~(size_t)7u;
    return at;
}
#define ARG(v) arg(&(v), sizeof(v))

static channel open_one(MvNotificationHandle center, MvNetworkHandle net, uint32_t type, uint32_t rx_at,
                        uint32_t rx_len, uint32_t tx_at)
{
    struct MvOpenChannelParams p = { .version = 1, .v1 = {
        .notification_handle = center, .network_handle = net, .receive_buffer = ram + rx_at,
        .receive_buffer_len = rx_len, .send_buffer = ram + tx_at, .send_buffer_len = 1024,
        .channel_type = (enum MvChannelType)type } };
    MvChannelHandle h = NULL;
    MvChannelHandle *out = ARG(h);
    if (bw_sys_open_channel(ARG(p), out) != MV_STATUS_OKAY) {
        abort();
    }
    return (channel){ .h = *out, .rx_at = rx_at, .rx_len = rx_len };
}

static void fetch(channel *c, uint32_t count)
{
    static const char *const names[] = { "alpha", "beta", "gamma" };
    struct MvConfigKeyToFetch keys[3];
    for (uint32_t i = 0; i < count; i++) {
        keys[i] = (struct MvConfigKeyToFetch){ .scope = MV_CONFIGKEYFETCHSCOPE_DEVICE,
                                               .store = MV_CONFIGKEYFETCHSTORE_CONFIG,
                                               .key = { arg(names[i], strlen(names[i])), (uint32_t)strlen(names[i]) } };
    }
    struct MvConfigKeyFetchParams r = { .num_items = count, .keys_to_fetch = arg(keys, count * sizeof keys[0]) };
    if (bw_sys_send_config_fetch_request(c->h, ARG(r)) != MV_STATUS_OKAY) {
        abort();
    }
    c->asked = count;
}

/* Takes the next request piece off the relay: its request ID. */
static uint32_t take_piece(void)
{
    uint8_t buf[2048];
    bw_http_piece piece;
    if (!bw_http_next_piece(buf, sizeof buf, &piece)) {
        abort();
    }
    bw_http_piece_sent(&piece);
    return piece.request_id;
}

static uint32_t get(const uint8_t **p, const uint8_t *end, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n && *p < end; i++) {
        v |= (uint32_t)*(*p)++ << (8u * i);
    }
    return v;
}

static void read_back(const channel *c, uint32_t index, uint32_t size)
{
    uint8_t *mark = args;
    struct MvConfigResponseData d = { 0 };
    struct MvConfigResponseData *dp = ARG(d);
    enum MvStatus s = bw_sys_read_config_fetch_response_data(c->h, dp);
    if (s == MV_STATUS_OKAY
        && (dp->num_items > c->asked || (dp->result != MV_CONFIGFETCHRESULT_OK && dp->num_items != 0))) {
        abort();
    }
    uint32_t result = 0, length = 0;
    struct MvConfigResponseReadItemParams p = { .item_index = index, .result = ARG(result),
                                                .buf = { .data = ram + OUT_AT, .size = size % (OUT_LEN + 1u),
                                                         .length = ARG(length) } };
    s = bw_sys_read_config_response_item(c->h, ARG(p));
    if (s == MV_STATUS_OKAY && (*p.buf.length > p.buf.size || *p.buf.length > BW_CONFIG_VALUE_MAX
                                || *p.result > MV_CONFIGKEYFETCHRESULT_SERVERERROR)) {
        abort();
    }
    args = mark;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    port_host_reset();
    memset(ram, 0xA5, sizeof ram);
    if (!port_host_add_app_region(ram, sizeof ram, true) || bw_kernel_init() != BW_OK) {
        abort();
    }
    args = ram + ARGS_AT;
    struct MvNotification *ring = (struct MvNotification *)(void *)(ram + OUT_AT + OUT_LEN - 256);
    struct MvNotificationSetup setup = { .irq = 17, .buffer = ring, .buffer_size = 256 };
    MvNotificationHandle center = 0;
    MvNotificationHandle *cp = ARG(center);
    if (bw_sys_setup_notifications(ARG(setup), cp) != MV_STATUS_OKAY) {
        abort();
    }
    center = *cp;
    struct MvRequestNetworkParams rp = { .version = 1, .v1 = { .notification_handle = center } };
    MvNetworkHandle net = 0;
    MvNetworkHandle *np = ARG(net);
    if (bw_sys_request_network(ARG(rp), np) != MV_STATUS_OKAY) {
        abort();
    }
    net = *np;
    bw_network_set_status(MV_NETWORKSTATUS_CONNECTED);
    /* Receive buffers: A 2 KiB at 0, B 512 at 2560, HTTP 512 at 3584 (canary
     * gaps between them); send buffers from 5120. */
    channel ch[3] = { open_one(center, net, MV_CHANNELTYPE_CONFIGFETCH, 0, 2048, 5120),
                      open_one(center, net, MV_CHANNELTYPE_CONFIGFETCH, 2560, 512, 6144),
                      open_one(center, net, MV_CHANNELTYPE_HTTP, 3584, 512, 7168) };
    fetch(&ch[0], 3);
    ch[0].request_id = take_piece();
    fetch(&ch[1], 1);
    ch[1].request_id = take_piece();
    static const char url[] = "https://example.test/";
    struct MvHttpRequest hr = { .method = { arg("GET", 3), 3 }, .url = { arg(url, sizeof url - 1), sizeof url - 1 },
                                .timeout_ms = 1000 };
    if (bw_sys_send_http_request(ch[2].h, ARG(hr)) != MV_STATUS_OKAY) {
        abort();
    }
    ch[2].request_id = take_piece();
    memcpy(before, ram, sizeof ram);

    const uint8_t *p = data, *end = data + size;
    uint8_t msg[BW_CLOUD_HTTP_HEADER + BW_CLOUD_HTTP_PIECE_MAX];
    while (p < end) {
        uint32_t op = get(&p, end, 1);
        if (op % 8u < 5u) {   /* a down message */
            uint32_t which = get(&p, end, 1);
            uint32_t len = get(&p, end, 2) % (BW_CLOUD_HTTP_PIECE_MAX + 8u);
            uint32_t id = which % 4u < 3u ? ch[which % 4u].request_id : get(&p, end, 4);
            msg[0] = 1;
            msg[1] = op % 8u == 4u ? BW_CLOUD_TYPE_HTTP_RESPONSE : BW_CLOUD_TYPE_CONFIG_RESPONSE;
            uint32_t at = get(&p, end, 2), total = get(&p, end, 2);
            msg[2] = (uint8_t)len, msg[3] = (uint8_t)(len >> 8);
            memcpy(msg + 4, &id, 4);
            memcpy(msg + 8, &at, 4);
            memcpy(msg + 12, &total, 4);
            size_t n = (size_t)(end - p) < len ? (size_t)(end - p) : len;
            n = n < BW_CLOUD_HTTP_PIECE_MAX ? n : BW_CLOUD_HTTP_PIECE_MAX;
            memcpy(msg + BW_CLOUD_HTTP_HEADER, p, n);
            p += n;
            bw_cloud_down down;
            if (bw_cloud_decode_down(msg, BW_CLOUD_HTTP_HEADER + n, &down) == BW_OK
                && (down.type == BW_CLOUD_TYPE_CONFIG_RESPONSE || down.type == BW_CLOUD_TYPE_HTTP_RESPONSE)) {
                bw_http_relay_received(down.type, &down.http);
            }
        } else if (op % 8u == 5u) {
            bw_http_poll(port_time_us() + 1000u * get(&p, end, 2) * 16u);
        } else if (op % 8u == 6u) {
            bw_network_set_status(get(&p, end, 1) % 2u ? MV_NETWORKSTATUS_CONNECTED
                                                       : MV_NETWORKSTATUS_DELIBERATELYOFFLINE);
        } else {
            uint32_t which = get(&p, end, 1) % 2u;
            read_back(&ch[which], get(&p, end, 1) % 5u, get(&p, end, 2));
        }
    }
    /* Only the receive buffers, the output area and the argument scratch may change. */
    for (uint32_t i = 0; i < RAM; i++) {
        bool allowed = i >= OUT_AT;
        for (size_t k = 0; k < 3; k++) {
            allowed = allowed || (i >= ch[k].rx_at && i < ch[k].rx_at + ch[k].rx_len);
        }
        if (!allowed && ram[i] != before[i]) {
            abort();
        }
    }
    return 0;
}
