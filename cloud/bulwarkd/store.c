/*
 * store.h over SQLite. Invariants: every public function takes s->lock for
 * its whole run; writes run inside BEGIN IMMEDIATE ... COMMIT (rolled back on
 * any error); s->last_cursor is the highest log cursor committed, and
 * s->changed is signalled after every commit that raised it or s->deploy_seq
 * (raised by every deployment change).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "bw_manifest.h"
#include "lib_kernel_image.h"
#include "store.h"

struct store {
    sqlite3 *db;
    pthread_mutex_t lock;
    pthread_cond_t changed;   /* logs or deployments */
    int64_t last_cursor;
    int64_t deploy_seq;
    bool waking;
};

/* The schema's history: migration i brings version i to i + 1. Append only. */
static const char *const migrations[] = {
    /* 0 -> 1: registry, logs, crashes */
    "CREATE TABLE devices ("
    "  id TEXT PRIMARY KEY,"
    "  certificate TEXT NOT NULL,"
    "  registered_at INTEGER NOT NULL,"
    "  online INTEGER NOT NULL DEFAULT 0,"
    "  boot_id INTEGER, connection_id INTEGER, wake_reason INTEGER,"
    "  kernel_version INTEGER, app_version INTEGER, uptime_s INTEGER,"
    "  device_lost_lines INTEGER, crash_count INTEGER, newest_crash_seq INTEGER,"
    "  last_seen INTEGER,"
    "  log_boot_id INTEGER, log_next_seq INTEGER,"
    "  lost_lines INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE logs ("
    "  cursor INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  device TEXT NOT NULL,"
    "  boot_id INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  uptime_ms INTEGER,"
    "  received_at INTEGER NOT NULL,"
    "  text BLOB,"
    "  lost INTEGER NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX logs_dedup ON logs(device, boot_id, seq) WHERE lost = 0;"
    "CREATE INDEX logs_by_device ON logs(device, cursor);"
    "CREATE TABLE crashes ("
    "  device TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  boot_id INTEGER NOT NULL,"
    "  received_at INTEGER NOT NULL,"
    "  record BLOB NOT NULL,"
    "  PRIMARY KEY (device, seq));",
    /* 1 -> 2: uploaded apps (bytes in the blob directory, by SHA-256) and deployments */
    "CREATE TABLE apps ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  app_version INTEGER NOT NULL,"
    "  board INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  head_length INTEGER NOT NULL,"
    "  head_hash TEXT NOT NULL UNIQUE,"
    "  key_id TEXT NOT NULL,"
    "  uploaded_at INTEGER NOT NULL);"
    "CREATE TABLE app_layers ("
    "  app INTEGER NOT NULL REFERENCES apps(id),"
    "  idx INTEGER NOT NULL,"
    "  hash TEXT NOT NULL,"
    "  length INTEGER NOT NULL,"
    "  PRIMARY KEY (app, idx));"
    "CREATE TABLE deployments ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  device TEXT NOT NULL,"
    "  app INTEGER NOT NULL REFERENCES apps(id),"
    "  state TEXT NOT NULL,"
    "  current INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL DEFAULT 0,"
    "  size INTEGER NOT NULL,"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  engine_error INTEGER NOT NULL DEFAULT 0,"
    "  manifest_error INTEGER NOT NULL DEFAULT 0,"
    "  rollback_cause INTEGER NOT NULL DEFAULT 0,"
    "  revision INTEGER NOT NULL DEFAULT 1,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE INDEX deployments_by_device ON deployments(device, current, id);",
    /* 2 -> 3: apps' config and secrets (appconfig.c; secrets hold AES-256-GCM
     * ciphertext only); device '' is the account scope */
    "CREATE TABLE app_config ("
    "  kind TEXT NOT NULL,"
    "  device TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value BLOB NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (kind, device, key));",
    /* 3 -> 4: key sets (SPEC §12.4, §13.5): the ones pushed (fleet: the whole
     * fleet's, else only devices whose key_set_target names it), and per
     * device the sequence it holds, a set pushed to it alone and its last refusal */
    "CREATE TABLE key_sets ("
    "  sequence INTEGER PRIMARY KEY,"
    "  record BLOB NOT NULL,"
    "  key_ids TEXT NOT NULL,"
    "  fleet INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "ALTER TABLE devices ADD COLUMN key_set INTEGER;"
    "ALTER TABLE devices ADD COLUMN key_set_target INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE devices ADD COLUMN key_set_error TEXT;",
    /* 4 -> 5: signed kernels (SPEC §19.7) share the apps table: kind 'kernel',
     * app_version their packed version, key_id their root's, one layer (the image) */
    "ALTER TABLE apps ADD COLUMN kind TEXT NOT NULL DEFAULT 'app';"
    "ALTER TABLE apps ADD COLUMN root_checked INTEGER NOT NULL DEFAULT 0;",
};
#define MIGRATION_COUNT (int)(sizeof migrations / sizeof migrations[0])

static bool exec(store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "bulwarkd: sqlite: %s\n", msg != NULL ? msg : "?");
        sqlite3_free(msg);
        return false;
    }
    return true;
}

static sqlite3_stmt *prepare(store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "bulwarkd: sqlite prepare: %s\n", sqlite3_errmsg(s->db));
        return NULL;
    }
    return st;
}

static int64_t query_int(store *s, const char *sql, const char *text_arg, int64_t fallback)
{
    sqlite3_stmt *st = prepare(s, sql);
    int64_t v = fallback;
    if (st != NULL) {
        if (text_arg != NULL) {
            sqlite3_bind_text(st, 1, text_arg, -1, SQLITE_TRANSIENT);
        }
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
            v = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    return v;
}

static bool migrate(store *s, char *err, size_t err_size)
{
    if (!exec(s, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);")) {
        snprintf(err, err_size, "cannot create schema_version");
        return false;
    }
    int64_t version = query_int(s, "SELECT MAX(version) FROM schema_version", NULL, 0);
    if (version > MIGRATION_COUNT) {
        snprintf(err, err_size, "the database has schema version %lld; this bulwarkd knows up to %d",
                 (long long)version, MIGRATION_COUNT);
        return false;
    }
    for (int v = (int)version; v < MIGRATION_COUNT; v++) {
        char bump[96];
        snprintf(bump, sizeof bump, "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d);", v + 1);
        if (!exec(s, "BEGIN IMMEDIATE") || !exec(s, migrations[v]) || !exec(s, bump) || !exec(s, "COMMIT")) {
            exec(s, "ROLLBACK");
            snprintf(err, err_size, "migration to schema version %d failed", v + 1);
            return false;
        }
    }
    return true;
}

store *store_open(const char *path, char *err, size_t err_size)
{
    store *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->changed, NULL);
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL)
        != SQLITE_OK) {
        snprintf(err, err_size, "%s: %s", path, s->db != NULL ? sqlite3_errmsg(s->db) : "cannot open");
        store_close(s);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, 5000);
    if (!exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")) {
        snprintf(err, err_size, "%s: cannot switch to WAL", path);
        store_close(s);
        return NULL;
    }
    if (!migrate(s, err, err_size)) {
        store_close(s);
        return NULL;
    }
    s->last_cursor = query_int(s, "SELECT MAX(cursor) FROM logs", NULL, 0);
    return s;
}

