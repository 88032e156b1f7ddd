/*
 * The kernel's cloud link (cloud_service.h).
 *
 * One connection attempt at a time, each layer started on the one below once
 * that is up:  WAIT (backoff) → SOCKET (modem connect) → TLS (handshake, a
 * bounded slice per pass) → MQTT (CONNECT..CONNACK) → ONLINE. Any layer
 * closing or failing tears the whole stack down (MQTT, TLS, socket) and
 * waits out the next backoff delay. The app sees CONNECTING until ONLINE,
 * then CONNECTED (bw_network.h); a device without credentials stays
 * DELIBERATELYOFFLINE and is checked again on every pass (provisioning over
 * the local link needs no reboot).
 *
 * Measurement: the time spent inside the TLS calls of one handshake (start
 * and every poll until OPEN; waits between polls excluded) is logged after
 * "TLS up"; under QEMU -icount shift=0 one microsecond is 1000 guest
 * instructions (tests/bench/bench_cloud.py). "online" and "link down" log the
 * RAM high-water marks of the crypto arena and of the kernel stack.
 */
#include <string.h>

#include "arch.h"
#include "bw_backoff.h"
#include "bw_board.h"
#include "bw_cloud.h"
#include "bw_crypto.h"
#include "bw_debug_monitor.h"
#include "bw_debug_session.h"
#include "bw_credentials.h"
#include "bw_kernel.h"
#include "bw_log.h"
#include "bw_modem.h"
#include "bw_mqtt.h"
#include "bw_network.h"
#include "bw_http_relay.h"
#include "bw_ota.h"
#include "bw_port.h"
#include "bw_random.h"
#include "bw_tls.h"
#include "bw_update.h"
#include "bw_version.h"
#include "cloud_service.h"
#include "bw_kernel_seal.h"
#include "bw_kernel_slots.h"
#include "kernel_trial.h"
#include "key_set_service.h"
#include "update_service.h"
#include "mbedtls/pk.h"

typedef enum link_state { LINK_OFF, LINK_WAIT, LINK_SOCKET, LINK_TLS, LINK_MQTT, LINK_ONLINE } link_state;

static struct {
    bool started;
    link_state state;
    uint64_t retry_at_ms;
    bw_backoff backoff;
    bw_mqtt mqtt;
    bw_mqtt_config mqtt_config;   /* the session keeps a pointer to it */
    char device_id[BW_DEVICE_ID_LEN + 1];
    char will_topic[BW_CLOUD_TOPIC_MAX];
    uint8_t will[BW_CLOUD_STATUS_SIZE];
    char filter[BW_CLOUD_TOPIC_MAX];
    const char *filters[1];
    uint8_t key_der[160];
    size_t key_len;
    bw_tls_credentials tls;
    uint32_t connection_id;
    uint64_t tls_us;   /* inside TLS calls during this handshake */
    uint32_t time_sets;   /* TIMEs seen so far (each is logged) */
    bool reached;                /* online at least once since boot */
    bool configured;             /* the device holds cloud credentials */
    uint32_t chunks_at_online;   /* OTA chunks written when this connection came up */
} cs;

static uint64_t now_ms(void)
{
    return port_time_us() / 1000u;
}

static size_t modem_read(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    return board_modem_read(buf, len);
}

static size_t modem_write(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    return board_modem_write(data, len);
}

static bw_err backoff_random(void *buf, size_t len)
{
    return bw_random_bytes(buf, len);
}

static bw_err publish(void *ctx, const char *topic, const uint8_t *payload, size_t len, uint8_t qos,
                      uint16_t *id)
{
    (void)ctx;
    return bw_mqtt_publish(&cs.mqtt, topic, payload, len, qos, false, id, now_ms());
}

static void on_mqtt(void *ctx, const bw_mqtt_event *ev)
{
    (void)ctx;
    switch (ev->type) {
    case BW_MQTT_EV_CONNECTED:
        break;
    case BW_MQTT_EV_SUBSCRIBED:
        break;
    case BW_MQTT_EV_MESSAGE: {
        char topic[BW_CLOUD_TOPIC_MAX];
        if (ev->topic_len >= sizeof topic) {
            bw_cloud_received("", ev->payload, ev->payload_len, port_time_us());
            break;
        }
        memcpy(topic, ev->topic, ev->topic_len);
        topic[ev->topic_len] = '\0';
        bw_cloud_received(topic, ev->payload, ev->payload_len, port_time_us());
        break;
    }
    case BW_MQTT_EV_DELIVERED:
        bw_cloud_acked(ev->packet_id);
        break;
    case BW_MQTT_EV_UNDELIVERED:
    case BW_MQTT_EV_CLOSED:
        break;
    }
}

