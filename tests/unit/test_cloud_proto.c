/*
 * The cloud protocol's messages on the device side (bw_cloud_proto.h,
 * docs/SPEC.md §13.2): STATUS and CRASH byte for byte as the spec's tables
 * say; LOG batches hold whole lines only and never exceed their buffer or
 * 1400 bytes; TIME is refused for any other version, type, length, nonzero
 * padding or a time before 2020; topics are built only from a clean ID.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "bw_cloud_proto.h"

#define ID "BW00112233445566778899AABBCCDDEEFF"

static void status_layout(void **state)
{
    (void)state;
    bw_cloud_status s = { .online = true, .wake_reason = 8, .boot_id = 0x04030201u,
                          .connection_id = 0x08070605u, .kernel_version = 0x00010200u,
                          .app_version = 7, .uptime_s = 300, .log_lines_lost = 2,
                          .crashes_since_boot = 3, .newest_crash_sequence = 41 };
    uint8_t out[BW_CLOUD_STATUS_SIZE];
    memset(out, 0xAA, sizeof out);
    bw_cloud_encode_status(&s, out);
    static const uint8_t expected[BW_CLOUD_STATUS_SIZE] = {
        1, 1, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, 0x02, 0x01, 0x00, 7, 0, 0, 0,
        0x2C, 0x01, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 41, 0, 0, 0, 0, 0, 0, 0 };
    assert_memory_equal(out, expected, sizeof expected);
}

static void crash_layout(void **state)
{
    (void)state;
    uint8_t record[BW_CLOUD_CRASH_RECORD];
    for (size_t i = 0; i < sizeof record; i++) {
        record[i] = (uint8_t)i;
    }
    uint8_t out[BW_CLOUD_CRASH_SIZE];
    bw_cloud_encode_crash(0xA1B2C3D4u, record, out);
    static const uint8_t head[8] = { 1, 3, 0, 0, 0xD4, 0xC3, 0xB2, 0xA1 };
    assert_memory_equal(out, head, sizeof head);
    assert_memory_equal(out + 8, record, sizeof record);
}

static void log_batches(void **state)
{
    (void)state;
    uint8_t buf[64];
    bw_cloud_log_batch batch;
    assert_int_equal(bw_cloud_log_begin(&batch, buf, 18, 1, 2), BW_E_SIZE);
    assert_int_equal(bw_cloud_log_begin(&batch, buf, sizeof buf, 0x11223344u, 5), BW_OK);
    assert_int_equal(bw_cloud_log_finish(&batch), 0);
    uint8_t *text = bw_cloud_log_add(&batch, 1000, 5);
    assert_non_null(text);
    memcpy(text, "hello", 5);
    text = bw_cloud_log_add(&batch, 2000, 0);
    assert_non_null(text);
    /* 12 + 11 + 6 = 29 used; 35 left; a 30-byte line needs 36. */
    assert_null(bw_cloud_log_add(&batch, 3000, 30));
    assert_non_null(bw_cloud_log_add(&batch, 3000, 29));
    assert_int_equal(bw_cloud_log_finish(&batch), 64);
    static const uint8_t head[] = { 1, 2, 3, 0, 0x44, 0x33, 0x22, 0x11, 5, 0, 0, 0,
                                    0xE8, 0x03, 0, 0, 5, 0, 'h', 'e', 'l', 'l', 'o',
                                    0xD0, 0x07, 0, 0, 0, 0 };
    assert_memory_equal(buf, head, sizeof head);
    static uint8_t big[4096];
    assert_int_equal(bw_cloud_log_begin(&batch, big, sizeof big, 1, 0), BW_OK);
    assert_null(bw_cloud_log_add(&batch, 0, BW_CLOUD_LOG_LINE_MAX + 1));
    assert_non_null(bw_cloud_log_add(&batch, 0, BW_CLOUD_LOG_LINE_MAX));
    assert_null(bw_cloud_log_add(&batch, 0, BW_CLOUD_LOG_MAX - BW_CLOUD_LOG_HEADER
                                 - 2 * BW_CLOUD_LOG_LINE_HEADER - BW_CLOUD_LOG_LINE_MAX + 1));
    assert_true(bw_cloud_log_finish(&batch) <= BW_CLOUD_LOG_MAX);
}

