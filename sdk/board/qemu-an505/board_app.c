/*
 * App board support on qemu-an505: UART0 (CMSDK, non-secure) is the app
 * console; board_exit ends the emulation through semihosting, which QEMU
 * offers to the non-secure world too (an emulation-only facility).
 */
#include <stdint.h>

#include "bulwark_board.h"

#define UART0_BASE    0x40200000u
#define UART_DATA     (*(volatile uint32_t *)(UART0_BASE + 0x00u))
#define UART_STATE    (*(volatile uint32_t *)(UART0_BASE + 0x04u))
#define UART_CTRL     (*(volatile uint32_t *)(UART0_BASE + 0x08u))
#define UART_BAUDDIV  (*(volatile uint32_t *)(UART0_BASE + 0x10u))

void board_console_write(const char *text, size_t len)
{
    if ((UART_CTRL & 1u) == 0) {
        UART_BAUDDIV = 16u;
        UART_CTRL = 1u;
    }
    for (size_t i = 0; i < len; i++) {
        while (UART_STATE & 1u) {
        }
        UART_DATA = (uint8_t)text[i];
    }
}

void board_exit(uint32_t code)
{
    uint32_t args[2] = { 0x20026u /* ADP_Stopped_ApplicationExit */, code };
    register uint32_t r0 __asm("r0") = 0x20u;   /* SYS_EXIT_EXTENDED */
    register uint32_t *r1 __asm("r1") = args;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) {
    }
}
