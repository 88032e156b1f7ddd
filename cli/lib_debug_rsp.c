/*
 * The GDB Remote Serial Protocol server (lib_debug_rsp.h).
 *
 * One GDB connection, all-stop, one thread. Every GDB request becomes one or
 * more monitor packets (SPEC §20) through the transport. While the app runs
 * (after `c` or a step) the server asks STATUS every POLL_RUNNING_MS and
 * answers GDB's resume with a stop reply once the app is halted; Ctrl-C
 * sends HALT. Single-step (`s`) is done here with breakpoints: temporary
 * ones on every address the instruction can reach (lib_thumb_step.c),
 * resume, wait for the stop, remove them. GDB is reached through an
 * rsp_io: the loopback socket of lib_debug_rsp_serve.c, or a test's.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bw_bytes.h"
#include "bw_debug_monitor.h"
#include "bw_debug_packets.h"
#include "lib_debug_rsp.h"
#include "lib_thumb_step.h"

#define POLL_RUNNING_MS 20
#define GDB_BREAKPOINTS_MAX 32u   /* more than any device keeps (SPEC §20: 8) */

/* ---- the parser ---- */

void rsp_parser_init(rsp_parser *p)
{
    memset(p, 0, sizeof *p);
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static void put_data(rsp_parser *p, uint8_t c)
{
    if (p->len < RSP_PACKET_MAX) {
        p->data[p->len++] = (char)c;
    } else {
        p->overflow = 1;
    }
}

rsp_event rsp_parse_byte(rsp_parser *p, uint8_t c)
{
    switch (p->state) {
    case 0:
        if (c == '$') {
            p->state = 1;
            p->len = 0;
            p->sum = 0;
            p->overflow = 0;
            return RSP_NONE;
        }
        return c == 0x03 ? RSP_INTERRUPT : c == '+' ? RSP_ACK : c == '-' ? RSP_NAK : RSP_NONE;
    case 1:
        if (c == '#') {
            p->state = 3;
            return RSP_NONE;
        }
        p->sum = (uint8_t)(p->sum + c);
        if (c == '}') {
            p->state = 2;
        } else {
            put_data(p, c);
        }
        return RSP_NONE;
    case 2:
        p->sum = (uint8_t)(p->sum + c);
        put_data(p, c ^ 0x20u);
        p->state = 1;
        return RSP_NONE;
    case 3: {
        int v = hex_value(c);
        p->check = (uint8_t)((v < 0 ? 0x100 : v) << 4);
        p->overflow |= v < 0;
        p->state = 4;
        return RSP_NONE;
    }
    default: {
        int v = hex_value(c);
        p->state = 0;
        p->data[p->len] = '\0';
        if (v < 0 || p->overflow || (uint8_t)(p->check | (uint8_t)v) != p->sum) {
            return RSP_BAD;
        }
        return RSP_PACKET;
    }
    }
}

/* ---- the session ---- */

struct rsp_session {
    const bw_debug_transport *t;
    rsp_io io;
    bool ack;                    /* ack mode (until QStartNoAckMode) */
    bool lost;                   /* the transport is gone */
    bool detached;               /* DETACH sent: the app runs on */
    char err[160];
    uint8_t answer[BW_DEBUG_PACKET_MAX];
    size_t answer_len;
    rsp_parser parser;
    /* GDB's own breakpoints (Z0 the device accepted): a step leaves them in place */
    uint32_t gdb_bp[GDB_BREAKPOINTS_MAX];
    unsigned gdb_bps;
    char out[2 * RSP_PACKET_MAX + 8];
};
typedef struct rsp_session session;

static bool send_raw(session *s, const char *data, size_t len)
{
    return s->io.write(s->io.ctx, data, len);
}

/* Sends one packet ($data#xx; '#', '$', '}' and '*' escaped). */
static bool reply(session *s, const char *data)
{
    size_t at = 0;
    uint8_t sum = 0;
    s->out[at++] = '$';
    for (const char *c = data; *c != '\0' && at < sizeof s->out - 4; c++) {
        if (*c == '#' || *c == '$' || *c == '}' || *c == '*') {
            s->out[at++] = '}';
            sum = (uint8_t)(sum + '}');
            s->out[at++] = (char)(*c ^ 0x20);
            sum = (uint8_t)(sum + (uint8_t)(*c ^ 0x20));
        } else {
            s->out[at++] = *c;
            sum = (uint8_t)(sum + (uint8_t)*c);
        }
    }
    at += (size_t)snprintf(s->out + at, 4, "#%02x", sum);
    return send_raw(s, s->out, at);
}

/* One monitor exchange; false when the transport is lost. */
static bool monitor(session *s, const uint8_t *req, size_t len)
{
    if (s->lost) {
        return false;
    }
    if (s->t->exchange(s->t->ctx, req, len, s->answer, sizeof s->answer, &s->answer_len, s->err,
                       sizeof s->err) != 0 || s->answer_len == 0) {
        fprintf(stderr, "bulwark: debug transport lost: %s\n", s->err);
        s->lost = true;
        return false;
    }
    return true;
}

static bool simple(session *s, uint8_t type)
{
    return monitor(s, &type, 1) && s->answer[0] == BW_DBG_OK;
}

/* DETACH: the device removes every breakpoint and resumes the app. */
static void detach(session *s)
{
    s->detached = true;
    (void)simple(s, BW_DBG_DETACH);
}

/* STATUS; the app's state, or -1 when the transport is lost. */
static int status(session *s)
{
    uint8_t type = BW_DBG_STATUS;
    if (!monitor(s, &type, 1) || s->answer[0] != BW_DBG_STATE || s->answer_len < BW_DBG_STATE_SIZE) {
        return -1;
    }
    return s->answer[1];
}

static bool read_regs(session *s, uint32_t regs[BW_DBG_REG_COUNT])
{
    uint8_t type = BW_DBG_READ_REGS;
    if (!monitor(s, &type, 1) || s->answer[0] != BW_DBG_REGISTERS
        || s->answer_len < 4u + 4u * BW_DBG_REG_COUNT) {
        return false;
    }
    for (unsigned i = 0; i < BW_DBG_REG_COUNT; i++) {
        regs[i] = bw_get32(s->answer + 4 + 4 * i);
    }
    return true;
}

static bool write_reg(session *s, uint32_t index, uint32_t value)
{
    uint8_t req[6] = { BW_DBG_WRITE_REG, (uint8_t)index };
    bw_put32(req + 2, value);
    return monitor(s, req, sizeof req) && s->answer[0] == BW_DBG_OK;
}

/* Reads up to len bytes at addr into out; the count read (0: none). */
static size_t read_mem(session *s, uint32_t addr, size_t len, uint8_t *out)
{
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < BW_DBG_MEM_MAX ? len - done : BW_DBG_MEM_MAX;
        uint8_t req[7] = { BW_DBG_READ_MEM };
        bw_put32(req + 1, addr + (uint32_t)done);
        bw_put16(req + 5, (uint16_t)n);
        if (!monitor(s, req, sizeof req) || s->answer[0] != BW_DBG_MEMORY || s->answer_len != 1 + n) {
            break;
        }
        memcpy(out + done, s->answer + 1, n);
        done += n;
    }
    return done;
}

