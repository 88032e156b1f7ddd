/*
 * freertos-crash: a FreeRTOS app whose task crashes is restarted cleanly.
 *
 * The promise (docs/DESIGN.md "FreeRTOS apps"): the kernel restarts a
 * crashed app in place, without a chip reset, and FreeRTOS comes up again as
 * on a cold boot: the scheduler, tasks, software timers, the heap, its
 * notification center and the SysTick all work, PendSV/SysTick/SVC have the
 * port's priorities, and a tick left over from the crashed run (the kernel
 * cannot stop the app's SysTick, and it runs at 10 kHz here) does no harm:
 * the crashing task shares its priority with a task that never blocks, so a
 * stale tick handled by the port would switch tasks on the dead run's state
 * (without the SDK's SysTick guard that crashes the new run, often
 * repeatedly: measured, up to 13 extra crashes per restart).
 *
 * Three runs, counted in .noinit:
 *   run 1 (cold boot): the checks below, then a task writes to kernel RAM
 *     (SecureFault) while the others are busy;
 *   run 2 (wake reason APPLICATIONCRASH): the checks again, then a task
 *     fails a configASSERT (the SDK's hook prints the failure, then crashes);
 *   run 3 (APPLICATIONCRASH): the checks again; the program ends with the
 *     total of all three runs.
 * Checks in each run: the wake reason; SysTick enabled with the port's
 * reload; PendSV and SysTick at 0xFF, SVC at 0; ticks advance at about the
 * configured rate (against mvGetMicroseconds); a worker task runs; an
 * auto-reload timer fires repeatedly and a one-shot timer once; the heap has
 * as much free space as at the same point of run 1; a notification center on
 * the same IRQ as before opens, and its ISR wakes a task (binary semaphore)
 * for exactly the tags triggered; server logging can be claimed again.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "FreeRTOS.h"
#include "semphr.h"
#include "task.h"
#include "timers.h"

#include "bulwark_board.h"
#include "bw_freertos.h"
#include "check.h"
#include "memory_map.h"
#include "freertos_checks.h"
#include "mv_syscalls.h"


#define KERNEL_RAM   BOARD_KERNEL_RAM_BASE
#define RUNS         3u
#define RUN_MAGIC    0x46524352u   /* "FRCR" */

#define PRIO_CHECK   (tskIDLE_PRIORITY + 3)
#define PRIO_WORKER  (tskIDLE_PRIORITY + 1)
#define STACK_WORDS  512u

/* Survives the in-place restart (not zeroed by the start-up code). */
typedef struct run_record {
    uint32_t magic;
    uint32_t run;               /* 1.. */
    uint32_t checks, failures;  /* of the earlier runs */
    uint32_t free_heap;         /* at the same point of run 1 */
} run_record;
static run_record saved __attribute__((section(".noinit")));

static uint8_t log_buffer[512] __attribute__((aligned(512)));
static volatile uint32_t worker_rounds;
static uint32_t run;

static void worker_task(void *unused)
{
    (void)unused;
    for (;;) {
        worker_rounds++;
        (void)mvNoOp();
        vTaskDelay(1);
    }
}

/* Shares the crasher's priority and never blocks: at the crash, the old run
 * has two ready tasks at that priority, so a stale tick taken by the port's
 * handler would time-slice and switch tasks on a dead run's state. */
static void spinner_task(void *unused)
{
    (void)unused;
    for (;;) {
        (void)mvNoOp();
    }
}

/* Crashes of runs 1 and 2, each from its own task while the others run. */
static void crasher_task(void *unused)
{
    (void)unused;
    vTaskDelay(5);
    if (run == 1u) {
        printf("freertos-crash: run 1: a task writes to kernel RAM\n");
        fflush(stdout);
        *(volatile uint32_t *)KERNEL_RAM = 0xDEADBEEFu;
    } else {
        printf("freertos-crash: run 2: a task fails a configASSERT\n");
        fflush(stdout);
        configASSERT(worker_rounds == 0xFFFFFFFFu);
    }
    check_true(false, "returned", "a crash", "run %" PRIu32 ": the crash happened", run);
    check_finish("freertos-crash", saved.checks, saved.failures);
}

