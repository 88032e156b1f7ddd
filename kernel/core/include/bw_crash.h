/*
 * Crash supervision, the portable part: what the kernel does when the app
 * crashes or hangs (docs/DESIGN.md, "Crash supervision").
 *
 * The arch layer's fault and tick handlers only capture (bw_crash_capture)
 * and stop the app; the kernel's supervisor thread then calls
 * bw_crash_handle, which turns the capture into a crash record (registers,
 * fault status, a bounded copy of the app's stack, classification), keeps it
 * (flash ring, or RAM only on a board without a crash-log partition), prints
 * it, updates the crash-loop state and returns the backoff before the app is
 * started again in place. Nothing here resets the chip.
 *
 * Backoff (policy min/max): the first crash after the app was healthy
 * restarts it at once; the n-th crash since then waits min * 2^(n-2), at most
 * max. "Healthy" = this run lasted policy.healthy_after_ms, or the app called
 * bwAppConfirmHealthy. An app is on probation from kernel start (or from
 * bw_crash_app_installed) until it is first healthy; policy.loop_crashes
 * crashes on probation make a crash loop: the rollback handler (the update
 * engine) may replace the app by the last-known-good one; without one the
 * app is parked: restarted only every policy max, and the kernel stays up.
 *
 * Contexts: bw_crash_handle runs in the supervisor thread with the app
 * stopped; bw_crash_tick in the supervision tick (ISR); the rest from any
 * context unless said otherwise. No heap: one static state, one record buffer.
 */
#ifndef BW_CRASH_H
#define BW_CRASH_H

#include <stdbool.h>
#include <stdint.h>

#include "bw_crash_record.h"
#include "bw_err.h"

typedef struct bw_crash_policy {
    uint32_t restart_min_ms;     /* > 0, <= restart_max_ms */
    uint32_t restart_max_ms;     /* <= 24 h */
    uint32_t stack_bytes;        /* multiple of 4; more than BW_CRASH_STACK_CAPACITY is cut to it */
    uint32_t healthy_after_ms;   /* > 0 */
    uint32_t loop_crashes;       /* K >= 1 */
} bw_crash_policy;

/* What the arch layer captures in its handler, with the app stopped. Plain
 * values: the Armv8-M registers of the app's (non-secure) world. */
typedef struct bw_crash_capture {
    uint32_t trigger;        /* secure exception number that caught it (15: the tick) */
    bool hang;               /* the supervision tick found the app masked too long */
    bool frame_valid;        /* frame[] was read from the app's stack */
    bool bad_call;           /* the gate refused a kernel call as an ABI violation */
    uint32_t frame[8];       /* r0 r1 r2 r3 r12 lr pc xpsr as stacked */
    uint32_t r4_r11[8];
    uint32_t sp;             /* the app's SP before the exception frame was pushed */
    uint32_t exc_return;
    uint32_t control_ns, msp_ns, psp_ns, msplim_ns, psplim_ns;
    uint32_t masks_ns;       /* bit 0 PRIMASK_NS, bit 1 FAULTMASK_NS, bits 8-15 BASEPRI_NS */
    uint32_t cfsr, cfsr_ns, hfsr, sfsr, sfar, bfar, mmfar_ns;
    uint64_t time_us;        /* port_time_us() at the capture */
} bw_crash_capture;

/* THE ROLLBACK HOOK. Called when a crash loop is found, in the supervisor
 * thread with the app stopped, with the record of the crash that made it
 * (not yet stored; its loop_action is filled in from the result). Return
 * BW_OK once the app slot holds the last-known-good app (it is then started
 * at once, on probation, with a fresh crash count); any error means there is
 * no good app left, and the app is parked at the maximum backoff. Register it
 * with bw_crash_set_rollback_handler. The update engine's implementation is
 * expected to be bw_update_rollback(BW_ROLLBACK_CRASH_LOOP, ...) mapped as
 * BW_UPDATE_RUN_ROLLED_BACK -> BW_OK, anything else -> an error; it then also
 * records the cause for the app and the cloud (bw_update_state.h). Without a
 * handler every crash loop parks. */
