/*
 * Checks that FreeRTOS came up whole in this run of a test app (after a cold
 * boot, a crash restart or an install): the port's SysTick, priorities and
 * stacks; ticks at the configured rate; timers; a notification center whose
 * ISR wakes a task for exactly the tags triggered. Shared by freertos-crash
 * and freertos-update. Each check goes through check.h; `label` ("run 2",
 * "version 3") starts every message.
 */
#ifndef FREERTOS_CHECKS_H
#define FREERTOS_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#define FREERTOS_CHECK_DELAY_TICKS 200u   /* how long the tick check waits */

/* Creates what the checks need (the ISR's semaphore); before the scheduler starts. */
bool freertos_checks_init(void);

/* SysTick on with the port's reload; PendSV/SysTick lowest, SVC highest;
 * the calling task privileged on PSP with a stack limit. */
void freertos_check_port_state(const char *label);

/* An auto-reload and a one-shot timer run while the calling task sleeps
 * FREERTOS_CHECK_DELAY_TICKS ticks, which must take about their nominal time. */
void freertos_check_ticks_and_timers(const char *label);

/* Opens a notification center on IRQ 64 (handled here) and triggers a few
 * notifications tagged tag_base << 8 | i: each must wake the task once, in order. */
void freertos_check_notifications(const char *label, uint32_t tag_base);

#endif
