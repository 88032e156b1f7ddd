/*
 * Reconnect backoff (bw_backoff.h). Promises: every delay lies within
 * [min, max] and within the jitter mode's range below the current ceiling;
 * the ceiling doubles per failure up to max; random draws actually spread
 * the delays; a connection that stayed up stable_ms resets the sequence, a
 * shorter one does not; without (or with a failing) random source the delay
 * is the ceiling itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bw_backoff.h"

/* A scripted random source: returns `next_random`, or fails. */
static uint32_t next_random;
static bool random_fails;

static bw_err scripted_random(void *buf, size_t len)
{
    if (random_fails) {
        memset(buf, 0, len);
        return BW_E_IO;
    }
    assert_int_equal(len, sizeof next_random);
    memcpy(buf, &next_random, len);
    return BW_OK;
}

/* A simple LCG for spread tests (deterministic, different every call). */
static uint32_t lcg_state = 12345;

static bw_err lcg_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        lcg_state = lcg_state * 1103515245u + 12345u;
        p[i] = (uint8_t)(lcg_state >> 16);
    }
    return BW_OK;
}

static void ceiling_doubles_to_max(void **state)
{
    (void)state;
    random_fails = true;   /* no jitter: the delay is the ceiling */
    bw_backoff b;
    bw_backoff_config c = { .min_ms = 1000, .max_ms = 120000, .random = scripted_random };
    bw_backoff_init(&b, &c);
    static const uint32_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000, 64000, 120000,
                                     120000, 120000 };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(bw_backoff_next_delay(&b, 0), want[i]);
    }
    /* Without a random source at all: the same. */
    c.random = NULL;
    bw_backoff_init(&b, &c);
    assert_int_equal(bw_backoff_next_delay(&b, 0), 1000);
    assert_int_equal(bw_backoff_next_delay(&b, 0), 2000);
    random_fails = false;
}

static void full_jitter_range(void **state)
{
    (void)state;
    bw_backoff b;
    bw_backoff_config c = { .min_ms = 1000, .max_ms = 120000, .jitter = BW_BACKOFF_FULL_JITTER,
                            .random = scripted_random };
    /* Extreme draws give the ends of [min, ceiling]. */
    bw_backoff_init(&b, &c);
    for (int i = 0; i < 3; i++) {
        bw_backoff_next_delay(&b, 0);   /* ceiling now 8000 */
    }
    next_random = 0;
    assert_int_equal(bw_backoff_next_delay(&b, 0), 1000);       /* ceiling 8000: lowest */
    next_random = 16000 - 1000;                                 /* span 15001 */
    assert_int_equal(bw_backoff_next_delay(&b, 0), 16000);      /* ceiling 16000: highest */
    next_random = 0xFFFFFFFFu;
    uint32_t d = bw_backoff_next_delay(&b, 0);                  /* ceiling 32000 */
    assert_in_range(d, 1000, 32000);
}

static void equal_jitter_range(void **state)
{
    (void)state;
    bw_backoff b;
    bw_backoff_config c = { .min_ms = 1000, .max_ms = 60000, .jitter = BW_BACKOFF_EQUAL_JITTER,
                            .random = scripted_random };
    bw_backoff_init(&b, &c);
    next_random = 0;
    assert_int_equal(bw_backoff_next_delay(&b, 0), 1000);   /* ceiling 1000: half is below min */
    assert_int_equal(bw_backoff_next_delay(&b, 0), 1000);   /* ceiling 2000: [1000, 2000] */
    assert_int_equal(bw_backoff_next_delay(&b, 0), 2000);   /* ceiling 4000: [2000, 4000] */
    next_random = 4000;                                     /* span 4001 for ceiling 8000 */
    assert_int_equal(bw_backoff_next_delay(&b, 0), 8000);
}

static void delays_spread_and_stay_in_bounds(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        bw_backoff b;
        bw_backoff_config c = { .min_ms = 500, .max_ms = 30000, .jitter = (bw_backoff_jitter)mode,
                                .random = lcg_random };
        bw_backoff_init(&b, &c);
        for (int i = 0; i < 8; i++) {
            bw_backoff_next_delay(&b, 0);   /* ceiling at max */
        }
        uint32_t lo = UINT32_MAX, hi = 0;
        for (int i = 0; i < 2000; i++) {
            uint32_t d = bw_backoff_next_delay(&b, 0);
            assert_in_range(d, mode == BW_BACKOFF_EQUAL_JITTER ? 15000 : 500, 30000);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        /* 2000 draws cover most of the range: jitter is real. */
        assert_true(hi - lo > (mode == BW_BACKOFF_EQUAL_JITTER ? 12000u : 25000u));
    }
}

static void stable_connection_resets(void **state)
{
    (void)state;
    random_fails = true;
    bw_backoff b;
    bw_backoff_config c = { .min_ms = 1000, .max_ms = 120000, .stable_ms = 60000,
                            .random = scripted_random };
    bw_backoff_init(&b, &c);
    for (int i = 0; i < 5; i++) {
        bw_backoff_next_delay(&b, 0);   /* ceiling 32000 */
    }
    /* Up for less than stable_ms: the sequence goes on. */
    bw_backoff_connected(&b, 100000);
    assert_int_equal(bw_backoff_next_delay(&b, 159999), 32000);
    /* Up for stable_ms: back to the minimum. */
    bw_backoff_connected(&b, 200000);
    assert_int_equal(bw_backoff_next_delay(&b, 260000), 1000);
    assert_int_equal(bw_backoff_next_delay(&b, 261000), 2000);
    /* A failure without a connection in between does not count as stable. */
    assert_int_equal(bw_backoff_next_delay(&b, 999999), 4000);
    bw_backoff_reset(&b);
    assert_int_equal(bw_backoff_next_delay(&b, 0), 1000);
    random_fails = false;
}

static void defaults_and_bad_config(void **state)
{
    (void)state;
    random_fails = true;
    bw_backoff b;
    bw_backoff_config c = { .random = scripted_random };
    bw_backoff_init(&b, &c);
    assert_int_equal(bw_backoff_next_delay(&b, 0), BW_BACKOFF_MIN_MS);
    for (int i = 0; i < 20; i++) {
        assert_in_range(bw_backoff_next_delay(&b, 0), BW_BACKOFF_MIN_MS, BW_BACKOFF_MAX_MS);
    }
    assert_int_equal(bw_backoff_next_delay(&b, 0), BW_BACKOFF_MAX_MS);
    /* max below min: max becomes min. */
    bw_backoff_config bad = { .min_ms = 5000, .max_ms = 10, .random = scripted_random };
    bw_backoff_init(&b, &bad);
    assert_int_equal(bw_backoff_next_delay(&b, 0), 5000);
    assert_int_equal(bw_backoff_next_delay(&b, 0), 5000);
    random_fails = false;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ceiling_doubles_to_max),
        cmocka_unit_test(full_jitter_range),
        cmocka_unit_test(equal_jitter_range),
        cmocka_unit_test(delays_spread_and_stay_in_bounds),
        cmocka_unit_test(stable_connection_resets),
        cmocka_unit_test(defaults_and_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
