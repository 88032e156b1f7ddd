/*
 * MQTT 3.1.1 packets as the kernel's client uses them (docs/SPEC.md §13.3):
 * encoders for what a client sends (CONNECT, PUBLISH, PUBACK, SUBSCRIBE,
 * UNSUBSCRIBE, PINGREQ, DISCONNECT) into a caller buffer, and an incremental
 * decoder for what a server sends (CONNACK, PUBLISH, PUBACK, SUBACK,
 * UNSUBACK, PINGRESP).
 *
 * The decoder owns one static buffer of BW_MQTT_RX_MAX body bytes and never
 * reads past the packet it is assembling: it says how many bytes it wants
 * next (bw_mqtt_decoder_space) so a stream can be read straight into it.
 * Every server byte is untrusted: a packet is handed out only after all of
 * its fields passed the checks of MQTT 3.1.1 that apply to a server's
 * packets; anything else is a bw_mqtt_error, after which the decoder stays
 * failed (MQTT cannot resynchronise: the connection must be closed).
 */
#ifndef BW_MQTT_CODEC_H
#define BW_MQTT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"
#include "bw_net_config.h"

/* Control packet types (the high nibble of the first byte). */
typedef enum bw_mqtt_type {
    BW_MQTT_CONNECT = 1,
    BW_MQTT_CONNACK = 2,
    BW_MQTT_PUBLISH = 3,
    BW_MQTT_PUBACK = 4,
    BW_MQTT_SUBSCRIBE = 8,
    BW_MQTT_SUBACK = 9,
    BW_MQTT_UNSUBSCRIBE = 10,
    BW_MQTT_UNSUBACK = 11,
    BW_MQTT_PINGREQ = 12,
    BW_MQTT_PINGRESP = 13,
    BW_MQTT_DISCONNECT = 14,
} bw_mqtt_type;

/* CONNACK return codes (MQTT 3.1.1 §3.2.2.3). */
typedef enum bw_mqtt_connack_code {
    BW_MQTT_CONNACK_ACCEPTED = 0,
    BW_MQTT_CONNACK_BAD_PROTOCOL = 1,     /* protocol level not supported */
    BW_MQTT_CONNACK_BAD_CLIENT_ID = 2,    /* identifier rejected */
    BW_MQTT_CONNACK_UNAVAILABLE = 3,      /* server unavailable */
    BW_MQTT_CONNACK_BAD_CREDENTIALS = 4,  /* bad user name or password */
    BW_MQTT_CONNACK_NOT_AUTHORIZED = 5,
} bw_mqtt_connack_code;

#define BW_MQTT_SUBACK_FAILURE 0x80u

/* Why a server's bytes were refused. The decoder stops at the first one. */
typedef enum bw_mqtt_error {
    BW_MQTT_E_NONE = 0,
    BW_MQTT_E_TYPE,          /* a type a server never sends, or one this client never asks for */
    BW_MQTT_E_FLAGS,         /* fixed-header flags other than the type requires (DUP on QoS 0 too) */
    BW_MQTT_E_QOS,           /* PUBLISH with QoS 2 (never subscribed for) or 3 (malformed) */
    BW_MQTT_E_LENGTH_ENCODING, /* remaining length continues past its 4th byte */
    BW_MQTT_E_TOO_BIG,       /* remaining length above BW_MQTT_RX_MAX */
    BW_MQTT_E_SIZE,          /* remaining length wrong for the type, or a field overruns it */
    BW_MQTT_E_UTF8,          /* topic not well-formed UTF-8, or contains U+0000 */
    BW_MQTT_E_TOPIC,         /* topic empty or containing a wildcard (+ #) */
    BW_MQTT_E_PACKET_ID,     /* packet identifier 0 where one is required */
    BW_MQTT_E_CONNACK,       /* reserved flag bits, unknown return code, or session present on a refusal */
    BW_MQTT_E_SUBACK,        /* a return code other than 0, 1, 2 or 0x80 */
    BW_MQTT_E_UNEXPECTED,    /* session level: a valid packet that may not come now */
    BW_MQTT_E_COUNT
} bw_mqtt_error;

/* A decoded server packet. Pointers point into the decoder's buffer and are
 * valid until the next bw_mqtt_decoder_space/commit/feed call. */
typedef struct bw_mqtt_packet {
    bw_mqtt_type type;
    uint16_t packet_id;          /* PUBLISH QoS 1, PUBACK, SUBACK, UNSUBACK; else 0 */
    /* CONNACK */
    bool session_present;
    uint8_t connack_code;        /* bw_mqtt_connack_code, always 0..5 */
    /* PUBLISH */
    uint8_t qos;                 /* 0 or 1 */
    bool dup;
    bool retain;
    uint16_t topic_len;
    const uint8_t *topic;        /* not terminated; checked UTF-8, no U+0000, no wildcards */
    size_t payload_len;
    const uint8_t *payload;
    /* SUBACK: one return code per filter, each 0, 1, 2 or 0x80 */
    size_t code_count;
    const uint8_t *codes;
} bw_mqtt_packet;

