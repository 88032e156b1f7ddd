/*
 * The app's server-log queue: lines mvServerLog accepted that the cloud has
 * not taken yet (docs/SPEC.md §13.2 LOG, docs/DESIGN.md "Cloud link").
 *
 * The text lives in the buffer the app gave mvServerLoggingInit, as a ring;
 * the index of lines (sequence, time, place, length) lives in kernel RAM,
 * so nothing the app writes into its buffer can make the kernel read or
 * write outside it. Every line gets the next sequence number of this kernel
 * boot, queued or not: a line that finds no room is counted lost and leaves
 * a gap the cloud sees.
 *
 * Writers are kernel calls (any app context, nested by app interrupts);
 * the reader is the kernel loop, which preempts them. A line is reserved,
 * written, then committed; the reader never sees a line before its commit,
 * nor any line after an uncommitted one.
 */
#ifndef BW_APP_LOG_H
#define BW_APP_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "bw_err.h"

typedef struct bw_app_log_line {
    uint32_t sequence;
    uint32_t uptime_ms;   /* kernel uptime when the line was accepted */
    uint32_t offset;      /* into the app's buffer (or the carry, when carried) */
    uint32_t length;
    bool carried;         /* kept by the kernel from an earlier app run */
} bw_app_log_line;

/* Forgets everything, sequence numbers included. Kernel start only. */
void bw_app_log_reset(void);

/* Claims the app's buffer for this run [base, base + size), validated by
 * the caller. BW_E_IN_USE if one is attached already. */
bw_err bw_app_log_attach(uintptr_t base, uint32_t size);

/* True while a buffer is attached. ISR-safe. */
bool bw_app_log_attached(void);

/* The app is being restarted: its buffer is about to go. The committed lines
 * still queued are carried into kernel RAM, oldest first, as many as fit
 * (BW_APP_LOG_CARRY_BYTES/LINES, with lines carried from earlier runs);
 * the rest, and any line not committed, are counted lost. Returns how many
 * that was. Carried lines come out of peek/read/pop before the new run's. */
uint32_t bw_app_log_detach(void);

/* Reserves room for a line of length bytes and gives it the next sequence
 * number. BW_E_UNAVAILABLE with no buffer attached; BW_E_FULL when the
 * buffer or the index has no room (the line is counted lost). */
bw_err bw_app_log_reserve(uint32_t length, uint32_t uptime_ms, bw_app_log_line *line);

/* Copies n bytes of the reserved line's text, at offset at within the line,
 * into the app's buffer. BW_E_FAULT if the buffer is no longer app memory. */
bw_err bw_app_log_write(const bw_app_log_line *line, uint32_t at, const uint8_t *bytes, uint32_t n);

/* Ends a reserved line: complete = true makes it readable; false drops it
 * (counted lost). */
void bw_app_log_commit(const bw_app_log_line *line, bool complete);

/* The oldest committed line still queued, into *line; false if there is
 * none or the oldest reserved line is not committed yet. Kernel loop. */
bool bw_app_log_peek(bw_app_log_line *line);

/* Copies that line's text (line->length bytes) out of the app's buffer, or
 * out of the carry for a carried line. */
bw_err bw_app_log_read(const bw_app_log_line *line, uint8_t *dst);

/* Removes the oldest queued line (the one bw_app_log_peek gave). */
void bw_app_log_pop(void);

/* Lines lost since kernel start. */
uint32_t bw_app_log_lost(void);

/* The sequence number the next line will get. */
uint32_t bw_app_log_next_sequence(void);

#endif
