/*
 * USART1 as the kernel console (see u585_console.h). The baud divider comes
 * from u585_usart_brr with USART1's kernel clock, PCLK2 (RCC_CCIPR1.USART1SEL
 * is left at its reset value, PCLK2). The pins stay secure (GPIOA_SECCFGR,
 * set in board_u585.c), so the app cannot take them over.
 */
#include "u585_console.h"

#include <stdint.h>

#include "board.h"
#include "u585_layout.h"
#include "u585_regs.h"
#include "u585_timebase.h"

#define USART1_REG(offset) U585_REG(BOARD_CONSOLE_USART + (offset))
#define GPIOA_REG(offset)  U585_REG(BOARD_GPIOA + (offset))

static void pin_set_field(uint32_t offset, uint32_t pin, uint32_t width, uint32_t value)
{
    uint32_t shift = pin * width;
    uint32_t mask = ((1u << width) - 1u) << shift;
    GPIOA_REG(offset) = (GPIOA_REG(offset) & ~mask) | (value << shift);
}

void u585_console_init(void)
{
    U585_REG(BOARD_RCC + RCC_AHB2ENR1) |= RCC_AHB2ENR1_GPIOAEN;
    U585_REG(BOARD_RCC + RCC_APB2ENR) |= RCC_APB2ENR_USART1EN;
    (void)U585_REG(BOARD_RCC + RCC_APB2ENR);   /* read back: clocks on before use */

    pin_set_field(GPIO_AFRH, BOARD_CONSOLE_TX_PIN - 8u, 4u, BOARD_CONSOLE_PIN_AF);
    pin_set_field(GPIO_AFRH, BOARD_CONSOLE_RX_PIN - 8u, 4u, BOARD_CONSOLE_PIN_AF);
    pin_set_field(GPIO_PUPDR, BOARD_CONSOLE_RX_PIN, 2u, GPIO_PULL_UP);
    pin_set_field(GPIO_MODER, BOARD_CONSOLE_TX_PIN, 2u, GPIO_MODE_ALTERNATE);
    pin_set_field(GPIO_MODER, BOARD_CONSOLE_RX_PIN, 2u, GPIO_MODE_ALTERNATE);

    USART1_REG(USART_CR1) = 0u;                /* BRR and PRESC change only while UE = 0 */
    USART1_REG(USART_PRESC) = 0u;              /* kernel clock undivided */
    USART1_REG(USART_BRR) = u585_usart_brr(BOARD_PCLK2_HZ, BOARD_CONSOLE_BAUD);
    USART1_REG(USART_CR1) = USART_CR1_UE | USART_CR1_TE;   /* 8N1, oversampling by 16 */
}

void u585_console_write(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint64_t deadline = u585_timebase_us() + U585_CONSOLE_BYTE_TIMEOUT_US;
        while ((USART1_REG(USART_ISR) & USART_ISR_TXE) == 0u) {
            if (u585_timebase_us() > deadline) {
                return;
            }
        }
        USART1_REG(USART_TDR) = (uint8_t)text[i];
    }
}
