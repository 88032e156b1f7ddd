/*
 * MQTT over a channel (see bw_appmqtt.h; streams in docs/SPEC.md §18).
 *
 * The session's state lives in the channel's table entry
 * (bw_channel_table.h) and changes under port_irq_lock. Requests are judged
 * on the kernel's copies of the app's structs; string bytes are copied app to
 * app (bw_app_copy_within checks both ranges) under the lock, so a channel
 * closed meanwhile is never written. Send-buffer space is used from its
 * start and given back when every queued operation is out; receive-buffer
 * space likewise once the FIFO is empty and no message is being received.
 */
#include <string.h>

#include "bw_app_mem.h"
#include "bw_bytes.h"
#include "bw_channel_table.h"
#include "bw_appmqtt.h"
#include "bw_notify.h"
#include "bw_port.h"
#include "bw_random.h"

#define SEGMENTS_MAX (7u + 2u * BW_MQTT_CERTS_MAX)
#define CONNECT_HEAD (BW_MQTT_HEAD + 16u)
#define MESSAGE_HEAD (BW_MQTT_HEAD + 8u)
#define CLOSES_MAX   (2u * BW_CHANNELS_MAX)

static uint32_t next_session_id;
static uint32_t closes[CLOSES_MAX];   /* sessions whose CLOSE is still to be sent, a FIFO */
static uint32_t close_count;

void bw_appmqtt_reset(void)
{
    uint32_t state = port_irq_lock();
    close_count = 0;
    port_irq_unlock(state);
}

uint32_t bw_appmqtt_new_session_id(void)
{
    if (next_session_id == 0 && bw_random_bytes(&next_session_id, sizeof next_session_id) != BW_OK) {
        next_session_id = 1;
    }
    uint32_t id = next_session_id++;
    next_session_id += next_session_id == 0 ? 1u : 0u;
    return id != 0 ? id : bw_appmqtt_new_session_id();
}

void bw_appmqtt_channel_gone(uint32_t session_id)
{
    if (session_id != 0 && close_count < CLOSES_MAX) {
        closes[close_count++] = session_id;   /* full: bulwarkd ends it at the next STATUS */
    }
}

/* The response kind an operation waits for (0: none). */
static uint8_t response_kind(uint8_t op)
{
    switch (op) {
    case BW_MQTT_OP_CONNECT:     return MV_MQTTREADABLEDATATYPE_CONNECTRESPONSE;
    case BW_MQTT_OP_SUBSCRIBE:   return MV_MQTTREADABLEDATATYPE_SUBSCRIBERESPONSE;
    case BW_MQTT_OP_UNSUBSCRIBE: return MV_MQTTREADABLEDATATYPE_UNSUBSCRIBERESPONSE;
    case BW_MQTT_OP_PUBLISH:     return MV_MQTTREADABLEDATATYPE_PUBLISHRESPONSE;
    case BW_MQTT_OP_DISCONNECT:  return MV_MQTTREADABLEDATATYPE_DISCONNECTRESPONSE;
    default:                     return 0;
    }
}

/* The locked entry of a live MQTT channel, or NULL with *err (lock released). */
static bw_channel_entry *lock_mqtt(uint32_t handle, uint32_t *state, bw_err *err)
{
    bw_channel_entry *e = bw_channel_entry_of(handle);
    if (e == NULL) {
        *err = BW_E_HANDLE;
        return NULL;
    }
    *state = port_irq_lock();
    *err = e->handle != handle ? BW_E_HANDLE : e->type != MV_CHANNELTYPE_MQTT ? BW_E_UNAVAILABLE : BW_OK;
    if (*err != BW_OK) {
        port_irq_unlock(*state);
        return NULL;
    }
    return e;
}

static void notify(uint32_t center, uint32_t tag, enum MvEventType event)
{
    (void)bw_notify_trigger(center, event, tag);   /* a center closed meanwhile refuses */
}

/* Appends an item (lock held; the caller made sure a place is free). */
static void push_item(bw_appmqtt_session *s, const bw_appmqtt_item *item)
{
    s->items[(s->item_head + s->item_count) % BW_MQTT_ITEMS_MAX] = *item;
    s->item_count++;
}

