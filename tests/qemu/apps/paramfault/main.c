/*
 * paramfault: the kernel treats every app pointer as untrusted. For every
 * pointer argument of every implemented call that takes one (including the
 * ring pointer inside struct MvNotificationSetup), each bad pointer below
 * gives MV_STATUS_PARAMETERFAULT, never a fault, and writes nothing into the
 * app memory the range partly covers:
 *   kernel RAM (secure alias 0x38000000 and its non-secure alias 0x28000000),
 *   kernel flash 0x80100000 and the gate 0x80100400, boot ROM 0x10000000,
 *   NULL, a peripheral (UART0, the app's own, but not memory), a range running
 *   past the end of app RAM, one starting just below it, the address just past
 *   app RAM, app RAM through its secure alias, a range wrapping past
 *   0xFFFFFFFF, and, for pointers the kernel writes through, app flash.
 * The documented check order holds (sizes and alignment are checked before
 * pointers, pointers before kernel state), no failed call leaves anything
 * behind (no notification center, no log buffer), and afterwards the kernel
 * still serves calls. The test also matches "paramfault: N cases" and
 * rejects any crash in the kernel log.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bulwark_board.h"
#include "check.h"
#include "memory_map.h"
#include "mv_syscalls.h"

#define APP_RAM_START BOARD_APP_RAM_BASE
#define APP_RAM_END   (BOARD_APP_RAM_BASE + BOARD_APP_RAM_SIZE)   /* one past the last app RAM byte */
#define APP_FLASH     BOARD_APP_SLOT_BASE
#define APP_FLASH_END (BOARD_APP_SLOT_BASE + BOARD_APP_SLOT_SIZE)
#define KERNEL_RAM    BOARD_KERNEL_RAM_BASE
#define NS_ALIAS(a)   ((a) - 0x10000000u)   /* SSRAM2's non-secure alias */
#define FPGAIO_LED    0x40302000u
#define NOTIFY_IRQ    64u

/* A call under test: `fn` makes the call with pointer `p` in the argument
 * under test (every other argument valid); `len` bytes are accessed through
 * it, `align` is the alignment the call requires of it (checked before the
 * pointer), and `writes` says whether the kernel writes through it. */
typedef struct call_case {
    const char *name;
    enum MvStatus (*fn)(uintptr_t p);
    uint32_t len;
    uint32_t align;
    bool writes;
} call_case;

static struct MvNotification ring[4] __attribute__((aligned(8)));
static uint8_t log_buffer[512] __attribute__((aligned(512)));
static const uint8_t log_message[16] = "paramfault msg16";
static MvNotificationHandle good_handle;

static enum MvStatus call_get_microseconds(uintptr_t p) { return mvGetMicroseconds((uint64_t *)p); }
static enum MvStatus call_get_wall_time(uintptr_t p) { return mvGetWallTime((uint64_t *)p); }
static enum MvStatus call_get_sys_clk(uintptr_t p) { return mvGetSysClk((uint32_t *)p); }
static enum MvStatus call_get_hclk(uintptr_t p) { return mvGetHClk((uint32_t *)p); }
static enum MvStatus call_get_pclk1(uintptr_t p) { return mvGetPClk1((uint32_t *)p); }
static enum MvStatus call_get_pclk2(uintptr_t p) { return mvGetPClk2((uint32_t *)p); }
static enum MvStatus call_get_device_id(uintptr_t p) { return mvGetDeviceId((uint8_t *)p, 34); }
static enum MvStatus call_get_wake_reason(uintptr_t p) { return mvGetWakeReason((enum MvWakeReason *)p); }
static enum MvStatus call_periph_peek32(uintptr_t p) { return mvPeriphPeek32(FPGAIO_LED, (uint32_t *)p); }

static enum MvStatus call_setup_struct(uintptr_t p)
{
    MvNotificationHandle handle = 0;
    return mvSetupNotifications((const struct MvNotificationSetup *)p, &handle);
}

