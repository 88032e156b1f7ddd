/*
 * The kernel seal (bw_kernel_seal.h, docs/SPEC.md §19). The certificate
 * reader walks the DER with mbedTLS's asn1parse (no heap) and keeps only
 * what the chain check needs; anything it does not understand is refused.
 */
#include "bw_kernel_seal.h"

#include <string.h>

#include "bw_bytes.h"
#include "mbedtls/asn1.h"
#include "mbedtls/sha256.h"
#include "bw_p256_verify.h"

/* DER contents of the object identifiers the reader knows. */
static const uint8_t OID_ECDSA_SHA256[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02};
static const uint8_t OID_EC_PUBLIC_KEY[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01};
static const uint8_t OID_PRIME256V1[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
static const uint8_t OID_BASIC_CONSTRAINTS[] = {0x55, 0x1D, 0x13};
static const uint8_t OID_KEY_USAGE[] = {0x55, 0x1D, 0x0F};
static const uint8_t OID_EXT_KEY_USAGE[] = {0x55, 0x1D, 0x25};
static const uint8_t OID_CODE_SIGNING[] = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03};

#define TAG_SEQ (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)
#define TAG_CTX(n) (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | (n))

typedef unsigned char *der_ptr;

static bool oid_is(const mbedtls_asn1_buf *oid, const uint8_t *want, size_t len)
{
    return oid->len == len && memcmp(oid->p, want, len) == 0;
}

static bool all_erased(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != 0xFFu) {
            return false;
        }
    }
    return true;
}

static bool all_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != 0) {
            return false;
        }
    }
    return true;
}

bw_seal_error bw_seal_parse(const uint8_t *area, size_t area_size, uint16_t board,
                            size_t slot_size, bw_seal *seal)
{
    if (area_size < BW_SEAL_CERT_OFFSET) {
        return BW_SEAL_E_MALFORMED;
    }
    if (all_erased(area, BW_SEAL_CERT_OFFSET)) {
        return BW_SEAL_E_EMPTY;
    }
    uint16_t size = bw_get16(area + 6);
    seal->version = bw_get32(area + 8);
    seal->signed_at = bw_get32(area + 20);
    seal->image_size = bw_get32(area + 12);
    seal->board = bw_get16(area + 16);
    seal->cert_len = bw_get16(area + 18);
    seal->image_hash = area + 24;
    seal->root_key = area + 56;
    seal->signature = area + BW_SEAL_SIGNATURE_OFFSET;
    seal->cert = area + BW_SEAL_CERT_OFFSET;
    if (bw_get32(area) != BW_SEAL_MAGIC || bw_get16(area + 4) != BW_SEAL_FORMAT_VERSION
        || seal->cert_len == 0 || seal->cert_len > BW_SEAL_CERT_MAX
        || size != BW_SEAL_CERT_OFFSET + seal->cert_len || size > area_size
        || !all_zero(area + 121, 3) || area[56] != 0x04) {
        return BW_SEAL_E_MALFORMED;
    }
    if (seal->board != board) {
        return BW_SEAL_E_BOARD;
    }
    if (seal->image_size < BW_SEAL_IMAGE_MIN || seal->image_size > slot_size) {
        return BW_SEAL_E_IMAGE_SIZE;
    }
    return BW_SEAL_OK;
}

/* An INTEGER of ECDSA-Sig-Value into 32 big-endian bytes: positive, minimal
 * (one leading zero only before a high bit), at most 32 bytes of value. */
static bool read_scalar(der_ptr *p, const uint8_t *end, uint8_t out[32])
{
    size_t len;
    if (mbedtls_asn1_get_tag(p, end, &len, MBEDTLS_ASN1_INTEGER) != 0 || len == 0) {
        return false;
    }
    const uint8_t *v = *p;
    *p += len;
    if (v[0] & 0x80u) {
        return false;
    }
    if (v[0] == 0 && len > 1) {
        if (!(v[1] & 0x80u)) {
            return false;
        }
        v++;
        len--;
    }
    if (len > 32) {
        return false;
    }
    memset(out, 0, 32u - len);
    memcpy(out + 32u - len, v, len);
    return true;
}

