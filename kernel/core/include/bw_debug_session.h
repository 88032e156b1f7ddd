/*
 * The kernel's end of the debug session (docs/SPEC.md §21): authorises a
 * CLI by the running app's debug key, proves the device to it with the
 * device key and certificate, bounds the HELLOs it serves, then opens, checks and answers its
 * protected records, handing MONITOR packets to the debug monitor. One
 * session and one pending challenge at a time, in kernel RAM; no heap. The
 * transport (the cloud relay, §21.5) hands each session message to
 * bw_debug_session_input and sends back the one answer it writes.
 * Portable: everything the kernel provides comes in as hooks. Kernel loop only.
 */
#ifndef BW_DEBUG_SESSION_H
#define BW_DEBUG_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_debug_wire.h"
#include "bw_err.h"
#include "bw_manifest.h"

#define BW_DEBUG_IDLE_MS       30000u   /* no accepted record: the session ends */
#define BW_DEBUG_CHALLENGE_MS  30000u   /* a CHALLENGE is good for one OPEN this long */
/* At most this many HELLOs served per window (§21.4); more: REFUSED busy. */
#define BW_DEBUG_HELLOS_PER_WINDOW 4u
#define BW_DEBUG_HELLO_WINDOW_MS   1000u

typedef struct bw_debug_session_hooks {
    /* The monitor (bw_debug_monitor.h): bw_debug_monitor_request and
     * bw_debug_monitor_peer_lost. NULL: no monitor (MONITOR records are
     * answered DROPPED malformed). */
    size_t (*monitor_request)(const uint8_t *req, size_t len, uint8_t *answer, size_t cap);
    void (*monitor_peer_lost)(void);
    /* The running app's debug key (0x04 || X || Y) when its verified
     * manifest has debug.debuggable; false otherwise (no bundle too). */
    bool (*debug_key)(uint8_t key[BW_PUBLIC_KEY_SIZE]);
    /* The device's certificate (DER) issued by the fleet CA, NULL when the
     * device is not provisioned (bw_credentials_certificate). */
    const uint8_t *(*device_certificate)(size_t *len);
    /* Signs a SHA-256 digest with the key that certificate certifies,
     * r || s; false if it cannot (bw_credentials_sign). */
    bool (*device_sign)(const uint8_t hash[BW_DEBUG_HASH_SIZE], uint8_t sig[BW_DEBUG_SIG_SIZE]);
} bw_debug_session_hooks;

typedef struct bw_debug_session_counters {
    uint32_t opens;              /* sessions opened */
    uint32_t refused;            /* HELLO/OPEN answered REFUSED */
    uint32_t records;            /* records accepted and acted on */
    uint32_t dropped_replay;
    uint32_t dropped_auth;
    uint32_t dropped_malformed;  /* malformed records and records without a session */
    uint32_t idle_ends;
    uint32_t busy;               /* HELLOs over the rate limit (REFUSED busy) */
} bw_debug_session_counters;

/* Starts with no session. device_id: the 34 ASCII characters of §3. The
 * ephemeral keys come from p256-m, whose randomness is the kernel DRBG. */
void bw_debug_session_init(const bw_debug_session_hooks *hooks, const char device_id[BW_DEBUG_ID_LEN]);

/* Handles one session message in[0..len) received at now_ms and writes
 * its one answer into out (cap >= BW_DEBUG_WIRE_MAX). Returns the answer's
 * length, >= 2; 0 only when cap is too small. Never trusts in. */
size_t bw_debug_session_input(const uint8_t *in, size_t len, uint64_t now_ms, uint8_t *out, size_t cap);

/* Ends a session idle for BW_DEBUG_IDLE_MS (the monitor's peer is lost). */
void bw_debug_session_poll(uint64_t now_ms);

/* True while a session is open. */
bool bw_debug_session_open(void);

const bw_debug_session_counters *bw_debug_session_stats(void);

#endif
