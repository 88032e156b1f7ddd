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
        bw_cloud_encode_http_request(&head, piece_buf);
        if (publish(piece_buf, BW_CLOUD_HTTP_HEADER + piece.len) != BW_OK) {
            return;
        }
        bw_http_piece_sent(&piece);
        counters.pieces_sent++;
    }
}

void bw_http_relay_received(const bw_cloud_http_piece *piece)
{
    bw_err err = bw_http_response_piece(piece->request_id, piece->offset, piece->total, piece->data,
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
