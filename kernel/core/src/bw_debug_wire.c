/*
 * The debug session's wire (bw_debug_wire.h, docs/SPEC.md §21): transcript,
 * key schedule and record protection, compiled into the kernel and the CLI.
 */
#include <stdbool.h>
#include <string.h>

#include "bw_bytes.h"
#include "bw_debug_wire.h"
#include "mbedtls/gcm.h"
#include "mbedtls/hkdf.h"
#include "mbedtls/md.h"
#include "mbedtls/sha256.h"

static const char transcript_label[] = "bulwark-debug-open-v2";
static const char keys_label[] = "bulwark-debug-keys-v2";
static const char device_label[] = "bulwark-debug-device-v2";
#define LABEL_LEN 21u

void bw_debug_wipe(void *p, size_t len)
{
    volatile uint8_t *b = p;
    while (len-- > 0) {
        *b++ = 0;
    }
}

static void put64(uint8_t *p, uint64_t v)
{
    bw_put32(p, (uint32_t)v);
    bw_put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)bw_get32(p) | (uint64_t)bw_get32(p + 4) << 32;
}

bw_err bw_debug_transcript_hash(const char device_id[BW_DEBUG_ID_LEN], const uint8_t qd[BW_DEBUG_POINT_SIZE],
                                const uint8_t nd[BW_DEBUG_NONCE_SIZE], const uint8_t qc[BW_DEBUG_POINT_SIZE],
                                const uint8_t nc[BW_DEBUG_NONCE_SIZE], uint8_t hash[BW_DEBUG_HASH_SIZE])
{
    mbedtls_sha256_context sha;
    mbedtls_sha256_init(&sha);
    int rc = mbedtls_sha256_starts(&sha, 0);
    rc = rc != 0 ? rc : mbedtls_sha256_update(&sha, (const uint8_t *)transcript_label, LABEL_LEN);
    rc = rc != 0 ? rc : mbedtls_sha256_update(&sha, (const uint8_t *)device_id, BW_DEBUG_ID_LEN);
    rc = rc != 0 ? rc : mbedtls_sha256_update(&sha, qd, BW_DEBUG_POINT_SIZE);
    rc = rc != 0 ? rc : mbedtls_sha256_update(&sha, nd, BW_DEBUG_NONCE_SIZE);
    rc = rc != 0 ? rc : mbedtls_sha256_update(&sha, qc, BW_DEBUG_POINT_SIZE);
    rc = rc != 0 ? rc : mbedtls_sha256_update(&sha, nc, BW_DEBUG_NONCE_SIZE);
    rc = rc != 0 ? rc : mbedtls_sha256_finish(&sha, hash);
    mbedtls_sha256_free(&sha);
    return rc == 0 ? BW_OK : BW_E_INVALID;
}

bw_err bw_debug_device_hash(const uint8_t transcript[BW_DEBUG_HASH_SIZE], uint8_t hash[BW_DEBUG_HASH_SIZE])
{
    mbedtls_sha256_context sha;
    mbedtls_sha256_init(&sha);
    int rc = mbedtls_sha256_starts(&sha, 0);
    rc = rc != 0 ? rc : mbedtls_sha256_update(&sha, (const uint8_t *)device_label, sizeof device_label - 1u);
    rc = rc != 0 ? rc : mbedtls_sha256_update(&sha, transcript, BW_DEBUG_HASH_SIZE);
    rc = rc != 0 ? rc : mbedtls_sha256_finish(&sha, hash);
    mbedtls_sha256_free(&sha);
    return rc == 0 ? BW_OK : BW_E_INVALID;
}

