/*
 * bw_syscalls: every implemented system call, as the app sees it.
 * Promises checked:
 *  - each call's success values (time, clocks, device ID, wake reason, mediated
 *    registers, notification centers, logging) reach app memory correctly,
 *    also through unaligned app pointers;
 *  - every pointer argument given NULL, kernel (secure) memory, read-only
 *    memory where the call writes, a range straddling the end of app memory,
 *    or a wrapping range, gives MV_STATUS_PARAMETERFAULT with no app byte
 *    written and no kernel state changed; pointers inside a struct likewise;
 *  - the struct a call takes is copied before use: an app interrupt that
 *    rewrites it mid-call changes nothing;
 *  - the documented check order: argument values, then pointers, then state;
 *  - device ID: exactly 34 bytes "BW" + 32 uppercase hex digits, no
 *    terminator; UNAVAILABLE when the device has no identity;
 *  - restart: UNAVAILABLE from an interrupt, PARAMETERFAULT for unknown modes;
 *  - peek and poke honour the read and write masks; unknown registers give
 *    PERIPHERALACCESSFAULT;
 *  - logging init and log error codes, and the printed [app-log] line;
 *  - every call of sdk/syscalls.def has an implementation, and the ones not
 *    implemented yet return UNAVAILABLE; every bw_err maps to a status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "bw_config.h"
#include "bw_handles.h"
#include "bw_notify.h"
#include "bw_syscalls.h"
#include "bw_syscalls_ext.h"
#include "test_support.h"

/* ---- kernel state, to show a failed call changed nothing ---- */

typedef struct kernel_state {
    size_t open_centers;
    size_t live_handles;
    enum MvWakeReason wake_reason;
    bool server_log_ready;
    uint32_t restart_requests;
    uint32_t pends;
    uint32_t regs[3];
    size_t console_len;
} kernel_state;

static kernel_state snapshot(void)
{
    return (kernel_state){
        .open_centers = bw_notify_open_count(),
        .live_handles = BW_MAX_HANDLES - bw_handle_count(BW_HANDLE_KIND_NONE),
        .wake_reason = bw_kernel_wake_reason(),
        .server_log_ready = bw_kernel_server_log_ready(),
        .restart_requests = port_host_restart_requests(),
        .pends = port_host_pend_total(),
        .regs = { port_host_mediated_value(PORT_HOST_REG_FULL),
                  port_host_mediated_value(PORT_HOST_REG_PARTIAL),
                  port_host_mediated_value(PORT_HOST_REG_LOCKED) },
        .console_len = port_host_console_len(),
    };
}

static void assert_state_unchanged(const kernel_state *before)
{
    kernel_state now = snapshot();
    assert_int_equal(now.open_centers, before->open_centers);
    assert_int_equal(now.live_handles, before->live_handles);
    assert_int_equal(now.wake_reason, before->wake_reason);
    assert_int_equal(now.server_log_ready, before->server_log_ready);
    assert_int_equal(now.restart_requests, before->restart_requests);
    assert_int_equal(now.pends, before->pends);
    assert_memory_equal(now.regs, before->regs, sizeof now.regs);
    assert_int_equal(now.console_len, before->console_len);
}

/* App memory outside app_ram's first half keeps its pattern unless a test writes it. */
static void assert_no_stray_writes(void)
{
    for (size_t i = APP_RAM_SIZE - 64; i < APP_RAM_SIZE; i++) {
        assert_int_equal(app_ram[i], 0xA5);
    }
    for (size_t i = 0; i < APP_FLASH_SIZE; i++) {
        assert_int_equal(app_flash[i], 0x5A);
    }
    for (size_t i = 0; i < KERNEL_RAM_SIZE; i++) {
        assert_int_equal(kernel_ram[i], 0xC3);
    }
}

/* Addresses the app must not make the kernel write `len` bytes to. */
#define BAD_TARGETS 5
static void bad_write_targets(size_t len, uintptr_t targets[BAD_TARGETS])
{
    targets[0] = 0;
    targets[1] = addr_of(kernel_ram) + 8;
    targets[2] = addr_of(app_flash) + 8;                       /* read-only */
    targets[3] = addr_of(app_ram) + APP_RAM_SIZE - len / 2;    /* straddles the end */
    targets[4] = UINTPTR_MAX - len / 2;                        /* wraps */
}

/* Addresses the app must not make the kernel read `len` bytes from. */
static void bad_read_sources(size_t len, uintptr_t sources[BAD_TARGETS])
{
    bad_write_targets(len, sources);
    sources[2] = addr_of(kernel_ram) + KERNEL_RAM_SIZE - 4;    /* secure, unaligned */
}

static void *ptr(uintptr_t address)
{
    return (void *)address;
}

/* ---- time and clocks ---- */

static void no_op_is_okay(void **state)
{
    (void)state;
    assert_int_equal(bw_sys_no_op(), MV_STATUS_OKAY);
}

static void microseconds_through_any_pointer(void **state)
{
    (void)state;
    port_host_set_time_us(0x0102030405060708ull);
    uint8_t *odd = app_ram + 33;
    assert_int_equal(bw_sys_get_microseconds(ptr(addr_of(odd))), MV_STATUS_OKAY);
    uint64_t value;
    memcpy(&value, odd, sizeof value);
    assert_true(value == 0x0102030405060708ull);

    uintptr_t bad[BAD_TARGETS];
    bad_write_targets(sizeof(uint64_t), bad);
    kernel_state before = snapshot();
    for (int i = 0; i < BAD_TARGETS; i++) {
        assert_int_equal(bw_sys_get_microseconds(ptr(bad[i])), MV_STATUS_PARAMETERFAULT);
    }
    assert_state_unchanged(&before);
    assert_no_stray_writes();
}

