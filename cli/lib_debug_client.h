/*
 * The CLI's end of the debug session (docs/SPEC.md §21), without any
 * transport: builds HELLO and OPEN, authenticates the device (its
 * certificate under the fleet CA, its CN, its signature over the session),
 * seals the CLI's records and opens the device's, each direction's sequence
 * numbers kept here. p256-m, mbedTLS's X.509 parser and the shared wire
 * code (kernel/core bw_debug_wire.c) only, so host tests run it against the
 * kernel's end in one process. Randomness: p256-m's psa_generate_random (the program
 * provides it). Every function returns 0, or -1 with a reason in err.
 */
#ifndef BULWARK_LIB_DEBUG_CLIENT_H
#define BULWARK_LIB_DEBUG_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_debug_wire.h"

typedef struct debug_client {
    char device_id[BW_DEBUG_ID_LEN];
    uint8_t key[32];                     /* the debug private key */
    uint8_t dc[32];                      /* ephemeral, until OPEN is built */
    uint8_t qc[BW_DEBUG_POINT_SIZE];
    uint8_t nc[BW_DEBUG_NONCE_SIZE];
    uint8_t nd[BW_DEBUG_NONCE_SIZE];
    uint8_t transcript[BW_DEBUG_HASH_SIZE];
    bw_debug_keys keys;
    bool keyed;                          /* OPEN built: keys derived */
    bool open;                           /* OPENED accepted */
    uint64_t next_out;
    bool any_in;
    uint64_t last_in;
    uint32_t idle_ms;                    /* the device's, from OPENED */
    const uint8_t *ca;                   /* the fleet CA certificate, DER (the caller's) */
    size_t ca_len;
    bool proving;                        /* OPENED taken, certificate not complete */
    uint8_t sd[BW_DEBUG_SIG_SIZE];       /* the device's signature, from OPENED */
    uint8_t cert[BW_DEBUG_CERT_MAX];     /* the device's certificate as received */
    size_t cert_len, cert_have;
} debug_client;

/* Starts a client for device_id (34 characters) with the debug private key
 * (32-byte big-endian scalar) and the fleet CA certificate ca[0..ca_len)
 * (DER; kept by the caller for the client's life) the device must prove
 * itself under. */
int debug_client_init(debug_client *c, const char *device_id, const uint8_t private_key[32], const uint8_t *ca,
                      size_t ca_len, char *err, size_t errcap);

/* HELLO into out (>= 2 bytes); returns its length. */
size_t debug_client_hello(uint8_t *out);

/* Takes the device's answer to HELLO (a CHALLENGE, else an error naming
 * the refusal) and writes OPEN into out (>= BW_DEBUG_OPEN_SIZE). */
int debug_client_open(debug_client *c, const uint8_t *answer, size_t len, uint8_t *out, size_t *out_len,
                      char *err, size_t errcap);

/* True when answer is REFUSED busy (§21.4): send HELLO again later. */
bool debug_client_busy(const uint8_t *answer, size_t len);

/* Takes the device's answer to OPEN, then to each CERT: the OPENED record
 * under the derived keys, then CERT_PART records. When the certificate is
 * still incomplete, writes the next CERT record into out (cap >=
 * BW_DEBUG_WIRE_MAX, *out_len > 0) whose answer comes back here. When it is
 * complete, *out_len = 0 and the session is open only if the device proved
 * itself (§21.2 step 5); else -1 with the reason, e.g. "the device's
 * certificate does not chain to the fleet CA". */
int debug_client_opened(debug_client *c, const uint8_t *answer, size_t len, uint8_t *out, size_t cap,
                        size_t *out_len, char *err, size_t errcap);

/* Seals the next record: inner type and body[0..n) into out (cap >= BW_DEBUG_WIRE_MAX). */
int debug_client_seal(debug_client *c, uint8_t type, const void *body, size_t n, uint8_t *out, size_t cap,
                      size_t *out_len, char *err, size_t errcap);

/* Opens the device's answer to a record: its inner type and body (body
 * cap >= BW_DEBUG_PACKET_MAX). REFUSED, DROPPED, a record that does not
 * authenticate or is not newer than the last: -1 with the reason. */
int debug_client_unseal(debug_client *c, const uint8_t *answer, size_t len, uint8_t *type, uint8_t *body,
                        size_t cap, size_t *n, char *err, size_t errcap);

/* Forgets every secret. */
void debug_client_wipe(debug_client *c);

/* Text for a REFUSED or DROPPED answer (kind, reason). */
const char *debug_client_refusal_text(uint8_t kind, uint8_t reason);

#endif
