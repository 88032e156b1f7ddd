/*
 * Decoders and encoders for docs/SPEC.md §13.2 and §15 (see cloud_proto.h).
 * Every length is checked before the bytes it covers are read.
 */
#include <stdbool.h>
#include <string.h>

#include "bw_bytes.h"
#include "cloud_proto.h"

const char *cp_result_text(cp_result r)
{
    switch (r) {
    case CP_OK: return "ok";
    case CP_ERR_SHORT: return "too short";
    case CP_ERR_VERSION: return "unknown protocol version";
    case CP_ERR_TYPE: return "unexpected message type";
    case CP_ERR_LENGTH: return "length disagrees with its type";
    case CP_ERR_RANGE: return "field out of range";
    }
    return "invalid";
}

static cp_result check_head(const uint8_t *p, size_t len, uint8_t type)
{
    if (p == NULL || len < 2) {
        return CP_ERR_SHORT;
    }
    if (p[0] != CP_VERSION) {
        return CP_ERR_VERSION;
    }
    return p[1] == type ? CP_OK : CP_ERR_TYPE;
}

cp_result cp_decode_status(const uint8_t *p, size_t len, cp_status *out)
{
    cp_result r = check_head(p, len, CP_TYPE_STATUS);
    if (r != CP_OK) {
        return r;
    }
    if (len != CP_STATUS_SIZE) {
        return CP_ERR_LENGTH;
    }
    if (p[2] > 1 || p[3] >= CP_WAKE_REASON_MAX) {
        return CP_ERR_RANGE;
    }
    out->online = p[2];
    out->wake_reason = p[3];
    out->boot_id = bw_get32(p + 4);
    out->connection_id = bw_get32(p + 8);
    out->kernel_version = bw_get32(p + 12);
    out->app_version = bw_get32(p + 16);
    out->uptime_s = bw_get32(p + 20);
    out->lost_lines = bw_get32(p + 24);
    out->crash_count = bw_get32(p + 28);
    out->newest_crash_seq = bw_get32(p + 32);
    out->key_set = bw_get32(p + 36);
    return CP_OK;
}

cp_result cp_decode_log(const uint8_t *p, size_t len, cp_log *out)
{
    cp_result r = check_head(p, len, CP_TYPE_LOG);
    if (r != CP_OK) {
        return r;
    }
    if (len < CP_LOG_HEADER) {
        return CP_ERR_SHORT;
    }
    if (len > CP_LOG_MAX) {
        return CP_ERR_LENGTH;
    }
    uint16_t count = bw_get16(p + 2);
    uint32_t first = bw_get32(p + 8);
    if (count == 0 || (uint64_t)first + count - 1u > UINT32_MAX) {
        return CP_ERR_RANGE;
    }
    size_t at = CP_LOG_HEADER;
    for (unsigned i = 0; i < count; i++) {
        if (len - at < CP_LOG_LINE_HEADER) {
            return CP_ERR_LENGTH;
        }
        uint16_t line_len = bw_get16(p + at + 4);
        if (line_len > CP_LOG_LINE_MAX) {
            return CP_ERR_RANGE;
        }
        at += CP_LOG_LINE_HEADER;
        if (len - at < line_len) {
            return CP_ERR_LENGTH;
        }
        at += line_len;
    }
    if (at != len) {
        return CP_ERR_LENGTH;
    }
    out->count = count;
    out->boot_id = bw_get32(p + 4);
    out->first_seq = first;
    out->lines = p + CP_LOG_HEADER;
    out->lines_len = len - CP_LOG_HEADER;
    return CP_OK;
}

void cp_log_line_at(const cp_log *log, unsigned i, cp_log_line *out)
{
    const uint8_t *at = log->lines;
    for (unsigned k = 0; k < i; k++) {
        at += CP_LOG_LINE_HEADER + bw_get16(at + 4);
    }
    out->uptime_ms = bw_get32(at);
    out->length = bw_get16(at + 4);
    out->text = at + CP_LOG_LINE_HEADER;
}

