/*
 * bw_app_mem: the kernel touches app memory only after checking the whole range.
 * Promises checked:
 *  - NULL is a fault for any length; length 0 at a non-NULL address is allowed
 *    and the port is not even asked;
 *  - a range that wraps past (or ends exactly at) the top of the address space
 *    is a fault, decided before the port is asked;
 *  - a range partly outside app memory, or spanning two app regions, is a fault;
 *  - read-only app memory may be read but never written;
 *  - memory the app does not own (kernel memory) is a fault;
 *  - copies work at any alignment and touch exactly the bytes asked for;
 *  - a failed copy touches nothing, on either side.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "bw_app_mem.h"
#include "test_support.h"

static void null_is_a_fault_for_any_length(void **state)
{
    (void)state;
    assert_int_equal(bw_app_check_range(0, 0, BW_ACCESS_READ), BW_E_FAULT);
    assert_int_equal(bw_app_check_range(0, 1, BW_ACCESS_READ), BW_E_FAULT);
    assert_int_equal(bw_app_check_range(0, 4, BW_ACCESS_READWRITE), BW_E_FAULT);
    uint8_t sink[4] = { 1, 2, 3, 4 };
    assert_int_equal(bw_app_copy_in(sink, 0, sizeof sink), BW_E_FAULT);
    assert_int_equal(bw_app_copy_out(0, sink, sizeof sink), BW_E_FAULT);
    assert_int_equal(bw_app_zero(0, 0), BW_E_FAULT);
    assert_int_equal(sink[0], 1);
}

static void zero_length_is_allowed_without_asking_the_port(void **state)
{
    (void)state;
    /* Even an address outside app memory: nothing will be touched. */
    assert_int_equal(bw_app_check_range(addr_of(kernel_ram), 0, BW_ACCESS_READWRITE), BW_OK);
    assert_int_equal(bw_app_check_range(addr_of(app_ram), 0, BW_ACCESS_READ), BW_OK);
    assert_int_equal(bw_app_copy_out(addr_of(kernel_ram), "x", 0), BW_OK);
    assert_int_equal(kernel_ram[0], 0xC3);
    assert_int_equal(port_host_contract_violations(), 0);
}

static void wrap_at_the_top_of_the_address_space_is_a_fault(void **state)
{
    (void)state;
    /* A fake region at the very top: the port would accept ranges inside it. */
    assert_true(port_host_add_app_region((const void *)(UINTPTR_MAX - 63), 32, true));
    assert_int_equal(bw_app_check_range(UINTPTR_MAX - 63, 32, BW_ACCESS_READ), BW_OK);

    assert_int_equal(bw_app_check_range(UINTPTR_MAX - 3, 8, BW_ACCESS_READ), BW_E_FAULT);
    assert_int_equal(bw_app_check_range(UINTPTR_MAX, 2, BW_ACCESS_READ), BW_E_FAULT);
    /* Ends exactly at 2^N: its end address is not representable. */
    assert_int_equal(bw_app_check_range(UINTPTR_MAX - 3, 4, BW_ACCESS_READ), BW_E_FAULT);
    assert_int_equal(bw_app_check_range(addr_of(app_ram), SIZE_MAX, BW_ACCESS_READ), BW_E_FAULT);
    assert_int_equal(bw_app_check_range(1, SIZE_MAX, BW_ACCESS_READ), BW_E_FAULT);
    /* Not even the last byte alone: its end address is not representable either. */
    assert_int_equal(bw_app_check_range(UINTPTR_MAX, 1, BW_ACCESS_READ), BW_E_FAULT);
    /* None of these reached the port as a wrapping range. */
    assert_int_equal(port_host_contract_violations(), 0);
}

static void range_partly_outside_a_region_is_a_fault(void **state)
{
    (void)state;
    /* Only app_ram: the linker may have put another test region right next to it. */
    port_host_clear_app_regions();
    assert_true(port_host_add_app_region(app_ram, APP_RAM_SIZE, true));
    uintptr_t base = addr_of(app_ram);
    assert_int_equal(bw_app_check_range(base, APP_RAM_SIZE, BW_ACCESS_READWRITE), BW_OK);
    assert_int_equal(bw_app_check_range(base + APP_RAM_SIZE - 1, 1, BW_ACCESS_READWRITE), BW_OK);
    assert_int_equal(bw_app_check_range(base, APP_RAM_SIZE + 1, BW_ACCESS_READ), BW_E_FAULT);
    assert_int_equal(bw_app_check_range(base + APP_RAM_SIZE - 4, 8, BW_ACCESS_READ), BW_E_FAULT);
    assert_int_equal(bw_app_check_range(base - 1, 4, BW_ACCESS_READ), BW_E_FAULT);
    assert_int_equal(bw_app_check_range(base + APP_RAM_SIZE, 1, BW_ACCESS_READ), BW_E_FAULT);
}

static void range_spanning_two_regions_is_a_fault(void **state)
{
    (void)state;
    static uint8_t two[64];
    port_host_clear_app_regions();
    assert_true(port_host_add_app_region(two, 32, true));
    assert_true(port_host_add_app_region(two + 32, 32, true));
    assert_int_equal(bw_app_check_range(addr_of(two) + 28, 4, BW_ACCESS_READ), BW_OK);
    assert_int_equal(bw_app_check_range(addr_of(two) + 32, 4, BW_ACCESS_READ), BW_OK);
    assert_int_equal(bw_app_check_range(addr_of(two) + 28, 8, BW_ACCESS_READ), BW_E_FAULT);
    assert_int_equal(bw_app_check_range(addr_of(two), 64, BW_ACCESS_READ), BW_E_FAULT);
}

