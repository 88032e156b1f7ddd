/*
 * The STM32U585 port's pure decisions (port/stm32u585/u585_layout.c), on the host.
 * Promises checked:
 *  - the memory map in board.h adds up: app RAM is SRAM1 + SRAM2 + the lower
 *    half of SRAM3 (512 KiB), plus SRAM4 makes 528 KiB; kernel RAM is the
 *    upper half of SRAM3; boot stub, kernel slot, update journal, crash log
 *    and identity page fill bank 2, and the kernel slot still holds a kernel;
 *  - the console divider gives 115200 baud within 1 % at the reset clock (and
 *    at 160 MHz), and out-of-range requests give 0, never a bad divider;
 *  - the time-base prescaler divides exactly or reports that it cannot;
 *  - the MPCBB words open exactly the app's 512-byte blocks: all of SRAM1,
 *    SRAM2 and SRAM4, the lower half of SRAM3, and never a partly-app block;
 *  - NVIC_ITNS routes every line to the app but the kernel's, and no line
 *    beyond the 126 the chip has;
 *  - the mediated RCC registers are the app's names for them, and their masks
 *    hold every app clock enable and none of the kernel's nor a reserved bit;
 *  - the map check admits app RAM and SRAM4 for writes, app flash for reads
 *    only, and nothing straddling, secure, empty or wrapping;
 *  - the option-byte check passes the provisioned values and names each way
 *    they can be wrong;
 *  - the identity record is accepted only with the right magic, version and
 *    CRC-32;
 *  - the flash driver's arithmetic: an array offset names the right bank
 *    (bank 1 below 1 MiB, SWAP_BANK = 0), page, alias and register trio
 *    (non-secure for bank 1, secure for bank 2), at every bank and page
 *    boundary and past the end; erase control values carry PER, PNB and BKER
 *    exactly; every FLASH register bit has its RM0456 value; the error mask
 *    holds the six error flags and nothing else; and only option-byte
 *    findings that break the flash map stop the driver.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "board.h"
#include "u585_layout.h"
#include "u585_regs.h"

/* ---- the memory map ---- */

