/*
 * Whose fault (kernel/arch/armv8m/fault_blame.c). Promises: a fault is the
 * kernel's when the frame is on the secure main stack with no app
 * fingerprint and either its PC is kernel .text, or it came from handler
 * mode in one of the kernel's own active exceptions (PendSV_S, SysTick_S, a
 * secure IRQ) wherever the PC went -- the kernel loop branching to 0x2 is
 * the case that looped forever before. Everything the app can stage stays
 * an app crash: a non-secure frame, PSP_S, any fingerprint status bit, no
 * frame, thread mode outside .text (FNC_RETURN pops, kernel calls), the
 * app's own PendSV/SysTick/IRQ numbers (their secure twins not active, or
 * the IRQ routed to the app).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fault_blame.h"

#define TEXT_START 0x10000800u
#define TEXT_END   0x10030000u
#define IN_TEXT    0x10001234u
#define BAD_PC     0x00000002u
#define FNC_SIG_PC 0xFEFA125Au   /* what an app-forged FNC_RETURN pop lands on */

#define EXC_SECURE_HANDLER 0xFFFFFFF1u   /* secure, MSP, handler mode, basic frame */
#define EXC_SECURE_THREAD  0xFFFFFFF9u   /* secure, MSP, thread mode */
#define EXC_SECURE_PSP     0xFFFFFFFDu   /* secure, PSP, thread mode */
#define EXC_FROM_APP       0xFFFFFFBCu   /* the app's frame (S = 0) */

#define SHCSR_PENDSVACT  (1u << 10)
#define SHCSR_SYSTICKACT (1u << 11)
#define XPSR_T (1u << 24)

/* A kernel-loop fault at 0x2: INVSTATE (Thumb bit clear), PendSV_S active. */
static fault_evidence kernel_loop_at_0x2(void)
{
    fault_evidence e = {
        .exc_return = EXC_SECURE_HANDLER,
        .frame_found = true,
        .pc = BAD_PC,
        .xpsr = 14u,
        .cfsr = 1u << 17,   /* UFSR INVSTATE, secure bank */
        .shcsr = SHCSR_PENDSVACT,
        .text_start = TEXT_START,
        .text_end = TEXT_END,
    };
    return e;
}

static void kernel_loop_outside_text_is_kernels(void **state)
{
    (void)state;
    fault_evidence e = kernel_loop_at_0x2();
    assert_true(fault_blame_kernels(&e));
    e.exc_return = 0xFFFFFFE1u;   /* with FP state: the same */
    assert_true(fault_blame_kernels(&e));
}

static void tick_and_secure_irq_outside_text_are_kernels(void **state)
{
    (void)state;
    fault_evidence e = kernel_loop_at_0x2();
    e.xpsr = XPSR_T | 15u;
    e.shcsr = SHCSR_SYSTICKACT;
    assert_true(fault_blame_kernels(&e));
    e.xpsr = XPSR_T | (16u + 5u);
    e.shcsr = 0;
    e.irq_secure_active = true;
    assert_true(fault_blame_kernels(&e));
}

static void pc_in_text_is_kernels_in_any_mode(void **state)
{
    (void)state;
    fault_evidence e = kernel_loop_at_0x2();
    e.pc = IN_TEXT;
    e.xpsr = XPSR_T;   /* thread mode, e.g. a kernel call */
    e.exc_return = EXC_SECURE_THREAD;
    e.shcsr = 0;
    assert_true(fault_blame_kernels(&e));
    e.pc = TEXT_END;   /* one past the end: not text */
    assert_false(fault_blame_kernels(&e));
    e.pc = TEXT_START;
    assert_true(fault_blame_kernels(&e));
}

static void app_pendsv_and_systick_numbers_are_apps(void **state)
{
    (void)state;
    /* A kernel call from the app's PendSV or SysTick handler runs with IPSR
     * 14 or 15 in secure handler mode; the secure twin is not active. */
    fault_evidence e = kernel_loop_at_0x2();
    e.pc = FNC_SIG_PC;
    e.shcsr = 0;
    assert_false(fault_blame_kernels(&e));
    e.xpsr = 15u;
    e.shcsr = SHCSR_PENDSVACT;   /* the other one active does not count */
    assert_false(fault_blame_kernels(&e));
}

