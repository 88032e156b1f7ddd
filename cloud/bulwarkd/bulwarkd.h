/*
 * bulwarkd's shared pieces: its configuration (config.c: flags, environment,
 * config file, the fleet's fleet.conf, defaults, first found wins), the
 * running daemon's state the REST layer (api.c) and the message handling
 * (bulwarkd.c) both use, the device certificate check (certcheck.c),
 * over-the-air updates (ota.c: bundle upload, the blob store, DEPLOY/CHUNK)
 * and key sets pushed to devices (keys.c).
 */
#ifndef BULWARKD_H
#define BULWARKD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "store.h"

#define BWD_PATH_MAX 4096
#define BWD_DEVICE_ID_LEN 34u   /* "BW" + 32 uppercase hex digits (SPEC §3) */

typedef struct bwd_config {
    char fleet_dir[BWD_PATH_MAX];
    char api_host[64];
    int api_port;                     /* 0: any free port (printed at start) */
    char db_path[BWD_PATH_MAX];
    char registry_path[BWD_PATH_MAX]; /* identities the broker admits (bw_registry_plugin) */
    char broker_host[256];
    int broker_port;
    unsigned log_retention;           /* log entries kept per device */
    unsigned time_interval_s;         /* TIME to online devices at least this often */
    char token[256];                  /* admin token (fleet admin.token) */
    char client_id[24];               /* MQTT client ID: its persistent session on the broker */
    char share_group[65];             /* "": subscribe bw/+/up/#; else $share/<group>/bw/+/up/# */
    char http_ca[BWD_PATH_MAX];       /* CA bundle for apps' HTTPS requests (§16); "": the system's */
    char mqtt_connect_to[256];        /* the same for apps' MQTT brokers (§18.4) */
    char http_connect_to[256];        /* "": none; else CURLOPT_CONNECT_TO's HOST:PORT:CONNECT-HOST:CONNECT-PORT */
} bwd_config;

typedef struct bwd_counters {
    atomic_ulong messages, unregistered, invalid, unknown_topic, log_lines, duplicate_lines, lost_lines,
        crashes, bad_crash_records, time_sent;
    /* §15 */
    atomic_ulong uploads, fetches, chunks_sent, chunks_refused, bad_fetch, updates, bad_update, stale_update,
        unmatched_update, deploy_sent;
    /* §16 */
    atomic_ulong http_requests, http_ok, http_failed, http_too_large, http_busy, http_bad_piece, http_bad_request,
        http_pieces_sent, http_publish_failed, http_abandoned;
    /* §17 */
    atomic_ulong config_fetches, config_items, config_bad_request;
    /* §18 */
    atomic_ulong mqtt_sessions, mqtt_refused, mqtt_messages_in, mqtt_published, mqtt_acks, mqtt_bad_piece,
        mqtt_bad_op, mqtt_closed;
    /* §21.5 */
    atomic_ulong debug_exchanges, debug_answered, debug_timeouts, debug_busy, debug_unmatched, debug_bad;
    /* §13.5 */
    atomic_ulong key_sets_sent, key_set_answers;
} bwd_counters;

typedef struct bwd {
    bwd_config config;
    store *store;
    broker *broker;
    bwd_counters counters;
} bwd;

/* Fills config from argv, the environment (BULWARKD_*), the config file
 * (--config, $BULWARKD_CONFIG), the fleet's fleet.conf and defaults, and
 * reads the admin token. 0, or 2 after printing why (bad usage / files). */
int bwd_config_load(bwd_config *config, int argc, char **argv);

/* True if id is a device ID: "BW" + 32 uppercase hex digits. */
bool bwd_valid_device_id(const char *id);

/* Checks a device certificate: PEM, one X.509 certificate, CN = id, signed
 * by (and valid under) the CA in ca_file. 0, or -1 with a reason. */
int bwd_check_certificate(const char *pem, size_t len, const char *id, const char *ca_file, char *reason,
                          size_t reason_size);

/* Rewrites the broker's registry file (every device + "bulwarkd") atomically. 0 or -1. */
int bwd_write_registry(bwd *d);

/* Starts the REST server (api.c); NULL + reason on failure. *port gets the bound port. */
struct MHD_Daemon *bwd_api_start(bwd *d, int *port, char *err, size_t err_size);

/* ---- over-the-air updates (ota.c) ---- */

/* Creates the blob directory (<db>.blobs) if needed. 0, or -1 with a reason. */
int bwd_blobs_init(bwd *d, char *err, size_t err_size);

/* Verifies an uploaded bundle (structure, known board, signature against the
 * fleet's update keys, every layer hash, the measurement) and stores its head
 * and layers by SHA-256 in the blob directory and its row in the store.
 * Returns the HTTP status: 201 (new; *answer is the app), 200 (the same bundle
 * was uploaded before; *answer is that app), or 4xx/5xx with *code and reason. */
unsigned bwd_upload(bwd *d, const uint8_t *bundle, size_t len, json_t **answer, const char **code, char *reason,
                    size_t reason_size);

/* Checks an uploaded signed kernel file (SPEC §19.2, §19.7) as the boot stub
 * will, except the anti-rollback floor: structure, a known board, the chain
 * to FLEET/kernel-root.pub when the fleet has it (else to the seal's own root
 * key: consistent, not trusted; root_checked false), the seal's signature and
 * the image hash; stores seal and image as blobs. Statuses as bwd_upload. */
