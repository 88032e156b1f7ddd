/* CMSDK APB UART driver (polled). Register layout from the CMSDK TRM. */
#include "cmsdk_uart.h"

#define UART_DATA(b)    (*(volatile uint32_t *)(uintptr_t)((b) + 0x00u))
#define UART_STATE(b)   (*(volatile uint32_t *)(uintptr_t)((b) + 0x04u))
#define UART_CTRL(b)    (*(volatile uint32_t *)(uintptr_t)((b) + 0x08u))
#define UART_BAUDDIV(b) (*(volatile uint32_t *)(uintptr_t)((b) + 0x10u))

#define STATE_TX_FULL   (1u << 0)
#define CTRL_TX_EN      (1u << 0)
#define CTRL_RX_EN      (1u << 1)

void cmsdk_uart_init(uint32_t base)
{
    UART_BAUDDIV(base) = 16u;   /* the smallest legal divider; QEMU does not throttle */
    UART_CTRL(base) = CTRL_TX_EN | CTRL_RX_EN;
    (void)UART_DATA(base);      /* QEMU delivers host bytes only after a first read (QEMU-NOTES) */
}

void cmsdk_uart_write(uint32_t base, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (UART_STATE(base) & STATE_TX_FULL) {
        }
        UART_DATA(base) = (uint8_t)text[i];
    }
}
