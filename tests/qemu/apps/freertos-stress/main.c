/*
 * freertos-stress: system calls stay exact under FreeRTOS preemption.
 *
 * The promise (bw_syscalls.h, bw_freertos.h): tasks switched at a 10 kHz
 * tick, time-sliced among equal priorities, and interrupts that preempt
 * kernel calls and make kernel calls themselves, never lose, duplicate,
 * reorder or corrupt a result.
 *
 * Four producer tasks (priorities 4, 2, 2, 1: two of them time-slice) each
 * make PRODUCER_CALLS rounds of: mvTempTriggerNotification on center A with
 * tag (producer << 24 | round), mvGetMicroseconds (must never go back in that
 * task), mvNoOp, mvPeriphPeek32 of the buttons (0) and of the 100 Hz counter
 * (never goes back), and every 16th round mvGetDeviceId (same 34 bytes as
 * the first reading); a float it carries in FP registers must come out
 * exact. An LED task toggles LED1 with mvPeriphPoke32 and reads it back; a
 * software timer calls mvNoOp and mvGetMicroseconds every tick. TIMER0
 * (IRQ 3) fires every ~100 us at a priority above FreeRTOS (0x20, never
 * masked by its critical sections): its ISR calls mvNoOp and
 * mvGetMicroseconds and triggers center B (tag = running count, producer 0).
 * (No FP in the ISRs: an app ISR that uses the FPU while it preempts a
 * kernel call needs the kernel to enable CP10/CP11 in the secure CPACR for
 * the lazy preservation of the task's FP context; see DESIGN.md.)
 * Both centers' ISRs (FreeRTOS-aware, 0x60 and 0x80) forward every record to
 * a queue; the consumer task checks that each producer's tags arrive exactly
 * once and in order, with the right event type.
 *
 * Flow control keeps every ring and the queue from filling (each producer
 * has at most WINDOW records in flight), so any missing record is a loss,
 * not an overrun. Checks: exact totals per producer, no order/type errors,
 * every call OKAY in every context, no time going back, peeks as expected,
 * the device ID never corrupted, FP values intact, the queue never full;
 * and evidence that the interesting cases happened: the timer ISR
 * interrupted kernel calls, and task switches were deferred because a task
 * was inside one.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "FreeRTOS.h"
#include "event_groups.h"
#include "queue.h"
#include "task.h"
#include "timers.h"

#include "bulwark_board.h"
#include "bw_freertos.h"
#include "check.h"
#include "mv_syscalls.h"

#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_ICER(n) (*(volatile uint32_t *)(0xE000E180u + 4u * (n)))
#define NVIC_ICPR(n) (*(volatile uint32_t *)(0xE000E280u + 4u * (n)))
#define NVIC_IPR(n)  (*(volatile uint8_t *)(0xE000E400u + (n)))

/* CMSDK TIMER0 (the app's), 20 MHz. */
#define TIMER0_BASE      0x40000000u
#define TIMER0_CTRL      (*(volatile uint32_t *)(TIMER0_BASE + 0x0u))
#define TIMER0_VALUE     (*(volatile uint32_t *)(TIMER0_BASE + 0x4u))
#define TIMER0_RELOAD    (*(volatile uint32_t *)(TIMER0_BASE + 0x8u))
#define TIMER0_INTCLEAR  (*(volatile uint32_t *)(TIMER0_BASE + 0xCu))
#define TIMER_ENABLE     (1u << 0)
#define TIMER_IRQ_ENABLE (1u << 3)
#define TIMER0_IRQ       3u

#define FPGAIO_LED       0x40302000u
#define FPGAIO_BUTTON    0x40302008u
#define FPGAIO_CLK100HZ  0x40302014u
#define LED1             0x2u

#define IRQ_A            64u
#define IRQ_B            65u
#define PRIO_TIMER       0x20u   /* above configMAX_SYSCALL_INTERRUPT_PRIORITY */
#define PRIO_A           0x60u
#define PRIO_B           0x80u
#define SLOTS            64u

#define PRODUCERS        5u      /* 0 is the timer ISR, 1..4 are tasks */
#define PRODUCER_CALLS   1500u
#define WINDOW           8u      /* records in flight per task producer */
#define TIMER_WINDOW     16u
#define QUEUE_LENGTH     64u     /* > 4 * WINDOW + TIMER_WINDOW */

