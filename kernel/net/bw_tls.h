/*
 * The kernel's TLS 1.2 client (mbedTLS; profile in docs/SPEC.md §14): one
 * connection at a time, over a non-blocking lower bw_stream (the modem's
 * socket), offering itself as a bw_stream to the layer above (MQTT).
 *
 * Mutual authentication: the client sends the device certificate and signs
 * with the device key; the server's certificate must chain to the fleet CA
 * and name the expected server (SAN or CN). The last good session stays in
 * RAM across connections, so a reconnect resumes with a ticket and does no
 * ECC at all. Each bw_tls_poll does one handshake step with at most
 * BW_TLS_ECP_MAX_OPS units of ECC work (restartable ECC), so the kernel loop
 * never stalls the app for a whole scalar multiplication.
 *
 * Runs in the kernel loop only (never from an interrupt or a system call):
 * its memory comes from the mbedTLS arena (bw_crypto.h), which has no lock.
 */
#ifndef BW_TLS_H
#define BW_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"
#include "bw_stream.h"

/* What the caller hands in; every buffer is the caller's and must stay
 * unchanged until bw_tls_close (or a failure) ends the connection. */
typedef struct bw_tls_credentials {
    const uint8_t *device_key;    /* P-256 private key: 32-byte scalar, or DER (SEC1 / PKCS#8) */
    size_t device_key_len;
    const uint8_t *device_cert;   /* the device's X.509 certificate, DER */
    size_t device_cert_len;
    const uint8_t *ca_cert;       /* the fleet CA certificate, DER: the only trust anchor */
    size_t ca_cert_len;
    const char *server_name;      /* expected broker name (SAN/CN), also sent as SNI; NUL-terminated */
    uint64_t wall_time_s;         /* UTC seconds now, for certificate dates; 0: unknown, dates not checked */
} bw_tls_credentials;

typedef enum bw_tls_state {
    BW_TLS_IDLE,          /* never started, or closed and released */
    BW_TLS_HANDSHAKING,   /* bw_tls_poll advances it */
    BW_TLS_OPEN,          /* the upper stream carries data */
    BW_TLS_CLOSED,        /* the peer closed (close_notify or end of the lower stream) */
    BW_TLS_FAILED,        /* handshake or record error: see bw_tls_status */
} bw_tls_state;

typedef struct bw_tls_status {
    bw_tls_state state;
    const char *reason;      /* static text for FAILED/CLOSED, "" otherwise */
    int mbedtls_err;         /* mbedTLS's error code of the failure (negative), 0 if none */
    uint32_t verify_flags;   /* MBEDTLS_X509_BADCERT_* of the server certificate, 0 if fine */
    bool resumed;            /* the handshake resumed the saved session */
    uint32_t polls;          /* bw_tls_poll calls in this handshake */
    uint32_t ecc_slices;     /* of which stopped in ECC with its budget spent */
} bw_tls_status;

/* Starts a handshake over `below` (kept by pointer until the connection
 * ends) with the saved session if there is one. now_ms: the kernel's
 * monotonic time, for the handshake deadline. BW_E_IN_USE if a connection is
 * live; BW_E_INVALID if the credentials do not parse (status says which);
 * BW_E_FULL if the mbedTLS arena is too small. */
bw_err bw_tls_start(const bw_stream *below, const bw_tls_credentials *creds, uint64_t now_ms);

/* Advances the connection by one bounded step (one handshake step, or the
 * flush of a pending record when open) and returns the state. Past
 * BW_TLS_HANDSHAKE_TIMEOUT_MS of handshake the connection fails. */
bw_tls_state bw_tls_poll(uint64_t now_ms);

/* The connection's state, failure reason and handshake counters. */
void bw_tls_status_get(bw_tls_status *out);

/* The stream for the layer above: plaintext in and out while OPEN; 0 while
 * handshaking; BW_STREAM_CLOSED after close_notify or a clean end;
 * BW_STREAM_FAILED after any failure. send takes at most one record
 * (2 KiB) per call; taken bytes are sent by later calls or polls. */
const bw_stream *bw_tls_stream(void);

/* Ends the connection: sends close_notify if open (best effort, one try),
 * releases everything but the saved session; state becomes IDLE. The lower
 * stream is the caller's to close. */
void bw_tls_close(void);

/* Drops the saved session: the next handshake is a full one. */
void bw_tls_forget_session(void);

#endif
