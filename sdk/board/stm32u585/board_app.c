/*
 * App board support on the STM32U585: USART2 (non-secure alias 0x40004400)
 * is the app console, polled; the app enables its clock and pins itself
 * (through mvPeriphPoke32 on the mediated RCC registers). board_exit sleeps
 * forever: there is no emulator to end. Untested on hardware.
 */
#include <stdint.h>

#include "bulwark_board.h"

#define USART2_BASE   0x40004400u
#define USART_CR1     (*(volatile uint32_t *)(USART2_BASE + 0x00u))
#define USART_ISR     (*(volatile uint32_t *)(USART2_BASE + 0x1Cu))
#define USART_TDR     (*(volatile uint32_t *)(USART2_BASE + 0x28u))
#define USART_CR1_UE  (1u << 0)
#define USART_CR1_TE  (1u << 3)
#define USART_ISR_TXE (1u << 7)

void board_console_write(const char *text, size_t len)
{
    if ((USART_CR1 & USART_CR1_UE) == 0) {
        return;   /* the app has not set the console up: drop output */
    }
    USART_CR1 |= USART_CR1_TE;
    for (size_t i = 0; i < len; i++) {
        while ((USART_ISR & USART_ISR_TXE) == 0) {
        }
        USART_TDR = (uint8_t)text[i];
    }
}

void board_exit(uint32_t code)
{
    (void)code;
    for (;;) {
        __asm volatile("wfi");
    }
}
