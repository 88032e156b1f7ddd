/*
 * HTTP over a channel (see bw_http.h; streams in docs/SPEC.md §16).
 *
 * Requests are checked on the bytes the kernel copied (through a small
 * bounce buffer), never by reading the app's memory a second time. The
 * exchange's state lives in the channel's table entry (bw_channel_table.h)
 * and changes under port_irq_lock; copies into the receive buffer happen
 * under it too, so a channel closed meanwhile is never written.
 */
#include <string.h>

#include "bw_bytes.h"
#include "bw_app_mem.h"
#include "bw_channel_table.h"
#include "bw_http.h"
#include "bw_notify.h"
#include "bw_port.h"
#include "bw_random.h"

#define BOUNCE 64u

static uint32_t next_request_id;

/* ---- request checks, on copied bytes ---- */

typedef struct text_check {
    uint32_t at;        /* bytes seen so far */
    bool colon_seen;    /* headers: past the name */
    bool ok;
} text_check;

static bool is_token(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* "https://" then visible ASCII. */
static void check_url(text_check *t, const uint8_t *b, size_t n)
{
    static const char scheme[] = "https://";
    for (size_t i = 0; i < n; i++, t->at++) {
        uint8_t c = b[i];
        if (t->at < sizeof scheme - 1) {
            uint8_t lower = c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
            t->ok = t->ok && lower == (uint8_t)scheme[t->at];
        } else {
            t->ok = t->ok && c > 0x20 && c < 0x7f;
        }
    }
}

/* "Name: value": a token, ':', then visible ASCII, space or tab. */
static void check_header(text_check *t, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++, t->at++) {
        uint8_t c = b[i];
        if (!t->colon_seen) {
            if (c == ':' && t->at > 0) {
                t->colon_seen = true;
            } else {
                t->ok = t->ok && is_token(c);
            }
        } else {
            t->ok = t->ok && ((c >= 0x20 && c < 0x7f) || c == '\t');
        }
    }
}

typedef void (*checker)(text_check *t, const uint8_t *b, size_t n);

/* Copies len app bytes from src to dst through the bounce buffer, showing
 * each piece to check (NULL: none). */
static bw_err copy_checked(uintptr_t dst, uintptr_t src, uint32_t len, checker check, text_check *t)
{
    uint8_t bounce[BOUNCE];
    for (uint32_t done = 0; done < len;) {
        uint32_t n = len - done < BOUNCE ? len - done : BOUNCE;
        bw_err err = bw_app_copy_in(bounce, src + done, n);
        if (err == BW_OK) {
            err = bw_app_copy_out(dst + done, bounce, n);
        }
        if (err != BW_OK) {
            return err;
        }
        if (check != NULL) {
            check(t, bounce, n);
        }
        done += n;
    }
    return BW_OK;
}

static bool method_known(const uint8_t *m, uint32_t len)
{
    static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS" };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        if (strlen(methods[i]) == len && memcmp(methods[i], m, len) == 0) {
            return true;
        }
    }
    return false;
}

static bw_err readable(const struct MvSizedString *s)
{
    return s->length == 0 ? BW_OK : bw_app_check_range((uintptr_t)s->data, s->length, BW_ACCESS_READ);
}

/* The locked entry of a live HTTP channel (bw_channel_lock). */
static bw_channel_entry *lock_http(uint32_t handle, uint32_t *state, bw_err *err)
{
    return bw_channel_lock(handle, MV_CHANNELTYPE_HTTP, state, err);
}

void bw_exchange_finish(bw_channel_entry *e, enum MvHttpResult how)
{
    e->http.state = HTTP_DONE;
    if (e->type == MV_CHANNELTYPE_CONFIGFETCH) {
        bw_config_fetch_end(e, how);
    } else if (how != MV_HTTPRESULT_OK) {
        e->http.data = (struct MvHttpResponseData){ .result = how };
    }
}

static void finish(bw_channel_entry *e, enum MvHttpResult how)
{
    bw_exchange_finish(e, how);
}

