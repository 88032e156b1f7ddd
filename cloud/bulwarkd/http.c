/*
 * The HTTP relay's cloud side (docs/SPEC.md §16): reassembles request
 * streams from HTTP_REQUEST pieces, performs each with libcurl on its own
 * thread (https only, bounded by the request's timeout and the device's
 * receive capacity) and publishes the response stream in HTTP_RESPONSE
 * pieces on bw/D/down/http at QoS 0. The broker thread only copies bytes.
 *
 * At most BWD_HTTP_MAX requests (BWD_HTTP_PER_DEVICE per device) are being
 * assembled or performed; one more is answered REQUESTFAILED at once.
 * A device's STATUS (offline, or online: a new connection) abandons its
 * requests: one being assembled is dropped, one being performed is stopped
 * and its response never sent (it would reach nobody, §16.4).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "bulwarkd.h"
#include "cloud_proto.h"

#define BWD_HTTP_MAX 64u
#define BWD_HTTP_PER_DEVICE 4u
#define BWD_HTTP_RESPONSE_MAX (1024u * 1024u)   /* whatever the device's capacity */

typedef struct slot {
    bool used;
    bool running;             /* complete: a worker performs it */
    atomic_bool abandoned;    /* set while running: the device's connection ended */
    char device[BWD_DEVICE_ID_LEN + 1];
    uint32_t request_id, total, received;
    uint8_t *stream;
} slot;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static slot slots[BWD_HTTP_MAX];

/* What libcurl gives back, bounded by the capacity. */
typedef struct response {
    uint32_t capacity;        /* header text + body */
    uint32_t used;
    uint16_t count;
    uint16_t length[CP_HTTP_HEADERS_MAX];
    bool too_large;
    uint8_t *headers;         /* capacity bytes: header lines, then the body at body_at */
    uint8_t *body;
    uint32_t body_length;
} response;

typedef struct job {
    bwd *d;
    size_t slot;
} job;

void bwd_http_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

bool bwd_publish_stream(bwd *d, const char *device, const char *kind, uint8_t type, uint32_t id,
                        const uint8_t *stream, uint32_t total, unsigned *pieces)
{
    char topic[64];
    uint8_t piece[CP_HTTP_HEADER + CP_HTTP_PIECE_MAX];
    snprintf(topic, sizeof topic, "bw/%s/down/%s", device, kind);
    *pieces = 0;
    for (uint32_t at = 0; at < total;) {
        uint32_t n = total - at < CP_HTTP_PIECE_MAX ? total - at : CP_HTTP_PIECE_MAX;
        cp_encode_piece_header(type, id, at, total, (uint16_t)n, piece);
        memcpy(piece + CP_HTTP_HEADER, stream + at, n);
        if (broker_publish(d->broker, topic, piece, CP_HTTP_HEADER + n, 0) != 0) {
            return false;
        }
        (*pieces)++;
        at += n;
    }
    return true;
}

/* Publishes a response stream in pieces; false if a piece could not be. */
static bool publish_stream(bwd *d, const char *device, uint32_t request_id, const uint8_t *stream,
                           uint32_t total)
{
    unsigned pieces = 0;
    bool ok = bwd_publish_stream(d, device, "http", CP_TYPE_HTTP_RESPONSE, request_id, stream, total, &pieces);
    d->counters.http_pieces_sent += pieces;
    if (!ok) {
        d->counters.http_publish_failed++;
    }
    return ok;
}

/* A head-only response carrying result. */
static void answer(bwd *d, const char *device, uint32_t request_id, cp_http_result result)
{
    uint8_t head[CP_HTTP_HEAD + 2 * CP_HTTP_HEADERS_MAX];
    size_t n = cp_encode_http_response_head(result, 0, 0, NULL, 0, head);
    publish_stream(d, device, request_id, head, (uint32_t)n);
    if (result == CP_HTTP_RESPONSE_TOO_LARGE) {
        d->counters.http_too_large++;
    } else {
        d->counters.http_failed++;
    }
}

static size_t on_header(char *text, size_t size, size_t n, void *ctx)
{
    response *r = ctx;
    size_t len = size * n;
    if (len >= 5 && memcmp(text, "HTTP/", 5) == 0) {
        r->count = 0;   /* a new response (after 1xx): its headers only */
        r->used = 0;
        return len;
    }
    size_t line = len;
    while (line > 0 && (text[line - 1] == '\r' || text[line - 1] == '\n')) {
        line--;
    }
    if (line == 0) {
        return len;
    }
    if (r->count >= CP_HTTP_HEADERS_MAX || line > CP_HTTP_HEADER_LINE_MAX || r->used + line > r->capacity) {
        r->too_large = true;
        return 0;   /* stops the transfer */
    }
    memcpy(r->headers + r->used, text, line);
    r->length[r->count++] = (uint16_t)line;
    r->used += (uint32_t)line;
    return len;
}