typedef struct bw_mqtt_decoder {
    uint8_t body[BW_MQTT_RX_MAX];
    uint8_t first;               /* the fixed header's first byte, once read */
    uint8_t stage;               /* private: what the next bytes are */
    uint8_t length_bytes;        /* remaining-length bytes read so far */
    uint32_t remaining;          /* the body length (being read: the value so far) */
    uint32_t fill;               /* body bytes in body[] */
    bw_mqtt_error error;         /* sticky once set */
} bw_mqtt_decoder;

typedef enum bw_mqtt_decode_status {
    BW_MQTT_DECODE_MORE,         /* no packet completed; feed more bytes */
    BW_MQTT_DECODE_PACKET,       /* *packet holds a complete, valid packet */
    BW_MQTT_DECODE_ERROR,        /* refused: bw_mqtt_decoder_error says why */
} bw_mqtt_decode_status;

/* Resets the decoder to "before a packet", clearing any error. */
void bw_mqtt_decoder_init(bw_mqtt_decoder *d);

/* Where the next received bytes go, and in *want how many the decoder takes
 * at most (never past the current packet). *want is 0 once failed. */
uint8_t *bw_mqtt_decoder_space(bw_mqtt_decoder *d, size_t *want);

/* Takes n (≤ *want) bytes just written at bw_mqtt_decoder_space. On PACKET
 * fills *packet and starts the next packet. */
bw_mqtt_decode_status bw_mqtt_decoder_commit(bw_mqtt_decoder *d, size_t n,
                                             bw_mqtt_packet *packet);

/* Copies bytes from data[len] into the decoder until a packet completes, an
 * error occurs or data runs out; *used says how many were taken. */
bw_mqtt_decode_status bw_mqtt_decoder_feed(bw_mqtt_decoder *d, const uint8_t *data, size_t len,
                                           size_t *used, bw_mqtt_packet *packet);

/* The error that failed the decoder (BW_MQTT_E_NONE if it has not). */
bw_mqtt_error bw_mqtt_decoder_error(const bw_mqtt_decoder *d);

/* Short fixed text for an error, e.g. "packet larger than the receive buffer". */
const char *bw_mqtt_error_text(bw_mqtt_error error);

/* Short fixed text for a CONNACK return code (any value). */
const char *bw_mqtt_connack_text(uint8_t code);

/* ---- encoders: each writes one packet into out[size] and its length into
 * *len. BW_E_SIZE when it does not fit (nothing usable written), BW_E_INVALID
 * for an argument MQTT forbids (QoS > 1, packet id 0, a string that is not
 * valid UTF-8 or longer than 65535 bytes, a bad topic or filter). ---- */

/* What CONNECT carries. Strings are (pointer, length), not terminated. */
typedef struct bw_mqtt_connect_opts {
    const char *client_id;
    size_t client_id_len;
    const char *user_name;       /* NULL: no user name */
    size_t user_name_len;
    const char *will_topic;      /* NULL: no will */
    size_t will_topic_len;
    const uint8_t *will_payload;
    size_t will_len;             /* ≤ 65535 */
    uint8_t will_qos;            /* 0 or 1 */
    bool will_retain;
    bool clean_session;
    uint16_t keepalive_s;        /* 0 disables keepalive */
} bw_mqtt_connect_opts;

bw_err bw_mqtt_encode_connect(const bw_mqtt_connect_opts *o, uint8_t *out, size_t size,
                              size_t *len);

/* PUBLISH to a topic name (no wildcards). packet_id is used (and must be
 * non-zero) only for QoS 1; dup only with QoS 1. */
bw_err bw_mqtt_encode_publish(const char *topic, size_t topic_len, const uint8_t *payload,
                              size_t payload_len, uint8_t qos, bool dup, bool retain,
                              uint16_t packet_id, uint8_t *out, size_t size, size_t *len);

bw_err bw_mqtt_encode_puback(uint16_t packet_id, uint8_t *out, size_t size, size_t *len);

/* SUBSCRIBE to count (≥ 1) topic filters, filters[i] of lengths[i] bytes at qos[i] (0 or 1). */
bw_err bw_mqtt_encode_subscribe(uint16_t packet_id, const char *const *filters,
                                const size_t *lengths, const uint8_t *qos, size_t count,
                                uint8_t *out, size_t size, size_t *len);

bw_err bw_mqtt_encode_unsubscribe(uint16_t packet_id, const char *const *filters,
                                  const size_t *lengths, size_t count, uint8_t *out,
                                  size_t size, size_t *len);

bw_err bw_mqtt_encode_pingreq(uint8_t *out, size_t size, size_t *len);

bw_err bw_mqtt_encode_disconnect(uint8_t *out, size_t size, size_t *len);

/* ---- string checks shared with the session ---- */

/* True when s[len] is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, ≤ U+10FFFF) without U+0000. */
bool bw_mqtt_utf8_valid(const uint8_t *s, size_t len);

/* True when s[len] is a valid topic name to publish to: 1..65535 bytes of
 * bw_mqtt_utf8_valid text without + or #. */
bool bw_mqtt_topic_name_valid(const char *s, size_t len);

/* True when s[len] is a valid topic filter: as a name, but + may fill a
 * whole level and # may be the whole last level. */
bool bw_mqtt_topic_filter_valid(const char *s, size_t len);

#endif