static void test_memory_map_adds_up(void **state)
{
    (void)state;
    assert_int_equal(BOARD_APP_RAM_SIZE, BOARD_SRAM1_SIZE + BOARD_SRAM2_SIZE + BOARD_SRAM3_APP_SIZE);
    assert_int_equal(BOARD_APP_RAM_SIZE, 512u * 1024u);
    assert_int_equal(BOARD_APP_RAM_SIZE + BOARD_APP_SRAM4_SIZE, 528u * 1024u);
    assert_int_equal(BOARD_SRAM3_APP_SIZE * 2u, BOARD_SRAM3_SIZE);

    uint32_t sram3_ns = BOARD_APP_RAM_BASE + BOARD_SRAM1_SIZE + BOARD_SRAM2_SIZE;
    assert_int_equal(sram3_ns, 0x20040000u);
    assert_int_equal(BOARD_KERNEL_RAM_BASE, sram3_ns + BOARD_SRAM3_APP_SIZE + BOARD_SECURE_ALIAS_OFFSET);
    assert_int_equal(BOARD_KERNEL_RAM_SIZE + BOARD_BOOT_RAM_SIZE, BOARD_SRAM3_SIZE - BOARD_SRAM3_APP_SIZE);
    assert_int_equal(BOARD_BOOT_RAM_BASE, BOARD_KERNEL_RAM_BASE + BOARD_KERNEL_RAM_SIZE);

    assert_int_equal(BOARD_APP_SLOT_BASE + BOARD_FLASH_SECURE_ALIAS_OFFSET, BOARD_FLASH_BASE);
    assert_int_equal(BOARD_BOOT_ROM_BASE, BOARD_FLASH_BASE + BOARD_FLASH_BANK_SIZE);
    assert_int_equal(BOARD_KERNEL_SLOT_BASE, BOARD_BOOT_ROM_BASE + BOARD_BOOT_ROM_SIZE);
    assert_int_equal(BOARD_KERNEL_SLOT_BASE + BOARD_KERNEL_SLOT_SIZE, 0x0C1E0000u);
    /* the kernel seal (docs/SPEC.md §19): one page right after the slot, then the credentials */
    assert_int_equal(BOARD_KERNEL_SEAL_BASE, BOARD_KERNEL_SLOT_BASE + BOARD_KERNEL_SLOT_SIZE);
    assert_int_equal(BOARD_KERNEL_SEAL_SIZE, 8u * 1024u);
    assert_int_equal(BOARD_FLASH_BASE + BOARD_PART_CREDENTIALS_OFFSET,
                     BOARD_KERNEL_SEAL_BASE + BOARD_KERNEL_SEAL_SIZE);
    assert_int_equal(BOARD_PART_CREDENTIALS_OFFSET + BOARD_PART_CREDENTIALS_SIZE,
                     BOARD_PART_UPDATE_STATE_OFFSET);
    assert_true(BOARD_KERNEL_SLOT_SIZE >= 512u * 1024u);   /* room for a kernel many times today's */
    assert_int_equal(BOARD_FLASH_BASE + BOARD_PART_UPDATE_STATE_OFFSET, 0x0C1E6000u);
    assert_int_equal(BOARD_PART_UPDATE_STATE_SIZE, 32u * 1024u);
    assert_int_equal(BOARD_PART_CRASH_LOG_OFFSET,
                     BOARD_PART_UPDATE_STATE_OFFSET + BOARD_PART_UPDATE_STATE_SIZE);
    assert_int_equal(BOARD_PART_CRASH_LOG_SIZE, 56u * 1024u);
    assert_int_equal(BOARD_FLASH_BASE + BOARD_PART_CRASH_LOG_OFFSET + BOARD_PART_CRASH_LOG_SIZE,
                     BOARD_IDENTITY_BASE);
    assert_int_equal(BOARD_IDENTITY_BASE + BOARD_IDENTITY_SIZE, BOARD_GATE_BASE);
    /* The gate: the original Microvisor's addresses, alone in the last page. */
    assert_int_equal(BOARD_GATE_BASE, 0x0C1FE000u);
    assert_int_equal(BOARD_GATE_BASE, BOARD_FLASH_BASE + BOARD_FLASH_SIZE - BOARD_FLASH_PAGE_SIZE);
    assert_int_equal(BOARD_PART_APP_SLOT_OFFSET, 0u);
    assert_int_equal(BOARD_PART_APP_SLOT_SIZE, BOARD_APP_SLOT_SIZE);
    assert_int_equal(BOARD_FLASH_SECTOR_SIZE, BOARD_FLASH_PAGE_SIZE);
    assert_int_equal(BOARD_FLASH_PROGRAM_UNIT, 16u);
    assert_int_equal(BOARD_IDENTITY_SIZE, BOARD_FLASH_PAGE_SIZE);
    assert_int_equal(BOARD_FLASH_BANK_PAGES * BOARD_FLASH_PAGE_SIZE, BOARD_FLASH_BANK_SIZE);
}

/* ---- console and time base ---- */

static void assert_baud_within_one_percent(uint32_t clock, uint32_t baud)
{
    uint32_t brr = u585_usart_brr(clock, baud);
    assert_true(brr >= 16u);
    double actual = (double)clock / brr;
    double error = (actual - baud) / baud;
    assert_true(error < 0.01 && error > -0.01);
}

static void test_usart_brr(void **state)
{
    (void)state;
    assert_int_equal(u585_usart_brr(4000000u, 115200u), 35u);   /* 114286 baud, -0.79 % */
    assert_int_equal(u585_usart_brr(160000000u, 115200u), 1389u);
    assert_baud_within_one_percent(BOARD_PCLK2_HZ, BOARD_CONSOLE_BAUD);
    assert_baud_within_one_percent(160000000u, BOARD_CONSOLE_BAUD);
    assert_int_equal(u585_usart_brr(4000000u, 0u), 0u);
    assert_int_equal(u585_usart_brr(4000000u, 1000000u), 0u);   /* divider 4 < 16 */
    assert_int_equal(u585_usart_brr(4000000u, 50u), 0u);        /* divider 80000 > 0xFFFF */
    assert_int_equal(u585_usart_brr(4000000u, 250000u), 16u);   /* the smallest legal divider */
}

static void test_timer_prescaler(void **state)
{
    (void)state;
    assert_int_equal(u585_timer_prescaler(BOARD_PCLK1_HZ, BOARD_TIMEBASE_HZ), 3u);
    assert_int_equal(u585_timer_prescaler(160000000u, 1000000u), 159u);
    assert_int_equal(u585_timer_prescaler(1000000u, 1000000u), 0u);
    assert_int_equal(u585_timer_prescaler(1000000u, 3u), UINT32_MAX);         /* not exact */
    assert_int_equal(u585_timer_prescaler(1000000u, 0u), UINT32_MAX);
    assert_int_equal(u585_timer_prescaler(160000000u, 1000u), UINT32_MAX);    /* > 16 bits */
    assert_int_equal(u585_timer_prescaler(65536000u, 1000u), 65535u);         /* exactly 16 bits */
    assert_int_equal(u585_timer_prescaler(1000u, 1000000u), UINT32_MAX);      /* ratio 0 */
}

