/*
 * The app's view of the cloud link (see bw_network.h).
 *
 * Two fixed tables, requests and system-event subscriptions; an entry is in
 * use while its handle is live (the handle names the entry's index). The
 * status, reasons and wall-time offset are single words or a 64-bit pair
 * written under port_irq_lock.
 */
#include "bw_channel.h"
#include "bw_config.h"
#include "bw_handles.h"
#include "bw_network.h"
#include "bw_notify.h"
#include "bw_port.h"

typedef struct subscriber {
    bool used;
    uint32_t handle;
    uint32_t notification_handle;
    uint32_t tag;
    uint32_t source;      /* subscriptions: MV_SYSTEMNOTIFICATIONSOURCE_* */
} subscriber;

static subscriber requests[BW_NETWORK_REQUESTS_MAX];
static subscriber subscriptions[BW_SYSTEM_NOTIFICATIONS_MAX];
static enum MvNetworkStatus link_status = MV_NETWORKSTATUS_DELIBERATELYOFFLINE;
static uint32_t reasons;
static bool wall_set;
static uint64_t wall_offset_us;   /* UTC µs minus port_time_us() */
static volatile bool update_waiting;   /* a verified update waits for its polite window */
static volatile bool update_apply;     /* the app asked to apply it now */

void bw_network_reset(void)
{
    uint32_t state = port_irq_lock();
    for (size_t i = 0; i < BW_NETWORK_REQUESTS_MAX; i++) {
        requests[i] = (subscriber){ 0 };
    }
    for (size_t i = 0; i < BW_SYSTEM_NOTIFICATIONS_MAX; i++) {
        subscriptions[i] = (subscriber){ 0 };
    }
    link_status = MV_NETWORKSTATUS_DELIBERATELYOFFLINE;
    reasons = MV_NETWORKREASON_NEVERUSEDNETWORKAPI | MV_NETWORKREASON_RTCNOTSET;
    wall_set = false;
    wall_offset_us = 0;
    update_waiting = false;
    update_apply = false;
    port_irq_unlock(state);
}

void bw_network_app_starting(void)
{
    uint32_t state = port_irq_lock();
    for (size_t i = 0; i < BW_NETWORK_REQUESTS_MAX; i++) {
        requests[i] = (subscriber){ 0 };
    }
    for (size_t i = 0; i < BW_SYSTEM_NOTIFICATIONS_MAX; i++) {
        subscriptions[i] = (subscriber){ 0 };
    }
    reasons = (reasons & ~(uint32_t)MV_NETWORKREASON_USINGNETWORK) | MV_NETWORKREASON_NEVERUSEDNETWORKAPI;
    port_irq_unlock(state);
    bw_handle_free_all_of_kind(BW_HANDLE_KIND_NETWORK);
    bw_handle_free_all_of_kind(BW_HANDLE_KIND_SYSTEM_EVENT);
}

/* Claims a free entry of table and gives it a handle of kind. */
static bw_err open_entry(subscriber *table, size_t size, bw_handle_kind kind,
                         uint32_t notification_handle, uint32_t tag, uint32_t source,
                         uint32_t *handle_out)
{
    uint32_t center;
    if (bw_handle_lookup(notification_handle, BW_HANDLE_KIND_NOTIFICATION, &center) != BW_OK) {
        return BW_E_HANDLE;
    }
    uint32_t state = port_irq_lock();
    size_t index = size;
    for (size_t i = 0; i < size; i++) {
        if (!table[i].used) {
            index = i;
            table[i].used = true;   /* claimed before the lock is dropped */
            break;
        }
    }
    port_irq_unlock(state);
    if (index == size) {
        return BW_E_FULL;
    }
    uint32_t handle = 0;
    bw_err err = bw_handle_alloc(kind, (uint32_t)index, &handle);
    state = port_irq_lock();
    if (err != BW_OK) {
        table[index] = (subscriber){ 0 };
    } else {
        table[index] = (subscriber){ .used = true, .handle = handle,
                                     .notification_handle = notification_handle,
                                     .tag = tag, .source = source };
    }
    port_irq_unlock(state);
    if (err == BW_OK) {
        *handle_out = handle;
    }
    return err;
}

static bw_err close_entry(subscriber *table, size_t size, bw_handle_kind kind, uint32_t handle)
{
    uint32_t index;
    bw_err err = bw_handle_lookup(handle, kind, &index);
    if (err != BW_OK || index >= size) {
        return BW_E_HANDLE;
    }
    err = bw_handle_free(handle, kind);
    if (err != BW_OK) {
        return err;   /* a preempting call closed it first */
    }
    uint32_t state = port_irq_lock();
    table[index] = (subscriber){ 0 };
    port_irq_unlock(state);
    return BW_OK;
}

bw_err bw_network_request(uint32_t notification_handle, uint32_t tag, uint32_t *handle_out)
{
    bw_err err = open_entry(requests, BW_NETWORK_REQUESTS_MAX, BW_HANDLE_KIND_NETWORK,
                            notification_handle, tag, 0, handle_out);
    if (err == BW_OK) {
        bw_network_set_reasons(MV_NETWORKREASON_USINGNETWORK, MV_NETWORKREASON_NEVERUSEDNETWORKAPI);
    }
    return err;
}

