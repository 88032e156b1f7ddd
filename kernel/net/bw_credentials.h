/*
 * The device's credentials (docs/SPEC.md §12): its own P-256 key pair, made
 * on the first boot from the board's entropy and never sent anywhere; the
 * certificate the fleet CA issued for it; the fleet CA's certificate; the
 * broker's host name and port; the trusted update keys. Kept in the secure
 * flash partition CREDENTIALS as one record, in two sectors (A/B) that take
 * turns: a write goes to the sector not holding the newest valid record,
 * body first and the header (with both CRCs) last, so a power cut at any
 * instant leaves the previous record valid. Flash contents are untrusted:
 * a record is used only when every field checks.
 *
 * Invariants: once a key has been committed it never changes (provisioning
 * again replaces the certificate, CA, broker and update keys, never the
 * key); the private key leaves this module only as an mbedTLS context for
 * the TLS layer, and only the public key (in the CSR) leaves the device.
 *
 * State is static (no heap of its own; mbedTLS uses the kernel's crypto
 * arena, bw_crypto.h). Kernel loop or boot only: never from an interrupt or
 * a system call.
 */
#ifndef BW_CREDENTIALS_H
#define BW_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbedtls/pk.h"

#include "bw_config.h"
#include "bw_err.h"
#include "bw_flash.h"

/* ---- the flash record (docs/SPEC.md §12) ---- */

#define BW_CRED_MAGIC          0x52435742u   /* "BWCR" */
#define BW_CRED_FORMAT         1u
#define BW_CRED_HEADER_SIZE    32u
#define BW_CRED_BODY_FIXED     108u          /* body bytes before the variable fields */
#define BW_CRED_PRIVATE_SIZE   32u           /* P-256 scalar, big-endian */
#define BW_CRED_PUBLIC_SIZE    65u           /* 0x04 || X || Y */
#define BW_CRED_UPDATE_KEYS_MAX 4u
#define BW_CRED_FLAG_PROVISIONED 1u
#define BW_CRED_BODY_MAX       (BW_CRED_BODY_FIXED + BW_CRED_HOST_MAX + BW_CRED_CERT_MAX \
                                + BW_CRED_CA_MAX + 2u * BW_CRED_UPDATE_KEYS_MAX * BW_CRED_PUBLIC_SIZE)
#define BW_CRED_RECORD_MAX     (BW_CRED_HEADER_SIZE + BW_CRED_BODY_MAX)

/* ---- boot ---- */

/* Loads the newest valid record of the partition p (2 sectors or more; the
 * first two are used). If it holds none, makes a key pair from bw_random
 * (the DRBG over port_entropy, which must be seeded) and stores it, and sets
 * *created. BW_E_UNAVAILABLE: no partition, or one this format cannot use
 * (fewer than 2 sectors, a sector smaller than a record, a program unit
 * above 32 bytes); BW_E_IO: flash or entropy failed (no key then). */
bw_err bw_credentials_boot(const bw_flash_partition *p, bool *created);

/* ---- accessors (for the TLS layer and the kernel) ---- */

/* True once a key pair is in flash (after a successful bw_credentials_boot). */
bool bw_credentials_have_key(void);
/* True when the store holds a certificate, the CA, the broker and the key. */
bool bw_credentials_provisioned(void);
/* The device's public key, 65 bytes (0x04 || X || Y); NULL without a key. */
const uint8_t *bw_credentials_public_key(void);
/* Sets up pk (initialised by the caller, freed by the caller with
 * mbedtls_pk_free) as the device's P-256 key pair, for TLS client auth.
 * BW_E_UNAVAILABLE without a key; BW_E_IO if mbedTLS could not (arena full). */
bw_err bw_credentials_device_key(mbedtls_pk_context *pk);
/* Signs hash[0..32) (a SHA-256 digest) with the device key: ECDSA P-256,
 * r || s (32 bytes each, big-endian), a fresh nonce from the kernel DRBG.
 * The key stays in this module. BW_E_UNAVAILABLE without a key; BW_E_IO
 * if mbedTLS could not (arena full, no random). */
bw_err bw_credentials_sign(const uint8_t hash[32], uint8_t sig[64]);
/* The device certificate / fleet CA certificate, DER, owned by this module
 * and valid until the next commit; NULL (and *len 0) when not provisioned. */
