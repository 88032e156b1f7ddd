/*
 * The cloud protocol's device side over one MQTT session at a time
 * (docs/SPEC.md §13, docs/DESIGN.md "Cloud link"): what to publish and when
 * (STATUS first after each CONNACK, then crash records, then the app's log
 * lines), what a PUBACK settles, and what the cloud's messages change.
 *
 * It owns four outgoing slots, one message each (status, crash, log, and
 * update: the OTA client's latest UPDATE report, docs/SPEC.md §15), in
 * kernel RAM: a message leaves its slot only on its PUBACK, so a connection
 * lost with messages in flight sends them again on the next one. HTTP
 * request pieces (bw_http_relay.h, §16) go at QoS 0 on bw/D/up/http and
 * HTTP_RESPONSE pieces from bw/D/down/http go to the relay; DEBUG_DOWN from
 * bw/D/down/debug goes to the debug session (bw_debug_session.h) and its
 * answer back at QoS 0 on bw/D/up/debug. A KEY_SET from bw/D/down/keys
 * goes to the key-set taker and its answer, the latest only, at QoS 1 on
 * bw/D/up/keys (§13.5). It does
 * not own the connection: the caller says when a session is up or gone and
 * hands it the publish function of that session. Kernel loop only.
 */
#ifndef BW_CLOUD_H
#define BW_CLOUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_cloud_proto.h"
#include "bw_err.h"

/* How the cloud layer publishes on the current session. QoS 1: topic and
 * payload stay valid until that message's PUBACK or the session's end, and
 * *id receives the packet identifier; QoS 0: both are copied (id unused).
 * Returns BW_OK, BW_E_FULL when the session takes nothing more now (try on
 * a later pass), another error if it is gone. */
typedef bw_err (*bw_cloud_publish_fn)(void *ctx, const char *topic, const uint8_t *payload,
                                      size_t len, uint8_t qos, uint16_t *id);

/* Crash records from before this boot that are offered to the cloud. */
#define BW_CLOUD_CRASH_BACKLOG 16u

/* A LOG batch goes when its oldest line has waited this long, or at once
 * when this many lines are queued: a LOG costs ~97 bytes of TLS, MQTT and
 * LOG headers on the link whatever it carries (docs/DESIGN.md). */
#ifndef BW_CLOUD_LOG_LINGER_MS
#define BW_CLOUD_LOG_LINGER_MS 1000u
#endif
#define BW_CLOUD_LOG_BATCH_LINES 16u

/* Starts for this boot: device ID (34 characters), boot ID, the wake
 * reason to report, the kernel version word. */
void bw_cloud_init(const char device_id[BW_CLOUD_DEVICE_ID_LEN], uint32_t boot_id,
                   uint32_t kernel_version);

/* The will to register in CONNECT for a session with connection_id: its
 * topic and its STATUS (offline) payload. */
void bw_cloud_will(uint32_t connection_id, char topic[BW_CLOUD_TOPIC_MAX],
                   uint8_t payload[BW_CLOUD_STATUS_SIZE]);

/* The topic filter to subscribe to (bw/D/down/#). */
void bw_cloud_subscription(char filter[BW_CLOUD_TOPIC_MAX]);

/* A session is up (CONNACK received): STATUS goes first. */
void bw_cloud_connected(uint32_t connection_id, bw_cloud_publish_fn publish, void *ctx);

/* The session is gone: what was in flight is sent again on the next one. */
void bw_cloud_disconnected(void);

/* Publishes whatever can go now (at most one message per slot in flight). */
void bw_cloud_pump(uint64_t now_us);

/* The PUBACK for packet id arrived. */
void bw_cloud_acked(uint16_t id);

/* A message arrived on topic (bw/D/down/...). Unknown or bad ones are
 * counted and ignored. */
void bw_cloud_received(const char *topic, const uint8_t *payload, size_t len, uint64_t now_us);

/* OTA (bw_ota.h): publishes a FETCH payload at QoS 0 on bw/D/up/fetch.
 * BW_E_UNAVAILABLE while offline or before this session's STATUS, BW_E_FULL
 * when the session takes nothing more now. */
bw_err bw_cloud_fetch(const uint8_t *payload, size_t len);

/* OTA: queues an UPDATE report (QoS 1, sent until its PUBACK, across
 * sessions). The latest report wins: one not yet published is replaced,
 * and one reported while another is in flight waits for its PUBACK. */
void bw_cloud_report_update(const bw_cloud_update *update, const char *text);

/* Takes a key set (docs/SPEC.md §12.4) as the local link's KEYS does:
 * BW_OK when it is held from now on, else an error and one line in reason
 * (nothing changed). */
typedef bw_err (*bw_cloud_key_set_fn)(const uint8_t *set, size_t len, char *reason, size_t size);

/* Sets who judges a KEY_SET (after bw_cloud_init); without one every
 * KEY_SET is answered refused. */
void bw_cloud_set_key_set_taker(bw_cloud_key_set_fn take);

/* OTA: true while a session is up and an UPDATE report has not been
 * acknowledged yet (waiting or in flight). */
bool bw_cloud_update_in_flight(void);

typedef struct bw_cloud_counters {
    uint32_t published;          /* messages handed to the session (resends included) */
    uint32_t acked;
    uint32_t log_lines_sent;     /* lines acknowledged by the cloud */
    uint32_t crashes_sent;
    uint32_t updates_sent;       /* UPDATE reports acknowledged */
    uint32_t bad_messages;       /* from the cloud: unknown topic, version, type, length */
    uint32_t time_sets;
    uint32_t debug_exchanges;    /* DEBUG_DOWN handed to the debug session (§21.5) */
    uint32_t debug_unsent;       /* answers replaced before they could go */
    uint32_t key_sets;           /* KEY_SETs judged (taken or refused) */
} bw_cloud_counters;

/* What the cloud layer has done since bw_cloud_init. */
const bw_cloud_counters *bw_cloud_stats(void);

#endif