#define PRIO_CONTROL     (tskIDLE_PRIORITY + 6)
#define PRIO_CONSUMER    (tskIDLE_PRIORITY + 5)
#define PRIO_LED         (tskIDLE_PRIORITY + 3)
#define STACK_WORDS      512u
#define SOFT_TIMER_TICKS 1u

static const UBaseType_t producer_priority[PRODUCERS] = { 0, 4, 2, 2, 1 };

static struct MvNotification ring_a[SLOTS] __attribute__((aligned(8)));
static struct MvNotification ring_b[SLOTS] __attribute__((aligned(8)));
static MvNotificationHandle handle_a, handle_b;
static QueueHandle_t records;
static EventGroupHandle_t done;
#define DONE_PRODUCERS   0x1Eu   /* bits 1..4 */

typedef struct producer_stats {
    volatile uint32_t produced;
    volatile uint32_t consumed;
    volatile uint32_t order_errors;
    volatile uint32_t type_errors;
    volatile uint32_t status_errors;
    volatile uint32_t time_errors;
    volatile uint32_t peek_errors;
    volatile uint32_t id_errors;
    volatile uint32_t fp_errors;
    volatile uint32_t waits;
} producer_stats;

static producer_stats stats[PRODUCERS];

/* Written by ISRs. */
typedef struct ring_reader {
    struct MvNotification *ring;
    uint32_t read_index;
    enum MvEventType type;
    volatile uint32_t forwarded;
    volatile uint32_t queue_full;
} ring_reader;

static ring_reader reader_a = { .ring = ring_a, .type = MV_EVENTTYPE_CHANNELDATAREADABLE };
static ring_reader reader_b = { .ring = ring_b, .type = MV_EVENTTYPE_CHANNELDATAWRITESPACE };

static volatile uint32_t timer_producing = 1;
static volatile uint32_t timer_ticks, timer_skipped, timer_in_kernel;
static uint64_t timer_last_us;
static uint32_t jitter_state = 0x2545F491u;

static volatile uint32_t led_toggles, led_errors;
static volatile uint32_t soft_timer_runs, soft_timer_errors;
static uint64_t soft_timer_last_us;
static char device_id[34];

/* Each record: tag and type packed for the queue. */
typedef struct record {
    uint32_t tag;
    uint32_t type;
} record;

static void forward(ring_reader *r)
{
    BaseType_t woken = pdFALSE;
    volatile struct MvNotification *slot = &r->ring[r->read_index];
    while (slot->event_type != MV_EVENTTYPE_NOEVENT) {
        record rec = { .tag = slot->tag, .type = (uint32_t)slot->event_type };
        slot->event_type = MV_EVENTTYPE_NOEVENT;
        r->read_index = (r->read_index + 1u) % SLOTS;
        slot = &r->ring[r->read_index];
        if (xQueueSendFromISR(records, &rec, &woken) != pdPASS) {
            r->queue_full++;
        } else {
            r->forwarded++;
        }
    }
    portYIELD_FROM_ISR(woken);
}

void IRQ64_Handler(void);
void IRQ64_Handler(void)
{
    forward(&reader_a);
}

void IRQ65_Handler(void);
void IRQ65_Handler(void)
{
    forward(&reader_b);
}

/* TIMER0: a producer above FreeRTOS. The entry stub passes EXC_RETURN: bit 6
 * set means the interrupted code was the kernel's (a kernel call). */
void timer_isr(uint32_t exc_return);
void timer_isr(uint32_t exc_return)
{
    producer_stats *s = &stats[0];
    TIMER0_INTCLEAR = 1u;
    timer_ticks++;
    if (exc_return & 0x40u) {
        timer_in_kernel++;
    }
    if (mvNoOp() != MV_STATUS_OKAY) {
        s->status_errors++;
    }
    uint64_t now = 0;
    if (mvGetMicroseconds(&now) != MV_STATUS_OKAY) {
        s->status_errors++;
    }
    if (now < timer_last_us) {
        s->time_errors++;
    }
    timer_last_us = now;
    if (timer_producing && s->produced - s->consumed < TIMER_WINDOW) {
        uint32_t tag = s->produced;
        s->produced = tag + 1u;
        if (mvTempTriggerNotification(handle_b, MV_EVENTTYPE_CHANNELDATAWRITESPACE, tag) != MV_STATUS_OKAY) {
            s->status_errors++;
        }
    } else if (timer_producing) {
        timer_skipped++;
    }
    jitter_state = jitter_state * 1103515245u + 12345u;
    TIMER0_RELOAD = 1500u + (jitter_state >> 16) % 1000u;
}

