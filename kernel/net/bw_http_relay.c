/*
 * The channel relays' device side (see bw_http_relay.h): HTTP (§16) and
 * MQTT (§17) move stream pieces the same way, each through its own source.
 */
#include "bw_http.h"
#include "bw_http_relay.h"
#include "bw_appmqtt.h"

/* Where a relay's pieces come from and how they are framed. */
typedef struct relay_source {
    bool (*next_piece)(uint8_t *buf, size_t cap, bw_http_piece *piece);
    void (*piece_sent)(const bw_http_piece *piece);
    void (*encode)(const bw_cloud_http_piece *piece, uint8_t out[BW_CLOUD_HTTP_HEADER]);
} relay_source;

static const relay_source http_source = { bw_http_next_piece, bw_http_piece_sent, bw_cloud_encode_http_request };
static const relay_source mqtt_source = { bw_appmqtt_next_piece, bw_appmqtt_piece_sent, bw_cloud_encode_mqtt_up };

static uint8_t piece_buf[BW_CLOUD_HTTP_HEADER + BW_CLOUD_HTTP_PIECE_MAX];
static bw_http_relay_counters http_counters;
static bw_http_relay_counters mqtt_counters;

static void pump(const relay_source *source, bw_http_relay_publish_fn publish, bw_http_relay_counters *counters)
{
    bw_http_piece piece;
    while (source->next_piece(piece_buf + BW_CLOUD_HTTP_HEADER, BW_CLOUD_HTTP_PIECE_MAX, &piece)) {
        bw_cloud_http_piece head = { .request_id = piece.request_id, .offset = piece.offset,
                                     .total = piece.total, .length = (uint16_t)piece.len };
        source->encode(&head, piece_buf);
        if (publish(piece_buf, BW_CLOUD_HTTP_HEADER + piece.len) != BW_OK) {
            return;
        }
        source->piece_sent(&piece);
        counters->pieces_sent++;
    }
}

static void count(bw_err err, bw_http_relay_counters *counters)
{
    if (err == BW_OK) {
        counters->pieces_received++;
    } else if (err == BW_E_HANDLE) {
        counters->pieces_dropped++;
    } else {
        counters->pieces_refused++;
    }
}

void bw_http_relay_pump(bw_http_relay_publish_fn publish)
{
    pump(&http_source, publish, &http_counters);
}

void bw_http_relay_received(const bw_cloud_http_piece *piece)
{
    count(bw_http_response_piece(piece->request_id, piece->offset, piece->total, piece->data, piece->length),
          &http_counters);
}

void bw_http_relay_poll(uint64_t now_us)
{
    bw_http_poll(now_us);
}

const bw_http_relay_counters *bw_http_relay_stats(void)
{
    return &http_counters;
}

void bw_mqtt_relay_pump(bw_http_relay_publish_fn publish)
{
    pump(&mqtt_source, publish, &mqtt_counters);
}

void bw_mqtt_relay_received(const bw_cloud_http_piece *piece)
{
    count(bw_appmqtt_event_piece(piece->request_id, piece->offset, piece->total, piece->data, piece->length),
          &mqtt_counters);
}

const bw_http_relay_counters *bw_mqtt_relay_stats(void)
{
    return &mqtt_counters;
}
