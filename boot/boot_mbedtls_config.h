/*
 * mbedTLS configuration of the boot stub: SHA-256, the ASN.1 reader and
 * p256-m (under bw_p256_verify, the ECDSA verify built into this library),
 * nothing that allocates (the stub has no heap).
 */
#ifndef BOOT_MBEDTLS_CONFIG_H
#define BOOT_MBEDTLS_CONFIG_H

#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_PSA_P256M_DRIVER_ENABLED
/* boot.c's zeroize: mbedTLS's own keeps a function pointer in .data, and the
 * stub has no RAM state (boot.ld). */
#define MBEDTLS_PLATFORM_ZEROIZE_ALT

#endif
