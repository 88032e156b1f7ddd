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
 * secure code and nothing of the app's: see fault_is_kernels. Everything
 * else is an app crash, recorded and survived; a kernel fault is logged and
 * the chip resets. The app cannot crash the kernel through its stack
 * either: it is read only after a range check.
 *
 * Before the kernel resets the chip itself it notes why in RAM that the reset
 * code does not clear (.noinit): the next boot gives the app that wake reason.
 */
#include <stdbool.h>
#include <inttypes.h>
#include <stdint.h>

#include "arch.h"
#include "armv8m.h"
#include "armv8m_port.h"
#include "bw_crash_record.h"
#include "bw_log.h"
#include "bw_port.h"

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

enum MvWakeReason arch_boot_wake_reason(void)
{
    enum MvWakeReason reason = MV_WAKEREASON_COLDBOOT;
    if (reset_note.magic == RESET_NOTE_MAGIC
        && (reset_note.reason == MV_WAKEREASON_MICROVISORCRASH
            || reset_note.reason == MV_WAKEREASON_MICROVISORWATCHDOG
            || reset_note.reason == MV_WAKEREASON_MICROVISORERROR)) {
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

/* Bit numbers of the status registers that carry the app's fingerprints. */
#define SFSR_INVIS   (1u << 1)    /* an exception return found no integrity signature */
#define SFSR_INVER   (1u << 2)    /* an exception return with an impossible EXC_RETURN */
#define SFSR_LSERR   (1u << 7)    /* lazy FP state active where it cannot be (FPCCR_NS) */
#define CFSR_MUNSTKERR (1u << 3)  /* unstacking an exception frame failed */
#define CFSR_UNSTKERR  (1u << 11)
#define HFSR_VECTTBL (1u << 1)    /* a vector could not be read: only VTOR_NS can be bad */

extern const uint8_t __text_start[], __text_end[];
extern uint32_t __kernel_stack_limit[], __kernel_stack_top[];

/* The return address of the frame the hardware stacked on the kernel's stack
 * for a fault taken in secure code (r4_r11 sits just below it: exceptions.S),
 * or 0 if the stack pointer does not lead to one. */
static uint32_t secure_frame_pc(const uint32_t *r4_r11, uint32_t exc_return)
{
    if (exc_return & (1u << 2)) {
        return 0;   /* PSP_S: the kernel never runs on it */
    }
    uintptr_t frame = (uintptr_t)(r4_r11 + 8);
    if (!(exc_return & (1u << 5))) {
        frame += 40u;   /* DCRS = 0: integrity signature and r4-r11 first */
    }
    uintptr_t top = (uintptr_t)__kernel_stack_top;
    if (frame < (uintptr_t)__kernel_stack_limit || frame > top || top - frame < 32u) {
        return 0;
    }
    return ((const uint32_t *)frame)[6];
}

/* True only when the evidence says secure code faulted on its own: the frame
 * is on the secure stack, its return address is kernel code, and no status
 * bit shows the app's hand: a failed exception return or function return
 * (forged EXC_RETURN or FNC_RETURN: tail-chained with the app's value in
 * lr), tampered lazy FP state, a vector fetch through VTOR_NS, or any fault
 * status in the app's own bank. The kernel's own exception returns go only
 * to frames the hardware or the kernel itself built. */
static bool fault_is_kernels(const uint32_t *r4_r11, uint32_t exc_return, const arch_fault_status *s)
{
    if (!(exc_return & EXC_RETURN_S)) {
        return false;
    }
    if ((s->sfsr & (SFSR_INVIS | SFSR_INVER | SFSR_LSERR)) || (s->hfsr & HFSR_VECTTBL)
        || s->cfsr_ns != 0 || (s->cfsr & (CFSR_MUNSTKERR | CFSR_UNSTKERR))) {
        return false;
    }
    uint32_t pc = secure_frame_pc(r4_r11, exc_return);
    return pc >= (uintptr_t)__text_start && pc < (uintptr_t)__text_end;
}

/* Called from arch_fault_entry with the r4-r11 it pushed. Returns only for an
 * app fault, captured and stopped: 1, the caller enters the supervisor
 * thread; 0, kernel work was under the fault (lazy FP state the app
 * tampered with faults a kernel handler's entry), so the caller returns into
 * it and PendSV_S enters the supervisor after. */
uint32_t arch_fault_handle(const uint32_t *r4_r11, uint32_t exc_return, uint32_t ipsr);
uint32_t arch_fault_handle(const uint32_t *r4_r11, uint32_t exc_return, uint32_t ipsr)
{
    uint32_t exception = ipsr & 0x1FFu;
    arch_fault_status s = arch_fault_status_take();

    if (fault_is_kernels(r4_r11, exc_return, &s)) {
        bw_log("KERNEL FAULT: %s exc_return=0x%08" PRIx32 " pc=0x%08" PRIx32 " cfsr=0x%08" PRIx32 " hfsr=0x%08" PRIx32 " sfsr=0x%08" PRIx32 " bfar=0x%08" PRIx32,
               bw_crash_trigger_name(exception), exc_return, secure_frame_pc(r4_r11, exc_return),
               s.cfsr, s.hfsr, s.sfsr, s.bfar);
        reset_noting(MV_WAKEREASON_MICROVISORCRASH);
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
    bw_log("KERNEL: NMI (secure watchdog: the kernel stopped feeding it) at %lu ms: resetting",
           (unsigned long)(port_time_us() / 1000u));
    reset_noting(MV_WAKEREASON_MICROVISORWATCHDOG);
}

void arch_unexpected(void);
void arch_unexpected(void)
{
    bw_log("KERNEL: unexpected exception %" PRIu32 ": resetting", armv8m_ipsr());
    reset_noting(MV_WAKEREASON_MICROVISORERROR);
}
