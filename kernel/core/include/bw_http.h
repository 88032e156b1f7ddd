/*
 * HTTP over a channel of type HTTP: one request, one response
 * (docs/DESIGN.md "Channels", docs/SPEC.md §16).
 *
 * mvSendHttpRequest serializes the request into the channel's send buffer as
 * the request stream of §16.2; the relay (kernel loop) hands it to the cloud
 * piece by piece and feeds the response stream's pieces back; the response's
 * header lines and body land in the receive buffer, while its head (result,
 * status, counts, header lengths) stays in kernel RAM, so nothing the app
 * writes into its buffers can mislead the kernel.
 *
 * A request the kernel itself can judge (scheme, method, header syntax,
 * timeout) is answered at once: the call succeeds and the response carries
 * the MvHttpResult. Everything else is judged by the cloud, which answers
 * with the same results. A response that does not arrive within timeout_ms
 * + BW_HTTP_GRACE_MS, or breaks §16.3, ends as REQUESTFAILED; one that does
 * not fit the receive buffer as RESPONSETOOLARGE. Each end sends
 * CHANNELDATAREADABLE once.
 */
#ifndef BW_HTTP_H
#define BW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"
#include "mv_syscalls.h"

#define BW_HTTP_REQUEST_HEAD   16u   /* §16.2, before the header length table */
#define BW_HTTP_RESPONSE_HEAD  16u   /* §16.3, likewise */
#define BW_HTTP_METHOD_MAX     7u    /* "OPTIONS" */

/* Sends the request (a kernel copy, with a kernel copy of its
 * request->num_headers ≤ BW_HTTP_HEADERS_MAX header descriptors) at now_us.
 * BW_E_HANDLE; BW_E_UNAVAILABLE (not an HTTP channel); BW_E_CLOSED;
 * BW_E_ALREADY (a request was sent on this channel); BW_E_FAULT (a string
 * is not app-readable); BW_E_SIZE (the request stream does not fit the send
 * buffer). On error neither the kernel nor the app's memory changed. */
bw_err bw_http_send(uint32_t handle, const struct MvHttpRequest *request,
                    const struct MvHttpHeader *headers, uint64_t now_us);

/* The response's summary. BW_E_HANDLE, BW_E_UNAVAILABLE, BW_E_NOT_PRESENT
 * (none yet), BW_E_CLOSED (none, and the channel is closed). */
bw_err bw_http_response_data(uint32_t handle, struct MvHttpResponseData *out);

/* Copies min(size, its length) bytes of header line `index` to app memory
 * at app_buf. BW_E_INDEX; BW_E_FAULT; and the errors above. */
bw_err bw_http_response_header(uint32_t handle, uint32_t index, uintptr_t app_buf, uint32_t size);

/* Copies min(size, body_length - offset) body bytes from offset to app
 * memory at app_buf. BW_E_OFFSET (offset > body_length); BW_E_FAULT; and the
 * errors above. */
bw_err bw_http_response_body(uint32_t handle, uint32_t offset, uintptr_t app_buf, uint32_t size);

/* ---- the relay's side (kernel loop) ---- */

/* The relay's side is shared with CONFIGFETCH channels (bw_config_fetch.h,
 * SPEC §17): the same exchange, with another stream layout and topic. */

/* A piece of a request stream, as published in one HTTP_REQUEST (or
 * CONFIG_REQUEST) message. */
typedef struct bw_http_piece {
    uint32_t type;            /* the channel's: MV_CHANNELTYPE_HTTP or _CONFIGFETCH */
    uint32_t request_id;
    uint32_t offset;
    uint32_t total;
    uint32_t len;
} bw_http_piece;

/* Copies the next unsent piece of some request (at most cap bytes) into buf;
 * false when nothing waits. Nothing counts as sent until bw_http_piece_sent. */
bool bw_http_next_piece(uint8_t *buf, size_t cap, bw_http_piece *piece);

/* The piece went out (ignored if its channel closed or moved on meanwhile). */
void bw_http_piece_sent(const bw_http_piece *piece);

/* A piece of the response stream for request_id on a channel of type:
 * bytes offset..offset+len-1 of total. In order only; any piece that breaks
 * §16.3 (§17.3) ends the request as failed. BW_E_HANDLE if no open channel
 * of that type waits for request_id (the piece is dropped), BW_E_INVALID if
 * it ended the request as failed. */
bw_err bw_http_response_piece(uint32_t type, uint32_t request_id, uint32_t offset, uint32_t total,
                              const uint8_t *data, size_t len);

/* Ends every request whose deadline passed as REQUESTFAILED. */
void bw_http_poll(uint64_t now_us);

#endif
