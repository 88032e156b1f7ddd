/*
 * `bulwark debug`'s GDB server (cli/lib_debug_rsp.c) fed any bytes as GDB
 * would send them: framing, acks, Ctrl-C, escapes, overlong and broken
 * packets, every command, through rsp_session_input. Behind it a fake
 * transport answers monitor requests (SPEC §20) from a small model app:
 * registers, a RAM and a flash window, breakpoints, running/halted.
 *
 * Input: byte 0 configures the model (bit 0: starts halted; bits 1-2: how
 * many STATUS polls a resumed app runs for; bit 3: it then stops on a
 * fault; bits 4-5: every 2nd/3rd/5th answer is garbled; bits 6-7: the
 * transport is lost after 16/64/256 exchanges), byte 1 the pc's halfword
 * in the flash window (bits 0-6) and whether GDB hangs up once its bytes
 * run out while the app runs (bit 7); the rest is what GDB sends, fed a byte at a time,
 * up to 5 bytes of which the server may read at a time while the app runs.
 *
 * Promises checked beyond no crash or UB: every write to GDB is "+", "-"
 * or one well-formed packet ($, data with '#', '$', '}', '*' escaped, #,
 * the right checksum) of at most RSP_PACKET_MAX payload bytes; every
 * request to the transport is a well-formed §20 request within
 * BW_DEBUG_PACKET_MAX, with an answer buffer of at least that size; and
 * after every packet (honest transport) the device holds exactly the
 * breakpoints GDB set (Z0 answered OK, not yet removed by z0): a step's
 * temporary ones are gone, and never one of GDB's with them; once the
 * session ends, however, and the transport lives, the app runs with no
 * breakpoint left.
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
#include "lib_debug_rsp.h"

#define RAM_BASE 0x20000000u
#define RAM_SIZE 0x800u
#define FLASH_BASE 0x00200000u
#define FLASH_SIZE 0x100u
#define BP_MAX 8u

static void fail(const char *what)
{
    fprintf(stderr, "promise broken: %s\n", what);
    abort();
}

/* ---- the model app behind the fake transport ---- */

/* Thumb code for the flash window: branches of every kind, so that `s`
 * computes several candidates (pc = FLASH_BASE + 2 * (byte 1 % 64)). */
static const uint16_t code[] = {
    0x2001, 0xD004, 0xE7FD, 0xF000, 0xF810, 0xB140, 0x4770, 0xBD10,
    0xBF08, 0x4770, 0xE8DF, 0xF001, 0x0403, 0x0201, 0xF85D, 0xFB04,
    0xE8BD, 0x8FF0, 0xF8DF, 0xF004, 0x46F7, 0x449F, 0xF47F, 0xAF80,
    0xF7FF, 0xFFF8, 0xBBFA, 0xE892, 0x8003, 0xF852, 0xF023, 0xBE00,
};

static struct model {
    uint8_t state, signal, exception;
    bool fault_stop;
    unsigned run_polls, runs_left;
    uint32_t regs[BW_DBG_REG_COUNT];
    uint8_t ram[RAM_SIZE], flash[FLASH_SIZE];
    uint32_t bp[BP_MAX];
    unsigned bps;
    unsigned exchanges, garble_every, lost_after;
    bool hang_up;
    /* GDB's side */
    const uint8_t *in;
    size_t in_len, in_at;
    rsp_parser gdb;            /* what the server has seen, packet by packet */
    char last_reply[16];       /* the start of the last packet written */
    uint32_t gdb_bp[BP_MAX];   /* GDB's own breakpoints */
    unsigned gdb_bps;
} m;

static uint8_t *window(uint32_t addr, uint32_t len, bool write)
{
    if (addr >= RAM_BASE && len <= RAM_SIZE && addr - RAM_BASE <= RAM_SIZE - len) {
        return m.ram + (addr - RAM_BASE);
    }
    if (!write && addr >= FLASH_BASE && len <= FLASH_SIZE && addr - FLASH_BASE <= FLASH_SIZE - len) {
        return m.flash + (addr - FLASH_BASE);
    }
    return NULL;
}

static size_t ok(uint8_t *a)
{
    a[0] = BW_DBG_OK;
    return 1;
}

static size_t error(uint8_t *a, uint8_t code_)
{
    a[0] = BW_DBG_ERROR;
    a[1] = code_;
    memcpy(a + 2, "model", 5);
    return 7;
}

