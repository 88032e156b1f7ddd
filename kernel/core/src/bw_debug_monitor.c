/*
 * The app debug monitor (bw_debug_monitor.h; packets: docs/SPEC.md §20).
 *
 * Portable: halting, resuming and the registers are the architecture's
 * (bw_debug_arch.h); memory goes through the kernel's own app-pointer check
 * (bw_app_mem.h), so the monitor reaches exactly what a system call may:
 * the app's RAM (read, write) and its flash slot (read). Breakpoints are
 * BKPT halfwords: in RAM written directly, in the flash slot through the
 * power-safe patch store (bw_debug_patch.h; docs/DESIGN.md, "The debug
 * monitor"). The table of breakpoints keeps each original halfword; reads
 * through the monitor see the original, and a write over a breakpoint
 * changes its original while the BKPT stays.
 *
 * State, all static (no heap): the breakpoint table and whether a debugger
 * is attached.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bw_app_mem.h"
#include "bw_bytes.h"
#include "bw_config.h"
#include "bw_debug_arch.h"
#include "bw_debug_monitor.h"
#include "bw_debug_patch.h"
#include "bw_flash.h"
#include "bw_log.h"
#include "bw_port.h"

typedef struct breakpoint {
    bool used;
    bool in_flash;
    uint32_t address;
    uint16_t original;
} breakpoint;

static struct {
    bool attached;
    breakpoint bp[BW_DEBUG_BREAKPOINTS_MAX];
} mon;

/* ---- answers ---- */

static size_t answer_ok(uint8_t *answer)
{
    answer[0] = BW_DBG_OK;
    return 1;
}

static size_t answer_error(uint8_t *answer, uint8_t code, const char *reason)
{
    size_t n = strlen(reason);
    n = n < BW_DBG_REASON_MAX ? n : BW_DBG_REASON_MAX;
    answer[0] = BW_DBG_ERROR;
    answer[1] = code;
    memcpy(answer + 2, reason, n);
    return 2 + n;
}

/* ---- code patching ---- */

/* addr's offset in the app slot; false when addr is not in the slot. */
static bool slot_of(uint32_t addr, uint32_t *offset)
{
    const bw_flash_partition *p = port_flash_partition(BW_PARTITION_APP_SLOT);
    uint32_t off = addr - bw_debug_arch_app_slot_base();
    if (p == NULL || off >= p->size || p->size - off < 2u) {
        return false;
    }
    *offset = off;
    return true;
}

/* Puts a BKPT (set) or the original halfword (!set) at addr in app RAM or,
 * power-safely, in the app slot (bw_debug_patch.h). */
static bw_err code_write16(uint32_t addr, bool in_flash, bool set, uint16_t original)
{
    uint32_t off = 0;
    bw_err err;
    if (in_flash && slot_of(addr, &off)) {
        err = set ? bw_debug_patch_set(off, original) : bw_debug_patch_clear(off);
    } else {
        uint8_t bytes[2];
        bw_put16(bytes, set ? BW_DBG_BKPT : original);
        err = in_flash ? BW_E_FAULT : bw_app_copy_out(addr, bytes, sizeof bytes);
    }
    bw_debug_arch_code_changed();
    return err;
}

/* Whether byte k (0, 1) of b's halfword lies in [addr, addr + len); its index there in *at. */
static bool bp_byte_in(const breakpoint *b, uint32_t k, uint32_t addr, size_t len, uint32_t *at)
{
    *at = b->address + k - addr;
    return b->used && *at < len;
}

static breakpoint *find(uint32_t addr)
{
    for (size_t i = 0; i < BW_DEBUG_BREAKPOINTS_MAX; i++) {
        if (mon.bp[i].used && mon.bp[i].address == addr) {
            return &mon.bp[i];
        }
    }
    return NULL;
}

/* Puts back the original halfword, if the BKPT is still there (an update
 * may have replaced the code since), and frees the entry. In flash the
 * patch store checks and forgets the breakpoint in any case. */
static bw_err remove_bp(breakpoint *b)
{
    uint8_t now[2];
    bw_err err = BW_OK;
    if (b->in_flash
        || (bw_app_copy_in(now, b->address, sizeof now) == BW_OK && bw_get16(now) == BW_DBG_BKPT)) {
        err = code_write16(b->address, b->in_flash, false, b->original);
    }
    b->used = false;
    return err;
}

