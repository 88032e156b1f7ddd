/*
 * syscalls: each implemented system call returns what its contract says
 * (kernel/core/include/bw_syscalls.h):
 *  - mvNoOp is OKAY; mvGetMicroseconds is OKAY and increases, also across an
 *    app restart; mvGetWallTime is TIMENOTSET and leaves its output alone;
 *    the four clock getters give 20 MHz;
 *  - mvGetDeviceId writes "BW" + 32 uppercase hex digits of the identity the
 *    test put in flash (run_test.py --device-id) and nothing past 34 bytes;
 *    any other length is INVALIDBUFFERSIZE and writes nothing;
 *  - mvGetWakeReason is COLDBOOT on the first run;
 *  - mvPeriphPeek32/Poke32 reach the mediated FPGAIO registers only through
 *    their masks (LED: the app owns bit 1, bit 0 is the kernel's; BUTTON is
 *    read-only); other or unaligned addresses are PERIPHERALACCESSFAULT;
 *  - mvServerLoggingInit checks size, then alignment, then takes the buffer
 *    once (BUFFERALREADYINUSE after); mvServerLog is UNAVAILABLE before it,
 *    LOGMESSAGETOOLONG above 1024 bytes, prints 1024 bytes whole and escapes
 *    bytes that are not printable (the test matches the kernel log);
 *  - mvRequestNetwork needs a v1 struct and a live notification center,
 *    gives a handle whose status is DELIBERATELYOFFLINE on a device with no
 *    cloud credentials, counts in mvGetNetworkReasons (USINGNETWORK), and
 *    mvReleaseNetwork retires it (0 written back, INVALIDHANDLE after);
 *    mvOpenSystemNotification takes NETWORK and UPDATE, refuses another
 *    source; handles of both kinds are dead after the app restart;
 *  - calls not implemented yet are UNAVAILABLE and write nothing; a refused
 *    mvOpenChannel writes no handle;
 *  - the gate returns with every APSR flag clear (N Z C V Q and the GE bits,
 *    all set before the call) and r1-r3/r12 zero, and widens a narrow
 *    argument itself: mvServerLog's uint16_t length passed with garbage in
 *    the upper half (0xABCD0007) logs the 7 bytes, not LOGMESSAGETOOLONG;
 *  - mvRestart rejects an unknown mode (PARAMETERFAULT) and restarts the app
 *    in place for AUTOAPPLYUPDATE: the second run sees wake reason
 *    REMOTEAPPLICATIONRESTART, and its server-log buffer was released.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bulwark_board.h"
#include "check.h"
#include "mv_syscalls.h"

#define SYSCLK_HZ 20000000u
#define FPGAIO_LED 0x40302000u
#define FPGAIO_BUTTON 0x40302008u
#define FPGAIO_COUNTER 0x40302018u
#define EXPECTED_DEVICE_ID "BW00112233445566778899AABBCCDDEEFF"   /* run_test.py --device-id */
#define RUN_MAGIC 0x5359534Cu

/* Survives the app restart (the kernel restarts the app without a reset). */
static struct {
    uint32_t magic;
    uint32_t checks;
    uint32_t failures;
    uint64_t last_us;
    uint32_t network;   /* handles of the first run: dead in the second */
    uint32_t event;
} carried __attribute__((section(".noinit")));

static uint8_t log_buffer[1024] __attribute__((aligned(512)));
static uint8_t other_log_buffer[512] __attribute__((aligned(512)));
static uint8_t long_message[1025];

static void check_time(void)
{
    uint64_t t1 = 0, t2 = 0;
    check_status(mvGetMicroseconds(&t1), MV_STATUS_OKAY, "mvGetMicroseconds");
    check_u64_between(t1, 1, 10000000, "mvGetMicroseconds: time since kernel start, < 10 s");
    /* The clock counts in microseconds: spin until it moves (bounded). */
    for (int i = 0; i < 1000000 && t2 <= t1; i++) {
        (void)mvGetMicroseconds(&t2);
    }
    check_true(t2 > t1, "not increasing", "t2 > t1", "mvGetMicroseconds increases across calls");

    uint64_t wall = 0x0123456789ABCDEFull;
    check_status(mvGetWallTime(&wall), MV_STATUS_TIMENOTSET, "mvGetWallTime before server time");
    check_u64(wall, 0x0123456789ABCDEFull, "mvGetWallTime leaves its output untouched");
}

