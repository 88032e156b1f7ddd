/*
 * bulwarkd's configuration. Precedence, first found wins: command-line flags,
 * environment (BULWARKD_FLEET, BULWARKD_API_LISTEN, BULWARKD_DB,
 * BULWARKD_BROKER_HOST, BULWARKD_BROKER_PORT, BULWARKD_LOG_RETENTION), the
 * config file (--config F or $BULWARKD_CONFIG; "key = value" lines), the
 * fleet directory's fleet.conf, then defaults. Keys are the long flag names
 * with '_' for '-': fleet, api_listen, db, registry, broker_host,
 * broker_port, log_retention, time_interval, client_id, share_group,
 * http_ca (the CA bundle apps' HTTPS requests are verified against, SPEC
 * §16; "": the system's), http_connect_to (HOST:PORT:CONNECT-HOST:CONNECT-PORT:
 * requests for HOST:PORT go to the other address, the name and its
 * certificate still checked: libcurl's CURLOPT_CONNECT_TO; tests use it),
 * mqtt_connect_to (the same for apps' MQTT brokers, SPEC §18.4: the
 * broker's certificate is then checked against CONNECT-HOST).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bulwarkd.h"

enum { K_FLEET, K_API_LISTEN, K_DB, K_REGISTRY, K_BROKER_HOST, K_BROKER_PORT, K_LOG_RETENTION, K_TIME_INTERVAL,
       K_CLIENT_ID, K_SHARE_GROUP, K_HTTP_CA, K_HTTP_CONNECT_TO, K_MQTT_CONNECT_TO, K_COUNT };
static const char *const key_names[K_COUNT] = { "fleet", "api_listen", "db", "registry", "broker_host",
                                                "broker_port", "log_retention", "time_interval",
                                                "client_id", "share_group", "http_ca", "http_connect_to",
                                                "mqtt_connect_to" };
static const char *const env_names[K_COUNT] = { "BULWARKD_FLEET", "BULWARKD_API_LISTEN", "BULWARKD_DB",
                                                "BULWARKD_REGISTRY", "BULWARKD_BROKER_HOST",
                                                "BULWARKD_BROKER_PORT", "BULWARKD_LOG_RETENTION",
                                                "BULWARKD_TIME_INTERVAL", "BULWARKD_CLIENT_ID",
                                                "BULWARKD_SHARE_GROUP", "BULWARKD_HTTP_CA",
                                                "BULWARKD_HTTP_CONNECT_TO", "BULWARKD_MQTT_CONNECT_TO" };

#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

typedef struct settings {
    char value[K_COUNT][BWD_PATH_MAX];
    bool set[K_COUNT];
} settings;

static void put(settings *s, int key, const char *value)
{
    if (!s->set[key]) {
        snprintf(s->value[key], sizeof s->value[key], "%s", value);
        s->set[key] = true;
    }
}

static char *trim(char *t)
{
    while (*t == ' ' || *t == '\t') t++;
    size_t n = strlen(t);
    while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\n' || t[n - 1] == '\r')) t[--n] = '\0';
    return t;
}

/* Reads "key = value" lines; unknown keys are an error in our own config
 * file (strict) and ignored in fleet.conf (shared with other tools). */
static int read_file(settings *s, const char *path, bool strict, bool must_exist)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (!must_exist && errno == ENOENT) {
            return 0;
        }
        fprintf(stderr, "bulwarkd: %s: %s\n", path, strerror(errno));
        return 2;
    }
    char line[BWD_PATH_MAX + 64];
    for (unsigned n = 1; fgets(line, sizeof line, f) != NULL; n++) {
        char *hash = strchr(line, '#');
        if (hash != NULL) *hash = '\0';
        char *t = trim(line);
        if (*t == '\0') continue;
        char *eq = strchr(t, '=');
        if (eq == NULL) {
            fprintf(stderr, "bulwarkd: %s:%u: expected 'key = value'\n", path, n);
            fclose(f);
            return 2;
        }
        *eq = '\0';
        char *key = trim(t), *value = trim(eq + 1);
        int k = 0;
        while (k < K_COUNT && strcmp(key_names[k], key) != 0) k++;
        if (k == K_COUNT) {
            if (strict) {
                fprintf(stderr, "bulwarkd: %s:%u: unknown key '%s'\n", path, n, key);
                fclose(f);
                return 2;
            }
            continue;
        }
        put(s, k, value);
    }
    fclose(f);
    return 0;
}

static bool parse_uint(const char *text, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    if (text[0] < '0' || text[0] > '9') return false;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) return false;
    *out = v;
    return true;
}