static void wall_time_is_not_set_yet(void **state)
{
    (void)state;
    uint64_t *out = (uint64_t *)(void *)(app_ram + 64);
    assert_int_equal(bw_sys_get_wall_time(out), MV_STATUS_TIMENOTSET);
    assert_int_equal(app_ram[64], 0xA5);   /* nothing written */

    uintptr_t bad[BAD_TARGETS];
    bad_write_targets(sizeof(uint64_t), bad);
    kernel_state before = snapshot();
    for (int i = 0; i < BAD_TARGETS; i++) {
        assert_int_equal(bw_sys_get_wall_time(ptr(bad[i])), MV_STATUS_PARAMETERFAULT);
    }
    assert_state_unchanged(&before);
    assert_no_stray_writes();
}

static void clocks_report_port_frequencies(void **state)
{
    (void)state;
    enum MvStatus (*const calls[4])(uint32_t *) = {
        bw_sys_get_sys_clk, bw_sys_get_hclk, bw_sys_get_pclk1, bw_sys_get_pclk2,
    };
    const bw_clock clocks[4] = { BW_CLOCK_SYSCLK, BW_CLOCK_HCLK, BW_CLOCK_PCLK1, BW_CLOCK_PCLK2 };
    for (int i = 0; i < 4; i++) {
        port_host_set_clock_hz(clocks[i], 1000000u * (uint32_t)(i + 1) + 7u);
    }
    uintptr_t bad[BAD_TARGETS];
    bad_write_targets(sizeof(uint32_t), bad);
    for (int i = 0; i < 4; i++) {
        uint8_t *out = app_ram + 2 + 8 * i;   /* unaligned */
        assert_int_equal(calls[i](ptr(addr_of(out))), MV_STATUS_OKAY);
        uint32_t hz;
        memcpy(&hz, out, sizeof hz);
        assert_int_equal(hz, 1000000u * (uint32_t)(i + 1) + 7u);
        for (int b = 0; b < BAD_TARGETS; b++) {
            assert_int_equal(calls[i](ptr(bad[b])), MV_STATUS_PARAMETERFAULT);
        }
    }
    assert_no_stray_writes();
}

/* ---- identity, wake reason, restart ---- */

static void device_id_is_bw_and_32_uppercase_hex_digits(void **state)
{
    (void)state;
    const uint8_t identity[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF };
    port_host_set_identity(identity);
    uint8_t *buf = app_ram + 101;
    assert_int_equal(bw_sys_get_device_id(buf, 34), MV_STATUS_OKAY);
    assert_memory_equal(buf, "BW00112233445566778899AABBCCDDEEFF", 34);
    assert_int_equal(buf[34], 0xA5);   /* no terminator */
    assert_int_equal(buf[-1], 0xA5);
}

static void device_id_length_must_be_34(void **state)
{
    (void)state;
    const uint32_t lengths[] = { 0, 1, 33, 35, 64, UINT32_MAX };
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        assert_int_equal(bw_sys_get_device_id(app_ram, lengths[i]), MV_STATUS_INVALIDBUFFERSIZE);
        /* The length is checked before the pointer. */
        assert_int_equal(bw_sys_get_device_id(NULL, lengths[i]), MV_STATUS_INVALIDBUFFERSIZE);
    }
    assert_int_equal(app_ram[0], 0xA5);

    uintptr_t bad[BAD_TARGETS];
    bad_write_targets(34, bad);
    for (int i = 0; i < BAD_TARGETS; i++) {
        assert_int_equal(bw_sys_get_device_id(ptr(bad[i]), 34), MV_STATUS_PARAMETERFAULT);
    }
    assert_no_stray_writes();
}

static void unprovisioned_device_has_no_id(void **state)
{
    (void)state;
    port_host_clear_identity();
    assert_int_equal(bw_sys_get_device_id(app_ram, 34), MV_STATUS_UNAVAILABLE);
    for (size_t i = 0; i < 40; i++) {
        assert_int_equal(app_ram[i], 0xA5);
    }
    /* Pointer problems are still reported first. */
    assert_int_equal(bw_sys_get_device_id(NULL, 34), MV_STATUS_PARAMETERFAULT);
}

static void wake_reason_of_this_run(void **state)
{
    (void)state;
    enum MvWakeReason *out = (enum MvWakeReason *)(void *)(app_ram + 7);
    assert_int_equal(bw_sys_get_wake_reason(out), MV_STATUS_OKAY);
    enum MvWakeReason reason;
    memcpy(&reason, out, sizeof reason);
    assert_int_equal(reason, MV_WAKEREASON_COLDBOOT);
    assert_int_equal(app_ram[7 + sizeof reason], 0xA5);   /* exactly the enum's size */

    bw_kernel_app_starting(MV_WAKEREASON_APPLICATIONCRASH);
    assert_int_equal(bw_sys_get_wake_reason(out), MV_STATUS_OKAY);
    memcpy(&reason, out, sizeof reason);
    assert_int_equal(reason, MV_WAKEREASON_APPLICATIONCRASH);

    uintptr_t bad[BAD_TARGETS];
    bad_write_targets(sizeof reason, bad);
    for (int i = 0; i < BAD_TARGETS; i++) {
        assert_int_equal(bw_sys_get_wake_reason(ptr(bad[i])), MV_STATUS_PARAMETERFAULT);
    }
    assert_no_stray_writes();
}

