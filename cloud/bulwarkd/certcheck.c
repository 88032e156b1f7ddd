/*
 * Device certificate check for registration (POST /v1/devices), with
 * OpenSSL's libcrypto: the PEM must hold one X.509 certificate whose subject
 * CN is the device ID and which verifies against the fleet CA (signature,
 * validity dates, CA constraints) as the broker's TLS would check it.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "bulwarkd.h"

int bwd_check_certificate(const char *pem, size_t len, const char *id, const char *ca_file, char *reason,
                          size_t reason_size)
{
    int rc = -1;
    X509 *cert = NULL;
    X509_STORE *trust = NULL;
    X509_STORE_CTX *ctx = NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL || (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
        snprintf(reason, reason_size, "certificate is not a PEM X.509 certificate");
        goto out;
    }
    char cn[128] = "";
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    if (n <= 0 || (size_t)n != strlen(cn) || strcmp(cn, id) != 0) {
        snprintf(reason, reason_size, "certificate's common name '%.64s' is not the device ID", n > 0 ? cn : "");
        goto out;
    }
    trust = X509_STORE_new();
    ctx = X509_STORE_CTX_new();
    if (trust == NULL || ctx == NULL || X509_STORE_load_file(trust, ca_file) != 1) {
        snprintf(reason, reason_size, "cannot load the fleet CA %s", ca_file);
        goto out;
    }
    if (X509_STORE_CTX_init(ctx, trust, cert, NULL) != 1 || X509_verify_cert(ctx) != 1) {
        snprintf(reason, reason_size, "certificate is not signed by the fleet CA (%s)",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        goto out;
    }
    rc = 0;
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(trust);
    X509_free(cert);
    BIO_free(bio);
    return rc;
}