void store_close(store *s)
{
    if (s == NULL) {
        return;
    }
    sqlite3_close(s->db);
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int store_schema_version(store *s)
{
    pthread_mutex_lock(&s->lock);
    int v = (int)query_int(s, "SELECT MAX(version) FROM schema_version", NULL, 0);
    pthread_mutex_unlock(&s->lock);
    return v;
}

store_result store_device_add(store *s, const char *id, const char *certificate_pem, int64_t now_ms)
{
    pthread_mutex_lock(&s->lock);
    store_result r = STORE_ERROR;
    sqlite3_stmt *st = prepare(s, "INSERT INTO devices (id, certificate, registered_at) VALUES (?, ?, ?)");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, certificate_pem, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, now_ms);
        int rc = sqlite3_step(st);
        r = rc == SQLITE_DONE ? STORE_OK : (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_PRIMARYKEY
                                                ? STORE_EXISTS : STORE_ERROR);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

static bool exec_bound(store *s, const char *sql, const char *id)
{
    sqlite3_stmt *st = prepare(s, sql);
    if (st == NULL) {
        return false;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok;
}

store_result store_device_remove(store *s, const char *id)
{
    pthread_mutex_lock(&s->lock);
    store_result r = STORE_ERROR;
    if (exec(s, "BEGIN IMMEDIATE")) {
        bool ok = exec_bound(s, "DELETE FROM devices WHERE id = ?", id);
        int changed = sqlite3_changes(s->db);
        ok = ok && exec_bound(s, "DELETE FROM logs WHERE device = ?", id)
             && exec_bound(s, "DELETE FROM crashes WHERE device = ?", id)
             && exec_bound(s, "DELETE FROM deployments WHERE device = ?", id)
             && exec_bound(s, "DELETE FROM app_config WHERE device = ?", id);
        if (ok && changed == 0) {
            r = STORE_NOT_FOUND;
            exec(s, "ROLLBACK");
        } else if (ok && exec(s, "COMMIT")) {
            r = STORE_OK;
        } else {
            exec(s, "ROLLBACK");
        }
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

bool store_device_exists(store *s, const char *id)
{
    pthread_mutex_lock(&s->lock);
    bool found = query_int(s, "SELECT 1 FROM devices WHERE id = ?", id, 0) == 1;
    pthread_mutex_unlock(&s->lock);
    return found;
}

#define DEVICE_COLUMNS                                                                                     \
    "id, registered_at, online, boot_id, connection_id, wake_reason, kernel_version, app_version, uptime_s, " \
    "device_lost_lines, crash_count, newest_crash_seq, last_seen, lost_lines, "                            \
    "(SELECT COUNT(*) FROM crashes c WHERE c.device = devices.id), certificate, key_set, key_set_error"

static json_t *column_or_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? json_null() : json_integer(sqlite3_column_int64(st, col));
}

static json_t *device_row(sqlite3_stmt *st, bool with_certificate)
{
    char kernel[32] = "";
    json_t *kv = json_null();
    if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
        uint32_t v = (uint32_t)sqlite3_column_int64(st, 6);
        snprintf(kernel, sizeof kernel, "%u.%u.%u", v >> 24, (v >> 16) & 0xFFu, v & 0xFFFFu);
        kv = json_string(kernel);
    }
    json_t *d = json_pack("{s:s, s:I, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I}",
                          "id", (const char *)sqlite3_column_text(st, 0),
                          "registered_at_ms", (json_int_t)sqlite3_column_int64(st, 1),
                          "online", sqlite3_column_int(st, 2) != 0,
                          "boot_id", column_or_null(st, 3),
                          "connection_id", column_or_null(st, 4),
                          "wake_reason", column_or_null(st, 5),
                          "kernel_version", kv,
                          "app_version", column_or_null(st, 7),
                          "uptime_s", column_or_null(st, 8),
                          "device_lost_lines", column_or_null(st, 9),
                          "crash_count", column_or_null(st, 10),
                          "newest_crash_seq", column_or_null(st, 11),
                          "last_seen_ms", column_or_null(st, 12),
                          "lost_lines", (json_int_t)sqlite3_column_int64(st, 13),
                          "crash_records", (json_int_t)sqlite3_column_int64(st, 14));
    if (d != NULL) {
        json_object_set_new(d, "key_set", column_or_null(st, 16));
        json_object_set_new(d, "key_set_error", column_or_null(st, 17));
    }
    if (d != NULL && with_certificate) {
        json_object_set_new(d, "certificate", json_string((const char *)sqlite3_column_text(st, 15)));
    }
    return d;
}

json_t *store_device_json(store *s, const char *id)
{
    pthread_mutex_lock(&s->lock);
    json_t *d = NULL;
    sqlite3_stmt *st = prepare(s, "SELECT " DEVICE_COLUMNS " FROM devices WHERE id = ?");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            d = device_row(st, true);
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return d;
}

json_t *store_devices_json(store *s, const char *after, unsigned limit, bool *more)
{
    pthread_mutex_lock(&s->lock);
    json_t *list = json_array();
    *more = false;
    sqlite3_stmt *st = prepare(s, "SELECT " DEVICE_COLUMNS " FROM devices WHERE id > ? ORDER BY id LIMIT ?");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, after != NULL ? after : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, (int64_t)limit + 1);
        for (unsigned n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
            if (n == limit) {
                *more = true;
                break;
            }
            json_array_append_new(list, device_row(st, false));
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return list;
}

void store_device_each(store *s, bool online_only, void (*fn)(void *ctx, const char *id), void *ctx)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = prepare(s, online_only ? "SELECT id FROM devices WHERE online = 1 ORDER BY id"
                                              : "SELECT id FROM devices ORDER BY id");
    while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        fn(ctx, (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
}

bool store_apply_status(store *s, const char *id, const cp_status *status, int64_t now_ms)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    if (status->online) {
        st = prepare(s, "UPDATE devices SET online = 1, boot_id = ?2, connection_id = ?3, wake_reason = ?4,"
                        " kernel_version = ?5, app_version = ?6, uptime_s = ?7, device_lost_lines = ?8,"
                        " crash_count = ?9, newest_crash_seq = ?10, last_seen = ?11, key_set = ?12,"
                        " key_set_error = CASE WHEN ?12 = key_set THEN key_set_error END WHERE id = ?1");
    } else {
        /* A will from an older connection changes nothing (§13.2). */
        st = prepare(s, "UPDATE devices SET online = 0, last_seen = ?11"
                        " WHERE id = ?1 AND boot_id = ?2 AND connection_id = ?3");
    }
    if (st != NULL) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, status->boot_id);
        sqlite3_bind_int64(st, 3, status->connection_id);
        if (status->online) {
            sqlite3_bind_int64(st, 4, status->wake_reason);
            sqlite3_bind_int64(st, 5, status->kernel_version);
            sqlite3_bind_int64(st, 6, status->app_version);
            sqlite3_bind_int64(st, 7, status->uptime_s);
            sqlite3_bind_int64(st, 8, status->lost_lines);
            sqlite3_bind_int64(st, 9, status->crash_count);
            sqlite3_bind_int64(st, 10, status->newest_crash_seq);
            sqlite3_bind_int64(st, 12, status->key_set);
        }
        sqlite3_bind_int64(st, 11, now_ms);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    bool online = query_int(s, "SELECT online FROM devices WHERE id = ?", id, 0) == 1;
    pthread_mutex_unlock(&s->lock);
    return online;
}

static bool insert_gap(store *s, const char *id, uint32_t boot_id, uint32_t first, uint32_t count, int64_t now_ms)
{
    sqlite3_stmt *st = prepare(s, "INSERT INTO logs (device, boot_id, seq, received_at, lost) VALUES (?, ?, ?, ?, ?)");
    if (st == NULL) {
        return false;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, boot_id);
    sqlite3_bind_int64(st, 3, first);
    sqlite3_bind_int64(st, 4, now_ms);
    sqlite3_bind_int64(st, 5, count);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok;
}

/* Lines [first, end) of boot_id arrived after a batch past them had already
 * recorded them lost (several bulwarkd on a share group: one batch can
 * overtake another). Shrinks, splits or deletes the lost entries they fill;
 * *filled gets how many lines were lost and are not. */
static bool fill_gaps(store *s, const char *id, uint32_t boot_id, int64_t first, int64_t end, int64_t now_ms,
                      int64_t *filled)
{
    enum { MAX_GAPS = 16 };
    int64_t cursor[MAX_GAPS], gap[MAX_GAPS], count[MAX_GAPS];
    unsigned n = 0;
    sqlite3_stmt *st = prepare(s, "SELECT cursor, seq, lost FROM logs WHERE device = ? AND boot_id = ? AND lost > 0"
                                  " AND seq < ? AND seq + lost > ? ORDER BY cursor LIMIT 16");
    if (st == NULL) {
        return false;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, boot_id);
    sqlite3_bind_int64(st, 3, end);
    sqlite3_bind_int64(st, 4, first);
    while (n < MAX_GAPS && sqlite3_step(st) == SQLITE_ROW) {
        cursor[n] = sqlite3_column_int64(st, 0);
        gap[n] = sqlite3_column_int64(st, 1);
        count[n] = sqlite3_column_int64(st, 2);
        n++;
    }
    sqlite3_finalize(st);
    *filled = 0;
    for (unsigned i = 0; i < n; i++) {
        int64_t gap_end = gap[i] + count[i];
        int64_t lead = first > gap[i] ? first - gap[i] : 0;
        int64_t trail = gap_end > end ? gap_end - end : 0;
        *filled += count[i] - lead - trail;
        const char *sql = lead > 0 ? "UPDATE logs SET lost = ?2 WHERE cursor = ?1"
                        : trail > 0 ? "UPDATE logs SET seq = ?3, lost = ?4 WHERE cursor = ?1"
                        : "DELETE FROM logs WHERE cursor = ?1";
        st = prepare(s, sql);
        if (st == NULL) {
            return false;
        }
        sqlite3_bind_int64(st, 1, cursor[i]);
        if (lead > 0) {
            sqlite3_bind_int64(st, 2, lead);
        } else if (trail > 0) {
            sqlite3_bind_int64(st, 3, end);
            sqlite3_bind_int64(st, 4, trail);
        }
        bool ok = sqlite3_step(st) == SQLITE_DONE;
        sqlite3_finalize(st);
        if (!ok || (lead > 0 && trail > 0 && !insert_gap(s, id, boot_id, (uint32_t)end, (uint32_t)trail, now_ms))) {
            return false;
        }
    }
    return true;
}

static bool add_log_locked(store *s, const char *id, const cp_log *log, int64_t now_ms, unsigned retention,
                           unsigned *added, unsigned *lost)
{
    sqlite3_stmt *st = prepare(s, "SELECT log_boot_id, log_next_seq FROM devices WHERE id = ?");
    if (st == NULL) {
        return false;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    bool same_boot = false;
    int64_t next = 0;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        same_boot = (uint32_t)sqlite3_column_int64(st, 0) == log->boot_id;
        next = same_boot ? sqlite3_column_int64(st, 1) : 0;
    }
    sqlite3_finalize(st);

    /* Lines come in order (§13.2): a batch starting past the next expected
     * sequence means the device dropped the lines between. */
    if (log->first_seq > next) {
        uint32_t gap = (uint32_t)(log->first_seq - next);
        if (!insert_gap(s, id, log->boot_id, (uint32_t)next, gap, now_ms)) {
            return false;
        }
        *lost += gap;
    }
    st = prepare(s, "INSERT OR IGNORE INTO logs (device, boot_id, seq, uptime_ms, received_at, text)"
                    " VALUES (?, ?, ?, ?, ?, ?)");
    if (st == NULL) {
        return false;
    }
    for (unsigned i = 0; i < log->count; i++) {
        cp_log_line line;
        cp_log_line_at(log, i, &line);
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, log->boot_id);
        sqlite3_bind_int64(st, 3, (int64_t)log->first_seq + i);
        sqlite3_bind_int64(st, 4, line.uptime_ms);
        sqlite3_bind_int64(st, 5, now_ms);
        sqlite3_bind_blob(st, 6, line.text, line.length, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return false;
        }
        *added += (unsigned)sqlite3_changes(s->db);
    }
    sqlite3_finalize(st);

    int64_t end = (int64_t)log->first_seq + log->count;
    int64_t filled = 0;
    if (same_boot && log->first_seq < next && !fill_gaps(s, id, log->boot_id, log->first_seq, end, now_ms, &filled)) {
        return false;
    }
    st = prepare(s, "UPDATE devices SET log_boot_id = ?2, log_next_seq = ?3, lost_lines = lost_lines + ?4 - ?6,"
                    " last_seen = ?5 WHERE id = ?1");
    if (st == NULL) {
        return false;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, log->boot_id);
    sqlite3_bind_int64(st, 3, end > next ? end : next);
    sqlite3_bind_int64(st, 4, *lost);
    sqlite3_bind_int64(st, 5, now_ms);
    sqlite3_bind_int64(st, 6, filled);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    if (!ok) {
        return false;
    }
    /* Retention: the newest `retention` entries of this device stay. */
    st = prepare(s, "DELETE FROM logs WHERE device = ?1 AND cursor <= (SELECT cursor FROM logs WHERE device = ?1"
                    " ORDER BY cursor DESC LIMIT 1 OFFSET ?2)");
    if (st == NULL) {
        return false;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, retention);
    ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok;
}

