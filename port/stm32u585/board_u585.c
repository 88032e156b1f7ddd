/*
 * The STM32U585 bring-up (bw_board.h): TrustZone set-up, then the kernel's
 * time base (TIM2), console (USART1) and RNG, then a check of the flash
 * option bytes that split the flash between the worlds, and the flash
 * driver's binding to the chip (u585_flash.c, which also counts
 * bw_flash_stats_get in the core). Untested on hardware.
 *
 * What the app may touch afterwards:
 *   flash bank 1 0x08000000-0x080FFFFF (non-secure by the SECWM1 option
 *   bytes), app RAM 0x20000000-0x2007FFFF (SRAM1, SRAM2, lower half of SRAM3,
 *   made non-secure block by block in the MPCBBs), SRAM4 0x28000000-0x28003FFF,
 *   and the non-secure peripheral window 0x40000000-0x4FFFFFFF, where GTZC1
 *   TZSC leaves every peripheral reachable except the kernel's (USART1, TIM2,
 *   RNG, RAMCFG, the watchdogs), and every GPIO pin except the console's.
 * Everything else is the kernel's: flash bank 2, the upper half of SRAM3,
 * BKPSRAM, the system clock configuration (RCC_SECCFGR), and every reset
 * source: the watchdogs (TZSC), the low-power modes that end in a reset
 * (PWR_SECCFGR.LPMSEC: Standby, Shutdown), AIRCR.SYSRESETREQ (arch_init).
 *
 * Clocks stay as reset leaves them (MSIS 4 MHz, see board.h).
 */
#include <stdint.h>
#include <string.h>

#include "armv8m.h"
#include "board.h"
#include "bw_board.h"
#include "bw_log.h"
#include "bw_port.h"
#include "u585_console.h"
#include "u585_flash.h"
#include "u585_layout.h"
#include "u585_regs.h"
#include "u585_rng.h"
#include "u585_timebase.h"

#define RCC_REG(offset) U585_REG(BOARD_RCC + (offset))
#define NVIC_WORDS ((BOARD_IRQ_COUNT + 31u) / 32u)

static const bw_sau_region sau_regions[] = {
    { BOARD_APP_SLOT_BASE, BOARD_APP_SLOT_BASE + BOARD_APP_SLOT_SIZE - 1u, 0 },
    { BOARD_GATE_BASE, BOARD_GATE_BASE + BOARD_GATE_SIZE - 1u, 1 },
    { BOARD_APP_RAM_BASE, BOARD_APP_RAM_BASE + BOARD_APP_RAM_SIZE - 1u, 0 },
    { BOARD_APP_SRAM4_BASE, BOARD_APP_SRAM4_BASE + BOARD_APP_SRAM4_SIZE - 1u, 0 },
    { BOARD_PERIPHERALS_NS_BASE, BOARD_PERIPHERALS_NS_LIMIT, 0 },
};

/* Writes every MPCBB_SECCFGR word of one SRAM bank. */
static void mpcbb_program(uint32_t mpcbb, uint32_t bank_size, uint32_t ns_offset, uint32_t ns_size)
{
    for (uint32_t word = 0; word < u585_mpcbb_word_count(bank_size); word++) {
        U585_REG(mpcbb + MPCBB_SECCFGR(word)) = u585_mpcbb_seccfgr(ns_offset, ns_size, word);
    }
}

/* GPIO pins are all secure after reset (GPIOx_SECCFGR = 0xFFFF): give the app
 * every pin but the console's. A port's registers need its clock, so every
 * GPIO clock is on while this runs and is put back after. */
static void gpio_security_init(void)
{
    uint32_t enabled = RCC_REG(RCC_AHB2ENR1);
    RCC_REG(RCC_AHB2ENR1) = enabled | RCC_AHB2ENR1_GPIO_ALL;
    (void)RCC_REG(RCC_AHB2ENR1);
    for (uint32_t port = 0; port < BOARD_GPIO_PORT_COUNT; port++) {
        U585_REG(BOARD_GPIO_PORT(port) + GPIO_SECCFGR) = 0u;
    }
    U585_REG(BOARD_GPIOA + GPIO_SECCFGR) = (1u << BOARD_CONSOLE_TX_PIN) | (1u << BOARD_CONSOLE_RX_PIN);
    RCC_REG(RCC_AHB2ENR1) = (RCC_REG(RCC_AHB2ENR1) & ~RCC_AHB2ENR1_GPIO_ALL)
                          | (enabled & RCC_AHB2ENR1_GPIO_ALL);
}

