/*
 * bulwarkd's REST API (docs/API.md) over libmicrohttpd: one thread per
 * connection, so a long poll (GET .../logs?wait=) blocks only its own client.
 * Every request is authenticated first (Authorization: Bearer <admin token>,
 * compared in constant time), then routed; every answer is JSON and every
 * error is {"error":{"code","message"}} with its HTTP status.
 * Request bodies are capped at MAX_BODY bytes (413 beyond), a bundle upload
 * (POST /v1/apps) and a signed kernel upload (POST /v1/kernels) at MAX_BUNDLE.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "bulwarkd.h"
#include "lib_bundle.h"

#define MAX_BODY (64u * 1024u)
#define MAX_BUNDLE BUNDLE_FILE_MAX
#define DEPLOY_DEVICES_MAX 1000u
#define DEPLOYMENTS_LIMIT_DEFAULT 100u
#define PAGE_SIZE_DEFAULT 50u
#define PAGE_SIZE_MAX 1000u
#define LOG_LIMIT_DEFAULT 100u
#define LOG_LIMIT_MAX 1000u
#define WAIT_MAX_S 60u

typedef struct request {
    char *body;
    size_t len, allocated, cap;
    bool too_big;
} request;

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL) {
        return MHD_NO;
    }
    size_t n = strlen(text);
    text[n] = '\0';
    char *with_newline = realloc(text, n + 2);
    if (with_newline != NULL) {
        with_newline[n] = '\n';
        with_newline[n + 1] = '\0';
        text = with_newline;
        n++;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *code, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return send_json(c, status, json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message));
}

static bool authorised(struct MHD_Connection *c, const bwd *d)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
        return false;
    }
    const char *given = h + 7;
    size_t want = strlen(d->config.token);
    /* Constant time in the token's content; the length is not secret. */
    return strlen(given) == want && CRYPTO_memcmp(given, d->config.token, want) == 0;
}

/* A query parameter as an unsigned number in [min, max]; def when absent.
 * False when present but not a whole decimal number in range. */
static bool query_uint(struct MHD_Connection *c, const char *name, unsigned long long min, unsigned long long max,
                       unsigned long long def, unsigned long long *out)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    if (v == NULL) {
        *out = def;
        return true;
    }
    if (*v < '0' || *v > '9' || strlen(v) > 19) {
        return false;
    }
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end != '\0' || n < min || n > max) {
        return false;
    }
    *out = n;
    return true;
}

