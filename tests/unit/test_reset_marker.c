/*
 * A chip reset while the app runs counts as its crash; a power loss does not
 * (bw_reset_marker.c, bw_crash_boot_reset in bw_crash.c; docs/DESIGN.md
 * "Crash supervision"). Promises checked:
 *  - the marker reads back what was written; power-on contents (zeros,
 *    garbage) are "no marker"; a damaged or torn newest copy falls back to the
 *    older one; an unknown format or undefined flag bits are refused; the
 *    sequence survives wrap-around; a write never touches the newest copy;
 *  - a reset while the app runs: at the next kernel start one crash record of
 *    class kernel-reset (trigger 1, the app's version, no registers), kept in
 *    flash, with the backoff of a crash; the count since healthy carries
 *    across resets, so K resets before healthy make a crash loop: the
 *    rollback hook is asked once (rolled back: restart at once), without a
 *    good app the app is parked at the maximum backoff, and stays parked
 *    across further resets without asking the hook again;
 *  - not counted: a power loss (RAM lost), a reset after the app crashed or
 *    was healthy and stopped, a reset while the kernel installs (paused), a
 *    reset when another app version is in the slot now, a board without
 *    reset-surviving RAM; a healthy run resets the carried count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bw_bytes.h"
#include "bw_config.h"
#include "bw_crash.h"
#include "bw_crash_log.h"
#include "bw_identity.h"
#include "bw_reset_marker.h"
#include "nor_sim.h"
#include "test_support.h"

#define SECTOR 8192u
#define UNIT 16u
#define SECTORS 4u
#define VERSION 7u

static nor_sim *sim;
static bw_flash_partition partition;

/* ---- the marker format ---- */

static const bw_reset_marker_state sample = {
    .app_running = true, .parked = false, .app_version = 0x01020304u, .crashes_since_healthy = 2,
};

static void marker_round_trip(void **state)
{
    (void)state;
    uint32_t words[BW_RESET_MARKER_WORDS];
    memset(words, 0, sizeof words);
    bw_reset_marker_state out;
    assert_int_equal(bw_reset_marker_read(words, &out), BW_E_INVALID);   /* QEMU's power-on RAM */

    bw_reset_marker_write(words, &sample);
    assert_int_equal(bw_reset_marker_read(words, &out), BW_OK);
    assert_true(out.app_running);
    assert_false(out.parked);
    assert_int_equal(out.app_version, 0x01020304u);
    assert_int_equal(out.crashes_since_healthy, 2);

    bw_reset_marker_state next = { .app_running = false, .parked = true, .app_version = 9,
                                   .crashes_since_healthy = 5 };
    bw_reset_marker_write(words, &next);
    assert_int_equal(bw_reset_marker_read(words, &out), BW_OK);
    assert_false(out.app_running);
    assert_true(out.parked);
    assert_int_equal(out.app_version, 9);
    assert_int_equal(out.crashes_since_healthy, 5);

    bw_reset_marker_clear(words);
    assert_int_equal(bw_reset_marker_read(words, &out), BW_E_INVALID);
}

static void marker_garbage_is_no_marker(void **state)
{
    (void)state;
    uint32_t words[BW_RESET_MARKER_WORDS];
    bw_reset_marker_state out = { .app_version = 0xAAu };
    srand(11);
    for (int round = 0; round < 1000; round++) {
        for (size_t i = 0; i < BW_RESET_MARKER_WORDS; i++) {
            words[i] = (uint32_t)rand() ^ ((uint32_t)rand() << 16);
        }
        if (round % 2 == 0) {
            words[0] = BW_RESET_MARKER_MAGIC;   /* a magic by chance: the check still refuses */
            words[1] = BW_RESET_MARKER_FORMAT;
        }
        assert_int_not_equal(bw_reset_marker_read(words, &out), BW_OK);
    }
    assert_int_equal(out.app_version, 0xAAu);   /* untouched */
}

/* Every bit of the newest copy flipped in turn: the older copy is read
 * instead (or, for a flip that hides the magic, still the older one). */