/* DEBUG_DOWN (SPEC §21.5): 8 + L bytes, L 1..512, exchange ID not 0. */
static void debug_decoding(void **state)
{
    (void)state;
    uint8_t msg[8 + BW_CLOUD_DEBUG_MAX + 1] = { 1, 0x86, 3, 0, 7, 0, 0, 0, 'a', 'b', 'c' };
    bw_cloud_down down;
    assert_int_equal(bw_cloud_decode_down(msg, 11, &down), BW_OK);
    assert_int_equal(down.type, BW_CLOUD_TYPE_DEBUG_DOWN);
    assert_int_equal(down.debug.exchange, 7);
    assert_int_equal(down.debug.length, 3);
    assert_memory_equal(down.debug.data, "abc", 3);
    assert_int_equal(bw_cloud_decode_down(msg, 10, &down), BW_E_SIZE);    /* shorter than 8 + L */
    assert_int_equal(bw_cloud_decode_down(msg, 12, &down), BW_E_SIZE);    /* longer */
    assert_int_equal(bw_cloud_decode_down(msg, 7, &down), BW_E_SIZE);
    msg[4] = 0;                                                             /* X = 0 */
    assert_int_equal(bw_cloud_decode_down(msg, 11, &down), BW_E_INVALID);
    msg[4] = 7;
    msg[2] = 0;                                                             /* L = 0 */
    assert_int_equal(bw_cloud_decode_down(msg, 8, &down), BW_E_INVALID);
    msg[2] = (uint8_t)(BW_CLOUD_DEBUG_MAX + 1);                             /* L = 513 */
    msg[3] = (uint8_t)((BW_CLOUD_DEBUG_MAX + 1) >> 8);
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_E_INVALID);
    uint8_t up[BW_CLOUD_DEBUG_HEADER];
    bw_cloud_encode_debug_up(0x01020304u, 300, up);
    const uint8_t expect[] = { 1, 8, 0x2c, 0x01, 4, 3, 2, 1 };
    assert_memory_equal(up, expect, sizeof up);
}

static void time_decoding(void **state)
{
    (void)state;
    uint8_t msg[BW_CLOUD_TIME_SIZE] = { 1, 0x81, 0, 0 };
    uint64_t ms = 1796083200123ull;   /* 2026-12-01 */
    for (int i = 0; i < 8; i++) {
        msg[4 + i] = (uint8_t)(ms >> (8 * i));
    }
    bw_cloud_down down;
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_OK);
    assert_int_equal(down.type, BW_CLOUD_TYPE_TIME);
    assert_true(down.utc_ms == ms);
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg - 1, &down), BW_E_SIZE);
    assert_int_equal(bw_cloud_decode_down(msg, 1, &down), BW_E_SIZE);
    msg[0] = 2;
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_E_VERSION);
    msg[0] = 1;
    msg[1] = 0x8F;                    /* a type this version does not know */
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_E_INVALID);
    msg[1] = 0x82;                    /* DEPLOY, with TIME's length */
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_E_SIZE);
    msg[1] = 0x81;
    msg[3] = 1;
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_E_INVALID);
    msg[3] = 0;
    uint64_t early = BW_CLOUD_TIME_MIN_MS - 1u;
    for (int i = 0; i < 8; i++) {
        msg[4 + i] = (uint8_t)(early >> (8 * i));
    }
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_E_INVALID);
    memset(msg + 4, 0xFF, 8);
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_E_INVALID);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* DEPLOY (§15): fields as sent; a head outside §6's bounds or not inside its
 * bundle, an unknown kind, a reserved byte, and a length other than 52 are
 * refused; kind 1 is a kernel deployment. */
