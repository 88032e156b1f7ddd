/*
 * Faults that reach the secure side, and who is to blame for each.
 *
 * AIRCR.BFHFNMINS = 0 brings the app's HardFaults, BusFaults and
 * SecureFaults here. The handler only captures the app's state and stops it
 * (supervisor.c); the supervisor thread does the rest.
 *
 * EXC_RETURN.S = 1 (the frame is on a secure stack) does not prove that the
 * kernel faulted: the app chooses that bit when it forges an exception
 * return, and faults it provokes during kernel calls (an unreadable
 * VTOR_NS vector, tampered lazy FP state) are taken on the secure stack
 * too. A fault is the kernel's only when the hardware's evidence points at
 * secure code and nothing of the app's (fault_blame.c decides; this file
 * gathers the evidence): the stacked return address lies in kernel .text,
 * or the code under the fault was one of the kernel's own exception
 * handlers (PendSV_S's kernel loop, SysTick_S, a secure IRQ: EXC_RETURN
 * says handler mode, the stacked IPSR names the exception, and the secure
 * SHCSR or NVIC says it is the kernel's and active) wherever its PC went:
 * a corrupt function pointer in the kernel loop must reset the chip, not be
 * taken for an app crash and resumed into, forever. A kernel call that
 * strays outside .text in secure thread mode stays an app crash: the app can
 * steer it there (fault_blame.c says how). Everything else is an app crash,
 * recorded and survived; a kernel fault is logged and the chip resets. The
 * app cannot crash the kernel through its stack either: it is read only
 * after a range check.
 *
 * Before the kernel resets the chip itself it notes why in RAM that the reset
 * code does not clear (.noinit): the next boot gives the app that wake reason.
 */
#include <stdbool.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>

#include "arch.h"
#include "armv8m.h"
#include "armv8m_port.h"
#include "board.h"
#include "bw_board.h"
#include "bw_crash_record.h"
#include "bw_log.h"
#include "bw_port.h"
#include "fault_blame.h"

#define RESET_NOTE_MAGIC 0x4E545352u   /* "RSTN" */

static struct {
    uint32_t magic;
    uint32_t reason;   /* enum MvWakeReason */
} reset_note __attribute__((section(".noinit")));

static void reset_noting(enum MvWakeReason reason) __attribute__((noreturn));
static void reset_noting(enum MvWakeReason reason)
{
    reset_note.magic = RESET_NOTE_MAGIC;
    reset_note.reason = (uint32_t)reason;
    armv8m_system_reset();
}

void arch_reset_for_kernel_update(void)
{
    reset_noting(MV_WAKEREASON_MICROVISORUPDATE);
}

enum MvWakeReason arch_boot_wake_reason(void)
{
    enum MvWakeReason reason = MV_WAKEREASON_COLDBOOT;
    if (reset_note.magic == RESET_NOTE_MAGIC
        && (reset_note.reason == MV_WAKEREASON_MICROVISORCRASH
            || reset_note.reason == MV_WAKEREASON_MICROVISORWATCHDOG
            || reset_note.reason == MV_WAKEREASON_MICROVISORERROR
            || reset_note.reason == MV_WAKEREASON_MICROVISORUPDATE)) {
        reason = (enum MvWakeReason)reset_note.reason;
    }
    reset_note.magic = 0;
    return reason;
}

arch_fault_status arch_fault_status_take(void)
{
    arch_fault_status s = {
        .cfsr = SCB_CFSR, .cfsr_ns = SCB_NS_CFSR, .hfsr = SCB_HFSR, .sfsr = SCB_SFSR,
        .sfar = SCB_SFAR, .bfar = SCB_BFAR, .mmfar_ns = SCB_NS_MMFAR,
    };
    SCB_CFSR = s.cfsr;          /* all write-one-to-clear */
    SCB_NS_CFSR = s.cfsr_ns;
    SCB_HFSR = s.hfsr;
    SCB_SFSR = s.sfsr;
    return s;
}

extern const uint8_t __text_start[], __text_end[];
extern uint32_t __kernel_stack_limit[], __kernel_stack_top[];

/* The frame the hardware stacked on the kernel's stack for a fault taken in
 * secure code (r4_r11 sits just below it: exceptions.S), or NULL if the
 * stack pointer does not lead to one. */