cp_result cp_decode_crash(const uint8_t *p, size_t len, cp_crash *out)
{
    cp_result r = check_head(p, len, CP_TYPE_CRASH);
    if (r != CP_OK) {
        return r;
    }
    if (len != CP_CRASH_SIZE) {
        return CP_ERR_LENGTH;
    }
    if (bw_get16(p + 2) != 0) {
        return CP_ERR_RANGE;
    }
    out->boot_id = bw_get32(p + 4);
    out->record = p + 8;
    return CP_OK;
}

void cp_encode_time(uint64_t utc_ms, uint8_t out[CP_TIME_SIZE])
{
    out[0] = CP_VERSION;
    out[1] = CP_TYPE_TIME;
    out[2] = 0;
    out[3] = 0;
    for (unsigned i = 0; i < 8; i++) {
        out[4 + i] = (uint8_t)(utc_ms >> (8 * i));
    }
}

cp_result cp_decode_fetch(const uint8_t *p, size_t len, cp_fetch *out)
{
    cp_result r = check_head(p, len, CP_TYPE_FETCH);
    if (r != CP_OK) {
        return r;
    }
    if (len != CP_FETCH_SIZE) {
        return CP_ERR_LENGTH;
    }
    uint16_t length = bw_get16(p + 2);
    if (length == 0 || length > CP_CHUNK_MAX) {
        return CP_ERR_RANGE;
    }
    out->length = length;
    out->deployment_id = bw_get32(p + 4);
    out->offset = bw_get32(p + 8);
    return CP_OK;
}

/* A message of type whose header (header bytes) holds a u16 text length T
 * at length_at, followed by T printable ASCII bytes (0x20..0x7E), T <= max:
 * the whole payload. *text_length gets T. */
static cp_result check_text_message(const uint8_t *p, size_t len, uint8_t type, size_t header, size_t length_at,
                                    uint16_t max, uint16_t *text_length)
{
    cp_result r = check_head(p, len, type);
    if (r != CP_OK) {
        return r;
    }
    if (len < header) {
        return CP_ERR_SHORT;
    }
    *text_length = bw_get16(p + length_at);
    if (*text_length > max) {
        return CP_ERR_RANGE;
    }
    if (len != header + (size_t)*text_length) {
        return CP_ERR_LENGTH;
    }
    for (size_t i = header; i < len; i++) {
        if (p[i] < 0x20 || p[i] > 0x7E) {
            return CP_ERR_RANGE;
        }
    }
    return CP_OK;
}

cp_result cp_decode_keys_answer(const uint8_t *p, size_t len, cp_keys_answer *out)
{
    uint16_t text_length = 0;
    cp_result r = check_text_message(p, len, CP_TYPE_KEYS_ANSWER, CP_KEYS_ANSWER_HEADER, 12, CP_KEYS_ANSWER_TEXT_MAX,
                                     &text_length);
    if (r != CP_OK) {
        return r;
    }
    if (p[2] > 1 || p[3] != 0 || bw_get16(p + 14) != 0) {
        return CP_ERR_RANGE;
    }
    *out = (cp_keys_answer){ .refused = p[2], .offered = bw_get32(p + 4), .held = bw_get32(p + 8),
                             .text_length = text_length, .text = p + CP_KEYS_ANSWER_HEADER };
    return CP_OK;
}

size_t cp_encode_key_set(const uint8_t *set, size_t len, uint8_t *out)
{
    memset(out, 0, CP_KEY_SET_HEADER);
    out[0] = CP_VERSION;
    out[1] = CP_TYPE_KEY_SET;
    bw_put16(out + 2, (uint16_t)len);
    memcpy(out + CP_KEY_SET_HEADER, set, len);
    return CP_KEY_SET_HEADER + len;
}

cp_result cp_decode_update(const uint8_t *p, size_t len, unsigned engine_error_count,
                           unsigned manifest_error_count, cp_update *out)
{
    uint16_t text_length = 0;
    cp_result r = check_text_message(p, len, CP_TYPE_UPDATE, CP_UPDATE_HEADER, 22, CP_UPDATE_TEXT_MAX, &text_length);
    if (r != CP_OK) {
        return r;
    }
    uint32_t held = bw_get32(p + 12), size = bw_get32(p + 16);
    if (p[2] < CP_UPDATE_DOWNLOADING || p[2] > CP_UPDATE_STATE_MAX || p[3] >= engine_error_count
        || p[20] >= manifest_error_count || p[21] > 2 || held > size) {
        return CP_ERR_RANGE;
    }
    out->state = p[2];
    out->engine_error = p[3];
    out->deployment_id = bw_get32(p + 4);
    out->app_version = bw_get32(p + 8);
    out->bytes_held = held;
    out->size = size;
    out->manifest_error = p[20];
    out->rollback_cause = p[21];
    out->text_length = text_length;
    out->text = p + CP_UPDATE_HEADER;
    return CP_OK;
}

