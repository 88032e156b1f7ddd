/*
 * The cloud protocol's binary messages (docs/SPEC.md §13.2), as bulwarkd sees
 * them: strict decoders for what devices send (STATUS, LOG, CRASH; FETCH and
 * UPDATE of §15, HTTP_REQUEST of §16) and the encoders for TIME, DEPLOY,
 * CHUNK and HTTP_RESPONSE. Pure functions over caller buffers: no allocation, no I/O,
 * so the fuzz target (tests/fuzz/fuzz_cloud_proto.c) runs them as they are.
 *
 * A decoder accepts a payload whole or refuses it whole: wrong version or
 * type, a length that disagrees with the type, or a field out of range.
 */
#ifndef BW_CLOUD_PROTO_H
#define BW_CLOUD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define CP_VERSION 1u
#define CP_TYPE_STATUS 1u
#define CP_TYPE_LOG 2u
#define CP_TYPE_CRASH 3u
#define CP_TYPE_TIME 0x81u
#define CP_TYPE_FETCH 4u
#define CP_TYPE_UPDATE 5u
#define CP_TYPE_DEPLOY 0x82u
#define CP_TYPE_CHUNK 0x83u
#define CP_TYPE_HTTP_REQUEST 6u      /* §16 */
#define CP_TYPE_HTTP_RESPONSE 0x84u
#define CP_TYPE_CONFIG_REQUEST 0x10u   /* §17: pieces as §16.1 */
#define CP_TYPE_CONFIG_RESPONSE 0x90u
#define CP_TYPE_MQTT_UP 7u           /* §18 */
#define CP_TYPE_MQTT_DOWN 0x85u
#define CP_TYPE_DEBUG_UP 8u          /* §21.5 */
#define CP_TYPE_DEBUG_DOWN 0x86u
#define CP_TYPE_KEYS_ANSWER 9u       /* §13.5 */
#define CP_TYPE_KEY_SET 0x87u
#define CP_KEY_SET_HEADER 8u
#define CP_KEY_SET_MIN 80u           /* a key set (§12.4) of 1 key */
#define CP_KEY_SET_MAX 340u          /* of 4 keys */
#define CP_KEYS_ANSWER_HEADER 16u
#define CP_KEYS_ANSWER_TEXT_MAX 200u
#define CP_DEBUG_HEADER 8u
#define CP_DEBUG_MAX 512u            /* session bytes in one DEBUG message */

#define CP_STATUS_SIZE 40u
#define CP_LOG_HEADER 12u
#define CP_LOG_LINE_HEADER 6u
#define CP_LOG_MAX 1400u
#define CP_LOG_LINE_MAX 1024u
#define CP_CRASH_RECORD_SIZE 448u
#define CP_CRASH_SIZE (8u + CP_CRASH_RECORD_SIZE)
#define CP_TIME_SIZE 12u
#define CP_FETCH_SIZE 12u
#define CP_CHUNK_MAX 1792u          /* BW_OTA_CHUNK: the most one FETCH asks for */
#define CP_CHUNK_HEADER 16u
#define CP_UPDATE_HEADER 24u
#define CP_UPDATE_TEXT_MAX 200u
#define CP_DEPLOY_SIZE 52u
#define CP_HEAD_MAX 4196u           /* 100 + the largest manifest (§6) */
#define CP_HTTP_HEADER 16u          /* §16.1: a piece's header */
#define CP_HTTP_PIECE_MAX 1792u     /* stream bytes in one piece */
#define CP_HTTP_HEAD 16u            /* §16.2/§16.3: a stream's head, before its length table */
#define CP_HTTP_HEADERS_MAX 32u
#define CP_HTTP_METHOD_MAX 7u
#define CP_HTTP_URL_MAX 2048u
#define CP_HTTP_HEADER_LINE_MAX 1024u
#define CP_HTTP_TIMEOUT_MIN_MS 100u
#define CP_HTTP_TIMEOUT_MAX_MS 60000u
#define CP_HTTP_STREAM_MAX 65552u   /* a request stream: 16 + the largest send buffer */
#define CP_MQTT_HEAD 8u             /* §18.1: every operation/event stream's head */
#define CP_MQTT_TOPICS_MAX 8u
#define CP_MQTT_CERTS_MAX 8u
#define CP_MQTT_TOPIC_MAX 256u
#define CP_MQTT_STREAM_MAX 65536u   /* an operation stream: at most the largest send buffer */
#define CP_WAKE_REASON_MAX 64u   /* enum MvWakeReason values stay far below this */

