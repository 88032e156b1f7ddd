/*
 * libFuzzer target: the boot stub's reading of a kernel seal and its
 * certificate (boot/bw_kernel_seal.c) and of the anti-rollback counter
 * (boot/bw_rollback.c), on any bytes. The input is at once a certificate, a
 * seal area and the image after it; the trusted root is the seal's own root
 * key, so that inputs get past the root check into the certificate and the
 * signatures. Seeds: corpus-kernel-seal/ (a signed kernel file with a tiny
 * image, and a kernel-signing certificate alone).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bw_kernel_seal.h"
#include "bw_rollback.h"
#include "psa/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* p256-m's key generation and signing (never called: the seal only
 * verifies) reach PSA's RNG, which the library built here does not have. */
psa_status_t psa_generate_random(uint8_t *output, size_t output_size)
{
    (void)output;
    (void)output_size;
    return PSA_ERROR_NOT_SUPPORTED;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bw_seal_cert cert;
    (void)bw_seal_cert_parse(data, size, &cert);
    (void)bw_rollback_floor(data, size);

    uint8_t root_hash[BW_SEAL_HASH_SIZE] = {0};
    uint16_t board = 0;
    if (size >= BW_SEAL_CERT_OFFSET) {
        bw_seal_sha256(data + 56, BW_SEAL_KEY_SIZE, root_hash);
        board = (uint16_t)(data[16] | data[17] << 8);
    }
    bw_seal seal;
    bw_seal_error err = bw_seal_verify(data, size, data, size, data, size / 2u, board, root_hash, 0, &seal);
    if (err == BW_SEAL_OK && (seal.image_size > size || seal.cert_len > BW_SEAL_CERT_MAX)) {
        __builtin_trap();   /* a verified seal must describe bytes that exist */
    }
    (void)bw_seal_describe(err);
    return 0;
}
