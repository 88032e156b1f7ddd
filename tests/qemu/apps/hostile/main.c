/*
 * hostile: the app attacks the kernel (issue 14, attacks 1-7), one attack per
 * build (HOSTILE_CASE, set by hostile/CMakeLists.txt). The promise checked:
 * nothing an app does stops, resets or locks up the kernel; at worst it is an
 * app crash. For every case but nested_calls the attack must end as an app
 * crash that
 *  - the kernel records with the expected class and app context (IPSR of
 *    the code that attacked: thread mode, an IRQ or the SVC handler), read
 *    back with bwGetLastCrash, numbered one after the other, of this boot;
 *  - restarts the app in place (wake reason APPLICATIONCRASH), with the
 *    kernel still answering calls and no handle or notification center left
 *    from the run that attacked;
 *  - never resets the chip: a restart with any other wake reason while state
 *    is carried in .noinit fails the test at once (and the test driver checks
 *    the kernel started once).
 * Where the attack has variants, each is one run (state in .noinit across
 * the restarts); every attacking run confirms itself healthy first, so the
 * restarts come at once and no crash loop builds up (stopped_app_runs needs
 * its backoff and does not). Case-specific promises are in the case comments
 * below. An attack that does not crash the app fails "the attack was
 * stopped" and the app exits.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bulwark_board.h"
#include "bulwark_ext.h"
#include "check.h"
#include "memory_map.h"
#include "mv_syscalls.h"

/* The cases (HOSTILE_CASE). */
#define CASE_SVC_FORGED_EXCRETURN 1   /* the SVC handler returns with EXC_RETURN.S = 1 */
#define CASE_GATE_LR_FNC_RETURN 2     /* a kernel call whose return address is FNC_RETURN */
#define CASE_GATE_LR_EXC_RETURN 3     /* a kernel call from a handler with lr = EXC_RETURN */
#define CASE_FNC_RETURN_THREAD 4      /* FNC_RETURN from thread mode, no secure caller */
#define CASE_EXCRETURN_INTO_GATE 5    /* an exception return onto a gate entry */
#define CASE_VTOR_SECURE 6            /* VTOR_NS or a vector outside app memory */
#define CASE_FP_LAZY_SECURE 7         /* lazy FP state pointed into kernel RAM */
#define CASE_STOPPED_APP_RUNS 8       /* the app's SysTick/PendSV while it is stopped */
#define CASE_ABANDONED_FRAMES 9       /* an IRQ leaves a kernel call's frame behind */
#define CASE_NESTED_CALLS 10          /* 33 nested kernel calls from ISRs, FP in use */
#define CASE_HANG_WFI_SPIN 11         /* masked: wfi, then an 8 ms spin, forever */
#define CASE_NS_WATCHDOG 12           /* the SSE-200's NS watchdog armed with reset */

#ifndef HOSTILE_CASE
#error "HOSTILE_CASE must name a case"
#endif

#define RUN_MAGIC 0x484F5354u
#define NONE_CLASS 0xFFu
#define NONE_CONTEXT 0xFFFFu
#define CTX_THREAD 0u
#define CTX_SVC 11u
#define CTX_IRQ(n) (16u + (n))
#define CTX_HANDLER_UNKNOWN 0x1FFu   /* the record's "handler mode, exception unknown" */

#define TEST_IRQ 50u        /* a plain app interrupt (case 3) */
#define NOTIFY_IRQ 64u      /* a notification center's interrupt */
#define KERNEL_RAM BOARD_KERNEL_RAM_BASE
#define UNMAPPED_NS 0x4FFF0000u
#define FNC_RETURN 0xFEFFFFFFu
#define EXC_RETURN_NS_THREAD_MSP 0xFFFFFFB8u

#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_ISPR(n) (*(volatile uint32_t *)(0xE000E200u + 4u * (n)))
#define NVIC_IPR(n)  (*(volatile uint8_t *)(0xE000E400u + (n)))
#define SCB_VTOR     (*(volatile uint32_t *)0xE000ED08u)
#define SYST_CSR     (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR     (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR     (*(volatile uint32_t *)0xE000E018u)

/* One attacking run: what it does and which crash it must end in. */
typedef struct attack {
    const char *name;
    uint32_t variant;          /* case-specific parameter */
    uint8_t classes[2];        /* accepted enum BwCrashClass values (NONE_CLASS: unused) */
    uint16_t contexts[3];      /* accepted app contexts (NONE_CONTEXT: unused) */
} attack;

/* Carried across the restarts. */
static struct {
    uint32_t magic;
    uint32_t runs;             /* attacks launched so far */
    uint32_t checks;
    uint32_t failures;
    uint32_t first_sequence;
    uint64_t attack_us;        /* mvGetMicroseconds just before the attack */
} carried __attribute__((section(".noinit"), unused));

__attribute__((unused)) static uint64_t now_us(void)
{
    uint64_t t = 0;
    (void)mvGetMicroseconds(&t);
    return t;
}

__attribute__((unused)) static void irq_enable(uint32_t irq, uint8_t priority)
{
    NVIC_IPR(irq) = priority;
    NVIC_ISER(irq / 32u) = 1u << (irq % 32u);
    __asm volatile("dsb\n isb" : : : "memory");
}

__attribute__((unused)) static void irq_pend(uint32_t irq)
{
    NVIC_ISPR(irq / 32u) = 1u << (irq % 32u);
    __asm volatile("dsb\n isb" : : : "memory");
}

/* Marks the FP context inactive (CONTROL.FPCA = 0), so the attacks' exception
 * returns with a basic frame (EXC_RETURN.FType = 1) are consistent. */
__attribute__((unused)) static void fp_context_off(void)
{
    uint32_t control;
    __asm volatile("mrs %0, control" : "=r"(control));
    __asm volatile("msr control, %0\n isb" : : "r"(control & ~4u) : "memory");
}

/* A notification center on `irq`, its interrupt enabled at `priority`. */
__attribute__((unused)) static MvNotificationHandle center_open(uint32_t irq, struct MvNotification *slots,
                                                                uint32_t bytes, uint8_t priority)
{
    struct MvNotificationSetup setup = { .irq = irq, .buffer = slots, .buffer_size = bytes };
    MvNotificationHandle handle = 0;
    check_status(mvSetupNotifications(&setup, &handle), MV_STATUS_OKAY, "notification center on IRQ %" PRIu32, irq);
    irq_enable(irq, priority);
    return handle;
}

