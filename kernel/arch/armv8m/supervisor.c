/*
 * Crash supervision, the Armv8-M part: capturing a crashed or hung app,
 * stopping it, the supervision tick, and the kernel's supervisor thread.
 *
 * Handlers only capture: a secure fault handler or the tick fills `capture`
 * (the app's registers and fault status) and stops the app, then enters the
 * supervisor thread (exceptions.S: arch_enter_supervisor) in secure thread
 * mode on a fresh kernel stack. The thread hands the capture to the portable
 * core (bw_crash_handle: record, flash, log, backoff), sleeps in WFI until
 * the backoff ends (the tick wakes it), then asks PendSV_S to start the app
 * again. Kernel interrupts keep running throughout, so the kernel stays up.
 *
 * The tick (SysTick_S, priority 0x60: above every app priority since
 * AIRCR.PRIS = 1, so PRIMASK_NS/FAULTMASK_NS cannot mask it) feeds the
 * secure watchdog, lets the core mark the app healthy, and watches the app's
 * masks (PRIMASK_NS, FAULTMASK_NS, BASEPRI_NS). Deciding "hung" rests only on
 * what the app cannot stage (docs/DESIGN.md, "Hangs"):
 *  - an app asleep in WFI/WFE with its masks set is waiting, not hung (a
 *    masked interrupt still wakes the core: tickless idle loops do this), so
 *    such a sample does not count against it -- but only if no enabled app
 *    interrupt is pending (WFI would not sleep then);
 *  - a sample that lands in the kernel's own handler work does not count;
 *    every other sample with masks set counts as "awake and masked", inside
 *    a kernel call too;
 *  - while the masks stay set, the next sample comes after a random delay
 *    (1..BW_SUPERVISOR_TICK_MS ms, from a generator the app cannot read), so
 *    an app cannot time a WFI to meet every sample;
 *  - hung: masks set at every sample for BW_CRASH_HANG_MS and at least
 *    HANG_AWAKE_SAMPLES of them found the app awake.
 * A hung app is captured at a sample that interrupted the app or one of its
 * kernel calls, never kernel work (PendSV_S, a kernel interrupt). The
 * watchdog is for the kernel itself: if the tick stops, it raises NMI (log,
 * chip reset).
 *
 * A stopped app stays stopped: app_stop disables its interrupts, and the
 * supervisor thread runs with BASEPRI_S at BW_GATE_APP_MASK_PRIORITY
 * (exceptions.S), so neither the app's SysTick nor any other pending app
 * exception runs (or calls the kernel) until the restart.
 *
 * `capture` is written only by a handler that has just stopped the app and
 * read only by the supervisor thread that handler starts: never both at once.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arch.h"
#include "armv8m.h"
#include "armv8m_port.h"
#include "board.h"
#include "bw_app_mem.h"
#include "bw_board.h"
#include "bw_config.h"
#include "bw_crash.h"
#include "bw_log.h"
#include "bw_port.h"
#include "gate_violation.h"

#define TICK_PRIORITY 0x60u
#define TICK_EXCEPTION 15u
#define GATE_TRIGGER 11u          /* a refused kernel call: the record's trigger (SVCall's number) */
#define HANG_AWAKE_SAMPLES 3u
#define HANG_US ((uint64_t)BW_CRASH_HANG_MS * 1000u)
#define PROBE_MIN_MS 1u
#define CFSR_STKOF (1u << 20)
#define XPSR_THUMB (1u << 24)
#define XPSR_STACK_ALIGNED (1u << 9)   /* the frame was moved down 4 bytes to align it */
#define BASIC_FRAME_BYTES 0x20u
#define FP_FRAME_BYTES 0x68u

_Static_assert(BW_SUPERVISOR_TICK_MS > 0 && BW_CRASH_HANG_MS >= BW_SUPERVISOR_TICK_MS,
               "the hang timeout must be at least one tick");

static bw_crash_capture capture;
static volatile bool app_running;
static bool healthy_seen;       /* bw_crash_app_healthy at the last tick */
static uint32_t tick_reload;    /* SYST_RVR value of the regular tick */
static uint32_t reload_per_ms;

/* The masked stretch being watched (hang rule above). */
static struct {
    bool masked;                /* masks were set at the last sample */
    uint64_t since_us;          /* first sample of the stretch */
    uint32_t awake_samples;
} watch;

static uint32_t probe_state;    /* xorshift32: the random sample delays */

