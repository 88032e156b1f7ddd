/*
 * Test kernel variant only (bulwark-kernel-loopfault, qemu.kernel-fault):
 * the kernel loop jumps through a corrupt function pointer to 0x2 -- the
 * INVSTATE UsageFault in secure handler mode (PendSV_S), outside kernel
 * .text, that the cloud link's development once hit. It must end as a
 * kernel fault (log, chip reset, MICROVISORCRASH), never as an app crash.
 *
 * Linked with -Wl,--wrap=cloud_service_work, so the production kernel's
 * code is untouched and carries no such hook. The jump comes once, at the
 * first kernel loop pass after the app confirmed itself healthy (its
 * bwAppConfirmHealthy makes the tick pend the loop), so the app is running;
 * a word in .noinit (kept across the reset, lost with the power) stops it
 * from coming again on the next boot.
 */
#include <stdint.h>

#include "bw_crash.h"

#define FIRED_MAGIC 0x4C50464Cu   /* "LPFL" */

void __real_cloud_service_work(void);
void __wrap_cloud_service_work(void);

static uint32_t fired __attribute__((section(".noinit")));

void __wrap_cloud_service_work(void)
{
    __real_cloud_service_work();
    if (fired == FIRED_MAGIC || !bw_crash_app_healthy()) {
        return;
    }
    fired = FIRED_MAGIC;
    void (*volatile corrupt)(void) = (void (*)(void))(uintptr_t)0x2u;
    corrupt();
}