__attribute__((unused)) static struct MvNotification ring[4] __attribute__((aligned(8)));

/* Named by the naked asm below (so not static). */
volatile uint32_t hostile_forged_lr;    /* the EXC_RETURN/LR value an attack forges */
volatile uint32_t hostile_irq_runs;

/* Takes the app's SVC with hostile_forged_lr = value, FP context inactive. */
__attribute__((unused)) static void svc_forging(uint32_t value)
{
    hostile_forged_lr = value;
    fp_context_off();
    __asm volatile("svc #0" : : : "memory");
}

#if HOSTILE_CASE == CASE_EXCRETURN_INTO_GATE || HOSTILE_CASE == CASE_ABANDONED_FRAMES
/* Branched to (not called) from an app handler: r0 = the PC, r1 = the LR of
 * a fake basic frame {r0-r3, r12 = 0, xPSR = Thumb} it builds below SP, then
 * exception-returns into it (EXC_RETURN 0xFFFFFFB8: thread mode, MSP). */
void hostile_fake_return(void);
__attribute__((naked)) void hostile_fake_return(void)
{
    __asm volatile(
        "    sub sp, sp, #32\n"
        "    bic r0, r0, #1\n"
        "    str r0, [sp, #24]\n"
        "    str r1, [sp, #20]\n"
        "    movs r0, #0\n"
        "    str r0, [sp, #0]\n"
        "    str r0, [sp, #4]\n"
        "    str r0, [sp, #8]\n"
        "    str r0, [sp, #12]\n"
        "    str r0, [sp, #16]\n"
        "    mov r0, #0x01000000\n"
        "    str r0, [sp, #28]\n"
        "    ldr lr, =0xFFFFFFB8\n"
        "    bx lr\n"
        "    .ltorg\n");
}
#endif

/* ================= the attacks, one block per case ================= */

#if HOSTILE_CASE == CASE_SVC_FORGED_EXCRETURN
/* Attack 1: the app's SVC handler returns with an EXC_RETURN that says
 * "back to the secure world" (S = 1, or ES = 1 from a non-secure handler).
 * The core's checks fail on a secure-looking return (SecureFault INVIS or
 * INVER on QEMU): still the app's crash, class invalid-state. The forged
 * value leaves no frame the kernel can trust, so the context may be thread
 * mode (where the SVC came from), the SVC handler, or "handler mode,
 * exception unknown". */
static const attack attacks[] = {
    { "SVC handler returns with EXC_RETURN 0xFFFFFFF8 (secure thread, MSP)", 0xFFFFFFF8u,
      { BW_CRASHCLASS_INVALIDSTATE, NONE_CLASS }, { CTX_THREAD, CTX_SVC, CTX_HANDLER_UNKNOWN } },
    { "SVC handler returns with EXC_RETURN 0xFFFFFFFC (secure thread, PSP)", 0xFFFFFFFCu,
      { BW_CRASHCLASS_INVALIDSTATE, NONE_CLASS }, { CTX_THREAD, CTX_SVC, CTX_HANDLER_UNKNOWN } },
    { "SVC handler returns with EXC_RETURN 0xFFFFFFF9 (ES = 1 from a non-secure handler)", 0xFFFFFFF9u,
      { BW_CRASHCLASS_INVALIDSTATE, NONE_CLASS }, { CTX_THREAD, CTX_SVC, CTX_HANDLER_UNKNOWN } },
    { "SVC handler returns with EXC_RETURN 0xFFFFFFF0 (secure handler mode)", 0xFFFFFFF0u,
      { BW_CRASHCLASS_INVALIDSTATE, NONE_CLASS }, { CTX_THREAD, CTX_SVC, CTX_HANDLER_UNKNOWN } },
};

void SVC_Handler(void);
__attribute__((naked)) void SVC_Handler(void)
{
    __asm volatile(
        "    ldr r0, =hostile_forged_lr\n"
        "    ldr lr, [r0]\n"
        "    bx lr\n"
        "    .ltorg\n");
}

static void run_attack(const attack *a)
{
    svc_forging(a->variant);
}
#endif

#if HOSTILE_CASE == CASE_GATE_LR_FNC_RETURN
/* Attack 1: a kernel call (mvNoOp's gate entry, branched to) whose return
 * address is FNC_RETURN: the gate's closing BXNS would pop a secure frame
 * the app never made. The gate refuses it: bad-kernel-call. */
static const attack attacks[] = {
    { "mvNoOp from thread mode with lr = FNC_RETURN 0xFEFFFFFF", FNC_RETURN,
      { BW_CRASHCLASS_BADKERNELCALL, NONE_CLASS }, { CTX_THREAD, NONE_CONTEXT, NONE_CONTEXT } },
    { "again, after the restart", FNC_RETURN,
      { BW_CRASHCLASS_BADKERNELCALL, NONE_CLASS }, { CTX_THREAD, NONE_CONTEXT, NONE_CONTEXT } },
};

/* Enters mvNoOp's gate entry with lr = r0. */
__attribute__((naked, noinline)) static void gate_call_with_lr(uint32_t lr)
{
    __asm volatile(
        "    mov lr, r0\n"
        "    b.w mvNoOp\n");
}

static void run_attack(const attack *a)
{
    gate_call_with_lr(a->variant);
}
#endif

#if HOSTILE_CASE == CASE_GATE_LR_EXC_RETURN
/* Attack 1: from inside an app handler, a kernel call whose return address
 * is an EXC_RETURN value: the gate's BXNS would perform the app's exception
 * return from the secure world (or one onto the secure stack). The gate
 * refuses it: bad-kernel-call, in that handler's context. */
static const attack attacks[] = {
    { "mvNoOp from IRQ 50's handler with lr = 0xFFFFFFB8 (its own return)", 0xFFFFFFB8u,
      { BW_CRASHCLASS_BADKERNELCALL, NONE_CLASS }, { CTX_IRQ(TEST_IRQ), NONE_CONTEXT, NONE_CONTEXT } },
    { "mvNoOp from the SVC handler with lr = 0xFFFFFFF8 (secure thread)", 0xFFFFFFF8u,
      { BW_CRASHCLASS_BADKERNELCALL, NONE_CLASS }, { CTX_SVC, NONE_CONTEXT, NONE_CONTEXT } },
    { "mvNoOp from IRQ 50's handler with lr = 0xFFFFFFB0 (non-secure handler mode)", 0xFFFFFFB0u,
      { BW_CRASHCLASS_BADKERNELCALL, NONE_CLASS }, { CTX_IRQ(TEST_IRQ), NONE_CONTEXT, NONE_CONTEXT } },
};

