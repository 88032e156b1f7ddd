/*
 * The kernel's use of the update engine (bw_update.h): configuring it from the
 * board's partitions and the provisioned keys at boot, installing a received
 * bundle, and rolling back when crash supervision finds a crash loop.
 * Kernel loop / supervisor thread only (never an interrupt or a system call).
 */
#ifndef UPDATE_SERVICE_H
#define UPDATE_SERVICE_H

#include <stdbool.h>

#include "bw_update.h"
#include "mv_syscalls.h"

/* Runs the engine's boot step (finishing an interrupted install or rollback)
 * and says how the app starts: *reason its wake reason; false if no verified
 * app is left to run (the app stays parked). Kernel start, before the app. */
bool update_service_boot(enum MvWakeReason *reason);

/* Installs the downloaded bundle now (the app is stopped: the kernel loop
 * preempts it) and restarts the app: the new one with
 * MV_WAKEREASON_APPLICATIONUPDATE, or the old one if the install failed.
 * A downloaded kernel is staged instead (update_service_kernel_staged).
 * BW_OK once the new app is installed; else the engine's error, with its
 * reason in *why (may be NULL). Local (link) and cloud (OTA) delivery. */
bw_err update_service_install(bw_update_diag *why);

/* The running kernel's version as its seal states it (what the boot stub
 * verified; the build's version when the board does not seal its kernel). */
uint32_t update_service_kernel_version(void);

/* True once update_service_install staged a kernel (docs/SPEC.md §19.6):
 * the app stays stopped and the next update_service_poll resets the chip
 * into the boot stub, which swaps the kernel in. */
bool update_service_kernel_staged(void);

/* Provisioning stored new credentials: their update keys are trusted from
 * now on (no restart needed). */
void update_service_credentials_changed(void);

/* Kernel loop: persists the running app's health once crash supervision has
 * seen it healthy (ends its trial, so a new download may replace the
 * last-known-good). */
void update_service_poll(void);

#endif
