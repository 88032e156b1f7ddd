/*
 * A kernel on trial confirms itself (docs/SPEC.md §19.5): once the app has
 * been healthy and, where a cloud is configured, the cloud link has been
 * online. Kernel loop only.
 */
#ifndef KERNEL_TRIAL_H
#define KERNEL_TRIAL_H

#include <stdbool.h>
#include <stdint.h>

/* Confirms the running kernel's trial once both hold (at most once per boot;
 * nothing to do unless the kernel-state journal says "trial"). Every kernel
 * loop pass; cheap until then. */
void kernel_trial_poll(void);

/* True while the running kernel is on trial: the journal said "trial" at
 * boot and it has not confirmed itself since (STATUS, SPEC §9.2). */
bool kernel_trial_on_trial(void);

/* Seconds of uptime a kernel on trial may run unconfirmed before it resets
 * itself (BW_KERNEL_TRIAL_DEADLINE_S; weak, for test kernels). */
uint32_t kernel_trial_deadline_s(void);

#endif