/* libcurl's progress callback: non-zero stops a transfer nobody waits for. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return atomic_load((const atomic_bool *)ctx) ? 1 : 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    response *r = ctx;
    size_t len = size * n;
    if (r->body == NULL) {
        r->body = r->headers + r->used;   /* header lines are complete */
    }
    if ((uint64_t)r->used + r->body_length + len > r->capacity) {
        r->too_large = true;
        return 0;
    }
    memcpy(r->body + r->body_length, data, len);
    r->body_length += (uint32_t)len;
    return len;
}

/* Performs a checked request; answers the device unless *abandoned. */
static void perform(bwd *d, const char *device, uint32_t request_id, const cp_http_request *q,
                    atomic_bool *abandoned)
{
    response r = { .capacity = q->capacity < BWD_HTTP_RESPONSE_MAX ? q->capacity : BWD_HTTP_RESPONSE_MAX };
    char *url = calloc(1, q->url_length + 1u);
    char *method = calloc(1, q->method_length + 1u);
    r.headers = malloc(r.capacity + 1u);
    CURL *curl = curl_easy_init();
    struct curl_slist *list = NULL;
    struct curl_slist *connect_to = NULL;
    bool ok = url != NULL && method != NULL && r.headers != NULL && curl != NULL;
    const uint8_t *h = q->headers;
    for (unsigned i = 0; ok && i < q->header_count; i++) {
        char line[CP_HTTP_HEADER_LINE_MAX + 1];
        memcpy(line, h, q->header_length[i]);
        line[q->header_length[i]] = '\0';
        h += q->header_length[i];
        struct curl_slist *more = curl_slist_append(list, line);
        ok = more != NULL;
        list = more != NULL ? more : list;
    }
    CURLcode rc = CURLE_FAILED_INIT;
    long status = 0;
    if (ok) {
        memcpy(url, q->url, q->url_length);
        memcpy(method, q->method, q->method_length);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)q->timeout_ms);
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(curl, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
        if (q->body_length > 0) {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)q->body);
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)q->body_length);
        }
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, abandoned);
        if (d->config.http_ca[0] != '\0') {
            curl_easy_setopt(curl, CURLOPT_CAINFO, d->config.http_ca);
        }
        if (d->config.http_connect_to[0] != '\0') {
            connect_to = curl_slist_append(NULL, d->config.http_connect_to);
            curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to);
        }
        rc = curl_easy_perform(curl);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    if (atomic_load(abandoned)) {
        d->counters.http_abandoned++;
        fprintf(stderr, "bulwarkd: %s: HTTP request %u abandoned: the device's connection ended\n", device,
                (unsigned)request_id);
    } else if (r.too_large) {
        answer(d, device, request_id, CP_HTTP_RESPONSE_TOO_LARGE);
    } else if (rc != CURLE_OK) {
        fprintf(stderr, "bulwarkd: %s: HTTP request %u failed: %s\n", device, (unsigned)request_id,
                curl_easy_strerror(rc));
        answer(d, device, request_id, CP_HTTP_REQUEST_FAILED);
    } else {
        /* The stream: head and table, then header lines and body as held. */
        uint8_t head[CP_HTTP_HEAD + 2 * CP_HTTP_HEADERS_MAX];
        size_t n = cp_encode_http_response_head(CP_HTTP_OK, (uint16_t)status, r.count, r.length, r.body_length,
                                                head);
        uint32_t total = (uint32_t)n + r.used + r.body_length;
        uint8_t *stream = malloc(total);
        if (stream == NULL) {
            answer(d, device, request_id, CP_HTTP_REQUEST_FAILED);
        } else {
            memcpy(stream, head, n);
            memcpy(stream + n, r.headers, r.used + r.body_length);
            if (publish_stream(d, device, request_id, stream, total)) {
                d->counters.http_ok++;
            }
            free(stream);
        }
    }
    curl_slist_free_all(list);
    curl_slist_free_all(connect_to);
    if (curl != NULL) {
        curl_easy_cleanup(curl);
    }
    free(r.headers);
    free(method);
    free(url);
}

