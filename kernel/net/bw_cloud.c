/*
 * The cloud protocol's device side (see bw_cloud.h).
 *
 * Four slots, each EMPTY, READY (built, to be published) or SENT (handed to
 * the session, waiting for its PUBACK). A slot is refilled only when EMPTY,
 * so each kind has at most one message in flight and they stay in order:
 * crash records by sequence, log batches by line sequence. The status slot
 * is rebuilt for every session (it carries the connection ID), and nothing
 * else is published on a session before its STATUS. The update and keys
 * slots keep the latest message (a "latest" slot): one made while another
 * is in flight waits in its next buffer and replaces it once that is
 * acknowledged (or the session ends).
 */
#include <string.h>

#include "bw_app_log.h"
#include "bw_bytes.h"
#include "bw_cloud.h"
#include "bw_crash.h"
#include "bw_credentials.h"
#include "bw_debug_session.h"
#include "bw_format.h"
#include "bw_http_relay.h"
#include "bw_kernel.h"
#include "bw_network.h"
#include "bw_ota.h"
#include "bw_update.h"

typedef enum slot_state { SLOT_EMPTY, SLOT_READY, SLOT_SENT } slot_state;

typedef struct slot {
    slot_state state;
    uint16_t id;
    size_t len;
    uint8_t *buf;
    const char *suffix;   /* topic after "bw/D/" */
    char topic[BW_CLOUD_TOPIC_MAX];   /* the session keeps a pointer until the PUBACK */
} slot;

static uint8_t status_buf[BW_CLOUD_STATUS_SIZE];
static uint8_t crash_buf[BW_CLOUD_CRASH_SIZE];
static uint8_t log_buf[BW_CLOUD_LOG_MAX];
/* A slot that keeps only the newest message: next holds one made while the
 * slot's own is in flight (next_len 0: none). */
typedef struct latest {
    slot s;
    uint8_t *next;
    size_t next_len;
} latest;

static uint8_t update_buf[BW_CLOUD_UPDATE_MAX];
static uint8_t update_next[BW_CLOUD_UPDATE_MAX];   /* a newer report while one is in flight */
static uint8_t keys_buf[BW_CLOUD_KEYS_ANSWER_MAX];
static uint8_t keys_next[BW_CLOUD_KEYS_ANSWER_MAX];
static uint8_t debug_up[BW_CLOUD_DEBUG_HEADER + BW_DEBUG_WIRE_MAX];   /* the session's answer (§21.5) */

static struct {
    char device_id[BW_CLOUD_DEVICE_ID_LEN];
    uint32_t boot_id;
    uint32_t kernel_version;
    uint32_t connection_id;
    bool online;
    bw_cloud_publish_fn publish;
    void *ctx;
    slot status;
    slot crash;
    slot log;
    latest update;
    latest keys;                  /* KEYS_ANSWER (§13.5) */
    bw_cloud_key_set_fn take_key_set;
    uint32_t crash_after;         /* crash records up to this sequence are settled */
    uint32_t crash_in_slot;       /* the sequence of the record in the crash slot */
    uint32_t log_lines_in_slot;
    bool status_out;              /* this session's STATUS has been published */
    uint32_t status_app_version;  /* what the last STATUS said: a change is sent again */
    uint8_t status_wake_reason;
    uint32_t status_key_set;
    bool time_pending;            /* no TIME yet since it was */
    uint64_t status_sent_us;      /* when it was published */
    size_t debug_up_len;          /* 0: no debug answer waiting */
    bw_cloud_counters counters;
} c;

/* The running app's version (0: the provisioned app, or no update storage). */
static uint32_t app_version(void)
{
    const bw_update_state *update = bw_update_current_state();
    return update != NULL ? update->current_version : 0u;
}

