/* The kernel's trial (kernel_trial.h). */
#include "kernel_trial.h"

#include <stdbool.h>

#include "arch.h"
#include "bw_config.h"
#include "bw_crash.h"
#include "bw_kernel_slots.h"
#include "bw_log.h"
#include "bw_ota.h"
#include "bw_port.h"
#include "cloud_service.h"
#include "update_service.h"

static bool done;            /* the confirm was tried (once per boot) */
static bool confirmed_now;   /* and it wrote the *confirmed* record */
static int trial_read = -1;  /* the journal's newest record is a trial (-1: not read yet) */
static uint32_t trial_tag;   /* that record's tag: the deployment that staged this kernel */

bool kernel_trial_on_trial(void)
{
    const bw_flash_partition *journal = port_flash_partition(BW_PARTITION_KERNEL_STATE);
    if (trial_read < 0 && journal != NULL) {
        bw_journal j;
        bw_kstate state;
        trial_read = bw_kstate_load(&j, journal, &state) == BW_OK && state.state == BW_KSTATE_TRIAL;
        trial_tag = trial_read > 0 ? state.tag : 0u;
    }
    return trial_read > 0 && !confirmed_now;
}

/* How long a kernel on trial may run unconfirmed before it resets, so that
 * the stub counts its boots (weak: a test kernel sets a short one). */
__attribute__((weak)) uint32_t kernel_trial_deadline_s(void)
{
    return BW_KERNEL_TRIAL_DEADLINE_S;
}

/* A kernel that cannot confirm (its app never healthy, its cloud never
 * reached) must not run on unconfirmed for good: the stub reverts it only
 * after BW_KSLOTS_TRIAL_BOOTS boots, and such a kernel may never reset. */
static void trial_deadline(void)
{
    bool on_trial = kernel_trial_on_trial();
    arch_kernel_loop_every_tick(ARCH_TICKS_TRIAL, on_trial);   /* the deadline waits on time */
    uint64_t up_s = port_time_us() / 1000000u;
    uint32_t deadline_s = kernel_trial_deadline_s();
    if (!on_trial || up_s < deadline_s) {
        return;
    }
    bw_log("kernel: on trial and not confirmed after %u s (app healthy: %s, cloud reached: %s): resetting "
           "so that the boot stub counts this trial boot", (unsigned)deadline_s,
           bw_crash_app_healthy() ? "yes" : "no", cloud_service_reached() ? "yes" : "no");
    bw_crash_app_pause(true);   /* the kernel's own reset: not the app's crash */
    arch_reset_for_kernel_update();
}

void kernel_trial_poll(void)
{
    const bw_flash_partition *journal = port_flash_partition(BW_PARTITION_KERNEL_STATE);
    if (journal == NULL) {
        return;
    }
    trial_deadline();
    if (done || !bw_crash_app_healthy() || !cloud_service_reached()) {
        return;
    }
    done = true;
    bool confirmed = false;
    bw_err err = bw_kslots_confirm(journal, &confirmed);
    if (err != BW_OK) {
        bw_log("kernel: trial not confirmed (flash error %d); the stub will go back", (int)err);
    } else if (confirmed) {
        confirmed_now = true;
        bw_log("kernel: confirmed after its trial; the boot stub raises the counter at the next reset");
        bw_ota_kernel_confirmed(update_service_kernel_version(), trial_tag, port_time_us() / 1000u);
    }
}
