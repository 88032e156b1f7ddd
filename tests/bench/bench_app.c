/*
 * bench_app: guest-instruction figures, run under QEMU with -icount shift=0
 * (one instruction = one nanosecond of virtual time, so the board's clocks
 * count instructions). Prints "bench: <name> <value>" lines for
 * scripts/bench.sh; no pass/fail.
 *
 * - counter_per_insn: the FPGAIO cycle counter (read through the mediated
 *   mvPeriphPeek32) over a loop of a known instruction count, which
 *   calibrates the counter against instructions.
 * - boot_insns: instructions from reset to this app's main (boot stub, kernel
 *   start-up, SDK start-up), from the counter's value at main (it starts at 0
 *   at reset).
 * - noop_insns: instructions of one mvNoOp round trip (the app's call, the
 *   gate, the kernel, the return), from TIMER0 over many calls minus the same
 *   loop without the call.
 */
#include <inttypes.h>
#include <stdio.h>

#include "bulwark_board.h"
#include "mv_syscalls.h"

#define FPGAIO_COUNTER 0x40302018u
#define TIMER0_CTRL   (*(volatile uint32_t *)0x40000000u)
#define TIMER0_VALUE  (*(volatile uint32_t *)0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t *)0x40000008u)
#define CALLS 20000u
#define LOOP_ITERATIONS 1000000u

static uint32_t counter(void)
{
    uint32_t v = 0;
    mvPeriphPeek32(FPGAIO_COUNTER, &v);
    return v;
}

/* Exactly 2 instructions per iteration (subs; bne), LOOP_ITERATIONS times. */
static void known_loop(void)
{
    uint32_t n = LOOP_ITERATIONS;
    __asm volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(n));
}

static uint32_t timer_elapsed(uint32_t start)
{
    return start - TIMER0_VALUE;   /* TIMER0 counts down */
}

int main(void)
{
    uint32_t at_main = counter();

    uint32_t c0 = counter();
    known_loop();
    uint32_t c1 = counter();
    /* counter ticks per 1000 instructions, from 2M loop instructions */
    uint32_t ticks_per_kinsn = (uint32_t)(((uint64_t)(c1 - c0) * 1000u) / (2u * LOOP_ITERATIONS));

    TIMER0_RELOAD = 0xFFFFFFFFu;
    TIMER0_VALUE = 0xFFFFFFFFu;
    TIMER0_CTRL = 1u;

    uint32_t t = TIMER0_VALUE;
    known_loop();
    uint32_t timer_loop = timer_elapsed(t);

    t = TIMER0_VALUE;
    for (uint32_t i = 0; i < CALLS; i++) {
        __asm volatile("" ::: "memory");
    }
    uint32_t timer_empty = timer_elapsed(t);

    t = TIMER0_VALUE;
    for (uint32_t i = 0; i < CALLS; i++) {
        mvNoOp();
        __asm volatile("" ::: "memory");
    }
    uint32_t timer_noop = timer_elapsed(t);

    /* instructions per timer tick, from the known loop */
    uint64_t insn_per_tick_x1000 = ((uint64_t)2u * LOOP_ITERATIONS * 1000u) / timer_loop;
    uint64_t noop_x1000 = (uint64_t)(timer_noop - timer_empty) * insn_per_tick_x1000 / CALLS;
    uint64_t boot = ticks_per_kinsn ? ((uint64_t)at_main * 1000u) / ticks_per_kinsn : 0;

    printf("bench: counter_ticks_per_1000_insns %" PRIu32 "\n", ticks_per_kinsn);
    printf("bench: timer_insns_per_tick %lu.%03lu\n", (unsigned long)(insn_per_tick_x1000 / 1000u),
           (unsigned long)(insn_per_tick_x1000 % 1000u));
    printf("bench: boot_insns %lu\n", (unsigned long)boot);
    printf("bench: noop_insns %lu.%02lu\n", (unsigned long)(noop_x1000 / 1000u),
           (unsigned long)(noop_x1000 % 1000u / 10u));
    board_exit(0);
}
