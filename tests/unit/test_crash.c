/*
 * Crash supervision, the portable part: the record format, classification,
 * the supervisor's decisions, the crash log ring, and bwGetLastCrash /
 * bwAppConfirmHealthy. Promises checked:
 *  - a sealed record passes its check; any flipped byte, another magic,
 *    version or size, a length field past its capacity or a class past the
 *    enum is refused (untrusted flash and user input);
 *  - every class is derived from the status bits as docs/DESIGN.md says,
 *    including the SDK's traps, stack overflow, the board's address kinds
 *    and hangs;
 *  - bw_crash_handle records what the capture holds (registers, valid fault
 *    address, context, a stack copy cut at the end of app memory), prints
 *    the record as one hex line that decodes back to it, and keeps it in
 *    flash, or in RAM only (saying so) without a partition;
 *  - backoff: immediate, then min * 2^(n-2) up to max; probation: K crashes
 *    before healthy make a crash loop: the rollback hook is asked once; with
 *    it the app restarts at once with a fresh count, without it the app is
 *    parked at max; healthy (by time, at the tick or at the crash, or by the
 *    app's call) resets the backoff and ends probation;
 *  - policies out of range are refused (a stack size past the record's
 *    capacity is cut to it); the stack copy follows the policy;
 *  - the ring keeps the newest records, recycles whole sectors, iterates in
 *    order, reopens where it stopped, skips garbage, refuses geometries it
 *    cannot use;
 *  - bwGetLastCrash validates its pointer and version before writing
 *    anything, reports "none" as sequence 0, and after a kernel restart
 *    reports the newest flash record as from a previous boot; a restart
 *    leaves no handle or center alive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bulwark_ext.h"
#include "bw_config.h"
#include "bw_crash.h"
#include "bw_crash_log.h"
#include "bw_notify.h"
#include "bw_syscalls.h"
#include "nor_sim.h"
#include "test_support.h"

#define SECTOR 8192u
#define UNIT 16u
#define SECTORS 4u

static nor_sim *sim;
static bw_flash_partition partition;

/* The board: flash with a crash-log partition (or none), app memory, a kernel start. */
static void start_kernel(bool with_flash)
{
    port_host_reset();
    memset(app_ram, 0xA5, sizeof app_ram);
    memset(app_flash, 0x5A, sizeof app_flash);
    assert_true(port_host_add_app_region(app_ram, sizeof app_ram, true));
    assert_true(port_host_add_app_region(app_flash, sizeof app_flash, false));
    if (with_flash) {
        port_host_set_partition(BW_PARTITION_CRASH_LOG, &partition);
    }
    assert_int_equal(bw_kernel_init(), BW_OK);
}

static int setup(void **state)
{
    (void)state;
    sim = nor_sim_create(&(nor_sim_config){ .size = SECTORS * SECTOR, .sector_size = SECTOR,
                                            .program_unit = UNIT, .seed = 3 });
    assert_non_null(sim);
    partition = (bw_flash_partition){ nor_sim_device(sim), 0, SECTORS * SECTOR };
    start_kernel(true);
    port_host_console_clear();
    return 0;
}

static int teardown(void **state)
{
    test_support_check_port_use();
    nor_sim_destroy(sim);
    sim = NULL;
    (void)state;
    return 0;
}

static uint32_t addr32(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    assert_true(a <= UINT32_MAX);   /* the test binary is linked -no-pie */
    return (uint32_t)a;
}

/* A capture of a SecureFault in thread mode, frame on app_ram at `sp_offset`. */
static bw_crash_capture secure_fault_capture(uint32_t sp_offset)
{
    bw_crash_capture c;
    memset(&c, 0, sizeof c);
    c.trigger = 7;
    c.frame_valid = true;
    for (uint32_t i = 0; i < 8; i++) {
        c.frame[i] = 0x1000u + i;
        c.r4_r11[i] = 0x4000u + i;
    }
    c.frame[6] = addr32(app_flash) + 0x100u;   /* pc */
    c.frame[7] = 0x01000000u;                  /* xpsr: thread mode */
    c.sp = addr32(app_ram) + sp_offset;
    c.exc_return = 0xFFFFFFB9u;
    c.sfsr = 0x08u;                            /* AUVIOL */
    c.time_us = 5000;
    return c;
}

/* ---- the record format ---- */