static bool breakpoint(session *s, uint8_t type, uint32_t addr)
{
    uint8_t req[6] = { type };
    bw_put32(req + 1, addr);
    req[5] = BW_DBG_KIND_THUMB;
    return monitor(s, req, sizeof req) && s->answer[0] == BW_DBG_OK;
}

static bool is_gdb_breakpoint(const session *s, uint32_t addr)
{
    for (unsigned i = 0; i < s->gdb_bps; i++) {
        if (s->gdb_bp[i] == addr) {
            return true;
        }
    }
    return false;
}

/* Keeps gdb_bp in step with what the device accepted for GDB. */
static void note_gdb_breakpoint(session *s, uint32_t addr, bool set)
{
    for (unsigned i = 0; i < s->gdb_bps; i++) {
        if (s->gdb_bp[i] == addr) {
            s->gdb_bp[i] = set ? addr : s->gdb_bp[--s->gdb_bps];
            return;
        }
    }
    if (set && s->gdb_bps < GDB_BREAKPOINTS_MAX) {
        s->gdb_bp[s->gdb_bps++] = addr;
    }
}

static bool read_word(void *ctx, uint32_t addr, uint32_t *value)
{
    uint8_t b[4];
    if (read_mem(ctx, addr, 4, b) != 4) {
        return false;
    }
    *value = bw_get32(b);
    return true;
}

