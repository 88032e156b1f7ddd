/*
 * crash: one crash class per build (CRASH_CASE, set by tests/qemu/apps/
 * CMakeLists.txt), each caught, classified and survived. Promises checked:
 *  - the crash reaches the kernel, which classifies it as the case says, with
 *    the PC of the faulting instruction (the `crash_site` label, placed on it;
 *    the test driver also checks the kernel log against the ELF symbol), the
 *    fault address where the hardware gives one, and the context (thread
 *    mode, IRQ handler, SVC handler);
 *  - the kernel stays up and restarts the app in place: wake reason
 *    APPLICATIONCRASH, system calls work, the chip was never reset;
 *  - the app's world is clean after a crash inside its interrupt or SVC
 *    handler: the same interrupt and SVC work again in the next run (an
 *    interrupt left active would never fire again);
 *  - backoff, measured in guest time (-icount: mvGetMicroseconds counts
 *    instructions): the first restart comes at once, the second after the
 *    policy minimum (100 ms), each within two supervision ticks (LATE_US) of it,
 *    as bwGetLastCrash reports;
 *  - the record numbers and crash counts grow by one per crash.
 * Each case crashes CRASHES times (state in .noinit across the restarts), then
 * checks the last run and exits.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bulwark_board.h"
#include "bulwark_ext.h"
#include "check.h"
#include "memory_map.h"
#include "mv_syscalls.h"

/* The cases (CRASH_CASE). */
#define CASE_INVALID_ACCESS 1          /* load from an unmapped non-secure address */
#define CASE_SECURE_WRITE 2            /* store to kernel RAM */
#define CASE_BUS_BLOCKED 3             /* load from MHU0, kept by the PPC */
#define CASE_UNDEFINED_INSTRUCTION 4   /* udf */
#define CASE_INVALID_STATE 5           /* bx to an address with the Thumb bit clear */
#define CASE_STACK_LIMIT 6             /* sub sp past MSPLIM */
#define CASE_STACK_RECURSION 7         /* unbounded recursion into the SDK's MSPLIM (frame lost) */
#define CASE_IRQ_HANDLER 8             /* secure store inside an app IRQ handler */
#define CASE_SVC_HANDLER 9             /* secure store inside the app's SVC handler */
#define CASE_RETURN_FROM_MAIN 10       /* main returns */
#define CASE_RESERVED_PERIPHERAL 11    /* store to TIMER1, the kernel's time base */
#define CASE_HANG_PRIMASK 12           /* cpsid i; b . */
#define CASE_HANG_FAULTMASK 13         /* cpsid f; b . */
#define CASE_UNHANDLED_IRQ 14          /* an enabled IRQ without a handler */

#ifndef CRASH_CASE
#error "CRASH_CASE must name a case"
#endif

#define CRASHES 2u
#define RUN_MAGIC 0x43525348u
#define TEST_IRQ 50u
/* Restarts come within two supervision ticks (10 ms) of the backoff: the
 * kernel waits in WFI for its tick, and under -icount sleep=off QEMU wakes
 * a WFI one timer period late (measured: 10 ms ticks seen at 20 ms steps). */
#define LATE_US 20000u
#define RESTART_SLACK_US 2000u    /* the restart path itself, generously */
#define TICK_US 10000u            /* the kernel's supervision tick */
#define HANG_US 500000u           /* BW_CRASH_HANG_MS */

#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_ISPR(n) (*(volatile uint32_t *)(0xE000E200u + 4u * (n)))
#define NVIC_IABR(n) (*(volatile uint32_t *)(0xE000E300u + 4u * (n)))
#define SCB_SHCSR    (*(volatile uint32_t *)0xE000ED24u)

/* Labels the faulting instruction of each case (in the inline asm below). */
extern const char crash_site[];

static struct {
    uint32_t magic;
    uint32_t runs;            /* runs started so far */
    uint32_t checks;
    uint32_t failures;
    uint64_t before_crash_us; /* mvGetMicroseconds just before the crash */
    uint32_t first_sequence;
} carried __attribute__((section(".noinit")));

