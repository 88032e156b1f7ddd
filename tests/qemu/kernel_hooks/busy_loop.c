/*
 * Test kernel variant only (bulwark-kernel-busyloop, qemu.hang.kernel_busy):
 * the kernel loop (PendSV_S) stays busy for BUSY_LOOP_MS while the app
 * sleeps in WFI with its interrupts masked, the way a tickless idle loop
 * waits; BUSY_LOOP_QUIET_MS later, the app still asleep meanwhile (where a
 * hung verdict would be captured), it pends the app's interrupt
 * BUSY_LOOP_APP_IRQ, which wakes it. The hang detector must not take the kernel's own handler work for the
 * app being awake (docs/DESIGN.md, "Hangs").
 *
 * Linked with -Wl,--wrap=cloud_service_work, so the production kernel
 * carries no such hook. It runs once, at the first kernel loop pass after
 * the app confirmed itself healthy (bwAppConfirmHealthy makes the tick pend
 * the loop).
 */
#include <stdint.h>

#include "arch.h"
#include "armv8m.h"
#include "busy_loop.h"
#include "bw_crash.h"
#include "bw_port.h"

void __real_cloud_service_work(void);
void __wrap_cloud_service_work(void);

static enum { WAITING, QUIET, DONE } phase;
static uint64_t busy_end_us;

void __wrap_cloud_service_work(void)
{
    __real_cloud_service_work();
    if (phase == WAITING && bw_crash_app_healthy()) {
        uint64_t start = port_time_us();
        while (port_time_us() - start < (uint64_t)BUSY_LOOP_MS * 1000u) {
            /* kernel work in handler mode; the tick keeps sampling meanwhile */
        }
        busy_end_us = port_time_us();
        phase = QUIET;
        arch_kernel_loop_every_tick(ARCH_TICKS_CLOUD, true);   /* come back to end the quiet stretch */
    } else if (phase == QUIET && port_time_us() - busy_end_us >= (uint64_t)BUSY_LOOP_QUIET_MS * 1000u) {
        NVIC_ISPR(BUSY_LOOP_APP_IRQ / 32u) = 1u << (BUSY_LOOP_APP_IRQ % 32u);
        phase = DONE;
    }
}