/* Ends the channel (lock held); the caller notifies CHANNELNOTCONNECTED. */
static void end_channel(bw_channel_entry *e, enum MvClosureReason reason, bool tell_cloud)
{
    e->connected = false;
    e->reason = reason;
    if (tell_cloud) {
        bw_appmqtt_channel_gone(e->mqtt.session_id);
    }
    e->mqtt.in_total = 0;
}

/* ---- requests ---- */

/* A piece of a stream: kernel bytes (app == 0) or app bytes. */
typedef struct segment {
    const uint8_t *kernel;
    uintptr_t app;
    uint32_t len;
} segment;

static bw_err readable(const struct MvSizedString *s)
{
    return s->length == 0 ? BW_OK : bw_app_check_range((uintptr_t)s->data, s->length, BW_ACCESS_READ);
}

static segment app_segment(const struct MvSizedString *s)
{
    return (segment){ .app = (uintptr_t)s->data, .len = s->length };
}

/* A request to queue: op kind, its correlation ID, whether its fields are in
 * bounds, and its stream as segments (head first). */
typedef struct request {
    uint8_t op;
    uint32_t correlation_id;
    bool valid;
    const segment *segs;
    size_t count;
} request;

/* Queues req on the channel (see the header's common errors). */
static bw_err submit(uint32_t handle, const request *req)
{
    uint64_t size = 0;
    for (size_t i = 0; i < req->count; i++) {
        size += req->segs[i].len;
    }
    uint32_t state;
    bw_err err;
    bw_channel_entry *e = lock_mqtt(handle, &state, &err);
    if (e == NULL) {
        return err;
    }
    bw_appmqtt_session *s = &e->mqtt;
    uint8_t kind = response_kind(req->op);
    bool connect = req->op == BW_MQTT_OP_CONNECT;
    bool one_at_a_time = req->op == BW_MQTT_OP_SUBSCRIBE || req->op == BW_MQTT_OP_UNSUBSCRIBE;
    bool connected = s->conn == MQTT_CONNECTED;
    bool local = !req->valid || (!connect && !connected);
    if (!e->connected) {
        err = BW_E_CLOSED;
    } else if (connect && s->conn != MQTT_IDLE) {
        err = BW_E_ALREADY;
    } else if (s->pending >= BW_MQTT_PENDING_MAX || s->item_count + s->pending >= BW_MQTT_ITEMS_MAX
               || (one_at_a_time && s->waiting[kind] > 0)) {
        err = BW_E_RATE;
    } else if (!local && size > e->tx_len) {
        err = BW_E_SIZE;
    } else if (!local && (s->tx_used + size > e->tx_len || s->op_count >= BW_MQTT_OPS_MAX)) {
        err = BW_E_RATE;   /* the send buffer still holds earlier requests */
    }
    uint32_t center = e->center;
    uint32_t tag = e->tag;
    if (err == BW_OK && local) {
        bw_appmqtt_item item = { .kind = kind, .correlation_id = req->correlation_id,
                              .state = req->valid ? MV_MQTTREQUESTSTATE_NOTCONNECTED
                                                  : MV_MQTTREQUESTSTATE_INVALIDPARAMETERS };
        push_item(s, &item);
        if (connect) {
            s->conn = MQTT_ENDED;
        }
    } else if (err == BW_OK) {
        uint32_t at = s->tx_used;
        for (size_t i = 0; i < req->count && err == BW_OK; i++) {
            const segment *g = &req->segs[i];
            err = g->app != 0 ? bw_app_copy_within(e->tx + at, g->app, g->len)
                              : bw_app_copy_out(e->tx + at, g->kernel, g->len);
            at += g->len;
        }
        if (err == BW_OK) {
            s->ops[(s->op_head + s->op_count) % BW_MQTT_OPS_MAX] =
                (bw_appmqtt_op){ .kind = req->op, .correlation_id = req->correlation_id, .at = s->tx_used,
                              .len = (uint32_t)size };
            s->op_count++;
            s->tx_used = at;
            s->pending++;
            s->waiting[kind]++;
            s->conn = connect ? MQTT_CONNECTING : req->op == BW_MQTT_OP_DISCONNECT ? MQTT_DISCONNECTING : s->conn;
        }
    }
    port_irq_unlock(state);
    if (err == BW_OK && local) {
        notify(center, tag, MV_EVENTTYPE_CHANNELDATAREADABLE);
    }
    return err;
}

