/*
 * Reconnect backoff (bw_backoff.h). Invariant: min_ms ≤ ceiling_ms ≤ max_ms.
 * A delay is lower + (random mod (ceiling - lower + 1)); the modulo bias is
 * below 2^-15 for spans up to max_ms (≤ 2^17 for the defaults) and harmless.
 */
#include "bw_backoff.h"

void bw_backoff_init(bw_backoff *b, const bw_backoff_config *config)
{
    b->config = *config;
    if (b->config.min_ms == 0) {
        b->config.min_ms = BW_BACKOFF_MIN_MS;
    }
    if (b->config.max_ms == 0) {
        b->config.max_ms = BW_BACKOFF_MAX_MS;
    }
    if (b->config.max_ms < b->config.min_ms) {
        b->config.max_ms = b->config.min_ms;
    }
    if (b->config.stable_ms == 0) {
        b->config.stable_ms = BW_BACKOFF_STABLE_MS;
    }
    bw_backoff_reset(b);
}

void bw_backoff_reset(bw_backoff *b)
{
    b->ceiling_ms = b->config.min_ms;
    b->up = false;
    b->up_since_ms = 0;
}

void bw_backoff_connected(bw_backoff *b, uint64_t now_ms)
{
    b->up = true;
    b->up_since_ms = now_ms;
}

uint32_t bw_backoff_next_delay(bw_backoff *b, uint64_t now_ms)
{
    if (b->up && now_ms >= b->up_since_ms && now_ms - b->up_since_ms >= b->config.stable_ms) {
        b->ceiling_ms = b->config.min_ms;
    }
    b->up = false;
    uint32_t ceiling = b->ceiling_ms;
    uint32_t lower = b->config.min_ms;
    if (b->config.jitter == BW_BACKOFF_EQUAL_JITTER && ceiling / 2 > lower) {
        lower = ceiling / 2;
    }
    uint32_t delay = ceiling;
    uint32_t r;
    if (b->config.random != NULL && b->config.random(&r, sizeof r) == BW_OK) {
        delay = lower + r % (ceiling - lower + 1u);
    }
    b->ceiling_ms = ceiling > b->config.max_ms / 2 ? b->config.max_ms : ceiling * 2;
    return delay;
}
