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
 * so one build makes every version. Then, in each run, the checks it shares
 * with apps/freertos-crash (common/freertos_checks.c): SysTick on with the port's reload, PendSV/SysTick at
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
#include "freertos_checks.h"
#include "mv_syscalls.h"


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

static uint8_t log_buffer[512] __attribute__((aligned(512)));
static volatile uint32_t worker_rounds, spinner_rounds;
static uint32_t version;

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

static void check_task(void *unused)
{
    (void)unused;
    char label[24];
    snprintf(label, sizeof label, "version %" PRIu32, version);
    printf("freertos-update: version %" PRIu32 ": scheduler started\n", version);
    freertos_check_port_state(label);
    uint32_t free_heap = (uint32_t)xPortGetFreeHeapSize();
    check_u32((uint32_t)uxTaskGetNumberOfTasks(), 4u, "tasks: idle, timer service, check, worker");

    freertos_check_ticks_and_timers(label);
    check_true(worker_rounds > FREERTOS_CHECK_DELAY_TICKS / 2u, "few", "about one per tick", "worker task ran %" PRIu32 " rounds",
               worker_rounds);

    freertos_check_notifications(label, version);
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

    if (!freertos_checks_init() || xTaskCreate(check_task, "check", STACK_WORDS, NULL, PRIO_CHECK, NULL) != pdPASS
        || xTaskCreate(worker_task, "worker", STACK_WORDS, NULL, PRIO_WORKER, NULL) != pdPASS) {
        check_true(false, "no", "yes", "create the semaphore and tasks");
        check_finish("freertos-update", 0, 0);
    }
    vTaskStartScheduler();
    check_true(false, "returned", "never returns", "vTaskStartScheduler");
    check_finish("freertos-update", 0, 0);
}
