/*
 * The kernel time base on the STM32U585: TIM2 (secure), a 32-bit up-counter
 * ticking once a microsecond, extended to 64 bits by counting its overflows
 * (one every 2^32 us, about 71.6 minutes) in its update interrupt.
 */
#ifndef U585_TIMEBASE_H
#define U585_TIMEBASE_H

#include <stdint.h>

/* Starts TIM2 from 0 at BOARD_TIMEBASE_HZ and enables its overflow interrupt.
 * Called once from board_init, after TIM2 was made secure. */
void u585_timebase_init(void);

/* TIM2's interrupt: counts one overflow. Called from board_irq. */
void u585_timebase_irq(void);

/* Microseconds since u585_timebase_init; monotonic; ISR-safe (also with
 * interrupts masked, as long as they are not masked for 71 minutes). */
uint64_t u585_timebase_us(void);

#endif
