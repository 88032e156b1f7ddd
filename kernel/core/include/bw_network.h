/*
 * What the app sees of the cloud link: its network requests, its
 * subscriptions to system notifications, the link's status and reasons, and
 * the wall time the cloud set (docs/DESIGN.md "Cloud link").
 *
 * The kernel keeps the link up whenever the device is provisioned (it
 * carries the app's logs, crash reports and updates); a request does not
 * gate it, it registers the app's interest and where NETWORKSTATUSCHANGED
 * goes. The cloud service (kernel loop) reports status changes with
 * bw_network_set_status; every open request and NETWORK subscription is
 * notified once per change. Kernel calls and the kernel loop share this
 * state under port_irq_lock.
 */
#ifndef BW_NETWORK_H
#define BW_NETWORK_H

#include <stdbool.h>
#include <stdint.h>

#include "bw_err.h"
#include "mv_syscalls.h"

/* Forgets every request and subscription, the status (DELIBERATELYOFFLINE
 * until the cloud service starts) and the wall time. Kernel start only. */
void bw_network_reset(void);

/* The app is being restarted: its requests and subscriptions are gone (their
 * handles are retired); the link and the wall time stay. */
void bw_network_app_starting(void);

/* Opens a request notifying notification_handle (a live notification center)
 * with tag. BW_E_HANDLE for a bad center, BW_E_FULL when
 * BW_NETWORK_REQUESTS_MAX are open, or the handle allocator's error. */
bw_err bw_network_request(uint32_t notification_handle, uint32_t tag, uint32_t *handle_out);

/* Closes a request. BW_E_HANDLE if it is not a live network handle. */
bw_err bw_network_release(uint32_t handle);

/* The link's status, for a live request handle (BW_E_HANDLE otherwise). */
bw_err bw_network_status(uint32_t handle, enum MvNetworkStatus *status);

/* The reasons bits (MV_NETWORKREASON_*) and the number of open requests. */
void bw_network_reasons(uint32_t *reasons, uint32_t *request_count);

/* Subscribes notification_handle to a system event source (NETWORK or
 * UPDATE). BW_E_INVALID for another source, BW_E_HANDLE for a bad center,
 * BW_E_FULL when BW_SYSTEM_NOTIFICATIONS_MAX are open. */
bw_err bw_system_notification_open(uint32_t notification_handle, uint32_t tag,
                                   uint32_t source, uint32_t *handle_out);

/* Ends a subscription. BW_E_HANDLE if it is not a live system-event handle. */
bw_err bw_system_notification_close(uint32_t handle);

/* Cloud service: the link's status is now `status`; on a change every open
 * request and NETWORK subscription gets NETWORKSTATUSCHANGED with its tag. */
void bw_network_set_status(enum MvNetworkStatus status);

/* Cloud service: sets and clears reason bits (MV_NETWORKREASON_*). */
void bw_network_set_reasons(uint32_t set, uint32_t clear);

/* OTA: a verified update waits for its polite window: every open UPDATE
 * subscription gets MV_EVENTTYPE_UPDATEDOWNLOADED, and from now on
 * mvRestart(AUTOAPPLYUPDATE) asks for the install instead of a restart. */
void bw_system_update_downloaded(void);

/* True while such an update waits (set above, cleared by the take below). */
bool bw_system_update_waiting(void);

/* System call: the app asks to apply the waiting update now. */
void bw_system_update_apply_request(void);

/* OTA (kernel loop): true once per request; the update stops waiting. */
bool bw_system_update_take_apply(void);

/* Cloud service: the UTC time in microseconds is `utc_us` now. */
void bw_wall_time_set(uint64_t utc_us);

/* The UTC time in microseconds; BW_E_UNAVAILABLE until the cloud set it. */
bw_err bw_wall_time_get(uint64_t *utc_us);

#endif
