/*
 * TEMPLATE board: memory map, peripheral addresses and interrupt numbers.
 * Copy port/template/ to port/<your-board>/ and replace every value marked
 * TODO with your chip's (reference manual + CMSIS device header). The values
 * here are a fictional but self-consistent Armv8-M map (1 MiB of flash at
 * 0x00000000 non-secure / 0x10000000 secure: kernel in the lower half, app
 * in the upper), so the template reads like a real port; they belong to no
 * chip. An app slot at address 0 would not build: app_world.c compares the
 * app's entry with BOARD_APP_SLOT_BASE, which -Wtype-limits rejects for 0.
 *
 * The generic kernel code uses: BOARD_NAME, BOARD_IRQ_COUNT (the kernel's
 * vector table), BOARD_APP_SLOT_BASE/SIZE and BOARD_APP_RAM_BASE/SIZE (the
 * app's initial stack and entry are checked against them). Keep those names.
 * Mirror every value that the linker or CMake also needs in memory.ld and
 * board.cmake.
 */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_BUNDLE_ID          0u   /* TODO: a BW_BOARD_* id in bw_manifest.h */
#define BOARD_NAME               "template"   /* TODO: the folder name */

/* ---- flash ---- */
#define BOARD_APP_SLOT_BASE      0x00080000u  /* TODO: app flash, non-secure alias */
#define BOARD_APP_SLOT_SIZE      0x00080000u  /* TODO */
#define BOARD_BOOT_BASE          0x10000000u  /* TODO: boot stub, secure alias (where the chip boots) */
#define BOARD_BOOT_SIZE          0x00008000u
#define BOARD_KERNEL_SLOT_BASE   0x10008000u  /* TODO: kernel image, secure alias */
#define BOARD_KERNEL_SLOT_SIZE   0x00076000u
#define BOARD_IDENTITY_BASE      0x1007E000u  /* TODO: one erase unit for the identity record */
#define BOARD_IDENTITY_SIZE      0x00002000u  /* TODO: its size */

/* The system-call gate: 8 bytes an entry at KERNEL_SLOT + 0x400, fixed
 * forever (kernel/arch/armv8m/kernel.ld, sdk/syscalls.def). Keep as is. */
#define BOARD_GATE_BASE          (BOARD_KERNEL_SLOT_BASE + 0x400u)
#define BOARD_GATE_SIZE          0x400u

/* ---- RAM ---- */
#define BOARD_KERNEL_RAM_BASE    0x30040000u  /* TODO: secure alias */
#define BOARD_KERNEL_RAM_SIZE    0x00040000u  /* the top 4 KiB is the boot stub's (memory.ld) */
#define BOARD_APP_RAM_BASE       0x20000000u  /* TODO: non-secure alias, one contiguous block */
#define BOARD_APP_RAM_SIZE       0x00040000u  /* TODO */

/* ---- peripherals the kernel owns (secure aliases) ---- */
#define BOARD_CONSOLE_UART       0x50010000u  /* TODO: kernel console */
#define BOARD_KERNEL_TIMER       0x50000000u  /* TODO: time base */
#define BOARD_IRQ_KERNEL_TIMER   1u           /* TODO: its IRQn */
#define BOARD_PERIPHERALS_NS_BASE  0x40000000u  /* the non-secure peripheral window */
#define BOARD_PERIPHERALS_NS_LIMIT 0x4FFFFFFFu

/* ---- interrupts and clocks ---- */
#define BOARD_IRQ_COUNT          64u          /* TODO: every NVIC line the chip has */
#define BOARD_SYSCLK_HZ          4000000u     /* TODO: the clock board_init leaves running */

#endif
