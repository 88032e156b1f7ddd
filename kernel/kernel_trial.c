/* The kernel's trial (kernel_trial.h). */
#include "kernel_trial.h"

#include <stdbool.h>

#include "bw_crash.h"
#include "bw_kernel_slots.h"
#include "bw_log.h"
#include "bw_port.h"
#include "cloud_service.h"

void kernel_trial_poll(void)
{
    static bool done;
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
        bw_log("kernel: confirmed after its trial; the boot stub raises the counter at the next reset");
    }
}
