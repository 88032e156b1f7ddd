/*
 * The HTTP relay's device side (see bw_http_relay.h).
 */
#include "bw_http.h"
#include "bw_http_relay.h"

static uint8_t piece_buf[BW_CLOUD_HTTP_HEADER + BW_CLOUD_HTTP_PIECE_MAX];
static bw_http_relay_counters counters;

void bw_http_relay_pump(bw_http_relay_publish_fn publish)
{
    bw_http_piece piece;
    while (bw_http_next_piece(piece_buf + BW_CLOUD_HTTP_HEADER, BW_CLOUD_HTTP_PIECE_MAX, &piece)) {
        bw_cloud_http_piece head = { .request_id = piece.request_id, .offset = piece.offset,
                                     .total = piece.total, .length = (uint16_t)piece.len };
        bw_cloud_encode_piece(piece.type == MV_CHANNELTYPE_CONFIGFETCH ? BW_CLOUD_TYPE_CONFIG_REQUEST
                                                                       : BW_CLOUD_TYPE_HTTP_REQUEST,
                              &head, piece_buf);
        if (publish(piece_buf, BW_CLOUD_HTTP_HEADER + piece.len) != BW_OK) {
            return;
        }
        bw_http_piece_sent(&piece);
        counters.pieces_sent++;
    }
}

void bw_http_relay_received(uint8_t type, const bw_cloud_http_piece *piece)
{
    uint32_t channel_type = type == BW_CLOUD_TYPE_CONFIG_RESPONSE ? MV_CHANNELTYPE_CONFIGFETCH : MV_CHANNELTYPE_HTTP;
    bw_err err = bw_http_response_piece(channel_type, piece->request_id, piece->offset, piece->total, piece->data,
                                        piece->length);
    if (err == BW_OK) {
        counters.pieces_received++;
    } else if (err == BW_E_HANDLE) {
        counters.pieces_dropped++;
    } else {
        counters.pieces_refused++;
    }
}

void bw_http_relay_poll(uint64_t now_us)
{
    bw_http_poll(now_us);
}

const bw_http_relay_counters *bw_http_relay_stats(void)
{
    return &counters;
}
