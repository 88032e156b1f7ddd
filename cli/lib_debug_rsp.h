/*
 * `bulwark debug`'s GDB server: the Remote Serial Protocol subset GDB needs
 * for the app on an Armv8-M device, over one bw_debug_transport (the local
 * link or the cloud session) that carries monitor packets (SPEC §20).
 */
#ifndef BULWARK_LIB_DEBUG_RSP_H
#define BULWARK_LIB_DEBUG_RSP_H

#include <stdbool.h>
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

/* GDB's end of one connection, as a session uses it (a socket in
 * debug_rsp_serve; a test's buffers elsewhere). */
typedef struct rsp_io {
    void *ctx;
    /* Writes data[0..len) to GDB: one whole packet or one ack per call;
     * false when GDB is gone. */
    bool (*write)(void *ctx, const char *data, size_t len);
    /* While the app runs: waits up to timeout_ms for bytes from GDB (a
     * Ctrl-C); the count put into buf[0..cap), 0 for none, -1 when GDB is gone. */
    int (*read)(void *ctx, uint8_t *buf, size_t cap, int timeout_ms);
} rsp_io;

/* One GDB connection's state: parser, ack mode, the transport. */
typedef struct rsp_session rsp_session;

/* A session over t and io (both kept by pointer or copy for its life; t
 * stays the caller's). NULL when out of memory. Starts in ack mode. */
rsp_session *rsp_session_new(const bw_debug_transport *t, const rsp_io *io);

/* Handles bytes[0..n) from GDB: packets are acked (in ack mode) and
 * answered through io, asking the device through t; a bad packet gets '-';
 * Ctrl-C sends HALT. False once the session is over: GDB detached or
 * killed, GDB is gone, or the transport is lost (then rsp_session_lost). */
bool rsp_session_input(rsp_session *s, const uint8_t *bytes, size_t n);

/* GDB is idle: a STATUS keeps the device's monitor from timing out
 * (SPEC §9.2). False when the transport is lost. */
bool rsp_session_keepalive(rsp_session *s);

/* The connection is over, however it ended (GDB detached, killed, hung
 * up, or a device answer made no sense): DETACH unless already sent or
 * the transport is lost, so the app is not left halted. */
void rsp_session_end(rsp_session *s);

bool rsp_session_lost(const rsp_session *s);
void rsp_session_free(rsp_session *s);

/* (lib_debug_rsp_serve.c) Listens on 127.0.0.1:port (0: any; prints "GDB server on 127.0.0.1:P"),
 * serves one GDB connection until it detaches, kills or closes, or the
 * transport is lost. Returns 0, 2 (cannot listen) or 3 (transport lost). */
int debug_rsp_serve(const bw_debug_transport *t, uint16_t port);

#endif
