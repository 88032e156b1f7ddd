/*
 * The MQTT relay's cloud side (docs/SPEC.md §18): one libmosquitto client
 * per device channel (device D, session ID R), connected to the app's own
 * broker with the app's credentials. Operation streams are reassembled from
 * MQTT_UP pieces on the broker thread; a CONNECT is performed on a worker
 * thread (name lookup, TCP and TLS block), then the client runs its own
 * network thread (mosquitto_loop_start), whose callbacks publish responses
 * and messages as MQTT_DOWN event streams. A session is torn down on a
 * detached thread (a callback cannot stop its own loop): on CLOSE, after a
 * DISCONNECT's response, when the broker drops it, on any STATUS of the
 * device; its TLS files (a private 0700 directory) are deleted then.
 *
 * Bounds: BWD_MQTT_MAX sessions, BWD_MQTT_PER_DEVICE per device (one more
 * CONNECT is answered CONNECTIONCIRCUITBREAKER); requests waiting for the
 * broker per session: BWD_MQTT_WAITING (more: answered NOTCONNECTED; the
 * kernel never has more than 4 waiting).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "bulwarkd.h"
#include "bw_bytes.h"
#include "cloud_proto.h"

#define BWD_MQTT_MAX 64u
#define BWD_MQTT_PER_DEVICE 4u
#define BWD_MQTT_WAITING 8u

/* A request waiting for the broker: one mid per topic (subscribe/unsubscribe). */
typedef struct waiting {
    bool used;
    uint8_t kind;             /* cp_mqtt_kind */
    uint32_t correlation_id;
    uint8_t count, answered;
    int mids[CP_MQTT_TOPICS_MAX];
    uint8_t codes[CP_MQTT_TOPICS_MAX];
} waiting;

typedef struct session {
    bool used;
    bool ending;              /* torn down: callbacks send nothing more */
    bool worker;              /* the CONNECT thread still owns mosq */
    bool connecting, connected, disconnecting;
    char device[BWD_DEVICE_ID_LEN + 1];
    uint32_t id;
    uint8_t *stream;          /* the operation stream being assembled */
    uint32_t total, received;
    struct mosquitto *mosq;
    bool v5;
    char dir[64];             /* TLS files; "" when none */
    uint32_t next_message_id;
    waiting waits[BWD_MQTT_WAITING];
    bwd *d;
} session;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static session sessions[BWD_MQTT_MAX];
static pthread_once_t library_once = PTHREAD_ONCE_INIT;

static void library_init(void)
{
    mosquitto_lib_init();
}

/* ---- events to the device ---- */

static void send_event(bwd *d, const char *device, uint32_t id, const uint8_t *stream, uint32_t len)
{
    unsigned pieces = 0;
    (void)bwd_publish_stream(d, device, "mqtt", CP_TYPE_MQTT_DOWN, id, stream, len, &pieces);
}

/* A response: head, then a u32 value or the reason codes. */
static void respond(bwd *d, const char *device, uint32_t id, uint8_t kind, cp_mqtt_state state,
                    uint32_t correlation_id, uint32_t value, const uint8_t *codes, uint8_t count)
{
    uint8_t out[CP_MQTT_HEAD + CP_MQTT_TOPICS_MAX] = { CP_MQTT_EV_RESPONSE(kind), (uint8_t)state };
    bw_put32(out + 4, correlation_id);
    uint32_t len = CP_MQTT_HEAD + 4u;
    if (kind == CP_MQTT_SUBSCRIBE || kind == CP_MQTT_UNSUBSCRIBE) {
        bw_put16(out + 2, count);
        memcpy(out + CP_MQTT_HEAD, codes, count);
        len = CP_MQTT_HEAD + count;
    } else {
        bw_put32(out + CP_MQTT_HEAD, value);
    }
    send_event(d, device, id, out, len);
}

/* A request answered without the broker: (un)subscribe gets one code per topic. */
static void refuse(bwd *d, const char *device, uint32_t id, const cp_mqtt_op *op, cp_mqtt_state state)
{
    uint8_t codes[CP_MQTT_TOPICS_MAX];
    memset(codes, 0x80, sizeof codes);
    respond(d, device, id, (uint8_t)op->kind, state, op->correlation_id, 0, codes, op->count);
}

/* ---- teardown ---- */

