/*
 * The reset marker: what crash supervision must still know after a chip
 * reset (docs/SPEC.md §10, docs/DESIGN.md "Crash supervision"): whether the
 * app was running when the chip reset, which app it was, how many crashes it
 * had made since it was last healthy, and whether it was parked.
 *
 * It lives in RAM that the port keeps across a chip reset but not a power
 * loss (port_reset_surviving_ram): a reset while the app runs is then seen
 * at the next boot and counted as a crash of that app, while a power cut
 * (RAM lost, or zeroed as QEMU does) is not. The words are untrusted at boot
 * (power-on contents, a write cut by the reset), so each copy carries a
 * magic, a format and a CRC-32, and there are two copies: a write goes to
 * the older one, so a reset in the middle of a write leaves the previous
 * state readable. Pure functions over caller-provided words: no state here.
 */
#ifndef BW_RESET_MARKER_H
#define BW_RESET_MARKER_H

#include <stdbool.h>
#include <stdint.h>

#include "bw_err.h"

#define BW_RESET_MARKER_MAGIC   0x4B4D5242u   /* bytes "BRMK" */
#define BW_RESET_MARKER_FORMAT  1u
#define BW_RESET_MARKER_COPY_WORDS 6u
#define BW_RESET_MARKER_WORDS   (2u * BW_RESET_MARKER_COPY_WORDS)   /* the storage a port provides */

/* What the marker says. */
typedef struct bw_reset_marker_state {
    bool app_running;                /* the app was running: a reset now is its crash */
    bool parked;                     /* its crash loop had parked it */
    uint32_t app_version;            /* of the app in the slot (0: as provisioned) */
    uint32_t crashes_since_healthy;  /* crash supervision's count for that app */
} bw_reset_marker_state;

/* Writes *s into words[BW_RESET_MARKER_WORDS] (the copy not holding the
 * newest valid state, sealed with the next sequence number), leaving the
 * other copy as it was. Bounded (two CRCs of 20 bytes); ISR-safe as long as
 * callers do not write at once (crash supervision writes under its lock). */
void bw_reset_marker_write(uint32_t *words, const bw_reset_marker_state *s);

/* Reads the newest valid copy of words[BW_RESET_MARKER_WORDS] into *out:
 * BW_OK. Without a valid copy: BW_E_VERSION if a copy has the magic but
 * another format, else BW_E_IO if one has the magic but a bad check or
 * undefined flags, else BW_E_INVALID (no marker: power-on contents, or
 * cleared). *out is untouched unless BW_OK. */
bw_err bw_reset_marker_read(const uint32_t *words, bw_reset_marker_state *out);

/* Makes both copies invalid: the next read finds no marker. */
void bw_reset_marker_clear(uint32_t *words);

#endif
