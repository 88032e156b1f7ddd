/*
 * The kernel's entry after its reset code: bring up the board and the
 * TrustZone set-up, start the portable core, let the update engine finish
 * any interrupted work, count a chip reset that struck while the app ran as
 * its crash (which may roll it back, or hold its start back), then hand the
 * CPU to the app.
 */
#include "arch.h"
#include "board.h"
#include "bw_board.h"
#include "bw_crash.h"
#include "bw_credentials.h"
#include "bw_debug_patch.h"
#include "bw_kernel.h"
#include "bw_log.h"
#include "bw_port.h"
#include "bw_version.h"
#include "cloud_service.h"
#include "kernel_trial.h"
#include "link_service.h"
#include "update_service.h"

/* The kernel loop (arch.h): runs in PendSV_S whenever something pends it
 * (an app restart, a byte on the update link). */
void kernel_loop_work(void)
{
    update_service_poll();
    link_service_work();
    cloud_service_work();
    kernel_trial_poll();
}

/* Loads the device credentials, making the device's key pair on the first
 * boot, and says in one line where they stand (docs/SPEC.md §12). */
static void credentials_boot(void)
{
    bool created = false;
    bw_err err = bw_credentials_boot(port_flash_partition(BW_PARTITION_CREDENTIALS), &created);
    if (created) {
        bw_log("credentials: device key created");
    }
    if (err != BW_OK) {
        bw_log("credentials: unavailable (error %d): no device key", (int)err);
        return;
    }
    char id[BW_DEVICE_ID_LEN + 1] = {0};
    if (bw_credentials_provisioned() && bw_device_id_text(id) == BW_OK) {
        bw_log("credentials: device %s provisioned for broker %s:%u", id,
               bw_credentials_broker_host(), (unsigned)bw_credentials_broker_port());
    } else if (bw_credentials_provisioned()) {
        bw_log("credentials: provisioned for broker %s:%u, but the device has no identity record",
               bw_credentials_broker_host(), (unsigned)bw_credentials_broker_port());
    } else {
        bw_log("credentials: not provisioned (key ready)");
    }
}

/* Undoes what a debugger lost with the power left in the app slot (a
 * sector being patched, breakpoints), before the slot is measured. */
static void debug_patch_boot(void)
{
    uint32_t undone = 0;
    bw_err err = bw_debug_patch_boot(port_flash_partition(BW_PARTITION_APP_SLOT),
                                     port_flash_partition(BW_PARTITION_DEBUG_PATCH), &undone);
    if (undone != 0) {
        bw_log("debug: %u breakpoints a lost debugger left in flash removed", (unsigned)undone);
    }
    if (err != BW_OK && err != BW_E_UNAVAILABLE) {
        bw_log("debug: flash breakpoints unavailable (error %d): the app slot may hold a torn patch",
               (int)err);
    }
}

void kernel_main(void) __attribute__((noreturn));
void kernel_main(void)
{
    board_init();
    arch_init();
    bw_log("Bulwark kernel %s on %s", BW_KERNEL_VERSION_STRING, BOARD_NAME);
    bw_err err = bw_kernel_init();
    if (err != BW_OK) {
        bw_log("kernel core init failed (error %d): handles are unavailable", (int)err);
    }
    credentials_boot();
    debug_patch_boot();
    /* Finish an interrupted install or rollback before the app may run. */
    enum MvWakeReason update_reason;
    bool have_app = update_service_boot(&update_reason);
    enum MvWakeReason reason = arch_boot_wake_reason();
    uint32_t delay_ms;
    bool rolled_back;
    if (bw_crash_boot_reset(&delay_ms, &rolled_back)) {
        /* The app crashed by a reset: it is told so, unless the kernel itself
         * noted why it reset (its fault, its watchdog) and no rollback replaced it. */
        if (rolled_back || reason == MV_WAKEREASON_COLDBOOT) {
            reason = MV_WAKEREASON_APPLICATIONCRASH;
        }
    } else if (update_reason != MV_WAKEREASON_COLDBOOT) {
        reason = update_reason;
    }
    if (!have_app) {
        arch_app_park();
    }
    arch_app_start_after(reason, delay_ms);
}
