/*
 * A channel demo under FreeRTOS (demo.h): demo_run in one task, which
 * blocks on a binary semaphore the notification ISR gives (the ISR runs in
 * FreeRTOS's interrupt band, priority 0x80, so the FromISR call is allowed).
 * A second, lower-priority task counts 10 ms delays to show the scheduler
 * runs while the steps wait; the kernel defers task switches that would land
 * inside a kernel call (sdk/freertos).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "FreeRTOS.h"
#include "semphr.h"
#include "task.h"

#include "bulwark_board.h"
#include "demo.h"

#define PRIORITY_STEPS   (tskIDLE_PRIORITY + 2)
#define PRIORITY_COUNTER (tskIDLE_PRIORITY + 1)
#define STEPS_STACK_WORDS 1024u

static SemaphoreHandle_t woken;
static volatile uint32_t counter_ticks;

void demo_wait(void)
{
    xSemaphoreTake(woken, portMAX_DELAY);
}

void demo_woken(void)
{
    BaseType_t higher = pdFALSE;
    xSemaphoreGiveFromISR(woken, &higher);
    portYIELD_FROM_ISR(higher);
}

static void steps_task(void *arg)
{
    (void)arg;
    printf("%s: FreeRTOS %s\n", demo_name, tskKERNEL_VERSION_NUMBER);
    demo_run();
    printf("%s: the counter task ran %" PRIu32 " times meanwhile\n", demo_name, counter_ticks);
    vTaskSuspend(NULL);
}

static void counter_task(void *arg)
{
    (void)arg;
    for (;;) {
        vTaskDelay(pdMS_TO_TICKS(10));
        counter_ticks++;
    }
}

int main(void)
{
    woken = xSemaphoreCreateBinary();
    if (woken == NULL
        || xTaskCreate(steps_task, "steps", STEPS_STACK_WORDS, NULL, PRIORITY_STEPS, NULL) != pdPASS
        || xTaskCreate(counter_task, "counter", configMINIMAL_STACK_SIZE, NULL, PRIORITY_COUNTER, NULL) != pdPASS) {
        printf("%s: FreeRTOS set-up failed\n", demo_name);
        board_exit(1);
    }
    vTaskStartScheduler();
    printf("%s: vTaskStartScheduler returned\n", demo_name);
    board_exit(1);
}
