/* Per-run FreeRTOS checks (freertos_checks.h). */
#include <inttypes.h>
#include <stdio.h>

#include "FreeRTOS.h"
#include "semphr.h"
#include "task.h"
#include "timers.h"

#include "check.h"
#include "freertos_checks.h"
#include "mv_syscalls.h"

#define SYST_CSR     (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR     (*(volatile uint32_t *)0xE000E014u)
#define SCB_SHPR2    (*(volatile uint32_t *)0xE000ED1Cu)
#define SCB_SHPR3    (*(volatile uint32_t *)0xE000ED20u)
#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_ICPR(n) (*(volatile uint32_t *)(0xE000E280u + 4u * (n)))
#define NVIC_IPR(n)  (*(volatile uint8_t *)(0xE000E400u + (n)))

#define NOTIFY_IRQ   64u
#define NOTIFY_PRIO  0x80u
#define SLOTS        8u
#define TRIGGERS     5u

static struct MvNotification ring[SLOTS] __attribute__((aligned(8)));
static MvNotificationHandle notify_handle;
static SemaphoreHandle_t notify_ready;
static volatile uint32_t auto_fires, one_shot_fires;

void IRQ64_Handler(void);
void IRQ64_Handler(void)
{
    BaseType_t woken = pdFALSE;
    xSemaphoreGiveFromISR(notify_ready, &woken);
    portYIELD_FROM_ISR(woken);
}

static void auto_timer(TimerHandle_t timer)
{
    (void)timer;
    auto_fires++;
}

static void one_shot_timer(TimerHandle_t timer)
{
    (void)timer;
    one_shot_fires++;
}

bool freertos_checks_init(void)
{
    notify_ready = xSemaphoreCreateBinary();
    return notify_ready != NULL;
}

void freertos_check_port_state(const char *label)
{
    uint32_t reload = configCPU_CLOCK_HZ / configTICK_RATE_HZ - 1u;
    check_u32(SYST_CSR & 0x7u, 0x7u, "%s: SysTick enabled, interrupting, on the CPU clock", label);
    check_u32(SYST_RVR, reload, "%s: SysTick reload for %u Hz", label, (unsigned)configTICK_RATE_HZ);
    check_u32(SCB_SHPR3 >> 16, 0xFFFFu, "%s: PendSV and SysTick at the lowest priority", label);
    check_u32(SCB_SHPR2 >> 24, 0u, "%s: SVC at the highest priority", label);
    uint32_t control, psplim;
    __asm volatile("mrs %0, control\n mrs %1, psplim" : "=r"(control), "=r"(psplim));
    check_u32(control & 0x3u, 0x2u, "%s: tasks run privileged on PSP", label);
    check_true(psplim != 0u, "0", "the task's stack limit", "%s: PSPLIM set", label);
}

static void check_ticks(const char *label)
{
    uint64_t before = 0, after = 0;
    TickType_t start = xTaskGetTickCount();
    (void)mvGetMicroseconds(&before);
    vTaskDelay(FREERTOS_CHECK_DELAY_TICKS);
    (void)mvGetMicroseconds(&after);
    uint32_t ticks = (uint32_t)(xTaskGetTickCount() - start);
    uint64_t nominal = (uint64_t)FREERTOS_CHECK_DELAY_TICKS * 1000000u / configTICK_RATE_HZ;
    check_true(ticks >= FREERTOS_CHECK_DELAY_TICKS, "fewer", ">= the delay",
               "%s: vTaskDelay(%u) took %" PRIu32 " ticks", label, FREERTOS_CHECK_DELAY_TICKS, ticks);
    /* The rate itself is pinned by the reload checked above. Guest time is
     * host time on QEMU without -icount: a busy host stretches it and QEMU
     * merges SysTick periods it was late for; but never faster than nominal. */
    char text[21];
    check_u64_between(after - before, nominal * 9u / 10u, nominal * 100u,
                      "%s: %u ticks took %s us (nominal %u us)", label, FREERTOS_CHECK_DELAY_TICKS,
                      check_u64_text(text, after - before), (unsigned)nominal);
}

void freertos_check_ticks_and_timers(const char *label)
{
    TimerHandle_t periodic = xTimerCreate("auto", 10, pdTRUE, NULL, auto_timer);
    TimerHandle_t once = xTimerCreate("once", 50, pdFALSE, NULL, one_shot_timer);
    check_true(periodic != NULL && once != NULL, "NULL", "timers", "%s: timers created", label);
    TickType_t timers_started = xTaskGetTickCount();
    (void)xTimerStart(periodic, 0);
    (void)xTimerStart(once, 0);
    check_ticks(label);
    (void)xTimerStop(periodic, 0);   /* the timer task outranks this one: stopped on return */
    uint32_t timer_ticks = (uint32_t)(xTaskGetTickCount() - timers_started);
    check_true(auto_fires + 1u >= timer_ticks / 10u && auto_fires <= timer_ticks / 10u + 1u, "other",
               "one per 10 ticks", "%s: auto-reload timer fired %" PRIu32 " times in %" PRIu32 " ticks",
               label, auto_fires, timer_ticks);
    check_u32(one_shot_fires, 1, "%s: one-shot timer fired once", label);
}

void freertos_check_notifications(const char *label, uint32_t tag_base)
{
    struct MvNotificationSetup setup = { .irq = NOTIFY_IRQ, .buffer = ring, .buffer_size = sizeof ring };
    check_status(mvSetupNotifications(&setup, &notify_handle), MV_STATUS_OKAY,
                 "%s: notification center on IRQ %u opens", label, NOTIFY_IRQ);
    NVIC_IPR(NOTIFY_IRQ) = NOTIFY_PRIO;
    NVIC_ICPR(NOTIFY_IRQ / 32u) = 1u << (NOTIFY_IRQ % 32u);
    NVIC_ISER(NOTIFY_IRQ / 32u) = 1u << (NOTIFY_IRQ % 32u);

    uint32_t received = 0, wrong = 0, wakes = 0, read_index = 0;
    for (uint32_t i = 0; i < TRIGGERS; i++) {
        uint32_t tag = tag_base << 8 | i;
        if (mvTempTriggerNotification(notify_handle, MV_EVENTTYPE_CHANNELDATAREADABLE, tag) != MV_STATUS_OKAY) {
            wrong++;
        }
        if (xSemaphoreTake(notify_ready, pdMS_TO_TICKS(1000)) != pdPASS) {
            continue;
        }
        wakes++;
        volatile struct MvNotification *slot = &ring[read_index];
        while (slot->event_type != MV_EVENTTYPE_NOEVENT) {
            if (slot->tag != (tag_base << 8 | received) || slot->event_type != MV_EVENTTYPE_CHANNELDATAREADABLE) {
                wrong++;
            }
            slot->event_type = MV_EVENTTYPE_NOEVENT;
            read_index = (read_index + 1u) % SLOTS;
            slot = &ring[read_index];
            received++;
        }
    }
    check_u32(received, TRIGGERS, "%s: every notification arrived", label);
    check_u32(wakes, TRIGGERS, "%s: the ISR woke the task once per notification", label);
    check_u32(wrong, 0, "%s: tags and types right, triggers OKAY", label);
}
