/*
 * The debug transport through the cloud (lib_debug_cloud.h).
 *
 * One libcurl handle per session (its connection to bulwarkd is reused);
 * one mutex serialises exchanges with the keep-alive thread, which sends a
 * PING whenever nothing went for BW_DEBUG_KEEPALIVE_MS.
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "lib_debug_client.h"
#include "lib_debug_cloud.h"
#include "lib_keys.h"
#include "mbedtls/ecp.h"
#include "mbedtls/x509_crt.h"
#include "psa/crypto.h"

/* p256-m's randomness in the CLI (ephemeral keys, signatures): the OS's.
 * Replaces the weak refusal in bw_manifest.c. */
psa_status_t psa_generate_random(uint8_t *output, size_t output_size)
{
    size_t done = 0;
    while (done < output_size) {
        ssize_t n = getrandom(output + done, output_size - done, 0);
        if (n < 0 && errno != EINTR) {
            return PSA_ERROR_INSUFFICIENT_ENTROPY;
        }
        done += n > 0 ? (size_t)n : 0u;
    }
    return PSA_SUCCESS;
}

#define RATE_RETRY_MS 20u
#define RATE_RETRY_MAX_MS 2000u
#define BUSY_RETRY_MS 250u      /* REFUSED busy: HELLO again after this (SPEC §21.1) */
#define BUSY_RETRIES 8u
#define CA_MAX 4096u

typedef struct session {
    debug_client client;
    uint8_t ca[CA_MAX];              /* the fleet CA, DER (the client points here) */
    size_t ca_len;
    size_t handshake_bytes;
    CURL *curl;
    struct curl_slist *headers;
    char url[1024];
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t keepalive;
    bool keepalive_running, stopping, lost;
    struct timespec last;            /* CLOCK_MONOTONIC of the last exchange */
    debug_cloud_fault fault;
    char fault_answer[160];
    uint8_t body[BW_DEBUG_WIRE_MAX + 1];
    size_t body_len;
    bool body_over;
} session;

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    session *s = userdata;
    size_t n = size * nmemb;
    if (s->body_len + n > sizeof s->body) {
        s->body_over = true;
        return n;
    }
    memcpy(s->body + s->body_len, ptr, n);
    s->body_len += n;
    return n;
}

/* One POST of in[0..len); the answer into s->body, the HTTP status into
 * *status. 0, or -1 with err when bulwarkd cannot be reached. */
static int post_once(session *s, const uint8_t *in, size_t len, long *status, char *err, size_t errcap)
{
    s->body_len = 0;
    s->body_over = false;
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, in);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE, (long)len);
    CURLcode rc = curl_easy_perform(s->curl);
    clock_gettime(CLOCK_MONOTONIC, &s->last);
    if (rc != CURLE_OK) {
        snprintf(err, errcap, "relay lost: %s", curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, status);
    return 0;
}

/* POSTs in[0..len) and takes the answer into s->body. A 429 (bulwarkd's
 * rate limit: the exchange was not relayed, docs/API.md) is retried every
 * RATE_RETRY_MS for up to RATE_RETRY_MAX_MS, one rate window and more:
 * GDB asks in bursts. 0, or -1 with err (HTTP errors name bulwarkd's
 * message). */
static int post(session *s, const uint8_t *in, size_t len, char *err, size_t errcap)
{
    long status = 0;
    for (unsigned waited = 0;; waited += RATE_RETRY_MS) {
        if (post_once(s, in, len, &status, err, errcap) != 0) {
            return -1;
        }
        if (status != 429 || waited >= RATE_RETRY_MAX_MS) {
            break;
        }
        struct timespec pause = { 0, RATE_RETRY_MS * 1000000L };
        nanosleep(&pause, NULL);
    }
    if (status != 200) {
        s->body[s->body_len < sizeof s->body ? s->body_len : sizeof s->body - 1] = '\0';
        const char *m = strstr((const char *)s->body, "\"message\":\"");
        char text[200] = "";
        if (m != NULL) {
            snprintf(text, sizeof text, "%s", m + 11);
            char *q = strchr(text, '"');
            if (q != NULL) {
                *q = '\0';
            }
        }
        snprintf(err, errcap, "relay refused the exchange (HTTP %ld)%s%s", status, text[0] ? ": " : "", text);
        return -1;
    }
    if (s->body_over || s->body_len == 0) {
        snprintf(err, errcap, "relay answered %zu bytes, not a session message", s->body_len);
        return -1;
    }
    return 0;
}

