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

/* Lines mvServerLog may have queued for the cloud at once (their text sits in
 * the app's log buffer; this bounds the kernel's index of them, 16 bytes each). */
#ifndef BW_APP_LOG_LINES
#define BW_APP_LOG_LINES 128
#endif

/* The app's last words: at an app restart the lines still queued are copied
 * into kernel RAM (up to this many bytes and lines, oldest first) before its
 * buffer goes, so a crash does not take the lines that led up to it. */
#ifndef BW_APP_LOG_CARRY_BYTES
#define BW_APP_LOG_CARRY_BYTES 2048
#endif
#ifndef BW_APP_LOG_CARRY_LINES
#define BW_APP_LOG_CARRY_LINES 16
#endif

/* Open mvRequestNetwork requests and mvOpenSystemNotification subscriptions
 * (each a fixed table; an open beyond it fails, bw_network.h). */
#ifndef BW_NETWORK_REQUESTS_MAX
#define BW_NETWORK_REQUESTS_MAX 8
#endif
#ifndef BW_SYSTEM_NOTIFICATIONS_MAX
#define BW_SYSTEM_NOTIFICATIONS_MAX 8
#endif

/* ---- channels and HTTP (bw_channel.h, bw_http.h; docs/DESIGN.md "Channels") ---- */

/* ABI: channels open at once (mvOpenChannel: TOOMANYCHANNELS beyond). */
#ifndef BW_CHANNELS_MAX
#define BW_CHANNELS_MAX 4
#endif

/* ABI: opens allowed in any one second (RATELIMITED beyond). */
#ifndef BW_CHANNEL_OPENS_PER_SECOND
#define BW_CHANNEL_OPENS_PER_SECOND 8
#endif

/* ABI: a channel buffer's address and length are multiples of this (length
 * nonzero), and its length is at most BW_CHANNEL_BUFFER_MAX. */
#ifndef BW_CHANNEL_BUFFER_ALIGN
#define BW_CHANNEL_BUFFER_ALIGN 512
#endif
#ifndef BW_CHANNEL_BUFFER_MAX
#define BW_CHANNEL_BUFFER_MAX 65536
#endif

/* Longest endpoint name an open looks at (longer: UNKNOWNCHANNELENDPOINT). */
#ifndef BW_CHANNEL_ENDPOINT_MAX
#define BW_CHANNEL_ENDPOINT_MAX 64
#endif

/* ABI: headers of one HTTP request (TOOMANYELEMENTS beyond) or response. */
#ifndef BW_HTTP_HEADERS_MAX
#define BW_HTTP_HEADERS_MAX 32
#endif

/* ABI: an HTTP request's URL and one header line, in bytes (INVALIDHEADERS,
 * REQUESTFAILED beyond). */
#ifndef BW_HTTP_URL_MAX
#define BW_HTTP_URL_MAX 2048
#endif
#ifndef BW_HTTP_HEADER_MAX
#define BW_HTTP_HEADER_MAX 1024
#endif

/* ABI: the accepted timeout_ms range of an HTTP request (INVALIDTIMEOUT). */
#ifndef BW_HTTP_TIMEOUT_MIN_MS
#define BW_HTTP_TIMEOUT_MIN_MS 100
#endif
#ifndef BW_HTTP_TIMEOUT_MAX_MS
#define BW_HTTP_TIMEOUT_MAX_MS 60000
#endif

/* The device gives up on a response (REQUESTFAILED) this long after the
 * request's own timeout: the relay's round trip on top of the server's. */
#ifndef BW_HTTP_GRACE_MS
#define BW_HTTP_GRACE_MS 10000
#endif

/* ---- config fetch (bw_config_fetch.h; docs/SPEC.md §17) ---- */

/* ABI: keys of one fetch (TOOMANYCONFIGKEYS beyond), a key's length
 * (INVALIDCONFIGKEY beyond), a value's length. 16 keys of 100 bytes keep a
 * request stream within one relay piece (§17.1). */
