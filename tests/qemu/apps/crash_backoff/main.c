/*
 * crash_backoff: the restart backoff and the crash-loop state, measured in
 * guest time (run with -icount: mvGetMicroseconds counts instructions; idle
 * time is skipped, so the 30 s waits cost no wall time). Promises checked,
 * one crash per run, with the default policy (100 ms .. 30 s, K = 3,
 * healthy after 10 s):
 *  - first, an app asleep in WFI with interrupts masked (PRIMASK), for three
 *    times the hang timeout, is not taken for a hung one: no crash;
 *  - a new app on probation: crash 1 restarts at once, crash 2 after 100 ms,
 *    crash 3 makes a crash loop (flagged in the record) and, with no
 *    last-known-good app to roll back to, parks the app at the maximum
 *    backoff, 30 s; it stays parked (crash 4: 30 s again);
 *  - bwAppConfirmHealthy ends probation and resets the backoff: the next
 *    crash restarts at once, then 100, 200, 400 ... ms, doubling up to the
 *    30 s cap, with no crash loop (the app was healthy once);
 *  - running 10 s without a crash is healthy too: the next crash restarts
 *    at once again, the one after waits 100 ms;
 *  - every restart comes after the chosen backoff, at most two supervision
 *    ticks (LATE_US) late, and the kernel never resets.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bulwark_board.h"
#include "bulwark_ext.h"
#include "check.h"
#include "mv_syscalls.h"

#define RUN_MAGIC 0x424B4F46u
/* Restarts come within two supervision ticks (10 ms) of the backoff: the
 * kernel waits in WFI for its tick, and under -icount sleep=off QEMU wakes
 * a WFI one timer period late (measured: 10 ms ticks seen at 20 ms steps). */
#define LATE_US 20000u
#define SLACK_US 2000u

typedef struct step {
    uint32_t delay_ms;         /* backoff the kernel must choose for this crash */
    uint32_t since_healthy;    /* its crashes_since_healthy */
    uint32_t loop_action;      /* enum BwCrashLoopAction */
    uint8_t before;            /* what the run does before crashing */
} step;

enum { JUST_CRASH, CONFIRM_HEALTHY, RUN_HEALTHY_PERIOD };

static const step steps[] = {
    { 0, 1, BW_CRASHLOOPACTION_NONE, JUST_CRASH },
    { 100, 2, BW_CRASHLOOPACTION_NONE, JUST_CRASH },
    { 30000, 3, BW_CRASHLOOPACTION_PARKED, JUST_CRASH },
    { 30000, 4, BW_CRASHLOOPACTION_PARKED, JUST_CRASH },
    { 0, 1, BW_CRASHLOOPACTION_NONE, CONFIRM_HEALTHY },
    { 100, 2, BW_CRASHLOOPACTION_NONE, JUST_CRASH },
    { 200, 3, BW_CRASHLOOPACTION_NONE, JUST_CRASH },
    { 400, 4, BW_CRASHLOOPACTION_NONE, JUST_CRASH },
    { 800, 5, BW_CRASHLOOPACTION_NONE, JUST_CRASH },
    { 1600, 6, BW_CRASHLOOPACTION_NONE, JUST_CRASH },
    { 3200, 7, BW_CRASHLOOPACTION_NONE, JUST_CRASH },
    { 6400, 8, BW_CRASHLOOPACTION_NONE, JUST_CRASH },
    { 12800, 9, BW_CRASHLOOPACTION_NONE, JUST_CRASH },
    { 25600, 10, BW_CRASHLOOPACTION_NONE, JUST_CRASH },
    { 30000, 11, BW_CRASHLOOPACTION_NONE, JUST_CRASH },
    { 30000, 12, BW_CRASHLOOPACTION_NONE, JUST_CRASH },
    { 0, 1, BW_CRASHLOOPACTION_NONE, RUN_HEALTHY_PERIOD },
    { 100, 2, BW_CRASHLOOPACTION_NONE, JUST_CRASH },
};
#define STEP_COUNT (sizeof steps / sizeof steps[0])

static struct {
    uint32_t magic;
    uint32_t next;            /* the step this run performs */
    uint32_t checks;
    uint32_t failures;
    uint64_t before_crash_us;
} carried __attribute__((section(".noinit")));