static size_t state(uint8_t *a)
{
    if (m.state == BW_DBG_RUNNING && m.runs_left > 0 && --m.runs_left == 0) {
        m.state = BW_DBG_HALTED;
        m.signal = m.fault_stop ? BW_DBG_SIGSEGV : BW_DBG_SIGTRAP;
        m.exception = m.fault_stop ? 4 : 0;
        if (m.bps > 0) {
            m.regs[BW_DBG_REG_PC] = m.bp[m.bps - 1];
        }
    }
    memset(a, 0, BW_DBG_STATE_SIZE);
    a[0] = BW_DBG_STATE;
    a[1] = m.state;
    if (m.state == BW_DBG_HALTED) {
        a[2] = m.signal;
        a[3] = m.exception;
        for (unsigned i = 0; i < BW_DBG_FAULT_WORDS; i++) {
            bw_put32(a + 4 + 4 * i, m.exception != 0 ? 0x1000u << i : 0);
        }
    }
    return BW_DBG_STATE_SIZE;
}

static size_t breakpoint(const uint8_t *req, uint8_t *a)
{
    uint32_t addr = bw_get32(req + 1);
    unsigned at = 0;
    while (at < m.bps && m.bp[at] != addr) {
        at++;
    }
    if (req[0] == BW_DBG_CLEAR_BREAKPOINT) {
        if (at < m.bps) {
            m.bp[at] = m.bp[--m.bps];
        }
        return ok(a);
    }
    if ((addr & 1u) != 0 || window(addr, 2, false) == NULL) {
        return error(a, BW_DBG_E_REFUSED);
    }
    if (at == m.bps && m.bps == BP_MAX) {
        return error(a, BW_DBG_E_FULL);
    }
    if (at == m.bps) {
        m.bp[m.bps++] = addr;
    }
    return ok(a);
}

/* The model's answer to a request already checked well-formed. */
static size_t answer(const uint8_t *req, size_t len, uint8_t *a)
{
    bool halted = m.state == BW_DBG_HALTED;
    uint8_t *at;
    switch (req[0]) {
    case BW_DBG_STATUS:
        return state(a);
    case BW_DBG_HALT:
        if (m.state == BW_DBG_RUNNING) {
            m.state = BW_DBG_HALTED;
            m.signal = BW_DBG_SIGINT;
            m.exception = 0;
        }
        return ok(a);
    case BW_DBG_RESUME:
        if (!halted) {
            return error(a, BW_DBG_E_STATE);
        }
        m.state = BW_DBG_RUNNING;
        m.runs_left = m.run_polls;
        return ok(a);
    case BW_DBG_READ_REGS:
        if (!halted) {
            return error(a, BW_DBG_E_STATE);
        }
        memset(a, 0, 4);
        a[0] = BW_DBG_REGISTERS;
        a[1] = BW_DBG_REG_COUNT;
        for (unsigned i = 0; i < BW_DBG_REG_COUNT; i++) {
            bw_put32(a + 4 + 4 * i, m.regs[i]);
        }
        return 4 + 4 * BW_DBG_REG_COUNT;
    case BW_DBG_WRITE_REG:
        if (!halted) {
            return error(a, BW_DBG_E_STATE);
        }
        if (req[1] == BW_DBG_REG_SP || req[1] > BW_DBG_REG_XPSR) {
            return error(a, BW_DBG_E_REFUSED);
        }
        m.regs[req[1]] = bw_get32(req + 2);
        return ok(a);
    case BW_DBG_READ_MEM:
        at = window(bw_get32(req + 1), bw_get16(req + 5), false);
        if (at == NULL) {
            return error(a, BW_DBG_E_REFUSED);
        }
        a[0] = BW_DBG_MEMORY;
        memcpy(a + 1, at, bw_get16(req + 5));
        return 1u + bw_get16(req + 5);
    case BW_DBG_WRITE_MEM:
        at = window(bw_get32(req + 1), (uint32_t)(len - 5), true);
        if (!halted || at == NULL) {
            return error(a, halted ? BW_DBG_E_REFUSED : BW_DBG_E_STATE);
        }
        memcpy(at, req + 5, len - 5);
        return ok(a);
    case BW_DBG_SET_BREAKPOINT:
    case BW_DBG_CLEAR_BREAKPOINT:
        return breakpoint(req, a);
    default: /* DETACH */
        m.bps = 0;
        m.state = BW_DBG_RUNNING;
        m.runs_left = m.run_polls;
        return ok(a);
    }
}

