/*
 * The STM32U585 port's pure decisions (see u585_layout.h): no register is
 * read or written here, so the same file builds into the kernel and into the
 * host unit test. Every value the board code programs into a security or
 * clock register that depends on the map comes from here.
 */
#include "u585_layout.h"

#include <string.h>

/* ---- console and time base ---- */

uint32_t u585_usart_brr(uint32_t kernel_clock_hz, uint32_t baud)
{
    if (baud == 0u) {
        return 0u;
    }
    uint64_t divider = ((uint64_t)kernel_clock_hz + baud / 2u) / baud;
    if (divider < 16u || divider > 0xFFFFu) {
        return 0u;   /* RM0456: BRR must be >= 16 when oversampling by 16 */
    }
    return (uint32_t)divider;
}

uint32_t u585_timer_prescaler(uint32_t timer_clock_hz, uint32_t tick_hz)
{
    if (tick_hz == 0u || timer_clock_hz % tick_hz != 0u) {
        return UINT32_MAX;
    }
    uint32_t ratio = timer_clock_hz / tick_hz;
    if (ratio == 0u || ratio > 0x10000u) {
        return UINT32_MAX;
    }
    return ratio - 1u;
}

/* ---- SRAM security ---- */

uint32_t u585_mpcbb_word_count(uint32_t bank_size)
{
    return (bank_size + MPCBB_SUPERBLOCK_SIZE - 1u) / MPCBB_SUPERBLOCK_SIZE;
}

uint32_t u585_mpcbb_seccfgr(uint32_t ns_offset, uint32_t ns_size, uint32_t index)
{
    uint64_t ns_start = ns_offset, ns_end = (uint64_t)ns_offset + ns_size;
    uint32_t secure = 0xFFFFFFFFu;
    for (uint32_t bit = 0; bit < 32u; bit++) {
        uint64_t block_start = ((uint64_t)index * 32u + bit) * MPCBB_BLOCK_SIZE;
        uint64_t block_end = block_start + MPCBB_BLOCK_SIZE;
        if (block_start >= ns_start && block_end <= ns_end) {
            secure &= ~(1u << bit);
        }
    }
    return secure;
}

/* ---- interrupt routing ---- */

static const uint8_t kernel_irqs[] = {
    BOARD_IRQ_WWDG,           /* watchdogs: they reset the chip */
    BOARD_IRQ_RAMCFG,         /* SRAM erase/ECC controller */
    BOARD_IRQ_FLASH_S,        /* the flash interface, secure side */
    BOARD_IRQ_GTZC,           /* illegal-access events */
    BOARD_IRQ_IWDG,
    BOARD_IRQ_KERNEL_TIMER,   /* TIM2: time base */
    BOARD_IRQ_CONSOLE,        /* USART1: kernel console */
    BOARD_IRQ_RNG,
};

bool u585_irq_is_kernel(uint32_t irqn)
{
    for (size_t i = 0; i < sizeof kernel_irqs / sizeof kernel_irqs[0]; i++) {
        if (kernel_irqs[i] == irqn) {
            return true;
        }
    }
    return false;
}

uint32_t u585_itns_word(uint32_t word)
{
    uint32_t app = 0;
    for (uint32_t bit = 0; bit < 32u; bit++) {
        uint32_t irqn = word * 32u + bit;
        if (irqn < BOARD_IRQ_COUNT && !u585_irq_is_kernel(irqn)) {
            app |= 1u << bit;
        }
    }
    return app;
}

/* ---- mediated registers ---- */

/* Every implemented bit of each clock-enable register (RM0456, STM32U575/585). */
#define AHB1ENR_IMPLEMENTED  (RCC_AHB1ENR_GPDMA1EN | RCC_AHB1ENR_CORDICEN | RCC_AHB1ENR_FMACEN \
                              | RCC_AHB1ENR_MDF1EN | RCC_AHB1ENR_FLASHEN | RCC_AHB1ENR_CRCEN \
                              | RCC_AHB1ENR_TSCEN | RCC_AHB1ENR_RAMCFGEN | RCC_AHB1ENR_DMA2DEN \
                              | RCC_AHB1ENR_GTZC1EN | RCC_AHB1ENR_BKPSRAMEN | RCC_AHB1ENR_DCACHE1EN \
                              | RCC_AHB1ENR_SRAM1EN)