#ifndef BW_CONFIG_KEYS_MAX
#define BW_CONFIG_KEYS_MAX 16
#endif
#ifndef BW_CONFIG_KEY_MAX
#define BW_CONFIG_KEY_MAX 100
#endif
#ifndef BW_CONFIG_VALUE_MAX
#define BW_CONFIG_VALUE_MAX 4096
#endif

/* A fetch with no complete response this long after it was sent fails
 * (every item SERVERERROR). */
#ifndef BW_CONFIG_FETCH_DEADLINE_MS
#define BW_CONFIG_FETCH_DEADLINE_MS 10000
#endif

/* ---- MQTT channels (bw_appmqtt.h; docs/SPEC.md §18) ---- */

/* ABI: subscriptions/topics per request and certificates per chain
 * (TOOMANYELEMENTS beyond). */
#ifndef BW_MQTT_TOPICS_MAX
#define BW_MQTT_TOPICS_MAX 8
#endif
#ifndef BW_MQTT_CERTS_MAX
#define BW_MQTT_CERTS_MAX 8
#endif

/* Readable items queued per channel, and requests waiting for a response
 * (RATELIMITED beyond); QoS 1 messages read but not yet acknowledged. */
#ifndef BW_MQTT_ITEMS_MAX
#define BW_MQTT_ITEMS_MAX 8
#endif
#ifndef BW_MQTT_PENDING_MAX
#define BW_MQTT_PENDING_MAX 4
#endif
#ifndef BW_MQTT_UNACKED_MAX
#define BW_MQTT_UNACKED_MAX 8
#endif

/* Longest kernel console line, prefix and newline included (a stack buffer);
 * longer lines are cut and end in "...". */
#ifndef BW_LOG_LINE_MAX
#define BW_LOG_LINE_MAX 192
#endif

/* Console bytes a preempting context may queue while another writes (its
 * lines go out whole after the interrupted one; a line that finds no room
 * is dropped and counted, bw_log.h). */
#ifndef BW_LOG_PENDING
#define BW_LOG_PENDING 1024
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

/* The update engine journals a download's progress (in 256-byte pages)
 * once at least this many more pages are complete: at most this much plus
 * one write is received again after a restart. 6 pages: every 1792-byte OTA
 * chunk (docs/SPEC.md §15) completes at least 6, so each one is journaled. */