/* "HOST:PORT" or ":PORT" or "PORT". */
static bool parse_listen(const char *text, char *host, size_t host_size, int *port)
{
    const char *colon = strrchr(text, ':');
    const char *port_text = colon != NULL ? colon + 1 : text;
    unsigned long p;
    if (!parse_uint(port_text, 65535, &p)) return false;
    if (colon != NULL && colon != text) {
        size_t n = (size_t)(colon - text);
        if (n >= host_size) return false;
        memcpy(host, text, n);
        host[n] = '\0';
    }
    *port = (int)p;
    return true;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: bulwarkd [--config FILE] [--fleet DIR] [--api-listen [HOST:]PORT] [--db PATH]\n"
            "                [--registry FILE] [--broker-host H] [--broker-port P] [--log-retention N]\n"
            "                [--time-interval S] [--client-id ID] [--share-group NAME]\n"
            "                [--http-ca FILE] [--http-connect-to HOST:PORT:CONNECT-HOST:CONNECT-PORT]\n"
            "                [--mqtt-connect-to HOST:PORT:CONNECT-HOST:CONNECT-PORT]\n"
            "  defaults: fleet ., api_listen 127.0.0.1:8470, db FLEET/bulwarkd.db,\n"
            "  registry FLEET/registry.list, broker 127.0.0.1:8883, log_retention 10000, time_interval 3600,\n"
            "  client_id bulwarkd, share_group none (several bulwarkd on one broker: one group, each its own ID)\n");
    return 2;
}