static bw_crash_record sample_record(void)
{
    bw_crash_record r;
    memset(&r, 0, sizeof r);
    r.sequence = 7;
    r.crash_class = BW_CRASH_CLASS_SECURE_ACCESS;
    r.stack_len = 16;
    r.pc = 0x80000123u;
    bw_crash_record_seal(&r);
    return r;
}

static void record_checks_reject_anything_damaged(void **state)
{
    (void)state;
    bw_crash_record r = sample_record(), out;
    assert_int_equal(bw_crash_record_check(&r, sizeof r, &out), BW_OK);
    assert_memory_equal(&r, &out, sizeof r);
    assert_int_equal(bw_crash_record_check(&r, sizeof r - 1, &out), BW_E_SIZE);

    uint8_t bytes[sizeof r];
    for (size_t i = 0; i < sizeof r; i++) {
        memcpy(bytes, &r, sizeof r);
        bytes[i] ^= 0x10u;
        assert_int_not_equal(bw_crash_record_check(bytes, sizeof bytes, &out), BW_OK);
    }
    bw_crash_record bad = r;
    bad.magic ^= 1u;
    assert_int_equal(bw_crash_record_check(&bad, sizeof bad, &out), BW_E_INVALID);
    bad = r;
    bad.version = 2;
    bad.crc32 = 0;
    assert_int_equal(bw_crash_record_check(&bad, sizeof bad, &out), BW_E_VERSION);
    bad = r;
    bad.stack_len = BW_CRASH_STACK_CAPACITY + 4u;
    bw_crash_record_seal(&bad);
    assert_int_equal(bw_crash_record_check(&bad, sizeof bad, &out), BW_E_INVALID);
    bad = r;
    bad.crash_class = BW_CRASH_CLASS_COUNT;
    bw_crash_record_seal(&bad);
    assert_int_equal(bw_crash_record_check(&bad, sizeof bad, &out), BW_E_INVALID);
}

static void names_and_contexts(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < BW_CRASH_CLASS_COUNT; i++) {
        assert_string_not_equal(bw_crash_class_name(i), "invalid");
        for (uint32_t j = 0; j < i; j++) {
            assert_string_not_equal(bw_crash_class_name(i), bw_crash_class_name(j));
        }
    }
    assert_string_equal(bw_crash_class_name(BW_CRASH_CLASS_COUNT), "invalid");
    char text[32];
    bw_crash_context_text(0, text, sizeof text);
    assert_string_equal(text, "thread mode");
    bw_crash_context_text(11, text, sizeof text);
    assert_string_equal(text, "SVC handler");
    bw_crash_context_text(66, text, sizeof text);
    assert_string_equal(text, "IRQ 50 handler");
    bw_crash_context_text(9, text, sizeof text);
    assert_string_equal(text, "exception 9 handler");
    bw_crash_context_text(66, text, 6);
    assert_string_equal(text, "IRQ 5");
}

typedef struct class_case {
    uint8_t trigger;
    uint32_t cfsr, cfsr_ns, hfsr, sfsr;
    bool hang;
    uint16_t insn;
    bw_address_kind kind;
    bw_crash_class want;
} class_case;

