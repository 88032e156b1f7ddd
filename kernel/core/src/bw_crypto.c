/*
 * mbedTLS's memory in the secure world (bw_crypto.h): one static arena, set up
 * once; `ready` records that it was handed over so a re-init never wipes live
 * allocations. Past the allocator's first block header the arena is painted
 * with ARENA_PAINT when it is handed over; the allocator zeroes what it hands
 * out and writes a header after each block it splits off, so the highest
 * word no longer holding the paint marks the most of the arena ever used.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "mbedtls/memory_buffer_alloc.h"

#include "bw_config.h"
#include "bw_crypto.h"
#include "bw_log.h"

#define ARENA_PAINT 0xA7E9A5C3u
/* Past the allocator's first block header (8 words in mbedTLS 3.6). */
#define ARENA_PAINT_FROM 64u

static _Alignas(8) uint32_t arena[BW_CRYPTO_ARENA_BYTES / 4u];
static bool ready;

bw_err bw_crypto_init(void)
{
    if (!ready) {
        mbedtls_memory_buffer_alloc_init((unsigned char *)arena, sizeof arena);
        for (size_t i = ARENA_PAINT_FROM / 4u; i < sizeof arena / 4u; i++) {
            arena[i] = ARENA_PAINT;
        }
        ready = true;
    }
    return BW_OK;
}

size_t bw_crypto_arena_peak(void)
{
    size_t words = sizeof arena / 4u;
    while (words > ARENA_PAINT_FROM / 4u && arena[words - 1u] == ARENA_PAINT) {
        words--;
    }
    return words * 4u;
}

size_t bw_crypto_arena_size(void)
{
    return sizeof arena;
}

void bw_crypto_fatal(int status)
{
    bw_log_fatal("crypto arena corrupted (mbedTLS status %d): stopping", status);
    __builtin_trap();
}

/* mbedTLS's snprintf (MBEDTLS_PLATFORM_SNPRINTF_MACRO): the kernel formatter,
 * truncating as snprintf does; the length written (never negative). */
int bw_crypto_snprintf(char *out, size_t size, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    size_t n = bw_vformat(out, size, fmt, args);
    va_end(args);
    return (int)n;
}
