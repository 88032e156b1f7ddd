/*
 * The MQTT client session (bw_mqtt.h). Outgoing packets are encoded straight
 * into tx[] and leave it in order as the stream takes them (tx[tx_off..
 * tx_len) is still ours to send; it is compacted before each append).
 * Incoming bytes are read straight into the decoder, never past the packet
 * it assembles. Invariants: every queued packet is whole in tx; a QoS 1
 * message occupies an in-flight slot from its publish to exactly one of
 * DELIVERED (its PUBACK) or UNDELIVERED (the session closed); publish always
 * leaves PUBACK_SIZE bytes of tx free, so the PUBACK for an incoming QoS 1
 * message fits once its callback returns.
 */
#include "bw_mqtt.h"

#include <string.h>

#define PUBACK_SIZE 4u

static uint64_t elapsed(uint64_t now, uint64_t then)
{
    return now > then ? now - then : 0;
}

static void emit(bw_mqtt *s, const bw_mqtt_event *ev)
{
    if (s->config->on_event) {
        s->config->on_event(s->config->ctx, ev);
    }
}

static bool active(const bw_mqtt *s)
{
    return s->state == BW_MQTT_CONNECTING || s->state == BW_MQTT_CONNECTED;
}

/* Ends the session: every unacknowledged QoS 1 message is reported, then
 * the close itself. The state changes first so that a callback's publish is
 * refused. */
static void close_session(bw_mqtt *s, bw_mqtt_close_reason reason)
{
    s->state = BW_MQTT_CLOSED;
    s->reason = reason;
    for (size_t i = 0; i < BW_MQTT_INFLIGHT_MAX; i++) {
        if (s->inflight[i].topic != NULL) {
            bw_mqtt_event ev = { .type = BW_MQTT_EV_UNDELIVERED,
                                 .packet_id = s->inflight[i].packet_id };
            s->inflight[i].topic = NULL;
            emit(s, &ev);
        }
    }
    bw_mqtt_event ev = { .type = BW_MQTT_EV_CLOSED, .reason = reason };
    emit(s, &ev);
}

static void protocol_error(bw_mqtt *s, bw_mqtt_error error)
{
    s->protocol_error = error;
    close_session(s, BW_MQTT_CLOSE_PROTOCOL);
}

static void stream_error(bw_mqtt *s, int32_t r)
{
    close_session(s, r == BW_STREAM_CLOSED ? BW_MQTT_CLOSE_STREAM_CLOSED
                                           : BW_MQTT_CLOSE_STREAM_FAILED);
}

/* ---- sending ---- */

/* Room at the end of tx after moving the unsent bytes to its start. */
static uint8_t *tx_room(bw_mqtt *s, size_t *room)
{
    if (s->tx_off > 0) {
        memmove(s->tx, s->tx + s->tx_off, s->tx_len - s->tx_off);
        s->tx_len -= s->tx_off;
        s->tx_off = 0;
    }
    *room = BW_MQTT_TX_MAX - s->tx_len;
    return s->tx + s->tx_len;
}

static void tx_commit(bw_mqtt *s, size_t len)
{
    s->tx_len += len;
    s->stats.packets_out++;
}

/* Offers the queued bytes to the stream. False if that closed the session. */
static bool flush(bw_mqtt *s, uint64_t now)
{
    while (s->tx_off < s->tx_len) {
        int32_t n = s->stream->send(s->stream->ctx, s->tx + s->tx_off, s->tx_len - s->tx_off);
        if (n < 0) {
            stream_error(s, n);
            return false;
        }
        if (n == 0) {
            break;
        }
        s->tx_off += (size_t)n > s->tx_len - s->tx_off ? s->tx_len - s->tx_off : (size_t)n;
        s->last_tx_ms = now;
    }
    if (s->tx_off == s->tx_len) {
        s->tx_off = s->tx_len = 0;
    }
    return true;
}

static bool id_in_use(const bw_mqtt *s, uint16_t id)
{
    for (size_t i = 0; i < BW_MQTT_INFLIGHT_MAX; i++) {
        if (s->inflight[i].topic != NULL && s->inflight[i].packet_id == id) {
            return true;
        }
    }
    return s->subscribe_id == id && !s->subscribed;
}