static void deploy_decoding(void **state)
{
    (void)state;
    uint8_t msg[BW_CLOUD_DEPLOY_SIZE] = { 1, 0x82 };
    put32(msg + 4, 7);
    put32(msg + 8, 3);
    put32(msg + 12, 50000);
    put32(msg + 16, 420);
    memset(msg + 20, 0xAB, 32);
    bw_cloud_down down;
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_OK);
    assert_int_equal(down.type, BW_CLOUD_TYPE_DEPLOY);
    assert_int_equal(down.deploy.deployment_id, 7);
    assert_int_equal(down.deploy.app_version, 3);
    assert_int_equal(down.deploy.bundle_size, 50000);
    assert_int_equal(down.deploy.head_len, 420);
    assert_int_equal(down.deploy.head_sha256[31], 0xAB);
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg - 1, &down), BW_E_SIZE);
    put32(msg + 16, 4197);                           /* head longer than BW_BUNDLE_HEAD_MAX */
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_E_INVALID);
    put32(msg + 16, 100);                            /* no manifest */
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_E_INVALID);
    put32(msg + 16, 50000);                          /* no layer bytes */
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_E_INVALID);
    put32(msg + 16, 420);
    assert_int_equal(down.deploy.kind, BW_CLOUD_DEPLOY_APP);
    msg[2] = 1;                                      /* a kernel */
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_OK);
    assert_int_equal(down.deploy.kind, BW_CLOUD_DEPLOY_KERNEL);
    msg[2] = 2;                                      /* unknown kind */
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_E_INVALID);
    msg[2] = 0;
    msg[3] = 1;                                      /* reserved */
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_E_INVALID);
    memset(msg + 2, 0, 18);                          /* no target: all zero */
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_OK);
    assert_int_equal(down.deploy.deployment_id, 0);
    put32(msg + 8, 3);                               /* no target, but a version */
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_E_INVALID);
    put32(msg + 8, 0);
    msg[2] = 1;                                      /* no target, but a kind */
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_E_INVALID);
}

/* CHUNK (§15): the bytes are exactly the announced length, at most 1792,
 * and only with status 0; statuses 1-3 carry none; others are refused. */
static void chunk_decoding(void **state)
{
    (void)state;
    static uint8_t msg[BW_CLOUD_CHUNK_HEADER + BW_CLOUD_CHUNK_MAX + 1];
    memset(msg, 0, sizeof msg);
    msg[0] = 1;
    msg[1] = 0x83;
    put32(msg + 4, 9);
    put32(msg + 8, 4096);
    msg[12] = 0x00;
    msg[13] = 0x07;                                  /* 1792 */
    bw_cloud_down down;
    assert_int_equal(bw_cloud_decode_down(msg, 16 + 1792, &down), BW_OK);
    assert_int_equal(down.type, BW_CLOUD_TYPE_CHUNK);
    assert_int_equal(down.chunk.deployment_id, 9);
    assert_int_equal(down.chunk.offset, 4096);
    assert_int_equal(down.chunk.length, 1792);
    assert_ptr_equal(down.chunk.data, msg + 16);
    assert_int_equal(bw_cloud_decode_down(msg, 16 + 1791, &down), BW_E_SIZE);
    assert_int_equal(bw_cloud_decode_down(msg, 16 + 1793, &down), BW_E_SIZE);
    msg[12] = 0x01;                                  /* 1793 > BW_OTA_CHUNK */
    assert_int_equal(bw_cloud_decode_down(msg, 16 + 1793, &down), BW_E_INVALID);
    msg[12] = 0;
    msg[13] = 0;                                     /* status 0 without bytes */
    assert_int_equal(bw_cloud_decode_down(msg, 16, &down), BW_E_INVALID);
    msg[2] = 1;                                      /* no such deployment */
    assert_int_equal(bw_cloud_decode_down(msg, 16, &down), BW_OK);
    assert_int_equal(down.chunk.status, BW_CLOUD_CHUNK_NO_DEPLOY);
    msg[12] = 4;                                     /* ... carrying bytes */
    assert_int_equal(bw_cloud_decode_down(msg, 20, &down), BW_E_INVALID);
    msg[12] = 0;
    msg[2] = 4;                                      /* unknown status */
    assert_int_equal(bw_cloud_decode_down(msg, 16, &down), BW_E_INVALID);
    msg[2] = 1;
    msg[15] = 1;                                     /* reserved */
    assert_int_equal(bw_cloud_decode_down(msg, 16, &down), BW_E_INVALID);
}

