/*
 * The armv8m TrustZone layer: starting, stopping and restarting the app in the
 * non-secure world, and catching its faults.
 */
#ifndef ARCH_H
#define ARCH_H

#include <stdint.h>

#include "mv_syscalls.h"

/* Configures the SAU and the secure exception set-up. Called by kernel_main after board_init. */
void arch_init(void);

/* Starts the app for the first time with the given wake reason; never returns. */
void arch_app_start(enum MvWakeReason reason) __attribute__((noreturn));

/* Asks for the app to be restarted in place with this wake reason once the
 * current kernel code returns (pends the secure PendSV). */
void arch_app_restart(enum MvWakeReason reason);

#endif
