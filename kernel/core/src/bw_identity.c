/* The device identity record (bw_identity.h): little-endian fields, CRC-32 last. */
#include <string.h>

#include "bw_identity.h"

uint32_t bw_crc32(const uint8_t *data, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; bit++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
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