void cp_encode_deploy(const cp_deploy *d, uint8_t out[CP_DEPLOY_SIZE])
{
    out[0] = CP_VERSION;
    out[1] = CP_TYPE_DEPLOY;
    out[2] = d->kind;
    out[3] = 0;
    bw_put32(out + 4, d->deployment_id);
    bw_put32(out + 8, d->app_version);
    bw_put32(out + 12, d->size);
    bw_put32(out + 16, d->head_length);
    for (unsigned i = 0; i < 32; i++) {
        out[20 + i] = d->head_hash[i];
    }
}

void cp_encode_chunk_header(cp_chunk_status status, uint32_t deployment_id, uint32_t offset, uint16_t length,
                            uint8_t out[CP_CHUNK_HEADER])
{
    uint16_t l = status == CP_CHUNK_OK ? length : 0;
    out[0] = CP_VERSION;
    out[1] = CP_TYPE_CHUNK;
    out[2] = (uint8_t)status;
    out[3] = 0;
    bw_put32(out + 4, deployment_id);
    bw_put32(out + 8, offset);
    out[12] = (uint8_t)l;
    out[13] = (uint8_t)(l >> 8);
    out[14] = 0;
    out[15] = 0;
}

/* ---- §16: the HTTP relay ---- */

static cp_result decode_piece(const uint8_t *p, size_t len, uint8_t type, uint32_t stream_max, cp_http_piece *out)
{
    cp_result r = check_head(p, len, type);
    if (r != CP_OK) {
        return r;
    }
    if (len < CP_HTTP_HEADER) {
        return CP_ERR_SHORT;
    }
    cp_http_piece h = { .length = bw_get16(p + 2), .request_id = bw_get32(p + 4), .offset = bw_get32(p + 8),
                        .total = bw_get32(p + 12), .data = p + CP_HTTP_HEADER };
    if (len != CP_HTTP_HEADER + (size_t)h.length) {
        return CP_ERR_LENGTH;
    }
    if (h.request_id == 0 || h.length == 0 || h.length > CP_HTTP_PIECE_MAX
        || (uint64_t)h.offset + h.length > h.total || h.total > stream_max) {
        return CP_ERR_RANGE;
    }
    *out = h;
    return CP_OK;
}

cp_result cp_decode_http_piece(const uint8_t *p, size_t len, cp_http_piece *out)
{
    return decode_piece(p, len, CP_TYPE_HTTP_REQUEST, CP_HTTP_STREAM_MAX, out);
}

cp_result cp_decode_piece(const uint8_t *p, size_t len, uint8_t type, cp_http_piece *out)
{
    return decode_piece(p, len, type, CP_HTTP_STREAM_MAX, out);
}

cp_result cp_decode_mqtt_piece(const uint8_t *p, size_t len, cp_http_piece *out)
{
    return decode_piece(p, len, CP_TYPE_MQTT_UP, CP_MQTT_STREAM_MAX, out);
}

/* Takes n bytes at *at of a stream of len bytes (false past its end). */
static bool take(const uint8_t *p, size_t len, size_t *at, uint32_t n, cp_bytes *out)
{
    if (n > len - *at) {
        return false;
    }
    *out = (cp_bytes){ .data = p + *at, .length = (uint16_t)n };
    *at += n;
    return true;
}

static bool in_range(const cp_bytes *b, uint32_t min, uint32_t max)
{
    return b->length >= min && b->length <= max;
}

