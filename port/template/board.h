/*
 * TEMPLATE board: peripheral addresses and interrupt numbers.
 * Copy port/template/ to port/<your-board>/ and replace every value marked
 * TODO with your chip's (reference manual + CMSIS device header). The
 * memory map is not here but in memory_map.def, the one table that the
 * header, the linker scripts and CMake are all generated from.
 *
 * The generic kernel code uses: BOARD_NAME, BOARD_IRQ_COUNT (the kernel's
 * vector table), BOARD_APP_SLOT_BASE/SIZE and BOARD_APP_RAM_BASE/SIZE from
 * the map (the app's initial stack and entry are checked against them).
 */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_BUNDLE_ID          0u   /* TODO: a BW_BOARD_* id in bw_manifest.h */
#define BOARD_NAME               "template"   /* TODO: the folder name */

/* ---- the memory map: generated from memory_map.def (TODO: fill that in) ---- */
#include "memory_map.h"

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
