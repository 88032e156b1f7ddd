/*
 * Key files and signing for the CLI (lib_keys.h). Every key loaded is checked
 * to be an EC key on secp256r1 before use; randomness comes from mbedTLS's
 * entropy collector (the OS source) through CTR_DRBG, set up per call.
 */
#include <stdio.h>
#include <string.h>

#include "mbedtls/bignum.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"

#include "lib_keys.h"

static const char personalization[] = "bulwark-cli";

void hex_encode(const uint8_t *data, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = "0123456789abcdef"[data[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[data[i] & 15];
    }
    out[2 * len] = '\0';
}

void keys_id_hex(const uint8_t key_id[BW_KEY_ID_SIZE], char out[2 * BW_KEY_ID_SIZE + 1])
{
    hex_encode(key_id, BW_KEY_ID_SIZE, out);
}

static void mbedtls_reason(int rc, const char *what, char *reason, size_t reason_size)
{
    char text[128];
    mbedtls_strerror(rc, text, sizeof text);
    snprintf(reason, reason_size, "%s: %s", what, text);
}

/* A CTR_DRBG seeded from the OS; both contexts freed by rng_free. */
typedef struct rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
} rng;

static int rng_init(rng *r)
{
    mbedtls_entropy_init(&r->entropy);
    mbedtls_ctr_drbg_init(&r->drbg);
    return mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
                                 (const unsigned char *)personalization, sizeof personalization - 1);
}

static void rng_free(rng *r)
{
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_entropy_free(&r->entropy);
}

int keys_rng(void *p_rng, unsigned char *out, size_t len)
{
    static rng shared;
    static bool seeded;
    (void)p_rng;
    if (!seeded) {
        int rc = rng_init(&shared);
        if (rc != 0) {
            rng_free(&shared);
            return rc;
        }
        seeded = true;
    }
    return mbedtls_ctr_drbg_random(&shared.drbg, out, len);
}

static bool is_p256(mbedtls_pk_context *pk)
{
    return mbedtls_pk_get_type(pk) == MBEDTLS_PK_ECKEY
           && mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(*pk)) == MBEDTLS_ECP_DP_SECP256R1;
}

bool keys_generate(mbedtls_pk_context *pk, char *reason, size_t reason_size)
{
    rng r;
    int rc = rng_init(&r);
    if (rc == 0) {
        rc = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    }
    if (rc == 0) {
        rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
                                 mbedtls_ctr_drbg_random, &r.drbg);
    }
    rng_free(&r);
    if (rc != 0) {
        mbedtls_reason(rc, "key generation failed", reason, reason_size);
        return false;
    }
    return true;
}

bool keys_private_pem(mbedtls_pk_context *pk, char *buf, size_t size)
{
    return mbedtls_pk_write_key_pem(pk, (unsigned char *)buf, size) == 0;
}

bool keys_public_pem(mbedtls_pk_context *pk, char *buf, size_t size)
{
    return mbedtls_pk_write_pubkey_pem(pk, (unsigned char *)buf, size) == 0;
}

bool keys_load_private(const char *path, mbedtls_pk_context *pk, char *reason, size_t reason_size)
{
    rng r;
    int rc = rng_init(&r);
    if (rc == 0) {
        rc = mbedtls_pk_parse_keyfile(pk, path, NULL, mbedtls_ctr_drbg_random, &r.drbg);
    }
    rng_free(&r);
    if (rc != 0) {
        char what[300];
        snprintf(what, sizeof what, "%s: not a readable private key", path);
        mbedtls_reason(rc, what, reason, reason_size);
        return false;
    }
    if (!is_p256(pk)) {
        snprintf(reason, reason_size, "%s: not an ECDSA P-256 key", path);
        return false;
    }
    return true;
}

bool keys_raw_public(mbedtls_pk_context *pk, uint8_t public_key[BW_PUBLIC_KEY_SIZE])
{
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*pk);
    size_t olen = 0;
    int rc = mbedtls_ecp_write_public_key(ec, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, public_key,
                                          BW_PUBLIC_KEY_SIZE);
    return rc == 0 && olen == BW_PUBLIC_KEY_SIZE;
}

bool keys_load_public(const char *path, uint8_t public_key[BW_PUBLIC_KEY_SIZE], char *reason,
                      size_t reason_size)
{
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    int rc = mbedtls_pk_parse_public_keyfile(&pk, path);
    if (rc != 0) {
        /* A private key file holds the public half too. */
        mbedtls_pk_free(&pk);
        mbedtls_pk_init(&pk);
        rng r;
        if (rng_init(&r) == 0
            && mbedtls_pk_parse_keyfile(&pk, path, NULL, mbedtls_ctr_drbg_random, &r.drbg) == 0) {
            rc = 0;
        }
        rng_free(&r);
    }
    bool ok = false;
    if (rc != 0) {
        char what[300];
        snprintf(what, sizeof what, "%s: not a readable public key", path);
        mbedtls_reason(rc, what, reason, reason_size);
    } else if (!is_p256(&pk)) {
        snprintf(reason, reason_size, "%s: not an ECDSA P-256 key", path);
    } else if (!keys_raw_public(&pk, public_key)) {
        snprintf(reason, reason_size, "%s: cannot encode the public key", path);
    } else {
        ok = true;
    }
    mbedtls_pk_free(&pk);
    return ok;
}

bool keys_sign_hash(mbedtls_pk_context *pk, const uint8_t hash[BW_SHA256_SIZE],
                    uint8_t signature[BW_SIGNATURE_SIZE], char *reason, size_t reason_size)
{
    /* The key's group and secret through the public API (mbedtls_ecp_export
     * copies them), for the raw r,s the bundle carries. */
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi d, r, s;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    rng blind;
    int rc = rng_init(&blind);
    if (rc == 0) {
        rc = mbedtls_ecp_export(mbedtls_pk_ec(*pk), &grp, &d, &q);
    }
    if (rc == 0) {
        rc = mbedtls_ecdsa_sign_det_ext(&grp, &r, &s, &d, hash, BW_SHA256_SIZE, MBEDTLS_MD_SHA256,
                                        mbedtls_ctr_drbg_random, &blind.drbg);
    }
    if (rc == 0) {
        rc = mbedtls_mpi_write_binary(&r, signature, 32);
    }
    if (rc == 0) {
        rc = mbedtls_mpi_write_binary(&s, signature + 32, 32);
    }
    rng_free(&blind);
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&d);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    if (rc != 0) {
        mbedtls_reason(rc, "signing failed", reason, reason_size);
        return false;
    }
    return true;
}