static enum MHD_Result health(struct MHD_Connection *c, bwd *d)
{
    bwd_counters *k = &d->counters;
    json_t *ota = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "uploads", (json_int_t)k->uploads, "fetches", (json_int_t)k->fetches,
        "chunks_sent", (json_int_t)k->chunks_sent, "chunks_refused", (json_int_t)k->chunks_refused,
        "bad_fetch_ignored", (json_int_t)k->bad_fetch, "updates", (json_int_t)k->updates,
        "bad_update_ignored", (json_int_t)k->bad_update, "stale_update_ignored", (json_int_t)k->stale_update,
        "unmatched_update_ignored", (json_int_t)k->unmatched_update, "deploy_sent", (json_int_t)k->deploy_sent);
    json_object_set_new(ota, "key_sets_sent", json_integer((json_int_t)k->key_sets_sent));
    json_object_set_new(ota, "key_set_answers", json_integer((json_int_t)k->key_set_answers));
    json_t *http = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "requests", (json_int_t)k->http_requests, "ok", (json_int_t)k->http_ok,
        "failed", (json_int_t)k->http_failed, "too_large", (json_int_t)k->http_too_large,
        "busy_refused", (json_int_t)k->http_busy, "bad_piece_ignored", (json_int_t)k->http_bad_piece,
        "bad_request", (json_int_t)k->http_bad_request, "pieces_sent", (json_int_t)k->http_pieces_sent,
        "publish_failed", (json_int_t)k->http_publish_failed, "abandoned", (json_int_t)k->http_abandoned);
    json_t *config = json_pack("{s:I, s:I, s:I}", "fetches", (json_int_t)k->config_fetches, "items",
                               (json_int_t)k->config_items, "bad_request_ignored", (json_int_t)k->config_bad_request);
    json_object_set_new(http, "config", config);
    json_t *mqtt = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "sessions", (json_int_t)k->mqtt_sessions, "refused", (json_int_t)k->mqtt_refused,
        "messages_in", (json_int_t)k->mqtt_messages_in, "published", (json_int_t)k->mqtt_published,
        "acks", (json_int_t)k->mqtt_acks, "bad_piece_ignored", (json_int_t)k->mqtt_bad_piece,
        "bad_op", (json_int_t)k->mqtt_bad_op, "closed_by_broker", (json_int_t)k->mqtt_closed);
    json_t *debug = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "exchanges", (json_int_t)k->debug_exchanges,
        "answered", (json_int_t)k->debug_answered, "timeouts", (json_int_t)k->debug_timeouts,
        "busy_refused", (json_int_t)k->debug_busy, "unmatched_ignored", (json_int_t)k->debug_unmatched,
        "bad_ignored", (json_int_t)k->debug_bad);
    return send_json(c, 200, json_pack("{s:s, s:b, s:i, s:o, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
        "status", "ok", "broker_connected", broker_connected(d->broker), "schema_version",
        store_schema_version(d->store), "ota", ota, "http", http, "mqtt", mqtt, "debug", debug, "counters",
        "messages", (json_int_t)k->messages, "unregistered_ignored", (json_int_t)k->unregistered,
        "invalid_ignored", (json_int_t)k->invalid, "unknown_topic_ignored", (json_int_t)k->unknown_topic,
        "log_lines", (json_int_t)k->log_lines, "duplicate_lines", (json_int_t)k->duplicate_lines,
        "lost_lines", (json_int_t)k->lost_lines, "crashes", (json_int_t)k->crashes,
        "bad_crash_records", (json_int_t)k->bad_crash_records, "time_sent", (json_int_t)k->time_sent));
}

static enum MHD_Result list_devices(struct MHD_Connection *c, bwd *d)
{
    unsigned long long size;
    if (!query_uint(c, "page_size", 1, PAGE_SIZE_MAX, PAGE_SIZE_DEFAULT, &size)) {
        return send_error(c, 400, "bad_request", "page_size must be 1..%u", PAGE_SIZE_MAX);
    }
    const char *token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "page_token");
    if (token != NULL && !bwd_valid_device_id(token)) {
        return send_error(c, 400, "bad_request", "page_token is not one this server gave");
    }
    bool more = false;
    json_t *list = store_devices_json(d->store, token, (unsigned)size, &more);
    json_t *next = json_null();
    size_t n = json_array_size(list);
    if (more && n > 0) {
        next = json_incref(json_object_get(json_array_get(list, n - 1), "id"));
    }
    return send_json(c, 200, json_pack("{s:o, s:o}", "devices", list, "next_page_token", next));
}