const uint8_t *bw_credentials_certificate(size_t *len);
const uint8_t *bw_credentials_ca_certificate(size_t *len);
/* The broker's host name (NUL-terminated, owned here) and port; NULL and 0
 * when not provisioned. */
const char *bw_credentials_broker_host(void);
uint16_t bw_credentials_broker_port(void);
/* Copies the trusted update keys written at provisioning (at most
 * BW_CRED_UPDATE_KEYS_MAX points) into keys; *count 0 when there are none
 * (the kernel then falls back to the identity sector's record). */
void bw_credentials_update_keys(uint8_t keys[BW_CRED_UPDATE_KEYS_MAX][BW_CRED_PUBLIC_SIZE],
                                size_t *count);
/* The keys the last key set replaced (§12.4), same shape: they still check
 * the apps the device accepted before it (the running app, the
 * last-known-good), never a new bundle. *count 0 when none. */
void bw_credentials_retired_keys(uint8_t keys[BW_CRED_UPDATE_KEYS_MAX][BW_CRED_PUBLIC_SIZE],
                                 size_t *count);
/* The sequence of the key set held (0: the keys came with provisioning). */
uint32_t bw_credentials_key_set(void);
/* The sequence number of the record in use (0: none). */
uint32_t bw_credentials_sequence(void);

/* ---- provisioning ---- */

/* Builds a PKCS#10 certificate request (DER) with subject CN = device_id
 * (BW_DEVICE_ID_LEN characters), signed with the device key (ECDSA with
 * SHA-256, a fresh signature each time). *len: its length. BW_E_UNAVAILABLE
 * without a key, BW_E_SIZE if out is too small, BW_E_IO if mbedTLS failed. */
bw_err bw_credentials_csr(const char device_id[BW_DEVICE_ID_LEN], uint8_t *out, size_t size,
                          size_t *len);

/* What a provisioning write carries (docs/SPEC.md §12, link request PROV_DATA). */
typedef enum bw_cred_item {
    BW_CRED_ITEM_CERTIFICATE = 1,   /* the device certificate, DER */
    BW_CRED_ITEM_CA = 2,            /* the fleet CA certificate, DER */
    BW_CRED_ITEM_BROKER = 3,        /* "host:port", ASCII */
    BW_CRED_ITEM_UPDATE_KEYS = 4,   /* 1..4 uncompressed P-256 points, 65 bytes each */
} bw_cred_item;

/* Adds len bytes at offset to an item of the RAM draft. Offset 0 starts the
 * item afresh; any other offset must equal the bytes held. *held: the item's
 * bytes held afterwards (also on error). BW_E_INVALID: unknown item or
 * offset out of order; BW_E_SIZE: the item would exceed its maximum. */
bw_err bw_credentials_draft_put(bw_cred_item item, uint32_t offset, const uint8_t *data, size_t len,
                                uint32_t *held);

/* Checks the draft and, if it is sound, stores it with the device's key:
 * the certificate and the CA parse, the certificate's public key is the
 * device key, its subject CN is device_id, it is for client auth (if it
 * says), and it verifies under the CA (a CA certificate with CA:TRUE); the
 * broker is host:port (1..BW_CRED_HOST_MAX-1 printable characters, port
 * 1..65535). Update keys not sent keep the stored ones. The draft is emptied
 * whatever the outcome. On refusal nothing in flash changes and reason gets
 * one line; BW_E_INVALID (refused), BW_E_UNAVAILABLE (no key), BW_E_IO (flash). */
bw_err bw_credentials_commit(const char device_id[BW_DEVICE_ID_LEN], char *reason, size_t size);

/* ---- update-key rotation (docs/SPEC.md §12.4) ---- */

/* Takes a key set (rec[0..len), untrusted): it parses, the device is
 * provisioned, the set verifies under the stored fleet CA's key, and its
 * sequence is newer than the one held. Then the set's keys become the
 * trusted update keys, the replaced ones retired, in a new record written
 * as a commit's is. On refusal nothing changes and reason gets one line.
 * BW_E_INVALID (malformed or not newer), BW_E_DENIED (signature),
 * BW_E_UNAVAILABLE (not provisioned), BW_E_IO (flash). */
bw_err bw_credentials_rotate_keys(const uint8_t *rec, size_t len, char *reason, size_t size);

#endif
