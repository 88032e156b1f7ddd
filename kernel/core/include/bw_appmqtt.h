/*
 * MQTT over a channel of type MQTT: a session with the app's own broker that
 * the cloud holds for the app (docs/DESIGN.md "Channels", docs/SPEC.md §18).
 *
 * Requests (connect, subscribe, unsubscribe, publish) are serialized as
 * operation streams into the channel's send buffer, one after the other;
 * acknowledge, disconnect and the close of a gone channel are head-only
 * streams built in kernel RAM. The relay (kernel loop) sends them piece by
 * piece and feeds the cloud's event streams back: responses stay in kernel
 * RAM, a message's topic and payload land in the receive buffer. What the app
 * can read is a FIFO of at most BW_MQTT_ITEMS_MAX items; each request keeps a
 * place for its response, so responses are never dropped.
 *
 * Requests the kernel can judge (field bounds; the session not connected)
 * succeed and queue their response at once (INVALIDPARAMETERS,
 * NOTCONNECTED). An event stream that breaks §18.3 ends the channel with
 * UNEXPECTEDLYTERMINATED. Every function takes port_irq_lock itself.
 */
#ifndef BW_APPMQTT_H
#define BW_APPMQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_config.h"
#include "bw_err.h"
#include "bw_http.h"
#include "mv_syscalls.h"

#define BW_MQTT_HEAD          8u     /* §18.1: every stream's head */
#define BW_MQTT_TOPIC_MAX     256u
#define BW_MQTT_HOST_MAX      253u
#define BW_MQTT_CLIENTID_MAX  128u
#define BW_MQTT_CRED_MAX      256u   /* user name, password */
#define BW_MQTT_WILL_MAX      1024u
#define BW_MQTT_PEM_MAX       8192u  /* one certificate or key */

/* Stream kinds (§18.2, §18.3). */
enum {
    BW_MQTT_OP_CONNECT = 1, BW_MQTT_OP_SUBSCRIBE, BW_MQTT_OP_UNSUBSCRIBE, BW_MQTT_OP_PUBLISH,
    BW_MQTT_OP_ACK, BW_MQTT_OP_DISCONNECT, BW_MQTT_OP_CLOSE,
};
#define BW_MQTT_EVENT_CLOSED 8u      /* the other event kinds are enum MvMqttReadableDataType */

/* A connect request: kernel copies of the app's struct and of what it points
 * to (tls: NULL for none; will: NULL for none; at most BW_MQTT_CERTS_MAX
 * certificates in each array, counts as in *tls). */
typedef struct bw_appmqtt_connect_req {
    struct MvMqttConnectRequest r;
    const struct MvTlsCredentials *tls;
    const struct MvSizedString *ca;
    const struct MvSizedString *chain;
    const struct MvMqttWill *will;
} bw_appmqtt_connect_req;

/* Requests. Common errors, checked in this order: BW_E_HANDLE;
 * BW_E_UNAVAILABLE (not an MQTT channel); BW_E_FAULT (a string not
 * app-readable); BW_E_CLOSED; BW_E_RATE (BW_MQTT_PENDING_MAX requests wait,
 * another (un)subscribe waits, or the send buffer still holds earlier ones);
 * BW_E_SIZE (the stream could never fit the send buffer). On error nothing
 * changed. */

/* Also BW_E_ALREADY (a connect was made on this channel), BW_E_REQUIRED (no
 * host), BW_E_AUTH (an unknown method, or credentials with method NONE). */
bw_err bw_appmqtt_connect(uint32_t handle, const bw_appmqtt_connect_req *req);
bw_err bw_appmqtt_subscribe(uint32_t handle, uint32_t correlation_id, const struct MvMqttSubscription *subs,
                         uint32_t count);
bw_err bw_appmqtt_unsubscribe(uint32_t handle, uint32_t correlation_id, const struct MvSizedString *topics,
                           uint32_t count);
bw_err bw_appmqtt_publish(uint32_t handle, const struct MvMqttPublishRequest *request);
bw_err bw_appmqtt_disconnect(uint32_t handle);

/* Acknowledges a read QoS 1 message. BW_E_NOT_ACKABLE if correlation_id is
 * none of them; BW_E_HANDLE, BW_E_UNAVAILABLE, BW_E_CLOSED, BW_E_RATE. */
bw_err bw_appmqtt_acknowledge(uint32_t handle, uint32_t correlation_id);

/* The oldest readable item's kind (NONE when empty). BW_E_HANDLE, BW_E_UNAVAILABLE. */
bw_err bw_appmqtt_next_type(uint32_t handle, enum MvMqttReadableDataType *type);

/* One readable item as the reader sees it; rx: the receive buffer's address. */
typedef struct bw_appmqtt_readable {
    enum MvMqttReadableDataType kind;
    enum MvMqttRequestState state;
    uint32_t correlation_id;
    uint32_t value;            /* reason/disconnect code; MESSAGELOST: the message's length */
    uint32_t qos, retain;
    const uint8_t *codes;
    uint32_t codes_len;
    uintptr_t topic;           /* app addresses inside the receive buffer */
    uint32_t topic_len;
    uintptr_t payload;
    uint32_t payload_len;
} bw_appmqtt_readable;

/* Writes an item to the app; BW_OK takes it off the FIFO, anything else
 * leaves it (and must leave the app's memory as it was). Runs under
 * port_irq_lock: copies only. */
typedef bw_err (*bw_appmqtt_reader)(const bw_appmqtt_readable *item, const void *ctx);

/* Hands the oldest item to reader if it is of kind. BW_E_NOT_PRESENT (FIFO
 * empty), BW_E_WRONG_DATA (another kind first), BW_E_HANDLE,
 * BW_E_UNAVAILABLE, or the reader's error. A QoS 1 message read becomes
 * acknowledgeable (BW_E_RATE from the reader side if BW_MQTT_UNACKED_MAX
 * wait already). */
bw_err bw_appmqtt_read(uint32_t handle, enum MvMqttReadableDataType kind, bw_appmqtt_reader reader,
                    const void *ctx);

/* ---- channel lifecycle (bw_channel.c, lock held) ---- */

/* The channel is going away: the cloud is told to end its session. */
void bw_appmqtt_channel_gone(uint32_t session_id);

/* A fresh session ID (never 0): a counter started at a random value. */
uint32_t bw_appmqtt_new_session_id(void);

/* ---- the relay's side (kernel loop) ---- */

/* Copies the next unsent piece of some operation stream (at most cap bytes)
 * into buf; piece->request_id is the session ID. False when nothing waits. */
bool bw_appmqtt_next_piece(uint8_t *buf, size_t cap, bw_http_piece *piece);

/* The piece went out. */
void bw_appmqtt_piece_sent(const bw_http_piece *piece);

/* A piece of an event stream for session_id. BW_E_HANDLE: no open MQTT
 * channel holds that session (dropped); BW_E_INVALID: it broke §18.3 and
 * ended the channel. */
bw_err bw_appmqtt_event_piece(uint32_t session_id, uint32_t offset, uint32_t total, const uint8_t *data,
                           size_t len);

/* Forgets the close queue. Kernel start only. */
void bw_appmqtt_reset(void);

#endif
