/*
 * MQTT 3.1.1 codec (bw_mqtt_codec.h). Promises: each encoder writes the
 * bytes MQTT 3.1.1 defines (vectors worked out by hand from the spec's
 * figures), refuses arguments MQTT forbids and never writes past its buffer;
 * the decoder hands out exactly the packets a server may send, whatever the
 * chunking, and refuses every malformed one with the named error, staying
 * failed after it until re-initialised.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bw_mqtt_codec.h"

static bw_mqtt_decoder decoder;

/* Feeds bytes in chunks of `chunk` (0: all at once); returns the status of
 * the first packet or error, with *packet filled. */
static bw_mqtt_decode_status decode(const uint8_t *bytes, size_t len, size_t chunk,
                                    bw_mqtt_packet *packet)
{
    bw_mqtt_decoder_init(&decoder);
    size_t off = 0;
    while (off < len) {
        size_t n = chunk == 0 || chunk > len - off ? len - off : chunk;
        size_t used;
        bw_mqtt_decode_status st = bw_mqtt_decoder_feed(&decoder, bytes + off, n, &used, packet);
        assert_true(used <= n);
        off += used;
        if (st != BW_MQTT_DECODE_MORE) {
            return st;
        }
    }
    return BW_MQTT_DECODE_MORE;
}

static bw_mqtt_error decode_error(const uint8_t *bytes, size_t len)
{
    bw_mqtt_packet p;
    /* Same verdict whether the bytes come at once or one by one. */
    assert_int_equal(decode(bytes, len, 1, &p), BW_MQTT_DECODE_ERROR);
    bw_mqtt_error one = bw_mqtt_decoder_error(&decoder);
    assert_int_equal(decode(bytes, len, 0, &p), BW_MQTT_DECODE_ERROR);
    assert_int_equal(bw_mqtt_decoder_error(&decoder), one);
    assert_string_not_equal(bw_mqtt_error_text(one), "unknown error");
    return one;
}

#define DECODE_ERROR(err, ...)                                         \
    do {                                                               \
        static const uint8_t b_[] = { __VA_ARGS__ };                   \
        assert_int_equal(decode_error(b_, sizeof b_), (err));          \
    } while (0)

/* ---- encoders ---- */

