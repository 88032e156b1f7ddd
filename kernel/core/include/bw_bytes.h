/*
 * Byte-level helpers every on-flash and on-the-wire format uses: the one copy
 * of little-endian field access and of CRC-32. Portable (the host CLI and
 * bulwarkd compile them too); no alignment is assumed.
 */
#ifndef BW_BYTES_H
#define BW_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t bw_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t bw_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void bw_put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void bw_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* CRC-32 (IEEE 802.3, as zlib.crc32) continued over len more bytes: start
 * with crc = 0 and pass each result on. */
uint32_t bw_crc32_update(uint32_t crc, const uint8_t *data, size_t len);

/* CRC-32 of len bytes. */
static inline uint32_t bw_crc32(const uint8_t *data, size_t len)
{
    return bw_crc32_update(0, data, len);
}

#endif