/* ---- SRAM security ---- */

static void test_mpcbb_word_counts(void **state)
{
    (void)state;
    assert_int_equal(u585_mpcbb_word_count(BOARD_SRAM1_SIZE), 12u);
    assert_int_equal(u585_mpcbb_word_count(BOARD_SRAM2_SIZE), 4u);
    assert_int_equal(u585_mpcbb_word_count(BOARD_SRAM3_SIZE), 32u);   /* MPCBB_SECCFGR0..31 */
    assert_int_equal(u585_mpcbb_word_count(BOARD_SRAM4_SIZE), 1u);
}

static void test_mpcbb_sram3_split(void **state)
{
    (void)state;
    for (uint32_t word = 0; word < 32u; word++) {
        uint32_t expected = word < 16u ? 0u : 0xFFFFFFFFu;
        assert_int_equal(u585_mpcbb_seccfgr(0u, BOARD_SRAM3_APP_SIZE, word), expected);
    }
}

static void test_mpcbb_whole_banks_open(void **state)
{
    (void)state;
    for (uint32_t word = 0; word < 12u; word++) {
        assert_int_equal(u585_mpcbb_seccfgr(0u, BOARD_SRAM1_SIZE, word), 0u);
    }
    for (uint32_t word = 0; word < 4u; word++) {
        assert_int_equal(u585_mpcbb_seccfgr(0u, BOARD_SRAM2_SIZE, word), 0u);
    }
    assert_int_equal(u585_mpcbb_seccfgr(0u, BOARD_SRAM4_SIZE, 0u), 0u);
}

static void test_mpcbb_partial_blocks_stay_secure(void **state)
{
    (void)state;
    assert_int_equal(u585_mpcbb_seccfgr(0u, 8192u, 0u), 0xFFFF0000u);   /* 16 blocks */
    assert_int_equal(u585_mpcbb_seccfgr(0u, 700u, 0u), 0xFFFFFFFEu);    /* block 1 only partly */
    assert_int_equal(u585_mpcbb_seccfgr(512u, 512u, 0u), 0xFFFFFFFDu);
    assert_int_equal(u585_mpcbb_seccfgr(100u, 1024u, 0u), 0xFFFFFFFDu); /* only block 1 is whole */
    assert_int_equal(u585_mpcbb_seccfgr(0u, 0u, 0u), 0xFFFFFFFFu);
    /* Offsets past 4 GiB do not wrap around to the bank's start. */
    assert_int_equal(u585_mpcbb_seccfgr(0u, 0xFFFFFFFFu, 0x3FFFFu), 0x80000000u);
    assert_int_equal(u585_mpcbb_seccfgr(0u, 0xFFFFFFFFu, 0x40000u), 0xFFFFFFFFu);
}

/* ---- interrupt routing ---- */

static void test_kernel_irqs(void **state)
{
    (void)state;
    const uint32_t kernel[] = { 0u, 5u, 7u, 8u, 27u, 45u, 61u, 94u };
    size_t found = 0;
    for (uint32_t irq = 0; irq < BOARD_IRQ_COUNT; irq++) {
        bool expected = false;
        for (size_t i = 0; i < sizeof kernel / sizeof kernel[0]; i++) {
            expected = expected || kernel[i] == irq;
        }
        assert_int_equal(u585_irq_is_kernel(irq), expected);
        found += expected ? 1u : 0u;
    }
    assert_int_equal(found, sizeof kernel / sizeof kernel[0]);
}

/* Every reset source is the kernel's; the values are those of ST's CMSIS
 * header stm32u585xx.h (GTZC_CFGR1_WWDG/IWDG_Pos 6/7, PWR_BASE_S,
 * PWR_SECCFGR at 0x30 with LPMSEC bit 12, RCC_AHB3ENR_PWREN bit 2,
 * RCC_SECCFGR_RMVFSEC bit 12, WWDG_IRQn 0, IWDG_IRQn 27). */