static void read_only_memory_is_never_written(void **state)
{
    (void)state;
    uintptr_t flash = addr_of(app_flash);
    assert_int_equal(bw_app_check_range(flash, APP_FLASH_SIZE, BW_ACCESS_READ), BW_OK);
    assert_int_equal(bw_app_check_range(flash, 1, BW_ACCESS_READWRITE), BW_E_FAULT);

    const uint8_t data[3] = { 1, 2, 3 };
    assert_int_equal(bw_app_copy_out(flash + 5, data, sizeof data), BW_E_FAULT);
    assert_int_equal(bw_app_zero(flash, 16), BW_E_FAULT);
    for (size_t i = 0; i < APP_FLASH_SIZE; i++) {
        assert_int_equal(app_flash[i], 0x5A);
    }

    uint8_t copy[3] = { 0 };
    assert_int_equal(bw_app_copy_in(copy, flash + 7, sizeof copy), BW_OK);
    assert_int_equal(copy[0], 0x5A);
}

static void kernel_memory_is_a_fault(void **state)
{
    (void)state;
    uint8_t copy[8];
    memset(copy, 0x11, sizeof copy);
    assert_int_equal(bw_app_copy_in(copy, addr_of(kernel_ram), sizeof copy), BW_E_FAULT);
    assert_int_equal(copy[0], 0x11);
    assert_int_equal(bw_app_copy_out(addr_of(kernel_ram), copy, sizeof copy), BW_E_FAULT);
    assert_int_equal(kernel_ram[0], 0xC3);
}

static void unaligned_copies_move_exactly_the_bytes_asked(void **state)
{
    (void)state;
    uint8_t pattern[13];
    for (size_t i = 0; i < sizeof pattern; i++) {
        pattern[i] = (uint8_t)(0x10 + i);
    }
    for (size_t offset = 0; offset < 8; offset++) {
        memset(app_ram, 0xA5, 64);
        assert_int_equal(bw_app_copy_out(addr_of(app_ram) + 3 + offset, pattern, sizeof pattern), BW_OK);
        for (size_t i = 0; i < 64; i++) {
            bool inside = i >= 3 + offset && i < 3 + offset + sizeof pattern;
            assert_int_equal(app_ram[i], inside ? pattern[i - 3 - offset] : 0xA5);
        }
        uint8_t back[sizeof pattern + 2];
        memset(back, 0xEE, sizeof back);
        assert_int_equal(bw_app_copy_in(back + 1, addr_of(app_ram) + 3 + offset, sizeof pattern), BW_OK);
        assert_int_equal(back[0], 0xEE);
        assert_memory_equal(back + 1, pattern, sizeof pattern);
        assert_int_equal(back[sizeof back - 1], 0xEE);
    }
    /* A uint64_t to an odd app address arrives intact. */
    uint64_t value = 0x0123456789ABCDEFull;
    assert_int_equal(bw_app_copy_out(addr_of(app_ram) + 101, &value, sizeof value), BW_OK);
    uint64_t read_back = 0;
    memcpy(&read_back, app_ram + 101, sizeof read_back);
    assert_true(read_back == value);
}

static void failed_copy_touches_nothing(void **state)
{
    (void)state;
    /* Straddles the end of app_ram: the part inside must stay untouched. */
    uint8_t data[16];
    memset(data, 0x77, sizeof data);
    uintptr_t straddle = addr_of(app_ram) + APP_RAM_SIZE - 8;
    assert_int_equal(bw_app_copy_out(straddle, data, sizeof data), BW_E_FAULT);
    for (size_t i = APP_RAM_SIZE - 8; i < APP_RAM_SIZE; i++) {
        assert_int_equal(app_ram[i], 0xA5);
    }
    assert_int_equal(bw_app_zero(straddle, sizeof data), BW_E_FAULT);
    assert_int_equal(app_ram[APP_RAM_SIZE - 1], 0xA5);

    uint8_t into[16];
    memset(into, 0x33, sizeof into);
    assert_int_equal(bw_app_copy_in(into, straddle, sizeof into), BW_E_FAULT);
    for (size_t i = 0; i < sizeof into; i++) {
        assert_int_equal(into[i], 0x33);
    }
}

static void zero_clears_exactly_the_range(void **state)
{
    (void)state;
    assert_int_equal(bw_app_zero(addr_of(app_ram) + 1, 30), BW_OK);
    assert_int_equal(app_ram[0], 0xA5);
    for (size_t i = 1; i <= 30; i++) {
        assert_int_equal(app_ram[i], 0);
    }
    assert_int_equal(app_ram[31], 0xA5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(null_is_a_fault_for_any_length, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(zero_length_is_allowed_without_asking_the_port, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(wrap_at_the_top_of_the_address_space_is_a_fault, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(range_partly_outside_a_region_is_a_fault, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(range_spanning_two_regions_is_a_fault, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(read_only_memory_is_never_written, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(kernel_memory_is_a_fault, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(unaligned_copies_move_exactly_the_bytes_asked, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(failed_copy_touches_nothing, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(zero_clears_exactly_the_range, test_setup, test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
