/*
 * CMSDK APB UART driver. Register layout from the CMSDK TRM.
 *
 * Receive (cmsdk_uart_rx): the receive interrupt only moves bytes from the
 * UART into the ring and pends the kernel loop; cmsdk_uart_rx_read, in the
 * kernel loop, takes them out. A byte that finds the ring full is dropped
 * and counted. QEMU's CMSDK UART holds one received byte at a time and asks
 * its chardev for the next only when the guest reads DATA; after RX is
 * enabled it asks only on such a read (QEMU-NOTES "UART link"), so start
 * reads DATA once. Transmit is polled.
 */
#include "cmsdk_uart.h"

#include "armv8m.h"

#define UART_DATA(b)      (*(volatile uint32_t *)(uintptr_t)((b) + 0x00u))
#define UART_STATE(b)     (*(volatile uint32_t *)(uintptr_t)((b) + 0x04u))
#define UART_CTRL(b)      (*(volatile uint32_t *)(uintptr_t)((b) + 0x08u))
#define UART_INTCLEAR(b)  (*(volatile uint32_t *)(uintptr_t)((b) + 0x0Cu))
#define UART_BAUDDIV(b)   (*(volatile uint32_t *)(uintptr_t)((b) + 0x10u))

#define STATE_TX_FULL     (1u << 0)
#define STATE_RX_FULL     (1u << 1)
#define STATE_RX_OVERRUN  (1u << 3)
#define CTRL_TX_EN        (1u << 0)
#define CTRL_RX_EN        (1u << 1)
#define CTRL_RX_INT_EN    (1u << 3)
#define INT_RX            (1u << 1)
#define INT_RX_OVERRUN    (1u << 3)

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

static void queue(cmsdk_uart_rx *u, uint8_t byte)
{
    uint32_t h = u->head;
    if (h - u->tail >= u->size) {
        u->dropped = u->dropped + 1u;
        return;
    }
    u->ring[h & (u->size - 1u)] = byte;
    __asm volatile("dmb" ::: "memory");   /* the byte before the index that publishes it */
    u->head = h + 1u;
}

void cmsdk_uart_rx_start(cmsdk_uart_rx *u, uint8_t priority)
{
    if (u->started) {
        return;
    }
    u->started = true;
    UART_BAUDDIV(u->base) = 16u;
    UART_CTRL(u->base) = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN;
    /* The QEMU quirk: this read makes it deliver host bytes at all. A byte
     * already waiting (the host spoke first) is kept. */
    uint32_t state = UART_STATE(u->base);
    uint8_t byte = (uint8_t)UART_DATA(u->base);
    if (state & STATE_RX_FULL) {
        queue(u, byte);
    }
    NVIC_IPR_BYTE(u->irq) = priority;
    NVIC_ICPR(u->irq / 32u) = 1u << (u->irq % 32u);
    NVIC_ISER(u->irq / 32u) = 1u << (u->irq % 32u);
    SCB_ICSR = ICSR_PENDSVSET;
}

void cmsdk_uart_rx_irq(cmsdk_uart_rx *u)
{
    /* Clear first: a byte that lands after the reads below raises it again. */
    UART_INTCLEAR(u->base) = INT_RX | INT_RX_OVERRUN;
    uint32_t state = UART_STATE(u->base);
    if (state & STATE_RX_OVERRUN) {
        UART_STATE(u->base) = STATE_RX_OVERRUN;   /* write-one-to-clear */
        u->dropped = u->dropped + 1u;
    }
    while (UART_STATE(u->base) & STATE_RX_FULL) {
        queue(u, (uint8_t)UART_DATA(u->base));
    }
    SCB_ICSR = ICSR_PENDSVSET;
}

size_t cmsdk_uart_rx_read(cmsdk_uart_rx *u, uint8_t *buf, size_t len)
{
    uint32_t t = u->tail;
    uint32_t available = u->head - t;
    size_t n = len < available ? len : available;
    __asm volatile("dmb" ::: "memory");   /* the index before the bytes it covers */
    for (size_t i = 0; i < n; i++) {
        buf[i] = u->ring[(t + i) & (u->size - 1u)];
    }
    u->tail = t + (uint32_t)n;
    return n;
}
