/*
 * Partition-relative flash operations (bw_flash.c) over the NOR model
 * (tests/sim/nor_sim.h). Promises checked: every offset is relative to the
 * partition; nothing outside the partition is ever read, programmed or erased
 * (BW_E_SIZE, overflow included, and the device is not even called);
 * misalignment is BW_E_ALIGN before the device; erase_range erases exactly
 * the sectors the range overlaps; device errors come back unchanged; a
 * missing partition is BW_E_UNAVAILABLE; the host port hands out the
 * partitions a test sets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bw_flash.h"
#include "nor_sim.h"
#include "port_host.h"

typedef struct geometry {
    uint32_t sector, unit;
} geometry;

static const geometry geometries[] = { { 8192u, 16u }, { 4096u, 8u } };
#define GEOMETRY_COUNT (sizeof geometries / sizeof geometries[0])

#define SECTORS 8u
#define PART_FIRST 2u   /* the partition: sectors 2..5 of 8 */
#define PART_SECTORS 4u

typedef struct fixture {
    nor_sim *sim;
    bw_flash_partition part;
    uint8_t *raw;
    uint8_t *snapshot;
    uint32_t sector, unit, size;
} fixture;

/* A model with a recognisable pattern everywhere (a mix of 0 and 1 bits, so
 * that an erase or a program anywhere shows) and a partition in its middle. */
static void fixture_init(fixture *f, const geometry *g)
{
    f->sector = g->sector;
    f->unit = g->unit;
    f->size = SECTORS * g->sector;
    f->sim = nor_sim_create(&(nor_sim_config){
        .size = f->size, .sector_size = g->sector, .program_unit = g->unit, .seed = 11 });
    assert_non_null(f->sim);
    f->raw = nor_sim_raw(f->sim);
    for (uint32_t i = 0; i < f->size; i++) {
        f->raw[i] = (uint8_t)(0x5Au ^ (i * 7u) ^ (i >> 9));
    }
    f->part = (bw_flash_partition){ nor_sim_device(f->sim), PART_FIRST * g->sector,
                                    PART_SECTORS * g->sector };
    f->snapshot = malloc(f->size);
    assert_non_null(f->snapshot);
    memcpy(f->snapshot, f->raw, f->size);
}

static void fixture_free(fixture *f)
{
    nor_sim_destroy(f->sim);
    free(f->snapshot);
}

/* Nothing changed since the snapshot, anywhere on the device. */
static void assert_untouched(const fixture *f)
{
    assert_memory_equal(f->raw, f->snapshot, f->size);
}

/* Nothing changed outside the partition. */
static void assert_outside_untouched(const fixture *f)
{
    assert_memory_equal(f->raw, f->snapshot, f->part.offset);
    uint32_t end = f->part.offset + f->part.size;
    assert_memory_equal(f->raw + end, f->snapshot + end, f->size - end);
}

static bool sector_erased(const fixture *f, uint32_t device_offset)
{
    for (uint32_t i = 0; i < f->sector; i++) {
        if (f->raw[device_offset + i] != 0xFF) {
            return false;
        }
    }
    return true;
}

static void test_offsets_are_partition_relative(void **state)
{
    (void)state;
    for (size_t gi = 0; gi < GEOMETRY_COUNT; gi++) {
        fixture f;
        fixture_init(&f, &geometries[gi]);
        uint8_t buf[64], back[64];

        assert_int_equal(bw_flash_read(&f.part, 5, back, 20), BW_OK);
        assert_memory_equal(back, f.raw + f.part.offset + 5, 20);

        assert_int_equal(bw_flash_erase_sector(&f.part, f.sector), BW_OK);
        assert_true(sector_erased(&f, f.part.offset + f.sector));
        assert_int_equal(nor_sim_erase_count(f.sim, f.part.offset + f.sector), 1);

        for (uint32_t i = 0; i < 2 * f.unit; i++) {
            buf[i] = (uint8_t)(0xC0u + i);
        }
        assert_int_equal(bw_flash_program(&f.part, f.sector + 3 * f.unit, buf, 2 * f.unit), BW_OK);
        assert_memory_equal(f.raw + f.part.offset + f.sector + 3 * f.unit, buf, 2 * f.unit);
        assert_int_equal(bw_flash_read(&f.part, f.sector + 3 * f.unit, back, 2 * f.unit), BW_OK);
        assert_memory_equal(back, buf, 2 * f.unit);

        /* The last byte and the last unit of the partition are in it. */
        assert_int_equal(bw_flash_read(&f.part, f.part.size - 1, back, 1), BW_OK);
        assert_int_equal(back[0], f.raw[f.part.offset + f.part.size - 1]);
        assert_int_equal(bw_flash_erase_sector(&f.part, f.part.size - f.sector), BW_OK);
        assert_int_equal(bw_flash_program(&f.part, f.part.size - f.unit, buf, f.unit), BW_OK);
        assert_memory_equal(f.raw + f.part.offset + f.part.size - f.unit, buf, f.unit);
        assert_outside_untouched(&f);
        fixture_free(&f);
    }
}

