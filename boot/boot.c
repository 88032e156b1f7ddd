/*
 * The boot stub: the first secure code after every reset, immutable (on
 * qemu-an505 QEMU loads it at 0x10000000 each power-on, like a ROM).
 *
 * It starts the kernel in the kernel slot: the slot's first two words are the
 * kernel's initial stack pointer and reset handler. A slot whose words do not
 * point into kernel RAM and the kernel slot is not started: the stub stops at
 * a breakpoint instruction, where a debugger finds it (QEMU reports a lockup).
 * Verifying the kernel's signature and choosing between kernel slots come
 * with kernel updates; this is where they will live.
 */
#include <stdint.h>

#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)

extern uint32_t __boot_stack_top[];
extern uint32_t __kernel_slot[], __kernel_slot_end[];
extern uint32_t __kernel_ram[], __kernel_ram_end[];

void boot_reset(void) __attribute__((noreturn, naked));
void boot_fault(void) __attribute__((noreturn));
void boot_start_kernel(void) __attribute__((noreturn));

void boot_fault(void)
{
    for (;;) {
        __asm volatile("bkpt 0");
    }
}

void boot_start_kernel(void)
{
    const volatile uint32_t *slot = (const volatile uint32_t *)__kernel_slot;
    uint32_t sp = slot[0], entry = slot[1];
    uint32_t slot_start = (uint32_t)(uintptr_t)__kernel_slot;
    uint32_t slot_end = (uint32_t)(uintptr_t)__kernel_slot_end;

    int sp_ok = sp > (uint32_t)(uintptr_t)__kernel_ram && sp <= (uint32_t)(uintptr_t)__kernel_ram_end
                && (sp & 7u) == 0;
    int entry_ok = (entry & 1u) && entry > slot_start && entry < slot_end;
    if (!sp_ok || !entry_ok) {
        boot_fault();
    }
    SCB_VTOR = slot_start;
    __asm volatile(
        "msr msp, %0\n"
        "dsb\n"
        "isb\n"
        "bx %1\n"
        : : "r"(sp), "r"(entry) : "memory");
    __builtin_unreachable();
}

void boot_reset(void)
{
    __asm volatile(
        "ldr r0, =__boot_stack_top\n"
        "msr msp, r0\n"
        "b boot_start_kernel\n");
}

typedef void (*vector)(void);

__attribute__((section(".vectors"), used))
const vector boot_vectors[4] = {
    (vector)(uintptr_t)__boot_stack_top,
    boot_reset,
    boot_fault,   /* NMI */
    boot_fault,   /* HardFault */
};