bw_err bw_network_release(uint32_t handle)
{
    bw_err err = close_entry(requests, BW_NETWORK_REQUESTS_MAX, BW_HANDLE_KIND_NETWORK, handle);
    if (err == BW_OK && bw_handle_count(BW_HANDLE_KIND_NETWORK) == 0) {
        bw_network_set_reasons(0, MV_NETWORKREASON_USINGNETWORK);
    }
    return err;
}

bw_err bw_network_status(uint32_t handle, enum MvNetworkStatus *status)
{
    uint32_t index;
    if (bw_handle_lookup(handle, BW_HANDLE_KIND_NETWORK, &index) != BW_OK) {
        return BW_E_HANDLE;
    }
    *status = link_status;
    return BW_OK;
}

void bw_network_reasons(uint32_t *reasons_out, uint32_t *request_count)
{
    *reasons_out = reasons;
    *request_count = (uint32_t)bw_handle_count(BW_HANDLE_KIND_NETWORK);
}

bw_err bw_system_notification_open(uint32_t notification_handle, uint32_t tag,
                                   uint32_t source, uint32_t *handle_out)
{
    if (source != MV_SYSTEMNOTIFICATIONSOURCE_NETWORK && source != MV_SYSTEMNOTIFICATIONSOURCE_UPDATE) {
        return BW_E_INVALID;
    }
    return open_entry(subscriptions, BW_SYSTEM_NOTIFICATIONS_MAX, BW_HANDLE_KIND_SYSTEM_EVENT,
                      notification_handle, tag, source, handle_out);
}

bw_err bw_system_notification_close(uint32_t handle)
{
    return close_entry(subscriptions, BW_SYSTEM_NOTIFICATIONS_MAX, BW_HANDLE_KIND_SYSTEM_EVENT, handle);
}

/* Notifies every entry of table that is in use (and of source, for subscriptions). */
static void notify_all(const subscriber *table, size_t size, bool any_source, uint32_t source,
                       enum MvEventType event)
{
    for (size_t i = 0; i < size; i++) {
        uint32_t state = port_irq_lock();
        subscriber s = table[i];
        port_irq_unlock(state);
        if (s.used && s.handle != 0 && (any_source || s.source == source)) {
            /* A center the app has closed meanwhile just refuses. */
            (void)bw_notify_trigger(s.notification_handle, event, s.tag);
        }
    }
}

void bw_network_set_status(enum MvNetworkStatus status)
{
    uint32_t state = port_irq_lock();
    bool changed = status != link_status;
    bool lost = changed && link_status == MV_NETWORKSTATUS_CONNECTED;
    link_status = status;
    port_irq_unlock(state);
    if (lost) {
        bw_channel_link_down();   /* the channels' CHANNELNOTCONNECTED go first */
    }
    if (changed) {
        notify_all(requests, BW_NETWORK_REQUESTS_MAX, true, 0, MV_EVENTTYPE_NETWORKSTATUSCHANGED);
        notify_all(subscriptions, BW_SYSTEM_NOTIFICATIONS_MAX, false, MV_SYSTEMNOTIFICATIONSOURCE_NETWORK,
                   MV_EVENTTYPE_NETWORKSTATUSCHANGED);
    }
}

void bw_system_update_downloaded(void)
{
    uint32_t state = port_irq_lock();
    update_waiting = true;
    update_apply = false;
    port_irq_unlock(state);
    notify_all(subscriptions, BW_SYSTEM_NOTIFICATIONS_MAX, false, MV_SYSTEMNOTIFICATIONSOURCE_UPDATE,
               MV_EVENTTYPE_UPDATEDOWNLOADED);
}

bool bw_system_update_waiting(void)
{
    return update_waiting;
}

void bw_system_update_apply_request(void)
{
    uint32_t state = port_irq_lock();
    update_apply = update_waiting;
    port_irq_unlock(state);
}

bool bw_system_update_take_apply(void)
{
    uint32_t state = port_irq_lock();
    bool apply = update_apply;
    if (apply) {
        update_apply = false;
        update_waiting = false;
    }
    port_irq_unlock(state);
    return apply;
}

void bw_network_set_reasons(uint32_t set, uint32_t clear)
{
    uint32_t state = port_irq_lock();
    reasons = (reasons & ~clear) | set;
    port_irq_unlock(state);
}

void bw_wall_time_set(uint64_t utc_us)
{
    uint64_t now = port_time_us();
    uint32_t state = port_irq_lock();
    wall_offset_us = utc_us - now;
    wall_set = true;
    port_irq_unlock(state);
    bw_network_set_reasons(0, MV_NETWORKREASON_RTCNOTSET);
}

bw_err bw_wall_time_get(uint64_t *utc_us)
{
    uint32_t state = port_irq_lock();
    bool set = wall_set;
    uint64_t offset = wall_offset_us;
    port_irq_unlock(state);
    if (!set) {
        return BW_E_UNAVAILABLE;
    }
    *utc_us = port_time_us() + offset;
    return BW_OK;
}
