/* CMSDK APB UART (the an505's UARTs): polled transmit for consoles. */
#ifndef CMSDK_UART_H
#define CMSDK_UART_H

#include <stddef.h>
#include <stdint.h>

/* Enables transmit and receive on the UART at base. */
void cmsdk_uart_init(uint32_t base);
/* Writes len bytes, waiting while the transmit buffer is full. */
void cmsdk_uart_write(uint32_t base, const char *text, size_t len);

#endif
