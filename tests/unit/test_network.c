/*
 * The app's view of the cloud link (bw_network.h):
 *  - a request needs a live notification center; its handle reads the
 *    link's status; reasons count requests and say USINGNETWORK;
 *  - each status change reaches every request and every NETWORK
 *    subscription once (with its tag), UPDATE subscriptions not at all, and
 *    no change means no notification;
 *  - the tables are bounded; closed handles are dead; an app restart retires
 *    every request and subscription but keeps the status and wall time;
 *  - the wall time is unavailable until set, then runs with port time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "bw_config.h"
#include "bw_handles.h"
#include "bw_network.h"
#include "bw_syscalls.h"
#include "bw_notify.h"
#include "test_support.h"

#define APP_IRQ 17u
#define SLOTS 8u

static volatile struct MvNotification *ring(void)
{
    return (volatile struct MvNotification *)(void *)app_ram;
}

static uint32_t open_center(void)
{
    memset(app_ram, 0, SLOTS * sizeof(struct MvNotification));
    uint32_t handle = 0;
    assert_int_equal(bw_notify_setup(APP_IRQ, (uintptr_t)app_ram, SLOTS * sizeof(struct MvNotification),
                                     &handle), BW_OK);
    return handle;
}

static void requests(void **state)
{
    (void)state;
    uint32_t handle = 0xABCD;
    assert_int_equal(bw_network_request(0x1234, 1, &handle), BW_E_HANDLE);
    assert_int_equal(handle, 0xABCD);
    uint32_t center = open_center();
    uint32_t reasons = 0;
    uint32_t count = 9;
    bw_network_reasons(&reasons, &count);
    assert_int_equal(count, 0);
    assert_true(reasons & MV_NETWORKREASON_NEVERUSEDNETWORKAPI);
    assert_true(reasons & MV_NETWORKREASON_RTCNOTSET);
    assert_int_equal(bw_network_request(center, 7, &handle), BW_OK);
    enum MvNetworkStatus status = MV_NETWORKSTATUS_CONNECTED;
    assert_int_equal(bw_network_status(handle, &status), BW_OK);
    assert_int_equal(status, MV_NETWORKSTATUS_DELIBERATELYOFFLINE);
    bw_network_reasons(&reasons, &count);
    assert_int_equal(count, 1);
    assert_true(reasons & MV_NETWORKREASON_USINGNETWORK);
    assert_false(reasons & MV_NETWORKREASON_NEVERUSEDNETWORKAPI);
    assert_int_equal(bw_network_status(center, &status), BW_E_HANDLE);   /* another kind */
    assert_int_equal(bw_network_release(handle), BW_OK);
    assert_int_equal(bw_network_release(handle), BW_E_HANDLE);
    assert_int_equal(bw_network_status(handle, &status), BW_E_HANDLE);
    bw_network_reasons(&reasons, &count);
    assert_int_equal(count, 0);
    assert_false(reasons & MV_NETWORKREASON_USINGNETWORK);
}

static void table_limits(void **state)
{
    (void)state;
    uint32_t center = open_center();
    uint32_t handles[BW_NETWORK_REQUESTS_MAX];
    for (size_t i = 0; i < BW_NETWORK_REQUESTS_MAX; i++) {
        assert_int_equal(bw_network_request(center, (uint32_t)i, &handles[i]), BW_OK);
    }
    uint32_t extra = 0;
    assert_int_equal(bw_network_request(center, 99, &extra), BW_E_FULL);
    assert_int_equal(bw_network_release(handles[3]), BW_OK);
    assert_int_equal(bw_network_request(center, 99, &extra), BW_OK);
    for (size_t i = 0; i < BW_SYSTEM_NOTIFICATIONS_MAX; i++) {
        assert_int_equal(bw_system_notification_open(center, 0, MV_SYSTEMNOTIFICATIONSOURCE_NETWORK,
                                                     &handles[0]), BW_OK);
    }
    assert_int_equal(bw_system_notification_open(center, 0, MV_SYSTEMNOTIFICATIONSOURCE_UPDATE,
                                                 &extra), BW_E_FULL);
    assert_int_equal(bw_system_notification_open(center, 0, 2, &extra), BW_E_INVALID);
}