static void classification_from_status_bits(void **state)
{
    (void)state;
    static const class_case cases[] = {
        { 3, 0, 1u << 16, 1u << 30, 0, false, 0xDE42u, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_UNDEFINED_INSTRUCTION },
        { 3, 0, 1u << 16, 1u << 30, 0, false, 0xDEB1u, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_RETURNED_FROM_MAIN },
        { 3, 0, 1u << 16, 1u << 30, 0, false, 0xDEB2u, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_UNHANDLED_INTERRUPT },
        { 3, 0, 1u << 16, 1u << 30, 0, false, 0xDEB3u, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_UNDEFINED_INSTRUCTION },
        { 3, 0, 1u << 16, 1u << 30, 0, false, 0xDEB4u, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_STACK_OVERFLOW },
        { 3, 0, 1u << 16, 1u << 30, 0, false, 0xDEB5u, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_UNDEFINED_INSTRUCTION },
        { 3, 0, 1u << 16, 1u << 30, 0, false, 0xDEB6u, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_UNDEFINED_INSTRUCTION },
        { 3, 0, 1u << 17, 0, 0, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_INVALID_STATE },
        { 3, 0, 1u << 18, 0, 0, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_INVALID_STATE },
        { 3, 0, 1u << 19, 0, 0, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_INVALID_STATE },
        { 3, 0, 1u << 24, 0, 0, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_USAGE_FAULT },
        { 3, 0, 1u << 25, 0, 0, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_USAGE_FAULT },
        { 3, 0, 1u << 20, 0, 0, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_STACK_OVERFLOW },
        { 3, 0, 1u << 4, 0, 0, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_STACK_OVERFLOW },
        { 5, 1u << 12, 0, 0, 0, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_STACK_OVERFLOW },
        { 7, 0, 0, 0, 0x08u, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_SECURE_ACCESS },
        { 7, 0, 0, 0, 0x01u, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_SECURE_ACCESS },
        /* A forged exception return (INVIS, INVER) and lazy FP state set by
         * the app (LSERR) are invalid state; lazy stacking into secure
         * memory (LSPERR) is a secure access. */
        { 7, 0, 0, 0, 0x02u, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_INVALID_STATE },
        { 7, 0, 0, 0, 0x04u, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_INVALID_STATE },
        { 7, 0, 0, 0, 0x80u, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_INVALID_STATE },
        { 7, 0, 0, 0, 0x20u, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_SECURE_ACCESS },
        { 7, 0, 0, 0, 0x48u, false, 0, BW_ADDRESS_KERNEL_PERIPHERAL, BW_CRASH_CLASS_RESERVED_PERIPHERAL },
        { 5, 0x8200u, 0, 0, 0, false, 0, BW_ADDRESS_KERNEL_PERIPHERAL, BW_CRASH_CLASS_RESERVED_PERIPHERAL },
        { 5, 0x8200u, 0, 0, 0, false, 0, BW_ADDRESS_PROTECTED, BW_CRASH_CLASS_BUS_BLOCKED },
        { 5, 0x8200u, 0, 0, 0, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_INVALID_ACCESS },
        { 5, 1u << 10, 0, 0, 0, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_INVALID_ACCESS },
        { 3, 0, 1u << 0, 1u << 30, 0, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_INVALID_ACCESS },
        { 3, 0, 0x82u, 1u << 30, 0, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_INVALID_ACCESS },
        { 3, 0, 0, 1u << 1, 0, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_INVALID_ACCESS },
        { 15, 0, 0, 0, 0, true, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_HANG },
        { 3, 0, 0, 1u << 30, 0, false, 0, BW_ADDRESS_UNKNOWN, BW_CRASH_CLASS_UNKNOWN },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const class_case *c = &cases[i];
        bw_crash_record r;
        memset(&r, 0, sizeof r);
        r.trigger = c->trigger;
        r.cfsr = c->cfsr;
        r.cfsr_ns = c->cfsr_ns;
        r.hfsr = c->hfsr;
        r.sfsr = c->sfsr;
        r.insn = c->insn;
        r.flags = c->insn != 0 ? BW_CRASH_FLAG_INSN_VALID : 0;
        bw_crash_class got = bw_crash_classify(&r, c->hang, c->kind);
        if (got != c->want) {
            fail_msg("case %zu: class %s, want %s", i, bw_crash_class_name(got), bw_crash_class_name(c->want));
        }
        r.crash_class = (uint8_t)got;
        assert_non_null(bw_crash_cause_text(&r));
    }
}

/* ---- bw_crash_handle: the record ---- */

/* The hex of the last "[kernel] crash record: " line on the console, decoded. */
static void record_from_console(bw_crash_record *out)
{
    const char *console = port_host_console();
    const char *line = NULL;
    for (const char *p = strstr(console, "[kernel] crash record: "); p != NULL;
         p = strstr(p + 1, "[kernel] crash record: ")) {
        line = p;
    }
    assert_non_null(line);
    line += strlen("[kernel] crash record: ");
    uint8_t bytes[BW_CRASH_RECORD_SIZE];
    for (size_t i = 0; i < sizeof bytes; i++) {
        unsigned v;
        assert_int_equal(sscanf(line + 2 * i, "%2x", &v), 1);
        bytes[i] = (uint8_t)v;
    }
    assert_int_equal(line[2 * sizeof bytes], '\n');
    assert_int_equal(bw_crash_record_check(bytes, sizeof bytes, out), BW_OK);
}

