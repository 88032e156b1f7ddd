/*
 * The STM32U585 port's pure decisions: register values computed from the
 * memory map and the ownership rules, with no register access, so the host
 * unit tests (tests/unit/test_u585_layout.c) check them and the board code
 * only writes what these return.
 *
 * The flash controller's address arithmetic (offset -> bank, page, alias,
 * registers, control values) lives here too, for the same reason.
 *
 * Ownership rules encoded here: the kernel owns USART1 (console), TIM2 (time
 * base), RNG, RAMCFG (it can erase any SRAM), the watchdogs (they reset the
 * whole chip), FLASH_S and GTZC; everything else, and every interrupt line of
 * it, belongs to the app.
 */
#ifndef U585_LAYOUT_H
#define U585_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "bw_port.h"
#include "u585_regs.h"

/* ---- console and time base ---- */

/* USART_BRR for oversampling by 16: kernel_clock_hz / baud rounded to the
 * nearest integer. 0 when baud is 0 or the divider is outside 16..0xFFFF. */
uint32_t u585_usart_brr(uint32_t kernel_clock_hz, uint32_t baud);

/* TIM_PSC dividing timer_clock_hz down to tick_hz (PSC + 1 = ratio).
 * UINT32_MAX when tick_hz is 0, does not divide the clock exactly, or the
 * ratio does not fit the 16-bit prescaler. */
uint32_t u585_timer_prescaler(uint32_t timer_clock_hz, uint32_t tick_hz);

/* ---- SRAM security (GTZC MPCBB) ---- */

/* Number of MPCBB_SECCFGR words covering a bank of bank_size bytes (16 KiB each). */
uint32_t u585_mpcbb_word_count(uint32_t bank_size);

/* MPCBB_SECCFGR word `index` of a bank whose non-secure part is
 * [ns_offset, ns_offset + ns_size) (offsets in bytes from the bank start):
 * bit b is 1 (secure) unless block index*32+b lies wholly in that part. */
uint32_t u585_mpcbb_seccfgr(uint32_t ns_offset, uint32_t ns_size, uint32_t index);

/* ---- interrupt routing ---- */

/* True when IRQn is one of the kernel's (never routed to the app). */
bool u585_irq_is_kernel(uint32_t irqn);

/* NVIC_ITNS word `word`: bit set = that line is routed to the app. Lines at
 * or beyond BOARD_IRQ_COUNT read 0. */
uint32_t u585_itns_word(uint32_t word);

/* ---- peripheral ownership ---- */

/* GTZC1 TZSC_SECCFGR1/2/3: the kernel's peripherals secure, all others not. */
#define U585_TZSC_SECCFGR1 (TZSC_SECCFGR1_TIM2SEC | TZSC_SECCFGR1_WWDGSEC | TZSC_SECCFGR1_IWDGSEC)
#define U585_TZSC_SECCFGR2 TZSC_SECCFGR2_USART1SEC
#define U585_TZSC_SECCFGR3 (TZSC_SECCFGR3_RNGSEC | TZSC_SECCFGR3_RAMCFGSEC)

/* Every reset source is the kernel's (docs/DESIGN.md, "Memory map on QEMU
 * an505": the same rule on this chip):
 *  - IWDG and WWDG: secure above (TZSC); either, started by the app, would
 *    reset the chip. Their RCC enable and reset bits follow the TZSC (RM0456's
 *    RCC TrustZone rule) and WWDGEN is kept out of the mediated masks.
 *  - AIRCR.SYSRESETREQ: AIRCR.SYSRESETREQS (arch_init, every board).
 *  - Standby and Shutdown: waking from them goes through reset, so an app that
 *    selected one in PWR_CR1.LPMS and slept would reset the chip. PWR_SECCFGR.
 *    LPMSEC (below) makes PWR_CR1/CR2 writes secure-only: the app's are
 *    ignored, and its deep sleep stays Stop 0 (LPMS reset value 000).
 *  - The reset-flag clear (RCC_CSR.RMVF): RMVFSEC below.
 * Not closed at run time (README.md, "Not in this port yet"): an option-byte
 * reload (FLASH_NSCR.OBL_LAUNCH) after the app unlocks OPTLOCK. */
#define U585_PWR_SECCFGR PWR_SECCFGR_LPMSEC

/* RCC_SECCFGR: the system clock path and the RNG's clock are the kernel's. */
#define U585_RCC_SECCFGR (RCC_SECCFGR_MSISEC | RCC_SECCFGR_SYSCLKSEC | RCC_SECCFGR_PRESCSEC \
                          | RCC_SECCFGR_PLL1SEC | RCC_SECCFGR_HSI48SEC | RCC_SECCFGR_RMVFSEC)

/* Clock-enable bits that stay the kernel's: its peripherals, the flash
 * interface, the GTZC, and every SRAM clock (the kernel runs from SRAM3 and
 * touches app RAM on the app's behalf). */
#define U585_AHB1ENR_KERNEL  (RCC_AHB1ENR_FLASHEN | RCC_AHB1ENR_RAMCFGEN | RCC_AHB1ENR_GTZC1EN \
                              | RCC_AHB1ENR_BKPSRAMEN | RCC_AHB1ENR_SRAM1EN)
#define U585_AHB2ENR1_KERNEL (RCC_AHB2ENR1_RNGEN | RCC_AHB2ENR1_SRAM2EN | RCC_AHB2ENR1_SRAM3EN)
#define U585_APB1ENR1_KERNEL (RCC_APB1ENR1_TIM2EN | RCC_APB1ENR1_WWDGEN)
#define U585_APB1ENR2_KERNEL 0u
#define U585_APB2ENR_KERNEL  RCC_APB2ENR_USART1EN

