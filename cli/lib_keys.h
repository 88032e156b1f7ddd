/*
 * Signing keys for the CLI: ECDSA P-256 key pairs in PEM files (SEC1
 * "EC PRIVATE KEY" for the private half, SubjectPublicKeyInfo for the public
 * half), their 65-byte raw public keys and key ids (bw_manifest_key_id), and
 * signing a manifest hash as raw r||s.
 */
#ifndef BULWARK_LIB_KEYS_H
#define BULWARK_LIB_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbedtls/pk.h"

#include "bw_manifest.h"

/* Fills pk with a fresh P-256 key pair from OS entropy. pk must be initialized. */
bool keys_generate(mbedtls_pk_context *pk, char *reason, size_t reason_size);

/* PEM text of the private key (SEC1) or public key into buf (NUL-terminated). */
bool keys_private_pem(mbedtls_pk_context *pk, char *buf, size_t size);
bool keys_public_pem(mbedtls_pk_context *pk, char *buf, size_t size);

/* Loads a P-256 private key (PEM or DER file). pk must be initialized. */
bool keys_load_private(const char *path, mbedtls_pk_context *pk, char *reason, size_t reason_size);

/* Loads a P-256 public key from a public key file, or from a private key file. */
bool keys_load_public(const char *path, uint8_t public_key[BW_PUBLIC_KEY_SIZE], char *reason,
                      size_t reason_size);

/* The raw uncompressed point 0x04||X||Y of a P-256 key. */
bool keys_raw_public(mbedtls_pk_context *pk, uint8_t public_key[BW_PUBLIC_KEY_SIZE]);

/* Key id as 16 lowercase hex digits (out: 17 bytes). */
void keys_id_hex(const uint8_t key_id[BW_KEY_ID_SIZE], char out[2 * BW_KEY_ID_SIZE + 1]);

/* Signs a SHA-256 hash with the private key (deterministic ECDSA, RFC 6979):
 * r||s, 32 bytes each, big-endian. */
bool keys_sign_hash(mbedtls_pk_context *pk, const uint8_t hash[BW_SHA256_SIZE],
                    uint8_t signature[BW_SIGNATURE_SIZE], char *reason, size_t reason_size);

/* mbedTLS RNG callback (f_rng) over OS entropy through a CTR_DRBG seeded on
 * first use (p_rng is ignored). 0, or an mbedTLS error if seeding failed. */
int keys_rng(void *p_rng, unsigned char *out, size_t len);

/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void hex_encode(const uint8_t *data, size_t len, char *out);

#endif
