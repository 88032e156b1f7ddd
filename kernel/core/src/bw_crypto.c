/*
 * mbedTLS's memory in the secure world (bw_crypto.h): one static arena, set up
 * once; `ready` records that it was handed over so a re-init never wipes live
 * allocations.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "mbedtls/memory_buffer_alloc.h"

#include "bw_config.h"
#include "bw_crypto.h"
#include "bw_log.h"

static _Alignas(8) unsigned char arena[BW_CRYPTO_ARENA_BYTES];
static bool ready;

bw_err bw_crypto_init(void)
{
    if (!ready) {
        mbedtls_memory_buffer_alloc_init(arena, sizeof arena);
        ready = true;
    }
    return BW_OK;
}

void bw_crypto_fatal(int status)
{
    bw_log("crypto arena corrupted (mbedTLS status %d): stopping", status);
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
