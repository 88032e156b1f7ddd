/*
 * mvstyle: an app written the way the original Microvisor demos are, run
 * under Bulwark unchanged in four builds (hard or soft float; ST-style
 * start-up and newlib stubs, or the SDK's): tests/compat/CMakeLists.txt.
 *  - Interrupts reach handlers under the vendor's CMSIS names: the app's
 *    tick on TIMER0 (TIMER0_IRQHandler, like the HAL's tick on TIM6) and a
 *    notification center on the DUALTIMER line (DUALTIMER_IRQHandler, as the
 *    demos put theirs on TIM8_BRK_IRQn); the vector table's slots hold them.
 *  - Start-up did its work: .data holds its initial values and .bss is
 *    zero, at the first start and after mvRestart (the kernel restarts the
 *    app in place, without a reset); printf and malloc work (newlib stubs).
 *  - Float arithmetic in the app's float ABI.
 * Prints "ok ..." or "FAIL ..." lines and a summary; exits with the failures.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bulwark_board.h"
#include "mv_syscalls.h"

/* The an505's IRQ numbers (Arm's IRQn_Type names) and its TIMER0. */
#define TIMER0_IRQn      3u
#define DUALTIMER_IRQn   5u
#define TIMER0_BASE      0x40000000u
#define TIMER0_CTRL      (*(volatile uint32_t *)(TIMER0_BASE + 0x0u))
#define TIMER0_RELOAD    (*(volatile uint32_t *)(TIMER0_BASE + 0x8u))
#define TIMER0_INTCLEAR  (*(volatile uint32_t *)(TIMER0_BASE + 0xCu))
#define TIMER_EN_IRQEN   0x9u
#define NVIC_ISER(n)     (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_ICER(n)     (*(volatile uint32_t *)(0xE000E180u + 4u * (n)))
#define NVIC_IPR(n)      (*(volatile uint8_t *)(0xE000E400u + (n)))
#define SCB_VTOR         (*(volatile uint32_t *)0xE000ED08u)

#if defined(__ARM_FP)
#define FLOAT_ABI "hard"
#else
#define FLOAT_ABI "soft"
#endif

#define TICK_HZ          1000u
#define TICKS_WANTED     20u
#define TRIGGERS         5u
#define NOTIFY_SLOTS     8u
#define WAIT_US          2000000u

void TIMER0_IRQHandler(void);
void DUALTIMER_IRQHandler(void);
int __io_putchar(int ch);
extern const uint32_t g_pfnVectors[] __attribute__((weak));   /* ST-style start-up only */

static uint32_t data_word = 0x5EED0001u;   /* .data: this value at every start */
static uint32_t bss_word;                  /* .bss: zero at every start */
static volatile uint32_t ticks;
static struct MvNotification ring[NOTIFY_SLOTS] __attribute__((aligned(8)));
static volatile uint32_t ring_index;
static volatile uint32_t received;
static volatile uint32_t tag_errors;
static unsigned failures;
static unsigned checks;

void TIMER0_IRQHandler(void)
{
    TIMER0_INTCLEAR = 1u;
    ticks++;
}

void DUALTIMER_IRQHandler(void)
{
    while (ring[ring_index].event_type != MV_EVENTTYPE_NOEVENT) {
        if (ring[ring_index].tag != 0xC001u + received) {
            tag_errors++;
        }
        received++;
        ring[ring_index].event_type = MV_EVENTTYPE_NOEVENT;
        ring_index = (ring_index + 1u) % NOTIFY_SLOTS;
    }
}

/* ST's syscalls.c writes through this (the SDK's glue does not need it). */
int __io_putchar(int ch)
{
    char c = (char)ch;
    board_console_write(&c, 1);
    return ch;
}

static void check(int ok, const char *what, uint32_t got, uint32_t want)
{
    checks++;
    if (ok) {
        printf("ok %s\n", what);
    } else {
        failures++;
        printf("FAIL %s: got 0x%" PRIx32 " want 0x%" PRIx32 "\n", what, got, want);
    }
}

static uint64_t now_us(void)
{
    uint64_t us = 0;
    mvGetMicroseconds(&us);
    return us;
}

/* Sleeps until *counter reaches want or WAIT_US pass; the count reached. */
static uint32_t wait_for(volatile uint32_t *counter, uint32_t want)
{
    uint64_t deadline = now_us() + WAIT_US;
    while (*counter < want && now_us() < deadline) {
        __asm volatile("wfi");
    }
    return *counter;
}

