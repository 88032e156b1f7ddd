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

/* What the board is at an address, for crash classification: the kernel's
 * peripherals (either alias), and what the MPCs and PPCs keep from the app
 * without being the kernel's (the MHUs, SSRAM outside app RAM). */
typedef struct address_range {
    uint32_t base;
    uint32_t size;
    bw_address_kind kind;
} address_range;

static const address_range address_map[] = {
    { 0x40001000u, 0x1000u, BW_ADDRESS_KERNEL_PERIPHERAL },   /* TIMER1: time base */
    { 0x50001000u, 0x1000u, BW_ADDRESS_KERNEL_PERIPHERAL },
    { 0x4002E000u, 0x2000u, BW_ADDRESS_KERNEL_PERIPHERAL },   /* S32K watchdog, S32K timer */
    { 0x5002E000u, 0x2000u, BW_ADDRESS_KERNEL_PERIPHERAL },
    { 0x50080000u, 0x2000u, BW_ADDRESS_KERNEL_PERIPHERAL },   /* security controller, secure watchdog */
    { BOARD_NS_WATCHDOG, 0x1000u, BW_ADDRESS_KERNEL_PERIPHERAL },   /* NS watchdog: a reset source */
    { 0x50020000u, 0x2000u, BW_ADDRESS_KERNEL_PERIPHERAL },   /* system information and control */
    { 0x40201000u, 0x2000u, BW_ADDRESS_KERNEL_PERIPHERAL },   /* UART1 console, UART2 modem */
    { 0x50201000u, 0x2000u, BW_ADDRESS_KERNEL_PERIPHERAL },
    { 0x40300000u, 0x1000u, BW_ADDRESS_KERNEL_PERIPHERAL },   /* SCC */
    { 0x50300000u, 0x1000u, BW_ADDRESS_KERNEL_PERIPHERAL },
    { 0x40302000u, 0x1000u, BW_ADDRESS_KERNEL_PERIPHERAL },   /* FPGAIO (mediated) */
    { 0x50302000u, 0x1000u, BW_ADDRESS_KERNEL_PERIPHERAL },
    { 0x58007000u, 0x3000u, BW_ADDRESS_KERNEL_PERIPHERAL },   /* the SSRAM MPCs */
    { 0x40003000u, 0x2000u, BW_ADDRESS_PROTECTED },           /* MHU0, MHU1: PPC, nobody's */
    { 0x00000000u, 0x400000u, BW_ADDRESS_PROTECTED },         /* SSRAM1 (MPC) */
    { 0x28000000u, 0x200000u, BW_ADDRESS_PROTECTED },         /* SSRAM2 (MPC) */
    { BOARD_APP_RAM_BASE + BOARD_APP_RAM_SIZE, 0x28400000u - (BOARD_APP_RAM_BASE + BOARD_APP_RAM_SIZE),
      BW_ADDRESS_PROTECTED },                                 /* SSRAM3 past app RAM (MPC) */
};

bw_address_kind port_address_kind(uint32_t address)
{
    for (size_t i = 0; i < sizeof address_map / sizeof address_map[0]; i++) {
        if (address - address_map[i].base < address_map[i].size) {
            return address_map[i].kind;
        }
    }
    return BW_ADDRESS_UNKNOWN;
}

void port_console_write(const char *text, size_t len)
{
    cmsdk_uart_write(BOARD_CONSOLE_UART, text, len);
}

