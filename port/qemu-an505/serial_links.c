/*
 * The an505's two kernel serial links on the shared CMSDK receive ring
 * (cmsdk_uart.c), bw_board.h "the local link" and "the modem":
 *   UART3 (0x50203000, RX IRQ 38): local delivery (docs/SPEC.md §9)
 *   UART2 (0x50202000, RX IRQ 36): the cellular modem (docs/SPEC.md §11)
 * Each receive interrupt runs at RX_PRIORITY: above the kernel loop's
 * PendSV_S, below the time base.
 */
#include <stdint.h>

#include "board.h"
#include "bw_board.h"
#include "cmsdk_uart.h"

#define RX_PRIORITY     0x50u   /* time base 0x40 < this < tick 0x60 < kernel loop 0x70 */
#define LINK_RING_SIZE  2048u   /* two largest encoded frames (BW_LINK_ENCODED_MAX) */
#define MODEM_RING_SIZE 4096u   /* two largest +QIRD answers (1500 bytes and their lines) */

_Static_assert((LINK_RING_SIZE & (LINK_RING_SIZE - 1u)) == 0, "ring size is a power of two");
_Static_assert((MODEM_RING_SIZE & (MODEM_RING_SIZE - 1u)) == 0, "ring size is a power of two");

static uint8_t link_ring[LINK_RING_SIZE];
static uint8_t modem_ring[MODEM_RING_SIZE];

static cmsdk_uart_rx link_uart = {
    .base = BOARD_LINK_UART, .irq = BOARD_LINK_RX_IRQ, .ring = link_ring, .size = LINK_RING_SIZE,
};
static cmsdk_uart_rx modem_uart = {
    .base = BOARD_MODEM_UART, .irq = BOARD_MODEM_RX_IRQ, .ring = modem_ring, .size = MODEM_RING_SIZE,
};

/* board_irq's dispatch: true if irqn was one of the links' receive lines. */
bool serial_links_irq(uint32_t irqn);
bool serial_links_irq(uint32_t irqn)
{
    if (irqn == BOARD_LINK_RX_IRQ) {
        cmsdk_uart_rx_irq(&link_uart);
        return true;
    }
    if (irqn == BOARD_MODEM_RX_IRQ) {
        cmsdk_uart_rx_irq(&modem_uart);
        return true;
    }
    return false;
}

void board_link_start(void)
{
    cmsdk_uart_rx_start(&link_uart, RX_PRIORITY);
}

size_t board_link_read(uint8_t *buf, size_t len)
{
    return cmsdk_uart_rx_read(&link_uart, buf, len);
}

void board_link_write(const uint8_t *data, size_t len)
{
    cmsdk_uart_write(BOARD_LINK_UART, (const char *)data, len);
}

uint32_t board_link_rx_dropped(void)
{
    return link_uart.dropped;
}

void board_modem_start(void)
{
    cmsdk_uart_rx_start(&modem_uart, RX_PRIORITY);
}

size_t board_modem_read(uint8_t *buf, size_t len)
{
    return cmsdk_uart_rx_read(&modem_uart, buf, len);
}

size_t board_modem_write(const uint8_t *data, size_t len)
{
    cmsdk_uart_write(BOARD_MODEM_UART, (const char *)data, len);
    return len;
}

uint32_t board_modem_rx_dropped(void)
{
    return modem_uart.dropped;
}