static void status_changes_notify(void **state)
{
    (void)state;
    uint32_t center = open_center();
    uint32_t request = 0;
    uint32_t network_sub = 0;
    uint32_t update_sub = 0;
    assert_int_equal(bw_network_request(center, 11, &request), BW_OK);
    assert_int_equal(bw_system_notification_open(center, 22, MV_SYSTEMNOTIFICATIONSOURCE_NETWORK,
                                                 &network_sub), BW_OK);
    assert_int_equal(bw_system_notification_open(center, 33, MV_SYSTEMNOTIFICATIONSOURCE_UPDATE,
                                                 &update_sub), BW_OK);
    bw_network_set_status(MV_NETWORKSTATUS_CONNECTING);
    assert_int_equal(ring()[0].event_type, MV_EVENTTYPE_NETWORKSTATUSCHANGED);
    assert_int_equal(ring()[0].tag, 11);
    assert_int_equal(ring()[1].event_type, MV_EVENTTYPE_NETWORKSTATUSCHANGED);
    assert_int_equal(ring()[1].tag, 22);
    assert_int_equal(ring()[2].event_type, MV_EVENTTYPE_NOEVENT);
    bw_network_set_status(MV_NETWORKSTATUS_CONNECTING);   /* no change */
    assert_int_equal(ring()[2].event_type, MV_EVENTTYPE_NOEVENT);
    assert_int_equal(bw_system_notification_close(network_sub), BW_OK);
    assert_int_equal(bw_system_notification_close(network_sub), BW_E_HANDLE);
    bw_network_set_status(MV_NETWORKSTATUS_CONNECTED);
    assert_int_equal(ring()[2].tag, 11);
    assert_int_equal(ring()[3].event_type, MV_EVENTTYPE_NOEVENT);
    enum MvNetworkStatus status;
    assert_int_equal(bw_network_status(request, &status), BW_OK);
    assert_int_equal(status, MV_NETWORKSTATUS_CONNECTED);
}

/* A verified OTA update waiting for its polite window: UPDATE subscriptions
 * (only they) get UPDATEDOWNLOADED; mvRestart(AUTOAPPLYUPDATE) then asks the
 * kernel loop for the install (once) instead of restarting the app; without
 * a waiting update it restarts the app as before. */
static void update_downloaded_and_apply(void **state)
{
    (void)state;
    uint32_t center = open_center();
    uint32_t network_sub = 0;
    uint32_t update_sub = 0;
    assert_int_equal(bw_system_notification_open(center, 22, MV_SYSTEMNOTIFICATIONSOURCE_NETWORK,
                                                 &network_sub), BW_OK);
    assert_int_equal(bw_system_notification_open(center, 33, MV_SYSTEMNOTIFICATIONSOURCE_UPDATE,
                                                 &update_sub), BW_OK);
    assert_int_equal(bw_sys_restart(MV_RESTARTMODE_AUTOAPPLYUPDATE), MV_STATUS_OKAY);
    assert_int_equal(port_host_restart_requests(), 1);   /* nothing waits: a restart */
    assert_false(bw_system_update_take_apply());
    bw_system_update_downloaded();
    assert_int_equal(ring()[0].event_type, MV_EVENTTYPE_UPDATEDOWNLOADED);
    assert_int_equal(ring()[0].tag, 33);
    assert_int_equal(ring()[1].event_type, MV_EVENTTYPE_NOEVENT);
    assert_true(bw_system_update_waiting());
    assert_false(bw_system_update_take_apply());         /* the app has not asked */
    assert_int_equal(bw_sys_restart(MV_RESTARTMODE_AUTOAPPLYUPDATE), MV_STATUS_OKAY);
    assert_int_equal(port_host_restart_requests(), 1);   /* no restart: the install restarts it */
    assert_true(bw_system_update_take_apply());
    assert_false(bw_system_update_take_apply());
    assert_false(bw_system_update_waiting());
}

static void app_restart_retires(void **state)
{
    (void)state;
    uint32_t center = open_center();
    uint32_t request = 0;
    uint32_t sub = 0;
    assert_int_equal(bw_network_request(center, 1, &request), BW_OK);
    assert_int_equal(bw_system_notification_open(center, 2, MV_SYSTEMNOTIFICATIONSOURCE_NETWORK, &sub), BW_OK);
    bw_network_set_status(MV_NETWORKSTATUS_CONNECTED);
    bw_wall_time_set(1800000000000000ull);
    bw_network_app_starting();
    enum MvNetworkStatus status;
    assert_int_equal(bw_network_status(request, &status), BW_E_HANDLE);
    assert_int_equal(bw_system_notification_close(sub), BW_E_HANDLE);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_NETWORK), 0);
    uint32_t again = 0;
    assert_int_equal(bw_network_request(center, 1, &again), BW_OK);
    assert_int_equal(bw_network_status(again, &status), BW_OK);
    assert_int_equal(status, MV_NETWORKSTATUS_CONNECTED);
    uint64_t wall = 0;
    assert_int_equal(bw_wall_time_get(&wall), BW_OK);
}

static void wall_time(void **state)
{
    (void)state;
    uint64_t wall = 5;
    assert_int_equal(bw_wall_time_get(&wall), BW_E_UNAVAILABLE);
    assert_int_equal(wall, 5);
    port_host_set_time_us(1000);
    bw_wall_time_set(1800000000000000ull);
    port_host_set_time_us(251000);
    assert_int_equal(bw_wall_time_get(&wall), BW_OK);
    assert_true(wall == 1800000000250000ull);
    uint32_t reasons;
    uint32_t count;
    bw_network_reasons(&reasons, &count);
    assert_false(reasons & MV_NETWORKREASON_RTCNOTSET);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(requests, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(table_limits, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(status_changes_notify, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(update_downloaded_and_apply, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(app_restart_retires, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(wall_time, test_setup, test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
