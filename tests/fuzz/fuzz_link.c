/*
 * libFuzzer target for the local delivery link's frame decoder (bw_link.h):
 * any bytes, fed one at a time, as a device's UART would receive them.
 *
 * Promises checked beyond "no crash, no UB" (ASan + UBSan):
 *  - a frame handed out has a payload within BW_LINK_PAYLOAD_MAX and the
 *    protocol version; an error is one of the named ones, with a text;
 *  - every frame handed out, encoded again, decodes to the same frame
 *    (type, sequence, payload, CRC), and the encoding fits
 *    BW_LINK_ENCODED_MAX;
 *  - after the input, an END and a good frame always decode: no input
 *    leaves the decoder stuck.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bw_link.h"

#define CHECK(cond)         \
    do {                    \
        if (!(cond)) {      \
            abort();        \
        }                   \
    } while (0)

static void check_round_trip(const bw_link_frame *f)
{
    static uint8_t wire[BW_LINK_ENCODED_MAX];
    static uint8_t payload[BW_LINK_PAYLOAD_MAX];
    memcpy(payload, f->payload, f->len);
    size_t n = bw_link_encode(f->type, f->seq, payload, f->len, wire, sizeof wire);
    CHECK(n >= 12 && n <= sizeof wire);
    static bw_link_decoder d;
    bw_link_decoder_init(&d);
    unsigned frames = 0;
    for (size_t i = 0; i < n; i++) {
        bw_link_frame g;
        bw_link_error e;
        bw_link_event ev = bw_link_decode_byte(&d, wire[i], &g, &e);
        CHECK(ev != BW_LINK_EVENT_ERROR);
        if (ev == BW_LINK_EVENT_FRAME) {
            frames++;
            CHECK(g.type == f->type && g.seq == f->seq && g.len == f->len && g.crc == f->crc);
            CHECK(memcmp(g.payload, payload, g.len) == 0);
        }
    }
    CHECK(frames == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bw_link_decoder d;
    bw_link_decoder_init(&d);
    for (size_t i = 0; i < size; i++) {
        bw_link_frame f;
        bw_link_error e = BW_LINK_E_NONE;
        switch (bw_link_decode_byte(&d, data[i], &f, &e)) {
        case BW_LINK_EVENT_FRAME:
            CHECK(f.len <= BW_LINK_PAYLOAD_MAX);
            check_round_trip(&f);
            break;
        case BW_LINK_EVENT_ERROR:
            CHECK(e > BW_LINK_E_NONE && e < BW_LINK_E_COUNT);
            CHECK(bw_link_error_text(e) != NULL);
            break;
        default:
            break;
        }
    }
    uint8_t hello[16];
    size_t n = bw_link_encode(BW_LINK_HELLO, 1, NULL, 0, hello, sizeof hello);
    CHECK(n == 12);
    unsigned frames = 0;
    for (size_t i = 0; i < n; i++) {
        bw_link_frame f;
        bw_link_error e;
        if (bw_link_decode_byte(&d, hello[i], &f, &e) == BW_LINK_EVENT_FRAME) {
            frames++;
            CHECK(f.type == BW_LINK_HELLO && f.seq == 1 && f.len == 0);
        }
    }
    CHECK(frames == 1);
    return 0;
}
