/*
 * freertos-update: a FreeRTOS app installed through the update engine keeps
 * working, and so does the next one installed over it while it runs
 * (tests/qemu/run_update_test.py --scenario freertos).
 *
 * The promise (docs/DESIGN.md "FreeRTOS apps"): an install restarts the app
 * slot in place like a crash restart does, and FreeRTOS comes up as on a
 * cold boot, even though the old app's SysTick (10 kHz here) was still
 * running when the kernel tore it down: a tick left over from the old image
 * must not reach the new image's port (the SDK's SysTick guard).
 *
 * Like the local-delivery app (apps/update/main.c) it says which build it is
 * and why it started, "update-app: F version N started, wake reason R", the
 * version coming from the "BVERMARK" marker the test patches into the image,
 * so one build makes every version. Then, in each run, the checks of
 * apps/freertos-crash: SysTick on with the port's reload, PendSV/SysTick at
 * the lowest priority and SVC at the highest, tasks privileged on PSP with a
 * stack limit; ticks advance at about the configured rate; a worker task
 * runs; an auto-reload timer fires repeatedly and a one-shot timer once; a
 * notification center opens and its ISR wakes a task for exactly the tags
 * triggered; server logging can be claimed. It prints the free heap at that
 * point (the test compares versions), then "freertos-update: version N: X
 * checks, F failed"; with no failure it confirms itself healthy (ending the
 * install's trial) and logs "freertos-update: version N healthy" through
 * the kernel. Then it stays busy until the next install replaces it: a
 * spinner task that never blocks shares the worker's priority (so every tick
 * time-slices), and a heartbeat task prints every 50 ms.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "FreeRTOS.h"
#include "semphr.h"
#include "task.h"
#include "timers.h"

#include "bulwark_board.h"
#include "bulwark_ext.h"
#include "bw_freertos.h"
#include "check.h"
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
#define DELAY_TICKS  200u
#define HEARTBEAT_MS 50u

#define PRIO_CHECK     (tskIDLE_PRIORITY + 3)
#define PRIO_HEARTBEAT (tskIDLE_PRIORITY + 2)
#define PRIO_WORKER    (tskIDLE_PRIORITY + 1)
#define STACK_WORDS    512u

static const volatile struct {
    char magic[8];
    uint32_t version;
    uint32_t check;
} app_marker = { { 'B', 'V', 'E', 'R', 'M', 'A', 'R', 'K' }, 1u, ~1u };

static struct MvNotification ring[SLOTS] __attribute__((aligned(8)));
static MvNotificationHandle notify_handle;
static SemaphoreHandle_t notify_ready;
static uint8_t log_buffer[512] __attribute__((aligned(512)));
static volatile uint32_t worker_rounds, spinner_rounds, auto_fires, one_shot_fires, isr_runs;
static uint32_t version;

void IRQ64_Handler(void);
void IRQ64_Handler(void)
{
    BaseType_t woken = pdFALSE;
    isr_runs++;
    xSemaphoreGiveFromISR(notify_ready, &woken);
    portYIELD_FROM_ISR(woken);
}

static void worker_task(void *unused)
{
    (void)unused;
    for (;;) {
        worker_rounds++;
        (void)mvNoOp();
        vTaskDelay(1);
    }
}

/* Never blocks, at the worker's priority: each tick may switch tasks. */
static void spinner_task(void *unused)
{
    (void)unused;
    for (;;) {
        spinner_rounds++;
        (void)mvNoOp();
    }
}

