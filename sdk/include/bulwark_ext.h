/*
 * bulwark_ext.h - Bulwark's own system calls, beyond the Microvisor API of
 * mv_syscalls.h. Apps that use them include this header explicitly; code
 * written for Microvisor never sees these names.
 *
 * The calls sit in the same gate as the mv* calls (sdk/syscalls.def, appended
 * after index 70, never moved) and follow the same rules: they return enum
 * MvStatus, every pointer is validated (MV_STATUS_PARAMETERFAULT, never a
 * fault), versioned structs reject unknown versions with
 * MV_STATUS_UNSUPPORTEDSTRUCTUREVERSION. docs/SYSCALLS.md lists them.
 *
 * Crash supervision (docs/DESIGN.md, "Crash supervision"): when the app
 * crashes or hangs, the kernel records the crash, keeps the record in flash,
 * and starts the app again in place after a backoff (wake reason
 * MV_WAKEREASON_APPLICATIONCRASH). The first crash after the app was healthy
 * restarts it at once; every further crash before it is healthy again waits
 * twice as long (policy minimum to maximum). The app is healthy once a run
 * lasts the policy's healthy period, or when it calls bwAppConfirmHealthy. A
 * newly started or installed app that crashes K times before it is first
 * healthy is in a crash loop: the kernel rolls it back to the last-known-good
 * app, or, with none, restarts it only at the maximum backoff.
 */
#ifndef BULWARK_EXT_H
#define BULWARK_EXT_H

#include <stdint.h>

#include "mv_syscalls.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The same dialect allowances as mv_syscalls.h: anonymous unions before C11,
 * unnamed struct types in them under clang's C++, and 0xffffffff sentinels
 * that make the enums 4 bytes. */
#if !defined(__cplusplus) && defined(__GNUC__) && \
    (!defined(__STDC_VERSION__) || __STDC_VERSION__ < 201112L)
#define BW_ANON_UNION __extension__ union
#else
#define BW_ANON_UNION union
#endif
#if defined(__cplusplus) && defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wnested-anon-types"
#endif
#if !defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#endif

/* What went wrong (struct BwCrashInfo.v1.crash_class); names as printed by the
 * kernel and `bulwark crash decode`. Append only. */
enum BwCrashClass {
    BW_CRASHCLASS_UNKNOWN = 0,
    BW_CRASHCLASS_INVALIDACCESS = 1,        /* bus error or MPU/XN fault on no one's memory */
    BW_CRASHCLASS_SECUREACCESS = 2,         /* access to, or call into, secure memory */
    BW_CRASHCLASS_BUSBLOCKED = 3,           /* blocked by a memory/peripheral protection controller */
    BW_CRASHCLASS_RESERVEDPERIPHERAL = 4,   /* a peripheral the kernel keeps */
    BW_CRASHCLASS_UNDEFINEDINSTRUCTION = 5,
    BW_CRASHCLASS_INVALIDSTATE = 6,         /* Thumb bit clear, bad EXC_RETURN, no FPU access */
    BW_CRASHCLASS_USAGEFAULT = 7,           /* unaligned access, division by zero */
    BW_CRASHCLASS_STACKOVERFLOW = 8,        /* MSPLIM/PSPLIM violated, or stacking failed */
    BW_CRASHCLASS_RETURNEDFROMMAIN = 9,
    BW_CRASHCLASS_UNHANDLEDINTERRUPT = 10,  /* an enabled interrupt without a handler */
    BW_CRASHCLASS_HANG = 11,                /* interrupts masked too long */
    BW_CRASHCLASS_BADKERNELCALL = 12,       /* a kernel call against the ABI: its return address is
                                             * not app code (FNC_RETURN, EXC_RETURN), or made from
                                             * thread mode while an earlier call is still in progress
                                             * (an abandoned secure frame) */
    BW_CRASHCLASS_KERNELRESET = 13,         /* the chip reset while the app ran (counted at the next boot) */
    BW_CRASHCLASS__MAX = 0xffffffff
};

/* What the kernel did about a crash loop (struct BwCrashInfo.v1.loop_action). */
enum BwCrashLoopAction {
    BW_CRASHLOOPACTION_NONE = 0,
    BW_CRASHLOOPACTION_ROLLEDBACK = 1,      /* the last-known-good app replaced the crashing one */
    BW_CRASHLOOPACTION_PARKED = 2,          /* no good app left: restarts at the maximum backoff */
    BW_CRASHLOOPACTION__MAX = 0xffffffff
};

/* struct BwCrashInfo.v1.flags */
/* Why the kernel last put the last-known-good app back (struct
 * BwUpdateInfo.v1.last_rollback_cause). Append only. */
