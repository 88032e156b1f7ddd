/*
 * The kernel's mbedTLS configuration plus the allocator's statistics
 * (MBEDTLS_MEMORY_DEBUG: peak bytes and blocks of the arena; it adds no
 * bytes to a block's header), for the TLS test and the TLS bench only.
 */
#include "../../kernel/crypto/bw_mbedtls_config.h"
#define MBEDTLS_MEMORY_DEBUG
/* The statistics code prints through stdio, which the kernel has not. */
#undef MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
