/*
 * Shared by the unit tests: the fake board's app memory and the checks every
 * test ends with. Header-only (static inline), included after cmocka.h.
 *
 * App memory layout registered by test_support_reset():
 *   app_ram    APP_RAM_SIZE bytes, read-write, 512-aligned;
 *   app_flash  APP_FLASH_SIZE bytes, read-only;
 *   kernel_ram  never registered: stands for secure memory.
 */
#ifndef TEST_SUPPORT_H
#define TEST_SUPPORT_H

#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "bw_kernel.h"
#include "port_host.h"

#define APP_RAM_SIZE 16384u
#define APP_FLASH_SIZE 2048u
#define KERNEL_RAM_SIZE 2048u

static alignas(512) uint8_t app_ram[APP_RAM_SIZE];
static alignas(512) uint8_t app_flash[APP_FLASH_SIZE];
static alignas(512) uint8_t kernel_ram[KERNEL_RAM_SIZE];

/* Fresh board, fresh kernel, app memory registered and filled with patterns,
 * console cleared (kernel start-up lines are not part of any test). */
static inline void test_support_reset(void)
{
    port_host_reset();
    memset(app_ram, 0xA5, sizeof app_ram);
    memset(app_flash, 0x5A, sizeof app_flash);
    memset(kernel_ram, 0xC3, sizeof kernel_ram);
    assert_true(port_host_add_app_region(app_ram, sizeof app_ram, true));
    assert_true(port_host_add_app_region(app_flash, sizeof app_flash, false));
    assert_int_equal(bw_kernel_init(), BW_OK);
    port_host_console_clear();
}

/* The promises every test checks at its end: the IRQ lock was never nested
 * and is released, and the core never broke the port's preconditions. */
static inline void test_support_check_port_use(void)
{
    assert_int_equal(port_host_lock_depth(), 0);
    assert_true(port_host_lock_max_depth() <= 1);
    assert_false(port_host_lock_misused());
    assert_int_equal(port_host_contract_violations(), 0);
}

static inline int test_setup(void **state)
{
    (void)state;
    test_support_reset();
    return 0;
}

static inline int test_teardown(void **state)
{
    (void)state;
    test_support_check_port_use();
    return 0;
}

static inline uintptr_t addr_of(const void *p)
{
    return (uintptr_t)p;
}

#endif