static void test_out_of_partition_is_refused(void **state)
{
    (void)state;
    for (size_t gi = 0; gi < GEOMETRY_COUNT; gi++) {
        fixture f;
        fixture_init(&f, &geometries[gi]);
        uint8_t buf[64], back[64];
        memset(buf, 0, sizeof buf);
        uint32_t size = f.part.size;

        assert_int_equal(bw_flash_read(&f.part, size - 4, back, 8), BW_E_SIZE);
        assert_int_equal(bw_flash_read(&f.part, size + 1, back, 0), BW_E_SIZE);
        assert_int_equal(bw_flash_read(&f.part, 0xFFFFFFF8u, back, 16), BW_E_SIZE);   /* wraps */
        assert_int_equal(bw_flash_read(&f.part, 16, back, 0xFFFFFFF8u), BW_E_SIZE);
        assert_int_equal(bw_flash_program(&f.part, size, buf, f.unit), BW_E_SIZE);
        assert_int_equal(bw_flash_program(&f.part, size - f.unit, buf, 2 * f.unit), BW_E_SIZE);
        assert_int_equal(bw_flash_program(&f.part, 0xFFFFFFF0u, buf, 32), BW_E_SIZE);
        assert_int_equal(bw_flash_erase_sector(&f.part, size), BW_E_SIZE);
        assert_int_equal(bw_flash_erase_sector(&f.part, 0xFFFFE000u), BW_E_SIZE);
        assert_int_equal(bw_flash_erase_range(&f.part, size - 1, 2), BW_E_SIZE);
        assert_int_equal(bw_flash_erase_range(&f.part, 0, size + 1), BW_E_SIZE);
        assert_int_equal(bw_flash_erase_range(&f.part, f.sector, 0xFFFFFFFFu), BW_E_SIZE);
        assert_int_equal(bw_flash_erase_range(&f.part, size + 1, 0), BW_E_SIZE);
        assert_untouched(&f);
        assert_int_equal(nor_sim_ops(f.sim), 0);   /* the device never saw them */
        assert_int_equal(nor_sim_get_stats(f.sim).reads, 0);

        /* Empty requests at the very end are in bounds and do nothing. */
        assert_int_equal(bw_flash_read(&f.part, size, back, 0), BW_OK);
        assert_int_equal(bw_flash_program(&f.part, size, buf, 0), BW_OK);
        assert_int_equal(bw_flash_erase_range(&f.part, size, 0), BW_OK);
        assert_int_equal(bw_flash_erase_range(&f.part, 5, 0), BW_OK);
        assert_int_equal(nor_sim_ops(f.sim), 0);
        assert_untouched(&f);
        fixture_free(&f);
    }
}

static void test_misalignment_is_refused(void **state)
{
    (void)state;
    for (size_t gi = 0; gi < GEOMETRY_COUNT; gi++) {
        fixture f;
        fixture_init(&f, &geometries[gi]);
        uint8_t buf[64];
        memset(buf, 0, sizeof buf);

        assert_int_equal(bw_flash_program(&f.part, 1, buf, f.unit), BW_E_ALIGN);
        assert_int_equal(bw_flash_program(&f.part, f.unit / 2, buf, f.unit), BW_E_ALIGN);
        assert_int_equal(bw_flash_program(&f.part, 0, buf, f.unit - 1), BW_E_ALIGN);
        assert_int_equal(bw_flash_program(&f.part, f.unit, buf, f.unit + 4), BW_E_ALIGN);
        assert_int_equal(bw_flash_erase_sector(&f.part, 1), BW_E_ALIGN);
        assert_int_equal(bw_flash_erase_sector(&f.part, f.sector / 2), BW_E_ALIGN);
        assert_int_equal(bw_flash_erase_sector(&f.part, f.sector + f.unit), BW_E_ALIGN);
        assert_int_equal(nor_sim_ops(f.sim), 0);
        assert_untouched(&f);

        /* Reads have no alignment. */
        uint8_t back[3];
        assert_int_equal(bw_flash_read(&f.part, 7, back, 3), BW_OK);
        assert_memory_equal(back, f.raw + f.part.offset + 7, 3);
        fixture_free(&f);
    }
}