/* ---- mediated registers ---- */

/* The app's clock-enable registers (RCC_AHB1ENR, AHB2ENR1, APB1ENR1, APB1ENR2,
 * APB2ENR at their non-secure addresses), each masked to the app's bits for
 * reads and writes. Static table; *count receives its length. */
const bw_mediated_reg *u585_mediated_regs(size_t *count);

/* The secure alias of a non-secure peripheral address. */
uint32_t u585_secure_alias(uint32_t ns_address);

/* ---- the app's memory ---- */

/* True when [addr, addr+len) lies wholly in one of the app's regions as the
 * board map gives them: app RAM or SRAM4 for any access, app flash for reads
 * only. len 0 is false. Says nothing of what the SAU/MPU allow right now. */
bool u585_app_range_in_map(uintptr_t addr, size_t len, bw_access access);

/* ---- flash option bytes ---- */

/* The option-byte registers as loaded at reset (FLASH_OPTR, FLASH_SECBOOTADD0R,
 * FLASH_SECWM1R1, FLASH_SECWM2R1). */
typedef struct u585_option_bytes {
    uint32_t optr;
    uint32_t secbootadd0r;
    uint32_t secwm1r1;
    uint32_t secwm2r1;
} u585_option_bytes;

/* What provisioning writes: bank 1 without a secure area (PSTRT 0x7F > PEND 0),
 * bank 2 wholly secure (pages 0..127). */
#define U585_SECWM1R1_PROVISIONED 0x0000007Fu
#define U585_SECWM2R1_PROVISIONED 0x007F0000u

/* Findings of u585_option_bytes_check, one bit each (0: the map holds). */
typedef enum u585_option_finding {
    U585_OPTION_TZ_DISABLED        = 1u << 0,   /* TZEN = 0: no TrustZone at all */
    U585_OPTION_BANKS_SWAPPED      = 1u << 1,   /* SWAP_BANK = 1: banks trade addresses */
    U585_OPTION_APP_BANK_SECURE    = 1u << 2,   /* bank 1 has secure pages */
    U585_OPTION_KERNEL_BANK_OPEN   = 1u << 3,   /* bank 2 has non-secure pages */
    U585_OPTION_BOOT_ADDRESS       = 1u << 4,   /* SECBOOTADD0 is not the boot stub */
    U585_OPTION_SRAM_ERASED        = 1u << 5,   /* SRAM_RST = 0: kernel RAM is erased on a
                                                 * reset, so a reset while the app runs is
                                                 * not counted as its crash */
} u585_option_finding;

/* Compares loaded option bytes with the memory map; returns the OR of the
 * u585_option_finding bits that apply (0 when all is as provisioned). */
uint32_t u585_option_bytes_check(const u585_option_bytes *options);

/* Number of secure pages a FLASH_SECWMxR1 value gives its bank (0..128);
 * when nonzero, *first and *last receive the first and last secure page. */
uint32_t u585_watermark_secure_pages(uint32_t secwmr1, uint32_t *first, uint32_t *last);

/* Findings that make the flash driver unsafe to use: with any of them the
 * bank-to-address and bank-to-security rules below do not hold, so the board
 * gives no flash partitions (a wrong SECBOOTADD0 alone does not matter here). */
#define U585_FLASH_OPTION_BLOCKERS (U585_OPTION_TZ_DISABLED | U585_OPTION_BANKS_SWAPPED \
                                    | U585_OPTION_APP_BANK_SECURE | U585_OPTION_KERNEL_BANK_OPEN)

/* ---- flash controller (u585_flash.c) ----
 * The internal flash as the driver sees it: one array of BOARD_FLASH_SIZE
 * bytes, offset 0 = the first byte of bank 1. These rules hold with the
 * provisioned option bytes only (SWAP_BANK = 0, bank 1 wholly non-secure,
 * bank 2 wholly secure; see U585_FLASH_OPTION_BLOCKERS). */

/* Where one array offset lives and how the kernel reaches it. */
typedef struct u585_flash_place {
    uint32_t bank;      /* 1 or 2 (SWAP_BANK = 0: bank 1 is the lower MiB) */
    uint32_t page;      /* 8 KiB page within the bank, 0..127 */
    bool secure;        /* bank 2: a secure page; bank 1: a non-secure page */
    uint32_t address;   /* the alias reads and program writes use: 0x08... (NS)
                         * for bank 1, 0x0C... (S) for bank 2 */
    uint32_t keyr;      /* the register trio for this page's security: FLASH_NSKEYR, */
    uint32_t sr;        /* NSSR, NSCR at the non-secure alias for bank 1; FLASH_SECKEYR, */
    uint32_t cr;        /* SECSR, SECCR at the secure alias for bank 2 (absolute addresses) */
} u585_flash_place;

/* Fills *place for array offset `offset`. False (and *place untouched) when
 * offset is outside the array. */
bool u585_flash_locate(uint32_t offset, u585_flash_place *place);

/* The control-register value that selects a page erase of place's page
 * (PER, PNB, BKER), without STRT: the driver writes it, then it | STRT. */
uint32_t u585_flash_erase_cr(const u585_flash_place *place);

/* The control-register value for quad-word programming: PG alone (no burst). */
#define U585_FLASH_PROGRAM_CR FLASH_CR_PG

/* The error flags of a FLASH_NSSR/SECSR value that fail an operation:
 * OPERR, PROGERR, WRPERR, PGAERR, SIZERR, PGSERR (0: none). */
uint32_t u585_flash_sr_errors(uint32_t sr);

#endif