static void test_reset_sources_are_the_kernels(void **state)
{
    (void)state;
    assert_int_equal(U585_TZSC_SECCFGR1 & (1u << 6), 1u << 6);     /* WWDG secure */
    assert_int_equal(U585_TZSC_SECCFGR1 & (1u << 7), 1u << 7);     /* IWDG secure */
    assert_true(u585_irq_is_kernel(0u) && u585_irq_is_kernel(27u));
    assert_int_equal(U585_APB1ENR1_KERNEL & RCC_APB1ENR1_WWDGEN, RCC_APB1ENR1_WWDGEN);
    assert_int_equal(BOARD_PWR, 0x56020800u);
    assert_int_equal(PWR_SECCFGR, 0x30u);
    assert_int_equal(U585_PWR_SECCFGR, 0x00001000u);                /* LPMSEC: Standby/Shutdown */
    assert_int_equal(RCC_AHB3ENR_PWREN, 1u << 2);
    assert_int_equal(U585_RCC_SECCFGR & (1u << 12), 1u << 12);      /* RMVFSEC */
    assert_int_equal(FLASH_OPTR_SRAM_RST, 1u << 15);
}

static void test_itns_words(void **state)
{
    (void)state;
    assert_int_equal(BOARD_IRQ_COUNT, 126u);
    assert_int_equal(u585_itns_word(0u), ~((1u << 0) | (1u << 5) | (1u << 7) | (1u << 8) | (1u << 27)));
    assert_int_equal(u585_itns_word(1u), ~((1u << (45 - 32)) | (1u << (61 - 32))));
    assert_int_equal(u585_itns_word(2u), ~(1u << (94 - 64)));
    assert_int_equal(u585_itns_word(3u), 0x3FFFFFFFu);   /* lines 96..125 */
    assert_int_equal(u585_itns_word(4u), 0u);
}

/* ---- mediated registers ---- */

static const bw_mediated_reg *mediated_entry(uint32_t app_address)
{
    size_t count = 0;
    const bw_mediated_reg *table = u585_mediated_regs(&count);
    for (size_t i = 0; i < count; i++) {
        if (table[i].app_address == app_address) {
            return &table[i];
        }
    }
    return NULL;
}

static void assert_mediated(uint32_t offset, uint32_t app_bits, uint32_t kernel_bits, uint32_t reserved_bit)
{
    const bw_mediated_reg *entry = mediated_entry(BOARD_RCC_NS + offset);
    assert_non_null(entry);
    assert_int_equal(entry->read_mask, entry->write_mask);
    assert_int_equal(entry->write_mask & app_bits, app_bits);
    assert_int_equal(entry->write_mask & kernel_bits, 0u);
    assert_int_equal(entry->write_mask & reserved_bit, 0u);
}

static void test_mediated_rcc_registers(void **state)
{
    (void)state;
    size_t count = 0;
    assert_non_null(u585_mediated_regs(&count));
    assert_int_equal(count, 5u);
    assert_int_equal(BOARD_RCC_NS + RCC_AHB1ENR, 0x46020C88u);
    assert_int_equal(BOARD_RCC_NS + RCC_APB2ENR, 0x46020CA4u);

    assert_mediated(RCC_AHB1ENR, RCC_AHB1ENR_GPDMA1EN | RCC_AHB1ENR_CRCEN | RCC_AHB1ENR_DMA2DEN,
                    RCC_AHB1ENR_FLASHEN | RCC_AHB1ENR_GTZC1EN | RCC_AHB1ENR_BKPSRAMEN
                        | RCC_AHB1ENR_SRAM1EN | RCC_AHB1ENR_RAMCFGEN,
                    1u << 4);
    assert_mediated(RCC_AHB2ENR1, RCC_AHB2ENR1_GPIO_ALL | RCC_AHB2ENR1_AESEN | RCC_AHB2ENR1_OTGEN,
                    RCC_AHB2ENR1_RNGEN | RCC_AHB2ENR1_SRAM2EN | RCC_AHB2ENR1_SRAM3EN, 1u << 9);
    assert_mediated(RCC_APB1ENR1, RCC_APB1ENR1_TIM5EN | RCC_APB1ENR1_USART2EN | RCC_APB1ENR1_I2C1EN,
                    RCC_APB1ENR1_TIM2EN | RCC_APB1ENR1_WWDGEN, 1u << 6);
    assert_mediated(RCC_APB1ENR2, RCC_APB1ENR2_I2C4EN | RCC_APB1ENR2_UCPD1EN, 0u, 1u << 0);
    assert_mediated(RCC_APB2ENR, RCC_APB2ENR_SPI1EN | RCC_APB2ENR_TIM1EN | RCC_APB2ENR_SAI2EN,
                    RCC_APB2ENR_USART1EN, 1u << 0);

    assert_null(mediated_entry(BOARD_RCC_NS + RCC_CR));          /* clock configuration: never */
    assert_null(mediated_entry(BOARD_RCC + RCC_APB2ENR));        /* the secure alias is not the app's name */
    assert_int_equal(u585_secure_alias(BOARD_RCC_NS + RCC_APB2ENR), 0x56020CA4u);
}