static void test_erase_range_covers_overlapped_sectors(void **state)
{
    (void)state;
    for (size_t gi = 0; gi < GEOMETRY_COUNT; gi++) {
        const geometry *g = &geometries[gi];
        uint32_t s = g->sector;
        /* { offset, len, first sector, sector count } within the partition */
        const uint32_t cases[][4] = {
            { 0, 1, 0, 1 },
            { 0, s, 0, 1 },
            { 0, s + 1, 0, 2 },
            { s - 1, 2, 0, 2 },
            { s, s, 1, 1 },
            { s + 5, 2 * s, 1, 3 },
            { 3 * s + 100, s - 100, 3, 1 },
            { 0, PART_SECTORS * s, 0, PART_SECTORS },
        };
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            fixture f;
            fixture_init(&f, g);
            assert_int_equal(bw_flash_erase_range(&f.part, cases[c][0], cases[c][1]), BW_OK);
            assert_int_equal(nor_sim_ops(f.sim), cases[c][3]);   /* one erase per sector */
            for (uint32_t k = 0; k < SECTORS; k++) {
                uint32_t at = k * s;
                bool inside = k >= PART_FIRST + cases[c][2] &&
                              k < PART_FIRST + cases[c][2] + cases[c][3];
                if (inside) {
                    assert_true(sector_erased(&f, at));
                    assert_int_equal(nor_sim_erase_count(f.sim, at), 1);
                } else {
                    assert_memory_equal(f.raw + at, f.snapshot + at, s);
                    assert_int_equal(nor_sim_erase_count(f.sim, at), 0);
                }
            }
            fixture_free(&f);
        }
    }
}

static void test_device_errors_come_back(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, &geometries[0]);
    uint8_t buf[16], back[16];

    /* A NOR rule the device enforces: 0 -> 1 is refused, nothing written. */
    assert_int_equal(bw_flash_erase_sector(&f.part, 0), BW_OK);
    memset(buf, 0x0F, sizeof buf);
    assert_int_equal(bw_flash_program(&f.part, 0, buf, 16), BW_OK);
    memset(buf, 0xF0, sizeof buf);
    assert_int_equal(bw_flash_program(&f.part, 0, buf, 16), BW_E_INVALID);
    assert_int_equal(f.raw[f.part.offset], 0x0F);

    /* Hardware errors on program, erase and read. */
    nor_sim_arm_error(f.sim, 0, BW_E_IO);
    assert_int_equal(bw_flash_program(&f.part, 16, buf, 16), BW_E_IO);
    nor_sim_arm_error(f.sim, 0, BW_E_IO);
    assert_int_equal(bw_flash_erase_sector(&f.part, 0), BW_E_IO);
    nor_sim_set_read_error(f.sim, BW_E_IO);
    assert_int_equal(bw_flash_read(&f.part, 0, back, 16), BW_E_IO);
    nor_sim_set_read_error(f.sim, BW_OK);

    /* erase_range stops at the first failing sector and reports it. */
    memcpy(f.snapshot, f.raw, f.size);
    uint64_t before = nor_sim_ops(f.sim);
    nor_sim_arm_error(f.sim, 1, BW_E_IO);
    assert_int_equal(bw_flash_erase_range(&f.part, 0, f.part.size), BW_E_IO);
    assert_int_equal(nor_sim_ops(f.sim) - before, 2);
    assert_true(sector_erased(&f, f.part.offset));
    assert_memory_equal(f.raw + f.part.offset + f.sector, f.snapshot + f.part.offset + f.sector,
                        f.part.size - f.sector);
    fixture_free(&f);
}

