/*
 * Signed kernel image files (docs/SPEC.md §19.2): the seal, then the image
 * bytes, then (boards whose gate lies outside the kernel slot) the gate's. Made by `bulwark kernel sign`, shown and checked by `bulwark bundle
 * inspect`/`verify` with the boot stub's own checker (boot/bw_kernel_seal.c).
 */
#ifndef BULWARK_LIB_KERNEL_IMAGE_H
#define BULWARK_LIB_KERNEL_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bw_kernel_seal.h"
#include "mbedtls/pk.h"

/* What `kernel sign` seals. */
typedef struct kernel_sign_input {
    const uint8_t *image;
    size_t image_len;
    const uint8_t *gate;         /* the board's gate extent (kernel_gate_size bytes), or NULL */
    uint32_t version;
    uint32_t signed_at;          /* seconds since 1970-01-01 UTC, within the certificate's validity */
    uint16_t board;
    const uint8_t *root_key;     /* 65 bytes */
    const uint8_t *cert;         /* the signing key's certificate, DER */
    size_t cert_len;
} kernel_sign_input;

/* Builds the seal for in, signed by signer (whose public key must be the
 * certificate's); in->gate must be given exactly when the board seals a gate. seal gets BW_SEAL_MAX bytes at most; *seal_len its size. */
bool kernel_image_seal(const kernel_sign_input *in, mbedtls_pk_context *signer,
                       uint8_t seal[BW_SEAL_MAX], size_t *seal_len, char *reason, size_t reason_size);

/* `bulwark kernel sign <kernel.bin> …` (argv[0] the verb), also run by
 * `bulwark bundle create --kernel <kernel.bin> …`: an exit code. */
int kernel_sign_command(int argc, char **argv);

/* True if data starts like a signed kernel image (the seal's magic). */
bool kernel_image_is(const uint8_t *data, size_t len);

/* A packed kernel version (major<<24 | minor<<16 | patch) as "X.Y.Z". */
void kernel_version_text(uint32_t version, char out[16]);

/* Prints the seal and its certificate (no key needed); 0, or 1 with the
 * reason if the file is not a well-formed signed kernel image. */
int kernel_image_inspect(FILE *out, const char *path, const uint8_t *data, size_t len, bool json);

/* What kernel_image_check found wrong: a seal check, or the file's length. */
typedef enum kernel_file_error {
    KERNEL_FILE_OK = 0,
    KERNEL_FILE_SEAL,            /* *seal_error says which check */
    KERNEL_FILE_TRUNCATED,       /* fewer image bytes after the seal than it states */
    KERNEL_FILE_TRAILING,        /* more */
} kernel_file_error;

/* Every check the stub makes on a signed kernel file (seal, chain, signature,
 * image hash), with no anti-rollback floor. root_hash: the trusted root; NULL
 * takes the seal's own root key (the file is then consistent, not trusted).
 * *seal is filled once the seal parses; *seal_error is BW_SEAL_OK unless
 * KERNEL_FILE_SEAL. *reason: one static line (NULL when OK). */
kernel_file_error kernel_image_check(const uint8_t *data, size_t len, const uint8_t *root_hash, bw_seal *seal,
                                     bw_seal_error *seal_error, const char **reason);

/* Every check the stub makes, with root_hash the trusted root and
 * min_version the anti-rollback counter; 0, or 1 with the reason. */
int kernel_image_verify(FILE *out, const char *path, const uint8_t *data, size_t len,
                        const uint8_t root_hash[BW_SEAL_HASH_SIZE], uint32_t min_version, bool json);

#endif