#define AHB2ENR1_IMPLEMENTED (RCC_AHB2ENR1_GPIO_ALL | RCC_AHB2ENR1_ADC12EN | RCC_AHB2ENR1_OTGEN \
                              | RCC_AHB2ENR1_AESEN | RCC_AHB2ENR1_HASHEN | RCC_AHB2ENR1_RNGEN \
                              | RCC_AHB2ENR1_PKAEN | RCC_AHB2ENR1_SAESEN | RCC_AHB2ENR1_OCTOSPIMEN \
                              | RCC_AHB2ENR1_OTFDEC1EN | RCC_AHB2ENR1_OTFDEC2EN \
                              | RCC_AHB2ENR1_SDMMC1EN | RCC_AHB2ENR1_SDMMC2EN \
                              | RCC_AHB2ENR1_SRAM2EN | RCC_AHB2ENR1_SRAM3EN)
#define APB1ENR1_IMPLEMENTED (RCC_APB1ENR1_TIM2EN | RCC_APB1ENR1_TIM3EN | RCC_APB1ENR1_TIM4EN \
                              | RCC_APB1ENR1_TIM5EN | RCC_APB1ENR1_TIM6EN | RCC_APB1ENR1_TIM7EN \
                              | RCC_APB1ENR1_WWDGEN | RCC_APB1ENR1_SPI2EN | RCC_APB1ENR1_USART2EN \
                              | RCC_APB1ENR1_USART3EN | RCC_APB1ENR1_UART4EN | RCC_APB1ENR1_UART5EN \
                              | RCC_APB1ENR1_I2C1EN | RCC_APB1ENR1_I2C2EN | RCC_APB1ENR1_CRSEN)
#define APB1ENR2_IMPLEMENTED (RCC_APB1ENR2_I2C4EN | RCC_APB1ENR2_LPTIM2EN | RCC_APB1ENR2_FDCAN1EN \
                              | RCC_APB1ENR2_UCPD1EN)
#define APB2ENR_IMPLEMENTED  (RCC_APB2ENR_TIM1EN | RCC_APB2ENR_SPI1EN | RCC_APB2ENR_TIM8EN \
                              | RCC_APB2ENR_USART1EN | RCC_APB2ENR_TIM15EN | RCC_APB2ENR_TIM16EN \
                              | RCC_APB2ENR_TIM17EN | RCC_APB2ENR_SAI1EN | RCC_APB2ENR_SAI2EN)

#define APP_BITS(implemented, kernel) ((implemented) & ~(uint32_t)(kernel))

static const bw_mediated_reg mediated_regs[] = {
    { BOARD_RCC_NS + RCC_AHB1ENR,
      APP_BITS(AHB1ENR_IMPLEMENTED, U585_AHB1ENR_KERNEL),
      APP_BITS(AHB1ENR_IMPLEMENTED, U585_AHB1ENR_KERNEL) },
    { BOARD_RCC_NS + RCC_AHB2ENR1,
      APP_BITS(AHB2ENR1_IMPLEMENTED, U585_AHB2ENR1_KERNEL),
      APP_BITS(AHB2ENR1_IMPLEMENTED, U585_AHB2ENR1_KERNEL) },
    { BOARD_RCC_NS + RCC_APB1ENR1,
      APP_BITS(APB1ENR1_IMPLEMENTED, U585_APB1ENR1_KERNEL),
      APP_BITS(APB1ENR1_IMPLEMENTED, U585_APB1ENR1_KERNEL) },
    { BOARD_RCC_NS + RCC_APB1ENR2,
      APP_BITS(APB1ENR2_IMPLEMENTED, U585_APB1ENR2_KERNEL),
      APP_BITS(APB1ENR2_IMPLEMENTED, U585_APB1ENR2_KERNEL) },
    { BOARD_RCC_NS + RCC_APB2ENR,
      APP_BITS(APB2ENR_IMPLEMENTED, U585_APB2ENR_KERNEL),
      APP_BITS(APB2ENR_IMPLEMENTED, U585_APB2ENR_KERNEL) },
};

const bw_mediated_reg *u585_mediated_regs(size_t *count)
{
    *count = sizeof mediated_regs / sizeof mediated_regs[0];
    return mediated_regs;
}

uint32_t u585_secure_alias(uint32_t ns_address)
{
    return ns_address + BOARD_SECURE_ALIAS_OFFSET;
}