static enum MvStatus call_setup_handle_out(uintptr_t p)
{
    struct MvNotificationSetup setup = { .irq = NOTIFY_IRQ, .buffer = ring, .buffer_size = sizeof ring };
    return mvSetupNotifications(&setup, (MvNotificationHandle *)p);
}

static enum MvStatus call_setup_buffer(uintptr_t p)
{
    struct MvNotificationSetup setup = {
        .irq = NOTIFY_IRQ, .buffer = (struct MvNotification *)p, .buffer_size = sizeof ring,
    };
    MvNotificationHandle handle = 0;
    return mvSetupNotifications(&setup, &handle);
}

static enum MvStatus call_close(uintptr_t p) { return mvCloseNotifications((MvNotificationHandle *)p); }
static enum MvStatus call_logging_init_512(uintptr_t p) { return mvServerLoggingInit((uint8_t *)p, 512); }
static enum MvStatus call_logging_init_1024(uintptr_t p) { return mvServerLoggingInit((uint8_t *)p, 1024); }
static enum MvStatus call_log(uintptr_t p) { return mvServerLog((const uint8_t *)p, 16); }

static enum MvStatus call_request_params(uintptr_t p)
{
    MvNetworkHandle handle = 0;
    return mvRequestNetwork((const struct MvRequestNetworkParams *)p, &handle);
}

static enum MvStatus call_request_handle_out(uintptr_t p)
{
    struct MvRequestNetworkParams params = { .version = 1 };
    params.v1.notification_handle = good_handle;
    return mvRequestNetwork(&params, (MvNetworkHandle *)p);
}

static enum MvStatus call_release_network(uintptr_t p) { return mvReleaseNetwork((MvNetworkHandle *)p); }

static enum MvStatus call_network_status(uintptr_t p)
{
    return mvGetNetworkStatus((MvNetworkHandle)0x1234u, (enum MvNetworkStatus *)p);
}

static enum MvStatus call_network_reasons_0(uintptr_t p)
{
    uint32_t count;
    return mvGetNetworkReasons((enum MvNetworkReason *)p, &count);
}

static enum MvStatus call_network_reasons_1(uintptr_t p)
{
    enum MvNetworkReason reasons;
    return mvGetNetworkReasons(&reasons, (uint32_t *)p);
}

static enum MvStatus call_open_event_params(uintptr_t p)
{
    MvSystemEventHandle handle = 0;
    return mvOpenSystemNotification((const struct MvOpenSystemNotificationParams *)p, &handle);
}

static enum MvStatus call_open_event_handle_out(uintptr_t p)
{
    struct MvOpenSystemNotificationParams params = {
        .notification_handle = good_handle, .notification_source = MV_SYSTEMNOTIFICATIONSOURCE_NETWORK };
    return mvOpenSystemNotification(&params, (MvSystemEventHandle *)p);
}

static enum MvStatus call_close_event(uintptr_t p) { return mvCloseSystemNotification((MvSystemEventHandle *)p); }

