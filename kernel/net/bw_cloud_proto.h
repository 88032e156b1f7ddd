/*
 * The cloud protocol's messages (docs/SPEC.md §13.2), encoded and decoded
 * without the network: the device's STATUS, LOG and CRASH, the cloud's TIME,
 * and the per-device topic names (§13.1). Pure functions over caller
 * buffers; nothing here keeps state.
 */
#ifndef BW_CLOUD_PROTO_H
#define BW_CLOUD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"

#define BW_CLOUD_VERSION          1u
#define BW_CLOUD_TYPE_STATUS      1u
#define BW_CLOUD_TYPE_LOG         2u
#define BW_CLOUD_TYPE_CRASH       3u
#define BW_CLOUD_TYPE_TIME        0x81u
#define BW_CLOUD_TYPE_FETCH       4u       /* §15 */
#define BW_CLOUD_TYPE_UPDATE      5u
#define BW_CLOUD_TYPE_DEPLOY      0x82u
#define BW_CLOUD_TYPE_CHUNK       0x83u
#define BW_CLOUD_TYPE_HTTP_REQUEST  6u     /* §16 */
#define BW_CLOUD_TYPE_HTTP_RESPONSE 0x84u
#define BW_CLOUD_TYPE_CONFIG_REQUEST  0x10u   /* §17: pieces as §16.1 */
#define BW_CLOUD_TYPE_CONFIG_RESPONSE 0x90u
#define BW_CLOUD_TYPE_MQTT_UP       7u     /* §18: same piece layout as §16.1 */
#define BW_CLOUD_TYPE_MQTT_DOWN     0x85u
#define BW_CLOUD_TYPE_DEBUG_UP      8u     /* §21.5: session bytes, opaque to the cloud */
#define BW_CLOUD_TYPE_DEBUG_DOWN    0x86u
#define BW_CLOUD_TYPE_KEYS_ANSWER   9u     /* §13.5: the device's answer to a KEY_SET */
#define BW_CLOUD_TYPE_KEY_SET       0x87u

#define BW_CLOUD_STATUS_SIZE      40u
#define BW_CLOUD_LOG_HEADER       12u
#define BW_CLOUD_LOG_LINE_HEADER  6u
#define BW_CLOUD_LOG_MAX          1400u    /* a whole LOG payload */
#define BW_CLOUD_LOG_LINE_MAX     1024u    /* one line's text */
#define BW_CLOUD_CRASH_RECORD     448u
#define BW_CLOUD_CRASH_SIZE       (8u + BW_CLOUD_CRASH_RECORD)
#define BW_CLOUD_TIME_SIZE        12u
#define BW_CLOUD_TIME_MIN_MS      1577836800000ull   /* 2020-01-01T00:00:00Z */
#define BW_CLOUD_DEVICE_ID_LEN    34u
#define BW_CLOUD_TOPIC_MAX        64u      /* "bw/" + ID + "/down/time" and NUL fit */
#define BW_CLOUD_DEPLOY_SIZE      52u
#define BW_CLOUD_FETCH_SIZE       12u
#define BW_CLOUD_CHUNK_HEADER     16u
#define BW_CLOUD_CHUNK_MAX        1792u    /* BW_OTA_CHUNK: bundle bytes in one CHUNK */
#define BW_CLOUD_UPDATE_HEADER    24u
#define BW_CLOUD_UPDATE_TEXT_MAX  200u
#define BW_CLOUD_UPDATE_MAX       (BW_CLOUD_UPDATE_HEADER + BW_CLOUD_UPDATE_TEXT_MAX)
#define BW_CLOUD_HEAD_MAX         4196u    /* BW_BUNDLE_HEAD_MAX: a DEPLOY's head length bound */
#define BW_CLOUD_SHA256_SIZE      32u
#define BW_CLOUD_HTTP_HEADER      16u      /* §16.1: a piece's header */
#define BW_CLOUD_HTTP_PIECE_MAX   1792u    /* stream bytes in one piece */
#define BW_CLOUD_DEBUG_HEADER     8u       /* §21.5: version, type, u16 L, u32 exchange ID */
#define BW_CLOUD_DEBUG_MAX        512u     /* session bytes in one DEBUG message (BW_DEBUG_WIRE_MAX) */
#define BW_CLOUD_KEY_SET_HEADER   8u       /* §13.5: version, type, u16 N, u32 0 */
#define BW_CLOUD_KEY_SET_MIN      80u      /* a key set of 1 key (§12.4) */
#define BW_CLOUD_KEY_SET_MAX      340u     /* of 4 keys */
#define BW_CLOUD_KEYS_ANSWER_HEADER 16u
#define BW_CLOUD_KEYS_ANSWER_TEXT_MAX 200u
#define BW_CLOUD_KEYS_ANSWER_MAX  (BW_CLOUD_KEYS_ANSWER_HEADER + BW_CLOUD_KEYS_ANSWER_TEXT_MAX)

