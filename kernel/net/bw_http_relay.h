/*
 * The channel relays' device side. HTTP (docs/SPEC.md §16): carries the
 * request streams of the app's HTTP channels (bw_http.h) to the cloud as
 * HTTP_REQUEST pieces and feeds the cloud's HTTP_RESPONSE pieces back; the
 * same for CONFIGFETCH channels with CONFIG_REQUEST/_RESPONSE (§17). MQTT
 * (§18): the same with MQTT_UP / MQTT_DOWN pieces of the MQTT channels'
 * operation and event streams (bw_appmqtt.h). Everything a piece claims is
 * checked by bw_http_response_piece / bw_appmqtt_event_piece; the relay
 * only moves bytes and counts. Kernel loop only.
 */
#ifndef BW_HTTP_RELAY_H
#define BW_HTTP_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "bw_cloud_proto.h"
#include "bw_err.h"

/* Publishes one HTTP_REQUEST payload at QoS 0 on bw/D/up/http, or a
 * CONFIG_REQUEST on bw/D/up/config (SPEC §17; payload[1] says which),
 * copied. BW_OK, BW_E_FULL when the session takes nothing more now, another
 * error when it is gone. */
typedef bw_err (*bw_http_relay_publish_fn)(const uint8_t *payload, size_t len);

/* Sends waiting request pieces until none waits or publish refuses one (it
 * is sent again on a later pass). Call only once this session's STATUS is out. */
void bw_http_relay_pump(bw_http_relay_publish_fn publish);

/* An HTTP_RESPONSE or CONFIG_RESPONSE (type) piece arrived (decoded:
 * bw_cloud_decode_down). */
void bw_http_relay_received(uint8_t type, const bw_cloud_http_piece *piece);

/* Ends requests whose deadline passed; call every kernel loop pass, online or not. */
void bw_http_relay_poll(uint64_t now_us);

typedef struct bw_http_relay_counters {
    uint32_t pieces_sent;
    uint32_t pieces_received;    /* handed to a waiting request */
    uint32_t pieces_dropped;     /* for no waiting request (closed, answered, late) */
    uint32_t pieces_refused;     /* broke §16.3: the request ended as REQUESTFAILED */
} bw_http_relay_counters;

const bw_http_relay_counters *bw_http_relay_stats(void);

/* MQTT: publish sends MQTT_UP on bw/D/up/mqtt; the rest as for HTTP. */
void bw_mqtt_relay_pump(bw_http_relay_publish_fn publish);
void bw_mqtt_relay_received(const bw_cloud_http_piece *piece);
const bw_http_relay_counters *bw_mqtt_relay_stats(void);

#endif