store_result store_add_log(store *s, const char *id, const cp_log *log, int64_t now_ms, unsigned retention,
                           unsigned *added, unsigned *lost)
{
    unsigned a = 0, l = 0;
    pthread_mutex_lock(&s->lock);
    store_result r = STORE_ERROR;
    if (exec(s, "BEGIN IMMEDIATE")) {
        if (add_log_locked(s, id, log, now_ms, retention, &a, &l) && exec(s, "COMMIT")) {
            r = STORE_OK;
            int64_t top = query_int(s, "SELECT MAX(cursor) FROM logs", NULL, 0);
            if (top > s->last_cursor) {
                s->last_cursor = top;
                pthread_cond_broadcast(&s->changed);
            }
        } else {
            exec(s, "ROLLBACK");
            a = l = 0;
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (added != NULL) *added = a;
    if (lost != NULL) *lost = l;
    return r;
}

store_result store_add_crash(store *s, const char *id, uint32_t boot_id, uint32_t sequence,
                             const uint8_t *record, size_t len, int64_t now_ms)
{
    pthread_mutex_lock(&s->lock);
    store_result r = STORE_ERROR;
    sqlite3_stmt *st = prepare(s, "INSERT OR IGNORE INTO crashes (device, seq, boot_id, received_at, record)"
                                  " VALUES (?, ?, ?, ?, ?)");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, sequence);
        sqlite3_bind_int64(st, 3, boot_id);
        sqlite3_bind_int64(st, 4, now_ms);
        sqlite3_bind_blob(st, 5, record, (int)len, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE) {
            r = sqlite3_changes(s->db) == 1 ? STORE_OK : STORE_EXISTS;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

json_t *store_logs_json(store *s, const char *id, int64_t after, unsigned limit, int64_t *last)
{
    pthread_mutex_lock(&s->lock);
    json_t *list = json_array();
    *last = after;
    sqlite3_stmt *st = prepare(s, "SELECT cursor, boot_id, seq, uptime_ms, received_at, text, lost FROM logs"
                                  " WHERE device = ? AND cursor > ? ORDER BY cursor LIMIT ?");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, after);
        sqlite3_bind_int64(st, 3, limit);
        while (sqlite3_step(st) == SQLITE_ROW) {
            int64_t cursor = sqlite3_column_int64(st, 0);
            json_t *e;
            if (sqlite3_column_int64(st, 6) > 0) {
                e = json_pack("{s:I, s:s, s:I, s:I, s:I, s:I}", "cursor", (json_int_t)cursor, "kind", "lost",
                              "boot_id", (json_int_t)sqlite3_column_int64(st, 1),
                              "first_seq", (json_int_t)sqlite3_column_int64(st, 2),
                              "count", (json_int_t)sqlite3_column_int64(st, 6),
                              "received_at_ms", (json_int_t)sqlite3_column_int64(st, 4));
            } else {
                /* The app's bytes: JSON text if valid UTF-8, else with '?' for bytes >= 0x80. */
                const char *text = sqlite3_column_blob(st, 5);
                size_t n = (size_t)sqlite3_column_bytes(st, 5);
                json_t *t = json_stringn(text != NULL ? text : "", text != NULL ? n : 0);
                if (t == NULL) {
                    char clean[CP_LOG_LINE_MAX];
                    n = n < sizeof clean ? n : sizeof clean;
                    for (size_t i = 0; i < n; i++) {
                        clean[i] = (text[i] & 0x80) ? '?' : text[i];
                    }
                    t = json_stringn(clean, n);
                }
                e = json_pack("{s:I, s:s, s:I, s:I, s:I, s:I, s:o}", "cursor", (json_int_t)cursor, "kind", "line",
                              "boot_id", (json_int_t)sqlite3_column_int64(st, 1),
                              "seq", (json_int_t)sqlite3_column_int64(st, 2),
                              "uptime_ms", (json_int_t)sqlite3_column_int64(st, 3),
                              "received_at_ms", (json_int_t)sqlite3_column_int64(st, 4), "text", t);
            }
            json_array_append_new(list, e);
            *last = cursor;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return list;
}

int64_t store_last_cursor(store *s)
{
    pthread_mutex_lock(&s->lock);
    int64_t top = s->last_cursor;
    pthread_mutex_unlock(&s->lock);
    return top;
}

/* Waits on s->changed until *counter exceeds seen, the deadline or store_wake_all. */
static int64_t wait_counter(store *s, const int64_t *counter, int64_t seen, int64_t deadline_ms)
{
    struct timespec until = { .tv_sec = deadline_ms / 1000, .tv_nsec = (long)(deadline_ms % 1000) * 1000000L };
    pthread_mutex_lock(&s->lock);
    while (*counter <= seen && !s->waking) {
        if (pthread_cond_timedwait(&s->changed, &s->lock, &until) == ETIMEDOUT) {
            break;
        }
    }
    int64_t top = s->waking ? -1 : *counter;
    pthread_mutex_unlock(&s->lock);
    return top;
}

int64_t store_wait_logs(store *s, int64_t seen, int64_t deadline_ms)
{
    return wait_counter(s, &s->last_cursor, seen, deadline_ms);
}

void store_wake_all(store *s)
{
    pthread_mutex_lock(&s->lock);
    s->waking = true;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
}

json_t *store_crashes_json(store *s, const char *id)
{
    pthread_mutex_lock(&s->lock);
    json_t *list = json_array();
    sqlite3_stmt *st = prepare(s, "SELECT seq, boot_id, received_at, record FROM crashes WHERE device = ? ORDER BY seq");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW) {
            int n = sqlite3_column_bytes(st, 3);
            unsigned char b64[4 * ((CP_CRASH_RECORD_SIZE + 2) / 3) + 1];
            if (n > (int)CP_CRASH_RECORD_SIZE) {
                continue;   /* never stored: records are checked to be 448 bytes */
            }
            EVP_EncodeBlock(b64, sqlite3_column_blob(st, 3), n);
            json_array_append_new(list, json_pack("{s:I, s:I, s:I, s:s}", "seq", (json_int_t)sqlite3_column_int64(st, 0),
                                                  "boot_id", (json_int_t)sqlite3_column_int64(st, 1),
                                                  "received_at_ms", (json_int_t)sqlite3_column_int64(st, 2),
                                                  "record", (const char *)b64));
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return list;
}

/* ---- apps and deployments ---- */

/* States in which the device needs no more DEPLOY (SPEC §15): the final
 * ones, and installed (the new app on trial: it ends healthy or rolled back). */
#define DELIVERED_STATES "('installed', 'healthy', 'refused', 'failed', 'rolled_back', 'superseded')"

static const char *const update_state_names[CP_UPDATE_STATE_MAX + 1] = {
    [CP_UPDATE_DOWNLOADING] = "downloading", [CP_UPDATE_DOWNLOADED] = "downloaded",
    [CP_UPDATE_INSTALLING] = "installing",   [CP_UPDATE_INSTALLED] = "installed",
    [CP_UPDATE_REFUSED] = "refused",         [CP_UPDATE_FAILED] = "failed",
    [CP_UPDATE_ROLLED_BACK] = "rolled_back", [CP_UPDATE_WAITING] = "waiting",
    [CP_UPDATE_HEALTHY] = "healthy",
};

/* A final deployment changes no more. */
static bool is_final(const char *state)
{
    static const char *const final[] = { "healthy", "refused", "failed", "rolled_back", "superseded" };
    for (size_t i = 0; i < sizeof final / sizeof final[0]; i++) {
        if (strcmp(state, final[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* The end of a trial: reports that may follow installed. */
static bool ends_trial(uint8_t state)
{
    return state == CP_UPDATE_HEALTHY || state == CP_UPDATE_ROLLED_BACK;
}

static void to_hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static bool from_hex(const char *t, uint8_t *out, size_t n)
{
    if (t == NULL || strlen(t) != 2 * n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(t + 2 * i, "%2x", &v) != 1) {
            return false;
        }
        out[i] = (uint8_t)v;
    }
    return true;
}

static void raise_deploy_seq(store *s)
{
    s->deploy_seq++;
    pthread_cond_broadcast(&s->changed);
}

static bool add_app_locked(store *s, const store_app *app, int64_t now_ms, int64_t *id)
{
    char hex[65];
    to_hex(app->head_hash, 32, hex);
    sqlite3_stmt *st = prepare(s, "INSERT INTO apps (app_version, board, size, head_length, head_hash, key_id,"
                                  " uploaded_at, kind, root_checked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (st == NULL) {
        return false;
    }
    sqlite3_bind_int64(st, 1, app->app_version);
    sqlite3_bind_int64(st, 2, app->board);
    sqlite3_bind_int64(st, 3, app->size);
    sqlite3_bind_int64(st, 4, app->head_length);
    sqlite3_bind_text(st, 5, hex, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, app->key_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, app->kernel ? "kernel" : "app", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, app->root_checked);
    sqlite3_bind_int64(st, 7, now_ms);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    *id = sqlite3_last_insert_rowid(s->db);
    st = ok ? prepare(s, "INSERT INTO app_layers (app, idx, hash, length) VALUES (?, ?, ?, ?)") : NULL;
    for (unsigned i = 0; st != NULL && ok && i < app->layer_count; i++) {
        to_hex(app->layers[i].hash, 32, hex);
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, *id);
        sqlite3_bind_int64(st, 2, i);
        sqlite3_bind_text(st, 3, hex, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, app->layers[i].length);
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return ok && (app->layer_count == 0 || st != NULL);
}

store_result store_app_add(store *s, store_app *app, int64_t now_ms)
{
    char hex[65];
    to_hex(app->head_hash, 32, hex);
    pthread_mutex_lock(&s->lock);
    store_result r = STORE_ERROR;
    int64_t existing = query_int(s, "SELECT id FROM apps WHERE head_hash = ?", hex, 0);
    if (existing > 0) {
        app->id = existing;
        r = STORE_EXISTS;
    } else if (exec(s, "BEGIN IMMEDIATE")) {
        if (add_app_locked(s, app, now_ms, &app->id) && exec(s, "COMMIT")) {
            r = STORE_OK;
        } else {
            exec(s, "ROLLBACK");
        }
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

static store_result app_get_locked(store *s, int64_t id, store_app *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = prepare(s, "SELECT app_version, board, size, head_length, head_hash, key_id, kind,"
                                  " root_checked FROM apps WHERE id = ?");
    if (st == NULL) {
        return STORE_ERROR;
    }
    sqlite3_bind_int64(st, 1, id);
    store_result r = STORE_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->id = id;
        out->app_version = (uint32_t)sqlite3_column_int64(st, 0);
        out->board = (uint16_t)sqlite3_column_int64(st, 1);
        out->size = (uint32_t)sqlite3_column_int64(st, 2);
        out->head_length = (uint32_t)sqlite3_column_int64(st, 3);
        snprintf(out->key_id, sizeof out->key_id, "%s", (const char *)sqlite3_column_text(st, 5));
        out->kernel = strcmp((const char *)sqlite3_column_text(st, 6), "kernel") == 0;
        out->root_checked = sqlite3_column_int(st, 7) != 0;
        r = from_hex((const char *)sqlite3_column_text(st, 4), out->head_hash, 32) ? STORE_OK : STORE_ERROR;
    }
    sqlite3_finalize(st);
    st = r == STORE_OK ? prepare(s, "SELECT hash, length FROM app_layers WHERE app = ? ORDER BY idx") : NULL;
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, id);
        while (sqlite3_step(st) == SQLITE_ROW && out->layer_count < STORE_LAYERS_MAX) {
            unsigned i = out->layer_count++;
            out->layers[i].length = (uint32_t)sqlite3_column_int64(st, 1);
            if (!from_hex((const char *)sqlite3_column_text(st, 0), out->layers[i].hash, 32)) {
                r = STORE_ERROR;
            }
        }
        sqlite3_finalize(st);
    }
    return r;
}

store_result store_app_get(store *s, int64_t id, store_app *out)
{
    pthread_mutex_lock(&s->lock);
    store_result r = app_get_locked(s, id, out);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static json_t *app_json_locked(store *s, int64_t id, int64_t uploaded_at)
{
    store_app app;
    if (app_get_locked(s, id, &app) != STORE_OK) {
        return NULL;
    }
    char hex[65];
    json_t *layers = json_array();
    for (unsigned i = 0; i < app.layer_count; i++) {
        to_hex(app.layers[i].hash, 32, hex);
        json_array_append_new(layers, json_pack("{s:s, s:I}", "hash", hex, "length",
                                                (json_int_t)app.layers[i].length));
    }
    to_hex(app.head_hash, 32, hex);
    const char *board = bw_manifest_board_name(app.board);
    if (app.kernel) {
        char version[16], image_hash[65];
        kernel_version_text(app.app_version, version);
        to_hex(app.layers[0].hash, 32, image_hash);
        json_decref(layers);
        return json_pack("{s:I, s:s, s:s, s:I, s:s, s:i, s:I, s:I, s:s, s:I, s:s, s:s, s:b, s:I}",
                         "id", (json_int_t)id, "kind", "kernel", "kernel_version", version,
                         "version_number", (json_int_t)app.app_version, "board", board != NULL ? board : "?",
                         "board_id", (int)app.board, "size", (json_int_t)app.size,
                         "head_length", (json_int_t)app.head_length, "head_hash", hex,
                         "image_size", (json_int_t)app.layers[0].length, "image_hash", image_hash,
                         "root_key_id", app.key_id, "root_checked", app.root_checked,
                         "uploaded_at_ms", (json_int_t)uploaded_at);
    }
    return json_pack("{s:I, s:I, s:s, s:i, s:I, s:I, s:s, s:s, s:o, s:I}", "id", (json_int_t)id,
                     "app_version", (json_int_t)app.app_version, "board", board != NULL ? board : "?",
                     "board_id", (int)app.board, "size", (json_int_t)app.size,
                     "head_length", (json_int_t)app.head_length, "head_hash", hex, "key_id", app.key_id,
                     "layers", layers, "uploaded_at_ms", (json_int_t)uploaded_at);
}

json_t *store_app_json(store *s, int64_t id)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = prepare(s, "SELECT uploaded_at FROM apps WHERE id = ?");
    json_t *j = NULL;
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            j = app_json_locked(s, id, sqlite3_column_int64(st, 0));
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return j;
}

json_t *store_apps_json(store *s, bool kernel)
{
    pthread_mutex_lock(&s->lock);
    json_t *list = json_array();
    sqlite3_stmt *st = prepare(s, "SELECT id, uploaded_at FROM apps WHERE kind = ? ORDER BY id DESC");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, kernel ? "kernel" : "app", -1, SQLITE_STATIC);
    }
    while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        json_t *a = app_json_locked(s, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
        if (a != NULL) {
            json_array_append_new(list, a);
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return list;
}

static bool deploy_locked(store *s, int64_t app, const char *device, uint32_t size, int64_t now_ms, int64_t *id)
{
    sqlite3_stmt *st = prepare(s, "UPDATE deployments SET current = 0, revision = revision + 1, updated_at = ?2,"
                                  " state = CASE WHEN state IN " DELIVERED_STATES " THEN state ELSE 'superseded' END"
                                  " WHERE device = ?1 AND current = 1");
    if (st == NULL) {
        return false;
    }
    sqlite3_bind_text(st, 1, device, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now_ms);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    st = ok ? prepare(s, "INSERT INTO deployments (device, app, state, current, size, created_at, updated_at)"
                         " VALUES (?1, ?2, 'pending', 1, ?3, ?4, ?4)") : NULL;
    if (st == NULL) {
        return false;
    }
    sqlite3_bind_text(st, 1, device, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, app);
    sqlite3_bind_int64(st, 3, size);
    sqlite3_bind_int64(st, 4, now_ms);
    ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    *id = sqlite3_last_insert_rowid(s->db);
    return ok;
}

store_result store_deploy(store *s, int64_t app, const char *const *devices, unsigned n, int64_t now_ms,
                          int64_t *ids)
{
    pthread_mutex_lock(&s->lock);
    store_app a;
    store_result r = app_get_locked(s, app, &a);
    if (r == STORE_OK && exec(s, "BEGIN IMMEDIATE")) {
        bool ok = true;
        for (unsigned i = 0; ok && i < n; i++) {
            ok = deploy_locked(s, app, devices[i], a.size, now_ms, &ids[i]);
        }
        if (ok && exec(s, "COMMIT")) {
            raise_deploy_seq(s);
        } else {
            exec(s, "ROLLBACK");
            r = STORE_ERROR;
        }
    } else if (r == STORE_OK) {
        r = STORE_ERROR;
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

store_result store_current_deployment(store *s, const char *device, store_deployment *dep, store_app *app)
{
    pthread_mutex_lock(&s->lock);
    store_result r = STORE_ERROR;
    bool final = false;
    sqlite3_stmt *st = prepare(s, "SELECT id, app, state FROM deployments WHERE device = ? AND current = 1");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, device, -1, SQLITE_TRANSIENT);
        r = STORE_NOT_FOUND;
        if (sqlite3_step(st) == SQLITE_ROW) {
            dep->id = sqlite3_column_int64(st, 0);
            dep->app = sqlite3_column_int64(st, 1);
            const char *state = (const char *)sqlite3_column_text(st, 2);
            final = is_final(state);
            dep->delivered = final || strcmp(state, "installed") == 0;
            r = STORE_OK;
        }
        sqlite3_finalize(st);
    }
    if (r == STORE_OK) {
        r = app_get_locked(s, dep->app, app);
    }
    if (r == STORE_OK && app->kernel) {
        dep->delivered = final;
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* The deployment an UPDATE is about: *id and *state (a copy), or false. */
static bool find_update_target(store *s, const char *device, const cp_update *u, int64_t *id, char *state,
                               size_t state_size)
{
    sqlite3_stmt *st;
    if (u->deployment_id != 0) {
        st = prepare(s, "SELECT id, state FROM deployments WHERE device = ?1 AND id = ?2");
    } else {
        /* Kernel reports always carry their ID (§19.7): match apps only. */
        st = prepare(s, "SELECT d.id, d.state FROM deployments d JOIN apps a ON a.id = d.app"
                        " WHERE d.device = ?1 AND a.app_version = ?3 AND a.kind = 'app' ORDER BY d.id DESC LIMIT 1");
    }
    if (st == NULL) {
        return false;
    }
    sqlite3_bind_text(st, 1, device, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, u->deployment_id);
    sqlite3_bind_int64(st, 3, u->app_version);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        *id = sqlite3_column_int64(st, 0);
        snprintf(state, state_size, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    return found;
}

store_result store_apply_update(store *s, const char *device, const cp_update *u, int64_t now_ms)
{
    /* Without its ID only a trial's end is matched (the device restarted and forgot it). */
    if (u->deployment_id == 0 && !ends_trial(u->state)) {
        return STORE_NOT_FOUND;
    }
    const char *next = update_state_names[u->state];
    pthread_mutex_lock(&s->lock);
    int64_t id = 0;
    char state[32];
    store_result r = STORE_NOT_FOUND;
    if (find_update_target(s, device, u, &id, state, sizeof state)) {
        bool installed = strcmp(state, "installed") == 0;
        bool allowed = installed ? ends_trial(u->state) : !is_final(state);
        r = allowed ? STORE_ERROR : STORE_EXISTS;
        /* A trial's end says nothing of the bytes (0 after a restart): keep them. */
        sqlite3_stmt *st = allowed ? prepare(s, "UPDATE deployments SET state = ?2,"
                                                " bytes = CASE WHEN ?9 THEN bytes ELSE ?3 END, reason = ?4,"
                                                " engine_error = ?5, manifest_error = ?6, rollback_cause = ?7,"
                                                " revision = revision + 1, updated_at = ?8 WHERE id = ?1")
                                   : NULL;
        if (st != NULL) {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_text(st, 2, next, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, u->bytes_held);
            sqlite3_bind_text(st, 4, (const char *)u->text, u->text_length, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 5, u->engine_error);
            sqlite3_bind_int64(st, 6, u->manifest_error);
            sqlite3_bind_int64(st, 7, u->rollback_cause);
            sqlite3_bind_int64(st, 8, now_ms);
            sqlite3_bind_int(st, 9, ends_trial(u->state));
            if (sqlite3_step(st) == SQLITE_DONE) {
                r = STORE_OK;
                raise_deploy_seq(s);
            }
            sqlite3_finalize(st);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

#define DEPLOYMENT_COLUMNS                                                                                   \
    "d.id, d.device, d.app, a.app_version, d.state, d.current, d.bytes, d.size, d.reason, d.engine_error, "   \
    "d.manifest_error, d.rollback_cause, d.revision, d.created_at, d.updated_at, a.kind"

static json_t *deployment_row(sqlite3_stmt *st)
{
    const char *state = (const char *)sqlite3_column_text(st, 4);
    json_t *row = json_pack("{s:I, s:s, s:I, s:I, s:s, s:b, s:b, s:I, s:I, s:s, s:i, s:i, s:i, s:I, s:I, s:I}",
                     "id", (json_int_t)sqlite3_column_int64(st, 0),
                     "device", (const char *)sqlite3_column_text(st, 1),
                     "app", (json_int_t)sqlite3_column_int64(st, 2),
                     "app_version", (json_int_t)sqlite3_column_int64(st, 3),
                     "state", state, "final", is_final(state), "current", sqlite3_column_int(st, 5) != 0,
                     "bytes", (json_int_t)sqlite3_column_int64(st, 6),
                     "size", (json_int_t)sqlite3_column_int64(st, 7),
                     "reason", (const char *)sqlite3_column_text(st, 8),
                     "engine_error", sqlite3_column_int(st, 9),
                     "manifest_error", sqlite3_column_int(st, 10),
                     "rollback_cause", sqlite3_column_int(st, 11),
                     "revision", (json_int_t)sqlite3_column_int64(st, 12),
                     "created_at_ms", (json_int_t)sqlite3_column_int64(st, 13),
                     "updated_at_ms", (json_int_t)sqlite3_column_int64(st, 14));
    /* A kernel deployment: its kind, and the version as text ("app" is the upload's ID). */
    bool kernel = strcmp((const char *)sqlite3_column_text(st, 15), "kernel") == 0;
    json_object_set_new(row, "kind", json_string(kernel ? "kernel" : "app"));
    if (kernel) {
        char version[16];
        kernel_version_text((uint32_t)sqlite3_column_int64(st, 3), version);
        json_object_set_new(row, "kernel_version", json_string(version));
    }
    return row;
}

json_t *store_deployment_json(store *s, int64_t id)
{
    pthread_mutex_lock(&s->lock);
    json_t *j = NULL;
    sqlite3_stmt *st = prepare(s, "SELECT " DEPLOYMENT_COLUMNS " FROM deployments d JOIN apps a ON a.id = d.app"
                                  " WHERE d.id = ?");
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            j = deployment_row(st);
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return j;
}

json_t *store_deployments_json(store *s, const char *device, unsigned limit)
{
    pthread_mutex_lock(&s->lock);
    json_t *list = json_array();
    sqlite3_stmt *st = prepare(s, "SELECT " DEPLOYMENT_COLUMNS " FROM deployments d JOIN apps a ON a.id = d.app"
                                  " WHERE ?1 IS NULL OR d.device = ?1 ORDER BY d.id DESC LIMIT ?2");
    if (st != NULL) {
        if (device != NULL) {
            sqlite3_bind_text(st, 1, device, -1, SQLITE_TRANSIENT);
        }
        sqlite3_bind_int64(st, 2, limit);
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_array_append_new(list, deployment_row(st));
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return list;
}

int64_t store_deploy_seq(store *s)
{
    pthread_mutex_lock(&s->lock);
    int64_t v = s->deploy_seq;
    pthread_mutex_unlock(&s->lock);
    return v;
}

int64_t store_wait_deployments(store *s, int64_t seen, int64_t deadline_ms)
{
    return wait_counter(s, &s->deploy_seq, seen, deadline_ms);
}

/* ---- apps' config and secrets (appconfig.c) ---- */

static void bind_entry(sqlite3_stmt *st, const char *kind, const char *device, const char *key)
{
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, device, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, key, -1, SQLITE_TRANSIENT);
}

store_result store_appconfig_put(store *s, const char *kind, const char *device, const char *key,
                                 const uint8_t *value, size_t len, int64_t now_ms)
{
    pthread_mutex_lock(&s->lock);
    store_result r = STORE_ERROR;
    sqlite3_stmt *st = prepare(s, "INSERT OR REPLACE INTO app_config (kind, device, key, value, updated_at) "
                                  "VALUES (?, ?, ?, ?, ?)");
    if (st != NULL) {
        bind_entry(st, kind, device, key);
        sqlite3_bind_blob(st, 4, len > 0 ? value : (const void *)"", (int)len, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, now_ms);
        r = sqlite3_step(st) == SQLITE_DONE ? STORE_OK : STORE_ERROR;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

store_result store_appconfig_get(store *s, const char *kind, const char *device, const char *key,
                                 uint8_t **value, size_t *len)
{
    pthread_mutex_lock(&s->lock);
    store_result r = STORE_ERROR;
    sqlite3_stmt *st = prepare(s, "SELECT value FROM app_config WHERE kind = ? AND device = ? AND key = ?");
    if (st != NULL) {
        bind_entry(st, kind, device, key);
        int rc = sqlite3_step(st);
        r = rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR;
        if (rc == SQLITE_ROW) {
            size_t n = (size_t)sqlite3_column_bytes(st, 0);
            *value = malloc(n + 1u);
            if (*value != NULL) {
                memcpy(*value, n > 0 ? sqlite3_column_blob(st, 0) : "", n);
                (*value)[n] = 0;
                *len = n;
                r = STORE_OK;
            }
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

store_result store_appconfig_delete(store *s, const char *kind, const char *device, const char *key)
{
    pthread_mutex_lock(&s->lock);
    store_result r = STORE_ERROR;
    sqlite3_stmt *st = prepare(s, "DELETE FROM app_config WHERE kind = ? AND device = ? AND key = ?");
    if (st != NULL) {
        bind_entry(st, kind, device, key);
        r = sqlite3_step(st) != SQLITE_DONE ? STORE_ERROR : sqlite3_changes(s->db) == 0 ? STORE_NOT_FOUND : STORE_OK;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

json_t *store_appconfig_list_json(store *s, const char *kind, const char *device, bool with_values)
{
    json_t *list = json_array();
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = prepare(s, "SELECT key, value, updated_at FROM app_config WHERE kind = ? AND device = ? "
                                  "ORDER BY key");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, device, -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_t *item = json_pack("{s:s, s:I}", "key", (const char *)sqlite3_column_text(st, 0), "updated_at",
                                     (json_int_t)sqlite3_column_int64(st, 2));
            if (with_values) {
                json_object_set_new(item, "value", json_stringn(sqlite3_column_blob(st, 1) != NULL
                                                                    ? sqlite3_column_blob(st, 1) : "",
                                                                (size_t)sqlite3_column_bytes(st, 1)));
            }
            json_array_append_new(list, item);
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return list;
}

/* ---- key sets (SPEC §12.4, §13.5) ---- */

/* The sequence of the set device should hold (lock held): the fleet's
 * newest or one pushed to it alone, whichever is newer; 0 when none. */
static int64_t wanted_key_set_locked(store *s, const char *device)
{
    return query_int(s, "SELECT MAX(COALESCE((SELECT MAX(sequence) FROM key_sets WHERE fleet = 1), 0),"
                        " key_set_target) FROM devices WHERE id = ?", device, 0);
}

store_result store_key_set_add(store *s, uint32_t sequence, const uint8_t *record, size_t len, const char *key_ids,
                               const char *device, int64_t now_ms, char *why, size_t why_size)
{
    pthread_mutex_lock(&s->lock);
    store_result r = STORE_ERROR;
    int64_t newest = device != NULL ? wanted_key_set_locked(s, device)
                                    : query_int(s, "SELECT MAX(sequence) FROM key_sets WHERE fleet = 1", NULL, 0);
    sqlite3_stmt *st = prepare(s, "SELECT record FROM key_sets WHERE sequence = ?");
    bool held = false, same = false;
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, sequence);
        held = sqlite3_step(st) == SQLITE_ROW;
        same = held && (size_t)sqlite3_column_bytes(st, 0) == len && memcmp(sqlite3_column_blob(st, 0), record, len) == 0;
        sqlite3_finalize(st);
    }
    if (held && !same) {
        snprintf(why, why_size, "key set %u is stored already, with other keys or another signature",
                 (unsigned)sequence);
        r = STORE_CONFLICT;
    } else if ((int64_t)sequence < newest) {
        snprintf(why, why_size, "key set %u is older than key set %lld, which %s holds or is getting already",
                 (unsigned)sequence, (long long)newest, device != NULL ? device : "the fleet");
        r = STORE_CONFLICT;
    } else if (exec(s, "BEGIN IMMEDIATE")) {
        bool ok = true;
        if (!held) {
            st = prepare(s, "INSERT INTO key_sets (sequence, record, key_ids, fleet, created_at) VALUES (?, ?, ?, 0, ?)");
            ok = st != NULL;
            if (ok) {
                sqlite3_bind_int64(st, 1, sequence);
                sqlite3_bind_blob(st, 2, record, (int)len, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 3, key_ids, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(st, 4, now_ms);
                ok = sqlite3_step(st) == SQLITE_DONE;
                sqlite3_finalize(st);
            }
        }
        st = ok ? prepare(s, device != NULL ? "UPDATE devices SET key_set_target = ?1 WHERE id = ?2"
                                            : "UPDATE key_sets SET fleet = 1 WHERE sequence = ?1")
                : NULL;
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int64(st, 1, sequence);
            if (device != NULL) {
                sqlite3_bind_text(st, 2, device, -1, SQLITE_TRANSIENT);
            }
            ok = sqlite3_step(st) == SQLITE_DONE;
            sqlite3_finalize(st);
        }
        ok = ok && exec(s, "COMMIT");
        if (!ok) {
            exec(s, "ROLLBACK");
            snprintf(why, why_size, "the database could not store the key set");
        }
        r = !ok ? STORE_ERROR : held ? STORE_EXISTS : STORE_OK;
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

bool store_key_set_due(store *s, const char *device, uint8_t *record, size_t *len, uint32_t *sequence)
{
    pthread_mutex_lock(&s->lock);
    int64_t wanted = wanted_key_set_locked(s, device);
    int64_t held = query_int(s, "SELECT key_set FROM devices WHERE id = ?", device, 0);
    bool due = false;
    sqlite3_stmt *st = wanted > held ? prepare(s, "SELECT record FROM key_sets WHERE sequence = ?") : NULL;
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, wanted);
        if (sqlite3_step(st) == SQLITE_ROW && (size_t)sqlite3_column_bytes(st, 0) <= *len) {
            *len = (size_t)sqlite3_column_bytes(st, 0);
            memcpy(record, sqlite3_column_blob(st, 0), *len);
            *sequence = (uint32_t)wanted;
            due = true;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return due;
}

void store_apply_keys_answer(store *s, const char *device, const cp_keys_answer *answer)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = prepare(s, "UPDATE devices SET key_set = ?2, key_set_error = ?3 WHERE id = ?1");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, device, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, answer->held);
        /* A repeat of a set held is refused as not newer: nothing went wrong. */
        if (answer->refused && answer->held < answer->offered) {
            sqlite3_bind_text(st, 3, (const char *)answer->text, answer->text_length, SQLITE_TRANSIENT);
        } else {
            sqlite3_bind_null(st, 3);
        }
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
}

/* One stored key set as JSON (docs/API.md "Key set"), from a row of
 * sequence, key_ids, fleet, created_at, targeted devices, devices holding it. */
static json_t *key_set_row(sqlite3_stmt *st)
{
    json_error_t e;
    json_t *ids = json_loads((const char *)sqlite3_column_text(st, 1), 0, &e);
    return json_pack("{s:I, s:o, s:b, s:I, s:I, s:I}", "sequence", (json_int_t)sqlite3_column_int64(st, 0),
                     "key_ids", ids != NULL ? ids : json_array(), "fleet", sqlite3_column_int(st, 2) != 0,
                     "created_at_ms", (json_int_t)sqlite3_column_int64(st, 3),
                     "devices_targeted", (json_int_t)sqlite3_column_int64(st, 4),
                     "devices_holding", (json_int_t)sqlite3_column_int64(st, 5));
}

json_t *store_key_sets_json(store *s, int64_t sequence)
{
    pthread_mutex_lock(&s->lock);
    json_t *list = json_array();
    sqlite3_stmt *st = prepare(s, "SELECT sequence, key_ids, fleet, created_at,"
                                  " CASE WHEN fleet = 1 THEN (SELECT COUNT(*) FROM devices)"
                                  " ELSE (SELECT COUNT(*) FROM devices WHERE key_set_target = k.sequence) END,"
                                  " (SELECT COUNT(*) FROM devices WHERE key_set >= k.sequence)"
                                  " FROM key_sets k WHERE ?1 = 0 OR sequence = ?1 ORDER BY sequence DESC");
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, sequence);
    }
    while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        json_t *k = key_set_row(st);
        if (k != NULL) {
            json_array_append_new(list, k);
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return list;
}
