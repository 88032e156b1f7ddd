/*
 * What the portable debug monitor (bw_debug_monitor.c) needs from the
 * architecture layer: stopping and resuming the app without losing its
 * state, its registers, and whether faults stop in the monitor. Armv8-M:
 * kernel/arch/armv8m/debug_halt.c. All from the kernel loop only.
 */
#ifndef BW_DEBUG_ARCH_H
#define BW_DEBUG_ARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "bw_debug_packets.h"
#include "bw_err.h"

/* Why the app is halted: signal (BW_DBG_SIG*), the exception that stopped
 * it (0: a halt request) and the fault status words of SPEC §20 STATE. */
typedef struct bw_debug_stop {
    uint8_t signal;
    uint8_t exception;
    uint32_t fault[BW_DBG_FAULT_WORDS];
} bw_debug_stop;

/* Attached: app faults outside kernel calls halt the app in the monitor
 * (stop reason kept) instead of going to the crash handling. Detached:
 * today's crash behaviour. */
void bw_debug_arch_attach(bool attached);

/* Asks for the app to halt as soon as the kernel loop would return into it
 * (not inside a kernel call). No effect if it is halted or not running. */
void bw_debug_arch_halt(void);

/* Asks for the halted app to continue where it stopped, with its registers
 * as the monitor left them. False when it is not halted. */
bool bw_debug_arch_resume(void);

/* BW_DBG_RUNNING, BW_DBG_HALTED (with *stop filled) or BW_DBG_NOT_RUNNING. */
uint8_t bw_debug_arch_state(bw_debug_stop *stop);

/* The halted app's registers, numbered as in SPEC §20. BW_E_UNAVAILABLE when not
 * halted, BW_E_FAULT when its exception frame is not in its RAM. */
bw_err bw_debug_arch_regs(uint32_t regs[BW_DBG_REG_COUNT]);

/* Writes one register of the halted app (0-12, 14-16). BW_E_UNAVAILABLE when not
 * halted, BW_E_DENIED for a read-only register, BW_E_FAULT as above. */
bw_err bw_debug_arch_reg_write(uint32_t index, uint32_t value);

/* App code was just rewritten (a breakpoint): the core must fetch it anew. */
void bw_debug_arch_code_changed(void);

/* The app slot's address in the app's address space (its flash partition's offset 0). */
uint32_t bw_debug_arch_app_slot_base(void);

#endif