static cp_result decode_connect(const uint8_t *p, size_t len, cp_mqtt_op *o)
{
    if (len < CP_MQTT_HEAD + 16u) {
        return CP_ERR_SHORT;
    }
    const uint8_t *h = p + CP_MQTT_HEAD;
    o->port = (uint16_t)bw_get16(h);
    o->protocol_version = h[2];
    o->clean_start = h[3];
    o->keepalive = bw_get32(h + 4);
    o->userpass = h[8];
    o->will = h[9];
    o->will_qos = h[10];
    o->will_retain = h[11];
    o->ca_count = h[12];
    o->cert_count = h[13];
    if (o->ca_count > CP_MQTT_CERTS_MAX || o->cert_count > CP_MQTT_CERTS_MAX || bw_get16(h + 14) != 0) {
        return CP_ERR_RANGE;
    }
    size_t n = 7u + o->ca_count + o->cert_count;
    size_t at = CP_MQTT_HEAD + 16u + 2u * n;
    if (len < at) {
        return CP_ERR_SHORT;
    }
    cp_bytes *fields[7 + 2 * CP_MQTT_CERTS_MAX] = { &o->host, &o->client_id, &o->username, &o->password,
                                                    &o->will_topic, &o->will_payload, &o->key };
    for (unsigned i = 0; i < o->ca_count; i++) {
        fields[7 + i] = &o->ca[i];
    }
    for (unsigned i = 0; i < o->cert_count; i++) {
        fields[7 + o->ca_count + i] = &o->cert[i];
    }
    for (size_t i = 0; i < n; i++) {
        if (!take(p, len, &at, bw_get16(h + 16 + 2 * i), fields[i])) {
            return CP_ERR_LENGTH;
        }
    }
    if (at != len) {
        return CP_ERR_LENGTH;
    }
    bool ok = o->port != 0 && o->protocol_version <= 1 && o->clean_start <= 1 && o->keepalive >= 5
              && o->keepalive <= 65535 && o->userpass <= 1 && o->will <= 1 && o->will_qos <= 1
              && o->will_retain <= 1 && in_range(&o->host, 1, 253) && in_range(&o->client_id, 0, 128)
              && in_range(&o->username, 0, 256) && in_range(&o->password, 0, 256)
              && (o->userpass || (o->username.length == 0 && o->password.length == 0))
              && (o->will ? in_range(&o->will_topic, 1, CP_MQTT_TOPIC_MAX) && in_range(&o->will_payload, 0, 1024)
                          : o->will_topic.length == 0 && o->will_payload.length == 0)
              && in_range(&o->key, 0, 8192) && (o->cert_count == 0) == (o->key.length == 0);
    for (size_t i = 7; i < n; i++) {
        ok = ok && in_range(fields[i], 1, 8192);
    }
    return ok ? CP_OK : CP_ERR_RANGE;
}

/* SUBSCRIBE (entry 6 bytes) or UNSUBSCRIBE (entry 2 bytes): count topics. */
static cp_result decode_topics(const uint8_t *p, size_t len, size_t entry, cp_mqtt_op *o)
{
    o->count = p[1];
    if (o->count == 0 || o->count > CP_MQTT_TOPICS_MAX) {
        return CP_ERR_RANGE;
    }
    size_t at = CP_MQTT_HEAD + entry * o->count;
    if (len < at) {
        return CP_ERR_SHORT;
    }
    bool ok = true;
    for (unsigned i = 0; i < o->count; i++) {
        const uint8_t *e = p + CP_MQTT_HEAD + entry * i;
        if (entry == 6) {
            o->qos[i] = e[0];
            o->no_local[i] = e[1];
            o->rap[i] = e[2];
            o->retain_handling[i] = e[3];
            ok = ok && e[0] <= 1 && e[1] <= 1 && e[2] <= 1 && e[3] <= 2;
        }
        if (!take(p, len, &at, bw_get16(e + entry - 2), &o->topics[i])) {
            return CP_ERR_LENGTH;
        }
        ok = ok && in_range(&o->topics[i], 1, CP_MQTT_TOPIC_MAX);
    }
    if (at != len) {
        return CP_ERR_LENGTH;
    }
    return ok ? CP_OK : CP_ERR_RANGE;
}