static volatile uint32_t irq_runs;
static volatile uint32_t svc_runs;
static volatile uint32_t crash_now;   /* 1: the handlers crash, 0: they count */

/* ---- crash sites: `crash_site` labels the faulting instruction ---- */

#define SECURE_RAM BOARD_KERNEL_RAM_BASE

#if CRASH_CASE == CASE_SECURE_WRITE || CRASH_CASE == CASE_IRQ_HANDLER \
    || CRASH_CASE == CASE_SVC_HANDLER || CRASH_CASE == CASE_RESERVED_PERIPHERAL
/* Stores to the address in r0. */
__attribute__((noinline, naked)) static void crash_by_store(uint32_t address)
{
    __asm volatile(
        "    .global crash_site\n"
        "crash_site:\n"
        "    str r0, [r0]\n"
        "    bx lr\n");
}
#endif

#if CRASH_CASE == CASE_INVALID_ACCESS || CRASH_CASE == CASE_BUS_BLOCKED
/* Loads from the address in r0. */
__attribute__((noinline, naked)) static uint32_t crash_by_load(uint32_t address)
{
    __asm volatile(
        "    .global crash_site\n"
        "crash_site:\n"
        "    ldr r0, [r0]\n"
        "    bx lr\n");
}
#endif

#if CRASH_CASE == CASE_UNDEFINED_INSTRUCTION
__attribute__((noinline, naked)) static void crash_undefined(void)
{
    __asm volatile(
        "    .global crash_site\n"
        "crash_site:\n"
        "    udf #0x42\n");
}
#endif

#if CRASH_CASE == CASE_INVALID_STATE
/* Branches to crash_site with the Thumb bit clear: the fault is taken there. */
__attribute__((noinline, naked)) static void crash_invalid_state(void)
{
    __asm volatile(
        "    ldr r0, =crash_site\n"
        "    bic r0, r0, #1\n"
        "    bx r0\n"
        "    .ltorg\n"
        "    .global crash_site\n"
        "crash_site:\n"
        "    nop\n"
        "    bx lr\n");
}
#endif

#if CRASH_CASE == CASE_STACK_LIMIT
/* Puts MSPLIM 64 bytes below SP, then asks for 256: STKOF on the sub, with
 * room left for the exception frame. */
__attribute__((noinline, naked)) static void crash_stack_limit(void)
{
    __asm volatile(
        "    mov r0, sp\n"
        "    sub r0, r0, #64\n"
        "    msr msplim, r0\n"
        "    .global crash_site\n"
        "crash_site:\n"
        "    sub sp, sp, #256\n"
        "    add sp, sp, #256\n"
        "    bx lr\n");
}
#endif

#if CRASH_CASE == CASE_STACK_RECURSION
static volatile uint32_t recursion_limit = 0xFFFFFFFFu;   /* never reached */

__attribute__((noinline)) static uint32_t recurse(uint32_t depth)
{
    volatile uint8_t frame[200];
    frame[depth % sizeof frame] = (uint8_t)depth;
    if (depth == recursion_limit) {
        return 0;
    }
    return recurse(depth + 1u) + frame[(depth + 7u) % sizeof frame];
}
#endif

#if CRASH_CASE == CASE_HANG_PRIMASK || CRASH_CASE == CASE_HANG_FAULTMASK
__attribute__((noinline, naked)) static void hang(void)
{
    __asm volatile(
#if CRASH_CASE == CASE_HANG_PRIMASK
        "    cpsid i\n"
#else
        "    cpsid f\n"
#endif
        "    .global crash_site\n"
        "crash_site:\n"
        "    b crash_site\n");
}
#endif

#if CRASH_CASE == CASE_RETURN_FROM_MAIN || CRASH_CASE == CASE_UNHANDLED_IRQ
/* The SDK's trap instruction is the faulting one: no label of ours on it. */
const char crash_site[1];
#endif

/* ---- handlers used by the IRQ and SVC cases ---- */

#if CRASH_CASE == CASE_IRQ_HANDLER
void IRQ50_Handler(void);
void IRQ50_Handler(void)
{
    if (crash_now) {
        crash_by_store(SECURE_RAM);
    }
    irq_runs++;
}
#endif

