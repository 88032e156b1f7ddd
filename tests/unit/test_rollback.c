/*
 * The kernel anti-rollback counter's reader (boot/bw_rollback.c, docs/SPEC.md
 * §19.4): the highest whole record, and a record torn by a power cut while it
 * was programmed never reads as a value other than the one before it or the
 * one being written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bw_bytes.h"
#include "bw_rollback.h"

#define RECORDS 8u

static void put_record(uint8_t *at, uint32_t value)
{
    bw_put32(at, BW_ROLLBACK_MAGIC);
    bw_put32(at + 4, value);
    bw_put32(at + 8, ~value);
    bw_put32(at + 12, ~BW_ROLLBACK_MAGIC);
}

static void erased_is_zero(void **state)
{
    uint8_t region[RECORDS * BW_ROLLBACK_RECORD_SIZE];
    memset(region, 0xFF, sizeof region);
    assert_int_equal(bw_rollback_floor(region, sizeof region), 0);
}

static void highest_whole_record_counts(void **state)
{
    uint8_t region[RECORDS * BW_ROLLBACK_RECORD_SIZE];
    memset(region, 0xFF, sizeof region);
    put_record(region, 0x00010000u);
    put_record(region + 16, 0x00030000u);
    put_record(region + 32, 0x00020000u);   /* a lower record later does not lower it */
    assert_int_equal(bw_rollback_floor(region, sizeof region), 0x00030000u);
    region[16 + 9] ^= 0x10u;                /* the highest one damaged: it counts for nothing */
    assert_int_equal(bw_rollback_floor(region, sizeof region), 0x00020000u);
    /* a last partial record (not 16 bytes) is not read */
    put_record(region + 48, 0x00090000u);
    assert_int_equal(bw_rollback_floor(region, 48 + 15), 0x00020000u);
}

/* A torn program clears any subset of the bits the record clears: every
 * subset of each 32-bit word pair is too many, so each word's bits are cut
 * one at a time, in both orders, with the other words at every stage. */
static void torn_record_never_reads_as_another_value(void **state)
{
    const uint32_t before = 0x00010002u, writing = 0x00010003u;
    uint8_t record[BW_ROLLBACK_RECORD_SIZE];
    put_record(record, writing);
    for (unsigned stop = 0; stop <= 8u * BW_ROLLBACK_RECORD_SIZE; stop++) {
        for (int reverse = 0; reverse < 2; reverse++) {
            uint8_t region[2 * BW_ROLLBACK_RECORD_SIZE];
            memset(region, 0xFF, sizeof region);
            put_record(region, before);
            /* program bits in order (or reverse order) and stop after `stop` of them */
            unsigned done = 0;
            for (unsigned i = 0; i < 8u * BW_ROLLBACK_RECORD_SIZE && done < stop; i++) {
                unsigned bit = reverse ? 8u * BW_ROLLBACK_RECORD_SIZE - 1u - i : i;
                if (!(record[bit / 8] & (1u << (bit % 8)))) {
                    region[16 + bit / 8] &= (uint8_t)~(1u << (bit % 8));
                }
                done++;
            }
            uint32_t floor = bw_rollback_floor(region, sizeof region);
            assert_true(floor == before || floor == writing);
            if (stop == 8u * BW_ROLLBACK_RECORD_SIZE) {
                assert_int_equal(floor, writing);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(erased_is_zero),
        cmocka_unit_test(highest_whole_record_counts),
        cmocka_unit_test(torn_record_never_reads_as_another_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
