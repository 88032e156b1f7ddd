/*
 * The AT response parser (bw_at.h). Everything here is untrusted input from
 * the modem: every number is range-checked digit by digit (no overflow, at
 * most 10 digits), every field list must match the subset exactly, and a
 * payload length is accepted only up to what the driver asked for.
 */
#include "bw_at.h"

#include <string.h>

typedef struct cursor {
    const char *s;
    const char *end;
} cursor;

static bool take(cursor *c, const char *text)
{
    size_t n = strlen(text);
    if ((size_t)(c->end - c->s) < n || memcmp(c->s, text, n) != 0) {
        return false;
    }
    c->s += n;
    return true;
}

/* A decimal number of 1-10 digits, no sign, at most max. */
static bool number(cursor *c, uint32_t max, uint32_t *out)
{
    uint64_t value = 0;
    size_t digits = 0;
    while (c->s < c->end && *c->s >= '0' && *c->s <= '9') {
        if (++digits > 10) {
            return false;
        }
        value = value * 10u + (uint64_t)(*c->s - '0');
        c->s++;
    }
    if (digits == 0 || value > max) {
        return false;
    }
    *out = (uint32_t)value;
    return true;
}

static bool at_end(const cursor *c)
{
    return c->s == c->end;
}

/* "+CEREG: <n>,<stat>[,...]" answers AT+CEREG?; "+CEREG: <stat>[,"tac",...]"
 * is the URC. The second field tells them apart: a number only in the answer. */
static void classify_cereg(cursor *c, bw_at_msg *out)
{
    uint32_t first, second;
    if (!number(c, 10, &first)) {
        return;
    }
    if (at_end(c)) {
        out->kind = BW_AT_CEREG_URC;
        out->a = first;
        return;
    }
    if (!take(c, ",")) {
        return;
    }
    if (c->s < c->end && *c->s == '"') {
        out->kind = BW_AT_CEREG_URC;   /* with location: +CEREG: <stat>,"<tac>",... */
        out->a = first;
        return;
    }
    if (number(c, 10, &second) && (at_end(c) || *c->s == ',')) {
        out->kind = BW_AT_CEREG;
        out->a = second;
    }
}

static void classify_pair(cursor *c, bw_at_kind kind, uint32_t max_a, uint32_t max_b,
                          bool rest_allowed, bw_at_msg *out)
{
    uint32_t a, b;
    if (number(c, max_a, &a) && take(c, ",") && number(c, max_b, &b)
        && (at_end(c) || (rest_allowed && *c->s == ','))) {
        out->kind = kind;
        out->a = a;
        out->b = b;
    }
}

static void classify_one(cursor *c, bw_at_kind kind, uint32_t max, bw_at_msg *out)
{
    uint32_t a;
    if (number(c, max, &a) && at_end(c)) {
        out->kind = kind;
        out->a = a;
    }
}

void bw_at_classify(const char *line, size_t len, bw_at_msg *out)
{
    cursor c = { line, line + len };
    out->a = 0;
    out->b = 0;
    out->kind = BW_AT_MALFORMED;   /* what a known prefix with bad fields stays */

    static const struct { const char *text; bw_at_kind kind; } exact[] = {
        { "OK", BW_AT_OK }, { "ERROR", BW_AT_ERROR }, { "SEND OK", BW_AT_SEND_OK },
        { "SEND FAIL", BW_AT_SEND_FAIL }, { "RDY", BW_AT_RDY },
    };
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        if (strlen(exact[i].text) == len && memcmp(exact[i].text, line, len) == 0) {
            out->kind = exact[i].kind;
            return;
        }
    }
    if (take(&c, "+CME ERROR: ")) {
        classify_one(&c, BW_AT_CME_ERROR, 65535u, out);
    } else if (take(&c, "+CEREG: ")) {
        classify_cereg(&c, out);
    } else if (take(&c, "+QIACT: ")) {
        classify_pair(&c, BW_AT_QIACT, 16u, 1u, true, out);
    } else if (take(&c, "+QIOPEN: ")) {
        classify_pair(&c, BW_AT_QIOPEN, 11u, 65535u, false, out);
    } else if (take(&c, "+QIRD: ")) {
        classify_one(&c, BW_AT_QIRD, BW_MODEM_READ_MAX, out);
    } else if (take(&c, "+QIURC: \"recv\",")) {
        classify_one(&c, BW_AT_URC_RECV, 11u, out);
    } else if (take(&c, "+QIURC: \"closed\",")) {
        classify_one(&c, BW_AT_URC_CLOSED, 11u, out);
    } else if (take(&c, "+QIURC: \"pdpdeact\",")) {
        classify_one(&c, BW_AT_URC_PDPDEACT, 16u, out);
    } else if (len >= 2 && (line[0] == 'A' || line[0] == 'a') && (line[1] == 'T' || line[1] == 't')) {
        out->kind = BW_AT_ECHO;
    } else {
        out->kind = BW_AT_OTHER;
    }
}

void bw_at_init(bw_at_parser *p)
{
    memset(p, 0, sizeof *p);
}

void bw_at_expect_payload(bw_at_parser *p, uint32_t max)
{
    p->payload_max = max < BW_MODEM_READ_MAX ? max : BW_MODEM_READ_MAX;
}

static bw_at_event end_line(bw_at_parser *p)
{
    size_t len = p->len;
    bool overflow = p->overflow;
    p->len = 0;
    p->overflow = false;
    while (len > 0 && (p->line[len - 1] == '\r' || p->line[len - 1] == ' ')) {
        len--;
    }
    if (overflow) {
        p->msg.kind = BW_AT_TOO_LONG;
        p->msg.a = p->msg.b = 0;
        return BW_AT_EV_LINE;
    }
    if (len == 0) {
        return BW_AT_EV_NONE;
    }
    bw_at_classify(p->line, len, &p->msg);
    if (p->msg.kind == BW_AT_QIRD) {
        if (p->msg.a > p->payload_max) {
            p->msg.kind = BW_AT_MALFORMED;   /* more than asked for, or not asked at all */
        } else {
            p->payload_left = p->msg.a;
        }
        p->payload_max = 0;
    }
    return BW_AT_EV_LINE;
}

bw_at_event bw_at_feed(bw_at_parser *p, uint8_t byte)
{
    if (p->payload_left > 0) {
        p->payload_left--;
        p->data = byte;
        return BW_AT_EV_DATA;
    }
    if (byte == '\n') {
        return end_line(p);
    }
    if (p->len == 0 && !p->overflow && byte == '\r') {
        return BW_AT_EV_NONE;   /* a '\r' of an empty line */
    }
    if (p->len == 0 && !p->overflow && byte == '>') {
        return BW_AT_EV_PROMPT;   /* the line after it (a space) ends up empty */
    }
    if (p->len + 1u >= sizeof p->line) {
        p->overflow = true;
        return BW_AT_EV_NONE;
    }
    p->line[p->len++] = (char)byte;
    return BW_AT_EV_NONE;
}