static void test_missing_or_broken_partition(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, &geometries[0]);
    uint8_t buf[16];
    memset(buf, 0, sizeof buf);

    assert_int_equal(bw_flash_read(NULL, 0, buf, 1), BW_E_UNAVAILABLE);
    assert_int_equal(bw_flash_program(NULL, 0, buf, 16), BW_E_UNAVAILABLE);
    assert_int_equal(bw_flash_erase_sector(NULL, 0), BW_E_UNAVAILABLE);
    assert_int_equal(bw_flash_erase_range(NULL, 0, 1), BW_E_UNAVAILABLE);

    bw_flash_partition no_device = { NULL, 0, f.sector };
    assert_int_equal(bw_flash_read(&no_device, 0, buf, 1), BW_E_UNAVAILABLE);
    bw_flash_partition past_end = { f.part.device, f.size - f.sector, 2 * f.sector };
    assert_int_equal(bw_flash_erase_sector(&past_end, 0), BW_E_UNAVAILABLE);
    bw_flash_partition wraps = { f.part.device, 0xFFFFE000u, 0x4000u };
    assert_int_equal(bw_flash_erase_range(&wraps, 0, 1), BW_E_UNAVAILABLE);
    assert_int_equal(nor_sim_ops(f.sim), 0);
    assert_untouched(&f);
    fixture_free(&f);
}

static void test_host_port_partitions(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, &geometries[0]);
    port_host_reset();
    for (int id = 0; id < BW_PARTITION_COUNT; id++) {
        assert_null(port_flash_partition((bw_partition_id)id));
    }
    port_host_set_partition(BW_PARTITION_CRASH_LOG, &f.part);
    assert_ptr_equal(port_flash_partition(BW_PARTITION_CRASH_LOG), &f.part);
    assert_null(port_flash_partition(BW_PARTITION_IMAGE_A));
    assert_null(port_flash_partition(BW_PARTITION_COUNT));
    port_host_set_partition(BW_PARTITION_COUNT, &f.part);   /* ignored */
    assert_null(port_flash_partition(BW_PARTITION_COUNT));
    port_host_reset();
    assert_null(port_flash_partition(BW_PARTITION_CRASH_LOG));
    fixture_free(&f);
}

/* Erases the whole partition with power lost at erase number `cut`. */
static void erase_all_with_cut(fixture *f, uint32_t cut)
{
    jmp_buf env;
    nor_sim_set_cut_handler(f->sim, &env);
    nor_sim_arm_cut(f->sim, cut);
    if (setjmp(env) == 0) {
        (void)bw_flash_erase_range(&f->part, 0, f->part.size);
        fail_msg("erase_range ran past the power cut");
    }
    nor_sim_set_cut_handler(f->sim, NULL);
    nor_sim_power_on(f->sim);
}

static void test_power_cut_stops_erase_range(void **state)
{
    (void)state;
    for (uint32_t cut = 0; cut < PART_SECTORS; cut++) {
        fixture f;
        fixture_init(&f, &geometries[0]);
        erase_all_with_cut(&f, cut);
        assert_int_equal(nor_sim_ops(f.sim), cut + 1);
        nor_sim_cut_info info;
        assert_true(nor_sim_last_cut(f.sim, &info));
        assert_int_equal(info.op, NOR_SIM_OP_ERASE);
        assert_int_equal(info.offset, f.part.offset + cut * f.sector);
        for (uint32_t k = 0; k < cut; k++) {
            assert_true(sector_erased(&f, f.part.offset + k * f.sector));
        }
        uint32_t after = f.part.offset + (cut + 1) * f.sector;
        assert_memory_equal(f.raw + after, f.snapshot + after, f.size - after);
        assert_memory_equal(f.raw, f.snapshot, f.part.offset);
        fixture_free(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offsets_are_partition_relative),
        cmocka_unit_test(test_out_of_partition_is_refused),
        cmocka_unit_test(test_misalignment_is_refused),
        cmocka_unit_test(test_erase_range_covers_overlapped_sectors),
        cmocka_unit_test(test_device_errors_come_back),
        cmocka_unit_test(test_missing_or_broken_partition),
        cmocka_unit_test(test_host_port_partitions),
        cmocka_unit_test(test_power_cut_stops_erase_range),
    };
    return cmocka_run_group_tests_name("unit.flash", tests, NULL, NULL);
}
