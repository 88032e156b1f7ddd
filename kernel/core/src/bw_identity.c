/* The device identity record (bw_identity.h): little-endian fields, CRC-32 last. */
#include <string.h>

#include "bw_identity.h"

/* Four bits at a time from a 16-entry table: a quarter of the bit-by-bit
 * loop's work for 64 bytes of table (crash records are CRC'd on every crash). */
uint32_t bw_crc32(const uint8_t *data, size_t len)
{
    static const uint32_t nibble[16] = {
        0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
        0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
        0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
    };
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        crc = (crc >> 4) ^ nibble[crc & 0xFu];
        crc = (crc >> 4) ^ nibble[crc & 0xFu];
    }
    return ~crc;
}

static uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

bw_err bw_identity_parse(const uint8_t record[BW_IDENTITY_RECORD_SIZE],
                         uint8_t identity[BW_IDENTITY_SIZE])
{
    if (load_le32(record) != BW_IDENTITY_MAGIC || load_le32(record + 4) != BW_IDENTITY_VERSION
        || load_le32(record + 24) != bw_crc32(record, 24)) {
        return BW_E_IO;
    }
    memcpy(identity, record + 8, BW_IDENTITY_SIZE);
    return BW_OK;
}

bw_err bw_trusted_keys_parse(const uint8_t record[BW_KEYS_RECORD_MAX],
                             uint8_t keys[BW_KEYS_MAX][BW_KEY_POINT_SIZE], size_t *count)
{
    *count = 0;
    uint32_t n = load_le32(record + 8);
    if (load_le32(record) != BW_KEYS_MAGIC || load_le32(record + 4) != BW_KEYS_VERSION
        || n == 0 || n > BW_KEYS_MAX) {
        return BW_E_IO;
    }
    uint32_t body = 12u + n * BW_KEY_POINT_SIZE;
    if (load_le32(record + body) != bw_crc32(record, body)) {
        return BW_E_IO;
    }
    for (uint32_t i = 0; i < n; i++) {
        memcpy(keys[i], record + 12u + i * BW_KEY_POINT_SIZE, BW_KEY_POINT_SIZE);
    }
    *count = n;
    return BW_OK;
}