static void encode_connect_minimal(void **state)
{
    (void)state;
    static const uint8_t want[] = { 0x10, 0x10, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60,
                                    0, 4, 'B', 'W', '0', '1' };
    bw_mqtt_connect_opts o = { .client_id = "BW01", .client_id_len = 4, .clean_session = true,
                               .keepalive_s = 60 };
    uint8_t out[64];
    size_t len = 0;
    assert_int_equal(bw_mqtt_encode_connect(&o, out, sizeof out, &len), BW_OK);
    assert_int_equal(len, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    /* One byte short: refused; exact size: fits. */
    assert_int_equal(bw_mqtt_encode_connect(&o, out, sizeof want - 1, &len), BW_E_SIZE);
    assert_int_equal(bw_mqtt_encode_connect(&o, out, sizeof want, &len), BW_OK);
}

static void encode_connect_will_user(void **state)
{
    (void)state;
    /* flags: user 0x80, will QoS 1 0x08, will 0x04, clean 0x02 = 0x8E; body
     * 10 + (2+4) + (2+14) + (2+2) + (2+1) = 39. */
    static const uint8_t want[] = {
        0x10, 39, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x8E, 0, 30,
        0, 4, 'B', 'W', '0', '1',
        0, 14, 'b', 'w', '/', 'D', '/', 'u', 'p', '/', 's', 't', 'a', 't', 'u', 's',
        0, 2, 0x01, 0x00,
        0, 1, 'u',
    };
    static const uint8_t will[] = { 1, 0 };
    bw_mqtt_connect_opts o = { .client_id = "BW01", .client_id_len = 4, .user_name = "u",
                               .user_name_len = 1, .will_topic = "bw/D/up/status",
                               .will_topic_len = 14, .will_payload = will, .will_len = 2,
                               .will_qos = 1, .clean_session = true, .keepalive_s = 30 };
    uint8_t out[64];
    size_t len = 0;
    assert_int_equal(bw_mqtt_encode_connect(&o, out, sizeof out, &len), BW_OK);
    assert_int_equal(len, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    /* Will retain sets 0x20. */
    o.will_retain = true;
    assert_int_equal(bw_mqtt_encode_connect(&o, out, sizeof out, &len), BW_OK);
    assert_int_equal(out[9], 0xAE);
    /* Forbidden: will QoS 2, a wildcard will topic, empty id without clean session. */
    o.will_qos = 2;
    assert_int_equal(bw_mqtt_encode_connect(&o, out, sizeof out, &len), BW_E_INVALID);
    o.will_qos = 1;
    o.will_topic = "bw/+/up";
    o.will_topic_len = 7;
    assert_int_equal(bw_mqtt_encode_connect(&o, out, sizeof out, &len), BW_E_INVALID);
    bw_mqtt_connect_opts empty = { .client_id = "", .client_id_len = 0 };
    assert_int_equal(bw_mqtt_encode_connect(&empty, out, sizeof out, &len), BW_E_INVALID);
    empty.clean_session = true;
    assert_int_equal(bw_mqtt_encode_connect(&empty, out, sizeof out, &len), BW_OK);
    static const char bad_utf8[] = { 'B', (char)0xC0, (char)0x80 };
    bw_mqtt_connect_opts bad = { .client_id = bad_utf8, .client_id_len = 3,
                                 .clean_session = true };
    assert_int_equal(bw_mqtt_encode_connect(&bad, out, sizeof out, &len), BW_E_INVALID);
}

static void encode_publish_vectors(void **state)
{
    (void)state;
    uint8_t out[256];
    size_t len = 0;
    /* §3.3 example topic "a/b", packet id 10, QoS 1, payload "hi". */
    static const uint8_t qos1[] = { 0x32, 9, 0, 3, 'a', '/', 'b', 0, 10, 'h', 'i' };
    assert_int_equal(bw_mqtt_encode_publish("a/b", 3, (const uint8_t *)"hi", 2, 1, false, false,
                                            10, out, sizeof out, &len), BW_OK);
    assert_int_equal(len, sizeof qos1);
    assert_memory_equal(out, qos1, sizeof qos1);
    /* DUP + retain: 0x3B. */
    assert_int_equal(bw_mqtt_encode_publish("a/b", 3, (const uint8_t *)"hi", 2, 1, true, true,
                                            10, out, sizeof out, &len), BW_OK);
    assert_int_equal(out[0], 0x3B);
    /* QoS 0 has no packet id; empty payload. */
    static const uint8_t qos0[] = { 0x30, 5, 0, 3, 'a', '/', 'b' };
    assert_int_equal(bw_mqtt_encode_publish("a/b", 3, NULL, 0, 0, false, false, 0, out,
                                            sizeof out, &len), BW_OK);
    assert_int_equal(len, sizeof qos0);
    assert_memory_equal(out, qos0, sizeof qos0);
    /* Remaining length 128 takes two bytes: 0x80 0x01. */
    static uint8_t payload[125];
    assert_int_equal(bw_mqtt_encode_publish("t", 1, payload, sizeof payload, 0, false, false, 0,
                                            out, sizeof out, &len), BW_OK);
    assert_int_equal(len, 131);
    assert_int_equal(out[1], 0x80);
    assert_int_equal(out[2], 0x01);
    assert_int_equal(bw_mqtt_encode_publish("t", 1, payload, sizeof payload, 0, false, false, 0,
                                            out, 130, &len), BW_E_SIZE);
    /* Forbidden: QoS 2, QoS 1 with id 0, DUP on QoS 0, wildcards, empty topic. */
    assert_int_equal(bw_mqtt_encode_publish("a", 1, NULL, 0, 2, false, false, 1, out, sizeof out,
                                            &len), BW_E_INVALID);
    assert_int_equal(bw_mqtt_encode_publish("a", 1, NULL, 0, 1, false, false, 0, out, sizeof out,
                                            &len), BW_E_INVALID);
    assert_int_equal(bw_mqtt_encode_publish("a", 1, NULL, 0, 0, true, false, 0, out, sizeof out,
                                            &len), BW_E_INVALID);
    assert_int_equal(bw_mqtt_encode_publish("a/#", 3, NULL, 0, 0, false, false, 0, out,
                                            sizeof out, &len), BW_E_INVALID);
    assert_int_equal(bw_mqtt_encode_publish("", 0, NULL, 0, 0, false, false, 0, out, sizeof out,
                                            &len), BW_E_INVALID);
}

static void encode_small_packets(void **state)
{
    (void)state;
    uint8_t out[64];
    size_t len = 0;
    static const uint8_t puback[] = { 0x40, 2, 0, 10 };
    assert_int_equal(bw_mqtt_encode_puback(10, out, sizeof out, &len), BW_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(out, puback, 4);
    assert_int_equal(bw_mqtt_encode_puback(0, out, sizeof out, &len), BW_E_INVALID);
    assert_int_equal(bw_mqtt_encode_puback(10, out, 3, &len), BW_E_SIZE);

    const char *filters[] = { "a/b", "c/d" };
    size_t lengths[] = { 3, 3 };
    uint8_t qos[] = { 1, 0 };
    static const uint8_t sub[] = { 0x82, 14, 0, 10, 0, 3, 'a', '/', 'b', 1,
                                   0, 3, 'c', '/', 'd', 0 };
    assert_int_equal(bw_mqtt_encode_subscribe(10, filters, lengths, qos, 2, out, sizeof out,
                                              &len), BW_OK);
    assert_int_equal(len, sizeof sub);
    assert_memory_equal(out, sub, sizeof sub);
    static const uint8_t unsub[] = { 0xA2, 12, 0, 10, 0, 3, 'a', '/', 'b', 0, 3, 'c', '/', 'd' };
    assert_int_equal(bw_mqtt_encode_unsubscribe(10, filters, lengths, 2, out, sizeof out, &len),
                     BW_OK);
    assert_int_equal(len, sizeof unsub);
    assert_memory_equal(out, unsub, sizeof unsub);
    qos[1] = 2;
    assert_int_equal(bw_mqtt_encode_subscribe(10, filters, lengths, qos, 2, out, sizeof out,
                                              &len), BW_E_INVALID);
    assert_int_equal(bw_mqtt_encode_subscribe(10, filters, lengths, qos, 0, out, sizeof out,
                                              &len), BW_E_INVALID);
    const char *bad[] = { "a/#/b" };
    size_t bad_len[] = { 5 };
    assert_int_equal(bw_mqtt_encode_unsubscribe(1, bad, bad_len, 1, out, sizeof out, &len),
                     BW_E_INVALID);

    assert_int_equal(bw_mqtt_encode_pingreq(out, sizeof out, &len), BW_OK);
    assert_int_equal(len, 2);
    assert_int_equal(out[0], 0xC0);
    assert_int_equal(out[1], 0x00);
    assert_int_equal(bw_mqtt_encode_disconnect(out, sizeof out, &len), BW_OK);
    assert_int_equal(len, 2);
    assert_int_equal(out[0], 0xE0);
    assert_int_equal(out[1], 0x00);
    assert_int_equal(bw_mqtt_encode_disconnect(out, 1, &len), BW_E_SIZE);
}

static void strings(void **state)
{
    (void)state;
    assert_true(bw_mqtt_topic_filter_valid("bw/+/up/#", 9));
    assert_true(bw_mqtt_topic_filter_valid("#", 1));
    assert_true(bw_mqtt_topic_filter_valid("+", 1));
    assert_true(bw_mqtt_topic_filter_valid("/+/", 3));
    assert_false(bw_mqtt_topic_filter_valid("a/#/b", 5));
    assert_false(bw_mqtt_topic_filter_valid("a+", 2));
    assert_false(bw_mqtt_topic_filter_valid("a#", 2));
    assert_false(bw_mqtt_topic_filter_valid("", 0));
    assert_true(bw_mqtt_topic_name_valid("bw/D/up/log", 11));
    assert_false(bw_mqtt_topic_name_valid("bw/+", 4));
    /* UTF-8: 2-, 3-, 4-byte forms; overlong, surrogate, > U+10FFFF, truncated, NUL. */
    assert_true(bw_mqtt_utf8_valid((const uint8_t *)"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9));
    assert_false(bw_mqtt_utf8_valid((const uint8_t *)"\xC0\x80", 2));
    assert_false(bw_mqtt_utf8_valid((const uint8_t *)"\xE0\x80\x80", 3));
    assert_false(bw_mqtt_utf8_valid((const uint8_t *)"\xED\xA0\x80", 3));
    assert_false(bw_mqtt_utf8_valid((const uint8_t *)"\xF4\x90\x80\x80", 4));
    assert_false(bw_mqtt_utf8_valid((const uint8_t *)"\xE2\x82", 2));
    assert_false(bw_mqtt_utf8_valid((const uint8_t *)"\x80", 1));
    assert_false(bw_mqtt_utf8_valid((const uint8_t *)"a\0b", 3));
}

/* ---- decoder: good packets ---- */

static void decode_good_packets(void **state)
{
    (void)state;
    bw_mqtt_packet p;
    static const uint8_t connack[] = { 0x20, 2, 0x01, 0x00 };
    static const uint8_t refused[] = { 0x20, 2, 0x00, 0x05 };
    static const uint8_t publish[] = { 0x32, 9, 0, 3, 'a', '/', 'b', 0, 10, 'h', 'i' };
    static const uint8_t puback[] = { 0x40, 2, 0x12, 0x34 };
    static const uint8_t suback[] = { 0x90, 4, 0, 10, 0x01, 0x80 };
    static const uint8_t unsuback[] = { 0xB0, 2, 0, 7 };
    static const uint8_t pingresp[] = { 0xD0, 0 };
    static const uint8_t pingresp_long_length[] = { 0xD0, 0x80, 0x00 };  /* non-minimal 0 */
    for (size_t chunk = 0; chunk <= 3; chunk++) {
        assert_int_equal(decode(connack, sizeof connack, chunk, &p), BW_MQTT_DECODE_PACKET);
        assert_int_equal(p.type, BW_MQTT_CONNACK);
        assert_true(p.session_present);
        assert_int_equal(p.connack_code, 0);
        assert_int_equal(decode(refused, sizeof refused, chunk, &p), BW_MQTT_DECODE_PACKET);
        assert_int_equal(p.connack_code, BW_MQTT_CONNACK_NOT_AUTHORIZED);
        assert_int_equal(decode(publish, sizeof publish, chunk, &p), BW_MQTT_DECODE_PACKET);
        assert_int_equal(p.type, BW_MQTT_PUBLISH);
        assert_int_equal(p.qos, 1);
        assert_int_equal(p.packet_id, 10);
        assert_int_equal(p.topic_len, 3);
        assert_memory_equal(p.topic, "a/b", 3);
        assert_int_equal(p.payload_len, 2);
        assert_memory_equal(p.payload, "hi", 2);
        assert_int_equal(decode(puback, sizeof puback, chunk, &p), BW_MQTT_DECODE_PACKET);
        assert_int_equal(p.type, BW_MQTT_PUBACK);
        assert_int_equal(p.packet_id, 0x1234);
        assert_int_equal(decode(suback, sizeof suback, chunk, &p), BW_MQTT_DECODE_PACKET);
        assert_int_equal(p.type, BW_MQTT_SUBACK);
        assert_int_equal(p.code_count, 2);
        assert_int_equal(p.codes[0], 1);
        assert_int_equal(p.codes[1], BW_MQTT_SUBACK_FAILURE);
        assert_int_equal(decode(unsuback, sizeof unsuback, chunk, &p), BW_MQTT_DECODE_PACKET);
        assert_int_equal(p.type, BW_MQTT_UNSUBACK);
        assert_int_equal(p.packet_id, 7);
        assert_int_equal(decode(pingresp, sizeof pingresp, chunk, &p), BW_MQTT_DECODE_PACKET);
        assert_int_equal(p.type, BW_MQTT_PINGRESP);
        assert_int_equal(decode(pingresp_long_length, sizeof pingresp_long_length, chunk, &p),
                         BW_MQTT_DECODE_PACKET);
    }
    /* A retained QoS 0 PUBLISH with an empty payload. */
    static const uint8_t retained[] = { 0x31, 5, 0, 3, 'x', '/', 'y' };
    assert_int_equal(decode(retained, sizeof retained, 0, &p), BW_MQTT_DECODE_PACKET);
    assert_true(p.retain);
    assert_int_equal(p.qos, 0);
    assert_int_equal(p.packet_id, 0);
    assert_int_equal(p.payload_len, 0);
}

static void decode_back_to_back(void **state)
{
    (void)state;
    /* Three packets in one buffer: the feed stops at each packet's end. */
    static const uint8_t stream[] = { 0x20, 2, 0, 0, 0xD0, 0, 0x30, 4, 0, 1, 'a', 'Z' };
    bw_mqtt_decoder_init(&decoder);
    bw_mqtt_packet p;
    size_t used, off = 0;
    bw_mqtt_type types[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(bw_mqtt_decoder_feed(&decoder, stream + off, sizeof stream - off, &used,
                                              &p), BW_MQTT_DECODE_PACKET);
        types[i] = p.type;
        off += used;
    }
    assert_int_equal(off, sizeof stream);
    assert_int_equal(types[0], BW_MQTT_CONNACK);
    assert_int_equal(types[1], BW_MQTT_PINGRESP);
    assert_int_equal(types[2], BW_MQTT_PUBLISH);
    assert_int_equal(p.payload_len, 1);
    assert_int_equal(p.payload[0], 'Z');
    /* The zero-copy interface never asks past the current packet. */
    bw_mqtt_decoder_init(&decoder);
    size_t want;
    uint8_t *space = bw_mqtt_decoder_space(&decoder, &want);
    assert_int_equal(want, 1);
    *space = 0x30;
    assert_int_equal(bw_mqtt_decoder_commit(&decoder, 1, &p), BW_MQTT_DECODE_MORE);
    space = bw_mqtt_decoder_space(&decoder, &want);
    assert_int_equal(want, 1);
    *space = 4;
    assert_int_equal(bw_mqtt_decoder_commit(&decoder, 1, &p), BW_MQTT_DECODE_MORE);
    space = bw_mqtt_decoder_space(&decoder, &want);
    assert_int_equal(want, 4);
    memcpy(space, "\0\1aZ", 4);
    assert_int_equal(bw_mqtt_decoder_commit(&decoder, 4, &p), BW_MQTT_DECODE_PACKET);
}

static void decode_size_limit(void **state)
{
    (void)state;
    /* Exactly BW_MQTT_RX_MAX body bytes: accepted; one more: TOO_BIG as soon
     * as the length is read (the body is never waited for). */
    static uint8_t big[3 + BW_MQTT_RX_MAX];
    size_t n = BW_MQTT_RX_MAX;
    big[0] = 0x30;
    big[1] = (uint8_t)(0x80u | (n & 0x7Fu));
    big[2] = (uint8_t)(n >> 7);
    big[3] = 0;
    big[4] = 1;
    big[5] = 't';
    bw_mqtt_packet p;
    assert_int_equal(decode(big, sizeof big, 100, &p), BW_MQTT_DECODE_PACKET);
    assert_int_equal(p.payload_len, BW_MQTT_RX_MAX - 3);
    n++;
    big[1] = (uint8_t)(0x80u | (n & 0x7Fu));
    big[2] = (uint8_t)(n >> 7);
    assert_int_equal(decode(big, 3, 1, &p), BW_MQTT_DECODE_ERROR);
    assert_int_equal(bw_mqtt_decoder_error(&decoder), BW_MQTT_E_TOO_BIG);
    /* The largest length MQTT can encode: refused without overflow. */
    DECODE_ERROR(BW_MQTT_E_TOO_BIG, 0x30, 0xFF, 0xFF, 0xFF, 0x7F);
    /* A fifth length byte: malformed. */
    DECODE_ERROR(BW_MQTT_E_LENGTH_ENCODING, 0x30, 0x80, 0x80, 0x80, 0x80, 0x00);
}

static void decode_errors(void **state)
{
    (void)state;
    /* Types a server never sends us (CONNECT, PUBREC/REL/COMP, SUBSCRIBE,
     * UNSUBSCRIBE, PINGREQ, DISCONNECT, reserved 0 and 15). */
    DECODE_ERROR(BW_MQTT_E_TYPE, 0x10, 0);
    DECODE_ERROR(BW_MQTT_E_TYPE, 0x50, 2, 0, 1);
    DECODE_ERROR(BW_MQTT_E_TYPE, 0x62, 2, 0, 1);
    DECODE_ERROR(BW_MQTT_E_TYPE, 0x70, 2, 0, 1);
    DECODE_ERROR(BW_MQTT_E_TYPE, 0x82, 0);
    DECODE_ERROR(BW_MQTT_E_TYPE, 0xA2, 0);
    DECODE_ERROR(BW_MQTT_E_TYPE, 0xC0, 0);
    DECODE_ERROR(BW_MQTT_E_TYPE, 0xE0, 0);
    DECODE_ERROR(BW_MQTT_E_TYPE, 0x00, 0);
    DECODE_ERROR(BW_MQTT_E_TYPE, 0xF0, 0);
    /* Reserved flags must be 0. */
    DECODE_ERROR(BW_MQTT_E_FLAGS, 0x21, 2, 0, 0);
    DECODE_ERROR(BW_MQTT_E_FLAGS, 0x42, 2, 0, 1);
    DECODE_ERROR(BW_MQTT_E_FLAGS, 0x98, 3, 0, 1, 0);
    DECODE_ERROR(BW_MQTT_E_FLAGS, 0xB1, 2, 0, 1);
    DECODE_ERROR(BW_MQTT_E_FLAGS, 0xD4, 0);
    DECODE_ERROR(BW_MQTT_E_FLAGS, 0x38, 4, 0, 1, 'a', 'x');     /* DUP on QoS 0 */
    DECODE_ERROR(BW_MQTT_E_QOS, 0x34, 6, 0, 1, 'a', 0, 1, 'x'); /* QoS 2 */
    DECODE_ERROR(BW_MQTT_E_QOS, 0x36, 6, 0, 1, 'a', 0, 1, 'x'); /* QoS 3 */
    /* Remaining length wrong for the type. */
    DECODE_ERROR(BW_MQTT_E_SIZE, 0x20, 3, 0, 0, 0);
    DECODE_ERROR(BW_MQTT_E_SIZE, 0x20, 1, 0);
    DECODE_ERROR(BW_MQTT_E_SIZE, 0x40, 3, 0, 1, 0);
    DECODE_ERROR(BW_MQTT_E_SIZE, 0xB0, 1, 1);
    DECODE_ERROR(BW_MQTT_E_SIZE, 0x90, 2, 0, 1);
    DECODE_ERROR(BW_MQTT_E_SIZE, 0xD0, 1, 0);
    DECODE_ERROR(BW_MQTT_E_SIZE, 0x30, 1, 0);
    DECODE_ERROR(BW_MQTT_E_SIZE, 0x30, 4, 0, 5, 'a', 'b');      /* topic overruns */
    DECODE_ERROR(BW_MQTT_E_SIZE, 0x32, 4, 0, 1, 'a', 0);        /* no room for the id */
    /* CONNACK: reserved flag bits, reserved code, session present on refusal. */
    DECODE_ERROR(BW_MQTT_E_CONNACK, 0x20, 2, 0x02, 0);
    DECODE_ERROR(BW_MQTT_E_CONNACK, 0x20, 2, 0x00, 6);
    DECODE_ERROR(BW_MQTT_E_CONNACK, 0x20, 2, 0x01, 5);
    /* Packet identifiers must be non-zero. */
    DECODE_ERROR(BW_MQTT_E_PACKET_ID, 0x40, 2, 0, 0);
    DECODE_ERROR(BW_MQTT_E_PACKET_ID, 0xB0, 2, 0, 0);
    DECODE_ERROR(BW_MQTT_E_PACKET_ID, 0x90, 3, 0, 0, 1);
    DECODE_ERROR(BW_MQTT_E_PACKET_ID, 0x32, 5, 0, 1, 'a', 0, 0);
    /* SUBACK codes: only 0, 1, 2, 0x80. */
    DECODE_ERROR(BW_MQTT_E_SUBACK, 0x90, 3, 0, 1, 3);
    DECODE_ERROR(BW_MQTT_E_SUBACK, 0x90, 4, 0, 1, 0, 0x81);
    /* Topic names: UTF-8 (NUL, overlong, surrogate, truncated), empty, wildcards. */
    DECODE_ERROR(BW_MQTT_E_UTF8, 0x30, 5, 0, 3, 'a', 0, 'b');
    DECODE_ERROR(BW_MQTT_E_UTF8, 0x30, 4, 0, 2, 0xC0, 0xAF);
    DECODE_ERROR(BW_MQTT_E_UTF8, 0x30, 5, 0, 3, 0xED, 0xA0, 0x80);
    DECODE_ERROR(BW_MQTT_E_UTF8, 0x30, 4, 0, 2, 'a', 0xE2);
    DECODE_ERROR(BW_MQTT_E_TOPIC, 0x30, 3, 0, 0, 'x');
    DECODE_ERROR(BW_MQTT_E_TOPIC, 0x30, 5, 0, 3, 'a', '/', '+');
    DECODE_ERROR(BW_MQTT_E_TOPIC, 0x30, 3, 0, 1, '#');
}

static void decoder_stays_failed(void **state)
{
    (void)state;
    static const uint8_t bad[] = { 0x10, 0 };
    static const uint8_t good[] = { 0xD0, 0 };
    bw_mqtt_packet p;
    assert_int_equal(decode(bad, 1, 0, &p), BW_MQTT_DECODE_ERROR);
    size_t used, want;
    assert_int_equal(bw_mqtt_decoder_feed(&decoder, good, sizeof good, &used, &p),
                     BW_MQTT_DECODE_ERROR);
    assert_int_equal(used, 0);
    bw_mqtt_decoder_space(&decoder, &want);
    assert_int_equal(want, 0);
    assert_int_equal(bw_mqtt_decoder_error(&decoder), BW_MQTT_E_TYPE);
    (void)bad;
    bw_mqtt_decoder_init(&decoder);
    assert_int_equal(bw_mqtt_decoder_feed(&decoder, good, sizeof good, &used, &p),
                     BW_MQTT_DECODE_PACKET);
    assert_string_equal(bw_mqtt_connack_text(5), "refused: not authorized");
    assert_string_equal(bw_mqtt_connack_text(200), "refused: reserved code");
}

static void round_trip_publish(void **state)
{
    (void)state;
    /* What we encode is what a server's PUBLISH looks like: it decodes back. */
    static uint8_t payload[1500];
    for (size_t i = 0; i < sizeof payload; i++) {
        payload[i] = (uint8_t)(i * 7);
    }
    static uint8_t out[BW_MQTT_TX_MAX];
    size_t len;
    assert_int_equal(bw_mqtt_encode_publish("bw/D/down/time", 14, payload, sizeof payload, 1,
                                            true, false, 0xBEEF, out, sizeof out, &len), BW_OK);
    bw_mqtt_packet p;
    for (size_t chunk = 1; chunk < 600; chunk += 97) {
        assert_int_equal(decode(out, len, chunk, &p), BW_MQTT_DECODE_PACKET);
        assert_int_equal(p.packet_id, 0xBEEF);
        assert_true(p.dup);
        assert_int_equal(p.payload_len, sizeof payload);
        assert_memory_equal(p.payload, payload, sizeof payload);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_connect_minimal),
        cmocka_unit_test(encode_connect_will_user),
        cmocka_unit_test(encode_publish_vectors),
        cmocka_unit_test(encode_small_packets),
        cmocka_unit_test(strings),
        cmocka_unit_test(decode_good_packets),
        cmocka_unit_test(decode_back_to_back),
        cmocka_unit_test(decode_size_limit),
        cmocka_unit_test(decode_errors),
        cmocka_unit_test(decoder_stays_failed),
        cmocka_unit_test(round_trip_publish),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
