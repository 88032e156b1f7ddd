/*
 * The port contract (kernel/core/include/bw_port.h) for the STM32U585.
 * Untested on hardware.
 *
 * App memory checks combine the board's map (what the app owns:
 * u585_app_range_in_map) with the TrustZone test-target instruction (what
 * the app can reach right now, including its own MPU), so the kernel only
 * touches memory the app could. Mediated registers are the app's RCC clock
 * enables, reached through RCC's secure alias and masked to the app's bits.
 * The flash partitions (port_flash_partition) live with the flash driver,
 * u585_flash.c.
 */
#include <stdint.h>

#include "armv8m.h"
#include "armv8m_port.h"
#include "board.h"
#include "bw_identity.h"
#include "bw_port.h"
#include "u585_console.h"
#include "u585_layout.h"
#include "u585_regs.h"
#include "u585_rng.h"
#include "u585_timebase.h"

uint64_t port_time_us(void)
{
    return u585_timebase_us();
}

uint32_t port_clock_hz(bw_clock clock)
{
    switch (clock) {
    case BW_CLOCK_SYSCLK:
        return BOARD_SYSCLK_HZ;
    case BW_CLOCK_HCLK:
        return BOARD_HCLK_HZ;
    case BW_CLOCK_PCLK1:
        return BOARD_PCLK1_HZ;
    case BW_CLOCK_PCLK2:
        return BOARD_PCLK2_HZ;
    }
    return 0u;
}

bw_err port_entropy(void *buf, size_t len)
{
    return u585_rng_read(buf, len);
}



bool port_app_range_ok(uintptr_t addr, size_t len, bw_access access)
{
    if (!u585_app_range_in_map(addr, len, access)) {
        return false;
    }
    return armv8m_app_access_ok(addr, len, access);
}

uint32_t port_irq_count(void)
{
    return BOARD_IRQ_COUNT;
}

bool port_irq_is_app(uint32_t irqn)
{
    return irqn < BOARD_IRQ_COUNT && !u585_irq_is_kernel(irqn);
}



const bw_mediated_reg *port_mediated_regs(size_t *count)
{
    return u585_mediated_regs(count);
}

/* The secure alias of a mediated register, or 0 when the table has no such
 * register (the core checks first; this keeps the port safe on its own). */
static uint32_t mediated_secure_address(uint32_t app_address)
{
    size_t count;
    const bw_mediated_reg *table = u585_mediated_regs(&count);
    for (size_t i = 0; i < count; i++) {
        if (table[i].app_address == app_address) {
            return u585_secure_alias(app_address);
        }
    }
    return 0u;
}

uint32_t port_mediated_read(uint32_t app_address)
{
    uint32_t address = mediated_secure_address(app_address);
    return address != 0u ? U585_REG(address) : 0u;
}

void port_mediated_write(uint32_t app_address, uint32_t value)
{
    uint32_t address = mediated_secure_address(app_address);
    if (address != 0u) {
        U585_REG(address) = value;
    }
}

void port_console_write(const char *text, size_t len)
{
    u585_console_write(text, len);
}

/* The kernel's peripherals (non-secure addresses; their secure aliases are
 * BOARD_SECURE_ALIAS_OFFSET higher), for crash classification. */
static const struct {
    uint32_t base;
    uint32_t size;
} kernel_peripherals[] = {
    { 0x40000000u, 0x400u },    /* TIM2: time base */
    { 0x40002C00u, 0x800u },    /* WWDG, IWDG */
    { 0x40013800u, 0x400u },    /* USART1: console */
    { 0x40022000u, 0x400u },    /* FLASH interface */
    { 0x40026000u, 0x400u },    /* RAMCFG */
    { 0x40032400u, 0x1400u },   /* GTZC1: TZSC, TZIC, MPCBB1-3 */
    { 0x420C0800u, 0x400u },    /* RNG */
    { 0x46023000u, 0xC00u },    /* GTZC2: TZSC, TZIC, MPCBB4 */
};

bw_address_kind port_address_kind(uint32_t address)
{
    uint32_t ns = address >= 0x50000000u && address < 0x60000000u ? address - BOARD_SECURE_ALIAS_OFFSET
                                                                 : address;
    for (size_t i = 0; i < sizeof kernel_peripherals / sizeof kernel_peripherals[0]; i++) {
        if (ns - kernel_peripherals[i].base < kernel_peripherals[i].size) {
            return BW_ADDRESS_KERNEL_PERIPHERAL;
        }
    }
    return BW_ADDRESS_UNKNOWN;
}

