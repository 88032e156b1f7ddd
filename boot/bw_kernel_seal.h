/*
 * The kernel seal (docs/SPEC.md §19): what makes a kernel image bootable. It
 * sits in the KERNEL_SEAL region after the kernel slot and carries the
 * image's size, version and SHA-256, the root's public key, the signing key's
 * X.509 certificate (issued by that root) and the signing key's signature.
 *
 * Portable and heap-free: the boot stub checks a kernel with it before the
 * jump; `bulwark kernel sign` and `bundle inspect`/`verify` and the fuzzer use
 * the same code. Every byte handed in is untrusted. Each function returns a
 * bw_seal_error (BW_SEAL_OK or the first failed check, in the order of
 * SPEC §19.3); bw_seal_describe names it in one line.
 */
#ifndef BW_KERNEL_SEAL_H
#define BW_KERNEL_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BW_SEAL_MAGIC          0x534B5742u   /* bytes "BWKS" */
#define BW_SEAL_FORMAT_VERSION 1u
#define BW_SEAL_SIGNED_SIZE    124u          /* the fixed head, which the signature covers */
#define BW_SEAL_SIGNATURE_OFFSET 124u
#define BW_SEAL_CERT_OFFSET    188u
#define BW_SEAL_CERT_MAX       1024u
#define BW_SEAL_MAX            (BW_SEAL_CERT_OFFSET + BW_SEAL_CERT_MAX)
#define BW_SEAL_IMAGE_MIN      8u            /* a vector table's first two words */
#define BW_SEAL_HASH_SIZE      32u
#define BW_SEAL_KEY_SIZE       65u           /* 0x04 || X || Y */
#define BW_SEAL_SIG_SIZE       64u           /* r || s */
/* Signed message = SHA-256(prefix || seal bytes 0..123); the prefix includes its NUL. */
#define BW_SEAL_SIGNING_PREFIX "BULWARK-KERNEL-V1"
#define BW_SEAL_SIGNING_PREFIX_SIZE 18u

typedef enum bw_seal_error {
    BW_SEAL_OK = 0,
    BW_SEAL_E_EMPTY,            /* the seal area is erased: no kernel installed */
    BW_SEAL_E_MALFORMED,        /* magic, format version, size or reserved bytes */
    BW_SEAL_E_BOARD,            /* sealed for another board */
    BW_SEAL_E_IMAGE_SIZE,       /* image size outside 8..slot size */
    BW_SEAL_E_UNKNOWN_ROOT,     /* the root key's hash is not the trusted one */
    BW_SEAL_E_CERTIFICATE,      /* the certificate is not a v3 P-256 ECDSA-SHA256 certificate */
    BW_SEAL_E_NOT_BY_ROOT,      /* the certificate's signature does not verify with the root key */
    BW_SEAL_E_USAGE,            /* the certificate is a CA or not for code signing */
    BW_SEAL_E_SIGNATURE,        /* the seal's signature does not verify with the certificate's key */
    BW_SEAL_E_ROLLBACK,         /* version below the anti-rollback counter */
    BW_SEAL_E_TAMPERED,         /* the image bytes do not hash to the sealed hash */
    BW_SEAL_E_EXPIRED,          /* the signing time is outside the certificate's validity */
} bw_seal_error;

/* A structurally valid seal; the pointers point into the caller's bytes. */
typedef struct bw_seal {
    uint32_t version;
    uint32_t signed_at;          /* seconds since 1970-01-01 UTC, signed with the head */
    uint32_t image_size;
    uint16_t board;
    uint16_t cert_len;
    const uint8_t *image_hash;   /* 32 */
    const uint8_t *root_key;     /* 65 */
    const uint8_t *signature;    /* 64 */
    const uint8_t *cert;         /* cert_len bytes of DER */
} bw_seal;

/* What the seal needs from a certificate; tbs points into the DER. */
typedef struct bw_seal_cert {
    const uint8_t *tbs;
    size_t tbs_len;
    uint8_t signature[BW_SEAL_SIG_SIZE];     /* the issuer's, as r || s */
    uint8_t public_key[BW_SEAL_KEY_SIZE];    /* the subject's */
    bool ca;                                 /* basicConstraints cA */
    bool digital_signature;                  /* keyUsage present with digitalSignature */
    bool code_signing;                       /* extendedKeyUsage present with codeSigning */
    uint64_t not_before, not_after;          /* validity, seconds since 1970-01-01 UTC */
} bw_seal_cert;

/* Structure of the seal in area[0..area_size) for a kernel slot of slot_size
 * bytes on board: magic, version, size, reserved bytes, board, image size. */
bw_seal_error bw_seal_parse(const uint8_t *area, size_t area_size, uint16_t board,
                            size_t slot_size, bw_seal *seal);

/* Parses a DER certificate (no signature check): BW_SEAL_OK or
 * BW_SEAL_E_CERTIFICATE. */
bw_seal_error bw_seal_cert_parse(const uint8_t *der, size_t len, bw_seal_cert *cert);

/* The chain of a parsed seal: the root key hashes to root_hash, the
 * certificate is issued by the root key, fit for code signing and valid at
 * the seal's signing time, and the seal's signature verifies with the
 * certificate's key. */
bw_seal_error bw_seal_check_chain(const bw_seal *seal, const uint8_t root_hash[BW_SEAL_HASH_SIZE]);

/* Every check of SPEC §19.3 in order, with the image at image (at least
 * slot_size readable bytes), the board's gate extent (gate_len bytes at gate,
 * hashed after the image; 0 where the gate lies inside the slot, §19.2) and
 * floor the anti-rollback counter. */
bw_seal_error bw_seal_verify(const uint8_t *area, size_t area_size, const uint8_t *image,
                             size_t slot_size, const uint8_t *gate, size_t gate_len, uint16_t board,
                             const uint8_t root_hash[BW_SEAL_HASH_SIZE], uint32_t floor,
                             bw_seal *seal);

/* SHA-256 of the signed message of a seal head (for the signer). */
void bw_seal_signed_hash(const uint8_t head[BW_SEAL_SIGNED_SIZE], uint8_t hash[BW_SEAL_HASH_SIZE]);

/* The sealed hash of a kernel: SHA-256 of the image's bytes, then the gate
 * extent's (none when gate_len is 0). 0 on success. */
int bw_seal_image_hash(const uint8_t *image, size_t image_size, const uint8_t *gate, size_t gate_len,
                       uint8_t hash[BW_SEAL_HASH_SIZE]);

/* SHA-256 of len bytes (0 on success). */
int bw_seal_sha256(const uint8_t *data, size_t len, uint8_t hash[BW_SEAL_HASH_SIZE]);

/* One line, no trailing newline, for each error. */
const char *bw_seal_describe(bw_seal_error error);

#endif
