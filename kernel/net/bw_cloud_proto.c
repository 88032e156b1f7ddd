/*
 * Cloud protocol messages (see bw_cloud_proto.h, docs/SPEC.md §13.2).
 * Little-endian fields written and read byte by byte: no struct layout or
 * alignment is assumed, on either side.
 */
#include <string.h>

#include "bw_bytes.h"
#include "bw_cloud_proto.h"

void bw_cloud_encode_status(const bw_cloud_status *status, uint8_t out[BW_CLOUD_STATUS_SIZE])
{
    memset(out, 0, BW_CLOUD_STATUS_SIZE);
    out[0] = BW_CLOUD_VERSION;
    out[1] = BW_CLOUD_TYPE_STATUS;
    out[2] = status->online ? 1u : 0u;
    out[3] = status->wake_reason;
    bw_put32(out + 4, status->boot_id);
    bw_put32(out + 8, status->connection_id);
    bw_put32(out + 12, status->kernel_version);
    bw_put32(out + 16, status->app_version);
    bw_put32(out + 20, status->uptime_s);
    bw_put32(out + 24, status->log_lines_lost);
    bw_put32(out + 28, status->crashes_since_boot);
    bw_put32(out + 32, status->newest_crash_sequence);
    bw_put32(out + 36, status->key_set);
}

void bw_cloud_encode_crash(uint32_t boot_id, const uint8_t record[BW_CLOUD_CRASH_RECORD],
                           uint8_t out[BW_CLOUD_CRASH_SIZE])
{
    out[0] = BW_CLOUD_VERSION;
    out[1] = BW_CLOUD_TYPE_CRASH;
    bw_put16(out + 2, 0);
    bw_put32(out + 4, boot_id);
    memcpy(out + 8, record, BW_CLOUD_CRASH_RECORD);
}

bw_err bw_cloud_log_begin(bw_cloud_log_batch *batch, uint8_t *buf, size_t cap,
                          uint32_t boot_id, uint32_t first_sequence)
{
    if (cap > BW_CLOUD_LOG_MAX) {
        cap = BW_CLOUD_LOG_MAX;
    }
    if (cap < BW_CLOUD_LOG_HEADER + BW_CLOUD_LOG_LINE_HEADER + 1u) {
        return BW_E_SIZE;
    }
    *batch = (bw_cloud_log_batch){ .buf = buf, .cap = cap, .len = BW_CLOUD_LOG_HEADER, .count = 0 };
    buf[0] = BW_CLOUD_VERSION;
    buf[1] = BW_CLOUD_TYPE_LOG;
    bw_put16(buf + 2, 0);
    bw_put32(buf + 4, boot_id);
    bw_put32(buf + 8, first_sequence);
    return BW_OK;
}

uint8_t *bw_cloud_log_add(bw_cloud_log_batch *batch, uint32_t uptime_ms, size_t len)
{
    if (len > BW_CLOUD_LOG_LINE_MAX || batch->count == UINT16_MAX
        || batch->cap - batch->len < BW_CLOUD_LOG_LINE_HEADER + len) {
        return NULL;
    }
    uint8_t *line = batch->buf + batch->len;
    bw_put32(line, uptime_ms);
    bw_put16(line + 4, (uint32_t)len);
    batch->len += BW_CLOUD_LOG_LINE_HEADER + len;
    batch->count++;
    return line + BW_CLOUD_LOG_LINE_HEADER;
}

size_t bw_cloud_log_finish(bw_cloud_log_batch *batch)
{
    if (batch->count == 0) {
        return 0;
    }
    bw_put16(batch->buf + 2, batch->count);
    return batch->len;
}

