/*
 * Channels: the app's pipes to the cloud (docs/DESIGN.md "Channels").
 *
 * A channel is a slot of a fixed table of BW_CHANNELS_MAX, named by a handle
 * of kind BW_HANDLE_KIND_CHANNEL, with two app-owned buffers (receive and
 * send) that stay in the app's RAM. The kernel never keeps an app pointer
 * it did not check at open, and checks every range again before it copies.
 *
 *  - OPAQUEBYTES channels are byte rings: the app writes into the send ring
 *    and reads in place from the receive ring; whatever serves the endpoint
 *    (bw_channel_set_endpoints) takes and delivers bytes with
 *    bw_channel_take / bw_channel_deliver from the kernel loop.
 *  - HTTP channels carry one request and its response (bw_http.h); the
 *    buffers hold the serialized request and the response's headers and body.
 *  - CONFIGFETCH channels carry one config fetch the same way
 *    (bw_config_fetch.h); the receive buffer holds the values.
 *  - MQTT channels carry a session with the app's broker (bw_appmqtt.h);
 *    the buffers hold serialized requests and received messages.
 *
 * When the cloud link stops being CONNECTED every open channel closes with
 * MV_CLOSUREREASON_NETWORKDISCONNECTED and its center gets
 * CHANNELNOTCONNECTED; its handle stays valid until the app closes it.
 *
 * Every function takes port_irq_lock itself (none may be called holding it).
 */
#ifndef BW_CHANNEL_H
#define BW_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"
#include "mv_syscalls.h"

/* What an open asks for (the syscall layer's kernel copy of the app's params;
 * endpoint points at a kernel copy of at most BW_CHANNEL_ENDPOINT_MAX bytes). */
typedef struct bw_channel_open_params {
    uint32_t notification_handle;
    uint32_t tag;
    uint32_t network_handle;
    uintptr_t rx;          /* app address of the receive buffer */
    uint32_t rx_len;
    uintptr_t tx;          /* app address of the send buffer */
    uint32_t tx_len;
    uint32_t type;         /* enum MvChannelType */
    const uint8_t *endpoint;
    size_t endpoint_len;   /* > BW_CHANNEL_ENDPOINT_MAX: no endpoint matches */
} bw_channel_open_params;

/* Says whether a relay serves endpoint for a channel of type (other than
 * HTTP, CONFIGFETCH and MQTT, which need no endpoint). The extension point
 * for OPAQUEBYTES relays; NULL (the default): none is served. */
typedef bool (*bw_channel_endpoint_fn)(uint32_t type, const uint8_t *endpoint, size_t len);
void bw_channel_set_endpoints(bw_channel_endpoint_fn served);

/* Forgets every channel and the open history. Kernel start only. */
void bw_channel_reset(void);

/* The app is being restarted: every channel is gone, its handle retired. */
void bw_channel_app_starting(void);

/* Opens a channel at time now_us. Checks, in this order:
 *  BW_E_CHANNEL_TYPE  type unknown;
 *  BW_E_ENDPOINT      an OPAQUEBYTES endpoint no relay serves;
 *  BW_E_SIZE          a buffer length 0, not a multiple of
 *                     BW_CHANNEL_BUFFER_ALIGN or above BW_CHANNEL_BUFFER_MAX;
 *  BW_E_ALIGN         a buffer address not a multiple of BW_CHANNEL_BUFFER_ALIGN;
 *  BW_E_FAULT         a buffer not wholly app read-write memory;
 *  BW_E_IN_USE        the buffers overlap each other or an open channel's;
 *  BW_E_HANDLE        the center or the network request is not live;
 *  BW_E_OFFLINE       the cloud link is not CONNECTED;
 *  BW_E_RATE          BW_CHANNEL_OPENS_PER_SECOND opens in the last second;
 *  BW_E_CHANNELS      BW_CHANNELS_MAX are open;
 *  or the handle allocator's error. On error nothing changed. */
bw_err bw_channel_open(const bw_channel_open_params *params, uint64_t now_us, uint32_t *handle_out);

/* Closes a channel and retires its handle (an HTTP request in flight is
 * forgotten: its response is dropped; an MQTT session is ended by CLOSE). BW_E_HANDLE if not a live channel. */
bw_err bw_channel_close(uint32_t handle);

/* NONE while connected, else why it closed. BW_E_HANDLE. */
bw_err bw_channel_closure_reason(uint32_t handle, enum MvClosureReason *reason);

/* The channel's type into *type. BW_E_HANDLE. */
bw_err bw_channel_type(uint32_t handle, uint32_t *type);

/* OPAQUEBYTES: the unread bytes that lie contiguous in the receive ring
 * (*app_data: their app address, *len: their count, 0 when none).
 * BW_E_HANDLE; BW_E_UNAVAILABLE for an HTTP channel; BW_E_CLOSED once
 * closed and drained. */
bw_err bw_channel_read(uint32_t handle, uintptr_t *app_data, uint32_t *len);

/* OPAQUEBYTES: releases `consumed` read bytes. BW_E_SIZE if more than are
 * unread; BW_E_HANDLE; BW_E_UNAVAILABLE. */
bw_err bw_channel_read_complete(uint32_t handle, uint32_t consumed);

/* OPAQUEBYTES: copies bytes from app memory at app_data into the send ring:
 * all `len` or nothing (whole) or as many as fit (!whole). *written: bytes
 * taken; *space: free space after. BW_E_SIZE (whole, len > free space),
 * BW_E_FAULT (app_data unreadable, len > 0), BW_E_CLOSED, BW_E_HANDLE,
 * BW_E_UNAVAILABLE (not OPAQUEBYTES). */
bw_err bw_channel_write(uint32_t handle, uintptr_t app_data, uint32_t len, bool whole,
                        uint32_t *written, uint32_t *space);

/* Relay side (kernel loop), OPAQUEBYTES: appends up to len bytes to the
 * receive ring (what fits; count into *taken) and sends CHANNELDATAREADABLE
 * if any. BW_E_HANDLE, BW_E_CLOSED, BW_E_UNAVAILABLE, BW_E_FAULT (the ring
 * is no longer app memory: nothing written). */
bw_err bw_channel_deliver(uint32_t handle, const uint8_t *data, size_t len, size_t *taken);

/* Relay side, OPAQUEBYTES: moves up to cap bytes out of the send ring into
 * buf and sends CHANNELDATAWRITESPACE if any; returns the count (0 on any
 * error). */
size_t bw_channel_take(uint32_t handle, uint8_t *buf, size_t cap);

/* The cloud link stopped being CONNECTED (bw_network_set_status). */
void bw_channel_link_down(void);

/* Number of open channels (closed-but-not-yet-released ones included). */
size_t bw_channel_count(void);

#endif