/* bwGetUpdateInfo: pointer and version checked before anything is written;
 * with no engine booted the state is the provisioned one, updates unavailable. */
static void update_info_of_a_provisioned_device(void **state)
{
    (void)state;
    struct BwUpdateInfo *out = (struct BwUpdateInfo *)(void *)(app_ram + 8);
    memset(out, 0x5A, sizeof *out);
    out->version = 2;
    assert_int_equal(bw_sys_get_update_info(out), MV_STATUS_UNSUPPORTEDSTRUCTUREVERSION);
    assert_int_equal(out->v1.app_version, 0x5A5A5A5Au);   /* nothing written */
    out->version = BW_UPDATEINFO_VERSION_1;
    assert_int_equal(bw_sys_get_update_info(out), MV_STATUS_OKAY);
    assert_int_equal(out->v1.app_version, 0);
    assert_int_equal(out->v1.last_known_good_version, 0);
    assert_int_equal(out->v1.on_trial, 0);
    assert_int_equal(out->v1.last_rollback_cause, BW_ROLLBACKCAUSE_NONE);
    assert_int_equal(out->v1.updates_available, 0);

    uintptr_t bad[BAD_TARGETS];
    bad_write_targets(sizeof *out, bad);
    for (int i = 0; i < BAD_TARGETS; i++) {
        assert_int_equal(bw_sys_get_update_info(ptr(bad[i])), MV_STATUS_PARAMETERFAULT);
    }
    assert_no_stray_writes();
}

static void restart_asks_the_port(void **state)
{
    (void)state;
    assert_int_equal(bw_sys_restart(MV_RESTARTMODE_AUTOAPPLYUPDATE), MV_STATUS_OKAY);
    assert_int_equal(port_host_restart_requests(), 1);
    /* What the arch layer then does: the new run reports an app-requested restart. */
    bw_kernel_app_starting(MV_WAKEREASON_REMOTEAPPLICATIONRESTART);
    enum MvWakeReason reason;
    assert_int_equal(bw_sys_get_wake_reason(ptr(addr_of(app_ram))), MV_STATUS_OKAY);
    memcpy(&reason, app_ram, sizeof reason);
    assert_int_equal(reason, MV_WAKEREASON_REMOTEAPPLICATIONRESTART);
}

static void restart_refused_from_interrupt_and_for_unknown_modes(void **state)
{
    (void)state;
    kernel_state before = snapshot();
    port_host_set_in_interrupt(true);
    assert_int_equal(bw_sys_restart(MV_RESTARTMODE_AUTOAPPLYUPDATE), MV_STATUS_UNAVAILABLE);
    /* The mode is an argument value: checked before the calling context. */
    assert_int_equal(bw_sys_restart((enum MvRestartMode)1), MV_STATUS_PARAMETERFAULT);
    port_host_set_in_interrupt(false);
    assert_int_equal(bw_sys_restart((enum MvRestartMode)1), MV_STATUS_PARAMETERFAULT);
    assert_int_equal(bw_sys_restart(MV_RESTARTMODE__MAX), MV_STATUS_PARAMETERFAULT);
    assert_state_unchanged(&before);
    assert_int_equal(port_host_restart_requests(), 0);
}

/* ---- mediated registers ---- */

static void peek_applies_the_read_mask(void **state)
{
    (void)state;
    port_host_set_mediated_value(PORT_HOST_REG_FULL, 0x12345678u);
    port_host_set_mediated_value(PORT_HOST_REG_PARTIAL, 0x12345678u);
    uint8_t *out = app_ram + 1;
    uint32_t value;
    assert_int_equal(bw_sys_periph_peek32(PORT_HOST_REG_FULL, ptr(addr_of(out))), MV_STATUS_OKAY);
    memcpy(&value, out, sizeof value);
    assert_int_equal(value, 0x12345678u);
    assert_int_equal(bw_sys_periph_peek32(PORT_HOST_REG_PARTIAL, ptr(addr_of(out))), MV_STATUS_OKAY);
    memcpy(&value, out, sizeof value);
    assert_int_equal(value, 0x12345678u & PORT_HOST_REG_PARTIAL_READ_MASK);
}

static void peek_of_unknown_register_or_bad_pointer(void **state)
{
    (void)state;
    const uint32_t unknown[] = { 0, PORT_HOST_REG_FULL + 1, PORT_HOST_REG_FULL + 0x100, 0xE000ED00u };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_int_equal(bw_sys_periph_peek32(unknown[i], ptr(addr_of(app_ram))), MV_STATUS_PERIPHERALACCESSFAULT);
        /* The register (a value) is checked before the pointer. */
        assert_int_equal(bw_sys_periph_peek32(unknown[i], NULL), MV_STATUS_PERIPHERALACCESSFAULT);
    }
    assert_int_equal(app_ram[0], 0xA5);
    uintptr_t bad[BAD_TARGETS];
    bad_write_targets(sizeof(uint32_t), bad);
    for (int i = 0; i < BAD_TARGETS; i++) {
        assert_int_equal(bw_sys_periph_peek32(PORT_HOST_REG_FULL, ptr(bad[i])), MV_STATUS_PARAMETERFAULT);
    }
    assert_no_stray_writes();
}