/* ---- the app's memory ---- */

static void test_app_range_in_map(void **state)
{
    (void)state;
    const uintptr_t ram = BOARD_APP_RAM_BASE, ram_end = BOARD_APP_RAM_BASE + BOARD_APP_RAM_SIZE;
    const uintptr_t sram4 = BOARD_APP_SRAM4_BASE, flash = BOARD_APP_SLOT_BASE;

    assert_true(u585_app_range_in_map(ram, BOARD_APP_RAM_SIZE, BW_ACCESS_READWRITE));
    assert_true(u585_app_range_in_map(ram_end - 4u, 4u, BW_ACCESS_READWRITE));
    assert_false(u585_app_range_in_map(ram_end - 4u, 5u, BW_ACCESS_READ));      /* straddles the end */
    assert_false(u585_app_range_in_map(ram_end, 4u, BW_ACCESS_READ));           /* kernel half of SRAM3 */
    assert_false(u585_app_range_in_map(ram - 1u, 2u, BW_ACCESS_READ));
    assert_true(u585_app_range_in_map(sram4, BOARD_APP_SRAM4_SIZE, BW_ACCESS_READWRITE));
    assert_false(u585_app_range_in_map(sram4, BOARD_APP_SRAM4_SIZE + 1u, BW_ACCESS_READWRITE));

    assert_true(u585_app_range_in_map(flash, BOARD_APP_SLOT_SIZE, BW_ACCESS_READ));
    assert_false(u585_app_range_in_map(flash, 4u, BW_ACCESS_READWRITE));        /* flash is never written */
    assert_false(u585_app_range_in_map(flash + BOARD_APP_SLOT_SIZE, 4u, BW_ACCESS_READ));

    assert_false(u585_app_range_in_map(BOARD_KERNEL_RAM_BASE, 4u, BW_ACCESS_READ));
    assert_false(u585_app_range_in_map(ram + BOARD_SECURE_ALIAS_OFFSET, 4u, BW_ACCESS_READ));
    assert_false(u585_app_range_in_map(flash + BOARD_FLASH_SECURE_ALIAS_OFFSET, 4u, BW_ACCESS_READ));
    assert_false(u585_app_range_in_map(BOARD_IDENTITY_BASE, 16u, BW_ACCESS_READ));
    assert_false(u585_app_range_in_map(BOARD_KERNEL_SLOT_BASE, 4u, BW_ACCESS_READ));
    assert_false(u585_app_range_in_map(BOARD_RCC_NS, 4u, BW_ACCESS_READ));      /* never peripherals */
    assert_false(u585_app_range_in_map(ram, 0u, BW_ACCESS_READ));
    assert_false(u585_app_range_in_map(ram + 4u, SIZE_MAX, BW_ACCESS_READ));
    assert_false(u585_app_range_in_map(UINTPTR_MAX - 3u, 4u, BW_ACCESS_READ));
}

/* ---- flash option bytes ---- */

static const u585_option_bytes provisioned = {
    .optr = FLASH_OPTR_TZEN | FLASH_OPTR_SRAM_RST,
    .secbootadd0r = BOARD_BOOT_ROM_BASE | 1u,   /* BOOT_LOCK set is fine */
    .secwm1r1 = U585_SECWM1R1_PROVISIONED,
    .secwm2r1 = U585_SECWM2R1_PROVISIONED,
};

static void test_option_bytes_provisioned(void **state)
{
    (void)state;
    assert_int_equal(u585_option_bytes_check(&provisioned), 0u);
}