unsigned bwd_upload_kernel(bwd *d, const uint8_t *file, size_t len, json_t **answer, const char **code,
                           char *reason, size_t reason_size);

/* Sends DEPLOY (QoS 1) to the device if its current deployment is not final. */
void bwd_send_deploy(bwd *d, const char *device);

/* Handles FETCH and UPDATE payloads from a registered device (§15). */
void bwd_handle_fetch(bwd *d, const char *device, const uint8_t *payload, size_t len);
void bwd_handle_update(bwd *d, const char *device, const uint8_t *payload, size_t len);

/* ---- key sets (keys.c, SPEC §12.4 and §13.5; docs/API.md "Key sets") ---- */

/* Checks a pushed key set (structure, signature under the fleet CA), stores
 * it for the whole fleet (device NULL) or for device alone, and sends it to
 * those of them online that hold an older one. Returns the HTTP status:
 * 201 (new) or 200 (stored before) with *answer the key set, else 4xx/5xx
 * with *code and reason. */
unsigned bwd_push_key_set(bwd *d, const uint8_t *record, size_t len, const char *device, json_t **answer,
                          const char **code, char *reason, size_t reason_size);

/* Sends KEY_SET (QoS 1) to device if it wants a newer set than it holds. */
void bwd_send_key_set(bwd *d, const char *device);

/* Handles a KEYS_ANSWER from a registered device. */
void bwd_handle_keys_answer(bwd *d, const char *device, const uint8_t *payload, size_t len);

/* ---- the HTTP relay (http.c, §16) ---- */

/* Once, before any thread starts: libcurl's global state. */
void bwd_http_init(void);

/* Handles an HTTP_REQUEST piece from a registered device; a complete request
 * is performed on a worker thread, which publishes the response. */
void bwd_handle_http(bwd *d, const char *device, const uint8_t *payload, size_t len);

/* The device's connection ended (a STATUS came): its requests are abandoned. */
void bwd_http_abandon(bwd *d, const char *device);

/* Publishes a stream on bw/<device>/down/<kind> in pieces of type (§16.1),
 * QoS 0; *pieces: how many went. False if one could not. Any thread. */
bool bwd_publish_stream(bwd *d, const char *device, const char *kind, uint8_t type, uint32_t id,
                        const uint8_t *stream, uint32_t total, unsigned *pieces);

/* ---- the MQTT relay (mqtt.c, §18) ---- */

/* Handles an MQTT_UP piece from a registered device. */
void bwd_handle_mqtt(bwd *d, const char *device, const uint8_t *payload, size_t len);

/* The device's connection ended (a STATUS came): its broker sessions end. */
void bwd_mqtt_end_device(bwd *d, const char *device);

/* ---- apps' config and secrets (appconfig.c; docs/API.md, SPEC §17) ---- */

#define BWD_APPCONFIG_KEY_MAX 100u      /* characters of a key */
#define BWD_APPCONFIG_VALUE_MAX 4096u   /* bytes of a value */

/* Why a set/get/delete failed, for the REST answer (NULL message: it did not). */
typedef struct bwd_appconfig_error {
    unsigned status;        /* HTTP status */
    const char *code;
    char message[160];
} bwd_appconfig_error;

/* kind "config" or "secret"; device NULL: the account scope. Each returns
 * true, or false with *e filled (bad key/value/device, unknown, storage or
 * crypto failure). Secrets are sealed (AES-256-GCM) before they are stored. */
bool bwd_appconfig_set(bwd *d, const char *kind, const char *device, const char *key, const char *value,
                       size_t len, bwd_appconfig_error *e);
bool bwd_appconfig_delete(bwd *d, const char *kind, const char *device, const char *key, bwd_appconfig_error *e);
/* Config only: the value (device scope first, then the account's when
 * device is not NULL) as JSON {key, value, scope[, device]}. */
json_t *bwd_appconfig_get(bwd *d, const char *device, const char *key, bwd_appconfig_error *e);

/* Handles a CONFIG_REQUEST piece (§17) from a registered device: answers
 * from the store at once. */
void bwd_handle_config(bwd *d, const char *device, const uint8_t *payload, size_t len);

/* ---- the debug relay (debug.c, SPEC §21.5; docs/API.md) ---- */
#define BWD_DEBUG_MAX 512u      /* session bytes per exchange (CP_DEBUG_MAX) */
#define BWD_DEBUG_RATE 50u      /* exchanges per device per second */
#define BWD_DEBUG_WAIT_S 10     /* for the device's answer */
/* One exchange: publishes in[0..len) to the device as DEBUG_DOWN and waits
 * for its DEBUG_UP. Returns the HTTP status: 200 with the answer in
 * out[0..*out_len) (out: BWD_DEBUG_MAX bytes), else 413, 429, 503 or 504
 * with *code. The caller has checked that the device exists and is online. */
unsigned bwd_debug_exchange(bwd *d, const char *device, const uint8_t *in, size_t len, uint8_t *out,
                            size_t *out_len, const char **code);
/* Handles a DEBUG_UP from a registered device: wakes the exchange it answers. */
void bwd_handle_debug(bwd *d, const char *device, const uint8_t *payload, size_t len);
/* Wall clock, ms since 1970. */
int64_t bwd_now_ms(void);

#endif