static void security_init(void)
{
    RCC_REG(RCC_AHB1ENR) |= RCC_AHB1ENR_GTZC1EN;
    RCC_REG(RCC_AHB3ENR) |= RCC_AHB3ENR_GTZC2EN;
    (void)RCC_REG(RCC_AHB3ENR);

    /* Peripherals: the kernel's secure, all others non-secure. */
    U585_REG(BOARD_GTZC1_TZSC + TZSC_SECCFGR1) = U585_TZSC_SECCFGR1;
    U585_REG(BOARD_GTZC1_TZSC + TZSC_SECCFGR2) = U585_TZSC_SECCFGR2;
    U585_REG(BOARD_GTZC1_TZSC + TZSC_SECCFGR3) = U585_TZSC_SECCFGR3;

    /* SRAM: all blocks are secure after reset; open the app's. */
    mpcbb_program(BOARD_GTZC1_MPCBB1, BOARD_SRAM1_SIZE, 0u, BOARD_SRAM1_SIZE);
    mpcbb_program(BOARD_GTZC1_MPCBB2, BOARD_SRAM2_SIZE, 0u, BOARD_SRAM2_SIZE);
    mpcbb_program(BOARD_GTZC1_MPCBB3, BOARD_SRAM3_SIZE, 0u, BOARD_SRAM3_APP_SIZE);
    mpcbb_program(BOARD_GTZC2_MPCBB4, BOARD_SRAM4_SIZE, 0u, BOARD_SRAM4_SIZE);

    gpio_security_init();

    /* The system clock path is the kernel's; the app keeps the other oscillators. */
    RCC_REG(RCC_SECCFGR) = U585_RCC_SECCFGR;

    /* The low-power mode selection is the kernel's: waking from Standby or
     * Shutdown is a chip reset (u585_layout.h). PWR's registers need its clock. */
    RCC_REG(RCC_AHB3ENR) |= RCC_AHB3ENR_PWREN;
    (void)RCC_REG(RCC_AHB3ENR);
    U585_REG(BOARD_PWR + PWR_SECCFGR) = U585_PWR_SECCFGR;

    for (uint32_t word = 0; word < NVIC_WORDS; word++) {
        NVIC_ITNS(word) = u585_itns_word(word);
    }
}

static const struct {
    uint32_t finding;
    const char *text;
} option_findings[] = {
    { U585_OPTION_TZ_DISABLED, "TZEN is 0: TrustZone is off" },
    { U585_OPTION_BANKS_SWAPPED, "SWAP_BANK is 1: the banks trade addresses" },
    { U585_OPTION_APP_BANK_SECURE, "SECWM1 makes app flash (bank 1) pages secure" },
    { U585_OPTION_KERNEL_BANK_OPEN, "SECWM2 leaves kernel flash (bank 2) pages non-secure" },
    { U585_OPTION_BOOT_ADDRESS, "SECBOOTADD0 is not the boot stub at 0x0C100000" },
    { U585_OPTION_SRAM_ERASED, "SRAM_RST is 0: a reset erases kernel RAM, so a reset while the app "
                               "runs is not counted as its crash" },
};

/* The flash split is option bytes written at provisioning (README.md): the
 * kernel cannot fix them at run time, only report a mismatch. */
static void option_bytes_check(void)
{
    u585_option_bytes options = {
        .optr = U585_REG(BOARD_FLASH_REGS + FLASH_OPTR),
        .secbootadd0r = U585_REG(BOARD_FLASH_REGS + FLASH_SECBOOTADD0R),
        .secwm1r1 = U585_REG(BOARD_FLASH_REGS + FLASH_SECWM1R1),
        .secwm2r1 = U585_REG(BOARD_FLASH_REGS + FLASH_SECWM2R1),
    };
    uint32_t findings = u585_option_bytes_check(&options);
    if (findings == 0u) {
        return;
    }
    bw_log("warning: flash option bytes do not match the memory map "
           "(OPTR=0x%08x SECBOOTADD0R=0x%08x SECWM1R1=0x%08x SECWM2R1=0x%08x)",
           (unsigned)options.optr, (unsigned)options.secbootadd0r,
           (unsigned)options.secwm1r1, (unsigned)options.secwm2r1);
    for (size_t i = 0; i < sizeof option_findings / sizeof option_findings[0]; i++) {
        if (findings & option_findings[i].finding) {
            bw_log("warning: %s", option_findings[i].text);
        }
    }
}

