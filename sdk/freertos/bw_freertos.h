/*
 * FreeRTOS on Bulwark: what the SDK adds to the ARM_CM33_NTZ/non_secure port
 * (bulwark_add_freertos_app links it into every FreeRTOS app).
 *
 * - No context switch while a task is inside a kernel call. An mv* call runs
 *   in the secure world on the kernel's one stack; an app interrupt may
 *   preempt it (and may itself make mv* calls: they nest), but if PendSV
 *   switched tasks there, a second task's call could stack on top of the
 *   first one's and each would later resume the other's secure frame. So the
 *   SDK's PendSV handler defers the switch while the interrupted thread is in
 *   secure state, and every mv* call of the app is linked through a wrapper
 *   (-Wl,--wrap) that re-pends PendSV as soon as the call returns. Interrupt
 *   latency is unchanged; a task switch waits at most one kernel call.
 * - A tick left over from the previous run is ignored: the kernel restarts
 *   the app in place and cannot stop the app's SysTick, so a tick may be taken
 *   before the new run's start-up code stops it; until FreeRTOS has started
 *   its first task in this run, the SDK's SysTick handler drops such ticks.
 * - configASSERT, stack overflow and (by default) heap exhaustion print one
 *   line on the app console and crash on purpose (UDF), so the kernel
 *   captures the crash, logs it and restarts the app.
 */
#ifndef BW_FREERTOS_H
#define BW_FREERTOS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* UDF immediates of the SDK's deliberate crashes (the kernel logs the pc;
 * the instruction there says which one). 0xB1/0xB2 are the start-up code's. */
#define BW_FREERTOS_UDF_ASSERT          0xB3
#define BW_FREERTOS_UDF_STACK_OVERFLOW  0xB4
#define BW_FREERTOS_UDF_MALLOC_FAILED   0xB5

/* Context switches deferred in this run because the task to be switched out
 * was inside a kernel call (each was completed right after the call). */
uint32_t bw_freertos_deferred_switches(void);

/* Prints "FreeRTOS assert failed: <file>:<line>" on the app console with
 * interrupts masked, then crashes (configASSERT calls it). Any context. */
void bw_freertos_assert_failed(const char *file, int line) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif
