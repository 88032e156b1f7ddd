/*
 * bulwarkd's state in SQLite (WAL): the device registry, log lines, crash
 * records, uploaded apps (their bytes live in the blob directory, ota.c) and
 * deployments. One connection guarded by one mutex; every write is a transaction.
 * The schema is versioned (schema_version table) and brought up to date at
 * open by the ordered migrations in store.c, each in its own transaction.
 * Reads return jansson objects the REST layer sends as they are (docs/API.md).
 */
#ifndef BULWARKD_STORE_H
#define BULWARKD_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cloud_proto.h"

typedef struct store store;

typedef enum store_result {
    STORE_OK = 0,
    STORE_EXISTS,
    STORE_NOT_FOUND,
    STORE_ERROR,
    STORE_CONFLICT,
} store_result;

/* Opens (creating) the database at path and migrates it. NULL + reason on failure. */
store *store_open(const char *path, char *err, size_t err_size);
void store_close(store *s);
/* The schema version after migration. */
int store_schema_version(store *s);

store_result store_device_add(store *s, const char *id, const char *certificate_pem, int64_t now_ms);
/* Removes the device with its logs and crash records. */
store_result store_device_remove(store *s, const char *id);
bool store_device_exists(store *s, const char *id);
/* The device as JSON (docs/API.md "Device"), or NULL if unknown. */
json_t *store_device_json(store *s, const char *id);
/* Up to limit devices with id > after (NULL: from the start), by id. *more
 * says whether devices follow. */
json_t *store_devices_json(store *s, const char *after, unsigned limit, bool *more);
/* Calls fn for every registered device (online_only: those online). */
void store_device_each(store *s, bool online_only, void (*fn)(void *ctx, const char *id), void *ctx);

/* Applies a STATUS (§13.2): online always; offline only when boot and
 * connection IDs are those of the latest online STATUS. Returns true if the
 * device is online after it. */
bool store_apply_status(store *s, const char *id, const cp_status *status, int64_t now_ms);

/* Stores a LOG batch: lines already held (same device, boot, sequence) are
 * dropped, a sequence gap is recorded as lost lines, then the device keeps at
 * most retention lines. *added and *lost (if not NULL) get the counts. */
store_result store_add_log(store *s, const char *id, const cp_log *log, int64_t now_ms, unsigned retention,
                           unsigned *added, unsigned *lost);

/* Stores a checked crash record once per (device, sequence); STORE_EXISTS if held. */
store_result store_add_crash(store *s, const char *id, uint32_t boot_id, uint32_t sequence,
                             const uint8_t *record, size_t len, int64_t now_ms);

/* Log entries of a device with cursor > after, oldest first, at most limit;
 * *last gets the highest cursor returned (after when none). */
json_t *store_logs_json(store *s, const char *id, int64_t after, unsigned limit, int64_t *last);
/* The highest log cursor committed so far (any device). */
int64_t store_last_cursor(store *s);
/* Blocks until the highest cursor exceeds seen or the deadline (CLOCK_REALTIME
 * ms) passes; returns the highest cursor, or -1 once store_wake_all was called. */
int64_t store_wait_logs(store *s, int64_t seen, int64_t deadline_ms);
void store_wake_all(store *s);

/* The device's crash records, oldest sequence first (records as base64). */
json_t *store_crashes_json(store *s, const char *id);

/* ---- apps and deployments (docs/SPEC.md §15, docs/API.md) ---- */

#define STORE_LAYERS_MAX 8u   /* BW_MANIFEST_MAX_LAYERS */

/* An uploaded bundle as the chunk server needs it: the head blob, then the
 * layer blobs in manifest order, make up the bundle's bytes. */
typedef struct store_app {
    int64_t id;
    bool kernel;           /* a signed kernel file (SPEC §19.2): head = seal, one layer = the image */
    bool root_checked;     /* kernel: its chain was checked to FLEET/kernel-root.pub */
    uint32_t app_version, size, head_length;   /* app_version: a kernel's packed version */
    uint16_t board;
    uint8_t head_hash[32];
    char key_id[17];       /* the signing key's id; a kernel's root: the first 8 bytes of its hash */
    unsigned layer_count;
    struct {
        uint8_t hash[32];
        uint32_t length;
    } layers[STORE_LAYERS_MAX];
} store_app;

/* A device's current deployment (the one its target points at). */
typedef struct store_deployment {
    int64_t id, app;
    bool delivered;        /* final, or an app installed (on trial): no more DEPLOY (superseded is
                            * never current). A kernel's DEPLOY goes on until final: after the
                            * reset it is how the device learns the deployment again. */
} store_deployment;

