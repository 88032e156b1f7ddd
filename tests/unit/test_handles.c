/*
 * bw_handles: the app's names for kernel objects.
 * Promises checked:
 *  - a handle is never 0: a draw of 0 is thrown away;
 *  - handles are unique among live handles: a draw equal to a live handle is
 *    thrown away; with the real generator a full table holds distinct values;
 *  - lookup returns the object of a live handle of the right kind only: a
 *    wrong kind, 0, an unknown value, or a freed (stale) handle is BW_E_HANDLE;
 *  - free of a stale or wrong-kind handle is BW_E_HANDLE and changes nothing;
 *  - the table holds BW_MAX_HANDLES, then BW_E_FULL; a freed entry is reusable;
 *  - free_all_of_kind retires exactly the handles of that kind;
 *  - a random-generator failure, or a generator that only yields unusable
 *    values, gives an error and allocates nothing.
 * The values are scripted by wrapping bw_random_bytes (-Wl,--wrap).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "bw_config.h"
#include "bw_handles.h"
#include "bw_random.h"
#include "test_support.h"

/* ---- scripted random values ---- */

#define SCRIPT_MAX 32
static uint32_t script[SCRIPT_MAX];
static size_t script_len;
static size_t script_pos;
static bool random_fails;
static size_t random_calls;

bw_err __real_bw_random_bytes(void *buf, size_t len);
bw_err __wrap_bw_random_bytes(void *buf, size_t len);

bw_err __wrap_bw_random_bytes(void *buf, size_t len)
{
    random_calls++;
    if (random_fails) {
        return BW_E_IO;
    }
    if (script_pos < script_len && len == sizeof(uint32_t)) {
        memcpy(buf, &script[script_pos++], sizeof(uint32_t));
        return BW_OK;
    }
    return __real_bw_random_bytes(buf, len);
}

static void script_values(const uint32_t *values, size_t count)
{
    assert_true(count <= SCRIPT_MAX);
    memcpy(script, values, count * sizeof values[0]);
    script_len = count;
    script_pos = 0;
}

static int setup(void **state)
{
    script_len = 0;
    script_pos = 0;
    random_fails = false;
    random_calls = 0;
    return test_setup(state);
}

/* ---- tests ---- */

static void zero_is_never_a_handle(void **state)
{
    (void)state;
    const uint32_t values[] = { 0, 0, 42 };
    script_values(values, 3);
    uint32_t handle = 0;
    assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_NOTIFICATION, 7, &handle), BW_OK);
    assert_int_equal(handle, 42);
    assert_int_equal(random_calls, 3);

    uint32_t object = 99;
    assert_int_equal(bw_handle_lookup(0, BW_HANDLE_KIND_NOTIFICATION, &object), BW_E_HANDLE);
    assert_int_equal(bw_handle_free(0, BW_HANDLE_KIND_NOTIFICATION), BW_E_HANDLE);
    assert_int_equal(object, 99);
}

static void a_live_value_is_never_issued_twice(void **state)
{
    (void)state;
    const uint32_t values[] = { 42, 42, 42, 43 };
    script_values(values, 4);
    uint32_t first = 0, second = 0;
    assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_NOTIFICATION, 1, &first), BW_OK);
    assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_CHANNEL, 2, &second), BW_OK);
    assert_int_equal(first, 42);
    assert_int_equal(second, 43);

    /* Once 42 is freed it may be drawn again. */
    assert_int_equal(bw_handle_free(42, BW_HANDLE_KIND_NOTIFICATION), BW_OK);
    const uint32_t again[] = { 43, 42 };
    script_values(again, 2);
    uint32_t third = 0;
    assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_NETWORK, 3, &third), BW_OK);
    assert_int_equal(third, 42);
}

static void real_generator_fills_the_table_with_distinct_nonzero_values(void **state)
{
    (void)state;
    uint32_t handles[BW_MAX_HANDLES];
    for (uint32_t i = 0; i < BW_MAX_HANDLES; i++) {
        assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_CHANNEL, i, &handles[i]), BW_OK);
        assert_int_not_equal(handles[i], 0);
        for (uint32_t j = 0; j < i; j++) {
            assert_int_not_equal(handles[i], handles[j]);
        }
    }
    for (uint32_t i = 0; i < BW_MAX_HANDLES; i++) {
        uint32_t object = UINT32_MAX;
        assert_int_equal(bw_handle_lookup(handles[i], BW_HANDLE_KIND_CHANNEL, &object), BW_OK);
        assert_int_equal(object, i);
    }
}

static void lookup_needs_the_right_kind(void **state)
{
    (void)state;
    uint32_t handle = 0;
    assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_NOTIFICATION, 5, &handle), BW_OK);
    uint32_t object = 1234;
    assert_int_equal(bw_handle_lookup(handle, BW_HANDLE_KIND_CHANNEL, &object), BW_E_HANDLE);
    assert_int_equal(bw_handle_lookup(handle, BW_HANDLE_KIND_NONE, &object), BW_E_HANDLE);
    assert_int_equal(object, 1234);
    assert_int_equal(bw_handle_lookup(handle, BW_HANDLE_KIND_NOTIFICATION, &object), BW_OK);
    assert_int_equal(object, 5);
    assert_int_equal(bw_handle_lookup(handle ^ 1u, BW_HANDLE_KIND_NOTIFICATION, &object), BW_E_HANDLE);

    /* Freeing as another kind fails and leaves the handle live. */
    assert_int_equal(bw_handle_free(handle, BW_HANDLE_KIND_CHANNEL), BW_E_HANDLE);
    assert_int_equal(bw_handle_lookup(handle, BW_HANDLE_KIND_NOTIFICATION, &object), BW_OK);
}

