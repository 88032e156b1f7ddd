/*
 * Faults that reach the secure side.
 *
 * A fault whose frame is on a secure stack is the kernel's own: it is logged
 * and the chip resets. Any other fault is the app's (AIRCR.BFHFNMINS = 0
 * brings its HardFaults, BusFaults and SecureFaults here): the kernel records
 * what the hardware says, logs it, and starts the app again in place. The app
 * cannot crash the kernel: its stack is read only after a range check.
 */
#include <stdbool.h>
#include <inttypes.h>
#include <stdint.h>

#include "arch.h"
#include "armv8m.h"
#include "armv8m_port.h"
#include "board.h"
#include "bw_app_mem.h"
#include "bw_board.h"
#include "bw_log.h"

void arch_app_crashed(void);

typedef struct fault_status {
    uint32_t cfsr;      /* secure bank: BusFault bits, secure Usage/MemManage */
    uint32_t cfsr_ns;   /* the app's bank: its UsageFault/MemManage causes */
    uint32_t hfsr;
    uint32_t sfsr;
    uint32_t sfar;
    uint32_t bfar;
    uint32_t mmfar_ns;
} fault_status;

static fault_status fault_status_take(void)
{
    fault_status s = {
        .cfsr = SCB_CFSR, .cfsr_ns = SCB_NS_CFSR, .hfsr = SCB_HFSR, .sfsr = SCB_SFSR,
        .sfar = SCB_SFAR, .bfar = SCB_BFAR, .mmfar_ns = SCB_NS_MMFAR,
    };
    SCB_CFSR = s.cfsr;          /* all write-one-to-clear */
    SCB_NS_CFSR = s.cfsr_ns;
    SCB_HFSR = s.hfsr;
    SCB_SFSR = s.sfsr;
    return s;
}

/* A short name for what went wrong, from the status bits. */
static const char *fault_cause(uint32_t exception, const fault_status *s)
{
    if (exception == 7u) {
        if (s->sfsr & (1u << 3)) return "secure memory access (SecureFault AUVIOL)";
        if (s->sfsr & (1u << 0)) return "jump to secure code (SecureFault INVEP)";
        if (s->sfsr & (1u << 4)) return "branch to secure address (SecureFault INVTRAN)";
        if (s->sfsr & (1u << 1)) return "invalid integrity signature (SecureFault INVIS)";
        if (s->sfsr & (1u << 2)) return "invalid exception return (SecureFault INVER)";
        return "SecureFault";
    }
    if (exception == 5u) {
        if (s->cfsr & (1u << 9)) return "blocked or failed data access (BusFault PRECISERR)";
        if (s->cfsr & (1u << 10)) return "imprecise data bus error (BusFault IMPRECISERR)";
        if (s->cfsr & (1u << 8)) return "instruction fetch bus error (BusFault IBUSERR)";
        if (s->cfsr & (1u << 12)) return "stacking bus error (BusFault STKERR)";
        if (s->cfsr & (1u << 11)) return "unstacking bus error (BusFault UNSTKERR)";
        return "BusFault";
    }
    uint32_t u = s->cfsr_ns >> 16, m = s->cfsr_ns & 0xFFu;
    if (u & (1u << 0)) return "undefined instruction (UsageFault UNDEFINSTR)";
    if (u & (1u << 1)) return "invalid state (UsageFault INVSTATE)";
    if (u & (1u << 2)) return "invalid exception return (UsageFault INVPC)";
    if (u & (1u << 3)) return "no coprocessor (UsageFault NOCP)";
    if (u & (1u << 4)) return "stack overflow (UsageFault STKOF)";
    if (u & (1u << 8)) return "unaligned access (UsageFault UNALIGNED)";
    if (u & (1u << 9)) return "divide by zero (UsageFault DIVBYZERO)";
    if (m & (1u << 0)) return "instruction access violation (MemManage IACCVIOL)";
    if (m & (1u << 1)) return "data access violation (MemManage DACCVIOL)";
    if (m & (1u << 4)) return "stacking violation (MemManage MSTKERR)";
    return exception == 3u ? "HardFault" : "fault";
}