static void release(size_t i)
{
    pthread_mutex_lock(&lock);
    free(slots[i].stream);
    slots[i] = (slot){ 0 };
    pthread_mutex_unlock(&lock);
}

static void *worker(void *arg)
{
    job j = *(job *)arg;
    free(arg);
    slot *s = &slots[j.slot];   /* running: only this thread touches it until release */
    cp_http_request q;
    cp_result r = cp_decode_http_request(s->stream, s->total, &q);
    if (r != CP_OK) {
        j.d->counters.http_bad_request++;
        answer(j.d, s->device, s->request_id, CP_HTTP_REQUEST_FAILED);
    } else if (q.verdict != CP_HTTP_OK) {
        answer(j.d, s->device, s->request_id, q.verdict);
    } else {
        perform(j.d, s->device, s->request_id, &q, &s->abandoned);
    }
    release(j.slot);
    return NULL;
}

/* The slot of (device, request_id), or a new one for a first piece; lock held.
 * BWD_HTTP_MAX when none (and *busy when the limits say no). */
static size_t find(const char *device, uint32_t request_id, bool first, bool *busy)
{
    size_t free_slot = BWD_HTTP_MAX;
    unsigned mine = 0;
    for (size_t i = 0; i < BWD_HTTP_MAX; i++) {
        if (!slots[i].used) {
            free_slot = free_slot == BWD_HTTP_MAX ? i : free_slot;
            continue;
        }
        bool same_device = strcmp(slots[i].device, device) == 0;
        mine += same_device ? 1u : 0u;
        if (same_device && slots[i].request_id == request_id) {
            return i;
        }
    }
    *busy = first && (free_slot == BWD_HTTP_MAX || mine >= BWD_HTTP_PER_DEVICE);
    return first && !*busy ? free_slot : BWD_HTTP_MAX;
}

void bwd_http_abandon(bwd *d, const char *device)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < BWD_HTTP_MAX; i++) {
        slot *s = &slots[i];
        if (!s->used || strcmp(s->device, device) != 0) {
            continue;
        }
        if (s->running) {
            atomic_store(&s->abandoned, true);   /* the worker counts it and releases the slot */
        } else {
            free(s->stream);
            *s = (slot){ 0 };
            d->counters.http_abandoned++;
        }
    }
    pthread_mutex_unlock(&lock);
}

void bwd_handle_http(bwd *d, const char *device, const uint8_t *payload, size_t len)
{
    cp_http_piece p;
    cp_result r = cp_decode_http_piece(payload, len, &p);
    if (r != CP_OK) {
        d->counters.http_bad_piece++;
        fprintf(stderr, "bulwarkd: %s: HTTP_REQUEST ignored: %s\n", device, cp_result_text(r));
        return;
    }
    pthread_mutex_lock(&lock);
    bool busy = false;
    size_t i = find(device, p.request_id, p.offset == 0, &busy);
    slot *s = i < BWD_HTTP_MAX ? &slots[i] : NULL;
    bool fresh = s != NULL && !s->used;
    if (fresh) {
        uint8_t *stream = malloc(p.total);
        if (stream == NULL) {
            s = NULL;
            busy = true;
        } else {
            *s = (slot){ .used = true, .request_id = p.request_id, .total = p.total, .stream = stream };
            snprintf(s->device, sizeof s->device, "%s", device);
        }
    }
    bool in_order = s != NULL && !s->running && p.offset == s->received && p.total == s->total;
    if (in_order) {
        memcpy(s->stream + p.offset, p.data, p.length);
        s->received += p.length;
    } else if (s != NULL && !s->running) {
        free(s->stream);   /* out of order: the request is dropped; the device times out */
        *s = (slot){ 0 };
    }
    bool complete = in_order && s->received == s->total;
    if (complete) {
        s->running = true;
    }
    pthread_mutex_unlock(&lock);
    if (busy) {
        d->counters.http_busy++;
        answer(d, device, p.request_id, CP_HTTP_REQUEST_FAILED);
        return;
    }
    if (!in_order) {
        d->counters.http_bad_piece++;
        return;
    }
    if (!complete) {
        return;
    }
    d->counters.http_requests++;
    job *j = malloc(sizeof *j);
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (j == NULL || (*j = (job){ .d = d, .slot = i }, pthread_create(&thread, &attr, worker, j) != 0)) {
        free(j);
        answer(d, device, p.request_id, CP_HTTP_REQUEST_FAILED);
        release(i);
    }
    pthread_attr_destroy(&attr);
}
