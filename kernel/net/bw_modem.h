/*
 * The cellular modem driver (docs/SPEC.md §11: a subset of the Quectel BG96's
 * AT commands): brings the module up, keeps one TCP socket (connect ID 0) and
 * offers it as a bw_stream. Non-blocking: a state machine advanced by
 * bw_modem_poll from the kernel loop, over a byte port given at init, so it
 * runs on a board UART and on a host socket in tests. One instance, static
 * buffers sized in bw_config.h. Every command has a timeout; a timeout or an
 * answer out of protocol resets the module state and starts bring-up again
 * (the socket is lost: its stream reports BW_STREAM_CLOSED and the upper
 * layer connects again).
 */
#ifndef BW_MODEM_H
#define BW_MODEM_H

#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"
#include "bw_stream.h"

/* The bytes to and from the module. Neither call may block for long. */
typedef struct bw_modem_port {
    void *ctx;
    /* Moves up to len received bytes into buf; returns how many (0: none now). */
    size_t (*read)(void *ctx, uint8_t *buf, size_t len);
    /* Sends up to len bytes; returns how many were taken (0: none now). */
    size_t (*write)(void *ctx, const uint8_t *data, size_t len);
} bw_modem_port;

typedef enum bw_modem_state {
    BW_MODEM_DOWN,          /* not started, or the module does not answer AT */
    BW_MODEM_REGISTERING,   /* configuring, waiting for the network or the PDP context */
    BW_MODEM_READY,         /* registered, PDP context active, no socket */
    BW_MODEM_CONNECTING,    /* a connect is asked for or under way */
    BW_MODEM_CONNECTED,     /* the socket is open: the stream carries bytes */
    BW_MODEM_FAILED,        /* ready, but the last connect or socket failed (reason says why) */
} bw_modem_state;

/* Why the last connection or bring-up ended or failed. */
typedef enum bw_modem_reason {
    BW_MODEM_REASON_NONE,
    BW_MODEM_REASON_NO_ANSWER,      /* AT went unanswered BW_MODEM_AT_TRIES times */
    BW_MODEM_REASON_TIMEOUT,        /* a command's answer did not come in time */
    BW_MODEM_REASON_UNEXPECTED,     /* an answer out of protocol (or a length not asked for) */
    BW_MODEM_REASON_RESTARTED,      /* the module said RDY after bring-up */
    BW_MODEM_REASON_PDP_REFUSED,    /* AT+QIACT=1 failed (module_error: its +CME code, or 0) */
    BW_MODEM_REASON_NETWORK_LOST,   /* deregistered, or the PDP context went down */
    BW_MODEM_REASON_OPEN_REFUSED,   /* AT+QIOPEN failed (module_error: its error code) */
    BW_MODEM_REASON_SEND_FAILED,    /* AT+QISEND refused or SEND FAIL past BW_MODEM_SEND_TRIES */
    BW_MODEM_REASON_PEER_CLOSED,    /* the peer closed the connection (+QIURC: "closed") */
    BW_MODEM_REASON_CLOSED,         /* bw_modem_close */
} bw_modem_reason;

typedef struct bw_modem_status {
    bw_modem_state state;
    bw_modem_reason reason;   /* of the last failure or close; NONE before any */
    uint32_t module_error;    /* the module's error code that came with reason (0: none) */
    uint32_t resets;          /* times the driver restarted bring-up after a fault */
    uint32_t lines_ignored;   /* lines outside the subset, echoes and over-long lines */
} bw_modem_status;

/* Takes the port (copied) and starts bring-up at now_ms. Forgets any earlier
 * state: a second call starts over. */
void bw_modem_init(const bw_modem_port *port, uint32_t now_ms);

/* Advances the state machine: reads what the module sent, sends what is due,
 * checks timeouts. Call from the kernel loop whenever bytes arrive and at
 * least every few tens of ms while anything is under way. now_ms wraps. */
void bw_modem_poll(uint32_t now_ms);

/* Asks for a TCP connection to host:port (host: a name or dotted address,
 * 1..BW_MODEM_HOST_MAX printable characters without '"'); it opens once the
 * module is ready. BW_OK: asked (watch bw_modem_status_get); BW_E_INVALID:
 * bad host or port 0; BW_E_IN_USE: a connection is already asked for or open;
 * BW_E_UNAVAILABLE: bw_modem_init was never called. Clears the receive buffer. */
bw_err bw_modem_connect(const char *host, uint16_t port);

/* Closes the socket (or forgets a connect not yet under way); the stream
 * reports BW_STREAM_CLOSED from now on. Nothing to close: does nothing. */
void bw_modem_close(void);

/* The driver's state and the reason of its last failure. */
void bw_modem_status_get(bw_modem_status *out);

/* The socket as a byte stream. send takes up to BW_MODEM_SEND_MAX bytes when
 * no send is in flight (else 0); recv gives bytes already read from the
 * module. Both return BW_STREAM_CLOSED once the connection is gone (recv:
 * after the bytes received before it). Valid for the driver's lifetime. */
const bw_stream *bw_modem_stream(void);

#endif
