/*
 * Starting and restarting the app in the non-secure world.
 *
 * The app always starts the same way, first boot or restart: from secure
 * handler mode (PendSV_S) the kernel tears down whatever the app left (its
 * interrupts, active exceptions, masks, stack pointers and limits, MPU),
 * builds an exception frame on the app's initial stack that "returns" to the
 * app's reset handler, and exception-returns into non-secure thread mode
 * (exceptions.S: arch_enter_app). Nothing secure stays live below that, so
 * the secure stack is dropped each time.
 *
 * Interrupts of the app that are still active (it crashed or hung inside its
 * own interrupt handler) cannot be cleared by a register write: the NVIC
 * forgets an active interrupt only on an exception return from it. For each
 * one the kernel stacks one more frame below the reset frame, whose return
 * lands in the app's handler mode (IPSR = that interrupt) on a two-byte
 * `bx lr` it writes into app RAM, with LR = an EXC_RETURN to the next frame:
 * the chain of `bx lr` returns deactivates them one by one, the last one
 * into thread mode at the reset handler. (The app's system exceptions have
 * writable active bits in SHCSR_NS and are simply cleared.)
 *
 * The app image is untrusted: a vector table whose stack or entry lies
 * outside the app's memory does not start; the kernel parks instead.
 */
#include <stdbool.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>

#include "arch.h"
#include "armv8m.h"
#include "armv8m_port.h"
#include "board.h"
#include "bw_board.h"
#include "bw_crash.h"
#include "bw_kernel.h"
#include "bw_log.h"
#include "bw_port.h"

extern uint32_t __kernel_stack_limit[], __kernel_stack_top[];

static volatile bool restart_pending;
static volatile bool slot_unverified;   /* arch_app_slot_set_verified(false): starts park */
static uint32_t stack_reported;   /* the deepest kernel stack use logged so far */
static volatile enum MvWakeReason restart_reason = MV_WAKEREASON_COLDBOOT;

#define PENDSV_PRIORITY 0x70u  /* the lowest secure priority; app priorities are 0x80.. (PRIS) */
#define FRAME_BYTES 32u
#define THUMB_BX_LR 0x4770u
#define XPSR_THUMB (1u << 24)

void arch_init(void)
{
    size_t count;
    const bw_sau_region *regions = board_sau_regions(&count);

    SAU_CTRL = 0;
    for (size_t i = 0; i < count; i++) {
        SAU_RNR = (uint32_t)i;
        SAU_RBAR = regions[i].base & ~0x1Fu;
        SAU_RLAR = (regions[i].limit & ~0x1Fu) | SAU_RLAR_ENABLE
                 | (regions[i].non_secure_callable ? SAU_RLAR_NSC : 0u);
    }
    SAU_CTRL = SAU_CTRL_ENABLE;

    /* App faults escalate to the secure side (BFHFNMINS = 0); app priorities
     * sit below every secure one (PRIS); only the kernel may reset the chip. */
    SCB_AIRCR = AIRCR_VECTKEY | AIRCR_PRIS | AIRCR_SYSRESETREQS;
    SCB_SHCSR |= SHCSR_SECUREFAULTENA | SHCSR_USGFAULTENA | SHCSR_BUSFAULTENA | SHCSR_MEMFAULTENA;
    SCB_NSACR |= (1u << 10) | (1u << 11);   /* the app may use the FPU */
    /* The secure side must enable the FPU too: an app interrupt that uses it
     * while preempting a system call (secure thread) lazily stacks FP state in
     * the secure context, which faults (NOCP) unless CPACR_S allows CP10/11.
     * The kernel itself is built soft-float and never uses FP registers. */
    SCB_CPACR |= 0xFu << 20;
    SCB_SHPR3 = (SCB_SHPR3 & ~(0xFFu << 16)) | (PENDSV_PRIORITY << 16);
    armv8m_dsb_isb();
    arch_supervision_init();
}

void arch_app_restart(enum MvWakeReason reason)
{
    uint32_t state = port_irq_lock();
    restart_reason = reason;
    restart_pending = true;
    SCB_ICSR = ICSR_PENDSVSET;
    port_irq_unlock(state);
}

void arch_app_slot_set_verified(bool verified)
{
    slot_unverified = !verified;
}

void arch_app_start(enum MvWakeReason reason)
{
    arch_app_restart(reason);
    for (;;) {
        __asm volatile("wfi");
    }
}

void port_app_restart_request(void)
{
    arch_app_restart(MV_WAKEREASON_REMOTEAPPLICATIONRESTART);
}

static volatile bool supervisor_pending;

void arch_app_restart_cancel(void)
{
    restart_pending = false;
}

void arch_supervisor_defer(void)
{
    supervisor_pending = true;
    SCB_ICSR = ICSR_PENDSVSET;
}

/* PendSV_S body, given its EXC_RETURN: 2 when the supervisor thread must
 * take a captured crash now (arch_supervisor_defer), 1 when the app must be
 * (re)started now, 3/4 when the debug monitor halts/resumes it now
 * (arch_debug_pendsv), else 0. */
