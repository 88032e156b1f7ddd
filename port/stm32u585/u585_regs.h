/*
 * STM32U585 registers the port touches, by their RM0456 names: offsets from
 * the peripheral bases in board.h and the bits used. Only what the port uses
 * is named. Checked against RM0456 and ST's stm32u585xx.h (CMSIS device
 * header v1.4.x); untested on hardware.
 *
 * Plain #defines only (no access), so host tests can include it too.
 */
#ifndef U585_REGS_H
#define U585_REGS_H

#define U585_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* ---- RCC (reset and clock control) ---- */
#define RCC_CR                   0x000u
#define RCC_CR_HSI48ON           (1u << 12)
#define RCC_CR_HSI48RDY          (1u << 13)
#define RCC_AHB1ENR              0x088u
#define RCC_AHB2ENR1             0x08Cu
#define RCC_AHB3ENR              0x094u
#define RCC_APB1ENR1             0x09Cu
#define RCC_APB1ENR2             0x0A0u
#define RCC_APB2ENR              0x0A4u
#define RCC_SECCFGR              0x110u

/* RCC_AHB1ENR */
#define RCC_AHB1ENR_GPDMA1EN     (1u << 0)
#define RCC_AHB1ENR_CORDICEN     (1u << 1)
#define RCC_AHB1ENR_FMACEN       (1u << 2)
#define RCC_AHB1ENR_MDF1EN       (1u << 3)
#define RCC_AHB1ENR_FLASHEN      (1u << 8)
#define RCC_AHB1ENR_CRCEN        (1u << 12)
#define RCC_AHB1ENR_TSCEN        (1u << 16)
#define RCC_AHB1ENR_RAMCFGEN     (1u << 17)
#define RCC_AHB1ENR_DMA2DEN      (1u << 18)
#define RCC_AHB1ENR_GTZC1EN      (1u << 24)
#define RCC_AHB1ENR_BKPSRAMEN    (1u << 28)
#define RCC_AHB1ENR_DCACHE1EN    (1u << 30)
#define RCC_AHB1ENR_SRAM1EN      (1u << 31)

/* RCC_AHB2ENR1 */
#define RCC_AHB2ENR1_GPIOAEN     (1u << 0)   /* GPIOA..GPIOI: bits 0..8 */
#define RCC_AHB2ENR1_GPIO_ALL    0x000001FFu
#define RCC_AHB2ENR1_ADC12EN     (1u << 10)
#define RCC_AHB2ENR1_OTGEN       (1u << 14)
#define RCC_AHB2ENR1_AESEN       (1u << 16)
#define RCC_AHB2ENR1_HASHEN      (1u << 17)
#define RCC_AHB2ENR1_RNGEN       (1u << 18)
#define RCC_AHB2ENR1_PKAEN       (1u << 19)
#define RCC_AHB2ENR1_SAESEN      (1u << 20)
#define RCC_AHB2ENR1_OCTOSPIMEN  (1u << 21)
#define RCC_AHB2ENR1_OTFDEC1EN   (1u << 23)
#define RCC_AHB2ENR1_OTFDEC2EN   (1u << 24)
#define RCC_AHB2ENR1_SDMMC1EN    (1u << 27)
#define RCC_AHB2ENR1_SDMMC2EN    (1u << 28)
#define RCC_AHB2ENR1_SRAM2EN     (1u << 30)
#define RCC_AHB2ENR1_SRAM3EN     (1u << 31)

/* RCC_AHB3ENR */
#define RCC_AHB3ENR_PWREN        (1u << 2)
#define RCC_AHB3ENR_GTZC2EN      (1u << 12)

/* RCC_APB1ENR1 */
#define RCC_APB1ENR1_TIM2EN      (1u << 0)
#define RCC_APB1ENR1_TIM3EN      (1u << 1)
#define RCC_APB1ENR1_TIM4EN      (1u << 2)
#define RCC_APB1ENR1_TIM5EN      (1u << 3)
#define RCC_APB1ENR1_TIM6EN      (1u << 4)
#define RCC_APB1ENR1_TIM7EN      (1u << 5)
#define RCC_APB1ENR1_WWDGEN      (1u << 11)
#define RCC_APB1ENR1_SPI2EN      (1u << 14)
#define RCC_APB1ENR1_USART2EN    (1u << 17)
#define RCC_APB1ENR1_USART3EN    (1u << 18)
#define RCC_APB1ENR1_UART4EN     (1u << 19)
#define RCC_APB1ENR1_UART5EN     (1u << 20)
#define RCC_APB1ENR1_I2C1EN      (1u << 21)
#define RCC_APB1ENR1_I2C2EN      (1u << 22)
#define RCC_APB1ENR1_CRSEN       (1u << 24)

/* RCC_APB1ENR2 */
#define RCC_APB1ENR2_I2C4EN      (1u << 1)
#define RCC_APB1ENR2_LPTIM2EN    (1u << 5)
#define RCC_APB1ENR2_FDCAN1EN    (1u << 9)
#define RCC_APB1ENR2_UCPD1EN     (1u << 23)

