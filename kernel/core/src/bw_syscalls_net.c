/*
 * System calls of the cloud link (bw_syscalls.h): network requests, their
 * status and reasons, and system-event notifications. Check order as in
 * bw_syscalls.c: by-value arguments, then app pointers for the access the
 * call makes, then the copied struct's fields, then kernel state.
 */
#include "bw_app_mem.h"
#include "bw_network.h"
#include "bw_syscalls.h"

#define SAME_PROTOTYPE(app_call, impl) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&app_call), __typeof__(&impl)), \
                   #impl " must match the prototype of " #app_call)
SAME_PROTOTYPE(mvRequestNetwork, bw_sys_request_network);
SAME_PROTOTYPE(mvReleaseNetwork, bw_sys_release_network);
SAME_PROTOTYPE(mvGetNetworkStatus, bw_sys_get_network_status);
SAME_PROTOTYPE(mvGetNetworkReasons, bw_sys_get_network_reasons);
SAME_PROTOTYPE(mvOpenSystemNotification, bw_sys_open_system_notification);
SAME_PROTOTYPE(mvCloseSystemNotification, bw_sys_close_system_notification);

enum MvStatus bw_sys_give_handle(uintptr_t app_handle_out, uint32_t handle)
{
    void *value = (void *)(uintptr_t)handle;
    return bw_status_from_err(bw_app_copy_out(app_handle_out, &value, sizeof value));
}

enum MvStatus bw_sys_request_network(const struct MvRequestNetworkParams *params,
                                     MvNetworkHandle *handle_out)
{
    struct MvRequestNetworkParams request;
    bw_err err = bw_app_copy_in(&request, (uintptr_t)params, sizeof request);
    if (err == BW_OK) {
        err = bw_app_check_range((uintptr_t)handle_out, sizeof *handle_out, BW_ACCESS_READWRITE);
    }
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    if (request.version != 1u) {
        return MV_STATUS_UNSUPPORTEDSTRUCTUREVERSION;
    }
    uint32_t center = 0;
    err = bw_sys_handle_value(request.v1.notification_handle, &center);
    uint32_t handle = 0;
    if (err == BW_OK) {
        err = bw_network_request(center, request.v1.notification_tag, &handle);
    }
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    enum MvStatus status = bw_sys_give_handle((uintptr_t)handle_out, handle);
    if (status != MV_STATUS_OKAY) {
        (void)bw_network_release(handle);
    }
    return status;
}

enum MvStatus bw_sys_release_network(MvNetworkHandle *handle)
{
    return bw_sys_close_app_handle((uintptr_t)handle, bw_network_release);
}

enum MvStatus bw_sys_get_network_status(MvNetworkHandle handle, enum MvNetworkStatus *status_out)
{
    bw_err err = bw_app_check_range((uintptr_t)status_out, sizeof *status_out, BW_ACCESS_READWRITE);
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    uint32_t value = 0;
    enum MvNetworkStatus status = MV_NETWORKSTATUS_DELIBERATELYOFFLINE;
    err = bw_sys_handle_value(handle, &value);
    if (err == BW_OK) {
        err = bw_network_status(value, &status);
    }
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    return bw_status_from_err(bw_app_copy_out((uintptr_t)status_out, &status, sizeof status));
}

enum MvStatus bw_sys_get_network_reasons(enum MvNetworkReason *reasons_out,
                                         uint32_t *request_ref_count_out)
{
    bw_err err = bw_app_check_range((uintptr_t)reasons_out, sizeof *reasons_out, BW_ACCESS_READWRITE);
    if (err == BW_OK) {
        err = bw_app_check_range((uintptr_t)request_ref_count_out, sizeof *request_ref_count_out,
                                 BW_ACCESS_READWRITE);
    }
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    uint32_t reasons = 0;
    uint32_t count = 0;
    bw_network_reasons(&reasons, &count);
    enum MvNetworkReason reasons_value = (enum MvNetworkReason)reasons;
    err = bw_app_copy_out((uintptr_t)reasons_out, &reasons_value, sizeof reasons_value);
    if (err == BW_OK) {
        err = bw_app_copy_out((uintptr_t)request_ref_count_out, &count, sizeof count);
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_open_system_notification(const struct MvOpenSystemNotificationParams *params,
                                              MvSystemEventHandle *handle_out)
{
    struct MvOpenSystemNotificationParams request;
    bw_err err = bw_app_copy_in(&request, (uintptr_t)params, sizeof request);
    if (err == BW_OK) {
        err = bw_app_check_range((uintptr_t)handle_out, sizeof *handle_out, BW_ACCESS_READWRITE);
    }
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    uint32_t source = (uint32_t)request.notification_source;
    if (source != MV_SYSTEMNOTIFICATIONSOURCE_NETWORK && source != MV_SYSTEMNOTIFICATIONSOURCE_UPDATE) {
        return MV_STATUS_PARAMETERFAULT;
    }
    uint32_t center = 0;
    err = bw_sys_handle_value(request.notification_handle, &center);
    uint32_t handle = 0;
    if (err == BW_OK) {
        err = bw_system_notification_open(center, request.notification_tag, source, &handle);
    }
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    enum MvStatus status = bw_sys_give_handle((uintptr_t)handle_out, handle);
    if (status != MV_STATUS_OKAY) {
        (void)bw_system_notification_close(handle);
    }
    return status;
}

enum MvStatus bw_sys_close_system_notification(MvSystemEventHandle *handle)
{
    return bw_sys_close_app_handle((uintptr_t)handle, bw_system_notification_close);
}
