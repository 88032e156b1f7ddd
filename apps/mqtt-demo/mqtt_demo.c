/*
 * mqtt-demo: an app that is a client of its own MQTT broker through the
 * kernel's cloud link (docs/SPEC.md §18); bulwarkd holds the session.
 *
 * Notification-driven like http-demo, bare metal or under FreeRTOS
 * (apps/common/demo.h): a notification center on IRQ 65 whose handler only
 * takes the events (counting CHANNELNOTCONNECTED), wakes the steps
 * (demo_woken) and never calls the kernel; the steps sleep (demo_wait) until
 * it ran, then ask mvMqttGetNextReadableDataType what arrived. Steps, each printed on the app's console (UART0):
 *   badpass   connect with a wrong password: the broker's refusal code;
 *   errors    the documented errors from the app's side, outputs untouched;
 *   connect   user name, password and the test CA (TLS): accepted;
 *   subscribe bulwark/demo/# at QoS 1;
 *   qos0/qos1 publish to bulwark/demo/qN and receive it back (round trip),
 *             the QoS 1 one acknowledged;
 *   host      a message the test publishes from the host, acknowledged;
 *   unsub     unsubscribe;
 *   cut       wait for the link cut: CHANNELNOTCONNECTED and closure reason;
 *   again     a new channel once the link is back: connect, publish QoS 1,
 *             disconnect.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "demo.h"
#include "mqtt_demo_ca.h"
#include "mv_syscalls.h"

#define BROKER_HOST "mqtt.bulwark.test"
#define BROKER_PORT 8883u
#define USER "demo"
#define PASSWORD "demo-password"
#define NOTIFY_IRQ 65u
#define NOTIFY_SLOTS 16u
#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_IPR(n)  (*(volatile uint8_t *)(0xE000E400u + (n)))
#define S(text) { (const uint8_t *)(text), sizeof(text) - 1u }

static struct MvNotification notifications[NOTIFY_SLOTS] __attribute__((aligned(8)));
static uint8_t rx_buffer[2048] __attribute__((aligned(512)));
static uint8_t tx_buffer[2048] __attribute__((aligned(512)));
static volatile uint32_t notify_index;
static volatile uint32_t notconnected_events;
static MvNetworkHandle network;
static MvNotificationHandle center;

void IRQ65_Handler(void);
void IRQ65_Handler(void)
{
    struct MvNotification *slot = &notifications[notify_index];
    while (slot->event_type != MV_EVENTTYPE_NOEVENT) {
        notconnected_events += slot->event_type == MV_EVENTTYPE_CHANNELNOTCONNECTED ? 1u : 0u;
        slot->event_type = MV_EVENTTYPE_NOEVENT;
        notify_index = (notify_index + 1u) % NOTIFY_SLOTS;
        slot = &notifications[notify_index];
    }
    demo_woken();
}

static void wait_connected(void)
{
    for (;;) {
        enum MvNetworkStatus status = MV_NETWORKSTATUS_DELIBERATELYOFFLINE;
        if (mvGetNetworkStatus(network, &status) == MV_STATUS_OKAY && status == MV_NETWORKSTATUS_CONNECTED) {
            return;
        }
        demo_wait();
    }
}

/* The next readable item's type, waiting for one; NONE if the channel ends. */
static enum MvMqttReadableDataType next_item(MvChannelHandle ch)
{
    for (;;) {
        uint32_t gone = notconnected_events;
        enum MvMqttReadableDataType type = MV_MQTTREADABLEDATATYPE_NONE;
        enum MvStatus status = mvMqttGetNextReadableDataType(ch, &type);
        if (status != MV_STATUS_OKAY || type != MV_MQTTREADABLEDATATYPE_NONE) {
            return type;
        }
        demo_wait();
        if (notconnected_events != gone) {
            return MV_MQTTREADABLEDATATYPE_NONE;
        }
    }
}