/* RCC_APB2ENR */
#define RCC_APB2ENR_TIM1EN       (1u << 11)
#define RCC_APB2ENR_SPI1EN       (1u << 12)
#define RCC_APB2ENR_TIM8EN       (1u << 13)
#define RCC_APB2ENR_USART1EN     (1u << 14)
#define RCC_APB2ENR_TIM15EN      (1u << 16)
#define RCC_APB2ENR_TIM16EN      (1u << 17)
#define RCC_APB2ENR_TIM17EN      (1u << 18)
#define RCC_APB2ENR_SAI1EN       (1u << 21)
#define RCC_APB2ENR_SAI2EN       (1u << 22)

/* RCC_SECCFGR: which clock configurations only secure code may change */
#define RCC_SECCFGR_MSISEC       (1u << 2)
#define RCC_SECCFGR_SYSCLKSEC    (1u << 5)
#define RCC_SECCFGR_PRESCSEC     (1u << 6)
#define RCC_SECCFGR_PLL1SEC      (1u << 7)
#define RCC_SECCFGR_HSI48SEC     (1u << 11)
#define RCC_SECCFGR_RMVFSEC      (1u << 12)

/* ---- GPIO ---- */
#define GPIO_MODER               0x00u       /* 2 bits a pin; 0b10 = alternate function */
#define GPIO_PUPDR               0x0Cu       /* 2 bits a pin; 0b01 = pull-up */
#define GPIO_AFRH                0x24u       /* 4 bits a pin, pins 8..15 */
#define GPIO_SECCFGR             0x30u       /* 1 = secure pin (reset: all secure) */
#define GPIO_MODE_ALTERNATE      0x2u
#define GPIO_PULL_UP             0x1u

/* ---- USART ---- */
#define USART_CR1                0x00u
#define USART_BRR                0x0Cu
#define USART_ISR                0x1Cu
#define USART_TDR                0x28u
#define USART_PRESC              0x2Cu
#define USART_CR1_UE             (1u << 0)
#define USART_CR1_RE             (1u << 2)
#define USART_CR1_TE             (1u << 3)
#define USART_ISR_TXE            (1u << 7)   /* TXE/TXFNF: TDR can take a byte */

/* ---- TIM2..TIM5 (general-purpose 32-bit) ---- */
#define TIM_CR1                  0x00u
#define TIM_DIER                 0x0Cu
#define TIM_SR                   0x10u
#define TIM_EGR                  0x14u
#define TIM_CNT                  0x24u
#define TIM_PSC                  0x28u
#define TIM_ARR                  0x2Cu
#define TIM_CR1_CEN              (1u << 0)
#define TIM_CR1_URS              (1u << 2)   /* only counter overflow raises UIF */
#define TIM_DIER_UIE             (1u << 0)
#define TIM_SR_UIF               (1u << 0)   /* rc_w0 */
#define TIM_EGR_UG               (1u << 0)

/* ---- RNG ---- */
#define RNG_CR                   0x00u
#define RNG_SR                   0x04u
#define RNG_DR                   0x08u
#define RNG_NSCR                 0x0Cu
#define RNG_HTCR                 0x10u
#define RNG_CR_RNGEN             (1u << 2)
#define RNG_CR_CED               (1u << 5)   /* 1 = clock error detection off; we keep it on */
#define RNG_CR_CONDRST           (1u << 30)
#define RNG_SR_DRDY              (1u << 0)
#define RNG_SR_CECS              (1u << 1)
#define RNG_SR_SECS              (1u << 2)
#define RNG_SR_CEIS              (1u << 5)   /* rc_w0 */
#define RNG_SR_SEIS              (1u << 6)   /* rc_w0 */
/* The configuration RM0456 and AN4230 give for NIST SP800-90B compliance
 * (RNG_CONFIG1/2/3, CLKDIV in RNG_CR; RNG_HTCR; RNG_NSCR), as in the CMSIS header. */
#define RNG_CR_NIST_CONFIG       0x00F00D00u
#define RNG_HTCR_NIST_VALUE      0x0000A2B0u
#define RNG_NSCR_NIST_VALUE      0x00017CBBu

/* ---- FLASH interface: program/erase (u585_flash.c) and option bytes as loaded ----
 * The non-secure registers (NSKEYR, NSSR, NSCR) drive non-secure pages, the
 * secure ones (SECKEYR, SECSR, SECCR) secure pages; see u585_flash.c. */
#define FLASH_NSKEYR             0x08u
#define FLASH_SECKEYR            0x0Cu
#define FLASH_NSSR               0x20u
#define FLASH_SECSR              0x24u
#define FLASH_NSCR               0x28u
#define FLASH_SECCR              0x2Cu
#define FLASH_KEY1               0x45670123u  /* xxKEYR: KEY1 then KEY2 clears xxCR.LOCK */
#define FLASH_KEY2               0xCDEF89ABu
/* FLASH_NSSR and FLASH_SECSR share these positions (OPTWERR and the OEM/PD
 * bits exist in NSSR only and are not used here). Errors are rc_w1. */
