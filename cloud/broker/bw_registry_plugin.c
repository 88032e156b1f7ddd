/*
 * bw_registry_plugin: a mosquitto 2.0 plugin (plugin API v5) that lets only
 * the identities in bulwarkd's registry use the broker. The registry file
 * (plugin_opt_registry) holds one identity per line (device IDs, and
 * "bulwarkd"); bulwarkd rewrites it atomically (write + rename) whenever a
 * device is registered or removed.
 *
 * mosquitto 2.0.11 takes a certificate's identity as the user name without
 * calling any plugin at CONNECT (measured: no basic-auth event), so the
 * refusal happens at the first thing a client does:
 * - every publish, subscribe and delivery of an identity not in the file is
 *   denied (ACL event; otherwise the acl_file decides), and that identity is
 *   queued to be disconnected;
 * - every tick: the file is read again when it changed; identities that left
 *   it and queued ones are disconnected without their will.
 * A device publishes STATUS right after CONNACK, so a removed device is
 * disconnected on its first packet with nothing delivered; its live
 * connection ends at the tick after bulwarkd rewrites the file.
 *
 * Invariant: `allowed` is the file's content as last read successfully; a file
 * that cannot be read leaves it unchanged (a transient error never opens the
 * broker, and a missing file at start admits nobody).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#define MAX_IDENTITY 64u

typedef struct registry {
    char path[4096];
    char (*ids)[MAX_IDENTITY];   /* sorted */
    size_t count;
    struct timespec mtime;
    off_t size;
    ino_t inode;
} registry;

#define MAX_PENDING_KICKS 64u

static registry reg;
static char pending_kicks[MAX_PENDING_KICKS][MAX_IDENTITY];
static unsigned pending_kick_count;
static mosquitto_plugin_id_t *plugin_id;

static int compare_ids(const void *a, const void *b)
{
    return strcmp(a, b);
}

static bool registry_has(const registry *r, const char *id)
{
    if (id == NULL || strlen(id) >= MAX_IDENTITY) {
        return false;
    }
    return r->count > 0 && bsearch(id, r->ids, r->count, MAX_IDENTITY, compare_ids) != NULL;
}

/* Reads the file into *out (sorted); false (out untouched) if it cannot be read. */
static bool registry_read(const char *path, char (**out)[MAX_IDENTITY], size_t *out_count)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return false;
    }
    size_t cap = 64, count = 0;
    char (*ids)[MAX_IDENTITY] = malloc(cap * MAX_IDENTITY);
    char line[256];
    while (ids != NULL && fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#' || strlen(line) >= MAX_IDENTITY) {
            continue;
        }
        if (count == cap) {
            cap *= 2;
            char (*bigger)[MAX_IDENTITY] = realloc(ids, cap * MAX_IDENTITY);
            if (bigger == NULL) {
                free(ids);
                ids = NULL;
                break;
            }
            ids = bigger;
        }
        memcpy(ids[count++], line, strlen(line) + 1);
    }
    bool ok = ids != NULL && !ferror(f);
    fclose(f);
    if (!ok) {
        free(ids);
        return false;
    }
    qsort(ids, count, MAX_IDENTITY, compare_ids);
    *out = ids;
    *out_count = count;
    return true;
}

/* Re-reads the file if it changed; kicks the identities that left it. */
static void registry_refresh(registry *r, bool kick)
{
    struct stat st;
    if (stat(r->path, &st) != 0) {
        return;
    }
    if (r->ids != NULL && st.st_mtim.tv_sec == r->mtime.tv_sec && st.st_mtim.tv_nsec == r->mtime.tv_nsec
        && st.st_size == r->size && st.st_ino == r->inode) {
        return;
    }
    char (*ids)[MAX_IDENTITY] = NULL;
    size_t count = 0;
    if (!registry_read(r->path, &ids, &count)) {
        return;
    }
    char (*old)[MAX_IDENTITY] = r->ids;
    size_t old_count = r->count;
    r->ids = ids;
    r->count = count;
    r->mtime = st.st_mtim;
    r->size = st.st_size;
    r->inode = st.st_ino;
    for (size_t i = 0; kick && i < old_count; i++) {
        if (!registry_has(r, old[i])) {
            mosquitto_log_printf(MOSQ_LOG_NOTICE, "bw_registry: %s removed, disconnecting it", old[i]);
            mosquitto_kick_client_by_username(old[i], false);
        }
    }
    free(old);
}

static int on_acl_check(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_acl_check *ed = event_data;
    const char *id = mosquitto_client_username(ed->client);
    if (registry_has(&reg, id)) {
        return MOSQ_ERR_PLUGIN_DEFER;
    }
    if (id != NULL && strlen(id) < MAX_IDENTITY) {
        bool queued = false;
        for (unsigned i = 0; i < pending_kick_count && !queued; i++) {
            queued = strcmp(pending_kicks[i], id) == 0;
        }
        if (!queued && pending_kick_count < MAX_PENDING_KICKS) {
            memcpy(pending_kicks[pending_kick_count++], id, strlen(id) + 1);
        }
    }
    return MOSQ_ERR_ACL_DENIED;
}

static int on_tick(int event, void *event_data, void *userdata)
{
    registry_refresh(&reg, true);
    for (unsigned i = 0; i < pending_kick_count; i++) {
        mosquitto_log_printf(MOSQ_LOG_NOTICE, "bw_registry: %s is not in the registry, disconnecting it",
                             pending_kicks[i]);
        mosquitto_kick_client_by_username(pending_kicks[i], false);
    }
    pending_kick_count = 0;
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
    for (int i = 0; i < supported_version_count; i++) {
        if (supported_versions[i] == 5) {
            return 5;
        }
    }
    return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *options,
                          int option_count)
{
    plugin_id = identifier;
    for (int i = 0; i < option_count; i++) {
        if (strcmp(options[i].key, "registry") == 0) {
            snprintf(reg.path, sizeof reg.path, "%s", options[i].value);
        }
    }
    if (reg.path[0] == '\0') {
        mosquitto_log_printf(MOSQ_LOG_ERR, "bw_registry: plugin_opt_registry is required");
        return MOSQ_ERR_INVAL;
    }
    registry_refresh(&reg, false);
    if (mosquitto_callback_register(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, NULL) != 0
        || mosquitto_callback_register(plugin_id, MOSQ_EVT_TICK, on_tick, NULL, NULL) != 0) {
        return MOSQ_ERR_UNKNOWN;
    }
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
    mosquitto_callback_unregister(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
    mosquitto_callback_unregister(plugin_id, MOSQ_EVT_TICK, on_tick, NULL);
    free(reg.ids);
    reg.ids = NULL;
    reg.count = 0;
    return MOSQ_ERR_SUCCESS;
}
