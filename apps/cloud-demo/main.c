/*
 * cloud-demo: an app whose logs, network status and crash reach the cloud
 * through the kernel, with no network code of its own.
 *
 * It asks for the network with a notification center, logs a line through
 * mvServerLog every TICK_MS, reports each NETWORKSTATUSCHANGED it receives
 * (its interrupt handler only counts; main does the work), and shows the
 * wall time once the cloud has set it. It also subscribes to UPDATE system
 * notifications: when an over-the-air update has been downloaded
 * (MV_EVENTTYPE_UPDATEDOWNLOADED) it says so and lets the kernel install it
 * at once with mvRestart(MV_RESTARTMODE_AUTOAPPLYUPDATE), unless built with
 * IGNORE_UPDATES (then the bundle's polite window runs out).
 * Builds (apps/cloud-demo/CMakeLists.txt): `cloud-demo` runs on;
 * `cloud-demo-crash` (CRASH_AFTER_TICKS) writes through a bad pointer in
 * store_reading() after that many ticks, so the crash report names it, and
 * runs on without crashing once the kernel has restarted it
 * (MV_WAKEREASON_APPLICATIONCRASH), or crashes every run with CRASH_ALWAYS
 * (a crash loop: the kernel rolls an update like that back);
 * DEMO_VERSION names the build in its first line.
 * Every line also goes to the app's console (UART0).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bulwark_board.h"
#include "mv_syscalls.h"

#define NOTIFY_IRQ 64u
#define NOTIFY_SLOTS 16u
#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_IPR(n)  (*(volatile uint8_t *)(0xE000E400u + (n)))
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define TICK_MS 200u

static struct MvNotification notifications[NOTIFY_SLOTS] __attribute__((aligned(8)));
static uint8_t log_buffer[4096] __attribute__((aligned(512)));
static volatile uint32_t notify_index;
static volatile uint32_t network_events;
static volatile uint32_t update_events;
static volatile uint32_t other_events;

#ifndef DEMO_VERSION
#define DEMO_VERSION "1"
#endif
static volatile uint32_t ms;

void IRQ64_Handler(void);
void IRQ64_Handler(void)
{
    struct MvNotification *slot = &notifications[notify_index];
    while (slot->event_type != MV_EVENTTYPE_NOEVENT) {
        if (slot->event_type == MV_EVENTTYPE_NETWORKSTATUSCHANGED) {
            network_events++;
        } else if (slot->event_type == MV_EVENTTYPE_UPDATEDOWNLOADED) {
            update_events++;
        } else {
            other_events++;
        }
        slot->event_type = MV_EVENTTYPE_NOEVENT;
        notify_index = (notify_index + 1u) % NOTIFY_SLOTS;
        slot = &notifications[notify_index];
    }
}

void SysTick_Handler(void);
void SysTick_Handler(void)
{
    ms += 10u;
}

/* Prints a line on the console and logs it to the cloud. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[160];
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(line, sizeof line, fmt, args);
    va_end(args);
    if (n < 0) {
        return;
    }
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1u;
    printf("%s\n", line);
    fflush(stdout);
    (void)mvServerLog((const uint8_t *)line, (uint16_t)len);
}

static const char *network_name(enum MvNetworkStatus status)
{
    switch (status) {
    case MV_NETWORKSTATUS_DELIBERATELYOFFLINE: return "offline";
    case MV_NETWORKSTATUS_CONNECTED: return "connected";
    case MV_NETWORKSTATUS_CONNECTING: return "connecting";
    case MV_NETWORKSTATUS_DISCONNECTEDWITHLINKUP: return "disconnected";
    default: return "unknown";
    }
}

#ifdef CRASH_AFTER_TICKS
/* Stores a reading where a corrupted pointer says: the crash the demo shows. */
__attribute__((noinline)) static void store_reading(volatile uint32_t *where, uint32_t value)
{
    *where = value;
}
#endif

int main(void)
{
    enum MvWakeReason reason = MV_WAKEREASON_COLDBOOT;
    (void)mvGetWakeReason(&reason);
    MvNotificationHandle center = 0;
    struct MvNotificationSetup setup = {
        .irq = NOTIFY_IRQ, .buffer = notifications, .buffer_size = sizeof notifications,
    };
    enum MvStatus status = mvSetupNotifications(&setup, &center);
    NVIC_IPR(NOTIFY_IRQ) = 0x80u;
    NVIC_ISER(NOTIFY_IRQ / 32u) = 1u << (NOTIFY_IRQ % 32u);
    (void)mvServerLoggingInit(log_buffer, sizeof log_buffer);
    MvNetworkHandle network = 0;
    struct MvRequestNetworkParams params = { .version = 1 };
    params.v1.notification_handle = center;
    params.v1.notification_tag = 1;
    enum MvStatus request = mvRequestNetwork(&params, &network);
    MvSystemEventHandle updates = 0;
    struct MvOpenSystemNotificationParams update_params = {
        .notification_handle = center, .notification_tag = 2,
        .notification_source = MV_SYSTEMNOTIFICATIONSOURCE_UPDATE,
    };
    enum MvStatus subscribed = mvOpenSystemNotification(&update_params, &updates);
    say("cloud-demo: started (wake reason %u, notifications %u, network request %u, updates %u, version "
        DEMO_VERSION ")", (unsigned)reason, (unsigned)status, (unsigned)request, (unsigned)subscribed);

    SYST_RVR = 20000000u / 100u - 1u;   /* 10 ms at the 20 MHz core clock */
    SYST_CVR = 0;
    SYST_CSR = 7u;                      /* core clock, interrupt, enable */

    uint32_t seen_events = 0;
    uint32_t seen_updates = 0;
    uint32_t next_tick = TICK_MS;
    uint32_t tick = 0;
    int wall_shown = 0;
    for (;;) {
        __asm volatile("wfi");
        if (network_events != seen_events) {
            seen_events = network_events;
            enum MvNetworkStatus net = MV_NETWORKSTATUS_DELIBERATELYOFFLINE;
            (void)mvGetNetworkStatus(network, &net);
            say("cloud-demo: network %s (event %" PRIu32 ")", network_name(net), seen_events);
        }
        if (update_events != seen_updates) {
            seen_updates = update_events;
#ifdef IGNORE_UPDATES
            say("cloud-demo: an update is downloaded; not restarting for it");
#else
            say("cloud-demo: an update is downloaded; restarting to apply it");
            enum MvStatus restart = mvRestart(MV_RESTARTMODE_AUTOAPPLYUPDATE);
            say("cloud-demo: mvRestart returned %u", (unsigned)restart);
#endif
        }
        if (!wall_shown) {
            uint64_t wall = 0;
            if (mvGetWallTime(&wall) == MV_STATUS_OKAY) {
                wall_shown = 1;
                say("cloud-demo: wall time set: %lu s since 1970", (unsigned long)(wall / 1000000u));
            }
        }
        if (ms >= next_tick) {
            next_tick += TICK_MS;
            tick++;
            say("cloud-demo: tick %" PRIu32, tick);
#ifdef CRASH_AFTER_TICKS
#ifdef CRASH_ALWAYS
            const int crash_now = tick == CRASH_AFTER_TICKS;
#else
            const int crash_now = tick == CRASH_AFTER_TICKS && reason != MV_WAKEREASON_APPLICATIONCRASH;
#endif
            if (crash_now) {
                say("cloud-demo: storing a reading through a bad pointer");
                store_reading((volatile uint32_t *)0x38000000u, tick);   /* kernel RAM */
            }
#endif
        }
    }
}