/* signatureAlgorithm: ecdsa-with-SHA256 with absent parameters. */
static bool read_sig_alg(der_ptr *p, const uint8_t *end)
{
    mbedtls_asn1_buf oid, params;
    return mbedtls_asn1_get_alg(p, end, &oid, &params) == 0
           && oid_is(&oid, OID_ECDSA_SHA256, sizeof OID_ECDSA_SHA256)
           && params.tag == 0 && params.p == NULL;   /* mbedTLS zeroes absent parameters */
}

/* SubjectPublicKeyInfo: id-ecPublicKey on prime256v1, an uncompressed point. */
static bool read_spki(der_ptr *p, const uint8_t *end, uint8_t key[BW_SEAL_KEY_SIZE])
{
    size_t len;
    if (mbedtls_asn1_get_tag(p, end, &len, TAG_SEQ) != 0) {
        return false;
    }
    const uint8_t *spki_end = *p + len;
    mbedtls_asn1_buf oid, params;
    if (mbedtls_asn1_get_alg(p, spki_end, &oid, &params) != 0
        || !oid_is(&oid, OID_EC_PUBLIC_KEY, sizeof OID_EC_PUBLIC_KEY)
        || params.tag != MBEDTLS_ASN1_OID
        || !oid_is(&params, OID_PRIME256V1, sizeof OID_PRIME256V1)
        || mbedtls_asn1_get_bitstring_null(p, spki_end, &len) != 0
        || len != BW_SEAL_KEY_SIZE || (*p)[0] != 0x04 || *p + len != spki_end) {
        return false;
    }
    memcpy(key, *p, BW_SEAL_KEY_SIZE);
    *p += len;
    return true;
}

/* One extension's value (the OCTET STRING's contents at [p, end)). */
static bool read_extension(const mbedtls_asn1_buf *id, der_ptr p, const uint8_t *end,
                           bool critical, bw_seal_cert *cert)
{
    size_t len;
    if (oid_is(id, OID_BASIC_CONSTRAINTS, sizeof OID_BASIC_CONSTRAINTS)) {
        if (mbedtls_asn1_get_tag(&p, end, &len, TAG_SEQ) != 0 || p + len != end) {
            return false;
        }
        int ca = 0;
        if (p < end && *p == MBEDTLS_ASN1_BOOLEAN && mbedtls_asn1_get_bool(&p, end, &ca) != 0) {
            return false;
        }
        cert->ca = ca != 0;
        return true;   /* a path length may follow; it is irrelevant to a leaf */
    }
    if (oid_is(id, OID_KEY_USAGE, sizeof OID_KEY_USAGE)) {
        mbedtls_asn1_bitstring bits;
        if (mbedtls_asn1_get_bitstring(&p, end, &bits) != 0 || p != end) {
            return false;
        }
        cert->digital_signature = bits.len > 0 && (bits.p[0] & 0x80u);
        return true;
    }
    if (oid_is(id, OID_EXT_KEY_USAGE, sizeof OID_EXT_KEY_USAGE)) {
        if (mbedtls_asn1_get_tag(&p, end, &len, TAG_SEQ) != 0 || p + len != end) {
            return false;
        }
        while (p < end) {
            if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_OID) != 0) {
                return false;
            }
            mbedtls_asn1_buf usage = {.tag = MBEDTLS_ASN1_OID, .len = len, .p = p};
            cert->code_signing |= oid_is(&usage, OID_CODE_SIGNING, sizeof OID_CODE_SIGNING);
            p += len;
        }
        return true;
    }
    return !critical;   /* an unknown critical extension refuses the certificate */
}

