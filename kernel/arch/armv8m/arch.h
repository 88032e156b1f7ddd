/*
 * The armv8m TrustZone layer: starting, stopping and restarting the app in the
 * non-secure world, catching its faults and hangs, and the kernel's
 * supervisor thread that handles them.
 */
#ifndef ARCH_H
#define ARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "mv_syscalls.h"

/* Configures the SAU and the secure exception set-up, and starts the
 * supervision tick and the secure watchdog. Called by kernel_main after board_init. */
void arch_init(void);

/* Why the kernel started: COLDBOOT, or what the kernel noted before it
 * reset the chip itself (MICROVISORCRASH after a kernel fault,
 * MICROVISORWATCHDOG after the secure watchdog fired, MICROVISORERROR after
 * an unexpected exception, MICROVISORUPDATE after a kernel was staged).
 * Reads and clears the note: call once, at boot. */
enum MvWakeReason arch_boot_wake_reason(void);

/* Resets the chip into the boot stub with the note MICROVISORUPDATE (a
 * kernel is staged for the stub to swap in, docs/SPEC.md §19.6). */
void arch_reset_for_kernel_update(void) __attribute__((noreturn));

/* Starts the app for the first time with the given wake reason; never returns. */
void arch_app_start(enum MvWakeReason reason) __attribute__((noreturn));

/* As arch_app_start, once delay_ms have passed (reset_ram.c); meanwhile the
 * kernel loop runs (the update link answers, an update may start an app
 * sooner). From kernel_main only; never returns. */
void arch_app_start_after(enum MvWakeReason reason, uint32_t delay_ms) __attribute__((noreturn));

/* Keeps the kernel loop (PendSV_S) from preempting the caller (the
 * supervisor thread) until the matching release; kernel interrupts above it
 * still run. Returns what release needs. */
uint32_t arch_kernel_loop_hold(void);
void arch_kernel_loop_release(uint32_t hold);

/* Who asks for the kernel loop on every tick (arch_kernel_loop_every_tick). */
#define ARCH_TICKS_CLOUD  0x1u   /* the cloud link's timers and its crypto slices */
#define ARCH_TICKS_TRIAL  0x2u   /* a kernel on trial watches its deadline */

/* While any reason is on, every supervision tick (BW_SUPERVISOR_TICK_MS)
 * pends the kernel loop: for work that waits on time, not on an interrupt
 * (the cloud link's timeouts, keepalive, backoff, and its crypto done a
 * slice per pass; a trial's deadline). */
void arch_kernel_loop_every_tick(uint32_t reason, bool on);

/* From kernel_main: no app to run; the kernel idles (interrupts and the
 * kernel loop keep running, so an update can still start one). Never returns. */
void arch_app_park(void) __attribute__((noreturn));

/* Whether the app slot holds an app the update engine vouches for (the
 * default). False after an install or rollback failed part-way (the slot may
 * be torn): every app start parks (the kernel stays up and reachable) until
 * an update succeeds and sets it true again. Kernel loop / supervisor thread. */
void arch_app_slot_set_verified(bool verified);

/* Asks for the app to be restarted in place with this wake reason once the
 * current kernel code returns (pends the secure PendSV). */
void arch_app_restart(enum MvWakeReason reason);

/* Provided by the kernel (kernel/main.c): the kernel loop's work, run in
 * PendSV_S (secure handler mode, the lowest secure priority, the app
 * preempted) each time PendSV_S is pended, before any app (re)start. */
void kernel_loop_work(void);

/* ---- inside the layer ---- */

/* The fault status registers of both banks, read and cleared at once. */
typedef struct arch_fault_status {
    uint32_t cfsr;      /* secure bank: BusFault bits, secure Usage/MemManage */
    uint32_t cfsr_ns;   /* the app's bank: its UsageFault/MemManage causes */
    uint32_t hfsr;
    uint32_t sfsr;
    uint32_t sfar;
    uint32_t bfar;
    uint32_t mmfar_ns;
} arch_fault_status;

/* Reads the fault status registers and clears them (write-one-to-clear). */
arch_fault_status arch_fault_status_take(void);

/* In a secure fault or tick handler that interrupted the app: records the
 * app's state for the supervisor thread and stops the app (its interrupts
 * off, its masks cleared). The caller then enters the supervisor thread. */
void arch_app_capture_and_stop(uint32_t trigger, bool hang, const uint32_t *r4_r11,
                               uint32_t exc_return, const arch_fault_status *status);

/* In the gate's violation path (gate_guard.c), with app exceptions masked:
 * records a refused kernel call (entry gate_index, the app's return address
 * app_lr, its r4-r11) as an app crash of class bad-kernel-call and stops
 * the app. */
void arch_app_capture_bad_call(uint32_t gate_index, uint32_t app_lr, const uint32_t *r4_r11);

/* Seals the top of the kernel stack and fills the rest with a pattern; from
 * kernel_reset, once. */
void arch_kernel_stack_prepare(void);

/* The most bytes of the kernel stack ever used since boot (pattern scan). */
uint32_t arch_kernel_stack_deepest(void);

/* No kernel call in progress: each time the app is (re)started. */
void arch_gate_reset(void);

/* True when a kernel exception handler (PendSV_S, SysTick_S, SVCall_S or a
 * kernel interrupt; not those in `ignore`, SHCSR active bits) is active:
 * kernel work is under the caller and must not be dropped. */
bool arch_kernel_handler_active(uint32_t ignore);

/* Drops a restart the app asked for (mvRestart) but did not get yet: it
 * crashed meanwhile, and the supervisor thread restarts it after the crash. */
void arch_app_restart_cancel(void);

/* After a capture that stopped the app (a fault handler with kernel work
 * under it, or the gate's violation path): PendSV_S enters the supervisor
 * thread as soon as no other kernel work is under it (PendSV_S is the
 * lowest kernel priority, above every app one). */
void arch_supervisor_defer(void);

/* Starts the supervision tick (SysTick_S) and the board's secure watchdog. */
void arch_supervision_init(void);

/* Called by arch_app_prepare as the app is entered (and by the debug
 * monitor as a halted app resumes): supervision starts watching it. */
void arch_supervision_app_entered(void);

/* The debug monitor halted the app: supervision stops watching it. */
void arch_supervision_app_paused(void);

/* True while the app runs (entered, not stopped, not halted). */
bool arch_supervision_app_running(void);

/* ---- the debug monitor's halt (debug_halt.c) ---- */

/* True while a debugger is attached: every tick pends the kernel loop. */
bool arch_debug_attached(void);

/* From arch_app_prepare: the app restarts, any halt ends. */
void arch_debug_app_restarting(void);

/* From PendSV_S after the kernel loop, with its EXC_RETURN: 3 when the app
 * must halt now (exceptions.S saves it and enters arch_debug_halted_thread),
 * 4 when the halted app must resume now, else 0. */
uint32_t arch_debug_pendsv(uint32_t exc_return);

/* From arch_fault_handle for an app fault: true when a debugger is
 * attached and the fault came from the app's own code: the app's state is
 * saved with the stop reason, and the caller enters the halted thread. */
bool arch_debug_fault_stop(const uint32_t *r4_r11, uint32_t exc_return, uint32_t exception,
                           const arch_fault_status *s);

#endif