#if CRASH_CASE == CASE_SVC_HANDLER
void SVC_Handler(void);
void SVC_Handler(void)
{
    if (crash_now) {
        crash_by_store(SECURE_RAM);
    }
    svc_runs++;
}
#endif

#if CRASH_CASE == CASE_IRQ_HANDLER || CRASH_CASE == CASE_UNHANDLED_IRQ
static void pend_test_irq(void)
{
    NVIC_ISER(TEST_IRQ / 32u) = 1u << (TEST_IRQ % 32u);
    NVIC_ISPR(TEST_IRQ / 32u) = 1u << (TEST_IRQ % 32u);
    __asm volatile("dsb\n isb" : : : "memory");
}
#endif

/* ---- what each case expects ---- */

typedef struct expectation {
    const char *name;
    enum BwCrashClass crash_class;
    uint32_t app_exception;    /* 0 thread, 11 SVC, 16 + n IRQ n */
    bool check_pc;             /* pc == crash_site */
    bool check_address;
    uint32_t address;
} expectation;

static const expectation expected = {
#if CRASH_CASE == CASE_INVALID_ACCESS
    "invalid access", BW_CRASHCLASS_INVALIDACCESS, 0, true, true, 0x4FFF0000u,
#elif CRASH_CASE == CASE_SECURE_WRITE
    "secure write", BW_CRASHCLASS_SECUREACCESS, 0, true, false, 0,
#elif CRASH_CASE == CASE_BUS_BLOCKED
    "PPC block", BW_CRASHCLASS_BUSBLOCKED, 0, true, true, 0x40003000u,
#elif CRASH_CASE == CASE_UNDEFINED_INSTRUCTION
    "undefined instruction", BW_CRASHCLASS_UNDEFINEDINSTRUCTION, 0, true, false, 0,
#elif CRASH_CASE == CASE_INVALID_STATE
    "invalid state", BW_CRASHCLASS_INVALIDSTATE, 0, true, false, 0,
#elif CRASH_CASE == CASE_STACK_LIMIT
    "stack limit", BW_CRASHCLASS_STACKOVERFLOW, 0, true, false, 0,
#elif CRASH_CASE == CASE_STACK_RECURSION
    "stack recursion", BW_CRASHCLASS_STACKOVERFLOW, 0, false, false, 0,
#elif CRASH_CASE == CASE_IRQ_HANDLER
    "IRQ handler", BW_CRASHCLASS_SECUREACCESS, 16u + TEST_IRQ, true, false, 0,
#elif CRASH_CASE == CASE_SVC_HANDLER
    "SVC handler", BW_CRASHCLASS_SECUREACCESS, 11u, true, false, 0,
#elif CRASH_CASE == CASE_RETURN_FROM_MAIN
    "return from main", BW_CRASHCLASS_RETURNEDFROMMAIN, 0, false, false, 0,
#elif CRASH_CASE == CASE_RESERVED_PERIPHERAL
    "kernel timer", BW_CRASHCLASS_RESERVEDPERIPHERAL, 0, true, true, 0x40001000u,
#elif CRASH_CASE == CASE_HANG_PRIMASK
    "hang (PRIMASK)", BW_CRASHCLASS_HANG, 0, true, false, 0,
#elif CRASH_CASE == CASE_HANG_FAULTMASK
    "hang (FAULTMASK)", BW_CRASHCLASS_HANG, 0, true, false, 0,
#elif CRASH_CASE == CASE_UNHANDLED_IRQ
    "unhandled IRQ", BW_CRASHCLASS_UNHANDLEDINTERRUPT, 16u + TEST_IRQ, false, false, 0,
#else
#error "unknown CRASH_CASE"
#endif
};