static const call_case calls[] = {
    { "mvGetMicroseconds", call_get_microseconds, 8, 1, true },
    { "mvGetWallTime", call_get_wall_time, 8, 1, true },
    { "mvGetSysClk", call_get_sys_clk, 4, 1, true },
    { "mvGetHClk", call_get_hclk, 4, 1, true },
    { "mvGetPClk1", call_get_pclk1, 4, 1, true },
    { "mvGetPClk2", call_get_pclk2, 4, 1, true },
    { "mvGetDeviceId", call_get_device_id, 34, 1, true },
    { "mvGetWakeReason", call_get_wake_reason, 1, 1, true },
    { "mvPeriphPeek32(LED)", call_periph_peek32, 4, 1, true },
    { "mvSetupNotifications(setup)", call_setup_struct, sizeof(struct MvNotificationSetup), 1, false },
    { "mvSetupNotifications(handle_out)", call_setup_handle_out, sizeof(MvNotificationHandle), 1, true },
    { "mvSetupNotifications(setup.buffer)", call_setup_buffer, sizeof ring, 8, true },
    { "mvCloseNotifications", call_close, sizeof(MvNotificationHandle), 1, true },
    /* Two lengths so that the range past the end of RAM stays 512-aligned. */
    { "mvServerLoggingInit(512)", call_logging_init_512, 512, 512, true },
    { "mvServerLoggingInit(1024)", call_logging_init_1024, 1024, 512, true },
    { "mvServerLog", call_log, 16, 1, false },
    { "mvRequestNetwork(params)", call_request_params, sizeof(struct MvRequestNetworkParams), 1, false },
    { "mvRequestNetwork(handle_out)", call_request_handle_out, sizeof(MvNetworkHandle), 1, true },
    { "mvReleaseNetwork", call_release_network, sizeof(MvNetworkHandle), 1, true },
    { "mvGetNetworkStatus", call_network_status, sizeof(enum MvNetworkStatus), 1, true },
    { "mvGetNetworkReasons(reasons)", call_network_reasons_0, sizeof(enum MvNetworkReason), 1, true },
    { "mvGetNetworkReasons(count)", call_network_reasons_1, sizeof(uint32_t), 1, true },
    { "mvOpenSystemNotification(params)", call_open_event_params,
      sizeof(struct MvOpenSystemNotificationParams), 1, false },
    { "mvOpenSystemNotification(handle_out)", call_open_event_handle_out, sizeof(MvSystemEventHandle), 1, true },
    { "mvCloseSystemNotification", call_close_event, sizeof(MvSystemEventHandle), 1, true },
};

static uint32_t cases;

static uint32_t align_up(uint32_t v, uint32_t align)
{
    return (v + align - 1u) / align * align;
}

/* The part of [p, p + len) inside app memory, which a failed call must leave
 * alone; empty if none. 64-bit arithmetic: the range may wrap. */
static void app_part(uintptr_t p, uint32_t len, uintptr_t *start, uint32_t *part_len)
{
    static const uint64_t regions[][2] = {
        { APP_RAM_START, APP_RAM_END }, { APP_FLASH, APP_FLASH_END },
    };
    *start = 0;
    *part_len = 0;
    uint64_t lo = p, hi = (uint64_t)p + len;
    for (size_t i = 0; i < 2; i++) {
        uint64_t a = lo > regions[i][0] ? lo : regions[i][0];
        uint64_t b = hi < regions[i][1] ? hi : regions[i][1];
        if (a < b) {
            *start = (uintptr_t)a;
            *part_len = (uint32_t)(b - a);
        }
    }
}

/* One bad pointer: the call must say PARAMETERFAULT and leave the app bytes
 * the range covers as they were. */
static void bad_pointer(const call_case *c, uintptr_t p, const char *kind)
{
    uintptr_t part;
    uint32_t part_len;
    app_part(p, c->len, &part, &part_len);
    uint8_t before[64];
    if (part_len > sizeof before) {
        part_len = sizeof before;
    }
    memcpy(before, (const void *)part, part_len);

    enum MvStatus status = c->fn(p);

    cases++;
    check_status(status, MV_STATUS_PARAMETERFAULT, "%s, %s 0x%08" PRIx32, c->name, kind, (uint32_t)p);
    if (part_len != 0) {
        check_true(memcmp(before, (const void *)part, part_len) == 0, "changed", "unchanged",
                   "%s, %s 0x%08" PRIx32 ": app bytes in range untouched", c->name, kind, (uint32_t)p);
    }
}

