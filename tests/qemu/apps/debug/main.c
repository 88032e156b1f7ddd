/*
 * debug: the app `bulwark debug` + gdb-multiarch debug in tests/qemu/
 * run_debug_test.py. Named functions in a call chain (main -> tick_once ->
 * compute), a global that controls what the console shows (g_mode: the
 * test sets it through GDB and sees "mode 7"), a local to print (local in
 * compute), and g_crash: set through GDB, the next tick stores into kernel
 * RAM (a fault the monitor stops on, at the instruction crash_store).
 */
#include <stdint.h>
#include <stdio.h>

#include "check.h"

volatile int g_mode = 1;
volatile int g_crash;
volatile unsigned g_counter;

int compute(int x);
void crash_now(void);
void tick_once(unsigned n);

__attribute__((noinline)) int compute(int x)
{
    volatile int local = x * 3 + 1;
    g_counter += (unsigned)local;
    return local;
}

__attribute__((noinline)) void crash_now(void)
{
    *(volatile uint32_t *)0x38000000u = 1u;   /* the kernel's RAM: a fault */
}

__attribute__((noinline)) void tick_once(unsigned n)
{
    int value = compute((int)n);
    printf("tick %u mode %d value %d\n", n, g_mode, value);
    if (g_crash) {
        crash_now();
    }
}

int main(void)
{
    for (unsigned n = 0;; n++) {
        tick_once(n);
        for (volatile unsigned spin = 0; spin < 200000u; spin++) {
        }
    }
}
