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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"
#include "bw_flash.h"

#define BW_ROLLBACK_MAGIC       0x43525742u   /* bytes "BWRC" */
#define BW_ROLLBACK_RECORD_SIZE 16u

/* The counter in region[0..size): the highest value among whole records (a
 * torn or garbage record counts for nothing), 0 when there is none. */
uint32_t bw_rollback_floor(const uint8_t *region, size_t size);

/* The 16 bytes at r are a whole record (both complementary pairs). */
bool bw_rollback_record_whole(const uint8_t *r);

/* Makes the counter at least value: programs one record into the first
 * 16-byte place of region that reads all 0xFF (torn, garbage or unreadable
 * places are passed over, never programmed again). BW_OK also when the
 * counter was already there; BW_E_SIZE when no blank place is left; flash
 * errors as bw_flash_program. The only writer is the boot stub
 * (bw_rollback_raise.c, which needs the flash contract). */
bw_err bw_rollback_raise(const bw_flash_partition *region, uint32_t value);

#endif