int bwd_config_load(bwd_config *config, int argc, char **argv)
{
    static const struct option options[] = {
        { "fleet", required_argument, NULL, K_FLEET },
        { "api-listen", required_argument, NULL, K_API_LISTEN },
        { "db", required_argument, NULL, K_DB },
        { "registry", required_argument, NULL, K_REGISTRY },
        { "broker-host", required_argument, NULL, K_BROKER_HOST },
        { "broker-port", required_argument, NULL, K_BROKER_PORT },
        { "log-retention", required_argument, NULL, K_LOG_RETENTION },
        { "time-interval", required_argument, NULL, K_TIME_INTERVAL },
        { "client-id", required_argument, NULL, K_CLIENT_ID },
        { "share-group", required_argument, NULL, K_SHARE_GROUP },
        { "http-ca", required_argument, NULL, K_HTTP_CA },
        { "http-connect-to", required_argument, NULL, K_HTTP_CONNECT_TO },
        { "mqtt-connect-to", required_argument, NULL, K_MQTT_CONNECT_TO },
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    settings *s = calloc(1, sizeof *s);
    if (s == NULL) return 2;
    const char *config_file = getenv("BULWARKD_CONFIG");
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        if (c == 'c') {
            config_file = optarg;
        } else if (c >= 0 && c < K_COUNT) {
            put(s, c, optarg);
        } else {
            free(s);
            if (c != 'h') fprintf(stderr, "bulwarkd: unknown or incomplete option '%s'\n", argv[optind - 1]);
            return usage();
        }
    }
    if (optind != argc) {
        free(s);
        fprintf(stderr, "bulwarkd: unexpected argument '%s'\n", argv[optind]);
        return usage();
    }
    for (int k = 0; k < K_COUNT; k++) {
        const char *v = getenv(env_names[k]);
        if (v != NULL && *v != '\0') put(s, k, v);
    }
    int rc = config_file != NULL ? read_file(s, config_file, true, true) : 0;
    put(s, K_FLEET, ".");
    char path[BWD_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/fleet.conf", s->value[K_FLEET]);
    if (rc == 0) rc = read_file(s, path, false, false);
    if (rc != 0) {
        free(s);
        return rc;
    }
    put(s, K_API_LISTEN, "127.0.0.1:8470");
    put(s, K_BROKER_HOST, "127.0.0.1");
    put(s, K_BROKER_PORT, "8883");
    put(s, K_LOG_RETENTION, "10000");
    put(s, K_TIME_INTERVAL, "3600");
    put(s, K_CLIENT_ID, "bulwarkd");
    put(s, K_SHARE_GROUP, "");
    put(s, K_HTTP_CA, "");
    put(s, K_HTTP_CONNECT_TO, "");
    put(s, K_MQTT_CONNECT_TO, "");

    memset(config, 0, sizeof *config);
    snprintf(config->fleet_dir, sizeof config->fleet_dir, "%s", s->value[K_FLEET]);
    snprintf(config->api_host, sizeof config->api_host, "127.0.0.1");
    snprintf(config->broker_host, sizeof config->broker_host, "%.255s", s->value[K_BROKER_HOST]);
    unsigned long v;
    if (!parse_listen(s->value[K_API_LISTEN], config->api_host, sizeof config->api_host, &config->api_port)) {
        fprintf(stderr, "bulwarkd: api_listen '%s' is not [HOST:]PORT\n", s->value[K_API_LISTEN]);
        rc = 2;
    } else if (!parse_uint(s->value[K_BROKER_PORT], 65535, &v) || v == 0) {
        fprintf(stderr, "bulwarkd: broker_port '%s' is not a port\n", s->value[K_BROKER_PORT]);
        rc = 2;
    } else {
        config->broker_port = (int)v;
        if (!parse_uint(s->value[K_LOG_RETENTION], 100000000, &v) || v == 0) {
            fprintf(stderr, "bulwarkd: log_retention '%s' is not a count from 1\n", s->value[K_LOG_RETENTION]);
            rc = 2;
        } else {
            config->log_retention = (unsigned)v;
            if (!parse_uint(s->value[K_TIME_INTERVAL], 86400, &v) || v == 0) {
                fprintf(stderr, "bulwarkd: time_interval '%s' is not 1..86400 s\n", s->value[K_TIME_INTERVAL]);
                rc = 2;
            }
            config->time_interval_s = (unsigned)v;
        }
    }
    /* MQTT 3.1.1 client IDs: 1-23 characters are what every broker must take;
     * a share group is one topic level. */
    size_t id_len = strlen(s->value[K_CLIENT_ID]);
    if (rc == 0 && (id_len == 0 || id_len > 23 || strspn(s->value[K_CLIENT_ID], ID_CHARS) != id_len)) {
        fprintf(stderr, "bulwarkd: client_id '%s' is not 1-23 of [A-Za-z0-9_-]\n", s->value[K_CLIENT_ID]);
        rc = 2;
    }
    size_t group_len = strlen(s->value[K_SHARE_GROUP]);
    if (rc == 0 && (group_len > 64 || strspn(s->value[K_SHARE_GROUP], ID_CHARS) != group_len)) {
        fprintf(stderr, "bulwarkd: share_group '%s' is not up to 64 of [A-Za-z0-9_-]\n", s->value[K_SHARE_GROUP]);
        rc = 2;
    }
    snprintf(config->client_id, sizeof config->client_id, "%.23s", s->value[K_CLIENT_ID]);
    snprintf(config->share_group, sizeof config->share_group, "%.64s", s->value[K_SHARE_GROUP]);
    snprintf(config->http_ca, sizeof config->http_ca, "%s", s->value[K_HTTP_CA]);
    snprintf(config->http_connect_to, sizeof config->http_connect_to, "%.255s", s->value[K_HTTP_CONNECT_TO]);
    snprintf(config->mqtt_connect_to, sizeof config->mqtt_connect_to, "%.255s", s->value[K_MQTT_CONNECT_TO]);
    if (s->set[K_DB]) {
        snprintf(config->db_path, sizeof config->db_path, "%s", s->value[K_DB]);
    } else {
        snprintf(config->db_path, sizeof config->db_path, "%.4000s/bulwarkd.db", config->fleet_dir);
    }
    if (s->set[K_REGISTRY]) {
        snprintf(config->registry_path, sizeof config->registry_path, "%s", s->value[K_REGISTRY]);
    } else {
        snprintf(config->registry_path, sizeof config->registry_path, "%.4000s/registry.list", config->fleet_dir);
    }
    free(s);
    if (rc != 0) return rc;

    snprintf(path, sizeof path, "%s/admin.token", config->fleet_dir);
    FILE *f = fopen(path, "r");
    if (f == NULL || fgets(config->token, sizeof config->token, f) == NULL) {
        fprintf(stderr, "bulwarkd: cannot read the admin token %s: %s\n", path, f == NULL ? strerror(errno) : "empty");
        if (f != NULL) fclose(f);
        return 2;
    }
    fclose(f);
    config->token[strcspn(config->token, "\r\n")] = '\0';
    if (strlen(config->token) < 16) {
        fprintf(stderr, "bulwarkd: %s: the admin token is shorter than 16 characters\n", path);
        return 2;
    }
    return 0;
}

bool bwd_valid_device_id(const char *id)
{
    if (id == NULL || strlen(id) != BWD_DEVICE_ID_LEN || id[0] != 'B' || id[1] != 'W') return false;
    for (unsigned i = 2; i < BWD_DEVICE_ID_LEN; i++) {
        char c = id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
    }
    return true;
}

int64_t bwd_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