static enum MHD_Result register_device(struct MHD_Connection *c, bwd *d, const request *req)
{
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (type == NULL || strncasecmp(type, "application/json", 16) != 0) {
        return send_error(c, 415, "unsupported_media_type", "send the body as application/json");
    }
    json_error_t jerr;
    json_t *body = json_loadb(req->body != NULL ? req->body : "", req->len, JSON_REJECT_DUPLICATES, &jerr);
    if (body == NULL) {
        return send_error(c, 400, "bad_json", "body is not JSON: %s", jerr.text);
    }
    const char *id = NULL, *pem = NULL;
    size_t pem_len = 0;
    if (json_unpack_ex(body, &jerr, JSON_STRICT, "{s:s, s:s%}", "id", &id, "certificate", &pem, &pem_len) != 0) {
        json_decref(body);
        return send_error(c, 400, "bad_request", "expected {\"id\": string, \"certificate\": string}: %s", jerr.text);
    }
    if (!bwd_valid_device_id(id)) {
        json_decref(body);
        return send_error(c, 400, "bad_device_id", "a device ID is \"BW\" and 32 uppercase hex digits");
    }
    char reason[256], ca[BWD_PATH_MAX + 16];
    snprintf(ca, sizeof ca, "%s/ca.crt", d->config.fleet_dir);
    if (bwd_check_certificate(pem, pem_len, id, ca, reason, sizeof reason) != 0) {
        json_decref(body);
        return send_error(c, 400, "bad_certificate", "%s", reason);
    }
    store_result r = store_device_add(d->store, id, pem, bwd_now_ms());
    if (r == STORE_EXISTS) {
        enum MHD_Result rc = send_error(c, 409, "exists", "device %s is already registered", id);
        json_decref(body);   /* id points into body */
        return rc;
    }
    if (r != STORE_OK || bwd_write_registry(d) != 0) {
        json_decref(body);
        return send_error(c, 500, "internal", "could not store the device");
    }
    json_t *device = store_device_json(d->store, id);
    json_decref(body);   /* after the last use of id */
    return send_json(c, 201, device != NULL ? device : json_object());
}

static enum MHD_Result device_logs(struct MHD_Connection *c, bwd *d, const char *id)
{
    unsigned long long after, limit, wait;
    if (!query_uint(c, "after", 0, INT64_MAX, 0, &after) || !query_uint(c, "limit", 1, LOG_LIMIT_MAX,
                                                                          LOG_LIMIT_DEFAULT, &limit)
        || !query_uint(c, "wait", 0, WAIT_MAX_S, 0, &wait)) {
        return send_error(c, 400, "bad_request", "after >= 0, limit 1..%u, wait 0..%u seconds", LOG_LIMIT_MAX,
                          WAIT_MAX_S);
    }
    int64_t deadline = bwd_now_ms() + (int64_t)wait * 1000;
    for (;;) {
        int64_t seen = store_last_cursor(d->store), last = 0;
        json_t *entries = store_logs_json(d->store, id, (int64_t)after, (unsigned)limit, &last);
        if (json_array_size(entries) > 0 || bwd_now_ms() >= deadline
            || store_wait_logs(d->store, seen, deadline) < 0 || !store_device_exists(d->store, id)) {
            return send_json(c, 200, json_pack("{s:s, s:o, s:I}", "device", id, "entries", entries,
                                               "next_cursor", (json_int_t)last));
        }
        /* Some device logged something new (or the time is up): look again. */
        json_decref(entries);
    }
}

/* POST /v1/devices/{id}/debug: one debug session exchange (SPEC §21.5),
 * raw bytes both ways. */