/* Under lock: one record (type, body) out and the device's answer opened
 * into answer. Applies an armed test fault. *wire adds the session bytes. */
static int exchange_locked(session *s, uint8_t type, const uint8_t *body, size_t n, uint8_t *answer_type,
                           uint8_t *answer, size_t cap, size_t *answer_len, size_t *wire, char *err, size_t errcap)
{
    uint8_t rec[BW_DEBUG_WIRE_MAX];
    size_t len = 0;
    if (s->lost) {
        snprintf(err, errcap, "the debug session was lost");
        return -1;
    }
    if (debug_client_seal(&s->client, type, body, n, rec, sizeof rec, &len, err, errcap) != 0) {
        return -1;
    }
    debug_cloud_fault fault = s->fault;
    s->fault = DEBUG_CLOUD_FAULT_NONE;
    if (fault == DEBUG_CLOUD_FAULT_TAMPER) {
        uint8_t bad[BW_DEBUG_WIRE_MAX];
        memcpy(bad, rec, len);
        bad[BW_DEBUG_RECORD_HEAD] ^= 0x01;   /* first ciphertext byte */
        if (post(s, bad, len, err, errcap) != 0) {
            s->lost = true;
            return -1;
        }
        snprintf(s->fault_answer, sizeof s->fault_answer, "%s",
                 s->body_len == 2 ? debug_client_refusal_text(s->body[0], s->body[1]) : "an unexpected answer");
    }
    if (post(s, rec, len, err, errcap) != 0) {
        s->lost = true;
        return -1;
    }
    if (wire != NULL) {
        *wire = len + s->body_len;
    }
    uint8_t got[BW_DEBUG_WIRE_MAX];
    size_t got_len = s->body_len;
    memcpy(got, s->body, got_len);
    if (fault == DEBUG_CLOUD_FAULT_REPLAY) {
        /* The same record again: the device must drop it. */
        if (post(s, rec, len, err, errcap) != 0) {
            s->lost = true;
            return -1;
        }
        snprintf(s->fault_answer, sizeof s->fault_answer, "%s",
                 s->body_len == 2 ? debug_client_refusal_text(s->body[0], s->body[1]) : "an unexpected answer");
    }
    if (debug_client_unseal(&s->client, got, got_len, answer_type, answer, cap, answer_len, err, errcap) != 0) {
        s->lost = true;
        return -1;
    }
    return 0;
}

