/*
 * crash_decode: crashes once inside a named function, then exits, so the
 * test can run `bulwark crash decode --elf` on the kernel's record line and
 * check that the backtrace names the crashing function and its caller.
 */
#include <stdint.h>
#include <stdio.h>

#include "bulwark_board.h"
#include "mv_syscalls.h"

/* Writes a "sensor register" that is really kernel RAM: a SecureFault. */
__attribute__((noinline)) void sensor_write_register(volatile uint32_t *reg, uint32_t value);
__attribute__((noinline)) void sensor_write_register(volatile uint32_t *reg, uint32_t value)
{
    *reg = value;
    __asm volatile("" : : : "memory");
}

__attribute__((noinline)) void sensor_calibrate(void);
__attribute__((noinline)) void sensor_calibrate(void)
{
    sensor_write_register((volatile uint32_t *)0x38000010u, 0x5A5Au);
    printf("crash_decode: still running?\n");
}

int main(void)
{
    enum MvWakeReason reason = MV_WAKEREASON_COLDBOOT;
    (void)mvGetWakeReason(&reason);
    if (reason == MV_WAKEREASON_APPLICATIONCRASH) {
        printf("crash_decode: restarted after the crash\n");
        board_exit(0);
    }
    printf("crash_decode: calibrating\n");
    fflush(stdout);
    sensor_calibrate();
    board_exit(1);
}