static void marker_damaged_newest_falls_back(void **state)
{
    (void)state;
    uint32_t words[BW_RESET_MARKER_WORDS];
    memset(words, 0, sizeof words);
    bw_reset_marker_state older = sample;
    bw_reset_marker_state newer = sample;
    newer.crashes_since_healthy = 3;
    bw_reset_marker_write(words, &older);   /* copy 0 */
    bw_reset_marker_write(words, &newer);   /* copy 1 */
    uint32_t pristine[BW_RESET_MARKER_WORDS];
    memcpy(pristine, words, sizeof words);
    for (size_t bit = 0; bit < 32u * BW_RESET_MARKER_COPY_WORDS; bit++) {
        memcpy(words, pristine, sizeof words);
        words[BW_RESET_MARKER_COPY_WORDS + bit / 32u] ^= 1u << (bit % 32u);
        bw_reset_marker_state out;
        assert_int_equal(bw_reset_marker_read(words, &out), BW_OK);
        assert_int_equal(out.crashes_since_healthy, 2);
    }
    /* Both damaged: an error, not a guess. */
    memcpy(words, pristine, sizeof words);
    words[4] ^= 1u;
    words[BW_RESET_MARKER_COPY_WORDS + 4] ^= 1u;
    bw_reset_marker_state out;
    assert_int_equal(bw_reset_marker_read(words, &out), BW_E_IO);
}

/* A reset in the middle of a write: any prefix of the new copy written over
 * the older one leaves the previous state readable. */
static void marker_torn_write_keeps_previous(void **state)
{
    (void)state;
    uint32_t words[BW_RESET_MARKER_WORDS], done[BW_RESET_MARKER_WORDS];
    memset(words, 0, sizeof words);
    bw_reset_marker_write(words, &sample);
    bw_reset_marker_state newer = sample;
    newer.app_running = false;
    newer.crashes_since_healthy = 0;
    memcpy(done, words, sizeof words);
    bw_reset_marker_write(done, &newer);
    for (size_t written = 0; written < BW_RESET_MARKER_COPY_WORDS; written++) {
        uint32_t torn[BW_RESET_MARKER_WORDS];
        memcpy(torn, words, sizeof torn);
        memcpy(torn + BW_RESET_MARKER_COPY_WORDS, done + BW_RESET_MARKER_COPY_WORDS,
               written * sizeof(uint32_t));
        bw_reset_marker_state out;
        assert_int_equal(bw_reset_marker_read(torn, &out), BW_OK);
        assert_true(out.app_running);
        assert_int_equal(out.crashes_since_healthy, 2);
    }
    /* And the write never touched the copy it was not aimed at. */
    assert_memory_equal(done, words, BW_RESET_MARKER_COPY_WORDS * sizeof(uint32_t));
}

static void marker_refuses_unknown_format_and_flags(void **state)
{
    (void)state;
    uint32_t words[BW_RESET_MARKER_WORDS];
    memset(words, 0, sizeof words);
    bw_reset_marker_write(words, &sample);
    bw_reset_marker_state out;
    uint32_t info = words[1];
    words[1] = (info & ~0xFFu) | 2u;           /* format 2 */
    assert_int_equal(bw_reset_marker_read(words, &out), BW_E_VERSION);
    words[1] = info | (1u << 10);              /* an undefined flag (CRC not redone) */
    assert_int_equal(bw_reset_marker_read(words, &out), BW_E_IO);
}

static void marker_sequence_wraps(void **state)
{
    (void)state;
    uint32_t words[BW_RESET_MARKER_WORDS];
    memset(words, 0, sizeof words);
    bw_reset_marker_write(words, &sample);
    /* Copy 0 at the end of the sequence space, resealed (the host is
     * little-endian, so its words are the format's bytes). */
    words[2] = 0xFFFFFFFFu;
    words[5] = bw_crc32((const uint8_t *)words, 20);
    bw_reset_marker_state newer = sample;
    newer.crashes_since_healthy = 9;
    bw_reset_marker_write(words, &newer);   /* copy 1, sequence 0: newer after the wrap */
    assert_int_equal(words[BW_RESET_MARKER_COPY_WORDS + 2], 0);
    bw_reset_marker_state out;
    assert_int_equal(bw_reset_marker_read(words, &out), BW_OK);
    assert_int_equal(out.crashes_since_healthy, 9);
}

/* ---- counting resets as crashes (bw_crash_boot_reset) ---- */