static void check_vector_table(void)
{
    const uint32_t *table = (const uint32_t *)SCB_VTOR;
    int st_style = g_pfnVectors != NULL;
    printf("mvstyle: vector table at 0x%08" PRIx32 ": %s\n", (uint32_t)(uintptr_t)table,
           st_style ? "the app's own (g_pfnVectors, .isr_vector)" : "the SDK's");
    check(!st_style || table == g_pfnVectors, "VTOR is the ST start-up's table",
          (uint32_t)(uintptr_t)table, (uint32_t)(uintptr_t)g_pfnVectors);
    check(table[16 + TIMER0_IRQn] == (uint32_t)(uintptr_t)TIMER0_IRQHandler,
          "TIMER0 slot holds TIMER0_IRQHandler", table[16 + TIMER0_IRQn],
          (uint32_t)(uintptr_t)TIMER0_IRQHandler);
    check(table[16 + DUALTIMER_IRQn] == (uint32_t)(uintptr_t)DUALTIMER_IRQHandler,
          "DUALTIMER slot holds DUALTIMER_IRQHandler", table[16 + DUALTIMER_IRQn],
          (uint32_t)(uintptr_t)DUALTIMER_IRQHandler);
}

static void check_runtime(void)
{
    check(data_word == 0x5EED0001u, ".data initialised", data_word, 0x5EED0001u);
    check(bss_word == 0u, ".bss zeroed", bss_word, 0u);
    data_word++;
    bss_word = 1u;
    volatile float a = 1.25f, b = 3.5f;
    uint32_t product = (uint32_t)(a * b * 1000.0f);
    check(product == 4375u, "float arithmetic (" FLOAT_ABI " float)", product, 4375u);
    void *block = malloc(16384);
    check(block != NULL, "malloc(16384) through _sbrk", (uint32_t)(uintptr_t)block, 1u);
    free(block);
}

static void check_tick(void)
{
    ticks = 0;
    TIMER0_CTRL = 0;
    TIMER0_INTCLEAR = 1u;
    TIMER0_RELOAD = 20000000u / TICK_HZ;
    NVIC_IPR(TIMER0_IRQn) = 0x80u;
    NVIC_ISER(TIMER0_IRQn / 32u) = 1u << (TIMER0_IRQn % 32u);
    TIMER0_CTRL = TIMER_EN_IRQEN;
    uint32_t got = wait_for(&ticks, TICKS_WANTED);
    TIMER0_CTRL = 0;
    NVIC_ICER(TIMER0_IRQn / 32u) = 1u << (TIMER0_IRQn % 32u);
    check(got >= TICKS_WANTED, "TIMER0_IRQHandler ticks", got, TICKS_WANTED);
}

static void check_notifications(void)
{
    MvNotificationHandle handle = 0;
    struct MvNotificationSetup setup = {
        .irq = DUALTIMER_IRQn,
        .buffer = ring,
        .buffer_size = sizeof ring,
    };
    check(mvSetupNotifications(&setup, &handle) == MV_STATUS_OKAY,
          "notification center on DUALTIMER_IRQn", (uint32_t)handle, 1u);
    NVIC_IPR(DUALTIMER_IRQn) = 0x80u;
    NVIC_ISER(DUALTIMER_IRQn / 32u) = 1u << (DUALTIMER_IRQn % 32u);
    for (uint32_t i = 0; i < TRIGGERS; i++) {
        mvTempTriggerNotification(handle, MV_EVENTTYPE_CHANNELDATAREADABLE, 0xC001u + i);
    }
    uint32_t got = wait_for(&received, TRIGGERS);
    check(got == TRIGGERS && tag_errors == 0, "DUALTIMER_IRQHandler got every tag in order",
          got, TRIGGERS);
    mvCloseNotifications(&handle);
    NVIC_ICER(DUALTIMER_IRQn / 32u) = 1u << (DUALTIMER_IRQn % 32u);
}

int main(void)
{
    enum MvWakeReason reason = MV_WAKEREASON_COLDBOOT;
    mvGetWakeReason(&reason);
    printf("mvstyle: " FLOAT_ABI " float, wake reason %u\n", (unsigned)reason);
    check_vector_table();
    check_runtime();
    check_tick();
    check_notifications();
    printf("mvstyle: %u checks, %u failed, %" PRIu32 " ticks, %" PRIu32 " notifications\n",
           checks, failures, ticks, received);
    if (reason == MV_WAKEREASON_COLDBOOT && failures == 0) {
        fflush(stdout);
        mvRestart(MV_RESTARTMODE_AUTOAPPLYUPDATE);
    }
    board_exit(failures);
}