typedef bw_err (*bw_crash_rollback_fn)(void *context, const bw_crash_record *crash);

/* Resets the supervision state, takes the default policy (bw_config.h), and
 * opens the crash log on the board's BW_PARTITION_CRASH_LOG (or says in the
 * kernel log that records stay in RAM only). Kernel start, before the app runs. */
void bw_crash_init(void);

/* Replaces the policy (bundles carry one, docs/SPEC.md §6.3). BW_E_INVALID if
 * a field is out of range (the old policy stays then); stack_bytes above what
 * a record holds is cut to BW_CRASH_STACK_CAPACITY. */
bw_err bw_crash_set_policy(const bw_crash_policy *policy);
/* The policy in force. */
void bw_crash_get_policy(bw_crash_policy *out);

/* The version stored in crash records from now on (0: unknown). */
void bw_crash_set_app_version(uint32_t version);

/* A new app was installed (update engine): it is on probation, with no
 * crashes counted yet. */
void bw_crash_app_installed(uint32_t version);

/* Registers the rollback hook (NULL: none). Kernel start. */
void bw_crash_set_rollback_handler(bw_crash_rollback_fn fn, void *context);

/* The app is being (re)started now (bw_kernel_app_starting calls this after
 * releasing the previous run's kernel state). */
void bw_crash_app_starting(void);

/* Supervision tick: marks the running app healthy once it has run long
 * enough. ISR-safe; cheap. */
void bw_crash_tick(uint64_t now_us);

/* bwAppConfirmHealthy: the running app says it is healthy. */
void bw_crash_confirm_healthy(void);

/* True once the current run of the app is healthy (by time or by its own
 * word). For a kernel thread that must tell the update engine
 * (bw_update_app_healthy) outside interrupt context. ISR-safe. */
bool bw_crash_app_healthy(void);

/* Handles one crash (see the file comment). Supervisor thread only, app
 * stopped. Returns the delay in ms before the app is to be started again. */
uint32_t bw_crash_handle(const bw_crash_capture *capture);

/* A chip reset while the app runs is counted as its crash at the next boot
 * (docs/DESIGN.md "Crash supervision"): the across-runs state is mirrored
 * into the reset marker (bw_reset_marker.h, in port_reset_surviving_ram).
 *
 * Kernel start, after the update engine's boot step (so the app version and
 * policy are those of the app about to run) and before the app first runs:
 * if the previous boot left the marker saying this same app was running,
 * records a crash of class kernel-reset (trigger 1, no registers) and
 * decides on it as on any crash (backoff, crash loop, the rollback hook);
 * the marker's crash count and park carry over for the same app. Returns
 * true if it recorded one; *delay_ms: the wait before the app may start;
 * *rolled_back: the hook put the last-known-good app back. From then on the
 * marker is kept up to date. Call once. */
bool bw_crash_boot_reset(uint32_t *delay_ms, bool *rolled_back);

/* The kernel stops the app on purpose (true: an install is about to replace
 * it; a reset until the next start is not the app's crash) or lets it go on
 * after all (false: the install failed). The next start clears it. */
void bw_crash_app_pause(bool paused);

/* The newest crash record (this boot's, or the newest in the flash log from
 * an earlier boot: *previous_boot says which) into *out. False if none. */
bool bw_crash_last(bw_crash_record *out, bool *previous_boot);

/* The oldest crash record whose sequence is above `after`, from the flash
 * log (or this boot's newest, if it is kept in RAM only), into *out.
 * BW_E_UNAVAILABLE if there is none. Not from an ISR (reads flash). */
bw_err bw_crash_next_record(uint32_t after, bw_crash_record *out);

/* Crashes of the app since the kernel started. ISR-safe. */
uint32_t bw_crash_count(void);

/* Kernel state right after the current run of the app started (to show that
 * a restart released everything): live handles and open notification centers. */
void bw_crash_start_state(uint32_t *live_handles, uint32_t *open_centers);

#endif
