/*
 * Bulwark's extension calls (bw_syscalls_ext.h): crash supervision.
 * Check order as in bw_syscalls.c: pointers, then the struct's version (read
 * from the app's copy), then the result is built in kernel memory (zeroed
 * first: no secure bytes in padding) and copied out whole.
 */
#include <string.h>

#include "bw_app_mem.h"
#include "bw_crash.h"
#include "bw_syscalls.h"
#include "bw_syscalls_ext.h"
#include "bw_update.h"

#define SAME_PROTOTYPE(app_call, impl) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&app_call), __typeof__(&impl)), \
                   #impl " must match the prototype of " #app_call)
SAME_PROTOTYPE(bwAppConfirmHealthy, bw_sys_app_confirm_healthy);
SAME_PROTOTYPE(bwGetLastCrash, bw_sys_get_last_crash);
SAME_PROTOTYPE(bwGetUpdateInfo, bw_sys_get_update_info);
_Static_assert(BW_ROLLBACKCAUSE_CRASHLOOP == (int)BW_ROLLBACK_CRASH_LOOP
               && BW_ROLLBACKCAUSE_INSTALLFAILED == (int)BW_ROLLBACK_INSTALL_FAILED,
               "enum BwRollbackCause mirrors bw_rollback_cause");

/* The public enums are the record's values. */
_Static_assert(BW_CRASHCLASS_HANG == (int)BW_CRASH_CLASS_HANG
               && BW_CRASHCLASS_INVALIDACCESS == (int)BW_CRASH_CLASS_INVALID_ACCESS
               && BW_CRASHCLASS_UNHANDLEDINTERRUPT == (int)BW_CRASH_CLASS_UNHANDLED_INTERRUPT
               && BW_CRASHCLASS_BADKERNELCALL == (int)BW_CRASH_CLASS_BAD_KERNEL_CALL
               && BW_CRASHCLASS_KERNELRESET == (int)BW_CRASH_CLASS_KERNEL_RESET
               && BW_CRASH_CLASS_COUNT == 14, "enum BwCrashClass mirrors bw_crash_class");
_Static_assert(BW_CRASHLOOPACTION_ROLLEDBACK == (int)BW_CRASH_LOOP_ROLLED_BACK
               && BW_CRASHLOOPACTION_PARKED == (int)BW_CRASH_LOOP_PARKED,
               "enum BwCrashLoopAction mirrors bw_crash_loop_action");

/* An output struct the app passes, versioned: the whole struct must be app
 * read-write memory (PARAMETERFAULT) and its version field, read from the
 * app, the one this kernel fills (UNSUPPORTEDSTRUCTUREVERSION). */
static enum MvStatus check_versioned_out(uintptr_t app_struct, size_t size, uint32_t version)
{
    bw_err err = bw_app_check_range(app_struct, size, BW_ACCESS_READWRITE);
    uint32_t asked = 0;
    if (err == BW_OK) {
        err = bw_app_copy_in(&asked, app_struct, sizeof asked);
    }
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    return asked == version ? MV_STATUS_OKAY : MV_STATUS_UNSUPPORTEDSTRUCTUREVERSION;
}

enum MvStatus bw_sys_app_confirm_healthy(void)
{
    bw_crash_confirm_healthy();
    return MV_STATUS_OKAY;
}

enum MvStatus bw_sys_get_last_crash(struct BwCrashInfo *info)
{
    uintptr_t app_info = (uintptr_t)info;
    enum MvStatus status = check_versioned_out(app_info, sizeof *info, BW_CRASHINFO_VERSION_1);
    if (status != MV_STATUS_OKAY) {
        return status;
    }

    struct BwCrashInfo out;
    memset(&out, 0, sizeof out);
    out.version = BW_CRASHINFO_VERSION_1;
    bw_crash_record r;
    bool previous_boot = false;
    if (bw_crash_last(&r, &previous_boot)) {
        out.v1.sequence = r.sequence;
        out.v1.crash_class = r.crash_class;
        out.v1.app_exception = r.app_exception;
        out.v1.pc = r.pc;
        out.v1.lr = r.lr;
        out.v1.sp = r.sp;
        out.v1.xpsr = r.xpsr;
        out.v1.fault_address = r.fault_address;
        out.v1.cfsr = r.cfsr;
        out.v1.cfsr_ns = r.cfsr_ns;
        out.v1.hfsr = r.hfsr;
        out.v1.sfsr = r.sfsr;
        out.v1.crash_count = r.crash_count;
        out.v1.crashes_since_healthy = r.crashes_since_healthy;
        out.v1.restart_delay_ms = r.restart_delay_ms;
        out.v1.loop_action = r.loop_action;
        out.v1.app_version = r.app_version;
        out.v1.uptime_us = r.uptime_us;
        uint32_t addresses = BW_CRASH_FLAG_SFAR_VALID | BW_CRASH_FLAG_BFAR_VALID
                           | BW_CRASH_FLAG_MMFAR_VALID;
        out.v1.flags = (previous_boot ? BW_CRASHINFO_FLAG_PREVIOUS_BOOT : 0u)
                     | ((r.flags & BW_CRASH_FLAG_FRAME_VALID) ? BW_CRASHINFO_FLAG_FRAME_VALID : 0u)
                     | ((r.flags & addresses) ? BW_CRASHINFO_FLAG_ADDRESS_VALID : 0u)
                     | ((r.flags & BW_CRASH_FLAG_CRASH_LOOP) ? BW_CRASHINFO_FLAG_CRASH_LOOP : 0u);
    }
    bw_crash_start_state(&out.v1.live_handles, &out.v1.open_notification_centers);
    return bw_status_from_err(bw_app_copy_out(app_info, &out, sizeof out));
}

enum MvStatus bw_sys_get_update_info(struct BwUpdateInfo *info)
{
    uintptr_t app_info = (uintptr_t)info;
    enum MvStatus status = check_versioned_out(app_info, sizeof *info, BW_UPDATEINFO_VERSION_1);
    if (status != MV_STATUS_OKAY) {
        return status;
    }
    const bw_update_state *state = bw_update_current_state();
    struct BwUpdateInfo out;
    memset(&out, 0, sizeof out);
    out.version = BW_UPDATEINFO_VERSION_1;
    out.v1.app_version = state->current_version;
    out.v1.last_known_good_version = state->lkg_bank != BW_BANK_NONE ? state->lkg_version : 0u;
    out.v1.highest_version = state->highest_version;
    out.v1.on_trial = state->trial;
    out.v1.last_rollback_cause = (enum BwRollbackCause)state->rollback_cause;
    out.v1.updates_available = bw_update_available() ? 1u : 0u;
    return bw_status_from_err(bw_app_copy_out(app_info, &out, sizeof out));
}