static enum MHD_Result device_debug(struct MHD_Connection *c, bwd *d, const char *method, const char *id,
                                    const request *req)
{
    if (strcmp(method, "POST") != 0) {
        return send_error(c, 405, "method_not_allowed", "%s is not allowed here (POST)", method);
    }
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (type == NULL || strcasecmp(type, "application/octet-stream") != 0) {
        return send_error(c, 415, "unsupported_media_type", "send the session bytes as application/octet-stream");
    }
    json_t *device = store_device_json(d->store, id);
    if (device == NULL) {
        return send_error(c, 404, "not_found", "device %s is not registered", id);
    }
    bool online = json_is_true(json_object_get(device, "online"));
    json_decref(device);
    if (!online) {
        return send_error(c, 409, "offline", "device %s is offline", id);
    }
    if (req->len == 0 || req->len > BWD_DEBUG_MAX) {
        return send_error(c, 413, "too_large", "session bytes must be 1..%u, not %zu", BWD_DEBUG_MAX, req->len);
    }
    uint8_t answer[BWD_DEBUG_MAX];
    size_t n = 0;
    const char *code = "internal";
    unsigned status = bwd_debug_exchange(d, id, (const uint8_t *)req->body, req->len, answer, &n, &code);
    if (status != 200) {
        if (status == 429) {
            return send_error(c, status, code, "device %s: one debug exchange at a time, at most %u a second", id,
                              BWD_DEBUG_RATE);
        }
        if (status == 504) {
            return send_error(c, status, code, "device %s did not answer in %d s", id, BWD_DEBUG_WAIT_S);
        }
        return send_error(c, status, code, "device %s: the exchange failed (%s)", id, code);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(n, answer, MHD_RESPMEM_MUST_COPY);
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result route_device(struct MHD_Connection *c, bwd *d, const char *method, const char *rest,
                                   const request *req)
{
    char id[BWD_DEVICE_ID_LEN + 1];
    const char *slash = strchr(rest, '/');
    size_t n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
    const char *tail = slash != NULL ? slash : "";
    if (n != BWD_DEVICE_ID_LEN) {
        return send_error(c, 404, "not_found", "no such device or resource");
    }
    memcpy(id, rest, n);
    id[n] = '\0';
    if (!bwd_valid_device_id(id)) {
        return send_error(c, 404, "not_found", "no such device or resource");
    }
    bool get = strcmp(method, "GET") == 0;
    if (strcmp(tail, "") == 0) {
        if (get) {
            json_t *device = store_device_json(d->store, id);
            return device != NULL ? send_json(c, 200, device)
                                  : send_error(c, 404, "not_found", "device %s is not registered", id);
        }
        if (strcmp(method, "DELETE") == 0) {
            store_result r = store_device_remove(d->store, id);
            if (r == STORE_NOT_FOUND) {
                return send_error(c, 404, "not_found", "device %s is not registered", id);
            }
            if (r != STORE_OK || bwd_write_registry(d) != 0) {
                return send_error(c, 500, "internal", "could not remove the device");
            }
            return send_json(c, 200, json_pack("{s:s, s:b}", "id", id, "removed", 1));
        }
        return send_error(c, 405, "method_not_allowed", "%s is not allowed here (GET, DELETE)", method);
    }
    if (strcmp(tail, "/debug") == 0) {
        return device_debug(c, d, method, id, req);
    }
    if (strcmp(tail, "/logs") != 0 && strcmp(tail, "/crashes") != 0) {
        return send_error(c, 404, "not_found", "no such resource");
    }
    if (!get) {
        return send_error(c, 405, "method_not_allowed", "%s is not allowed here (GET)", method);
    }
    if (!store_device_exists(d->store, id)) {
        return send_error(c, 404, "not_found", "device %s is not registered", id);
    }
    if (strcmp(tail, "/logs") == 0) {
        return device_logs(c, d, id);
    }
    return send_json(c, 200, json_pack("{s:s, s:o}", "device", id, "crashes", store_crashes_json(d->store, id)));
}

/* A whole decimal ID >= 1 (at most 18 digits), or 0. */
static int64_t parse_id(const char *t)
{
    if (t == NULL || *t < '1' || *t > '9' || strlen(t) > 18) {
        return 0;
    }
    int64_t v = 0;
    for (; *t != '\0'; t++) {
        if (*t < '0' || *t > '9') {
            return 0;
        }
        v = v * 10 + (*t - '0');
    }
    return v;
}

/* POST /v1/apps (a bundle) or POST /v1/kernels (a signed kernel file). */
static enum MHD_Result upload_app(struct MHD_Connection *c, bwd *d, const request *req, bool kernel)
{
    const char *what = kernel ? "kernel" : "bundle";
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (type == NULL || strncasecmp(type, "application/octet-stream", 24) != 0) {
        return send_error(c, 415, "unsupported_media_type", "send the %s as application/octet-stream", what);
    }
    json_t *app = NULL;
    const char *code = "internal";
    char reason[512];
    const uint8_t *body = (const uint8_t *)(req->body != NULL ? req->body : "");
    unsigned status = kernel ? bwd_upload_kernel(d, body, req->len, &app, &code, reason, sizeof reason)
                             : bwd_upload(d, body, req->len, &app, &code, reason, sizeof reason);
    if (app == NULL) {
        return status < 300 ? send_error(c, 500, "internal", "the stored %s cannot be read", what)
                            : send_error(c, status, code, "%s refused: %s", what, reason);
    }
    return send_json(c, status, app);
}

/* POST /v1/keysets[?device=D]: a key set (SPEC §12.4) for the fleet or one device. */
static enum MHD_Result push_key_set(struct MHD_Connection *c, bwd *d, const request *req)
{
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (type == NULL || strncasecmp(type, "application/octet-stream", 24) != 0) {
        return send_error(c, 415, "unsupported_media_type", "send the key set as application/octet-stream");
    }
    const char *device = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "device");
    if (device != NULL && (!bwd_valid_device_id(device) || !store_device_exists(d->store, device))) {
        return send_error(c, 404, "no_such_device", "device %s is not registered", device);
    }
    json_t *set = NULL;
    const char *code = "internal";
    char reason[512];
    unsigned status = bwd_push_key_set(d, (const uint8_t *)(req->body != NULL ? req->body : ""), req->len, device,
                                       &set, &code, reason, sizeof reason);
    if (set == NULL) {
        return status < 300 ? send_error(c, 500, "internal", "the stored key set cannot be read")
                            : send_error(c, status, code, "key set refused: %s", reason);
    }
    return send_json(c, status, set);
}

/* GET /v1/apps/{id} or /v1/kernels/{id}: an upload of that kind. */
static enum MHD_Result route_app(struct MHD_Connection *c, bwd *d, const char *method, const char *rest, bool kernel)
{
    int64_t id = parse_id(rest);
    json_t *app = id > 0 ? store_app_json(d->store, id) : NULL;
    if (app != NULL && (json_object_get(app, "kind") != NULL) != kernel) {
        json_decref(app);
        app = NULL;
    }
    if (app == NULL) {
        return send_error(c, 404, "not_found", "no %s %s", kernel ? "kernel" : "app", rest);
    }
    if (strcmp(method, "GET") != 0) {
        json_decref(app);
        return send_error(c, 405, "method_not_allowed", "%s is not allowed here (GET)", method);
    }
    return send_json(c, 200, app);
}

static enum MHD_Result create_deployment(struct MHD_Connection *c, bwd *d, const request *req)
{
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (type == NULL || strncasecmp(type, "application/json", 16) != 0) {
        return send_error(c, 415, "unsupported_media_type", "send the body as application/json");
    }
    json_error_t jerr;
    json_t *body = json_loadb(req->body != NULL ? req->body : "", req->len, JSON_REJECT_DUPLICATES, &jerr);
    json_int_t app = 0, kernel = 0;
    json_t *devices = NULL;
    if (body == NULL
        || json_unpack_ex(body, &jerr, JSON_STRICT, "{s?I, s?I, s:o}", "app", &app, "kernel", &kernel, "devices",
                          &devices) != 0
        || (app > 0) == (kernel > 0) || app < 0 || kernel < 0
        || !json_is_array(devices) || json_array_size(devices) == 0 || json_array_size(devices) > DEPLOY_DEVICES_MAX) {
        json_decref(body);
        return send_error(c, 400, "bad_request",
                          "expected {\"app\": ID or \"kernel\": ID, \"devices\": [1..%u device IDs]}",
                          DEPLOY_DEVICES_MAX);
    }
    store_app upload;
    int64_t target = app > 0 ? app : kernel;
    if (store_app_get(d->store, target, &upload) != STORE_OK || upload.kernel != (kernel > 0)) {
        json_decref(body);
        return kernel > 0 ? send_error(c, 404, "no_such_kernel", "no kernel %lld", (long long)kernel)
                          : send_error(c, 404, "no_such_app", "no app %lld", (long long)app);
    }
    size_t n = json_array_size(devices);
    const char **ids = calloc(n, sizeof *ids);
    int64_t *made = calloc(n, sizeof *made);
    enum MHD_Result rc = MHD_NO;
    size_t bad = n;
    for (size_t i = 0; ids != NULL && i < n; i++) {
        ids[i] = json_string_value(json_array_get(devices, i));
        if (bad == n && (ids[i] == NULL || !bwd_valid_device_id(ids[i]) || !store_device_exists(d->store, ids[i]))) {
            bad = i;
        }
        for (size_t k = 0; bad == n && k < i; k++) {
            if (strcmp(ids[k], ids[i]) == 0) {
                bad = i;
            }
        }
    }
    if (ids == NULL || made == NULL) {
        rc = send_error(c, 500, "internal", "out of memory");
    } else if (bad < n) {
        rc = send_error(c, 400, "bad_device", "devices[%zu] is not a registered device ID (or a repeat)", bad);
    } else {
        store_result r = store_deploy(d->store, target, ids, (unsigned)n, bwd_now_ms(), made);
        if (r == STORE_NOT_FOUND) {
            rc = send_error(c, 404, "no_such_app", "no app %lld", (long long)app);
        } else if (r != STORE_OK) {
            rc = send_error(c, 500, "internal", "could not store the deployments");
        } else {
            json_t *list = json_array();
            for (size_t i = 0; i < n; i++) {
                bwd_send_deploy(d, ids[i]);
                json_t *dep = store_deployment_json(d->store, made[i]);
                if (dep != NULL) {
                    json_array_append_new(list, dep);
                }
            }
            rc = send_json(c, 201, json_pack("{s:o}", "deployments", list));
        }
    }
    free(made);
    free(ids);
    json_decref(body);   /* after the last use of ids */
    return rc;
}

static enum MHD_Result list_deployments(struct MHD_Connection *c, bwd *d)
{
    const char *device = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "device");
    unsigned long long limit;
    if ((device != NULL && !bwd_valid_device_id(device))
        || !query_uint(c, "limit", 1, PAGE_SIZE_MAX, DEPLOYMENTS_LIMIT_DEFAULT, &limit)) {
        return send_error(c, 400, "bad_request", "device must be a device ID, limit 1..%u", PAGE_SIZE_MAX);
    }
    return send_json(c, 200, json_pack("{s:o}", "deployments",
                                       store_deployments_json(d->store, device, (unsigned)limit)));
}