static void bad_pointers(const call_case *c)
{
    /* Half the length (kept aligned): a range that starts inside and runs out. */
    uint32_t half = align_up(c->len / 2u, c->align);
    bad_pointer(c, KERNEL_RAM, "kernel RAM (secure)");
    bad_pointer(c, NS_ALIAS(KERNEL_RAM), "kernel RAM (non-secure alias)");
    bad_pointer(c, KERNEL_RAM + 0x10000u, "kernel RAM (secure)");
    bad_pointer(c, BOARD_KERNEL_SLOT_BASE, "kernel flash");
    bad_pointer(c, BOARD_GATE_BASE, "kernel gate (NSC)");
    bad_pointer(c, BOARD_BOOT_ROM_BASE, "boot ROM");
    bad_pointer(c, 0, "NULL");
    bad_pointer(c, 0x40200000u, "peripheral UART0");
    if (half != 0 && half < c->len) {   /* some lengths cannot straddle an aligned edge */
        bad_pointer(c, APP_RAM_END - half, "past the end of app RAM");
        bad_pointer(c, APP_RAM_START - half, "from below the start of app RAM");
    }
    bad_pointer(c, APP_RAM_END, "just past app RAM");
    bad_pointer(c, 0x38200000u, "app RAM through its secure alias");
    bad_pointer(c, 0u - align_up(half > 4u ? half : 4u, c->align), "wrapping");
    if (c->writes) {
        bad_pointer(c, APP_FLASH, "app flash (read-only)");
        bad_pointer(c, APP_FLASH + 0x1000u, "app flash (read-only)");
    }
}

/* A handful of cases where the documented check order decides the status. */
static void check_order(void)
{
    /* Arguments by value before pointers. */
    check_status(mvGetDeviceId((uint8_t *)KERNEL_RAM, 33), MV_STATUS_INVALIDBUFFERSIZE,
                 "order: mvGetDeviceId bad length before bad pointer");
    check_status(mvServerLoggingInit((uint8_t *)KERNEL_RAM, 500), MV_STATUS_INVALIDBUFFERSIZE,
                 "order: mvServerLoggingInit size before pointer");
    check_status(mvServerLoggingInit((uint8_t *)0x38000004u, 512), MV_STATUS_INVALIDBUFFERALIGNMENT,
                 "order: mvServerLoggingInit alignment before pointer");
    check_status(mvServerLoggingInit((uint8_t *)0, 0), MV_STATUS_INVALIDBUFFERSIZE,
                 "order: mvServerLoggingInit(NULL, 0) size first");
    check_status(mvServerLog((const uint8_t *)KERNEL_RAM, 1025), MV_STATUS_LOGMESSAGETOOLONG,
                 "order: mvServerLog length before pointer");
    check_status(mvPeriphPeek32(0x40200000u, (uint32_t *)KERNEL_RAM), MV_STATUS_PERIPHERALACCESSFAULT,
                 "order: mvPeriphPeek32 register before pointer");
    check_status(mvTempTriggerNotification((MvNotificationHandle)0x12345678u, MV_EVENTTYPE_NOEVENT, 0),
                 MV_STATUS_PARAMETERFAULT, "order: mvTempTriggerNotification type before handle");
    /* The ring: size, alignment and IRQ before the ring pointer. */
    MvNotificationHandle handle = 0;
    struct MvNotificationSetup setup = { .irq = NOTIFY_IRQ, .buffer = (struct MvNotification *)KERNEL_RAM,
                                         .buffer_size = 40 };
    check_status(mvSetupNotifications(&setup, &handle), MV_STATUS_INVALIDBUFFERSIZE,
                 "order: ring size before ring pointer");
    setup = (struct MvNotificationSetup){ .irq = NOTIFY_IRQ, .buffer = (struct MvNotification *)0x38000004u,
                                          .buffer_size = 32 };
    check_status(mvSetupNotifications(&setup, &handle), MV_STATUS_INVALIDBUFFERALIGNMENT,
                 "order: ring alignment before ring pointer");
    setup = (struct MvNotificationSetup){ .irq = 4, .buffer = (struct MvNotification *)KERNEL_RAM,
                                          .buffer_size = 32 };
    check_status(mvSetupNotifications(&setup, &handle), MV_STATUS_INVALIDINTERRUPT,
                 "order: ring IRQ before ring pointer");
    /* Pointers before kernel state: logging is not set up yet, yet a bad
     * message pointer is a PARAMETERFAULT, and a good one UNAVAILABLE. */
    check_status(mvServerLog((const uint8_t *)KERNEL_RAM, 16), MV_STATUS_PARAMETERFAULT,
                 "order: mvServerLog pointer before logging state");
    check_status(mvServerLog(log_message, 16), MV_STATUS_UNAVAILABLE,
                 "mvServerLog with a good pointer before init is UNAVAILABLE");
    /* A handle pointer naming a bad handle still gets its pointer checked first. */
    check_status(mvCloseNotifications((MvNotificationHandle *)KERNEL_RAM), MV_STATUS_PARAMETERFAULT,
                 "order: mvCloseNotifications pointer before handle");
}