static void *teardown_thread(void *arg)
{
    session *s = arg;   /* ending: only this thread touches mosq and dir now */
    if (s->mosq != NULL) {
        mosquitto_disconnect(s->mosq);
        mosquitto_loop_stop(s->mosq, true);
        mosquitto_destroy(s->mosq);
    }
    if (s->dir[0] != '\0') {
        static const char *const files[] = { "ca.pem", "cert.pem", "key.pem" };
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
            char path[96];
            snprintf(path, sizeof path, "%s/%s", s->dir, files[i]);
            unlink(path);
        }
        rmdir(s->dir);
    }
    pthread_mutex_lock(&lock);
    free(s->stream);
    *s = (session){ 0 };
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void spawn_teardown(session *s)
{
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&thread, &attr, teardown_thread, s) != 0) {
        fprintf(stderr, "bulwarkd: MQTT session teardown thread failed; session leaked\n");
    }
    pthread_attr_destroy(&attr);
}

/* Ends a session (lock held); a CONNECT thread still running finishes it. */
static void end_session(session *s)
{
    if (!s->used || s->ending) {
        return;
    }
    s->ending = true;
    if (!s->worker) {
        spawn_teardown(s);
    }
}

void bwd_mqtt_end_device(bwd *d, const char *device)
{
    (void)d;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < BWD_MQTT_MAX; i++) {
        if (sessions[i].used && strcmp(sessions[i].device, device) == 0) {
            end_session(&sessions[i]);
        }
    }
    pthread_mutex_unlock(&lock);
}

/* ---- libmosquitto callbacks (the session's network thread) ---- */

static void on_connect(struct mosquitto *mosq, void *ctx, int rc)
{
    (void)mosq;
    session *s = ctx;
    pthread_mutex_lock(&lock);
    bool answer = !s->ending && s->connecting;
    s->connecting = false;
    s->connected = answer && rc == 0;
    if (answer && rc != 0) {
        end_session(s);
    }
    char device[sizeof s->device];
    memcpy(device, s->device, sizeof device);
    uint32_t id = s->id;
    pthread_mutex_unlock(&lock);
    if (answer) {
        respond(s->d, device, id, CP_MQTT_CONNECT, CP_MQTT_COMPLETED, 0, (uint32_t)rc, NULL, 0);
    }
}

static void on_disconnect(struct mosquitto *mosq, void *ctx, int rc)
{
    (void)mosq;
    session *s = ctx;
    pthread_mutex_lock(&lock);
    bool asked = s->disconnecting;
    bool live = !s->ending && (s->connected || asked);
    s->connected = false;
    s->disconnecting = false;
    end_session(s);
    char device[sizeof s->device];
    memcpy(device, s->device, sizeof device);
    uint32_t id = s->id;
    pthread_mutex_unlock(&lock);
    if (live && asked) {
        respond(s->d, device, id, CP_MQTT_DISCONNECT, CP_MQTT_COMPLETED, 0, (uint32_t)rc, NULL, 0);
    } else if (live) {
        uint8_t out[CP_MQTT_HEAD + 4] = { CP_MQTT_EV_CLOSED };
        bw_put32(out + CP_MQTT_HEAD, (uint32_t)rc);
        s->d->counters.mqtt_closed++;
        send_event(s->d, device, id, out, sizeof out);
    }
}

/* The waiting request holding mid (lock held), its topic index into *at. */
static waiting *waiting_for(session *s, int mid, unsigned *at)
{
    for (size_t i = 0; i < BWD_MQTT_WAITING; i++) {
        waiting *w = &s->waits[i];
        for (unsigned t = 0; w->used && t < w->count; t++) {
            if (w->mids[t] == mid) {
                *at = t;
                return w;
            }
        }
    }
    return NULL;
}

/* A broker answer for mid: the request is answered once every topic is. */
static void answered(session *s, int mid, uint8_t code)
{
    pthread_mutex_lock(&lock);
    unsigned at = 0;
    waiting *w = s->ending ? NULL : waiting_for(s, mid, &at);
    waiting done = { 0 };
    if (w != NULL) {
        w->codes[at] = code;
        w->mids[at] = -1;
        w->answered++;
        if (w->answered == w->count) {
            done = *w;
            *w = (waiting){ 0 };
        }
    }
    char device[sizeof s->device];
    memcpy(device, s->device, sizeof device);
    uint32_t id = s->id;
    pthread_mutex_unlock(&lock);
    if (done.used) {
        respond(s->d, device, id, done.kind, CP_MQTT_COMPLETED, done.correlation_id, 0, done.codes, done.count);
    }
}

