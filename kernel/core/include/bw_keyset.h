/*
 * Key sets (docs/SPEC.md §12.4): a new list of trusted update keys, signed
 * by the fleet CA's key, that retires a leaked bundle-signing key in the
 * field. This module reads and checks the record; the credentials store
 * (kernel/net/bw_credentials.c) decides whether it is newer and keeps it.
 * No allocation; the key-set bytes are untrusted (they come over a link).
 */
#ifndef BW_KEYSET_H
#define BW_KEYSET_H

#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"
#include "bw_manifest.h"

#define BW_KEYSET_MAGIC      0x524B5742u   /* "BWKR" */
#define BW_KEYSET_FORMAT     1u
#define BW_KEYSET_FIXED      16u           /* bytes before the keys */
#define BW_KEYSET_KEYS_MAX   4u
#define BW_KEYSET_SIZE(k)    (BW_KEYSET_FIXED + (k) * BW_PUBLIC_KEY_SIZE + BW_SIGNATURE_SIZE)
#define BW_KEYSET_MAX        BW_KEYSET_SIZE(BW_KEYSET_KEYS_MAX)

/* A parsed key set: copies, no pointer into the record. */
typedef struct bw_keyset {
    uint32_t sequence;
    uint32_t key_count;
    uint8_t keys[BW_KEYSET_KEYS_MAX][BW_PUBLIC_KEY_SIZE];
    uint8_t hash[BW_SHA256_SIZE];             /* SHA-256 of the signed bytes */
    uint8_t signature[BW_SIGNATURE_SIZE];
} bw_keyset;

/* Parses rec[0..len): exact length for its key count (1..4), magic, format,
 * reserved word 0, sequence >= 1, every key a P-256 point, no key twice.
 * BW_OK, or BW_E_INVALID with one line in reason and *out all zero. */
bw_err bw_keyset_parse(const uint8_t *rec, size_t len, bw_keyset *out, char *reason, size_t size);

/* Checks the parsed set's signature under the CA's key (0x04 || X || Y).
 * BW_OK, or BW_E_DENIED with one line in reason. */
bw_err bw_keyset_verify(const bw_keyset *set, const uint8_t ca_key[BW_PUBLIC_KEY_SIZE], char *reason,
                        size_t size);

/* Writes the record of a set (the host's `bulwark keys rotate`): the signed
 * bytes first, for the caller to hash and sign, then the signature. out must
 * hold BW_KEYSET_SIZE(key_count). Returns the signed length (the signature
 * goes there), 0 if key_count is out of range or out too small. */
size_t bw_keyset_write_signed_part(uint32_t sequence, const uint8_t (*keys)[BW_PUBLIC_KEY_SIZE],
                                   uint32_t key_count, uint8_t *out, size_t cap);

#endif