uint32_t bw_exchange_request_id(void)
{
    if (next_request_id == 0 && bw_random_bytes(&next_request_id, sizeof next_request_id) != BW_OK) {
        next_request_id = 1;
    }
    uint32_t state = port_irq_lock();
    uint32_t id = next_request_id++;
    next_request_id += next_request_id == 0 ? 1u : 0u;
    port_irq_unlock(state);
    return id;
}

static void notify_readable(uint32_t center, uint32_t tag)
{
    (void)bw_notify_trigger(center, MV_EVENTTYPE_CHANNELDATAREADABLE, tag);
}

/* Writes the request stream (§16.2) into the send buffer at tx; returns the
 * result the kernel judged (OK: the cloud judges the rest). */
static bw_err serialize(uintptr_t tx, const struct MvHttpRequest *r, const struct MvHttpHeader *headers,
                        enum MvHttpResult *result)
{
    uint8_t head[BW_HTTP_REQUEST_HEAD + 2u * BW_HTTP_HEADERS_MAX];
    uint32_t n = r->num_headers;
    head[0] = (uint8_t)r->method.length;
    head[1] = (uint8_t)n;
    bw_put16(head + 2, r->url.length);
    bw_put32(head + 4, r->timeout_ms);
    bw_put32(head + 8, r->body.length);
    bw_put32(head + 12, 0);   /* the capacity, filled in by the caller */
    for (uint32_t i = 0; i < n; i++) {
        bw_put16(head + BW_HTTP_REQUEST_HEAD + 2u * i, headers[i].length);
    }
    uint32_t at = BW_HTTP_REQUEST_HEAD + 2u * n;
    bw_err err = bw_app_copy_out(tx, head, at);
    text_check method = { .ok = true };
    uint8_t method_bytes[BW_HTTP_METHOD_MAX];
    if (err == BW_OK && r->method.length > 0) {
        err = bw_app_copy_in(method_bytes, (uintptr_t)r->method.data, r->method.length);
    }
    if (err == BW_OK) {
        method.ok = method_known(method_bytes, r->method.length);
        err = bw_app_copy_out(tx + at, method_bytes, r->method.length);
        at += r->method.length;
    }
    text_check url = { .ok = true };
    if (err == BW_OK) {
        err = copy_checked(tx + at, (uintptr_t)r->url.data, r->url.length, check_url, &url);
        at += r->url.length;
    }
    bool headers_ok = true;
    for (uint32_t i = 0; i < n && err == BW_OK; i++) {
        text_check h = { .ok = true };
        err = copy_checked(tx + at, (uintptr_t)headers[i].data, headers[i].length, check_header, &h);
        at += headers[i].length;
        headers_ok = headers_ok && h.ok && h.colon_seen;
    }
    if (err == BW_OK) {
        err = copy_checked(tx + at, (uintptr_t)r->body.data, r->body.length, NULL, NULL);
    }
    if (!url.ok || r->url.length <= 8u) {
        *result = MV_HTTPRESULT_UNSUPPORTEDURISCHEME;
    } else if (!method.ok) {
        *result = MV_HTTPRESULT_UNSUPPORTEDMETHOD;
    } else if (!headers_ok) {
        *result = MV_HTTPRESULT_INVALIDHEADERS;
    } else if (r->timeout_ms < BW_HTTP_TIMEOUT_MIN_MS || r->timeout_ms > BW_HTTP_TIMEOUT_MAX_MS) {
        *result = MV_HTTPRESULT_INVALIDTIMEOUT;
    } else {
        *result = MV_HTTPRESULT_OK;
    }
    return err;
}