static int rollback_calls;
static bw_err rollback_result;

static bw_err rollback_hook(void *context, const bw_crash_record *crash)
{
    (void)context;
    assert_int_equal(crash->crash_class, BW_CRASH_CLASS_KERNEL_RESET);
    rollback_calls++;
    return rollback_result;
}

/* Kernel start on the board as it is: the flash partition, app memory, the
 * core, the update engine's part (the app version, the hook), then the boot
 * step under test. Returns what bw_crash_boot_reset said. */
static bool kernel_start(uint32_t version, bool with_hook, uint32_t *delay_ms, bool *rolled_back)
{
    assert_true(port_host_add_app_region(app_ram, sizeof app_ram, true));
    assert_true(port_host_add_app_region(app_flash, sizeof app_flash, false));
    port_host_set_partition(BW_PARTITION_CRASH_LOG, &partition);
    assert_int_equal(bw_kernel_init(), BW_OK);
    bw_crash_set_app_version(version);
    bw_crash_set_rollback_handler(with_hook ? rollback_hook : NULL, NULL);
    port_host_console_clear();
    return bw_crash_boot_reset(delay_ms, rolled_back);
}

static bool power_on(uint32_t version, bool with_hook, uint32_t *delay_ms, bool *rolled_back)
{
    port_host_reset();
    return kernel_start(version, with_hook, delay_ms, rolled_back);
}

static bool chip_reset(uint32_t version, bool with_hook, uint32_t *delay_ms, bool *rolled_back)
{
    port_host_chip_reset();
    return kernel_start(version, with_hook, delay_ms, rolled_back);
}

static bw_crash_record last_record(void)
{
    bw_crash_record r;
    bool previous = true;
    assert_true(bw_crash_last(&r, &previous));
    return r;
}

static int setup(void **state)
{
    (void)state;
    sim = nor_sim_create(&(nor_sim_config){ .size = SECTORS * SECTOR, .sector_size = SECTOR,
                                            .program_unit = UNIT, .seed = 5 });
    assert_non_null(sim);
    partition = (bw_flash_partition){ nor_sim_device(sim), 0, SECTORS * SECTOR };
    rollback_calls = 0;
    rollback_result = BW_OK;
    uint32_t delay;
    bool rolled;
    assert_false(power_on(VERSION, false, &delay, &rolled));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_support_check_port_use();
    nor_sim_destroy(sim);
    sim = NULL;
    return 0;
}

static void reset_while_running_is_a_crash(void **state)
{
    (void)state;
    uint32_t delay = 99;
    bool rolled = true;
    bw_crash_app_starting();
    assert_true(chip_reset(VERSION, false, &delay, &rolled));
    assert_int_equal(delay, 0);                        /* first crash: at once */
    assert_false(rolled);
    bw_crash_record r = last_record();
    assert_int_equal(r.crash_class, BW_CRASH_CLASS_KERNEL_RESET);
    assert_int_equal(r.trigger, 1);
    assert_int_equal(r.app_version, VERSION);
    assert_int_equal(r.crashes_since_healthy, 1);
    assert_int_equal(r.crash_count, 1);
    assert_int_equal(r.flags & BW_CRASH_FLAG_FRAME_VALID, 0);
    assert_int_equal(r.loop_action, BW_CRASH_LOOP_NONE);
    const char *console = port_host_console();
    assert_non_null(strstr(console, "app crash: chip reset: the chip reset while the app ran"));
    assert_non_null(strstr(console, "crash class: kernel-reset in an unknown context"));
    assert_non_null(strstr(console, "saved in flash"));

    /* Kept in the flash log like any crash: the next kernel start reads it back. */
    assert_false(power_on(VERSION, false, &delay, &rolled));
    bool previous = false;
    bw_crash_record back;
    assert_true(bw_crash_last(&back, &previous));
    assert_true(previous);
    assert_int_equal(back.crash_class, BW_CRASH_CLASS_KERNEL_RESET);
    assert_int_equal(back.sequence, r.sequence);
}

