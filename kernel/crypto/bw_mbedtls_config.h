/*
 * mbedTLS configuration for the secure world: only what the kernel uses.
 * No heap, no file system, no OS: entropy comes from the port (port_entropy)
 * into CTR_DRBG; bignum memory from a static arena (bw_crypto.c). Grows as
 * the kernel gains TLS.
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

/* Bundle signatures (bw_manifest.c): ECDSA P-256 verify. ECDSA_C needs the
 * ASN.1 modules (check_config), though only the raw r,s verify is called. */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
/* Speed, measured under QEMU -icount (one verify, the bench's "signature
 * check"): the P-256 fast reduction and a 3-bit comb window take a verify
 * from 159 M to 26.9 M instructions (NIST_OPTIM alone: 30 M), and building
 * mbedTLS with -O2 (top-level CMakeLists.txt; +4.7 KB of code) to 20.9 M.
 * Window 4 gives 20.2 M but needs an 8 KiB arena: not worth 2 KiB of RAM.
 * The 8 M goal needs a dedicated P-256 (mbedTLS 3's p256-m); Debian 12 ships
 * mbedTLS 2.28 only. */
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_WINDOW_SIZE 3
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0

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

#endif
