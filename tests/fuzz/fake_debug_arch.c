/*
 * The model app behind the debug monitor on the host (fake_debug_arch.h).
 * Halting and resuming take effect at once; registers live in fake.regs
 * (r13 and the special registers read-only, as on Armv8-M).
 */
#define _GNU_SOURCE   /* MAP_ANONYMOUS, MAP_FIXED_NOREPLACE under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bw_bytes.h"
#include "bw_debug_patch.h"
#include "bw_port.h"
#include "fake_debug_arch.h"

fake_app fake;

static uint8_t *const flash = (uint8_t *)(uintptr_t)FAKE_FLASH_BASE;
static uint8_t *const ram = (uint8_t *)(uintptr_t)FAKE_RAM_BASE;

void fake_app_map(void)
{
    static bool mapped;
    if (mapped) {
        return;
    }
    void *base = (void *)(uintptr_t)(FAKE_FLASH_BASE - FAKE_PAGE);
    void *at = mmap(base, 5 * FAKE_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                    -1, 0);
    if (at != base || mprotect(ram, FAKE_PAGE, PROT_READ | PROT_WRITE) != 0
        || mprotect(flash, FAKE_PAGE, PROT_READ) != 0) {
        fprintf(stderr, "fake_debug_arch: cannot map the app at 0x%08x\n", FAKE_FLASH_BASE);
        abort();
    }
    mapped = true;
}

void fake_flash_write16(uint32_t offset, uint16_t value)
{
    mprotect(flash, FAKE_PAGE, PROT_READ | PROT_WRITE);
    bw_put16(flash + offset, value);
    mprotect(flash, FAKE_PAGE, PROT_READ);
}

void fake_app_reset(uint8_t state, uint32_t seed)
{
    fake_app_map();
    memset(&fake, 0, sizeof fake);
    fake.state = state;
    fake.stop.signal = BW_DBG_SIGINT;
    uint32_t x = seed | 1u;
    mprotect(flash, FAKE_PAGE, PROT_READ | PROT_WRITE);
    for (uint32_t i = 0; i < FAKE_PAGE; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;   /* xorshift32 */
        flash[i] = (uint8_t)x;
        ram[i] = (uint8_t)(x >> 8);
    }
    mprotect(flash, FAKE_PAGE, PROT_READ);
    for (unsigned i = 0; i < BW_DBG_REG_COUNT; i++) {
        fake.regs[i] = FAKE_RAM_BASE + 4u * i;
    }
    fake.regs[BW_DBG_REG_PC] = FAKE_FLASH_BASE + 0x100u;
}

/* ---- bw_debug_arch.h ---- */

void bw_debug_arch_attach(bool attached)
{
    fake.attached = attached;
}

void bw_debug_arch_halt(void)
{
    if (fake.state == BW_DBG_RUNNING) {
        fake.state = BW_DBG_HALTED;
        memset(&fake.stop, 0, sizeof fake.stop);
        fake.stop.signal = BW_DBG_SIGINT;
    }
}

bool bw_debug_arch_resume(void)
{
    if (fake.state != BW_DBG_HALTED) {
        return false;
    }
    fake.state = BW_DBG_RUNNING;
    return true;
}

uint8_t bw_debug_arch_state(bw_debug_stop *stop)
{
    if (stop != NULL && fake.state == BW_DBG_HALTED) {
        *stop = fake.stop;
    }
    return fake.state;
}

bw_err bw_debug_arch_regs(uint32_t regs[BW_DBG_REG_COUNT])
{
    if (fake.state != BW_DBG_HALTED) {
        return BW_E_UNAVAILABLE;
    }
    if (fake.frame_lost) {
        return BW_E_FAULT;
    }
    memcpy(regs, fake.regs, sizeof fake.regs);
    return BW_OK;
}

bw_err bw_debug_arch_reg_write(uint32_t index, uint32_t value)
{
    if (fake.state != BW_DBG_HALTED) {
        return BW_E_UNAVAILABLE;
    }
    if (index > BW_DBG_REG_XPSR || index == BW_DBG_REG_SP) {
        return BW_E_DENIED;
    }
    if (fake.frame_lost) {
        return BW_E_FAULT;
    }
    fake.regs[index] = value;
    return BW_OK;
}

void bw_debug_arch_code_changed(void)
{
    fake.code_changes++;
}

uint32_t bw_debug_arch_app_slot_base(void)
{
    return FAKE_FLASH_BASE;
}

/* ---- bw_port.h: the app's memory and its slot ---- */

static bool inside(uintptr_t addr, size_t len, uint32_t base)
{
    return addr >= base && len <= FAKE_PAGE && addr - base <= FAKE_PAGE - len;
}

bool port_app_range_ok(uintptr_t addr, size_t len, bw_access access)
{
    return inside(addr, len, FAKE_RAM_BASE) || (access == BW_ACCESS_READ && inside(addr, len, FAKE_FLASH_BASE));
}

const bw_flash_partition *port_flash_partition(bw_partition_id id)
{
    static const bw_flash_partition slot = { .device = NULL, .offset = 0, .size = FAKE_PAGE };
    return id == BW_PARTITION_APP_SLOT ? &slot : NULL;
}

/* ---- bw_debug_patch.h: BKPTs in the slot, recorded ---- */

static unsigned flash_bp_at(uint32_t offset)
{
    unsigned i = 0;
    while (i < fake.flash_bps && fake.flash_bp[i] != offset) {
        i++;
    }
    return i;
}

bw_err bw_debug_patch_set(uint32_t offset, uint16_t original)
{
    if ((offset & 1u) != 0 || offset > FAKE_PAGE - 2u) {
        return BW_E_FAULT;
    }
    if (flash_bp_at(offset) < fake.flash_bps) {
        return BW_E_ALREADY;
    }
    if (fake.flash_bps == FAKE_FLASH_BP_MAX) {
        return BW_E_FULL;
    }
    if (fake.flash_fails) {
        return BW_E_IO;
    }
    fake.flash_bp[fake.flash_bps] = offset;
    fake.flash_original[fake.flash_bps++] = original;
    fake_flash_write16(offset, BW_DBG_BKPT);
    return BW_OK;
}

bw_err bw_debug_patch_clear(uint32_t offset)
{
    unsigned i = flash_bp_at(offset);
    if (i == fake.flash_bps) {
        return BW_OK;
    }
    if (bw_get16(flash + offset) == BW_DBG_BKPT) {
        fake_flash_write16(offset, fake.flash_original[i]);
    }
    fake.flash_bp[i] = fake.flash_bp[--fake.flash_bps];
    fake.flash_original[i] = fake.flash_original[fake.flash_bps];
    return BW_OK;
}

uint32_t bw_debug_patch_count(void)
{
    return fake.flash_bps;
}