/* Loads what TLS needs from the credentials; false if not provisioned. */
static bool load_credentials(void)
{
    if (!bw_credentials_provisioned()) {
        return false;
    }
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    int len = -1;
    if (bw_credentials_device_key(&pk) == BW_OK) {
        len = mbedtls_pk_write_key_der(&pk, cs.key_der, sizeof cs.key_der);
    }
    mbedtls_pk_free(&pk);
    if (len <= 0) {
        return false;
    }
    /* mbedtls_pk_write_key_der writes at the end of the buffer. */
    memmove(cs.key_der, cs.key_der + sizeof cs.key_der - (size_t)len, (size_t)len);
    cs.key_len = (size_t)len;
    size_t cert_len = 0;
    size_t ca_len = 0;
    const uint8_t *cert = bw_credentials_certificate(&cert_len);
    const uint8_t *ca = bw_credentials_ca_certificate(&ca_len);
    cs.tls = (bw_tls_credentials){ .device_key = cs.key_der, .device_key_len = cs.key_len,
                                   .device_cert = cert, .device_cert_len = cert_len,
                                   .ca_cert = ca, .ca_cert_len = ca_len,
                                   .server_name = bw_credentials_broker_host(), .wall_time_s = 0 };
    return cert != NULL && ca != NULL;
}

/* One line: the most of the crypto arena and of the kernel stack used so far. */
static void log_ram_peaks(void)
{
    bw_log("cloud: RAM high-water: crypto arena %zu of %zu B, kernel stack %u B",
           bw_crypto_arena_peak(), bw_crypto_arena_size(), (unsigned)arch_kernel_stack_deepest());
}

/* ---- the OTA client's hooks (bw_ota.h) ---- */

static bw_err ota_install(void *ctx, bw_update_diag *why)
{
    (void)ctx;
    bw_update_download info = { 0 };
    (void)bw_update_download_info(&info);
    if (info.kernel) {
        char text[16];
        bw_kslots_version_text(info.app_version, text);
        bw_err err = update_service_install(why);
        if (err == BW_OK) {
            bw_log("update: kernel %s staged for the boot stub (over the air)", text);
        }
        return err;
    }
    bw_log("update: verified, installing version %u (over the air)", (unsigned)info.app_version);
    uint64_t started = port_time_us();
    bw_err err = update_service_install(why);
    bw_log("update: install took %u us", (unsigned)(port_time_us() - started));
    return err;
}

static void ota_downloaded(void *ctx)
{
    (void)ctx;
    bw_system_update_downloaded();
}

static bool ota_take_apply(void *ctx)
{
    (void)ctx;
    return bw_system_update_take_apply();
}

/* A kernel deployment's view (bw_ota.h): the running kernel's sealed
 * version and trial, and the boot stub's last refusal or revert (§19.5). */
static void ota_kernel_view(void *ctx, bw_ota_kernel_view *out)
{
    (void)ctx;
    *out = (bw_ota_kernel_view){ .running_version = update_service_kernel_version(),
                                 .on_trial = kernel_trial_on_trial() };
    const bw_flash_partition *journal = port_flash_partition(BW_PARTITION_KERNEL_STATE);
    bw_journal j;
    bw_kstate state;
    if (journal == NULL || bw_kstate_load(&j, journal, &state) != BW_OK
        || (state.state != BW_KSTATE_REFUSED && state.state != BW_KSTATE_REVERTED)) {
        return;
    }
    out->stub_version = state.version;
    out->stub_tag = state.tag;
    out->stub_reverted = state.state == BW_KSTATE_REVERTED;
    out->stub_reason = state.reason >= BW_KREASON_REFUSED
                       ? bw_seal_describe((bw_seal_error)(state.reason - BW_KREASON_REFUSED))
                       : bw_kslots_reason_text(state.reason);
}

static void tear_down(const char *why)
{
    if (cs.state == LINK_ONLINE || cs.state == LINK_MQTT) {
        bw_mqtt_close(&cs.mqtt);
    }
    if (cs.state >= LINK_TLS) {
        bw_tls_close();
    }
    bw_modem_close();
    bool carried_download = cs.state == LINK_ONLINE && bw_ota_stats()->chunks_written != cs.chunks_at_online;
    bw_cloud_disconnected();
    uint64_t now = now_ms();
    if (carried_download) {
        /* The path worked end to end (broker, bulwarkd, blobs): its loss is
         * the network's, and the download should go on soon (SPEC §13.3). */
        bw_backoff_reset(&cs.backoff);
    }
    uint32_t delay = bw_backoff_next_delay(&cs.backoff, now);
    bw_log("cloud: link down (%s); next try in %u ms", why, (unsigned)delay);
    log_ram_peaks();
    uint32_t held = 0;
    uint32_t size = 0;
    if (bw_ota_downloading(&held, &size)) {
        bw_log("cloud: download at %u of %u bytes", (unsigned)held, (unsigned)size);
    }
    const bw_ota_counters *o = bw_ota_stats();
    if (o->fetches > 0) {
        bw_log("cloud: OTA so far: %u chunks (%u bytes) written, %u dropped, %u refetch rounds; %u PUBACKs",
               (unsigned)o->chunks_written, (unsigned)o->bytes_written, (unsigned)o->chunks_dropped,
               (unsigned)o->refetch_rounds, (unsigned)bw_cloud_stats()->acked);
    }
    cs.retry_at_ms = now + delay;
    cs.state = LINK_WAIT;
    bw_network_set_status(MV_NETWORKSTATUS_CONNECTING);
}