static void status_payload(bool online, uint32_t connection_id, uint8_t out[BW_CLOUD_STATUS_SIZE],
                           uint64_t now_us)
{
    bw_crash_record newest;
    bool previous_boot = false;
    bw_cloud_status status = {
        .online = online,
        .wake_reason = (uint8_t)bw_kernel_wake_reason(),
        .boot_id = c.boot_id,
        .connection_id = connection_id,
        .kernel_version = c.kernel_version,
        .app_version = app_version(),
        .uptime_s = (uint32_t)(now_us / 1000000u),
        .log_lines_lost = bw_app_log_lost(),
        .crashes_since_boot = bw_crash_count(),
        .newest_crash_sequence = bw_crash_last(&newest, &previous_boot) ? newest.sequence : 0u,
        .key_set = bw_credentials_key_set(),
    };
    bw_cloud_encode_status(&status, out);
    if (online) {
        c.status_app_version = status.app_version;
        c.status_wake_reason = status.wake_reason;
        c.status_key_set = status.key_set;
    }
}

/* Has the app changed (an install, a rollback, a restart), or the key set,
 * since the STATUS this session sent? The cloud's view is then stale. */
static bool status_stale(void)
{
    return app_version() != c.status_app_version || (uint8_t)bw_kernel_wake_reason() != c.status_wake_reason
           || bw_credentials_key_set() != c.status_key_set;
}

/* Puts a message of len bytes into l: at once unless its slot is in flight,
 * then as the next one (replacing a next one not sent). */
static void latest_put(latest *l, const uint8_t *msg, size_t len)
{
    if (l->s.state == SLOT_SENT) {
        memcpy(l->next, msg, len);
        l->next_len = len;
        return;
    }
    memcpy(l->s.buf, msg, len);
    l->s.len = len;
    l->s.state = SLOT_READY;
}

/* The slot's message is settled (acknowledged) or back to READY (session
 * lost): a newer one waiting takes its place. */
static void latest_take_next(latest *l)
{
    if (l->next_len == 0) {
        return;
    }
    memcpy(l->s.buf, l->next, l->next_len);
    l->s.len = l->next_len;
    l->s.state = SLOT_READY;
    l->next_len = 0;
}

static void latest_disconnected(latest *l)
{
    if (l->s.state == SLOT_SENT) {
        l->s.state = SLOT_READY;
    }
    latest_take_next(l);   /* newer than the one that was in flight */
}

/* true (and settled) if id is the PUBACK of l's message in flight. */
static bool latest_acked(latest *l, uint16_t id)
{
    if (l->s.state != SLOT_SENT || l->s.id != id) {
        return false;
    }
    l->s.state = SLOT_EMPTY;
    latest_take_next(l);
    return true;
}

void bw_cloud_init(const char device_id[BW_CLOUD_DEVICE_ID_LEN], uint32_t boot_id,
                   uint32_t kernel_version)
{
    memset(&c, 0, sizeof c);
    memcpy(c.device_id, device_id, BW_CLOUD_DEVICE_ID_LEN);
    c.boot_id = boot_id;
    c.kernel_version = kernel_version;
    c.status = (slot){ .buf = status_buf, .suffix = "up/status" };
    c.crash = (slot){ .buf = crash_buf, .suffix = "up/crash" };
    c.log = (slot){ .buf = log_buf, .suffix = "up/log" };
    c.update = (latest){ .s = { .buf = update_buf, .suffix = "up/update" }, .next = update_next };
    c.keys = (latest){ .s = { .buf = keys_buf, .suffix = "up/keys" }, .next = keys_next };
    bw_crash_record newest;
    bool previous_boot = false;
    if (bw_crash_last(&newest, &previous_boot) && newest.sequence > BW_CLOUD_CRASH_BACKLOG) {
        c.crash_after = newest.sequence - BW_CLOUD_CRASH_BACKLOG;
    }
}

void bw_cloud_will(uint32_t connection_id, char topic[BW_CLOUD_TOPIC_MAX],
                   uint8_t payload[BW_CLOUD_STATUS_SIZE])
{
    (void)bw_cloud_topic(topic, c.device_id, "up/status");
    status_payload(false, connection_id, payload, 0);
}

void bw_cloud_subscription(char filter[BW_CLOUD_TOPIC_MAX])
{
    (void)bw_cloud_topic(filter, c.device_id, "down/#");
}

