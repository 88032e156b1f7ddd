/*
 * Config and secrets over a channel of type CONFIGFETCH: one fetch, one
 * response (docs/DESIGN.md "Channels", docs/SPEC.md §17).
 *
 * mvSendConfigFetchRequest serializes the keys into the channel's send
 * buffer as the request stream of §17.2; the relay shared with HTTP
 * (bw_http.h: bw_http_next_piece, bw_http_response_piece, bw_http_poll)
 * carries it and the response. The values land in the receive buffer; the
 * response's head and item table stay in kernel RAM. A fetch that fails
 * (malformed response, no response within BW_CONFIG_FETCH_DEADLINE_MS)
 * reads as result OK with every item SERVERERROR. Each end posts
 * CHANNELDATAREADABLE once.
 */
#ifndef BW_CONFIG_FETCH_H
#define BW_CONFIG_FETCH_H

#include <stdint.h>

#include "bw_err.h"
#include "mv_syscalls.h"

#define BW_CONFIG_REQUEST_HEAD  8u   /* §17.2, before the item table */
#define BW_CONFIG_RESPONSE_HEAD 8u   /* §17.3, likewise */
#define BW_CONFIG_ITEM_ENTRY    4u   /* one item's table entry, both ways */

/* Sends the fetch of count ≤ BW_CONFIG_KEYS_MAX keys (a kernel copy of the
 * app's MvConfigKeyToFetch array, scopes and stores already checked) at
 * now_us. BW_E_HANDLE; BW_E_UNAVAILABLE (not a CONFIGFETCH channel);
 * BW_E_CLOSED; BW_E_ALREADY (a fetch was sent on this channel); BW_E_FAULT
 * (a key is not app-readable); BW_E_KEY (a key is not 1..BW_CONFIG_KEY_MAX
 * bytes of printable ASCII 0x21..0x7E); BW_E_SIZE (the request stream does
 * not fit the send buffer). Keys are checked before anything is written. */
bw_err bw_config_fetch_send(uint32_t handle, const struct MvConfigKeyToFetch *keys, uint32_t count,
                            uint64_t now_us);

/* The response's summary. BW_E_HANDLE, BW_E_UNAVAILABLE, BW_E_NOT_PRESENT
 * (none yet), BW_E_CLOSED (none, and the channel is closed). */
bw_err bw_config_fetch_response(uint32_t handle, struct MvConfigResponseData *out);

/* Item index: its result to app memory at app_result (4 bytes); for an OK
 * item its value to app_buf (size bytes available) and its length to
 * app_length (4 bytes; 0 for other results). BW_E_INDEX; BW_E_SIZE (the
 * value is longer than size); BW_E_FAULT; and the errors above. Every range
 * is checked before anything is written. */
bw_err bw_config_fetch_item(uint32_t handle, uint32_t index, uintptr_t app_result, uintptr_t app_buf,
                            uint32_t size, uintptr_t app_length);

#endif