/* The debug session's key (SPEC §21.2): the running app's verified
 * manifest, re-read at each HELLO and OPEN (so an install takes effect at
 * once). Static: the manifest is too big for the secure stack. */
static bool running_app_debug_key(uint8_t key[BW_PUBLIC_KEY_SIZE])
{
    static bw_manifest m;
    if (bw_update_current_manifest(&m) != BW_OK || !m.debug.debuggable) {
        return false;
    }
    memcpy(key, m.debug.public_key, BW_PUBLIC_KEY_SIZE);
    return true;
}

/* The device's proof in a debug handshake (SPEC §21.2 step 4): its
 * signature with the device key, timed, and the RAM it took logged. */
static bool debug_device_sign(const uint8_t hash[BW_DEBUG_HASH_SIZE], uint8_t sig[BW_DEBUG_SIG_SIZE])
{
    uint64_t started = port_time_us();
    bw_err err = bw_credentials_sign(hash, sig);
    bw_log("debug: device signature took %u us", (unsigned)(port_time_us() - started));
    log_ram_peaks();
    return err == BW_OK;
}

/* The debug session over the cloud link (SPEC §21), carrying the app debug
 * monitor's packets (SPEC §20). */
static const bw_debug_session_hooks debug_hooks = {
    .monitor_request = bw_debug_monitor_request,
    .monitor_peer_lost = bw_debug_monitor_peer_lost,
    .debug_key = running_app_debug_key,
    .device_certificate = bw_credentials_certificate,
    .device_sign = debug_device_sign,
};

static void start(void)
{
    bw_modem_port port = { .ctx = NULL, .read = modem_read, .write = modem_write };
    board_modem_start();
    bw_modem_init(&port, (uint32_t)now_ms());
    bw_backoff_config backoff = { 0 };
    backoff.random = backoff_random;
    bw_backoff_init(&cs.backoff, &backoff);
    (void)bw_device_id_text(cs.device_id);
    uint32_t boot_id = 0;
    (void)bw_random_bytes(&boot_id, sizeof boot_id);
    /* STATUS carries the sealed version (what the stub verified and the
     * cloud deployed), not the build's. */
    bw_cloud_init(cs.device_id, boot_id, update_service_kernel_version());
    bw_cloud_set_key_set_taker(key_set_service_take);
    bw_ota_hooks ota = { .install = ota_install, .downloaded = ota_downloaded,
                         .take_apply_request = ota_take_apply, .kernel_view = ota_kernel_view,
                         .ctx = NULL };
    bw_ota_init(&ota);
    bw_debug_session_init(&debug_hooks, cs.device_id);
    cs.state = LINK_OFF;
    cs.started = true;
}

/* One pass while the MQTT session is up or coming up. */
static void link_pass(uint64_t now)
{
    (void)bw_tls_poll(now);   /* flushes a record the layer above sealed */
    bw_mqtt_poll(&cs.mqtt, now);
    if (bw_mqtt_get_state(&cs.mqtt) == BW_MQTT_CLOSED) {
        tear_down(bw_mqtt_close_text(bw_mqtt_get_close_reason(&cs.mqtt)));
        return;
    }
    /* Online once the downlink is subscribed: mosquitto accepts the CONNECT of
     * a device missing from the registry and refuses its first packet. */
    if (cs.state == LINK_MQTT && bw_mqtt_is_subscribed(&cs.mqtt)) {
        cs.state = LINK_ONLINE;
        cs.reached = true;
        bw_backoff_connected(&cs.backoff, now);
        cs.chunks_at_online = bw_ota_stats()->chunks_written;
        bw_cloud_connected(cs.connection_id, publish, NULL);
        bw_network_set_status(MV_NETWORKSTATUS_CONNECTED);
        bw_log("cloud: online as %s", cs.device_id);
        log_ram_peaks();
    }
    if (cs.state == LINK_ONLINE) {
        bw_cloud_pump(port_time_us());
        bw_mqtt_poll(&cs.mqtt, now);
        if (bw_cloud_stats()->time_sets != cs.time_sets) {
            cs.time_sets = bw_cloud_stats()->time_sets;
            bw_log("cloud: wall time set by the cloud");
        }
    }
}

