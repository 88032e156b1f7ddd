/*
 * freertos-demo: the shape of a FreeRTOS app on Bulwark.
 *
 * - blink: toggles the board's LED (on qemu-an505 LED1, a register the
 *   kernel mediates: mvPeriphPoke32/mvPeriphPeek32) and says so;
 * - logger: claims a log buffer once (mvServerLoggingInit), then sends its
 *   counts to the cloud log every LOG_PERIOD_MS (mvServerLog; the kernel
 *   console shows them as [app-log]);
 * - a software timer calls mvTempTriggerNotification every TRIGGER_PERIOD_MS:
 *   a stand-in for the kernel's own events (channel data, network status);
 * - waiter: blocks on a binary semaphore that the notification center's
 *   interrupt handler gives (xSemaphoreGiveFromISR + portYIELD_FROM_ISR),
 *   then reads the records from the ring in task context.
 * That last part is the pattern every cloud-using FreeRTOS app follows: the
 * ISR only wakes a task; the task does the work and calls the kernel.
 * After DEMO_CYCLES notifications the demo prints a summary and ends (on the
 * emulator, QEMU exits with 0 if everything arrived in order).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "FreeRTOS.h"
#include "semphr.h"
#include "task.h"
#include "timers.h"

#include "bulwark_board.h"
#include "bw_freertos.h"
#include "demo_board.h"
#include "mv_syscalls.h"

#define DEMO_CYCLES        10u
#define TRIGGER_PERIOD_MS  250u
#define BLINK_PERIOD_MS    200u
#define LOG_PERIOD_MS      500u
#define TAG_BASE           0xD000u
#define NOTIFY_SLOTS       8u
#define NOTIFY_PRIORITY    0x80u   /* FreeRTOS-aware band (see FreeRTOSConfig.h) */

#define PRIORITY_BLINK     (tskIDLE_PRIORITY + 1)
#define PRIORITY_LOGGER    (tskIDLE_PRIORITY + 2)
#define PRIORITY_WAITER    (tskIDLE_PRIORITY + 3)

#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_ICPR(n) (*(volatile uint32_t *)(0xE000E280u + 4u * (n)))
#define NVIC_IPR(n)  (*(volatile uint8_t *)(0xE000E400u + (n)))

static volatile struct MvNotification ring[NOTIFY_SLOTS] __attribute__((aligned(8)));
static MvNotificationHandle notify_handle;
static SemaphoreHandle_t notify_ready;   /* given by the ISR */
static SemaphoreHandle_t console_lock;
static uint8_t log_buffer[512] __attribute__((aligned(512)));

static volatile uint32_t blinks, triggers, isr_runs, wakes, received, logs_sent;
static volatile uint32_t errors;

/* One console line, whole, from any task (printf is not shared safely
 * between tasks; each line is formatted on the caller's stack). */
static void say(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *format, ...)
{
    char line[128];
    va_list args;
    va_start(args, format);
    int len = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (len < 0) {
        return;
    }
    size_t size = (size_t)len < sizeof line ? (size_t)len : sizeof line - 1u;
    bool running = xTaskGetSchedulerState() == taskSCHEDULER_RUNNING;
    if (running) {
        xSemaphoreTake(console_lock, portMAX_DELAY);
    }
    board_console_write(line, size);
    if (running) {
        xSemaphoreGive(console_lock);
    }
}

static uint32_t uptime_ms(void)
{
    return (uint32_t)(xTaskGetTickCount() * portTICK_PERIOD_MS);
}

/* The notification center's interrupt: wake the waiter, nothing else. */
void demo_notify_isr(void)
{
    BaseType_t woken = pdFALSE;
    isr_runs++;
    xSemaphoreGiveFromISR(notify_ready, &woken);
    portYIELD_FROM_ISR(woken);
}

static void finish(void)
{
    bool ok = errors == 0 && received == DEMO_CYCLES;
    vTaskSuspendAll();
    MvNotificationHandle handle = notify_handle;
    enum MvStatus closed = mvCloseNotifications(&handle);
    char line[200];
    int len = snprintf(line, sizeof line,
        "freertos-demo: %" PRIu32 " of %" PRIu32 " notifications in order, %" PRIu32 " wakes, "
        "%" PRIu32 " blinks, %" PRIu32 " logs, %" PRIu32 " task switches deferred in kernel calls, "
        "%" PRIu32 " errors; close %s\n"
        "freertos-demo: %s after %" PRIu32 " ms\n",
        received, (uint32_t)DEMO_CYCLES, wakes, blinks, logs_sent, bw_freertos_deferred_switches(), errors,
        closed == MV_STATUS_OKAY ? "OKAY" : "failed", ok ? "done" : "FAILED", uptime_ms());
    board_console_write(line, len < 0 ? 0u : (size_t)len < sizeof line ? (size_t)len : sizeof line - 1u);
    board_exit(ok && closed == MV_STATUS_OKAY ? 0u : 1u);
}

