/*
 * The C half of the SDK's FreeRTOS glue (see bw_freertos.h): the SysTick
 * guard in front of the port's tick handler, and the failure hooks.
 *
 * The port's own handlers are compiled under other names (the build renames
 * SysTick_Handler to xPortSysTickHandler and PendSV_Handler to
 * xPortPendSVHandler in port.c/portasm.c); SVC_Handler stays the port's.
 * bw_freertos_switch.S holds the PendSV guard and the mv* call wrappers.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "FreeRTOS.h"
#include "task.h"

#include "bulwark_board.h"
#include "bw_freertos.h"

#define SYST_CSR            (*(volatile uint32_t *)0xE000E010u)
#define SCB_ICSR            (*(volatile uint32_t *)0xE000ED04u)
#define ICSR_PENDSTCLR      (1u << 25)

void xPortSysTickHandler(void);
void SysTick_Handler(void);

/* Written by the PendSV guard (bw_freertos_switch.S). */
extern volatile uint32_t bw_freertos_deferred_count;

uint32_t bw_freertos_deferred_switches(void)
{
    return bw_freertos_deferred_count;
}

void SysTick_Handler(void)
{
    uint32_t psp;
    __asm volatile("mrs %0, psp" : "=r"(psp));
    /* The kernel zeroes PSP when it (re)starts the app, and the port first
     * sets it when it starts the first task, with interrupts masked until
     * then: PSP == 0 means this tick belongs to the previous run. */
    if (psp == 0u) {
        SYST_CSR = 0u;
        SCB_ICSR = ICSR_PENDSTCLR;
        return;
    }
    xPortSysTickHandler();
}

/* Appends text to buf (size bytes, always terminated); returns the new length. */
static size_t append(char *buf, size_t size, size_t used, const char *text)
{
    while (*text != '\0' && used + 1u < size) {
        buf[used++] = *text++;
    }
    buf[used] = '\0';
    return used;
}

static size_t append_uint(char *buf, size_t size, size_t used, uint32_t value)
{
    char text[11];
    size_t start = sizeof text - 1u;
    text[start] = '\0';
    do {
        text[--start] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    return append(buf, size, used, &text[start]);
}

/* Masks every app interrupt and writes one line without printf (which may
 * hold a lock or be mid-line in the task that failed); the line starts with
 * a newline in case the console was mid-line. */
static void report(const char *what, const char *detail, const char *file, int line)
{
    __asm volatile("cpsid i" : : : "memory");
    char text[128];
    size_t used = append(text, sizeof text, 0, "\nFreeRTOS ");
    used = append(text, sizeof text, used, what);
    if (detail != NULL) {
        used = append(text, sizeof text, used, detail);
    }
    if (file != NULL) {
        const char *base = strrchr(file, '/');
        used = append(text, sizeof text, used, base != NULL ? base + 1 : file);
        used = append(text, sizeof text, used, ":");
        used = append_uint(text, sizeof text, used, (uint32_t)line);
    }
    used = append(text, sizeof text, used, "\n");
    board_console_write(text, used);
}

void bw_freertos_assert_failed(const char *file, int line)
{
    report("assert failed: ", NULL, file, line);
    for (;;) {
        __asm volatile("udf %0" : : "i"(BW_FREERTOS_UDF_ASSERT));
    }
}

__attribute__((weak)) void vApplicationStackOverflowHook(TaskHandle_t task, char *name)
{
    (void)task;
    report("stack overflow in task ", name, NULL, 0);
    for (;;) {
        __asm volatile("udf %0" : : "i"(BW_FREERTOS_UDF_STACK_OVERFLOW));
    }
}

__attribute__((weak)) void vApplicationMallocFailedHook(void)
{
    report("heap exhausted (pvPortMalloc failed)", NULL, NULL, 0);
    for (;;) {
        __asm volatile("udf %0" : : "i"(BW_FREERTOS_UDF_MALLOC_FAILED));
    }
}
