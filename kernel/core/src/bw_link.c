/*
 * Local delivery link framing (bw_link.h). The decoder unescapes into a fixed
 * buffer and checks a frame only at its END: CRC first (a corrupted frame is
 * "bad CRC", whatever its fields say), then the length field against the
 * bytes received, then the version.
 */
#include "bw_bytes.h"
#include "bw_link.h"

_Static_assert(BW_LINK_FRAME_MAX == 526u, "bw_link_error_text names the frame limit");

void bw_link_decoder_init(bw_link_decoder *d)
{
    d->fill = 0;
    d->escaped = false;
    d->discarding = false;
    d->pending = BW_LINK_E_NONE;
}

/* Drops the rest of the current frame; the END that ends it reports `error`. */
static void discard(bw_link_decoder *d, bw_link_error error)
{
    if (!d->discarding) {
        d->discarding = true;
        d->pending = error;
    }
}

/* At an END: checks the frame in buf. */
static bw_link_event frame_end(bw_link_decoder *d, bw_link_frame *frame, bw_link_error *error)
{
    uint32_t fill = d->fill;
    bool discarding = d->discarding;
    bool escaped = d->escaped;
    bw_link_error pending = d->pending;
    bw_link_decoder_init(d);

    bw_link_error e = BW_LINK_E_NONE;
    if (discarding) {
        e = pending;
    } else if (fill == 0 && !escaped) {
        return BW_LINK_EVENT_NONE;              /* END END: nothing between */
    } else if (escaped) {
        e = BW_LINK_E_ESCAPE;                   /* ESC END */
    } else if (fill < BW_LINK_HEADER_SIZE + BW_LINK_CRC_SIZE) {
        e = BW_LINK_E_SHORT;
    } else {
        uint32_t body = fill - BW_LINK_CRC_SIZE;
        if (bw_get32(d->buf + body) != bw_crc32_update(0, d->buf, body)) {
            e = BW_LINK_E_CRC;
        } else if (bw_get16(d->buf + 4) != body - BW_LINK_HEADER_SIZE) {
            e = BW_LINK_E_LENGTH;
        } else if (d->buf[1] != BW_LINK_VERSION) {
            e = BW_LINK_E_VERSION;
        } else {
            frame->type = d->buf[0];
            frame->seq = bw_get16(d->buf + 2);
            frame->len = (uint16_t)(body - BW_LINK_HEADER_SIZE);
            frame->crc = bw_get32(d->buf + body);
            frame->payload = d->buf + BW_LINK_HEADER_SIZE;
            return BW_LINK_EVENT_FRAME;
        }
    }
    *error = e;
    return BW_LINK_EVENT_ERROR;
}

bw_link_event bw_link_decode_byte(bw_link_decoder *d, uint8_t byte, bw_link_frame *frame,
                                  bw_link_error *error)
{
    if (byte == BW_LINK_END) {
        return frame_end(d, frame, error);
    }
    if (d->discarding) {
        return BW_LINK_EVENT_NONE;
    }
    if (d->escaped) {
        d->escaped = false;
        if (byte == BW_LINK_ESC_END) {
            byte = BW_LINK_END;
        } else if (byte == BW_LINK_ESC_ESC) {
            byte = BW_LINK_ESC;
        } else {
            discard(d, BW_LINK_E_ESCAPE);
            return BW_LINK_EVENT_NONE;
        }
    } else if (byte == BW_LINK_ESC) {
        d->escaped = true;
        return BW_LINK_EVENT_NONE;
    }
    if (d->fill == BW_LINK_FRAME_MAX) {
        discard(d, BW_LINK_E_TOO_LONG);
        return BW_LINK_EVENT_NONE;
    }
    d->buf[d->fill++] = byte;
    return BW_LINK_EVENT_NONE;
}

/* Appends one escaped byte; false when out is full. */
static bool put_escaped(uint8_t *out, size_t size, size_t *at, uint8_t byte)
{
    if (byte == BW_LINK_END || byte == BW_LINK_ESC) {
        if (size - *at < 2u) {
            return false;
        }
        out[(*at)++] = BW_LINK_ESC;
        out[(*at)++] = byte == BW_LINK_END ? BW_LINK_ESC_END : BW_LINK_ESC_ESC;
        return true;
    }
    if (size - *at < 1u) {
        return false;
    }
    out[(*at)++] = byte;
    return true;
}

size_t bw_link_encode(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len,
                      uint8_t *out, size_t size)
{
    if (len > BW_LINK_PAYLOAD_MAX || size < 2u) {
        return 0;
    }
    uint8_t header[BW_LINK_HEADER_SIZE] = { type, BW_LINK_VERSION };
    bw_put16(header + 2, seq);
    bw_put16(header + 4, (uint16_t)len);
    uint8_t crc[BW_LINK_CRC_SIZE];
    bw_put32(crc, bw_crc32_update(bw_crc32_update(0, header, sizeof header), payload, len));

    size_t at = 0;
    out[at++] = BW_LINK_END;
    bool ok = true;
    for (size_t i = 0; ok && i < sizeof header; i++) {
        ok = put_escaped(out, size, &at, header[i]);
    }
    for (size_t i = 0; ok && i < len; i++) {
        ok = put_escaped(out, size, &at, payload[i]);
    }
    for (size_t i = 0; ok && i < sizeof crc; i++) {
        ok = put_escaped(out, size, &at, crc[i]);
    }
    if (!ok || at == size) {
        return 0;
    }
    out[at++] = BW_LINK_END;
    return at;
}

const char *bw_link_error_text(bw_link_error error)
{
    static const char *const text[BW_LINK_E_COUNT] = {
        [BW_LINK_E_NONE] = "no error",
        [BW_LINK_E_SHORT] = "frame shorter than a header and a CRC",
        [BW_LINK_E_TOO_LONG] = "frame longer than 526 bytes",
        [BW_LINK_E_ESCAPE] = "bad escape sequence",
        [BW_LINK_E_CRC] = "bad CRC",
        [BW_LINK_E_LENGTH] = "length field does not match the frame",
        [BW_LINK_E_VERSION] = "unsupported link protocol version",
    };
    return (unsigned)error < BW_LINK_E_COUNT ? text[error] : "unknown error";
}
