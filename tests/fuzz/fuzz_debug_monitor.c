/*
 * The kernel's app debug monitor (bw_debug_monitor.c, SPEC §20) fed any
 * request bytes, against a model app (fake_debug_arch.c): registers, a
 * flash slot and a RAM window between pages nothing may touch,
 * running/halted/not running, flash breakpoints recorded by a fake patch
 * store. Events between requests: the debugger is lost, the app faults,
 * stops or restarts, its exception frame becomes unreachable, flash
 * writes start failing.
 *
 * Input: byte 0 the app's first state (0 running, 1 halted, 2 not
 * running), byte 1 seeds the memory pattern; then records: a byte k; if
 * k & 0x0F is 0x0F, event (k >> 4) % 6; else a request of the next byte's
 * value (+256 when k & 0x80) in bytes, those that follow.
 *
 * Promises checked: every answer is 1..cap bytes and a valid §20 answer to
 * its request (type, length, fields); requests and answers live in heap
 * blocks of their exact size (ASan sees any overrun); after every request
 * the app's RAM, flash and registers are what the debugger wrote to them
 * and nothing else, except a BKPT under each breakpoint the monitor
 * accepted; memory reads return that same view (breakpoints hidden);
 * nothing outside the two windows is touched (it faults); after
 * bw_debug_monitor_peer_lost no breakpoint is left, the app is not left
 * halted and the monitor is detached.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bw_bytes.h"
#include "bw_debug_monitor.h"
#include "bw_debug_packets.h"
#include "bw_log.h"
#include "bw_port.h"
#include "fake_debug_arch.h"

#define BP_MAX 16u

static struct {
    uint8_t flash[FAKE_PAGE], ram[FAKE_PAGE];   /* the app as the debugger should see it */
    uint32_t regs[BW_DBG_REG_COUNT];
    uint32_t bp[BP_MAX];                        /* breakpoints the monitor accepted */
    unsigned bps;
} want;

void bw_log(const char *fmt, ...)
{
    (void)fmt;
}

static void fail(const char *what)
{
    fprintf(stderr, "promise broken: %s\n", what);
    abort();
}

static void expect(bool ok, const char *what)
{
    if (!ok) {
        fail(what);
    }
}

/* The debugger's view of [addr, addr + len), or NULL outside the model's
 * windows (as its port check draws them). */
static uint8_t *view(uint32_t addr, uint32_t len, bool write)
{
    if (len == 0) {
        return NULL;
    }
    if (port_app_range_ok(addr, len, BW_ACCESS_READWRITE)) {
        return want.ram + (addr - FAKE_RAM_BASE);
    }
    if (!write && port_app_range_ok(addr, len, BW_ACCESS_READ)) {
        return want.flash + (addr - FAKE_FLASH_BASE);
    }
    return NULL;
}

static unsigned bp_index(uint32_t addr)
{
    unsigned i = 0;
    while (i < want.bps && want.bp[i] != addr) {
        i++;
    }
    return i;
}

/* Memory and registers hold exactly what the debugger wrote, BKPTs aside. */
static void check_app(void)
{
    static uint8_t should[2][FAKE_PAGE];
    memcpy(should[0], want.flash, FAKE_PAGE);
    memcpy(should[1], want.ram, FAKE_PAGE);
    unsigned in_flash = 0;
    for (unsigned i = 0; i < want.bps; i++) {
        bool flash = want.bp[i] < FAKE_KERNEL_BASE;
        in_flash += flash;
        bw_put16(should[flash ? 0 : 1] + (want.bp[i] - (flash ? FAKE_FLASH_BASE : FAKE_RAM_BASE)), BW_DBG_BKPT);
    }
    expect(memcmp((const void *)(uintptr_t)FAKE_FLASH_BASE, should[0], FAKE_PAGE) == 0,
           "app flash is not the original with a BKPT under each breakpoint");
    expect(memcmp((const void *)(uintptr_t)FAKE_RAM_BASE, should[1], FAKE_PAGE) == 0,
           "app RAM is not what the debugger wrote with a BKPT under each breakpoint");
    expect(fake.flash_bps == in_flash, "the patch store's breakpoints are not the monitor's");
    expect(memcmp(fake.regs, want.regs, sizeof want.regs) == 0, "registers changed by other than a write");
}

