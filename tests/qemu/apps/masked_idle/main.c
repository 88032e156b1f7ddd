/*
 * masked_idle: runs under the test kernel bulwark-kernel-busyloop, whose
 * loop stays busy for BUSY_LOOP_MS once this app has confirmed itself
 * healthy and then pends this app's interrupt BUSY_LOOP_APP_IRQ
 * (tests/qemu/kernel_hooks/busy_loop.c). Meanwhile the app waits the way a
 * tickless idle loop does: interrupts masked (PRIMASK), WFI until its
 * interrupt is pending, then unmasked so the handler runs. Promises checked:
 *  - the app is not judged hung: it wakes in this run (no restart: the
 *    test driver also rejects any "app crash" in the kernel log);
 *  - it slept through the kernel's whole busy stretch, which is longer than
 *    the hang timeout (else the test proves nothing);
 *  - its handler ran once it unmasked.
 */
#include <stdio.h>

#include "busy_loop.h"
#include "bulwark_ext.h"
#include "check.h"
#include "mv_syscalls.h"

#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_ISPR(n) (*(volatile uint32_t *)(0xE000E200u + 4u * (n)))
#define IRQ_BIT (1u << (BUSY_LOOP_APP_IRQ % 32u))
#define IRQ_WORD (BUSY_LOOP_APP_IRQ / 32u)

static volatile uint32_t handled;

void IRQ65_Handler(void);
void IRQ65_Handler(void)
{
    handled++;
}

_Static_assert(BUSY_LOOP_APP_IRQ == 65u, "the handler's name follows the IRQ");

int main(void)
{
    enum MvWakeReason reason = MV_WAKEREASON_COLDBOOT;
    check_status(mvGetWakeReason(&reason), MV_STATUS_OKAY, "mvGetWakeReason");
    check_u32(reason, MV_WAKEREASON_COLDBOOT, "first run: no restart");
    NVIC_ISER(IRQ_WORD) = IRQ_BIT;
    uint64_t start = 0, end = 0;
    check_status(mvGetMicroseconds(&start), MV_STATUS_OKAY, "mvGetMicroseconds");
    __asm volatile("cpsid i" ::: "memory");
    check_status(bwAppConfirmHealthy(), MV_STATUS_OKAY, "bwAppConfirmHealthy");
    uint32_t wakes = 0;
    while ((NVIC_ISPR(IRQ_WORD) & IRQ_BIT) == 0) {
        __asm volatile("wfi");
        wakes++;
    }
    __asm volatile("cpsie i" ::: "memory");
    __asm volatile("isb");
    check_status(mvGetMicroseconds(&end), MV_STATUS_OKAY, "mvGetMicroseconds");
    printf("masked_idle: slept %u ms masked (%u wake-ups)\n", (unsigned)((end - start) / 1000u), (unsigned)wakes);
    check_u32(end - start >= (uint64_t)(BUSY_LOOP_MS + BUSY_LOOP_QUIET_MS) * 1000u, 1u, "slept through the kernel's busy stretch and after");
    check_u32(handled, 1u, "the handler ran once unmasked");
    check_finish("masked_idle", 0, 0);
}
