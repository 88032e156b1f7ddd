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
#include "mv_syscalls.h"

#define SYST_CSR     (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR     (*(volatile uint32_t *)0xE000E014u)
#define SCB_SHPR2    (*(volatile uint32_t *)0xE000ED1Cu)
#define SCB_SHPR3    (*(volatile uint32_t *)0xE000ED20u)
#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_ICPR(n) (*(volatile uint32_t *)(0xE000E280u + 4u * (n)))
#define NVIC_IPR(n)  (*(volatile uint8_t *)(0xE000E400u + (n)))

#define KERNEL_RAM   0x38000000u
#define NOTIFY_IRQ   64u
#define NOTIFY_PRIO  0x80u
#define SLOTS        8u
#define TRIGGERS     5u
#define RUNS         3u
#define RUN_MAGIC    0x46524352u   /* "FRCR" */
#define DELAY_TICKS  200u

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

static struct MvNotification ring[SLOTS] __attribute__((aligned(8)));
static MvNotificationHandle notify_handle;
static SemaphoreHandle_t notify_ready;
static uint8_t log_buffer[512] __attribute__((aligned(512)));
static volatile uint32_t worker_rounds, auto_fires, one_shot_fires, isr_runs;
static uint32_t run;

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

static void check_port_state(void)
{
    uint32_t reload = configCPU_CLOCK_HZ / configTICK_RATE_HZ - 1u;
    check_u32(SYST_CSR & 0x7u, 0x7u, "run %" PRIu32 ": SysTick enabled, interrupting, on the CPU clock", run);
    check_u32(SYST_RVR, reload, "run %" PRIu32 ": SysTick reload for %u Hz", run, (unsigned)configTICK_RATE_HZ);
    check_u32(SCB_SHPR3 >> 16, 0xFFFFu, "run %" PRIu32 ": PendSV and SysTick at the lowest priority", run);
    check_u32(SCB_SHPR2 >> 24, 0u, "run %" PRIu32 ": SVC at the highest priority", run);
    uint32_t control, psplim;
    __asm volatile("mrs %0, control\n mrs %1, psplim" : "=r"(control), "=r"(psplim));
    check_u32(control & 0x3u, 0x2u, "run %" PRIu32 ": tasks run privileged on PSP", run);
    check_true(psplim != 0u, "0", "the task's stack limit", "run %" PRIu32 ": PSPLIM set", run);
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
    check_true(ticks >= DELAY_TICKS, "fewer", ">= the delay", "run %" PRIu32 ": vTaskDelay(%u) took %" PRIu32 " ticks",
               run, DELAY_TICKS, ticks);
    /* The rate itself is pinned by the reload checked above. Guest time is
     * host time on QEMU without -icount: a busy host stretches it and QEMU
     * merges SysTick periods it was late for; but never faster than nominal. */
    char text[21];
    check_u64_between(after - before, nominal * 9u / 10u, nominal * 100u,
                      "run %" PRIu32 ": %u ticks took %s us (nominal %u us)", run, DELAY_TICKS,
                      check_u64_text(text, after - before), (unsigned)nominal);
}