static bool printable(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] > 0x7E) {
            return false;
        }
    }
    return true;
}

/* The answer is a valid §20 answer to req, and agrees with the model. */
static void check_answer(const uint8_t *req, size_t len, uint8_t was, const uint8_t *a, size_t n)
{
    expect(n >= 1 && n <= BW_DEBUG_PACKET_MAX, "answer length not 1..cap");
    if (a[0] == BW_DBG_ERROR) {
        expect(n >= 2 && n <= 2 + BW_DBG_REASON_MAX && a[1] >= BW_DBG_E_MALFORMED
                   && a[1] <= BW_DBG_E_NO_APP && printable(a + 2, n - 2),
               "malformed ERROR");
        expect(!(len >= 1 && len <= BW_DEBUG_PACKET_MAX && req[0] == BW_DBG_STATUS && len == 1),
               "STATUS refused");
        return;
    }
    expect(len >= 1 && len <= BW_DEBUG_PACKET_MAX && req[0] >= BW_DBG_STATUS && req[0] <= BW_DBG_DETACH,
           "a malformed or unknown request not refused");
    uint32_t addr = len >= 5 ? bw_get32(req + 1) : 0;
    switch (req[0]) {
    case BW_DBG_STATUS:
        expect(len == 1 && n == BW_DBG_STATE_SIZE && a[0] == BW_DBG_STATE && a[1] == fake.state,
               "bad STATE");
        for (size_t i = 2; a[1] != BW_DBG_HALTED && i < n; i++) {
            expect(a[i] == 0, "STATE of an app not halted with a stop reason");
        }
        return;
    case BW_DBG_READ_REGS:
        expect(len == 1 && was == BW_DBG_HALTED && n == 4 + 4 * BW_DBG_REG_COUNT && a[0] == BW_DBG_REGISTERS
                   && a[1] == BW_DBG_REG_COUNT && a[2] == 0 && a[3] == 0,
               "bad REGISTERS");
        for (unsigned i = 0; i < BW_DBG_REG_COUNT; i++) {
            expect(bw_get32(a + 4 + 4 * i) == want.regs[i], "REGISTERS not the app's");
        }
        return;
    case BW_DBG_READ_MEM: {
        uint32_t count = len == 7 ? bw_get16(req + 5) : 0;
        const uint8_t *v = view(addr, count, false);
        expect(len == 7 && count >= 1 && count <= BW_DBG_MEM_MAX && v != NULL && a[0] == BW_DBG_MEMORY
                   && n == 1 + count,
               "MEMORY for a bad or foreign range");
        expect(memcmp(a + 1, v, count) == 0, "MEMORY not what the debugger should see");
        return;
    }
    default:
        break;
    }
    expect(a[0] == BW_DBG_OK && n == 1, "an answer other than OK/ERROR");
    switch (req[0]) {
    case BW_DBG_HALT:
        expect(was != BW_DBG_NOT_RUNNING, "HALT of no app accepted");
        return;
    case BW_DBG_RESUME:
        expect(was == BW_DBG_HALTED && fake.state == BW_DBG_RUNNING, "RESUME of an app not halted");
        return;
    case BW_DBG_WRITE_REG:
        expect(len == 6 && was == BW_DBG_HALTED && req[1] <= BW_DBG_REG_XPSR && req[1] != BW_DBG_REG_SP,
               "WRITE_REG accepted for a read-only register or a running app");
        want.regs[req[1]] = bw_get32(req + 2);
        return;
    case BW_DBG_WRITE_MEM: {
        uint8_t *v = view(addr, (uint32_t)(len - 5), true);
        expect(len > 5 && len - 5 <= BW_DBG_MEM_MAX && was == BW_DBG_HALTED && v != NULL,
               "WRITE_MEM accepted outside app RAM or while running");
        memcpy(v, req + 5, len - 5);
        return;
    }
    case BW_DBG_SET_BREAKPOINT:
        expect(len == 6 && req[5] == BW_DBG_KIND_THUMB && (addr & 1u) == 0 && view(addr, 2, false) != NULL,
               "a breakpoint accepted outside app code");
        if (bp_index(addr) == want.bps) {
            expect(want.bps < BW_DEBUG_BREAKPOINTS_MAX, "more breakpoints than the table holds");
            want.bp[want.bps++] = addr;
        }
        return;
    case BW_DBG_CLEAR_BREAKPOINT: {
        expect(len == 6, "bad CLEAR_BREAKPOINT accepted");
        unsigned i = bp_index(addr);
        if (i < want.bps) {
            want.bp[i] = want.bp[--want.bps];
        }
        return;
    }
    default: /* DETACH */
        want.bps = 0;
        expect(fake.state != BW_DBG_HALTED && !fake.attached, "DETACH left the app halted or attached");
        return;
    }
}