void arch_supervision_init(void)
{
    uint64_t reload = (uint64_t)port_clock_hz(BW_CLOCK_HCLK) / 1000u * BW_SUPERVISOR_TICK_MS;
    if (reload == 0 || reload - 1u > SYST_RVR_MAX) {
        bw_log("warning: the supervision tick cannot count %u ms at this clock", BW_SUPERVISOR_TICK_MS);
        reload = SYST_RVR_MAX + 1u;
    }
    SCB_SHPR3 = (SCB_SHPR3 & ~(0xFFu << 24)) | (TICK_PRIORITY << 24);
    tick_reload = (uint32_t)reload - 1u;
    reload_per_ms = (uint32_t)(reload / BW_SUPERVISOR_TICK_MS);
    SYST_RVR = tick_reload;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
    board_watchdog_start(BW_WATCHDOG_TIMEOUT_MS);
    /* The sample delays' generator: seeded from the board's entropy source,
     * never zero (xorshift's fixed point). */
    if (port_entropy(&probe_state, sizeof probe_state) != BW_OK) {
        probe_state = (uint32_t)port_time_us();
    }
    probe_state |= probe_state == 0 ? 1u : 0u;
}

void arch_supervision_app_entered(void)
{
    watch.masked = false;
    healthy_seen = false;   /* this run's healthy moment is its own: the tick pends the loop then */
    app_running = true;
}

void arch_supervision_app_paused(void)
{
    app_running = false;
    watch.masked = false;
}

bool arch_supervision_app_running(void)
{
    return app_running;
}

static uint32_t app_masks(void)
{
    uint32_t primask, faultmask, basepri;
    __asm volatile("mrs %0, primask_ns\n mrs %1, faultmask_ns\n mrs %2, basepri_ns"
                   : "=r"(primask), "=r"(faultmask), "=r"(basepri));
    return (primask & 1u) | (faultmask & 1u) << 1 | (basepri & 0xFFu) << 8;
}

/* The app stops running: no interrupt of its own fires, no mask of its own
 * holds the kernel's priority down, its MPU and privilege no longer shape
 * what the kernel reads of its memory. Active interrupts stay active until
 * the restart ends them (app_world.c). */
static void app_stop(void)
{
    uint32_t zero = 0;
    app_running = false;
    watch.masked = false;
    arch_app_restart_cancel();
    armv8m_app_irqs_reset(BOARD_IRQ_COUNT);
    MPU_NS_CTRL = 0;
    FPU_NS_FPCCR &= ~FPCCR_LSPACT;   /* lazy FP state the app set must not fault the kernel's entries */
    __asm volatile(
        "msr primask_ns, %0\n"
        "msr basepri_ns, %0\n"
        "msr faultmask_ns, %0\n"
        "msr control_ns, %0\n"
        : : "r"(zero) : "memory");
}

/* Where the exception frame of the interrupted app is: on the stack that
 * CONTROL_NS.SPSEL chose in thread mode, on MSP_NS in handler mode. */
static uint32_t app_frame_sp(uint32_t exc_return, uint32_t control_ns, uint32_t *limit)
{
    uint32_t sp, lim;
    if ((exc_return & EXC_RETURN_MODE_THREAD) && (control_ns & 2u)) {
        __asm volatile("mrs %0, psp_ns\n mrs %1, psplim_ns" : "=r"(sp), "=r"(lim));
    } else {
        __asm volatile("mrs %0, msp_ns\n mrs %1, msplim_ns" : "=r"(sp), "=r"(lim));
    }
    if (limit != NULL) {
        *limit = lim;
    }
    return sp;
}

/* True when the stacked frame looks like one the core pushed: a stack limit
 * violation during exception entry leaves SP at the limit and pushes nothing,
 * so what lies there is old stack contents. */
static bool frame_plausible(const uint32_t frame[8])
{
    uint32_t pc = frame[6];
    return (frame[7] & XPSR_THUMB) && (pc & 1u) == 0
        && (pc - BOARD_APP_SLOT_BASE < BOARD_APP_SLOT_SIZE || pc - BOARD_APP_RAM_BASE < BOARD_APP_RAM_SIZE);
}

/* The part of a capture common to every cause: time, status, the app's
 * special registers; then the app is stopped. */
static bw_crash_capture *capture_begin(uint32_t trigger, bool hang, uint32_t exc_return,
                                       const arch_fault_status *status)
{
    bw_crash_capture *c = &capture;
    memset(c, 0, sizeof *c);
    c->time_us = port_time_us();
    c->trigger = trigger;
    c->hang = hang;
    c->exc_return = exc_return;
    c->cfsr = status->cfsr;
    c->cfsr_ns = status->cfsr_ns;
    c->hfsr = status->hfsr;
    c->sfsr = status->sfsr;
    c->sfar = status->sfar;
    c->bfar = status->bfar;
    c->mmfar_ns = status->mmfar_ns;
    c->masks_ns = app_masks();
    __asm volatile("mrs %0, control_ns\n mrs %1, msp_ns\n mrs %2, psp_ns\n"
                   "mrs %3, msplim_ns\n mrs %4, psplim_ns"
                   : "=r"(c->control_ns), "=r"(c->msp_ns), "=r"(c->psp_ns),
                     "=r"(c->msplim_ns), "=r"(c->psplim_ns));
    app_stop();
    return c;
}