static const uint32_t *secure_frame(const uint32_t *r4_r11, uint32_t exc_return)
{
    if (exc_return & (1u << 2)) {
        return NULL;   /* PSP_S: the kernel never runs on it */
    }
    uintptr_t frame = (uintptr_t)(r4_r11 + 8);
    if (!(exc_return & (1u << 5))) {
        frame += 40u;   /* DCRS = 0: integrity signature and r4-r11 first */
    }
    uintptr_t top = (uintptr_t)__kernel_stack_top;
    if (frame < (uintptr_t)__kernel_stack_limit || frame > top || top - frame < 32u) {
        return NULL;
    }
    return (const uint32_t *)frame;
}

/* True when the IRQ that exception number `exception` names is the kernel's
 * (routed secure) and active. */
static bool secure_irq_active(uint32_t exception)
{
    uint32_t irq = exception - 16u;
    if (exception < 16u || irq >= BOARD_IRQ_COUNT) {
        return false;
    }
    uint32_t bit = 1u << (irq % 32u);
    return (NVIC_IABR(irq / 32u) & ~NVIC_ITNS(irq / 32u) & bit) != 0;
}

/* The kernel's or the app's: fault_blame.c decides, from the evidence read
 * here (the frame, the status taken at entry, the secure active bits). */
static bool fault_is_kernels(const uint32_t *r4_r11, uint32_t exc_return, const arch_fault_status *s)
{
    const uint32_t *frame = (exc_return & EXC_RETURN_S) ? secure_frame(r4_r11, exc_return) : NULL;
    fault_evidence e = {
        .exc_return = exc_return,
        .frame_found = frame != NULL,
        .pc = frame != NULL ? frame[6] : 0u,
        .xpsr = frame != NULL ? frame[7] : 0u,
        .cfsr = s->cfsr, .cfsr_ns = s->cfsr_ns, .hfsr = s->hfsr, .sfsr = s->sfsr,
        .shcsr = SCB_SHCSR,
        .irq_secure_active = frame != NULL && secure_irq_active(frame[7] & 0x1FFu),
        .text_start = (uint32_t)(uintptr_t)__text_start,
        .text_end = (uint32_t)(uintptr_t)__text_end,
    };
    return fault_blame_kernels(&e);
}

/* Called from arch_fault_entry with the r4-r11 it pushed. Returns only for an
 * app fault, captured and stopped: 1, the caller enters the supervisor
 * thread; 0, kernel work was under the fault (lazy FP state the app
 * tampered with faults a kernel handler's entry), so the caller returns into
 * it and PendSV_S enters the supervisor after; 2, a debugger is attached
 * and the app is halted in the monitor (debug_halt.c): the caller enters
 * the halted thread. */
uint32_t arch_fault_handle(const uint32_t *r4_r11, uint32_t exc_return, uint32_t ipsr);
uint32_t arch_fault_handle(const uint32_t *r4_r11, uint32_t exc_return, uint32_t ipsr)
{
    uint32_t exception = ipsr & 0x1FFu;
    arch_fault_status s = arch_fault_status_take();

    if (fault_is_kernels(r4_r11, exc_return, &s)) {
        const uint32_t *frame = secure_frame(r4_r11, exc_return);
        bw_log_fatal("KERNEL FAULT: %s exc_return=0x%08" PRIx32 " pc=0x%08" PRIx32 " xpsr=0x%08" PRIx32 " cfsr=0x%08" PRIx32 " hfsr=0x%08" PRIx32 " sfsr=0x%08" PRIx32 " bfar=0x%08" PRIx32,
               bw_crash_trigger_name(exception), exc_return, frame[6], frame[7],
               s.cfsr, s.hfsr, s.sfsr, s.bfar);
        reset_noting(MV_WAKEREASON_MICROVISORCRASH);
    }
    if (arch_debug_fault_stop(r4_r11, exc_return, exception, &s)) {
        return 2;   /* a debugger is attached: the app halts, its state kept */
    }
    arch_app_capture_and_stop(exception, false, r4_r11, exc_return, &s);
    if ((exc_return & EXC_RETURN_S) && arch_kernel_handler_active(0)) {
        arch_supervisor_defer();
        return 0;
    }
    return 1;
}

void arch_nmi(void);
void arch_nmi(void)
{
    if (board_nmi()) {
        return;   /* the board's own (e.g. a flash ECC error a read reports) */
    }
    bw_log_fatal("KERNEL: NMI (secure watchdog: the kernel stopped feeding it) at %lu ms: resetting",
           (unsigned long)(port_time_us() / 1000u));
    reset_noting(MV_WAKEREASON_MICROVISORWATCHDOG);
}

void arch_unexpected(void);
void arch_unexpected(void)
{
    bw_log_fatal("KERNEL: unexpected exception %" PRIu32 ": resetting", armv8m_ipsr());
    reset_noting(MV_WAKEREASON_MICROVISORERROR);
}