static void check_clocks(void)
{
    static const struct {
        const char *name;
        enum MvStatus (*call)(uint32_t *);
    } clocks[] = {
        { "mvGetSysClk", mvGetSysClk }, { "mvGetHClk", mvGetHClk },
        { "mvGetPClk1", mvGetPClk1 }, { "mvGetPClk2", mvGetPClk2 },
    };
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        uint32_t hz = 0xFFFFFFFFu;
        check_status(clocks[i].call(&hz), MV_STATUS_OKAY, "%s", clocks[i].name);
        check_u32(hz, SYSCLK_HZ, "%s = 20 MHz", clocks[i].name);
    }
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t value)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != value) {
            return false;
        }
    }
    return true;
}

static void check_device_id(void)
{
    uint8_t id[40];
    memset(id, 0xEE, sizeof id);
    check_status(mvGetDeviceId(id, 34), MV_STATUS_OKAY, "mvGetDeviceId(len 34)");
    check_text(id, EXPECTED_DEVICE_ID, 34, "mvGetDeviceId = BW + identity in uppercase hex");
    check_true(all_bytes(id + 34, sizeof id - 34, 0xEE), "bytes written", "untouched",
               "mvGetDeviceId writes no terminator or anything past 34 bytes");

    static const uint32_t bad_lengths[] = { 33, 35, 0, 0xFFFFFFFFu };
    for (size_t i = 0; i < sizeof bad_lengths / sizeof bad_lengths[0]; i++) {
        memset(id, 0xEE, sizeof id);
        check_status(mvGetDeviceId(id, bad_lengths[i]), MV_STATUS_INVALIDBUFFERSIZE,
                     "mvGetDeviceId(len %" PRIu32 ")", bad_lengths[i]);
        check_true(all_bytes(id, sizeof id, 0xEE), "buffer written", "untouched",
                   "mvGetDeviceId(len %" PRIu32 ") writes nothing", bad_lengths[i]);
    }
}

static void check_wake_reason_cold(void)
{
    enum MvWakeReason reason = (enum MvWakeReason)0x55;
    check_status(mvGetWakeReason(&reason), MV_STATUS_OKAY, "mvGetWakeReason");
    check_u32(reason, MV_WAKEREASON_COLDBOOT, "wake reason on the first run is COLDBOOT");
}

static uint32_t peek(uint32_t reg)
{
    uint32_t value = 0xDEADBEEFu;
    (void)mvPeriphPeek32(reg, &value);
    return value;
}

