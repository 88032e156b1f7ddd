/* X.509 issue and request checks for the fleet (lib_x509.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mbedtls/oid.h"
#include "mbedtls/pem.h"
#include "mbedtls/sha256.h"
#include "mbedtls/x509_csr.h"

#include "lib_keys.h"
#include "lib_x509.h"

#define NOT_AFTER "20991231235959"

static void reason_from(int rc, const char *what, char *reason, size_t size)
{
    snprintf(reason, size, "%s failed (mbedTLS error -0x%04x)", what, (unsigned)-rc);
}

/* The SAN list of a server certificate: each DNS name, then 127.0.0.1. */
static int set_server_names(mbedtls_x509write_cert *crt, const char *const *dns, size_t dns_count)
{
    static const unsigned char loopback[4] = { 127, 0, 0, 1 };
    mbedtls_x509_san_list nodes[17];
    if (dns_count > 16) {
        return MBEDTLS_ERR_X509_BAD_INPUT_DATA;
    }
    memset(nodes, 0, sizeof nodes);
    for (size_t i = 0; i < dns_count; i++) {
        nodes[i].node.type = MBEDTLS_X509_SAN_DNS_NAME;
        nodes[i].node.san.unstructured_name.p = (unsigned char *)dns[i];
        nodes[i].node.san.unstructured_name.len = strlen(dns[i]);
        nodes[i].next = &nodes[i + 1];
    }
    nodes[dns_count].node.type = MBEDTLS_X509_SAN_IP_ADDRESS;
    nodes[dns_count].node.san.unstructured_name.p = (unsigned char *)loopback;
    nodes[dns_count].node.san.unstructured_name.len = sizeof loopback;
    return mbedtls_x509write_crt_set_subject_alternative_name(crt, nodes);
}

static int set_role(mbedtls_x509write_cert *crt, x509_role role, const char *const *dns,
                    size_t dns_count)
{
    int rc = mbedtls_x509write_crt_set_basic_constraints(crt, role == X509_ROLE_CA, -1);
    if (rc == 0) {
        rc = mbedtls_x509write_crt_set_key_usage(crt, role == X509_ROLE_CA
            ? MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN
            : MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
    }
    if (rc != 0 || role == X509_ROLE_CA) {
        return rc;
    }
    mbedtls_asn1_sequence eku = { 0 };
    eku.buf.tag = MBEDTLS_ASN1_OID;
    eku.buf.p = (unsigned char *)(role == X509_ROLE_SERVER ? MBEDTLS_OID_SERVER_AUTH
                                  : role == X509_ROLE_CLIENT ? MBEDTLS_OID_CLIENT_AUTH
                                  : MBEDTLS_OID_CODE_SIGNING);
    eku.buf.len = MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH);
    rc = mbedtls_x509write_crt_set_ext_key_usage(crt, &eku);
    if (rc == 0 && role == X509_ROLE_SERVER) {
        rc = set_server_names(crt, dns, dns_count);
    }
    return rc;
}

/* SOURCE_DATE_EPOCH (the reproducible-builds convention), if set to whole
 * seconds: its value, and *fixed = true; else the current time. */
static time_t issue_time(bool *fixed)
{
    const char *epoch = getenv("SOURCE_DATE_EPOCH");
    char *end = NULL;
    unsigned long long seconds = epoch != NULL ? strtoull(epoch, &end, 10) : 0;
    *fixed = epoch != NULL && *epoch != '\0' && *end == '\0';
    return *fixed ? (time_t)seconds : time(NULL);
}

/* A serial derived from what the certificate says (subject key, names, start
 * date): the same inputs give the same certificate bytes (ECDSA here is
 * deterministic, RFC 6979). 0 or an mbedTLS error. */
static int derived_serial(mbedtls_pk_context *subject_key, const char *subject, const char *issuer,
                          const char *not_before, uint8_t serial[16])
{
    uint8_t key_der[256], hash[32];
    int len = mbedtls_pk_write_pubkey_der(subject_key, key_der, sizeof key_der);
    if (len < 0) {
        return len;
    }
    mbedtls_sha256_context sha;
    mbedtls_sha256_init(&sha);
    int rc = mbedtls_sha256_starts(&sha, 0);
    rc = rc != 0 ? rc : mbedtls_sha256_update(&sha, key_der + sizeof key_der - (size_t)len, (size_t)len);
    rc = rc != 0 ? rc : mbedtls_sha256_update(&sha, (const uint8_t *)subject, strlen(subject) + 1);
    rc = rc != 0 ? rc : mbedtls_sha256_update(&sha, (const uint8_t *)issuer, strlen(issuer) + 1);
    rc = rc != 0 ? rc : mbedtls_sha256_update(&sha, (const uint8_t *)not_before, strlen(not_before));
    rc = rc != 0 ? rc : mbedtls_sha256_finish(&sha, hash);
    mbedtls_sha256_free(&sha);
    memcpy(serial, hash, 16);
    return rc;
}