static size_t set_bp(uint32_t addr, uint8_t *answer)
{
    if (find(addr) != NULL) {
        return answer_ok(answer);
    }
    uint8_t old[2];
    uint32_t off;
    bool in_flash = slot_of(addr, &off);
    if ((addr & 1u) != 0 || bw_app_copy_in(old, addr, sizeof old) != BW_OK
        || (!in_flash && bw_app_check_range(addr, 2, BW_ACCESS_READWRITE) != BW_OK)) {
        return answer_error(answer, BW_DBG_E_REFUSED, "not app code (flash slot or RAM)");
    }
    breakpoint *b = NULL;
    for (size_t i = 0; i < BW_DEBUG_BREAKPOINTS_MAX && b == NULL; i++) {
        b = mon.bp[i].used ? NULL : &mon.bp[i];
    }
    if (b == NULL) {
        return answer_error(answer, BW_DBG_E_FULL, "every breakpoint is in use");
    }
    if (code_write16(addr, in_flash, true, bw_get16(old)) != BW_OK) {
        return answer_error(answer, BW_DBG_E_FLASH, "the flash write failed");
    }
    *b = (breakpoint){ .used = true, .in_flash = in_flash, .address = addr,
                       .original = bw_get16(old) };
    return answer_ok(answer);
}

static size_t clear_bp(uint32_t addr, uint8_t *answer)
{
    breakpoint *b = find(addr);
    if (b != NULL && remove_bp(b) != BW_OK) {
        return answer_error(answer, BW_DBG_E_FLASH, "the flash write failed");
    }
    return answer_ok(answer);
}

/* ---- requests ---- */

static size_t state(uint8_t *answer)
{
    bw_debug_stop stop;
    memset(&stop, 0, sizeof stop);
    memset(answer, 0, BW_DBG_STATE_SIZE);
    answer[0] = BW_DBG_STATE;
    answer[1] = bw_debug_arch_state(&stop);
    if (answer[1] == BW_DBG_HALTED) {
        answer[2] = stop.signal;
        answer[3] = stop.exception;
        for (size_t i = 0; i < BW_DBG_FAULT_WORDS; i++) {
            bw_put32(answer + 4 + 4 * i, stop.fault[i]);
        }
    }
    return BW_DBG_STATE_SIZE;
}

static size_t read_regs(uint8_t *answer)
{
    uint32_t regs[BW_DBG_REG_COUNT];
    bw_err err = bw_debug_arch_regs(regs);
    if (err != BW_OK) {
        return err == BW_E_UNAVAILABLE ? answer_error(answer, BW_DBG_E_STATE, "the app is not halted")
                                       : answer_error(answer, BW_DBG_E_REFUSED,
                                                      "the app's exception frame is not in its RAM");
    }
    memset(answer, 0, 4);
    answer[0] = BW_DBG_REGISTERS;
    answer[1] = BW_DBG_REG_COUNT;
    for (size_t i = 0; i < BW_DBG_REG_COUNT; i++) {
        bw_put32(answer + 4 + 4 * i, regs[i]);
    }
    return 4 + 4u * BW_DBG_REG_COUNT;
}

static size_t write_reg(const uint8_t *req, uint8_t *answer)
{
    bw_err err = bw_debug_arch_reg_write(req[1], bw_get32(req + 2));
    switch (err) {
    case BW_OK: return answer_ok(answer);
    case BW_E_UNAVAILABLE: return answer_error(answer, BW_DBG_E_STATE, "the app is not halted");
    case BW_E_DENIED: return answer_error(answer, BW_DBG_E_REFUSED, "read-only register");
    default: return answer_error(answer, BW_DBG_E_REFUSED, "the app's exception frame is not in its RAM");
    }
}

/* Reads app memory; bytes under a breakpoint read as the original code. */
static size_t read_mem(uint32_t addr, uint32_t len, uint8_t *answer)
{
    if (len == 0 || len > BW_DBG_MEM_MAX) {
        return answer_error(answer, BW_DBG_E_MALFORMED, "length must be 1..256");
    }
    if (bw_app_copy_in(answer + 1, addr, len) != BW_OK) {
        return answer_error(answer, BW_DBG_E_REFUSED, "not the app's memory");
    }
    for (size_t i = 0; i < BW_DEBUG_BREAKPOINTS_MAX; i++) {
        uint32_t at;
        for (uint32_t k = 0; k < 2u; k++) {
            if (bp_byte_in(&mon.bp[i], k, addr, len, &at)) {
                answer[1 + at] = (uint8_t)(mon.bp[i].original >> (8u * k));
            }
        }
    }
    answer[0] = BW_DBG_MEMORY;
    return 1 + len;
}