static void test_option_bytes_findings(void **state)
{
    (void)state;
    u585_option_bytes options = provisioned;
    options.optr = FLASH_OPTR_SRAM_RST;
    assert_int_equal(u585_option_bytes_check(&options), U585_OPTION_TZ_DISABLED);

    options = provisioned;
    options.optr |= FLASH_OPTR_SWAP_BANK;
    assert_int_equal(u585_option_bytes_check(&options), U585_OPTION_BANKS_SWAPPED);

    options = provisioned;
    options.secwm1r1 = 0x007F0000u;   /* the factory value once TZEN is set: all secure */
    assert_int_equal(u585_option_bytes_check(&options), U585_OPTION_APP_BANK_SECURE);

    options = provisioned;
    options.secwm2r1 = 0x007E0000u;   /* page 127 (the identity page) left open */
    assert_int_equal(u585_option_bytes_check(&options), U585_OPTION_KERNEL_BANK_OPEN);

    options = provisioned;
    options.secwm2r1 = 0x0000007Fu;   /* no secure area at all */
    assert_int_equal(u585_option_bytes_check(&options), U585_OPTION_KERNEL_BANK_OPEN);

    options = provisioned;
    options.secbootadd0r = 0x0C000000u;
    assert_int_equal(u585_option_bytes_check(&options), U585_OPTION_BOOT_ADDRESS);

    options = provisioned;
    options.optr &= ~FLASH_OPTR_SRAM_RST;   /* kernel RAM erased on reset: no reset marker */
    assert_int_equal(u585_option_bytes_check(&options), U585_OPTION_SRAM_ERASED);
    assert_int_equal(U585_OPTION_SRAM_ERASED & U585_FLASH_OPTION_BLOCKERS, 0u);

    options = (u585_option_bytes){ 0u, 0u, 0x007F0000u, 0x007F0000u };
    assert_int_equal(u585_option_bytes_check(&options),
                     U585_OPTION_TZ_DISABLED | U585_OPTION_APP_BANK_SECURE | U585_OPTION_BOOT_ADDRESS
                     | U585_OPTION_SRAM_ERASED);
}

static void test_watermark_pages(void **state)
{
    (void)state;
    uint32_t first = 99u, last = 99u;
    assert_int_equal(u585_watermark_secure_pages(0x007F0000u, &first, &last), 128u);
    assert_int_equal(first, 0u);
    assert_int_equal(last, 127u);
    assert_int_equal(u585_watermark_secure_pages(0x00050005u, &first, &last), 1u);
    assert_int_equal(first, 5u);
    assert_int_equal(last, 5u);
    assert_int_equal(u585_watermark_secure_pages(U585_SECWM1R1_PROVISIONED, &first, &last), 0u);
    assert_int_equal(u585_watermark_secure_pages(0xFF80FF80u, &first, &last), 1u);   /* other bits ignored */
}

/* ---- flash controller ---- */

static void assert_place(uint32_t offset, uint32_t bank, uint32_t page, uint32_t address)
{
    u585_flash_place place;
    memset(&place, 0xA5, sizeof place);
    assert_true(u585_flash_locate(offset, &place));
    assert_int_equal(place.bank, bank);
    assert_int_equal(place.page, page);
    assert_int_equal(place.address, address);
    if (bank == 1u) {
        assert_false(place.secure);
        assert_int_equal(place.keyr, 0x40022008u);   /* FLASH_NSKEYR, non-secure alias */
        assert_int_equal(place.sr, 0x40022020u);     /* FLASH_NSSR */
        assert_int_equal(place.cr, 0x40022028u);     /* FLASH_NSCR */
    } else {
        assert_true(place.secure);
        assert_int_equal(place.keyr, 0x5002200Cu);   /* FLASH_SECKEYR, secure alias */
        assert_int_equal(place.sr, 0x50022024u);     /* FLASH_SECSR */
        assert_int_equal(place.cr, 0x5002202Cu);     /* FLASH_SECCR */
    }
}