/* GET /v1/deployments/{id}?after_revision=R&wait=S: answers at once unless
 * wait is given and the deployment is still at revision <= R and not final. */
static enum MHD_Result route_deployment(struct MHD_Connection *c, bwd *d, const char *method, const char *rest)
{
    int64_t id = parse_id(rest);
    unsigned long long after, wait;
    if (strcmp(method, "GET") != 0) {
        return send_error(c, 405, "method_not_allowed", "%s is not allowed here (GET)", method);
    }
    if (!query_uint(c, "after_revision", 0, INT64_MAX, 0, &after) || !query_uint(c, "wait", 0, WAIT_MAX_S, 0, &wait)) {
        return send_error(c, 400, "bad_request", "after_revision >= 0, wait 0..%u seconds", WAIT_MAX_S);
    }
    int64_t deadline = bwd_now_ms() + (int64_t)wait * 1000;
    for (;;) {
        int64_t seen = store_deploy_seq(d->store);
        json_t *dep = id > 0 ? store_deployment_json(d->store, id) : NULL;
        if (dep == NULL) {
            return send_error(c, 404, "not_found", "no deployment %s", rest);
        }
        if (json_integer_value(json_object_get(dep, "revision")) > (json_int_t)after
            || json_is_true(json_object_get(dep, "final")) || bwd_now_ms() >= deadline
            || store_wait_deployments(d->store, seen, deadline) < 0) {
            return send_json(c, 200, dep);
        }
        json_decref(dep);
    }
}