static void poke_changes_only_writable_bits(void **state)
{
    (void)state;
    port_host_set_mediated_value(PORT_HOST_REG_FULL, 0xFFFF0000u);
    assert_int_equal(bw_sys_periph_poke32(PORT_HOST_REG_FULL, 0xFF000000u, 0x00000011u), MV_STATUS_OKAY);
    assert_int_equal(port_host_mediated_value(PORT_HOST_REG_FULL), (0xFFFF0000u & ~0xFF000000u) ^ 0x11u);
    /* mask 0 and xor: a pure toggle. */
    assert_int_equal(bw_sys_periph_poke32(PORT_HOST_REG_FULL, 0, 0x00FF0000u), MV_STATUS_OKAY);
    assert_int_equal(port_host_mediated_value(PORT_HOST_REG_FULL), 0x00000011u);

    /* Partial: write mask 0xF0; every other bit is kept whatever the app asks. */
    port_host_set_mediated_value(PORT_HOST_REG_PARTIAL, 0xAAAAAA5Au);
    assert_int_equal(bw_sys_periph_poke32(PORT_HOST_REG_PARTIAL, 0xFFFFFFFFu, 0xFFFFFF3Cu), MV_STATUS_OKAY);
    assert_int_equal(port_host_mediated_value(PORT_HOST_REG_PARTIAL), 0xAAAAAA3Au);

    /* Locked: nothing changes, and that is not an error. */
    port_host_set_mediated_value(PORT_HOST_REG_LOCKED, 0x13572468u);
    assert_int_equal(bw_sys_periph_poke32(PORT_HOST_REG_LOCKED, 0xFFFFFFFFu, 0xFFFFFFFFu), MV_STATUS_OKAY);
    assert_int_equal(port_host_mediated_value(PORT_HOST_REG_LOCKED), 0x13572468u);
}

static void poke_of_unknown_register(void **state)
{
    (void)state;
    kernel_state before = snapshot();
    assert_int_equal(bw_sys_periph_poke32(PORT_HOST_REG_FULL + 2, 0xFFFFFFFFu, 1), MV_STATUS_PERIPHERALACCESSFAULT);
    assert_int_equal(bw_sys_periph_poke32(0x50000000u, 0xFFFFFFFFu, 1), MV_STATUS_PERIPHERALACCESSFAULT);
    assert_state_unchanged(&before);
}

/* ---- notifications ---- */

static struct MvNotificationSetup *place_setup(size_t offset, uint32_t irq, size_t ring_offset, uint32_t size)
{
    struct MvNotificationSetup setup = {
        .irq = irq,
        .buffer = (struct MvNotification *)(void *)(app_ram + ring_offset),
        .buffer_size = size,
    };
    memcpy(app_ram + offset, &setup, sizeof setup);
    return (struct MvNotificationSetup *)(void *)(app_ram + offset);
}

static MvNotificationHandle read_handle(size_t offset)
{
    MvNotificationHandle handle;
    memcpy(&handle, app_ram + offset, sizeof handle);
    return handle;
}

#define SETUP_AT 4096u
#define HANDLE_AT 4160u
#define RING_AT 0u

static void notification_round_trip(void **state)
{
    (void)state;
    memset(app_ram + RING_AT, 0xFF, 64);
    struct MvNotificationSetup *setup = place_setup(SETUP_AT, 9, RING_AT, 64);
    MvNotificationHandle *handle_out = (MvNotificationHandle *)(void *)(app_ram + HANDLE_AT + 1);
    assert_int_equal(bw_sys_setup_notifications(setup, handle_out), MV_STATUS_OKAY);
    MvNotificationHandle handle = read_handle(HANDLE_AT + 1);
    assert_non_null(handle);
    assert_int_equal(app_ram[RING_AT], 0);   /* ring zeroed */

    port_host_set_time_us(4242);
    assert_int_equal(bw_sys_temp_trigger_notification(handle, MV_EVENTTYPE_UPDATEDOWNLOADED, 77), MV_STATUS_OKAY);
    struct MvNotification record;
    memcpy(&record, app_ram + RING_AT, sizeof record);
    assert_true(record.microseconds == 4242);
    assert_int_equal(record.event_type, MV_EVENTTYPE_UPDATEDOWNLOADED);
    assert_int_equal(record.tag, 77);
    assert_int_equal(port_host_pend_count(9), 1);

    assert_int_equal(bw_sys_close_notifications(handle_out), MV_STATUS_OKAY);
    assert_null(read_handle(HANDLE_AT + 1));
    assert_int_equal(bw_notify_open_count(), 0);
    assert_int_equal(bw_sys_temp_trigger_notification(handle, MV_EVENTTYPE_UPDATEDOWNLOADED, 78), MV_STATUS_INVALIDHANDLE);
    assert_int_equal(port_host_pend_count(9), 1);
}