static bw_err decode_deploy(const uint8_t *payload, size_t len, bw_cloud_down *out)
{
    if (len != BW_CLOUD_DEPLOY_SIZE) {
        return BW_E_SIZE;
    }
    bw_cloud_deploy d = {
        .deployment_id = bw_get32(payload + 4),
        .kind = payload[2],
        .app_version = bw_get32(payload + 8),
        .bundle_size = bw_get32(payload + 12),
        .head_len = bw_get32(payload + 16),
    };
    memcpy(d.head_sha256, payload + 20, BW_CLOUD_SHA256_SIZE);
    bool no_target = d.deployment_id == 0 && d.kind == BW_CLOUD_DEPLOY_APP && d.app_version == 0
                     && d.bundle_size == 0 && d.head_len == 0;
    /* A head is header (24) + manifest + signature block (76), the layers
     * follow it; a kernel's head is its seal (188 + certificate), longer. */
    bool target = d.deployment_id != 0 && d.head_len > 100u && d.head_len <= BW_CLOUD_HEAD_MAX
                  && d.bundle_size > d.head_len;
    if (d.kind > BW_CLOUD_DEPLOY_KERNEL || payload[3] != 0 || !(no_target || target)) {
        return BW_E_INVALID;
    }
    *out = (bw_cloud_down){ .type = BW_CLOUD_TYPE_DEPLOY, .deploy = d };
    return BW_OK;
}

static bw_err decode_chunk(const uint8_t *payload, size_t len, bw_cloud_down *out)
{
    if (len < BW_CLOUD_CHUNK_HEADER) {
        return BW_E_SIZE;
    }
    bw_cloud_chunk c = {
        .status = payload[2],
        .deployment_id = bw_get32(payload + 4),
        .offset = bw_get32(payload + 8),
        .length = bw_get16(payload + 12),
        .data = payload + BW_CLOUD_CHUNK_HEADER,
    };
    if (payload[3] != 0 || bw_get16(payload + 14) != 0 || c.status > BW_CLOUD_CHUNK_UNREADABLE
        || c.length > BW_CLOUD_CHUNK_MAX || (c.status != BW_CLOUD_CHUNK_OK && c.length != 0)
        || (c.status == BW_CLOUD_CHUNK_OK && c.length == 0)) {
        return BW_E_INVALID;
    }
    if (len != BW_CLOUD_CHUNK_HEADER + (size_t)c.length) {
        return BW_E_SIZE;
    }
    *out = (bw_cloud_down){ .type = BW_CLOUD_TYPE_CHUNK, .chunk = c };
    return BW_OK;
}

static bw_err decode_http(const uint8_t *payload, size_t len, bw_cloud_down *out)
{
    if (len < BW_CLOUD_HTTP_HEADER) {
        return BW_E_SIZE;
    }
    bw_cloud_http_piece h = {
        .length = bw_get16(payload + 2),
        .request_id = bw_get32(payload + 4),
        .offset = bw_get32(payload + 8),
        .total = bw_get32(payload + 12),
        .data = payload + BW_CLOUD_HTTP_HEADER,
    };
    if (h.request_id == 0 || h.length == 0 || h.length > BW_CLOUD_HTTP_PIECE_MAX
        || (uint64_t)h.offset + h.length > h.total) {
        return BW_E_INVALID;
    }
    if (len != BW_CLOUD_HTTP_HEADER + (size_t)h.length) {
        return BW_E_SIZE;
    }
    *out = (bw_cloud_down){ .type = payload[1], .http = h };
    return BW_OK;
}

/* DEBUG_DOWN (§21.5): 8 + L bytes, L 1 .. 512, X != 0. */
static bw_err decode_debug(const uint8_t *payload, size_t len, bw_cloud_down *out)
{
    if (len < BW_CLOUD_DEBUG_HEADER || len != BW_CLOUD_DEBUG_HEADER + (size_t)bw_get16(payload + 2)) {
        return BW_E_SIZE;
    }
    uint16_t n = bw_get16(payload + 2);
    uint32_t x = bw_get32(payload + 4);
    if (n == 0 || n > BW_CLOUD_DEBUG_MAX || x == 0) {
        return BW_E_INVALID;
    }
    *out = (bw_cloud_down){ .type = BW_CLOUD_TYPE_DEBUG_DOWN };
    out->debug.exchange = x;
    out->debug.length = n;
    out->debug.data = payload + BW_CLOUD_DEBUG_HEADER;
    return BW_OK;
}

