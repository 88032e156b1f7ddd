/*
 * Key sets (bw_keyset.h; format: docs/SPEC.md §12.4).
 */
#include <string.h>

#include "mbedtls/sha256.h"

#include "bw_bytes.h"
#include "bw_format.h"
#include "bw_keyset.h"

#define K_MAGIC     0u
#define K_FORMAT    4u    /* u16 */
#define K_COUNT     6u    /* u16 */
#define K_SEQUENCE  8u
#define K_RESERVED  12u

static bw_err parse(const uint8_t *rec, size_t len, bw_keyset *out, char *reason, size_t size)
{
    if (len < BW_KEYSET_FIXED) {
        bw_format(reason, size, "a key set is %u to %u bytes, not %u", (unsigned)BW_KEYSET_SIZE(1),
                  (unsigned)BW_KEYSET_MAX, (unsigned)len);
        return BW_E_INVALID;
    }
    uint32_t count = bw_get16(rec + K_COUNT);
    if (bw_get32(rec + K_MAGIC) != BW_KEYSET_MAGIC || bw_get16(rec + K_FORMAT) != BW_KEYSET_FORMAT
        || bw_get32(rec + K_RESERVED) != 0) {
        bw_format(reason, size, "not a key set of format %u (magic, format or reserved word)",
                  (unsigned)BW_KEYSET_FORMAT);
        return BW_E_INVALID;
    }
    if (count < 1u || count > BW_KEYSET_KEYS_MAX) {
        bw_format(reason, size, "a key set holds 1 to %u keys, not %u", (unsigned)BW_KEYSET_KEYS_MAX,
                  (unsigned)count);
        return BW_E_INVALID;
    }
    if (len != BW_KEYSET_SIZE(count)) {
        bw_format(reason, size, "a key set of %u key(s) is %u bytes, not %u", (unsigned)count,
                  (unsigned)BW_KEYSET_SIZE(count), (unsigned)len);
        return BW_E_INVALID;
    }
    out->sequence = bw_get32(rec + K_SEQUENCE);
    if (out->sequence == 0) {
        bw_format(reason, size, "key-set sequence 0 is reserved (the keys provisioning brought)");
        return BW_E_INVALID;
    }
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *key = rec + BW_KEYSET_FIXED + i * BW_PUBLIC_KEY_SIZE;
        if (!bw_manifest_public_key_valid(key)) {
            bw_format(reason, size, "key %u is not an uncompressed P-256 point", (unsigned)(i + 1u));
            return BW_E_INVALID;
        }
        for (uint32_t j = 0; j < i; j++) {
            if (memcmp(out->keys[j], key, BW_PUBLIC_KEY_SIZE) == 0) {
                bw_format(reason, size, "key %u is listed twice", (unsigned)(i + 1u));
                return BW_E_INVALID;
            }
        }
        memcpy(out->keys[i], key, BW_PUBLIC_KEY_SIZE);
    }
    out->key_count = count;
    size_t signed_len = BW_KEYSET_FIXED + count * BW_PUBLIC_KEY_SIZE;
    memcpy(out->signature, rec + signed_len, BW_SIGNATURE_SIZE);
    if (mbedtls_sha256(rec, signed_len, out->hash, 0) != 0) {
        bw_format(reason, size, "SHA-256 failed");
        return BW_E_INVALID;
    }
    return BW_OK;
}

bw_err bw_keyset_verify(const bw_keyset *set, const uint8_t ca_key[BW_PUBLIC_KEY_SIZE], char *reason,
                        size_t size)
{
    switch (bw_manifest_ecdsa_check(ca_key, set->hash, set->signature)) {
    case BW_MANIFEST_OK:
        return BW_OK;
    case BW_MANIFEST_E_TRUSTED_KEY:
        bw_format(reason, size, "the fleet CA's key is not a P-256 point");
        return BW_E_DENIED;
    default:
        bw_format(reason, size, "the signature does not verify under the fleet CA");
        return BW_E_DENIED;
    }
}

bw_err bw_keyset_parse(const uint8_t *rec, size_t len, bw_keyset *out, char *reason, size_t size)
{
    memset(out, 0, sizeof *out);
    bw_err err = parse(rec, len, out, reason, size);
    if (err != BW_OK) {
        memset(out, 0, sizeof *out);   /* nothing half-read is kept */
    }
    return err;
}

size_t bw_keyset_write_signed_part(uint32_t sequence, const uint8_t (*keys)[BW_PUBLIC_KEY_SIZE],
                                   uint32_t key_count, uint8_t *out, size_t cap)
{
    if (key_count < 1u || key_count > BW_KEYSET_KEYS_MAX || cap < BW_KEYSET_SIZE(key_count)) {
        return 0;
    }
    memset(out, 0, BW_KEYSET_FIXED);
    bw_put32(out + K_MAGIC, BW_KEYSET_MAGIC);
    bw_put16(out + K_FORMAT, BW_KEYSET_FORMAT);
    bw_put16(out + K_COUNT, (uint16_t)key_count);
    bw_put32(out + K_SEQUENCE, sequence);
    for (uint32_t i = 0; i < key_count; i++) {
        memcpy(out + BW_KEYSET_FIXED + i * BW_PUBLIC_KEY_SIZE, keys[i], BW_PUBLIC_KEY_SIZE);
    }
    return BW_KEYSET_FIXED + key_count * BW_PUBLIC_KEY_SIZE;
}