static void stale_handle_is_rejected_after_free(void **state)
{
    (void)state;
    uint32_t handle = 0;
    assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_NOTIFICATION, 3, &handle), BW_OK);
    assert_int_equal(bw_handle_free(handle, BW_HANDLE_KIND_NOTIFICATION), BW_OK);
    uint32_t object = 77;
    assert_int_equal(bw_handle_lookup(handle, BW_HANDLE_KIND_NOTIFICATION, &object), BW_E_HANDLE);
    assert_int_equal(object, 77);
    assert_int_equal(bw_handle_free(handle, BW_HANDLE_KIND_NOTIFICATION), BW_E_HANDLE);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_NOTIFICATION), 0);
}

static void table_full_then_reusable(void **state)
{
    (void)state;
    uint32_t handles[BW_MAX_HANDLES];
    for (uint32_t i = 0; i < BW_MAX_HANDLES; i++) {
        assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_NETWORK, i, &handles[i]), BW_OK);
    }
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_NONE), 0);
    uint32_t extra = 0xDEAD;
    assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_NETWORK, 99, &extra), BW_E_FULL);
    assert_int_equal(extra, 0xDEAD);

    assert_int_equal(bw_handle_free(handles[10], BW_HANDLE_KIND_NETWORK), BW_OK);
    assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_NETWORK, 99, &extra), BW_OK);
    uint32_t object = 0;
    assert_int_equal(bw_handle_lookup(extra, BW_HANDLE_KIND_NETWORK, &object), BW_OK);
    assert_int_equal(object, 99);
    /* Every other handle still names its own object. */
    for (uint32_t i = 0; i < BW_MAX_HANDLES; i++) {
        if (i == 10) {
            continue;
        }
        assert_int_equal(bw_handle_lookup(handles[i], BW_HANDLE_KIND_NETWORK, &object), BW_OK);
        assert_int_equal(object, i);
    }
}

static void free_all_of_kind_spares_other_kinds(void **state)
{
    (void)state;
    uint32_t notification[4], channel[3];
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_NOTIFICATION, i, &notification[i]), BW_OK);
    }
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_CHANNEL, i, &channel[i]), BW_OK);
    }
    bw_handle_free_all_of_kind(BW_HANDLE_KIND_NOTIFICATION);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_NOTIFICATION), 0);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_CHANNEL), 3);
    uint32_t object;
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(bw_handle_lookup(notification[i], BW_HANDLE_KIND_NOTIFICATION, &object), BW_E_HANDLE);
    }
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(bw_handle_lookup(channel[i], BW_HANDLE_KIND_CHANNEL, &object), BW_OK);
        assert_int_equal(object, i);
    }
    /* Freeing "none" frees nothing. */
    bw_handle_free_all_of_kind(BW_HANDLE_KIND_NONE);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_CHANNEL), 3);
}

static void random_failure_allocates_nothing(void **state)
{
    (void)state;
    random_fails = true;
    uint32_t handle = 0xBEEF;
    assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_NOTIFICATION, 1, &handle), BW_E_IO);
    assert_int_equal(handle, 0xBEEF);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_NOTIFICATION), 0);
}

static void endless_unusable_draws_give_up(void **state)
{
    (void)state;
    uint32_t zeros[BW_HANDLE_DRAW_ATTEMPTS] = { 0 };
    script_values(zeros, BW_HANDLE_DRAW_ATTEMPTS);
    uint32_t handle = 0xBEEF;
    assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_NOTIFICATION, 1, &handle), BW_E_IO);
    assert_int_equal(handle, 0xBEEF);
    assert_int_equal(random_calls, BW_HANDLE_DRAW_ATTEMPTS);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_NONE), BW_MAX_HANDLES);
}

static void kind_none_cannot_be_allocated(void **state)
{
    (void)state;
    uint32_t handle = 0xBEEF;
    assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_NONE, 1, &handle), BW_E_INVALID);
    assert_int_equal(handle, 0xBEEF);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_NONE), BW_MAX_HANDLES);
}

static void uninitialised_generator_allocates_nothing(void **state)
{
    (void)state;
    /* A kernel whose entropy failed at start cannot issue handles. */
    port_host_set_entropy_failing(true);
    assert_int_equal(bw_random_init(), BW_E_IO);
    uint32_t handle = 0xBEEF;
    assert_int_not_equal(bw_handle_alloc(BW_HANDLE_KIND_NOTIFICATION, 1, &handle), BW_OK);
    assert_int_equal(handle, 0xBEEF);
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, test_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(zero_is_never_a_handle),
        TEST(a_live_value_is_never_issued_twice),
        TEST(real_generator_fills_the_table_with_distinct_nonzero_values),
        TEST(lookup_needs_the_right_kind),
        TEST(stale_handle_is_rejected_after_free),
        TEST(table_full_then_reusable),
        TEST(free_all_of_kind_spares_other_kinds),
        TEST(random_failure_allocates_nothing),
        TEST(endless_unusable_draws_give_up),
        TEST(kind_none_cannot_be_allocated),
        TEST(uninitialised_generator_allocates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