/* IRQ 50's handler and the SVC handler: mvNoOp with lr = hostile_forged_lr. */
void IRQ50_Handler(void);
__attribute__((naked)) void IRQ50_Handler(void)
{
    __asm volatile(
        "    ldr r0, =hostile_forged_lr\n"
        "    ldr lr, [r0]\n"
        "    b.w mvNoOp\n"
        "    .ltorg\n");
}
void SVC_Handler(void) __attribute__((alias("IRQ50_Handler")));

static void run_attack(const attack *a)
{
    if (a->contexts[0] == CTX_SVC) {
        svc_forging(a->variant);
    } else {
        hostile_forged_lr = a->variant;
        fp_context_off();
        irq_enable(TEST_IRQ, 0x80u);
        irq_pend(TEST_IRQ);
    }
}
#endif

#if HOSTILE_CASE == CASE_FNC_RETURN_THREAD
/* Attack 1: thread mode branches to FNC_RETURN with no secure caller: the
 * core pops a "return address" from the top of the kernel's stack. The
 * kernel keeps a seal there that fails the pop's check: an app fault
 * (UsageFault INVPC), never secure code run from an address the app picked. */
static const attack attacks[] = {
    { "bx FNC_RETURN 0xFEFFFFFF from thread mode", FNC_RETURN,
      { BW_CRASHCLASS_INVALIDSTATE, NONE_CLASS }, { CTX_THREAD, NONE_CONTEXT, NONE_CONTEXT } },
    { "again, after the restart", FNC_RETURN,
      { BW_CRASHCLASS_INVALIDSTATE, NONE_CLASS }, { CTX_THREAD, NONE_CONTEXT, NONE_CONTEXT } },
};

__attribute__((naked, noinline)) static void branch_to(uint32_t target)
{
    __asm volatile("    bx r0\n");
}

static void run_attack(const attack *a)
{
    branch_to(a->variant);
}
#endif

#if HOSTILE_CASE == CASE_EXCRETURN_INTO_GATE
/* Attack 1: the SVC handler exception-returns to thread mode through a fake
 * frame whose PC is mvNoOp's gate entry (SG) and whose LR is FNC_RETURN or
 * an EXC_RETURN value: a kernel call that no BL made. The gate refuses its
 * return address: bad-kernel-call in thread mode. */
static const attack attacks[] = {
    { "exception return onto mvNoOp's gate entry with lr = FNC_RETURN", FNC_RETURN,
      { BW_CRASHCLASS_BADKERNELCALL, NONE_CLASS }, { CTX_THREAD, NONE_CONTEXT, NONE_CONTEXT } },
    { "exception return onto mvNoOp's gate entry with lr = 0xFFFFFFB8", EXC_RETURN_NS_THREAD_MSP,
      { BW_CRASHCLASS_BADKERNELCALL, NONE_CLASS }, { CTX_THREAD, NONE_CONTEXT, NONE_CONTEXT } },
};

/* Returns to thread mode through a fake frame: pc = the gate entry (Thumb
 * bit clear, as in any frame), lr = hostile_forged_lr. */
void SVC_Handler(void);
__attribute__((naked)) void SVC_Handler(void)
{
    __asm volatile(
        "    ldr r0, =mvNoOp\n"
        "    ldr r1, =hostile_forged_lr\n"
        "    ldr r1, [r1]\n"
        "    b.w hostile_fake_return\n"
        "    .ltorg\n");
}

static void run_attack(const attack *a)
{
    svc_forging(a->variant);
}
#endif

#if HOSTILE_CASE == CASE_VTOR_SECURE
/* Attack 2: the app's vector table (VTOR_NS) or one of its vectors points
 * outside app memory, then a kernel call pends an app interrupt inside the
 * call: the vector fetch (or the handler's first fetch) fails on exception
 * entry from the secure world, with the call's frame on the kernel's stack.
 * Still the app's fault. */
static const attack attacks[] = {
    { "VTOR_NS = kernel RAM 0x38000000, IRQ 64 pended inside a kernel call", KERNEL_RAM,
      { BW_CRASHCLASS_INVALIDACCESS, NONE_CLASS }, { CTX_THREAD, CTX_IRQ(NOTIFY_IRQ), NONE_CONTEXT } },
    { "VTOR_NS = unmapped 0x4FFF0000, IRQ 64 pended inside a kernel call", UNMAPPED_NS,
      { BW_CRASHCLASS_INVALIDACCESS, NONE_CLASS }, { CTX_THREAD, CTX_IRQ(NOTIFY_IRQ), NONE_CONTEXT } },
    { "IRQ 64's vector = kernel RAM 0x38000001 (table in app RAM), pended inside a kernel call", 0,
      { BW_CRASHCLASS_SECUREACCESS, NONE_CLASS }, { CTX_IRQ(NOTIFY_IRQ), NONE_CONTEXT, NONE_CONTEXT } },
};

#define VECTOR_WORDS 128u
static uint32_t ram_vectors[VECTOR_WORDS] __attribute__((aligned(512)));

static void run_attack(const attack *a)
{
    MvNotificationHandle handle = center_open(NOTIFY_IRQ, ring, sizeof ring, 0x80u);
    uint32_t table = a->variant;
    if (table == 0) {
        memcpy(ram_vectors, (const void *)(uintptr_t)SCB_VTOR, sizeof ram_vectors);
        ram_vectors[16u + NOTIFY_IRQ] = KERNEL_RAM | 1u;
        table = (uint32_t)(uintptr_t)ram_vectors;
    }
    SCB_VTOR = table;
    __asm volatile("dsb\n isb" : : : "memory");
    (void)mvTempTriggerNotification(handle, MV_EVENTTYPE_CHANNELDATAREADABLE, 1);
}
#endif

#if HOSTILE_CASE == CASE_FP_LAZY_SECURE
/* Attack 2: the app's lazy FP state says "FP context active, a lazy save is
 * pending, to kernel RAM" (CONTROL.FPCA = 1, FPCCR_NS.LSPACT = 1, FPCAR_NS =
 * 0x38000000); then a secure exception is entered: PendSV_S inside
 * mvRestart, the kernel's tick in app code, or an app interrupt pended
 * inside a kernel call. The core refuses such an entry (SecureFault LSERR on
 * QEMU): an app crash, whichever stack the frame went to. */
