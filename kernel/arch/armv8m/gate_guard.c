/*
 * The C side of the gate's guard (gate.S) and of the kernel's one stack.
 *
 * The gate refuses a call as an app fault when its return address is an
 * EXC_RETURN or FNC_RETURN value, or when a call from thread mode finds an
 * earlier call still in progress (an abandoned secure frame); it refuses a
 * call with MV_STATUS_MICROVISORBUSY past BW_GATE_NESTING_MAX calls in
 * progress. A violation is captured like any app crash (class
 * bad-kernel-call) and PendSV_S then enters the supervisor thread.
 *
 * The kernel stack is sealed above its top (kernel.ld): two words that a
 * function return (FNC_RETURN) from an app with no secure caller pops and
 * rejects. Below, the stack is filled with a pattern at boot, so the
 * deepest use can be measured (arch_kernel_stack_deepest).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch.h"
#include "armv8m.h"
#include "board.h"
#include "bw_config.h"
#include "bw_log.h"
#include "gate_violation.h"

#define STACK_SEAL 0xFEF5EDA5u   /* not a return address, and its IPSR field is not 0 */
#define STACK_FILL 0x5AFEC0DEu
#define SHCSR_NS_ACTIVE_BITS 0x00000D8Fu   /* MemManage..SecureFault, SVCall, DebugMon, PendSV, SysTick */

extern uint32_t __kernel_stack_limit[], __kernel_stack_top[], __kernel_stack_seal[];

static bool busy_logged;   /* one "refused" line per app run */

void arch_kernel_stack_prepare(void)
{
    __kernel_stack_seal[0] = STACK_SEAL;
    __kernel_stack_seal[1] = STACK_SEAL;
    uint32_t sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    /* Below the caller's frame only: 64 bytes of margin for this function. */
    for (volatile uint32_t *word = __kernel_stack_limit; (uintptr_t)word < sp - 64u; word++) {
        *word = STACK_FILL;
    }
}

uint32_t arch_kernel_stack_deepest(void)
{
    const volatile uint32_t *word = __kernel_stack_limit;
    while (word < __kernel_stack_top && *word == STACK_FILL) {
        word++;
    }
    return (uint32_t)((uintptr_t)__kernel_stack_top - (uintptr_t)word);
}

void arch_gate_reset(void)
{
    extern volatile uint32_t bw_gate_depth;
    bw_gate_depth = 0;
    busy_logged = false;
}

/* Active exceptions of the app: its interrupts and its system exceptions. */
static uint32_t app_active_exceptions(void)
{
    uint32_t count = (uint32_t)__builtin_popcount(SCB_NS_SHCSR & SHCSR_NS_ACTIVE_BITS);
    for (uint32_t word = 0; word < (BOARD_IRQ_COUNT + 31u) / 32u; word++) {
        count += (uint32_t)__builtin_popcount(NVIC_IABR(word) & NVIC_ITNS(word));
    }
    return count;
}

/* gate.S: a call from an app handler found `depth` calls in progress, the
 * limit. Each of them was preempted by an app exception that is still
 * active (returning from it returns into the call); if fewer are active,
 * some handler left without returning into its call: an abandoned frame,
 * a violation (returns 0). Otherwise the call is refused. */
uint32_t arch_gate_busy(uint32_t depth);
uint32_t arch_gate_busy(uint32_t depth)
{
    if (app_active_exceptions() < depth) {
        return 0;
    }
    if (!busy_logged) {
        busy_logged = true;
        bw_log("gate: %" PRIu32 " kernel calls in progress (the limit): further nested calls refused (MICROVISORBUSY)",
               depth);
    }
    return MV_STATUS_MICROVISORBUSY;
}

/* gate.S, with app exceptions masked: saved holds the app's r7-r11, r4-r6
 * and its return address, in that order. Captures and stops the app, then
 * hands it to the supervisor thread through PendSV_S (arch_supervisor_defer),
 * which preempts the caller before this returns. */
void arch_gate_violation(uint32_t kind, uint32_t detail, uint32_t gate_index, const uint32_t *saved);
void arch_gate_violation(uint32_t kind, uint32_t detail, uint32_t gate_index, const uint32_t *saved)
{
    uint32_t r4_r11[8] = { saved[5], saved[6], saved[7], saved[0], saved[1], saved[2], saved[3], saved[4] };
    uint32_t app_lr = saved[8];
    if (kind == BW_GATE_BAD_RETURN) {
        bw_log("gate: kernel call %" PRIu32 " with return address 0x%08" PRIx32
               " (EXC_RETURN/FNC_RETURN, not app code): app fault", gate_index, detail);
    } else {
        bw_log("gate: kernel call %" PRIu32 " from the app while %" PRIu32
               " call(s) it made never returned (abandoned secure frame): app fault", gate_index, detail);
    }
    arch_app_capture_bad_call(gate_index, app_lr, r4_r11);
    arch_supervisor_defer();
}
