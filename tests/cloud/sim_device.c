/*
 * sim_device: a simulated device for the cloud tests, a real MQTT 3.1.1
 * client over TLS with its device certificate (libmosquitto). Driven by
 * lines on stdin, reporting on stdout (one line per event, flushed):
 *   in:  pub <topic> <hex payload>   publish QoS 1; prints "puback <mid>"
 *        sub <topic>                 subscribe QoS 1; prints "suback <mid>"
 *        quit                        disconnect cleanly (no will)
 *   out: connected <rc>, msg <topic> <hex>, disconnected <rc>
 * Options: --host H --port P --cafile F --cert F --key F --id ID
 *          [--will-topic T --will-hex HEX] (the will is set before CONNECT).
 * The test kills it with SIGKILL to make the broker send the will.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
    printf("connected %d\n", rc);
    fflush(stdout);
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
    printf("disconnected %d\n", rc);
    fflush(stdout);
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
    printf("puback %d\n", mid);
    fflush(stdout);
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int count, const int *granted)
{
    printf("suback %d %d\n", mid, count > 0 ? granted[0] : -1);
    fflush(stdout);
}

/* One fputs per line: the main thread prints too, and stdio locks per call. */
static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    static char line[140000];
    static const char digits[] = "0123456789abcdef";
    int n = snprintf(line, sizeof line, "msg %s ", msg->topic);
    for (int i = 0; i < msg->payloadlen && n + 3 < (int)sizeof line; i++) {
        unsigned char b = ((const unsigned char *)msg->payload)[i];
        line[n++] = digits[b >> 4];
        line[n++] = digits[b & 15];
    }
    line[n++] = '\n';
    line[n] = '\0';
    fputs(line, stdout);
    fflush(stdout);
}

static size_t unhex(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = 0;
    for (; hex[0] && hex[1] && n < cap; hex += 2) {
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1) break;
        out[n++] = (unsigned char)v;
    }
    return n;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "host", 1, 0, 'h' }, { "port", 1, 0, 'p' }, { "cafile", 1, 0, 'a' }, { "cert", 1, 0, 'c' },
        { "key", 1, 0, 'k' }, { "id", 1, 0, 'i' }, { "will-topic", 1, 0, 't' }, { "will-hex", 1, 0, 'w' },
        { 0, 0, 0, 0 },
    };
    const char *host = "127.0.0.1", *ca = NULL, *cert = NULL, *key = NULL, *id = NULL, *will_topic = NULL,
               *will_hex = "";
    int port = 8883;
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        switch (c) {
        case 'h': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'a': ca = optarg; break;
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'i': id = optarg; break;
        case 't': will_topic = optarg; break;
        case 'w': will_hex = optarg; break;
        default: fprintf(stderr, "sim_device: bad option\n"); return 2;
        }
    }
    mosquitto_lib_init();
    struct mosquitto *m = mosquitto_new(id, true, NULL);
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    if (mosquitto_tls_set(m, ca, NULL, cert, key, NULL) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "sim_device: TLS set-up failed\n");
        return 1;
    }
    static unsigned char buf[65536];
    if (will_topic != NULL) {
        size_t n = unhex(will_hex, buf, sizeof buf);
        mosquitto_will_set(m, will_topic, (int)n, buf, 1, false);
    }
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_disconnect_callback_set(m, on_disconnect);
    mosquitto_publish_callback_set(m, on_publish);
    mosquitto_subscribe_callback_set(m, on_subscribe);
    mosquitto_message_callback_set(m, on_message);
    int rc = mosquitto_connect(m, host, port, 60);
    if (rc != MOSQ_ERR_SUCCESS) {
        printf("connect-failed %s\n", mosquitto_strerror(rc));
        fflush(stdout);
        return 1;
    }
    mosquitto_loop_start(m);
    static char line[140000];
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        char *cmd = strtok(line, " "), *topic = strtok(NULL, " "), *hex = strtok(NULL, " ");
        if (cmd == NULL) continue;
        if (strcmp(cmd, "quit") == 0) break;
        int mid = 0;
        if (strcmp(cmd, "pub") == 0 && topic != NULL) {
            size_t n = unhex(hex != NULL ? hex : "", buf, sizeof buf);
            rc = mosquitto_publish(m, &mid, topic, (int)n, buf, 1, false);
        } else if (strcmp(cmd, "sub") == 0 && topic != NULL) {
            rc = mosquitto_subscribe(m, &mid, topic, 1);
        } else {
            rc = MOSQ_ERR_INVAL;
        }
        printf("%s %d %s\n", rc == 0 ? "sent" : "error", mid, rc == 0 ? cmd : mosquitto_strerror(rc));
        fflush(stdout);
    }
    mosquitto_disconnect(m);
    mosquitto_loop_stop(m, false);
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
    return 0;
}
