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
 * secure watchdog, lets the core mark the app healthy, and counts how long
 * the app has kept PRIMASK_NS, FAULTMASK_NS or BASEPRI_NS set: seen set at
 * HANG_TICKS + 1 ticks in a row (so for at least BW_CRASH_HANG_MS, at most
 * one tick more), it is a hang. An app found asleep in WFI/WFE with its
 * interrupts masked is not hung: that is how tickless idle loops wait (a
 * masked interrupt still wakes the core), so such a tick restarts the count. The watchdog is for the
 * kernel itself: if the tick stops, it raises NMI (log, chip reset).
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

#define TICK_PRIORITY 0x60u
#define TICK_EXCEPTION 15u
#define HANG_TICKS ((BW_CRASH_HANG_MS + BW_SUPERVISOR_TICK_MS - 1u) / BW_SUPERVISOR_TICK_MS)
#define CFSR_STKOF (1u << 20)
#define XPSR_THUMB (1u << 24)
#define XPSR_STACK_ALIGNED (1u << 9)   /* the frame was moved down 4 bytes to align it */
#define BASIC_FRAME_BYTES 0x20u
#define FP_FRAME_BYTES 0x68u

_Static_assert(BW_SUPERVISOR_TICK_MS > 0 && BW_CRASH_HANG_MS >= BW_SUPERVISOR_TICK_MS,
               "the hang timeout must be at least one tick");

static bw_crash_capture capture;
static volatile bool app_running;
static uint32_t masked_ticks;
static bool healthy_seen;       /* bw_crash_app_healthy at the last tick */

void arch_supervision_init(void)
{
    uint64_t reload = (uint64_t)port_clock_hz(BW_CLOCK_HCLK) / 1000u * BW_SUPERVISOR_TICK_MS;
    if (reload == 0 || reload - 1u > SYST_RVR_MAX) {
        bw_log("warning: the supervision tick cannot count %u ms at this clock", BW_SUPERVISOR_TICK_MS);
        reload = SYST_RVR_MAX + 1u;
    }
    SCB_SHPR3 = (SCB_SHPR3 & ~(0xFFu << 24)) | (TICK_PRIORITY << 24);
    SYST_RVR = (uint32_t)reload - 1u;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
    board_watchdog_start(BW_WATCHDOG_TIMEOUT_MS);
}

void arch_supervision_app_entered(void)
{
    masked_ticks = 0;
    app_running = true;
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
    masked_ticks = 0;
    armv8m_app_irqs_reset(BOARD_IRQ_COUNT);
    MPU_NS_CTRL = 0;
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

void arch_app_capture_and_stop(uint32_t trigger, bool hang, const uint32_t *r4_r11,
                               uint32_t exc_return, const arch_fault_status *status)
{
    bw_crash_capture *c = &capture;
    memset(c, 0, sizeof *c);
    c->time_us = port_time_us();
    c->trigger = trigger;
    c->hang = hang;
    c->exc_return = exc_return;
    memcpy(c->r4_r11, r4_r11, sizeof c->r4_r11);
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

    uint32_t limit;
    uint32_t frame_sp = app_frame_sp(exc_return, c->control_ns, &limit);
    c->frame_valid = bw_app_copy_in(c->frame, frame_sp, sizeof c->frame) == BW_OK;
    if (c->frame_valid && (c->cfsr_ns & CFSR_STKOF) && frame_sp == limit) {
        c->frame_valid = frame_plausible(c->frame);
    }
    c->sp = frame_sp;
    if (c->frame_valid) {
        c->sp += (exc_return & EXC_RETURN_FTYPE) ? BASIC_FRAME_BYTES : FP_FRAME_BYTES;
        c->sp += (c->frame[7] & XPSR_STACK_ALIGNED) ? 4u : 0u;
    } else {
        memset(c->frame, 0, sizeof c->frame);
    }
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

/* SysTick_S body (exceptions.S): nonzero when the app was hung and has been
 * captured and stopped (the caller then enters the supervisor thread). */
uint32_t arch_tick(const uint32_t *r4_r11, uint32_t exc_return);
uint32_t arch_tick(const uint32_t *r4_r11, uint32_t exc_return)
{
    board_watchdog_feed();
    if (!app_running) {
        return 0;   /* stopped, or not started yet: nothing to watch */
    }
    bw_crash_tick(port_time_us());
    /* The app just became healthy: let the kernel loop act on it (the update
     * engine ends a new app's trial there, not in this handler). */
    bool healthy = bw_crash_app_healthy();
    if (healthy && !healthy_seen) {
        SCB_ICSR = ICSR_PENDSVSET;
    }
    healthy_seen = healthy;
    if (app_masks() == 0 || (!(exc_return & EXC_RETURN_S) && app_was_sleeping(exc_return))) {
        masked_ticks = 0;
        return 0;
    }
    if (masked_ticks <= HANG_TICKS) {
        masked_ticks++;
    }
    /* Capture only when the tick interrupted the app itself, not a kernel
     * call it made: the app's registers are then the ones to record. */
    if (masked_ticks <= HANG_TICKS || (exc_return & EXC_RETURN_S)) {
        return 0;
    }
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
