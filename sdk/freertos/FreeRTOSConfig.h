/*
 * FreeRTOS configuration for Bulwark apps (FreeRTOS-Kernel V11, the
 * ARM_CM33_NTZ/non_secure port: the app is the whole non-secure world and
 * never calls secure FreeRTOS services, so TrustZone support in FreeRTOS is
 * off; the Bulwark kernel is not FreeRTOS).
 *
 * Every value is a default: an app overrides one by passing a definition to
 * bulwark_add_freertos_app(... CONFIG configTICK_RATE_HZ=10000 ...), which
 * compiles the app and its copy of the FreeRTOS kernel with it.
 *
 * Interrupt priorities. The Bulwark kernel sets AIRCR.PRIS, so every app
 * (non-secure) priority sits below every kernel one: the app still writes
 * 0x00..0xFF in its own NVIC_IPR/SHPR/BASEPRI and FreeRTOS sees the usual
 * Cortex-M33 behaviour, but the hardware maps app priority p to 0x80 + p/2.
 * On a part with 4 priority bits (STM32U585) that leaves the app 8 distinct
 * levels, 0x20 apart, so configMAX_SYSCALL_INTERRUPT_PRIORITY is a multiple
 * of 0x20:
 *   0x00..0x3F  above FreeRTOS: never masked by its critical sections; may
 *               make mv* calls but must not call the FreeRTOS API;
 *   0x40..0xFE  FreeRTOS-aware ISRs: may use the ...FromISR API (and mv*);
 *   0xFF        SysTick and PendSV (set by the port).
 * Notification-center ISRs that give semaphores belong in the second band.
 */
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H

#include <stdint.h>

/* ---- the port: non-secure only, FPU as the app's float ABI, no MPU ---- */
#define configENABLE_TRUSTZONE               0
#define configRUN_FREERTOS_SECURE_ONLY       0
#if defined(__ARM_FP)                        /* hard float: tasks keep FPU context */
#define configENABLE_FPU                     1
#else                                        /* soft float: no FPU code in the port */
#define configENABLE_FPU                     0
#endif
#define configENABLE_MPU                     0
#define configENABLE_MVE                     0
/* SVC goes straight to the port; PendSV and SysTick go through the SDK's
 * guards in bw_freertos.c first ("indirect routing" in the port's terms),
 * so the port must not insist on its own handlers in the vector table. */
#define configCHECK_HANDLER_INSTALLATION     0

/* ---- clocks and tick ---- */
/* The CPU (SysTick) clock the Bulwark kernel leaves running on this board;
 * the build passes it (bulwark_freertos.cmake: 20 MHz on qemu-an505). */
#ifndef configCPU_CLOCK_HZ
#ifndef BW_FREERTOS_CPU_CLOCK_HZ
#error "BW_FREERTOS_CPU_CLOCK_HZ is not set: build FreeRTOS apps with bulwark_add_freertos_app()"
#endif
#define configCPU_CLOCK_HZ                   ((uint32_t)BW_FREERTOS_CPU_CLOCK_HZ)
#endif
#ifndef configTICK_RATE_HZ
#define configTICK_RATE_HZ                   1000u
#endif
#define configTICK_TYPE_WIDTH_IN_BITS        TICK_TYPE_WIDTH_32_BITS
#define configUSE_TICKLESS_IDLE              0

/* ---- scheduler ---- */
#define configUSE_PREEMPTION                 1
#ifndef configUSE_TIME_SLICING
#define configUSE_TIME_SLICING               1
#endif
#define configUSE_PORT_OPTIMISED_TASK_SELECTION 0
#ifndef configMAX_PRIORITIES
#define configMAX_PRIORITIES                 8
#endif
#ifndef configMINIMAL_STACK_SIZE
#define configMINIMAL_STACK_SIZE             256   /* words */
#endif
#define configMAX_TASK_NAME_LEN              16
#define configIDLE_SHOULD_YIELD              1
#define configUSE_TASK_NOTIFICATIONS         1
#define configTASK_NOTIFICATION_ARRAY_ENTRIES 1
#define configUSE_MUTEXES                    1
#define configUSE_RECURSIVE_MUTEXES          1
#define configUSE_COUNTING_SEMAPHORES        1
#define configUSE_QUEUE_SETS                 0
#define configQUEUE_REGISTRY_SIZE            0
#define configUSE_EVENT_GROUPS               1
#define configUSE_STREAM_BUFFERS             1
#define configUSE_NEWLIB_REENTRANT           0   /* print from one task at a time (see DESIGN.md) */
#define configUSE_IDLE_HOOK                  0
#define configUSE_TICK_HOOK                  0
#define configUSE_DAEMON_TASK_STARTUP_HOOK   0
#ifndef configUSE_TRACE_FACILITY
#define configUSE_TRACE_FACILITY             0
#endif

/* ---- software timers ---- */
#define configUSE_TIMERS                     1
#define configTIMER_TASK_PRIORITY            (configMAX_PRIORITIES - 1)
#define configTIMER_QUEUE_LENGTH             16
#define configTIMER_TASK_STACK_DEPTH         (configMINIMAL_STACK_SIZE * 2)

/* ---- memory: static allocation allowed; heap_4 with a fixed heap ---- */
#define configSUPPORT_STATIC_ALLOCATION      1
#define configSUPPORT_DYNAMIC_ALLOCATION     1
#define configKERNEL_PROVIDED_STATIC_MEMORY  1   /* idle and timer task memory */
#ifndef configTOTAL_HEAP_SIZE
#define configTOTAL_HEAP_SIZE                (32u * 1024u)
#endif
#define configAPPLICATION_ALLOCATED_HEAP     0

/* ---- interrupt priorities (see the opening comment) ---- */
#define configKERNEL_INTERRUPT_PRIORITY      0xFFu
#ifndef configMAX_SYSCALL_INTERRUPT_PRIORITY
#define configMAX_SYSCALL_INTERRUPT_PRIORITY 0x40u
#endif

/* ---- failures: reported on the app console, then a deliberate crash the
 * Bulwark kernel captures, logs and answers with an app restart ---- */
#define configCHECK_FOR_STACK_OVERFLOW       2
#define configUSE_MALLOC_FAILED_HOOK         1
void bw_freertos_assert_failed(const char *file, int line) __attribute__((noreturn));
#define configASSERT(x) do { if ((x) == 0) { bw_freertos_assert_failed(__FILE__, __LINE__); } } while (0)

/* ---- optional API ---- */
#define INCLUDE_vTaskPrioritySet             1
#define INCLUDE_uxTaskPriorityGet            1
#define INCLUDE_vTaskDelete                  1
#define INCLUDE_vTaskSuspend                 1
#define INCLUDE_xTaskDelayUntil              1
#define INCLUDE_vTaskDelay                   1
#define INCLUDE_xTaskGetSchedulerState       1
#define INCLUDE_xTaskGetCurrentTaskHandle    1
#define INCLUDE_uxTaskGetStackHighWaterMark  1
#define INCLUDE_xTaskGetIdleTaskHandle       1
#define INCLUDE_eTaskGetState                1
#define INCLUDE_xTimerPendFunctionCall       1
#define INCLUDE_xTaskAbortDelay              1
#define INCLUDE_xTaskGetHandle               1
#define INCLUDE_xTaskResumeFromISR           1

#endif
