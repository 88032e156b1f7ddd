/*
 * preempt: system calls stay correct when app interrupts preempt the caller,
 * including in the middle of a call (bw_syscalls.h: "all calls may be made
 * from app thread mode or from an app interrupt handler that preempted
 * another call").
 *
 * The main thread triggers 20000 notifications on center A (tag = running
 * count) and reads mvGetMicroseconds after each. Meanwhile the app's TIMER0
 * fires every ~2000 ticks (100 us, with jitter so the preemption points move;
 * longer if the ISR itself is slow on a loaded host) and its ISR, at the
 * highest app priority, calls mvNoOp and mvGetMicroseconds and triggers
 * center B. A's ISR (lowest) and B's ISR (in between, so it preempts A's
 * processing) consume their rings and check every record. Each producer
 * stays within its 64-slot ring by watching what was consumed, so nothing may
 * be dropped; in some phases the main thread masks A's (and B's) ISR with
 * BASEPRI so that each ring fills up completely.
 *
 * Checks: on each center every tag arrives exactly once, in order, with the
 * right type and non-decreasing timestamps; totals are exact; each ring held
 * 64 records at some point and never more; every call returns OKAY;
 * mvGetMicroseconds never goes back in any context (nor behind a reading the
 * main thread finished earlier); the timer really did interrupt kernel calls
 * and B's ISR really preempted A's. The counts are printed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bulwark_board.h"
#include "check.h"
#include "mv_syscalls.h"

#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_ICER(n) (*(volatile uint32_t *)(0xE000E180u + 4u * (n)))
#define NVIC_IPR(n)  (*(volatile uint8_t *)(0xE000E400u + (n)))

/* CMSDK TIMER0 (non-secure, the app's), clocked at 20 MHz. */
#define TIMER0_BASE      0x40000000u
#define TIMER0_CTRL      (*(volatile uint32_t *)(TIMER0_BASE + 0x0u))
#define TIMER0_VALUE     (*(volatile uint32_t *)(TIMER0_BASE + 0x4u))
#define TIMER0_RELOAD    (*(volatile uint32_t *)(TIMER0_BASE + 0x8u))
#define TIMER0_INTCLEAR  (*(volatile uint32_t *)(TIMER0_BASE + 0xCu))
#define TIMER_ENABLE     (1u << 0)
#define TIMER_IRQ_ENABLE (1u << 3)
#define TIMER0_IRQ       3u

#define IRQ_A 64u
#define IRQ_B 65u
#define SLOTS 64u
#define MAIN_TOTAL 20000u
#define PRIO_TIMER 0x00u   /* highest app priority */
#define PRIO_B     0x40u
#define PRIO_A     0x80u
#define SPIN_LIMIT 50000000

typedef struct receiver {
    struct MvNotification *ring;
    enum MvEventType type;
    uint32_t read_index;
    volatile uint32_t count;
    volatile uint32_t tag_errors;
    volatile uint32_t type_errors;
    volatile uint32_t stamp_errors;   /* record timestamps went backwards */
    volatile uint32_t time_errors;    /* mvGetMicroseconds went backwards in this ISR */
    volatile uint32_t status_errors;
    volatile uint32_t active;         /* inside the ISR */
    uint64_t last_stamp;
    uint64_t last_us;
} receiver;

static struct MvNotification ring_a[SLOTS] __attribute__((aligned(8)));
static struct MvNotification ring_b[SLOTS] __attribute__((aligned(8)));
static receiver rx_a = { .ring = ring_a, .type = MV_EVENTTYPE_CHANNELDATAREADABLE };
static receiver rx_b = { .ring = ring_b, .type = MV_EVENTTYPE_CHANNELDATAWRITESPACE };
static MvNotificationHandle handle_a, handle_b;

static volatile uint32_t a_produced;
static volatile uint32_t main_in_call;
static volatile uint32_t main_status_errors, main_time_errors;
/* Stored after each reading completes. Its high word stays 0 for the first
 * 71 minutes, so the timer ISR never sees a torn 64-bit value. */