static bool length_ok(const struct MvSizedString *s, uint32_t min, uint32_t max)
{
    return s->length >= min && s->length <= max;
}

bw_err bw_appmqtt_connect(uint32_t handle, const bw_appmqtt_connect_req *req)
{
    const struct MvMqttConnectRequest *r = &req->r;
    static const struct MvSizedString none = { 0 };
    uint32_t nc = req->tls != NULL ? req->tls->cacert.num_certs : 0u;
    uint32_t nk = req->tls != NULL ? req->tls->clientcert.chain.num_certs : 0u;
    const struct MvSizedString *key = req->tls != NULL ? &req->tls->clientcert.key : &none;
    const struct MvSizedString *will_topic = req->will != NULL ? &req->will->topic : &none;
    const struct MvSizedString *will_payload = req->will != NULL ? &req->will->payload : &none;
    bool userpass = r->authentication.method == MV_MQTTAUTHENTICATIONMETHOD_USERNAMEPASSWORD;
    const struct MvSizedString *user = userpass ? &r->authentication.username_password.username : &none;
    const struct MvSizedString *pass = userpass ? &r->authentication.username_password.password : &none;
    if (nc > BW_MQTT_CERTS_MAX || nk > BW_MQTT_CERTS_MAX) {
        return BW_E_ELEMENTS;
    }
    const struct MvSizedString *strings[SEGMENTS_MAX] = { &r->host, &r->clientid, user, pass,
                                                          will_topic, will_payload, key };
    size_t n = 7;
    for (uint32_t i = 0; i < nc; i++) {
        strings[n++] = &req->ca[i];
    }
    for (uint32_t i = 0; i < nk; i++) {
        strings[n++] = &req->chain[i];
    }
    bw_err err = BW_OK;
    for (size_t i = 0; i < n && err == BW_OK; i++) {
        err = readable(strings[i]);
    }
    if (err != BW_OK) {
        return err;
    }
    if (r->authentication.method > MV_MQTTAUTHENTICATIONMETHOD_USERNAMEPASSWORD
        || (!userpass && (r->authentication.username_password.username.length != 0
                          || r->authentication.username_password.password.length != 0))) {
        return BW_E_AUTH;
    }
    if (r->host.length == 0) {
        return BW_E_REQUIRED;
    }
    bool valid = r->protocol_version <= MV_MQTTPROTOCOLVERSION_V5 && r->port != 0
                 && r->host.length <= BW_MQTT_HOST_MAX && r->clientid.length <= BW_MQTT_CLIENTID_MAX
                 && user->length <= BW_MQTT_CRED_MAX && pass->length <= BW_MQTT_CRED_MAX
                 && r->keepalive >= 5u && r->keepalive <= 65535u && r->clean_start <= 1u
                 && (req->will == NULL || (length_ok(will_topic, 1, BW_MQTT_TOPIC_MAX)
                                           && will_payload->length <= BW_MQTT_WILL_MAX
                                           && req->will->qos <= 1u && req->will->retain <= 1u))
                 && key->length <= BW_MQTT_PEM_MAX && (nk == 0) == (key->length == 0);
    for (size_t i = 7; i < n; i++) {
        valid = valid && length_ok(strings[i], 1, BW_MQTT_PEM_MAX);
    }
    uint8_t head[CONNECT_HEAD + 2u * SEGMENTS_MAX] = { BW_MQTT_OP_CONNECT };
    bw_put16(head + 8, r->port);
    head[10] = (uint8_t)r->protocol_version;
    head[11] = r->clean_start;
    bw_put32(head + 12, r->keepalive);
    head[16] = userpass ? 1u : 0u;
    head[17] = req->will != NULL ? 1u : 0u;
    head[18] = req->will != NULL ? (uint8_t)req->will->qos : 0u;
    head[19] = req->will != NULL ? req->will->retain : 0u;
    head[20] = (uint8_t)nc;
    head[21] = (uint8_t)nk;
    segment segs[1 + SEGMENTS_MAX] = { { .kernel = head, .len = CONNECT_HEAD + 2u * (uint32_t)n } };
    for (size_t i = 0; i < n; i++) {
        bw_put16(head + CONNECT_HEAD + 2u * i, (uint16_t)strings[i]->length);
        segs[1 + i] = app_segment(strings[i]);
    }
    request req_out = { .op = BW_MQTT_OP_CONNECT, .valid = valid, .segs = segs, .count = 1 + n };
    return submit(handle, &req_out);
}