static void waiter_task(void *unused)
{
    (void)unused;
    uint32_t read_index = 0;
    for (;;) {
        xSemaphoreTake(notify_ready, portMAX_DELAY);
        wakes++;
        volatile struct MvNotification *slot = &ring[read_index];
        while (slot->event_type != MV_EVENTTYPE_NOEVENT) {
            uint32_t tag = slot->tag;
            bool right = slot->event_type == MV_EVENTTYPE_CHANNELDATAREADABLE
                && tag == TAG_BASE + received + 1u;
            slot->event_type = MV_EVENTTYPE_NOEVENT;   /* the slot is the kernel's again */
            read_index = (read_index + 1u) % NOTIFY_SLOTS;
            slot = &ring[read_index];
            received++;
            if (!right) {
                errors++;
            }
            say("waiter: woken by the notification ISR: tag 0x%04" PRIx32 "%s\n", tag,
                right ? "" : " (unexpected)");
        }
        if (received >= DEMO_CYCLES) {
            finish();
        }
    }
}

static void trigger_callback(TimerHandle_t timer)
{
    uint32_t tag = TAG_BASE + triggers + 1u;
    enum MvStatus status = mvTempTriggerNotification(notify_handle, MV_EVENTTYPE_CHANNELDATAREADABLE, tag);
    triggers++;
    if (status != MV_STATUS_OKAY) {
        errors++;
        say("timer: mvTempTriggerNotification failed: 0x%" PRIx32 "\n", (uint32_t)status);
    }
    if (triggers == DEMO_CYCLES) {
        xTimerStop(timer, 0);
    }
}

static void blink_task(void *unused)
{
    (void)unused;
    bool on = false;
    TickType_t wake = xTaskGetTickCount();
    for (;;) {
        on = !on;
        bool lit = false;
        enum MvStatus status = demo_led_set(on, &lit);
        blinks++;
        if (status != MV_STATUS_OKAY || lit != on) {
            errors++;
        }
        say("blink: LED %s\n", lit ? "on" : "off");
        xTaskDelayUntil(&wake, pdMS_TO_TICKS(BLINK_PERIOD_MS));
    }
}

static void logger_task(void *unused)
{
    (void)unused;
    enum MvStatus status = mvServerLoggingInit(log_buffer, sizeof log_buffer);
    say("logger: mvServerLoggingInit -> 0x%" PRIx32 "\n", (uint32_t)status);
    if (status != MV_STATUS_OKAY) {
        errors++;
    }
    TickType_t wake = xTaskGetTickCount();
    for (;;) {
        xTaskDelayUntil(&wake, pdMS_TO_TICKS(LOG_PERIOD_MS));
        char message[96];
        int len = snprintf(message, sizeof message,
            "freertos-demo: %" PRIu32 " ms, %" PRIu32 " blinks, %" PRIu32 " notifications, %" PRIu32 " wakes",
            uptime_ms(), blinks, received, wakes);
        status = mvServerLog((const uint8_t *)message, (uint16_t)len);
        logs_sent++;
        if (status != MV_STATUS_OKAY) {
            errors++;
            say("logger: mvServerLog -> 0x%" PRIx32 "\n", (uint32_t)status);
        }
    }
}

static void fail(const char *what, uint32_t status)
{
    printf("freertos-demo: %s failed (0x%" PRIx32 ")\n", what, status);
    fflush(stdout);
    board_exit(1);
}

int main(void)
{
    enum MvWakeReason reason = MV_WAKEREASON_COLDBOOT;
    (void)mvGetWakeReason(&reason);
    say("freertos-demo: FreeRTOS %s on Bulwark, wake reason %u\n", tskKERNEL_VERSION_NUMBER,
        (unsigned)reason);

    console_lock = xSemaphoreCreateMutex();
    notify_ready = xSemaphoreCreateBinary();
    if (console_lock == NULL || notify_ready == NULL) {
        fail("creating the semaphores", 0);
    }

    struct MvNotificationSetup setup = {
        .irq = demo_notify_irq, .buffer = (struct MvNotification *)ring, .buffer_size = sizeof ring,
    };
    enum MvStatus status = mvSetupNotifications(&setup, &notify_handle);
    if (status != MV_STATUS_OKAY) {
        fail("mvSetupNotifications", (uint32_t)status);
    }
    NVIC_IPR(demo_notify_irq) = NOTIFY_PRIORITY;
    NVIC_ICPR(demo_notify_irq / 32u) = 1u << (demo_notify_irq % 32u);
    NVIC_ISER(demo_notify_irq / 32u) = 1u << (demo_notify_irq % 32u);

    status = demo_led_init();
    if (status != MV_STATUS_OKAY) {
        fail("LED set-up", (uint32_t)status);
    }

    TimerHandle_t trigger = xTimerCreate("trigger", pdMS_TO_TICKS(TRIGGER_PERIOD_MS), pdTRUE, NULL,
                                         trigger_callback);
    if (trigger == NULL || xTimerStart(trigger, 0) != pdPASS
        || xTaskCreate(blink_task, "blink", configMINIMAL_STACK_SIZE * 2, NULL, PRIORITY_BLINK, NULL) != pdPASS
        || xTaskCreate(logger_task, "logger", configMINIMAL_STACK_SIZE * 2, NULL, PRIORITY_LOGGER, NULL) != pdPASS
        || xTaskCreate(waiter_task, "waiter", configMINIMAL_STACK_SIZE * 2, NULL, PRIORITY_WAITER, NULL) != pdPASS) {
        fail("creating the tasks and the timer", 0);
    }
    vTaskStartScheduler();
    fail("vTaskStartScheduler returned", 0);
}
