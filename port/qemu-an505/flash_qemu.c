/*
 * The qemu-an505 flash: a bw_flash_device over the file-backed PSRAM window
 * at 0x80000000 (BOARD_FLASH_BASE), and the board's partitions.
 *
 * PSRAM is plain RAM, so this driver enforces the NOR rules of bw_flash.h in
 * software, with the U585's geometry (8 KiB sectors, 16-byte program units):
 * erase sets a whole sector to 0xFF; program takes whole units and refuses
 * the whole request (BW_E_INVALID, nothing written) if any bit would go
 * 0 -> 1, so code that works here does not rely on RAM semantics. The writes
 * themselves are plain word stores straight into the window, in address
 * order: killing QEMU in the middle of an operation leaves the host file
 * with part of it done, a real torn program or erase.
 *
 * The kernel reaches the whole window through the 0x8... addresses (no MPC
 * in front of PSRAM; the SAU leaves it secure apart from the app slot, which
 * the kernel can still read and write). The device covers the whole window;
 * only the partitions below are handed to the core, so the kernel slot and
 * the identity sector cannot be reached through bw_flash.
 * (The core's bw_flash.c counts the flash work per partition:
 * bw_flash_stats_get.)
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "bw_board.h"
#include "bw_flash.h"
#include "bw_port.h"

#define WORD_BYTES 4u

static volatile uint32_t *flash_word(uint32_t offset)
{
    return (volatile uint32_t *)(uintptr_t)(BOARD_FLASH_BASE + offset);
}

static bool in_window(uint32_t offset, uint32_t len)
{
    return offset <= BOARD_FLASH_SIZE && len <= BOARD_FLASH_SIZE - offset;
}

/* Reads len bytes at offset. BW_E_SIZE past the window. */
static bw_err qemu_flash_read(void *context, uint32_t offset, void *buf, uint32_t len)
{
    (void)context;
    if (!in_window(offset, len)) {
        return BW_E_SIZE;
    }
    memcpy(buf, (const void *)(uintptr_t)(BOARD_FLASH_BASE + offset), len);
    return BW_OK;
}

/* Programs whole units: BW_E_SIZE past the window, BW_E_ALIGN off a unit,
 * BW_E_INVALID (nothing written) if any bit would go 0 -> 1. */
static bw_err qemu_flash_program(void *context, uint32_t offset, const void *buf, uint32_t len)
{
    (void)context;
    if (!in_window(offset, len)) {
        return BW_E_SIZE;
    }
    if ((offset | len) & (BOARD_FLASH_PROGRAM_UNIT - 1u)) {
        return BW_E_ALIGN;
    }
    const uint8_t *src = buf;
    for (uint32_t i = 0; i < len; i += WORD_BYTES) {
        uint32_t want;
        memcpy(&want, src + i, WORD_BYTES);
        if (want & ~*flash_word(offset + i)) {
            return BW_E_INVALID;
        }
    }
    for (uint32_t i = 0; i < len; i += WORD_BYTES) {
        uint32_t want;
        memcpy(&want, src + i, WORD_BYTES);
        *flash_word(offset + i) = want;   /* == old & want: only clears bits */
    }
    return BW_OK;
}

/* Erases the sector at offset: BW_E_SIZE past the window, BW_E_ALIGN off a sector start. */
static bw_err qemu_flash_erase(void *context, uint32_t offset)
{
    (void)context;
    if (offset >= BOARD_FLASH_SIZE) {
        return BW_E_SIZE;
    }
    if (offset & (BOARD_FLASH_SECTOR_SIZE - 1u)) {
        return BW_E_ALIGN;
    }
    for (uint32_t i = 0; i < BOARD_FLASH_SECTOR_SIZE; i += WORD_BYTES) {
        *flash_word(offset + i) = 0xFFFFFFFFu;
    }
    return BW_OK;
}

static const bw_flash_device qemu_flash = {
    .context = NULL,
    .size = BOARD_FLASH_SIZE,
    .sector_size = BOARD_FLASH_SECTOR_SIZE,
    .program_unit = BOARD_FLASH_PROGRAM_UNIT,
    .read = qemu_flash_read,
    .program = qemu_flash_program,
    .erase = qemu_flash_erase,
};