/* The flash driver's way to the chip: plain loads and stores (registers and
 * flash are both memory-mapped), the kernel's time base, PRIMASK. */
static uint32_t flash_read32(uint32_t address)
{
    return U585_REG(address);
}

static void flash_write32(uint32_t address, uint32_t value)
{
    U585_REG(address) = value;
}

static void flash_read(uint32_t address, void *buf, uint32_t len)
{
    memcpy(buf, (const void *)(uintptr_t)address, len);
}

static const u585_flash_io flash_mmio = {
    .read32 = flash_read32,
    .write32 = flash_write32,
    .read = flash_read,
    .now_us = u585_timebase_us,
    .irq_lock = port_irq_lock,
    .irq_unlock = port_irq_unlock,
};

void board_init(void)
{
    security_init();
    u585_timebase_init();
    u585_console_init();
    if (u585_rng_init() != BW_OK) {
        bw_log("warning: the RNG did not start: entropy is unavailable");
    }
    option_bytes_check();
    uint32_t findings;
    if (u585_flash_init(&flash_mmio, &findings) != BW_OK) {
        bw_log("warning: flash: the option bytes break the flash map: no flash partitions "
               "(crash records stay in RAM)");
    }
}

const bw_sau_region *board_sau_regions(size_t *count)
{
    *count = sizeof sau_regions / sizeof sau_regions[0];
    return sau_regions;
}

uint32_t board_app_vector_table(void)
{
    return BOARD_APP_SLOT_BASE;
}

void board_irq(uint32_t irqn)
{
    if (irqn == BOARD_IRQ_KERNEL_TIMER) {
        u585_timebase_irq();
        return;
    }
    NVIC_ICER(irqn / 32u) = 1u << (irqn % 32u);   /* unexpected: silence it */
}



/* The IWDG as the secure watchdog (made secure in GTZC1 TZSC): it resets the
 * chip when not reloaded in time; there is no NMI stage on this chip. Once
 * started it cannot be stopped, as a watchdog should. */
void board_watchdog_start(uint32_t timeout_ms)
{
    uint32_t counts = BOARD_LSI_HZ / 32u * timeout_ms / 1000u;
    U585_REG(BOARD_IWDG + IWDG_KR) = IWDG_KR_START;
    U585_REG(BOARD_IWDG + IWDG_KR) = IWDG_KR_UNLOCK;
    U585_REG(BOARD_IWDG + IWDG_PR) = IWDG_PR_DIV32;
    U585_REG(BOARD_IWDG + IWDG_RLR) = counts == 0 ? 1u : counts > IWDG_RLR_MAX ? IWDG_RLR_MAX : counts - 1u;
    for (uint32_t spins = 0; spins < 100000u && (U585_REG(BOARD_IWDG + IWDG_SR) & IWDG_SR_UPDATING); spins++) {
    }
    U585_REG(BOARD_IWDG + IWDG_KR) = IWDG_KR_RELOAD;
}

bool board_nmi(void)
{
    return u585_flash_ecc_nmi();
}

void board_watchdog_feed(void)
{
    U585_REG(BOARD_IWDG + IWDG_KR) = IWDG_KR_RELOAD;
}

/* No-op on hardware: there is no emulator to end, and the tests that call it
 * run on qemu-an505 only. Returns so a caller goes on as without a test. */
void board_test_exit(uint32_t code)
{
    (void)code;
}

/* ---- the modem link (bw_board.h) ----
 * TODO: a UART for local delivery (with its receive interrupt feeding a
 * bounded queue, as port/qemu-an505/serial_links.c does). Until then the
 * board has no link: nothing is received, sends are dropped. */
void board_link_start(void)
{
}

size_t board_link_read(uint8_t *buf, size_t len)
{
    (void)buf;
    (void)len;
    return 0;
}

void board_link_write(const uint8_t *data, size_t len)
{
    (void)data;
    (void)len;
}

uint32_t board_link_rx_dropped(void)
{
    return 0;
}

/* ---- the modem (bw_board.h) ----
 * This board has no modem driver yet: nothing is received, writes take no
 * byte, so the modem driver (kernel/net/bw_modem.c) never gets past AT and
 * reports the modem down. */
void board_modem_start(void)
{
}

size_t board_modem_read(uint8_t *buf, size_t len)
{
    (void)buf;
    (void)len;
    return 0;
}

size_t board_modem_write(const uint8_t *data, size_t len)
{
    (void)data;
    (void)len;
    return 0;
}

uint32_t board_modem_rx_dropped(void)
{
    return 0;
}