static void crash(void)
{
    carried.before_crash_us = 0;
    (void)mvGetMicroseconds((uint64_t *)&carried.before_crash_us);
    crash_now = 1;
#if CRASH_CASE == CASE_INVALID_ACCESS
    (void)crash_by_load(0x4FFF0000u);
#elif CRASH_CASE == CASE_SECURE_WRITE
    crash_by_store(SECURE_RAM);
#elif CRASH_CASE == CASE_BUS_BLOCKED
    (void)crash_by_load(0x40003000u);
#elif CRASH_CASE == CASE_UNDEFINED_INSTRUCTION
    crash_undefined();
#elif CRASH_CASE == CASE_INVALID_STATE
    crash_invalid_state();
#elif CRASH_CASE == CASE_STACK_LIMIT
    crash_stack_limit();
#elif CRASH_CASE == CASE_STACK_RECURSION
    (void)recurse(0);
#elif CRASH_CASE == CASE_IRQ_HANDLER || CRASH_CASE == CASE_UNHANDLED_IRQ
    pend_test_irq();
#elif CRASH_CASE == CASE_SVC_HANDLER
    __asm volatile("svc #1" : : : "memory");
#elif CRASH_CASE == CASE_RETURN_FROM_MAIN
    return;   /* main returns right after */
#elif CRASH_CASE == CASE_RESERVED_PERIPHERAL
    crash_by_store(0x40001000u);
#elif CRASH_CASE == CASE_HANG_PRIMASK || CRASH_CASE == CASE_HANG_FAULTMASK
    hang();
#endif
#if CRASH_CASE != CASE_RETURN_FROM_MAIN
    check_true(false, "still running", "a crash", "%s: the crash happened", expected.name);
#endif
}

/* The app's world after the crash: what the crash case used works again. */
static void check_world_clean(void)
{
    check_u32(SCB_SHCSR & 0xFFFu, 0, "no app exception left active");
    check_u32(NVIC_IABR(TEST_IRQ / 32u), 0, "IRQ %u not left active", TEST_IRQ);
#if CRASH_CASE == CASE_IRQ_HANDLER
    uint32_t before = irq_runs;
    pend_test_irq();
    check_u32(irq_runs - before, 1, "IRQ %u runs again after a crash in its handler", TEST_IRQ);
#elif CRASH_CASE == CASE_SVC_HANDLER
    uint32_t before = svc_runs;
    __asm volatile("svc #1" : : : "memory");
    check_u32(svc_runs - before, 1, "SVC works again after a crash in its handler");
#endif
}