static uint16_t next_packet_id(bw_mqtt *s)
{
    do {
        s->next_id = (uint16_t)(s->next_id + 1u);
    } while (s->next_id == 0 || id_in_use(s, s->next_id));
    return s->next_id;
}

static void try_subscribe(bw_mqtt *s)
{
    const bw_mqtt_config *c = s->config;
    size_t lengths[BW_MQTT_SUBSCRIPTIONS_MAX];
    uint8_t qos[BW_MQTT_SUBSCRIPTIONS_MAX];
    for (size_t i = 0; i < c->subscription_count; i++) {
        lengths[i] = strlen(c->subscriptions[i]);
        qos[i] = 1;
    }
    size_t room, len;
    uint8_t *out = tx_room(s, &room);
    if (s->subscribe_id == 0) {
        s->subscribe_id = next_packet_id(s);
    }
    if (bw_mqtt_encode_subscribe(s->subscribe_id, c->subscriptions, lengths, qos,
                                 c->subscription_count, out, room, &len) == BW_OK) {
        tx_commit(s, len);
        s->subscribe_pending = false;
    }
}

static bool queue_publish(bw_mqtt *s, const bw_mqtt_inflight *m, uint8_t qos, bool dup,
                          size_t reserve, bw_err *err)
{
    size_t room, len;
    uint8_t *out = tx_room(s, &room);
    *err = bw_mqtt_encode_publish(m->topic, m->topic_len, m->payload, m->payload_len, qos, dup,
                                  m->retain, m->packet_id, out, room > reserve ? room - reserve : 0,
                                  &len);
    if (*err == BW_OK) {
        tx_commit(s, len);
    }
    return *err == BW_OK;
}

/* ---- receiving ---- */

static void deliver_message(bw_mqtt *s, const bw_mqtt_packet *p)
{
    bw_mqtt_event ev = {
        .type = BW_MQTT_EV_MESSAGE,
        .packet_id = p->packet_id,
        .topic = (const char *)p->topic,
        .topic_len = p->topic_len,
        .payload = p->payload,
        .payload_len = p->payload_len,
        .qos = p->qos,
        .retain = p->retain,
        .dup = p->dup,
    };
    emit(s, &ev);
    if (p->qos == 1) {
        size_t room, len;
        uint8_t *out = tx_room(s, &room);
        if (bw_mqtt_encode_puback(p->packet_id, out, room, &len) == BW_OK) {
            tx_commit(s, len);
        }
    }
}

static void handle_connack(bw_mqtt *s, const bw_mqtt_packet *p)
{
    if (s->state != BW_MQTT_CONNECTING) {
        protocol_error(s, BW_MQTT_E_UNEXPECTED);
        return;
    }
    if (p->connack_code != BW_MQTT_CONNACK_ACCEPTED) {
        s->connack_code = p->connack_code;
        close_session(s, BW_MQTT_CLOSE_REFUSED);
        return;
    }
    if (p->session_present) {           /* §3.2.2.2: never with clean session 1 */
        protocol_error(s, BW_MQTT_E_UNEXPECTED);
        return;
    }
    s->state = BW_MQTT_CONNECTED;
    bw_mqtt_event ev = { .type = BW_MQTT_EV_CONNECTED };
    emit(s, &ev);
    s->subscribe_pending = s->config->subscription_count > 0;
    if (s->subscribe_pending) {
        try_subscribe(s);
    }
}

static void handle_suback(bw_mqtt *s, const bw_mqtt_packet *p)
{
    if (s->subscribe_id == 0 || s->subscribed || s->subscribe_pending ||
        p->packet_id != s->subscribe_id) {
        protocol_error(s, BW_MQTT_E_UNEXPECTED);
        return;
    }
    if (p->code_count != s->config->subscription_count) {
        protocol_error(s, BW_MQTT_E_SUBACK);
        return;
    }
    if (memchr(p->codes, BW_MQTT_SUBACK_FAILURE, p->code_count) != NULL) {
        close_session(s, BW_MQTT_CLOSE_SUBSCRIBE_FAILED);
        return;
    }
    s->subscribed = true;
    bw_mqtt_event ev = { .type = BW_MQTT_EV_SUBSCRIBED, .granted_qos = p->codes,
                         .granted_count = p->code_count };
    emit(s, &ev);
}