static MvChannelHandle open_channel(const char *step)
{
    wait_connected();
    struct MvOpenChannelParams params = { .version = 1 };
    params.v1.notification_handle = center;
    params.v1.notification_tag = 2;
    params.v1.network_handle = network;
    params.v1.receive_buffer = rx_buffer;
    params.v1.receive_buffer_len = sizeof rx_buffer;
    params.v1.send_buffer = tx_buffer;
    params.v1.send_buffer_len = sizeof tx_buffer;
    params.v1.channel_type = MV_CHANNELTYPE_MQTT;
    MvChannelHandle ch = 0;
    enum MvStatus status = mvOpenChannel(&params, &ch);
    printf("mqtt-demo: %s: open status %u\n", step, (unsigned)status);
    return ch;
}

static const struct MvSizedString ca_cert = { (const uint8_t *)mqtt_demo_ca, sizeof mqtt_demo_ca - 1u };
static const struct MvTlsCredentials tls = { .cacert = { 1, &ca_cert } };

static struct MvMqttConnectRequest connect_request(const char *password)
{
    struct MvMqttConnectRequest r = {
        .protocol_version = MV_MQTTPROTOCOLVERSION_V3_1_1, .host = S(BROKER_HOST), .port = BROKER_PORT,
        .clientid = S("mqtt-demo"), .tls_credentials = &tls, .keepalive = 60, .clean_start = 1,
    };
    r.authentication.method = MV_MQTTAUTHENTICATIONMETHOD_USERNAMEPASSWORD;
    r.authentication.username_password.username = (struct MvSizedString)S(USER);
    r.authentication.username_password.password =
        (struct MvSizedString){ (const uint8_t *)password, (uint32_t)strlen(password) };
    return r;
}

/* Connects; true if the broker accepted. */
static bool connect(const char *step, MvChannelHandle ch, const char *password)
{
    struct MvMqttConnectRequest r = connect_request(password);
    enum MvStatus status = mvMqttRequestConnect(ch, &r);
    enum MvMqttReadableDataType type = status == MV_STATUS_OKAY ? next_item(ch) : MV_MQTTREADABLEDATATYPE_NONE;
    struct MvMqttConnectResponse resp = { 0 };
    if (type == MV_MQTTREADABLEDATATYPE_CONNECTRESPONSE) {
        status = mvMqttReadConnectResponse(ch, &resp);
    }
    printf("mqtt-demo: %s: connect status %u state %u reason %" PRIu32 "\n", step, (unsigned)status,
           (unsigned)resp.request_state, resp.reason_code);
    return type == MV_MQTTREADABLEDATATYPE_CONNECTRESPONSE && resp.request_state == 0 && resp.reason_code == 0;
}

/* Reads the received message waiting, prints it, acknowledges it at QoS 1. */
static void read_message(const char *step, MvChannelHandle ch)
{
    char topic[65] = { 0 };
    char payload[129] = { 0 };
    uint32_t id = 0, topic_len = 0, payload_len = 0, qos = 9;
    uint8_t retain = 9;
    struct MvMqttMessage m = { &id, { (uint8_t *)topic, sizeof topic - 1u, &topic_len },
                               { (uint8_t *)payload, sizeof payload - 1u, &payload_len }, &qos, &retain };
    enum MvStatus status = mvMqttReceiveMessage(ch, &m);
    printf("mqtt-demo: %s: received status %u topic %s payload %s qos %" PRIu32 " retain %u\n", step,
           (unsigned)status, topic, payload, qos, (unsigned)retain);
    if (status == MV_STATUS_OKAY && qos == 1u) {
        printf("mqtt-demo: %s: acknowledged status %u\n", step, (unsigned)mvMqttAcknowledgeMessage(ch, id));
    }
}

static void read_publish_response(const char *step, MvChannelHandle ch)
{
    struct MvMqttPublishResponse resp = { .request_state = 99 };
    enum MvStatus status = mvMqttReadPublishResponse(ch, &resp);
    printf("mqtt-demo: %s: publish status %u state %u correlation %" PRIu32 "\n", step, (unsigned)status,
           (unsigned)resp.request_state, resp.correlation_id);
}

