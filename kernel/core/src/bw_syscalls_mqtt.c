/*
 * System calls of MQTT channels (bw_syscalls.h; bw_appmqtt.h). Check
 * order as in bw_syscalls.c: app pointers for the access the call makes, then
 * the copied struct's fields, then kernel state. Structs (and the arrays
 * they point to, once their counts are bounded) are copied in once. A read
 * checks every output before it writes one, so an error leaves the app's
 * memory as it was.
 */
#include "bw_app_mem.h"
#include "bw_config.h"
#include "bw_appmqtt.h"
#include "bw_syscalls.h"

BW_SAME_PROTOTYPE(mvMqttRequestConnect, bw_sys_mqtt_request_connect);
BW_SAME_PROTOTYPE(mvMqttReadConnectResponse, bw_sys_mqtt_read_connect_response);
BW_SAME_PROTOTYPE(mvMqttRequestSubscribe, bw_sys_mqtt_request_subscribe);
BW_SAME_PROTOTYPE(mvMqttReadSubscribeResponse, bw_sys_mqtt_read_subscribe_response);
BW_SAME_PROTOTYPE(mvMqttRequestUnsubscribe, bw_sys_mqtt_request_unsubscribe);
BW_SAME_PROTOTYPE(mvMqttReadUnsubscribeResponse, bw_sys_mqtt_read_unsubscribe_response);
BW_SAME_PROTOTYPE(mvMqttRequestPublish, bw_sys_mqtt_request_publish);
BW_SAME_PROTOTYPE(mvMqttReadPublishResponse, bw_sys_mqtt_read_publish_response);
BW_SAME_PROTOTYPE(mvMqttRequestDisconnect, bw_sys_mqtt_request_disconnect);
BW_SAME_PROTOTYPE(mvMqttReadDisconnectResponse, bw_sys_mqtt_read_disconnect_response);
BW_SAME_PROTOTYPE(mvMqttReceiveMessage, bw_sys_mqtt_receive_message);
BW_SAME_PROTOTYPE(mvMqttReceiveLostMessageInfo, bw_sys_mqtt_receive_lost_message_info);
BW_SAME_PROTOTYPE(mvMqttAcknowledgeMessage, bw_sys_mqtt_acknowledge_message);
BW_SAME_PROTOTYPE(mvMqttGetNextReadableDataType, bw_sys_mqtt_get_next_readable_data_type);

static bw_err writable(const volatile void *app_out, size_t len)
{
    return bw_app_check_range((uintptr_t)app_out, len, BW_ACCESS_READWRITE);
}

static bw_err copy_array(void *dst, const void *app_src, uint32_t count, size_t size)
{
    return count == 0 ? BW_OK : bw_app_copy_in(dst, (uintptr_t)app_src, count * size);
}