static void handle_puback(bw_mqtt *s, uint16_t id)
{
    for (size_t i = 0; i < BW_MQTT_INFLIGHT_MAX; i++) {
        if (s->inflight[i].topic != NULL && s->inflight[i].packet_id == id) {
            s->inflight[i].topic = NULL;
            bw_mqtt_event ev = { .type = BW_MQTT_EV_DELIVERED, .packet_id = id };
            emit(s, &ev);
            return;
        }
    }
    s->stats.stray_acks++;              /* e.g. the second PUBACK of a retransmitted message */
}

/* Acts on one valid packet. False when it must wait (held for PUBACK room). */
static bool handle_packet(bw_mqtt *s, const bw_mqtt_packet *p)
{
    if (s->state == BW_MQTT_CONNECTING && p->type != BW_MQTT_CONNACK) {
        protocol_error(s, BW_MQTT_E_UNEXPECTED);   /* §3.2: CONNACK comes first */
        return true;
    }
    switch (p->type) {
    case BW_MQTT_CONNACK:
        handle_connack(s, p);
        break;
    case BW_MQTT_PUBLISH: {
        size_t room;
        tx_room(s, &room);
        if (p->qos == 1 && room < PUBACK_SIZE) {
            s->held_packet = *p;
            s->held = true;
            return false;
        }
        deliver_message(s, p);
        break;
    }
    case BW_MQTT_PUBACK:
        handle_puback(s, p->packet_id);
        break;
    case BW_MQTT_SUBACK:
        handle_suback(s, p);
        break;
    case BW_MQTT_PINGRESP:
        s->stats.pongs++;
        break;
    default:                            /* UNSUBACK: this session never unsubscribes */
        s->stats.stray_acks++;
        break;
    }
    return true;
}

static void receive(bw_mqtt *s)
{
    if (s->held) {
        size_t room;
        tx_room(s, &room);
        if (room < PUBACK_SIZE) {
            return;
        }
        s->held = false;
        deliver_message(s, &s->held_packet);
    }
    unsigned packets = 0;
    while (active(s) && packets < BW_MQTT_PACKETS_PER_POLL) {
        size_t want;
        uint8_t *space = bw_mqtt_decoder_space(&s->rx, &want);
        int32_t n = s->stream->recv(s->stream->ctx, space, want);
        if (n < 0) {
            stream_error(s, n);
            return;
        }
        if (n == 0) {
            return;
        }
        bw_mqtt_packet p;
        switch (bw_mqtt_decoder_commit(&s->rx, (size_t)n > want ? want : (size_t)n, &p)) {
        case BW_MQTT_DECODE_ERROR:
            protocol_error(s, bw_mqtt_decoder_error(&s->rx));
            return;
        case BW_MQTT_DECODE_PACKET:
            packets++;
            s->stats.packets_in++;
            s->ping_due = false;            /* the server is alive */
            if (!handle_packet(s, &p)) {
                return;
            }
            break;
        default:
            break;
        }
    }
}

/* ---- timers ---- */

static void retransmit(bw_mqtt *s, uint64_t now)
{
    for (size_t i = 0; i < BW_MQTT_INFLIGHT_MAX; i++) {
        bw_mqtt_inflight *m = &s->inflight[i];
        bw_err err;
        if (m->topic != NULL && elapsed(now, m->sent_ms) >= s->retry_ms) {
            if (!queue_publish(s, m, 1, true, PUBACK_SIZE, &err)) {
                return;                 /* no room now: next poll */
            }
            m->sent_ms = now;
            s->stats.retransmissions++;
        }
    }
}