void bw_cloud_connected(uint32_t connection_id, bw_cloud_publish_fn publish, void *ctx)
{
    c.connection_id = connection_id;
    c.publish = publish;
    c.ctx = ctx;
    c.online = true;
    c.status.state = SLOT_EMPTY;   /* rebuilt with this session's ID */
    c.status_out = false;
    c.time_pending = false;
}

void bw_cloud_disconnected(void)
{
    c.online = false;
    c.publish = NULL;
    c.debug_up_len = 0;   /* an answer to an exchange of the lost session reaches nobody */
    c.status.state = SLOT_EMPTY;
    if (c.crash.state == SLOT_SENT) {
        c.crash.state = SLOT_READY;
    }
    if (c.log.state == SLOT_SENT) {
        c.log.state = SLOT_READY;
    }
    latest_disconnected(&c.update);
    latest_disconnected(&c.keys);
    c.status_out = false;
    c.time_pending = false;
    bw_ota_disconnected();
}

/* Publishes payload at QoS 0 on bw/D/<suffix>, once this session's STATUS is out. */
static bw_err publish_qos0(const char *suffix, const uint8_t *payload, size_t len)
{
    char topic[BW_CLOUD_TOPIC_MAX];
    if (!c.online || c.publish == NULL || !c.status_out) {
        return BW_E_UNAVAILABLE;
    }
    if (bw_cloud_topic(topic, c.device_id, suffix) == 0) {
        return BW_E_INVALID;
    }
    uint16_t id = 0;
    bw_err err = c.publish(c.ctx, topic, payload, len, 0, &id);
    if (err == BW_OK) {
        c.counters.published++;
    }
    return err;
}

bw_err bw_cloud_fetch(const uint8_t *payload, size_t len)
{
    return publish_qos0("up/fetch", payload, len);
}

static bw_err publish_http(const uint8_t *payload, size_t len)
{
    return publish_qos0(len > 1 && payload[1] == BW_CLOUD_TYPE_CONFIG_REQUEST ? "up/config" : "up/http", payload,
                        len);
}

static bw_err publish_mqtt(const uint8_t *payload, size_t len)
{
    return publish_qos0("up/mqtt", payload, len);
}

void bw_cloud_report_update(const bw_cloud_update *update, const char *text)
{
    uint8_t msg[BW_CLOUD_UPDATE_MAX];
    latest_put(&c.update, msg, bw_cloud_encode_update(update, text, msg));
}

bool bw_cloud_update_in_flight(void)
{
    return c.online && (c.update.s.state != SLOT_EMPTY || c.update.next_len > 0);
}

void bw_cloud_set_key_set_taker(bw_cloud_key_set_fn take)
{
    c.take_key_set = take;
}

/* KEY_SET (§13.5): the taker judges the set as for the local link; the
 * answer (taken or why not, and the sequence held) goes on up/keys. */
static void key_set_offered(const bw_cloud_down *down)
{
    char reason[BW_CLOUD_KEYS_ANSWER_TEXT_MAX + 1] = "";
    bw_err err = BW_E_UNAVAILABLE;
    if (c.take_key_set != NULL) {
        err = c.take_key_set(down->key_set.data, down->key_set.length, reason, sizeof reason);
    } else {
        bw_format(reason, sizeof reason, "this kernel takes no key sets from the cloud");
    }
    bw_cloud_keys_answer answer = { .taken = err == BW_OK, .offered = bw_get32(down->key_set.data + 8),
                                    .held = bw_credentials_key_set() };
    uint8_t msg[BW_CLOUD_KEYS_ANSWER_MAX];
    latest_put(&c.keys, msg, bw_cloud_encode_keys_answer(&answer, answer.taken ? NULL : reason, msg));
    c.counters.key_sets++;
}

/* Fills the crash slot with the next unsettled record, if any. */
static void fill_crash(void)
{
    bw_crash_record record;
    if (bw_crash_next_record(c.crash_after, &record) != BW_OK) {
        return;
    }
    bw_cloud_encode_crash(c.boot_id, (const uint8_t *)&record, crash_buf);
    c.crash.len = BW_CLOUD_CRASH_SIZE;
    c.crash_in_slot = record.sequence;
    c.crash.state = SLOT_READY;
}