void bw_cloud_encode_debug_up(uint32_t exchange, uint16_t length, uint8_t out[BW_CLOUD_DEBUG_HEADER])
{
    out[0] = BW_CLOUD_VERSION;
    out[1] = BW_CLOUD_TYPE_DEBUG_UP;
    bw_put16(out + 2, length);
    bw_put32(out + 4, exchange);
}

/* KEY_SET (§13.5): 8 + N bytes, N a key set's possible length, reserved 0. */
static bw_err decode_key_set(const uint8_t *payload, size_t len, bw_cloud_down *out)
{
    if (len < BW_CLOUD_KEY_SET_HEADER || len != BW_CLOUD_KEY_SET_HEADER + (size_t)bw_get16(payload + 2)) {
        return BW_E_SIZE;
    }
    uint16_t n = bw_get16(payload + 2);
    if (n < BW_CLOUD_KEY_SET_MIN || n > BW_CLOUD_KEY_SET_MAX || bw_get32(payload + 4) != 0) {
        return BW_E_INVALID;
    }
    *out = (bw_cloud_down){ .type = BW_CLOUD_TYPE_KEY_SET };
    out->key_set.length = n;
    out->key_set.data = payload + BW_CLOUD_KEY_SET_HEADER;
    return BW_OK;
}

size_t bw_cloud_encode_keys_answer(const bw_cloud_keys_answer *answer, const char *text,
                                   uint8_t out[BW_CLOUD_KEYS_ANSWER_MAX])
{
    size_t n = text != NULL ? strlen(text) : 0;
    n = n < BW_CLOUD_KEYS_ANSWER_TEXT_MAX ? n : BW_CLOUD_KEYS_ANSWER_TEXT_MAX;
    memset(out, 0, BW_CLOUD_KEYS_ANSWER_HEADER);
    out[0] = BW_CLOUD_VERSION;
    out[1] = BW_CLOUD_TYPE_KEYS_ANSWER;
    out[2] = answer->taken ? 0u : 1u;
    bw_put32(out + 4, answer->offered);
    bw_put32(out + 8, answer->held);
    bw_put16(out + 12, (uint16_t)n);
    memcpy(out + BW_CLOUD_KEYS_ANSWER_HEADER, text != NULL ? text : "", n);
    return BW_CLOUD_KEYS_ANSWER_HEADER + n;
}

bw_err bw_cloud_decode_down(const uint8_t *payload, size_t len, bw_cloud_down *out)
{
    if (len < 2) {
        return BW_E_SIZE;
    }
    if (payload[0] != BW_CLOUD_VERSION) {
        return BW_E_VERSION;
    }
    if (payload[1] == BW_CLOUD_TYPE_DEPLOY) {
        return decode_deploy(payload, len, out);
    }
    if (payload[1] == BW_CLOUD_TYPE_CHUNK) {
        return decode_chunk(payload, len, out);
    }
    if (payload[1] == BW_CLOUD_TYPE_HTTP_RESPONSE || payload[1] == BW_CLOUD_TYPE_CONFIG_RESPONSE
        || payload[1] == BW_CLOUD_TYPE_MQTT_DOWN) {
        return decode_http(payload, len, out);
    }
    if (payload[1] == BW_CLOUD_TYPE_DEBUG_DOWN) {
        return decode_debug(payload, len, out);
    }
    if (payload[1] == BW_CLOUD_TYPE_KEY_SET) {
        return decode_key_set(payload, len, out);
    }
    if (payload[1] != BW_CLOUD_TYPE_TIME) {
        return BW_E_INVALID;
    }
    if (len != BW_CLOUD_TIME_SIZE) {
        return BW_E_SIZE;
    }
    if (payload[2] != 0 || payload[3] != 0) {
        return BW_E_INVALID;
    }
    uint64_t ms = (uint64_t)bw_get32(payload + 4) | (uint64_t)bw_get32(payload + 8) << 32;
    if (ms < BW_CLOUD_TIME_MIN_MS || ms > UINT64_MAX / 1000u) {
        return BW_E_INVALID;
    }
    *out = (bw_cloud_down){ .type = BW_CLOUD_TYPE_TIME, .utc_ms = ms };
    return BW_OK;
}