static volatile uint64_t main_last_us;

static volatile uint32_t timer_producing = 1;
static volatile uint32_t ticks, b_produced, b_skipped, b_max_ahead;
static volatile uint32_t timer_status_errors, timer_time_errors, timer_behind_main;
static volatile uint32_t preempted_main_calls, preempted_a, b_in_a;
static uint64_t timer_last_us;
static uint32_t jitter_state = 12345u;
static volatile uint32_t timer_period = 2000u;   /* ticks */
static volatile uint32_t isr_max_ticks;          /* longest timer ISR seen */

/* Consumes every record present, checking tag order, type and timestamps. */
static void consume(receiver *r)
{
    r->active = 1;
    struct MvNotification *slot = &r->ring[r->read_index];
    while (slot->event_type != MV_EVENTTYPE_NOEVENT) {
        if (slot->tag != r->count) {
            r->tag_errors++;
        }
        if (slot->event_type != r->type) {
            r->type_errors++;
        }
        if (slot->microseconds < r->last_stamp) {
            r->stamp_errors++;
        }
        r->last_stamp = slot->microseconds;
        slot->event_type = MV_EVENTTYPE_NOEVENT;
        r->read_index = (r->read_index + 1u) % SLOTS;
        slot = &r->ring[r->read_index];
        r->count = r->count + 1u;
    }
    uint64_t now = 0;
    if (mvGetMicroseconds(&now) != MV_STATUS_OKAY) {
        r->status_errors++;
    }
    if (now < r->last_us) {
        r->time_errors++;
    }
    r->last_us = now;
    r->active = 0;
}

void IRQ64_Handler(void);
void IRQ64_Handler(void)
{
    consume(&rx_a);
}

void IRQ65_Handler(void);
void IRQ65_Handler(void)
{
    if (rx_a.active) {
        b_in_a++;
    }
    consume(&rx_b);
}

void IRQ3_Handler(void);
void IRQ3_Handler(void)
{
    uint32_t entry_value = TIMER0_VALUE;
    TIMER0_INTCLEAR = 1u;
    ticks++;
    if (main_in_call) {
        preempted_main_calls++;
    }
    if (rx_a.active) {
        preempted_a++;
    }
    if (mvNoOp() != MV_STATUS_OKAY) {
        timer_status_errors++;
    }
    uint64_t now = 0;
    uint64_t main_before = main_last_us;
    if (mvGetMicroseconds(&now) != MV_STATUS_OKAY) {
        timer_status_errors++;
    }
    if (now < timer_last_us) {
        timer_time_errors++;
    }
    if (now < main_before) {
        timer_behind_main++;
    }
    timer_last_us = now;

    /* B's ISR is below this one, so what it consumed cannot move meanwhile. */
    if (timer_producing && b_produced - rx_b.count < SLOTS) {
        uint32_t tag = b_produced;
        b_produced = tag + 1u;
        if (mvTempTriggerNotification(handle_b, MV_EVENTTYPE_CHANNELDATAWRITESPACE, tag) != MV_STATUS_OKAY) {
            timer_status_errors++;
        }
        if (b_produced - rx_b.count > b_max_ahead) {
            b_max_ahead = b_produced - rx_b.count;
        }
    } else if (timer_producing) {
        b_skipped++;
    }

    /* Next period 1500..2499 ticks, so interrupts land at varying points,
     * but at least 4 times as long as this ISR took: without -icount guest
     * time is host time, and a slow host must not starve the main thread. */
    uint32_t exit_value = TIMER0_VALUE;
    uint32_t spent = exit_value <= entry_value ? entry_value - exit_value : timer_period;
    if (spent > isr_max_ticks) {
        isr_max_ticks = spent;
    }
    jitter_state = jitter_state * 1103515245u + 12345u;
    uint32_t period = 1500u + (jitter_state >> 16) % 1000u;
    if (period < 4u * spent) {
        period = 4u * spent;
    }
    timer_period = period;
    TIMER0_RELOAD = period;
}