/* Moves the oldest queued log lines with consecutive sequence numbers into
 * a LOG batch in the log slot, once they have lingered long enough or are
 * many enough to share it. */
static void fill_log(uint64_t now_us)
{
    bw_app_log_line line;
    if (!bw_app_log_peek(&line)) {
        return;
    }
    uint32_t waited_ms = (uint32_t)(now_us / 1000u) - line.uptime_ms;
    if (waited_ms < BW_CLOUD_LOG_LINGER_MS
        && bw_app_log_next_sequence() - line.sequence < BW_CLOUD_LOG_BATCH_LINES) {
        return;
    }
    bw_cloud_log_batch batch;
    if (bw_cloud_log_begin(&batch, log_buf, sizeof log_buf, c.boot_id, line.sequence) != BW_OK) {
        return;
    }
    uint32_t next = line.sequence;
    do {
        if (line.sequence != next) {
            break;   /* a lost line: the next batch starts after the gap */
        }
        uint8_t *text = bw_cloud_log_add(&batch, line.uptime_ms, line.length);
        if (text == NULL) {
            break;
        }
        if (bw_app_log_read(&line, text) != BW_OK) {
            /* The app's buffer went away under the read: the line reads empty. */
            memset(text, 0, line.length);
        }
        bw_app_log_pop();
        next++;
    } while (bw_app_log_peek(&line));
    c.log_lines_in_slot = batch.count;
    c.log.len = bw_cloud_log_finish(&batch);
    c.log.state = c.log.len > 0 ? SLOT_READY : SLOT_EMPTY;
}

/* Publishes a READY slot; false when the session takes nothing more now. */
static bool send(slot *s)
{
    if (s->state != SLOT_READY) {
        return true;
    }
    if (bw_cloud_topic(s->topic, c.device_id, s->suffix) == 0) {
        return false;
    }
    uint16_t id = 0;
    if (c.publish(c.ctx, s->topic, s->buf, s->len, 1, &id) != BW_OK) {
        return false;
    }
    s->id = id;
    s->state = SLOT_SENT;
    c.counters.published++;
    return true;
}

void bw_cloud_pump(uint64_t now_us)
{
    if (!c.online || c.publish == NULL) {
        return;
    }
    if (c.status.state == SLOT_EMPTY && (!c.status_out || status_stale())) {
        status_payload(true, c.connection_id, status_buf, now_us);
        c.status.len = BW_CLOUD_STATUS_SIZE;
        c.status.state = SLOT_READY;
    }
    if (c.status.state == SLOT_READY) {
        if (!send(&c.status)) {
            return;
        }
        bool first = !c.status_out;
        c.status_out = true;
        c.time_pending = true;
        c.status_sent_us = now_us;
        if (first) {
            bw_ota_connected(now_us / 1000u);
        }
    }
    if (!send(&c.update.s) || !send(&c.keys.s)) {
        return;
    }
    if (c.debug_up_len > 0 && publish_qos0("up/debug", debug_up, c.debug_up_len) != BW_E_FULL) {
        c.debug_up_len = 0;   /* sent, or the session is gone */
    }
    bw_http_relay_pump(publish_http);   /* an app waits on these: before crash records and logs */
    bw_mqtt_relay_pump(publish_mqtt);
    if (c.crash.state == SLOT_EMPTY) {
        fill_crash();
    }
    if (!send(&c.crash)) {
        return;
    }
    if (c.log.state == SLOT_EMPTY) {
        fill_log(now_us);
    }
    (void)send(&c.log);
}

void bw_cloud_acked(uint16_t id)
{
    if (c.status.state == SLOT_SENT && c.status.id == id) {
        c.status.state = SLOT_EMPTY;   /* stays empty until the next session */
    } else if (c.crash.state == SLOT_SENT && c.crash.id == id) {
        c.crash.state = SLOT_EMPTY;
        c.crash_after = c.crash_in_slot;
        c.counters.crashes_sent++;
    } else if (c.log.state == SLOT_SENT && c.log.id == id) {
        c.log.state = SLOT_EMPTY;
        c.counters.log_lines_sent += c.log_lines_in_slot;
    } else if (latest_acked(&c.update, id)) {
        c.counters.updates_sent++;
    } else if (!latest_acked(&c.keys, id)) {
        return;
    }
    c.counters.acked++;
}