/* ---- apps' config and secrets (appconfig.c) ---- */

static enum MHD_Result send_appconfig_error(struct MHD_Connection *c, const bwd_appconfig_error *e)
{
    return send_error(c, e->status, e->code, "%s", e->message);
}

/* GET (list), and GET/PUT/DELETE of one key; ?device=D picks the device scope.
 * kind "config" or "secret": no answer ever carries a secret's value. */
static enum MHD_Result route_appconfig(struct MHD_Connection *c, bwd *d, const char *method, const char *kind,
                                       const char *key, const request *req)
{
    const char *device = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "device");
    bool secret = strcmp(kind, "secret") == 0;
    bwd_appconfig_error e;
    if (key == NULL) {
        if (strcmp(method, "GET") != 0) {
            return send_error(c, 405, "method_not_allowed", "%s is not allowed here (GET)", method);
        }
        if (device != NULL && (!bwd_valid_device_id(device) || !store_device_exists(d->store, device))) {
            return send_error(c, 404, "not_found", "device %s is not registered", device);
        }
        return send_json(c, 200, json_pack("{s:s, s:o, s:o}", "scope", device != NULL ? "device" : "account",
                                           "device", device != NULL ? json_string(device) : json_null(), "items",
                                           store_appconfig_list_json(d->store, kind, device != NULL ? device : "",
                                                                     !secret)));
    }
    if (strcmp(method, "GET") == 0 && !secret) {
        json_t *item = bwd_appconfig_get(d, device, key, &e);
        return item != NULL ? send_json(c, 200, item) : send_appconfig_error(c, &e);
    }
    if (strcmp(method, "DELETE") == 0) {
        return bwd_appconfig_delete(d, kind, device, key, &e)
                   ? send_json(c, 200, json_pack("{s:s, s:b}", "key", key, "deleted", 1))
                   : send_appconfig_error(c, &e);
    }
    if (strcmp(method, "PUT") != 0) {
        return send_error(c, 405, "method_not_allowed", "%s is not allowed here (%s)", method,
                          secret ? "PUT, DELETE: a secret is never read back" : "GET, PUT, DELETE");
    }
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (type == NULL || strncasecmp(type, "application/json", 16) != 0) {
        return send_error(c, 415, "unsupported_media_type", "send the body as application/json");
    }
    json_error_t jerr;
    json_t *body = json_loadb(req->body != NULL ? req->body : "", req->len, JSON_REJECT_DUPLICATES, &jerr);
    const char *value = NULL;
    size_t len = 0;
    if (body == NULL || json_unpack_ex(body, &jerr, JSON_STRICT, "{s:s%}", "value", &value, &len) != 0) {
        json_decref(body);
        return send_error(c, 400, "bad_request", "expected {\"value\": string}: %s", jerr.text);
    }
    bool ok = bwd_appconfig_set(d, kind, device, key, value, len, &e);
    json_decref(body);
    return ok ? send_json(c, 200, json_pack("{s:s, s:s, s:o}", "key", key, "scope",
                                            device != NULL ? "device" : "account", "device",
                                            device != NULL ? json_string(device) : json_null()))
              : send_appconfig_error(c, &e);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    bwd *d = cls;
    request *req = *con_cls;
    if (req == NULL) {
        req = calloc(1, sizeof *req);
        if (req == NULL) {
            return MHD_NO;
        }
        *con_cls = req;
        bool upload = strcmp(url, "/v1/apps") == 0 || strcmp(url, "/v1/kernels") == 0;
        req->cap = upload && strcmp(method, "POST") == 0 ? MAX_BUNDLE : MAX_BODY;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!req->too_big && req->len + *upload_data_size <= req->cap) {
            if (req->len + *upload_data_size + 1 > req->allocated) {
                size_t want = req->allocated * 2 > req->len + *upload_data_size + 1 ? req->allocated * 2
                                                                                   : req->len + *upload_data_size + 1;
                char *grown = realloc(req->body, want);
                if (grown == NULL) {
                    return MHD_NO;
                }
                req->body = grown;
                req->allocated = want;
            }
            memcpy(req->body + req->len, upload_data, *upload_data_size);
            req->len += *upload_data_size;
            req->body[req->len] = '\0';
        } else {
            req->too_big = true;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!authorised(c, d)) {
        return send_error(c, 401, "unauthorized", "missing or wrong bearer token");
    }
    if (req->too_big) {
        return send_error(c, 413, "too_large", "request body over %zu bytes", req->cap);
    }
    if (strcmp(url, "/v1/health") == 0) {
        return strcmp(method, "GET") == 0 ? health(c, d)
                                          : send_error(c, 405, "method_not_allowed", "%s is not allowed here (GET)", method);
    }
    if (strcmp(url, "/v1/devices") == 0) {
        if (strcmp(method, "GET") == 0) return list_devices(c, d);
        if (strcmp(method, "POST") == 0) return register_device(c, d, req);
        return send_error(c, 405, "method_not_allowed", "%s is not allowed here (GET, POST)", method);
    }
    if (strncmp(url, "/v1/devices/", 12) == 0) {
        return route_device(c, d, method, url + 12, req);
    }
    if (strcmp(url, "/v1/apps") == 0 || strcmp(url, "/v1/kernels") == 0) {
        bool kernel = url[4] == 'k';
        if (strcmp(method, "GET") == 0) {
            return send_json(c, 200, json_pack("{s:o}", kernel ? "kernels" : "apps", store_apps_json(d->store, kernel)));
        }
        if (strcmp(method, "POST") == 0) return upload_app(c, d, req, kernel);
        return send_error(c, 405, "method_not_allowed", "%s is not allowed here (GET, POST)", method);
    }
    if (strncmp(url, "/v1/apps/", 9) == 0) {
        return route_app(c, d, method, url + 9, false);
    }
    if (strncmp(url, "/v1/kernels/", 12) == 0) {
        return route_app(c, d, method, url + 12, true);
    }
    if (strcmp(url, "/v1/keysets") == 0) {
        if (strcmp(method, "GET") == 0) {
            return send_json(c, 200, json_pack("{s:o}", "key_sets", store_key_sets_json(d->store, 0)));
        }
        if (strcmp(method, "POST") == 0) return push_key_set(c, d, req);
        return send_error(c, 405, "method_not_allowed", "%s is not allowed here (GET, POST)", method);
    }
    if (strcmp(url, "/v1/deployments") == 0) {
        if (strcmp(method, "GET") == 0) return list_deployments(c, d);
        if (strcmp(method, "POST") == 0) return create_deployment(c, d, req);
        return send_error(c, 405, "method_not_allowed", "%s is not allowed here (GET, POST)", method);
    }
    if (strncmp(url, "/v1/deployments/", 16) == 0) {
        return route_deployment(c, d, method, url + 16);
    }
    if (strcmp(url, "/v1/config") == 0 || strncmp(url, "/v1/config/", 11) == 0) {
        return route_appconfig(c, d, method, "config", url[10] == '/' ? url + 11 : NULL, req);
    }
    if (strcmp(url, "/v1/secrets") == 0 || strncmp(url, "/v1/secrets/", 12) == 0) {
        return route_appconfig(c, d, method, "secret", url[11] == '/' ? url + 12 : NULL, req);
    }
    return send_error(c, 404, "not_found", "no such resource: %s", url);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    request *req = *con_cls;
    if (req != NULL) {
        free(req->body);
        free(req);
        *con_cls = NULL;
    }
}

struct MHD_Daemon *bwd_api_start(bwd *d, int *port, char *err, size_t err_size)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)d->config.api_port) };
    if (inet_pton(AF_INET, d->config.api_host, &addr.sin_addr) != 1) {
        snprintf(err, err_size, "api_listen host '%s' is not an IPv4 address", d->config.api_host);
        return NULL;
    }
    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        handle, d, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(WAIT_MAX_S + 30), MHD_OPTION_END);
    if (daemon == NULL) {
        snprintf(err, err_size, "cannot listen on %s:%d", d->config.api_host, d->config.api_port);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port = info != NULL ? info->port : d->config.api_port;
    return daemon;
}
