/*
 * store.h over SQLite. Invariants: every public function takes s->lock for
 * its whole run; writes run inside BEGIN IMMEDIATE ... COMMIT (rolled back on
 * any error); s->last_cursor is the highest log cursor committed, and
 * s->logs_changed is signalled after every commit that raised it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "store.h"

struct store {
    sqlite3 *db;
    pthread_mutex_t lock;
    pthread_cond_t logs_changed;
    int64_t last_cursor;
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
    pthread_cond_init(&s->logs_changed, NULL);
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
    pthread_cond_destroy(&s->logs_changed);
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
             && exec_bound(s, "DELETE FROM crashes WHERE device = ?", id);
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
    "(SELECT COUNT(*) FROM crashes c WHERE c.device = devices.id), certificate"

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
                        " crash_count = ?9, newest_crash_seq = ?10, last_seen = ?11 WHERE id = ?1");
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
                pthread_cond_broadcast(&s->logs_changed);
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

int64_t store_wait_logs(store *s, int64_t seen, int64_t deadline_ms)
{
    struct timespec until = { .tv_sec = deadline_ms / 1000, .tv_nsec = (long)(deadline_ms % 1000) * 1000000L };
    pthread_mutex_lock(&s->lock);
    while (s->last_cursor <= seen && !s->waking) {
        if (pthread_cond_timedwait(&s->logs_changed, &s->lock, &until) == ETIMEDOUT) {
            break;
        }
    }
    int64_t top = s->waking ? -1 : s->last_cursor;
    pthread_mutex_unlock(&s->lock);
    return top;
}

void store_wake_all(store *s)
{
    pthread_mutex_lock(&s->lock);
    s->waking = true;
    pthread_cond_broadcast(&s->logs_changed);
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
