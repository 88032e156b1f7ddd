/*
 * libFuzzer target for the kernel's MQTT client (bw_mqtt_codec.h, bw_mqtt.h):
 * any bytes as a server's side of the connection. The first input byte
 * seeds the chunking; the rest is the byte stream.
 *
 * Promises checked beyond "no crash, no UB" (ASan + UBSan):
 *  - the decoder gives the same packets and the same final verdict whether
 *    the stream comes at once or in random pieces (1..64 bytes);
 *  - every packet handed out is one a server may send and passed the
 *    checks: QoS ≤ 1, topic valid UTF-8 without NUL or wildcards, non-zero
 *    packet ids where required, SUBACK codes 0/1/2/0x80, fields inside the
 *    receive buffer; a PUBLISH encoded again decodes to the same packet;
 *  - a session fed the same stream (in pieces) never asks for more than it
 *    may, ends in a defined state and reason, and reports every QoS 1
 *    message it accepted exactly once (DELIVERED or UNDELIVERED).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bw_mqtt.h"

#define CHECK(cond)         \
    do {                    \
        if (!(cond)) {      \
            abort();        \
        }                   \
    } while (0)

#define MAX_PACKETS 256

typedef struct summary {
    size_t count;
    uint8_t types[MAX_PACKETS];
    uint16_t ids[MAX_PACKETS];
    size_t lens[MAX_PACKETS];
    bw_mqtt_decode_status last;
    bw_mqtt_error error;
} summary;

static uint32_t rng;

static size_t next_chunk(void)
{
    rng = rng * 1103515245u + 12345u;
    return 1u + (rng >> 16) % 64u;
}

static void check_packet(const bw_mqtt_decoder *d, const bw_mqtt_packet *p)
{
    const uint8_t *lo = d->body;
    const uint8_t *hi = d->body + sizeof d->body;
    switch (p->type) {
    case BW_MQTT_CONNACK:
        CHECK(p->connack_code <= BW_MQTT_CONNACK_NOT_AUTHORIZED);
        CHECK(!(p->session_present && p->connack_code != 0));
        break;
    case BW_MQTT_PUBLISH: {
        CHECK(p->qos <= 1 && (p->qos == 1) == (p->packet_id != 0));
        CHECK(!(p->dup && p->qos == 0));
        CHECK(p->topic >= lo && p->topic + p->topic_len <= hi);
        CHECK(p->payload >= lo && p->payload + p->payload_len <= hi);
        CHECK(bw_mqtt_topic_name_valid((const char *)p->topic, p->topic_len));
        static uint8_t wire[BW_MQTT_RX_MAX + 8];
        size_t len;
        CHECK(bw_mqtt_encode_publish((const char *)p->topic, p->topic_len, p->payload,
                                     p->payload_len, p->qos, p->dup, p->retain, p->packet_id,
                                     wire, sizeof wire, &len) == BW_OK);
        static bw_mqtt_decoder again;
        bw_mqtt_decoder_init(&again);
        bw_mqtt_packet q;
        size_t used;
        CHECK(bw_mqtt_decoder_feed(&again, wire, len, &used, &q) == BW_MQTT_DECODE_PACKET);
        CHECK(used == len && q.qos == p->qos && q.packet_id == p->packet_id &&
              q.retain == p->retain && q.dup == p->dup && q.topic_len == p->topic_len &&
              q.payload_len == p->payload_len);
        CHECK(memcmp(q.topic, p->topic, p->topic_len) == 0);
        CHECK(p->payload_len == 0 || memcmp(q.payload, p->payload, p->payload_len) == 0);
        break;
    }
    case BW_MQTT_PUBACK:
    case BW_MQTT_UNSUBACK:
        CHECK(p->packet_id != 0);
        break;
    case BW_MQTT_SUBACK:
        CHECK(p->packet_id != 0 && p->code_count >= 1);
        CHECK(p->codes >= lo && p->codes + p->code_count <= hi);
        for (size_t i = 0; i < p->code_count; i++) {
            CHECK(p->codes[i] <= 2 || p->codes[i] == BW_MQTT_SUBACK_FAILURE);
        }
        break;
    case BW_MQTT_PINGRESP:
        break;
    default:
        CHECK(0);
    }
}

/* chunked: random piece sizes from rng; else everything at once. */
static void decode_all(const uint8_t *data, size_t size, bool chunked, summary *s)
{
    static bw_mqtt_decoder d;
    bw_mqtt_decoder_init(&d);
    memset(s, 0, sizeof *s);
    s->last = BW_MQTT_DECODE_MORE;
    size_t off = 0;
    while (off < size && s->last != BW_MQTT_DECODE_ERROR) {
        size_t n = chunked ? next_chunk() : size - off;
        n = n > size - off ? size - off : n;
        size_t end = off + n;
        while (off < end && s->last != BW_MQTT_DECODE_ERROR) {
            bw_mqtt_packet p;
            size_t used;
            s->last = bw_mqtt_decoder_feed(&d, data + off, end - off, &used, &p);
            CHECK(used <= end - off);
            off += used;
            if (s->last == BW_MQTT_DECODE_PACKET) {
                check_packet(&d, &p);
                if (s->count < MAX_PACKETS) {
                    s->types[s->count] = (uint8_t)p.type;
                    s->ids[s->count] = p.packet_id;
                    s->lens[s->count] = p.payload_len + p.code_count;
                }
                s->count++;
            }
        }
    }
    s->error = bw_mqtt_decoder_error(&d);
    CHECK((s->last == BW_MQTT_DECODE_ERROR) == (s->error != BW_MQTT_E_NONE));
    CHECK(bw_mqtt_error_text(s->error) != NULL);
}

