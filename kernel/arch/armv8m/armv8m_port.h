/*
 * Port functions that are the same on every Armv8-M board: the interrupt
 * lock, interrupt pending, the app's calling context, the TrustZone half of
 * the app-memory check, tearing down the app's interrupts, chip reset, and
 * reading the provisioning sector from memory-mapped flash
 * (port_provisioning_read, at BOARD_IDENTITY_BASE).
 * Boards implement the rest of bw_port.h / bw_board.h.
 */
#ifndef ARMV8M_PORT_H
#define ARMV8M_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_port.h"

/* True when the app, as the hardware sees its current caller (privileged or
 * not, its MPU), may access [addr, addr+len) as asked: TT via cmse. The board
 * checks its memory map first. */
bool armv8m_app_access_ok(uintptr_t addr, size_t len, bw_access access);

/* Masks, unpends and resets the priority of every interrupt routed to the
 * app (NVIC_ITNS set), for irq_count lines. */
void armv8m_app_irqs_reset(uint32_t irq_count);

/* Resets the whole chip (SYSRESETREQ; the app cannot: SYSRESETREQS). */
void armv8m_system_reset(void) __attribute__((noreturn));

#endif