bw_err bw_appmqtt_subscribe(uint32_t handle, uint32_t correlation_id, const struct MvMqttSubscription *subs,
                         uint32_t count)
{
    if (count > BW_MQTT_TOPICS_MAX) {
        return BW_E_ELEMENTS;
    }
    uint8_t head[BW_MQTT_HEAD + 6u * BW_MQTT_TOPICS_MAX] = { BW_MQTT_OP_SUBSCRIBE, (uint8_t)count };
    bw_put32(head + 4, correlation_id);
    segment segs[1 + BW_MQTT_TOPICS_MAX] = { { .kernel = head, .len = BW_MQTT_HEAD + 6u * count } };
    bool valid = count > 0;
    for (uint32_t i = 0; i < count; i++) {
        bw_err err = readable(&subs[i].topic);
        if (err != BW_OK) {
            return err;
        }
        uint8_t *entry = head + BW_MQTT_HEAD + 6u * i;
        valid = valid && length_ok(&subs[i].topic, 1, BW_MQTT_TOPIC_MAX) && subs[i].desired_qos <= 1u
                && subs[i].nl <= 1u && subs[i].rap <= 1u && subs[i].rh <= 2u;
        entry[0] = (uint8_t)subs[i].desired_qos;
        entry[1] = (uint8_t)subs[i].nl;
        entry[2] = (uint8_t)subs[i].rap;
        entry[3] = (uint8_t)subs[i].rh;
        bw_put16(entry + 4, (uint16_t)subs[i].topic.length);
        segs[1 + i] = app_segment(&subs[i].topic);
    }
    request req = { .op = BW_MQTT_OP_SUBSCRIBE, .correlation_id = correlation_id, .valid = valid,
                    .segs = segs, .count = 1 + count };
    return submit(handle, &req);
}

bw_err bw_appmqtt_unsubscribe(uint32_t handle, uint32_t correlation_id, const struct MvSizedString *topics,
                           uint32_t count)
{
    if (count > BW_MQTT_TOPICS_MAX) {
        return BW_E_ELEMENTS;
    }
    uint8_t head[BW_MQTT_HEAD + 2u * BW_MQTT_TOPICS_MAX] = { BW_MQTT_OP_UNSUBSCRIBE, (uint8_t)count };
    bw_put32(head + 4, correlation_id);
    segment segs[1 + BW_MQTT_TOPICS_MAX] = { { .kernel = head, .len = BW_MQTT_HEAD + 2u * count } };
    bool valid = count > 0;
    for (uint32_t i = 0; i < count; i++) {
        bw_err err = readable(&topics[i]);
        if (err != BW_OK) {
            return err;
        }
        valid = valid && length_ok(&topics[i], 1, BW_MQTT_TOPIC_MAX);
        bw_put16(head + BW_MQTT_HEAD + 2u * i, (uint16_t)topics[i].length);
        segs[1 + i] = app_segment(&topics[i]);
    }
    request req = { .op = BW_MQTT_OP_UNSUBSCRIBE, .correlation_id = correlation_id, .valid = valid,
                    .segs = segs, .count = 1 + count };
    return submit(handle, &req);
}