enum BwRollbackCause {
    BW_ROLLBACKCAUSE_NONE = 0,
    BW_ROLLBACKCAUSE_CRASHLOOP = 1,       /* the new app crashed before it was healthy */
    BW_ROLLBACKCAUSE_INSTALLFAILED = 2,   /* the installed image did not verify */
    BW_ROLLBACKCAUSE__MAX = 0xffffffff
};

#if !defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#define BW_CRASHINFO_FLAG_PREVIOUS_BOOT  (1u << 0)   /* the record is from before the kernel last started */
#define BW_CRASHINFO_FLAG_FRAME_VALID    (1u << 1)   /* pc, lr, xpsr and r0-r3/r12 were captured */
#define BW_CRASHINFO_FLAG_ADDRESS_VALID  (1u << 2)   /* the hardware gave fault_address */
#define BW_CRASHINFO_FLAG_CRASH_LOOP     (1u << 3)   /* the crash made a crash loop */

#define BW_CRASHINFO_VERSION_1 1u

/* The newest crash record, and the kernel's state for this run of the app. */
struct BwCrashInfo {
    uint32_t version;                         /* in: BW_CRASHINFO_VERSION_1 */
    BW_ANON_UNION {
        struct {
            uint32_t sequence;                /* record number in the crash log; 0: none */
            uint32_t crash_class;             /* enum BwCrashClass */
            uint32_t app_exception;           /* the app's IPSR: 0 thread, 11 SVC, 16 + n IRQ n */
            uint32_t pc;                      /* the faulting instruction */
            uint32_t lr;
            uint32_t sp;                      /* the app's SP at the crash */
            uint32_t xpsr;
            uint32_t fault_address;           /* see BW_CRASHINFO_FLAG_ADDRESS_VALID */
            uint32_t cfsr;                    /* secure bank (BusFault bits) */
            uint32_t cfsr_ns;                 /* the app's bank (MemManage, UsageFault bits) */
            uint32_t hfsr;
            uint32_t sfsr;
            uint32_t crash_count;             /* crashes since the kernel started, at that crash */
            uint32_t crashes_since_healthy;
            uint32_t restart_delay_ms;        /* the backoff the kernel chose */
            uint32_t loop_action;             /* enum BwCrashLoopAction */
            uint32_t flags;                   /* BW_CRASHINFO_FLAG_* */
            uint32_t app_version;             /* of the app that crashed (0: unknown) */
            uint64_t uptime_us;               /* kernel time of the crash */
            uint32_t live_handles;            /* kernel handles live when this run started */
            uint32_t open_notification_centers;  /* open when this run started (always 0) */
        } v1;
    };
};

/* Tells the kernel this run of the app is healthy: the crash backoff starts
 * again from an immediate restart, and a new app leaves its probation (no
 * crash-loop rollback). Call it once the app has shown it works (e.g. after
 * its first successful cloud exchange). OKAY; also from an interrupt. */
enum MvStatus bwAppConfirmHealthy(void);

/* The newest crash record (this boot's, or from the flash log if the kernel
 * restarted since) into *info, whose version the app sets first. OKAY (with
 * v1.sequence 0 when no crash was ever recorded); PARAMETERFAULT if info is
 * not app memory; UNSUPPORTEDSTRUCTUREVERSION for another version. */
enum MvStatus bwGetLastCrash(struct BwCrashInfo *info);

#define BW_UPDATEINFO_VERSION_1 1u

/* The update engine's view of the running app (docs/DESIGN.md, "Updates"). */
struct BwUpdateInfo {
    uint32_t version;                          /* the app sets BW_UPDATEINFO_VERSION_1 */
    BW_ANON_UNION {
        struct {
            uint32_t app_version;              /* of the running app (0: as provisioned) */
            uint32_t last_known_good_version;  /* kept for rollback (0: none) */
            uint32_t highest_version;          /* anti-rollback floor */
            uint32_t on_trial;                 /* 1 until this app has proved healthy */
            enum BwRollbackCause last_rollback_cause;
            uint32_t updates_available;        /* 0: no trusted key or no update storage */
        } v1;
    };
};

/* The update state into *info, whose version the app sets first. OKAY;
 * PARAMETERFAULT if info is not app memory; UNSUPPORTEDSTRUCTUREVERSION for
 * another version. A rolled-back app reads why here (and the crash that made
 * the loop with bwGetLastCrash). */
enum MvStatus bwGetUpdateInfo(struct BwUpdateInfo *info);

#undef BW_ANON_UNION
#if defined(__cplusplus) && defined(__clang__)
#pragma clang diagnostic pop
#endif

#ifdef __cplusplus
}
#endif

#endif