bw_err bw_debug_derive_keys(const uint8_t z[32], const uint8_t nd[BW_DEBUG_NONCE_SIZE],
                            const uint8_t nc[BW_DEBUG_NONCE_SIZE], const uint8_t transcript[BW_DEBUG_HASH_SIZE],
                            bw_debug_keys *out)
{
    uint8_t salt[2 * BW_DEBUG_NONCE_SIZE];
    uint8_t info[LABEL_LEN + BW_DEBUG_HASH_SIZE];
    uint8_t okm[2 * (BW_DEBUG_KEY_SIZE + BW_DEBUG_IV_SIZE)];
    memcpy(salt, nd, BW_DEBUG_NONCE_SIZE);
    memcpy(salt + BW_DEBUG_NONCE_SIZE, nc, BW_DEBUG_NONCE_SIZE);
    memcpy(info, keys_label, LABEL_LEN);
    memcpy(info + LABEL_LEN, transcript, BW_DEBUG_HASH_SIZE);
    int rc = mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), salt, sizeof salt, z, 32, info,
                          sizeof info, okm, sizeof okm);
    if (rc == 0) {
        memcpy(out->to_device.key, okm, BW_DEBUG_KEY_SIZE);
        memcpy(out->to_device.iv, okm + 16, BW_DEBUG_IV_SIZE);
        memcpy(out->to_cli.key, okm + 20, BW_DEBUG_KEY_SIZE);
        memcpy(out->to_cli.iv, okm + 36, BW_DEBUG_IV_SIZE);
    }
    bw_debug_wipe(okm, sizeof okm);
    return rc == 0 ? BW_OK : BW_E_INVALID;
}

/* The GCM nonce of record seq in direction dir. */
static void record_nonce(const bw_debug_dir *dir, const uint8_t head[BW_DEBUG_RECORD_HEAD], uint8_t nonce[12])
{
    memcpy(nonce, dir->iv, BW_DEBUG_IV_SIZE);
    memcpy(nonce + BW_DEBUG_IV_SIZE, head + 1, 8);
}

bw_err bw_debug_seal(const bw_debug_dir *dir, uint64_t seq, const uint8_t *inner, size_t len, uint8_t *out,
                     size_t cap, size_t *out_len)
{
    size_t total = BW_DEBUG_RECORD_HEAD + len + BW_DEBUG_TAG_SIZE;
    if (len == 0 || len > BW_DEBUG_INNER_MAX || total > cap) {
        return BW_E_SIZE;
    }
    uint8_t nonce[12];
    out[0] = BW_DEBUG_RECORD;
    put64(out + 1, seq);
    record_nonce(dir, out, nonce);
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    int rc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, dir->key, 8u * BW_DEBUG_KEY_SIZE);
    rc = rc != 0 ? rc
                 : mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, len, nonce, sizeof nonce, out,
                                             BW_DEBUG_RECORD_HEAD, inner, out + BW_DEBUG_RECORD_HEAD,
                                             BW_DEBUG_TAG_SIZE, out + BW_DEBUG_RECORD_HEAD + len);
    mbedtls_gcm_free(&gcm);
    if (rc != 0) {
        return BW_E_IO;
    }
    *out_len = total;
    return BW_OK;
}

bw_err bw_debug_open(const bw_debug_dir *dir, const uint8_t *record, size_t len, uint64_t *seq, uint8_t *inner,
                     size_t cap, size_t *inner_len)
{
    if (len < BW_DEBUG_RECORD_HEAD + 1u + BW_DEBUG_TAG_SIZE || len > BW_DEBUG_RECORD_MAX
        || record[0] != BW_DEBUG_RECORD) {
        return BW_E_INVALID;
    }
    size_t n = len - BW_DEBUG_RECORD_HEAD - BW_DEBUG_TAG_SIZE;
    if (n > cap) {
        return BW_E_SIZE;
    }
    uint8_t nonce[12];
    record_nonce(dir, record, nonce);
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    int rc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, dir->key, 8u * BW_DEBUG_KEY_SIZE);
    bool keyed = rc == 0;
    rc = rc != 0 ? rc
                 : mbedtls_gcm_auth_decrypt(&gcm, n, nonce, sizeof nonce, record, BW_DEBUG_RECORD_HEAD,
                                            record + BW_DEBUG_RECORD_HEAD + n, BW_DEBUG_TAG_SIZE,
                                            record + BW_DEBUG_RECORD_HEAD, inner);
    mbedtls_gcm_free(&gcm);
    if (rc != 0) {
        /* mbedTLS clears the output on a bad tag. */
        return keyed ? BW_E_DENIED : BW_E_IO;
    }
    *seq = get64(record + 1);
    *inner_len = n;
    return BW_OK;
}