static const attack attacks[] = {
    { "lazy FP state into kernel RAM, then mvRestart (PendSV_S inside the call)", 0,
      { BW_CRASHCLASS_INVALIDSTATE, NONE_CLASS }, { CTX_THREAD, NONE_CONTEXT, NONE_CONTEXT } },
    { "lazy FP state into kernel RAM, then the kernel's tick in app code", 1,
      { BW_CRASHCLASS_INVALIDSTATE, NONE_CLASS }, { CTX_THREAD, NONE_CONTEXT, NONE_CONTEXT } },
    { "lazy FP state into kernel RAM, then IRQ 64 pended inside a kernel call", 2,
      { BW_CRASHCLASS_INVALIDSTATE, NONE_CLASS }, { CTX_THREAD, CTX_IRQ(NOTIFY_IRQ), NONE_CONTEXT } },
};

/* The SVC that hands the lazy FP state to the non-secure bank (FPCCR.S = 0). */
void SVC_Handler(void);
__attribute__((naked)) void SVC_Handler(void)
{
    __asm volatile("    bx lr\n");
}

void IRQ64_Handler(void);
void IRQ64_Handler(void)
{
    hostile_irq_runs++;
}

/* r0: 0 mvRestart, 1 wait for the tick, 2 mvTempTriggerNotification(r1, 2, 7).
 * No FP instruction after the poison: it would start the lazy save in app
 * code. Returns only if nothing faulted. */
__attribute__((naked, noinline)) static void fp_poison_then(uint32_t how, uint32_t handle)
{
    __asm volatile(
        "    push {r4, r5, r6, lr}\n"
        "    mov r4, r0\n"
        "    mov r5, r1\n"
        "    vmov s0, r4\n"                 /* FP context active: CONTROL.FPCA = 1 */
        "    svc #0\n"                      /* lazy frame of the NS bank: FPCCR.S = 0 */
        "    vmov s1, r4\n"                 /* active again after the return */
        "    ldr r0, =0xE000EF38\n"
        "    ldr r1, =0x38000000\n"
        "    str r1, [r0]\n"                /* FPCAR_NS = kernel RAM */
        "    ldr r0, =0xE000EF34\n"
        "    ldr r1, [r0]\n"
        "    orr r1, r1, #1\n"
        "    str r1, [r0]\n"                /* FPCCR_NS.LSPACT = 1 */
        "    dsb\n"
        "    isb\n"
        "    cmp r4, #0\n"
        "    bne 1f\n"
        "    movs r0, #0\n"                 /* MV_RESTARTMODE_AUTOAPPLYUPDATE */
        "    bl mvRestart\n"
        "    b 9f\n"
        "1:  cmp r4, #1\n"
        "    bne 2f\n"
        "    ldr r6, =30000000\n"           /* ~60 M instructions: several ticks */
        "3:  subs r6, r6, #1\n"
        "    bne 3b\n"
        "    b 9f\n"
        "2:  mov r0, r5\n"
        "    movs r1, #2\n"
        "    movs r2, #7\n"
        "    bl mvTempTriggerNotification\n"
        "9:  ldr r0, =0xE000EF34\n"          /* survived: undo the poison */
        "    ldr r1, [r0]\n"
        "    bic r1, r1, #1\n"
        "    str r1, [r0]\n"
        "    pop {r4, r5, r6, pc}\n"
        "    .ltorg\n");
}

static void run_attack(const attack *a)
{
    MvNotificationHandle handle = 0;
    if (a->variant == 2) {
        handle = center_open(NOTIFY_IRQ, ring, sizeof ring, 0x80u);
    }
    fp_poison_then(a->variant, (uint32_t)(uintptr_t)handle);
}
#endif

#if HOSTILE_CASE == CASE_STOPPED_APP_RUNS
/* Attack 3: the app runs its own SysTick at 1 kHz and leaves its PendSV
 * pending when it crashes (udf with PRIMASK set). Promise: between the crash
 * and the restart no app code runs: neither handler is entered from the
 * crash (as the kernel timed it) to 5 ms before the end of the 100 ms
 * backoff of the second crash. Each handler logs its entry (time from
 * mvGetMicroseconds, and whether the crash had been reached) in .noinit. */
static const attack attacks[] = {
    { "SysTick at 1 kHz, PendSV pending, udf with PRIMASK set", 0,
      { BW_CRASHCLASS_UNDEFINEDINSTRUCTION, NONE_CLASS }, { CTX_THREAD, NONE_CONTEXT, NONE_CONTEXT } },
    { "again (restart after the 100 ms backoff)", 1,
      { BW_CRASHCLASS_UNDEFINEDINSTRUCTION, NONE_CLASS }, { CTX_THREAD, NONE_CONTEXT, NONE_CONTEXT } },
};
#define NO_HEALTH_CONFIRM 1

#define STOP_LOG_MAX 256u
#define WINDOW_END_SLACK_US 5000u
#define KIND_SYSTICK 1u
#define KIND_PENDSV 2u

typedef struct stop_entry {
    uint64_t us;               /* UINT64_MAX: mvGetMicroseconds failed */
    uint32_t kind;
    uint32_t after_crash;      /* the crash instruction had been reached */
} stop_entry;

static struct {
    uint32_t count;            /* handler entries this run (may exceed STOP_LOG_MAX) */
    uint32_t crashing;         /* set just before the udf */
    stop_entry entries[STOP_LOG_MAX];
} stop_log __attribute__((section(".noinit")));

static void stop_log_add(uint32_t kind)
{
    uint64_t t = 0;
    if (mvGetMicroseconds(&t) != MV_STATUS_OKAY) {
        t = UINT64_MAX;
    }
    uint32_t n = stop_log.count++;
    if (n < STOP_LOG_MAX) {
        stop_log.entries[n] = (stop_entry){ .us = t, .kind = kind, .after_crash = stop_log.crashing };
    }
}

void SysTick_Handler(void);
void SysTick_Handler(void)
{
    stop_log_add(KIND_SYSTICK);
}

void PendSV_Handler(void);
void PendSV_Handler(void)
{
    stop_log_add(KIND_PENDSV);
}

