/*
 * Test kernel hook (bulwark-kernel-noconfirm-deadline): a kernel on trial
 * resets after 3 s unconfirmed instead of BW_KERNEL_TRIAL_DEADLINE_S, so
 * that the whole bounded trial and the stub's revert run in one power-on.
 */
#include <stdint.h>

uint32_t kernel_trial_deadline_s(void);

uint32_t kernel_trial_deadline_s(void)
{
    return 3u;
}