typedef enum cp_result {
    CP_OK = 0,
    CP_ERR_SHORT,      /* shorter than its header */
    CP_ERR_VERSION,    /* protocol version not 1 */
    CP_ERR_TYPE,       /* unknown type, or not the type the topic carries */
    CP_ERR_LENGTH,     /* the length disagrees with the type or its counts */
    CP_ERR_RANGE,      /* a field out of range */
} cp_result;

typedef struct cp_status {
    uint8_t online;            /* 0 offline (the will), 1 online */
    uint8_t wake_reason;
    uint32_t boot_id, connection_id;
    uint32_t kernel_version, app_version;
    uint32_t uptime_s, lost_lines, crash_count, newest_crash_seq;
    uint32_t key_set;          /* sequence of the key set held (§12.4; 0: none) */
} cp_status;

typedef struct cp_log_line {
    uint32_t uptime_ms;
    uint16_t length;           /* <= CP_LOG_LINE_MAX */
    const uint8_t *text;       /* points into the payload; not terminated */
} cp_log_line;

typedef struct cp_log {
    uint16_t count;            /* >= 1 */
    uint32_t boot_id, first_seq;
    const uint8_t *lines;      /* the payload's line area, already validated */
    size_t lines_len;
} cp_log;

typedef struct cp_crash {
    uint32_t boot_id;
    const uint8_t *record;     /* CP_CRASH_RECORD_SIZE bytes in the payload; §7 checks are the caller's */
} cp_crash;

/* CHUNK status (§15). */
typedef enum cp_chunk_status {
    CP_CHUNK_OK = 0,
    CP_CHUNK_NO_DEPLOYMENT = 1,
    CP_CHUNK_RANGE = 2,
    CP_CHUNK_UNREADABLE = 3,
} cp_chunk_status;

/* UPDATE states (§15); CP_UPDATE_STATE_MAX is the highest known. */
typedef enum cp_update_state {
    CP_UPDATE_DOWNLOADING = 1,
    CP_UPDATE_DOWNLOADED,
    CP_UPDATE_INSTALLING,
    CP_UPDATE_INSTALLED,
    CP_UPDATE_REFUSED,
    CP_UPDATE_FAILED,
    CP_UPDATE_ROLLED_BACK,
    CP_UPDATE_WAITING,
    CP_UPDATE_HEALTHY,
    CP_UPDATE_STATE_MAX = CP_UPDATE_HEALTHY,
} cp_update_state;

typedef struct cp_fetch {
    uint16_t length;           /* 1..CP_CHUNK_MAX */
    uint32_t deployment_id;
    uint32_t offset;           /* offset + length may pass the bundle: the caller checks against S */
} cp_fetch;

typedef struct cp_update {
    uint8_t state;             /* cp_update_state */
    uint8_t engine_error;      /* bw_update_error */
    uint32_t deployment_id;    /* 0: the device no longer knows it */
    uint32_t app_version;
    uint32_t bytes_held, size; /* bytes_held <= size */
    uint8_t manifest_error;    /* bw_manifest_error */
    uint8_t rollback_cause;    /* 0 none, 1 crash loop, 2 install failed */
    uint16_t text_length;      /* <= CP_UPDATE_TEXT_MAX */
    const uint8_t *text;       /* printable ASCII in the payload; not terminated */
} cp_update;

/* KEYS_ANSWER (§13.5): the device's answer to a KEY_SET. */
typedef struct cp_keys_answer {
    uint8_t refused;           /* 0 taken, 1 refused */
    uint32_t offered;          /* the offered set's sequence field */
    uint32_t held;             /* the key-set sequence the device holds now */
    uint16_t text_length;      /* <= CP_KEYS_ANSWER_TEXT_MAX; the refusal's reason */
    const uint8_t *text;       /* printable ASCII in the payload; not terminated */
} cp_keys_answer;

/* DEPLOY kinds (byte 2, SPEC §15): what the deployed bytes are. */
#define CP_DEPLOY_APP 0u
#define CP_DEPLOY_KERNEL 1u   /* a signed kernel file; app_version is its packed kernel version */

typedef struct cp_deploy {
    uint8_t kind;
    uint32_t deployment_id, app_version, size, head_length;
    uint8_t head_hash[32];
} cp_deploy;

/* HTTP results (§16.4, enum MvHttpResult). */
typedef enum cp_http_result {
    CP_HTTP_OK = 0,
    CP_HTTP_UNSUPPORTED_URI_SCHEME = 1,
    CP_HTTP_UNSUPPORTED_METHOD = 2,
    CP_HTTP_INVALID_HEADERS = 3,
    CP_HTTP_INVALID_TIMEOUT = 4,
    CP_HTTP_REQUEST_FAILED = 5,
    CP_HTTP_RESPONSE_TOO_LARGE = 6,
} cp_http_result;