static void handle_records_the_capture(void **state)
{
    (void)state;
    uint32_t sp_offset = APP_RAM_SIZE - 64u;   /* only 64 bytes of stack left in app memory */
    for (uint32_t i = 0; i < 64u; i++) {
        app_ram[sp_offset + i] = (uint8_t)i;
    }
    bw_crash_capture c = secure_fault_capture(sp_offset);
    c.sfsr = 0x48u;   /* AUVIOL with SFARVALID */
    c.sfar = 0x38000010u;
    port_host_set_address_kind(0x38000000u, 0x1000u, BW_ADDRESS_UNKNOWN);
    bw_crash_app_starting();
    assert_int_equal(bw_crash_handle(&c), 0);

    bw_crash_record r, from_console;
    bool previous = true;
    assert_true(bw_crash_last(&r, &previous));
    assert_false(previous);
    record_from_console(&from_console);
    assert_memory_equal(&r, &from_console, sizeof r);
    assert_int_equal(r.sequence, 1);
    assert_int_equal(r.crash_class, BW_CRASH_CLASS_SECURE_ACCESS);
    assert_int_equal(r.trigger, 7);
    assert_int_equal(r.app_exception, 0);
    assert_int_equal(r.pc, c.frame[6]);
    assert_int_equal(r.lr, c.frame[5]);
    assert_int_equal(r.r[12], c.frame[4]);
    assert_int_equal(r.r[7], 0x4003u);
    assert_int_equal(r.fault_address, 0x38000010u);
    assert_true(r.flags & BW_CRASH_FLAG_SFAR_VALID);
    assert_true(r.flags & BW_CRASH_FLAG_FRAME_VALID);
    assert_true(r.flags & BW_CRASH_FLAG_STACK_TRUNCATED);
    assert_int_equal(r.stack_base, c.sp);
    assert_int_equal(r.stack_len, 64);
    assert_memory_equal(r.stack, app_ram + sp_offset, 64);
    assert_int_equal(r.uptime_us, 5000);
    assert_int_equal(r.crash_count, 1);
    assert_int_equal(r.crashes_since_healthy, 1);
    assert_non_null(strstr(port_host_console(), "crash class: secure-access in thread mode"));
    assert_non_null(strstr(port_host_console(), "crash record 1 saved in flash"));
    assert_non_null(strstr(port_host_console(), "restarting the app now"));

    /* The flash log holds the same record. */
    bw_crash_log log;
    bw_crash_record stored;
    assert_int_equal(bw_crash_log_open(&log, &partition), BW_OK);
    assert_int_equal(bw_crash_log_newest(&log, &stored), BW_OK);
    assert_memory_equal(&stored, &r, sizeof r);
}

static void handle_without_frame_or_flash(void **state)
{
    (void)state;
    start_kernel(false);
    assert_non_null(strstr(port_host_console(), "crash records are kept in RAM only"));
    bw_crash_capture c = secure_fault_capture(256);
    c.frame_valid = false;
    c.trigger = 3;
    c.sfsr = 0;
    c.cfsr_ns = 1u << 20;      /* STKOF, frame lost */
    c.exc_return = 0xFFFFFFB1u; /* from handler mode */
    bw_crash_app_starting();
    port_host_console_clear();
    (void)bw_crash_handle(&c);
    bw_crash_record r;
    bool previous;
    assert_true(bw_crash_last(&r, &previous));
    assert_int_equal(r.crash_class, BW_CRASH_CLASS_STACK_OVERFLOW);
    assert_int_equal(r.pc, 0);
    assert_false(r.flags & BW_CRASH_FLAG_FRAME_VALID);
    assert_int_equal(r.app_exception, 0x1FF);
    assert_int_equal(r.sequence, 1);
    assert_int_equal(r.stack_len, BW_CRASH_STACK_BYTES);
    assert_non_null(strstr(port_host_console(), "(frame lost)"));
    assert_null(strstr(port_host_console(), "saved in flash"));
}

/* A call the gate refused: class bad-kernel-call whatever the status bits,
 * with the gate entry as pc and the app's (forged) return address as lr,
 * as the arch layer captured them. */
static void refused_kernel_call_is_its_own_class(void **state)
{
    (void)state;
    start_kernel(false);
    bw_crash_capture c = secure_fault_capture(256);
    c.trigger = 11;
    c.bad_call = true;
    c.sfsr = 0;
    c.frame[5] = 0xFEFFFFFEu;
    c.frame[6] = 0x80100400u;
    c.frame[7] = 0x01000000u;
    bw_crash_app_starting();
    port_host_console_clear();
    (void)bw_crash_handle(&c);
    bw_crash_record r;
    bool previous;
    assert_true(bw_crash_last(&r, &previous));
    assert_int_equal(r.crash_class, BW_CRASH_CLASS_BAD_KERNEL_CALL);
    assert_int_equal(r.pc, 0x80100400u);
    assert_int_equal(r.lr, 0xFEFFFFFEu);
    assert_int_equal(r.app_exception, 0);
    assert_non_null(strstr(port_host_console(), "app crash: kernel call: refused by the gate"));
    assert_non_null(strstr(port_host_console(), "crash class: bad-kernel-call in thread mode"));
}