static void setup_with_bad_pointers_changes_nothing(void **state)
{
    (void)state;
    memset(app_ram + RING_AT, 0xEE, 64);
    struct MvNotificationSetup *setup = place_setup(SETUP_AT, 9, RING_AT, 64);
    MvNotificationHandle *handle_out = (MvNotificationHandle *)(void *)(app_ram + HANDLE_AT);
    kernel_state before = snapshot();

    uintptr_t bad[BAD_TARGETS];
    bad_read_sources(sizeof *setup, bad);
    for (int i = 0; i < BAD_TARGETS; i++) {
        assert_int_equal(bw_sys_setup_notifications(ptr(bad[i]), handle_out), MV_STATUS_PARAMETERFAULT);
    }
    bad_write_targets(sizeof *handle_out, bad);
    for (int i = 0; i < BAD_TARGETS; i++) {
        assert_int_equal(bw_sys_setup_notifications(setup, ptr(bad[i])), MV_STATUS_PARAMETERFAULT);
    }
    /* The ring pointer inside the struct. */
    const size_t ring_offsets[] = { APP_RAM_SIZE - 32 };
    place_setup(SETUP_AT, 9, ring_offsets[0], 64);
    assert_int_equal(bw_sys_setup_notifications(setup, handle_out), MV_STATUS_PARAMETERFAULT);
    struct MvNotificationSetup in_kernel = { 9, (struct MvNotification *)(void *)kernel_ram, 64 };
    memcpy(setup, &in_kernel, sizeof in_kernel);
    assert_int_equal(bw_sys_setup_notifications(setup, handle_out), MV_STATUS_PARAMETERFAULT);
    struct MvNotificationSetup in_flash = { 9, (struct MvNotification *)(void *)app_flash, 64 };
    memcpy(setup, &in_flash, sizeof in_flash);
    assert_int_equal(bw_sys_setup_notifications(setup, handle_out), MV_STATUS_PARAMETERFAULT);
    struct MvNotificationSetup null_ring = { 9, NULL, 64 };
    memcpy(setup, &null_ring, sizeof null_ring);
    assert_int_equal(bw_sys_setup_notifications(setup, handle_out), MV_STATUS_PARAMETERFAULT);

    assert_state_unchanged(&before);
    assert_int_equal(app_ram[RING_AT], 0xEE);   /* no ring was zeroed */
    assert_int_equal(app_ram[HANDLE_AT], 0xA5); /* no handle written */
    assert_no_stray_writes();
}

static void setup_errors_map_to_statuses(void **state)
{
    (void)state;
    MvNotificationHandle *handle_out = (MvNotificationHandle *)(void *)(app_ram + HANDLE_AT);
    port_host_set_kernel_irq(5, true);
    assert_int_equal(bw_sys_setup_notifications(place_setup(SETUP_AT, 9, 0, 40), handle_out),
                     MV_STATUS_INVALIDBUFFERSIZE);
    assert_int_equal(bw_sys_setup_notifications(place_setup(SETUP_AT, 9, 0, 16), handle_out),
                     MV_STATUS_INVALIDBUFFERSIZE);
    assert_int_equal(bw_sys_setup_notifications(place_setup(SETUP_AT, 9, 4, 32), handle_out),
                     MV_STATUS_INVALIDBUFFERALIGNMENT);
    assert_int_equal(bw_sys_setup_notifications(place_setup(SETUP_AT, 5, 0, 32), handle_out),
                     MV_STATUS_INVALIDINTERRUPT);
    assert_int_equal(bw_sys_setup_notifications(place_setup(SETUP_AT, PORT_HOST_DEFAULT_IRQ_COUNT, 0, 32), handle_out),
                     MV_STATUS_INVALIDINTERRUPT);
    /* Field values are checked before the ring pointer inside the struct. */
    assert_int_equal(bw_sys_setup_notifications(place_setup(SETUP_AT, 5, APP_RAM_SIZE, 32), handle_out),
                     MV_STATUS_INVALIDINTERRUPT);
    assert_int_equal(bw_notify_open_count(), 0);

    assert_int_equal(bw_sys_setup_notifications(place_setup(SETUP_AT, 9, 0, 32), handle_out), MV_STATUS_OKAY);
    assert_int_equal(bw_sys_setup_notifications(place_setup(SETUP_AT, 9, 64, 32), handle_out),
                     MV_STATUS_INVALIDINTERRUPT);
    assert_int_equal(bw_sys_setup_notifications(place_setup(SETUP_AT, 10, 16, 32), handle_out),
                     MV_STATUS_BUFFERALREADYINUSE);
    for (uint32_t i = 1; i < BW_MAX_NOTIFICATION_CENTERS; i++) {
        assert_int_equal(bw_sys_setup_notifications(place_setup(SETUP_AT, 10 + i, 32u * (i + 1), 32), handle_out),
                         MV_STATUS_OKAY);
    }
    assert_int_equal(bw_sys_setup_notifications(place_setup(SETUP_AT, 60, 2048, 32), handle_out),
                     MV_STATUS_TOOMANYNOTIFICATIONBUFFERS);
    assert_int_equal(bw_notify_open_count(), BW_MAX_NOTIFICATION_CENTERS);
}

/* An app interrupt that rewrites the setup struct after the kernel copied it. */
static void isr_rewrites_setup(void *context)
{
    struct MvNotificationSetup evil = { 5, (struct MvNotification *)(void *)kernel_ram, 0 };
    memcpy(context, &evil, sizeof evil);
}

static void setup_uses_its_copy_of_the_struct(void **state)
{
    (void)state;
    port_host_set_kernel_irq(5, true);
    struct MvNotificationSetup *setup = place_setup(SETUP_AT, 9, RING_AT, 32);
    MvNotificationHandle *handle_out = (MvNotificationHandle *)(void *)(app_ram + HANDLE_AT);
    /* Fires at the second app-memory check: after the struct was copied. */
    port_host_set_preempt_hook(isr_rewrites_setup, setup, 1);
    assert_int_equal(bw_sys_setup_notifications(setup, handle_out), MV_STATUS_OKAY);
    assert_int_equal(setup->irq, 5);   /* the interrupt did run */
    MvNotificationHandle handle = read_handle(HANDLE_AT);
    assert_int_equal(bw_sys_temp_trigger_notification(handle, MV_EVENTTYPE_CHANNELDATAREADABLE, 1), MV_STATUS_OKAY);
    assert_int_equal(port_host_pend_count(9), 1);
    assert_int_equal(port_host_pend_count(5), 0);
    assert_int_equal(app_ram[RING_AT + 12], 1);   /* the tag landed in the original ring */
    assert_no_stray_writes();
}