/* The request's size limits and pointers; *total: its stream length. */
static bw_err check_request(const struct MvHttpRequest *r, const struct MvHttpHeader *headers,
                            uint32_t tx_len, uint32_t *total)
{
    bw_err err = readable(&r->method);
    if (err == BW_OK) {
        err = readable(&r->url);
    }
    if (err == BW_OK) {
        err = readable(&r->body);
    }
    uint64_t size = BW_HTTP_REQUEST_HEAD + 2u * (uint64_t)r->num_headers + r->method.length
                    + (uint64_t)r->url.length + r->body.length;
    bool lengths_ok = r->method.length <= BW_HTTP_METHOD_MAX && r->url.length <= BW_HTTP_URL_MAX;
    for (uint32_t i = 0; i < r->num_headers && err == BW_OK; i++) {
        struct MvSizedString line = { .data = headers[i].data, .length = headers[i].length };
        err = readable(&line);
        size += headers[i].length;
        lengths_ok = lengths_ok && headers[i].length <= BW_HTTP_HEADER_MAX;
    }
    if (err != BW_OK) {
        return err;
    }
    if (size > tx_len) {
        return BW_E_SIZE;
    }
    *total = (uint32_t)size;
    /* Longer fields cannot be written into the stream's head: the cloud
     * could not serve them either. */
    return lengths_ok ? BW_OK : BW_E_INVALID;
}

bw_err bw_http_send(uint32_t handle, const struct MvHttpRequest *request,
                    const struct MvHttpHeader *headers, uint64_t now_us)
{
    uint32_t state;
    bw_err err;
    bw_channel_entry *e = lock_http(handle, &state, &err);
    if (e == NULL) {
        return err;
    }
    err = !e->connected ? BW_E_CLOSED : e->http.state != HTTP_IDLE ? BW_E_ALREADY : BW_OK;
    uintptr_t tx = e->tx;
    uint32_t tx_len = e->tx_len;
    uint32_t rx_len = e->rx_len;
    uint32_t center = e->center;
    uint32_t tag = e->tag;
    port_irq_unlock(state);
    uint32_t total = 0;
    bool too_long = false;
    if (err == BW_OK) {
        err = check_request(request, headers, tx_len, &total);
        too_long = err == BW_E_INVALID;
        err = too_long ? BW_OK : err;
    }
    if (err != BW_OK) {
        return err;
    }
    state = port_irq_lock();
    if (e->handle != handle || e->http.state != HTTP_IDLE) {
        err = e->handle != handle ? BW_E_HANDLE : BW_E_ALREADY;   /* a preempting call */
    } else {
        e->http.state = HTTP_BUILDING;
    }
    port_irq_unlock(state);
    if (err != BW_OK) {
        return err;
    }
    enum MvHttpResult result = MV_HTTPRESULT_REQUESTFAILED;
    if (!too_long) {
        err = serialize(tx, request, headers, &result);
    }
    uint8_t capacity[4];
    bw_put32(capacity, rx_len);
    if (err == BW_OK) {
        err = bw_app_copy_out(tx + 12u, capacity, sizeof capacity);
    }
    uint32_t request_id = bw_exchange_request_id();
    state = port_irq_lock();
    bool live = e->handle == handle && e->http.state == HTTP_BUILDING;
    if (live && err != BW_OK) {
        e->http.state = HTTP_IDLE;   /* app memory vanished under the copy */
    } else if (live && result != MV_HTTPRESULT_OK) {
        finish(e, result);
    } else if (live) {
        e->http = (bw_http_exchange){ .state = HTTP_SENDING, .request_id = request_id,
                                      .request_len = total,
                                      .deadline_us = now_us + 1000u * ((uint64_t)request->timeout_ms
                                                                       + BW_HTTP_GRACE_MS) };
    }
    port_irq_unlock(state);
    if (live && err == BW_OK && result != MV_HTTPRESULT_OK) {
        notify_readable(center, tag);
    }
    return live ? err : BW_E_HANDLE;
}

bw_err bw_exchange_response(uint32_t handle, uint32_t type, bw_http_exchange *x, uintptr_t *rx)
{
    uint32_t state;
    bw_err err;
    bw_channel_entry *e = bw_channel_lock(handle, type, &state, &err);
    if (e == NULL) {
        return err;
    }
    *x = e->http;
    *rx = e->rx;
    err = x->state == HTTP_DONE ? BW_OK : e->connected ? BW_E_NOT_PRESENT : BW_E_CLOSED;
    port_irq_unlock(state);
    return err;
}

