/*
 * The debug monitor's Armv8-M part (bw_debug_arch.h): halting the app
 * without losing it, resuming it, its registers.
 *
 * Halt model: the app is halted where the secure side already preempted it.
 *  - On request: PendSV_S (the kernel loop), when it interrupted the app
 *    itself (EXC_RETURN.S = 0, so not inside a kernel call), does not return
 *    into it: exceptions.S saves the app's r4-r11 and the EXC_RETURN here
 *    (`saved`) and enters arch_debug_halted_thread, a secure thread that
 *    sleeps with BASEPRI_S masking every app exception. The app's r0-r3,
 *    r12, lr, pc, xpsr stay in the exception frame the hardware stacked on
 *    its own stack; nothing of it is torn down (unlike a crash's app_stop).
 *  - On a fault while attached: arch_fault_handle hands an app fault taken
 *    outside a kernel call to arch_debug_fault_stop, which saves the same
 *    way, keeps the stop reason, and the fault path enters the same thread.
 * The kernel loop, the kernel's interrupts, the tick and the watchdog keep
 * running meanwhile; supervision treats the app as not running.
 * Resume: PendSV_S restores r4-r11, drops the halted thread and returns
 * with the saved EXC_RETURN: the hardware unstacks the app's frame as if
 * the preemption had just ended.
 * A restart of the app (crash handling, update, mvRestart) ends a halt.
 * While attached, every tick pends the kernel loop (the transport's
 * timeouts run there, and a halt asked during a kernel call lands once the
 * app is back in its own code).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arch.h"
#include "armv8m.h"
#include "board.h"
#include "bw_app_mem.h"
#include "bw_debug_arch.h"

#define CFSR_UFSR_ILL   ((1u << 16) | (1u << 17) | (1u << 18) | (1u << 19))
#define CFSR_UNALIGNED  (1u << 24)
#define CFSR_DIVBYZERO  (1u << 25)
#define CFSR_BFSR       (0xFFu << 8)
#define HFSR_DEBUGEVT   (1u << 31)
#define XPSR_STACK_ALIGNED (1u << 9)
#define EXC_RETURN_SPSEL (1u << 2)

/* Filled by exceptions.S (PendSV_S halt) or arch_debug_fault_stop: the
 * halted app's r4-r11 and the EXC_RETURN that resumes it. */
struct arch_debug_saved {
    uint32_t r4_r11[8];
    uint32_t exc_return;
} arch_debug_saved;

static volatile bool attached, halt_asked, resume_asked, halted;
static bw_debug_stop stop;

void bw_debug_arch_attach(bool on)
{
    attached = on;
    if (!on) {
        halt_asked = false;
    }
}

bool arch_debug_attached(void)
{
    return attached;
}

void bw_debug_arch_halt(void)
{
    halt_asked = !halted;
    SCB_ICSR = ICSR_PENDSVSET;
}

bool bw_debug_arch_resume(void)
{
    if (!halted) {
        return false;
    }
    resume_asked = true;
    SCB_ICSR = ICSR_PENDSVSET;
    return true;
}

uint8_t bw_debug_arch_state(bw_debug_stop *out)
{
    if (halted && !resume_asked) {
        if (out != NULL) {
            *out = stop;
        }
        return BW_DBG_HALTED;
    }
    return arch_supervision_app_running() || resume_asked ? BW_DBG_RUNNING : BW_DBG_NOT_RUNNING;
}

void arch_debug_app_restarting(void)
{
    halted = false;
    halt_asked = false;
    resume_asked = false;
}

uint32_t arch_debug_pendsv(uint32_t exc_return)
{
    if (halted && resume_asked) {
        halted = false;
        resume_asked = false;
        arch_supervision_app_entered();
        return 4u;
    }
    if (halt_asked && !halted && !(exc_return & EXC_RETURN_S) && arch_supervision_app_running()) {
        halt_asked = false;
        halted = true;
        memset(&stop, 0, sizeof stop);
        stop.signal = BW_DBG_SIGINT;
        arch_supervision_app_paused();
        return 3u;   /* exceptions.S saves r4-r11 and exc_return */
    }
    return 0;
}

/* True when the app stopped on a BKPT: its DebugMonitor exception (not
 * enabled) escalated to HardFault -- DEBUGEVT on hardware, FORCED with no
 * fault cause on QEMU -- and the stacked pc holds a BKPT. */
static bool stopped_on_bkpt(uint32_t exception, uint32_t exc_return, const arch_fault_status *s)
{
    uint32_t pc;
    uint16_t insn;
    uint32_t sp;
    if (exception != 3u || ((s->cfsr | s->cfsr_ns) != 0 && !(s->hfsr & HFSR_DEBUGEVT))) {
        return false;
    }
    if (exc_return & EXC_RETURN_SPSEL) {
        __asm volatile("mrs %0, psp_ns" : "=r"(sp));
    } else {
        __asm volatile("mrs %0, msp_ns" : "=r"(sp));
    }
    return bw_app_copy_in(&pc, sp + 24u, sizeof pc) == BW_OK
        && bw_app_copy_in(&insn, pc & ~1u, sizeof insn) == BW_OK && (insn & 0xFF00u) == 0xBE00u;
}