void bw_cloud_encode_fetch(uint32_t deployment_id, uint32_t offset, uint16_t length,
                           uint8_t out[BW_CLOUD_FETCH_SIZE])
{
    out[0] = BW_CLOUD_VERSION;
    out[1] = BW_CLOUD_TYPE_FETCH;
    bw_put16(out + 2, length);
    bw_put32(out + 4, deployment_id);
    bw_put32(out + 8, offset);
}

void bw_cloud_encode_piece(uint8_t type, const bw_cloud_http_piece *piece, uint8_t out[BW_CLOUD_HTTP_HEADER])
{
    out[0] = BW_CLOUD_VERSION;
    out[1] = type;
    bw_put16(out + 2, piece->length);
    bw_put32(out + 4, piece->request_id);
    bw_put32(out + 8, piece->offset);
    bw_put32(out + 12, piece->total);
}

void bw_cloud_encode_http_request(const bw_cloud_http_piece *piece, uint8_t out[BW_CLOUD_HTTP_HEADER])
{
    bw_cloud_encode_piece(BW_CLOUD_TYPE_HTTP_REQUEST, piece, out);
}

void bw_cloud_encode_mqtt_up(const bw_cloud_http_piece *piece, uint8_t out[BW_CLOUD_HTTP_HEADER])
{
    bw_cloud_encode_piece(BW_CLOUD_TYPE_MQTT_UP, piece, out);
}

size_t bw_cloud_encode_update(const bw_cloud_update *update, const char *text,
                              uint8_t out[BW_CLOUD_UPDATE_MAX])
{
    size_t n = text != NULL ? strlen(text) : 0;
    n = n < BW_CLOUD_UPDATE_TEXT_MAX ? n : BW_CLOUD_UPDATE_TEXT_MAX;
    out[0] = BW_CLOUD_VERSION;
    out[1] = BW_CLOUD_TYPE_UPDATE;
    out[2] = update->state;
    out[3] = update->engine_error;
    bw_put32(out + 4, update->deployment_id);
    bw_put32(out + 8, update->app_version);
    bw_put32(out + 12, update->held);
    bw_put32(out + 16, update->bundle_size);
    out[20] = update->manifest_error;
    out[21] = update->rollback_cause;
    bw_put16(out + 22, (uint32_t)n);
    if (n > 0) {
        memcpy(out + BW_CLOUD_UPDATE_HEADER, text, n);
    }
    return BW_CLOUD_UPDATE_HEADER + n;
}

size_t bw_cloud_topic(char topic[BW_CLOUD_TOPIC_MAX], const char *device_id, const char *suffix)
{
    for (size_t i = 0; i < BW_CLOUD_DEVICE_ID_LEN; i++) {
        char c = device_id[i];
        if (c <= ' ' || c > '~' || c == '/' || c == '+' || c == '#') {
            return 0;
        }
    }
    size_t suffix_len = strlen(suffix);
    size_t len = 3u + BW_CLOUD_DEVICE_ID_LEN + 1u + suffix_len;
    if (len + 1u > BW_CLOUD_TOPIC_MAX) {
        return 0;
    }
    memcpy(topic, "bw/", 3);
    memcpy(topic + 3, device_id, BW_CLOUD_DEVICE_ID_LEN);
    topic[3 + BW_CLOUD_DEVICE_ID_LEN] = '/';
    memcpy(topic + 4 + BW_CLOUD_DEVICE_ID_LEN, suffix, suffix_len + 1u);
    return len;
}
