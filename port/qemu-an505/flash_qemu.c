/*
 * The qemu-an505 flash partitions: windows of the flash device
 * (flash_qemu_device.c, shared with the boot stub) handed to the kernel core.
 * Only the partitions below are reachable through bw_flash, so the kernel
 * slot, the rollback counter and the identity sector are not. (The core's
 * bw_flash.c counts the flash work per partition: bw_flash_stats_get.)
 */
#include <stdint.h>

#include "board.h"
#include "bw_board.h"
#include "bw_flash.h"
#include "bw_port.h"
#include "flash_qemu.h"

static const bw_flash_partition partitions[BW_PARTITION_COUNT] = {
    [BW_PARTITION_APP_SLOT] = { &qemu_flash_device, BOARD_PART_APP_SLOT_OFFSET, BOARD_PART_APP_SLOT_SIZE },
    [BW_PARTITION_IMAGE_A] = { &qemu_flash_device, BOARD_PART_IMAGE_A_OFFSET, BOARD_PART_IMAGE_A_SIZE },
    [BW_PARTITION_IMAGE_B] = { &qemu_flash_device, BOARD_PART_IMAGE_B_OFFSET, BOARD_PART_IMAGE_B_SIZE },
    [BW_PARTITION_UPDATE_STATE] = { &qemu_flash_device, BOARD_PART_UPDATE_STATE_OFFSET,
                                    BOARD_PART_UPDATE_STATE_SIZE },
    [BW_PARTITION_CRASH_LOG] = { &qemu_flash_device, BOARD_PART_CRASH_LOG_OFFSET,
                                 BOARD_PART_CRASH_LOG_SIZE },
    [BW_PARTITION_CREDENTIALS] = { &qemu_flash_device, BOARD_PART_CREDENTIALS_OFFSET,
                                   BOARD_PART_CREDENTIALS_SIZE },
    [BW_PARTITION_DEBUG_PATCH] = { &qemu_flash_device, BOARD_PART_DEBUG_PATCH_OFFSET,
                                   BOARD_PART_DEBUG_PATCH_SIZE },
    [BW_PARTITION_KERNEL_NEW] = { &qemu_flash_device, BOARD_PART_KERNEL_NEW_OFFSET,
                                  BOARD_PART_KERNEL_NEW_SIZE },
    [BW_PARTITION_KERNEL_OLD] = { &qemu_flash_device, BOARD_PART_KERNEL_OLD_OFFSET,
                                  BOARD_PART_KERNEL_OLD_SIZE },
    [BW_PARTITION_KERNEL_STATE] = { &qemu_flash_device, BOARD_PART_KERNEL_STATE_OFFSET,
                                    BOARD_PART_KERNEL_STATE_SIZE },
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
               PART_END(DEBUG_PATCH) <= BOARD_PART_KERNEL_NEW_OFFSET &&
               PART_END(KERNEL_NEW) <= BOARD_PART_KERNEL_OLD_OFFSET &&
               PART_END(KERNEL_OLD) <= BOARD_PART_KERNEL_STATE_OFFSET &&
               PART_END(KERNEL_STATE) <= BOARD_ROLLBACK_BASE - BOARD_FLASH_BASE,
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