/* Adds an app (app->id is set). STORE_EXISTS, with app->id set to the
 * existing row, when a bundle with the same head hash was uploaded before. */
store_result store_app_add(store *s, store_app *app, int64_t now_ms);
/* Reads app id into *out. STORE_NOT_FOUND if unknown. */
store_result store_app_get(store *s, int64_t id, store_app *out);
/* The app as JSON (docs/API.md "App", or "Kernel" for a kernel), or NULL;
 * every app (kernel false) or every kernel (true), newest first. */
json_t *store_app_json(store *s, int64_t id);
json_t *store_apps_json(store *s, bool kernel);

/* Makes app the target of each of the n devices (all must exist): their
 * current deployments end (superseded unless installed or final) and new ones
 * start, pending; ids[i] gets device i's new deployment ID. One transaction. */
store_result store_deploy(store *s, int64_t app, const char *const *devices, unsigned n, int64_t now_ms,
                          int64_t *ids);
/* The device's current deployment and its app. STORE_NOT_FOUND when none. */
store_result store_current_deployment(store *s, const char *device, store_deployment *dep, store_app *app);

/* Applies an UPDATE (§15) from device: by deployment ID, or for ID 0 and a
 * trial's end (healthy, rolled back) by the app version of the device's
 * newest deployment of it. An installed deployment changes only to healthy
 * or rolled back (keeping its bytes); a final one not at all. STORE_OK (applied), STORE_EXISTS (stale,
 * ignored) or STORE_NOT_FOUND (no such deployment of this device). */
store_result store_apply_update(store *s, const char *device, const cp_update *u, int64_t now_ms);

/* A deployment as JSON (docs/API.md "Deployment"), or NULL. */
json_t *store_deployment_json(store *s, int64_t id);
/* Every deployment (of device, if not NULL), newest first, at most limit. */
json_t *store_deployments_json(store *s, const char *device, unsigned limit);
/* A counter raised by every deployment change. */
int64_t store_deploy_seq(store *s);
/* Blocks until the counter exceeds seen or the deadline (CLOCK_REALTIME ms);
 * returns the counter, or -1 once store_wake_all was called. */
int64_t store_wait_deployments(store *s, int64_t seen, int64_t deadline_ms);

/* ---- apps' config and secrets (appconfig.c, docs/API.md "Config and secrets") ----
 * kind: "config" or "secret"; device: a device ID, or "" for the account
 * scope. Values are stored as given (appconfig.c encrypts secrets first). */
store_result store_appconfig_put(store *s, const char *kind, const char *device, const char *key,
                                 const uint8_t *value, size_t len, int64_t now_ms);
/* *value: malloc'ed (NUL-terminated for convenience), *len its length. STORE_NOT_FOUND. */
store_result store_appconfig_get(store *s, const char *kind, const char *device, const char *key,
                                 uint8_t **value, size_t *len);
store_result store_appconfig_delete(store *s, const char *kind, const char *device, const char *key);
/* [{key, updated_at[, value]}] by key; values only when with_values (config). */
json_t *store_appconfig_list_json(store *s, const char *kind, const char *device, bool with_values);

/* ---- key sets (docs/SPEC.md §12.4, §13.5; docs/API.md "Key sets") ----
 * The record was checked (structure, fleet CA signature) by the caller. */

/* Stores key set sequence (record[0..len), key_ids a JSON array text) as
 * the fleet's (device NULL) or as the target of device alone. STORE_OK
 * (new), STORE_EXISTS (the same record was stored before: the fleet or the
 * device now wants it), STORE_CONFLICT (another record has this sequence,
 * or a newer set is wanted already; why says which), STORE_ERROR. */
store_result store_key_set_add(store *s, uint32_t sequence, const uint8_t *record, size_t len, const char *key_ids,
                               const char *device, int64_t now_ms, char *why, size_t why_size);

/* True when device should get a key set newer than the one it last said it
 * holds: the record (at most *len bytes) into record, its length into *len
 * and its sequence into *sequence. */
bool store_key_set_due(store *s, const char *device, uint8_t *record, size_t *len, uint32_t *sequence);

/* Applies a KEYS_ANSWER: the sequence held, and the refusal's reason unless
 * the device holds the set offered (or a newer one) anyway. */
void store_apply_keys_answer(store *s, const char *device, const cp_keys_answer *answer);

/* The stored key sets as JSON (docs/API.md "Key set"), newest first; only
 * the one of that sequence unless sequence is 0. */
json_t *store_key_sets_json(store *s, int64_t sequence);

#endif
