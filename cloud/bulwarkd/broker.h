/*
 * bulwarkd's one view of the message broker: connect, subscribe, publish and
 * a message callback. broker_mosquitto.c implements it with libmosquitto; a
 * clustered broker (RabbitMQ's MQTT plugin, ...) would be another file behind
 * the same functions. The implementation reconnects by itself and subscribes
 * again after each reconnect.
 */
#ifndef BULWARKD_BROKER_H
#define BULWARKD_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct broker broker;

/* Called on the broker's own thread for each message received; topic and
 * payload are valid only during the call. */
typedef void (*broker_message_fn)(void *context, const char *topic, const uint8_t *payload, size_t len);

typedef struct broker_config {
    const char *host;
    int port;
    const char *client_id;    /* "bulwarkd" (+ a suffix when several run) */
    const char *ca_file, *cert_file, *key_file;
    broker_message_fn on_message;
    void *context;
} broker_config;

/* Starts a connection (in the background; it retries until broker_stop).
 * The config's strings must outlive the broker. NULL (reason in err) on a
 * setup error such as an unreadable certificate. */
broker *broker_start(const broker_config *config, char *err, size_t err_size);

/* Adds a subscription (QoS qos), kept across reconnects. 0 or -1. */
int broker_subscribe(broker *b, const char *topic_filter, int qos);

/* Publishes (QoS 0/1, not retained); queued while disconnected. 0 or -1. */
int broker_publish(broker *b, const char *topic, const void *payload, size_t len, int qos);

/* True while connected (CONNACK accepted). */
bool broker_connected(broker *b);

/* Disconnects and frees. */
void broker_stop(broker *b);

#endif