__attribute__((naked, noinline)) static void crash_masked_with_pendsv(void)
{
    __asm volatile(
        "    cpsid i\n"
        "    ldr r0, =stop_log\n"
        "    movs r1, #1\n"
        "    str r1, [r0, #4]\n"            /* stop_log.crashing */
        "    ldr r0, =0xE000ED04\n"
        "    mov r1, #0x10000000\n"
        "    str r1, [r0]\n"                /* ICSR.PENDSVSET */
        "    dsb\n"
        "    isb\n"
        "    udf #0x48\n"
        "    .ltorg\n");
}

static void run_attack(const attack *a)
{
    uint32_t hz = 0;
    (void)mvGetSysClk(&hz);
    printf("hostile: SysTick reload %" PRIu32 " (%" PRIu32 " Hz clock)\n", hz / 1000u - 1u, hz);
    memset(&stop_log, 0, sizeof stop_log);
    SYST_RVR = hz / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u;             /* enable, interrupt, processor clock */
    uint64_t start = now_us();
    while (now_us() - start < 3000u) {   /* a few ticks before the crash */
    }
    crash_masked_with_pendsv();
}

/* After the second crash: nothing ran while the app was stopped. */
static void check_stopped_window(uint32_t run, const struct BwCrashInfo *info)
{
    uint32_t before = 0, inside = 0, inside_pendsv = 0;
    uint64_t from = info->v1.uptime_us;
    uint64_t to = from + (uint64_t)info->v1.restart_delay_ms * 1000u - WINDOW_END_SLACK_US;
    uint32_t n = stop_log.count < STOP_LOG_MAX ? stop_log.count : STOP_LOG_MAX;
    for (uint32_t i = 0; i < n; i++) {
        const stop_entry *e = &stop_log.entries[i];
        if (!e->after_crash) {
            before++;
        } else if (e->us == UINT64_MAX || (e->us >= from && e->us < to)) {
            inside++;
            inside_pendsv += e->kind == KIND_PENDSV ? 1u : 0u;
        }
    }
    printf("hostile: run %" PRIu32 ": %" PRIu32 " handler entries logged, %" PRIu32
           " before the crash, %" PRIu32 " while stopped (%" PRIu32 " PendSV)\n",
           run, stop_log.count, before, inside, inside_pendsv);
    check_true(before > 0, "none", "at least one", "the app's SysTick ran before the crash");
    if (run == 2) {
        check_u32(info->v1.restart_delay_ms, 100u, "the second crash waits the 100 ms backoff");
        check_u32(inside, 0, "no app handler ran while the app was stopped (crash .. backoff - 5 ms)");
        check_u32(stop_log.count <= STOP_LOG_MAX ? 0u : 1u, 0, "handler log did not overflow");
    }
}
#endif

#if HOSTILE_CASE == CASE_ABANDONED_FRAMES
/* Attack 4: IRQ 64, pended by mvTempTriggerNotification inside the call,
 * returns to thread mode through a fake frame instead of into the call, and
 * the thread calls again; 100 times. Promise: the first thread-mode kernel
 * call after the first abandonment is refused as an app fault
 * (bad-kernel-call); the kernel's stack never fills. */
static const attack attacks[] = {
    { "IRQ 64 abandons a kernel call (fake frame back to thread mode), 100 times", 0,
      { BW_CRASHCLASS_BADKERNELCALL, NONE_CLASS }, { CTX_THREAD, NONE_CONTEXT, NONE_CONTEXT } },
    { "again, after the restart", 0,
      { BW_CRASHCLASS_BADKERNELCALL, NONE_CLASS }, { CTX_THREAD, NONE_CONTEXT, NONE_CONTEXT } },
};

#define ABANDONS 100u
MvNotificationHandle hostile_handle;
/* This run's fake returns out of the IRQ, and thread-mode calls that
 * returned after one (carried to the next run). */
volatile uint32_t hostile_abandons __attribute__((section(".noinit")));
volatile uint32_t hostile_calls_after_abandon __attribute__((section(".noinit")));

void hostile_abandoned(void) __attribute__((noreturn));

/* Counts the abandonment, then returns to thread mode at hostile_abandoned
 * through a fake frame (hostile_fake_return): the secure frames of the
 * call it preempted stay on the kernel's stack. */
void IRQ64_Handler(void);
__attribute__((naked)) void IRQ64_Handler(void)
{
    __asm volatile(
        "    ldr r0, =hostile_abandons\n"
        "    ldr r1, [r0]\n"
        "    adds r1, r1, #1\n"
        "    str r1, [r0]\n"
        "    ldr r0, =hostile_abandoned\n"
        "    mvn r1, #0\n"
        "    b.w hostile_fake_return\n"
        "    .ltorg\n");
}

/* Thread mode after an abandonment: call again (with the call's own stack
 * frame gone, on a fresh C frame). Exits the test if all 100 went through. */
void hostile_abandoned(void)
{
    while (hostile_abandons < ABANDONS) {
        if (hostile_abandons % 16u == 0) {
            printf("hostile: %" PRIu32 " kernel calls abandoned so far\n", hostile_abandons);
            fflush(stdout);
        }
        (void)mvTempTriggerNotification(hostile_handle, MV_EVENTTYPE_CHANNELDATAREADABLE, 2);
        hostile_calls_after_abandon++;
    }
    check_true(false, "all 100 went through", "an app crash at the first call after one",
               "abandoned kernel calls are stopped");
    carried.magic = 0;
    check_finish("hostile", 0, 0);
}

static void run_attack(const attack *a)
{
    hostile_abandons = 0;
    hostile_calls_after_abandon = 0;
    hostile_handle = center_open(NOTIFY_IRQ, ring, sizeof ring, 0x80u);
    fp_context_off();
    (void)mvTempTriggerNotification(hostile_handle, MV_EVENTTYPE_CHANNELDATAREADABLE, 1);
}
#endif

#if HOSTILE_CASE == CASE_NESTED_CALLS
/* Attack 5: a TIMER0 interrupt and 32 notification ISRs above it, each at a
 * higher priority (QEMU's NVIC implements all 8 priority bits: with
 * AIRCR.PRIS the app's group priorities step by 2, so 33 levels 4 apart are
 * distinct; a real M33 with fewer bits could not nest this deep). Every
 * level uses FP (an FP value held across its calls must survive), sends a
 * 1 KiB mvServerLog, then calls mvTempTriggerNotification on the next
 * level's center: the next ISR preempts that call, so calls nest inside
 * calls. A refused trigger pends the next ISR directly, so all 33 levels
 * always run. Promise: no crash and no reset; the kernel bounds the nesting:
 * for some N > 0 every call made while fewer than N calls were in progress
 * (depth <= N) returns OKAY and every deeper one MICROVISORBUSY; the same in
 * each of ROUNDS rounds. */