#define FLASH_SR_EOP             (1u << 0)
#define FLASH_SR_OPERR           (1u << 1)
#define FLASH_SR_PROGERR         (1u << 3)
#define FLASH_SR_WRPERR          (1u << 4)
#define FLASH_SR_PGAERR          (1u << 5)
#define FLASH_SR_SIZERR          (1u << 6)
#define FLASH_SR_PGSERR          (1u << 7)
#define FLASH_SR_BSY             (1u << 16)
#define FLASH_SR_WDW             (1u << 17)  /* a quad-word is partly written, waiting for the rest */
/* FLASH_NSCR and FLASH_SECCR share these positions (OPTSTRT, OBL_LAUNCH,
 * OPTLOCK exist in NSCR only, INV in SECCR only; none used here). */
#define FLASH_CR_PG              (1u << 0)
#define FLASH_CR_PER             (1u << 1)
#define FLASH_CR_MER1            (1u << 2)
#define FLASH_CR_PNB_SHIFT       3u          /* bits 9:3: page number in the bank, 0..127 */
#define FLASH_CR_PNB_MASK        (0x7Fu << FLASH_CR_PNB_SHIFT)
#define FLASH_CR_BKER            (1u << 11)  /* 1: the page is in bank 2 */
#define FLASH_CR_BWR             (1u << 14)
#define FLASH_CR_MER2            (1u << 15)
#define FLASH_CR_STRT            (1u << 16)
#define FLASH_CR_EOPIE           (1u << 24)
#define FLASH_CR_ERRIE           (1u << 25)
#define FLASH_CR_LOCK            (1u << 31)
#define FLASH_ECCR               0x30u       /* ECC errors (one register for both worlds) */
#define FLASH_ECCR_ECCD          (1u << 31)  /* double error detected (NMI); rc_w1 */
#define FLASH_OPTR               0x40u
#define FLASH_SECBOOTADD0R       0x4Cu
#define FLASH_SECWM1R1           0x50u
#define FLASH_SECWM2R1           0x60u
#define FLASH_OPTR_SRAM_RST      (1u << 15)  /* 0: SRAM1/3/4 erased on a system reset */
#define FLASH_OPTR_SWAP_BANK     (1u << 20)
#define FLASH_OPTR_TZEN          (1u << 31)
#define FLASH_SECWMR1_PSTRT_MASK 0x7Fu       /* bits 6:0: first secure page */
#define FLASH_SECWMR1_PEND_SHIFT 16u         /* bits 22:16: last secure page */
#define FLASH_SECBOOTADD0R_ADDR_MASK 0xFFFFFF80u   /* SECBOOTADD0[24:0] in bits 31:7 */

/* ---- GTZC1 TZSC (peripheral security) ---- */
#define TZSC_SECCFGR1            0x10u
#define TZSC_SECCFGR2            0x14u
#define TZSC_SECCFGR3            0x18u
#define TZSC_SECCFGR1_TIM2SEC    (1u << 0)
#define TZSC_SECCFGR1_WWDGSEC    (1u << 6)
#define TZSC_SECCFGR1_IWDGSEC    (1u << 7)
#define TZSC_SECCFGR2_USART1SEC  (1u << 3)
#define TZSC_SECCFGR3_RNGSEC     (1u << 13)
#define TZSC_SECCFGR3_RAMCFGSEC  (1u << 22)

/* ---- PWR (power control: TrustZone-aware, not a TZSC peripheral) ---- */
#define PWR_SECCFGR              0x30u
#define PWR_SECCFGR_LPMSEC       (1u << 12)  /* PWR_CR1 (LPMS, SRAM retention), CR2, SR.CSSF: secure writes only */

/* ---- IWDG (independent watchdog: the kernel's secure watchdog) ---- */
#define IWDG_KR                  0x00u
#define IWDG_PR                  0x04u
#define IWDG_RLR                 0x08u
#define IWDG_SR                  0x0Cu
#define IWDG_KR_START            0xCCCCu     /* starts the LSI and the counter */
#define IWDG_KR_UNLOCK           0x5555u     /* PR and RLR writable */
#define IWDG_KR_RELOAD           0xAAAAu
#define IWDG_PR_DIV32            3u          /* LSI 32 kHz / 32: 1 ms per count */
#define IWDG_RLR_MAX             0xFFFu
#define IWDG_SR_UPDATING         0x7u        /* PVU, RVU, WVU: a write still in progress */

/* ---- GTZC MPCBB (SRAM block security: 512-byte blocks, 32 to a register) ---- */
#define MPCBB_SECCFGR(n)         (0x100u + 4u * (n))
#define MPCBB_BLOCK_SIZE         512u
#define MPCBB_SUPERBLOCK_SIZE    (32u * MPCBB_BLOCK_SIZE)   /* 16 KiB: one SECCFGR word */

#endif
