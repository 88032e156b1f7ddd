/*
 * App start-up for the non-secure world: the vector table and the reset
 * handler. The kernel starts (and restarts) the app by "returning" to
 * Reset_Handler on a fresh stack, without a chip reset, so the handler first
 * undoes what a previous run may have left: the app's SysTick (the kernel
 * cannot reach it) and its stack limit. An app takes a handler over by
 * defining it: SysTick_Handler, ..., and for interrupt lines the vendor's
 * CMSIS name (TIM6_IRQHandler) or IRQ<n>_Handler. The slots name the
 * board's table (port/<board>/irq_names.def); the linker resolves a name the
 * app leaves undefined to IRQ<n>_Handler, then to Default_Handler
 * (scripts/irq_table.py writes those lines). Linked only when the app brings
 * no Reset_Handler of its own (an ST-style start-up file: docs/DESIGN.md,
 * "The original's link conventions").
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

/* Interrupt lines: declared here, defined by the app or by the linker. */
#define BW_IRQ(n, name) void name##_IRQHandler(void);
#define BW_IRQ_RESERVED(n) void IRQ##n##_Handler(void);
#include "irq_names.def"
#undef BW_IRQ
#undef BW_IRQ_RESERVED

typedef void (*vector)(void);

__attribute__((section(".vectors"), used))
const vector app_vectors[] = {
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
#define BW_IRQ(n, name) name##_IRQHandler,
#define BW_IRQ_RESERVED(n) IRQ##n##_Handler,
#include "irq_names.def"
#undef BW_IRQ
#undef BW_IRQ_RESERVED
};
_Static_assert(sizeof app_vectors == sizeof(vector) * (16 + SDK_IRQ_COUNT),
               "irq_names.def lists every interrupt line of the board");
