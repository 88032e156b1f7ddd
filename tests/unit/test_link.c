/*
 * Local delivery link framing (bw_link.h). Promises: a frame survives the
 * round trip whatever bytes its payload holds (escapes); back-to-back frames
 * come out one by one; garbage, truncated, oversized, mis-escaped, corrupted
 * (CRC), mis-sized (length field) and foreign-version frames are each
 * reported as the right error and never handed out as frames; after any bad
 * frame the next good one decodes; the encoder never writes past its buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bw_bytes.h"
#include "bw_identity.h"
#include "bw_link.h"

typedef struct feed_result {
    unsigned frames;
    unsigned errors;
    bw_link_error last_error;
    bw_link_frame last_frame;
    uint8_t last_payload[BW_LINK_PAYLOAD_MAX];
} feed_result;

static bw_link_decoder decoder;

static void feed(const uint8_t *bytes, size_t len, feed_result *r)
{
    for (size_t i = 0; i < len; i++) {
        bw_link_frame frame;
        bw_link_error error = BW_LINK_E_NONE;
        switch (bw_link_decode_byte(&decoder, bytes[i], &frame, &error)) {
        case BW_LINK_EVENT_FRAME:
            r->frames++;
            r->last_frame = frame;
            assert_true(frame.len <= BW_LINK_PAYLOAD_MAX);
            memcpy(r->last_payload, frame.payload, frame.len);
            break;
        case BW_LINK_EVENT_ERROR:
            assert_int_not_equal(error, BW_LINK_E_NONE);
            r->errors++;
            r->last_error = error;
            break;
        default:
            break;
        }
    }
}

static int setup(void **state)
{
    (void)state;
    bw_link_decoder_init(&decoder);
    return 0;
}

/* Builds a raw (unescaped) body with a correct CRC unless told otherwise. */
static size_t raw_body(uint8_t *body, uint8_t type, uint8_t version, uint16_t seq,
                       uint16_t length_field, const uint8_t *payload, size_t len)
{
    body[0] = type;
    body[1] = version;
    bw_put16(body + 2, seq);
    bw_put16(body + 4, length_field);
    memcpy(body + 6, payload, len);
    bw_put32(body + 6 + len, bw_crc32_update(0, body, 6 + len));
    return 6 + len + 4;
}

/* Escapes a raw body between two ENDs. */
static size_t wrap(const uint8_t *body, size_t len, uint8_t *out)
{
    size_t at = 0;
    out[at++] = BW_LINK_END;
    for (size_t i = 0; i < len; i++) {
        if (body[i] == BW_LINK_END || body[i] == BW_LINK_ESC) {
            out[at++] = BW_LINK_ESC;
            out[at++] = body[i] == BW_LINK_END ? BW_LINK_ESC_END : BW_LINK_ESC_ESC;
        } else {
            out[at++] = body[i];
        }
    }
    out[at++] = BW_LINK_END;
    return at;
}

static void test_crc32_matches_zlib(void **state)
{
    (void)state;
    const uint8_t *check = (const uint8_t *)"123456789";
    assert_int_equal(bw_crc32_update(0, check, 9), 0xCBF43926u);
    assert_int_equal(bw_crc32_update(bw_crc32_update(0, check, 4), check + 4, 5), 0xCBF43926u);
    assert_int_equal(bw_crc32_update(0, check, 9), bw_crc32(check, 9));
    assert_int_equal(bw_crc32_update(0, NULL, 0), 0u);
}

static void test_round_trip_with_escapes(void **state)
{
    (void)state;
    uint8_t payload[300];
    for (size_t i = 0; i < sizeof payload; i++) {
        payload[i] = (uint8_t)(i % 3 == 0 ? BW_LINK_END : i % 3 == 1 ? BW_LINK_ESC : i);
    }
    uint8_t wire[BW_LINK_ENCODED_MAX];
    size_t n = bw_link_encode(BW_LINK_DATA, 0xC0DB, payload, sizeof payload, wire, sizeof wire);
    assert_true(n > sizeof payload + 12);
    assert_int_equal(wire[0], BW_LINK_END);
    assert_int_equal(wire[n - 1], BW_LINK_END);
    for (size_t i = 1; i + 1 < n; i++) {
        assert_int_not_equal(wire[i], BW_LINK_END);   /* no END inside a frame */
    }
    feed_result r = {0};
    feed(wire, n, &r);
    assert_int_equal(r.frames, 1);
    assert_int_equal(r.errors, 0);
    assert_int_equal(r.last_frame.type, BW_LINK_DATA);
    assert_int_equal(r.last_frame.seq, 0xC0DB);
    assert_int_equal(r.last_frame.len, sizeof payload);
    assert_memory_equal(r.last_payload, payload, sizeof payload);
}

