/*
 * The host end of a device's local link (docs/SPEC.md §9): listening for
 * the device's connection (on QEMU, `bulwark-emu run --link-port N` makes
 * the emulated link UART a TCP client of 127.0.0.1:N) and one request at a
 * time: send, wait for the answer with the same sequence number, resend if
 * none comes in time. Used by `bulwark device` and `bulwark debug`.
 */
#ifndef BULWARK_LIB_LINK_SESSION_H
#define BULWARK_LIB_LINK_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_link.h"

#define EXIT_LINK 3             /* exit code: the link failed */
#define RESEND_MS 3000          /* no answer this long: send the request again */

typedef struct link_session {
    int fd;
    uint16_t seq;
    uint32_t timeout_ms;        /* longest wait for one answer */
    bw_link_decoder decoder;
    uint8_t payload[BW_LINK_PAYLOAD_MAX];   /* the last answer's payload */
    uint8_t wire[BW_LINK_ENCODED_MAX];
} link_session;

typedef struct answer {
    uint8_t type;
    uint16_t len;
    const uint8_t *payload;
} answer;

typedef enum link_result { LINK_OK, LINK_LOST, LINK_TIMEOUT } link_result;

/* Monotonic milliseconds. */
uint64_t link_now_ms(void);

/* Listens on host:port, prints "listening on ADDR:PORT" (so a caller can
 * learn a port chosen by the system), and accepts one connection within
 * timeout_ms. Returns 0 with *out_fd, 2 (usage) or EXIT_LINK. */
int link_listen_and_accept(const char *host, const char *port, uint32_t timeout_ms, int *out_fd);

/* Sends all len bytes on a socket (EINTR retried, no SIGPIPE); false when
 * the connection is gone. */
bool link_send_all(int fd, const uint8_t *data, size_t len);

/* A fresh session on a connected fd. */
void link_session_init(link_session *s, int fd, uint32_t timeout_ms);

/* Sends one request and waits for its answer (same sequence number),
 * resending every RESEND_MS and when the device reports a damaged frame.
 * The answer's payload stays valid until the next request. */
link_result link_request(link_session *s, uint8_t type, const uint8_t *payload, size_t len,
                         answer *out);

#endif
