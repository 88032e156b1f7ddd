/*
 * Kernel core configuration: every size and limit in one place, each with a
 * default a board (or a test build) may override with -D before this header
 * is included. Nothing here depends on the board; board facts come through
 * the port contract (bw_port.h).
 *
 * Values that are part of the public Microvisor contract are marked "ABI":
 * changing them changes what apps observe.
 */
#ifndef BW_CONFIG_H
#define BW_CONFIG_H

/* ---- notification centers ---- */

/* ABI: most notification centers open at once (mvSetupNotifications). */
#ifndef BW_MAX_NOTIFICATION_CENTERS
#define BW_MAX_NOTIFICATION_CENTERS 32
#endif

/* ABI: smallest notification ring in bytes (two records). */
#ifndef BW_NOTIFICATION_BUFFER_MIN
#define BW_NOTIFICATION_BUFFER_MIN 32
#endif

/* ABI: a notification ring's address must be a multiple of this. */
#ifndef BW_NOTIFICATION_BUFFER_ALIGN
#define BW_NOTIFICATION_BUFFER_ALIGN 8
#endif

/* ---- handles ---- */

/* Live handles of every kind together (notification, network, channel, ...). */
#ifndef BW_MAX_HANDLES
#define BW_MAX_HANDLES 64
#endif

/* Random draws a handle allocation may spend on 0 or on a value already live
 * before it gives up (a healthy DRBG needs one). */
#ifndef BW_HANDLE_DRAW_ATTEMPTS
#define BW_HANDLE_DRAW_ATTEMPTS 8
#endif

/* ---- logging ---- */

/* ABI: longest message mvServerLog accepts, in bytes. The system-call layer
 * copies a message into a stack buffer of this size. */
#ifndef BW_LOG_MESSAGE_MAX
#define BW_LOG_MESSAGE_MAX 1024
#endif

/* ABI: smallest buffer mvServerLoggingInit accepts; the length must also be a
 * multiple of it. */
#ifndef BW_LOG_BUFFER_MIN
#define BW_LOG_BUFFER_MIN 512
#endif

/* ABI: mvServerLoggingInit's buffer address must be a multiple of this. */
#ifndef BW_LOG_BUFFER_ALIGN
#define BW_LOG_BUFFER_ALIGN 512
#endif

/* Longest kernel console line, prefix and newline included (a stack buffer);
 * longer lines are cut and end in "...". */
#ifndef BW_LOG_LINE_MAX
#define BW_LOG_LINE_MAX 192
#endif

/* Bytes per console write when streaming an app message (a stack buffer). */
#ifndef BW_LOG_CHUNK
#define BW_LOG_CHUNK 64
#endif

/* ---- crash supervision (bw_crash.h; docs/DESIGN.md "Crash supervision") ---- */

/* The crash policy until bundles supply one (bw_crash_set_policy). The first
 * crash after the app was healthy restarts it at once; each further crash
 * before it is healthy again waits twice as long, from MIN to MAX. */
#ifndef BW_CRASH_RESTART_MIN_MS
#define BW_CRASH_RESTART_MIN_MS 100
#endif
#ifndef BW_CRASH_RESTART_MAX_MS
#define BW_CRASH_RESTART_MAX_MS 30000
#endif

/* Bytes of the app's stack a crash record keeps (at most BW_CRASH_STACK_CAPACITY). */
#ifndef BW_CRASH_STACK_BYTES
#define BW_CRASH_STACK_BYTES 256
#endif

/* The app is healthy once it has run this long without crashing (or called
 * bwAppConfirmHealthy); that resets the backoff and ends its probation. */
#ifndef BW_CRASH_HEALTHY_MS
#define BW_CRASH_HEALTHY_MS 10000
#endif

/* Crashes before the app is first healthy that make a crash loop (K). */
#ifndef BW_CRASH_LOOP_CRASHES
#define BW_CRASH_LOOP_CRASHES 3
#endif

/* An app seen with PRIMASK_NS, FAULTMASK_NS or BASEPRI_NS set at every
 * supervision tick for this long is hung. */
#ifndef BW_CRASH_HANG_MS
#define BW_CRASH_HANG_MS 500
#endif

/* Period of the kernel's supervision tick (hang detection, health, backoff
 * deadlines, watchdog feeding): the resolution of every crash timeout. */
#ifndef BW_SUPERVISOR_TICK_MS
#define BW_SUPERVISOR_TICK_MS 10
#endif

/* The secure watchdog fires (NMI: log and chip reset) when the kernel has not
 * fed it for this long: the last resort against a stuck kernel. */
#ifndef BW_WATCHDOG_TIMEOUT_MS
#define BW_WATCHDOG_TIMEOUT_MS 1000
#endif

/* ---- identity ---- */

/* ABI: length of the printable device ID: "BW" + 32 hex digits, no terminator. */
/* Kernel calls in progress at once (app interrupt handlers may call the
 * kernel while a call they preempted is still on the one secure stack); a
 * call past the limit gets MV_STATUS_MICROVISORBUSY. Bounds the secure
 * stack: docs/DESIGN.md, "The gate and the fault path". */
#ifndef BW_GATE_NESTING_MAX
#define BW_GATE_NESTING_MAX 8
#endif

#ifndef BW_DEVICE_ID_LEN
#define BW_DEVICE_ID_LEN 34
#endif

/* Bytes of the raw identity the port keeps in secure storage. */
#define BW_DEVICE_IDENTITY_BYTES 16

/* ---- crypto ---- */

/* Bytes of the static arena mbedTLS allocates from in the secure world
 * (bw_crypto.h). An ECDSA P-256 verify peaks just under 5 KiB (measured on
 * the host, 64-bit limbs; less on the M33). Checking a provisioned
 * certificate (two certificates parsed, the chain verified through mbedTLS's
 * ECP) needs between 8 and 10 KiB on the host (tests/unit/test_credentials);
 * the M33 managed with 6 KiB (qemu.provision). */
#ifndef BW_CRYPTO_ARENA_BYTES
#define BW_CRYPTO_ARENA_BYTES 12288
#endif

/* ---- device credentials (kernel/net/bw_credentials.h; docs/SPEC.md §12) ---- */

/* Largest device / CA certificate (DER) a provisioning may store. A P-256
 * certificate made by `bulwark fleet init` is about 500 bytes. */
#ifndef BW_CRED_CERT_MAX
#define BW_CRED_CERT_MAX 1024
#endif
#ifndef BW_CRED_CA_MAX
#define BW_CRED_CA_MAX 1024
#endif
/* Room for the broker's host name, its terminator included. */
#ifndef BW_CRED_HOST_MAX
#define BW_CRED_HOST_MAX 64
#endif
/* Largest certificate request the device builds (DER; ~250 bytes). */
#ifndef BW_CRED_CSR_MAX
#define BW_CRED_CSR_MAX 512
#endif

#endif