static void check_task(void *unused)
{
    (void)unused;
    char label[24];
    snprintf(label, sizeof label, "run %" PRIu32, run);
    printf("freertos-crash: run %" PRIu32 ": scheduler started\n", run);
    freertos_check_port_state(label);
    uint32_t free_heap = (uint32_t)xPortGetFreeHeapSize();
    if (run == 1u) {
        saved.free_heap = free_heap;
    }
    check_u32(free_heap, saved.free_heap, "run %" PRIu32 ": free heap as in run 1", run);
    check_u32((uint32_t)uxTaskGetNumberOfTasks(), 4u, "run %" PRIu32 ": tasks: idle, timer service, check, worker",
              run);

    freertos_check_ticks_and_timers(label);
    check_true(worker_rounds > FREERTOS_CHECK_DELAY_TICKS / 2u, "few", "about one per tick",
               "run %" PRIu32 ": worker task ran %" PRIu32 " rounds", run, worker_rounds);

    freertos_check_notifications(label, run);
    check_status(mvServerLoggingInit(log_buffer, sizeof log_buffer), MV_STATUS_OKAY,
                 "run %" PRIu32 ": server logging claimed again", run);
    char message[48];
    int len = snprintf(message, sizeof message, "freertos-crash: run %" PRIu32 " healthy", run);
    check_status(mvServerLog((const uint8_t *)message, (uint16_t)len), MV_STATUS_OKAY,
                 "run %" PRIu32 ": server log", run);

    if (run == RUNS) {
        check_finish("freertos-crash", saved.checks, saved.failures);
    }
    saved.checks += check_total;
    saved.failures += check_failures;
    saved.run = run + 1u;
    check_total = 0;
    check_failures = 0;
    printf("freertos-crash: run %" PRIu32 ": checks done, now the crash\n", run);
    fflush(stdout);
    if (xTaskCreate(spinner_task, "spinner", STACK_WORDS, NULL, PRIO_WORKER, NULL) != pdPASS
        || xTaskCreate(crasher_task, "crasher", STACK_WORDS, NULL, PRIO_WORKER, NULL) != pdPASS) {
        check_true(false, "no", "yes", "run %" PRIu32 ": create the spinner and crasher tasks", run);
        check_finish("freertos-crash", saved.checks, saved.failures);
    }
    vTaskDelete(NULL);
}

int main(void)
{
    enum MvWakeReason reason = MV_WAKEREASON_COLDBOOT;
    enum MvStatus status = mvGetWakeReason(&reason);
    if (reason == MV_WAKEREASON_COLDBOOT || saved.magic != RUN_MAGIC || saved.run < 2u || saved.run > RUNS) {
        saved = (run_record){ .magic = RUN_MAGIC, .run = 1u };
    }
    run = saved.run;
    printf("freertos-crash: run %" PRIu32 " of %u, wake reason %u, tick %u Hz\n", run, RUNS, (unsigned)reason,
           (unsigned)configTICK_RATE_HZ);
    check_status(status, MV_STATUS_OKAY, "run %" PRIu32 ": mvGetWakeReason", run);
    check_u32((uint32_t)reason, run == 1u ? MV_WAKEREASON_COLDBOOT : MV_WAKEREASON_APPLICATIONCRASH,
              "run %" PRIu32 ": wake reason", run);

    if (!freertos_checks_init()
        || xTaskCreate(check_task, "check", STACK_WORDS, NULL, PRIO_CHECK, NULL) != pdPASS
        || xTaskCreate(worker_task, "worker", STACK_WORDS, NULL, PRIO_WORKER, NULL) != pdPASS) {
        check_true(false, "no", "yes", "run %" PRIu32 ": create the semaphore and tasks", run);
        check_finish("freertos-crash", saved.checks, saved.failures);
    }
    vTaskStartScheduler();
    check_true(false, "returned", "never returns", "vTaskStartScheduler");
    check_finish("freertos-crash", saved.checks, saved.failures);
}