/* ---- GDB's side ---- */

static void hex_bytes(char *out, const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sprintf(out + 2 * i, "%02x", bytes[i]);
    }
    out[2 * n] = '\0';
}

static bool parse_hex(const char **at, uint32_t *value)
{
    const char *c = *at;
    uint64_t v = 0;
    int digits = 0;
    for (; hex_value((uint8_t)*c) >= 0 && digits < 9; c++, digits++) {
        v = v << 4 | (uint64_t)hex_value((uint8_t)*c);
    }
    if (digits == 0 || digits > 8) {
        return false;
    }
    *value = (uint32_t)v;
    *at = c;
    return true;
}

static const char target_xml[] =
    "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
    "<target><architecture>armv8-m.main</architecture>"
    "<feature name=\"org.gnu.gdb.arm.m-profile\">"
    "<reg name=\"r0\" bitsize=\"32\" regnum=\"0\"/><reg name=\"r1\" bitsize=\"32\"/>"
    "<reg name=\"r2\" bitsize=\"32\"/><reg name=\"r3\" bitsize=\"32\"/>"
    "<reg name=\"r4\" bitsize=\"32\"/><reg name=\"r5\" bitsize=\"32\"/>"
    "<reg name=\"r6\" bitsize=\"32\"/><reg name=\"r7\" bitsize=\"32\"/>"
    "<reg name=\"r8\" bitsize=\"32\"/><reg name=\"r9\" bitsize=\"32\"/>"
    "<reg name=\"r10\" bitsize=\"32\"/><reg name=\"r11\" bitsize=\"32\"/>"
    "<reg name=\"r12\" bitsize=\"32\"/>"
    "<reg name=\"sp\" bitsize=\"32\" type=\"data_ptr\"/>"
    "<reg name=\"lr\" bitsize=\"32\"/>"
    "<reg name=\"pc\" bitsize=\"32\" type=\"code_ptr\"/>"
    "<reg name=\"xpsr\" bitsize=\"32\" regnum=\"16\"/>"
    "</feature>"
    "<feature name=\"org.gnu.gdb.arm.m-system\">"
    "<reg name=\"msp\" bitsize=\"32\" type=\"data_ptr\" group=\"system\"/>"
    "<reg name=\"psp\" bitsize=\"32\" type=\"data_ptr\" group=\"system\"/>"
    "</feature>"
    "<feature name=\"org.bulwark.arm.ns-special\">"
    "<reg name=\"primask\" bitsize=\"32\" group=\"system\"/>"
    "<reg name=\"basepri\" bitsize=\"32\" group=\"system\"/>"
    "<reg name=\"faultmask\" bitsize=\"32\" group=\"system\"/>"
    "<reg name=\"control\" bitsize=\"32\" group=\"system\"/>"
    "</feature></target>";

static const char *const exception_names[] = {
    [3] = "HardFault", [4] = "MemManage", [5] = "BusFault", [6] = "UsageFault", [7] = "SecureFault",
};

/* The stop reply for the halted app; for a fault, first a console line
 * (an O packet) with the exception and the fault status. */
static void stop_reply(session *s)
{
    uint8_t signal = s->answer[2], exception = s->answer[3];
    if (exception != 0) {
        char text[256], hex[sizeof text * 2 + 2];
        const char *name = exception < 8 && exception_names[exception] ? exception_names[exception]
                                                                         : "exception";
        snprintf(text, sizeof text,
                 "bulwark: app stopped by %s: CFSR_NS=0x%08" PRIx32 " CFSR_S=0x%08" PRIx32
                 " HFSR=0x%08" PRIx32 " SFSR=0x%08" PRIx32 " SFAR=0x%08" PRIx32 " BFAR=0x%08" PRIx32
                 " MMFAR_NS=0x%08" PRIx32 "\n", name, bw_get32(s->answer + 4),
                 bw_get32(s->answer + 8), bw_get32(s->answer + 12), bw_get32(s->answer + 16),
                 bw_get32(s->answer + 20), bw_get32(s->answer + 24), bw_get32(s->answer + 28));
        hex[0] = 'O';
        hex_bytes(hex + 1, (const uint8_t *)text, strlen(text));
        if (signal != BW_DBG_SIGTRAP) {
            reply(s, hex);
        }
    }
    char out[8];
    snprintf(out, sizeof out, "S%02x", signal != 0 ? signal : BW_DBG_SIGTRAP);
    reply(s, out);
}