static void reset_loop_rolls_back_once(void **state)
{
    (void)state;
    uint32_t delay;
    bool rolled;
    bw_crash_app_starting();
    assert_true(chip_reset(VERSION, true, &delay, &rolled));
    assert_int_equal(delay, 0);
    bw_crash_app_starting();
    assert_true(chip_reset(VERSION, true, &delay, &rolled));
    assert_int_equal(delay, BW_CRASH_RESTART_MIN_MS);   /* the count survived the reset */
    assert_int_equal(last_record().crashes_since_healthy, 2);
    assert_int_equal(rollback_calls, 0);
    bw_crash_app_starting();
    assert_true(chip_reset(VERSION, true, &delay, &rolled));
    assert_int_equal(rollback_calls, 1);
    assert_true(rolled);
    assert_int_equal(delay, 0);
    bw_crash_record r = last_record();
    assert_int_equal(r.crashes_since_healthy, BW_CRASH_LOOP_CRASHES);
    assert_int_equal(r.loop_action, BW_CRASH_LOOP_ROLLED_BACK);
    assert_true(r.flags & BW_CRASH_FLAG_CRASH_LOOP);
    assert_non_null(strstr(port_host_console(), "rolled back to the last-known-good app"));

    /* The good app (the hook set its version) starts with a fresh count. */
    bw_crash_set_app_version(VERSION - 1u);
    bw_crash_app_starting();
    assert_true(chip_reset(VERSION - 1u, true, &delay, &rolled));
    assert_int_equal(last_record().crashes_since_healthy, 1);
    assert_int_equal(delay, 0);
}

static void reset_loop_without_good_app_parks(void **state)
{
    (void)state;
    uint32_t delay;
    bool rolled;
    rollback_result = BW_E_UNAVAILABLE;
    for (uint32_t n = 1; n < BW_CRASH_LOOP_CRASHES; n++) {
        bw_crash_app_starting();
        assert_true(chip_reset(VERSION, true, &delay, &rolled));
    }
    bw_crash_app_starting();
    assert_true(chip_reset(VERSION, true, &delay, &rolled));
    assert_int_equal(rollback_calls, 1);
    assert_false(rolled);
    assert_int_equal(delay, BW_CRASH_RESTART_MAX_MS);
    assert_int_equal(last_record().loop_action, BW_CRASH_LOOP_PARKED);
    assert_non_null(strstr(port_host_console(), "parked at the maximum backoff"));

    /* Parked survives the next reset: still the maximum, the hook not asked again. */
    bw_crash_app_starting();
    assert_true(chip_reset(VERSION, true, &delay, &rolled));
    assert_int_equal(rollback_calls, 1);
    assert_int_equal(delay, BW_CRASH_RESTART_MAX_MS);
    assert_int_equal(last_record().loop_action, BW_CRASH_LOOP_PARKED);
    assert_int_equal(last_record().crashes_since_healthy, BW_CRASH_LOOP_CRASHES + 1u);

    /* A healthy run ends it: the next reset is a first crash again. */
    bw_crash_app_starting();
    bw_crash_confirm_healthy();
    assert_true(chip_reset(VERSION, true, &delay, &rolled));
    assert_int_equal(delay, 0);
    assert_int_equal(last_record().crashes_since_healthy, 1);
    assert_int_equal(last_record().loop_action, BW_CRASH_LOOP_NONE);
}

static void power_loss_is_not_a_crash(void **state)
{
    (void)state;
    uint32_t delay;
    bool rolled;
    bw_crash_app_starting();
    assert_false(power_on(VERSION, true, &delay, &rolled));   /* RAM lost with the power */
    assert_int_equal(delay, 0);
    assert_null(strstr(port_host_console(), "app crash"));
    bool previous;
    bw_crash_record r;
    assert_false(bw_crash_last(&r, &previous));

    /* Spoiled RAM (a board whose RAM does not start zeroed): no marker either. */
    bw_crash_app_starting();
    uint32_t *ram = port_host_reset_ram();
    for (size_t i = 0; i < PORT_HOST_RESET_RAM_WORDS; i++) {
        ram[i] ^= 0x5A5A5A5Au * (uint32_t)(i + 1u);
    }
    assert_false(chip_reset(VERSION, true, &delay, &rolled));
    assert_false(bw_crash_last(&r, &previous));
}