bw_err bw_appmqtt_publish(uint32_t handle, const struct MvMqttPublishRequest *p)
{
    bw_err err = readable(&p->topic);
    if (err == BW_OK) {
        err = readable(&p->payload);
    }
    if (err != BW_OK) {
        return err;
    }
    bool valid = length_ok(&p->topic, 1, BW_MQTT_TOPIC_MAX) && p->desired_qos <= 1u && p->retain <= 1u;
    uint8_t head[MESSAGE_HEAD] = { BW_MQTT_OP_PUBLISH };
    bw_put32(head + 4, p->correlation_id);
    head[8] = (uint8_t)p->desired_qos;
    head[9] = (uint8_t)p->retain;
    bw_put16(head + 10, (uint16_t)p->topic.length);
    bw_put32(head + 12, p->payload.length);
    segment segs[3] = { { .kernel = head, .len = MESSAGE_HEAD }, app_segment(&p->topic),
                        app_segment(&p->payload) };
    request req = { .op = BW_MQTT_OP_PUBLISH, .correlation_id = p->correlation_id, .valid = valid,
                    .segs = segs, .count = 3 };
    return submit(handle, &req);
}

bw_err bw_appmqtt_disconnect(uint32_t handle)
{
    /* Head-only: no send-buffer bytes. */
    request req = { .op = BW_MQTT_OP_DISCONNECT, .valid = true, .segs = NULL, .count = 0 };
    return submit(handle, &req);
}

bw_err bw_appmqtt_acknowledge(uint32_t handle, uint32_t correlation_id)
{
    uint32_t state;
    bw_err err;
    bw_channel_entry *e = lock_mqtt(handle, &state, &err);
    if (e == NULL) {
        return err;
    }
    bw_appmqtt_session *s = &e->mqtt;
    size_t found = s->unacked_count;
    for (size_t i = 0; i < s->unacked_count && found == s->unacked_count; i++) {
        found = s->unacked[i] == correlation_id ? i : found;
    }
    if (!e->connected) {
        err = BW_E_CLOSED;
    } else if (found == s->unacked_count) {
        err = BW_E_NOT_ACKABLE;
    } else if (s->op_count >= BW_MQTT_OPS_MAX) {
        err = BW_E_RATE;
    } else {
        s->unacked[found] = s->unacked[--s->unacked_count];
        s->ops[(s->op_head + s->op_count) % BW_MQTT_OPS_MAX] =
            (bw_appmqtt_op){ .kind = BW_MQTT_OP_ACK, .correlation_id = correlation_id };
        s->op_count++;
    }
    port_irq_unlock(state);
    return err;
}

/* ---- reading ---- */

bw_err bw_appmqtt_next_type(uint32_t handle, enum MvMqttReadableDataType *type)
{
    uint32_t state;
    bw_err err;
    bw_channel_entry *e = lock_mqtt(handle, &state, &err);
    if (e == NULL) {
        return err;
    }
    const bw_appmqtt_session *s = &e->mqtt;
    *type = s->item_count == 0 ? MV_MQTTREADABLEDATATYPE_NONE
                               : (enum MvMqttReadableDataType)s->items[s->item_head].kind;
    port_irq_unlock(state);
    return BW_OK;
}

bw_err bw_appmqtt_read(uint32_t handle, enum MvMqttReadableDataType kind, bw_appmqtt_reader reader, const void *ctx)
{
    uint32_t state;
    bw_err err;
    bw_channel_entry *e = lock_mqtt(handle, &state, &err);
    if (e == NULL) {
        return err;
    }
    bw_appmqtt_session *s = &e->mqtt;
    const bw_appmqtt_item *it = &s->items[s->item_head];
    bool qos1 = s->item_count > 0 && it->kind == MV_MQTTREADABLEDATATYPE_MESSAGERECEIVED && it->qos == 1u;
    if (s->item_count == 0) {
        err = BW_E_NOT_PRESENT;
    } else if (it->kind != kind) {
        err = BW_E_WRONG_DATA;
    } else if (qos1 && s->unacked_count >= BW_MQTT_UNACKED_MAX) {
        err = BW_E_RATE;
    } else {
        bw_appmqtt_readable r = {
            .kind = kind, .state = (enum MvMqttRequestState)it->state, .correlation_id = it->correlation_id,
            .value = it->value, .qos = it->qos, .retain = it->retain, .codes = it->codes,
            .codes_len = it->codes_len, .topic = e->rx + it->at, .topic_len = it->topic_len,
            .payload = e->rx + it->at + it->topic_len, .payload_len = it->payload_len,
        };
        err = reader(&r, ctx);
    }
    if (err == BW_OK) {
        if (qos1) {
            s->unacked[s->unacked_count++] = it->correlation_id;
        }
        s->item_head = (uint8_t)((s->item_head + 1u) % BW_MQTT_ITEMS_MAX);
        s->item_count--;
        if (s->item_count == 0 && s->in_total == 0) {
            s->rx_used = 0;
        }
    }
    port_irq_unlock(state);
    return err;
}

