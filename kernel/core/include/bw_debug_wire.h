/*
 * The debug session's wire (docs/SPEC.md §21), shared by both ends: the
 * kernel's session (bw_debug_session.c) and the CLI's (cli/lib_debug_client.c)
 * compile this one file, so layouts, the transcript, the key schedule and
 * the record protection exist once. Pure functions over caller buffers;
 * mbedTLS (SHA-256, HKDF, AES-GCM) underneath. Every function returns a
 * bw_err (BW_OK or why not) and writes its outputs only on BW_OK.
 */
#ifndef BW_DEBUG_WIRE_H
#define BW_DEBUG_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "bw_debug_monitor.h"
#include "bw_err.h"

#define BW_DEBUG_VERSION      2u
#define BW_DEBUG_ID_LEN       34u      /* device ID, ASCII (SPEC §3) */
#define BW_DEBUG_POINT_SIZE   64u      /* P-256 point X || Y */
#define BW_DEBUG_NONCE_SIZE   16u
#define BW_DEBUG_SIG_SIZE     64u
#define BW_DEBUG_HASH_SIZE    32u
#define BW_DEBUG_KEY_SIZE     16u      /* AES-128 */
#define BW_DEBUG_IV_SIZE      4u       /* nonce prefix; the 8-byte sequence follows */
#define BW_DEBUG_TAG_SIZE     16u
#define BW_DEBUG_RECORD_HEAD  9u       /* kind + u64 sequence */
#define BW_DEBUG_INNER_MAX    (1u + BW_DEBUG_PACKET_MAX)
#define BW_DEBUG_RECORD_MAX   (BW_DEBUG_RECORD_HEAD + BW_DEBUG_INNER_MAX + BW_DEBUG_TAG_SIZE)
#define BW_DEBUG_WIRE_MAX     512u     /* any session message (BW_DEBUG_RECORD_MAX = 506) */
#define BW_DEBUG_PING_MAX     32u
#define BW_DEBUG_CERT_MAX     1024u    /* the device certificate, DER (BW_CRED_CERT_MAX) */
/* OPENED: type, u32 idle ms, device signature SD, u16 certificate length,
 * then the certificate's first bytes; CERT_PART: type, u16 offset, bytes. */
#define BW_DEBUG_OPENED_FIXED (1u + 4u + BW_DEBUG_SIG_SIZE + 2u)
#define BW_DEBUG_OPENED_CERT_MAX (BW_DEBUG_INNER_MAX - BW_DEBUG_OPENED_FIXED)   /* 410 */
#define BW_DEBUG_CERT_PART_MAX (BW_DEBUG_INNER_MAX - 3u)                        /* 478 */

/* Session message kinds (§21.1). */
#define BW_DEBUG_HELLO        0x01u
#define BW_DEBUG_OPEN         0x02u
#define BW_DEBUG_RECORD       0x10u
#define BW_DEBUG_CHALLENGE    0x81u
#define BW_DEBUG_REFUSED      0x83u
#define BW_DEBUG_DROPPED      0x84u
#define BW_DEBUG_HELLO_SIZE     2u
#define BW_DEBUG_CHALLENGE_SIZE (1u + BW_DEBUG_POINT_SIZE + BW_DEBUG_NONCE_SIZE)
#define BW_DEBUG_OPEN_SIZE      (1u + BW_DEBUG_POINT_SIZE + BW_DEBUG_NONCE_SIZE + BW_DEBUG_SIG_SIZE)

/* REFUSED reasons. */
#define BW_DEBUG_REFUSED_NOT_DEBUGGABLE 1u
#define BW_DEBUG_REFUSED_WRONG_KEY      2u
#define BW_DEBUG_REFUSED_NO_CHALLENGE   3u
#define BW_DEBUG_REFUSED_MALFORMED      4u
#define BW_DEBUG_REFUSED_DEVICE_ERROR   5u
#define BW_DEBUG_REFUSED_BUSY           6u
#define BW_DEBUG_REFUSED_NOT_PROVISIONED 7u
/* DROPPED reasons. */
#define BW_DEBUG_DROPPED_NO_SESSION     1u
#define BW_DEBUG_DROPPED_REPLAY         2u
#define BW_DEBUG_DROPPED_NOT_AUTHENTIC  3u
#define BW_DEBUG_DROPPED_MALFORMED      4u

/* Inner message types (§21.3). */
#define BW_DEBUG_IN_MONITOR   0x01u
#define BW_DEBUG_IN_PING      0x02u
#define BW_DEBUG_IN_CLOSE     0x03u
#define BW_DEBUG_IN_CERT      0x04u
#define BW_DEBUG_IN_OPENED    0x80u
#define BW_DEBUG_IN_ANSWER    0x81u
#define BW_DEBUG_IN_PONG      0x82u
#define BW_DEBUG_IN_CLOSED    0x83u
#define BW_DEBUG_IN_CERT_PART 0x84u

/* One direction's protection: key, nonce prefix. */
typedef struct bw_debug_dir {
    uint8_t key[BW_DEBUG_KEY_SIZE];
    uint8_t iv[BW_DEBUG_IV_SIZE];
} bw_debug_dir;

typedef struct bw_debug_keys {
    bw_debug_dir to_device;   /* CLI → device */
    bw_debug_dir to_cli;      /* device → CLI */
} bw_debug_keys;

/* SHA-256 of the transcript T of §21.2 (what OPEN's signature signs). */
bw_err bw_debug_transcript_hash(const char device_id[BW_DEBUG_ID_LEN], const uint8_t qd[BW_DEBUG_POINT_SIZE],
                                const uint8_t nd[BW_DEBUG_NONCE_SIZE], const uint8_t qc[BW_DEBUG_POINT_SIZE],
                                const uint8_t nc[BW_DEBUG_NONCE_SIZE], uint8_t hash[BW_DEBUG_HASH_SIZE]);

/* What the device's signature SD signs (§21.2 step 4): SHA-256 of
 * "bulwark-debug-device-v2" || the transcript hash. */
bw_err bw_debug_device_hash(const uint8_t transcript[BW_DEBUG_HASH_SIZE], uint8_t hash[BW_DEBUG_HASH_SIZE]);

/* The session keys from the ECDH secret z, the two nonces and the
 * transcript hash (HKDF-SHA-256, §21.2). */
bw_err bw_debug_derive_keys(const uint8_t z[32], const uint8_t nd[BW_DEBUG_NONCE_SIZE],
                            const uint8_t nc[BW_DEBUG_NONCE_SIZE], const uint8_t transcript[BW_DEBUG_HASH_SIZE],
                            bw_debug_keys *out);

/* Seals inner[0..len) (1 .. BW_DEBUG_INNER_MAX bytes) as RECORD number seq
 * into out (cap bytes); *out_len its length. BW_E_SIZE if it does not fit. */
bw_err bw_debug_seal(const bw_debug_dir *dir, uint64_t seq, const uint8_t *inner, size_t len, uint8_t *out,
                     size_t cap, size_t *out_len);

/* Opens a RECORD: its sequence into *seq and its inner message into
 * inner[0..*inner_len) (cap >= BW_DEBUG_INNER_MAX). BW_E_INVALID when the
 * layout is wrong (not a RECORD, too short or too long), BW_E_DENIED when the
 * tag does not verify (inner unchanged then). */
bw_err bw_debug_open(const bw_debug_dir *dir, const uint8_t *record, size_t len, uint64_t *seq, uint8_t *inner,
                     size_t cap, size_t *inner_len);

/* Clears secrets (not optimised away). */
void bw_debug_wipe(void *p, size_t len);

#endif