static void resets_the_app_is_not_to_blame_for(void **state)
{
    (void)state;
    uint32_t delay;
    bool rolled;
    bw_crash_record r;
    bool previous;

    /* The app crashed and is stopped (backoff wait): the reset is not another crash. */
    bw_crash_app_starting();
    bw_crash_capture c;
    memset(&c, 0, sizeof c);
    c.trigger = 7;
    c.sfsr = 0x08u;
    c.exc_return = 0xFFFFFFB9u;
    (void)bw_crash_handle(&c);
    assert_false(chip_reset(VERSION, true, &delay, &rolled));
    assert_false(bw_crash_last(&r, &previous) && !previous);   /* nothing new this boot */

    /* The kernel paused the app for an install. */
    bw_crash_app_starting();
    bw_crash_app_pause(true);
    assert_false(chip_reset(VERSION, true, &delay, &rolled));
    /* ... and the install failed: it runs on, a reset counts again. */
    bw_crash_app_starting();
    bw_crash_app_pause(true);
    bw_crash_app_pause(false);
    assert_true(chip_reset(VERSION, true, &delay, &rolled));

    /* Another app is in the slot now (an install finished at boot): not
     * counted, and it does not inherit the count. */
    bw_crash_app_starting();
    assert_false(chip_reset(VERSION + 1u, true, &delay, &rolled));
    assert_non_null(strstr(port_host_console(), "not counted"));
    bw_crash_app_starting();
    assert_true(chip_reset(VERSION + 1u, true, &delay, &rolled));
    assert_int_equal(last_record().crashes_since_healthy, 1);
    assert_int_equal(rollback_calls, 0);
}

static void healthy_run_resets_the_carried_count(void **state)
{
    (void)state;
    uint32_t delay;
    bool rolled;
    for (int i = 0; i < 10; i++) {
        bw_crash_app_starting();
        bw_crash_confirm_healthy();
        assert_true(chip_reset(VERSION, true, &delay, &rolled));
        assert_int_equal(delay, 0);
        assert_int_equal(last_record().crashes_since_healthy, 1);
    }
    /* Healthy by time, seen by the tick. */
    bw_crash_app_starting();
    port_host_set_time_us((uint64_t)BW_CRASH_HEALTHY_MS * 1000u + 1u);
    bw_crash_tick((uint64_t)BW_CRASH_HEALTHY_MS * 1000u + 1u);
    assert_true(bw_crash_app_healthy());
    assert_true(chip_reset(VERSION, true, &delay, &rolled));
    assert_int_equal(last_record().crashes_since_healthy, 1);
    assert_int_equal(rollback_calls, 0);
}

static void board_without_reset_ram(void **state)
{
    (void)state;
    uint32_t delay;
    bool rolled;
    port_host_set_reset_ram_words(BW_RESET_MARKER_WORDS - 1u);   /* too small: unused */
    memset(port_host_reset_ram(), 0, PORT_HOST_RESET_RAM_WORDS * sizeof(uint32_t));
    assert_false(chip_reset(VERSION, true, &delay, &rolled));
    for (int i = 0; i < 5; i++) {
        bw_crash_app_starting();
        assert_false(chip_reset(VERSION, true, &delay, &rolled));
    }
    uint32_t *ram = port_host_reset_ram();
    for (size_t i = 0; i < PORT_HOST_RESET_RAM_WORDS; i++) {
        assert_int_equal(ram[i], 0);   /* never written */
    }
    port_host_set_reset_ram_words(0);
    bw_crash_app_starting();
    assert_false(chip_reset(VERSION, true, &delay, &rolled));
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(marker_round_trip),
        cmocka_unit_test(marker_garbage_is_no_marker),
        cmocka_unit_test(marker_damaged_newest_falls_back),
        cmocka_unit_test(marker_torn_write_keeps_previous),
        cmocka_unit_test(marker_refuses_unknown_format_and_flags),
        cmocka_unit_test(marker_sequence_wraps),
        TEST(reset_while_running_is_a_crash),
        TEST(reset_loop_rolls_back_once),
        TEST(reset_loop_without_good_app_parks),
        TEST(power_loss_is_not_a_crash),
        TEST(resets_the_app_is_not_to_blame_for),
        TEST(healthy_run_resets_the_carried_count),
        TEST(board_without_reset_ram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
