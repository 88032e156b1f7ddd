/*
 * Faults that reach the secure side.
 *
 * A fault whose frame is on a secure stack is the kernel's own: it is logged
 * and the chip resets. Any other is the app's (AIRCR.BFHFNMINS = 0 brings its
 * HardFaults, BusFaults and SecureFaults here): the handler only captures the
 * app's state and stops it (supervisor.c); the supervisor thread does the
 * rest. The app cannot crash the kernel: its stack is read only after a
 * range check.
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

/* Called from arch_fault_entry with the r4-r11 it pushed. Returns only for an
 * app fault, captured and stopped (the caller enters the supervisor thread). */
void arch_fault_handle(const uint32_t *r4_r11, uint32_t exc_return, uint32_t ipsr);
void arch_fault_handle(const uint32_t *r4_r11, uint32_t exc_return, uint32_t ipsr)
{
    uint32_t exception = ipsr & 0x1FFu;
    arch_fault_status s = arch_fault_status_take();

    if (exc_return & EXC_RETURN_S) {
        bw_log("KERNEL FAULT: %s exc_return=0x%08" PRIx32 " cfsr=0x%08" PRIx32 " hfsr=0x%08" PRIx32 " sfsr=0x%08" PRIx32 " bfar=0x%08" PRIx32,
               bw_crash_trigger_name(exception), exc_return, s.cfsr, s.hfsr, s.sfsr, s.bfar);
        reset_noting(MV_WAKEREASON_MICROVISORCRASH);
    }
    arch_app_capture_and_stop(exception, false, r4_r11, exc_return, &s);
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