/* [3] EXPLICIT Extensions: SEQUENCE OF {extnID, critical DEFAULT FALSE, extnValue}. */
static bool read_extensions(der_ptr *p, const uint8_t *end, bw_seal_cert *cert)
{
    size_t len;
    if (mbedtls_asn1_get_tag(p, end, &len, TAG_CTX(3)) != 0 || *p + len != end
        || mbedtls_asn1_get_tag(p, end, &len, TAG_SEQ) != 0 || *p + len != end) {
        return false;
    }
    while (*p < end) {
        if (mbedtls_asn1_get_tag(p, end, &len, TAG_SEQ) != 0) {
            return false;
        }
        const uint8_t *ext_end = *p + len;
        mbedtls_asn1_buf id = {.tag = MBEDTLS_ASN1_OID};
        int critical = 0;
        if (mbedtls_asn1_get_tag(p, ext_end, &id.len, MBEDTLS_ASN1_OID) != 0) {
            return false;
        }
        id.p = *p;
        *p += id.len;
        if (*p < ext_end && **p == MBEDTLS_ASN1_BOOLEAN
            && mbedtls_asn1_get_bool(p, ext_end, &critical) != 0) {
            return false;
        }
        if (mbedtls_asn1_get_tag(p, ext_end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0
            || *p + len != ext_end || !read_extension(&id, *p, ext_end, critical != 0, cert)) {
            return false;
        }
        *p = (der_ptr)ext_end;
    }
    return true;
}

/* n decimal digits at t; false if any is not a digit. */
static bool digits(const uint8_t *t, unsigned n, unsigned *out)
{
    *out = 0;
    for (unsigned i = 0; i < n; i++) {
        if (t[i] < '0' || t[i] > '9') {
            return false;
        }
        *out = *out * 10u + (unsigned)(t[i] - '0');
    }
    return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; y >= 1950). */
static uint64_t days_since_epoch(unsigned y, unsigned m, unsigned d)
{
    unsigned yy = m <= 2 ? y - 1u : y;   /* years counted from March */
    unsigned era_day = (153u * (m + (m > 2 ? -3u : 9u)) + 2u) / 5u + d - 1u;
    uint64_t days = (uint64_t)yy * 365u + yy / 4u - yy / 100u + yy / 400u + era_day;
    return days - 719468u;               /* that count on 1970-01-01 */
}

/* A Time (UTCTime "YYMMDDHHMMSSZ", 1950..2049, or GeneralizedTime
 * "YYYYMMDDHHMMSSZ") into seconds since 1970-01-01 UTC; false for a date
 * the calendar does not have (29 February only in leap years). */
static bool read_time(der_ptr *p, const uint8_t *end, uint64_t *out)
{
    if (end - *p < 2) {
        return false;
    }
    uint8_t tag = (*p)[0];
    size_t len;
    unsigned year_digits = tag == MBEDTLS_ASN1_UTC_TIME ? 2u : 4u;
    if ((tag != MBEDTLS_ASN1_UTC_TIME && tag != MBEDTLS_ASN1_GENERALIZED_TIME)
        || mbedtls_asn1_get_tag(p, end, &len, tag) != 0 || len != year_digits + 11u) {
        return false;
    }
    const uint8_t *t = *p;
    unsigned y, mo, d, h, mi, sec;
    bool ok = digits(t, year_digits, &y) && digits(t + year_digits, 2, &mo)
              && digits(t + year_digits + 2, 2, &d) && digits(t + year_digits + 4, 2, &h)
              && digits(t + year_digits + 6, 2, &mi) && digits(t + year_digits + 8, 2, &sec)
              && t[len - 1] == 'Z';
    y = year_digits == 2u ? (y < 50u ? 2000u + y : 1900u + y) : y;
    static const uint8_t month_days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (!ok || y < 1950u || mo < 1u || mo > 12u || d < 1u || h > 23u || mi > 59u || sec > 59u) {
        return false;
    }
    bool leap = y % 4u == 0u && (y % 100u != 0u || y % 400u == 0u);
    if (d > month_days[mo - 1u] + (mo == 2u && leap ? 1u : 0u)) {
        return false;
    }
    *out = days_since_epoch(y, mo, d) * 86400u + h * 3600u + mi * 60u + sec;
    *p += len;
    return true;
}

/* Validity ::= SEQUENCE { notBefore Time, notAfter Time }. */
static bool read_validity(der_ptr *p, const uint8_t *end, bw_seal_cert *cert)
{
    size_t len;
    if (mbedtls_asn1_get_tag(p, end, &len, TAG_SEQ) != 0) {
        return false;
    }
    const uint8_t *v_end = *p + len;
    return read_time(p, v_end, &cert->not_before) && read_time(p, v_end, &cert->not_after) && *p == v_end
        && cert->not_before <= cert->not_after;
}

/* tbsCertificate after its tag: version 3, serial, signature algorithm,
 * issuer, validity, subject, key, then (only) extensions. */
static bool read_tbs(der_ptr p, const uint8_t *end, bw_seal_cert *cert)
{
    size_t len;
    int version = 0;
    if (mbedtls_asn1_get_tag(&p, end, &len, TAG_CTX(0)) != 0
        || mbedtls_asn1_get_int(&p, p + len, &version) != 0 || version != 2
        || mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_INTEGER) != 0) {
        return false;
    }
    p += len;
    if (!read_sig_alg(&p, end)) {
        return false;
    }
    if (mbedtls_asn1_get_tag(&p, end, &len, TAG_SEQ) != 0) {   /* issuer */
        return false;
    }
    p += len;
    if (!read_validity(&p, end, cert) || mbedtls_asn1_get_tag(&p, end, &len, TAG_SEQ) != 0) {
        return false;
    }
    p += len;   /* subject */
    return read_spki(&p, end, cert->public_key) && read_extensions(&p, end, cert);
}