static void test_flash_locate_banks_and_pages(void **state)
{
    (void)state;
    assert_place(0x000000u, 1u, 0u, 0x08000000u);
    assert_place(0x001FFFu, 1u, 0u, 0x08001FFFu);
    assert_place(0x002000u, 1u, 1u, 0x08002000u);
    assert_place(0x0A0010u, 1u, 80u, 0x080A0010u);
    assert_place(0x0FE000u, 1u, 127u, 0x080FE000u);
    assert_place(0x0FFFFFu, 1u, 127u, 0x080FFFFFu);    /* last byte of bank 1 */
    assert_place(0x100000u, 2u, 0u, 0x0C100000u);      /* first byte of bank 2: the boot stub */
    assert_place(0x108000u, 2u, 4u, 0x0C108000u);      /* the kernel slot */
    assert_place(BOARD_PART_UPDATE_STATE_OFFSET, 2u, 115u, 0x0C1E6000u);
    assert_place(BOARD_PART_CRASH_LOG_OFFSET, 2u, 119u, 0x0C1EE000u);
    assert_place(BOARD_PART_CRASH_LOG_OFFSET + BOARD_PART_CRASH_LOG_SIZE - 1u, 2u, 125u, 0x0C1FBFFFu);
    assert_place(0x1FC000u, 2u, 126u, BOARD_IDENTITY_BASE);
    assert_place(0x1FE000u, 2u, 127u, BOARD_GATE_BASE);  /* the gate: the original Microvisor's page */
    assert_place(0x1FFFFFu, 2u, 127u, 0x0C1FFFFFu);    /* last byte of the array */

    u585_flash_place place = { .bank = 9u };
    assert_false(u585_flash_locate(BOARD_FLASH_SIZE, &place));
    assert_false(u585_flash_locate(UINT32_MAX, &place));
    assert_int_equal(place.bank, 9u);                  /* untouched on failure */
}

static void test_flash_erase_cr(void **state)
{
    (void)state;
    u585_flash_place place;
    assert_true(u585_flash_locate(0x000000u, &place));
    assert_int_equal(u585_flash_erase_cr(&place), 0x00000002u);   /* PER, page 0, bank 1 */
    assert_true(u585_flash_locate(0x00A000u, &place));
    assert_int_equal(u585_flash_erase_cr(&place), 0x0000002Au);   /* PER | PNB 5 */
    assert_true(u585_flash_locate(0x0FE000u, &place));
    assert_int_equal(u585_flash_erase_cr(&place), 0x000003FAu);   /* PER | PNB 127 */
    assert_true(u585_flash_locate(0x100000u, &place));
    assert_int_equal(u585_flash_erase_cr(&place), 0x00000802u);   /* PER | BKER, page 0 */
    assert_true(u585_flash_locate(BOARD_PART_CRASH_LOG_OFFSET, &place));
    assert_int_equal(u585_flash_erase_cr(&place), 0x00000BBAu);   /* PER | PNB 119 | BKER */
    assert_true(u585_flash_locate(0x1FE000u, &place));
    assert_int_equal(u585_flash_erase_cr(&place), 0x00000BFAu);   /* PER | PNB 127 | BKER */
    for (uint32_t offset = 0; offset < BOARD_FLASH_SIZE; offset += BOARD_FLASH_PAGE_SIZE) {
        assert_true(u585_flash_locate(offset, &place));
        uint32_t cr = u585_flash_erase_cr(&place);
        assert_int_equal(cr & ~(FLASH_CR_PER | FLASH_CR_PNB_MASK | FLASH_CR_BKER), 0u);
        assert_int_equal((cr & FLASH_CR_PNB_MASK) >> FLASH_CR_PNB_SHIFT,
                         (offset % BOARD_FLASH_BANK_SIZE) / BOARD_FLASH_PAGE_SIZE);
        assert_int_equal((cr & FLASH_CR_BKER) != 0u, offset >= BOARD_FLASH_BANK_SIZE);
        assert_true(cr & FLASH_CR_PER);
    }
    assert_int_equal(U585_FLASH_PROGRAM_CR, FLASH_CR_PG);
}

/* Every FLASH register offset and bit the driver uses, as RM0456 and the
 * CMSIS header (stm32u585xx.h) give them. */
