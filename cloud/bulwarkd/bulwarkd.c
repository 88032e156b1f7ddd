/*
 * bulwarkd: the Bulwark cloud daemon. Devices reach it through the broker
 * (docs/SPEC.md §13); operators and the CLI through the REST API
 * (docs/API.md). This file holds start-up, shutdown (SIGTERM/SIGINT) and the
 * handling of device messages:
 * - only registered devices count: anything else is ignored and counted;
 * - STATUS updates the registry (online/offline per §13.2's rule) and an
 *   online STATUS is answered with TIME, which online devices also get every
 *   time_interval seconds;
 * - LOG batches are stored with dedup and gap accounting (store.c);
 * - CRASH records are stored once each after the §7 checks;
 * - FETCH and UPDATE (§15) go to ota.c; an online STATUS also re-sends
 *   DEPLOY while the device's deployment is neither installed nor final,
 *   and KEY_SET while it holds an older key set than it should (keys.c);
 * - KEYS_ANSWER (§13.5) goes to keys.c;
 * - HTTP_REQUEST pieces (§16) go to http.c, which performs on worker threads.
 * - MQTT_UP pieces (§18) go to mqtt.c, which holds apps' broker sessions.
 * Messages arrive on the broker thread; REST requests on their own threads;
 * the store serialises both.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "bulwarkd.h"
#include "bw_crash_record.h"
#include "cloud_proto.h"

static void send_time(bwd *d, const char *id)
{
    char topic[64];
    uint8_t msg[CP_TIME_SIZE];
    snprintf(topic, sizeof topic, "bw/%s/down/time", id);
    cp_encode_time((uint64_t)bwd_now_ms(), msg);
    if (broker_publish(d->broker, topic, msg, sizeof msg, 1) == 0) {
        d->counters.time_sent++;
    }
}

static void send_time_each(void *ctx, const char *id)
{
    send_time(ctx, id);
}

static void handle_log(bwd *d, const char *id, const uint8_t *payload, size_t len)
{
    cp_log log;
    cp_result r = cp_decode_log(payload, len, &log);
    if (r != CP_OK) {
        d->counters.invalid++;
        fprintf(stderr, "bulwarkd: %s: LOG ignored: %s\n", id, cp_result_text(r));
        return;
    }
    unsigned added = 0, lost = 0;
    if (store_add_log(d->store, id, &log, bwd_now_ms(), d->config.log_retention, &added, &lost) != STORE_OK) {
        fprintf(stderr, "bulwarkd: %s: could not store a LOG batch\n", id);
        return;
    }
    d->counters.log_lines += added;
    d->counters.duplicate_lines += log.count - added;
    d->counters.lost_lines += lost;
}

static void handle_crash(bwd *d, const char *id, const uint8_t *payload, size_t len)
{
    cp_crash crash;
    cp_result r = cp_decode_crash(payload, len, &crash);
    bw_crash_record record;
    if (r != CP_OK) {
        d->counters.invalid++;
        fprintf(stderr, "bulwarkd: %s: CRASH ignored: %s\n", id, cp_result_text(r));
        return;
    }
    if (bw_crash_record_check(crash.record, CP_CRASH_RECORD_SIZE, &record) != BW_OK) {
        d->counters.bad_crash_records++;
        fprintf(stderr, "bulwarkd: %s: CRASH ignored: the record fails the §7 checks\n", id);
        return;
    }
    store_result s = store_add_crash(d->store, id, crash.boot_id, record.sequence, crash.record,
                                     CP_CRASH_RECORD_SIZE, bwd_now_ms());
    if (s == STORE_OK) {
        d->counters.crashes++;
    }
}

static void handle_status(bwd *d, const char *id, const uint8_t *payload, size_t len)
{
    cp_status status;
    cp_result r = cp_decode_status(payload, len, &status);
    if (r != CP_OK) {
        d->counters.invalid++;
        fprintf(stderr, "bulwarkd: %s: STATUS ignored: %s\n", id, cp_result_text(r));
        return;
    }
    store_apply_status(d->store, id, &status, bwd_now_ms());
    bwd_http_abandon(d, id);   /* one STATUS per connection: the previous one ended */
    bwd_mqtt_end_device(d, id);
    if (status.online) {
        send_time(d, id);
        bwd_send_deploy(d, id);
        bwd_send_key_set(d, id);
    }
}

/* Topic "bw/<device ID>/up/<kind>" (§13.1). */
static void on_message(void *context, const char *topic, const uint8_t *payload, size_t len)
{
    bwd *d = context;
    d->counters.messages++;
    char id[BWD_DEVICE_ID_LEN + 1];
    if (strncmp(topic, "bw/", 3) != 0 || strlen(topic) < 3 + BWD_DEVICE_ID_LEN + 4
        || strncmp(topic + 3 + BWD_DEVICE_ID_LEN, "/up/", 4) != 0) {
        d->counters.unknown_topic++;
        return;
    }
    memcpy(id, topic + 3, BWD_DEVICE_ID_LEN);
    id[BWD_DEVICE_ID_LEN] = '\0';
    const char *kind = topic + 3 + BWD_DEVICE_ID_LEN + 4;
    if (!bwd_valid_device_id(id)) {
        d->counters.unknown_topic++;
        return;
    }
    if (!store_device_exists(d->store, id)) {
        d->counters.unregistered++;
        return;
    }
    if (strcmp(kind, "status") == 0) {
        handle_status(d, id, payload, len);
    } else if (strcmp(kind, "log") == 0) {
        handle_log(d, id, payload, len);
    } else if (strcmp(kind, "crash") == 0) {
        handle_crash(d, id, payload, len);
    } else if (strcmp(kind, "fetch") == 0) {
        bwd_handle_fetch(d, id, payload, len);
    } else if (strcmp(kind, "update") == 0) {
        bwd_handle_update(d, id, payload, len);
    } else if (strcmp(kind, "http") == 0) {
        bwd_handle_http(d, id, payload, len);
    } else if (strcmp(kind, "config") == 0) {
        bwd_handle_config(d, id, payload, len);
    } else if (strcmp(kind, "mqtt") == 0) {
        bwd_handle_mqtt(d, id, payload, len);
    } else if (strcmp(kind, "debug") == 0) {
        bwd_handle_debug(d, id, payload, len);
    } else if (strcmp(kind, "keys") == 0) {
        bwd_handle_keys_answer(d, id, payload, len);
    } else {
        d->counters.unknown_topic++;
    }
}