/* Waits (polling STATUS) until the app is halted, or GDB interrupts (HALT
 * sent, still waiting). False when the transport is lost or GDB left. */
static bool wait_halted(session *s)
{
    bool halt_sent = false;
    for (;;) {
        int st = status(s);
        if (st < 0) {
            return false;
        }
        if (st == BW_DBG_HALTED) {
            return true;
        }
        uint8_t buf[64];
        int n = s->io.read(s->io.ctx, buf, sizeof buf, POLL_RUNNING_MS);
        if (n < 0) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (rsp_parse_byte(&s->parser, buf[i]) == RSP_INTERRUPT && !halt_sent) {
                halt_sent = simple(s, BW_DBG_HALT) || true;
            }
        }
    }
}

/* Resume (and answer with a stop reply once the app halts). */
static bool resume_and_wait(session *s)
{
    if (!simple(s, BW_DBG_RESUME) && s->lost) {
        return false;
    }
    if (!wait_halted(s)) {
        return false;
    }
    stop_reply(s);
    return true;
}

/* Single step: temporary breakpoints where the instruction at pc can go,
 * except where GDB has one already (the device keeps one per address:
 * removing the temporary one would remove GDB's). */
static bool step(session *s)
{
    uint32_t regs[BW_DBG_REG_COUNT], next[2];
    uint8_t code[4];
    if (!read_regs(s, regs) || read_mem(s, regs[BW_DBG_REG_PC], 4, code) < 2) {
        return s->lost ? false : reply(s, "E01");
    }
    unsigned n = thumb_next_pcs(regs[BW_DBG_REG_PC], bw_get16(code), bw_get16(code + 2), regs,
                                read_word, s, next);
    bool set[2] = { false, false };
    for (unsigned i = 0; i < n; i++) {
        set[i] = (i == 0 || next[1] != next[0]) && !is_gdb_breakpoint(s, next[i])
                 && breakpoint(s, BW_DBG_SET_BREAKPOINT, next[i]);
    }
    bool ok = simple(s, BW_DBG_RESUME) || !s->lost;
    ok = ok && wait_halted(s);
    for (unsigned i = 0; i < n; i++) {
        if (set[i]) {
            (void)breakpoint(s, BW_DBG_CLEAR_BREAKPOINT, next[i]);
        }
    }
    if (!ok) {
        return false;
    }
    stop_reply(s);
    return true;
}

static void reply_registers(session *s)
{
    uint32_t regs[BW_DBG_REG_COUNT];
    if (!read_regs(s, regs)) {
        reply(s, "E01");
        return;
    }
    char out[BW_DBG_REG_COUNT * 8 + 1];
    for (unsigned i = 0; i < BW_DBG_REG_COUNT; i++) {
        uint8_t b[4];
        bw_put32(b, regs[i]);
        hex_bytes(out + 8 * i, b, 4);
    }
    reply(s, out);
}

static uint32_t hex_word_le(const char *text)
{
    uint8_t b[4] = {0};
    for (unsigned i = 0; i < 4 && hex_value((uint8_t)text[2 * i]) >= 0
                         && hex_value((uint8_t)text[2 * i + 1]) >= 0; i++) {
        b[i] = (uint8_t)(hex_value((uint8_t)text[2 * i]) << 4 | hex_value((uint8_t)text[2 * i + 1]));
    }
    return bw_get32(b);
}

static void packet_p(session *s, const char *args, bool write)
{
    uint32_t index, value;
    uint32_t regs[BW_DBG_REG_COUNT];
    if (!parse_hex(&args, &index) || index >= BW_DBG_REG_COUNT) {
        reply(s, "E01");
        return;
    }
    if (write) {
        if (*args != '=' || strlen(args + 1) != 8) {
            reply(s, "E01");
            return;
        }
        value = hex_word_le(args + 1);
        reply(s, write_reg(s, index, value) ? "OK" : "E01");
        return;
    }
    if (!read_regs(s, regs)) {
        reply(s, "E01");
        return;
    }
    uint8_t b[4];
    char out[9];
    bw_put32(b, regs[index]);
    hex_bytes(out, b, 4);
    reply(s, out);
}