static void app_irq_number_is_apps(void **state)
{
    (void)state;
    fault_evidence e = kernel_loop_at_0x2();
    e.xpsr = 16u + 50u;
    e.shcsr = SHCSR_PENDSVACT | SHCSR_SYSTICKACT;
    e.irq_secure_active = false;   /* routed to the app (ITNS = 1), or not active */
    assert_false(fault_blame_kernels(&e));
}

static void other_exception_numbers_are_apps(void **state)
{
    (void)state;
    /* Handler mode with IPSR 0 (a forged mode), SVCall, the fault handlers. */
    const uint32_t numbers[] = {0u, 2u, 3u, 4u, 5u, 6u, 7u, 11u, 12u};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        fault_evidence e = kernel_loop_at_0x2();
        e.xpsr = numbers[i];
        e.shcsr = 0xFFFFFFFFu;
        e.irq_secure_active = true;
        assert_false(fault_blame_kernels(&e));
    }
}

static void thread_mode_outside_text_is_apps(void **state)
{
    (void)state;
    /* An app-forged FNC_RETURN pop, or a kernel call gone astray: the app's
     * context, even with PendSV_S active somewhere below. */
    fault_evidence e = kernel_loop_at_0x2();
    e.exc_return = EXC_SECURE_THREAD;
    e.pc = FNC_SIG_PC;
    e.xpsr = 0;
    assert_false(fault_blame_kernels(&e));
    e.xpsr = 14u;   /* thread mode with an IPSR is no kernel handler either */
    assert_false(fault_blame_kernels(&e));
}

static void app_fingerprints_are_apps(void **state)
{
    (void)state;
    struct { uint32_t sfsr, hfsr, cfsr, cfsr_ns; } prints[] = {
        {1u << 1, 0, 0, 0},    /* SFSR INVIS */
        {1u << 2, 0, 0, 0},    /* SFSR INVER */
        {1u << 7, 0, 0, 0},    /* SFSR LSERR */
        {0, 1u << 1, 0, 0},    /* HFSR VECTTBL */
        {0, 0, 1u << 3, 0},    /* MUNSTKERR */
        {0, 0, 1u << 11, 0},   /* UNSTKERR */
        {0, 0, 0, 1u << 16},   /* anything in the app's bank */
    };
    for (size_t i = 0; i < sizeof prints / sizeof prints[0]; i++) {
        fault_evidence e = kernel_loop_at_0x2();
        e.sfsr = prints[i].sfsr;
        e.hfsr = prints[i].hfsr;
        e.cfsr |= prints[i].cfsr;
        e.cfsr_ns = prints[i].cfsr_ns;
        assert_false(fault_blame_kernels(&e));
        e.pc = IN_TEXT;   /* the old rule's case too */
        assert_false(fault_blame_kernels(&e));
    }
}

static void not_on_the_kernel_stack_is_apps(void **state)
{
    (void)state;
    fault_evidence e = kernel_loop_at_0x2();
    e.exc_return = EXC_FROM_APP;
    assert_false(fault_blame_kernels(&e));
    e.exc_return = EXC_SECURE_PSP;
    assert_false(fault_blame_kernels(&e));
    e = kernel_loop_at_0x2();
    e.frame_found = false;   /* SP led nowhere on the kernel stack */
    assert_false(fault_blame_kernels(&e));
    e.pc = IN_TEXT;
    assert_false(fault_blame_kernels(&e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kernel_loop_outside_text_is_kernels),
        cmocka_unit_test(tick_and_secure_irq_outside_text_are_kernels),
        cmocka_unit_test(pc_in_text_is_kernels_in_any_mode),
        cmocka_unit_test(app_pendsv_and_systick_numbers_are_apps),
        cmocka_unit_test(app_irq_number_is_apps),
        cmocka_unit_test(other_exception_numbers_are_apps),
        cmocka_unit_test(thread_mode_outside_text_is_apps),
        cmocka_unit_test(app_fingerprints_are_apps),
        cmocka_unit_test(not_on_the_kernel_stack_is_apps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