__attribute__((naked)) void IRQ3_Handler(void);
__attribute__((naked)) void IRQ3_Handler(void)
{
    __asm volatile("mov r0, lr\n b timer_isr\n");
}

static void producer_task(void *arg)
{
    uint32_t id = (uint32_t)(uintptr_t)arg;
    producer_stats *s = &stats[id];
    uint64_t last_us = 0;
    uint32_t last_100hz = 0;
    float fp = (float)id;   /* lives in FP registers across calls and switches */
    for (uint32_t round = 0; round < PRODUCER_CALLS; round++) {
        fp = fp + 1.0f;
        while (s->produced - s->consumed >= WINDOW) {
            s->waits++;
            vTaskDelay(1);
        }
        s->produced = round + 1u;
        if (mvTempTriggerNotification(handle_a, MV_EVENTTYPE_CHANNELDATAREADABLE, id << 24 | round)
            != MV_STATUS_OKAY) {
            s->status_errors++;
        }
        uint64_t now = 0;
        if (mvGetMicroseconds(&now) != MV_STATUS_OKAY) {
            s->status_errors++;
        }
        if (now < last_us) {
            s->time_errors++;
        }
        last_us = now;
        if (mvNoOp() != MV_STATUS_OKAY) {
            s->status_errors++;
        }
        uint32_t value = 0xFFFFFFFFu;
        if (mvPeriphPeek32(FPGAIO_BUTTON, &value) != MV_STATUS_OKAY) {
            s->status_errors++;
        }
        if (value != 0u) {
            s->peek_errors++;
        }
        if (mvPeriphPeek32(FPGAIO_CLK100HZ, &value) != MV_STATUS_OKAY) {
            s->status_errors++;
        }
        if (value < last_100hz) {
            s->peek_errors++;
        }
        last_100hz = value;
        if (round % 16u == 0u) {
            char id_text[34];
            memset(id_text, 0, sizeof id_text);
            if (mvGetDeviceId((uint8_t *)id_text, sizeof id_text) != MV_STATUS_OKAY) {
                s->status_errors++;
            }
            if (memcmp(id_text, device_id, sizeof id_text) != 0) {
                s->id_errors++;
            }
        }
    }
    if (fp != (float)(id + PRODUCER_CALLS)) {
        s->fp_errors++;
    }
    xEventGroupSetBits(done, 1u << id);
    vTaskSuspend(NULL);
}

static void consumer_task(void *unused)
{
    (void)unused;
    for (;;) {
        record rec;
        (void)xQueueReceive(records, &rec, portMAX_DELAY);
        uint32_t id = rec.tag >> 24;
        uint32_t seq = rec.tag & 0xFFFFFFu;
        if (id >= PRODUCERS) {
            stats[0].order_errors++;   /* a tag nobody sent */
            continue;
        }
        producer_stats *s = &stats[id];
        enum MvEventType want = id == 0 ? MV_EVENTTYPE_CHANNELDATAWRITESPACE : MV_EVENTTYPE_CHANNELDATAREADABLE;
        if (rec.type != (uint32_t)want) {
            s->type_errors++;
        }
        if (seq != s->consumed) {
            s->order_errors++;
        }
        s->consumed = s->consumed + 1u;
    }
}

static void led_task(void *unused)
{
    (void)unused;
    bool on = false;
    for (;;) {
        on = !on;
        uint32_t value = 0;
        if (mvPeriphPoke32(FPGAIO_LED, LED1, on ? LED1 : 0u) != MV_STATUS_OKAY
            || mvPeriphPeek32(FPGAIO_LED, &value) != MV_STATUS_OKAY || ((value & LED1) != 0u) != on) {
            led_errors++;
        }
        led_toggles++;
        vTaskDelay(1);
    }
}

