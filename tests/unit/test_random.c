/*
 * bw_random: CTR_DRBG over the port's entropy.
 * Promises checked:
 *  - with working entropy, init succeeds and bytes come out, differing from
 *    call to call, for requests both small and above one DRBG request (1024);
 *  - the output is deterministic for a deterministic entropy source (same
 *    seed, same stream), which the host port relies on for reproducible tests;
 *  - with failing entropy, init fails with BW_E_IO, and bytes are then refused
 *    (BW_E_UNAVAILABLE) with the caller's buffer zeroed, never left with stale data;
 *  - a later successful init makes the generator usable again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "bw_random.h"
#include "test_support.h"

static void produces_changing_bytes(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    assert_int_equal(bw_random_bytes(a, sizeof a), BW_OK);
    assert_int_equal(bw_random_bytes(b, sizeof b), BW_OK);
    assert_memory_not_equal(a, b, sizeof a);
    uint8_t zeros[32] = { 0 };
    assert_memory_not_equal(a, zeros, sizeof a);
}

static void large_requests_are_split(void **state)
{
    (void)state;
    static uint8_t big[5000];
    memset(big, 0, sizeof big);
    assert_int_equal(bw_random_bytes(big, sizeof big), BW_OK);
    /* Every 1 KiB stretch got filled (a zero run of 64 bytes would be absurd). */
    for (size_t start = 0; start + 64 <= sizeof big; start += 1000) {
        uint8_t zeros[64] = { 0 };
        assert_memory_not_equal(big + start, zeros, sizeof zeros);
    }
    assert_int_equal(bw_random_bytes(big, 0), BW_OK);
}

static void same_entropy_same_stream(void **state)
{
    (void)state;
    uint8_t first[16], second[16];
    port_host_reset();
    assert_int_equal(bw_random_init(), BW_OK);
    assert_int_equal(bw_random_bytes(first, sizeof first), BW_OK);
    port_host_reset();
    assert_int_equal(bw_random_init(), BW_OK);
    assert_int_equal(bw_random_bytes(second, sizeof second), BW_OK);
    assert_memory_equal(first, second, sizeof first);
    test_support_reset();
}

static void failing_entropy_disables_the_generator(void **state)
{
    (void)state;
    port_host_set_entropy_failing(true);
    assert_int_equal(bw_random_init(), BW_E_IO);
    uint8_t buf[8];
    memset(buf, 0x5C, sizeof buf);
    assert_int_equal(bw_random_bytes(buf, sizeof buf), BW_E_UNAVAILABLE);
    uint8_t zeros[8] = { 0 };
    assert_memory_equal(buf, zeros, sizeof buf);

    port_host_set_entropy_failing(false);
    assert_int_equal(bw_random_init(), BW_OK);
    assert_int_equal(bw_random_bytes(buf, sizeof buf), BW_OK);
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, test_setup, test_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(produces_changing_bytes),
        TEST(large_requests_are_split),
        TEST(same_entropy_same_stream),
        TEST(failing_entropy_disables_the_generator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
