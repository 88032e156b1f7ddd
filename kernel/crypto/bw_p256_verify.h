/*
 * ECDSA P-256 signature check for public inputs (docs/DESIGN.md, Boot): the
 * one verify of the boot stub, the kernel and the host tools. Stack only, no
 * heap, not constant time (nothing it handles is secret).
 */
#ifndef BW_P256_VERIFY_H
#define BW_P256_VERIFY_H

#include <stdint.h>

typedef enum {
    BW_P256_OK = 0,
    BW_P256_BAD_KEY = 1,        /* the key is not a point of the curve (checked first) */
    BW_P256_BAD_SIGNATURE = 2,  /* r or s outside [1, n-1], or the signature does not match */
} bw_p256_result;

/* Checks signature = r || s (32 bytes each, big-endian) over the 32-byte
 * hash under key = X || Y (32 bytes each, big-endian, no 0x04 prefix). */
bw_p256_result bw_p256_verify(const uint8_t signature[64], const uint8_t key[64], const uint8_t hash[32]);

/* True when key = X || Y (as above) is a point of the curve. */
int bw_p256_key_valid(const uint8_t key[64]);

#endif