uint32_t arch_pendsv_work(uint32_t exc_return);
uint32_t arch_pendsv_work(uint32_t exc_return)
{
    if (supervisor_pending) {
        supervisor_pending = false;
        return 2u;
    }
    kernel_loop_work();
    return restart_pending ? 1u : arch_debug_pendsv(exc_return);
}

static bool app_entry_valid(uint32_t sp, uint32_t pc)
{
    /* Unsigned differences: also correct for a board whose app flash starts at 0. */
    bool sp_ok = (sp & 7u) == 0 && sp - BOARD_APP_RAM_BASE - 32u < BOARD_APP_RAM_SIZE - 31u;
    bool pc_ok = (pc & 1u) == 1u && pc - BOARD_APP_SLOT_BASE < BOARD_APP_SLOT_SIZE;
    return sp_ok && pc_ok;
}

/* Everything of the app's world that a register write can reset. Active app
 * interrupts stay active (see the file comment). */
static void app_state_reset(void)
{
    uint32_t zero = 0;

    armv8m_app_irqs_reset(BOARD_IRQ_COUNT);
    SCB_NS_SHCSR &= ~SHCSR_ACTIVE_MASK;
    SCB_NS_ICSR = ICSR_PENDSVCLR | (1u << 25);   /* unpend the app's PendSV and SysTick */
    SCB_NS_CFSR = SCB_NS_CFSR;                   /* write-one-to-clear */
    SCB_NS_HFSR = SCB_NS_HFSR;
    SCB_NS_SHPR1 = 0;
    SCB_NS_SHPR2 = 0;
    SCB_NS_SHPR3 = 0;
    MPU_NS_CTRL = 0;
    FPU_FPCCR &= ~FPCCR_LSPACT;
    FPU_NS_FPCCR &= ~FPCCR_LSPACT;
    __asm volatile(
        "msr primask_ns, %0\n"
        "msr basepri_ns, %0\n"
        "msr faultmask_ns, %0\n"
        "msr control_ns, %0\n"
        "msr psplim_ns, %0\n"
        "msr msplim_ns, %0\n"
        "msr psp_ns, %0\n"
        : : "r"(zero) : "memory");
}

static void write_frame(uint32_t at, uint32_t lr, uint32_t pc, uint32_t xpsr)
{
    volatile uint32_t *frame = (volatile uint32_t *)(uintptr_t)at;
    frame[0] = 0;   /* r0 */
    frame[1] = 0;   /* r1 */
    frame[2] = 0;   /* r2 */
    frame[3] = 0;   /* r3 */
    frame[4] = 0;   /* r12 */
    frame[5] = lr;
    frame[6] = pc;
    frame[7] = xpsr;
}

/* The app's first instructions after a (re)start, written into its RAM
 * below its initial stack and entered with PRIMASK_NS set: they stop the
 * app's SysTick and unpend it (the secure side cannot reach SysTick_NS: a
 * BusFault on QEMU), clear PRIMASK and jump to the reset handler. So no tick
 * of a previous run -- or of the app a rollback replaced -- can fire before
 * the app's own start-up code runs, and the app starts as after a reset:
 * SysTick off, nothing pending, interrupts unmasked. The reset frame carries
 * the operands: r0 = SYST_CSR, r1 = 0, r2 = ICSR, r3 = PENDSTCLR, r12 =
 * the reset handler. */
#define START_STUB_BYTES 16u
static void write_start_stub(uint32_t stub, uint32_t reset_frame, uint32_t entry)
{
    static const uint16_t code[START_STUB_BYTES / 2u] = {
        0x6001u,   /* str r1, [r0]      SYST_CSR = 0 */
        0x6013u,   /* str r3, [r2]      ICSR = PENDSTCLR */
        0x2000u,   /* movs r0, #0 */
        0x2200u,   /* movs r2, #0 */
        0x2300u,   /* movs r3, #0 */
        0xB662u,   /* cpsie i */
        0x4760u,   /* bx r12            the reset handler */
        0xBF00u,   /* nop */
    };
    volatile uint16_t *at = (volatile uint16_t *)(uintptr_t)stub;
    for (uint32_t i = 0; i < START_STUB_BYTES / 2u; i++) {
        at[i] = code[i];
    }
    volatile uint32_t *frame = (volatile uint32_t *)(uintptr_t)reset_frame;
    frame[0] = 0xE000E010u;   /* r0: SYST_CSR (the app's own bank, from the app) */
    frame[1] = 0;             /* r1 */
    frame[2] = 0xE000ED04u;   /* r2: ICSR */
    frame[3] = 1u << 25;      /* r3: PENDSTCLR */
    frame[4] = entry | 1u;    /* r12: the reset handler, Thumb */
    frame[5] = 0xFFFFFFFFu;   /* lr: returning from reset faults */
    frame[6] = stub;
    frame[7] = XPSR_THUMB;
    uint32_t one = 1;
    __asm volatile("msr primask_ns, %0" : : "r"(one) : "memory");
}

/* Stacks one deactivation frame per active app interrupt below `top` (see
 * the file comment); returns the lowest frame's address, or `top` if no app
 * interrupt is active; 0 if the chain does not fit in app RAM. */