static void undefined_instruction_reads_the_trap(void **state)
{
    (void)state;
    bw_crash_capture c = secure_fault_capture(1024);
    c.trigger = 3;
    c.sfsr = 0;
    c.cfsr_ns = 1u << 16;
    app_flash[0x100] = 0xB1;   /* UDF #0xB1, little-endian halfword 0xDEB1 */
    app_flash[0x101] = 0xDE;
    bw_crash_app_starting();
    (void)bw_crash_handle(&c);
    bw_crash_record r;
    bool previous;
    assert_true(bw_crash_last(&r, &previous));
    assert_int_equal(r.crash_class, BW_CRASH_CLASS_RETURNED_FROM_MAIN);
    assert_int_equal(r.insn, 0xDEB1u);
    assert_true(r.flags & BW_CRASH_FLAG_INSN_VALID);
    assert_string_equal(bw_crash_cause_text(&r), "undefined instruction (UsageFault UNDEFINSTR)");
    assert_string_equal(bw_crash_trap_text(&r), "main returned (SDK UDF #0xB1)");
    assert_non_null(strstr(port_host_console(), "  trap: main returned (SDK UDF #0xB1)"));

    c.frame[6] = 0x10u;   /* pc outside app memory: the instruction cannot be read */
    bw_crash_app_starting();
    (void)bw_crash_handle(&c);
    assert_true(bw_crash_last(&r, &previous));
    assert_int_equal(r.crash_class, BW_CRASH_CLASS_UNDEFINED_INSTRUCTION);
    assert_false(r.flags & BW_CRASH_FLAG_INSN_VALID);
    assert_null(bw_crash_trap_text(&r));
}

/* ---- backoff and the crash-loop state ---- */

static uint64_t clock_us = 1000000;

/* Starts a run, lets it run `run_ms`, crashes it; returns the backoff. */
static uint32_t crash_after(uint32_t run_ms)
{
    port_host_set_time_us(clock_us);
    bw_crash_app_starting();
    clock_us += (uint64_t)run_ms * 1000u;
    bw_crash_capture c = secure_fault_capture(1024);
    c.time_us = clock_us;
    uint32_t delay = bw_crash_handle(&c);
    clock_us += (uint64_t)delay * 1000u;
    return delay;
}

static bw_crash_record last_record(void)
{
    bw_crash_record r;
    bool previous;
    assert_true(bw_crash_last(&r, &previous));
    return r;
}

static void backoff_and_crash_loop_without_rollback(void **state)
{
    (void)state;
    assert_int_equal(crash_after(1), 0);
    assert_int_equal(crash_after(1), 100);
    assert_int_equal(crash_after(1), 30000);   /* K = 3 on probation: parked */
    bw_crash_record r = last_record();
    assert_int_equal(r.loop_action, BW_CRASH_LOOP_PARKED);
    assert_true(r.flags & BW_CRASH_FLAG_CRASH_LOOP);
    assert_int_equal(crash_after(1), 30000);
    assert_int_equal(crash_after(1), 30000);

    /* Healthy by the app's word: backoff and probation end. */
    port_host_set_time_us(clock_us);
    bw_crash_app_starting();
    assert_false(bw_crash_app_healthy());
    bw_crash_confirm_healthy();
    assert_true(bw_crash_app_healthy());
    assert_non_null(strstr(port_host_console(), "app healthy: confirmed by the app"));
    bw_crash_capture c = secure_fault_capture(1024);
    c.time_us = clock_us;
    assert_int_equal(bw_crash_handle(&c), 0);
    assert_false(bw_crash_app_healthy());
    static const uint32_t doubling[] = { 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000 };
    for (size_t i = 0; i < sizeof doubling / sizeof doubling[0]; i++) {
        assert_int_equal(crash_after(1), doubling[i]);
        assert_int_equal(last_record().loop_action, BW_CRASH_LOOP_NONE);
    }
    /* Healthy by time: the tick sees it... */
    port_host_set_time_us(clock_us);
    bw_crash_app_starting();
    bw_crash_tick(clock_us + 9999000u);
    assert_null(strstr(port_host_console(), "ran 10000 ms without a crash"));
    bw_crash_tick(clock_us + 10000000u);
    assert_non_null(strstr(port_host_console(), "app healthy: ran 10000 ms without a crash"));
    c.time_us = clock_us + 10000000u;
    assert_int_equal(bw_crash_handle(&c), 0);
    clock_us += 10000000u;
    /* ...or the crash does, when no tick came in between. */
    assert_int_equal(crash_after(1), 100);
    assert_int_equal(crash_after(10000), 0);
    assert_int_equal(last_record().crashes_since_healthy, 1);
    assert_int_equal(last_record().crash_count, 20);
}

