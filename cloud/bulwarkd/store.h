/*
 * bulwarkd's state in SQLite (WAL): the device registry, log lines and crash
 * records. One connection guarded by one mutex; every write is a transaction.
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

#endif