typedef struct registry_writer {
    FILE *f;
    bool ok;
} registry_writer;

static void write_registry_line(void *ctx, const char *id)
{
    registry_writer *w = ctx;
    w->ok = w->ok && fprintf(w->f, "%s\n", id) > 0;
}

int bwd_write_registry(bwd *d)
{
    char tmp[BWD_PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp", d->config.registry_path);
    registry_writer w = { .f = fopen(tmp, "w"), .ok = true };
    if (w.f == NULL) {
        fprintf(stderr, "bulwarkd: %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    fprintf(w.f, "# identities the broker admits; written by bulwarkd\nbulwarkd\n");
    store_device_each(d->store, false, write_registry_line, &w);
    w.ok = fflush(w.f) == 0 && fsync(fileno(w.f)) == 0 && w.ok;
    w.ok = fclose(w.f) == 0 && w.ok;
    if (!w.ok || rename(tmp, d->config.registry_path) != 0) {
        fprintf(stderr, "bulwarkd: cannot write %s: %s\n", d->config.registry_path, strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static bwd d;
    int rc = bwd_config_load(&d.config, argc, argv);
    if (rc != 0) {
        return rc;
    }
    /* SIGTERM/SIGINT are taken by sigtimedwait below, on this thread only. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    bwd_http_init();
    char err[512];
    d.store = store_open(d.config.db_path, err, sizeof err);
    if (d.store == NULL) {
        fprintf(stderr, "bulwarkd: database: %s\n", err);
        return 1;
    }
    if (bwd_write_registry(&d) != 0 || bwd_blobs_init(&d, err, sizeof err) != 0) {
        fprintf(stderr, "bulwarkd: %s\n", err);
        store_close(d.store);
        return 1;
    }
    char ca[BWD_PATH_MAX + 16], cert[BWD_PATH_MAX + 16], key[BWD_PATH_MAX + 16];
    snprintf(ca, sizeof ca, "%s/ca.crt", d.config.fleet_dir);
    snprintf(cert, sizeof cert, "%s/bulwarkd.crt", d.config.fleet_dir);
    snprintf(key, sizeof key, "%s/bulwarkd.key", d.config.fleet_dir);
    broker_config bc = { .host = d.config.broker_host, .port = d.config.broker_port, .client_id = d.config.client_id,
                         .ca_file = ca, .cert_file = cert, .key_file = key, .on_message = on_message,
                         .context = &d };
    d.broker = broker_start(&bc, err, sizeof err);
    if (d.broker == NULL) {
        fprintf(stderr, "bulwarkd: broker: %s\n", err);
        store_close(d.store);
        return 1;
    }
    /* One bulwarkd: a plain subscription, which the broker keeps in the
     * persistent session across its own restarts. Several: a shared one, so
     * they split the devices' uplink (mosquitto 2.0 does not restore shared
     * subscriptions after a restart until the subscriber reconnects). */
    char filter[128];
    if (d.config.share_group[0] != '\0') {
        snprintf(filter, sizeof filter, "$share/%s/bw/+/up/#", d.config.share_group);
    } else {
        snprintf(filter, sizeof filter, "bw/+/up/#");
    }
    broker_subscribe(d.broker, filter, 1);

    int port = 0;
    struct MHD_Daemon *api = bwd_api_start(&d, &port, err, sizeof err);
    if (api == NULL) {
        fprintf(stderr, "bulwarkd: API: %s\n", err);
        broker_stop(d.broker);
        store_close(d.store);
        return 1;
    }
    printf("bulwarkd: API on http://%s:%d (schema version %d, database %s)\n", d.config.api_host, port,
           store_schema_version(d.store), d.config.db_path);
    fflush(stdout);

    time_t next_time = time(NULL) + d.config.time_interval_s;
    for (;;) {
        time_t now = time(NULL);
        struct timespec wait = { .tv_sec = next_time > now ? next_time - now : 0 };
        int sig = sigtimedwait(&stop_signals, NULL, &wait);
        if (sig == SIGTERM || sig == SIGINT) {
            break;
        }
        if (time(NULL) >= next_time) {
            store_device_each(d.store, true, send_time_each, &d);
            next_time = time(NULL) + d.config.time_interval_s;
        }
    }
    fprintf(stderr, "bulwarkd: stopping\n");
    store_wake_all(d.store);   /* long polls answer now */
    MHD_stop_daemon(api);
    broker_stop(d.broker);
    store_close(d.store);
    return 0;
}
