/*
 * broker.h over libmosquitto: TLS with bulwarkd's certificate, MQTT 3.1.1,
 * a persistent session (the broker queues QoS 1 messages while bulwarkd is
 * away), one network thread of our own (network_thread) around the
 * library's reconnecting loop. Subscriptions are remembered and made again
 * on every CONNACK: a broker that lost the session (no persistence, or a
 * shared subscription after its restart) gets them back.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>

#include "broker.h"

#define MAX_SUBSCRIPTIONS 8u

struct broker {
    struct mosquitto *mosq;
    broker_config config;
    pthread_t thread;
    bool thread_started;
    atomic_bool stopping;
    atomic_uint retry_s;       /* the next wait after an error loop_forever gives up on */
    pthread_mutex_t lock;
    char subscriptions[MAX_SUBSCRIPTIONS][256];
    int qos[MAX_SUBSCRIPTIONS];
    unsigned subscription_count;
    bool connected;
};

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    broker *b = obj;
    if (rc != 0) {
        fprintf(stderr, "bulwarkd: broker refused the connection: %s\n", mosquitto_connack_string(rc));
        return;
    }
    atomic_store(&b->retry_s, 1u);
    pthread_mutex_lock(&b->lock);
    b->connected = true;
    for (unsigned i = 0; i < b->subscription_count; i++) {
        mosquitto_subscribe(mosq, NULL, b->subscriptions[i], b->qos[i]);
    }
    pthread_mutex_unlock(&b->lock);
    fprintf(stderr, "bulwarkd: connected to the broker %s:%d\n", b->config.host, b->config.port);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
    broker *b = obj;
    pthread_mutex_lock(&b->lock);
    b->connected = false;
    pthread_mutex_unlock(&b->lock);
    if (rc != 0) {
        fprintf(stderr, "bulwarkd: lost the broker (%s); reconnecting\n", mosquitto_strerror(rc));
    }
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m)
{
    broker *b = obj;
    b->config.on_message(b->config.context, m->topic, m->payload, (size_t)m->payloadlen);
}

/* The network thread. mosquitto_loop_forever reconnects by itself after a
 * lost connection, but returns for good on some errors (a TLS handshake
 * that fails, e.g. against a broker with another CA's certificate; a
 * protocol error): then this waits (1 s doubling to 30 s, reset by a
 * CONNACK) and starts it again, so bulwarkd never stays off the broker. */
static void *network_thread(void *arg)
{
    broker *b = arg;
    while (!atomic_load(&b->stopping)) {
        int rc = mosquitto_loop_forever(b->mosq, 1000, 1);
        if (atomic_load(&b->stopping)) {
            break;
        }
        unsigned wait_s = atomic_load(&b->retry_s);
        fprintf(stderr, "bulwarkd: broker %s:%d: %s; retrying in %u s\n", b->config.host, b->config.port,
                mosquitto_strerror(rc), wait_s);
        for (unsigned i = 0; i < wait_s * 10u && !atomic_load(&b->stopping); i++) {
            usleep(100000);
        }
        atomic_store(&b->retry_s, wait_s * 2u > 30u ? 30u : wait_s * 2u);
        (void)mosquitto_reconnect(b->mosq);   /* a failure shows as loop_forever's next error */
    }
    return NULL;
}

broker *broker_start(const broker_config *config, char *err, size_t err_size)
{
    mosquitto_lib_init();
    broker *b = calloc(1, sizeof *b);
    if (b == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    b->config = *config;
    pthread_mutex_init(&b->lock, NULL);
    /* A persistent session (clean session 0): while bulwarkd is away the
     * broker queues the devices' QoS 1 uplink for it. */
    b->mosq = mosquitto_new(config->client_id, false, b);
    int rc = b->mosq != NULL ? MOSQ_ERR_SUCCESS : MOSQ_ERR_NOMEM;
    if (rc == MOSQ_ERR_SUCCESS) {
        mosquitto_int_option(b->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
        mosquitto_threaded_set(b->mosq, true);   /* publishes come from the API's threads */
        /* Small messages (an answer right after a PUBACK) go out at once:
         * Nagle's algorithm held each until the broker's delayed ACK. */
        mosquitto_int_option(b->mosq, MOSQ_OPT_TCP_NODELAY, 1);
        rc = mosquitto_tls_set(b->mosq, config->ca_file, NULL, config->cert_file, config->key_file, NULL);
    }
    if (rc == MOSQ_ERR_SUCCESS) {
        rc = mosquitto_tls_opts_set(b->mosq, 1, "tlsv1.2", NULL);
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        snprintf(err, err_size, "TLS set-up (%s, %s, %s): %s", config->ca_file, config->cert_file,
                 config->key_file, mosquitto_strerror(rc));
        broker_stop(b);
        return NULL;
    }
    mosquitto_connect_callback_set(b->mosq, on_connect);
    mosquitto_disconnect_callback_set(b->mosq, on_disconnect);
    mosquitto_message_callback_set(b->mosq, on_message);
    mosquitto_reconnect_delay_set(b->mosq, 1, 30, true);
    mosquitto_max_inflight_messages_set(b->mosq, 100);
    /* connect_async + the network thread: a broker that is not up yet is retried. */
    rc = mosquitto_connect_async(b->mosq, config->host, config->port, 60);
    if (rc != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "bulwarkd: broker %s:%d: %s; retrying\n", config->host, config->port,
                mosquitto_strerror(rc));
    }
    atomic_store(&b->retry_s, 1u);
    if (pthread_create(&b->thread, NULL, network_thread, b) != 0) {
        snprintf(err, err_size, "cannot start the broker thread");
        broker_stop(b);
        return NULL;
    }
    b->thread_started = true;
    return b;
}

int broker_subscribe(broker *b, const char *topic_filter, int qos)
{
    pthread_mutex_lock(&b->lock);
    int rc = -1;
    if (b->subscription_count < MAX_SUBSCRIPTIONS && strlen(topic_filter) < sizeof b->subscriptions[0]) {
        snprintf(b->subscriptions[b->subscription_count], sizeof b->subscriptions[0], "%s", topic_filter);
        b->qos[b->subscription_count++] = qos;
        rc = 0;
        if (b->connected) {
            mosquitto_subscribe(b->mosq, NULL, topic_filter, qos);
        }
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

int broker_publish(broker *b, const char *topic, const void *payload, size_t len, int qos)
{
    return mosquitto_publish(b->mosq, NULL, topic, (int)len, payload, qos, false) == MOSQ_ERR_SUCCESS ? 0 : -1;
}

bool broker_connected(broker *b)
{
    pthread_mutex_lock(&b->lock);
    bool connected = b->connected;
    pthread_mutex_unlock(&b->lock);
    return connected;
}

void broker_stop(broker *b)
{
    if (b == NULL) {
        return;
    }
    atomic_store(&b->stopping, true);
    if (b->mosq != NULL) {
        mosquitto_disconnect(b->mosq);
        if (b->thread_started) {
            pthread_cancel(b->thread);   /* as mosquitto_loop_stop(force) does */
            pthread_join(b->thread, NULL);
        }
        mosquitto_destroy(b->mosq);
    }
    pthread_mutex_destroy(&b->lock);
    free(b);
    mosquitto_lib_cleanup();
}