static void request(const uint8_t *bytes, size_t len, size_t cap)
{
    uint8_t *req = malloc(len > 0 ? len : 1), *answer = malloc(cap);
    if (req == NULL || answer == NULL) {
        abort();
    }
    memcpy(req, bytes, len);
    uint8_t was = fake.state;
    size_t n = bw_debug_monitor_request(req, len, answer, cap);
    check_answer(req, len, was, answer, n);
    check_app();
    free(req);
    free(answer);
}

static void peer_lost(void)
{
    bw_debug_monitor_peer_lost();
    want.bps = 0;
    check_app();
    expect(fake.state != BW_DBG_HALTED && !fake.attached && !bw_debug_monitor_attached(),
           "peer loss left the app halted or the monitor attached");
}

static void event(unsigned which)
{
    switch (which) {
    case 0:
        peer_lost();
        break;
    case 1:   /* a fault while attached (or not) stops the app */
        if (fake.state == BW_DBG_RUNNING) {
            fake.state = BW_DBG_HALTED;
            fake.stop = (bw_debug_stop){ .signal = BW_DBG_SIGSEGV, .exception = 4,
                                         .fault = { 0x82, 0, 0x40000000u, 0, 0, 0, FAKE_KERNEL_BASE } };
        }
        break;
    case 2:   /* the kernel restarts or parks the app */
        fake.state = fake.state == BW_DBG_NOT_RUNNING ? BW_DBG_RUNNING : BW_DBG_NOT_RUNNING;
        break;
    case 3:
        fake.frame_lost = !fake.frame_lost;
        break;
    case 4:
        fake.flash_fails = !fake.flash_fails;
        break;
    default:  /* the app hits a breakpoint */
        if (fake.state == BW_DBG_RUNNING && want.bps > 0) {
            fake.state = BW_DBG_HALTED;
            fake.stop = (bw_debug_stop){ .signal = BW_DBG_SIGTRAP, .exception = 3 };
            fake.regs[BW_DBG_REG_PC] = want.regs[BW_DBG_REG_PC] = want.bp[0];
        }
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    fake_app_reset(data[0] % 3u, data[1] * 0x01000193u);
    memcpy(want.flash, (const void *)(uintptr_t)FAKE_FLASH_BASE, FAKE_PAGE);
    memcpy(want.ram, (const void *)(uintptr_t)FAKE_RAM_BASE, FAKE_PAGE);
    memcpy(want.regs, fake.regs, sizeof want.regs);
    want.bps = 0;
    size_t at = 2;
    while (at < size) {
        uint8_t k = data[at++];
        if ((k & 0x0Fu) == 0x0Fu) {
            event((k >> 4) % 6u);
            continue;
        }
        if (at == size) {
            break;
        }
        size_t len = data[at++] + ((k & 0x80u) ? 256u : 0u);
        len = len < size - at ? len : size - at;
        request(data + at, len, (k & 0x40u) ? BW_DEBUG_PACKET_MAX + 7u : BW_DEBUG_PACKET_MAX);
        at += len;
    }
    peer_lost();   /* also leaves the monitor clean for the next input */
    return 0;
}
