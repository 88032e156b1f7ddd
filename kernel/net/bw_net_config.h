/*
 * Network stack configuration: every buffer size, table size and timeout of
 * kernel/net in one place, each with a default a board (or a test build) may
 * override with -D before this header is included. The protocol facts these
 * values implement are in docs/SPEC.md §13.3.
 */
#ifndef BW_NET_CONFIG_H
#define BW_NET_CONFIG_H

/* ---- MQTT client (bw_mqtt.h, bw_mqtt_codec.h) ---- */

/* Largest incoming MQTT packet body (variable header + payload) the client
 * accepts, in bytes: the decoder's static buffer. A server packet that
 * announces more is a protocol error that closes the connection. */
#ifndef BW_MQTT_RX_MAX
#define BW_MQTT_RX_MAX 2048
#endif

/* Bytes of encoded packets waiting for the stream (one static buffer per
 * session). A PUBLISH must fit in it whole, fixed header included. */
#ifndef BW_MQTT_TX_MAX
#define BW_MQTT_TX_MAX 2048
#endif

/* QoS 1 messages published and not yet acknowledged, per session. */
#ifndef BW_MQTT_INFLIGHT_MAX
#define BW_MQTT_INFLIGHT_MAX 4
#endif

/* Topic filters one session subscribes to after its CONNACK. */
#ifndef BW_MQTT_SUBSCRIPTIONS_MAX
#define BW_MQTT_SUBSCRIPTIONS_MAX 4
#endif

/* Defaults of a session's timers (bw_mqtt_config fields left 0). */
#ifndef BW_MQTT_KEEPALIVE_S
#define BW_MQTT_KEEPALIVE_S 60
#endif
#ifndef BW_MQTT_CONNACK_TIMEOUT_MS
#define BW_MQTT_CONNACK_TIMEOUT_MS 15000
#endif
/* After a PINGREQ falls due, the server has this long to send anything. */
#ifndef BW_MQTT_PING_TIMEOUT_MS
#define BW_MQTT_PING_TIMEOUT_MS 15000
#endif
/* An unacknowledged QoS 1 PUBLISH is sent again (DUP) after this long. */
#ifndef BW_MQTT_RETRY_MS
#define BW_MQTT_RETRY_MS 20000
#endif

/* Packets one bw_mqtt_poll decodes at most, so one pass of the kernel loop
 * stays short however fast the server sends. */
#ifndef BW_MQTT_PACKETS_PER_POLL
#define BW_MQTT_PACKETS_PER_POLL 8
#endif

/* ---- reconnect backoff (bw_backoff.h) ---- */

#ifndef BW_BACKOFF_MIN_MS
#define BW_BACKOFF_MIN_MS 1000
#endif
#ifndef BW_BACKOFF_MAX_MS
#define BW_BACKOFF_MAX_MS 120000
#endif
/* A connection that stayed up this long resets the backoff to its minimum. */
#ifndef BW_BACKOFF_STABLE_MS
#define BW_BACKOFF_STABLE_MS 60000
#endif

/* ---- over-the-air updates (bw_ota.h, docs/SPEC.md §15) ---- */

/* FETCHes unanswered at once, and bundle bytes asked for by one FETCH (a
 * CHUNK of this many with its topic fits BW_MQTT_RX_MAX). */
#ifndef BW_OTA_WINDOW
#define BW_OTA_WINDOW 4
#endif
#ifndef BW_OTA_CHUNK
#define BW_OTA_CHUNK 1792
#endif
/* An unanswered FETCH is asked again after this long. */
#ifndef BW_OTA_RETRY_MS
#define BW_OTA_RETRY_MS 10000
#endif
/* Before it installs, the device lets its UPDATE "installing" reach the
 * cloud (its PUBACK) for at most this long: the install holds the kernel
 * loop, and a report queued behind it would be replaced by the outcome. */
#ifndef BW_OTA_NOTICE_MS
#define BW_OTA_NOTICE_MS 3000
#endif
/* UPDATE downloading: at most this often (and at each tenth of the bundle). */
#ifndef BW_OTA_PROGRESS_MS
#define BW_OTA_PROGRESS_MS 2000
#endif

#endif