static void check_crash_report(uint32_t run, uint64_t now)
{
    struct BwCrashInfo info;
    memset(&info, 0xA5, sizeof info);
    info.version = BW_CRASHINFO_VERSION_1;
    if (!check_status(bwGetLastCrash(&info), MV_STATUS_OKAY, "run %" PRIu32 ": bwGetLastCrash", run)) {
        return;
    }
    const char *name = expected.name;
    check_u32(info.v1.crash_class, expected.crash_class, "%s: crash class", name);
    check_u32(info.v1.app_exception, expected.app_exception, "%s: app context (IPSR)", name);
    if (expected.check_pc) {
        check_u32(info.v1.pc, (uint32_t)(uintptr_t)crash_site, "%s: pc is the faulting instruction", name);
        check_u32(info.v1.flags & BW_CRASHINFO_FLAG_FRAME_VALID, BW_CRASHINFO_FLAG_FRAME_VALID,
                  "%s: frame captured", name);
    }
#if CRASH_CASE == CASE_STACK_RECURSION
    /* The overflowing push faulted, then pushing the exception frame hit the
     * limit too: the core set SP to MSPLIM and stacked nothing, so pc and lr
     * are lost (the record says so) and SP is exactly the limit. */
    extern uint32_t __stack_limit__[];
    check_u32(info.v1.flags & BW_CRASHINFO_FLAG_FRAME_VALID, 0, "%s: frame lost at the limit", name);
    check_u32(info.v1.sp, (uint32_t)(uintptr_t)__stack_limit__, "%s: SP at MSPLIM", name);
    check_u32(info.v1.cfsr_ns & (1u << 20), 1u << 20, "%s: CFSR_NS.STKOF", name);
#endif
#if CRASH_CASE == CASE_RETURN_FROM_MAIN || CRASH_CASE == CASE_UNHANDLED_IRQ
    uint16_t insn = *(const volatile uint16_t *)(uintptr_t)(info.v1.pc & ~1u);
    check_u32(insn, CRASH_CASE == CASE_RETURN_FROM_MAIN ? 0xDEB1u : 0xDEB2u,
              "%s: pc is the SDK's trap", name);
#endif
    if (expected.check_address) {
        check_u32(info.v1.flags & BW_CRASHINFO_FLAG_ADDRESS_VALID, BW_CRASHINFO_FLAG_ADDRESS_VALID,
                  "%s: fault address given", name);
        check_u32(info.v1.fault_address, expected.address, "%s: fault address", name);
    }
    check_u32(info.v1.flags & BW_CRASHINFO_FLAG_PREVIOUS_BOOT, 0, "%s: record of this boot", name);
    if (run == 1) {
        carried.first_sequence = info.v1.sequence;
    }
    check_u32(info.v1.sequence, carried.first_sequence + run - 1u, "%s: record number", name);
    check_u32(info.v1.crash_count, run, "%s: crashes since the kernel started", name);
    check_u32(info.v1.crashes_since_healthy, run, "%s: crashes since healthy", name);
    check_u32(info.v1.live_handles, 0, "%s: no kernel handle outlives the crash", name);
    check_u32(info.v1.open_notification_centers, 0, "%s: no notification center either", name);

    /* Backoff: immediate, then the policy minimum, counted from the crash as
     * the kernel timed it; each at most LATE_US late. */
    uint32_t want_ms = run == 1 ? 0u : 100u;
    check_u32(info.v1.restart_delay_ms, want_ms, "%s: backoff chosen for crash %" PRIu32, name, run);
    uint64_t took = now - info.v1.uptime_us;
    check_u64_between(took, (uint64_t)want_ms * 1000u,
                      (uint64_t)want_ms * 1000u + LATE_US + RESTART_SLACK_US,
                      "%s: restart %" PRIu32 " came after the backoff (us, guest time)", name, run);
    /* The crash itself was seen at once, or for a hang after the hang timeout. */
    uint64_t seen = info.v1.uptime_us - carried.before_crash_us;
#if CRASH_CASE == CASE_HANG_PRIMASK || CRASH_CASE == CASE_HANG_FAULTMASK
    check_u64_between(seen, HANG_US, HANG_US + TICK_US + RESTART_SLACK_US,
                      "%s: hang caught after the hang timeout (us)", name);
#else
    check_u64_between(seen, 0, RESTART_SLACK_US, "%s: crash caught at once (us)", name);
#endif
    printf("crash: %s: caught after %" PRIu32 " us, restart %" PRIu32 " after %" PRIu32
           " us more (backoff %" PRIu32 " ms)\n", name, (uint32_t)seen, run, (uint32_t)took,
           info.v1.restart_delay_ms);
}

int main(void)
{
    enum MvWakeReason reason = (enum MvWakeReason)0x55;
    check_status(mvGetWakeReason(&reason), MV_STATUS_OKAY, "mvGetWakeReason");
    uint64_t now = 0;
    check_status(mvGetMicroseconds(&now), MV_STATUS_OKAY, "mvGetMicroseconds");
    if (reason == MV_WAKEREASON_COLDBOOT || carried.magic != RUN_MAGIC) {
        check_u32(reason, MV_WAKEREASON_COLDBOOT, "a run without carried state is a cold boot");
        memset(&carried, 0, sizeof carried);
        carried.magic = RUN_MAGIC;
    } else {
        check_total += carried.checks;
        check_failures += carried.failures;
        check_u32(reason, MV_WAKEREASON_APPLICATIONCRASH, "run %" PRIu32 ": wake reason", carried.runs);
        check_status(mvNoOp(), MV_STATUS_OKAY, "run %" PRIu32 ": the kernel answers", carried.runs);
        check_crash_report(carried.runs, now);
        check_world_clean();
    }
    if (carried.runs == CRASHES) {
        carried.magic = 0;
        check_finish("crash", 0, 0);
    }
    carried.runs++;
    carried.checks = check_total;
    carried.failures = check_failures;
    printf("crash: %s: run %" PRIu32 " crashes now\n", expected.name, carried.runs);
    fflush(stdout);
    crash();
    return 0;
}
