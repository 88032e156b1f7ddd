/*
 * The kernel's secure vector table and reset path. The table is the first
 * thing in the kernel slot; the boot stub reads its first two words.
 * Every interrupt routed to the secure side goes to one entry that asks the
 * board which handler runs (board_irq).
 */
#include <stdint.h>
#include <string.h>

#include "arch.h"
#include "armv8m.h"
#include "board.h"
#include "bw_board.h"

extern uint32_t __kernel_stack_top[];
extern uint32_t __kernel_stack_limit[];
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];

void kernel_main(void) __attribute__((noreturn));
void kernel_reset(void) __attribute__((noreturn));
void arch_fault_entry(void);
void PendSV_Handler(void);
void SysTick_Handler(void);
void arch_irq_entry(void);
void arch_nmi(void);
void arch_unexpected(void);

void kernel_reset(void)
{
    __asm volatile("msr msplim, %0" : : "r"(__kernel_stack_limit));
    memcpy(__data_start, __data_load, (size_t)((uintptr_t)__data_end - (uintptr_t)__data_start));
    memset(__bss_start, 0, (size_t)((uintptr_t)__bss_end - (uintptr_t)__bss_start));
    arch_kernel_stack_prepare();
    kernel_main();
}

void arch_irq_entry(void)
{
    board_irq(armv8m_ipsr() - 16u);
}

typedef void (*vector)(void);

#define VECTOR_COUNT (16u + BOARD_IRQ_COUNT)

__attribute__((section(".vectors"), used))
const vector kernel_vectors[VECTOR_COUNT] = {
    [0] = (vector)(uintptr_t)__kernel_stack_top,
    [1] = kernel_reset,
    [2] = arch_nmi,
    [3] = arch_fault_entry,   /* HardFault */
    [4] = arch_fault_entry,   /* MemManage (secure code only) */
    [5] = arch_fault_entry,   /* BusFault (app and kernel: BFHFNMINS = 0) */
    [6] = arch_fault_entry,   /* UsageFault (secure code only) */
    [7] = arch_fault_entry,   /* SecureFault */
    [8] = arch_unexpected, [9] = arch_unexpected, [10] = arch_unexpected,
    [11] = arch_unexpected,   /* SVCall: the kernel makes none */
    [12] = arch_unexpected,   /* DebugMonitor */
    [13] = arch_unexpected,
    [14] = PendSV_Handler,
    [15] = SysTick_Handler,   /* SysTick_S: the supervision tick (supervisor.c) */
    [16 ... VECTOR_COUNT - 1] = arch_irq_entry,
};
