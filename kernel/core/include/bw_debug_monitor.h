/*
 * The app debug monitor's interface to its transports (issue 11).
 *
 * The monitor (halt, resume, registers, memory, breakpoints, stop reasons of
 * the non-secure app only) speaks in *monitor packets*: one request in, one
 * answer out, both opaque bytes to whatever carries them. Format: SPEC §20.
 * Two transports carry them: the local link (SPEC §9, plain frames, for the
 * bench) and the authenticated, encrypted debug session relayed by the cloud
 * (SPEC §21). Neither transport looks inside a packet.
 */
#ifndef BW_DEBUG_MONITOR_H
#define BW_DEBUG_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest monitor request or answer, in bytes (fits one local-link frame
 * and one session record). */
#define BW_DEBUG_PACKET_MAX 480u

/* Handles one monitor request of len bytes and writes its answer into
 * answer[0..cap) (cap >= BW_DEBUG_PACKET_MAX). Returns the answer's length,
 * always >= 1: a malformed or refused request gets an error answer, never a
 * fault. Called from the kernel loop only. */
size_t bw_debug_monitor_request(const uint8_t *req, size_t len, uint8_t *answer, size_t cap);

/* The transport that was debugging lost its peer (link down, session
 * closed or timed out): the monitor removes every breakpoint, restores the
 * app's code and resumes the app if it was halted. Idempotent. */
void bw_debug_monitor_peer_lost(void);

/* True while a debugger is attached (a request since the last DETACH or
 * peer loss): its transport watches for silence (SPEC §9.2). */
bool bw_debug_monitor_attached(void);

#endif