/* exchange_locked under the session's lock; answer holds BW_DEBUG_PACKET_MAX bytes. */
static int exchange(session *s, uint8_t type, const uint8_t *body, size_t n, uint8_t *answer_type, uint8_t *answer,
                    size_t *answer_len, size_t *wire, char *err, size_t errcap)
{
    pthread_mutex_lock(&s->lock);
    int rc = exchange_locked(s, type, body, n, answer_type, answer, BW_DEBUG_PACKET_MAX, answer_len, wire, err,
                             errcap);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int transport_exchange(void *ctx, const uint8_t *request, size_t len, uint8_t *answer, size_t cap,
                              size_t *answer_len, char *err, size_t errcap)
{
    session *s = ctx;
    uint8_t type = 0;
    uint8_t buf[BW_DEBUG_PACKET_MAX];
    size_t n = 0;
    if (exchange(s, BW_DEBUG_IN_MONITOR, request, len, &type, buf, &n, NULL, err, errcap) != 0) {
        return -1;
    }
    if (type != BW_DEBUG_IN_ANSWER || n > cap) {
        snprintf(err, errcap, "the device answered a monitor packet with type 0x%02x (%zu bytes)", type, n);
        return -1;
    }
    memcpy(answer, buf, n);
    *answer_len = n;
    return 0;
}

int debug_cloud_ping(bw_debug_transport *t, const uint8_t *data, size_t n, size_t *wire, char *err, size_t errcap)
{
    session *s = t->ctx;
    uint8_t type = 0;
    uint8_t buf[BW_DEBUG_PACKET_MAX];
    size_t m = 0;
    int rc = exchange(s, BW_DEBUG_IN_PING, data, n, &type, buf, &m, wire, err, errcap);
    if (rc == 0 && (type != BW_DEBUG_IN_PONG || m != n || (n > 0 && memcmp(buf, data, n) != 0))) {
        snprintf(err, errcap, "the device's PONG does not echo the PING");
        rc = -1;
    }
    return rc;
}

/* Sends a PING whenever the session has been idle BW_DEBUG_KEEPALIVE_MS. */
static void *keepalive(void *arg)
{
    session *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping && !s->lost) {
        struct timespec due = s->last;
        due.tv_sec += BW_DEBUG_KEEPALIVE_MS / 1000u;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > due.tv_sec || (now.tv_sec == due.tv_sec && now.tv_nsec >= due.tv_nsec)) {
            uint8_t type, buf[BW_DEBUG_PING_MAX];
            size_t m;
            char err[160];
            (void)exchange_locked(s, BW_DEBUG_IN_PING, NULL, 0, &type, buf, sizeof buf, &m, NULL, err, sizeof err);
            continue;
        }
        pthread_cond_timedwait(&s->wake, &s->lock, &due);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void transport_close(void *ctx)
{
    session *s = ctx;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    if (s->keepalive_running) {
        pthread_join(s->keepalive, NULL);
    }
    if (!s->lost && s->client.open) {
        uint8_t type, buf[BW_DEBUG_PACKET_MAX];
        size_t m;
        char err[160];
        (void)exchange_locked(s, BW_DEBUG_IN_CLOSE, NULL, 0, &type, buf, sizeof buf, &m, NULL, err, sizeof err);
    }
    debug_client_wipe(&s->client);
    curl_slist_free_all(s->headers);
    curl_easy_cleanup(s->curl);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s);
}

const char *debug_cloud_ca_path(const char *fleet_dir, const char *ca_file, char *buf, size_t size)
{
    if (ca_file != NULL) {
        return ca_file;
    }
    if (fleet_dir == NULL || (size_t)snprintf(buf, size, "%s/ca.crt", fleet_dir) >= size) {
        return NULL;
    }
    return buf;
}

/* The fleet CA certificate (PEM or DER file) into s->ca as DER. */
static int load_ca(session *s, const char *ca_path, char *err, size_t errcap)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    int rc = -1;
    if (mbedtls_x509_crt_parse_file(&crt, ca_path) != 0) {
        snprintf(err, errcap, "%s: not a readable certificate (the fleet CA, ca.crt)", ca_path);
    } else if (crt.raw.len > sizeof s->ca) {
        snprintf(err, errcap, "%s: certificate over %u bytes", ca_path, (unsigned)sizeof s->ca);
    } else {
        memcpy(s->ca, crt.raw.p, crt.raw.len);
        s->ca_len = crt.raw.len;
        rc = 0;
    }
    mbedtls_x509_crt_free(&crt);
    return rc;
}

/* HELLO, sent again while the device answers busy (SPEC §21.4); the
 * CHALLENGE (or refusal) in s->body. */
static int hello(session *s, char *err, size_t errcap)
{
    uint8_t msg[BW_DEBUG_HELLO_SIZE];
    size_t len = debug_client_hello(msg);
    for (unsigned tries = 0;; tries++) {
        if (post(s, msg, len, err, errcap) != 0) {
            return -1;
        }
        s->handshake_bytes += len + s->body_len;
        if (!debug_client_busy(s->body, s->body_len) || tries == BUSY_RETRIES) {
            return 0;
        }
        struct timespec pause = { 0, BUSY_RETRY_MS * 1000000L };
        nanosleep(&pause, NULL);
    }
}

