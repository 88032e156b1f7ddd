/*
 * A model app for testing the debug monitor on the host
 * (fake_debug_arch.c): it implements the architecture contract
 * (bw_debug_arch.h), the port's app-memory check and flash partition
 * (bw_port.h) and the flash breakpoint store (bw_debug_patch.h).
 *
 * Address space, mapped at fixed low addresses so that 32-bit app
 * addresses are real pointers: a guard page, the app's flash slot
 * (read-only; only the patch store writes it), a page standing for kernel
 * memory, the app's RAM (read-write), a guard page. The guard and kernel
 * pages are PROT_NONE: any access outside the two windows faults.
 */
#ifndef FAKE_DEBUG_ARCH_H
#define FAKE_DEBUG_ARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "bw_debug_arch.h"

#define FAKE_PAGE 0x1000u
#define FAKE_FLASH_BASE 0x10001000u     /* the app slot, FAKE_PAGE bytes */
#define FAKE_KERNEL_BASE 0x10002000u    /* never the app's */
#define FAKE_RAM_BASE 0x10003000u       /* app RAM, FAKE_PAGE bytes */
#define FAKE_FLASH_BP_MAX 8u

typedef struct fake_app {
    uint8_t state;              /* BW_DBG_RUNNING, _HALTED, _NOT_RUNNING */
    bw_debug_stop stop;
    bool attached;
    bool frame_lost;            /* bw_debug_arch_regs/reg_write: BW_E_FAULT */
    bool flash_fails;           /* bw_debug_patch_set: BW_E_IO */
    uint32_t regs[BW_DBG_REG_COUNT];
    unsigned code_changes;      /* bw_debug_arch_code_changed calls */
    unsigned flash_bps;         /* breakpoints in the patch store */
    uint32_t flash_bp[FAKE_FLASH_BP_MAX];     /* their slot offsets */
    uint16_t flash_original[FAKE_FLASH_BP_MAX];
} fake_app;

extern fake_app fake;

/* Maps the address space once (aborts if the addresses are taken). */
void fake_app_map(void);

/* A fresh app: flash and RAM filled from pattern (any bytes), registers,
 * state as given, no breakpoints. */
void fake_app_reset(uint8_t state, uint32_t pattern_seed);

/* Writes the flash slot (as the patch store would: the page is read-only). */
void fake_flash_write16(uint32_t offset, uint16_t value);

#endif
