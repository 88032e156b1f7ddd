/*
 * The channel relays' device side (see bw_http_relay.h): HTTP (§16), config
 * fetch (§17) and MQTT (§18) move stream pieces the same way, each through
 * its own source.
 */
#include "bw_http.h"
#include "bw_http_relay.h"
#include "bw_appmqtt.h"

/* Where a relay's pieces come from and which piece type carries them up. */
typedef struct relay_source {
    bool (*next_piece)(uint8_t *buf, size_t cap, bw_http_piece *piece);
    void (*piece_sent)(const bw_http_piece *piece);
    uint8_t (*up_type)(const bw_http_piece *piece);
} relay_source;

/* HTTP and CONFIGFETCH channels share one exchange (bw_http.h). */
static uint8_t exchange_up_type(const bw_http_piece *piece)
{
    return piece->type == MV_CHANNELTYPE_CONFIGFETCH ? BW_CLOUD_TYPE_CONFIG_REQUEST : BW_CLOUD_TYPE_HTTP_REQUEST;
}

static uint8_t mqtt_up_type(const bw_http_piece *piece)
{
    (void)piece;
    return BW_CLOUD_TYPE_MQTT_UP;
}

static const relay_source http_source = { bw_http_next_piece, bw_http_piece_sent, exchange_up_type };
static const relay_source mqtt_source = { bw_appmqtt_next_piece, bw_appmqtt_piece_sent, mqtt_up_type };

static uint8_t piece_buf[BW_CLOUD_HTTP_HEADER + BW_CLOUD_HTTP_PIECE_MAX];
static bw_http_relay_counters http_counters;
static bw_http_relay_counters mqtt_counters;

static void pump(const relay_source *source, bw_http_relay_publish_fn publish, bw_http_relay_counters *counters)
{
    bw_http_piece piece;
    while (source->next_piece(piece_buf + BW_CLOUD_HTTP_HEADER, BW_CLOUD_HTTP_PIECE_MAX, &piece)) {
        bw_cloud_http_piece head = { .request_id = piece.request_id, .offset = piece.offset,
                                     .total = piece.total, .length = (uint16_t)piece.len };
        bw_cloud_encode_piece(source->up_type(&piece), &head, piece_buf);
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

void bw_http_relay_received(uint8_t type, const bw_cloud_http_piece *piece)
{
    uint32_t channel_type = type == BW_CLOUD_TYPE_CONFIG_RESPONSE ? MV_CHANNELTYPE_CONFIGFETCH : MV_CHANNELTYPE_HTTP;
    count(bw_http_response_piece(channel_type, piece->request_id, piece->offset, piece->total, piece->data,
                                 piece->length),
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