static void packet_G(session *s, const char *args)
{
    uint32_t regs[BW_DBG_REG_COUNT];
    if (strlen(args) < 8u * BW_DBG_REG_COUNT || !read_regs(s, regs)) {
        reply(s, "E01");
        return;
    }
    for (unsigned i = 0; i <= BW_DBG_REG_XPSR; i++) {
        uint32_t v = hex_word_le(args + 8 * i);
        if (v != regs[i] && !write_reg(s, i, v)) {
            reply(s, "E01");
            return;
        }
    }
    reply(s, "OK");
}

static void packet_m(session *s, const char *args)
{
    uint32_t addr, len;
    static uint8_t bytes[RSP_PACKET_MAX / 2];
    if (!parse_hex(&args, &addr) || *args++ != ',' || !parse_hex(&args, &len) || *args != '\0') {
        reply(s, "E01");
        return;
    }
    len = len < sizeof bytes ? len : (uint32_t)sizeof bytes;
    size_t n = read_mem(s, addr, len, bytes);
    if (n == 0) {
        reply(s, "E01");
        return;
    }
    char out[RSP_PACKET_MAX + 1];
    hex_bytes(out, bytes, n);
    reply(s, out);
}

static void packet_M(session *s, const char *args)
{
    uint32_t addr, len;
    if (!parse_hex(&args, &addr) || *args++ != ',' || !parse_hex(&args, &len) || *args++ != ':'
        || strlen(args) != 2u * len || len > RSP_PACKET_MAX / 2) {
        reply(s, "E01");
        return;
    }
    uint8_t req[5 + BW_DBG_MEM_MAX];
    for (uint32_t done = 0; done < len;) {
        uint32_t n = len - done < BW_DBG_MEM_MAX ? len - done : BW_DBG_MEM_MAX;
        req[0] = BW_DBG_WRITE_MEM;
        bw_put32(req + 1, addr + done);
        for (uint32_t i = 0; i < n; i++) {
            int hi = hex_value((uint8_t)args[2 * (done + i)]), lo = hex_value((uint8_t)args[2 * (done + i) + 1]);
            if (hi < 0 || lo < 0) {
                reply(s, "E01");
                return;
            }
            req[5 + i] = (uint8_t)(hi << 4 | lo);
        }
        if (!monitor(s, req, 5 + n) || s->answer[0] != BW_DBG_OK) {
            reply(s, "E01");
            return;
        }
        done += n;
    }
    reply(s, "OK");
}

static void packet_Z(session *s, const char *args, bool set)
{
    uint32_t addr, kind;
    if (args[0] != '0' || args[1] != ',') {
        reply(s, "");   /* only software breakpoints */
        return;
    }
    args += 2;
    if (!parse_hex(&args, &addr) || *args++ != ',' || !parse_hex(&args, &kind)
        || (kind != 2 && kind != 3)) {
        reply(s, "E01");
        return;
    }
    /* kind 3 (a 32-bit Thumb-2 instruction): a BKPT on its first halfword traps as well. */
    bool ok = breakpoint(s, set ? BW_DBG_SET_BREAKPOINT : BW_DBG_CLEAR_BREAKPOINT, addr);
    if (ok) {
        note_gdb_breakpoint(s, addr, set);
    }
    reply(s, ok ? "OK" : "E01");
}

static void packet_qxfer(session *s, const char *args)
{
    const char *prefix = "features:read:target.xml:";
    uint32_t offset, len;
    if (strncmp(args, prefix, strlen(prefix)) != 0) {
        reply(s, "");
        return;
    }
    args += strlen(prefix);
    if (!parse_hex(&args, &offset) || *args++ != ',' || !parse_hex(&args, &len)) {
        reply(s, "E01");
        return;
    }
    size_t total = sizeof target_xml - 1;
    if (offset >= total) {
        reply(s, "l");
        return;
    }
    size_t n = total - offset;
    size_t cap = len < RSP_PACKET_MAX - 1 ? len : RSP_PACKET_MAX - 1;
    char out[RSP_PACKET_MAX + 1];
    out[0] = n > cap ? 'm' : 'l';
    n = n > cap ? cap : n;
    memcpy(out + 1, target_xml + offset, n);
    out[1 + n] = '\0';
    reply(s, out);
}

