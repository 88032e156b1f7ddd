/*
 * STM32U585 board: peripheral addresses and interrupt numbers, and the
 * memory map from memory_map.def.
 *
 * UNTESTED ON HARDWARE. This port builds and links with the map in memory_map.def; every
 * address and bit was checked against RM0456 and ST's CMSIS device header
 * (stm32u585xx.h), but no chip has run it yet (see README.md).
 *
 * Addresses of peripherals the kernel drives are their secure aliases.
 */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_BUNDLE_ID          2u   /* BW_BOARD_STM32U585 */
#define BOARD_NAME               "stm32u585"

/* The secure alias of an SRAM or peripheral address is its non-secure alias
 * plus this; flash has its own offset (0x08000000 -> 0x0C000000). */
#define BOARD_SECURE_ALIAS_OFFSET       0x10000000u
#define BOARD_FLASH_SECURE_ALIAS_OFFSET 0x04000000u

/* ---- the memory map ----
 * Flash, slots, partitions, gate and RAM regions: generated into the build
 * tree from memory_map.def, the one table of this board (see there). */
#include "memory_map.h"

/* ---- flash geometry ---- */
#define BOARD_FLASH_BANK_SIZE    0x00100000u
#define BOARD_FLASH_PAGE_SIZE    0x00002000u   /* 8 KiB erase unit */
#define BOARD_FLASH_BANK_PAGES   128u

/* The flash driver (u585_flash.c) and its partitions (port_flash_partition). */
#define BOARD_FLASH_REGS_NS      0x40022000u   /* FLASH registers, non-secure alias */
#define BOARD_FLASH_SECTOR_SIZE  BOARD_FLASH_PAGE_SIZE
#define BOARD_FLASH_PROGRAM_UNIT 16u           /* a quad-word, programmed once between erases (ECC) */

/* The SRAM banks as the block-based memory protection controllers see them. */
#define BOARD_SRAM1_SIZE         0x00030000u   /* 192 KiB at 0x20000000, MPCBB1 */
#define BOARD_SRAM2_SIZE         0x00010000u   /* 64 KiB at 0x20030000, MPCBB2 */
#define BOARD_SRAM3_SIZE         0x00080000u   /* 512 KiB at 0x20040000, MPCBB3 */
#define BOARD_SRAM4_SIZE         0x00004000u   /* 16 KiB at 0x28000000, MPCBB4 */
#define BOARD_SRAM3_APP_SIZE     0x00040000u   /* the app's lower half of SRAM3 */

/* ---- peripherals (secure aliases unless named _NS) ---- */
#define BOARD_PERIPHERALS_NS_BASE  0x40000000u   /* the non-secure peripheral window */
#define BOARD_PERIPHERALS_NS_LIMIT 0x4FFFFFFFu
#define BOARD_RCC                0x56020C00u
#define BOARD_RCC_NS             0x46020C00u   /* the app's name for RCC */
#define BOARD_PWR                0x56020800u   /* power control */
#define BOARD_FLASH_REGS         0x50022000u   /* FLASH interface registers */
#define BOARD_GTZC1_TZSC         0x50032400u
#define BOARD_GTZC1_MPCBB1       0x50032C00u   /* SRAM1 */
#define BOARD_GTZC1_MPCBB2       0x50033000u   /* SRAM2 */
#define BOARD_GTZC1_MPCBB3       0x50033400u   /* SRAM3 */
#define BOARD_GTZC2_MPCBB4       0x56023800u   /* SRAM4 */
#define BOARD_GPIO_PORT(n)       (0x52020000u + 0x400u * (n))   /* GPIOA (0) .. GPIOI (8) */
#define BOARD_GPIO_PORT_COUNT    9u
#define BOARD_GPIOA              BOARD_GPIO_PORT(0u)

/* Peripherals the kernel owns */
#define BOARD_CONSOLE_USART      0x50013800u   /* USART1: kernel console, PA9 TX / PA10 RX, AF7 */
#define BOARD_CONSOLE_BAUD       115200u
#define BOARD_CONSOLE_TX_PIN     9u
#define BOARD_CONSOLE_RX_PIN     10u
#define BOARD_CONSOLE_PIN_AF     7u
#define BOARD_KERNEL_TIMER       0x50000000u   /* TIM2 (32-bit): the kernel time base */
#define BOARD_RNG                0x520C0800u
#define BOARD_IWDG               0x50003000u   /* the secure watchdog (resets the chip) */
#define BOARD_LSI_HZ             32000u        /* the IWDG's clock */

/* ---- interrupts (IRQn, RM0456 vector table) ---- */
#define BOARD_IRQ_WWDG           0u
#define BOARD_IRQ_RAMCFG         5u
#define BOARD_IRQ_FLASH_S        7u
#define BOARD_IRQ_GTZC           8u
#define BOARD_IRQ_IWDG           27u
#define BOARD_IRQ_KERNEL_TIMER   45u           /* TIM2 */
#define BOARD_IRQ_CONSOLE        61u           /* USART1 */
#define BOARD_IRQ_RNG            94u
/* Lines 0..125: the last, LSECSSD (125), makes 126 (RM0456 and the CMSIS
 * header agree; "125" counts only up to FMAC at 124). */
#define BOARD_IRQ_COUNT          126u

/* ---- clocks ----
 * Left as reset leaves them: SYSCLK = MSIS at 4 MHz, AHB and both APB
 * prescalers at 1, voltage range 4, flash at 0 wait states. A later issue
 * raises SYSCLK (PLL1); the time base and console derive from these. */
#define BOARD_SYSCLK_HZ          4000000u
#define BOARD_HCLK_HZ            BOARD_SYSCLK_HZ
#define BOARD_PCLK1_HZ           BOARD_HCLK_HZ   /* APB1: TIM2's clock (x1 at APB1 prescaler 1) */
#define BOARD_PCLK2_HZ           BOARD_HCLK_HZ   /* APB2: USART1's clock (USART1SEL = PCLK2 at reset) */
#define BOARD_TIMEBASE_HZ        1000000u        /* TIM2 counts microseconds */

#endif