static void check_peripherals(void)
{
    uint32_t led = 0xDEADBEEFu;
    check_status(mvPeriphPeek32(FPGAIO_LED, &led), MV_STATUS_OKAY, "mvPeriphPeek32(LED)");
    check_u32(led & ~0x3u, 0, "LED read is masked to bits 0-1");
    uint32_t system_led = led & 0x1u;

    check_status(mvPeriphPoke32(FPGAIO_LED, 0x2u, 0x2u), MV_STATUS_OKAY, "mvPeriphPoke32(LED, set bit 1)");
    check_u32(peek(FPGAIO_LED), system_led | 0x2u, "LED bit 1 set by the app");
    check_status(mvPeriphPoke32(FPGAIO_LED, 0x1u, system_led ^ 0x1u), MV_STATUS_OKAY,
                 "mvPeriphPoke32(LED, flip bit 0) is accepted");
    check_u32(peek(FPGAIO_LED), system_led | 0x2u, "LED bit 0 (the kernel's) unchanged by the app");
    check_status(mvPeriphPoke32(FPGAIO_LED, 0x2u, 0x0u), MV_STATUS_OKAY, "mvPeriphPoke32(LED, clear bit 1)");
    check_u32(peek(FPGAIO_LED), system_led, "LED bit 1 cleared by the app");
    check_status(mvPeriphPoke32(FPGAIO_LED, 0xFFFFFFFFu, 0xFFFFFFFFu), MV_STATUS_OKAY,
                 "mvPeriphPoke32(LED, all bits)");
    check_u32(peek(FPGAIO_LED), system_led | 0x2u, "LED: only the write mask (bit 1) changed");
    check_status(mvPeriphPoke32(FPGAIO_LED, 0x0u, 0x2u), MV_STATUS_OKAY, "mvPeriphPoke32(LED, xor bit 1)");
    check_u32(peek(FPGAIO_LED), system_led, "LED: xor toggles bit 1 back off");

    uint32_t buttons = 0xDEADBEEFu;
    check_status(mvPeriphPeek32(FPGAIO_BUTTON, &buttons), MV_STATUS_OKAY, "mvPeriphPeek32(BUTTON)");
    check_u32(buttons & ~0x3u, 0, "BUTTON read is masked to bits 0-1");
    check_status(mvPeriphPoke32(FPGAIO_BUTTON, 0x3u, 0x3u), MV_STATUS_OKAY,
                 "mvPeriphPoke32(BUTTON) is accepted (no writable bits)");
    check_u32(peek(FPGAIO_BUTTON), buttons, "BUTTON unchanged by a poke");
    uint32_t counter = 0xDEADBEEFu;
    check_status(mvPeriphPeek32(FPGAIO_COUNTER, &counter), MV_STATUS_OKAY, "mvPeriphPeek32(COUNTER)");

    static const uint32_t unmediated[] = {
        0x40200000u,        /* UART0: the app's own, but not mediated */
        0x50302000u,        /* FPGAIO LED through its secure alias */
        0x00000000u,
        FPGAIO_LED + 1u,    /* unaligned */
        FPGAIO_LED + 4u,    /* FPGAIO register the table does not list */
        0x40201000u,        /* UART1: the kernel console */
        0x50081000u,        /* secure watchdog */
        0xFFFFFFFCu,
    };
    for (size_t i = 0; i < sizeof unmediated / sizeof unmediated[0]; i++) {
        uint32_t value = 0xDEADBEEFu;
        check_status(mvPeriphPeek32(unmediated[i], &value), MV_STATUS_PERIPHERALACCESSFAULT,
                     "mvPeriphPeek32(0x%08" PRIx32 ")", unmediated[i]);
        check_u32(value, 0xDEADBEEFu, "mvPeriphPeek32(0x%08" PRIx32 ") writes nothing", unmediated[i]);
        check_status(mvPeriphPoke32(unmediated[i], 0, 0), MV_STATUS_PERIPHERALACCESSFAULT,
                     "mvPeriphPoke32(0x%08" PRIx32 ")", unmediated[i]);
    }
    check_u32(peek(FPGAIO_LED), system_led, "LED unchanged by the refused pokes");
}

static void check_logging(void)
{
    static const char hello[] = "syscalls: plain message";
    /* Before mvServerLoggingInit: logging is not set up. */
    check_status(mvServerLog((const uint8_t *)hello, sizeof hello - 1), MV_STATUS_UNAVAILABLE,
                 "mvServerLog before mvServerLoggingInit");

    check_status(mvServerLoggingInit(log_buffer, 256), MV_STATUS_INVALIDBUFFERSIZE,
                 "mvServerLoggingInit(256 bytes)");
    check_status(mvServerLoggingInit(log_buffer, 1000), MV_STATUS_INVALIDBUFFERSIZE,
                 "mvServerLoggingInit(1000 bytes)");
    check_status(mvServerLoggingInit(log_buffer, 0), MV_STATUS_INVALIDBUFFERSIZE,
                 "mvServerLoggingInit(0 bytes)");
    check_status(mvServerLoggingInit(log_buffer + 8, 512), MV_STATUS_INVALIDBUFFERALIGNMENT,
                 "mvServerLoggingInit(512 bytes at an address 8 past a 512 boundary)");
    check_status(mvServerLoggingInit(log_buffer + 256, 512), MV_STATUS_INVALIDBUFFERALIGNMENT,
                 "mvServerLoggingInit(512 bytes at an address 256 past a 512 boundary)");
    /* Size is checked before alignment (bw_syscalls.h). */
    check_status(mvServerLoggingInit(log_buffer + 8, 1000), MV_STATUS_INVALIDBUFFERSIZE,
                 "mvServerLoggingInit: size is checked before alignment");
    check_status(mvServerLog((const uint8_t *)hello, sizeof hello - 1), MV_STATUS_UNAVAILABLE,
                 "mvServerLog still UNAVAILABLE after refused inits");

    check_status(mvServerLoggingInit(log_buffer, sizeof log_buffer), MV_STATUS_OKAY,
                 "mvServerLoggingInit(1024 bytes, 512-aligned)");
    check_status(mvServerLoggingInit(other_log_buffer, sizeof other_log_buffer),
                 MV_STATUS_BUFFERALREADYINUSE, "second mvServerLoggingInit (another buffer)");
    check_status(mvServerLoggingInit(log_buffer, sizeof log_buffer), MV_STATUS_BUFFERALREADYINUSE,
                 "second mvServerLoggingInit (same buffer)");

    check_status(mvServerLog((const uint8_t *)hello, sizeof hello - 1), MV_STATUS_OKAY, "mvServerLog");

    memset(long_message, 'z', sizeof long_message);
    memcpy(long_message, "MAXLOG", 6);
    check_status(mvServerLog(long_message, 1025), MV_STATUS_LOGMESSAGETOOLONG, "mvServerLog(1025 bytes)");
    check_status(mvServerLog(long_message, 0xFFFF), MV_STATUS_LOGMESSAGETOOLONG, "mvServerLog(65535 bytes)");
    check_status(mvServerLog(long_message, 1024), MV_STATUS_OKAY, "mvServerLog(1024 bytes)");

    /* The kernel log must show this as: esc: tab\x09 nl\x0a bell\x07 del\x7f bs\x5c hi\xff nul\x00 end */
    static const uint8_t escaped[] = "esc: tab\t nl\n bell\a del\x7f bs\\ hi\xff nul\0 end";
    check_status(mvServerLog(escaped, sizeof escaped - 1), MV_STATUS_OKAY,
                 "mvServerLog(message with non-printable bytes)");
}