static uint32_t stack_deactivation_chain(uint32_t top)
{
    uint32_t sp = top;
    for (uint32_t irq = 0; irq < BOARD_IRQ_COUNT; irq++) {
        uint32_t word = irq / 32u, bit = 1u << (irq % 32u);
        if (!(NVIC_ITNS(word) & bit) || !(NVIC_IABR(word) & bit)) {
            continue;
        }
        if (sp - BOARD_APP_RAM_BASE < FRAME_BYTES + 8u) {
            return 0;
        }
        /* The first frame stacked is the last one popped: back to thread mode. */
        uint32_t lr = sp == top ? EXC_RETURN_APP_TO_THREAD : EXC_RETURN_APP_TO_HANDLER;
        sp -= FRAME_BYTES;
        write_frame(sp, lr, 0, XPSR_THUMB | (16u + irq));
    }
    if (sp == top) {
        return top;
    }
    /* The bx lr stub goes just below the lowest frame (exception returns only
     * pop, so nothing overwrites it); every chain frame returns to it. */
    uint32_t stub = sp - 8u;
    *(volatile uint16_t *)(uintptr_t)stub = THUMB_BX_LR;
    for (uint32_t frame = sp; frame < top; frame += FRAME_BYTES) {
        ((volatile uint32_t *)(uintptr_t)frame)[6] = stub;
    }
    return sp;
}

/* The kernel with no app to run: secure thread mode, asleep between
 * interrupts; the kernel loop (PendSV_S) still runs, so an update can still
 * arrive and start an app. */
void arch_idle_thread(void) __attribute__((noreturn));
void arch_idle_thread(void)
{
    for (;;) {
        __asm volatile("wfi");
    }
}

uint32_t arch_kernel_loop_hold(void)
{
    uint32_t old;
    __asm volatile("mrs %0, basepri\n msr basepri_max, %1" : "=&r"(old) : "r"(PENDSV_PRIORITY) : "memory");
    return old;
}

void arch_kernel_loop_release(uint32_t hold)
{
    __asm volatile("msr basepri, %0" : : "r"(hold) : "memory");
}

void arch_app_park(void)
{
    bw_log("no app to run: the kernel stays up, waiting for an update");
    SCB_ICSR = ICSR_PENDSVSET;   /* one kernel loop pass now: it starts the update link */
    arch_idle_thread();
}

/* arch_app_prepare's answer when no app can start: 0, so arch_enter_app
 * idles; no app runs, so a reset from now on is no app's crash. */
static uint32_t app_parked(void)
{
    bw_crash_app_pause(true);
    return 0;
}

/* Called by arch_enter_app: prepares the app's first frame (and any
 * deactivation chain); returns the EXC_RETURN to leave handler mode with, or
 * 0 when the app slot holds no valid app. */
uint32_t arch_app_prepare(void);
uint32_t arch_app_prepare(void)
{
    const volatile uint32_t *vectors = (const volatile uint32_t *)(uintptr_t)board_app_vector_table();
    uint32_t sp = vectors[0];
    uint32_t pc = vectors[1];

    restart_pending = false;
    arch_debug_app_restarting();
    app_state_reset();
    arch_gate_reset();
    uint32_t deepest = arch_kernel_stack_deepest();
    if (deepest > stack_reported) {
        stack_reported = deepest;
        bw_log("kernel stack: at most %" PRIu32 " of %" PRIu32 " bytes used so far", deepest,
               (uint32_t)((uintptr_t)__kernel_stack_top - (uintptr_t)__kernel_stack_limit));
    }
    bw_kernel_app_starting(restart_reason);

    if (slot_unverified) {
        bw_log("the app slot holds no verified app (an update failed part-way): parked");
        return app_parked();
    }
    if (!app_entry_valid(sp, pc)) {
        bw_log("no valid app in the app slot (sp=0x%08" PRIx32 " pc=0x%08" PRIx32 "): parked", sp, pc);
        return app_parked();
    }

    uint32_t reset_frame = sp - FRAME_BYTES;
    uint32_t first = stack_deactivation_chain(reset_frame);
    if (first == 0) {
        /* Parked like every other refusal: the kernel loop keeps running. */
        bw_log("app restart: no room on the app's stack to end its interrupts: parked");
        return app_parked();
    }
    /* Below the frames and the chain's bx lr stub: the start stub. */
    uint32_t stub = first - 8u - START_STUB_BYTES;
    if (stub - BOARD_APP_RAM_BASE >= BOARD_APP_RAM_SIZE) {
        bw_log("no room on the app's stack for its start (sp=0x%08" PRIx32 "): parked", sp);
        return app_parked();
    }
    write_start_stub(stub, reset_frame, pc);
    SCB_NS_VTOR = (uint32_t)(uintptr_t)vectors;
    __asm volatile("msr msp_ns, %0" : : "r"(first) : "memory");
    armv8m_dsb_isb();
    arch_supervision_app_entered();
    return first == reset_frame ? EXC_RETURN_NS_THREAD_MSP : EXC_RETURN_NS_HANDLER;
}
