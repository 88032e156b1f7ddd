/*
 * mbedTLS configuration for the secure world: only what the kernel uses.
 * No heap, no file system, no OS: entropy comes from the port (port_entropy)
 * into CTR_DRBG. Grows as the kernel gains signature checks and TLS.
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

#include "mbedtls/check_config.h"

#endif