/* Handles items until `responses` publish responses and `messages` messages
 * have come, in whatever order the broker sends them (a QoS 1 message may
 * come back before its own PUBACK). */
static void take(const char *step, MvChannelHandle ch, unsigned responses, unsigned messages)
{
    while (responses + messages > 0) {
        enum MvMqttReadableDataType type = next_item(ch);
        if (type == MV_MQTTREADABLEDATATYPE_PUBLISHRESPONSE && responses > 0) {
            read_publish_response(step, ch);
            responses--;
        } else if (type == MV_MQTTREADABLEDATATYPE_MESSAGERECEIVED && messages > 0) {
            read_message(step, ch);
            messages--;
        } else {
            printf("mqtt-demo: %s: unexpected item %u\n", step, (unsigned)type);
            return;
        }
    }
}

/* Publishes; with echo, its own message comes back too (subscribed). */
static void publish(const char *step, MvChannelHandle ch, const char *topic, const char *payload, uint32_t qos,
                    uint32_t correlation, bool echo)
{
    struct MvMqttPublishRequest r = {
        .correlation_id = correlation, .topic = { (const uint8_t *)topic, (uint32_t)strlen(topic) },
        .payload = { (const uint8_t *)payload, (uint32_t)strlen(payload) }, .desired_qos = qos,
    };
    enum MvStatus status = mvMqttRequestPublish(ch, &r);
    if (status != MV_STATUS_OKAY) {
        printf("mqtt-demo: %s: publish status %u\n", step, (unsigned)status);
        return;
    }
    take(step, ch, 1, echo ? 1u : 0u);
}

/* The documented errors, each leaving the app's outputs as they were. */
static void errors(MvChannelHandle ch)
{
    uint32_t sentinel = 0x5a5a5a5au;
    struct MvMqttConnectResponse resp = { .request_state = 0x5a, .reason_code = sentinel };
    printf("mqtt-demo: errors: bad handle %u\n",
           (unsigned)mvMqttReadConnectResponse((MvChannelHandle)(uintptr_t)0x1234u, &resp));
    printf("mqtt-demo: errors: nothing to read %u\n", (unsigned)mvMqttReadConnectResponse(ch, &resp));
    struct MvMqttConnectRequest r = connect_request(PASSWORD);
    r.authentication.method = MV_MQTTAUTHENTICATIONMETHOD_NONE;
    printf("mqtt-demo: errors: credentials without a method %u\n", (unsigned)mvMqttRequestConnect(ch, &r));
    r = connect_request(PASSWORD);
    r.host.length = 0;
    printf("mqtt-demo: errors: no host %u\n", (unsigned)mvMqttRequestConnect(ch, &r));
    struct MvMqttSubscription subs[9] = { 0 };
    struct MvMqttSubscribeRequest sr = { 1, subs, 9 };
    printf("mqtt-demo: errors: 9 subscriptions %u\n", (unsigned)mvMqttRequestSubscribe(ch, &sr));
    printf("mqtt-demo: errors: acknowledge unknown %u\n", (unsigned)mvMqttAcknowledgeMessage(ch, 77));
    printf("mqtt-demo: errors: outputs untouched %s\n",
           resp.request_state == 0x5a && resp.reason_code == sentinel ? "yes" : "NO");
}

