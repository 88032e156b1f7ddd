/*
 * park_irq: an app the kernel cannot restart (run_update_test.py --scenario
 * irq-park; issue 15 item 8). Its vector table's initial stack pointer is 64
 * bytes above the base of app RAM, and it crashes inside its own interrupt
 * handler (IRQ 50). Restarting it needs the reset frame plus one deactivation
 * frame for the still-active IRQ 50 below that stack pointer, and there is no
 * room: the kernel parks the app from its PendSV path
 * (kernel/arch/armv8m/app_world.c, arch_app_prepare) and must stay reachable.
 *
 * The first start works: the kernel's start frame fits in those 64 bytes,
 * and the entry below moves the stack to the SDK's real stack before the
 * SDK's Reset_Handler runs. This table comes first in the app slot because
 * this file's objects link before the SDK's (sdk/ld/app_sections.ld keeps
 * every .vectors section in link order); the SDK's own table follows, unused.
 *
 * Prints "update-app: P started" once it runs.
 */
#include <stdint.h>

#include "bulwark_board.h"
#include "bulwark_ext.h"
#include "mv_syscalls.h"

#define TEST_IRQ 50u
#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_ISPR(n) (*(volatile uint32_t *)(0xE000E200u + 4u * (n)))
#define SECURE_RAM 0x38000000u

/* .data is the first section in app RAM (app_sections.ld): its start is the base. */
extern uint32_t __data_start__[];
void Reset_Handler(void);
void Default_Handler(void);
void IRQ50_Handler(void);
static void park_irq_entry(void);

/* Only for the tests' tools, which patch a version into every app they bundle. */
static const volatile struct {
    char magic[8];
    uint32_t version;
    uint32_t check;
} app_marker = { { 'B', 'V', 'E', 'R', 'M', 'A', 'R', 'K' }, 1u, ~1u };

typedef void (*vector)(void);

#define D Default_Handler
__attribute__((section(".vectors"), used))
static const vector park_irq_vectors[16 + TEST_IRQ + 1] = {
    (vector)(uintptr_t)((uintptr_t)__data_start__ + 64u),
    park_irq_entry,
    D, D, D, D, D, 0, 0, 0, 0, D, D, 0, D, D,
    D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D,   /* IRQ 0..24 */
    D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D,   /* IRQ 25..49 */
    IRQ50_Handler,
};
#undef D

/* First instructions after a start: the SDK's stack, then the SDK's start-up. */
__attribute__((naked)) static void park_irq_entry(void)
{
    __asm volatile(
        "movw r0, #:lower16:__stack_top__\n"
        "movt r0, #:upper16:__stack_top__\n"
        "msr msp, r0\n"
        "b Reset_Handler\n");
}

void IRQ50_Handler(void)
{
    *(volatile uint32_t *)SECURE_RAM = 0;   /* a SecureFault with IRQ 50 active */
}

int main(void)
{
    static const char started[] = "update-app: P started\n";
    board_console_write(started, sizeof started - 1u);
    (void)app_marker.version;   /* a read keeps the marker linked */
    (void)bwAppConfirmHealthy();
    NVIC_ISER(TEST_IRQ / 32u) = 1u << (TEST_IRQ % 32u);
    NVIC_ISPR(TEST_IRQ / 32u) = 1u << (TEST_IRQ % 32u);
    __asm volatile("dsb\n isb" : : : "memory");
    for (;;) {
        __asm volatile("wfi");
    }
}
