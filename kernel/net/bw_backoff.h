/*
 * Reconnect backoff with jitter (docs/SPEC.md §13.3): how long to wait
 * before the next connection attempt. The ceiling doubles from min_ms to
 * max_ms with each failure in a row; the delay is drawn below it from a
 * caller-supplied random source, so a fleet that lost its broker at once
 * does not come back at once. A connection that stayed up stable_ms starts
 * the sequence again. Pure logic: no clock of its own, no heap.
 */
#ifndef BW_BACKOFF_H
#define BW_BACKOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"
#include "bw_net_config.h"

typedef enum bw_backoff_jitter {
    BW_BACKOFF_FULL_JITTER,   /* delay uniform in [min_ms, ceiling] */
    BW_BACKOFF_EQUAL_JITTER,  /* delay uniform in [max(min_ms, ceiling / 2), ceiling] */
} bw_backoff_jitter;

/* Fills buf with len random bytes (bw_random_bytes has this shape). */
typedef bw_err (*bw_backoff_random_fn)(void *buf, size_t len);

typedef struct bw_backoff_config {
    uint32_t min_ms;          /* 0: BW_BACKOFF_MIN_MS */
    uint32_t max_ms;          /* 0: BW_BACKOFF_MAX_MS (raised to min_ms if below it) */
    uint32_t stable_ms;       /* 0: BW_BACKOFF_STABLE_MS */
    bw_backoff_jitter jitter;
    bw_backoff_random_fn random;   /* NULL or failing: no jitter, the ceiling itself */
} bw_backoff_config;

/* State; fields private. */
typedef struct bw_backoff {
    bw_backoff_config config;
    uint32_t ceiling_ms;      /* the ceiling of the next delay */
    bool up;                  /* a connection is up since up_since_ms */
    uint64_t up_since_ms;
} bw_backoff;

/* Starts at the minimum; config is copied (defaults filled in). */
void bw_backoff_init(bw_backoff *b, const bw_backoff_config *config);

/* A connection came up (e.g. its CONNACK) at now_ms. */
void bw_backoff_connected(bw_backoff *b, uint64_t now_ms);

/* A connection attempt failed, or the connection went down, at now_ms:
 * returns the milliseconds to wait before the next attempt, always within
 * [min_ms, max_ms], and doubles the ceiling. If the connection had stayed up
 * stable_ms or longer the sequence restarts at min_ms first. */
uint32_t bw_backoff_next_delay(bw_backoff *b, uint64_t now_ms);

/* Back to the minimum ceiling (e.g. when the app asks for the network anew). */
void bw_backoff_reset(bw_backoff *b);

#endif