static struct MvNotification net_notifications[8] __attribute__((aligned(8)));

static void check_network(void)
{
    MvNetworkHandle network = (MvNetworkHandle)0x5A5A5A5Au;
    struct MvRequestNetworkParams params = { .version = 1 };
    check_status(mvRequestNetwork(&params, &network), MV_STATUS_INVALIDHANDLE,
                 "mvRequestNetwork without a notification center");
    check_u32((uint32_t)(uintptr_t)network, 0x5A5A5A5Au, "a refused mvRequestNetwork writes no handle");

    MvNotificationHandle center = 0;
    struct MvNotificationSetup setup = { .irq = 20, .buffer = net_notifications,
                                         .buffer_size = sizeof net_notifications };
    check_status(mvSetupNotifications(&setup, &center), MV_STATUS_OKAY, "notification center for the network");
    params.v1.notification_handle = center;
    params.v1.notification_tag = 77;
    params.version = 2;
    check_status(mvRequestNetwork(&params, &network), MV_STATUS_UNSUPPORTEDSTRUCTUREVERSION,
                 "mvRequestNetwork version 2");
    params.version = 1;
    check_status(mvRequestNetwork(&params, (MvNetworkHandle *)0x10000000u), MV_STATUS_PARAMETERFAULT,
                 "mvRequestNetwork into kernel memory");
    check_status(mvRequestNetwork(&params, &network), MV_STATUS_OKAY, "mvRequestNetwork");
    check_true(network != 0 && network != (MvNetworkHandle)0x5A5A5A5Au, "no handle", "a handle",
               "mvRequestNetwork gives a handle");
    enum MvNetworkStatus net_status = MV_NETWORKSTATUS_CONNECTED;
    check_status(mvGetNetworkStatus(network, &net_status), MV_STATUS_OKAY, "mvGetNetworkStatus");
    check_u32(net_status, MV_NETWORKSTATUS_DELIBERATELYOFFLINE, "no credentials: deliberately offline");
    check_status(mvGetNetworkStatus((MvNetworkHandle)0x1234u, &net_status), MV_STATUS_INVALIDHANDLE,
                 "mvGetNetworkStatus with a made-up handle");
    enum MvNetworkReason reasons = 0;
    uint32_t count = 99;
    check_status(mvGetNetworkReasons(&reasons, &count), MV_STATUS_OKAY, "mvGetNetworkReasons");
    check_u32(count, 1, "one open network request");
    check_u32((uint32_t)reasons & MV_NETWORKREASON_USINGNETWORK, MV_NETWORKREASON_USINGNETWORK,
              "reasons say USINGNETWORK");
    check_status(mvGetNetworkReasons(&reasons, (uint32_t *)0x38000000u), MV_STATUS_PARAMETERFAULT,
                 "mvGetNetworkReasons into kernel RAM");

    MvSystemEventHandle event = 0;
    struct MvOpenSystemNotificationParams event_params = {
        .notification_handle = center, .notification_tag = 5,
        .notification_source = (enum MvSystemNotificationSource)7 };
    check_status(mvOpenSystemNotification(&event_params, &event), MV_STATUS_PARAMETERFAULT,
                 "mvOpenSystemNotification from source 7");
    event_params.notification_source = MV_SYSTEMNOTIFICATIONSOURCE_NETWORK;
    check_status(mvOpenSystemNotification(&event_params, &event), MV_STATUS_OKAY,
                 "mvOpenSystemNotification(NETWORK)");
    carried.event = (uint32_t)(uintptr_t)event;
    check_status(mvCloseSystemNotification(&event), MV_STATUS_OKAY, "mvCloseSystemNotification");
    check_u32((uint32_t)(uintptr_t)event, 0, "mvCloseSystemNotification writes 0 back");
    event_params.notification_source = MV_SYSTEMNOTIFICATIONSOURCE_UPDATE;
    check_status(mvOpenSystemNotification(&event_params, &event), MV_STATUS_OKAY,
                 "mvOpenSystemNotification(UPDATE)");
    carried.event = (uint32_t)(uintptr_t)event;

    MvNetworkHandle released = network;
    check_status(mvReleaseNetwork(&released), MV_STATUS_OKAY, "mvReleaseNetwork");
    check_u32((uint32_t)(uintptr_t)released, 0, "mvReleaseNetwork writes 0 back");
    released = network;
    check_status(mvReleaseNetwork(&released), MV_STATUS_INVALIDHANDLE, "mvReleaseNetwork twice");
    check_status(mvRequestNetwork(&params, &network), MV_STATUS_OKAY, "mvRequestNetwork again");
    carried.network = (uint32_t)(uintptr_t)network;
}

