/*
 * What the armv8m layer does for crash supervision across a chip reset: the
 * RAM that survives one (port_reset_surviving_ram, in .noinit: the kernel's
 * start-up code never clears it, and the boot stub keeps no RAM state), and
 * the kernel's first start of the app after a backoff (a reset counted as
 * the app's crash may ask for one, or park the app).
 *
 * .noinit keeps its contents across SYSRESETREQ, the watchdogs and the reset
 * pin on every board Bulwark runs on (on QEMU, RAM outside loaded ELF
 * segments survives a system reset and starts zeroed at power-on; on the
 * STM32U585 the kernel's SRAM3 is erased on reset only if the option byte
 * SRAM134_RST says so: docs/DESIGN.md "Crash supervision").
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "armv8m.h"
#include "bw_log.h"
#include "bw_port.h"
#include "bw_reset_marker.h"

static uint32_t reset_ram[BW_RESET_MARKER_WORDS] __attribute__((section(".noinit")));

uint32_t *port_reset_surviving_ram(size_t *words)
{
    *words = sizeof reset_ram / sizeof reset_ram[0];
    return reset_ram;
}

void arch_app_start_after(enum MvWakeReason reason, uint32_t delay_ms)
{
    if (delay_ms == 0) {
        arch_app_start(reason);
    }
    bw_log("app start held back %" PRIu32 " ms (crash backoff); the kernel serves meanwhile", delay_ms);
    uint64_t deadline = port_time_us() + (uint64_t)delay_ms * 1000u;
    SCB_ICSR = ICSR_PENDSVSET;   /* one kernel loop pass now: it starts the update link */
    while (port_time_us() < deadline) {
        __asm volatile("wfi");   /* the supervision tick wakes the thread at least every tick */
    }
    arch_app_start(reason);
}