/* ---- the app's memory ---- */

static bool within(uintptr_t addr, size_t len, uint32_t base, uint32_t size)
{
    return addr >= base && len <= size && addr - base <= size - len;
}

bool u585_app_range_in_map(uintptr_t addr, size_t len, bw_access access)
{
    if (len == 0u) {
        return false;
    }
    bool in_ram = within(addr, len, BOARD_APP_RAM_BASE, BOARD_APP_RAM_SIZE)
               || within(addr, len, BOARD_APP_SRAM4_BASE, BOARD_APP_SRAM4_SIZE);
    bool in_flash = within(addr, len, BOARD_APP_SLOT_BASE, BOARD_APP_SLOT_SIZE);
    return in_ram || (access == BW_ACCESS_READ && in_flash);
}

/* ---- flash option bytes ---- */

uint32_t u585_watermark_secure_pages(uint32_t secwmr1, uint32_t *first, uint32_t *last)
{
    uint32_t start = secwmr1 & FLASH_SECWMR1_PSTRT_MASK;
    uint32_t end = (secwmr1 >> FLASH_SECWMR1_PEND_SHIFT) & FLASH_SECWMR1_PSTRT_MASK;
    if (start > end) {
        return 0u;   /* RM0456: PSTRT > PEND means no secure area */
    }
    *first = start;
    *last = end;
    return end - start + 1u;
}

uint32_t u585_option_bytes_check(const u585_option_bytes *options)
{
    uint32_t findings = 0, first = 0, last = 0;
    if ((options->optr & FLASH_OPTR_TZEN) == 0u) {
        findings |= U585_OPTION_TZ_DISABLED;
    }
    if ((options->optr & FLASH_OPTR_SWAP_BANK) != 0u) {
        findings |= U585_OPTION_BANKS_SWAPPED;
    }
    if (u585_watermark_secure_pages(options->secwm1r1, &first, &last) != 0u) {
        findings |= U585_OPTION_APP_BANK_SECURE;
    }
    if (u585_watermark_secure_pages(options->secwm2r1, &first, &last) != BOARD_FLASH_BANK_PAGES) {
        findings |= U585_OPTION_KERNEL_BANK_OPEN;
    }
    if ((options->secbootadd0r & FLASH_SECBOOTADD0R_ADDR_MASK) != BOARD_BOOT_ROM_BASE) {
        findings |= U585_OPTION_BOOT_ADDRESS;
    }
    if ((options->optr & FLASH_OPTR_SRAM_RST) == 0u) {
        findings |= U585_OPTION_SRAM_ERASED;
    }
    return findings;
}

/* ---- flash controller ---- */

bool u585_flash_locate(uint32_t offset, u585_flash_place *place)
{
    if (offset >= BOARD_FLASH_SIZE) {
        return false;
    }
    bool bank2 = offset >= BOARD_FLASH_BANK_SIZE;
    uint32_t in_bank = offset % BOARD_FLASH_BANK_SIZE;
    uint32_t regs = bank2 ? BOARD_FLASH_REGS : BOARD_FLASH_REGS_NS;
    *place = (u585_flash_place){
        .bank = bank2 ? 2u : 1u,
        .page = in_bank / BOARD_FLASH_PAGE_SIZE,
        .secure = bank2,
        .address = offset + (bank2 ? BOARD_FLASH_BASE : BOARD_FLASH_BASE - BOARD_FLASH_SECURE_ALIAS_OFFSET),
        .keyr = regs + (bank2 ? FLASH_SECKEYR : FLASH_NSKEYR),
        .sr = regs + (bank2 ? FLASH_SECSR : FLASH_NSSR),
        .cr = regs + (bank2 ? FLASH_SECCR : FLASH_NSCR),
    };
    return true;
}

uint32_t u585_flash_erase_cr(const u585_flash_place *place)
{
    return FLASH_CR_PER | ((place->page << FLASH_CR_PNB_SHIFT) & FLASH_CR_PNB_MASK)
         | (place->bank == 2u ? FLASH_CR_BKER : 0u);
}

uint32_t u585_flash_sr_errors(uint32_t sr)
{
    return sr & (FLASH_SR_OPERR | FLASH_SR_PROGERR | FLASH_SR_WRPERR | FLASH_SR_PGAERR
                 | FLASH_SR_SIZERR | FLASH_SR_PGSERR);
}