bw_err bw_http_response_data(uint32_t handle, struct MvHttpResponseData *out)
{
    bw_http_exchange x;
    uintptr_t rx;
    bw_err err = bw_exchange_response(handle, MV_CHANNELTYPE_HTTP, &x, &rx);
    if (err == BW_OK) {
        *out = x.data;
    }
    return err;
}

bw_err bw_http_response_header(uint32_t handle, uint32_t index, uintptr_t app_buf, uint32_t size)
{
    bw_http_exchange x;
    uintptr_t rx;
    bw_err err = bw_exchange_response(handle, MV_CHANNELTYPE_HTTP, &x, &rx);
    if (err != BW_OK) {
        return err;
    }
    if (index >= x.data.num_headers) {
        return BW_E_INDEX;
    }
    uint32_t at = 0;
    for (uint32_t i = 0; i < index; i++) {
        at += x.header_len[i];
    }
    uint32_t n = size < x.header_len[index] ? size : x.header_len[index];
    return bw_app_copy_within(app_buf, rx + at, n);
}

bw_err bw_http_response_body(uint32_t handle, uint32_t offset, uintptr_t app_buf, uint32_t size)
{
    bw_http_exchange x;
    uintptr_t rx;
    bw_err err = bw_exchange_response(handle, MV_CHANNELTYPE_HTTP, &x, &rx);
    if (err != BW_OK) {
        return err;
    }
    if (offset > x.data.body_length) {
        return BW_E_OFFSET;
    }
    uint32_t headers = 0;
    for (uint32_t i = 0; i < x.data.num_headers; i++) {
        headers += x.header_len[i];
    }
    uint32_t left = x.data.body_length - offset;
    uint32_t n = size < left ? size : left;
    return bw_app_copy_within(app_buf, rx + headers + offset, n);
}

/* ---- the relay's side ---- */

bool bw_http_next_piece(uint8_t *buf, size_t cap, bw_http_piece *piece)
{
    for (size_t i = 0; i < BW_CHANNELS_MAX; i++) {
        uint32_t state = port_irq_lock();
        bw_channel_entry *e = &bw_channel_entries[i];
        bool found = e->handle != 0 && e->connected && e->http.state == HTTP_SENDING;
        if (found) {
            uint32_t left = e->http.request_len - e->http.sent;
            uint32_t n = cap < left ? (uint32_t)cap : left;
            *piece = (bw_http_piece){ .type = e->type, .request_id = e->http.request_id, .offset = e->http.sent,
                                      .total = e->http.request_len, .len = n };
            found = bw_app_copy_in(buf, e->tx + e->http.sent, n) == BW_OK;
        }
        port_irq_unlock(state);
        if (found) {
            return true;
        }
    }
    return false;
}

/* The live channel waiting for request_id (lock held), or NULL. */
static bw_channel_entry *waiting_for(uint32_t request_id)
{
    for (size_t i = 0; i < BW_CHANNELS_MAX; i++) {
        bw_channel_entry *e = &bw_channel_entries[i];
        if (e->handle != 0 && e->connected && e->http.request_id == request_id
            && (e->http.state == HTTP_SENDING || e->http.state == HTTP_WAITING)) {
            return e;
        }
    }
    return NULL;
}

void bw_http_piece_sent(const bw_http_piece *piece)
{
    uint32_t state = port_irq_lock();
    bw_channel_entry *e = waiting_for(piece->request_id);
    if (e != NULL && e->http.state == HTTP_SENDING && e->http.sent == piece->offset) {
        e->http.sent += piece->len;
        if (e->http.sent >= e->http.request_len) {
            e->http.state = HTTP_WAITING;
        }
    }
    port_irq_unlock(state);
}

