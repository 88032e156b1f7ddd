/*
 * http-demo, bare metal: the steps of http_demo.c on the main stack, the
 * core sleeping (WFI) between notifications.
 */
#include "http_demo.h"

/* A notification that lands between the caller's check and this WFI is not
 * lost: the kernel's supervision tick wakes the core at least every
 * millisecond, and the caller checks again. (Masking interrupts around the
 * check and WFI would close that window, but the kernel then counts its own
 * interrupt work during the sleep as the app awake with interrupts masked,
 * and judged this app hung under load: see docs/DESIGN.md, "Hangs".) */
void http_demo_wait(void)
{
    __asm volatile("wfi");
}

void http_demo_woken(void)
{
}

int main(void)
{
    http_demo_run();
    for (;;) {
        __asm volatile("wfi");
    }
}
