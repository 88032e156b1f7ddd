/*
 * Device identity record (bw_identity.h). Promises: the CRC is the standard
 * CRC-32; a record is accepted only with the right magic, version and CRC, and
 * erased flash reads as "not provisioned".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bw_bytes.h"
#include "bw_identity.h"


static void make_record(uint8_t record[BW_IDENTITY_RECORD_SIZE], uint32_t magic, uint32_t version)
{
    bw_put32(record, magic);
    bw_put32(record + 4, version);
    for (int i = 0; i < 16; i++) {
        record[8 + i] = (uint8_t)(0xA0 + i);
    }
    bw_put32(record + 24, bw_crc32(record, 24));
}

static void test_crc32_check_value(void **state)
{
    (void)state;
    assert_int_equal(bw_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
    assert_int_equal(bw_crc32(NULL, 0), 0u);
}

static void test_identity_record(void **state)
{
    (void)state;
    uint8_t record[BW_IDENTITY_RECORD_SIZE], identity[16];

    make_record(record, BW_IDENTITY_MAGIC, BW_IDENTITY_VERSION);
    memset(identity, 0, sizeof identity);
    assert_int_equal(bw_identity_parse(record, identity), BW_OK);
    assert_memory_equal(identity, record + 8, 16);

    make_record(record, BW_IDENTITY_MAGIC ^ 1u, BW_IDENTITY_VERSION);
    assert_int_equal(bw_identity_parse(record, identity), BW_E_IO);
    make_record(record, BW_IDENTITY_MAGIC, 2u);
    assert_int_equal(bw_identity_parse(record, identity), BW_E_IO);

    make_record(record, BW_IDENTITY_MAGIC, BW_IDENTITY_VERSION);
    record[12] ^= 0x01u;
    assert_int_equal(bw_identity_parse(record, identity), BW_E_IO);

    memset(record, 0xFF, sizeof record);   /* erased flash: not provisioned */
    assert_int_equal(bw_identity_parse(record, identity), BW_E_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_check_value),
        cmocka_unit_test(test_identity_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
