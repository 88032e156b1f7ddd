/*
 * The kernel's MQTT 3.1.1 client session (docs/SPEC.md §13.3): one
 * connection over a connected, non-blocking bw_stream. bw_mqtt_start sends
 * CONNECT; bw_mqtt_poll does everything else (flushes queued bytes, decodes
 * the server's packets, subscribes after CONNACK, acknowledges, retransmits,
 * keeps the connection alive and decides it is dead). Events go to one
 * callback, called only from inside bw_mqtt_poll or bw_mqtt_close.
 *
 * Memory: a session is one caller-owned struct (static in the kernel) with a
 * receive buffer of BW_MQTT_RX_MAX and a send buffer of BW_MQTT_TX_MAX; no
 * heap. QoS 1 messages are not copied for retransmission: their topic and
 * payload stay the caller's and must stay valid and unchanged until the
 * message's DELIVERED or UNDELIVERED event.
 *
 * Always clean session = 1: a session never outlives its connection, so on
 * close every unacknowledged QoS 1 message is reported UNDELIVERED and the
 * caller publishes it again on the next connection. Kernel loop only.
 */
#ifndef BW_MQTT_H
#define BW_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"
#include "bw_mqtt_codec.h"
#include "bw_net_config.h"
#include "bw_stream.h"

typedef enum bw_mqtt_state {
    BW_MQTT_IDLE,          /* never started */
    BW_MQTT_CONNECTING,    /* CONNECT queued or sent, waiting for CONNACK */
    BW_MQTT_CONNECTED,     /* CONNACK accepted: publish works */
    BW_MQTT_CLOSED,        /* over: bw_mqtt_close_reason says why; start again on a new stream */
} bw_mqtt_state;

typedef enum bw_mqtt_close_reason {
    BW_MQTT_CLOSE_NONE = 0,          /* not closed */
    BW_MQTT_CLOSE_LOCAL,             /* bw_mqtt_close (DISCONNECT offered to the stream) */
    BW_MQTT_CLOSE_STREAM_CLOSED,     /* the stream reported BW_STREAM_CLOSED */
    BW_MQTT_CLOSE_STREAM_FAILED,     /* the stream reported BW_STREAM_FAILED */
    BW_MQTT_CLOSE_CONNACK_TIMEOUT,   /* no CONNACK within connack_timeout_ms */
    BW_MQTT_CLOSE_KEEPALIVE_TIMEOUT, /* nothing from the server within ping_timeout_ms of a due PINGREQ */
    BW_MQTT_CLOSE_PROTOCOL,          /* a server packet refused: bw_mqtt_protocol_error says why */
    BW_MQTT_CLOSE_REFUSED,           /* CONNACK refused: bw_mqtt_get_connack_code says why */
    BW_MQTT_CLOSE_SUBSCRIBE_FAILED,  /* SUBACK said 0x80 for a filter */
    BW_MQTT_CLOSE_COUNT
} bw_mqtt_close_reason;

typedef enum bw_mqtt_event_type {
    BW_MQTT_EV_CONNECTED,    /* CONNACK accepted; SUBSCRIBE is queued right after this event */
    BW_MQTT_EV_SUBSCRIBED,   /* SUBACK: every filter granted (granted_qos[] of the config's order) */
    BW_MQTT_EV_MESSAGE,      /* an incoming PUBLISH; its PUBACK (QoS 1) goes after the callback */
    BW_MQTT_EV_DELIVERED,    /* PUBACK for our QoS 1 message packet_id: its buffers are free */
    BW_MQTT_EV_UNDELIVERED,  /* closing with QoS 1 message packet_id unacknowledged: buffers free */
    BW_MQTT_EV_CLOSED,       /* the session closed: reason (after every UNDELIVERED) */
} bw_mqtt_event_type;

typedef struct bw_mqtt_event {
    bw_mqtt_event_type type;
    uint16_t packet_id;             /* DELIVERED, UNDELIVERED, MESSAGE (QoS 1) */
    bw_mqtt_close_reason reason;    /* CLOSED */
    /* MESSAGE: valid during the callback only; topic not terminated */
    const char *topic;
    size_t topic_len;
    const uint8_t *payload;
    size_t payload_len;
    uint8_t qos;
    bool retain;
    bool dup;
    /* SUBSCRIBED */
    const uint8_t *granted_qos;
    size_t granted_count;
} bw_mqtt_event;

/* Called from bw_mqtt_poll/bw_mqtt_close. It may call bw_mqtt_publish (on
 * CONNECTED, DELIVERED, MESSAGE, ...) but must not start or close the session. */
typedef void (*bw_mqtt_event_fn)(void *ctx, const bw_mqtt_event *event);

/* A session's parameters. Strings are NUL-terminated; the struct and every
 * string it points to must outlive the session. Timers left 0 take the
 * defaults of bw_net_config.h. */
typedef struct bw_mqtt_config {
    const char *client_id;
    const char *user_name;           /* NULL: none (the broker takes the TLS identity) */
    const char *will_topic;          /* NULL: no will */
    const uint8_t *will_payload;
    size_t will_len;
    uint8_t will_qos;                /* 0 or 1 */
    bool will_retain;
    uint16_t keepalive_s;            /* 0: BW_MQTT_KEEPALIVE_S */
    const char *const *subscriptions;   /* filters, subscribed at QoS 1 after CONNACK */
    size_t subscription_count;       /* 0..BW_MQTT_SUBSCRIPTIONS_MAX */
    uint32_t connack_timeout_ms;
    uint32_t ping_timeout_ms;
    uint32_t retry_ms;
    bw_mqtt_event_fn on_event;
    void *ctx;
} bw_mqtt_config;

