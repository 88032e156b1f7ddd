/*
 * Test harness for the modem driver on the host: starts the real emulator
 * (emu/modem/bulwark-modem) on free loopback ports, connects the driver's
 * byte port to it as QEMU would, and runs a TCP peer on loopback (echo, or
 * keep what arrives) in the same poll loop that drives bw_modem_poll.
 */
#ifndef MODEM_HARNESS_H
#define MODEM_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bw_modem.h"

#define PEER_MAX (1u << 20)

typedef struct peer {
    int listen_fd, fd;
    uint16_t port;
    bool echo;               /* send back what arrives */
    uint8_t got[PEER_MAX];   /* every byte received, all connections */
    size_t got_len;
    uint8_t out[PEER_MAX];   /* to send (echo or test-queued) */
    size_t out_len, out_sent;
    uint32_t accepted;
    bool close_when_sent;    /* close the connection once out is all sent */
} peer;

typedef struct harness {
    pid_t emu_pid;
    int emu_stdout;
    uint16_t uart_port, control_port;
    int uart_fd;
    peer peer;
} harness;

/* Starts the emulator (extra: NULL-terminated options or NULL), the peer and
 * the driver. Fails the test on any error. */
void h_start(harness *h, const char *const *extra);
/* Stops the emulator with SIGTERM and returns its final stats line (static). */
const char *h_stop(harness *h);
/* One control command; returns its answer line (static buffer). */
const char *h_control(harness *h, const char *command);
/* A number from the emulator's stats JSON. */
uint64_t h_stat(harness *h, const char *name);
/* Runs the loop (driver poll + peer) for at most ms or until done(h) says so;
 * returns done's last answer. */
bool h_run(harness *h, uint32_t ms, bool (*done)(harness *h));
/* The driver's state now. */
bw_modem_state h_state(void);
/* Waits (bounded) for the driver to reach state; fails the test otherwise. */
void h_wait_state(harness *h, bw_modem_state state, uint32_t ms);
/* Milliseconds, monotonic. */
uint32_t h_now(void);
/* Sends len bytes through the stream and receives into rx until rx_want bytes
 * came, the stream closed or ms passed; returns the bytes received and sets
 * *closed. Send stops early if the stream closes. */
size_t h_transfer(harness *h, const uint8_t *tx, size_t len, uint8_t *rx, size_t rx_want,
                  uint32_t ms, bool *closed);

#endif