#define NEST_LEVELS 33u              /* level 0: TIMER0; 1..32: notification ISRs */
#define FIRST_NEST_IRQ 40u           /* level k >= 1 on IRQ 39 + k */
#define TIMER0_IRQ 3u
#define TIMER0_CTRL   (*(volatile uint32_t *)0x40000000u)
#define TIMER0_RELOAD (*(volatile uint32_t *)0x40000008u)
#define TIMER0_VALUE  (*(volatile uint32_t *)0x40000004u)
#define TIMER0_INTCLR (*(volatile uint32_t *)0x4000000Cu)
#define ROUNDS 3u
#define CALL_RECORDS (ROUNDS * NEST_LEVELS * 2u)
#define LOG_MESSAGE_BYTES 1024u
#define SPIN_LIMIT 20000000u

static MvNotificationHandle nest_handles[NEST_LEVELS];
static struct MvNotification nest_rings[NEST_LEVELS][2] __attribute__((aligned(8)));
static uint8_t log_buffer[512] __attribute__((aligned(512)));
static uint8_t log_message[LOG_MESSAGE_BYTES];

typedef struct call_record {
    uint8_t level;
    uint8_t depth;             /* calls in progress including this one */
    uint8_t is_log;
    uint32_t status;
} call_record;

static call_record calls[CALL_RECORDS];
static volatile uint32_t call_count;
static volatile uint32_t in_progress;
static volatile uint32_t level_runs[NEST_LEVELS];
static volatile uint32_t fp_errors;
static volatile uint32_t round_done;

static uint8_t level_priority(uint32_t level)
{
    return (uint8_t)(0xFCu - 4u * level);
}

static void record(uint32_t level, uint32_t depth, bool is_log, enum MvStatus status)
{
    uint32_t n = call_count++;
    if (n < CALL_RECORDS) {
        calls[n] = (call_record){ (uint8_t)level, (uint8_t)depth, is_log, (uint32_t)status };
    }
}

static void nest_level(uint32_t level)
{
    volatile float seed = (float)level + 0.5f;
    float held = seed * 3.0f;            /* lives in an FP register across the calls */
    level_runs[level]++;

    uint32_t depth = ++in_progress;
    enum MvStatus s = mvServerLog(log_message, (uint16_t)sizeof log_message);
    in_progress--;
    record(level, depth, true, s);

    if (level + 1u < NEST_LEVELS) {
        depth = ++in_progress;
        s = mvTempTriggerNotification(nest_handles[level + 1u], MV_EVENTTYPE_CHANNELDATAREADABLE, level + 1u);
        in_progress--;
        record(level, depth, false, s);
        if (s != MV_STATUS_OKAY) {
            irq_pend(FIRST_NEST_IRQ + level);   /* the next level, without a call under it */
        }
    }
    if (held != seed * 3.0f) {
        fp_errors++;
    }
}

void IRQ3_Handler(void);
void IRQ3_Handler(void)
{
    TIMER0_CTRL = 0;
    TIMER0_INTCLR = 1;
    nest_level(0);
    round_done = 1;
}

#define NEST_HANDLER(irq)                                          \
    void IRQ##irq##_Handler(void);                                 \
    void IRQ##irq##_Handler(void) { nest_level((irq) - FIRST_NEST_IRQ + 1u); }
NEST_HANDLER(40) NEST_HANDLER(41) NEST_HANDLER(42) NEST_HANDLER(43)
NEST_HANDLER(44) NEST_HANDLER(45) NEST_HANDLER(46) NEST_HANDLER(47)
NEST_HANDLER(48) NEST_HANDLER(49) NEST_HANDLER(50) NEST_HANDLER(51)
NEST_HANDLER(52) NEST_HANDLER(53) NEST_HANDLER(54) NEST_HANDLER(55)
NEST_HANDLER(56) NEST_HANDLER(57) NEST_HANDLER(58) NEST_HANDLER(59)
NEST_HANDLER(60) NEST_HANDLER(61) NEST_HANDLER(62) NEST_HANDLER(63)
NEST_HANDLER(64) NEST_HANDLER(65) NEST_HANDLER(66) NEST_HANDLER(67)
NEST_HANDLER(68) NEST_HANDLER(69) NEST_HANDLER(70) NEST_HANDLER(71)

/* One round: TIMER0 fires once; the thread waits without a kernel call (a
 * call of its own would sit under the chain and shift every depth). */
static void nest_round(uint32_t round)
{
    call_count = 0;
    round_done = 0;
    for (uint32_t level = 0; level < NEST_LEVELS; level++) {
        level_runs[level] = 0;
    }
    TIMER0_CTRL = 0;
    TIMER0_INTCLR = 1;
    TIMER0_RELOAD = 1000u;
    TIMER0_VALUE = 1000u;
    TIMER0_CTRL = (1u << 0) | (1u << 3);   /* enable, interrupt */
    for (uint32_t i = 0; i < SPIN_LIMIT && !round_done; i++) {
        __asm volatile("" : : : "memory");
    }
    check_u32(round_done, 1, "round %" PRIu32 ": the timer interrupt ran the chain", round);

    uint32_t ran_once = 0;
    for (uint32_t level = 0; level < NEST_LEVELS; level++) {
        ran_once += level_runs[level] == 1u ? 1u : 0u;
    }
    check_u32(ran_once, NEST_LEVELS, "round %" PRIu32 ": every level ran exactly once", round);
    check_u32(fp_errors, 0, "round %" PRIu32 ": FP values held across nested calls survive", round);
    check_u32(call_count, 2u * NEST_LEVELS - 1u, "round %" PRIu32 ": calls made", round);

    /* N: the deepest call that went through; every call up to it must have,
     * every deeper one must have been refused as busy. */
    uint32_t n = call_count < CALL_RECORDS ? call_count : CALL_RECORDS;
    uint32_t deepest_ok = 0, shallowest_busy = 0xFFu, other = 0, logs_ok = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (calls[i].status == MV_STATUS_OKAY) {
            deepest_ok = calls[i].depth > deepest_ok ? calls[i].depth : deepest_ok;
            logs_ok += calls[i].is_log ? 1u : 0u;
        } else if (calls[i].status == MV_STATUS_MICROVISORBUSY) {
            shallowest_busy = calls[i].depth < shallowest_busy ? calls[i].depth : shallowest_busy;
        } else {
            other++;
        }
    }
    printf("hostile: round %" PRIu32 ": calls OKAY up to depth %" PRIu32 ", MICROVISORBUSY from depth %"
           PRIu32 " (%" PRIu32 " logs sent)\n", round, deepest_ok, shallowest_busy, logs_ok);
    check_u32(other, 0, "round %" PRIu32 ": every call OKAY or MICROVISORBUSY", round);
    check_true(deepest_ok > 0, "0", "> 0", "round %" PRIu32 ": nested calls go through up to a limit", round);
    check_true(shallowest_busy <= NEST_LEVELS, "none refused", "a limit below 33 nested calls",
               "round %" PRIu32 ": calls past the limit are refused", round);
    check_u32(shallowest_busy, deepest_ok + 1u, "round %" PRIu32 ": refused exactly past the limit", round);
}