static void heartbeat_task(void *unused)
{
    (void)unused;
    TickType_t last = xTaskGetTickCount();
    for (uint32_t beat = 1;; beat++) {
        vTaskDelayUntil(&last, pdMS_TO_TICKS(HEARTBEAT_MS));
        printf("update-app: F version %" PRIu32 " heartbeat %" PRIu32 "\n", version, beat);
    }
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

static void check_port_state(void)
{
    uint32_t reload = configCPU_CLOCK_HZ / configTICK_RATE_HZ - 1u;
    check_u32(SYST_CSR & 0x7u, 0x7u, "SysTick enabled, interrupting, on the CPU clock");
    check_u32(SYST_RVR, reload, "SysTick reload for %u Hz", (unsigned)configTICK_RATE_HZ);
    check_u32(SCB_SHPR3 >> 16, 0xFFFFu, "PendSV and SysTick at the lowest priority");
    check_u32(SCB_SHPR2 >> 24, 0u, "SVC at the highest priority");
    uint32_t control, psplim;
    __asm volatile("mrs %0, control\n mrs %1, psplim" : "=r"(control), "=r"(psplim));
    check_u32(control & 0x3u, 0x2u, "tasks run privileged on PSP");
    check_true(psplim != 0u, "0", "the task's stack limit", "PSPLIM set");
}

static void check_ticks(void)
{
    uint64_t before = 0, after = 0;
    TickType_t start = xTaskGetTickCount();
    (void)mvGetMicroseconds(&before);
    vTaskDelay(DELAY_TICKS);
    (void)mvGetMicroseconds(&after);
    uint32_t ticks = (uint32_t)(xTaskGetTickCount() - start);
    uint64_t nominal = (uint64_t)DELAY_TICKS * 1000000u / configTICK_RATE_HZ;
    check_true(ticks >= DELAY_TICKS, "fewer", ">= the delay", "vTaskDelay(%u) took %" PRIu32 " ticks",
               DELAY_TICKS, ticks);
    /* Never faster than nominal; a busy host may stretch it (no -icount). */
    char text[21];
    check_u64_between(after - before, nominal * 9u / 10u, nominal * 100u, "%u ticks took %s us (nominal %u us)",
                      DELAY_TICKS, check_u64_text(text, after - before), (unsigned)nominal);
}

static void check_notifications(void)
{
    struct MvNotificationSetup setup = { .irq = NOTIFY_IRQ, .buffer = ring, .buffer_size = sizeof ring };
    check_status(mvSetupNotifications(&setup, &notify_handle), MV_STATUS_OKAY,
                 "notification center on IRQ %u opens", NOTIFY_IRQ);
    NVIC_IPR(NOTIFY_IRQ) = NOTIFY_PRIO;
    NVIC_ICPR(NOTIFY_IRQ / 32u) = 1u << (NOTIFY_IRQ % 32u);
    NVIC_ISER(NOTIFY_IRQ / 32u) = 1u << (NOTIFY_IRQ % 32u);

    uint32_t received = 0, wrong = 0, wakes = 0, read_index = 0;
    for (uint32_t i = 0; i < TRIGGERS; i++) {
        uint32_t tag = version << 8 | i;
        if (mvTempTriggerNotification(notify_handle, MV_EVENTTYPE_CHANNELDATAREADABLE, tag) != MV_STATUS_OKAY) {
            wrong++;
        }
        if (xSemaphoreTake(notify_ready, pdMS_TO_TICKS(1000)) != pdPASS) {
            continue;
        }
        wakes++;
        volatile struct MvNotification *slot = &ring[read_index];
        while (slot->event_type != MV_EVENTTYPE_NOEVENT) {
            if (slot->tag != (version << 8 | received) || slot->event_type != MV_EVENTTYPE_CHANNELDATAREADABLE) {
                wrong++;
            }
            slot->event_type = MV_EVENTTYPE_NOEVENT;
            read_index = (read_index + 1u) % SLOTS;
            slot = &ring[read_index];
            received++;
        }
    }
    check_u32(received, TRIGGERS, "every notification arrived");
    check_u32(wakes, TRIGGERS, "the ISR woke the task once per notification");
    check_u32(wrong, 0, "tags and types right, triggers OKAY");
}

static void check_task(void *unused)
{
    (void)unused;
    printf("freertos-update: version %" PRIu32 ": scheduler started\n", version);
    check_port_state();
    uint32_t free_heap = (uint32_t)xPortGetFreeHeapSize();
    check_u32((uint32_t)uxTaskGetNumberOfTasks(), 4u, "tasks: idle, timer service, check, worker");

    TimerHandle_t periodic = xTimerCreate("auto", 10, pdTRUE, NULL, auto_timer);
    TimerHandle_t once = xTimerCreate("once", 50, pdFALSE, NULL, one_shot_timer);
    check_true(periodic != NULL && once != NULL, "NULL", "timers", "timers created");
    TickType_t timers_started = xTaskGetTickCount();
    (void)xTimerStart(periodic, 0);
    (void)xTimerStart(once, 0);
    check_ticks();
    (void)xTimerStop(periodic, 0);   /* the timer task outranks this one: stopped on return */
    uint32_t timer_ticks = (uint32_t)(xTaskGetTickCount() - timers_started);
    check_true(auto_fires + 1u >= timer_ticks / 10u && auto_fires <= timer_ticks / 10u + 1u, "other",
               "one per 10 ticks", "auto-reload timer fired %" PRIu32 " times in %" PRIu32 " ticks", auto_fires,
               timer_ticks);
    check_u32(one_shot_fires, 1, "one-shot timer fired once");
    check_true(worker_rounds > DELAY_TICKS / 2u, "few", "about one per tick", "worker task ran %" PRIu32 " rounds",
               worker_rounds);

    check_notifications();
    check_status(mvServerLoggingInit(log_buffer, sizeof log_buffer), MV_STATUS_OKAY, "server logging claimed");

    bool spinning = xTaskCreate(spinner_task, "spinner", STACK_WORDS, NULL, PRIO_WORKER, NULL) == pdPASS
                    && xTaskCreate(heartbeat_task, "heartbeat", STACK_WORDS, NULL, PRIO_HEARTBEAT, NULL) == pdPASS;
    check_true(spinning, "no", "yes", "spinner and heartbeat tasks created");
    vTaskDelay(pdMS_TO_TICKS(5));
    check_true(spinner_rounds > 0u, "0", "> 0", "spinner task runs");

    printf("freertos-update: version %" PRIu32 ": free heap %" PRIu32 " bytes after start-up\n", version,
           free_heap);
    printf("freertos-update: version %" PRIu32 ": %" PRIu32 " checks, %" PRIu32 " failed\n", version, check_total,
           check_failures);
    if (check_failures == 0u) {
        (void)bwAppConfirmHealthy();
        char message[48];
        int len = snprintf(message, sizeof message, "freertos-update: version %" PRIu32 " healthy", version);
        (void)mvServerLog((const uint8_t *)message, (uint16_t)len);
    }
    fflush(stdout);
    vTaskDelete(NULL);
}

int main(void)
{
    enum MvWakeReason reason = MV_WAKEREASON_COLDBOOT;
    enum MvStatus status = mvGetWakeReason(&reason);
    version = app_marker.version;
    printf("update-app: F version %" PRIu32 " started, wake reason %u\n", version, (unsigned)reason);
    printf("freertos-update: version %" PRIu32 ": FreeRTOS %s, tick %u Hz\n", version, tskKERNEL_VERSION_NUMBER,
           (unsigned)configTICK_RATE_HZ);
    check_status(status, MV_STATUS_OKAY, "mvGetWakeReason");
    check_u32(app_marker.check, ~app_marker.version, "version marker intact");
    check_true(reason == MV_WAKEREASON_COLDBOOT || reason == MV_WAKEREASON_APPLICATIONUPDATE, "other",
               "cold boot or update", "wake reason %u", (unsigned)reason);

    notify_ready = xSemaphoreCreateBinary();
    if (notify_ready == NULL || xTaskCreate(check_task, "check", STACK_WORDS, NULL, PRIO_CHECK, NULL) != pdPASS
        || xTaskCreate(worker_task, "worker", STACK_WORDS, NULL, PRIO_WORKER, NULL) != pdPASS) {
        check_true(false, "no", "yes", "create the semaphore and tasks");
        check_finish("freertos-update", 0, 0);
    }
    vTaskStartScheduler();
    check_true(false, "returned", "never returns", "vTaskStartScheduler");
    check_finish("freertos-update", 0, 0);
}
