/*
 * mbedTLS configuration for the secure world: only what the kernel uses.
 * No heap, no file system, no OS: entropy comes from the port (port_entropy)
 * into CTR_DRBG; mbedtls_calloc from a static arena (bw_crypto.c). Grows as
 * the kernel gains TLS. mbedTLS 3.6 LTS (Debian trixie's source package).
 */
#ifndef BW_MBEDTLS_CONFIG_H
#define BW_MBEDTLS_CONFIG_H

#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_HAVE_ASM

#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER

/* Bundle signatures (bw_manifest.c): ECDSA P-256 verify by p256-m, the
 * small dedicated P-256 implementation mbedTLS 3.6 ships in 3rdparty/p256-m
 * (stack only, no heap, no bignum). Its PSA driver glue is not built: the
 * kernel calls p256_ecdsa_verify directly and has no PSA core. Measured under
 * QEMU -icount (the bench's "signature check"): mbedTLS 2.28's ECP with NIST
 * fast reduction, a 3-bit comb and -O2 took 20.9 M instructions; mbedTLS 3.6's
 * ECP with the same settings 25.4 M; p256-m 15.6 M, and 12 KB less code. */
#define MBEDTLS_PSA_P256M_DRIVER_ENABLED

/* No heap: mbedtls_calloc/free use the static arena of bw_crypto.c; without
 * std functions an allocation before bw_crypto_init fails instead of calling malloc. */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
/* The allocator "exits" when it finds its arena corrupted (a kernel bug):
 * that goes to the kernel's fatal path instead of libc exit(). */
_Noreturn void bw_crypto_fatal(int status);
#define MBEDTLS_PLATFORM_EXIT_MACRO bw_crypto_fatal

/* ---- Device credentials and provisioning (kernel/net/bw_credentials.c,
 * docs/SPEC.md §12) -- one block, added by the provisioning work ----
 * The device makes its own P-256 key pair (ECP key generation), writes a
 * PKCS#10 request signed with it (X.509 CSR write, ECDSA sign), and checks
 * the certificate provisioning writes back (X.509 certificate parse, the
 * chain to the fleet CA: ECDSA verify through PK). The TLS layer needs most
 * of these as well; defining one twice with the same value is harmless. */
#define MBEDTLS_MD_C
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CSR_WRITE_C
#define MBEDTLS_X509_CRT_PARSE_C
/* No printable certificate dumps; the few names X.509 still prints (DN
 * text) go through the kernel's own formatter (bw_crypto.c). */
#define MBEDTLS_X509_REMOVE_INFO
#include <stddef.h>
int bw_crypto_snprintf(char *out, size_t size, const char *fmt, ...);
#define MBEDTLS_PLATFORM_SNPRINTF_MACRO bw_crypto_snprintf
/* ---- end of the provisioning block ---- */

#endif