static MvNotificationHandle open_via_syscall(uint32_t irq, size_t ring_offset)
{
    MvNotificationHandle *handle_out = (MvNotificationHandle *)(void *)(app_ram + HANDLE_AT);
    assert_int_equal(bw_sys_setup_notifications(place_setup(SETUP_AT, irq, ring_offset, 32), handle_out),
                     MV_STATUS_OKAY);
    return read_handle(HANDLE_AT);
}

static void close_with_bad_pointers_keeps_the_center(void **state)
{
    (void)state;
    MvNotificationHandle handle = open_via_syscall(9, RING_AT);
    /* A valid handle value held in read-only memory: the kernel could not write 0 back. */
    memcpy(app_flash + 8, &handle, sizeof handle);
    kernel_state before = snapshot();
    uintptr_t bad[BAD_TARGETS];
    bad_write_targets(sizeof handle, bad);
    for (int i = 0; i < BAD_TARGETS; i++) {
        assert_int_equal(bw_sys_close_notifications(ptr(bad[i])), MV_STATUS_PARAMETERFAULT);
    }
    assert_state_unchanged(&before);
    assert_int_equal(bw_sys_temp_trigger_notification(handle, MV_EVENTTYPE_CHANNELDATAREADABLE, 1), MV_STATUS_OKAY);
    memset(app_flash + 8, 0x5A, sizeof handle);
    assert_no_stray_writes();
}

static void close_of_a_bad_handle_leaves_it_alone(void **state)
{
    (void)state;
    MvNotificationHandle handle = open_via_syscall(9, RING_AT);
    MvNotificationHandle *slot = (MvNotificationHandle *)(void *)(app_ram + 200);

    MvNotificationHandle forged = (MvNotificationHandle)((uintptr_t)handle ^ 0x10u);
    memcpy(slot, &forged, sizeof forged);
    assert_int_equal(bw_sys_close_notifications(slot), MV_STATUS_INVALIDHANDLE);
    MvNotificationHandle after;
    memcpy(&after, slot, sizeof after);
    assert_ptr_equal(after, forged);

    MvNotificationHandle none = NULL;
    memcpy(slot, &none, sizeof none);
    assert_int_equal(bw_sys_close_notifications(slot), MV_STATUS_INVALIDHANDLE);

    /* Wider than 32 bits (64-bit host only): not a handle, whatever its low half. */
    if (sizeof(uintptr_t) > sizeof(uint32_t)) {
        uintptr_t wide = ((uintptr_t)1 << (8 * sizeof(uintptr_t) - 1)) | (uintptr_t)handle;
        MvNotificationHandle wide_handle = (MvNotificationHandle)wide;
        memcpy(slot, &wide_handle, sizeof wide_handle);
        assert_int_equal(bw_sys_close_notifications(slot), MV_STATUS_INVALIDHANDLE);
        assert_int_equal(bw_sys_temp_trigger_notification(wide_handle, MV_EVENTTYPE_CHANNELDATAREADABLE, 1),
                         MV_STATUS_INVALIDHANDLE);
    }
    assert_int_equal(bw_notify_open_count(), 1);

    /* Closing twice: the second sees the 0 the first wrote back. */
    memcpy(slot, &handle, sizeof handle);
    assert_int_equal(bw_sys_close_notifications(slot), MV_STATUS_OKAY);
    assert_int_equal(bw_sys_close_notifications(slot), MV_STATUS_INVALIDHANDLE);
    memcpy(slot, &handle, sizeof handle);
    assert_int_equal(bw_sys_close_notifications(slot), MV_STATUS_INVALIDHANDLE);   /* stale */
}

static MvNotificationHandle *isr_close_target;
static enum MvStatus isr_close_status;
static void isr_closes_the_same_center(void *context)
{
    (void)context;
    isr_close_status = bw_sys_close_notifications(isr_close_target);
}

static void close_preempted_by_a_close_of_the_same_center(void **state)
{
    (void)state;
    open_via_syscall(9, RING_AT);
    isr_close_target = (MvNotificationHandle *)(void *)(app_ram + HANDLE_AT);
    port_host_set_preempt_hook(isr_closes_the_same_center, NULL, 0);
    assert_int_equal(bw_sys_close_notifications(isr_close_target), MV_STATUS_INVALIDHANDLE);
    assert_int_equal(isr_close_status, MV_STATUS_OKAY);
    assert_null(read_handle(HANDLE_AT));
    assert_int_equal(bw_notify_open_count(), 0);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_NOTIFICATION), 0);
}