static const char *exception_name(uint32_t exception)
{
    switch (exception) {
    case 3: return "HardFault";
    case 4: return "MemManage";
    case 5: return "BusFault";
    case 6: return "UsageFault";
    case 7: return "SecureFault";
    default: return "exception";
    }
}

static uint32_t app_fault_address(uint32_t exception, const fault_status *s)
{
    if (exception == 7u && (s->sfsr & (1u << 6))) return s->sfar;
    if (exception == 5u && (s->cfsr & (1u << 15))) return s->bfar;
    if ((s->cfsr_ns & (1u << 7))) return s->mmfar_ns;
    return 0;
}

/* Called from arch_fault_entry with the r4-r11 it pushed. Returns only for an
 * app fault (the caller then restarts the app). */
void arch_fault_handle(const uint32_t *r4_r11, uint32_t exc_return, uint32_t ipsr);
void arch_fault_handle(const uint32_t *r4_r11, uint32_t exc_return, uint32_t ipsr)
{
    uint32_t exception = ipsr & 0x1FFu;
    fault_status s = fault_status_take();

    if (exc_return & EXC_RETURN_S) {
        bw_log("KERNEL FAULT: %s exc_return=0x%08" PRIx32 " cfsr=0x%08" PRIx32 " hfsr=0x%08" PRIx32 " sfsr=0x%08" PRIx32 " bfar=0x%08" PRIx32,
               exception_name(exception), exc_return, s.cfsr, s.hfsr, s.sfsr, s.bfar);
        armv8m_system_reset();
    }

    uint32_t control_ns, sp;
    __asm volatile("mrs %0, control_ns" : "=r"(control_ns));
    bool on_psp = (exc_return & EXC_RETURN_MODE_THREAD) && (control_ns & 2u);
    if (on_psp) {
        __asm volatile("mrs %0, psp_ns" : "=r"(sp));
    } else {
        __asm volatile("mrs %0, msp_ns" : "=r"(sp));
    }

    uint32_t frame[8] = {0};
    bool frame_ok = bw_app_copy_in(frame, sp, sizeof frame) == BW_OK;
    bw_log("app crash: %s: %s", exception_name(exception), fault_cause(exception, &s));
    bw_log("  pc=0x%08" PRIx32 " lr=0x%08" PRIx32 " sp=0x%08" PRIx32 " xpsr=0x%08" PRIx32 "%s addr=0x%08" PRIx32,
           frame[6], frame[5], sp, frame[7], frame_ok ? "" : " (frame unreadable)",
           app_fault_address(exception, &s));
    bw_log("  r0=0x%08" PRIx32 " r1=0x%08" PRIx32 " r2=0x%08" PRIx32 " r3=0x%08" PRIx32 " r12=0x%08" PRIx32,
           frame[0], frame[1], frame[2], frame[3], frame[4]);
    bw_log("  r4=0x%08" PRIx32 " r5=0x%08" PRIx32 " r6=0x%08" PRIx32 " r7=0x%08" PRIx32 " r8=0x%08" PRIx32 " r9=0x%08" PRIx32 " r10=0x%08" PRIx32 " r11=0x%08" PRIx32,
           r4_r11[0], r4_r11[1], r4_r11[2], r4_r11[3], r4_r11[4], r4_r11[5], r4_r11[6], r4_r11[7]);
    bw_log("  exc_return=0x%08" PRIx32 " control_ns=0x%08" PRIx32 " cfsr=0x%08" PRIx32 " cfsr_ns=0x%08" PRIx32 " hfsr=0x%08" PRIx32 " sfsr=0x%08" PRIx32,
           exc_return, control_ns, s.cfsr, s.cfsr_ns, s.hfsr, s.sfsr);
    bw_log("restarting the app");
    arch_app_crashed();
}

void arch_nmi(void);
void arch_nmi(void)
{
    bw_log("KERNEL: NMI (watchdog): resetting");
    armv8m_system_reset();
}

void arch_unexpected(void);
void arch_unexpected(void)
{
    bw_log("KERNEL: unexpected exception %" PRIu32 ": resetting", armv8m_ipsr());
    armv8m_system_reset();
}
