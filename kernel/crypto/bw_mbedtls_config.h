/*
 * mbedTLS configuration for the secure world: only what the kernel uses.
 * No heap, no file system, no OS, no clock: entropy comes from the port
 * (port_entropy) into CTR_DRBG (bw_random.c); mbedtls_calloc from a static
 * arena (bw_crypto.c, sized by BW_CRYPTO_ARENA_BYTES). mbedTLS 3.6 LTS
 * (Debian trixie's source package).
 *
 * Organised in blocks, one per kernel user; a block names who needs it. Add
 * a new user as a new block (and say what it costs) rather than scattering
 * options through the others. No PSA core and no MBEDTLS_USE_PSA_CRYPTO: the
 * TLS client's restartable ECC needs the legacy ECP code paths, and p256-m is
 * called directly (docs/DESIGN.md, "TLS in the kernel").
 */
#ifndef BW_MBEDTLS_CONFIG_H
#define BW_MBEDTLS_CONFIG_H

/* ---- platform: no heap, no OS ---- */

#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_HAVE_ASM

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

/* ---- hashes, AES and the DRBG (bundles, random numbers, TLS) ---- */

#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER

/* ---- bundle signatures (bw_manifest.c) ----
 * ECDSA P-256 verify by bw_p256_verify (kernel/crypto/bw_p256_verify.c,
 * built into this library), on the field arithmetic of p256-m, the small
 * dedicated P-256 implementation mbedTLS 3.6 ships in 3rdparty/p256-m (stack
 * only, no heap, no bignum), which this option enables. Its PSA driver glue is
 * not built: the kernel has no PSA core. Instructions per verify: mbedTLS
 * 2.28's ECP with NIST fast reduction, a 3-bit comb and -O2 20.9 M; mbedTLS
 * 3.6's ECP with the same settings 25.4 M; p256-m's own verify 15.6 M;
 * bw_p256_verify 3.90 M (docs/DESIGN.md, Boot). */
#define MBEDTLS_PSA_P256M_DRIVER_ENABLED

/* ---- TLS 1.2 client (kernel/net/bw_tls.c; docs/SPEC.md §14) ----
 * One suite, one curve, client side only, mutual X.509 authentication. */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_SSL_CIPHERSUITES MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
#define MBEDTLS_GCM_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_MD_C
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
/* Resumption: RFC 5077 tickets (OpenSSL's default); the session keeps only
 * a digest of the server's certificate, not the certificate. */
#define MBEDTLS_SSL_SESSION_TICKETS
/* Small records: the client asks for max_fragment_length 2048 (mbedTLS
 * advertises at most the smaller buffer), so no record either way carries
 * more than 2 KiB, and both buffers are 2 KiB (the input buffer was 4 KiB:
 * 2 KiB of the crypto arena back). A handshake message the server splits
 * over records is reassembled in the input buffer, so the server's
 * Certificate message (its chain) must fit in 2 KiB: the fleet's broker
 * sends one ~430-byte certificate (~450 bytes of message). */
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
#define MBEDTLS_SSL_IN_CONTENT_LEN 2048
#define MBEDTLS_SSL_OUT_CONTENT_LEN 2048

/* ECC for the handshake: mbedTLS's own ECP (bignum), restartable so that the
 * kernel loop does a bounded slice of each scalar multiplication per poll
 * (mbedtls_ecp_set_max_ops); p256-m has no such mode. */
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
#define MBEDTLS_ECP_RESTARTABLE
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C

/* Certificates: DER only (no PEM, no files); validity dates are checked by
 * bw_tls against the time its caller knows, since the kernel has no clock
 * mbedTLS could read (no MBEDTLS_HAVE_TIME_DATE). */
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C

/* ---- device key generation and certificate request (provisioning) ----
 * Not yet: the provisioning work adds its block here. */
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

/* ---- the debug session (kernel/core/src/bw_debug_session.c, docs/SPEC.md
 * §21) ---- Ephemeral keys, ECDH and the OPEN signature check by p256-m
 * (above); records are AES-128-GCM (already here for TLS); the key schedule
 * is HKDF-SHA-256, which this block adds. */
#define MBEDTLS_HKDF_C
/* ---- end of the debug session block ---- */

#endif
