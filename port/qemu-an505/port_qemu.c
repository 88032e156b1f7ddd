/*
 * The port contract (kernel/core/include/bw_port.h) for QEMU mps2-an505.
 * App memory checks combine the board's map (what the app owns) with the
 * TrustZone test-target instruction (what the app can reach right now,
 * including its own MPU), so the kernel only touches memory the app could.
 */
#include <stdint.h>

#include "armv8m.h"
#include "armv8m_port.h"
#include "board.h"
#include "bw_identity.h"
#include "bw_port.h"
#include "cmsdk_uart.h"
#include "semihosting.h"

uint64_t board_ticks(void);
bool board_irq_is_kernel(uint32_t irqn);

#define REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define TICKS_PER_US (BOARD_SYSCLK_HZ / 1000000u)

uint64_t port_time_us(void)
{
    return board_ticks() / TICKS_PER_US;
}

uint32_t port_clock_hz(bw_clock clock)
{
    (void)clock;   /* the an505 runs every bus from the one 20 MHz system clock */
    return BOARD_SYSCLK_HZ;
}

bw_err port_entropy(void *buf, size_t len)
{
    return semihosting_entropy(buf, len) == 0 ? BW_OK : BW_E_IO;
}



static bool within(uintptr_t addr, size_t len, uint32_t base, uint32_t size)
{
    return addr >= base && len <= size && addr - base <= size - len;
}

bool port_app_range_ok(uintptr_t addr, size_t len, bw_access access)
{
    bool in_ram = within(addr, len, BOARD_APP_RAM_BASE, BOARD_APP_RAM_SIZE);
    bool in_flash = within(addr, len, BOARD_APP_SLOT_BASE, BOARD_APP_SLOT_SIZE);
    if (!(in_ram || (access == BW_ACCESS_READ && in_flash))) {
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
    return irqn < BOARD_IRQ_COUNT && !board_irq_is_kernel(irqn);
}



/* LEDs and switches on the FPGA I/O block: the kernel keeps LED 0 as the
 * system LED, the app drives LED 1 and reads the buttons and counters. */
static const bw_mediated_reg mediated_regs[] = {
    { BOARD_FPGAIO_APP + 0x00u, 0x3u, 0x2u },          /* LED: bit 1 is the app's */
    { BOARD_FPGAIO_APP + 0x08u, 0x3u, 0x0u },          /* BUTTON */
    { BOARD_FPGAIO_APP + 0x10u, 0xFFFFFFFFu, 0x0u },   /* CLK1HZ */
    { BOARD_FPGAIO_APP + 0x14u, 0xFFFFFFFFu, 0x0u },   /* CLK100HZ */
    { BOARD_FPGAIO_APP + 0x18u, 0xFFFFFFFFu, 0x0u },   /* COUNTER */
};

const bw_mediated_reg *port_mediated_regs(size_t *count)
{
    *count = sizeof mediated_regs / sizeof mediated_regs[0];
    return mediated_regs;
}

static uint32_t mediated_secure_address(uint32_t app_address)
{
    return app_address - BOARD_FPGAIO_APP + BOARD_FPGAIO;
}

uint32_t port_mediated_read(uint32_t app_address)
{
    return REG(mediated_secure_address(app_address));
}

void port_mediated_write(uint32_t app_address, uint32_t value)
{
    REG(mediated_secure_address(app_address)) = value;
}

void port_console_write(const char *text, size_t len)
{
    cmsdk_uart_write(BOARD_CONSOLE_UART, text, len);
}

/* The identity record sits at the start of the last flash sector (secure). */
bw_err port_device_identity(uint8_t identity[16])
{
    const volatile uint8_t *flash = (const volatile uint8_t *)(uintptr_t)BOARD_IDENTITY_BASE;
    uint8_t record[BW_IDENTITY_RECORD_SIZE];
    for (size_t i = 0; i < sizeof record; i++) {
        record[i] = flash[i];
    }
    return bw_identity_parse(record, identity);
}