/* The signal GDB is told for an app fault. */
static uint8_t fault_signal(uint32_t exception, uint32_t exc_return, const arch_fault_status *s)
{
    uint32_t cfsr = s->cfsr | s->cfsr_ns;
    if (stopped_on_bkpt(exception, exc_return, s)) {
        return BW_DBG_SIGTRAP;
    }
    if (cfsr & CFSR_UFSR_ILL) {
        return BW_DBG_SIGILL;
    }
    if (cfsr & CFSR_DIVBYZERO) {
        return BW_DBG_SIGFPE;
    }
    if ((cfsr & (CFSR_UNALIGNED | CFSR_BFSR)) || exception == 5u) {
        return BW_DBG_SIGBUS;
    }
    return BW_DBG_SIGSEGV;
}

bool arch_debug_fault_stop(const uint32_t *r4_r11, uint32_t exc_return, uint32_t exception,
                           const arch_fault_status *s)
{
    if (!attached || (exc_return & EXC_RETURN_S)) {
        return false;
    }
    memcpy(arch_debug_saved.r4_r11, r4_r11, sizeof arch_debug_saved.r4_r11);
    arch_debug_saved.exc_return = exc_return;
    stop = (bw_debug_stop){
        .signal = fault_signal(exception, exc_return, s), .exception = (uint8_t)exception,
        .fault = { s->cfsr_ns, s->cfsr, s->hfsr, s->sfsr, s->sfar, s->bfar, s->mmfar_ns },
    };
    halted = true;
    halt_asked = false;
    arch_supervision_app_paused();
    return true;
}

void arch_debug_halted_thread(void) __attribute__((noreturn));
void arch_debug_halted_thread(void)
{
    for (;;) {
        __asm volatile("wfi");
    }
}

/* Where the halted app's exception frame is, and its size. */
static uint32_t frame_at(uint32_t *bytes)
{
    uint32_t sp;
    if (arch_debug_saved.exc_return & EXC_RETURN_SPSEL) {
        __asm volatile("mrs %0, psp_ns" : "=r"(sp));
    } else {
        __asm volatile("mrs %0, msp_ns" : "=r"(sp));
    }
    *bytes = (arch_debug_saved.exc_return & EXC_RETURN_FTYPE) ? 0x20u : 0x68u;
    return sp;
}

bw_err bw_debug_arch_regs(uint32_t regs[BW_DBG_REG_COUNT])
{
    if (bw_debug_arch_state(NULL) != BW_DBG_HALTED) {
        return BW_E_UNAVAILABLE;
    }
    uint32_t bytes, frame[8];
    uint32_t sp = frame_at(&bytes);
    if (bw_app_copy_in(frame, sp, sizeof frame) != BW_OK) {
        return BW_E_FAULT;
    }
    memcpy(regs, frame, 4u * 4u);                          /* r0-r3 */
    memcpy(regs + 4, arch_debug_saved.r4_r11, 8u * 4u);    /* r4-r11 */
    regs[12] = frame[4];
    regs[BW_DBG_REG_SP] = sp + bytes + ((frame[7] & XPSR_STACK_ALIGNED) ? 4u : 0u);
    regs[BW_DBG_REG_LR] = frame[5];
    regs[BW_DBG_REG_PC] = frame[6];
    regs[BW_DBG_REG_XPSR] = frame[7] & ~XPSR_STACK_ALIGNED;
    __asm volatile("mrs %0, msp_ns\n mrs %1, psp_ns\n mrs %2, primask_ns\n"
                   "mrs %3, basepri_ns\n mrs %4, faultmask_ns\n mrs %5, control_ns"
                   : "=r"(regs[BW_DBG_REG_MSP]), "=r"(regs[BW_DBG_REG_PSP]),
                     "=r"(regs[BW_DBG_REG_PRIMASK]), "=r"(regs[BW_DBG_REG_BASEPRI]),
                     "=r"(regs[BW_DBG_REG_FAULTMASK]), "=r"(regs[BW_DBG_REG_CONTROL]));
    return BW_OK;
}

bw_err bw_debug_arch_reg_write(uint32_t index, uint32_t value)
{
    static const int8_t frame_slot[BW_DBG_REG_XPSR + 1] = {
        0, 1, 2, 3, -1, -1, -1, -1, -1, -1, -1, -1, 4, -2, 5, 6, 7,
    };
    if (bw_debug_arch_state(NULL) != BW_DBG_HALTED) {
        return BW_E_UNAVAILABLE;
    }
    if (index > BW_DBG_REG_XPSR || frame_slot[index] == -2) {
        return BW_E_DENIED;
    }
    if (frame_slot[index] == -1) {
        arch_debug_saved.r4_r11[index - 4u] = value;
        return BW_OK;
    }
    uint32_t bytes;
    uint32_t at = frame_at(&bytes) + 4u * (uint32_t)frame_slot[index];
    if (index == BW_DBG_REG_XPSR) {
        uint32_t old;
        if (bw_app_copy_in(&old, at, sizeof old) != BW_OK) {
            return BW_E_FAULT;
        }
        /* The frame's alignment bit and the exception number stay the hardware's. */
        value = (value & ~(XPSR_STACK_ALIGNED | 0x1FFu)) | (old & (XPSR_STACK_ALIGNED | 0x1FFu));
    }
    return bw_app_copy_out(at, &value, sizeof value) == BW_OK ? BW_OK : BW_E_FAULT;
}

void bw_debug_arch_code_changed(void)
{
    armv8m_dsb_isb();
}

uint32_t bw_debug_arch_app_slot_base(void)
{
    return BOARD_APP_SLOT_BASE;
}
