/*
 * crash_1000: 1000 crashes in a row leak nothing and leave nothing behind.
 * Each run, after a crash restart:
 *  - the kernel held no handle and no notification center when the run
 *    started (bwGetLastCrash: live_handles, open_notification_centers);
 *  - the run can open a notification center on the same IRQ and ring as the
 *    previous run did (the kernel closed the old one: else INVALIDINTERRUPT
 *    or BUFFERALREADYINUSE), trigger it and receive it, and attach the same
 *    server-log buffer (else BUFFERALREADYINUSE);
 *  - the crash was recorded with the next record number and crash count;
 *  - the wake reason is APPLICATIONCRASH and the kernel answers.
 * Then the run confirms itself healthy (so the restart is immediate) and
 * crashes again, cycling through four kinds of crash: an undefined
 * instruction, a store to kernel RAM, a load the bus rejects, and a crash
 * inside the notification interrupt's handler (the kernel must end that
 * active interrupt each time). Only failures and every 100th run print.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bulwark_board.h"
#include "bulwark_ext.h"
#include "mv_syscalls.h"

#define RUNS 1000u
#define RUN_MAGIC 0x31303030u
#define NOTIFY_IRQ 60u
#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))

static struct {
    uint32_t magic;
    uint32_t crashes;
    uint32_t failures;
    uint32_t checks;
    uint32_t first_sequence;
} carried __attribute__((section(".noinit")));

static struct MvNotification ring[4] __attribute__((aligned(8)));
static uint8_t log_buffer[512] __attribute__((aligned(512)));
static volatile uint32_t irq_hits;
static volatile uint32_t crash_in_irq;

static void expect(bool ok, const char *what, uint32_t got, uint32_t want)
{
    carried.checks++;
    if (!ok) {
        carried.failures++;
        printf("FAIL run %" PRIu32 ": %s: got %" PRIu32 " (0x%" PRIx32 ") want %" PRIu32 "\n",
               carried.crashes, what, got, got, want);
    }
}

#define EXPECT_EQ(got, want, what) \
    do { uint32_t g_ = (uint32_t)(got), w_ = (uint32_t)(want); expect(g_ == w_, what, g_, w_); } while (0)

void IRQ60_Handler(void);
void IRQ60_Handler(void)
{
    irq_hits++;
    if (crash_in_irq) {
        *(volatile uint32_t *)0x38000020u = 1u;   /* kernel RAM: SecureFault in handler mode */
    }
}

static void check_restart(void)
{
    struct BwCrashInfo info;
    memset(&info, 0, sizeof info);
    info.version = BW_CRASHINFO_VERSION_1;
    EXPECT_EQ(bwGetLastCrash(&info), MV_STATUS_OKAY, "bwGetLastCrash");
    if (carried.crashes == 1u) {
        carried.first_sequence = info.v1.sequence;
    }
    EXPECT_EQ(info.v1.sequence, carried.first_sequence + carried.crashes - 1u, "record number");
    EXPECT_EQ(info.v1.crash_count, carried.crashes, "crash count");
    EXPECT_EQ(info.v1.crashes_since_healthy, 1u, "crashes since healthy");
    EXPECT_EQ(info.v1.restart_delay_ms, 0u, "backoff after a healthy run");
    EXPECT_EQ(info.v1.live_handles, 0u, "kernel handles live at start");
    EXPECT_EQ(info.v1.open_notification_centers, 0u, "notification centers open at start");
    static const uint32_t classes[4] = { BW_CRASHCLASS_UNDEFINEDINSTRUCTION, BW_CRASHCLASS_SECUREACCESS,
                                         BW_CRASHCLASS_INVALIDACCESS, BW_CRASHCLASS_SECUREACCESS };
    EXPECT_EQ(info.v1.crash_class, classes[(carried.crashes - 1u) % 4u], "crash class");
    EXPECT_EQ(info.v1.app_exception, (carried.crashes - 1u) % 4u == 3u ? 16u + NOTIFY_IRQ : 0u,
              "crash context");
}

int main(void)
{
    enum MvWakeReason reason = (enum MvWakeReason)0x55;
    (void)mvGetWakeReason(&reason);
    if (reason == MV_WAKEREASON_COLDBOOT || carried.magic != RUN_MAGIC) {
        memset(&carried, 0, sizeof carried);
        carried.magic = RUN_MAGIC;
        EXPECT_EQ(reason, MV_WAKEREASON_COLDBOOT, "wake reason of the first run");
    } else {
        EXPECT_EQ(reason, MV_WAKEREASON_APPLICATIONCRASH, "wake reason");
        EXPECT_EQ(mvNoOp(), MV_STATUS_OKAY, "the kernel answers");
        check_restart();
    }

    MvNotificationHandle handle = 0;
    struct MvNotificationSetup setup = { .irq = NOTIFY_IRQ, .buffer = ring, .buffer_size = sizeof ring };
    EXPECT_EQ(mvSetupNotifications(&setup, &handle), MV_STATUS_OKAY, "the same notification center again");
    EXPECT_EQ(mvServerLoggingInit(log_buffer, sizeof log_buffer), MV_STATUS_OKAY, "the same log buffer again");
    NVIC_ISER(NOTIFY_IRQ / 32u) = 1u << (NOTIFY_IRQ % 32u);
    uint32_t hits = irq_hits;
    EXPECT_EQ(mvTempTriggerNotification(handle, MV_EVENTTYPE_CHANNELDATAREADABLE, carried.crashes),
              MV_STATUS_OKAY, "trigger");
    __asm volatile("dsb\n isb" : : : "memory");
    EXPECT_EQ(irq_hits - hits, 1u, "the notification interrupt ran");
    EXPECT_EQ(ring[0].tag, carried.crashes, "the notification arrived");

    if (carried.crashes == RUNS) {
        printf("crash-1000: %" PRIu32 " crashes, %" PRIu32 " checks, %" PRIu32 " failed\n",
               carried.crashes, carried.checks, carried.failures);
        fflush(stdout);
        carried.magic = 0;
        board_exit(carried.failures == 0 ? 0u : 1u);
    }
    if (carried.crashes % 100u == 0) {
        printf("crash-1000: run %" PRIu32 ", %" PRIu32 " failed so far\n", carried.crashes, carried.failures);
        fflush(stdout);
    }
    EXPECT_EQ(bwAppConfirmHealthy(), MV_STATUS_OKAY, "bwAppConfirmHealthy");
    uint32_t kind = carried.crashes % 4u;
    carried.crashes++;
    switch (kind) {
    case 0:
        __asm volatile("udf #0x42");
        break;
    case 1:
        *(volatile uint32_t *)0x38000020u = 1u;
        break;
    case 2:
        (void)*(volatile uint32_t *)0x4FFF0000u;
        break;
    default:
        crash_in_irq = 1;
        (void)mvTempTriggerNotification(handle, MV_EVENTTYPE_CHANNELDATAREADABLE, 0);
        break;
    }
    printf("FAIL run %" PRIu32 ": no crash\n", carried.crashes);
    board_exit(1);
}
