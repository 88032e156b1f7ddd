/*
 * Kernel-wide state of the core: start-up, and what belongs to one run of the
 * app (its wake reason, its notification centers, its server-log buffer).
 *
 * Life cycle, driven by the arch layer:
 *   bw_kernel_init()                      once, at kernel start, before the app runs;
 *   bw_kernel_app_starting(reason)        before every app start and restart;
 *   ... the app runs and makes system calls ...
 */
#ifndef BW_KERNEL_H
#define BW_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "bw_config.h"
#include "bw_err.h"
#include "mv_syscalls.h"

/* Seeds the random generator, empties every table and opens the crash log
 * (bw_crash_init); the wake reason becomes
 * MV_WAKEREASON_COLDBOOT. Thread mode, before the app first runs. Returns the
 * bw_random_init error (the tables are reset even then; handle allocation
 * will fail until a later bw_kernel_init succeeds). */
bw_err bw_kernel_init(void);

/* Forgets everything the previous run of the app set up: closes every
 * notification center and retires its handles, drops the server-log buffer,
 * records `reason` for mvGetWakeReason, and starts crash supervision of the
 * new run (bw_crash_app_starting). Call it with the app stopped: no
 * system call may be in progress or resume afterwards (a call interrupted by
 * the app's teardown is abandoned, never continued). */
void bw_kernel_app_starting(enum MvWakeReason reason);

/* Why the current run of the app started. ISR-safe. */
enum MvWakeReason bw_kernel_wake_reason(void);

/* Hands the kernel the app's server-log buffer [buffer, buffer + length) for
 * this run of the app (the caller validated it). BW_E_IN_USE if one is
 * already set. */
bw_err bw_kernel_server_log_attach(uintptr_t buffer, uint32_t length);

/* True once the app has attached a server-log buffer in this run. ISR-safe. */
bool bw_kernel_server_log_ready(void);

/* The device's 16-byte identity, read through port_provisioning_read and
 * checked (bw_identity.h). BW_E_IO if the device is not provisioned. */
bw_err bw_device_identity(uint8_t identity[16]);

/* The printable device ID, "BW" + 32 uppercase hex digits (docs/SPEC.md §3),
 * no terminator. BW_E_IO (and zeros) if the device is not provisioned. */
bw_err bw_device_id_text(char id[BW_DEVICE_ID_LEN]);

#endif