enum MvStatus bw_sys_mqtt_request_connect(MvChannelHandle handle, const struct MvMqttConnectRequest *request)
{
    bw_appmqtt_connect_req req = { 0 };
    struct MvTlsCredentials tls;
    struct MvMqttWill will;
    struct MvSizedString ca[BW_MQTT_CERTS_MAX];
    struct MvSizedString chain[BW_MQTT_CERTS_MAX];
    bw_err err = bw_app_copy_in(&req.r, (uintptr_t)request, sizeof req.r);
    if (err == BW_OK && req.r.tls_credentials != NULL) {
        err = bw_app_copy_in(&tls, (uintptr_t)req.r.tls_credentials, sizeof tls);
        req.tls = &tls;
    }
    if (err == BW_OK && req.r.will != NULL) {
        err = bw_app_copy_in(&will, (uintptr_t)req.r.will, sizeof will);
        req.will = &will;
    }
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    if (req.tls != NULL) {
        if (tls.cacert.num_certs > BW_MQTT_CERTS_MAX || tls.clientcert.chain.num_certs > BW_MQTT_CERTS_MAX) {
            return MV_STATUS_TOOMANYELEMENTS;
        }
        err = copy_array(ca, tls.cacert.certs, tls.cacert.num_certs, sizeof ca[0]);
        if (err == BW_OK) {
            err = copy_array(chain, tls.clientcert.chain.certs, tls.clientcert.chain.num_certs, sizeof chain[0]);
        }
        req.ca = ca;
        req.chain = chain;
    }
    uint32_t value = 0;
    if (err == BW_OK) {
        err = bw_sys_handle_value(handle, &value);
    }
    if (err == BW_OK) {
        err = bw_appmqtt_connect(value, &req);
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_mqtt_request_subscribe(MvChannelHandle handle, const struct MvMqttSubscribeRequest *request)
{
    struct MvMqttSubscribeRequest r;
    struct MvMqttSubscription subs[BW_MQTT_TOPICS_MAX];
    bw_err err = bw_app_copy_in(&r, (uintptr_t)request, sizeof r);
    if (err == BW_OK && r.num_subscriptions > BW_MQTT_TOPICS_MAX) {
        return MV_STATUS_TOOMANYELEMENTS;
    }
    if (err == BW_OK) {
        err = copy_array(subs, r.subscriptions, r.num_subscriptions, sizeof subs[0]);
    }
    uint32_t value = 0;
    if (err == BW_OK) {
        err = bw_sys_handle_value(handle, &value);
    }
    if (err == BW_OK) {
        err = bw_appmqtt_subscribe(value, r.correlation_id, subs, r.num_subscriptions);
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_mqtt_request_unsubscribe(MvChannelHandle handle,
                                              const struct MvMqttUnsubscribeRequest *request)
{
    struct MvMqttUnsubscribeRequest r;
    struct MvSizedString topics[BW_MQTT_TOPICS_MAX];
    bw_err err = bw_app_copy_in(&r, (uintptr_t)request, sizeof r);
    if (err == BW_OK && r.num_topics > BW_MQTT_TOPICS_MAX) {
        return MV_STATUS_TOOMANYELEMENTS;
    }
    if (err == BW_OK) {
        err = copy_array(topics, r.topics, r.num_topics, sizeof topics[0]);
    }
    uint32_t value = 0;
    if (err == BW_OK) {
        err = bw_sys_handle_value(handle, &value);
    }
    if (err == BW_OK) {
        err = bw_appmqtt_unsubscribe(value, r.correlation_id, topics, r.num_topics);
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_mqtt_request_publish(MvChannelHandle handle, const struct MvMqttPublishRequest *request)
{
    struct MvMqttPublishRequest r;
    bw_err err = bw_app_copy_in(&r, (uintptr_t)request, sizeof r);
    uint32_t value = 0;
    if (err == BW_OK) {
        err = bw_sys_handle_value(handle, &value);
    }
    if (err == BW_OK) {
        err = bw_appmqtt_publish(value, &r);
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_mqtt_request_disconnect(MvChannelHandle handle)
{
    uint32_t value = 0;
    bw_err err = bw_sys_handle_value(handle, &value);
    if (err == BW_OK) {
        err = bw_appmqtt_disconnect(value);
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_mqtt_acknowledge_message(MvChannelHandle handle, uint32_t correlation_id)
{
    uint32_t value = 0;
    bw_err err = bw_sys_handle_value(handle, &value);
    if (err == BW_OK) {
        err = bw_appmqtt_acknowledge(value, correlation_id);
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_mqtt_get_next_readable_data_type(MvChannelHandle handle,
                                                      enum MvMqttReadableDataType *type_out)
{
    bw_err err = writable(type_out, sizeof *type_out);
    uint32_t value = 0;
    enum MvMqttReadableDataType type = MV_MQTTREADABLEDATATYPE_NONE;
    if (err == BW_OK) {
        err = bw_sys_handle_value(handle, &value);
    }
    if (err == BW_OK) {
        err = bw_appmqtt_next_type(value, &type);
    }
    if (err == BW_OK) {
        err = bw_app_copy_out((uintptr_t)type_out, &type, sizeof type);
    }
    return bw_status_from_err(err);
}

/* Reads the oldest item of kind through reader after checking handle. */
static enum MvStatus read_item(MvChannelHandle handle, enum MvMqttReadableDataType kind, bw_err checked,
                               bw_appmqtt_reader reader, const void *ctx)
{
    uint32_t value = 0;
    bw_err err = checked;
    if (err == BW_OK) {
        err = bw_sys_handle_value(handle, &value);
    }
    if (err == BW_OK) {
        err = bw_appmqtt_read(value, kind, reader, ctx);
    }
    return bw_status_from_err(err);
}

/* ---- responses with value outputs: state, then one or two u32 ---- */

typedef struct value_out {
    uintptr_t app;             /* the app's response struct */
    bool with_correlation;     /* publish: state, correlation ID, reason code */
} value_out;

static bw_err write_values(const bw_appmqtt_readable *item, const void *ctx)
{
    const value_out *out = ctx;
    uint32_t words[3] = { (uint32_t)item->state, out->with_correlation ? item->correlation_id : item->value,
                          item->value };
    return bw_app_copy_out(out->app, words, (out->with_correlation ? 3u : 2u) * sizeof words[0]);
}

enum MvStatus bw_sys_mqtt_read_connect_response(MvChannelHandle handle, struct MvMqttConnectResponse *response_out)
{
    value_out out = { .app = (uintptr_t)response_out };
    return read_item(handle, MV_MQTTREADABLEDATATYPE_CONNECTRESPONSE, writable(response_out, sizeof *response_out),
                     write_values, &out);
}

enum MvStatus bw_sys_mqtt_read_publish_response(MvChannelHandle handle, struct MvMqttPublishResponse *response_out)
{
    value_out out = { .app = (uintptr_t)response_out, .with_correlation = true };
    return read_item(handle, MV_MQTTREADABLEDATATYPE_PUBLISHRESPONSE, writable(response_out, sizeof *response_out),
                     write_values, &out);
}

enum MvStatus bw_sys_mqtt_read_disconnect_response(MvChannelHandle handle,
                                                   struct MvMqttDisconnectResponse *response_out)
{
    value_out out = { .app = (uintptr_t)response_out };
    return read_item(handle, MV_MQTTREADABLEDATATYPE_DISCONNECTRESPONSE,
                     writable(response_out, sizeof *response_out), write_values, &out);
}

/* ---- (un)subscribe responses: outputs through pointers ---- */

static bw_err write_codes(const bw_appmqtt_readable *item, const void *ctx)
{
    const struct MvMqttSubscribeResponse *r = ctx;
    uint32_t codes[BW_MQTT_TOPICS_MAX];
    if ((uint64_t)item->codes_len * sizeof codes[0] > r->reason_codes_size) {
        return BW_E_SIZE;
    }
    for (uint32_t i = 0; i < item->codes_len; i++) {
        codes[i] = item->codes[i];
    }
    uint32_t state = (uint32_t)item->state;
    bw_err err = bw_app_copy_out((uintptr_t)r->request_state, &state, sizeof state);
    if (err == BW_OK) {
        err = bw_app_copy_out((uintptr_t)r->correlation_id, &item->correlation_id, sizeof item->correlation_id);
    }
    if (err == BW_OK && item->codes_len > 0) {
        err = bw_app_copy_out((uintptr_t)r->reason_codes, codes, item->codes_len * sizeof codes[0]);
    }
    if (err == BW_OK) {
        err = bw_app_copy_out((uintptr_t)r->reason_codes_len, &item->codes_len, sizeof item->codes_len);
    }
    return err;
}

/* The pointers of a subscribe or unsubscribe response (same layout). */
static bw_err check_codes(const struct MvMqttSubscribeResponse *r)
{
    bw_err err = writable(r->request_state, sizeof *r->request_state);
    if (err == BW_OK) {
        err = writable(r->correlation_id, sizeof *r->correlation_id);
    }
    if (err == BW_OK) {
        err = writable(r->reason_codes_len, sizeof *r->reason_codes_len);
    }
    if (err == BW_OK && r->reason_codes_size > 0) {
        err = writable(r->reason_codes, r->reason_codes_size);
    }
    return err;
}

_Static_assert(sizeof(struct MvMqttSubscribeResponse) == sizeof(struct MvMqttUnsubscribeResponse),
               "subscribe and unsubscribe responses share one layout");

static enum MvStatus read_codes(MvChannelHandle handle, enum MvMqttReadableDataType kind, uintptr_t app_response)
{
    struct MvMqttSubscribeResponse r;
    bw_err err = bw_app_copy_in(&r, app_response, sizeof r);
    if (err == BW_OK) {
        err = check_codes(&r);
    }
    return read_item(handle, kind, err, write_codes, &r);
}

enum MvStatus bw_sys_mqtt_read_subscribe_response(MvChannelHandle handle,
                                                  const struct MvMqttSubscribeResponse *response)
{
    return read_codes(handle, MV_MQTTREADABLEDATATYPE_SUBSCRIBERESPONSE, (uintptr_t)response);
}

enum MvStatus bw_sys_mqtt_read_unsubscribe_response(MvChannelHandle handle,
                                                    const struct MvMqttUnsubscribeResponse *response)
{
    return read_codes(handle, MV_MQTTREADABLEDATATYPE_UNSUBSCRIBERESPONSE, (uintptr_t)response);
}

/* ---- messages ---- */

static bw_err check_buffer(const struct MvSizedStringBuffer *b)
{
    bw_err err = writable(b->length, sizeof *b->length);
    if (err == BW_OK && b->size > 0) {
        err = writable(b->data, b->size);
    }
    return err;
}

/* Copies len bytes at app address src into b (checked: len ≤ b->size). */
static bw_err fill_buffer(const struct MvSizedStringBuffer *b, uintptr_t src, uint32_t len)
{
    bw_err err = len > 0 ? bw_app_copy_within((uintptr_t)b->data, src, len) : BW_OK;
    if (err == BW_OK) {
        err = bw_app_copy_out((uintptr_t)b->length, &len, sizeof len);
    }
    return err;
}

static bw_err write_message(const bw_appmqtt_readable *item, const void *ctx)
{
    const struct MvMqttMessage *m = ctx;
    if (item->topic_len > m->topic.size || item->payload_len > m->payload.size) {
        return BW_E_SIZE;
    }
    uint8_t retain = (uint8_t)item->retain;
    bw_err err = fill_buffer(&m->topic, item->topic, item->topic_len);
    if (err == BW_OK) {
        err = fill_buffer(&m->payload, item->payload, item->payload_len);
    }
    if (err == BW_OK) {
        err = bw_app_copy_out((uintptr_t)m->correlation_id, &item->correlation_id, sizeof item->correlation_id);
    }
    if (err == BW_OK) {
        err = bw_app_copy_out((uintptr_t)m->qos, &item->qos, sizeof item->qos);
    }
    if (err == BW_OK) {
        err = bw_app_copy_out((uintptr_t)m->retain, &retain, sizeof retain);
    }
    return err;
}

enum MvStatus bw_sys_mqtt_receive_message(MvChannelHandle handle, const struct MvMqttMessage *message)
{
    struct MvMqttMessage m;
    bw_err err = bw_app_copy_in(&m, (uintptr_t)message, sizeof m);
    if (err == BW_OK) {
        err = writable(m.correlation_id, sizeof *m.correlation_id);
    }
    if (err == BW_OK) {
        err = writable(m.qos, sizeof *m.qos);
    }
    if (err == BW_OK) {
        err = writable(m.retain, sizeof *m.retain);
    }
    if (err == BW_OK) {
        err = check_buffer(&m.topic);
    }
    if (err == BW_OK) {
        err = check_buffer(&m.payload);
    }
    return read_item(handle, MV_MQTTREADABLEDATATYPE_MESSAGERECEIVED, err, write_message, &m);
}

static bw_err write_lost(const bw_appmqtt_readable *item, const void *ctx)
{
    const struct MvMqttLostMessageInfo *l = ctx;
    if (item->topic_len > l->topic.size) {
        return BW_E_SIZE;
    }
    uint32_t reason = MV_MQTTLOSTMESSAGEREASON_DEVICERECEIVEBUFFERTOOSMALL;
    bw_err err = fill_buffer(&l->topic, item->topic, item->topic_len);
    if (err == BW_OK) {
        err = bw_app_copy_out((uintptr_t)l->reason, &reason, sizeof reason);
    }
    if (err == BW_OK) {
        err = bw_app_copy_out((uintptr_t)l->message_len, &item->value, sizeof item->value);
    }
    return err;
}

enum MvStatus bw_sys_mqtt_receive_lost_message_info(MvChannelHandle handle,
                                                    const struct MvMqttLostMessageInfo *info)
{
    struct MvMqttLostMessageInfo l;
    bw_err err = bw_app_copy_in(&l, (uintptr_t)info, sizeof l);
    if (err == BW_OK) {
        err = writable(l.reason, sizeof *l.reason);
    }
    if (err == BW_OK) {
        err = writable(l.message_len, sizeof *l.message_len);
    }
    if (err == BW_OK) {
        err = check_buffer(&l.topic);
    }
    return read_item(handle, MV_MQTTREADABLEDATATYPE_MESSAGELOST, err, write_lost, &l);
}
