/*
 * update: the app the local-delivery tests install (tests/qemu/run_update_test.py,
 * kill_test.py). It says which build it is and why it started, then beats:
 *   update-app: A version 1 started, wake reason 0
 *   update-app: A version 1 heartbeat 1 ...
 * The version lives in a marker in .rodata ("BVERMARK", version, ~version)
 * that the tests patch in the ELF before they build a bundle from it, so one
 * build serves every version; APP_NAME (A or B) makes two different images.
 * The app confirms itself healthy at once, so a new install's trial ends
 * and the next delivery may start. APP_PADDING adds that many bytes of
 * .rodata (the 256 KiB bench app).
 *
 * It also prints what the kernel says about updates and the last crash
 * (bwGetUpdateInfo, bwGetLastCrash), so that an app put back by a rollback
 * shows it can read why. A build patched to a version of CRASHING_VERSION or
 * more crashes at once instead (the crash-looping app of the rollback test);
 * one patched to UNCONFIRMED_VERSION up to CRASHING_VERSION never confirms
 * itself healthy (it stays on trial and on probation for 10 s: the app the
 * reset-loop tests reset while it runs).
 */
#include <stdint.h>
#include <string.h>

#include "bulwark_board.h"
#include "bulwark_ext.h"
#include "mv_syscalls.h"

#ifndef APP_NAME
#define APP_NAME "A"
#endif
#define HEARTBEAT_US 50000u
#define CRASHING_VERSION 1000u
#define UNCONFIRMED_VERSION 500u

static const volatile struct {
    char magic[8];
    uint32_t version;
    uint32_t check;
} app_marker = { { 'B', 'V', 'E', 'R', 'M', 'A', 'R', 'K' }, 1u, ~1u };

#ifdef APP_PADDING
/* Deterministic, not blank (0xFF would not be programmed) and not constant. */
#define PAD16(x) x, x + 1, x + 2, x + 3, x + 4, x + 5, x + 6, x + 7, x + 8, x + 9, x + 10, \
                 x + 11, x + 12, x + 13, x + 14, x + 15
static const volatile uint8_t padding[APP_PADDING] __attribute__((used)) = { PAD16(1) };
#endif

static void put(const char *text)
{
    board_console_write(text, strlen(text));
}

static void put_u32(uint32_t v)
{
    char buf[11];
    size_t at = sizeof buf;
    do {
        buf[--at] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    board_console_write(buf + at, sizeof buf - at);
}

static void say(const char *what, uint32_t number)
{
    put("update-app: " APP_NAME " version ");
    put_u32(app_marker.version);
    put(what);
    put_u32(number);
    put("\n");
}

int main(void)
{
    enum MvWakeReason reason = MV_WAKEREASON_COLDBOOT;
    (void)mvGetWakeReason(&reason);
    if (app_marker.check != ~app_marker.version) {
        put("update-app: " APP_NAME " version marker corrupt\n");
    }
    say(" started, wake reason ", (uint32_t)reason);
    if (app_marker.version >= CRASHING_VERSION) {
        *(volatile uint32_t *)0x38000000u = 0;   /* kernel RAM: a SecureFault, every run */
    }
    struct BwUpdateInfo info = { .version = BW_UPDATEINFO_VERSION_1 };
    if (bwGetUpdateInfo(&info) == MV_STATUS_OKAY) {
        say(" last rollback cause ", (uint32_t)info.v1.last_rollback_cause);
    }
    struct BwCrashInfo crash = { .version = BW_CRASHINFO_VERSION_1 };
    if (bwGetLastCrash(&crash) == MV_STATUS_OKAY && crash.v1.sequence != 0) {
        say(" last crash of app version ", crash.v1.app_version);
        say(" last crash class ", (uint32_t)crash.v1.crash_class);
        say(" last crash loop action ", (uint32_t)crash.v1.loop_action);
        say(" last crash class ", crash.v1.crash_class);
    }
    if (app_marker.version < UNCONFIRMED_VERSION) {
        (void)bwAppConfirmHealthy();
    }
#ifdef APP_PADDING
    say(" padding byte ", padding[APP_PADDING - 1u]);
#endif
    uint64_t next = 0;
    for (uint32_t beat = 1;; beat++) {
        uint64_t now = 0;
        do {
            (void)mvGetMicroseconds(&now);
        } while (now < next);
        next = now + HEARTBEAT_US;
        say(" heartbeat ", beat);
    }
}