static void set_basepri(uint32_t priority)
{
    __asm volatile("msr basepri, %0\n isb" : : "r"(priority) : "memory");
}

static void main_read_time(void)
{
    uint64_t now = 0;
    main_in_call = 1;
    enum MvStatus status = mvGetMicroseconds(&now);
    main_in_call = 0;
    if (status != MV_STATUS_OKAY) {
        main_status_errors++;
    }
    if (now < main_last_us) {
        main_time_errors++;
    }
    main_last_us = now;
}

/* With A's and B's ISRs masked, only reads the time until the timer ISR
 * finds B's ring full (bounded), so B's producer meets a full ring. */
static void fill_b(void)
{
    set_basepri(PRIO_B);
    uint32_t skipped = b_skipped;
    for (int i = 0; i < SPIN_LIMIT / 100 && b_skipped == skipped; i++) {
        main_read_time();
    }
    set_basepri(0);
}

static void irq_setup(uint32_t irq, uint8_t priority)
{
    NVIC_IPR(irq) = priority;
    NVIC_ISER(irq / 32u) = 1u << (irq % 32u);
}

static enum MvStatus setup(uint32_t irq, struct MvNotification *ring, MvNotificationHandle *handle)
{
    struct MvNotificationSetup s = { .irq = irq, .buffer = ring, .buffer_size = SLOTS * sizeof *ring };
    return mvSetupNotifications(&s, handle);
}

