/*
 * What the armv8m layer and kernel/main.c need from a board, beyond the
 * portable core's port contract (kernel/core/include/bw_port.h). Each board
 * folder under port/ implements these next to its bw_port.h functions.
 */
#ifndef BW_BOARD_H
#define BW_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One SAU region; limit is the last byte's address. */
typedef struct bw_sau_region {
    uint32_t base;
    uint32_t limit;
    int non_secure_callable;   /* 1: NSC (the gate), 0: non-secure */
} bw_sau_region;

/* Brings up clocks, the kernel console and time base, and the security set-up
 * (MPCs, PPCs, interrupt routing). Called once, first thing in kernel_main. */
void board_init(void);

/* The SAU regions that make the app's world; *count receives their number. */
const bw_sau_region *board_sau_regions(size_t *count);

/* The app's vector table (its initial MSP and reset handler are words 0, 1). */
uint32_t board_app_vector_table(void);

/* Runs the handler of a secure interrupt the board owns (IRQn from the NVIC). */
void board_irq(uint32_t irqn);

/* Starts the secure watchdog: unless board_watchdog_feed is called at least
 * every timeout_ms, it raises the secure NMI (the kernel logs and resets the
 * chip) or resets the chip itself. Once, from arch_init. */
void board_watchdog_start(uint32_t timeout_ms);

/* The secure NMI's board sources, first: true when the board handled it and
 * the kernel goes on (the U585: a flash ECC double error during a kernel
 * flash read, which that read then reports as BW_E_TORN); false otherwise
 * (the secure watchdog: the kernel logs and resets). NMI context. */
bool board_nmi(void);

/* Restarts the secure watchdog's countdown. ISR-safe; called every
 * supervision tick. */
void board_watchdog_feed(void);

/* Test support: ends an emulated run with an exit code (no-op on hardware). */
void board_test_exit(uint32_t code);

/* ---- the local link: a UART the kernel owns for local delivery (docs/SPEC.md §9;
 * UART3 on qemu-an505) ----
 * Received bytes are queued by the link's interrupt (which does nothing else
 * but pend the kernel loop) in a bounded buffer; the kernel loop reads them. */

/* Starts receiving on the link. Once, from the kernel loop; before it no byte
 * is queued and no kernel loop is pended on the link's behalf. */
void board_link_start(void);

/* Moves up to len queued bytes, oldest first, into buf; returns how many
 * (0: none, or the board has no link). Kernel loop only. */
size_t board_link_read(uint8_t *buf, size_t len);

/* Sends len bytes, waiting while the transmitter is full (bounded by the
 * UART's speed); a board without a link drops them. Kernel loop only. */
void board_link_write(const uint8_t *data, size_t len);

/* Received bytes dropped since boot because the queue was full. ISR-safe. */
uint32_t board_link_rx_dropped(void);

/* ---- the modem: the UART of the cellular module (docs/SPEC.md §11; UART2 on
 * qemu-an505), the same shape as the local link ---- */

/* Starts receiving from the modem. Once, from the kernel loop. */
void board_modem_start(void);

/* Moves up to len queued bytes, oldest first, into buf; returns how many
 * (0: none, or the board has no modem). Kernel loop only. */
size_t board_modem_read(uint8_t *buf, size_t len);

/* Sends up to len bytes; returns how many were taken (a board that waits on
 * its transmitter takes all; a board without a modem takes none). Kernel loop only. */
size_t board_modem_write(const uint8_t *data, size_t len);

/* Received bytes dropped since boot because the queue was full. ISR-safe. */
uint32_t board_modem_rx_dropped(void);

#endif
