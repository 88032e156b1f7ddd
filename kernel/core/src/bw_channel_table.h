/*
 * The channel table, shared by bw_channel.c (open, close, byte rings),
 * bw_http.c (the HTTP exchange of a channel) and bw_appmqtt.c (the MQTT
 * session of a channel). Private to the kernel core.
 *
 * An entry is free while handle is 0 and not claimed. Fields change only
 * under port_irq_lock; readers take a snapshot under it.
 */
#ifndef BW_CHANNEL_TABLE_H
#define BW_CHANNEL_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>

#include "bw_config.h"
#include "bw_err.h"
#include "mv_syscalls.h"

typedef enum http_state {
    HTTP_IDLE,        /* no request yet */
    HTTP_BUILDING,    /* mvSendHttpRequest is writing the send buffer */
    HTTP_SENDING,     /* the relay takes the serialized request piece by piece */
    HTTP_WAITING,     /* all sent; response pieces arrive */
    HTTP_DONE,        /* data.result says how it ended; readable */
} http_state;

typedef struct bw_http_exchange {
    http_state state;
    uint32_t request_id;
    uint32_t request_len;     /* serialized bytes at the start of the send buffer */
    uint32_t sent;            /* of them, handed to the relay */
    uint64_t deadline_us;     /* REQUESTFAILED if not DONE by then */
    uint32_t total;           /* response stream length (0 until its first piece) */
    uint32_t received;        /* response stream bytes taken so far */
    uint32_t prefix;          /* response head + length table: not stored */
    struct MvHttpResponseData data;
    uint16_t header_len[BW_HTTP_HEADERS_MAX];   /* HTTP: header lines; CONFIGFETCH: values */
    /* CONFIGFETCH (bw_config_fetch.c): num_items is the request's from the send on */
    struct MvConfigResponseData config;
    uint8_t item_result[BW_CONFIG_KEYS_MAX];
} bw_http_exchange;

_Static_assert(BW_CONFIG_KEYS_MAX <= BW_HTTP_HEADERS_MAX, "config values share header_len");
/* One readable MQTT item (docs/SPEC.md §18.3): responses whole, a message's
 * topic and payload at rx offset `at` (topic first). */
typedef struct bw_appmqtt_item {
    uint8_t kind;             /* enum MvMqttReadableDataType */
    uint8_t state;            /* enum MvMqttRequestState */
    uint8_t qos;
    uint8_t retain;
    uint8_t codes_len;
    uint8_t codes[BW_MQTT_TOPICS_MAX];
    uint16_t topic_len;
    uint32_t correlation_id;
    uint32_t value;           /* reason/disconnect code; MESSAGELOST: the message's length */
    uint32_t payload_len;
    uint32_t at;
} bw_appmqtt_item;

/* An operation waiting to be sent: bytes [at, at+len) of the send buffer, or
 * (len 0) a head-only stream built from kind and correlation ID. */
typedef struct bw_appmqtt_op {
    uint8_t kind;
    uint32_t correlation_id;
    uint32_t at;
    uint32_t len;
} bw_appmqtt_op;

#define BW_MQTT_OPS_MAX (BW_MQTT_PENDING_MAX + BW_MQTT_UNACKED_MAX + 1)

typedef enum mqtt_conn {
    MQTT_IDLE,           /* no connect yet */
    MQTT_CONNECTING,
    MQTT_CONNECTED,
    MQTT_DISCONNECTING,
    MQTT_ENDED,          /* refused, disconnected: one connect per channel */
} mqtt_conn;

typedef struct bw_appmqtt_session {
    uint32_t session_id;      /* R of §18.1 */
    uint8_t conn;             /* mqtt_conn */
    uint8_t pending;          /* requests waiting for their response */
    uint8_t waiting[8];       /* of them, by response kind */
    bw_appmqtt_item items[BW_MQTT_ITEMS_MAX];
    uint8_t item_head, item_count;
    uint32_t rx_used;         /* receive-buffer bytes held by queued items */
    bw_appmqtt_op ops[BW_MQTT_OPS_MAX];
    uint8_t op_head, op_count;
    uint32_t op_sent;         /* stream bytes of ops[op_head] handed to the relay */
    uint32_t tx_used;         /* send-buffer bytes held by queued ops */
    uint32_t unacked[BW_MQTT_UNACKED_MAX];
    uint8_t unacked_count;
    uint32_t dropped;         /* messages dropped: no FIFO place at all */
    /* the event stream being reassembled */
    uint32_t in_total, in_received;
    bool in_lost;             /* a message that does not fit: only its topic is kept */
    bw_appmqtt_item in_item;
} bw_appmqtt_session;

typedef struct bw_channel_entry {
    uint32_t handle;          /* 0: free (unless claimed) */
    bool claimed;             /* an open is filling it in */
    bool connected;
    enum MvClosureReason reason;
    uint32_t center;
    uint32_t tag;
    uint32_t type;
    uintptr_t rx;
    uint32_t rx_len;
    uintptr_t tx;
    uint32_t tx_len;
    uint32_t rx_read;         /* free-running ring indices (OPAQUEBYTES) */
    uint32_t rx_write;
    uint32_t tx_read;
    uint32_t tx_write;
    bw_http_exchange http;
    bw_appmqtt_session mqtt;
} bw_channel_entry;

extern bw_channel_entry bw_channel_entries[BW_CHANNELS_MAX];

/* The entry a live channel handle names, or NULL. The caller re-checks
 * entry->handle == handle under port_irq_lock before trusting it. */
bw_channel_entry *bw_channel_entry_of(uint32_t handle);

/* The entry of a live channel of the given type, locked (the caller unlocks
 * with *state), or NULL with *err: BW_E_HANDLE, or BW_E_UNAVAILABLE for
 * another type (and the lock released). */
bw_channel_entry *bw_channel_lock(uint32_t handle, uint32_t type, uint32_t *state, bw_err *err);

/* ---- the request/response exchange shared by HTTP and CONFIGFETCH ----
 * bw_http.c moves the streams (bw_http_next_piece, bw_http_response_piece,
 * bw_http_poll); the type-specific parts are below. Lock held unless said. */

/* A fresh request ID (never 0). Lock not held. */
uint32_t bw_exchange_request_id(void);

/* A snapshot of a live channel of type's exchange, with its receive buffer:
 * BW_OK once it is done, BW_E_NOT_PRESENT while it waits, BW_E_CLOSED after
 * the link went; BW_E_HANDLE / BW_E_UNAVAILABLE as bw_channel_lock. Lock not held. */
bw_err bw_exchange_response(uint32_t handle, uint32_t type, bw_http_exchange *x, uintptr_t *rx);

/* Ends the exchange as how says (OK, REQUESTFAILED or RESPONSETOOLARGE);
 * the caller posts CHANNELDATAREADABLE after unlocking. */
void bw_exchange_finish(bw_channel_entry *e, enum MvHttpResult how);

/* CONFIGFETCH: checks and keeps a response's head and item table (§17.3). */
bool bw_config_fetch_take_head(bw_channel_entry *e, uint32_t total, const uint8_t *data, size_t len);

/* CONFIGFETCH: what a fetch that ended as how reads as (§17.3). */
void bw_config_fetch_end(bw_channel_entry *e, enum MvHttpResult how);

#endif
