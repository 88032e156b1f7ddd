/*
 * The AT response parser of the modem driver (docs/SPEC.md §11): bytes from
 * the module in, events out. Portable, no I/O, no allocation.
 *
 * Line mode: bytes collect in a bounded line buffer up to '\n' (trailing
 * '\r's dropped, empty lines skipped); each line is classified into a
 * bw_at_msg. A '>' at the start of a line is the AT+QISEND data prompt and is
 * reported at once (it has no terminator). Payload mode: a "+QIRD: <n>" line
 * whose n is at most what the driver announced (bw_at_expect_payload) makes
 * the next n bytes raw payload, reported one by one; a larger n, or one not
 * announced, is malformed and never trusted.
 */
#ifndef BW_AT_H
#define BW_AT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_config.h"

/* What one byte fed to the parser produced. */
typedef enum bw_at_event {
    BW_AT_EV_NONE = 0,   /* nothing complete yet */
    BW_AT_EV_LINE,       /* a line ended: parser.msg says what it was */
    BW_AT_EV_PROMPT,     /* the '>' data prompt */
    BW_AT_EV_DATA,       /* a payload byte of a +QIRD answer: parser.data */
} bw_at_event;

/* What a line was. Numbers go to bw_at_msg.a and .b as noted. */
typedef enum bw_at_kind {
    BW_AT_OK,            /* OK */
    BW_AT_ERROR,         /* ERROR */
    BW_AT_CME_ERROR,     /* +CME ERROR: <a=code> */
    BW_AT_SEND_OK,       /* SEND OK */
    BW_AT_SEND_FAIL,     /* SEND FAIL */
    BW_AT_CEREG,         /* +CEREG: <n>,<a=stat> (answer to AT+CEREG?) */
    BW_AT_CEREG_URC,     /* +CEREG: <a=stat>[,...] (unsolicited) */
    BW_AT_QIACT,         /* +QIACT: <a=context>,<b=state>,... */
    BW_AT_QIOPEN,        /* +QIOPEN: <a=connect id>,<b=error> */
    BW_AT_QIRD,          /* +QIRD: <a=length> (payload follows) */
    BW_AT_URC_RECV,      /* +QIURC: "recv",<a=connect id> */
    BW_AT_URC_CLOSED,    /* +QIURC: "closed",<a=connect id> */
    BW_AT_URC_PDPDEACT,  /* +QIURC: "pdpdeact",<a=context> */
    BW_AT_RDY,           /* RDY: the module (re)started */
    BW_AT_ECHO,          /* a command echoed back (starts with AT) */
    BW_AT_OTHER,         /* anything else: unknown to the subset */
    BW_AT_MALFORMED,     /* a known prefix with bad fields or numbers out of range */
    BW_AT_TOO_LONG,      /* longer than the line buffer; its text is lost */
} bw_at_kind;

typedef struct bw_at_msg {
    bw_at_kind kind;
    uint32_t a;
    uint32_t b;
} bw_at_msg;

typedef struct bw_at_parser {
    char line[BW_AT_LINE_MAX];
    size_t len;
    bool overflow;            /* the current line outgrew line[] */
    uint32_t payload_max;     /* largest +QIRD length accepted next (0: none) */
    uint32_t payload_left;    /* payload bytes still to come */
    bw_at_msg msg;            /* the last line (valid after BW_AT_EV_LINE) */
    uint8_t data;             /* the last payload byte (after BW_AT_EV_DATA) */
} bw_at_parser;

/* Empties the parser: line mode, nothing announced. */
void bw_at_init(bw_at_parser *p);

/* Announces that the next +QIRD answer may carry up to max bytes (at most
 * BW_MODEM_READ_MAX); the announcement is used up by that answer. */
void bw_at_expect_payload(bw_at_parser *p, uint32_t max);

/* Takes one byte from the module; returns what it completed. */
bw_at_event bw_at_feed(bw_at_parser *p, uint8_t byte);

/* Classifies one line (no terminator; len bytes, need not be NUL-terminated)
 * into *out. A +QIRD length is range-checked against BW_MODEM_READ_MAX only. */
void bw_at_classify(const char *line, size_t len, bw_at_msg *out);

#endif