static void check_unavailable(void)
{
    MvChannelHandle channel = (MvChannelHandle)0x5A5A5A5Au;
    struct MvOpenChannelParams channel_params = { .version = 1 };
    check_status(mvOpenChannel(&channel_params, &channel), MV_STATUS_UNKNOWNCHANNELENDPOINT,
                 "mvOpenChannel with no endpoint");
    check_u32((uint32_t)(uintptr_t)channel, 0x5A5A5A5Au, "refused mvOpenChannel writes no handle");

    check_status(mvSystemLedEnable(1), MV_STATUS_UNAVAILABLE, "mvSystemLedEnable");
    check_status(mvPowerSave(MV_POWERSAVINGMODE_SLEEP), MV_STATUS_UNAVAILABLE, "mvPowerSave");
}

/* Calls mvNoOp with every APSR flag set and r1-r3/r12 holding a pattern;
 * out[0] gets the status, out[1] APSR after the call, out[2] r1|r2|r3|r12. */
__attribute__((naked, noinline)) static void noop_with_flags(uint32_t out[3])
{
    __asm volatile(
        "    push {r4, lr}\n"
        "    mov r4, r0\n"
        "    ldr r1, =0xF80F0000\n"       /* N Z C V Q, GE[3:0] */
        "    msr APSR_nzcvqg, r1\n"
        "    ldr r1, =0x11111111\n"
        "    mov r2, r1\n"
        "    mov r3, r1\n"
        "    mov r12, r1\n"
        "    bl mvNoOp\n"
        "    mrs r1, APSR\n"
        "    str r0, [r4, #0]\n"
        "    str r1, [r4, #4]\n"
        "    orr r2, r2, r3\n"
        "    orr r2, r2, r12\n"
        "    str r2, [r4, #8]\n"
        "    pop {r4, pc}\n"
        "    .ltorg\n");
}

/* mvServerLog(message, length) with length passed as is in r1, whatever
 * its upper half holds (a C caller would have zero-extended it). */
__attribute__((naked, noinline)) static enum MvStatus server_log_raw(const uint8_t *message, uint32_t length)
{
    __asm volatile("b.w mvServerLog\n");
}