static void check_notifications(void)
{
    struct MvNotificationSetup setup = { .irq = NOTIFY_IRQ, .buffer = ring, .buffer_size = sizeof ring };
    check_status(mvSetupNotifications(&setup, &notify_handle), MV_STATUS_OKAY,
                 "run %" PRIu32 ": notification center on IRQ %u opens again", run, NOTIFY_IRQ);
    NVIC_IPR(NOTIFY_IRQ) = NOTIFY_PRIO;
    NVIC_ICPR(NOTIFY_IRQ / 32u) = 1u << (NOTIFY_IRQ % 32u);
    NVIC_ISER(NOTIFY_IRQ / 32u) = 1u << (NOTIFY_IRQ % 32u);

    uint32_t received = 0, wrong = 0, wakes = 0, read_index = 0;
    for (uint32_t i = 0; i < TRIGGERS; i++) {
        uint32_t tag = run << 8 | i;
        if (mvTempTriggerNotification(notify_handle, MV_EVENTTYPE_CHANNELDATAREADABLE, tag) != MV_STATUS_OKAY) {
            wrong++;
        }
        if (xSemaphoreTake(notify_ready, pdMS_TO_TICKS(1000)) != pdPASS) {
            continue;
        }
        wakes++;
        volatile struct MvNotification *slot = &ring[read_index];
        while (slot->event_type != MV_EVENTTYPE_NOEVENT) {
            if (slot->tag != (run << 8 | received) || slot->event_type != MV_EVENTTYPE_CHANNELDATAREADABLE) {
                wrong++;
            }
            slot->event_type = MV_EVENTTYPE_NOEVENT;
            read_index = (read_index + 1u) % SLOTS;
            slot = &ring[read_index];
            received++;
        }
    }
    check_u32(received, TRIGGERS, "run %" PRIu32 ": every notification arrived", run);
    check_u32(wakes, TRIGGERS, "run %" PRIu32 ": the ISR woke the task once per notification", run);
    check_u32(wrong, 0, "run %" PRIu32 ": tags and types right, triggers OKAY", run);
}

static void check_task(void *unused)
{
    (void)unused;
    printf("freertos-crash: run %" PRIu32 ": scheduler started\n", run);
    check_port_state();
    uint32_t free_heap = (uint32_t)xPortGetFreeHeapSize();
    if (run == 1u) {
        saved.free_heap = free_heap;
    }
    check_u32(free_heap, saved.free_heap, "run %" PRIu32 ": free heap as in run 1", run);
    check_u32((uint32_t)uxTaskGetNumberOfTasks(), 4u, "run %" PRIu32 ": tasks: idle, timer service, check, worker",
              run);

    TimerHandle_t periodic = xTimerCreate("auto", 10, pdTRUE, NULL, auto_timer);
    TimerHandle_t once = xTimerCreate("once", 50, pdFALSE, NULL, one_shot_timer);
    check_true(periodic != NULL && once != NULL, "NULL", "timers", "run %" PRIu32 ": timers created", run);
    TickType_t timers_started = xTaskGetTickCount();
    (void)xTimerStart(periodic, 0);
    (void)xTimerStart(once, 0);
    check_ticks();
    (void)xTimerStop(periodic, 0);   /* the timer task outranks this one: stopped on return */
    uint32_t timer_ticks = (uint32_t)(xTaskGetTickCount() - timers_started);
    check_true(auto_fires + 1u >= timer_ticks / 10u && auto_fires <= timer_ticks / 10u + 1u, "other",
               "one per 10 ticks", "run %" PRIu32 ": auto-reload timer fired %" PRIu32 " times in %" PRIu32
               " ticks", run, auto_fires, timer_ticks);
    check_u32(one_shot_fires, 1, "run %" PRIu32 ": one-shot timer fired once", run);
    check_true(worker_rounds > DELAY_TICKS / 2u, "few", "about one per tick",
               "run %" PRIu32 ": worker task ran %" PRIu32 " rounds", run, worker_rounds);

    check_notifications();
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

    notify_ready = xSemaphoreCreateBinary();
    if (notify_ready == NULL
        || xTaskCreate(check_task, "check", STACK_WORDS, NULL, PRIO_CHECK, NULL) != pdPASS
        || xTaskCreate(worker_task, "worker", STACK_WORDS, NULL, PRIO_WORKER, NULL) != pdPASS) {
        check_true(false, "no", "yes", "run %" PRIu32 ": create the semaphore and tasks", run);
        check_finish("freertos-crash", saved.checks, saved.failures);
    }
    vTaskStartScheduler();
    check_true(false, "returned", "never returns", "vTaskStartScheduler");
    check_finish("freertos-crash", saved.checks, saved.failures);
}