/* ---- the relay's side ---- */

static void head_only(uint8_t *buf, uint8_t kind, uint32_t correlation_id)
{
    memset(buf, 0, BW_MQTT_HEAD);
    buf[0] = kind;
    bw_put32(buf + 4, correlation_id);
}

bool bw_appmqtt_next_piece(uint8_t *buf, size_t cap, bw_http_piece *piece)
{
    if (cap < BW_MQTT_HEAD) {
        return false;
    }
    uint32_t state = port_irq_lock();
    bool found = close_count > 0;
    if (found) {
        head_only(buf, BW_MQTT_OP_CLOSE, 0);
        *piece = (bw_http_piece){ .request_id = closes[0], .total = BW_MQTT_HEAD, .len = BW_MQTT_HEAD };
    }
    port_irq_unlock(state);
    for (size_t i = 0; i < BW_CHANNELS_MAX && !found; i++) {
        state = port_irq_lock();
        bw_channel_entry *e = &bw_channel_entries[i];
        const bw_appmqtt_session *s = &e->mqtt;
        found = e->handle != 0 && e->connected && e->type == MV_CHANNELTYPE_MQTT && s->op_count > 0;
        if (found) {
            const bw_appmqtt_op *op = &s->ops[s->op_head];
            if (op->len == 0) {
                head_only(buf, op->kind, op->correlation_id);
                *piece = (bw_http_piece){ .request_id = s->session_id, .total = BW_MQTT_HEAD, .len = BW_MQTT_HEAD };
            } else {
                uint32_t left = op->len - s->op_sent;
                uint32_t n = cap < left ? (uint32_t)cap : left;
                *piece = (bw_http_piece){ .request_id = s->session_id, .offset = s->op_sent, .total = op->len,
                                          .len = n };
                found = bw_app_copy_in(buf, e->tx + op->at + s->op_sent, n) == BW_OK;
            }
        }
        port_irq_unlock(state);
    }
    return found;
}

void bw_appmqtt_piece_sent(const bw_http_piece *piece)
{
    uint32_t state = port_irq_lock();
    if (close_count > 0 && closes[0] == piece->request_id && piece->total == BW_MQTT_HEAD) {
        close_count--;
        memmove(closes, closes + 1, close_count * sizeof closes[0]);
        port_irq_unlock(state);
        return;
    }
    for (size_t i = 0; i < BW_CHANNELS_MAX; i++) {
        bw_channel_entry *e = &bw_channel_entries[i];
        bw_appmqtt_session *s = &e->mqtt;
        if (e->handle == 0 || e->type != MV_CHANNELTYPE_MQTT || s->session_id != piece->request_id
            || s->op_count == 0 || s->op_sent != piece->offset) {
            continue;
        }
        s->op_sent += piece->len;
        if (s->op_sent >= piece->total) {
            s->op_head = (uint8_t)((s->op_head + 1u) % BW_MQTT_OPS_MAX);
            s->op_count--;
            s->op_sent = 0;
            s->tx_used = s->op_count == 0 ? 0u : s->tx_used;
        }
    }
    port_irq_unlock(state);
}