static void test_empty_and_largest_payloads(void **state)
{
    (void)state;
    uint8_t payload[BW_LINK_PAYLOAD_MAX];
    memset(payload, BW_LINK_END, sizeof payload);   /* worst case: every byte escaped */
    uint8_t wire[BW_LINK_ENCODED_MAX];
    size_t n = bw_link_encode(BW_LINK_HEAD, 7, payload, sizeof payload, wire, sizeof wire);
    assert_true(n > 0 && n <= sizeof wire);
    feed_result r = {0};
    feed(wire, n, &r);
    assert_int_equal(r.frames, 1);
    assert_int_equal(r.last_frame.len, BW_LINK_PAYLOAD_MAX);
    assert_memory_equal(r.last_payload, payload, sizeof payload);

    n = bw_link_encode(BW_LINK_HELLO, 1, NULL, 0, wire, sizeof wire);
    assert_int_equal(n, 12u);
    feed(wire, n, &r);
    assert_int_equal(r.frames, 2);
    assert_int_equal(r.last_frame.type, BW_LINK_HELLO);
    assert_int_equal(r.last_frame.len, 0);
    assert_int_equal(r.errors, 0);
}

static void test_back_to_back_frames(void **state)
{
    (void)state;
    uint8_t wire[3 * 64];
    size_t at = 0;
    for (uint16_t seq = 1; seq <= 3; seq++) {
        uint8_t payload[4] = { (uint8_t)seq, 0xC0, 0xDB, 0x00 };
        size_t n = bw_link_encode(BW_LINK_DATA, seq, payload, sizeof payload, wire + at,
                                  sizeof wire - at);
        assert_true(n > 0);
        if (seq == 3) {
            /* A frame may share its opening END with the previous frame's closing one. */
            memmove(wire + at, wire + at + 1, n - 1);
            n--;
        }
        at += n;
    }
    feed_result r = {0};
    bw_link_frame frame;
    bw_link_error error;
    unsigned seen = 0;
    for (size_t i = 0; i < at; i++) {
        if (bw_link_decode_byte(&decoder, wire[i], &frame, &error) == BW_LINK_EVENT_FRAME) {
            seen++;
            assert_int_equal(frame.seq, seen);
            assert_int_equal(frame.payload[0], seen);
        }
    }
    assert_int_equal(seen, 3);
    /* END END END between frames: nothing. */
    const uint8_t ends[3] = { BW_LINK_END, BW_LINK_END, BW_LINK_END };
    feed(ends, sizeof ends, &r);
    assert_int_equal(r.frames + r.errors, 0);
}

static void test_garbage_then_recovery(void **state)
{
    (void)state;
    uint8_t garbage[4096];
    uint32_t x = 12345u;
    for (size_t i = 0; i < sizeof garbage; i++) {
        x = x * 1103515245u + 12345u;
        garbage[i] = (uint8_t)(x >> 16);
    }
    feed_result r = {0};
    feed(garbage, sizeof garbage, &r);
    assert_int_equal(r.frames, 0);
    assert_true(r.errors > 0);   /* the garbage holds ENDs: each ends a bad frame */

    uint8_t wire[64];
    uint8_t payload[2] = { 0xAA, 0x55 };
    size_t n = bw_link_encode(BW_LINK_FINISH, 42, payload, sizeof payload, wire, sizeof wire);
    feed(wire, n, &r);
    assert_int_equal(r.frames, 1);
    assert_int_equal(r.last_frame.seq, 42);
}

static void test_truncated_frames(void **state)
{
    (void)state;
    uint8_t payload[40];
    memset(payload, 0x11, sizeof payload);
    uint8_t wire[128];
    size_t n = bw_link_encode(BW_LINK_DATA, 9, payload, sizeof payload, wire, sizeof wire);
    /* Cut the frame short by 1..n-3 bytes before its closing END. */
    for (size_t cut = 1; cut + 2 < n; cut++) {
        feed_result r = {0};
        feed(wire, n - 1 - cut, &r);
        const uint8_t end = BW_LINK_END;
        feed(&end, 1, &r);
        assert_int_equal(r.frames, 0);
        assert_int_equal(r.errors, 1);
        /* n - 2 - cut wire bytes: at most that many body bytes (escapes take two). */
        if (n - 2 - cut < 10) {
            assert_int_equal(r.last_error, BW_LINK_E_SHORT);
        } else {
            assert_true(r.last_error == BW_LINK_E_CRC || r.last_error == BW_LINK_E_ESCAPE
                        || r.last_error == BW_LINK_E_SHORT);
        }
    }
    feed_result r = {0};
    feed(wire, n, &r);
    assert_int_equal(r.frames, 1);
}