/* Handles one packet; false when the session ends. */
static bool handle(session *s, char *pkt)
{
    char *args = pkt + 1;
    switch (pkt[0]) {
    case '?':
        if (status(s) == BW_DBG_RUNNING) {
            (void)simple(s, BW_DBG_HALT);
        }
        if (!wait_halted(s)) {
            return false;
        }
        stop_reply(s);
        return true;
    case 'g': reply_registers(s); return true;
    case 'G': packet_G(s, args); return true;
    case 'p': packet_p(s, args, false); return true;
    case 'P': packet_p(s, args, true); return true;
    case 'm': packet_m(s, args); return true;
    case 'M': packet_M(s, args); return true;
    case 'Z': packet_Z(s, args, true); return true;
    case 'z': packet_Z(s, args, false); return true;
    case 'c': return resume_and_wait(s);
    case 's': return step(s);
    case 'H': reply(s, "OK"); return true;
    case 'T': reply(s, "OK"); return true;
    case 'D':
        detach(s);
        reply(s, "OK");
        return false;
    case 'k':
        detach(s);
        return false;
    case 'v':
        if (strcmp(pkt, "vCont?") == 0) {
            reply(s, "vCont;c;C;s;S");
        } else if (strncmp(pkt, "vCont;c", 7) == 0 || strncmp(pkt, "vCont;C", 7) == 0) {
            return resume_and_wait(s);
        } else if (strncmp(pkt, "vCont;s", 7) == 0 || strncmp(pkt, "vCont;S", 7) == 0) {
            return step(s);
        } else if (strncmp(pkt, "vKill", 5) == 0) {
            detach(s);
            reply(s, "OK");
            return false;
        } else {
            reply(s, "");
        }
        return true;
    case 'q':
        if (strncmp(pkt, "qSupported", 10) == 0) {
            char out[64];
            snprintf(out, sizeof out, "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+",
                     RSP_PACKET_MAX);
            reply(s, out);
        } else if (strncmp(pkt, "qXfer:", 6) == 0) {
            packet_qxfer(s, pkt + 6);
        } else if (strcmp(pkt, "qAttached") == 0) {
            reply(s, "1");
        } else if (strcmp(pkt, "qC") == 0) {
            reply(s, "QC1");
        } else if (strcmp(pkt, "qfThreadInfo") == 0) {
            reply(s, "m1");
        } else if (strcmp(pkt, "qsThreadInfo") == 0) {
            reply(s, "l");
        } else {
            reply(s, "");
        }
        return true;
    case 'Q':
        if (strcmp(pkt, "QStartNoAckMode") == 0) {
            reply(s, "OK");
            s->ack = false;
        } else {
            reply(s, "");
        }
        return true;
    default:
        reply(s, "");
        return true;
    }
}

/* ---- the session's interface (lib_debug_rsp.h) ---- */

rsp_session *rsp_session_new(const bw_debug_transport *t, const rsp_io *io)
{
    session *s = calloc(1, sizeof *s);
    if (s != NULL) {
        s->t = t;
        s->io = *io;
        s->ack = true;
        rsp_parser_init(&s->parser);
    }
    return s;
}

bool rsp_session_input(rsp_session *s, const uint8_t *bytes, size_t n)
{
    bool more = !s->lost;
    for (size_t i = 0; i < n && more && !s->lost; i++) {
        switch (rsp_parse_byte(&s->parser, bytes[i])) {
        case RSP_PACKET:
            if (s->ack) {
                send_raw(s, "+", 1);
            }
            more = handle(s, s->parser.data);
            break;
        case RSP_BAD:
            send_raw(s, "-", 1);
            break;
        case RSP_INTERRUPT:
            (void)simple(s, BW_DBG_HALT);
            break;
        default:
            break;
        }
    }
    return more && !s->lost;
}

bool rsp_session_keepalive(rsp_session *s)
{
    return status(s) >= 0;
}

void rsp_session_end(rsp_session *s)
{
    if (!s->detached && !s->lost) {
        detach(s);
    }
}

bool rsp_session_lost(const rsp_session *s)
{
    return s->lost;
}

void rsp_session_free(rsp_session *s)
{
    free(s);
}
