/*
 * QEMU mps2-an505 board: peripheral addresses, and the memory map from
 * memory_map.def (see there, docs/DESIGN.md and the flash layout in
 * docs/SPEC.md).
 */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME               "qemu-an505"
#define BOARD_BUNDLE_ID          1u   /* BW_BOARD_QEMU_AN505: bundles name the board they are for */

/* The memory map (flash, slots, partitions, gate, RAM): generated into the
 * build tree from memory_map.def, the one table of this board. */
#include "memory_map.h"

/* NOR rules the flash driver (flash_qemu.c) enforces on the whole window,
 * as on the U585: erase sector and program unit. */
#define BOARD_FLASH_SECTOR_SIZE  0x2000u
#define BOARD_FLASH_PROGRAM_UNIT 16u

/* Memory protection controllers (secure alias) and their 1 KiB blocks */
#define BOARD_MPC_SSRAM1         0x58007000u
#define BOARD_MPC_SSRAM2         0x58008000u
#define BOARD_MPC_SSRAM3         0x58009000u

/* Security controller (SSE-200 secure privilege control) */
#define BOARD_SECCTRL            0x50080000u
#define SECCTRL_SECRESPCFG       (BOARD_SECCTRL + 0x10u)
#define SECCTRL_NSCCFG           (BOARD_SECCTRL + 0x14u)
#define SECCTRL_AHBNSPPCEXP0     (BOARD_SECCTRL + 0x60u)
#define SECCTRL_APBNSPPC0        (BOARD_SECCTRL + 0x70u)
#define SECCTRL_APBNSPPC1        (BOARD_SECCTRL + 0x74u)
#define SECCTRL_APBNSPPCEXP0     (BOARD_SECCTRL + 0x80u)
#define SECCTRL_APBNSPPCEXP1     (BOARD_SECCTRL + 0x84u)
#define SECCTRL_APBNSPPCEXP2     (BOARD_SECCTRL + 0x88u)

/* Peripherals the kernel owns (secure alias) */
#define BOARD_KERNEL_TIMER       0x50001000u   /* CMSDK TIMER1: the kernel time base */
#define BOARD_KERNEL_TIMER_IRQ   4u
#define BOARD_CONSOLE_UART       0x50201000u   /* UART1: kernel console */
#define BOARD_MODEM_UART         0x50202000u   /* UART2: the cellular modem (SPEC §11) */
#define BOARD_MODEM_RX_IRQ       36u           /* UART2 receive (37: transmit, unused) */
#define BOARD_LINK_UART          0x50203000u   /* UART3: local delivery link (SPEC §9) */
#define BOARD_LINK_RX_IRQ        38u           /* UART3 receive (39: transmit, unused) */
#define BOARD_FPGAIO             0x50302000u   /* LEDs, buttons: mediated */
#define BOARD_FPGAIO_APP         0x40302000u   /* the app's name for it */
#define BOARD_SECURE_WATCHDOG    0x50081000u
#define BOARD_NS_WATCHDOG        0x40081000u   /* the SSE-200's NS watchdog: kept from the app (SAU) */

/* The app's console, for reference: UART0 at 0x40200000 (non-secure). */

#define BOARD_SYSCLK_HZ          20000000u
#define BOARD_IRQ_COUNT          96u
#define BOARD_SAU_REGIONS        8u            /* SAU_TYPE.SREGION of the an505's Cortex-M33 */

#endif