/* ---- the session over a scripted stream ---- */

typedef struct script {
    const uint8_t *data;
    size_t size;
    size_t off;
} script;

static int32_t script_send(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    CHECK(len > 0 && len <= BW_MQTT_TX_MAX);
    (void)data;
    return (int32_t)(len > 7 ? len - 7 : len);   /* partial writes too */
}

static int32_t script_recv(void *ctx, uint8_t *buf, size_t len)
{
    script *s = ctx;
    CHECK(len > 0 && len <= BW_MQTT_RX_MAX);
    if (s->off == s->size) {
        return BW_STREAM_CLOSED;
    }
    size_t n = next_chunk();
    n = n > len ? len : n;
    n = n > s->size - s->off ? s->size - s->off : n;
    memcpy(buf, s->data + s->off, n);
    s->off += n;
    return (int32_t)n;
}

static unsigned accepted, settled, closed_events;
static bw_mqtt session;

static void on_event(void *ctx, const bw_mqtt_event *ev)
{
    (void)ctx;
    switch (ev->type) {
    case BW_MQTT_EV_DELIVERED:
    case BW_MQTT_EV_UNDELIVERED:
        settled++;
        break;
    case BW_MQTT_EV_CLOSED:
        closed_events++;
        CHECK(ev->reason > BW_MQTT_CLOSE_NONE && ev->reason < BW_MQTT_CLOSE_COUNT);
        break;
    case BW_MQTT_EV_MESSAGE:
        CHECK(bw_mqtt_topic_name_valid(ev->topic, ev->topic_len));
        break;
    default:
        break;
    }
}

static void run_session(const uint8_t *data, size_t size)
{
    static const char *const subs[] = { "bw/D/down/#", "bw/D/x" };
    static const bw_mqtt_config config = { .client_id = "D", .subscriptions = subs,
                                           .subscription_count = 2, .keepalive_s = 5,
                                           .retry_ms = 100, .on_event = on_event };
    script sc = { data, size, 0 };
    bw_stream stream = { &sc, script_send, script_recv };
    accepted = settled = closed_events = 0;
    memset(&session, 0, sizeof session);
    CHECK(bw_mqtt_start(&session, &config, &stream, 0) == BW_OK);
    static const uint8_t payload[] = "p";
    uint64_t now = 0;
    for (unsigned pass = 0; pass < 4096 && bw_mqtt_get_state(&session) != BW_MQTT_CLOSED;
         pass++) {
        now += 37;
        bw_mqtt_poll(&session, now);
        uint16_t id;
        if (bw_mqtt_publish(&session, "bw/D/up/log", payload, 1, (uint8_t)(pass & 1), false, &id,
                            now) == BW_OK && (pass & 1)) {
            CHECK(id != 0);
            accepted++;
        }
    }
    bw_mqtt_close(&session);
    CHECK(bw_mqtt_get_state(&session) == BW_MQTT_CLOSED);
    CHECK(closed_events == 1);
    CHECK(settled == accepted);
    if (bw_mqtt_get_close_reason(&session) == BW_MQTT_CLOSE_PROTOCOL) {
        CHECK(bw_mqtt_protocol_error(&session) != BW_MQTT_E_NONE);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    uint32_t seed = data[0];
    data++;
    size--;
    static summary whole, pieces;
    decode_all(data, size, false, &whole);
    rng = seed;
    decode_all(data, size, true, &pieces);
    CHECK(whole.count == pieces.count && whole.last == pieces.last &&
          whole.error == pieces.error);
    size_t n = whole.count < MAX_PACKETS ? whole.count : MAX_PACKETS;
    CHECK(memcmp(whole.types, pieces.types, n) == 0);
    CHECK(memcmp(whole.ids, pieces.ids, n * sizeof whole.ids[0]) == 0);
    CHECK(memcmp(whole.lens, pieces.lens, n * sizeof whole.lens[0]) == 0);
    rng = seed;
    run_session(data, size);
    return 0;
}
