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

/* CRC-32 (IEEE 802.3, as zlib.crc32) of len bytes. */
uint32_t bw_crc32(const uint8_t *data, size_t len);

/* Copies the identity out of a record read from flash. BW_E_IO if the record
 * is erased, corrupt or of another version. */
bw_err bw_identity_parse(const uint8_t record[BW_IDENTITY_RECORD_SIZE],
                         uint8_t identity[BW_IDENTITY_SIZE]);

#endif
