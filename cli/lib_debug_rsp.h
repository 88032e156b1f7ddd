/*
 * `bulwark debug`'s GDB server: the Remote Serial Protocol subset GDB needs
 * for the app on an Armv8-M device, over one bw_debug_transport (the local
 * link or the cloud session) that carries monitor packets (SPEC §20).
 */
#ifndef BULWARK_LIB_DEBUG_RSP_H
#define BULWARK_LIB_DEBUG_RSP_H

#include <stddef.h>
#include <stdint.h>

#include "lib_debug_transport.h"

#define RSP_PACKET_MAX 1024u   /* PacketSize we announce (payload bytes) */

/* The packet parser, byte by byte (defensive: any byte sequence is fine). */
typedef enum rsp_event {
    RSP_NONE,          /* need more bytes */
    RSP_PACKET,        /* a packet with a good checksum: p->data[0..p->len), NUL-terminated */
    RSP_BAD,           /* a packet with a bad checksum or too long: answer '-' */
    RSP_INTERRUPT,     /* 0x03 outside a packet */
    RSP_ACK,           /* '+' */
    RSP_NAK,           /* '-' */
} rsp_event;

typedef struct rsp_parser {
    int state;         /* 0 idle, 1 data, 2 escape, 3/4 checksum digits */
    size_t len;
    uint8_t sum;
    uint8_t check;
    int overflow;
    char data[RSP_PACKET_MAX + 1];
} rsp_parser;

void rsp_parser_init(rsp_parser *p);
rsp_event rsp_parse_byte(rsp_parser *p, uint8_t byte);

/* Listens on 127.0.0.1:port (0: any; prints "GDB server on 127.0.0.1:P"),
 * serves one GDB connection until it detaches, kills or closes, or the
 * transport is lost. Returns 0, 2 (cannot listen) or 3 (transport lost). */
int debug_rsp_serve(const bw_debug_transport *t, uint16_t port);

#endif
