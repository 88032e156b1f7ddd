/*
 * The an505's modem link: UART2 (CMSDK, secure), receive by interrupt,
 * transmit polled (bw_board.h "the modem link").
 *
 * The receive interrupt (IRQ 36, priority LINK_RX_PRIORITY: above the kernel
 * loop's PendSV_S, below the time base) only moves bytes from the UART into
 * `ring` and pends the kernel loop; board_link_read, in the kernel loop,
 * takes them out. Single producer, single consumer on one core: the ISR
 * writes only `head`, the reader only `tail`; both count bytes ever moved
 * (free-running, wrapping at 2^32), so head - tail is the fill and never
 * exceeds RING_SIZE. A byte that finds the ring full is dropped and counted.
 *
 * QEMU's CMSDK UART holds one received byte at a time and asks its chardev
 * for the next only when the guest reads DATA; after RX is enabled it asks
 * only on such a read (QEMU-NOTES "UART link"), so start reads DATA once.
 */
#include <stdbool.h>
#include <stdint.h>

#include "armv8m.h"
#include "board.h"
#include "bw_board.h"

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

#define LINK_RX_PRIORITY  0x50u   /* time base 0x40 < this < tick 0x60 < kernel loop 0x70 */
#define RING_SIZE         2048u   /* two largest encoded frames (BW_LINK_ENCODED_MAX) */

_Static_assert((RING_SIZE & (RING_SIZE - 1u)) == 0, "ring size is a power of two");

static uint8_t ring[RING_SIZE];
static volatile uint32_t head;       /* bytes ever queued (ISR) */
static volatile uint32_t tail;       /* bytes ever taken (kernel loop) */
static volatile uint32_t dropped;    /* bytes lost: ring full, or the UART overran */
static bool started;

static void queue(uint8_t byte)
{
    uint32_t h = head;
    if (h - tail >= RING_SIZE) {
        dropped = dropped + 1u;
        return;
    }
    ring[h % RING_SIZE] = byte;
    __asm volatile("dmb" ::: "memory");   /* the byte before the index that publishes it */
    head = h + 1u;
}

void board_link_start(void)
{
    if (started) {
        return;
    }
    started = true;
    UART_BAUDDIV(BOARD_MODEM_UART) = 16u;   /* the smallest legal divider; QEMU does not throttle */
    UART_CTRL(BOARD_MODEM_UART) = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN;
    /* The QEMU quirk: this read makes it deliver host bytes at all. A byte
     * already waiting (the host spoke first) is kept. */
    uint32_t state = UART_STATE(BOARD_MODEM_UART);
    uint8_t byte = (uint8_t)UART_DATA(BOARD_MODEM_UART);
    if (state & STATE_RX_FULL) {
        queue(byte);
    }
    NVIC_IPR_BYTE(BOARD_MODEM_RX_IRQ) = LINK_RX_PRIORITY;
    NVIC_ICPR(BOARD_MODEM_RX_IRQ / 32u) = 1u << (BOARD_MODEM_RX_IRQ % 32u);
    NVIC_ISER(BOARD_MODEM_RX_IRQ / 32u) = 1u << (BOARD_MODEM_RX_IRQ % 32u);
    SCB_ICSR = ICSR_PENDSVSET;
}

/* IRQ 36 (board_irq): queue what the UART holds, pend the kernel loop. */
void link_uart_rx_irq(void);
void link_uart_rx_irq(void)
{
    /* Clear first: a byte that lands after the reads below raises it again. */
    UART_INTCLEAR(BOARD_MODEM_UART) = INT_RX | INT_RX_OVERRUN;
    uint32_t state = UART_STATE(BOARD_MODEM_UART);
    if (state & STATE_RX_OVERRUN) {
        UART_STATE(BOARD_MODEM_UART) = STATE_RX_OVERRUN;   /* write-one-to-clear */
        dropped = dropped + 1u;
    }
    while (UART_STATE(BOARD_MODEM_UART) & STATE_RX_FULL) {
        queue((uint8_t)UART_DATA(BOARD_MODEM_UART));
    }
    SCB_ICSR = ICSR_PENDSVSET;
}

size_t board_link_read(uint8_t *buf, size_t len)
{
    uint32_t t = tail;
    uint32_t available = head - t;
    size_t n = len < available ? len : available;
    __asm volatile("dmb" ::: "memory");   /* the index before the bytes it covers */
    for (size_t i = 0; i < n; i++) {
        buf[i] = ring[(t + i) % RING_SIZE];
    }
    tail = t + (uint32_t)n;
    return n;
}

void board_link_write(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (UART_STATE(BOARD_MODEM_UART) & STATE_TX_FULL) {
        }
        UART_DATA(BOARD_MODEM_UART) = data[i];
    }
}

uint32_t board_link_rx_dropped(void)
{
    return dropped;
}
