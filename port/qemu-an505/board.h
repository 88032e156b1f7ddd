/*
 * QEMU mps2-an505 board: memory map and peripheral addresses.
 *
 * Flash is the 16 MiB PSRAM at 0x80000000, backed by a host file so that it
 * persists and a kill of QEMU is a real power cut (see docs/DESIGN.md and the
 * flash layout in docs/SPEC.md). Kernel RAM is SSRAM2 (secure), app RAM the
 * first 528 KiB of SSRAM3 (non-secure).
 */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME               "qemu-an505"
#define BOARD_BUNDLE_ID          1u   /* BW_BOARD_QEMU_AN505: bundles name the board they are for */

/* Flash (PSRAM, file-backed) */
#define BOARD_FLASH_BASE         0x80000000u
#define BOARD_FLASH_SIZE         0x01000000u
#define BOARD_APP_SLOT_BASE      0x80000000u
#define BOARD_APP_SLOT_SIZE      0x00100000u
#define BOARD_KERNEL_SLOT_BASE   0x80100000u
#define BOARD_KERNEL_SLOT_SIZE   0x00100000u
#define BOARD_IDENTITY_BASE      0x80FFE000u   /* provisioning sector: identity, keys */
#define BOARD_IDENTITY_SIZE      0x00002000u

/* NOR rules the flash driver (flash_qemu.c) enforces on the whole window,
 * as on the U585: erase sector and program unit. */
#define BOARD_FLASH_SECTOR_SIZE  0x2000u
#define BOARD_FLASH_PROGRAM_UNIT 16u

/* Partitions (bw_flash.h): offsets within the flash window, sector multiples.
 * The kernel slot and the identity sector are not partitions. */
#define BOARD_PART_APP_SLOT_OFFSET      0x000000u
#define BOARD_PART_APP_SLOT_SIZE        0x100000u
#define BOARD_PART_IMAGE_A_OFFSET       0x200000u
#define BOARD_PART_IMAGE_A_SIZE         0x110000u
#define BOARD_PART_IMAGE_B_OFFSET       0x310000u
#define BOARD_PART_IMAGE_B_SIZE         0x110000u
#define BOARD_PART_UPDATE_STATE_OFFSET  0x420000u
#define BOARD_PART_UPDATE_STATE_SIZE    0x010000u
#define BOARD_PART_CRASH_LOG_OFFSET     0x430000u
#define BOARD_PART_CRASH_LOG_SIZE       0x010000u
#define BOARD_PART_CREDENTIALS_OFFSET   0x440000u   /* device key and certificates, 2 sectors */
#define BOARD_PART_CREDENTIALS_SIZE     0x004000u

/* The system-call gate: 8 bytes an entry, fixed forever (sdk/syscalls.def). */
#define BOARD_GATE_BASE          (BOARD_KERNEL_SLOT_BASE + 0x400u)
#define BOARD_GATE_SIZE          0x400u

/* RAM */
#define BOARD_KERNEL_RAM_BASE    0x38000000u   /* SSRAM2, secure alias */
#define BOARD_KERNEL_RAM_SIZE    0x00040000u
#define BOARD_APP_RAM_BASE       0x28200000u   /* SSRAM3, non-secure alias */
#define BOARD_APP_RAM_SIZE       0x00084000u   /* 528 KiB */

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
