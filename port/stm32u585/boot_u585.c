/*
 * STM32U585's side of the boot stub's port contract (boot/boot_port.h).
 * UNTESTED ON HARDWARE. The console is USART1 (the kernel's, set up by
 * u585_console_init, written polled here); the root hash
 * is the ROOT_HASH region of the map, the first two 16-byte lines of the OTP
 * area, programmed once at provisioning; a refusal parks the core with
 * interrupts off. No kernel areas (SPEC §19.5): the internal flash has no
 * room for KERNEL_NEW and KERNEL_OLD until the external flash holds them.
 */
#include "board.h"
#include "boot_port.h"
#include "u585_console.h"
#include "u585_regs.h"

void boot_port_init(void)
{
    u585_console_init();
}

/* Polled, without the kernel's per-byte timeout (the stub has no time base). */
void boot_port_console(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while ((U585_REG(BOARD_CONSOLE_USART + USART_ISR) & USART_ISR_TXE) == 0u) {
        }
        U585_REG(BOARD_CONSOLE_USART + USART_TDR) = (uint8_t)text[i];
    }
}

const uint8_t *boot_port_root_hash(void)
{
    return (const uint8_t *)BOARD_ROOT_HASH_BASE;
}

void boot_port_halt(void)
{
    __asm volatile("cpsid i" : : : "memory");
    for (;;) {
        __asm volatile("wfi");
    }
}

bool boot_port_kernel_areas(boot_kernel_areas *areas)
{
    (void)areas;
    return false;
}