void arch_app_capture_and_stop(uint32_t trigger, bool hang, const uint32_t *r4_r11,
                               uint32_t exc_return, const arch_fault_status *status)
{
    bw_crash_capture *c = capture_begin(trigger, hang, exc_return, status);
    uint32_t limit;
    uint32_t frame_sp = app_frame_sp(exc_return, c->control_ns, &limit);
    c->sp = frame_sp;
    if (exc_return & EXC_RETURN_S) {
        /* The exception came while the app was inside a kernel call (or
         * forged a return into one): the stacked registers are the kernel's
         * and must not reach the record. The app's own frame was never
         * stacked; its stack pointer is what the record keeps. */
        return;
    }
    memcpy(c->r4_r11, r4_r11, sizeof c->r4_r11);
    c->frame_valid = bw_app_copy_in(c->frame, frame_sp, sizeof c->frame) == BW_OK;
    if (c->frame_valid && (c->cfsr_ns & CFSR_STKOF) && frame_sp == limit) {
        c->frame_valid = frame_plausible(c->frame);
    }
    if (c->frame_valid) {
        c->sp += (exc_return & EXC_RETURN_FTYPE) ? BASIC_FRAME_BYTES : FP_FRAME_BYTES;
        c->sp += (c->frame[7] & XPSR_STACK_ALIGNED) ? 4u : 0u;
    } else {
        memset(c->frame, 0, sizeof c->frame);
    }
}

/* Each call's slot in the gate, by index (gate.S, from the board's gate_layout.def). */
extern const uint8_t bw_gate_slots[];

void arch_app_capture_bad_call(uint32_t gate_index, uint32_t app_lr, const uint32_t *r4_r11)
{
    arch_fault_status none;
    memset(&none, 0, sizeof none);
    uint32_t ipsr = armv8m_ipsr();   /* the calling app's context: thread, or its handler's number */
    /* The app's mode is the kernel's now (the call runs in it): which stack
     * it used follows from that, as for an exception taken in the call. */
    uint32_t exc_return = EXC_RETURN_S | (ipsr == 0 ? EXC_RETURN_MODE_THREAD : 0u);
    bw_crash_capture *c = capture_begin(GATE_TRIGGER, false, exc_return, &none);
    c->bad_call = true;
    c->sp = app_frame_sp(exc_return, c->control_ns, NULL);
    memcpy(c->r4_r11, r4_r11, sizeof c->r4_r11);
    /* What the call looked like: the gate entry as pc, the app's return
     * address (forged or not) as lr, its context in xpsr. */
    c->frame[5] = app_lr;
    c->frame[6] = BOARD_GATE_BASE + 8u * bw_gate_slots[gate_index];
    c->frame[7] = XPSR_THUMB | ipsr;
    c->frame_valid = true;
}

/* True when the tick woke the app from WFI or WFE: the instruction before its
 * return address is one of them (16-bit T1 or 32-bit T2 encodings). */
static bool app_was_sleeping(uint32_t exc_return)
{
    uint32_t control_ns, frame_pc;
    __asm volatile("mrs %0, control_ns" : "=r"(control_ns));
    uint32_t sp = app_frame_sp(exc_return, control_ns, NULL);
    uint16_t before[2];
    if (bw_app_copy_in(&frame_pc, sp + 24u, sizeof frame_pc) != BW_OK
        || bw_app_copy_in(before, (frame_pc & ~1u) - 4u, sizeof before) != BW_OK) {
        return false;
    }
    bool t1 = before[1] == 0xBF30u || before[1] == 0xBF20u;
    bool t2 = before[0] == 0xF3AFu && (before[1] == 0x8003u || before[1] == 0x8002u);
    return t1 || t2;
}

/* True when an enabled app interrupt or app system exception is pending: a
 * WFI would not sleep, whatever the masks. */
static bool app_interrupt_pending(void)
{
    for (uint32_t word = 0; word < (BOARD_IRQ_COUNT + 31u) / 32u; word++) {
        if (NVIC_ISPR(word) & NVIC_ISER(word) & NVIC_ITNS(word)) {
            return true;
        }
    }
    return (SCB_NS_ICSR & (ICSR_PENDSVSET | ICSR_PENDSTSET)) != 0;
}