typedef struct bw_cloud_status {
    bool online;
    uint8_t wake_reason;
    uint32_t boot_id;
    uint32_t connection_id;
    uint32_t kernel_version;
    uint32_t app_version;
    uint32_t uptime_s;
    uint32_t log_lines_lost;
    uint32_t crashes_since_boot;
    uint32_t newest_crash_sequence;
    uint32_t key_set;        /* sequence of the key set held (§12.4; 0: none) */
} bw_cloud_status;

/* Writes STATUS into out (BW_CLOUD_STATUS_SIZE bytes). */
void bw_cloud_encode_status(const bw_cloud_status *status, uint8_t out[BW_CLOUD_STATUS_SIZE]);

/* Writes CRASH (boot ID + a 448-byte crash record as stored) into out. */
void bw_cloud_encode_crash(uint32_t boot_id, const uint8_t record[BW_CLOUD_CRASH_RECORD],
                           uint8_t out[BW_CLOUD_CRASH_SIZE]);

/* A LOG batch being filled in a caller buffer of cap bytes (≤ BW_CLOUD_LOG_MAX used). */
typedef struct bw_cloud_log_batch {
    uint8_t *buf;
    size_t cap;
    size_t len;
    uint16_t count;
} bw_cloud_log_batch;

/* Starts a batch whose first line has sequence first_sequence. BW_E_SIZE if
 * cap cannot hold the header and one byte of line. */
bw_err bw_cloud_log_begin(bw_cloud_log_batch *batch, uint8_t *buf, size_t cap,
                          uint32_t boot_id, uint32_t first_sequence);

/* Makes room for the next line (len ≤ BW_CLOUD_LOG_LINE_MAX bytes) and
 * returns where its text goes; NULL when it does not fit (the batch is
 * unchanged) or len is too long. */
uint8_t *bw_cloud_log_add(bw_cloud_log_batch *batch, uint32_t uptime_ms, size_t len);

/* Writes the line count; returns the payload length (0 if no line was added). */
size_t bw_cloud_log_finish(bw_cloud_log_batch *batch);

/* DEPLOY (§15): the device's target. deployment_id 0: no target (the
 * other fields are then 0 too). kind: what the bytes are (§15, §19.7). */
#define BW_CLOUD_DEPLOY_APP       0u   /* an app bundle (§6) */
#define BW_CLOUD_DEPLOY_KERNEL    1u   /* a signed kernel file (§19.2); app_version is its kernel version */
typedef struct bw_cloud_deploy {
    uint32_t deployment_id;
    uint8_t kind;            /* BW_CLOUD_DEPLOY_APP or _KERNEL */
    uint32_t app_version;
    uint32_t bundle_size;    /* S */
    uint32_t head_len;       /* H: 100 < H ≤ BW_CLOUD_HEAD_MAX, H < S */
    uint8_t head_sha256[BW_CLOUD_SHA256_SIZE];
} bw_cloud_deploy;

/* CHUNK statuses (§15). */
#define BW_CLOUD_CHUNK_OK          0u
#define BW_CLOUD_CHUNK_NO_DEPLOY   1u
#define BW_CLOUD_CHUNK_RANGE       2u
#define BW_CLOUD_CHUNK_UNREADABLE  3u

/* CHUNK: data points into the decoded payload (valid as long as it is). */
typedef struct bw_cloud_chunk {
    uint8_t status;          /* BW_CLOUD_CHUNK_* */
    uint32_t deployment_id;
    uint32_t offset;
    uint16_t length;         /* bytes at data; 0 unless status OK */
    const uint8_t *data;
} bw_cloud_chunk;

/* A piece of an HTTP (§16.1) or MQTT (§18.1) stream: data points into the
 * decoded payload; request_id is the MQTT session ID for MQTT. */
typedef struct bw_cloud_http_piece {
    uint32_t request_id;     /* ≠ 0 */
    uint32_t offset;
    uint32_t total;          /* offset + length ≤ total */
    uint16_t length;         /* 1 .. BW_CLOUD_HTTP_PIECE_MAX */
    const uint8_t *data;
} bw_cloud_http_piece;

/* A message from the cloud, as decoded. */
typedef struct bw_cloud_down {
    uint8_t type;            /* BW_CLOUD_TYPE_TIME, _DEPLOY, _CHUNK, _HTTP_RESPONSE, _CONFIG_RESPONSE or _MQTT_DOWN */
    uint64_t utc_ms;         /* TIME */
    bw_cloud_deploy deploy;  /* DEPLOY */
    bw_cloud_chunk chunk;    /* CHUNK */
    bw_cloud_http_piece http; /* HTTP_RESPONSE, CONFIG_RESPONSE, MQTT_DOWN */
    struct {
        uint32_t exchange;    /* X, never 0 */
        uint16_t length;      /* 1 .. BW_CLOUD_DEBUG_MAX */
        const uint8_t *data;  /* into the payload */
    } debug;                  /* DEBUG_DOWN */
    struct {
        uint16_t length;      /* BW_CLOUD_KEY_SET_MIN .. BW_CLOUD_KEY_SET_MAX */
        const uint8_t *data;  /* into the payload; the record itself is the taker's to judge */
    } key_set;                /* KEY_SET */
} bw_cloud_down;