bool x509_issue(mbedtls_pk_context *subject_key, const char *subject, mbedtls_pk_context *issuer_key,
                const char *issuer, x509_role role, const char *const *dns, size_t dns_count,
                uint8_t der[X509_DER_MAX], size_t *der_len, char pem[X509_PEM_MAX], char *reason,
                size_t reason_size)
{
    mbedtls_x509write_cert crt;
    mbedtls_x509write_crt_init(&crt);
    uint8_t serial[16];
    char not_before[16];
    bool fixed = false;
    time_t now = issue_time(&fixed);
    strftime(not_before, sizeof not_before, "%Y%m%d%H%M%S", gmtime(&now));
    int rc = fixed ? derived_serial(subject_key, subject, issuer, not_before, serial)
                   : keys_rng(NULL, serial, sizeof serial);
    serial[0] = (uint8_t)((serial[0] & 0x7Fu) | 0x40u);   /* positive, 16 bytes */
    const char *what = fixed ? "derived serial" : "random serial";
    if (rc == 0) {
        mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
        mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
        mbedtls_x509write_crt_set_subject_key(&crt, subject_key);
        mbedtls_x509write_crt_set_issuer_key(&crt, issuer_key);
        what = "certificate fields";
        rc = mbedtls_x509write_crt_set_serial_raw(&crt, serial, sizeof serial);
    }
    if (rc == 0) {
        rc = mbedtls_x509write_crt_set_validity(&crt, not_before, NOT_AFTER);
    }
    if (rc == 0) {
        what = "subject name";
        rc = mbedtls_x509write_crt_set_subject_name(&crt, subject);
    }
    if (rc == 0) {
        what = "issuer name";
        rc = mbedtls_x509write_crt_set_issuer_name(&crt, issuer);
    }
    if (rc == 0) {
        what = "certificate extensions";
        rc = set_role(&crt, role, dns, dns_count);
    }
    if (rc == 0) {
        what = "signing the certificate";
        rc = mbedtls_x509write_crt_der(&crt, der, X509_DER_MAX, keys_rng, NULL);
    }
    mbedtls_x509write_crt_free(&crt);
    if (rc <= 0) {
        reason_from(rc, what, reason, reason_size);
        return false;
    }
    *der_len = (size_t)rc;
    memmove(der, der + X509_DER_MAX - *der_len, *der_len);
    size_t olen = 0;
    rc = mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n",
                                  der, *der_len, (unsigned char *)pem, X509_PEM_MAX, &olen);
    if (rc != 0) {
        reason_from(rc, "PEM encoding", reason, reason_size);
        return false;
    }
    return true;
}

bool x509_request_check(const uint8_t *der, size_t len, mbedtls_x509_csr *csr, char *cn,
                        size_t cn_size, char *reason, size_t reason_size)
{
    mbedtls_x509_csr_init(csr);
    uint8_t hash[32];
    int rc = mbedtls_x509_csr_parse_der(csr, der, len);
    if (rc != 0) {
        reason_from(rc, "parsing the device's certificate request", reason, reason_size);
        return false;
    }
    if (mbedtls_pk_get_type(&csr->pk) != MBEDTLS_PK_ECKEY
        || mbedtls_pk_get_bitlen(&csr->pk) != 256
        || csr->MBEDTLS_PRIVATE(sig_md) != MBEDTLS_MD_SHA256) {
        snprintf(reason, reason_size, "the certificate request is not ECDSA P-256 with SHA-256");
        return false;
    }
    rc = mbedtls_sha256(csr->cri.p, csr->cri.len, hash, 0);
    if (rc == 0) {
        rc = mbedtls_pk_verify(&csr->pk, MBEDTLS_MD_SHA256, hash, sizeof hash,
                               csr->MBEDTLS_PRIVATE(sig).p, csr->MBEDTLS_PRIVATE(sig).len);
    }
    if (rc != 0) {
        snprintf(reason, reason_size, "the certificate request's signature does not verify");
        return false;
    }
    for (const mbedtls_x509_name *n = &csr->subject; n != NULL; n = n->next) {
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0 && n->val.len < cn_size) {
            memcpy(cn, n->val.p, n->val.len);
            cn[n->val.len] = '\0';
            return true;
        }
    }
    snprintf(reason, reason_size, "the certificate request has no subject CN");
    return false;
}

bool x509_subject_text(const mbedtls_x509_crt *crt, char *out, size_t size)
{
    return mbedtls_x509_dn_gets(out, size, &crt->subject) > 0;
}

bool x509_device_id_ok(const char *id)
{
    if (strlen(id) != 34 || id[0] != 'B' || id[1] != 'W') {
        return false;
    }
    for (size_t i = 2; i < 34; i++) {
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'F'))) {
            return false;
        }
    }
    return true;
}
