/*
 * http-demo under FreeRTOS: the steps of http_demo.c in one task, which
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
#include "http_demo.h"

#define PRIORITY_STEPS   (tskIDLE_PRIORITY + 2)
#define PRIORITY_COUNTER (tskIDLE_PRIORITY + 1)
#define STEPS_STACK_WORDS 1024u

static SemaphoreHandle_t woken;
static volatile uint32_t counter_ticks;

void http_demo_wait(void)
{
    xSemaphoreTake(woken, portMAX_DELAY);
}

void http_demo_woken(void)
{
    BaseType_t higher = pdFALSE;
    xSemaphoreGiveFromISR(woken, &higher);
    portYIELD_FROM_ISR(higher);
}

static void steps_task(void *arg)
{
    (void)arg;
    printf("http-demo: FreeRTOS %s\n", tskKERNEL_VERSION_NUMBER);
    http_demo_run();
    printf("http-demo: the counter task ran %" PRIu32 " times meanwhile\n", counter_ticks);
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
        printf("http-demo: FreeRTOS set-up failed\n");
        board_exit(1);
    }
    vTaskStartScheduler();
    printf("http-demo: vTaskStartScheduler returned\n");
    board_exit(1);
}