/* Decodes a payload received on a bw/D/down/ topic. BW_E_VERSION for another
 * protocol version, BW_E_INVALID for an unknown type or a field out of range
 * (a time before 2020, non-zero reserved bytes, a DEPLOY whose head does not
 * fit §6's bounds or its bundle, a CHUNK of an unknown status, longer than
 * BW_CLOUD_CHUNK_MAX or carrying bytes with a non-OK status; an HTTP_RESPONSE
 * or MQTT_DOWN piece with request ID 0, length 0 or above BW_CLOUD_HTTP_PIECE_MAX, or
 * passing its stream's end), BW_E_SIZE for a length its type does not have
 * (a CHUNK or an HTTP_RESPONSE: exactly 16 + its length; a DEBUG_DOWN:
 * exactly 8 + L, L 1 .. BW_CLOUD_DEBUG_MAX, exchange ID not 0; a KEY_SET:
 * exactly 8 + N, N BW_CLOUD_KEY_SET_MIN .. _MAX, reserved word 0). */
bw_err bw_cloud_decode_down(const uint8_t *payload, size_t len, bw_cloud_down *out);

/* Writes an HTTP_REQUEST piece's header (BW_CLOUD_HTTP_HEADER bytes) for
 * piece->length stream bytes, which the caller puts right after it. */
void bw_cloud_encode_http_request(const bw_cloud_http_piece *piece, uint8_t out[BW_CLOUD_HTTP_HEADER]);
/* The same for a piece of another stream type (CONFIG_REQUEST, §17). */
void bw_cloud_encode_piece(uint8_t type, const bw_cloud_http_piece *piece, uint8_t out[BW_CLOUD_HTTP_HEADER]);
/* The same for an MQTT_UP piece (§18.1). */
void bw_cloud_encode_mqtt_up(const bw_cloud_http_piece *piece, uint8_t out[BW_CLOUD_HTTP_HEADER]);

/* Writes a DEBUG_UP header for length session bytes answering exchange. */
void bw_cloud_encode_debug_up(uint32_t exchange, uint16_t length, uint8_t out[BW_CLOUD_DEBUG_HEADER]);

/* Writes FETCH (BW_CLOUD_FETCH_SIZE bytes) for length bytes at offset. */
void bw_cloud_encode_fetch(uint32_t deployment_id, uint32_t offset, uint16_t length,
                           uint8_t out[BW_CLOUD_FETCH_SIZE]);

/* KEYS_ANSWER (§13.5): whether the key set offered was taken, and the
 * key-set sequence held afterwards. */
typedef struct bw_cloud_keys_answer {
    bool taken;
    uint32_t offered;        /* the offered set's sequence field, as sent */
    uint32_t held;
} bw_cloud_keys_answer;

/* Writes KEYS_ANSWER with text (its first BW_CLOUD_KEYS_ANSWER_TEXT_MAX
 * bytes; NULL: none) into out; returns the payload length. */
size_t bw_cloud_encode_keys_answer(const bw_cloud_keys_answer *answer, const char *text,
                                   uint8_t out[BW_CLOUD_KEYS_ANSWER_MAX]);

/* UPDATE states (§15). */
typedef enum bw_cloud_update_state {
    BW_CLOUD_UPDATE_DOWNLOADING = 1,
    BW_CLOUD_UPDATE_DOWNLOADED = 2,
    BW_CLOUD_UPDATE_INSTALLING = 3,
    BW_CLOUD_UPDATE_INSTALLED = 4,
    BW_CLOUD_UPDATE_REFUSED = 5,
    BW_CLOUD_UPDATE_FAILED = 6,
    BW_CLOUD_UPDATE_ROLLED_BACK = 7,
    BW_CLOUD_UPDATE_WAITING = 8,
    BW_CLOUD_UPDATE_HEALTHY = 9,
} bw_cloud_update_state;

typedef struct bw_cloud_update {
    uint8_t state;           /* bw_cloud_update_state */
    uint8_t engine_error;    /* bw_update_error */
    uint8_t manifest_error;  /* bw_manifest_error */
    uint8_t rollback_cause;  /* bw_rollback_cause */
    uint32_t deployment_id;
    uint32_t app_version;
    uint32_t held;           /* bundle bytes held (next expected offset; S when downloaded) */
    uint32_t bundle_size;
} bw_cloud_update;

/* Writes UPDATE with text (its first BW_CLOUD_UPDATE_TEXT_MAX bytes; NULL:
 * none) into out (BW_CLOUD_UPDATE_MAX bytes); returns the payload length. */
size_t bw_cloud_encode_update(const bw_cloud_update *update, const char *text,
                              uint8_t out[BW_CLOUD_UPDATE_MAX]);

/* Writes "bw/<device_id>/<suffix>" with a NUL into topic (BW_CLOUD_TOPIC_MAX
 * bytes); returns its length, or 0 if the ID is not 34 printable characters
 * or it does not fit. */
size_t bw_cloud_topic(char topic[BW_CLOUD_TOPIC_MAX], const char *device_id, const char *suffix);

#endif