/* The live MQTT channel of session_id (lock held), or NULL. */
static bw_channel_entry *session(uint32_t session_id)
{
    for (size_t i = 0; i < BW_CHANNELS_MAX; i++) {
        bw_channel_entry *e = &bw_channel_entries[i];
        if (e->handle != 0 && e->connected && e->type == MV_CHANNELTYPE_MQTT && e->mqtt.session_id == session_id) {
            return e;
        }
    }
    return NULL;
}

/* Takes a MESSAGE's head: where its bytes go, or that it is lost (lock held). */
static bool start_message(bw_channel_entry *e, const uint8_t *data, size_t len, uint32_t total)
{
    bw_appmqtt_session *s = &e->mqtt;
    bw_appmqtt_item *it = &s->in_item;
    it->qos = data[8];
    it->retain = data[9];
    it->topic_len = (uint16_t)bw_get16(data + 10);
    it->payload_len = bw_get32(data + 12);
    if (data[1] != 0 || bw_get16(data + 2) != 0 || it->qos > 1u || it->retain > 1u || it->topic_len == 0
        || it->topic_len > BW_MQTT_TOPIC_MAX || len < MESSAGE_HEAD + (size_t)it->topic_len
        || (uint64_t)MESSAGE_HEAD + it->topic_len + it->payload_len != total) {
        return false;
    }
    it->at = s->rx_used;
    bool place = s->item_count + s->pending < BW_MQTT_ITEMS_MAX - 1u;
    bool fits = (uint64_t)s->rx_used + it->topic_len + it->payload_len <= e->rx_len;
    s->in_lost = !fits;
    if (!place) {
        /* The one spare place takes a MESSAGELOST; with none, it is dropped. */
        it->kind = s->item_count + s->pending < BW_MQTT_ITEMS_MAX ? MV_MQTTREADABLEDATATYPE_MESSAGELOST : 0u;
        it->topic_len = 0;
        s->in_lost = true;
        s->dropped += it->kind == 0 ? 1u : 0u;
    } else if (!fits) {
        it->kind = MV_MQTTREADABLEDATATYPE_MESSAGELOST;
        it->topic_len = s->rx_used + it->topic_len <= e->rx_len ? it->topic_len : 0u;
    }
    if (s->in_lost) {
        it->value = it->payload_len;
        it->payload_len = 0;
    }
    s->rx_used += it->topic_len + it->payload_len;
    return true;
}

/* Takes a stream's first piece (lock held); false if it breaks §18.3. */
static bool start_stream(bw_channel_entry *e, uint32_t total, const uint8_t *data, size_t len)
{
    bw_appmqtt_session *s = &e->mqtt;
    if (len < BW_MQTT_HEAD) {
        return false;
    }
    uint8_t kind = data[0];
    uint32_t codes = bw_get16(data + 2);
    s->in_item = (bw_appmqtt_item){ .kind = kind, .state = data[1], .correlation_id = bw_get32(data + 4) };
    s->in_total = total;
    s->in_lost = false;
    if (kind == MV_MQTTREADABLEDATATYPE_MESSAGERECEIVED) {
        return len >= MESSAGE_HEAD && start_message(e, data, len, total);
    }
    bool single = len == total && data[1] <= MV_MQTTREQUESTSTATE_CONNECTIONCIRCUITBREAKER;
    switch (kind) {
    case MV_MQTTREADABLEDATATYPE_SUBSCRIBERESPONSE:
    case MV_MQTTREADABLEDATATYPE_UNSUBSCRIBERESPONSE:
        if (!single || codes > BW_MQTT_TOPICS_MAX || total != BW_MQTT_HEAD + codes || s->waiting[kind] == 0) {
            return false;
        }
        memcpy(s->in_item.codes, data + BW_MQTT_HEAD, codes);
        s->in_item.codes_len = (uint8_t)codes;
        return true;
    case MV_MQTTREADABLEDATATYPE_CONNECTRESPONSE:
    case MV_MQTTREADABLEDATATYPE_PUBLISHRESPONSE:
    case MV_MQTTREADABLEDATATYPE_DISCONNECTRESPONSE:
    case BW_MQTT_EVENT_CLOSED:
        if (!single || codes != 0 || total != BW_MQTT_HEAD + 4u
            || (kind != BW_MQTT_EVENT_CLOSED && s->waiting[kind] == 0)) {
            return false;
        }
        s->in_item.value = bw_get32(data + BW_MQTT_HEAD);
        return true;
    default:
        return false;
    }
}