static void check_gate_abi(void)
{
    uint32_t out[3] = { 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu };
    noop_with_flags(out);
    check_status((enum MvStatus)out[0], MV_STATUS_OKAY, "mvNoOp with every flag set");
    check_u32(out[1] & 0xF80F0000u, 0, "the gate clears N Z C V Q and GE on return");
    check_u32(out[2], 0, "the gate clears r1-r3 and r12 on return");

    static const uint8_t widened[] = "widened";
    check_status(server_log_raw(widened, 0xABCD0000u | (sizeof widened - 1u)), MV_STATUS_OKAY,
                 "mvServerLog(uint16_t length with garbage above bit 15): the gate widens it");
}

static void first_run(void)
{
    check_wake_reason_cold();
    check_status(mvNoOp(), MV_STATUS_OKAY, "mvNoOp");
    check_time();
    check_clocks();
    check_device_id();
    check_peripherals();
    check_logging();
    check_gate_abi();
    check_network();
    check_unavailable();

    check_status(mvRestart((enum MvRestartMode)999), MV_STATUS_PARAMETERFAULT, "mvRestart(999)");
    check_status(mvRestart((enum MvRestartMode)1), MV_STATUS_PARAMETERFAULT, "mvRestart(1)");

    carried.magic = RUN_MAGIC;
    carried.checks = check_total;
    carried.failures = check_failures;
    (void)mvGetMicroseconds(&carried.last_us);
    printf("syscalls: restarting through mvRestart(AUTOAPPLYUPDATE)\n");
    fflush(stdout);
    enum MvStatus status = mvRestart(MV_RESTARTMODE_AUTOAPPLYUPDATE);
    carried.magic = 0;
    check_true(false, check_status_name(status), "no return", "mvRestart(AUTOAPPLYUPDATE) restarts the app");
    check_finish("syscalls", 0, 0);
}

static void second_run(enum MvWakeReason reason)
{
    carried.magic = 0;
    check_u32(reason, MV_WAKEREASON_REMOTEAPPLICATIONRESTART,
              "wake reason after mvRestart is REMOTEAPPLICATIONRESTART");
    uint64_t now = 0;
    check_status(mvGetMicroseconds(&now), MV_STATUS_OKAY, "mvGetMicroseconds after the restart");
    char before[21];
    check_true(now > carried.last_us, "not later", check_u64_text(before, carried.last_us),
               "time keeps counting across the app restart");

    static const char hello[] = "syscalls: second run";
    check_status(mvServerLog((const uint8_t *)hello, sizeof hello - 1), MV_STATUS_UNAVAILABLE,
                 "mvServerLog after restart: logging must be set up again");
    check_status(mvServerLoggingInit(log_buffer, sizeof log_buffer), MV_STATUS_OKAY,
                 "mvServerLoggingInit after restart: the buffer was released");
    check_status(mvServerLog((const uint8_t *)hello, sizeof hello - 1), MV_STATUS_OKAY,
                 "mvServerLog in the second run");

    enum MvNetworkStatus net_status;
    check_status(mvGetNetworkStatus((MvNetworkHandle)(uintptr_t)carried.network, &net_status),
                 MV_STATUS_INVALIDHANDLE, "a network handle of the last run is dead");
    MvSystemEventHandle event = (MvSystemEventHandle)(uintptr_t)carried.event;
    check_status(mvCloseSystemNotification(&event), MV_STATUS_INVALIDHANDLE,
                 "a system-event handle of the last run is dead");
    enum MvNetworkReason reasons = 0;
    uint32_t count = 99;
    check_status(mvGetNetworkReasons(&reasons, &count), MV_STATUS_OKAY, "mvGetNetworkReasons after restart");
    check_u32(count, 0, "no network request survives the restart");
    check_finish("syscalls", carried.checks, carried.failures);
}

int main(void)
{
    enum MvWakeReason reason = (enum MvWakeReason)0x55;
    (void)mvGetWakeReason(&reason);
    printf("syscalls: started, wake reason %u\n", (unsigned)reason);
    if (carried.magic == RUN_MAGIC) {
        second_run(reason);
    }
    if (reason != MV_WAKEREASON_COLDBOOT) {
        /* Restarted without the first run asking for it (a crash?): stop here. */
        check_u32(reason, MV_WAKEREASON_COLDBOOT, "no unexpected restart");
        check_finish("syscalls", 0, 0);
    }
    first_run();
}
