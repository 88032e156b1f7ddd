/*
 * libFuzzer target for the kernel's handling of relayed MQTT events
 * (kernel/core/bw_appmqtt.c, docs/SPEC.md §18.3): a malicious cloud sends any
 * sequence of MQTT_DOWN pieces — lying lengths and offsets, unknown session
 * IDs, responses nobody asked for, out-of-order and interleaved streams —
 * while the app reads whatever the FIFO offers. Promises checked after every
 * input: the kernel writes app memory only inside the channel's receive
 * buffer (and the notification ring and the app's own output buffers), takes
 * the lock correctly, and the FIFO never holds more than BW_MQTT_ITEMS_MAX.
 *
 * Input: records of [u8 flags][u32 offset][u32 total][u16 length][bytes].
 * flags bit 0: another session ID than the channel's; bit 1: read the oldest
 * item after the piece; bit 2: queue a publish first.
 */
#include <stdlib.h>
#include <string.h>

#include "bw_app_mem.h"
#include "bw_appmqtt.h"
#include "bw_bytes.h"
#include "bw_channel.h"
#include "bw_handles.h"
#include "bw_network.h"
#include "bw_notify.h"
#include "bw_random.h"
#include "port_host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The DRBG is not under test: handles and session IDs from a counter. */
bw_err bw_random_bytes(void *out, size_t len)
{
    static uint8_t next = 1;
    for (size_t i = 0; i < len; i++) {
        ((uint8_t *)out)[i] = next++;
    }
    return BW_OK;
}

#define APP_SIZE 16384u
#define RING_AT 0u
#define RING_LEN 256u
#define RX_AT 1024u
#define RX_LEN 512u
#define TX_AT 2048u
#define TX_LEN 1024u
#define OUT_AT 4096u
#define OUT_LEN 4096u
#define STR_AT 12288u
#define PIECE_CAP 1792u

static _Alignas(512) uint8_t app[APP_SIZE];
static uint8_t before[APP_SIZE];
static uint32_t handle;   /* the MQTT channel */

static bool writable_region(size_t i)
{
    return (i >= RING_AT && i < RING_AT + RING_LEN) || (i >= RX_AT && i < RX_AT + RX_LEN)
           || (i >= TX_AT && i < TX_AT + TX_LEN) || (i >= OUT_AT && i < OUT_AT + OUT_LEN);
}

/* Copies the item's strings into the output area (what a read call does). */
static bw_err reader(const bw_appmqtt_readable *item, const void *ctx)
{
    (void)ctx;
    if (item->topic_len > 2048u || item->payload_len > 2048u) {
        return BW_E_SIZE;
    }
    bw_err err = bw_app_copy_within((uintptr_t)(app + OUT_AT), item->topic, item->topic_len);
    if (err == BW_OK) {
        err = bw_app_copy_within((uintptr_t)(app + OUT_AT + 2048u), item->payload, item->payload_len);
    }
    if (item->codes_len > BW_MQTT_TOPICS_MAX) {
        abort();
    }
    return err;
}

static uint32_t setup(void)
{
    port_host_reset();
    memset(app, 0xA5, sizeof app);
    port_host_add_app_region(app, sizeof app, true);
    bw_handles_reset();
    bw_notify_reset();
    bw_channel_reset();
    bw_network_reset();
    uint32_t center = 0;
    bw_notify_setup(17, (uintptr_t)(app + RING_AT), RING_LEN, &center);
    uint32_t network = 0;
    bw_network_request(center, 0, &network);
    bw_network_set_status(MV_NETWORKSTATUS_CONNECTED);
    bw_channel_open_params p = { .notification_handle = center, .network_handle = network,
                                 .rx = (uintptr_t)(app + RX_AT), .rx_len = RX_LEN,
                                 .tx = (uintptr_t)(app + TX_AT), .tx_len = TX_LEN, .type = MV_CHANNELTYPE_MQTT };
    handle = 0;
    if (bw_channel_open(&p, 1000, &handle) != BW_OK) {
        abort();
    }
    memcpy(app + STR_AT, "127.0.0.1t/1", 12);
    bw_appmqtt_connect_req c = { .r = { .host = { app + STR_AT, 9 }, .port = 1883, .keepalive = 60 } };
    struct MvSizedString topic = { app + STR_AT + 9, 3 };
    struct MvMqttSubscription sub = { .topic = topic, .desired_qos = 1 };
    if (bw_appmqtt_connect(handle, &c) != BW_OK) {
        abort();
    }
    uint8_t buf[PIECE_CAP];
    bw_http_piece piece;
    while (bw_appmqtt_next_piece(buf, sizeof buf, &piece)) {
        bw_appmqtt_piece_sent(&piece);
    }
    uint8_t accepted[12] = { MV_MQTTREADABLEDATATYPE_CONNECTRESPONSE };
    uint32_t session = piece.request_id;
    (void)bw_appmqtt_event_piece(session, 0, sizeof accepted, accepted, sizeof accepted);
    (void)bw_appmqtt_subscribe(handle, 5, &sub, 1);
    return session;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t session = setup();
    memcpy(before, app, sizeof before);
    uint8_t buf[PIECE_CAP];
    bw_http_piece piece;
    for (size_t at = 0; size - at >= 11;) {
        uint8_t flags = data[at];
        uint32_t offset = bw_get32(data + at + 1);
        uint32_t total = bw_get32(data + at + 5);
        size_t len = bw_get16(data + at + 9);
        at += 11;
        len = len < size - at ? len : size - at;
        uint32_t id = (flags & 1u) != 0 ? session ^ bw_get32(data + at - 10) : session;
        (void)bw_appmqtt_event_piece(id, offset, total, data + at, len);
        at += len;
        if ((flags & 2u) != 0) {
            enum MvMqttReadableDataType type = MV_MQTTREADABLEDATATYPE_NONE;
            if (bw_appmqtt_next_type(handle, &type) == BW_OK && type != MV_MQTTREADABLEDATATYPE_NONE) {
                (void)bw_appmqtt_read(handle, type, reader, NULL);
            }
        }
        while (bw_appmqtt_next_piece(buf, sizeof buf, &piece)) {
            bw_appmqtt_piece_sent(&piece);
        }
    }
    for (size_t i = 0; i < sizeof app; i++) {
        if (!writable_region(i) && app[i] != before[i]) {
            abort();   /* a write outside the app's buffers */
        }
    }
    if (port_host_lock_misused() || port_host_lock_depth() != 0 || port_host_contract_violations() != 0) {
        abort();
    }
    return 0;
}