/* A piece of an HTTP stream (§16.1); data points into the payload. */
typedef struct cp_http_piece {
    uint32_t request_id, offset, total;
    uint16_t length;
    const uint8_t *data;
} cp_http_piece;

/* A whole request stream (§16.2), pointers into it; verdict: what the
 * request's fields allow (CP_HTTP_OK: perform it). */
typedef struct cp_http_request {
    uint8_t method_length, header_count;
    uint16_t url_length;
    uint32_t timeout_ms, body_length, capacity;
    uint16_t header_length[CP_HTTP_HEADERS_MAX];
    const uint8_t *method, *url, *headers, *body;   /* headers: the lines back to back */
    cp_http_result verdict;
} cp_http_request;

/* MQTT operations (§18.2) and request states (enum MvMqttRequestState). */
typedef enum cp_mqtt_kind {
    CP_MQTT_CONNECT = 1, CP_MQTT_SUBSCRIBE, CP_MQTT_UNSUBSCRIBE, CP_MQTT_PUBLISH, CP_MQTT_ACK,
    CP_MQTT_DISCONNECT, CP_MQTT_CLOSE,
} cp_mqtt_kind;

typedef enum cp_mqtt_state {
    CP_MQTT_COMPLETED = 0, CP_MQTT_INVALID_PARAMETERS = 1, CP_MQTT_NOT_CONNECTED = 3, CP_MQTT_NXDOMAIN = 4,
    CP_MQTT_UNKNOWN_CA = 5, CP_MQTT_SOCKET_ERROR = 7, CP_MQTT_CIRCUIT_BREAKER = 8,
} cp_mqtt_state;

/* Event kinds (§18.3): enum MvMqttReadableDataType, and CLOSED. */
#define CP_MQTT_EV_MESSAGE 1u
#define CP_MQTT_EV_RESPONSE(kind) ((kind) == CP_MQTT_DISCONNECT ? 7u : (uint8_t)((kind) + 2u))
#define CP_MQTT_EV_CLOSED 8u

/* A string inside a decoded stream. */
typedef struct cp_bytes {
    const uint8_t *data;
    uint16_t length;
} cp_bytes;

/* A whole operation stream (§18.2), pointers into it. */
typedef struct cp_mqtt_op {
    cp_mqtt_kind kind;
    uint32_t correlation_id;
    /* CONNECT */
    uint16_t port;
    uint8_t protocol_version, clean_start, userpass, will, will_qos, will_retain, ca_count, cert_count;
    uint32_t keepalive;
    cp_bytes host, client_id, username, password, will_topic, will_payload, key;
    cp_bytes ca[CP_MQTT_CERTS_MAX], cert[CP_MQTT_CERTS_MAX];
    /* SUBSCRIBE / UNSUBSCRIBE: count topics, with (subscribe) options */
    uint8_t count;
    cp_bytes topics[CP_MQTT_TOPICS_MAX];
    uint8_t qos[CP_MQTT_TOPICS_MAX], no_local[CP_MQTT_TOPICS_MAX], rap[CP_MQTT_TOPICS_MAX],
        retain_handling[CP_MQTT_TOPICS_MAX];
    /* PUBLISH: topics[0], qos[0], will_retain as retain */
    const uint8_t *payload;
    uint32_t payload_length;
} cp_mqtt_op;

/* A short name for a result ("bad length", ...), for logs and counters. */
const char *cp_result_text(cp_result r);

/* Decodes a STATUS payload (exactly 40 bytes, state 0/1). */
cp_result cp_decode_status(const uint8_t *p, size_t len, cp_status *out);

/* Decodes a LOG payload: count >= 1, every line <= 256 bytes, the lines fill
 * the payload exactly, total <= 2048 bytes, first_seq + count without overflow. */
cp_result cp_decode_log(const uint8_t *p, size_t len, cp_log *out);

/* Line i (< log->count) of a decoded batch; walks from the start (batches are small). */
void cp_log_line_at(const cp_log *log, unsigned i, cp_log_line *out);

/* Decodes a CRASH payload (exactly 456 bytes, reserved 0). */
cp_result cp_decode_crash(const uint8_t *p, size_t len, cp_crash *out);

/* Writes a TIME message (12 bytes) for utc_ms into out. */
void cp_encode_time(uint64_t utc_ms, uint8_t out[CP_TIME_SIZE]);

/* Decodes a FETCH payload (exactly 12 bytes, length 1..CP_CHUNK_MAX). */
cp_result cp_decode_fetch(const uint8_t *p, size_t len, cp_fetch *out);