static void on_subscribe(struct mosquitto *mosq, void *ctx, int mid, int count, const int *granted)
{
    (void)mosq;
    answered(ctx, mid, count > 0 ? (uint8_t)granted[0] : 0x80u);
}

static void on_unsubscribe(struct mosquitto *mosq, void *ctx, int mid)
{
    (void)mosq;
    answered(ctx, mid, 0);
}

static void on_publish(struct mosquitto *mosq, void *ctx, int mid)
{
    (void)mosq;
    session *s = ctx;
    pthread_mutex_lock(&lock);
    unsigned at = 0;
    waiting *w = s->ending ? NULL : waiting_for(s, mid, &at);
    waiting done = w != NULL ? *w : (waiting){ 0 };
    if (w != NULL) {
        *w = (waiting){ 0 };
    }
    char device[sizeof s->device];
    memcpy(device, s->device, sizeof device);
    uint32_t id = s->id;
    pthread_mutex_unlock(&lock);
    if (done.used) {
        s->d->counters.mqtt_published++;
        respond(s->d, device, id, CP_MQTT_PUBLISH, CP_MQTT_COMPLETED, done.correlation_id, 0, NULL, 0);
    }
}

static void on_message(struct mosquitto *mosq, void *ctx, const struct mosquitto_message *m)
{
    (void)mosq;
    session *s = ctx;
    size_t topic_len = strlen(m->topic);
    if (topic_len == 0 || topic_len > CP_MQTT_TOPIC_MAX || m->payloadlen < 0) {
        return;   /* the device could not name it */
    }
    uint32_t total = 16u + (uint32_t)topic_len + (uint32_t)m->payloadlen;
    uint8_t *stream = malloc(total);
    pthread_mutex_lock(&lock);
    bool live = !s->ending && s->connected;
    uint32_t message_id = ++s->next_message_id;
    message_id = message_id != 0 ? message_id : ++s->next_message_id;
    char device[sizeof s->device];
    memcpy(device, s->device, sizeof device);
    uint32_t id = s->id;
    pthread_mutex_unlock(&lock);
    if (live && stream != NULL) {
        memset(stream, 0, 16);
        stream[0] = CP_MQTT_EV_MESSAGE;
        bw_put32(stream + 4, message_id);
        stream[8] = m->qos > 0 ? 1u : 0u;
        stream[9] = m->retain ? 1u : 0u;
        bw_put16(stream + 10, (uint16_t)topic_len);
        bw_put32(stream + 12, (uint32_t)m->payloadlen);
        memcpy(stream + 16, m->topic, topic_len);
        memcpy(stream + 16 + topic_len, m->payload, (size_t)m->payloadlen);
        s->d->counters.mqtt_messages_in++;
        send_event(s->d, device, id, stream, total);
    }
    free(stream);
}

/* ---- CONNECT on a worker thread ---- */

static bool write_file(const char *dir, const char *name, const cp_bytes *parts, unsigned count)
{
    char path[96];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    bool ok = f != NULL;
    for (unsigned i = 0; ok && i < count; i++) {
        ok = fwrite(parts[i].data, 1, parts[i].length, f) == parts[i].length && fputc('\n', f) != EOF;
    }
    ok = f != NULL && fclose(f) == 0 && ok;
    return ok;
}

static char *text(const cp_bytes *b)
{
    char *t = calloc(1, (size_t)b->length + 1u);
    if (t != NULL) {
        memcpy(t, b->data, b->length);
    }
    return t;
}

