/* The kernel's trial (kernel_trial.h). */
#include "kernel_trial.h"

#include <stdbool.h>

#include "bw_crash.h"
#include "bw_kernel_slots.h"
#include "bw_log.h"
#include "bw_ota.h"
#include "bw_port.h"
#include "cloud_service.h"
#include "update_service.h"

static bool done;            /* the confirm was tried (once per boot) */
static bool confirmed_now;   /* and it wrote the *confirmed* record */

bool kernel_trial_on_trial(void)
{
    static int on_trial = -1;   /* unknown until the journal is read */
    const bw_flash_partition *journal = port_flash_partition(BW_PARTITION_KERNEL_STATE);
    if (on_trial < 0 && journal != NULL) {
        bw_journal j;
        bw_kstate state;
        on_trial = bw_kstate_load(&j, journal, &state) == BW_OK && state.state == BW_KSTATE_TRIAL;
    }
    return on_trial > 0 && !confirmed_now;
}

void kernel_trial_poll(void)
{
    const bw_flash_partition *journal = port_flash_partition(BW_PARTITION_KERNEL_STATE);
    if (done || journal == NULL || !bw_crash_app_healthy() || !cloud_service_reached()) {
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
        bw_ota_kernel_confirmed(update_service_kernel_version(), port_time_us() / 1000u);
    }
}