static uint64_t now_us(void)
{
    uint64_t now = 0;
    (void)mvGetMicroseconds(&now);
    return now;
}

static void check_previous(uint32_t index, uint64_t restarted_us)
{
    const step *s = &steps[index];
    struct BwCrashInfo info;
    memset(&info, 0, sizeof info);
    info.version = BW_CRASHINFO_VERSION_1;
    check_status(bwGetLastCrash(&info), MV_STATUS_OKAY, "crash %" PRIu32 ": bwGetLastCrash", index + 1u);
    check_u32(info.v1.crash_class, BW_CRASHCLASS_UNDEFINEDINSTRUCTION, "crash %" PRIu32 ": class", index + 1u);
    check_u32(info.v1.crash_count, index + 1u, "crash %" PRIu32 ": crashes since the kernel started", index + 1u);
    check_u32(info.v1.crashes_since_healthy, s->since_healthy, "crash %" PRIu32 ": crashes since healthy",
              index + 1u);
    check_u32(info.v1.loop_action, s->loop_action, "crash %" PRIu32 ": crash-loop action", index + 1u);
    check_u32((info.v1.flags & BW_CRASHINFO_FLAG_CRASH_LOOP) != 0,
              s->loop_action != BW_CRASHLOOPACTION_NONE, "crash %" PRIu32 ": crash-loop flag", index + 1u);
    check_u32(info.v1.restart_delay_ms, s->delay_ms, "crash %" PRIu32 ": backoff (ms)", index + 1u);
    uint64_t took = restarted_us - carried.before_crash_us;
    check_u64_between(took, (uint64_t)s->delay_ms * 1000u,
                      (uint64_t)s->delay_ms * 1000u + LATE_US + SLACK_US,
                      "crash %" PRIu32 ": restarted after the backoff (us, guest time)", index + 1u);
    printf("backoff: crash %" PRIu32 ": chose %" PRIu32 " ms, restarted after %" PRIu32 " us\n",
           index + 1u, info.v1.restart_delay_ms, (uint32_t)took);
}

int main(void)
{
    uint64_t started = now_us();
    enum MvWakeReason reason = (enum MvWakeReason)0x55;
    check_status(mvGetWakeReason(&reason), MV_STATUS_OKAY, "mvGetWakeReason");
    if (reason == MV_WAKEREASON_COLDBOOT || carried.magic != RUN_MAGIC) {
        check_u32(reason, MV_WAKEREASON_COLDBOOT, "a run without carried state is a cold boot");
        memset(&carried, 0, sizeof carried);
        carried.magic = RUN_MAGIC;
        /* Asleep with interrupts masked, as a tickless idle loop does: the
         * kernel's tick wakes the WFI and must not call it a hang. */
        __asm volatile("cpsid i" : : : "memory");
        while (now_us() - started < 1500000u) {
            __asm volatile("wfi");
        }
        __asm volatile("cpsie i" : : : "memory");
        struct BwCrashInfo info;
        memset(&info, 0, sizeof info);
        info.version = BW_CRASHINFO_VERSION_1;
        check_status(bwGetLastCrash(&info), MV_STATUS_OKAY, "bwGetLastCrash after a masked sleep");
        check_u32(info.v1.sequence, 0, "1.5 s asleep in WFI with PRIMASK set is not a hang");
    } else {
        check_total += carried.checks;
        check_failures += carried.failures;
        check_u32(reason, MV_WAKEREASON_APPLICATIONCRASH, "run %" PRIu32 ": wake reason", carried.next);
        check_previous(carried.next - 1u, started);
    }
    if (carried.next == STEP_COUNT) {
        carried.magic = 0;
        check_finish("backoff", 0, 0);
    }
    const step *s = &steps[carried.next];
    if (s->before == CONFIRM_HEALTHY) {
        check_status(bwAppConfirmHealthy(), MV_STATUS_OKAY, "bwAppConfirmHealthy");
    } else if (s->before == RUN_HEALTHY_PERIOD) {
        while (now_us() - started < 10500000u) {
            __asm volatile("wfi");   /* the kernel's tick wakes the app */
        }
    }
    carried.next++;
    carried.checks = check_total;
    carried.failures = check_failures;
    fflush(stdout);
    carried.before_crash_us = now_us();
    __asm volatile("udf #0x42");
    return 0;
}
