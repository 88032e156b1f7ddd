/*
 * Power-safe breakpoints in the app's flash slot (issue 11 hardening).
 *
 * The debug monitor's BKPT halfwords in the app slot are written here, so
 * that no power cut can leave the app slot torn or keep a breakpoint past
 * the next boot. The DEBUG_PATCH partition holds a record ring (every
 * sector but the last) and a scratch sector (the last). Every rewrite of a
 * slot sector is: scratch <- the sector's original app bytes; a record
 * "sector N in doubt, its original is in scratch (CRC)" with the new list
 * of flash breakpoints; erase and program the slot sector; a record "no
 * sector in doubt". At boot, before the slot is measured, a sector in doubt
 * is restored from scratch and every listed breakpoint is removed the same
 * way: the slot is the original app again. Formats: docs/SPEC.md §20.1;
 * reasons: docs/DESIGN.md, "The debug monitor".
 *
 * Offsets are app-slot partition offsets. Errors: bw_err. Kernel loop only.
 */
#ifndef BW_DEBUG_PATCH_H
#define BW_DEBUG_PATCH_H

#include <stdint.h>

#include "bw_err.h"
#include "bw_flash.h"

/* Size of one record of the ring, in bytes. */
#define BW_DEBUG_PATCH_RECORD_SIZE 128u

/* Takes the partitions and undoes what a lost debugger left in the slot (a
 * sector in doubt, breakpoints). *undone (if not NULL): breakpoints
 * removed. BW_E_UNAVAILABLE: no store (a board without DEBUG_PATCH, or
 * NULL partitions): set/clear are refused; BW_E_SIZE: a store of fewer than
 * 3 sectors or geometry it cannot use; BW_E_IO: the scratch copy of a
 * sector in doubt is damaged (the slot stays in doubt: the measurement
 * decides); any flash error. Calling it again is a recovery (idempotent). */
bw_err bw_debug_patch_boot(const bw_flash_partition *slot, const bw_flash_partition *store,
                           uint32_t *undone);

/* Writes a BKPT at the even slot offset, remembering original (the
 * halfword there now) so that a boot removes it. BW_E_FULL with
 * BW_DEBUG_BREAKPOINTS_MAX in flash already, BW_E_ALREADY when one is there,
 * BW_E_FAULT outside the slot or odd, BW_E_UNAVAILABLE before a successful
 * boot, else a flash error (the next boot restores the sector). */
bw_err bw_debug_patch_set(uint32_t offset, uint16_t original);

/* Puts back the original halfword at offset (only if a BKPT is still
 * there: an update may have replaced the code) and forgets the breakpoint.
 * BW_OK when there was none; other errors as bw_debug_patch_set. */
bw_err bw_debug_patch_clear(uint32_t offset);

/* Flash breakpoints live now (listed in the newest record). */
uint32_t bw_debug_patch_count(void);

#endif