/* HELLO, OPEN, then OPENED and the CERT exchanges until the device has
 * proved itself (or not). */
static int handshake(session *s, char *err, size_t errcap)
{
    uint8_t msg[BW_DEBUG_WIRE_MAX];
    size_t len = 0;
    if (hello(s, err, errcap) != 0
        || debug_client_open(&s->client, s->body, s->body_len, msg, &len, err, errcap) != 0) {
        return -1;
    }
    /* Each CERT brings BW_DEBUG_CERT_PART_MAX bytes or the rest: bounded. */
    while (len > 0) {
        if (post(s, msg, len, err, errcap) != 0) {
            return -1;
        }
        s->handshake_bytes += len + s->body_len;
        if (debug_client_opened(&s->client, s->body, s->body_len, msg, sizeof msg, &len, err, errcap) != 0) {
            return -1;
        }
    }
    return 0;
}

size_t debug_cloud_handshake_bytes(bw_debug_transport *t)
{
    return ((session *)t->ctx)->handshake_bytes;
}

/* The debug private key's scalar from a PEM/DER key file. */
static int load_scalar(const char *key_path, uint8_t scalar[32], char *err, size_t errcap)
{
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    size_t olen = 0;
    int rc = -1;
    if (!keys_load_private(key_path, &pk, err, errcap)) {
        rc = -1;
    } else if (mbedtls_ecp_write_key_ext(mbedtls_pk_ec(pk), &olen, scalar, 32) != 0 || olen != 32) {
        snprintf(err, errcap, "%s: not a P-256 private key", key_path);
    } else {
        rc = 0;
    }
    mbedtls_pk_free(&pk);
    return rc;
}

int debug_cloud_open(const bw_api *api, const char *device, const char *key_path, const char *ca_path,
                     bw_debug_transport *out, char *err, size_t errcap)
{
    uint8_t scalar[32];
    if (load_scalar(key_path, scalar, err, errcap) != 0) {
        return -1;
    }
    session *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    int rc = load_ca(s, ca_path, err, errcap);
    rc = rc != 0 ? rc : debug_client_init(&s->client, device, scalar, s->ca, s->ca_len, err, errcap);
    bw_debug_wipe(scalar, sizeof scalar);
    char auth[300];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", api->token);
    s->headers = curl_slist_append(NULL, auth);
    s->headers = curl_slist_append(s->headers, "Content-Type: application/octet-stream");
    s->curl = curl_easy_init();
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (rc == 0 && (s->curl == NULL || s->headers == NULL)) {
        snprintf(err, errcap, "cannot set up libcurl");
        rc = -1;
    }
    if (rc == 0) {
        snprintf(s->url, sizeof s->url, "%s/v1/devices/%s/debug", api->server, device);
        curl_easy_setopt(s->curl, CURLOPT_URL, s->url);
        curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, s->headers);
        curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, 15L);   /* bulwarkd gives up on the device at 10 s */
        curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
        rc = handshake(s, err, errcap);
    }
    if (rc == 0 && pthread_create(&s->keepalive, NULL, keepalive, s) == 0) {
        s->keepalive_running = true;
    }
    if (rc != 0) {
        s->lost = true;
        transport_close(s);
        return -1;
    }
    *out = (bw_debug_transport){ .ctx = s, .exchange = transport_exchange, .close = transport_close };
    return 0;
}

void debug_cloud_set_fault(bw_debug_transport *t, debug_cloud_fault fault)
{
    session *s = t->ctx;
    pthread_mutex_lock(&s->lock);
    s->fault = fault;
    s->fault_answer[0] = '\0';
    pthread_mutex_unlock(&s->lock);
}

const char *debug_cloud_fault_answer(bw_debug_transport *t)
{
    return ((session *)t->ctx)->fault_answer;
}
