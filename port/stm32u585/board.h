/*
 * STM32U585 board: memory map, peripheral addresses and interrupt numbers.
 *
 * UNTESTED ON HARDWARE. This port builds and links with the map below; every
 * address and bit was checked against RM0456 and ST's CMSIS device header
 * (stm32u585xx.h), but no chip has run it yet (see README.md).
 *
 * Flash (2 MiB, two 1 MiB banks of 8 KiB pages): bank 1 is the app's
 * (non-secure, 0x08000000-0x080FFFFF); bank 2 is the kernel's (secure alias
 * 0x0C100000-0x0C1FFFFF): boot stub, kernel slot, update journal, crash log,
 * device identity page. The split is made by the FLASH secure watermark
 * option bytes, set at provisioning and checked at boot (board_u585.c).
 *
 * RAM: the app owns SRAM1 + SRAM2 + the lower 256 KiB of SRAM3, contiguous at
 * 0x20000000 (512 KiB), and SRAM4 (16 KiB at 0x28000000): 528 KiB. The kernel
 * owns the upper 256 KiB of SRAM3 (secure alias 0x30080000) and BKPSRAM.
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

/* ---- flash ---- */
#define BOARD_FLASH_BASE         0x0C000000u   /* secure alias of the whole array */
#define BOARD_FLASH_SIZE         0x00200000u
#define BOARD_FLASH_BANK_SIZE    0x00100000u
#define BOARD_FLASH_PAGE_SIZE    0x00002000u   /* 8 KiB erase unit */
#define BOARD_FLASH_BANK_PAGES   128u

#define BOARD_APP_SLOT_BASE      0x08000000u   /* bank 1, non-secure alias */
#define BOARD_APP_SLOT_SIZE      0x00100000u

#define BOARD_BOOT_BASE          0x0C100000u   /* bank 2, secure: the boot stub */
#define BOARD_BOOT_SIZE          0x00008000u
#define BOARD_KERNEL_SLOT_BASE   0x0C108000u
#define BOARD_KERNEL_SLOT_SIZE   0x000DA000u   /* 872 KiB, up to 0x0C1E1FFF */
#define BOARD_IDENTITY_BASE      0x0C1FE000u   /* last page of bank 2 */
#define BOARD_IDENTITY_SIZE      0x00002000u

/* The flash driver (u585_flash.c) and its partitions (port_flash_partition).
 * Offsets are from the start of the array (bank 1 at 0x08000000 NS, bank 2
 * at 0x0C100000 S). The update journal and the crash log sit in bank 2
 * between the kernel slot and the identity page. IMAGE_A/IMAGE_B have no
 * place: two 1 MiB image banks do not fit the internal flash next to the
 * app slot (they need the board's external OCTOSPI flash, a later issue). */
#define BOARD_FLASH_REGS_NS      0x40022000u   /* FLASH registers, non-secure alias */
#define BOARD_FLASH_SECTOR_SIZE  BOARD_FLASH_PAGE_SIZE
#define BOARD_FLASH_PROGRAM_UNIT 16u           /* a quad-word, programmed once between erases (ECC) */
#define BOARD_PART_APP_SLOT_OFFSET      0x000000u   /* bank 1, 0x08000000-0x080FFFFF NS */
#define BOARD_PART_APP_SLOT_SIZE        0x100000u
/* The device credentials: the last two pages of what was the kernel slot. */
#define BOARD_PART_CREDENTIALS_OFFSET   0x1E2000u   /* 0x0C1E2000-0x0C1E5FFF S, 16 KiB */
#define BOARD_PART_CREDENTIALS_SIZE     0x004000u
#define BOARD_PART_UPDATE_STATE_OFFSET  0x1E6000u   /* 0x0C1E6000-0x0C1EDFFF S, 32 KiB */
#define BOARD_PART_UPDATE_STATE_SIZE    0x008000u
#define BOARD_PART_CRASH_LOG_OFFSET     0x1EE000u   /* 0x0C1EE000-0x0C1FDFFF S, 64 KiB */
#define BOARD_PART_CRASH_LOG_SIZE       0x010000u

/* The system-call gate: 8 bytes an entry, fixed forever (sdk/syscalls.def). */
#define BOARD_GATE_BASE          (BOARD_KERNEL_SLOT_BASE + 0x400u)
#define BOARD_GATE_SIZE          0x400u

/* ---- RAM ---- */
#define BOARD_KERNEL_RAM_BASE    0x30080000u   /* upper half of SRAM3, secure alias */
#define BOARD_KERNEL_RAM_SIZE    0x00040000u   /* its top 4 KiB is the boot stub's RAM */
#define BOARD_BKPSRAM_BASE       0x50036400u   /* secure alias, 2 KiB; not linked yet */
#define BOARD_BKPSRAM_SIZE       0x00000800u

#define BOARD_APP_RAM_BASE       0x20000000u   /* SRAM1 + SRAM2 + lower half of SRAM3 */
#define BOARD_APP_RAM_SIZE       0x00080000u   /* 512 KiB */
#define BOARD_APP_SRAM4_BASE     0x28000000u   /* SRAM4, non-secure alias */
#define BOARD_APP_SRAM4_SIZE     0x00004000u   /* 16 KiB: 528 KiB for the app in all */

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