static const bw_flash_partition partitions[BW_PARTITION_COUNT] = {
    [BW_PARTITION_APP_SLOT] = { &qemu_flash, BOARD_PART_APP_SLOT_OFFSET, BOARD_PART_APP_SLOT_SIZE },
    [BW_PARTITION_IMAGE_A] = { &qemu_flash, BOARD_PART_IMAGE_A_OFFSET, BOARD_PART_IMAGE_A_SIZE },
    [BW_PARTITION_IMAGE_B] = { &qemu_flash, BOARD_PART_IMAGE_B_OFFSET, BOARD_PART_IMAGE_B_SIZE },
    [BW_PARTITION_UPDATE_STATE] = { &qemu_flash, BOARD_PART_UPDATE_STATE_OFFSET,
                                    BOARD_PART_UPDATE_STATE_SIZE },
    [BW_PARTITION_CRASH_LOG] = { &qemu_flash, BOARD_PART_CRASH_LOG_OFFSET,
                                 BOARD_PART_CRASH_LOG_SIZE },
    [BW_PARTITION_CREDENTIALS] = { &qemu_flash, BOARD_PART_CREDENTIALS_OFFSET,
                                   BOARD_PART_CREDENTIALS_SIZE },
    [BW_PARTITION_DEBUG_PATCH] = { &qemu_flash, BOARD_PART_DEBUG_PATCH_OFFSET,
                                   BOARD_PART_DEBUG_PATCH_SIZE },
};

/* The layout in docs/SPEC.md §2: sector-aligned, inside the window, clear of
 * the kernel slot and the identity sector, in order without overlap. */
#define PART_END(name) (BOARD_PART_##name##_OFFSET + BOARD_PART_##name##_SIZE)
_Static_assert(BOARD_PART_APP_SLOT_OFFSET == BOARD_APP_SLOT_BASE - BOARD_FLASH_BASE &&
               BOARD_PART_APP_SLOT_SIZE == BOARD_APP_SLOT_SIZE, "app slot partition");
_Static_assert(BOARD_PART_IMAGE_A_OFFSET >= BOARD_KERNEL_SLOT_BASE + BOARD_KERNEL_SLOT_SIZE -
               BOARD_FLASH_BASE, "image A clears the kernel slot");
_Static_assert(PART_END(IMAGE_A) <= BOARD_PART_IMAGE_B_OFFSET &&
               PART_END(IMAGE_B) <= BOARD_PART_UPDATE_STATE_OFFSET &&
               PART_END(UPDATE_STATE) <= BOARD_PART_CRASH_LOG_OFFSET &&
               PART_END(CRASH_LOG) <= BOARD_PART_CREDENTIALS_OFFSET &&
               PART_END(CREDENTIALS) <= BOARD_PART_DEBUG_PATCH_OFFSET &&
               PART_END(DEBUG_PATCH) <= BOARD_ROLLBACK_BASE - BOARD_FLASH_BASE,
               "partitions in order, clear of the identity sector");
_Static_assert(((BOARD_PART_IMAGE_A_OFFSET | BOARD_PART_IMAGE_A_SIZE |
                 BOARD_PART_IMAGE_B_OFFSET | BOARD_PART_IMAGE_B_SIZE |
                 BOARD_PART_UPDATE_STATE_OFFSET | BOARD_PART_UPDATE_STATE_SIZE |
                 BOARD_PART_CRASH_LOG_OFFSET | BOARD_PART_CRASH_LOG_SIZE |
                 BOARD_PART_CREDENTIALS_OFFSET | BOARD_PART_CREDENTIALS_SIZE |
                 BOARD_PART_DEBUG_PATCH_OFFSET | BOARD_PART_DEBUG_PATCH_SIZE) &
                (BOARD_FLASH_SECTOR_SIZE - 1u)) == 0, "partitions are whole sectors");

const bw_flash_partition *port_flash_partition(bw_partition_id id)
{
    return (unsigned)id < BW_PARTITION_COUNT ? &partitions[id] : NULL;
}