bool arch_kernel_handler_active(uint32_t ignore)
{
    if (SCB_SHCSR & (SHCSR_PENDSVACT | SHCSR_SYSTICKACT | SHCSR_SVCALLACT) & ~ignore) {
        return true;
    }
    for (uint32_t word = 0; word < (BOARD_IRQ_COUNT + 31u) / 32u; word++) {
        if (NVIC_IABR(word) & ~NVIC_ITNS(word)) {
            return true;
        }
    }
    return false;
}

/* The next sample: the regular tick, or while the app is masked a random
 * delay of PROBE_MIN_MS .. BW_SUPERVISOR_TICK_MS, but not past the moment
 * the masked stretch reaches BW_CRASH_HANG_MS (the counter restarts now). */
static void next_sample(bool masked, uint64_t now)
{
    if (!masked) {
        if (SYST_RVR != tick_reload) {
            SYST_RVR = tick_reload;
            SYST_CVR = 0;
        }
        return;
    }
    probe_state ^= probe_state << 13;
    probe_state ^= probe_state >> 17;
    probe_state ^= probe_state << 5;
    uint32_t low = PROBE_MIN_MS * reload_per_ms;
    uint32_t reload = low + probe_state % (tick_reload - low + 1u);
    uint64_t deadline = watch.since_us + HANG_US;
    if (deadline > now) {
        uint64_t left = (deadline - now) * reload_per_ms / 1000u;
        if (left >= 1u && left < reload) {
            reload = (uint32_t)left;
        }
    }
    SYST_RVR = reload;
    SYST_CVR = 0;
}

/* SysTick_S body (exceptions.S): nonzero when the app was hung and has been
 * captured and stopped (the caller then enters the supervisor thread). */
uint32_t arch_tick(const uint32_t *r4_r11, uint32_t exc_return);
static volatile uint32_t loop_every_tick;   /* ARCH_TICKS_* reasons on */

void arch_kernel_loop_every_tick(uint32_t reason, bool on)
{
    loop_every_tick = on ? loop_every_tick | reason : loop_every_tick & ~reason;
}

uint32_t arch_tick(const uint32_t *r4_r11, uint32_t exc_return)
{
    board_watchdog_feed();
    if (loop_every_tick != 0 || arch_debug_attached()) {
        SCB_ICSR = ICSR_PENDSVSET;   /* the network's timers run in the kernel loop */
    }
    if (!app_running) {
        next_sample(false, 0);
        return 0;   /* stopped, or not started yet: nothing to watch */
    }
    uint64_t now = port_time_us();
    bw_crash_tick(now);
    /* The app just became healthy: let the kernel loop act on it (the update
     * engine ends a new app's trial there, not in this handler). */
    bool healthy = bw_crash_app_healthy();
    if (healthy && !healthy_seen) {
        SCB_ICSR = ICSR_PENDSVSET;
    }
    healthy_seen = healthy;

    bool masked = app_masks() != 0;
    if (masked && !watch.masked) {
        watch.since_us = now;
        watch.awake_samples = 0;
    }
    watch.masked = masked;
    next_sample(masked, now);
    if (!masked) {
        return 0;
    }
    /* A sample in the kernel's own handler work (its loop in PendSV_S, a
     * kernel interrupt) says nothing about the app it preempted, which may
     * be asleep: it neither counts nor captures. A kernel call still counts. */
    bool in_app = !(exc_return & EXC_RETURN_S);
    if (!in_app && arch_kernel_handler_active(SHCSR_SYSTICKACT)) {
        return 0;
    }
    bool asleep = in_app && app_was_sleeping(exc_return) && !app_interrupt_pending();
    if (!asleep && watch.awake_samples < HANG_AWAKE_SAMPLES) {
        watch.awake_samples++;
    }
    if (now - watch.since_us < HANG_US || watch.awake_samples < HANG_AWAKE_SAMPLES) {
        return 0;
    }
    /* Hung: the sample interrupted the app or one of its calls. */
    arch_fault_status none;
    memset(&none, 0, sizeof none);
    arch_app_capture_and_stop(TICK_EXCEPTION, true, r4_r11, exc_return, &none);
    return 1;
}

/* The kernel's thread while the app is stopped after a crash (entered by
 * arch_enter_supervisor, never returns: PendSV_S drops it when the app starts). */
void arch_supervisor_thread(void) __attribute__((noreturn));
void arch_supervisor_thread(void)
{
    uint32_t delay_ms = bw_crash_handle(&capture);
    uint64_t deadline = capture.time_us + (uint64_t)delay_ms * 1000u;
    while (port_time_us() < deadline) {
        __asm volatile("wfi");   /* the tick wakes the thread at least every tick */
    }
    arch_app_restart(MV_WAKEREASON_APPLICATIONCRASH);
    for (;;) {
        __asm volatile("wfi");
    }
}
