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
 * - notify_insns: instructions from an mvTempTriggerNotification call to the
 *   first line of the app's notification ISR (the gate, the kernel posting
 *   the event and pending the app's IRQ, the return, the exception entry),
 *   from TIMER0 over many triggers minus the same loop without the call;
 *   notify_call_insns: the whole call, ISR included, to its return.
 */
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>

#include "bulwark_board.h"
#include "mv_syscalls.h"

#define FPGAIO_COUNTER 0x40302018u
#define TIMER0_CTRL   (*(volatile uint32_t *)0x40000000u)
#define TIMER0_VALUE  (*(volatile uint32_t *)0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t *)0x40000008u)
#define CALLS 20000u
#define TRIGGERS 2000u
#define NOTIFY_IRQ 65u
#define NOTIFY_SLOTS 8u
#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_IPR(n)  (*(volatile uint8_t *)(0xE000E400u + (n)))
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

static struct MvNotification notifications[NOTIFY_SLOTS] __attribute__((aligned(8)));
static volatile uint32_t isr_at;      /* TIMER0 at the ISR's first line */
static volatile uint32_t isr_runs;
static uint32_t notify_index;

void IRQ65_Handler(void);
void IRQ65_Handler(void)
{
    isr_at = TIMER0_VALUE;
    while (notifications[notify_index].event_type != MV_EVENTTYPE_NOEVENT) {
        notifications[notify_index].event_type = MV_EVENTTYPE_NOEVENT;
        notify_index = (notify_index + 1u) % NOTIFY_SLOTS;
    }
    isr_runs++;
}

/* Sum over TRIGGERS of (TIMER0 before the call) - (TIMER0 at the ISR), and of
 * the whole call in *call_ticks; with trigger false, the same loop without
 * the call, the ISR's first line replaced by the timer read after it. */
static uint32_t notify_ticks(MvNotificationHandle center, bool trigger, uint32_t *call_ticks)
{
    uint32_t to_isr = 0, whole = 0;
    for (uint32_t i = 0; i < TRIGGERS; i++) {
        uint32_t runs = isr_runs;
        uint32_t t = TIMER0_VALUE;
        if (trigger) {
            (void)mvTempTriggerNotification(center, MV_EVENTTYPE_CHANNELDATAREADABLE, i);
        } else {
            isr_at = TIMER0_VALUE;
            isr_runs++;
        }
        uint32_t back = TIMER0_VALUE;
        while (isr_runs == runs) {
        }
        to_isr += t - isr_at;
        whole += t - back;
    }
    *call_ticks = whole;
    return to_isr;
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

    MvNotificationHandle center = 0;
    struct MvNotificationSetup setup = {
        .irq = NOTIFY_IRQ, .buffer = notifications, .buffer_size = sizeof notifications,
    };
    enum MvStatus setup_status = mvSetupNotifications(&setup, &center);
    NVIC_IPR(NOTIFY_IRQ) = 0x80u;
    NVIC_ISER(NOTIFY_IRQ / 32u) = 1u << (NOTIFY_IRQ % 32u);
    uint32_t base_call = 0, trig_call = 0;
    uint32_t base_isr = notify_ticks(center, false, &base_call);
    uint32_t trig_isr = notify_ticks(center, true, &trig_call);

    /* instructions per timer tick, from the known loop */
    uint64_t insn_per_tick_x1000 = ((uint64_t)2u * LOOP_ITERATIONS * 1000u) / timer_loop;
    uint64_t noop_x1000 = (uint64_t)(timer_noop - timer_empty) * insn_per_tick_x1000 / CALLS;
    uint64_t boot = ticks_per_kinsn ? ((uint64_t)at_main * 1000u) / ticks_per_kinsn : 0;

    uint64_t notify_x1000 = (uint64_t)(trig_isr - base_isr) * insn_per_tick_x1000 / TRIGGERS;
    uint64_t notify_call_x1000 = (uint64_t)(trig_call - base_call) * insn_per_tick_x1000 / TRIGGERS;
    if (setup_status != MV_STATUS_OKAY || isr_runs != 2u * TRIGGERS) {
        printf("bench: notifications failed (setup %u, ISR runs %lu)\n", (unsigned)setup_status,
               (unsigned long)isr_runs);
        board_exit(1);
    }
    printf("bench: notify_insns %lu.%02lu\n", (unsigned long)(notify_x1000 / 1000u),
           (unsigned long)(notify_x1000 % 1000u / 10u));
    printf("bench: notify_call_insns %lu.%02lu\n", (unsigned long)(notify_call_x1000 / 1000u),
           (unsigned long)(notify_call_x1000 % 1000u / 10u));
    printf("bench: counter_ticks_per_1000_insns %" PRIu32 "\n", ticks_per_kinsn);
    printf("bench: timer_insns_per_tick %lu.%03lu\n", (unsigned long)(insn_per_tick_x1000 / 1000u),
           (unsigned long)(insn_per_tick_x1000 % 1000u));
    printf("bench: boot_insns %lu\n", (unsigned long)boot);
    printf("bench: noop_insns %lu.%02lu\n", (unsigned long)(noop_x1000 / 1000u),
           (unsigned long)(noop_x1000 % 1000u / 10u));
    board_exit(0);
}
