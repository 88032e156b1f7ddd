/*
 * kernel_fault: runs under the test kernel bulwark-kernel-loopfault, whose
 * kernel loop jumps to 0x2 once this app has confirmed itself healthy
 * (tests/qemu/kernel_hooks/loop_fault.c). Promises checked, on the boot
 * after the fault:
 *  - the kernel took the fault for its own and reset the chip: this run's
 *    wake reason is MICROVISORCRASH (not APPLICATIONCRASH, which an app
 *    crash restart in place would give);
 *  - the kernel came back and serves calls;
 *  - the only crash record is the one every reset while the app runs
 *    gets at the next boot (class kernel-reset, docs/DESIGN.md "Crash
 *    supervision": counted as defence in depth), not a captured app fault.
 * The test driver checks the kernel log: "KERNEL FAULT" once, two boots,
 * no "app crash" line.
 */
#include <stdio.h>

#include "bulwark_board.h"
#include "bulwark_ext.h"
#include "check.h"
#include "mv_syscalls.h"

int main(void)
{
    enum MvWakeReason reason = MV_WAKEREASON_COLDBOOT;
    check_status(mvGetWakeReason(&reason), MV_STATUS_OKAY, "mvGetWakeReason");
    if (reason == MV_WAKEREASON_COLDBOOT) {
        printf("kernel_fault: first boot, confirming healthy\n");
        fflush(stdout);
        check_status(bwAppConfirmHealthy(), MV_STATUS_OKAY, "bwAppConfirmHealthy");
        for (;;) {
            __asm volatile("wfi");   /* the kernel loop faults and the chip resets */
        }
    }
    check_u32(reason, MV_WAKEREASON_MICROVISORCRASH, "wake reason after the kernel loop's fault");
    struct BwCrashInfo info = {.version = BW_CRASHINFO_VERSION_1};
    check_status(bwGetLastCrash(&info), MV_STATUS_OKAY, "bwGetLastCrash");
    check_u32(info.v1.sequence, 1u, "one crash record");
    check_u32(info.v1.crash_class, BW_CRASHCLASS_KERNELRESET, "its class: kernel-reset");
    check_u32(info.v1.flags & BW_CRASHINFO_FLAG_FRAME_VALID, 0u, "no registers in it");
    check_finish("kernel_fault", 0, 0);
}
