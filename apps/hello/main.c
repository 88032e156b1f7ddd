/*
 * hello: the first Bulwark app. It prints on its own console (UART0), calls
 * each system call the kernel implements and shows what comes back, sets up
 * a notification center whose interrupt handler receives a notification it
 * triggers, then asks the kernel to restart it and, on the second run, shows
 * the wake reason and ends.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bulwark_board.h"
#include "mv_syscalls.h"

#define NOTIFY_IRQ 64u   /* a line no device uses on the an505: free for notifications */
#define NOTIFY_SLOTS 8u
#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_IPR(n)  (*(volatile uint8_t *)(0xE000E400u + (n)))

static struct MvNotification notifications[NOTIFY_SLOTS] __attribute__((aligned(8)));
static volatile uint32_t notify_read_index;
static volatile uint32_t received_tag;
static volatile uint64_t received_at;
static volatile uint32_t received_count;
static uint8_t log_buffer[4096] __attribute__((aligned(512)));

void IRQ64_Handler(void);
void IRQ64_Handler(void)
{
    struct MvNotification *slot = &notifications[notify_read_index];
    while (slot->event_type != MV_EVENTTYPE_NOEVENT) {
        received_tag = slot->tag;
        received_at = slot->microseconds;
        received_count++;
        slot->event_type = MV_EVENTTYPE_NOEVENT;
        notify_read_index = (notify_read_index + 1u) % NOTIFY_SLOTS;
        slot = &notifications[notify_read_index];
    }
}

static const char *status_name(enum MvStatus status)
{
    switch (status) {
    case MV_STATUS_OKAY: return "OKAY";
    case MV_STATUS_TIMENOTSET: return "TIMENOTSET";
    case MV_STATUS_PARAMETERFAULT: return "PARAMETERFAULT";
    case MV_STATUS_UNAVAILABLE: return "UNAVAILABLE";
    default: return "other";
    }
}

static void show(const char *call, enum MvStatus status)
{
    printf("  %-28s -> %s (0x%" PRIx32 ")\n", call, status_name(status), (uint32_t)status);
}

static void show_clocks(void)
{
    uint32_t hz = 0;
    show("mvGetSysClk", mvGetSysClk(&hz));
    printf("    sysclk %" PRIu32 " Hz\n", hz);
    show("mvGetHClk", mvGetHClk(&hz));
    show("mvGetPClk1", mvGetPClk1(&hz));
    show("mvGetPClk2", mvGetPClk2(&hz));
}

static void show_identity_and_time(void)
{
    uint64_t us = 0;
    show("mvGetMicroseconds", mvGetMicroseconds(&us));
    printf("    %lu us since the kernel started\n", (unsigned long)us);
    show("mvGetWallTime", mvGetWallTime(&us));
    char id[35] = {0};
    show("mvGetDeviceId", mvGetDeviceId((uint8_t *)id, 34));
    printf("    device %s\n", id);
}

static void show_peripherals(void)
{
    uint32_t led = 0;
    show("mvPeriphPeek32(LED)", mvPeriphPeek32(0x40302000u, &led));
    show("mvPeriphPoke32(LED1 on)", mvPeriphPoke32(0x40302000u, 0x2u, 0x2u));
    mvPeriphPeek32(0x40302000u, &led);
    printf("    LEDs now 0x%" PRIx32 "\n", led);
}

static void show_logging(void)
{
    static const char message[] = "hello logs through the kernel";
    show("mvServerLoggingInit", mvServerLoggingInit(log_buffer, sizeof log_buffer));
    show("mvServerLog", mvServerLog((const uint8_t *)message, (uint16_t)strlen(message)));
}

static void show_notifications(void)
{
    struct MvNotificationSetup setup = {
        .irq = NOTIFY_IRQ, .buffer = notifications, .buffer_size = sizeof notifications,
    };
    MvNotificationHandle handle = 0;
    show("mvSetupNotifications", mvSetupNotifications(&setup, &handle));
    NVIC_IPR(NOTIFY_IRQ) = 0x80u;
    NVIC_ISER(NOTIFY_IRQ / 32u) = 1u << (NOTIFY_IRQ % 32u);
    show("mvTempTriggerNotification",
         mvTempTriggerNotification(handle, MV_EVENTTYPE_CHANNELDATAREADABLE, 0xB0A7u));
    for (int spin = 0; spin < 1000000 && received_count == 0; spin++) {
    }
    printf("    ISR got %" PRIu32 " notification(s): tag 0x%" PRIx32 " at %lu us\n",
           received_count, received_tag, (unsigned long)received_at);
    show("mvCloseNotifications", mvCloseNotifications(&handle));
}

int main(void)
{
    enum MvWakeReason reason = MV_WAKEREASON_COLDBOOT;
    mvGetWakeReason(&reason);
    printf("hello: app started, wake reason %u\n", (unsigned)reason);

    if (reason == MV_WAKEREASON_REMOTEAPPLICATIONRESTART) {
        printf("hello: restarted in place by mvRestart; done\n");
        board_exit(0);
    }
    show("mvNoOp", mvNoOp());
    show_identity_and_time();
    show_clocks();
    show_peripherals();
    show_logging();
    show_notifications();
    MvNetworkHandle network = 0;
    struct MvRequestNetworkParams params = { .version = 1 };
    show("mvRequestNetwork (no notification center)", mvRequestNetwork(&params, &network));
    printf("hello: asking the kernel to restart me\n");
    fflush(stdout);
    show("mvRestart", mvRestart(MV_RESTARTMODE_AUTOAPPLYUPDATE));
    printf("hello: mvRestart returned: unexpected\n");
    board_exit(1);
}
