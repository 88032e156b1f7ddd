/*
 * Whose fault is it (fault_blame.h). Architectural bit numbers (Armv8-M ARM)
 * are spelled out here rather than taken from armv8m.h, whose inline
 * assembly does not build on the host.
 *
 * A fault is the kernel's only when the frame is on the secure stack, no
 * status bit shows the app's hand, and either
 *  (1) the frame's return address lies in kernel .text, or
 *  (2) the faulting code was one of the kernel's own secure exception
 *      handlers: EXC_RETURN says the fault came from handler mode, and the
 *      frame's IPSR names an exception that is the kernel's and active
 *      (PendSV_S, SysTick_S by the secure SHCSR; a secure IRQ by ITNS = 0).
 * Rule (2) catches the kernel loop (PendSV_S) jumping through a corrupt
 * pointer outside .text; before it, such a fault was taken for an app crash
 * and the loop resumed into it, forever.
 *
 * Why the app cannot satisfy (2): an app exception number collides with the
 * kernel's (PendSV_NS and SysTick_NS are 14 and 15 too, and a kernel call
 * from an app handler runs in secure handler mode with the app's IPSR), so
 * the number alone proves nothing; but while PendSV_S, SysTick_S or a secure
 * IRQ is active no app code runs at all (AIRCR.PRIS puts every app priority
 * below every kernel one, and the kernel never calls into the app), so the
 * app can neither be the code under the fault nor stage the exception
 * return that would tail-chain one. The active bits and ITNS are secure
 * registers.
 *
 * Secure *thread* mode outside .text stays an app crash: that is the gate
 * and kernel calls running in the app's context, and the app can steer the
 * secure PC there without any kernel bug: a branch to FNC_RETURN pops a
 * return address off whatever the secure stack holds (an abandoned call's
 * integrity signature, 0xFEFA125x), and lands secure execution on it with
 * no status bit of the app's set. The same holds for a kernel call from an
 * app handler (handler mode, the app's IPSR), which (2) turns down because
 * that exception is not the kernel's.
 */
#include "fault_blame.h"

#define EXC_RETURN_SPSEL  (1u << 2)   /* the frame is on PSP */
#define EXC_RETURN_MODE   (1u << 3)   /* 1: returns to thread mode */
#define EXC_RETURN_SECURE (1u << 6)   /* the frame is on a secure stack */

/* Status bits that carry the app's fingerprints. */
#define SFSR_INVIS     (1u << 1)   /* an exception return found no integrity signature */
#define SFSR_INVER     (1u << 2)   /* an exception return with an impossible EXC_RETURN */
#define SFSR_LSERR     (1u << 7)   /* lazy FP state active where it cannot be (FPCCR_NS) */
#define CFSR_MUNSTKERR (1u << 3)   /* unstacking an exception frame failed */
#define CFSR_UNSTKERR  (1u << 11)
#define HFSR_VECTTBL   (1u << 1)   /* a vector could not be read: only VTOR_NS can be bad */

#define SHCSR_PENDSVACT  (1u << 10)
#define SHCSR_SYSTICKACT (1u << 11)

#define IPSR_MASK     0x1FFu
#define EXC_PENDSV    14u
#define EXC_SYSTICK   15u
#define EXC_FIRST_IRQ 16u

/* A failed exception return or function return (a forged EXC_RETURN or
 * FNC_RETURN, tail-chained with the app's value in LR), tampered lazy FP
 * state, a vector fetch through VTOR_NS, or any fault status in the app's
 * own bank. The kernel's own exception returns go only to frames the
 * hardware or the kernel itself built. */
static bool app_fingerprints(const fault_evidence *e)
{
    return (e->sfsr & (SFSR_INVIS | SFSR_INVER | SFSR_LSERR)) || (e->hfsr & HFSR_VECTTBL)
        || e->cfsr_ns != 0 || (e->cfsr & (CFSR_MUNSTKERR | CFSR_UNSTKERR));
}

/* Rule (2): the code under the fault was a kernel exception handler. */
static bool kernel_handler_faulted(const fault_evidence *e)
{
    if (e->exc_return & EXC_RETURN_MODE) {
        return false;   /* thread mode: the app's context (file comment) */
    }
    uint32_t exception = e->xpsr & IPSR_MASK;
    if (exception == EXC_PENDSV) {
        return (e->shcsr & SHCSR_PENDSVACT) != 0;
    }
    if (exception == EXC_SYSTICK) {
        return (e->shcsr & SHCSR_SYSTICKACT) != 0;
    }
    return exception >= EXC_FIRST_IRQ && e->irq_secure_active;
}

bool fault_blame_kernels(const fault_evidence *e)
{
    if (!(e->exc_return & EXC_RETURN_SECURE) || (e->exc_return & EXC_RETURN_SPSEL)) {
        return false;   /* not on the kernel's stack (it never runs on PSP_S) */
    }
    if (app_fingerprints(e) || !e->frame_found) {
        return false;
    }
    if (e->pc >= e->text_start && e->pc < e->text_end) {
        return true;
    }
    return kernel_handler_faulted(e);
}
