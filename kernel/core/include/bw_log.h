/*
 * The kernel console: one line per call, "[kernel] " + text + "\n", written
 * whole: one context at a time writes to the port (port_console_write sends a
 * byte at a time and may be preempted); a context that preempts it queues its
 * line (BW_LOG_PENDING bytes in all) and the interrupted writer sends it after
 * its own, so lines never interleave. Lines longer than BW_LOG_LINE_MAX are cut and end
 * in "..."; nothing is ever written past a buffer.
 *
 * The formatter is our own (no newlib printf: small, no heap, reentrant):
 * conversions %s %c %d %i %u %x %X %p %%, length modifiers hh h l ll z, flags
 * '0' (zero padding) and '-' (left justify), and a decimal field width.
 * No precision, no floating point. An unknown conversion is copied as is.
 *
 * The format attribute makes the compiler check argument types: on
 * arm-none-eabi uint32_t is unsigned long, so print it with PRIx32/PRIu32
 * (<inttypes.h>) or cast it to unsigned.
 */
#ifndef BW_LOG_H
#define BW_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_config.h"
#include "bw_format.h"

/* Writes one kernel console line: "[kernel] " + formatted text + "\n", at most
 * BW_LOG_LINE_MAX bytes in all (a longer text is cut and ends in "...").
 * The caller must not hold port_irq_lock (console output is slow). */
void bw_log(const char *fmt, ...) BW_PRINTF_LIKE(1, 2);

/* Writes one line as bw_log does, at once and whatever else is writing, for
 * a context that stops or resets the kernel next: a write it preempted never
 * resumes, so waiting for it would lose this line. Leaves interrupts masked. */
void bw_log_fatal(const char *fmt, ...) BW_PRINTF_LIKE(1, 2);

/* Writes len bytes to the console as one piece (never interleaved with
 * another piece); queued if another context is writing, dropped (counted,
 * and announced once the queue empties) if the queue has no room. Any
 * context; the caller must not hold port_irq_lock. */
void bw_log_write(const char *text, size_t len);

/* The app is being restarted: a write it was making from a kernel call is
 * abandoned, so the console is free again (queued lines go with the next
 * write). */
void bw_log_console_reset(void);

/* Writes "[app-log] " + the len bytes at msg + "\n". msg is kernel memory (the
 * caller copied the app's bytes in first). Bytes outside printable ASCII, and
 * the backslash itself, are shown as \xNN, so app bytes cannot forge kernel
 * lines or terminal escapes. Streams in BW_LOG_CHUNK-byte writes, so a message
 * longer than a chunk may interleave with a line from a preempting call. */
void bw_log_app_message(const uint8_t *msg, size_t len);

/* The same line written piece by piece, for a caller that copies the app's
 * bytes in a small buffer at a time (no message-sized buffer on the stack):
 * begin, then append each piece (kernel memory), then end. The line state
 * lives in the caller's bw_log_app_line. */
typedef struct bw_log_app_line {
    char chunk[BW_LOG_CHUNK];
    size_t used;
} bw_log_app_line;
void bw_log_app_begin(bw_log_app_line *line);
void bw_log_app_append(bw_log_app_line *line, const uint8_t *bytes, size_t len);
void bw_log_app_end(bw_log_app_line *line);

#endif
