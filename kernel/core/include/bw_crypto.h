/*
 * The secure world's mbedTLS memory. mbedTLS bignums allocate; the kernel has
 * no heap, so its mbedTLS config (kernel/crypto/bw_mbedtls_config.h) routes
 * mbedtls_calloc/free to mbedTLS's buffer allocator over one static arena of
 * BW_CRYPTO_ARENA_BYTES. Before bw_crypto_init every allocation fails cleanly
 * (mbedTLS returns its ALLOC_FAILED errors), never touches libc malloc.
 *
 * Since mbedTLS 3.6 the kernel's ECDSA verify is bw_p256_verify on p256-m's
 * field arithmetic (stack only), and
 * SHA-256 and CTR_DRBG never allocate: nothing in the kernel allocates today;
 * the arena is kept for TLS. Allocating crypto runs in the kernel loop only,
 * never from an interrupt or a system call: the allocator has no lock.
 */
#ifndef BW_CRYPTO_H
#define BW_CRYPTO_H

#include <stddef.h>

#include "bw_err.h"

/* Hands the static arena to mbedTLS. Idempotent: a second call keeps the arena
 * (and any live allocation) as it is. Called by bw_kernel_init. */
bw_err bw_crypto_init(void);

/* Bytes of the arena mbedTLS has used at most since boot, headers included
 * (a scan for the paint bw_crypto_init left; the allocator is first-fit, so
 * this is the smallest arena that would have served the same allocations).
 * Before bw_crypto_init: the whole arena. Kernel loop only. */
size_t bw_crypto_arena_peak(void);

/* BW_CRYPTO_ARENA_BYTES as built. */
size_t bw_crypto_arena_size(void);

/* mbedTLS's exit (MBEDTLS_PLATFORM_EXIT_MACRO): the arena is corrupted, which
 * only a kernel bug can do. Logs the fact and traps (a secure fault). */
_Noreturn void bw_crypto_fatal(int status);

#endif
