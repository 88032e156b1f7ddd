/*
 * qemu-an505's side of the boot stub's port contract (boot/boot_port.h): the
 * kernel console on UART1, the root hash built into the stub's image (QEMU
 * loads the stub afresh at every power-on, so it is as immutable as a ROM),
 * and a halt that ends the emulation, so that a test sees the refusal at once.
 */
#include <stdbool.h>

#include "board.h"
#include "boot_port.h"
#include "boot_root_hash.h"   /* generated: BOOT_ROOT_HASH, the build's kernel root */
#include "cmsdk_uart.h"
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
