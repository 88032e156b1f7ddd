/*
 * The kernel anti-rollback counter (docs/SPEC.md §19.4), kept in one-way
 * storage: the ROLLBACK region of the board's memory map (a secure flash
 * sector that is only ever programmed on qemu-an505, OTP on the STM32U585).
 * A raise programs one more 16-byte record; nothing ever erases one, so the
 * counter, the highest value of a whole record, can only grow. Portable and
 * heap-free; the region's bytes are untrusted.
 */
#ifndef BW_ROLLBACK_H
#define BW_ROLLBACK_H

#include <stddef.h>
#include <stdint.h>

#define BW_ROLLBACK_MAGIC       0x43525742u   /* bytes "BWRC" */
#define BW_ROLLBACK_RECORD_SIZE 16u

/* The counter in region[0..size): the highest value among whole records (a
 * torn or garbage record counts for nothing), 0 when there is none. */
uint32_t bw_rollback_floor(const uint8_t *region, size_t size);

#endif