/* A well-formed §20 request, or the CLI broke its promise. */
static void check_request(const uint8_t *req, size_t len, size_t cap)
{
    if (len == 0 || len > BW_DEBUG_PACKET_MAX || cap < BW_DEBUG_PACKET_MAX) {
        fail("request length or answer room");
    }
    bool good;
    switch (req[0]) {
    case BW_DBG_WRITE_REG: good = len == 6 && req[1] < BW_DBG_REG_COUNT; break;
    case BW_DBG_READ_MEM:
        good = len == 7 && bw_get16(req + 5) >= 1 && bw_get16(req + 5) <= BW_DBG_MEM_MAX;
        break;
    case BW_DBG_WRITE_MEM: good = len > 5 && len - 5 <= BW_DBG_MEM_MAX; break;
    case BW_DBG_SET_BREAKPOINT:
    case BW_DBG_CLEAR_BREAKPOINT: good = len == 6 && req[5] == BW_DBG_KIND_THUMB; break;
    default: good = req[0] >= BW_DBG_STATUS && req[0] <= BW_DBG_DETACH && len == 1; break;
    }
    if (!good) {
        fail("malformed monitor request");
    }
}

/* Spoils some answers the way a broken or hostile device might. */
static size_t garble(uint8_t *a, size_t n, size_t cap)
{
    switch ((m.exchanges / m.garble_every) % 4u) {
    case 0: return n > 1 ? n / 2 : 1;                  /* cut short */
    case 1: a[0] ^= 0x01; return n;                    /* another answer type */
    case 2: memset(a + n, 0xFF, cap - n); return cap;  /* overlong */
    default: a[1] ^= 0xFF; return n;                   /* a wrong state or count */
    }
}

static int exchange(void *ctx, const uint8_t *req, size_t len, uint8_t *a, size_t cap,
                    size_t *a_len, char *err, size_t errcap)
{
    (void)ctx;
    check_request(req, len, cap);
    if (m.lost_after != 0 && ++m.exchanges > m.lost_after) {
        snprintf(err, errcap, "model: link lost");
        return -1;
    }
    if (m.lost_after == 0) {
        m.exchanges++;
    }
    *a_len = answer(req, len, a);
    if (m.garble_every != 0 && m.exchanges % m.garble_every == 0) {
        *a_len = garble(a, *a_len, cap);
    }
    return 0;
}

/* ---- GDB's end ---- */

static int hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "+", "-", or one packet: $payload#xx, escaped, the right checksum. */
static bool gdb_write(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    if (len == 1 && (data[0] == '+' || data[0] == '-')) {
        return true;
    }
    if (len < 4 || data[0] != '$' || data[len - 3] != '#' || hex(data[len - 2]) < 0
        || hex(data[len - 1]) < 0) {
        fail("a reply that is not $...#xx");
    }
    uint8_t sum = 0;
    size_t payload = 0;
    for (size_t i = 1; i < len - 3; i++) {
        char c = data[i];
        if (c == '$' || c == '#' || c == '*') {
            fail("an unescaped '$', '#' or '*' in a reply");
        }
        if (c == '}') {
            if (i + 1 >= len - 3) {
                fail("a reply ending in an escape");
            }
            sum = (uint8_t)(sum + (uint8_t)c);
            c = data[++i];
        }
        sum = (uint8_t)(sum + (uint8_t)c);
        payload++;
    }
    if (sum != (uint8_t)(hex(data[len - 2]) << 4 | hex(data[len - 1]))) {
        fail("a reply with a wrong checksum");
    }
    if (payload > RSP_PACKET_MAX) {
        fail("a reply longer than PacketSize");
    }
    size_t keep = len - 4 < sizeof m.last_reply - 1 ? len - 4 : sizeof m.last_reply - 1;
    memcpy(m.last_reply, data + 1, keep);
    m.last_reply[keep] = '\0';
    return true;
}

/* While the app runs: at most 5 more bytes of the input (a Ctrl-C, perhaps). */
static int gdb_read(void *ctx, uint8_t *buf, size_t cap, int timeout_ms)
{
    (void)ctx;
    (void)timeout_ms;
    size_t n = m.in_len - m.in_at;
    if (n == 0 && m.hang_up) {
        return -1;
    }
    n = n < 5 ? n : 5;
    n = n < cap ? n : cap;
    memcpy(buf, m.in + m.in_at, n);
    for (size_t i = 0; i < n; i++) {
        (void)rsp_parse_byte(&m.gdb, buf[i]);   /* the server handles no packet here */
    }
    m.in_at += n;
    return (int)n;
}