static void nested_calls(void)
{
    check_status(mvServerLoggingInit(log_buffer, sizeof log_buffer), MV_STATUS_OKAY, "mvServerLoggingInit");
    memset(log_message, 'n', sizeof log_message);
    memcpy(log_message, "nested:", 7);
    for (uint32_t level = 1; level < NEST_LEVELS; level++) {
        nest_handles[level] = center_open(FIRST_NEST_IRQ + level - 1u, nest_rings[level],
                                          sizeof nest_rings[level], level_priority(level));
    }
    irq_enable(TIMER0_IRQ, level_priority(0));
    for (uint32_t round = 1; round <= ROUNDS; round++) {
        nest_round(round);
    }
    check_status(mvNoOp(), MV_STATUS_OKAY, "the kernel still answers");
}
#endif

#if HOSTILE_CASE == CASE_HANG_WFI_SPIN
/* Attack 6: with interrupts masked, the app sleeps in WFI until the kernel's
 * tick wakes it, then spins masked for 8 ms, then sleeps again, forever:
 * every tick finds it "asleep", yet it never unmasks. Promise: caught as a
 * hang. Gives up after GIVE_UP_US of guest time. */
static const attack attacks[] = {
    { "cpsid i, then forever: wfi, spin masked for 8 ms", 0,
      { BW_CRASHCLASS_HANG, NONE_CLASS }, { CTX_THREAD, NONE_CONTEXT, NONE_CONTEXT } },
};
#define SPIN_US 8000u
#define GIVE_UP_US 1000000u

static void run_attack(const attack *a)
{
    __asm volatile("cpsid i" : : : "memory");
    uint64_t start = now_us();
    for (;;) {
        __asm volatile("wfi" : : : "memory");
        uint64_t woke = now_us();
        if (woke - start > GIVE_UP_US) {
            break;
        }
        do {
            for (volatile uint32_t i = 0; i < 1000u; i++) {
            }
        } while (now_us() - woke < SPIN_US);
    }
    __asm volatile("cpsie i" : : : "memory");
}
#endif

#if HOSTILE_CASE == CASE_NS_WATCHDOG
/* Attack 7: the SSE-200's non-secure watchdog (CMSDK APB watchdog at
 * 0x40081000) armed with a short timeout and its reset enabled. Promise: the
 * kernel owns every reset source: the app cannot reach it (an app crash) and
 * the chip never resets. */
static const attack attacks[] = {
    { "arm the NS watchdog at 0x40081000 with reset enabled", 0,
      { BW_CRASHCLASS_SECUREACCESS, NONE_CLASS }, { CTX_THREAD, NONE_CONTEXT, NONE_CONTEXT } },
};
#define NS_WDOG 0x40081000u
#define WDOG_REG(off) (*(volatile uint32_t *)(uintptr_t)(NS_WDOG + (off)))
#define WAIT_US 50000u

static void run_attack(const attack *a)
{
    WDOG_REG(0xC00u) = 0x1ACCE551u;     /* LOCK: unlock */
    WDOG_REG(0x000u) = 2000u;           /* LOAD: 100 us at 20 MHz */
    WDOG_REG(0x00Cu) = 1u;              /* INTCLR: reload */
    WDOG_REG(0x008u) = 3u;              /* CONTROL: INTEN | RESEN */
    uint64_t start = now_us();
    while (now_us() - start < WAIT_US) {   /* two timeouts would reset the chip */
    }
}
#endif

/* ================= common: checking a run, the attack loop ================= */

#if HOSTILE_CASE != CASE_NESTED_CALLS
#define ATTACKS ((uint32_t)(sizeof attacks / sizeof attacks[0]))

static const char *class_name(uint32_t c)
{
    static const char *const names[] = {
        "unknown", "invalid-access", "secure-access", "bus-blocked", "reserved-peripheral",
        "undefined-instruction", "invalid-state", "usage-fault", "stack-overflow",
        "returned-from-main", "unhandled-interrupt", "hang", "bad-kernel-call", "kernel-reset",
    };
    return c < sizeof names / sizeof names[0] ? names[c] : "(out of range)";
}