static void soft_timer_callback(TimerHandle_t timer)
{
    (void)timer;
    uint64_t now = 0;
    if (mvNoOp() != MV_STATUS_OKAY || mvGetMicroseconds(&now) != MV_STATUS_OKAY || now < soft_timer_last_us) {
        soft_timer_errors++;
    }
    soft_timer_last_us = now;
    soft_timer_runs++;
}

static enum MvStatus setup_center(uint32_t irq, uint8_t priority, struct MvNotification *ring,
                                  MvNotificationHandle *handle)
{
    struct MvNotificationSetup setup = { .irq = irq, .buffer = ring, .buffer_size = SLOTS * sizeof *ring };
    enum MvStatus status = mvSetupNotifications(&setup, handle);
    NVIC_IPR(irq) = priority;
    NVIC_ICPR(irq / 32u) = 1u << (irq % 32u);
    NVIC_ISER(irq / 32u) = 1u << (irq % 32u);
    return status;
}

static bool all_consumed(void)
{
    for (uint32_t id = 0; id < PRODUCERS; id++) {
        if (stats[id].consumed != stats[id].produced) {
            return false;
        }
    }
    return true;
}

static void control_task(void *unused)
{
    (void)unused;
    uint64_t start = 0, end = 0;
    TickType_t start_ticks = xTaskGetTickCount();
    (void)mvGetMicroseconds(&start);
    TIMER0_CTRL = 0;
    TIMER0_RELOAD = 2000u;
    TIMER0_VALUE = 2000u;
    TIMER0_INTCLEAR = 1u;
    NVIC_IPR(TIMER0_IRQ) = PRIO_TIMER;
    NVIC_ICPR(0) = 1u << TIMER0_IRQ;
    NVIC_ISER(0) = 1u << TIMER0_IRQ;
    TIMER0_CTRL = TIMER_ENABLE | TIMER_IRQ_ENABLE;

    for (uint32_t id = 1; id < PRODUCERS; id++) {
        char name[12];
        snprintf(name, sizeof name, "producer%" PRIu32, id);
        if (xTaskCreate(producer_task, name, STACK_WORDS, (void *)(uintptr_t)id, producer_priority[id], NULL)
            != pdPASS) {
            check_true(false, "no", "yes", "create %s", name);
        }
    }
    EventBits_t bits = xEventGroupWaitBits(done, DONE_PRODUCERS, pdFALSE, pdTRUE, pdMS_TO_TICKS(20000));
    timer_producing = 0;
    for (int i = 0; i < 1000 && !all_consumed(); i++) {
        vTaskDelay(1);
    }
    TIMER0_CTRL = 0;
    NVIC_ICER(0) = 1u << TIMER0_IRQ;
    (void)mvGetMicroseconds(&end);
    TickType_t ticks = xTaskGetTickCount() - start_ticks;
    vTaskSuspendAll();   /* from here on only this task prints */

    char elapsed[21];
    printf("freertos-stress: %s us, %" PRIu32 " ticks at %u Hz\n", check_u64_text(elapsed, end - start),
           (uint32_t)ticks, (unsigned)configTICK_RATE_HZ);
    uint32_t task_total = 0;
    for (uint32_t id = 0; id < PRODUCERS; id++) {
        producer_stats *s = &stats[id];
        printf("freertos-stress: producer %" PRIu32 " (%s %u): produced %" PRIu32 " consumed %" PRIu32
               ", window waits %" PRIu32 "\n", id, id == 0 ? "timer ISR, priority" : "task, priority",
               id == 0 ? PRIO_TIMER : (unsigned)producer_priority[id], s->produced, s->consumed, s->waits);
        if (id != 0) {
            task_total += s->consumed;
        }
    }
    printf("freertos-stress: tasks %" PRIu32 " notifications, timer ISR %" PRIu32 " (%" PRIu32 " ticks, "
           "%" PRIu32 " skipped at its window, %" PRIu32 " in a kernel call)\n", task_total, stats[0].consumed,
           timer_ticks, timer_skipped, timer_in_kernel);
    printf("freertos-stress: %" PRIu32 " task switches deferred in kernel calls, LED toggled %" PRIu32
           " times, soft timer ran %" PRIu32 " times\n", bw_freertos_deferred_switches(), led_toggles,
           soft_timer_runs);

    check_u32(bits & DONE_PRODUCERS, DONE_PRODUCERS, "every producer task finished");
    for (uint32_t id = 0; id < PRODUCERS; id++) {
        producer_stats *s = &stats[id];
        if (id != 0) {
            check_u32(s->consumed, PRODUCER_CALLS, "producer %" PRIu32 ": exact total", id);
        } else {
            check_u32(s->consumed, s->produced, "timer producer: exact total");
        }
        check_u32(s->order_errors, 0, "producer %" PRIu32 ": every tag once, in order", id);
        check_u32(s->type_errors, 0, "producer %" PRIu32 ": event types", id);
        check_u32(s->status_errors, 0, "producer %" PRIu32 ": every call OKAY", id);
        check_u32(s->time_errors, 0, "producer %" PRIu32 ": mvGetMicroseconds never goes back", id);
        check_u32(s->peek_errors, 0, "producer %" PRIu32 ": peeks as expected", id);
        check_u32(s->id_errors, 0, "producer %" PRIu32 ": device ID never corrupted", id);
        check_u32(s->fp_errors, 0, "producer %" PRIu32 ": FP registers kept across calls and switches", id);
    }
    check_u32(reader_a.queue_full + reader_b.queue_full, 0, "ISRs: the queue never full");
    check_u32(reader_a.forwarded + reader_b.forwarded, task_total + stats[0].consumed,
              "ISRs forwarded exactly what was consumed");
    check_true(stats[0].produced >= 100, "few", ">= 100", "timer ISR produced (%" PRIu32 ")", stats[0].produced);
    check_u32(led_errors, 0, "LED: every poke read back");
    check_true(led_toggles > 0, "0", "> 0", "LED task ran");
    check_u32(soft_timer_errors, 0, "soft timer: calls OKAY, time monotonic");
    check_true(soft_timer_runs > 0, "0", "> 0", "soft timer ran");
    check_true(timer_in_kernel > 0, "0", "> 0", "the timer ISR interrupted kernel calls");
    check_true(bw_freertos_deferred_switches() > 0, "0", "> 0",
               "task switches were requested inside kernel calls (and deferred)");
    check_status(mvCloseNotifications(&handle_a), MV_STATUS_OKAY, "close A");
    check_status(mvCloseNotifications(&handle_b), MV_STATUS_OKAY, "close B");
    check_finish("freertos-stress", 0, 0);
}