/* Sets the client up from op; a request state (COMPLETED: ready to connect). */
static cp_mqtt_state prepare(session *s, const cp_mqtt_op *op)
{
    char *client_id = text(&op->client_id);
    s->mosq = client_id != NULL ? mosquitto_new(op->client_id.length > 0 ? client_id : NULL,
                                                op->clean_start != 0 || op->client_id.length == 0, s)
                                : NULL;
    free(client_id);
    if (s->mosq == NULL) {
        return CP_MQTT_SOCKET_ERROR;
    }
    s->v5 = op->protocol_version == 1;
    mosquitto_int_option(s->mosq, MOSQ_OPT_PROTOCOL_VERSION, s->v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
    mosquitto_connect_callback_set(s->mosq, on_connect);
    mosquitto_disconnect_callback_set(s->mosq, on_disconnect);
    mosquitto_subscribe_callback_set(s->mosq, on_subscribe);
    mosquitto_unsubscribe_callback_set(s->mosq, on_unsubscribe);
    mosquitto_publish_callback_set(s->mosq, on_publish);
    mosquitto_message_callback_set(s->mosq, on_message);
    int rc = MOSQ_ERR_SUCCESS;
    if (op->userpass) {
        char *user = text(&op->username);
        char *pass = text(&op->password);
        rc = user != NULL && pass != NULL ? mosquitto_username_pw_set(s->mosq, user, pass) : MOSQ_ERR_NOMEM;
        free(user);
        free(pass);
    }
    if (rc == MOSQ_ERR_SUCCESS && op->will) {
        char *topic = text(&op->will_topic);
        rc = topic != NULL ? mosquitto_will_set(s->mosq, topic, op->will_payload.length, op->will_payload.data,
                                                op->will_qos, op->will_retain != 0)
                           : MOSQ_ERR_NOMEM;
        free(topic);
    }
    if (rc == MOSQ_ERR_SUCCESS && op->ca_count > 0) {
        snprintf(s->dir, sizeof s->dir, "/tmp/bwd-mqtt-XXXXXX");
        if (mkdtemp(s->dir) == NULL) {
            s->dir[0] = '\0';
            return CP_MQTT_SOCKET_ERROR;
        }
        bool ok = chmod(s->dir, 0700) == 0;
        ok = ok && write_file(s->dir, "ca.pem", op->ca, op->ca_count);
        ok = ok && (op->cert_count == 0
                    || (write_file(s->dir, "cert.pem", op->cert, op->cert_count)
                        && write_file(s->dir, "key.pem", &op->key, 1)));
        if (!ok) {
            return CP_MQTT_SOCKET_ERROR;
        }
        char ca[96], cert[96], key[96];
        snprintf(ca, sizeof ca, "%s/ca.pem", s->dir);
        snprintf(cert, sizeof cert, "%s/cert.pem", s->dir);
        snprintf(key, sizeof key, "%s/key.pem", s->dir);
        rc = mosquitto_tls_set(s->mosq, ca, NULL, op->cert_count > 0 ? cert : NULL,
                               op->cert_count > 0 ? key : NULL, NULL);
        if (rc == MOSQ_ERR_SUCCESS) {
            rc = mosquitto_tls_opts_set(s->mosq, 1, NULL, NULL);
        }
        if (rc != MOSQ_ERR_SUCCESS) {
            return CP_MQTT_UNKNOWN_CA;   /* the credentials do not load */
        }
    }
    return rc == MOSQ_ERR_SUCCESS ? CP_MQTT_COMPLETED : CP_MQTT_INVALID_PARAMETERS;
}

typedef struct connect_job {
    session *s;
    cp_mqtt_op op;            /* points into stream */
    uint8_t *stream;
} connect_job;

/* HOST:PORT:CONNECT-HOST:CONNECT-PORT (config mqtt_connect_to): a connect to
 * HOST:PORT goes to the other address instead. */
static void connect_to(const char *rule, char *host, size_t size, int *port)
{
    char name[256], other[256];
    int from = 0, to = 0;
    if (rule[0] != '\0' && sscanf(rule, "%255[^:]:%d:%255[^:]:%d", name, &from, other, &to) == 4
        && strcmp(name, host) == 0 && from == *port) {
        snprintf(host, size, "%s", other);
        *port = to;
    }
}

static void *connect_thread(void *arg)
{
    connect_job *j = arg;
    session *s = j->s;   /* connecting: the broker thread leaves mosq to us until loop_start */
    cp_mqtt_state state = prepare(s, &j->op);
    if (state == CP_MQTT_COMPLETED) {
        char host[300];
        int port = j->op.port;
        snprintf(host, sizeof host, "%.*s", (int)j->op.host.length, (const char *)j->op.host.data);
        connect_to(s->d->config.mqtt_connect_to, host, sizeof host, &port);
        int rc = mosquitto_connect(s->mosq, host, port, (int)j->op.keepalive);
        if (rc == MOSQ_ERR_SUCCESS) {
            rc = mosquitto_loop_start(s->mosq);
        }
        state = rc == MOSQ_ERR_SUCCESS ? CP_MQTT_COMPLETED
                : rc == MOSQ_ERR_EAI   ? CP_MQTT_NXDOMAIN
                : rc == MOSQ_ERR_TLS   ? CP_MQTT_UNKNOWN_CA
                                       : CP_MQTT_SOCKET_ERROR;
        if (rc != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "bulwarkd: %s: MQTT connect for the app failed: %s\n", s->device,
                    mosquitto_strerror(rc));
        }
    }
    pthread_mutex_lock(&lock);
    bool answer = state != CP_MQTT_COMPLETED && !s->ending;
    if (state != CP_MQTT_COMPLETED) {
        s->connecting = false;
        end_session(s);
    }
    s->worker = false;
    if (s->ending) {
        spawn_teardown(s);
    }
    char device[sizeof s->device];
    memcpy(device, s->device, sizeof device);
    uint32_t id = s->id;
    pthread_mutex_unlock(&lock);
    if (answer) {
        respond(s->d, device, id, CP_MQTT_CONNECT, state, 0, 0, NULL, 0);
    }
    free(j->stream);
    free(j);
    return NULL;   /* on success on_connect answers */
}

