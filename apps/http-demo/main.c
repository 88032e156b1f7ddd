/*
 * http-demo, bare metal: the steps of http_demo.c on the main stack, the
 * core sleeping (WFI) between notifications.
 */
#include <stdint.h>

#include "http_demo.h"

static volatile uint32_t woken;   /* ISR runs, counted by http_demo_woken */
static uint32_t seen;             /* woken as of the last http_demo_wait */

/* Interrupts masked around the check and WFI: an ISR that fires between them
 * stays pending and wakes WFI (the kernel counts WFI with PRIMASK set as
 * waiting, not hung), then runs once they are unmasked. */
void http_demo_wait(void)
{
    __asm volatile("cpsid i" ::: "memory");
    if (woken == seen) {
        __asm volatile("wfi");
    }
    __asm volatile("cpsie i" ::: "memory");
    seen = woken;
}

void http_demo_woken(void)
{
    woken++;
}

int main(void)
{
    http_demo_run();
    for (;;) {
        __asm volatile("wfi");
    }
}