static cp_result decode_publish(const uint8_t *p, size_t len, cp_mqtt_op *o)
{
    if (len < CP_MQTT_HEAD + 8u) {
        return CP_ERR_SHORT;
    }
    o->count = 1;
    o->qos[0] = p[8];
    o->will_retain = p[9];
    o->payload_length = bw_get32(p + 12);
    size_t at = CP_MQTT_HEAD + 8u;
    if (!take(p, len, &at, bw_get16(p + 10), &o->topics[0]) || len - at != o->payload_length) {
        return CP_ERR_LENGTH;
    }
    o->payload = p + at;
    bool ok = p[1] == 0 && o->qos[0] <= 1 && o->will_retain <= 1 && in_range(&o->topics[0], 1, CP_MQTT_TOPIC_MAX);
    return ok ? CP_OK : CP_ERR_RANGE;
}

cp_result cp_decode_mqtt_op(const uint8_t *p, size_t len, cp_mqtt_op *out)
{
    if (p == NULL || len < CP_MQTT_HEAD) {
        return CP_ERR_SHORT;
    }
    cp_mqtt_op o = { .kind = (cp_mqtt_kind)p[0], .correlation_id = bw_get32(p + 4) };
    if (bw_get16(p + 2) != 0) {
        return CP_ERR_RANGE;
    }
    cp_result r;
    switch (p[0]) {
    case CP_MQTT_CONNECT:
        r = p[1] == 0 ? decode_connect(p, len, &o) : CP_ERR_RANGE;
        break;
    case CP_MQTT_SUBSCRIBE:
        r = decode_topics(p, len, 6, &o);
        break;
    case CP_MQTT_UNSUBSCRIBE:
        r = decode_topics(p, len, 2, &o);
        break;
    case CP_MQTT_PUBLISH:
        r = decode_publish(p, len, &o);
        break;
    case CP_MQTT_ACK:
    case CP_MQTT_DISCONNECT:
    case CP_MQTT_CLOSE:
        r = len != CP_MQTT_HEAD ? CP_ERR_LENGTH : p[1] != 0 ? CP_ERR_RANGE : CP_OK;
        break;
    default:
        r = CP_ERR_TYPE;
    }
    if (r == CP_OK) {
        *out = o;
    }
    return r;
}

static bool is_token(uint8_t c)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    for (const char *e = extra; *e != '\0'; e++) {
        if ((uint8_t)*e == c) {
            return true;
        }
    }
    return false;
}

/* "Name: value": a token, ':', then visible ASCII, space or tab. */
static bool header_ok(const uint8_t *h, size_t n)
{
    size_t i = 0;
    while (i < n && h[i] != ':') {
        if (!is_token(h[i])) {
            return false;
        }
        i++;
    }
    if (i == 0 || i == n) {
        return false;
    }
    for (i++; i < n; i++) {
        if (!((h[i] >= 0x20 && h[i] < 0x7f) || h[i] == '\t')) {
            return false;
        }
    }
    return true;
}

static bool url_ok(const uint8_t *u, size_t n)
{
    static const char scheme[] = "https://";
    if (n <= sizeof scheme - 1) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t c = u[i];
        uint8_t lower = c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
        if (i < sizeof scheme - 1 ? lower != (uint8_t)scheme[i] : (c <= 0x20 || c >= 0x7f)) {
            return false;
        }
    }
    return true;
}

static bool method_ok(const uint8_t *m, size_t n)
{
    static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS" };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        size_t k = 0;
        while (methods[i][k] != '\0' && k < n && (uint8_t)methods[i][k] == m[k]) {
            k++;
        }
        if (k == n && methods[i][k] == '\0') {
            return true;
        }
    }
    return false;
}