static int rollback_calls;
static bw_err rollback_result;
static uint32_t rollback_seen_crashes;

static bw_err rollback_hook(void *context, const bw_crash_record *crash)
{
    assert_ptr_equal(context, &rollback_calls);
    rollback_calls++;
    rollback_seen_crashes = crash->crashes_since_healthy;
    return rollback_result;
}

static void crash_loop_asks_the_rollback_hook(void **state)
{
    (void)state;
    rollback_calls = 0;
    rollback_result = BW_OK;
    bw_crash_set_rollback_handler(rollback_hook, &rollback_calls);
    bw_crash_app_installed(42);
    assert_int_equal(crash_after(1), 0);
    assert_int_equal(crash_after(1), 100);
    assert_int_equal(rollback_calls, 0);
    assert_int_equal(crash_after(1), 0);          /* rolled back: the good app starts at once */
    assert_int_equal(rollback_calls, 1);
    assert_int_equal(rollback_seen_crashes, 3);
    bw_crash_record r = last_record();
    assert_int_equal(r.loop_action, BW_CRASH_LOOP_ROLLED_BACK);
    assert_int_equal(r.app_version, 42);
    assert_non_null(strstr(port_host_console(), "rolled back to the last-known-good app"));
    /* The good app is on probation too; when it loops and no good app is left: parked. */
    rollback_result = BW_E_UNAVAILABLE;
    assert_int_equal(crash_after(1), 0);
    assert_int_equal(crash_after(1), 100);
    assert_int_equal(crash_after(1), 30000);
    assert_int_equal(rollback_calls, 2);
    assert_int_equal(last_record().loop_action, BW_CRASH_LOOP_PARKED);
    assert_int_equal(crash_after(1), 30000);
    assert_int_equal(rollback_calls, 2);          /* asked once per loop */
    bw_crash_set_rollback_handler(NULL, NULL);
}

static void policy_is_validated_and_used(void **state)
{
    (void)state;
    bw_crash_policy p, bad;
    bw_crash_get_policy(&p);
    assert_int_equal(p.restart_min_ms, 100);
    assert_int_equal(p.restart_max_ms, 30000);
    assert_int_equal(p.stack_bytes, 256);
    assert_int_equal(p.healthy_after_ms, 10000);
    assert_int_equal(p.loop_crashes, 3);
    bad = p;
    bad.restart_min_ms = 0;
    assert_int_equal(bw_crash_set_policy(&bad), BW_E_INVALID);
    bad = p;
    bad.restart_min_ms = 40000;
    assert_int_equal(bw_crash_set_policy(&bad), BW_E_INVALID);
    bad = p;
    bad.restart_max_ms = 25u * 3600u * 1000u;
    assert_int_equal(bw_crash_set_policy(&bad), BW_E_INVALID);
    bad = p;
    bad.stack_bytes = 258;
    assert_int_equal(bw_crash_set_policy(&bad), BW_E_INVALID);
    bad.stack_bytes = 4096;   /* a bundle may ask for more than a record holds: cut */
    assert_int_equal(bw_crash_set_policy(&bad), BW_OK);
    bw_crash_get_policy(&bad);
    assert_int_equal(bad.stack_bytes, BW_CRASH_STACK_CAPACITY);
    bad = p;
    bad = p;
    bad.healthy_after_ms = 0;
    assert_int_equal(bw_crash_set_policy(&bad), BW_E_INVALID);
    bad = p;
    bad.loop_crashes = 0;
    assert_int_equal(bw_crash_set_policy(&bad), BW_E_INVALID);

    bw_crash_policy mine = { .restart_min_ms = 5, .restart_max_ms = 12, .stack_bytes = 32,
                             .healthy_after_ms = 50, .loop_crashes = 100 };
    assert_int_equal(bw_crash_set_policy(&mine), BW_OK);
    assert_int_equal(crash_after(1), 0);
    assert_int_equal(crash_after(1), 5);
    assert_int_equal(crash_after(1), 10);
    assert_int_equal(crash_after(1), 12);
    assert_int_equal(last_record().stack_len, 32);
    assert_int_equal(crash_after(50), 0);
}

