/*
 * App start-up for the non-secure world: the vector table and the reset
 * handler. The kernel starts (and restarts) the app by "returning" to
 * Reset_Handler on a fresh stack, without a chip reset, so the handler first
 * undoes what a previous run may have left: the app's SysTick (the kernel
 * cannot reach it) and its stack limit. Handlers are weak: an app defines
 * IRQ<n>_Handler, SysTick_Handler, ... to take them over.
 */
#include <stdint.h>
#include <string.h>

extern uint32_t __stack_top__[], __stack_limit__[];
extern uint32_t __data_load__[], __data_start__[], __data_end__[];
extern uint32_t __bss_start__[], __bss_end__[];
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);

int main(void);
void Reset_Handler(void) __attribute__((noreturn));
void Default_Handler(void);

#define SYST_CSR   (*(volatile uint32_t *)0xE000E010u)
#define SCB_CPACR  (*(volatile uint32_t *)0xE000ED88u)

void Reset_Handler(void)
{
    SYST_CSR = 0;
    __asm volatile("msr msplim, %0" : : "r"(__stack_limit__));
    SCB_CPACR |= 0xFu << 20;   /* CP10/CP11: the FPU (the kernel allows it) */
    __asm volatile("dsb\n isb");
    memcpy(__data_start__, __data_load__, (size_t)((uintptr_t)__data_end__ - (uintptr_t)__data_start__));
    memset(__bss_start__, 0, (size_t)((uintptr_t)__bss_end__ - (uintptr_t)__bss_start__));
    for (void (**ctor)(void) = __init_array_start; ctor < __init_array_end; ctor++) {
        (*ctor)();
    }
    main();
    /* Returning from main is a crash the kernel reports (UDF 0xB1 marks it). */
    for (;;) {
        __asm volatile("udf #0xb1");
    }
}

void Default_Handler(void)
{
    /* An interrupt the app enabled but did not handle: treat as a crash. */
    for (;;) {
        __asm volatile("udf #0xb2");
    }
}

#define WEAK_HANDLER(name) void name(void) __attribute__((weak, alias("Default_Handler")));
WEAK_HANDLER(NMI_Handler)
WEAK_HANDLER(HardFault_Handler)
WEAK_HANDLER(MemManage_Handler)
WEAK_HANDLER(BusFault_Handler)
WEAK_HANDLER(UsageFault_Handler)
WEAK_HANDLER(SVC_Handler)
WEAK_HANDLER(DebugMon_Handler)
WEAK_HANDLER(PendSV_Handler)
WEAK_HANDLER(SysTick_Handler)
#include "irq_handlers.inc"

typedef void (*vector)(void);

__attribute__((section(".vectors"), used))
const vector app_vectors[16 + SDK_IRQ_COUNT] = {
    (vector)(uintptr_t)__stack_top__,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0, 0, 0, 0,
    SVC_Handler,
    DebugMon_Handler,
    0,
    PendSV_Handler,
    SysTick_Handler,
#define IRQ_VECTOR(n) IRQ##n##_Handler,
#include "irq_vectors.inc"
#undef IRQ_VECTOR
};