static void test_oversized_frame(void **state)
{
    (void)state;
    static uint8_t big[BW_LINK_FRAME_MAX + 100];
    memset(big, 0x42, sizeof big);
    feed_result r = {0};
    const uint8_t end = BW_LINK_END;
    feed(&end, 1, &r);
    feed(big, sizeof big, &r);
    feed(&end, 1, &r);
    assert_int_equal(r.frames, 0);
    assert_int_equal(r.errors, 1);
    assert_int_equal(r.last_error, BW_LINK_E_TOO_LONG);

    /* One byte more than the largest legal frame, even with a valid CRC. */
    static uint8_t body[BW_LINK_FRAME_MAX + 1];
    static uint8_t wire[BW_LINK_ENCODED_MAX + 4];
    uint8_t payload[BW_LINK_PAYLOAD_MAX + 1];
    memset(payload, 1, sizeof payload);
    size_t len = raw_body(body, BW_LINK_DATA, BW_LINK_VERSION, 1, (uint16_t)sizeof payload, payload,
                          sizeof payload);
    size_t n = wrap(body, len, wire);
    feed(wire, n, &r);
    assert_int_equal(r.errors, 2);
    assert_int_equal(r.last_error, BW_LINK_E_TOO_LONG);
    assert_int_equal(r.frames, 0);

    /* An absurd length field on a short frame. */
    len = raw_body(body, BW_LINK_DATA, BW_LINK_VERSION, 1, 0xFFFF, payload, 8);
    n = wrap(body, len, wire);
    feed(wire, n, &r);
    assert_int_equal(r.last_error, BW_LINK_E_LENGTH);
    assert_int_equal(r.frames, 0);

    /* The decoder is ready for a good frame at once. */
    n = bw_link_encode(BW_LINK_HELLO, 2, NULL, 0, wire, sizeof wire);
    feed(wire, n, &r);
    assert_int_equal(r.frames, 1);
}

static void test_bad_crc(void **state)
{
    (void)state;
    uint8_t payload[16] = { 1, 2, 3, 4 };
    uint8_t body[64];
    size_t len = raw_body(body, BW_LINK_DATA, BW_LINK_VERSION, 5, sizeof payload, payload,
                          sizeof payload);
    for (size_t bit = 0; bit < len * 8; bit += 7) {
        uint8_t flipped[64];
        memcpy(flipped, body, len);
        flipped[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        uint8_t wire[160];
        size_t n = wrap(flipped, len, wire);
        feed_result r = {0};
        feed(wire, n, &r);
        assert_int_equal(r.frames, 0);
        assert_int_equal(r.errors, 1);
        assert_int_equal(r.last_error, BW_LINK_E_CRC);
    }
}

static void test_bad_escapes_length_and_version(void **state)
{
    (void)state;
    feed_result r = {0};
    const uint8_t bad_escape[] = { BW_LINK_END, 0x01, BW_LINK_ESC, 0x01, 0x02, BW_LINK_END };
    feed(bad_escape, sizeof bad_escape, &r);
    assert_int_equal(r.errors, 1);
    assert_int_equal(r.last_error, BW_LINK_E_ESCAPE);
    const uint8_t esc_end[] = { 0x01, 0x02, BW_LINK_ESC, BW_LINK_END };
    feed(esc_end, sizeof esc_end, &r);
    assert_int_equal(r.errors, 2);
    assert_int_equal(r.last_error, BW_LINK_E_ESCAPE);

    uint8_t payload[8] = {0};
    uint8_t body[64], wire[160];
    size_t len = raw_body(body, BW_LINK_DATA, BW_LINK_VERSION, 1, 7, payload, sizeof payload);
    feed(wire, wrap(body, len, wire), &r);
    assert_int_equal(r.last_error, BW_LINK_E_LENGTH);
    len = raw_body(body, BW_LINK_DATA, 2, 1, sizeof payload, payload, sizeof payload);
    feed(wire, wrap(body, len, wire), &r);
    assert_int_equal(r.last_error, BW_LINK_E_VERSION);
    assert_int_equal(r.errors, 4);
    assert_int_equal(r.frames, 0);
    for (int e = 0; e <= BW_LINK_E_COUNT; e++) {
        assert_non_null(bw_link_error_text((bw_link_error)e));
    }
}

static void test_encoder_bounds(void **state)
{
    (void)state;
    static uint8_t payload[BW_LINK_PAYLOAD_MAX + 1];
    static uint8_t wire[BW_LINK_ENCODED_MAX + 16];
    assert_int_equal(bw_link_encode(BW_LINK_DATA, 1, payload, sizeof payload, wire, sizeof wire), 0);
    /* Too small an output buffer: 0, and nothing written past its end. */
    memset(wire, 0xEE, sizeof wire);
    memset(payload, BW_LINK_ESC, 8);
    for (size_t size = 0; size < 30; size++) {
        memset(wire, 0xEE, sizeof wire);
        size_t n = bw_link_encode(BW_LINK_DATA, 1, payload, 8, wire, size);
        assert_true(n == 0 || n <= size);
        assert_int_equal(wire[size], 0xEE);
        if (size < 28) {
            assert_int_equal(n, 0);   /* 2 ENDs + 6 + 16 escaped + 4 CRC needs 28 */
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_crc32_matches_zlib, setup),
        cmocka_unit_test_setup(test_round_trip_with_escapes, setup),
        cmocka_unit_test_setup(test_empty_and_largest_payloads, setup),
        cmocka_unit_test_setup(test_back_to_back_frames, setup),
        cmocka_unit_test_setup(test_garbage_then_recovery, setup),
        cmocka_unit_test_setup(test_truncated_frames, setup),
        cmocka_unit_test_setup(test_oversized_frame, setup),
        cmocka_unit_test_setup(test_bad_crc, setup),
        cmocka_unit_test_setup(test_bad_escapes_length_and_version, setup),
        cmocka_unit_test_setup(test_encoder_bounds, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