cp_result cp_decode_http_request(const uint8_t *p, size_t len, cp_http_request *out)
{
    if (p == NULL || len < CP_HTTP_HEAD) {
        return CP_ERR_SHORT;
    }
    cp_http_request r = { .method_length = p[0], .header_count = p[1], .url_length = bw_get16(p + 2),
                          .timeout_ms = bw_get32(p + 4), .body_length = bw_get32(p + 8), .capacity = bw_get32(p + 12) };
    if (r.header_count > CP_HTTP_HEADERS_MAX || r.method_length > CP_HTTP_METHOD_MAX
        || r.url_length > CP_HTTP_URL_MAX) {
        return CP_ERR_RANGE;
    }
    size_t at = CP_HTTP_HEAD + 2u * r.header_count;
    if (len < at) {
        return CP_ERR_SHORT;
    }
    uint64_t total = (uint64_t)at + r.method_length + r.url_length + r.body_length;
    for (unsigned i = 0; i < r.header_count; i++) {
        r.header_length[i] = bw_get16(p + CP_HTTP_HEAD + 2u * i);
        if (r.header_length[i] > CP_HTTP_HEADER_LINE_MAX) {
            return CP_ERR_RANGE;
        }
        total += r.header_length[i];
    }
    if (total != len) {
        return CP_ERR_LENGTH;
    }
    r.method = p + at;
    r.url = r.method + r.method_length;
    r.headers = r.url + r.url_length;
    const uint8_t *h = r.headers;
    bool headers_ok = true;
    for (unsigned i = 0; i < r.header_count; i++) {
        headers_ok = headers_ok && header_ok(h, r.header_length[i]);
        h += r.header_length[i];
    }
    r.body = h;
    if (!url_ok(r.url, r.url_length)) {
        r.verdict = CP_HTTP_UNSUPPORTED_URI_SCHEME;
    } else if (!method_ok(r.method, r.method_length)) {
        r.verdict = CP_HTTP_UNSUPPORTED_METHOD;
    } else if (!headers_ok) {
        r.verdict = CP_HTTP_INVALID_HEADERS;
    } else if (r.timeout_ms < CP_HTTP_TIMEOUT_MIN_MS || r.timeout_ms > CP_HTTP_TIMEOUT_MAX_MS) {
        r.verdict = CP_HTTP_INVALID_TIMEOUT;
    } else {
        r.verdict = CP_HTTP_OK;
    }
    *out = r;
    return CP_OK;
}

void cp_encode_piece_header(uint8_t type, uint32_t id, uint32_t offset, uint32_t total, uint16_t length,
                            uint8_t out[CP_HTTP_HEADER])
{
    out[0] = CP_VERSION;
    out[1] = type;
    bw_put16(out + 2, length);
    bw_put32(out + 4, id);
    bw_put32(out + 8, offset);
    bw_put32(out + 12, total);
}

void cp_encode_http_piece_header(uint32_t request_id, uint32_t offset, uint32_t total, uint16_t length,
                                 uint8_t out[CP_HTTP_HEADER])
{
    cp_encode_piece_header(CP_TYPE_HTTP_RESPONSE, request_id, offset, total, length, out);
}

size_t cp_encode_http_response_head(cp_http_result result, uint16_t status, uint16_t count,
                                    const uint16_t *lengths, uint32_t body_length,
                                    uint8_t out[CP_HTTP_HEAD + 2 * CP_HTTP_HEADERS_MAX])
{
    uint32_t header_bytes = 0;
    count = count <= CP_HTTP_HEADERS_MAX ? count : CP_HTTP_HEADERS_MAX;
    for (unsigned i = 0; i < count; i++) {
        bw_put16(out + CP_HTTP_HEAD + 2u * i, lengths[i]);
        header_bytes += lengths[i];
    }
    out[0] = (uint8_t)result;
    out[1] = 0;
    bw_put16(out + 2, status);
    bw_put16(out + 4, count);
    bw_put16(out + 6, 0);
    bw_put32(out + 8, header_bytes);
    bw_put32(out + 12, body_length);
    return CP_HTTP_HEAD + 2u * count;
}

void cp_encode_debug_header(uint8_t type, uint16_t length, uint32_t exchange, uint8_t out[CP_DEBUG_HEADER])
{
    out[0] = CP_VERSION;
    out[1] = type;
    bw_put16(out + 2, length);
    bw_put32(out + 4, exchange);
}

cp_result cp_decode_debug(const uint8_t *p, size_t len, uint8_t type, uint16_t *length, uint32_t *exchange)
{
    if (len < CP_DEBUG_HEADER) {
        return CP_ERR_SHORT;
    }
    if (p[0] != CP_VERSION) {
        return CP_ERR_VERSION;
    }
    if (p[1] != type) {
        return CP_ERR_TYPE;
    }
    uint16_t n = bw_get16(p + 2);
    if (n == 0 || n > CP_DEBUG_MAX || len != CP_DEBUG_HEADER + (size_t)n) {
        return CP_ERR_LENGTH;
    }
    if (bw_get32(p + 4) == 0) {
        return CP_ERR_RANGE;
    }
    *length = n;
    *exchange = bw_get32(p + 4);
    return CP_OK;
}