static void subscribe(MvChannelHandle ch, bool on)
{
    struct MvMqttSubscription sub = { .topic = S("bulwark/demo/#"), .desired_qos = 1 };
    struct MvSizedString topic = S("bulwark/demo/#");
    struct MvMqttSubscribeRequest sr = { 10, &sub, 1 };
    struct MvMqttUnsubscribeRequest ur = { 11, &topic, 1 };
    enum MvStatus status = on ? mvMqttRequestSubscribe(ch, &sr) : mvMqttRequestUnsubscribe(ch, &ur);
    enum MvMqttRequestState state = 99;
    uint32_t correlation = 0, codes[8] = { 0 }, count = 0;
    struct MvMqttSubscribeResponse resp = { &state, &correlation, codes, sizeof codes, &count };
    enum MvMqttReadableDataType want =
        on ? MV_MQTTREADABLEDATATYPE_SUBSCRIBERESPONSE : MV_MQTTREADABLEDATATYPE_UNSUBSCRIBERESPONSE;
    if (status == MV_STATUS_OKAY && next_item(ch) == want) {
        status = on ? mvMqttReadSubscribeResponse(ch, &resp)
                    : mvMqttReadUnsubscribeResponse(ch, (const struct MvMqttUnsubscribeResponse *)&resp);
    }
    printf("mqtt-demo: %s: status %u state %u correlation %" PRIu32 " codes %" PRIu32 ": %" PRIu32 "\n",
           on ? "subscribe" : "unsub", (unsigned)status, (unsigned)state, correlation, count, codes[0]);
}

const char demo_name[] = "mqtt-demo";

void demo_run(void)
{
    struct MvNotificationSetup setup = { .irq = NOTIFY_IRQ, .buffer = notifications,
                                         .buffer_size = sizeof notifications };
    enum MvStatus status = mvSetupNotifications(&setup, &center);
    NVIC_IPR(NOTIFY_IRQ) = 0x80u;
    NVIC_ISER(NOTIFY_IRQ / 32u) = 1u << (NOTIFY_IRQ % 32u);
    struct MvRequestNetworkParams params = { .version = 1 };
    params.v1.notification_handle = center;
    params.v1.notification_tag = 1;
    enum MvStatus request = mvRequestNetwork(&params, &network);
    printf("mqtt-demo: started (notifications %u, network request %u)\n", (unsigned)status, (unsigned)request);

    MvChannelHandle ch = open_channel("badpass");
    (void)connect("badpass", ch, "wrong-password");
    printf("mqtt-demo: badpass: closed %u\n", (unsigned)mvCloseChannel(&ch));

    ch = open_channel("connect");
    errors(ch);
    if (connect("connect", ch, PASSWORD)) {
        subscribe(ch, true);
        publish("qos0", ch, "bulwark/demo/q0", "hello at qos 0", 0, 20, true);
        publish("qos1", ch, "bulwark/demo/q1", "hello at qos 1", 1, 21, true);
        printf("mqtt-demo: host: waiting\n");
        take("host", ch, 0, 1);
        subscribe(ch, false);
    }
    printf("mqtt-demo: cut: waiting\n");
    while (next_item(ch) != MV_MQTTREADABLEDATATYPE_NONE) {
        /* nothing else is expected until the link goes */
    }
    enum MvClosureReason reason = MV_CLOSUREREASON_NONE;
    status = mvGetChannelClosureReason(ch, &reason);
    struct MvMqttPublishRequest late = { .topic = S("bulwark/demo/late"), .payload = S("x") };
    printf("mqtt-demo: cut: channel not connected (closure reason %u, publish now %u)\n", (unsigned)reason,
           (unsigned)mvMqttRequestPublish(ch, &late));
    (void)mvCloseChannel(&ch);

    ch = open_channel("again");
    if (connect("again", ch, PASSWORD)) {
        publish("again", ch, "bulwark/demo/again", "back again", 1, 30, false);
        status = mvMqttRequestDisconnect(ch);
        struct MvMqttDisconnectResponse d = { .request_state = 99 };
        if (status == MV_STATUS_OKAY && next_item(ch) == MV_MQTTREADABLEDATATYPE_DISCONNECTRESPONSE) {
            status = mvMqttReadDisconnectResponse(ch, &d);
        }
        printf("mqtt-demo: again: disconnect status %u state %u\n", (unsigned)status, (unsigned)d.request_state);
    }
    printf("mqtt-demo: done (closed %u)\n", (unsigned)mvCloseChannel(&ch));
}