static void keepalive(bw_mqtt *s, uint64_t now)
{
    if (!s->ping_due && elapsed(now, s->last_tx_ms) >= s->keepalive_ms) {
        s->ping_due = true;
        s->ping_queued = false;
        s->ping_due_ms = now;
    }
    if (!s->ping_due) {
        return;
    }
    if (elapsed(now, s->ping_due_ms) >= s->ping_timeout_ms) {
        close_session(s, BW_MQTT_CLOSE_KEEPALIVE_TIMEOUT);
        return;
    }
    if (!s->ping_queued) {
        size_t room, len;
        uint8_t *out = tx_room(s, &room);
        if (bw_mqtt_encode_pingreq(out, room, &len) == BW_OK) {
            tx_commit(s, len);
            s->ping_queued = true;
            s->stats.pings++;
        }
    }
}

/* ---- public ---- */

static bool config_valid(const bw_mqtt_config *c)
{
    if (c->client_id == NULL || c->subscription_count > BW_MQTT_SUBSCRIPTIONS_MAX ||
        (c->subscription_count > 0 && c->subscriptions == NULL)) {
        return false;
    }
    for (size_t i = 0; i < c->subscription_count; i++) {
        const char *f = c->subscriptions[i];
        if (f == NULL || !bw_mqtt_topic_filter_valid(f, strlen(f))) {
            return false;
        }
    }
    return true;
}

bw_err bw_mqtt_start(bw_mqtt *s, const bw_mqtt_config *config, const bw_stream *stream,
                     uint64_t now_ms)
{
    if (active(s)) {
        return BW_E_IN_USE;
    }
    if (config == NULL || stream == NULL || !config_valid(config)) {
        return BW_E_INVALID;
    }
    bw_mqtt_connect_opts o = {
        .client_id = config->client_id,
        .client_id_len = strlen(config->client_id),
        .user_name = config->user_name,
        .user_name_len = config->user_name ? strlen(config->user_name) : 0,
        .will_topic = config->will_topic,
        .will_topic_len = config->will_topic ? strlen(config->will_topic) : 0,
        .will_payload = config->will_payload,
        .will_len = config->will_len,
        .will_qos = config->will_qos,
        .will_retain = config->will_retain,
        .clean_session = true,
        .keepalive_s = config->keepalive_s ? config->keepalive_s : BW_MQTT_KEEPALIVE_S,
    };
    size_t len;
    bw_err err = bw_mqtt_encode_connect(&o, s->tx, sizeof s->tx, &len);
    if (err != BW_OK) {
        return err;
    }
    memset(&s->stats, 0, sizeof s->stats);
    memset(s->inflight, 0, sizeof s->inflight);
    bw_mqtt_decoder_init(&s->rx);
    s->config = config;
    s->stream = stream;
    s->state = BW_MQTT_CONNECTING;
    s->reason = BW_MQTT_CLOSE_NONE;
    s->protocol_error = BW_MQTT_E_NONE;
    s->connack_code = 0;
    s->subscribe_pending = false;
    s->subscribed = false;
    s->held = false;
    s->ping_due = false;
    s->ping_queued = false;
    s->subscribe_id = 0;
    s->started_ms = now_ms;
    s->last_tx_ms = now_ms;
    s->keepalive_ms = o.keepalive_s * 1000u;
    s->connack_timeout_ms = config->connack_timeout_ms ? config->connack_timeout_ms
                                                       : BW_MQTT_CONNACK_TIMEOUT_MS;
    s->ping_timeout_ms = config->ping_timeout_ms ? config->ping_timeout_ms
                                                 : BW_MQTT_PING_TIMEOUT_MS;
    s->retry_ms = config->retry_ms ? config->retry_ms : BW_MQTT_RETRY_MS;
    s->tx_off = 0;
    s->tx_len = len;
    s->stats.packets_out = 1;
    return BW_OK;
}

void bw_mqtt_poll(bw_mqtt *s, uint64_t now_ms)
{
    if (!active(s) || !flush(s, now_ms)) {
        return;
    }
    receive(s);
    if (s->state == BW_MQTT_CONNECTING &&
        elapsed(now_ms, s->started_ms) >= s->connack_timeout_ms) {
        close_session(s, BW_MQTT_CLOSE_CONNACK_TIMEOUT);
    }
    if (s->state == BW_MQTT_CONNECTED) {
        if (s->subscribe_pending) {
            try_subscribe(s);
        }
        retransmit(s, now_ms);
        keepalive(s, now_ms);
    }
    if (active(s)) {
        flush(s, now_ms);
    }
}