static void trigger_checks_event_type_then_handle(void **state)
{
    (void)state;
    MvNotificationHandle handle = open_via_syscall(9, RING_AT);
    const uint32_t bad_types[] = { 0, 6, 0x100, 0xFFFFFFFFu };
    for (size_t i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++) {
        assert_int_equal(bw_sys_temp_trigger_notification(handle, (enum MvEventType)bad_types[i], 1),
                         MV_STATUS_PARAMETERFAULT);
        assert_int_equal(bw_sys_temp_trigger_notification(NULL, (enum MvEventType)bad_types[i], 1),
                         MV_STATUS_PARAMETERFAULT);
    }
    assert_int_equal(port_host_pend_total(), 0);
    assert_int_equal(app_ram[RING_AT + 8], 0);

    assert_int_equal(bw_sys_temp_trigger_notification(NULL, MV_EVENTTYPE_CHANNELDATAREADABLE, 1),
                     MV_STATUS_INVALIDHANDLE);
    assert_int_equal(bw_sys_temp_trigger_notification((MvNotificationHandle)(uintptr_t)0x1234u,
                                                      MV_EVENTTYPE_CHANNELDATAREADABLE, 1),
                     MV_STATUS_INVALIDHANDLE);
    assert_int_equal(port_host_pend_total(), 0);

    /* Every valid type is accepted; the 2-slot ring then drops the rest. */
    for (uint32_t type = 1; type <= 5; type++) {
        assert_int_equal(bw_sys_temp_trigger_notification(handle, (enum MvEventType)type, type), MV_STATUS_OKAY);
    }
    assert_int_equal(port_host_pend_count(9), 5);
    uint32_t overruns = 0;
    assert_int_equal(bw_notify_overruns((uint32_t)(uintptr_t)handle, &overruns), BW_OK);
    assert_int_equal(overruns, 3);
}

/* ---- server logging ---- */

static void logging_init_rules(void **state)
{
    (void)state;
    const uint32_t bad_lengths[] = { 0, 1, 511, 513, 1000, 1023, UINT32_MAX };
    for (size_t i = 0; i < sizeof bad_lengths / sizeof bad_lengths[0]; i++) {
        assert_int_equal(bw_sys_server_logging_init(app_ram, bad_lengths[i]), MV_STATUS_INVALIDBUFFERSIZE);
        /* Length before alignment, alignment before the pointer. */
        assert_int_equal(bw_sys_server_logging_init(app_ram + 8, bad_lengths[i]), MV_STATUS_INVALIDBUFFERSIZE);
    }
    const size_t misaligned[] = { 1, 8, 256, 511, 513 };
    for (size_t i = 0; i < sizeof misaligned / sizeof misaligned[0]; i++) {
        assert_int_equal(bw_sys_server_logging_init(app_ram + misaligned[i], 512), MV_STATUS_INVALIDBUFFERALIGNMENT);
    }
    assert_int_equal(bw_sys_server_logging_init(ptr(addr_of(kernel_ram) + 1), 512), MV_STATUS_INVALIDBUFFERALIGNMENT);

    kernel_state before = snapshot();
    assert_int_equal(bw_sys_server_logging_init(NULL, 512), MV_STATUS_PARAMETERFAULT);
    assert_int_equal(bw_sys_server_logging_init(kernel_ram, 512), MV_STATUS_PARAMETERFAULT);
    assert_int_equal(bw_sys_server_logging_init(app_flash, 512), MV_STATUS_PARAMETERFAULT);
    assert_int_equal(bw_sys_server_logging_init(app_ram + APP_RAM_SIZE - 512, 1024), MV_STATUS_PARAMETERFAULT);
    assert_state_unchanged(&before);

    assert_int_equal(bw_sys_server_logging_init(app_ram + 1024, 1024), MV_STATUS_OKAY);
    assert_true(bw_kernel_server_log_ready());
    assert_int_equal(bw_sys_server_logging_init(app_ram + 4096, 512), MV_STATUS_BUFFERALREADYINUSE);
    /* A new run of the app may hand over a buffer again. */
    bw_kernel_app_starting(MV_WAKEREASON_REMOTEAPPLICATIONRESTART);
    assert_int_equal(bw_sys_server_logging_init(app_ram + 4096, 512), MV_STATUS_OKAY);
}

static void log_before_init_is_unavailable(void **state)
{
    (void)state;
    memcpy(app_ram, "hi", 2);
    assert_int_equal(bw_sys_server_log(app_ram, 2), MV_STATUS_UNAVAILABLE);
    /* Value and pointer checks come before the state check. */
    assert_int_equal(bw_sys_server_log(app_ram, BW_LOG_MESSAGE_MAX + 1), MV_STATUS_LOGMESSAGETOOLONG);
    assert_int_equal(bw_sys_server_log(NULL, 2), MV_STATUS_PARAMETERFAULT);
    assert_int_equal(port_host_console_len(), 0);
}

static void log_prints_an_app_line(void **state)
{
    (void)state;
    assert_int_equal(bw_sys_server_logging_init(app_ram + 8192, 512), MV_STATUS_OKAY);
    memcpy(app_ram + 3, "temp=21C\x01", 9);
    assert_int_equal(bw_sys_server_log(app_ram + 3, 9), MV_STATUS_OKAY);
    assert_string_equal(port_host_console(), "[app-log] temp=21C\\x01\n");

    /* From read-only memory (a string constant in app flash) is fine. */
    port_host_console_clear();
    memcpy(app_flash + 100, "flash", 5);
    assert_int_equal(bw_sys_server_log(app_flash + 100, 5), MV_STATUS_OKAY);
    assert_string_equal(port_host_console(), "[app-log] flash\n");
    memset(app_flash + 100, 0x5A, 5);

    /* The longest message is printed whole. */
    port_host_console_clear();
    memset(app_ram + 4096, 'm', BW_LOG_MESSAGE_MAX);
    assert_int_equal(bw_sys_server_log(app_ram + 4096, BW_LOG_MESSAGE_MAX), MV_STATUS_OKAY);
    assert_int_equal(port_host_console_len(), 10 + BW_LOG_MESSAGE_MAX + 1);

    port_host_console_clear();
    assert_int_equal(bw_sys_server_log(app_ram, 0), MV_STATUS_OKAY);
    assert_string_equal(port_host_console(), "[app-log] \n");
}

