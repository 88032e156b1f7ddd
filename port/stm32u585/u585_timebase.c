/*
 * TIM2 as the kernel time base (see u585_timebase.h). TIM2 rather than the
 * secure SysTick: SysTick is 24 bits (a wrap every 4.2 s at 4 MHz, every
 * 0.1 s at 160 MHz) and the armv8m layer leaves the secure SysTick vector
 * unused; TIM2 has a 32-bit counter and a 16-bit prescaler, so it can tick
 * in microseconds at any system clock and overflows only every 71 minutes.
 * Invariant: time = overflows * 2^32 + TIM2_CNT, where an overflow whose
 * interrupt has not run yet shows as TIM_SR.UIF.
 */
#include "u585_timebase.h"

#include "armv8m.h"
#include "board.h"
#include "bw_port.h"
#include "u585_layout.h"
#include "u585_regs.h"

#define TIM2_REG(offset) U585_REG(BOARD_KERNEL_TIMER + (offset))
#define KERNEL_TIMER_PRIORITY 0x40u   /* secure; above every app priority (PRIS) */

_Static_assert(BOARD_TIMEBASE_HZ == 1000000u, "the time base counts microseconds");
_Static_assert(BOARD_PCLK1_HZ % BOARD_TIMEBASE_HZ == 0u && BOARD_PCLK1_HZ / BOARD_TIMEBASE_HZ <= 0x10000u,
               "TIM2's clock must divide down to the time base exactly");

static volatile uint32_t overflows;

void u585_timebase_init(void)
{
    U585_REG(BOARD_RCC + RCC_APB1ENR1) |= RCC_APB1ENR1_TIM2EN;
    (void)U585_REG(BOARD_RCC + RCC_APB1ENR1);   /* read back: the clock is on before TIM2 is touched */

    TIM2_REG(TIM_CR1) = TIM_CR1_URS;            /* stopped; only overflows raise UIF */
    TIM2_REG(TIM_PSC) = u585_timer_prescaler(BOARD_PCLK1_HZ, BOARD_TIMEBASE_HZ);
    TIM2_REG(TIM_ARR) = 0xFFFFFFFFu;
    TIM2_REG(TIM_CNT) = 0u;
    TIM2_REG(TIM_EGR) = TIM_EGR_UG;             /* load the buffered prescaler now */
    TIM2_REG(TIM_SR) = 0u;
    TIM2_REG(TIM_DIER) = TIM_DIER_UIE;

    NVIC_IPR_BYTE(BOARD_IRQ_KERNEL_TIMER) = KERNEL_TIMER_PRIORITY;
    NVIC_ISER(BOARD_IRQ_KERNEL_TIMER / 32u) = 1u << (BOARD_IRQ_KERNEL_TIMER % 32u);
    TIM2_REG(TIM_CR1) = TIM_CR1_URS | TIM_CR1_CEN;
}

void u585_timebase_irq(void)
{
    if (TIM2_REG(TIM_SR) & TIM_SR_UIF) {
        TIM2_REG(TIM_SR) = ~TIM_SR_UIF;         /* rc_w0: clear UIF only */
        overflows = overflows + 1u;
    }
}

uint64_t u585_timebase_us(void)
{
    uint32_t state = port_irq_lock();
    uint32_t wraps = overflows;
    uint32_t count = TIM2_REG(TIM_CNT);
    if (TIM2_REG(TIM_SR) & TIM_SR_UIF) {
        /* An overflow its interrupt has not counted yet: count it, and read
         * the counter again in case the first read was from before it. */
        wraps++;
        count = TIM2_REG(TIM_CNT);
    }
    port_irq_unlock(state);
    return ((uint64_t)wraps << 32) | count;
}