/* Is topic bw/D/<suffix>? */
static bool topic_is(const char *topic, const char *suffix)
{
    char expected[BW_CLOUD_TOPIC_MAX];
    return bw_cloud_topic(expected, c.device_id, suffix) != 0 && strcmp(topic, expected) == 0;
}

static void set_time(const bw_cloud_down *down, uint64_t now_us)
{
    uint64_t utc_us = down->utc_ms * 1000u;
    if (c.time_pending && now_us >= c.status_sent_us) {
        /* The answer to this session's STATUS: about half the round trip
         * has passed since the cloud read its clock. */
        utc_us += (now_us - c.status_sent_us) / 2u;
    }
    c.time_pending = false;
    bw_wall_time_set(utc_us);
    c.counters.time_sets++;
}

/* One debug exchange (§21.5): the session answers at once; the answer goes
 * on the next pump. A newer exchange replaces an answer not sent yet (its
 * CLI gave up on it). */
static void debug_exchange(const bw_cloud_down *down, uint64_t now_us)
{
    size_t n = bw_debug_session_input(down->debug.data, down->debug.length, now_us / 1000u,
                                      debug_up + BW_CLOUD_DEBUG_HEADER, BW_DEBUG_WIRE_MAX);
    if (c.debug_up_len > 0) {
        c.counters.debug_unsent++;
    }
    bw_cloud_encode_debug_up(down->debug.exchange, (uint16_t)n, debug_up);
    c.debug_up_len = n > 0 ? BW_CLOUD_DEBUG_HEADER + n : 0;
    c.counters.debug_exchanges++;
}

void bw_cloud_received(const char *topic, const uint8_t *payload, size_t len, uint64_t now_us)
{
    static const struct {
        const char *suffix;
        uint8_t type;
    } topics[] = {
        { "down/time", BW_CLOUD_TYPE_TIME },
        { "down/deploy", BW_CLOUD_TYPE_DEPLOY },
        { "down/chunk", BW_CLOUD_TYPE_CHUNK },
        { "down/http", BW_CLOUD_TYPE_HTTP_RESPONSE },
        { "down/config", BW_CLOUD_TYPE_CONFIG_RESPONSE },
        { "down/mqtt", BW_CLOUD_TYPE_MQTT_DOWN },
        { "down/debug", BW_CLOUD_TYPE_DEBUG_DOWN },
        { "down/keys", BW_CLOUD_TYPE_KEY_SET },
    };
    bw_cloud_down down;
    uint8_t type = 0;
    for (size_t i = 0; i < sizeof topics / sizeof topics[0] && type == 0; i++) {
        type = topic_is(topic, topics[i].suffix) ? topics[i].type : 0u;
    }
    if (type == 0 || bw_cloud_decode_down(payload, len, &down) != BW_OK || down.type != type) {
        c.counters.bad_messages++;
        return;
    }
    if (type == BW_CLOUD_TYPE_TIME) {
        set_time(&down, now_us);
    } else if (type == BW_CLOUD_TYPE_DEPLOY) {
        bw_ota_deploy(&down.deploy, now_us / 1000u);
    } else if (type == BW_CLOUD_TYPE_HTTP_RESPONSE || type == BW_CLOUD_TYPE_CONFIG_RESPONSE) {
        bw_http_relay_received(type, &down.http);
    } else if (type == BW_CLOUD_TYPE_MQTT_DOWN) {
        bw_mqtt_relay_received(&down.http);
    } else if (type == BW_CLOUD_TYPE_DEBUG_DOWN) {
        debug_exchange(&down, now_us);
    } else if (type == BW_CLOUD_TYPE_KEY_SET) {
        key_set_offered(&down);
    } else {
        bw_ota_chunk(&down.chunk, now_us / 1000u);
    }
}

const bw_cloud_counters *bw_cloud_stats(void)
{
    return &c.counters;
}
