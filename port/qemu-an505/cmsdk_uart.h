/*
 * CMSDK APB UART (the an505's UARTs): polled transmit for consoles, and an
 * interrupt-fed receive ring for the kernel's serial links (the modem on
 * UART2, local delivery on UART3), one cmsdk_uart_rx per UART.
 */
#ifndef CMSDK_UART_H
#define CMSDK_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Enables transmit and receive on the UART at base. */
void cmsdk_uart_init(uint32_t base);
/* Writes len bytes, waiting while the transmit buffer is full. */
void cmsdk_uart_write(uint32_t base, const char *text, size_t len);

/* A UART whose received bytes its interrupt queues in `ring` (size a power
 * of two). Single producer (the ISR writes only head), single consumer (the
 * kernel loop writes only tail); both count bytes ever moved, so head - tail
 * is the fill and never exceeds size. The board fills base, irq, ring, size. */
typedef struct cmsdk_uart_rx {
    uint32_t base;
    uint32_t irq;
    uint8_t *ring;
    uint32_t size;
    volatile uint32_t head;      /* bytes ever queued (ISR) */
    volatile uint32_t tail;      /* bytes ever taken (kernel loop) */
    volatile uint32_t dropped;   /* bytes lost: ring full, or the UART overran */
    bool started;
} cmsdk_uart_rx;

/* Enables the UART with its receive interrupt at the given NVIC priority and
 * pends the kernel loop; a second call does nothing. Kernel loop only. */
void cmsdk_uart_rx_start(cmsdk_uart_rx *u, uint8_t priority);
/* The receive interrupt: queues what the UART holds, pends the kernel loop. */
void cmsdk_uart_rx_irq(cmsdk_uart_rx *u);
/* Moves up to len queued bytes, oldest first, into buf; returns how many. */
size_t cmsdk_uart_rx_read(cmsdk_uart_rx *u, uint8_t *buf, size_t len);

#endif
