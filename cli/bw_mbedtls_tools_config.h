/*
 * mbedTLS configuration for the host tools (bulwark): key generation and
 * signing as well as verification, PEM key files, OS entropy (/dev/urandom)
 * and libc's heap. Never used in the secure world (that is
 * kernel/crypto/bw_mbedtls_config.h).
 */
#ifndef BW_MBEDTLS_TOOLS_CONFIG_H
#define BW_MBEDTLS_TOOLS_CONFIG_H

#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_FS_IO

#define MBEDTLS_AES_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA512_C   /* the entropy pool's hash */
#define MBEDTLS_MD_C

#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC
/* bw_manifest.c, shared with the kernel, verifies with bw_p256_verify, built
 * on p256-m (3rdparty). */
#define MBEDTLS_PSA_P256M_DRIVER_ENABLED
#define MBEDTLS_HMAC_DRBG_C

#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_ERROR_C

/* ---- X.509 for the fleet (`bulwark fleet init`, `bulwark device provision`;
 * cli/lib_x509.c): certificates issued by the fleet CA, device requests parsed
 * and checked. One block, added by the provisioning work. ---- */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CSR_PARSE_C
/* ---- end of the provisioning block ---- */

/* ---- the debug session's CLI end (lib_debug_client.c, SPEC §21): ECDH
 * with an ephemeral key, HKDF-SHA-256, AES-128-GCM records. */
#define MBEDTLS_ECDH_C
#define MBEDTLS_HKDF_C
#define MBEDTLS_GCM_C
#define MBEDTLS_CIPHER_C
/* ---- end of the debug session block ---- */

#endif