int main(void)
{
    printf("paramfault: started\n");
    uint32_t flash_before[16];
    memcpy(flash_before, (const void *)APP_FLASH, sizeof flash_before);

    check_order();
    /* mvServerLog is tried both before and after logging is set up. */
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        bad_pointers(&calls[i]);
    }
    enum MvNetworkReason reasons = 0;
    uint32_t requests = 99;
    check_status(mvGetNetworkReasons(&reasons, &requests), MV_STATUS_OKAY, "mvGetNetworkReasons");
    check_u32(requests, 0, "no failed mvRequestNetwork left a request behind");

    /* Inputs may live in app flash: a const setup struct is fine. */
    static const struct MvNotificationSetup flash_setup = {
        .irq = NOTIFY_IRQ, .buffer = ring, .buffer_size = sizeof ring,
    };
    check_status(mvSetupNotifications(&flash_setup, &good_handle), MV_STATUS_OKAY,
                 "mvSetupNotifications with the setup struct in app flash (no center leaked on IRQ %u)",
                 NOTIFY_IRQ);
    check_true(good_handle != 0, "0", "nonzero", "handle written");
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        if (calls[i].fn == call_close) {
            bad_pointers(&calls[i]);   /* now with a center open */
        }
    }
    check_status(mvTempTriggerNotification(good_handle, MV_EVENTTYPE_CHANNELDATAREADABLE, 1),
                 MV_STATUS_OKAY, "the open center still works");
    check_status(mvCloseNotifications(&good_handle), MV_STATUS_OKAY, "mvCloseNotifications");

    check_status(mvServerLoggingInit(log_buffer, sizeof log_buffer), MV_STATUS_OKAY,
                 "mvServerLoggingInit after the bad ones (none took a buffer)");
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        if (calls[i].fn == call_log) {
            bad_pointers(&calls[i]);   /* now with logging set up */
        }
    }
    check_status(mvServerLog(log_message, sizeof log_message), MV_STATUS_OKAY,
                 "mvServerLog with the message in app flash");

    check_true(memcmp(flash_before, (const void *)APP_FLASH, sizeof flash_before) == 0, "changed",
               "unchanged", "app flash unchanged");
    check_status(mvNoOp(), MV_STATUS_OKAY, "mvNoOp after the bad pointers");
    uint64_t us = 0;
    check_status(mvGetMicroseconds(&us), MV_STATUS_OKAY, "mvGetMicroseconds after the bad pointers");
    check_true(us != 0, "0", "nonzero", "mvGetMicroseconds wrote its output");
    enum MvWakeReason reason = (enum MvWakeReason)0x55;
    check_status(mvGetWakeReason(&reason), MV_STATUS_OKAY, "mvGetWakeReason");
    check_u32(reason, MV_WAKEREASON_COLDBOOT, "still the first run (no crash, no restart)");

    printf("paramfault: %" PRIu32 " cases\n", cases);
    check_finish("paramfault", 0, 0);
}