bw_err bw_mqtt_publish(bw_mqtt *s, const char *topic, const uint8_t *payload, size_t len,
                       uint8_t qos, bool retain, uint16_t *packet_id, uint64_t now_ms)
{
    if (s->state != BW_MQTT_CONNECTED) {
        return BW_E_UNAVAILABLE;
    }
    if (topic == NULL || qos > 1 || (qos == 1 && packet_id == NULL)) {
        return BW_E_INVALID;
    }
    bw_mqtt_inflight m = { .topic = topic, .topic_len = strlen(topic), .payload = payload,
                           .payload_len = len, .sent_ms = now_ms, .retain = retain };
    bw_mqtt_inflight *slot = NULL;
    if (qos == 1) {
        for (size_t i = 0; i < BW_MQTT_INFLIGHT_MAX && slot == NULL; i++) {
            slot = s->inflight[i].topic == NULL ? &s->inflight[i] : NULL;
        }
        if (slot == NULL) {
            return BW_E_FULL;
        }
        m.packet_id = next_packet_id(s);
    }
    bw_err err;
    if (!queue_publish(s, &m, qos, false, PUBACK_SIZE, &err)) {
        /* With nothing else queued, a packet that does not fit never will. */
        return err == BW_E_SIZE && s->tx_len > 0 ? BW_E_FULL : err;
    }
    if (slot != NULL) {
        *slot = m;
        *packet_id = m.packet_id;
    }
    return BW_OK;
}

void bw_mqtt_close(bw_mqtt *s)
{
    if (!active(s)) {
        return;
    }
    size_t room, len;
    uint8_t *out = tx_room(s, &room);
    if (bw_mqtt_encode_disconnect(out, room, &len) == BW_OK) {
        tx_commit(s, len);
        (void)s->stream->send(s->stream->ctx, s->tx, s->tx_len);
    }
    close_session(s, BW_MQTT_CLOSE_LOCAL);
}

bw_mqtt_state bw_mqtt_get_state(const bw_mqtt *s)
{
    return s->state;
}

bool bw_mqtt_is_subscribed(const bw_mqtt *s)
{
    return s->state == BW_MQTT_CONNECTED && (s->subscribed || s->config->subscription_count == 0);
}

bw_mqtt_close_reason bw_mqtt_get_close_reason(const bw_mqtt *s)
{
    return s->reason;
}

bw_mqtt_error bw_mqtt_protocol_error(const bw_mqtt *s)
{
    return s->protocol_error;
}

uint8_t bw_mqtt_get_connack_code(const bw_mqtt *s)
{
    return s->connack_code;
}

const bw_mqtt_stats *bw_mqtt_get_stats(const bw_mqtt *s)
{
    return &s->stats;
}

const char *bw_mqtt_close_text(bw_mqtt_close_reason reason)
{
    static const char *const text[BW_MQTT_CLOSE_COUNT] = {
        [BW_MQTT_CLOSE_NONE] = "open",
        [BW_MQTT_CLOSE_LOCAL] = "closed by us",
        [BW_MQTT_CLOSE_STREAM_CLOSED] = "connection closed",
        [BW_MQTT_CLOSE_STREAM_FAILED] = "connection failed",
        [BW_MQTT_CLOSE_CONNACK_TIMEOUT] = "no CONNACK in time",
        [BW_MQTT_CLOSE_KEEPALIVE_TIMEOUT] = "keepalive timeout",
        [BW_MQTT_CLOSE_PROTOCOL] = "protocol error",
        [BW_MQTT_CLOSE_REFUSED] = "connection refused",
        [BW_MQTT_CLOSE_SUBSCRIBE_FAILED] = "subscription refused",
    };
    return (unsigned)reason < BW_MQTT_CLOSE_COUNT ? text[reason] : "unknown";
}