/* ---- operations (broker thread) ---- */

/* A free waiting slot (lock held), or NULL. */
static waiting *new_waiting(session *s)
{
    for (size_t i = 0; i < BWD_MQTT_WAITING; i++) {
        if (!s->waits[i].used) {
            return &s->waits[i];
        }
    }
    return NULL;
}

/* Hands op to the live, connected session s (lock held); false: refuse it
 * with *state. */
static bool perform(session *s, const cp_mqtt_op *op, cp_mqtt_state *state)
{
    waiting *w = new_waiting(s);
    *state = CP_MQTT_NOT_CONNECTED;
    if (w == NULL) {
        return false;
    }
    *w = (waiting){ .used = true, .kind = (uint8_t)op->kind, .correlation_id = op->correlation_id,
                    .count = op->count };
    int rc = MOSQ_ERR_SUCCESS;
    for (unsigned i = 0; i < op->count && rc == MOSQ_ERR_SUCCESS; i++) {
        char *topic = text(&op->topics[i]);
        if (topic == NULL) {
            rc = MOSQ_ERR_NOMEM;
        } else if (op->kind == CP_MQTT_SUBSCRIBE) {
            int options = s->v5 ? (op->no_local[i] ? MQTT_SUB_OPT_NO_LOCAL : 0)
                                      | (op->rap[i] ? MQTT_SUB_OPT_RETAIN_AS_PUBLISHED : 0)
                                      | (op->retain_handling[i] << 4)
                                : 0;
            rc = mosquitto_subscribe_v5(s->mosq, &w->mids[i], topic, op->qos[i], options, NULL);
        } else if (op->kind == CP_MQTT_UNSUBSCRIBE) {
            rc = mosquitto_unsubscribe(s->mosq, &w->mids[i], topic);
        } else {
            rc = mosquitto_publish(s->mosq, &w->mids[i], topic, (int)op->payload_length, op->payload, op->qos[0],
                                   op->will_retain != 0);
        }
        free(topic);
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        *w = (waiting){ 0 };   /* answers for topics already asked find nothing */
        return false;
    }
    return true;
}

/* The session (device, id) (lock held), or NULL; with create, a new one. */
static session *find(const char *device, uint32_t id, bool create, bool *busy)
{
    session *free_slot = NULL;
    unsigned mine = 0;
    for (size_t i = 0; i < BWD_MQTT_MAX; i++) {
        session *s = &sessions[i];
        if (!s->used) {
            free_slot = free_slot == NULL ? s : free_slot;
            continue;
        }
        bool same = strcmp(s->device, device) == 0;
        mine += same && !s->ending ? 1u : 0u;
        if (same && s->id == id && !s->ending) {
            return s;
        }
    }
    *busy = create && (free_slot == NULL || mine >= BWD_MQTT_PER_DEVICE);
    return create && !*busy ? free_slot : NULL;
}

static void start_connect(bwd *d, session *s, const cp_mqtt_op *op, uint8_t *stream)
{
    connect_job *j = malloc(sizeof *j);
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (j == NULL || (*j = (connect_job){ .s = s, .op = *op, .stream = stream },
                      pthread_create(&thread, &attr, connect_thread, j) != 0)) {
        free(j);
        free(stream);
        s->connecting = false;
        s->worker = false;
        end_session(s);
        respond(d, s->device, s->id, CP_MQTT_CONNECT, CP_MQTT_SOCKET_ERROR, 0, 0, NULL, 0);
    }
    pthread_attr_destroy(&attr);
}