#ifndef BW_UPDATE_PROGRESS_PAGES
#define BW_UPDATE_PROGRESS_PAGES 6
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
 * (bw_crypto.h). Its one big user is the TLS client (record buffers of 2 KiB
 * each way, the parsed certificates, the handshake's ECC, the saved session).
 * Peaks measured on qemu-an505 (the arena's high-water mark, which the kernel
 * logs as "cloud: RAM high-water"; tests/bench/bench_cloud.py): 13 904 -
 * 14 048 B through a full handshake and an online session, unchanged by a
 * resumed one; 5 840 B for the credentials alone (key, request, certificate
 * check); 14 840 B when a re-provisioning checks a certificate while the TLS
 * link is up. 16 KiB leaves 1.5 KiB over the worst of these and 2.4 KiB over
 * a session (about one more certificate in the broker's chain, ~1 KiB each).
 * docs/DESIGN.md, "Kernel RAM budget with the network stack". */
#ifndef BW_CRYPTO_ARENA_BYTES
#define BW_CRYPTO_ARENA_BYTES 16384
#endif

/* ---- TLS client (kernel/net/bw_tls.h; docs/SPEC.md §14) ---- */

/* ECC work one bw_tls_poll may do, in mbedTLS's units (mbedtls_ecp_set_max_ops;
 * about one point addition each). Instructions per unit: DESIGN.md. */
#ifndef BW_TLS_ECP_MAX_OPS
#define BW_TLS_ECP_MAX_OPS 500
#endif

/* A handshake not finished this long after bw_tls_start fails. */
#ifndef BW_TLS_HANDSHAKE_TIMEOUT_MS
#define BW_TLS_HANDSHAKE_TIMEOUT_MS 60000
#endif

/* ---- the modem (kernel/net/bw_at.c, bw_modem.c; docs/SPEC.md §11) ---- */

/* Longest line the AT parser keeps (terminator not counted, with its NUL);
 * a longer line is reported as too long and ignored. */
#ifndef BW_AT_LINE_MAX
#define BW_AT_LINE_MAX 128
#endif

/* Module limits of the Quectel BG96: bytes of one AT+QISEND, of one AT+QIRD. */
#define BW_MODEM_SEND_MAX 1460
#define BW_MODEM_READ_MAX 1500

/* Received socket bytes the driver holds for its stream's reader. */
#ifndef BW_MODEM_RX_BUFFER
#define BW_MODEM_RX_BUFFER 2048
#endif

/* Longest host name or address bw_modem_connect takes (without its NUL). */
#ifndef BW_MODEM_HOST_MAX
#define BW_MODEM_HOST_MAX 63
#endif

/* Timeouts (ms). Short commands: the module answers within 300 ms; the
 * driver allows more for a slow UART. Data: AT+QISEND and AT+QIRD with up to
 * 1500 bytes each way. PDP activation, socket open and close: the module's
 * documented maxima (150 s, 150 s, 10 s). */
#ifndef BW_MODEM_CMD_TIMEOUT_MS
#define BW_MODEM_CMD_TIMEOUT_MS 1000
#endif
#ifndef BW_MODEM_DATA_TIMEOUT_MS
#define BW_MODEM_DATA_TIMEOUT_MS 5000
#endif
#ifndef BW_MODEM_PDP_TIMEOUT_MS
#define BW_MODEM_PDP_TIMEOUT_MS 150000
#endif
#ifndef BW_MODEM_OPEN_TIMEOUT_MS
#define BW_MODEM_OPEN_TIMEOUT_MS 150000
#endif
#ifndef BW_MODEM_CLOSE_TIMEOUT_MS
#define BW_MODEM_CLOSE_TIMEOUT_MS 10000
#endif

/* Bring-up: AT tries before the modem counts as down, the pause before the
 * next round, and the interval of the registration poll (AT+CEREG?). */
#ifndef BW_MODEM_AT_TRIES
#define BW_MODEM_AT_TRIES 5
#endif
#ifndef BW_MODEM_RETRY_MS
#define BW_MODEM_RETRY_MS 2000
#endif
#ifndef BW_MODEM_REG_POLL_MS
#define BW_MODEM_REG_POLL_MS 500
#endif

/* SEND FAIL (the module's send buffer is full): wait, then try the same bytes
 * again, this many times before the socket counts as failed. */
#ifndef BW_MODEM_SEND_RETRY_MS
#define BW_MODEM_SEND_RETRY_MS 100
#endif
#ifndef BW_MODEM_SEND_TRIES
#define BW_MODEM_SEND_TRIES 100
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

/* App debug monitor (SPEC §20): a debugger attached over the local link
 * that sends nothing for this long is gone; the monitor removes its
 * breakpoints and resumes the app (SPEC §9.2). */
#define BW_DEBUG_PEER_TIMEOUT_MS 15000

/* Breakpoints the monitor holds at once. */
#define BW_DEBUG_BREAKPOINTS_MAX 8

/* A kernel on trial (docs/SPEC.md §19.5) that has not confirmed itself after
 * this many seconds of uptime resets, so that the boot stub counts the boot
 * and reverts it after BW_KSLOTS_TRIAL_BOOTS: a kernel whose app or cloud
 * never comes up is not kept for good (a kernel that cannot reach the cloud
 * could never be replaced remotely). Long enough for a slow cellular attach. */
#define BW_KERNEL_TRIAL_DEADLINE_S 600u

#endif
