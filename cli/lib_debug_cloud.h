/*
 * The debug transport through the cloud (issue 11, docs/SPEC.md §21): a
 * debug session with one device over bulwarkd's POST /v1/devices/{id}/debug
 * (docs/API.md). Implements bw_debug_transport (lib_debug_transport.h):
 * each exchange is one MONITOR record and its answer; a keep-alive PING
 * goes when the session has been idle BW_DEBUG_KEEPALIVE_MS; close sends
 * CLOSE. Self-contained: `bulwark debug ping` and the GDB server use it alike.
 */
#ifndef BULWARK_LIB_DEBUG_CLOUD_H
#define BULWARK_LIB_DEBUG_CLOUD_H

#include <stddef.h>
#include <stdint.h>

#include "lib_api.h"
#include "lib_debug_transport.h"

#define BW_DEBUG_KEEPALIVE_MS 10000u

/* Test-only faults (`bulwark debug ping --test-fault`, tests/qemu): the next
 * record is sent twice (the second a replay), or sent with one ciphertext
 * bit flipped. Never set in normal use. */
typedef enum debug_cloud_fault {
    DEBUG_CLOUD_FAULT_NONE,
    DEBUG_CLOUD_FAULT_REPLAY,
    DEBUG_CLOUD_FAULT_TAMPER,
} debug_cloud_fault;

/* The fleet CA file the device must prove itself under: ca_file if given,
 * else fleet_dir/ca.crt (in buf); NULL when neither is given. */
const char *debug_cloud_ca_path(const char *fleet_dir, const char *ca_file, char *buf, size_t size);

/* Opens a session (HELLO, sent again while the device is busy; OPEN;
 * OPENED and CERTs) with device through api, signing with the debug private
 * key file key_path and checking the device against the fleet CA
 * certificate file ca_path (SPEC §21.2). 0 with *out filled, or -1 with
 * the reason in err (e.g. "device refused the session: the app's bundle has
 * no debug key", "the device's certificate does not chain to the fleet CA"). */
int debug_cloud_open(const bw_api *api, const char *device, const char *key_path, const char *ca_path,
                     bw_debug_transport *out, char *err, size_t errcap);

/* The session bytes the handshake took (HELLOs included, framing not). */
size_t debug_cloud_handshake_bytes(bw_debug_transport *t);

/* One PING of n (<= 32) bytes and its PONG; *wire gets the bytes sent plus
 * received in the session (the relay's HTTP and MQTT framing not counted).
 * 0, or -1 with the reason (the session is then lost). */
int debug_cloud_ping(bw_debug_transport *t, const uint8_t *data, size_t n, size_t *wire, char *err,
                     size_t errcap);

/* Arms a test-only fault for the next record. */
void debug_cloud_set_fault(bw_debug_transport *t, debug_cloud_fault fault);

/* The device's answer to the last faulty record ("" if none). */
const char *debug_cloud_fault_answer(bw_debug_transport *t);

#endif