/* Takes the first piece's head and length table (lock held). */
static bool take_http_head(bw_channel_entry *e, uint32_t total, const uint8_t *data, size_t len)
{
    if (len < BW_HTTP_RESPONSE_HEAD) {
        return false;
    }
    uint32_t result = data[0];
    uint32_t count = bw_get16(data + 4);
    uint32_t header_bytes = bw_get32(data + 8);
    uint32_t body = bw_get32(data + 12);
    uint32_t prefix = BW_HTTP_RESPONSE_HEAD + 2u * count;
    if (result > MV_HTTPRESULT_RESPONSETOOLARGE || data[1] != 0 || bw_get16(data + 6) != 0
        || count > BW_HTTP_HEADERS_MAX || len < prefix
        || (uint64_t)prefix + header_bytes + body != total
        || (result != MV_HTTPRESULT_OK && total != BW_HTTP_RESPONSE_HEAD)) {
        return false;
    }
    uint32_t sum = 0;
    for (uint32_t i = 0; i < count; i++) {
        e->http.header_len[i] = (uint16_t)bw_get16(data + BW_HTTP_RESPONSE_HEAD + 2u * i);
        sum += e->http.header_len[i];
    }
    if (sum != header_bytes) {
        return false;
    }
    e->http.total = total;
    e->http.prefix = prefix;
    e->http.data = (struct MvHttpResponseData){ .result = (enum MvHttpResult)result,
                                                .status_code = bw_get16(data + 2),
                                                .num_headers = count, .body_length = body };
    return true;
}

static bool take_head(bw_channel_entry *e, uint32_t total, const uint8_t *data, size_t len)
{
    return e->type == MV_CHANNELTYPE_CONFIGFETCH ? bw_config_fetch_take_head(e, total, data, len)
                                                 : take_http_head(e, total, data, len);
}

bw_err bw_http_response_piece(uint32_t type, uint32_t request_id, uint32_t offset, uint32_t total,
                              const uint8_t *data, size_t len)
{
    uint32_t state = port_irq_lock();
    bw_channel_entry *e = waiting_for(request_id);
    if (e == NULL || e->http.state != HTTP_WAITING || e->type != type) {
        port_irq_unlock(state);
        return BW_E_HANDLE;
    }
    bw_http_exchange *x = &e->http;
    bool ok = offset == x->received && (uint64_t)offset + len <= total && (offset == 0 || total == x->total);
    if (ok && offset == 0) {
        ok = take_head(e, total, data, len);
    }
    bool too_large = ok && (uint64_t)total - x->prefix > e->rx_len;
    if (ok && !too_large) {
        /* Stream bytes from the prefix on go to the receive buffer. */
        uint32_t skip = offset < x->prefix ? x->prefix - offset : 0u;
        uint32_t at = offset + skip - x->prefix;
        ok = bw_app_copy_out(e->rx + at, data + skip, len - skip) == BW_OK;
        x->received = offset + (uint32_t)len;
    }
    bool done = !ok || too_large || x->received == x->total;
    if (!ok) {
        finish(e, MV_HTTPRESULT_REQUESTFAILED);
    } else if (too_large) {
        finish(e, MV_HTTPRESULT_RESPONSETOOLARGE);
    } else if (done) {
        finish(e, MV_HTTPRESULT_OK);
    }
    uint32_t center = e->center;
    uint32_t tag = e->tag;
    port_irq_unlock(state);
    if (done) {
        notify_readable(center, tag);
    }
    return ok ? BW_OK : BW_E_INVALID;
}

void bw_http_poll(uint64_t now_us)
{
    for (size_t i = 0; i < BW_CHANNELS_MAX; i++) {
        uint32_t state = port_irq_lock();
        bw_channel_entry *e = &bw_channel_entries[i];
        bool late = e->handle != 0 && e->connected
                    && (e->http.state == HTTP_SENDING || e->http.state == HTTP_WAITING)
                    && now_us >= e->http.deadline_us;
        if (late) {
            finish(e, MV_HTTPRESULT_REQUESTFAILED);
        }
        uint32_t center = e->center;
        uint32_t tag = e->tag;
        port_irq_unlock(state);
        if (late) {
            notify_readable(center, tag);
        }
    }
}