/* FETCH and UPDATE as §15 lays them out. */
static void fetch_and_update_encoding(void **state)
{
    (void)state;
    uint8_t fetch[BW_CLOUD_FETCH_SIZE];
    bw_cloud_encode_fetch(0x01020304u, 0x0A0B0C0Du, 1792, fetch);
    static const uint8_t want[BW_CLOUD_FETCH_SIZE] = { 1, 4, 0x00, 0x07, 4, 3, 2, 1, 0x0D, 0x0C, 0x0B, 0x0A };
    assert_memory_equal(fetch, want, sizeof want);

    uint8_t out[BW_CLOUD_UPDATE_MAX];
    bw_cloud_update u = { .state = 5, .engine_error = 1, .manifest_error = 9, .rollback_cause = 0,
                          .deployment_id = 7, .app_version = 3, .held = 420, .bundle_size = 50000 };
    size_t n = bw_cloud_encode_update(&u, "bad signature", out);
    assert_int_equal(n, 24 + 13);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 5);
    assert_int_equal(out[2], 5);
    assert_int_equal(out[3], 1);
    assert_int_equal(out[4], 7);
    assert_int_equal(out[8], 3);
    assert_int_equal(out[12] | out[13] << 8, 420);
    assert_int_equal(out[16] | out[17] << 8, 50000);
    assert_int_equal(out[20], 9);
    assert_int_equal(out[22], 13);
    assert_memory_equal(out + 24, "bad signature", 13);
    char long_text[300];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[299] = '\0';
    assert_int_equal(bw_cloud_encode_update(&u, long_text, out), 24 + 200);   /* text capped */
    assert_int_equal(bw_cloud_encode_update(&u, NULL, out), 24);
}

/* §16.1: HTTP_RESPONSE decoding and HTTP_REQUEST's header. */
static void http_pieces(void **state)
{
    (void)state;
    uint8_t msg[16 + 3] = { 1, 0x84, 3, 0, 7, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 'a', 'b', 'c' };
    bw_cloud_down down;
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_OK);
    assert_int_equal(down.type, BW_CLOUD_TYPE_HTTP_RESPONSE);
    assert_int_equal(down.http.request_id, 7);
    assert_int_equal(down.http.offset, 2);
    assert_int_equal(down.http.total, 5);
    assert_int_equal(down.http.length, 3);
    assert_ptr_equal(down.http.data, msg + 16);
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg - 1, &down), BW_E_SIZE);
    msg[12] = 4;                      /* ends past its stream */
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_E_INVALID);
    msg[12] = 5;
    msg[4] = 0;                       /* request ID 0 */
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_E_INVALID);
    msg[4] = 7;
    msg[2] = 0;                       /* an empty piece */
    assert_int_equal(bw_cloud_decode_down(msg, 16, &down), BW_E_INVALID);
    msg[2] = 0x01;
    msg[3] = 0x07;                    /* 1793 bytes: above BW_CLOUD_HTTP_PIECE_MAX */
    assert_int_equal(bw_cloud_decode_down(msg, sizeof msg, &down), BW_E_INVALID);
    uint8_t head[BW_CLOUD_HTTP_HEADER];
    bw_cloud_http_piece piece = { .request_id = 0x01020304u, .offset = 5, .total = 0x10000u, .length = 1792 };
    bw_cloud_encode_http_request(&piece, head);
    static const uint8_t expected[16] = { 1, 6, 0x00, 0x07, 4, 3, 2, 1, 5, 0, 0, 0, 0, 0, 1, 0 };
    assert_memory_equal(head, expected, sizeof expected);
}

static void topics(void **state)
{
    (void)state;
    char topic[BW_CLOUD_TOPIC_MAX];
    assert_int_equal(bw_cloud_topic(topic, ID, "up/status"), 3 + 34 + 1 + 9);
    assert_string_equal(topic, "bw/" ID "/up/status");
    assert_int_equal(bw_cloud_topic(topic, "BW00112233445566778899AABBCCDDEE/+", "up/log"), 0);
    assert_int_equal(bw_cloud_topic(topic, "BW00112233445566778899AABBCCDDEE#F", "up/log"), 0);
    char shorter[35] = "BW0011";
    assert_int_equal(bw_cloud_topic(topic, shorter, "up/log"), 0);
    assert_int_equal(bw_cloud_topic(topic, ID, "a-suffix-that-is-far-too-long-for-a-topic"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_layout),
        cmocka_unit_test(crash_layout),
        cmocka_unit_test(log_batches),
        cmocka_unit_test(time_decoding),
        cmocka_unit_test(debug_decoding),
        cmocka_unit_test(deploy_decoding),
        cmocka_unit_test(chunk_decoding),
        cmocka_unit_test(fetch_and_update_encoding),
        cmocka_unit_test(http_pieces),
        cmocka_unit_test(topics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