int main(void)
{
    printf("preempt: started\n");
    check_status(setup(IRQ_A, ring_a, &handle_a), MV_STATUS_OKAY, "setup center A (IRQ 64, 64 slots)");
    check_status(setup(IRQ_B, ring_b, &handle_b), MV_STATUS_OKAY, "setup center B (IRQ 65, 64 slots)");
    irq_setup(IRQ_A, PRIO_A);
    irq_setup(IRQ_B, PRIO_B);

    TIMER0_CTRL = 0;
    TIMER0_RELOAD = 2000u;
    TIMER0_VALUE = 2000u;
    TIMER0_INTCLEAR = 1u;
    irq_setup(TIMER0_IRQ, PRIO_TIMER);
    TIMER0_CTRL = TIMER_ENABLE | TIMER_IRQ_ENABLE;

    uint64_t start = 0;
    (void)mvGetMicroseconds(&start);
    uint32_t throttled = 0;
    uint32_t a_max_ahead = 0;
    for (uint32_t i = 0; i < MAIN_TOTAL; i++) {
        /* In each 1000 calls: 400 with every ISR free to run, 200 with A's
         * ISR masked (A's ring fills up to the throttle), 400 with A's and
         * B's masked (B's ring fills from the timer ISR too). */
        uint32_t phase = i % 1000u;
        set_basepri(phase < 400u ? 0u : phase < 600u ? PRIO_A : PRIO_B);
        if (i % 5000u == 2500u) {
            fill_b();
        }
        if (a_produced - rx_a.count >= SLOTS) {
            throttled++;
            set_basepri(0);   /* let A's ISR drain its ring */
            while (a_produced - rx_a.count >= SLOTS) {
            }
        }
        a_produced = i + 1u;   /* before the call: A's ISR may consume it inside */
        main_in_call = 1;
        enum MvStatus status = mvTempTriggerNotification(handle_a, MV_EVENTTYPE_CHANNELDATAREADABLE, i);
        main_in_call = 0;
        if (status != MV_STATUS_OKAY) {
            main_status_errors++;
        }
        uint32_t ahead = a_produced - rx_a.count;
        if (ahead > a_max_ahead) {
            a_max_ahead = ahead;
        }
        main_read_time();
    }
    set_basepri(0);
    uint64_t end = main_last_us;

    for (int i = 0; i < SPIN_LIMIT && rx_a.count < MAIN_TOTAL; i++) {
    }
    timer_producing = 0;
    TIMER0_CTRL = 0;
    NVIC_ICER(TIMER0_IRQ / 32u) = 1u << (TIMER0_IRQ % 32u);
    __asm volatile("dsb\n isb");
    for (int i = 0; i < SPIN_LIMIT && rx_b.count < b_produced; i++) {
    }

    char elapsed[21];
    printf("preempt: main %" PRIu32 " triggers in %s us (throttled %" PRIu32 "x, at most %" PRIu32
           " in A's ring), A consumed %" PRIu32 "\n", a_produced, check_u64_text(elapsed, end - start),
           throttled, a_max_ahead, rx_a.count);
    printf("preempt: timer ISR took at most %" PRIu32 " timer ticks\n", isr_max_ticks);
    printf("preempt: timer %" PRIu32 " ticks, B produced %" PRIu32 " consumed %" PRIu32 " (at most %" PRIu32
           " in B's ring, %" PRIu32 " ticks skipped while full)\n", ticks, b_produced, rx_b.count, b_max_ahead,
           b_skipped);
    printf("preempt: timer interrupted %" PRIu32 " main-thread calls and %" PRIu32 " runs of A's ISR; "
           "B's ISR preempted A's %" PRIu32 " times\n", preempted_main_calls, preempted_a, b_in_a);

    check_u32(main_status_errors, 0, "main thread: every call OKAY");
    check_u32(main_time_errors, 0, "main thread: mvGetMicroseconds never goes back");
    check_u32(rx_a.count, MAIN_TOTAL, "A: exact total");
    check_u32(a_max_ahead, SLOTS, "A: the ring was full (64 records) but never more");
    check_true(throttled > 0, "0", "> 0", "A: the main thread waited for a full ring to drain");
    check_u32(rx_a.tag_errors, 0, "A: every tag once, in order");
    check_u32(rx_a.type_errors, 0, "A: event types");
    check_u32(rx_a.stamp_errors, 0, "A: timestamps non-decreasing");
    check_u32(rx_a.time_errors + rx_a.status_errors, 0, "A's ISR: mvGetMicroseconds OKAY and monotonic");
    check_u32(timer_status_errors, 0, "timer ISR: every call OKAY");
    check_u32(timer_time_errors, 0, "timer ISR: mvGetMicroseconds never goes back");
    check_u32(timer_behind_main, 0, "timer ISR: never behind the main thread's finished reading");
    check_true(ticks >= 100, "few", ">= 100", "the timer fired often (%" PRIu32 " ticks)", ticks);
    check_u32(rx_b.count, b_produced, "B: exact total (all the timer produced)");
    check_true(b_produced >= 100, "few", ">= 100", "B: the timer produced (%" PRIu32 ")", b_produced);
    check_u32(b_max_ahead, SLOTS, "B: the ring was full (64 records) but never more");
    check_true(b_skipped > 0, "0", "> 0", "B: the timer found the ring full and held back");
    check_u32(rx_b.tag_errors, 0, "B: every tag once, in order");
    check_u32(rx_b.type_errors, 0, "B: event types");
    check_u32(rx_b.stamp_errors, 0, "B: timestamps non-decreasing");
    check_u32(rx_b.time_errors + rx_b.status_errors, 0, "B's ISR: mvGetMicroseconds OKAY and monotonic");
    check_true(preempted_main_calls > 0, "0", "> 0", "the timer interrupted main-thread kernel calls");
    check_true(b_in_a > 0, "0", "> 0", "B's ISR preempted A's");

    check_status(mvCloseNotifications(&handle_a), MV_STATUS_OKAY, "close A");
    check_status(mvCloseNotifications(&handle_b), MV_STATUS_OKAY, "close B");
    check_finish("preempt", 0, 0);
}
