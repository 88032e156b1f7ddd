/*
 * bw_kernel: start-up and the boundary between two runs of the app.
 * Promises checked:
 *  - after init the wake reason is COLDBOOT, no center is open, no handle is
 *    live, no server-log buffer is attached, and handles can be issued;
 *  - init reports an entropy failure (BW_E_IO) but still empties every table;
 *  - app_starting closes every center and retires every notification handle,
 *    forgets the server-log buffer, records the new wake reason and says so
 *    in the kernel log;
 *  - the server-log buffer can be attached once per app run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "bw_config.h"
#include "bw_handles.h"
#include "bw_notify.h"
#include "test_support.h"

static void init_gives_a_clean_cold_boot(void **state)
{
    (void)state;
    assert_int_equal(bw_kernel_wake_reason(), MV_WAKEREASON_COLDBOOT);
    assert_int_equal(bw_notify_open_count(), 0);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_NONE), BW_MAX_HANDLES);
    assert_false(bw_kernel_server_log_ready());
    uint32_t handle = 0;
    assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_NOTIFICATION, 0, &handle), BW_OK);
}

static void init_reports_entropy_failure_and_still_resets(void **state)
{
    (void)state;
    uint32_t handle = 0;
    assert_int_equal(bw_notify_setup(3, addr_of(app_ram), 32, &handle), BW_OK);
    bw_kernel_app_starting(MV_WAKEREASON_APPLICATIONCRASH);

    port_host_set_entropy_failing(true);
    assert_int_equal(bw_kernel_init(), BW_E_IO);
    assert_int_equal(bw_notify_open_count(), 0);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_NONE), BW_MAX_HANDLES);
    assert_int_equal(bw_kernel_wake_reason(), MV_WAKEREASON_COLDBOOT);
    /* Without a seeded generator no center can be opened. */
    assert_int_not_equal(bw_notify_setup(3, addr_of(app_ram), 32, &handle), BW_OK);
    assert_int_equal(bw_notify_open_count(), 0);
}

static void app_starting_forgets_the_previous_run(void **state)
{
    (void)state;
    uint32_t handles[3];
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(bw_notify_setup(i, addr_of(app_ram) + 64 * i, 32, &handles[i]), BW_OK);
    }
    assert_int_equal(bw_kernel_server_log_attach(addr_of(app_ram) + 4096, 512), BW_OK);
    assert_true(bw_kernel_server_log_ready());

    port_host_console_clear();
    bw_kernel_app_starting(MV_WAKEREASON_APPLICATIONCRASH);

    assert_int_equal(bw_kernel_wake_reason(), MV_WAKEREASON_APPLICATIONCRASH);
    assert_int_equal(bw_notify_open_count(), 0);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_NOTIFICATION), 0);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(bw_notify_trigger(handles[i], MV_EVENTTYPE_CHANNELDATAREADABLE, 0), BW_E_HANDLE);
    }
    assert_false(bw_kernel_server_log_ready());
    assert_string_equal(port_host_console(), "[kernel] app starting (wake reason 8)\n");

    /* The new run may claim the same IRQs, rings and log buffer. */
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(bw_notify_setup(i, addr_of(app_ram) + 64 * i, 32, &handles[i]), BW_OK);
    }
    assert_int_equal(bw_kernel_server_log_attach(addr_of(app_ram) + 4096, 512), BW_OK);

    bw_kernel_app_starting(MV_WAKEREASON_REMOTEAPPLICATIONRESTART);
    assert_int_equal(bw_kernel_wake_reason(), MV_WAKEREASON_REMOTEAPPLICATIONRESTART);
}

static void server_log_buffer_attaches_once_per_run(void **state)
{
    (void)state;
    assert_int_equal(bw_kernel_server_log_attach(addr_of(app_ram), 512), BW_OK);
    assert_int_equal(bw_kernel_server_log_attach(addr_of(app_ram) + 512, 512), BW_E_IN_USE);
    assert_true(bw_kernel_server_log_ready());
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, test_setup, test_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(init_gives_a_clean_cold_boot),
        TEST(init_reports_entropy_failure_and_still_resets),
        TEST(app_starting_forgets_the_previous_run),
        TEST(server_log_buffer_attaches_once_per_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
