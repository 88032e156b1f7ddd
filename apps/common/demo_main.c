/*
 * A channel demo, bare metal (demo.h): demo_run on the main stack, the core
 * asleep in WFI between notifications.
 */
#include <stdint.h>

#include "demo.h"

static volatile uint32_t woken;   /* ISR runs, counted by demo_woken */
static uint32_t seen;             /* woken as of the last demo_wait */

/* Interrupts masked around the check and WFI: an ISR that fires between them
 * stays pending and wakes WFI (the kernel counts WFI with PRIMASK set as
 * waiting, not hung, however busy it is itself meanwhile: DESIGN.md
 * "Hangs"), then runs once they are unmasked. */
void demo_wait(void)
{
    __asm volatile("cpsid i" ::: "memory");
    if (woken == seen) {
        __asm volatile("wfi");
    }
    __asm volatile("cpsie i" ::: "memory");
    seen = woken;
}

void demo_woken(void)
{
    woken++;
}

int main(void)
{
    demo_run();
    for (;;) {
        __asm volatile("wfi");
    }
}