bw_seal_error bw_seal_cert_parse(const uint8_t *der, size_t len, bw_seal_cert *cert)
{
    memset(cert, 0, sizeof *cert);
    der_ptr p = (der_ptr)der;
    const uint8_t *end = der + len;
    size_t n;
    if (mbedtls_asn1_get_tag(&p, end, &n, TAG_SEQ) != 0 || p + n != end) {
        return BW_SEAL_E_CERTIFICATE;
    }
    cert->tbs = p;
    if (mbedtls_asn1_get_tag(&p, end, &n, TAG_SEQ) != 0) {
        return BW_SEAL_E_CERTIFICATE;
    }
    const uint8_t *tbs_end = p + n;
    cert->tbs_len = (size_t)(tbs_end - cert->tbs);
    if (!read_tbs(p, tbs_end, cert)) {
        return BW_SEAL_E_CERTIFICATE;
    }
    p = (der_ptr)tbs_end;
    if (!read_sig_alg(&p, end) || mbedtls_asn1_get_bitstring_null(&p, end, &n) != 0
        || p + n != end || mbedtls_asn1_get_tag(&p, end, &n, TAG_SEQ) != 0 || p + n != end
        || !read_scalar(&p, end, cert->signature) || !read_scalar(&p, end, cert->signature + 32)
        || p != end) {
        return BW_SEAL_E_CERTIFICATE;
    }
    return BW_SEAL_OK;
}

int bw_seal_sha256(const uint8_t *data, size_t len, uint8_t hash[BW_SEAL_HASH_SIZE])
{
    return mbedtls_sha256(data, len, hash, 0);
}

int bw_seal_image_hash(const uint8_t *image, size_t image_size, const uint8_t *gate, size_t gate_len,
                       uint8_t hash[BW_SEAL_HASH_SIZE])
{
    mbedtls_sha256_context sha;
    mbedtls_sha256_init(&sha);
    int rc = mbedtls_sha256_starts(&sha, 0);
    if (rc == 0) {
        rc = mbedtls_sha256_update(&sha, image, image_size);
    }
    if (rc == 0 && gate_len != 0) {
        rc = mbedtls_sha256_update(&sha, gate, gate_len);
    }
    if (rc == 0) {
        rc = mbedtls_sha256_finish(&sha, hash);
    }
    mbedtls_sha256_free(&sha);
    return rc;
}

void bw_seal_signed_hash(const uint8_t head[BW_SEAL_SIGNED_SIZE], uint8_t hash[BW_SEAL_HASH_SIZE])
{
    mbedtls_sha256_context sha;
    mbedtls_sha256_init(&sha);
    mbedtls_sha256_starts(&sha, 0);
    mbedtls_sha256_update(&sha, (const uint8_t *)BW_SEAL_SIGNING_PREFIX, BW_SEAL_SIGNING_PREFIX_SIZE);
    mbedtls_sha256_update(&sha, head, BW_SEAL_SIGNED_SIZE);
    mbedtls_sha256_finish(&sha, hash);
    mbedtls_sha256_free(&sha);
}