/* A complete stream (lock held). Returns the event for the app, if any. */
static enum MvEventType finish_stream(bw_channel_entry *e)
{
    bw_appmqtt_session *s = &e->mqtt;
    bw_appmqtt_item it = s->in_item;
    s->in_total = 0;
    s->in_received = 0;
    if (it.kind == BW_MQTT_EVENT_CLOSED) {
        end_channel(e, MV_CLOSUREREASON_CHANNELCLOSEDBYSERVER, false);
        return MV_EVENTTYPE_CHANNELNOTCONNECTED;
    }
    if (it.kind == 0) {
        return MV_EVENTTYPE_NOEVENT;   /* dropped: no place was free */
    }
    if (it.kind != MV_MQTTREADABLEDATATYPE_MESSAGERECEIVED && it.kind != MV_MQTTREADABLEDATATYPE_MESSAGELOST) {
        s->pending--;
        s->waiting[it.kind]--;
        bool accepted = it.state == MV_MQTTREQUESTSTATE_REQUESTCOMPLETED && it.value == 0;
        if (it.kind == MV_MQTTREADABLEDATATYPE_CONNECTRESPONSE) {
            s->conn = accepted ? MQTT_CONNECTED : MQTT_ENDED;
        } else if (it.kind == MV_MQTTREADABLEDATATYPE_DISCONNECTRESPONSE) {
            s->conn = MQTT_ENDED;
        }
    }
    push_item(s, &it);
    return MV_EVENTTYPE_CHANNELDATAREADABLE;
}

bw_err bw_appmqtt_event_piece(uint32_t session_id, uint32_t offset, uint32_t total, const uint8_t *data, size_t len)
{
    uint32_t state = port_irq_lock();
    bw_channel_entry *e = session(session_id);
    if (e == NULL) {
        port_irq_unlock(state);
        return BW_E_HANDLE;
    }
    bw_appmqtt_session *s = &e->mqtt;
    bool ok = len > 0 && (uint64_t)offset + len <= total;
    if (ok && offset == 0) {
        ok = s->in_total == 0 && start_stream(e, total, data, len);
    } else if (ok) {
        ok = s->in_total != 0 && offset == s->in_received && total == s->in_total;
    }
    bw_appmqtt_item *it = &s->in_item;
    if (ok && it->kind == MV_MQTTREADABLEDATATYPE_MESSAGERECEIVED && !s->in_lost) {
        /* Stream bytes from the head on: topic, then payload, at it->at. */
        uint32_t skip = offset < MESSAGE_HEAD ? MESSAGE_HEAD - offset : 0u;
        ok = bw_app_copy_out(e->rx + it->at + (offset + skip - MESSAGE_HEAD), data + skip, len - skip) == BW_OK;
    } else if (ok && offset == 0 && it->kind == MV_MQTTREADABLEDATATYPE_MESSAGELOST && it->topic_len > 0) {
        ok = bw_app_copy_out(e->rx + it->at, data + MESSAGE_HEAD, it->topic_len) == BW_OK;
    }
    enum MvEventType event = MV_EVENTTYPE_NOEVENT;
    if (!ok) {
        end_channel(e, MV_CLOSUREREASON_UNEXPECTEDLYTERMINATED, true);
        event = MV_EVENTTYPE_CHANNELNOTCONNECTED;
    } else {
        s->in_received = offset + (uint32_t)len;
        if (s->in_received == s->in_total) {
            event = finish_stream(e);
        }
    }
    uint32_t center = e->center;
    uint32_t tag = e->tag;
    port_irq_unlock(state);
    if (event != MV_EVENTTYPE_NOEVENT) {
        notify(center, tag, event);
    }
    return ok ? BW_OK : BW_E_INVALID;
}