/* Decodes an UPDATE payload: 24 + T bytes, T <= 200, state 1..8, engine error
 * < engine_error_count, manifest error < manifest_error_count, rollback cause
 * 0..2, bytes held <= size, text printable ASCII (0x20..0x7E). */
cp_result cp_decode_update(const uint8_t *p, size_t len, unsigned engine_error_count,
                           unsigned manifest_error_count, cp_update *out);

/* Decodes a KEYS_ANSWER payload: 16 + T bytes, T <= 200, outcome 0/1,
 * reserved 0, text printable ASCII. */
cp_result cp_decode_keys_answer(const uint8_t *p, size_t len, cp_keys_answer *out);

/* Writes a KEY_SET message carrying set[0..len) (len CP_KEY_SET_MIN ..
 * CP_KEY_SET_MAX) into out (CP_KEY_SET_HEADER + len bytes); returns its length. */
size_t cp_encode_key_set(const uint8_t *set, size_t len, uint8_t *out);

/* Writes a DEPLOY message (52 bytes). */
void cp_encode_deploy(const cp_deploy *d, uint8_t out[CP_DEPLOY_SIZE]);

/* Writes a CHUNK header (16 bytes) for status, deployment, offset and length
 * (length is written only with CP_CHUNK_OK; the bytes follow the header). */
void cp_encode_chunk_header(cp_chunk_status status, uint32_t deployment_id, uint32_t offset, uint16_t length,
                            uint8_t out[CP_CHUNK_HEADER]);

/* Decodes an HTTP_REQUEST piece: 16 + L bytes, L 1..CP_HTTP_PIECE_MAX,
 * request ID not 0, offset + L <= total <= CP_HTTP_STREAM_MAX. */
cp_result cp_decode_http_piece(const uint8_t *p, size_t len, cp_http_piece *out);
/* The same for a piece of another stream type (CP_TYPE_CONFIG_REQUEST, §17). */
cp_result cp_decode_piece(const uint8_t *p, size_t len, uint8_t type, cp_http_piece *out);

/* Decodes a whole request stream: its head and table add up to len exactly,
 * header count <= 32, method <= 7, URL <= 2048, each header line <= 1024 bytes
 * (CP_ERR_SHORT, CP_ERR_LENGTH, CP_ERR_RANGE otherwise); then judges its
 * fields into out->verdict as the kernel does (https://, method, header
 * syntax, timeout). */
cp_result cp_decode_http_request(const uint8_t *p, size_t len, cp_http_request *out);

/* Writes an HTTP_RESPONSE piece's header (16 bytes; the bytes follow it). */
void cp_encode_http_piece_header(uint32_t request_id, uint32_t offset, uint32_t total, uint16_t length,
                                 uint8_t out[CP_HTTP_HEADER]);
/* The same for any piece type (HTTP_RESPONSE, CONFIG_RESPONSE, MQTT_DOWN). */
void cp_encode_piece_header(uint8_t type, uint32_t id, uint32_t offset, uint32_t total, uint16_t length,
                            uint8_t out[CP_HTTP_HEADER]);

/* Decodes an MQTT_UP piece: the rules of cp_decode_http_piece, total <=
 * CP_MQTT_STREAM_MAX. */
cp_result cp_decode_mqtt_piece(const uint8_t *p, size_t len, cp_http_piece *out);

/* Decodes a whole operation stream: the kind's head, lengths that add up to
 * len exactly, and every bound of §18.2 (CP_ERR_SHORT, CP_ERR_LENGTH,
 * CP_ERR_RANGE, CP_ERR_TYPE for an unknown kind). */
cp_result cp_decode_mqtt_op(const uint8_t *p, size_t len, cp_mqtt_op *out);

/* Writes a response stream's head and length table (16 + 2 * count bytes,
 * count <= CP_HTTP_HEADERS_MAX) into out; returns its length. */
size_t cp_encode_http_response_head(cp_http_result result, uint16_t status, uint16_t count,
                                    const uint16_t *lengths, uint32_t body_length,
                                    uint8_t out[CP_HTTP_HEAD + 2 * CP_HTTP_HEADERS_MAX]);

/* DEBUG_UP/DEBUG_DOWN head (§21.5): version, type, L, exchange ID X. */
void cp_encode_debug_header(uint8_t type, uint16_t length, uint32_t exchange, uint8_t out[CP_DEBUG_HEADER]);

/* Decodes a DEBUG message of type: length 8 + L, 1 <= L <= 512, X != 0.
 * *length gets L, *exchange X; the session bytes follow the header. */
cp_result cp_decode_debug(const uint8_t *p, size_t len, uint8_t type, uint16_t *length, uint32_t *exchange);

#endif
