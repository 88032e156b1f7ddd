/*
 * Test kernel hook (bulwark-kernel-noconfirm): a kernel that never confirms
 * its trial (docs/SPEC.md §19.5), linked with --wrap=bw_kslots_confirm, so
 * that the boot stub's bounded trial and revert can be shown on QEMU.
 */
#include "bw_kernel_slots.h"

bw_err __wrap_bw_kslots_confirm(const bw_flash_partition *state_partition, bool *confirmed);

/* Confirms nothing, as a kernel whose app or cloud never came up. */
bw_err __wrap_bw_kslots_confirm(const bw_flash_partition *state_partition, bool *confirmed)
{
    (void)state_partition;
    *confirmed = false;
    return BW_OK;
}