/* A whole operation stream of session s (lock held); takes stream. */
static void operate(bwd *d, session *s, uint8_t *stream, uint32_t len)
{
    cp_mqtt_op op;
    cp_result r = cp_decode_mqtt_op(stream, len, &op);
    cp_mqtt_state state = CP_MQTT_COMPLETED;
    if (r != CP_OK) {
        d->counters.mqtt_bad_op++;
        fprintf(stderr, "bulwarkd: %s: MQTT operation refused: %s\n", s->device, cp_result_text(r));
        if (len >= 1 && stream[0] >= CP_MQTT_CONNECT && stream[0] <= CP_MQTT_PUBLISH) {
            op = (cp_mqtt_op){ .kind = (cp_mqtt_kind)stream[0], .correlation_id = len >= 8 ? bw_get32(stream + 4) : 0,
                               .count = len >= 2 && stream[1] <= CP_MQTT_TOPICS_MAX ? stream[1] : 0 };
            refuse(d, s->device, s->id, &op, CP_MQTT_INVALID_PARAMETERS);
        }
        if (s->mosq == NULL && !s->connecting) {
            end_session(s);   /* a refused CONNECT leaves nothing behind */
        }
        free(stream);
        return;
    }
    if (op.kind == CP_MQTT_CONNECT) {
        if (s->mosq != NULL || s->connecting) {
            respond(d, s->device, s->id, CP_MQTT_CONNECT, (cp_mqtt_state)2 /* ALREADYCONNECTED */, 0, 0, NULL, 0);
            free(stream);
            return;
        }
        s->connecting = true;
        s->worker = true;
        d->counters.mqtt_sessions++;
        start_connect(d, s, &op, stream);   /* the job owns stream */
        return;
    }
    if (op.kind == CP_MQTT_CLOSE) {
        end_session(s);
    } else if (op.kind == CP_MQTT_ACK) {
        d->counters.mqtt_acks++;
    } else if (!s->connected) {
        refuse(d, s->device, s->id, &op, CP_MQTT_NOT_CONNECTED);
    } else if (op.kind == CP_MQTT_DISCONNECT) {
        s->disconnecting = true;
        mosquitto_disconnect(s->mosq);   /* on_disconnect answers and ends the session */
    } else if (!perform(s, &op, &state)) {
        refuse(d, s->device, s->id, &op, state);
    }
    free(stream);
}

void bwd_handle_mqtt(bwd *d, const char *device, const uint8_t *payload, size_t len)
{
    pthread_once(&library_once, library_init);
    cp_http_piece p;
    cp_result r = cp_decode_mqtt_piece(payload, len, &p);
    if (r != CP_OK) {
        d->counters.mqtt_bad_piece++;
        fprintf(stderr, "bulwarkd: %s: MQTT_UP ignored: %s\n", device, cp_result_text(r));
        return;
    }
    pthread_mutex_lock(&lock);
    bool connect = p.offset == 0 && p.data[0] == CP_MQTT_CONNECT;
    bool busy = false;
    session *s = find(device, p.request_id, connect, &busy);
    if (s != NULL && !s->used) {
        *s = (session){ .used = true, .id = p.request_id, .d = d };
        snprintf(s->device, sizeof s->device, "%s", device);
    }
    if (s == NULL) {
        pthread_mutex_unlock(&lock);
        if (busy) {
            d->counters.mqtt_refused++;
            respond(d, device, p.request_id, CP_MQTT_CONNECT, CP_MQTT_CIRCUIT_BREAKER, 0, 0, NULL, 0);
        } else if (p.offset == 0 && p.data[0] >= CP_MQTT_SUBSCRIBE && p.data[0] <= CP_MQTT_PUBLISH
                   && p.length == p.total) {
            cp_mqtt_op op;   /* a request for no session: NOTCONNECTED */
            if (cp_decode_mqtt_op(p.data, p.length, &op) == CP_OK) {
                refuse(d, device, p.request_id, &op, CP_MQTT_NOT_CONNECTED);
            }
        }
        return;
    }
    if (p.offset == 0 && s->stream == NULL) {
        s->stream = malloc(p.total);
        s->total = p.total;
        s->received = 0;
    }
    bool in_order = s->stream != NULL && p.offset == s->received && p.total == s->total;
    if (in_order) {
        memcpy(s->stream + p.offset, p.data, p.length);
        s->received += p.length;
    } else {
        d->counters.mqtt_bad_piece++;   /* out of order: the stream is dropped */
        free(s->stream);
        s->stream = NULL;
    }
    if (in_order && s->received == s->total) {
        uint8_t *stream = s->stream;
        s->stream = NULL;
        operate(d, s, stream, s->total);
    }
    pthread_mutex_unlock(&lock);
}