/* ---- the ring ---- */

static bw_crash_record numbered(uint32_t tag)
{
    bw_crash_record r;
    memset(&r, 0, sizeof r);
    r.pc = tag;
    return r;
}

static void ring_keeps_the_newest_and_recycles_sectors(void **state)
{
    (void)state;
    memset(nor_sim_raw(sim), 0xFF, nor_sim_size(sim));
    bw_crash_log log;
    assert_int_equal(bw_crash_log_open(&log, &partition), BW_OK);
    uint32_t per_sector = SECTOR / (BW_CRASH_RECORD_SIZE + 16u);
    assert_int_equal(log.slot_count, per_sector * SECTORS);
    bw_crash_record r;
    assert_int_equal(bw_crash_log_newest(&log, &r), BW_E_INVALID);
    uint32_t total = log.slot_count * 2u + 5u;
    for (uint32_t i = 1; i <= total; i++) {
        r = numbered(i);
        assert_int_equal(bw_crash_log_append(&log, &r), BW_OK);
        assert_int_equal(r.sequence, i);
    }
    /* The oldest kept is at most one sector's worth behind a full ring. */
    uint32_t after = 0, count = 0, previous = 0;
    while (bw_crash_log_next(&log, after, &r) == BW_OK) {
        assert_true(r.sequence > previous);
        if (previous != 0) {
            assert_int_equal(r.sequence, previous + 1u);
        }
        assert_int_equal(r.pc, r.sequence);
        previous = after = r.sequence;
        count++;
    }
    assert_int_equal(previous, total);
    assert_true(count >= log.slot_count - per_sector && count <= log.slot_count);

    /* Reopening finds where it stopped; garbage in a slot is skipped. */
    bw_crash_log again;
    assert_int_equal(bw_crash_log_open(&again, &partition), BW_OK);
    assert_int_equal(again.next_sequence, total + 1u);
    assert_int_equal(again.next_slot, log.next_slot);
    uint32_t offset = (again.next_slot / per_sector) * SECTOR + (again.next_slot % per_sector) * (BW_CRASH_RECORD_SIZE + 16u);
    if (again.next_slot % per_sector != 0) {
        nor_sim_raw(sim)[offset + 3] = 0x00;   /* a torn write left this slot dirty */
    }
    r = numbered(999);
    assert_int_equal(bw_crash_log_append(&again, &r), BW_OK);
    assert_int_equal(bw_crash_log_newest(&again, &r), BW_OK);
    assert_int_equal(r.pc, 999);
    assert_int_equal(r.sequence, total + 1u);
}

static void ring_refuses_geometries_it_cannot_use(void **state)
{
    (void)state;
    bw_crash_log log;
    assert_int_equal(bw_crash_log_open(&log, NULL), BW_E_UNAVAILABLE);
    bw_crash_record r = numbered(1);
    assert_int_equal(bw_crash_log_append(&log, &r), BW_E_UNAVAILABLE);
    bw_flash_partition one_sector = { nor_sim_device(sim), 0, SECTOR };
    assert_int_equal(bw_crash_log_open(&log, &one_sector), BW_E_SIZE);

    nor_sim *small = nor_sim_create(&(nor_sim_config){ .size = 4 * 256, .sector_size = 256,
                                                       .program_unit = 16, .seed = 1 });
    bw_flash_partition tiny = { nor_sim_device(small), 0, 4 * 256 };
    assert_int_equal(bw_crash_log_open(&log, &tiny), BW_E_SIZE);
    nor_sim_destroy(small);
    nor_sim *wide = nor_sim_create(&(nor_sim_config){ .size = 4 * 8192, .sector_size = 8192,
                                                      .program_unit = 32, .seed = 1 });
    bw_flash_partition wide_unit = { nor_sim_device(wide), 0, 4 * 8192 };
    assert_int_equal(bw_crash_log_open(&log, &wide_unit), BW_E_SIZE);
    nor_sim_destroy(wide);
}

/* ---- the system calls ---- */

