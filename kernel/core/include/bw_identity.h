/*
 * The device identity record (docs/SPEC.md §3): 28 bytes at the start of the
 * board's identity sector, written at provisioning. Flash contents are
 * untrusted: a record is used only if magic, version and CRC all match.
 */
#ifndef BW_IDENTITY_H
#define BW_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"

#define BW_IDENTITY_RECORD_SIZE 28u
#define BW_IDENTITY_MAGIC       0x44495742u   /* "BWID" */
#define BW_IDENTITY_VERSION     1u
#define BW_IDENTITY_SIZE        16u

/* The trusted bundle-signing keys, provisioned after the identity record
 * (docs/SPEC.md §3): u32 magic "BWKY", u32 version 1, u32 count (1..4),
 * count x 65-byte uncompressed P-256 points, u32 CRC-32 of what precedes. */
#define BW_KEYS_RECORD_OFFSET   0x100u
#define BW_KEYS_MAGIC           0x594B5742u   /* "BWKY" */
#define BW_KEYS_VERSION         1u
#define BW_KEYS_MAX             4u
#define BW_KEY_POINT_SIZE       65u
#define BW_KEYS_RECORD_MAX      (12u + BW_KEYS_MAX * BW_KEY_POINT_SIZE + 4u)

/* Copies the identity out of a record read from flash. BW_E_IO if the record
 * is erased, corrupt or of another version. */
bw_err bw_identity_parse(const uint8_t record[BW_IDENTITY_RECORD_SIZE],
                         uint8_t identity[BW_IDENTITY_SIZE]);

/* Copies the keys out of a keys record read from flash (BW_KEYS_RECORD_MAX
 * bytes). keys has room for BW_KEYS_MAX points of BW_KEY_POINT_SIZE bytes.
 * BW_E_IO if the record is erased, corrupt, of another version or holds no key. */
bw_err bw_trusted_keys_parse(const uint8_t record[BW_KEYS_RECORD_MAX],
                             uint8_t keys[BW_KEYS_MAX][BW_KEY_POINT_SIZE], size_t *count);

#endif