bool cloud_service_reached(void)
{
    return cs.started && (!cs.configured || cs.reached);
}

void cloud_service_work(void)
{
    if (!cs.started) {
        start();
    }
    uint64_t now = now_ms();
    bw_ota_poll(now);   /* also offline: a polite window ends, a download completes */
    bw_http_relay_poll(port_time_us());   /* HTTP requests past their deadline end */
    bw_debug_session_poll(now);   /* an idle debug session ends, also offline */
    bw_modem_poll((uint32_t)now);
    bw_modem_status modem;
    bw_modem_status_get(&modem);
    switch (cs.state) {
    case LINK_OFF:
        if (!load_credentials()) {
            return;
        }
        cs.configured = true;
        bw_log("cloud: connecting to %s:%u", bw_credentials_broker_host(),
               (unsigned)bw_credentials_broker_port());
        arch_kernel_loop_every_tick(ARCH_TICKS_CLOUD, true);
        bw_network_set_reasons(MV_NETWORKREASON_COLDBOOTCONNECTION, MV_NETWORKREASON_NOTCONNECTING);
        bw_network_set_status(MV_NETWORKSTATUS_CONNECTING);
        cs.state = LINK_WAIT;
        cs.retry_at_ms = now;
        break;
    case LINK_WAIT:
        if (now >= cs.retry_at_ms && (modem.state == BW_MODEM_READY || modem.state == BW_MODEM_FAILED)) {
            if (bw_modem_connect(bw_credentials_broker_host(), bw_credentials_broker_port()) == BW_OK) {
                cs.state = LINK_SOCKET;
            } else {
                tear_down("modem refused the connect");
            }
        }
        break;
    case LINK_SOCKET:
        if (modem.state == BW_MODEM_CONNECTED) {
            /* Certificate dates are checked once the cloud has set the time. */
            uint64_t wall_us = 0;
            /* Credentials again: a provisioning since the last try moved them. */
            if (!load_credentials()) {
                tear_down("credentials unavailable");
                break;
            }
            cs.tls.wall_time_s = bw_wall_time_get(&wall_us) == BW_OK ? wall_us / 1000000u : 0u;
            uint64_t t0 = port_time_us();
            bw_err started = bw_tls_start(bw_modem_stream(), &cs.tls, now);
            cs.tls_us = port_time_us() - t0;
            if (started == BW_OK) {
                cs.state = LINK_TLS;
            } else {
                tear_down("TLS could not start");
            }
        } else if (modem.state != BW_MODEM_CONNECTING) {
            tear_down("socket not opened");
        }
        break;
    case LINK_TLS: {
        uint64_t t0 = port_time_us();
        bw_tls_state tls = bw_tls_poll(now);
        cs.tls_us += port_time_us() - t0;
        if (tls == BW_TLS_OPEN) {
            bw_tls_status st;
            bw_tls_status_get(&st);
            bw_log("cloud: TLS up (%s handshake)", st.resumed ? "resumed" : "full");
            bw_log("cloud: TLS handshake cost: %llu us in TLS calls, %u polls, %u ECC slices",
                   (unsigned long long)cs.tls_us, (unsigned)st.polls, (unsigned)st.ecc_slices);
            (void)bw_random_bytes(&cs.connection_id, sizeof cs.connection_id);
            bw_cloud_will(cs.connection_id, cs.will_topic, cs.will);
            bw_cloud_subscription(cs.filter);
            cs.filters[0] = cs.filter;
            cs.mqtt_config = (bw_mqtt_config){
                .client_id = cs.device_id, .will_topic = cs.will_topic, .will_payload = cs.will,
                .will_len = sizeof cs.will, .will_qos = 1, .subscriptions = cs.filters,
                .subscription_count = 1, .on_event = on_mqtt, .ctx = NULL,
            };
            if (bw_mqtt_start(&cs.mqtt, &cs.mqtt_config, bw_tls_stream(), now) != BW_OK) {
                tear_down("MQTT could not start");
                break;
            }
            cs.state = LINK_MQTT;
        } else if (tls != BW_TLS_HANDSHAKING) {
            bw_tls_status st;
            bw_tls_status_get(&st);
            tear_down(st.reason != NULL ? st.reason : "TLS failed");
        }
        break;
    }
    case LINK_MQTT:
    case LINK_ONLINE:
        link_pass(now);
        break;
    }
}