static void log_errors(void **state)
{
    (void)state;
    assert_int_equal(bw_sys_server_logging_init(app_ram + 8192, 512), MV_STATUS_OKAY);
    port_host_console_clear();
    assert_int_equal(bw_sys_server_log(app_ram, BW_LOG_MESSAGE_MAX + 1), MV_STATUS_LOGMESSAGETOOLONG);
    assert_int_equal(bw_sys_server_log(app_ram, UINT16_MAX), MV_STATUS_LOGMESSAGETOOLONG);
    uintptr_t bad[BAD_TARGETS];
    bad_read_sources(16, bad);
    for (int i = 0; i < BAD_TARGETS; i++) {
        assert_int_equal(bw_sys_server_log(ptr(bad[i]), 16), MV_STATUS_PARAMETERFAULT);
    }
    assert_int_equal(port_host_console_len(), 0);
}

/* ---- the whole table ---- */

typedef void (*any_fn)(void);
typedef struct gate_entry {
    unsigned index;
    const char *name;
    any_fn impl;
} gate_entry;

static const gate_entry gate_table[] = {
#define MV_SYSCALL(index, name, impl) { index, #name, (any_fn)impl },
#include "syscalls.def"
#undef MV_SYSCALL
};

static void every_call_has_an_implementation(void **state)
{
    (void)state;
    size_t count = sizeof gate_table / sizeof gate_table[0];
    size_t unavailable = 0;
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(gate_table[i].index, i);
        assert_non_null(gate_table[i].impl);
        if (gate_table[i].impl == (any_fn)bw_sys_unavailable) {
            unavailable++;
            enum MvStatus (*call)(void) = (enum MvStatus (*)(void))gate_table[i].impl;
            assert_int_equal(call(), MV_STATUS_UNAVAILABLE);
        }
    }
    assert_int_equal(count - unavailable, 54);   /* the calls implemented so far (3 bw*) */
    assert_int_equal(bw_sys_unavailable(), MV_STATUS_UNAVAILABLE);
}

static void every_error_maps_to_a_status(void **state)
{
    (void)state;
    assert_int_equal(bw_status_from_err(BW_OK), MV_STATUS_OKAY);
    assert_int_equal(bw_status_from_err(BW_E_FAULT), MV_STATUS_PARAMETERFAULT);
    assert_int_equal(bw_status_from_err(BW_E_SIZE), MV_STATUS_INVALIDBUFFERSIZE);
    assert_int_equal(bw_status_from_err(BW_E_ALIGN), MV_STATUS_INVALIDBUFFERALIGNMENT);
    assert_int_equal(bw_status_from_err(BW_E_FULL), MV_STATUS_TOOMANYNOTIFICATIONBUFFERS);
    assert_int_equal(bw_status_from_err(BW_E_IN_USE), MV_STATUS_BUFFERALREADYINUSE);
    assert_int_equal(bw_status_from_err(BW_E_HANDLE), MV_STATUS_INVALIDHANDLE);
    assert_int_equal(bw_status_from_err(BW_E_IRQ), MV_STATUS_INVALIDINTERRUPT);
    assert_int_equal(bw_status_from_err(BW_E_DENIED), MV_STATUS_PERIPHERALACCESSFAULT);
    assert_int_equal(bw_status_from_err(BW_E_VERSION), MV_STATUS_UNSUPPORTEDSTRUCTUREVERSION);
    assert_int_equal(bw_status_from_err(BW_E_UNAVAILABLE), MV_STATUS_UNAVAILABLE);
    assert_int_equal(bw_status_from_err(BW_E_IO), MV_STATUS_INTERNALERROR);
    assert_int_equal(bw_status_from_err(BW_E_INVALID), MV_STATUS_PARAMETERFAULT);
    assert_int_equal(bw_status_from_err((bw_err)999), MV_STATUS_INTERNALERROR);
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, test_setup, test_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(no_op_is_okay),
        TEST(microseconds_through_any_pointer),
        TEST(wall_time_is_not_set_yet),
        TEST(clocks_report_port_frequencies),
        TEST(device_id_is_bw_and_32_uppercase_hex_digits),
        TEST(device_id_length_must_be_34),
        TEST(unprovisioned_device_has_no_id),
        TEST(wake_reason_of_this_run),
        TEST(restart_asks_the_port),
        TEST(update_info_of_a_provisioned_device),
        TEST(restart_refused_from_interrupt_and_for_unknown_modes),
        TEST(peek_applies_the_read_mask),
        TEST(peek_of_unknown_register_or_bad_pointer),
        TEST(poke_changes_only_writable_bits),
        TEST(poke_of_unknown_register),
        TEST(notification_round_trip),
        TEST(setup_with_bad_pointers_changes_nothing),
        TEST(setup_errors_map_to_statuses),
        TEST(setup_uses_its_copy_of_the_struct),
        TEST(close_with_bad_pointers_keeps_the_center),
        TEST(close_of_a_bad_handle_leaves_it_alone),
        TEST(close_preempted_by_a_close_of_the_same_center),
        TEST(trigger_checks_event_type_then_handle),
        TEST(logging_init_rules),
        TEST(log_before_init_is_unavailable),
        TEST(log_prints_an_app_line),
        TEST(log_errors),
        TEST(every_call_has_an_implementation),
        TEST(every_error_maps_to_a_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
