/*
 * The kernel console on the STM32U585: USART1 (secure), transmit only,
 * 115200 8N1, polled, on PA9 (TX) / PA10 (RX) alternate function 7 (the
 * ST-LINK virtual COM port on the B-U585I-IOT02A).
 */
#ifndef U585_CONSOLE_H
#define U585_CONSOLE_H

#include <stddef.h>

/* Enables USART1's and GPIOA's clocks, muxes the pins and enables the
 * transmitter. Called once from board_init, after the time base started. */
void u585_console_init(void);

/* Writes len bytes, waiting for room in the transmit register at most
 * U585_CONSOLE_BYTE_TIMEOUT_US a byte; on a timeout the rest is dropped
 * (a console must never hang the kernel). ISR-safe; a preempting write may
 * land between two bytes (bw_log writes a whole line per call). */
void u585_console_write(const char *text, size_t len);

#define U585_CONSOLE_BYTE_TIMEOUT_US 1000u   /* a byte takes 87 us at 115200 */

#endif