/* ECDSA P-256 (bw_p256_verify, stack only): true if signature verifies hash under key. */
static bool signed_by(const uint8_t key[BW_SEAL_KEY_SIZE], const uint8_t hash[BW_SEAL_HASH_SIZE],
                      const uint8_t signature[BW_SEAL_SIG_SIZE])
{
    return key[0] == 0x04 && bw_p256_verify(signature, key + 1, hash) == BW_P256_OK;
}

bw_seal_error bw_seal_check_chain(const bw_seal *seal, const uint8_t root_hash[BW_SEAL_HASH_SIZE])
{
    uint8_t hash[BW_SEAL_HASH_SIZE];
    if (bw_seal_sha256(seal->root_key, BW_SEAL_KEY_SIZE, hash) != 0
        || memcmp(hash, root_hash, BW_SEAL_HASH_SIZE) != 0) {
        return BW_SEAL_E_UNKNOWN_ROOT;
    }
    bw_seal_cert cert;
    if (bw_seal_cert_parse(seal->cert, seal->cert_len, &cert) != BW_SEAL_OK) {
        return BW_SEAL_E_CERTIFICATE;
    }
    if (bw_seal_sha256(cert.tbs, cert.tbs_len, hash) != 0
        || !signed_by(seal->root_key, hash, cert.signature)) {
        return BW_SEAL_E_NOT_BY_ROOT;
    }
    if (cert.ca || !cert.digital_signature || !cert.code_signing) {
        return BW_SEAL_E_USAGE;
    }
    bw_seal_signed_hash(seal->cert - BW_SEAL_CERT_OFFSET, hash);
    if (!signed_by(cert.public_key, hash, seal->signature)) {
        return BW_SEAL_E_SIGNATURE;
    }
    /* The signing time is the signer's word: checked once the signature covers it. */
    return seal->signed_at < cert.not_before || seal->signed_at > cert.not_after ? BW_SEAL_E_EXPIRED
                                                                                 : BW_SEAL_OK;
}

bw_seal_error bw_seal_verify(const uint8_t *area, size_t area_size, const uint8_t *image,
                             size_t slot_size, const uint8_t *gate, size_t gate_len, uint16_t board,
                             const uint8_t root_hash[BW_SEAL_HASH_SIZE], uint32_t floor,
                             bw_seal *seal)
{
    bw_seal_error err = bw_seal_parse(area, area_size, board, slot_size, seal);
    if (err == BW_SEAL_OK) {
        err = bw_seal_check_chain(seal, root_hash);
    }
    if (err == BW_SEAL_OK && seal->version < floor) {
        err = BW_SEAL_E_ROLLBACK;
    }
    uint8_t hash[BW_SEAL_HASH_SIZE];
    if (err == BW_SEAL_OK && (bw_seal_image_hash(image, seal->image_size, gate, gate_len, hash) != 0
                              || memcmp(hash, seal->image_hash, BW_SEAL_HASH_SIZE) != 0)) {
        err = BW_SEAL_E_TAMPERED;
    }
    return err;
}

const char *bw_seal_describe(bw_seal_error error)
{
    switch (error) {
    case BW_SEAL_OK: return "ok";
    case BW_SEAL_E_EMPTY: return "no kernel (the seal area is erased)";
    case BW_SEAL_E_MALFORMED: return "malformed seal (magic, version, size or reserved bytes)";
    case BW_SEAL_E_BOARD: return "kernel sealed for another board";
    case BW_SEAL_E_IMAGE_SIZE: return "kernel image size outside the slot";
    case BW_SEAL_E_UNKNOWN_ROOT: return "certificate chain to an unknown root";
    case BW_SEAL_E_CERTIFICATE: return "malformed or unsupported certificate";
    case BW_SEAL_E_NOT_BY_ROOT: return "certificate not signed by the root";
    case BW_SEAL_E_USAGE: return "certificate not for kernel signing";
    case BW_SEAL_E_SIGNATURE: return "bad kernel signature";
    case BW_SEAL_E_ROLLBACK: return "kernel version below the anti-rollback counter";
    case BW_SEAL_E_TAMPERED: return "kernel image tampered (hash mismatch)";
    case BW_SEAL_E_EXPIRED: return "certificate not valid when the kernel was signed (expired or not yet valid)";
    }
    return "unknown seal error";
}
