/*
 * broker.h over libmosquitto: TLS with bulwarkd's certificate, MQTT 3.1.1,
 * clean session, the library's own network thread (mosquitto_loop_start)
 * reconnecting with its backoff. Subscriptions are remembered and made again
 * on every CONNACK, since a clean session forgets them.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>

#include "broker.h"

#define MAX_SUBSCRIPTIONS 8u

struct broker {
    struct mosquitto *mosq;
    broker_config config;
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
    b->mosq = mosquitto_new(config->client_id, true, b);
    int rc = b->mosq != NULL ? MOSQ_ERR_SUCCESS : MOSQ_ERR_NOMEM;
    if (rc == MOSQ_ERR_SUCCESS) {
        mosquitto_int_option(b->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
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
    /* connect_async + loop_start: a broker that is not up yet is retried. */
    rc = mosquitto_connect_async(b->mosq, config->host, config->port, 60);
    if (rc != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "bulwarkd: broker %s:%d: %s; retrying\n", config->host, config->port,
                mosquitto_strerror(rc));
    }
    rc = mosquitto_loop_start(b->mosq);
    if (rc != MOSQ_ERR_SUCCESS) {
        snprintf(err, err_size, "broker thread: %s", mosquitto_strerror(rc));
        broker_stop(b);
        return NULL;
    }
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
    if (b->mosq != NULL) {
        mosquitto_disconnect(b->mosq);
        mosquitto_loop_stop(b->mosq, true);
        mosquitto_destroy(b->mosq);
    }
    pthread_mutex_destroy(&b->lock);
    free(b);
    mosquitto_lib_cleanup();
}