/* GDB's own breakpoints after a Z0/z0 packet the server answered OK. */
static void track_gdb_breakpoints(const char *pkt)
{
    unsigned long addr;
    char kind;
    if ((pkt[0] != 'Z' && pkt[0] != 'z') || pkt[1] != '0' || strcmp(m.last_reply, "OK") != 0
        || sscanf(pkt + 2, ",%8lx,%c", &addr, &kind) != 2) {
        return;
    }
    unsigned at = 0;
    while (at < m.gdb_bps && m.gdb_bp[at] != addr) {
        at++;
    }
    if (pkt[0] == 'z' && at < m.gdb_bps) {
        m.gdb_bp[at] = m.gdb_bp[--m.gdb_bps];
    } else if (pkt[0] == 'Z' && at == m.gdb_bps && m.gdb_bps < BP_MAX) {
        m.gdb_bp[m.gdb_bps++] = (uint32_t)addr;
    }
}

/* The device holds exactly GDB's breakpoints. */
static void check_breakpoints(void)
{
    bool same = m.bps == m.gdb_bps;
    for (unsigned i = 0; same && i < m.bps; i++) {
        unsigned k = 0;
        while (k < m.gdb_bps && m.gdb_bp[k] != m.bp[i]) {
            k++;
        }
        same = k < m.gdb_bps;
    }
    if (!same) {
        fail("the device's breakpoints are not GDB's");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    static const unsigned garble_every[] = { 0, 2, 3, 5 }, lost_after[] = { 0, 16, 64, 256 };
    memset(&m, 0, sizeof m);
    m.state = (data[0] & 1u) ? BW_DBG_HALTED : BW_DBG_RUNNING;
    m.signal = BW_DBG_SIGINT;
    m.run_polls = 1u + ((data[0] >> 1) & 3u);
    m.runs_left = m.run_polls;
    m.fault_stop = (data[0] & 8u) != 0;
    m.garble_every = garble_every[(data[0] >> 4) & 3u];
    m.lost_after = lost_after[data[0] >> 6];
    for (unsigned i = 0; i < FLASH_SIZE / 2; i++) {
        bw_put16(m.flash + 2 * i, code[i % (sizeof code / sizeof code[0])]);
    }
    for (unsigned i = 0; i < RAM_SIZE; i++) {
        m.ram[i] = (uint8_t)(i * 7u);
    }
    for (unsigned i = 0; i < BW_DBG_REG_COUNT; i++) {
        m.regs[i] = RAM_BASE + 0x100u + 4u * i;
    }
    m.regs[BW_DBG_REG_LR] = FLASH_BASE + 0x41u;
    m.regs[BW_DBG_REG_PC] = FLASH_BASE + 2u * (data[1] % (FLASH_SIZE / 2));
    m.hang_up = (data[1] & 0x80u) != 0;
    m.regs[BW_DBG_REG_XPSR] = 0x01000000u;
    m.in = data + 2;
    m.in_len = size - 2;

    bw_debug_transport t = { .ctx = NULL, .exchange = exchange, .close = NULL };
    rsp_io io = { .ctx = NULL, .write = gdb_write, .read = gdb_read };
    rsp_session *s = rsp_session_new(&t, &io);
    if (s == NULL) {
        abort();
    }
    rsp_parser_init(&m.gdb);
    bool more = true;
    while (more && m.in_at < m.in_len) {
        /* parsed before the server sees it: handling it may read further bytes */
        uint8_t c = m.in[m.in_at++];
        static char pkt[sizeof m.gdb.data];
        bool packet = rsp_parse_byte(&m.gdb, c) == RSP_PACKET;
        if (packet) {
            memcpy(pkt, m.gdb.data, m.gdb.len + 1);
        }
        m.last_reply[0] = '\0';
        more = rsp_session_input(s, &c, 1);
        if (packet && more && m.garble_every == 0) {
            track_gdb_breakpoints(pkt);
            check_breakpoints();
        }
    }
    if (more) {
        (void)rsp_session_keepalive(s);
    }
    rsp_session_end(s);
    if (!rsp_session_lost(s) && (m.state == BW_DBG_HALTED || m.bps != 0)) {
        fail("the session ended with the app halted or breakpoints left");
    }
    rsp_session_free(s);
    return 0;
}
