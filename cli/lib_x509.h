/*
 * X.509 for the fleet (docs/SPEC.md §12): certificates issued with mbedTLS's
 * x509write (P-256 keys, ECDSA with SHA-256, version 3, a random 16-byte
 * serial, valid from now to the end of 2099; with SOURCE_DATE_EPOCH set,
 * valid from then, the serial a hash of key, names and date: reproducible
 * certificates for the exact bench, tests/bench/bench_tls.py), and device certificate
 * requests read and checked. Used by `bulwark fleet init` and
 * `bulwark device provision`.
 */
#ifndef BULWARK_LIB_X509_H
#define BULWARK_LIB_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/x509_csr.h"

#define X509_DER_MAX 2048
#define X509_PEM_MAX 4096

/* What a certificate is for; each sets basicConstraints, keyUsage and
 * extendedKeyUsage accordingly. */
typedef enum x509_role {
    X509_ROLE_CA,       /* CA:TRUE, keyCertSign + cRLSign */
    X509_ROLE_SERVER,   /* CA:FALSE, digitalSignature, serverAuth, SAN DNS names + IP 127.0.0.1 */
    X509_ROLE_CLIENT,   /* CA:FALSE, digitalSignature, clientAuth */
    X509_ROLE_CODE_SIGNING, /* CA:FALSE, digitalSignature, codeSigning (kernel images, SPEC §19) */
} x509_role;

/* Issues a certificate for subject_key's public key with subject DN
 * `subject` (e.g. "CN=bulwarkd"), signed by issuer_key under the DN
 * `issuer` (the same key and DN for a self-signed CA). dns: the server's
 * DNS names (SAN; dns_count may be 0). Writes DER into der (*der_len) and
 * PEM (NUL-terminated) into pem. False with a reason on failure. */
bool x509_issue(mbedtls_pk_context *subject_key, const char *subject, mbedtls_pk_context *issuer_key,
                const char *issuer, x509_role role, const char *const *dns, size_t dns_count,
                uint8_t der[X509_DER_MAX], size_t *der_len, char pem[X509_PEM_MAX], char *reason,
                size_t reason_size);

/* Parses a DER certificate request, checks its signature (ECDSA P-256 with
 * SHA-256) and copies its subject CN (NUL-terminated) into cn. The caller
 * frees csr (initialised here) with mbedtls_x509_csr_free. */
bool x509_request_check(const uint8_t *der, size_t len, mbedtls_x509_csr *csr, char *cn,
                        size_t cn_size, char *reason, size_t reason_size);

/* The subject DN of a certificate in the form x509write accepts. */
bool x509_subject_text(const mbedtls_x509_crt *crt, char *out, size_t size);

/* True for a well-formed device ID: "BW" + 32 uppercase hex digits. */
bool x509_device_id_ok(const char *id);

#endif