static void get_last_crash_validates_before_writing(void **state)
{
    (void)state;
    struct BwCrashInfo *info = (struct BwCrashInfo *)(void *)app_ram;
    memset(app_ram, 0xA5, sizeof(struct BwCrashInfo));
    info->version = 2;
    assert_int_equal(bw_sys_get_last_crash(info), MV_STATUS_UNSUPPORTEDSTRUCTUREVERSION);
    assert_int_equal(app_ram[8], 0xA5);
    assert_int_equal(bw_sys_get_last_crash(NULL), MV_STATUS_PARAMETERFAULT);
    assert_int_equal(bw_sys_get_last_crash((struct BwCrashInfo *)(void *)kernel_ram), MV_STATUS_PARAMETERFAULT);
    assert_int_equal(bw_sys_get_last_crash((struct BwCrashInfo *)(void *)app_flash), MV_STATUS_PARAMETERFAULT);
    assert_int_equal(bw_sys_get_last_crash((struct BwCrashInfo *)(void *)(app_ram + APP_RAM_SIZE - 40u)),
                     MV_STATUS_PARAMETERFAULT);
    assert_int_equal(app_ram[APP_RAM_SIZE - 40u], 0xA5);

    info->version = BW_CRASHINFO_VERSION_1;
    assert_int_equal(bw_sys_get_last_crash(info), MV_STATUS_OKAY);
    assert_int_equal(info->v1.sequence, 0);   /* none yet */
    assert_int_equal(info->v1.crash_class, 0);
    assert_int_equal(bw_sys_app_confirm_healthy(), MV_STATUS_OKAY);
}

static void get_last_crash_reports_and_survives_a_kernel_restart(void **state)
{
    (void)state;
    /* A run that leaves a center and its handle behind, then crashes. */
    bw_crash_app_starting();
    uint32_t handle = 0;
    assert_int_equal(bw_notify_setup(40, addr_of(app_ram + 1024), 64, &handle), BW_OK);
    bw_crash_capture c = secure_fault_capture(512);
    c.frame[7] = 0x01000000u | (16u + 40u);   /* inside IRQ 40's handler */
    (void)bw_crash_handle(&c);
    bw_kernel_app_starting(MV_WAKEREASON_APPLICATIONCRASH);

    struct BwCrashInfo *info = (struct BwCrashInfo *)(void *)(app_ram + 64);
    memset(info, 0xA5, sizeof *info);
    info->version = BW_CRASHINFO_VERSION_1;
    assert_int_equal(bw_sys_get_last_crash(info), MV_STATUS_OKAY);
    assert_int_equal(info->v1.sequence, 1);
    assert_int_equal(info->v1.crash_class, BW_CRASHCLASS_SECUREACCESS);
    assert_int_equal(info->v1.app_exception, 56);
    assert_int_equal(info->v1.pc, c.frame[6]);
    assert_int_equal(info->v1.sfsr, 0x08u);
    assert_int_equal(info->v1.crash_count, 1);
    assert_int_equal(info->v1.flags, BW_CRASHINFO_FLAG_FRAME_VALID);
    assert_int_equal(info->v1.live_handles, 0);
    assert_int_equal(info->v1.open_notification_centers, 0);
    assert_int_equal(info->v1.uptime_us, c.time_us);

    /* The kernel starts again over the same flash: the record is still there. */
    start_kernel(true);
    memset(info, 0xA5, sizeof *info);
    info->version = BW_CRASHINFO_VERSION_1;
    assert_int_equal(bw_sys_get_last_crash(info), MV_STATUS_OKAY);
    assert_int_equal(info->v1.sequence, 1);
    assert_int_equal(info->v1.flags, BW_CRASHINFO_FLAG_FRAME_VALID | BW_CRASHINFO_FLAG_PREVIOUS_BOOT);
    assert_int_equal(info->v1.crash_count, 1);
    /* The next crash continues the numbering. */
    bw_crash_app_starting();
    (void)bw_crash_handle(&c);
    assert_int_equal(last_record().sequence, 2);
    assert_int_equal(last_record().crash_count, 1);
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(record_checks_reject_anything_damaged),
        TEST(names_and_contexts),
        TEST(classification_from_status_bits),
        TEST(handle_records_the_capture),
        TEST(handle_without_frame_or_flash),
        TEST(refused_kernel_call_is_its_own_class),
        TEST(undefined_instruction_reads_the_trap),
        TEST(backoff_and_crash_loop_without_rollback),
        TEST(crash_loop_asks_the_rollback_hook),
        TEST(policy_is_validated_and_used),
        TEST(ring_keeps_the_newest_and_recycles_sectors),
        TEST(ring_refuses_geometries_it_cannot_use),
        TEST(get_last_crash_validates_before_writing),
        TEST(get_last_crash_reports_and_survives_a_kernel_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