typedef struct bw_mqtt_inflight {
    const char *topic;               /* NULL: slot free */
    size_t topic_len;
    const uint8_t *payload;
    size_t payload_len;
    uint64_t sent_ms;                /* when its last copy was queued */
    uint16_t packet_id;
    bool retain;
} bw_mqtt_inflight;

typedef struct bw_mqtt_stats {
    uint32_t packets_in;
    uint32_t packets_out;            /* packets queued (retransmissions included) */
    uint32_t pings;                  /* PINGREQs queued */
    uint32_t pongs;                  /* PINGRESPs received */
    uint32_t retransmissions;
    uint32_t stray_acks;             /* PUBACK/UNSUBACK for no message in flight (ignored) */
} bw_mqtt_stats;

/* A session. Its fields are private: use the functions below. */
typedef struct bw_mqtt {
    const bw_mqtt_config *config;
    const bw_stream *stream;
    bw_mqtt_state state;
    bw_mqtt_close_reason reason;
    bw_mqtt_error protocol_error;
    uint8_t connack_code;
    bool subscribe_pending;          /* SUBSCRIBE not queued yet (tx was full) */
    bool subscribed;
    bool held;                       /* an incoming QoS 1 PUBLISH waits for room for its PUBACK */
    bool ping_due;                   /* keepalive fell due; any server packet clears it */
    bool ping_queued;                /* its PINGREQ is in tx */
    uint16_t subscribe_id;
    uint16_t next_id;
    uint64_t started_ms;
    uint64_t last_tx_ms;             /* the stream last took bytes */
    uint64_t ping_due_ms;            /* when the pending PINGREQ fell due */
    uint32_t keepalive_ms;
    uint32_t connack_timeout_ms;
    uint32_t ping_timeout_ms;
    uint32_t retry_ms;
    bw_mqtt_packet held_packet;
    bw_mqtt_inflight inflight[BW_MQTT_INFLIGHT_MAX];
    size_t tx_len;                   /* bytes queued in tx */
    size_t tx_off;                   /* of which the stream has taken this many */
    uint8_t tx[BW_MQTT_TX_MAX];
    bw_mqtt_decoder rx;
    bw_mqtt_stats stats;
} bw_mqtt;

/* Begins a session over a connected stream: checks the config and queues
 * CONNECT (the next bw_mqtt_poll sends it). BW_E_IN_USE while the session
 * is CONNECTING or CONNECTED, BW_E_INVALID for a bad config (the
 * session stays as it was), BW_E_SIZE if CONNECT does not fit BW_MQTT_TX_MAX.
 * A session may be started again once CLOSED (or IDLE), on a new stream. */
bw_err bw_mqtt_start(bw_mqtt *s, const bw_mqtt_config *config, const bw_stream *stream,
                     uint64_t now_ms);

/* Drives the session: call on every pass of the kernel loop. Never blocks;
 * may emit events. Does nothing unless CONNECTING or CONNECTED. */
void bw_mqtt_poll(bw_mqtt *s, uint64_t now_ms);

/* Queues a PUBLISH (CONNECTED only; the next bw_mqtt_poll sends it).
 * QoS 0: the data are copied, free on return. QoS 1: *packet_id receives its identifier; topic and payload must
 * stay valid until its DELIVERED/UNDELIVERED event. BW_E_FULL: no room now
 * (send buffer or BW_MQTT_INFLIGHT_MAX), try again later; BW_E_SIZE: can
 * never fit (a packet must leave 4 bytes of BW_MQTT_TX_MAX for a PUBACK);
 * BW_E_UNAVAILABLE: not connected; BW_E_INVALID: bad topic or QoS. */
bw_err bw_mqtt_publish(bw_mqtt *s, const char *topic, const uint8_t *payload, size_t len,
                       uint8_t qos, bool retain, uint16_t *packet_id, uint64_t now_ms);

/* Ends the session from our side: offers DISCONNECT to the stream once
 * (best effort; the caller closes the stream after), reports the
 * unacknowledged messages UNDELIVERED, then CLOSED (reason LOCAL). No-op
 * unless CONNECTING or CONNECTED. */
void bw_mqtt_close(bw_mqtt *s);

bw_mqtt_state bw_mqtt_get_state(const bw_mqtt *s);

/* True once the broker granted every subscription of the config (at once
 * for a config with none): the session can receive its downlink. */
bool bw_mqtt_is_subscribed(const bw_mqtt *s);

/* Why the session closed (BW_MQTT_CLOSE_NONE while it has not). */
bw_mqtt_close_reason bw_mqtt_get_close_reason(const bw_mqtt *s);

/* For CLOSE_PROTOCOL: which check the server's bytes failed. */
bw_mqtt_error bw_mqtt_protocol_error(const bw_mqtt *s);

/* For CLOSE_REFUSED: the CONNACK return code (bw_mqtt_connack_code). */
uint8_t bw_mqtt_get_connack_code(const bw_mqtt *s);

/* Counters since the last bw_mqtt_start. */
const bw_mqtt_stats *bw_mqtt_get_stats(const bw_mqtt *s);

/* Short fixed text for a close reason, e.g. "keepalive timeout". */
const char *bw_mqtt_close_text(bw_mqtt_close_reason reason);

#endif