static void test_flash_register_values(void **state)
{
    (void)state;
    assert_int_equal(BOARD_FLASH_REGS, 0x50022000u);
    assert_int_equal(BOARD_FLASH_REGS_NS, 0x40022000u);
    assert_int_equal(FLASH_NSKEYR, 0x08u);
    assert_int_equal(FLASH_SECKEYR, 0x0Cu);
    assert_int_equal(FLASH_NSSR, 0x20u);
    assert_int_equal(FLASH_SECSR, 0x24u);
    assert_int_equal(FLASH_NSCR, 0x28u);
    assert_int_equal(FLASH_SECCR, 0x2Cu);
    assert_int_equal(FLASH_KEY1, 0x45670123u);
    assert_int_equal(FLASH_KEY2, 0xCDEF89ABu);

    assert_int_equal(FLASH_SR_EOP, 0x00000001u);
    assert_int_equal(FLASH_SR_OPERR, 0x00000002u);
    assert_int_equal(FLASH_SR_PROGERR, 0x00000008u);
    assert_int_equal(FLASH_SR_WRPERR, 0x00000010u);
    assert_int_equal(FLASH_SR_PGAERR, 0x00000020u);
    assert_int_equal(FLASH_SR_SIZERR, 0x00000040u);
    assert_int_equal(FLASH_SR_PGSERR, 0x00000080u);
    assert_int_equal(FLASH_SR_BSY, 0x00010000u);
    assert_int_equal(FLASH_SR_WDW, 0x00020000u);

    assert_int_equal(FLASH_CR_PG, 0x00000001u);
    assert_int_equal(FLASH_CR_PER, 0x00000002u);
    assert_int_equal(FLASH_CR_MER1, 0x00000004u);
    assert_int_equal(FLASH_CR_PNB_MASK, 0x000003F8u);
    assert_int_equal(FLASH_CR_BKER, 0x00000800u);
    assert_int_equal(FLASH_CR_BWR, 0x00004000u);
    assert_int_equal(FLASH_CR_MER2, 0x00008000u);
    assert_int_equal(FLASH_CR_STRT, 0x00010000u);
    assert_int_equal(FLASH_CR_EOPIE, 0x01000000u);
    assert_int_equal(FLASH_CR_ERRIE, 0x02000000u);
    assert_int_equal(FLASH_CR_LOCK, 0x80000000u);
}

static void test_flash_sr_errors(void **state)
{
    (void)state;
    const uint32_t errors[] = { FLASH_SR_OPERR, FLASH_SR_PROGERR, FLASH_SR_WRPERR,
                                FLASH_SR_PGAERR, FLASH_SR_SIZERR, FLASH_SR_PGSERR };
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        assert_int_equal(u585_flash_sr_errors(errors[i]), errors[i]);
        assert_int_equal(u585_flash_sr_errors(errors[i] | FLASH_SR_BSY | FLASH_SR_EOP), errors[i]);
    }
    assert_int_equal(u585_flash_sr_errors(0xFFFFFFFFu), 0x000000FAu);
    assert_int_equal(u585_flash_sr_errors(FLASH_SR_BSY | FLASH_SR_WDW | FLASH_SR_EOP), 0u);
    assert_int_equal(u585_flash_sr_errors(1u << 13), 0u);   /* NSSR.OPTWERR: option bytes, not ours */
    assert_int_equal(u585_flash_sr_errors(0u), 0u);
}

static void test_flash_option_blockers(void **state)
{
    (void)state;
    assert_int_equal(u585_option_bytes_check(&provisioned) & U585_FLASH_OPTION_BLOCKERS, 0u);
    assert_int_equal(U585_FLASH_OPTION_BLOCKERS & U585_OPTION_BOOT_ADDRESS, 0u);
    assert_true(U585_FLASH_OPTION_BLOCKERS & U585_OPTION_TZ_DISABLED);
    assert_true(U585_FLASH_OPTION_BLOCKERS & U585_OPTION_BANKS_SWAPPED);
    assert_true(U585_FLASH_OPTION_BLOCKERS & U585_OPTION_APP_BANK_SECURE);
    assert_true(U585_FLASH_OPTION_BLOCKERS & U585_OPTION_KERNEL_BANK_OPEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_map_adds_up),
        cmocka_unit_test(test_usart_brr),
        cmocka_unit_test(test_timer_prescaler),
        cmocka_unit_test(test_mpcbb_word_counts),
        cmocka_unit_test(test_mpcbb_sram3_split),
        cmocka_unit_test(test_mpcbb_whole_banks_open),
        cmocka_unit_test(test_mpcbb_partial_blocks_stay_secure),
        cmocka_unit_test(test_kernel_irqs),
        cmocka_unit_test(test_itns_words),
        cmocka_unit_test(test_reset_sources_are_the_kernels),
        cmocka_unit_test(test_mediated_rcc_registers),
        cmocka_unit_test(test_app_range_in_map),
        cmocka_unit_test(test_option_bytes_provisioned),
        cmocka_unit_test(test_option_bytes_findings),
        cmocka_unit_test(test_watermark_pages),
        cmocka_unit_test(test_flash_locate_banks_and_pages),
        cmocka_unit_test(test_flash_erase_cr),
        cmocka_unit_test(test_flash_register_values),
        cmocka_unit_test(test_flash_sr_errors),
        cmocka_unit_test(test_flash_option_blockers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
