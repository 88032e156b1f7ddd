/*
 * bench_crash: crash supervision figures for scripts/bench.sh (no pass/fail).
 * Crashes twice at `bench_fault` (a store to kernel RAM), then prints
 * "bench: crash_fault_to_main_us_<n> <us>" for each restart: guest time from
 * just before the fault to this app's main, under -icount (1 us = 1000
 * instructions, idle time excluded only when QEMU skips it). The exact
 * instruction count from the faulting instruction to Reset_Handler comes
 * from a QEMU instruction trace in bench.sh, using the bench_fault symbol.
 */
#include <inttypes.h>
#include <stdio.h>

#include "bulwark_board.h"
#include "mv_syscalls.h"

static struct {
    uint32_t magic;
    uint32_t crashes;
    uint64_t before_us;
} carried __attribute__((section(".noinit")));

__attribute__((noinline, naked)) static void fault(uint32_t address)
{
    __asm volatile(
        "    .global bench_fault\n"
        "bench_fault:\n"
        "    str r0, [r0]\n"
        "    bx lr\n");
}

int main(void)
{
    uint64_t now = 0;
    (void)mvGetMicroseconds(&now);
    enum MvWakeReason reason = MV_WAKEREASON_COLDBOOT;
    (void)mvGetWakeReason(&reason);
    if (reason != MV_WAKEREASON_APPLICATIONCRASH || carried.magic != 0x42435348u) {
        carried.magic = 0x42435348u;
        carried.crashes = 0;
    } else {
        printf("bench: crash_fault_to_main_us_%" PRIu32 " %" PRIu32 "\n", carried.crashes,
               (uint32_t)(now - carried.before_us));
    }
    if (carried.crashes == 2) {
        fflush(stdout);
        carried.magic = 0;
        board_exit(0);
    }
    carried.crashes++;
    fflush(stdout);
    (void)mvGetMicroseconds(&carried.before_us);
    fault(0x38000000u);
    board_exit(1);
}
