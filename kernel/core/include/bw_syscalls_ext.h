/*
 * The kernel side of Bulwark's extension calls (sdk/include/bulwark_ext.h),
 * appended to the gate in sdk/syscalls.def. Same rules as bw_syscalls.h:
 * exactly the app's prototypes, every argument untrusted, a failed call
 * changes nothing and writes no app memory.
 */
#ifndef BW_SYSCALLS_EXT_H
#define BW_SYSCALLS_EXT_H

#include "bulwark_ext.h"

/* bwAppConfirmHealthy: marks the running app healthy (bw_crash_confirm_healthy). OKAY. */
enum MvStatus bw_sys_app_confirm_healthy(void);

/* bwGetLastCrash: the newest crash record and this run's start state.
 * PARAMETERFAULT unless *info is wholly app read-write memory;
 * UNSUPPORTEDSTRUCTUREVERSION unless info->version is 1. */
enum MvStatus bw_sys_get_last_crash(struct BwCrashInfo *info);

/* bwGetUpdateInfo: the update engine's state for the running app.
 * PARAMETERFAULT unless *info is wholly app read-write memory;
 * UNSUPPORTEDSTRUCTUREVERSION unless info->version is 1. */
enum MvStatus bw_sys_get_update_info(struct BwUpdateInfo *info);

#endif
