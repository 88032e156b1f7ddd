/* The device identity record (bw_identity.h): little-endian fields, CRC-32 last. */
#include <string.h>

#include "bw_bytes.h"
#include "bw_identity.h"

bw_err bw_identity_parse(const uint8_t record[BW_IDENTITY_RECORD_SIZE],
                         uint8_t identity[BW_IDENTITY_SIZE])
{
    if (bw_get32(record) != BW_IDENTITY_MAGIC || bw_get32(record + 4) != BW_IDENTITY_VERSION
        || bw_get32(record + 24) != bw_crc32(record, 24)) {
        return BW_E_IO;
    }
    memcpy(identity, record + 8, BW_IDENTITY_SIZE);
    return BW_OK;
}

bw_err bw_trusted_keys_parse(const uint8_t record[BW_KEYS_RECORD_MAX],
                             uint8_t keys[BW_KEYS_MAX][BW_KEY_POINT_SIZE], size_t *count)
{
    *count = 0;
    uint32_t n = bw_get32(record + 8);
    if (bw_get32(record) != BW_KEYS_MAGIC || bw_get32(record + 4) != BW_KEYS_VERSION
        || n == 0 || n > BW_KEYS_MAX) {
        return BW_E_IO;
    }
    uint32_t body = 12u + n * BW_KEY_POINT_SIZE;
    if (bw_get32(record + body) != bw_crc32(record, body)) {
        return BW_E_IO;
    }
    for (uint32_t i = 0; i < n; i++) {
        memcpy(keys[i], record + 12u + i * BW_KEY_POINT_SIZE, BW_KEY_POINT_SIZE);
    }
    *count = n;
    return BW_OK;
}