int main(void)
{
    printf("freertos-stress: started, FreeRTOS %s, tick %u Hz\n", tskKERNEL_VERSION_NUMBER,
           (unsigned)configTICK_RATE_HZ);
    check_status(mvGetDeviceId((uint8_t *)device_id, sizeof device_id), MV_STATUS_OKAY, "device ID");
    check_status(setup_center(IRQ_A, PRIO_A, ring_a, &handle_a), MV_STATUS_OKAY, "center A (IRQ 64)");
    check_status(setup_center(IRQ_B, PRIO_B, ring_b, &handle_b), MV_STATUS_OKAY, "center B (IRQ 65)");
    records = xQueueCreate(QUEUE_LENGTH, sizeof(record));
    done = xEventGroupCreate();
    TimerHandle_t soft = xTimerCreate("soft", SOFT_TIMER_TICKS, pdTRUE, NULL, soft_timer_callback);
    if (records == NULL || done == NULL || soft == NULL || xTimerStart(soft, 0) != pdPASS
        || xTaskCreate(control_task, "control", STACK_WORDS, NULL, PRIO_CONTROL, NULL) != pdPASS
        || xTaskCreate(consumer_task, "consumer", STACK_WORDS, NULL, PRIO_CONSUMER, NULL) != pdPASS
        || xTaskCreate(led_task, "led", STACK_WORDS, NULL, PRIO_LED, NULL) != pdPASS) {
        check_true(false, "no", "yes", "create the queue, event group, timer and tasks");
        check_finish("freertos-stress", 0, 0);
    }
    vTaskStartScheduler();
    check_true(false, "returned", "never returns", "vTaskStartScheduler");
    check_finish("freertos-stress", 0, 0);
}