static size_t write_mem(uint32_t addr, const uint8_t *bytes, size_t len, uint8_t *answer)
{
    if (len == 0 || len > BW_DBG_MEM_MAX) {
        return answer_error(answer, BW_DBG_E_MALFORMED, "length must be 1..256");
    }
    if (bw_debug_arch_state(NULL) != BW_DBG_HALTED) {
        return answer_error(answer, BW_DBG_E_STATE, "the app is not halted");
    }
    if (bw_app_copy_out(addr, bytes, len) != BW_OK) {
        return answer_error(answer, BW_DBG_E_REFUSED, "not the app's RAM");
    }
    /* Bytes written under a breakpoint (RAM only: flash is not writable) are
     * its new original; the BKPT goes back so the breakpoint still traps. */
    for (size_t i = 0; i < BW_DEBUG_BREAKPOINTS_MAX; i++) {
        breakpoint *b = &mon.bp[i];
        uint32_t at;
        bool under = false;
        for (uint32_t k = 0; k < 2u; k++) {
            if (bp_byte_in(b, k, addr, len, &at)) {
                b->original = (uint16_t)((b->original & ~(0xFFu << (8u * k))) | (uint32_t)bytes[at] << (8u * k));
                under = true;
            }
        }
        if (under) {
            (void)code_write16(b->address, false, true, b->original);
        }
    }
    return answer_ok(answer);
}

/* Expected request lengths by type (0: any length from the minimum). */
static bool length_ok(uint8_t type, size_t len)
{
    switch (type) {
    case BW_DBG_WRITE_REG: return len == 6u;
    case BW_DBG_READ_MEM: return len == 7u;
    case BW_DBG_WRITE_MEM: return len > 5u;
    case BW_DBG_SET_BREAKPOINT:
    case BW_DBG_CLEAR_BREAKPOINT: return len == 6u;
    default: return len == 1u;
    }
}

size_t bw_debug_monitor_request(const uint8_t *req, size_t len, uint8_t *answer, size_t cap)
{
    if (cap < BW_DEBUG_PACKET_MAX) {
        return 0;   /* a transport bug: the contract promises room */
    }
    if (len == 0 || len > BW_DEBUG_PACKET_MAX) {
        return answer_error(answer, BW_DBG_E_MALFORMED, "empty or oversized request");
    }
    uint8_t type = req[0];
    if (type < BW_DBG_STATUS || type > BW_DBG_DETACH) {
        return answer_error(answer, BW_DBG_E_UNKNOWN, "unknown request type");
    }
    if (!length_ok(type, len)) {
        return answer_error(answer, BW_DBG_E_MALFORMED, "wrong length for the request type");
    }
    if (type == BW_DBG_DETACH) {
        bw_debug_monitor_peer_lost();
        return answer_ok(answer);
    }
    if (!mon.attached) {
        mon.attached = true;
        bw_debug_arch_attach(true);
        bw_log("debug: a debugger is attached");
    }
    switch (type) {
    case BW_DBG_STATUS:
        return state(answer);
    case BW_DBG_HALT:
        if (bw_debug_arch_state(NULL) == BW_DBG_NOT_RUNNING) {
            return answer_error(answer, BW_DBG_E_NO_APP, "no app is running");
        }
        bw_debug_arch_halt();
        return answer_ok(answer);
    case BW_DBG_RESUME:
        return bw_debug_arch_resume() ? answer_ok(answer)
                                      : answer_error(answer, BW_DBG_E_STATE, "the app is not halted");
    case BW_DBG_READ_REGS:
        return read_regs(answer);
    case BW_DBG_WRITE_REG:
        return write_reg(req, answer);
    case BW_DBG_READ_MEM:
        return read_mem(bw_get32(req + 1), bw_get16(req + 5), answer);
    case BW_DBG_WRITE_MEM:
        return write_mem(bw_get32(req + 1), req + 5, len - 5u, answer);
    default:   /* SET_BREAKPOINT, CLEAR_BREAKPOINT */
        if (req[5] != BW_DBG_KIND_THUMB) {
            return answer_error(answer, BW_DBG_E_MALFORMED, "breakpoint kind must be 2 (Thumb)");
        }
        return type == BW_DBG_SET_BREAKPOINT ? set_bp(bw_get32(req + 1), answer)
                                             : clear_bp(bw_get32(req + 1), answer);
    }
}

bool bw_debug_monitor_attached(void)
{
    return mon.attached;
}

void bw_debug_monitor_peer_lost(void)
{
    uint32_t removed = 0;
    for (size_t i = 0; i < BW_DEBUG_BREAKPOINTS_MAX; i++) {
        if (mon.bp[i].used) {
            (void)remove_bp(&mon.bp[i]);
            removed++;
        }
    }
    bool resumed = bw_debug_arch_resume();
    if (mon.attached) {
        bw_log("debug: debugger gone: %u breakpoints removed, app %s", (unsigned)removed,
               resumed ? "resumed" : "not halted");
    }
    mon.attached = false;
    bw_debug_arch_attach(false);
}
