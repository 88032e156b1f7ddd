/*
 * bulwarkd's debug relay (docs/SPEC.md §21.5, docs/API.md "Debug session"):
 * POST /v1/devices/{id}/debug publishes the body as DEBUG_DOWN and waits for
 * the device's DEBUG_UP with the same exchange ID. The session bytes are
 * opaque here: end-to-end protected between the CLI and the kernel.
 *
 * Waiting exchanges sit in a fixed table under one mutex; the broker thread
 * fills the matching slot and wakes its API thread. Limits per device: one
 * exchange at a time, BWD_DEBUG_RATE per second.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "bulwarkd.h"
#include "cloud_proto.h"

#define SLOTS 64u

typedef struct slot {
    bool used, answered;
    char device[BWD_DEVICE_ID_LEN + 1];
    uint32_t exchange;
    uint8_t answer[BWD_DEBUG_MAX];
    size_t answer_len;
} slot;

/* Per device: the start of its current one-second window and the count in it. */
typedef struct rate {
    char device[BWD_DEVICE_ID_LEN + 1];
    int64_t window_ms;
    unsigned count;
} rate;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t answered = PTHREAD_COND_INITIALIZER;
static slot slots[SLOTS];
static rate rates[SLOTS];
static uint32_t next_exchange = 1;

/* Under lock: may device start an exchange now? Counts it if so. */
static bool rate_take(const char *device, int64_t now_ms)
{
    rate *free_one = NULL, *oldest = &rates[0];
    for (unsigned i = 0; i < SLOTS; i++) {
        if (strcmp(rates[i].device, device) == 0) {
            if (now_ms - rates[i].window_ms >= 1000) {
                rates[i].window_ms = now_ms;
                rates[i].count = 0;
            }
            if (rates[i].count >= BWD_DEBUG_RATE) {
                return false;
            }
            rates[i].count++;
            return true;
        }
        free_one = free_one == NULL && rates[i].device[0] == '\0' ? &rates[i] : free_one;
        oldest = rates[i].window_ms < oldest->window_ms ? &rates[i] : oldest;
    }
    rate *r = free_one != NULL ? free_one : oldest;   /* the stalest window is forgotten */
    memcpy(r->device, device, BWD_DEVICE_ID_LEN + 1);
    r->window_ms = now_ms;
    r->count = 1;
    return true;
}

/* Under lock: a free slot for device, NULL when it has one in use (busy)
 * or the table is full. */
static slot *slot_take(const char *device, bool *busy)
{
    slot *free_one = NULL;
    *busy = false;
    for (unsigned i = 0; i < SLOTS; i++) {
        if (slots[i].used && strcmp(slots[i].device, device) == 0) {
            *busy = true;
            return NULL;
        }
        free_one = free_one == NULL && !slots[i].used ? &slots[i] : free_one;
    }
    return free_one;
}

unsigned bwd_debug_exchange(bwd *d, const char *device, const uint8_t *in, size_t len, uint8_t *out,
                            size_t *out_len, const char **code)
{
    if (len < 1 || len > BWD_DEBUG_MAX) {
        *code = "too_large";
        return 413;
    }
    pthread_mutex_lock(&lock);
    bool busy = false;
    slot *s = slot_take(device, &busy);
    if (s == NULL || !rate_take(device, bwd_now_ms())) {
        pthread_mutex_unlock(&lock);
        d->counters.debug_busy++;
        *code = "rate_limited";
        return 429;
    }
    uint32_t x = next_exchange++;
    next_exchange = next_exchange == 0 ? 1 : next_exchange;
    *s = (slot){ .used = true, .exchange = x };
    memcpy(s->device, device, BWD_DEVICE_ID_LEN + 1);
    pthread_mutex_unlock(&lock);

    uint8_t msg[CP_DEBUG_HEADER + BWD_DEBUG_MAX];
    char topic[64];
    cp_encode_debug_header(CP_TYPE_DEBUG_DOWN, (uint16_t)len, x, msg);
    memcpy(msg + CP_DEBUG_HEADER, in, len);
    snprintf(topic, sizeof topic, "bw/%s/down/debug", device);
    d->counters.debug_exchanges++;
    unsigned status = 200;
    if (broker_publish(d->broker, topic, msg, CP_DEBUG_HEADER + len, 0) != 0) {
        status = 503;
        *code = "broker_unavailable";
    }
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += BWD_DEBUG_WAIT_S;
    pthread_mutex_lock(&lock);
    while (status == 200 && !s->answered) {
        if (pthread_cond_timedwait(&answered, &lock, &deadline) == ETIMEDOUT) {
            status = s->answered ? 200 : 504;
            *code = "device_timeout";
        }
    }
    if (status == 200) {
        memcpy(out, s->answer, s->answer_len);
        *out_len = s->answer_len;
        d->counters.debug_answered++;
    } else if (status == 504) {
        d->counters.debug_timeouts++;
    }
    s->used = false;
    pthread_mutex_unlock(&lock);
    return status;
}

void bwd_handle_debug(bwd *d, const char *device, const uint8_t *payload, size_t len)
{
    uint16_t n = 0;
    uint32_t x = 0;
    if (cp_decode_debug(payload, len, CP_TYPE_DEBUG_UP, &n, &x) != 0) {
        d->counters.debug_bad++;
        return;
    }
    bool matched = false;
    pthread_mutex_lock(&lock);
    for (unsigned i = 0; i < SLOTS && !matched; i++) {
        slot *s = &slots[i];
        if (s->used && !s->answered && s->exchange == x && strcmp(s->device, device) == 0) {
            memcpy(s->answer, payload + CP_DEBUG_HEADER, n);
            s->answer_len = n;
            s->answered = true;
            matched = true;
        }
    }
    if (matched) {
        pthread_cond_broadcast(&answered);
    }
    pthread_mutex_unlock(&lock);
    if (!matched) {
        d->counters.debug_unmatched++;   /* late (its POST gave up) or forged */
    }
}
