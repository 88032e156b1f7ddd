/*
 * qemu-an505's side of the boot stub's port contract (boot/boot_port.h): the
 * kernel console on UART1, the root hash built into the stub's image (QEMU
 * loads the stub afresh at every power-on, so it is as immutable as a ROM),
 * a halt that ends the emulation, so that a test sees the refusal at once,
 * and the kernel areas (SPEC §19.5) as windows of the flash device.
 */
#include <stdbool.h>

#include "board.h"
#include "boot_port.h"
#include "boot_root_hash.h"   /* generated: BOOT_ROOT_HASH, the build's kernel root */
#include "cmsdk_uart.h"
#include "flash_qemu.h"
#include "semihosting.h"

/* The emulation's exit code after a refusal (docs/SPEC.md §19.3). */
#define BOOT_REFUSED_EXIT 3u

static const uint8_t root_hash[32] = BOOT_ROOT_HASH;

void boot_port_init(void)
{
    cmsdk_uart_init(BOARD_CONSOLE_UART);
}

void boot_port_console(const char *text, size_t len)
{
    cmsdk_uart_write(BOARD_CONSOLE_UART, text, len);
}

const uint8_t *boot_port_root_hash(void)
{
    return root_hash;
}

void boot_port_halt(void)
{
    semihosting_exit(BOOT_REFUSED_EXIT);
}

/* The copies carry the slot and its seal only: the gate must lie inside the
 * slot on a board with kernel areas (SPEC §19.2, §19.5). */
_Static_assert(BOARD_GATE_BASE >= BOARD_KERNEL_SLOT_BASE
               && BOARD_GATE_BASE + BOARD_GATE_SIZE <= BOARD_KERNEL_SLOT_BASE + BOARD_KERNEL_SLOT_SIZE,
               "the gate is inside the kernel slot");
/* The slot and its seal make one area the shape of KERNEL_NEW and KERNEL_OLD. */
_Static_assert(BOARD_KERNEL_SEAL_BASE == BOARD_KERNEL_SLOT_BASE + BOARD_KERNEL_SLOT_SIZE
               && BOARD_PART_KERNEL_NEW_SIZE == BOARD_KERNEL_SLOT_SIZE + BOARD_KERNEL_SEAL_SIZE
               && BOARD_PART_KERNEL_OLD_SIZE == BOARD_PART_KERNEL_NEW_SIZE, "kernel areas of one shape");

bool boot_port_kernel_areas(boot_kernel_areas *areas)
{
    const bw_flash_device *dev = &qemu_flash_device;
    *areas = (boot_kernel_areas){
        .slot = { dev, BOARD_KERNEL_SLOT_BASE - BOARD_FLASH_BASE, BOARD_PART_KERNEL_NEW_SIZE },
        .staged = { dev, BOARD_PART_KERNEL_NEW_OFFSET, BOARD_PART_KERNEL_NEW_SIZE },
        .backup = { dev, BOARD_PART_KERNEL_OLD_OFFSET, BOARD_PART_KERNEL_OLD_SIZE },
        .state = { dev, BOARD_PART_KERNEL_STATE_OFFSET, BOARD_PART_KERNEL_STATE_SIZE },
        .rollback = { dev, BOARD_ROLLBACK_BASE - BOARD_FLASH_BASE, BOARD_ROLLBACK_SIZE },
        .mapped = BOARD_FLASH_BASE,
    };
    return true;
}
