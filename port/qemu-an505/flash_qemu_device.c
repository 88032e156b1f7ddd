/*
 * The qemu-an505 flash: a bw_flash_device over the file-backed PSRAM window
 * at 0x80000000 (BOARD_FLASH_BASE).
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
 * The kernel and the boot stub reach the whole window through the 0x8...
 * addresses (no MPC in front of PSRAM; the SAU leaves it secure apart from
 * the app slot). The device covers the whole window; the kernel gets only
 * its partitions (flash_qemu.c), the stub its kernel areas (boot_qemu.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "flash_qemu.h"

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

const bw_flash_device qemu_flash_device = {
    .context = NULL,
    .size = BOARD_FLASH_SIZE,
    .sector_size = BOARD_FLASH_SECTOR_SIZE,
    .program_unit = BOARD_FLASH_PROGRAM_UNIT,
    .read = qemu_flash_read,
    .program = qemu_flash_program,
    .erase = qemu_flash_erase,
};