static void check_crash_report(uint32_t run, uint64_t now)
{
    const attack *a = &attacks[run - 1u];
    struct BwCrashInfo info;
    memset(&info, 0xA5, sizeof info);
    info.version = BW_CRASHINFO_VERSION_1;
    if (!check_status(bwGetLastCrash(&info), MV_STATUS_OKAY, "run %" PRIu32 ": bwGetLastCrash", run)) {
        return;
    }
    uint32_t cls = info.v1.crash_class, ctx = info.v1.app_exception;
    char got[48], want[64];
    snprintf(got, sizeof got, "%s (%" PRIu32 ")", class_name(cls), cls);
    snprintf(want, sizeof want, "%s%s%s", class_name(a->classes[0]),
             a->classes[1] != NONE_CLASS ? " or " : "",
             a->classes[1] != NONE_CLASS ? class_name(a->classes[1]) : "");
    check_true(cls == a->classes[0] || cls == a->classes[1], got, want, "run %" PRIu32 ": crash class", run);
    snprintf(got, sizeof got, "%" PRIu32, ctx);
    snprintf(want, sizeof want, "one of %u %u %u (%u: none)", (unsigned)a->contexts[0],
             (unsigned)a->contexts[1], (unsigned)a->contexts[2], (unsigned)NONE_CONTEXT);
    check_true(ctx == a->contexts[0] || ctx == a->contexts[1] || ctx == a->contexts[2], got, want,
               "run %" PRIu32 ": app context (IPSR)", run);
    check_u32(info.v1.flags & BW_CRASHINFO_FLAG_PREVIOUS_BOOT, 0, "run %" PRIu32 ": record of this boot", run);
    if (run == 1) {
        carried.first_sequence = info.v1.sequence;
    }
    check_u32(info.v1.sequence, carried.first_sequence + run - 1u, "run %" PRIu32 ": record number", run);
    check_u32(info.v1.crash_count, run, "run %" PRIu32 ": crashes since the kernel started", run);
    check_u32(info.v1.live_handles, 0, "run %" PRIu32 ": no kernel handle outlives the crash", run);
    check_u32(info.v1.open_notification_centers, 0, "run %" PRIu32 ": no notification center either", run);
    printf("hostile: run %" PRIu32 ": %s in context %" PRIu32 ", caught %" PRIu32 " us after the attack began, "
           "pc=0x%08" PRIx32 " lr=0x%08" PRIx32 " cfsr=0x%08" PRIx32 " cfsr_ns=0x%08" PRIx32
           " hfsr=0x%08" PRIx32 " sfsr=0x%08" PRIx32 ", restarted %" PRIu32 " us later\n",
           run, class_name(cls), ctx, (uint32_t)(info.v1.uptime_us - carried.attack_us), info.v1.pc,
           info.v1.lr, info.v1.cfsr, info.v1.cfsr_ns, info.v1.hfsr, info.v1.sfsr,
           (uint32_t)(now - info.v1.uptime_us));
#if HOSTILE_CASE == CASE_STOPPED_APP_RUNS
    check_stopped_window(run, &info);
#endif
#if HOSTILE_CASE == CASE_ABANDONED_FRAMES
    check_u32(hostile_abandons, 1, "run %" PRIu32 ": one abandonment, then the crash", run);
    check_u32(hostile_calls_after_abandon, 0, "run %" PRIu32 ": no thread-mode call after it went through", run);
#endif
}
#endif

#ifdef HOSTILE_TRIAL
/* HOSTILE_TRIAL builds are the app on trial of tests/qemu/run_hostile_trial.py:
 * delivered as an update, they make the case's first attack at every start,
 * never confirming themselves healthy, so the kernel must roll them back.
 * The version lives in a marker the test patches (as in apps/update). */
static const volatile struct {
    char magic[8];
    uint32_t version;
    uint32_t check;
} app_marker = { { 'B', 'V', 'E', 'R', 'M', 'A', 'R', 'K' }, 1u, ~1u };

static void trial_attack(enum MvWakeReason reason) __attribute__((noreturn));
static void trial_attack(enum MvWakeReason reason)
{
    printf("hostile-trial: %s version %" PRIu32 " started, wake reason %u\n", attacks[0].name,
           app_marker.version, (unsigned)reason);
    fflush(stdout);
    run_attack(&attacks[0]);
    printf("hostile-trial: the attack did not crash the app\n");
    fflush(stdout);
    for (;;) {
        __asm volatile("wfi");
    }
}
#endif

int main(void)
{
    enum MvWakeReason reason = (enum MvWakeReason)0x55;
    check_status(mvGetWakeReason(&reason), MV_STATUS_OKAY, "mvGetWakeReason");
#ifdef HOSTILE_TRIAL
    trial_attack(reason);
#endif
#if HOSTILE_CASE == CASE_NESTED_CALLS
    /* A second run, asked for with mvRestart, only ends the test: the kernel
     * logs its deepest stack use at each start, and the test driver checks
     * the figure that includes the nesting. */
    if (carried.magic == RUN_MAGIC) {
        carried.magic = 0;
        check_u32(reason, MV_WAKEREASON_REMOTEAPPLICATIONRESTART, "restarted by mvRestart");
        check_finish("hostile", carried.checks, carried.failures);
    }
    check_u32(reason, MV_WAKEREASON_COLDBOOT, "started by a cold boot");
    nested_calls();
    carried.magic = RUN_MAGIC;
    carried.checks = check_total;
    carried.failures = check_failures;
    (void)mvRestart(MV_RESTARTMODE_AUTOAPPLYUPDATE);
    carried.magic = 0;
    check_true(false, "returned", "a restart", "mvRestart(AUTOAPPLYUPDATE)");
    check_finish("hostile", 0, 0);
#else
    uint64_t now = now_us();
    if (carried.magic != RUN_MAGIC) {
        check_u32(reason, MV_WAKEREASON_COLDBOOT, "a run without carried state is a cold boot");
        memset(&carried, 0, sizeof carried);
        carried.magic = RUN_MAGIC;
    } else {
        check_total += carried.checks;
        check_failures += carried.failures;
        /* Any other wake reason: the chip reset (or the app restarted some
         * other way) instead of an app crash: stop here. */
        if (!check_u32(reason, MV_WAKEREASON_APPLICATIONCRASH,
                       "run %" PRIu32 ": restarted after an app crash (wake reason)", carried.runs)) {
            carried.magic = 0;
            check_finish("hostile", 0, 0);
        }
        check_status(mvNoOp(), MV_STATUS_OKAY, "run %" PRIu32 ": the kernel answers", carried.runs);
        check_crash_report(carried.runs, now);
    }
    if (carried.runs == ATTACKS) {
        carried.magic = 0;
        check_finish("hostile", 0, 0);
    }
    const attack *a = &attacks[carried.runs];
    carried.runs++;
#ifndef NO_HEALTH_CONFIRM
    check_status(bwAppConfirmHealthy(), MV_STATUS_OKAY, "run %" PRIu32 ": confirmed healthy", carried.runs);
#endif
    carried.checks = check_total;
    carried.failures = check_failures;
    printf("hostile: attack %" PRIu32 " of %" PRIu32 ": %s\n", carried.runs, ATTACKS, a->name);
    fflush(stdout);
    carried.attack_us = now_us();
    run_attack(a);
    check_true(false, "still running", "an app crash", "attack %" PRIu32 " was stopped as an app crash",
               carried.runs);
    carried.magic = 0;
    check_finish("hostile", 0, 0);
#endif
}
