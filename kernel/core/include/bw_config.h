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

/* ---- identity ---- */

/* ABI: length of the printable device ID: "BW" + 32 hex digits, no terminator. */
#ifndef BW_DEVICE_ID_LEN
#define BW_DEVICE_ID_LEN 34
#endif

/* Bytes of the raw identity the port keeps in secure storage. */
#define BW_DEVICE_IDENTITY_BYTES 16

#endif
