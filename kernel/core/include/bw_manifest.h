/*
 * Update bundles (docs/SPEC.md §6): the container header, the signed manifest
 * and its signature block, parsed and checked without heap, on caller-provided
 * structs. Every byte handed in is untrusted: each function returns a bw_err and,
 * when `why` is not NULL, fills a bw_manifest_diag naming the precise reason
 * (bw_manifest_describe turns it into one line of text for a log or the CLI).
 *
 * Order a receiver follows (the update engine, `bulwark bundle verify`):
 *   1. bw_bundle_open on the bundle's first bytes (header + manifest + signature
 *      block, at most BW_BUNDLE_HEAD_MAX): structure, bounds, sizes;
 *   2. bw_manifest_verify_signature against the trusted keys;
 *   3. bw_manifest_check_device and bw_manifest_check_rollback;
 *   4. layer bytes, fetched by file offset (layout.layers_offset +
 *      layer.data_offset), each checked with bw_manifest_check_layer_hash;
 *   5. after install, the region hashed (bw_region_measure) and compared with
 *      bw_manifest_check_measurement.
 * Parsing (1) needs no crypto; (2) uses mbedTLS ECDSA, (4, 5) its SHA-256.
 */
#ifndef BW_MANIFEST_H
#define BW_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"

/* ---- format constants (docs/SPEC.md §6) ---- */

#define BW_BUNDLE_MAGIC            0x4E425742u   /* bytes "BWBN" */
#define BW_BUNDLE_FORMAT_VERSION   1u
#define BW_BUNDLE_HEADER_SIZE      24u
#define BW_MANIFEST_MAGIC          0x464D5742u   /* bytes "BWMF" */
#define BW_MANIFEST_VERSION        1u
#define BW_MANIFEST_MAX_SIZE       4096u         /* any version, header-enforced */
#define BW_MANIFEST_FIXED_SIZE     116u          /* v1 fields before the region table */
#define BW_MANIFEST_REGION_ENTRY_SIZE 40u
#define BW_MANIFEST_LAYER_ENTRY_SIZE  44u
#define BW_MANIFEST_MAX_REGIONS    1u
#define BW_MANIFEST_MAX_LAYERS     8u
#define BW_SIGNATURE_BLOCK_SIZE    76u
#define BW_SIGNATURE_ALG_ECDSA_P256_SHA256 1u
/* Bytes a receiver needs before the first layer: bw_bundle_open's input. */
#define BW_BUNDLE_HEAD_MAX (BW_BUNDLE_HEADER_SIZE + BW_MANIFEST_MAX_SIZE + BW_SIGNATURE_BLOCK_SIZE)

#define BW_SHA256_SIZE             32u
#define BW_KEY_ID_SIZE             8u
#define BW_PUBLIC_KEY_SIZE         65u   /* uncompressed P-256 point: 0x04 || X || Y */
#define BW_SIGNATURE_SIZE          64u   /* r || s, 32 bytes each, big-endian */
/* Signed message = SHA-256(prefix || manifest bytes); the prefix includes its NUL. */
#define BW_MANIFEST_SIGNING_PREFIX "BULWARK-MANIFEST-V1"
#define BW_MANIFEST_SIGNING_PREFIX_SIZE 20u

/* Boards a bundle targets. */
#define BW_BOARD_QEMU_AN505        1u
#define BW_BOARD_STM32U585         2u
/* Region ids: v1 knows the app slot only. */
#define BW_REGION_APP_SLOT         0u
/* Layer types: v1 knows full layers only (deltas will come with a new version). */
#define BW_LAYER_FULL              1u
#define BW_DEBUG_FLAG_DEBUGGABLE   0x01u

/* Bounds on fields (docs/SPEC.md §6.3). */
#define BW_REGION_SIZE_MAX         (16u * 1024u * 1024u)
#define BW_REGION_SIZE_UNIT        4096u
#define BW_RESTART_MS_MAX          86400000u     /* one day */
#define BW_CRASH_STACK_BYTES_MAX   4096u
#define BW_POLITE_SECONDS_MAX      604800u       /* seven days */
#define BW_CONNECTIVITY_SECONDS_MAX 2592000u     /* thirty days */

/* Kernel versions are packed major<<24 | minor<<16 | patch, so they compare as integers. */
#define BW_KERNEL_VERSION_PACK(major, minor, patch) \
    (((uint32_t)(major) << 24) | ((uint32_t)(minor) << 16) | (uint32_t)(patch))

/* ---- reasons ---- */

typedef enum bw_manifest_error {
    BW_MANIFEST_OK = 0,
    /* container */
    BW_MANIFEST_E_TRUNCATED,        /* value = bytes present, limit = bytes needed */
    BW_MANIFEST_E_TRAILING_DATA,    /* value = bytes present, limit = bundle size */
    BW_MANIFEST_E_BUNDLE_MAGIC,     /* value = magic found */
    BW_MANIFEST_E_FORMAT_VERSION,   /* value = version found */
    BW_MANIFEST_E_HEADER_SIZE,      /* value = size found */
    BW_MANIFEST_E_HEADER_RESERVED,  /* value = field found */
    BW_MANIFEST_E_MANIFEST_SIZE,    /* value = size, limit = BW_MANIFEST_MAX_SIZE */
    BW_MANIFEST_E_SIGNATURE_SIZE,   /* value = size found */
    BW_MANIFEST_E_BUNDLE_SIZE,      /* value = header's size, limit = size the layers give */
    /* manifest */
    BW_MANIFEST_E_MANIFEST_MAGIC,   /* value = magic found */
    BW_MANIFEST_E_MANIFEST_VERSION, /* value = version found */
    BW_MANIFEST_E_MANIFEST_LENGTH,  /* value = length field, limit = bytes given */
    BW_MANIFEST_E_RESERVED,         /* index = manifest byte offset of the field */
    BW_MANIFEST_E_BOARD,            /* value = board id */
    BW_MANIFEST_E_REGION_COUNT,     /* value = count, limit = BW_MANIFEST_MAX_REGIONS */
    BW_MANIFEST_E_REGION_ID,        /* index = region entry, value = id */
    BW_MANIFEST_E_REGION_DUPLICATE, /* index, other = the two entries */
    BW_MANIFEST_E_REGION_SIZE,      /* index = region, value = size, limit = BW_REGION_SIZE_MAX */
    BW_MANIFEST_E_LAYER_COUNT,      /* value = count, limit = BW_MANIFEST_MAX_LAYERS */
    BW_MANIFEST_E_LAYER_TYPE,       /* index = layer, value = type */
    BW_MANIFEST_E_LAYER_REGION,     /* index = layer, value = region id */
    BW_MANIFEST_E_LAYER_EMPTY,      /* index = layer */
    BW_MANIFEST_E_LAYER_OUTSIDE,    /* index = layer, value = end offset, limit = region size */
    BW_MANIFEST_E_LAYER_OVERLAP,    /* index, other = the two layers */
    BW_MANIFEST_E_RESTART_ORDER,    /* value = min ms, limit = max ms */
    BW_MANIFEST_E_RESTART_LIMIT,    /* value = max ms, limit = BW_RESTART_MS_MAX */
    BW_MANIFEST_E_STACK_BYTES,      /* value = bytes, limit = BW_CRASH_STACK_BYTES_MAX */
    BW_MANIFEST_E_DEBUG_FLAGS,      /* value = flags */
    BW_MANIFEST_E_DEBUG_KEY,        /* debuggable without a key, or a key without the flag */
    BW_MANIFEST_E_POLITE_LIMIT,     /* value, limit */
    BW_MANIFEST_E_GRACE_LIMIT,      /* value, limit */
    BW_MANIFEST_E_CHECKIN_LIMIT,    /* value, limit */
    /* signature */
    BW_MANIFEST_E_SIGNATURE_ALG,    /* value = algorithm id */
    BW_MANIFEST_E_SIGNATURE_RESERVED,
    BW_MANIFEST_E_UNKNOWN_KEY,      /* key_id = the bundle's key id */
    BW_MANIFEST_E_BAD_SIGNATURE,    /* key_id = the key that did not verify it */
    BW_MANIFEST_E_TRUSTED_KEY,      /* index = trusted key that is not a valid P-256 point */
    BW_MANIFEST_E_CRYPTO,           /* mbedTLS failed to run (e.g. out of crypto memory) */
    /* device and content */
    BW_MANIFEST_E_BOARD_MISMATCH,   /* value = bundle's board, limit = device's */
    BW_MANIFEST_E_KERNEL_TOO_OLD,   /* value = required version, limit = running version */
    BW_MANIFEST_E_REGION_MISMATCH,  /* index = region, value = bundle's size, limit = device's */
    BW_MANIFEST_E_ROLLBACK,         /* value = app version, limit = floor */
    BW_MANIFEST_E_LAYER_INDEX,      /* index = layer asked for, limit = layer count */
    BW_MANIFEST_E_LAYER_HASH,       /* index = layer */
    BW_MANIFEST_E_MEASUREMENT,      /* index = region */
    BW_MANIFEST_E_COUNT
} bw_manifest_error;

/* The reason a call failed, with the numbers that make it precise. */
typedef struct bw_manifest_diag {
    bw_manifest_error error;
    uint32_t index;                 /* layer, region, key or field concerned */
    uint32_t other;                 /* the second layer or region of a pair */
    uint32_t value;                 /* the offending value */
    uint32_t limit;                 /* the bound or expectation it broke */
    uint8_t key_id[BW_KEY_ID_SIZE]; /* for key errors */
} bw_manifest_diag;

/* ---- parsed forms ---- */

typedef struct bw_bundle_layout {
    uint32_t manifest_offset;       /* = BW_BUNDLE_HEADER_SIZE */
    uint32_t manifest_size;
    uint32_t signature_offset;
    uint32_t layers_offset;         /* file offset of the first layer's bytes */
    uint32_t bundle_size;           /* the whole file, as the header states */
} bw_bundle_layout;

typedef struct bw_signature_block {
    uint16_t algorithm;
    uint8_t key_id[BW_KEY_ID_SIZE];
    uint8_t signature[BW_SIGNATURE_SIZE];
} bw_signature_block;

typedef struct bw_manifest_region {
    uint8_t id;                                /* BW_REGION_APP_SLOT */
    uint32_t size;
    uint8_t measurement[BW_SHA256_SIZE];       /* SHA-256 of the installed region */
} bw_manifest_region;

typedef struct bw_manifest_layer {
    uint8_t type;                              /* BW_LAYER_FULL */
    uint8_t region;                            /* a region id of the manifest */
    uint32_t region_offset;                    /* where its bytes go in the region */
    uint32_t length;
    uint32_t data_offset;   /* from the start of the layer data (sum of earlier lengths) */
    uint8_t fetch_hash[BW_SHA256_SIZE];        /* SHA-256 of its bytes */
} bw_manifest_layer;

typedef struct bw_manifest {
    uint16_t version;
    uint32_t size;                             /* manifest bytes, as signed */
    uint32_t app_version;
    uint32_t min_kernel_version;               /* BW_KERNEL_VERSION_PACK */
    uint16_t board;
    struct {
        uint32_t restart_min_ms;
        uint32_t restart_max_ms;
        uint32_t stack_bytes;
    } crash;
    struct {
        bool debuggable;
        uint8_t public_key[BW_PUBLIC_KEY_SIZE];   /* all zero when not debuggable */
    } debug;
    struct {
        uint32_t polite_seconds;
    } update;
    struct {
        uint32_t grace_seconds;
        uint32_t min_checkin_seconds;
    } connectivity;
    uint8_t region_count;
    bw_manifest_region regions[BW_MANIFEST_MAX_REGIONS];
    uint8_t layer_count;
    bw_manifest_layer layers[BW_MANIFEST_MAX_LAYERS];
    uint32_t layer_data_size;                  /* sum of layer lengths */
} bw_manifest;

/* A public key the device trusts to sign bundles. */
typedef struct bw_trusted_key {
    uint8_t public_key[BW_PUBLIC_KEY_SIZE];
} bw_trusted_key;

/* ---- parsing (no crypto, no allocation) ---- */

/* Parses the 24-byte container header at bytes[0..len). Checks magic, format
 * version, header size and the size fields' bounds. */
bw_err bw_bundle_parse_header(const uint8_t *bytes, size_t len, bw_bundle_layout *out,
                              bw_manifest_diag *why);

/* Parses and validates manifest bytes (exactly the manifest, len bytes): every
 * field bounded, layers inside their region and not overlapping. Fills *out;
 * it holds no pointer into bytes. */
bw_err bw_manifest_parse(const uint8_t *bytes, size_t len, bw_manifest *out,
                         bw_manifest_diag *why);

/* Parses a 76-byte signature block (algorithm, reserved, key id, r||s). */
bw_err bw_signature_parse(const uint8_t *bytes, size_t len, bw_signature_block *out,
                          bw_manifest_diag *why);

/* Header + manifest + signature block from the bundle's first len bytes (len may
 * be the whole file or just the head; BW_E_SIZE with E_TRUNCATED if the head is
 * not all there), and checks that the header's bundle size is exactly the head
 * plus the layers. Does not check the signature. */
bw_err bw_bundle_open(const uint8_t *bytes, size_t len, bw_bundle_layout *layout,
                      bw_manifest *manifest, bw_signature_block *signature,
                      bw_manifest_diag *why);

/* File offset of layer `index`'s first byte. index must be < layer_count. */
uint32_t bw_bundle_layer_file_offset(const bw_bundle_layout *layout, const bw_manifest *m,
                                     unsigned index);

/* ---- encoding (for tools and tests; the kernel only parses) ---- */

/* Encodes m as manifest v1 bytes into out (size bytes). Returns the manifest's
 * size, or 0 if region_count/layer_count exceed the format or out is too small.
 * Does not validate: bw_manifest_parse of the result does. m->size is ignored. */
size_t bw_manifest_encode(const bw_manifest *m, uint8_t *out, size_t size);

/* Encodes the 24-byte container header. */
void bw_bundle_encode_header(uint32_t manifest_size, uint32_t bundle_size,
                             uint8_t out[BW_BUNDLE_HEADER_SIZE]);

/* Encodes the 76-byte signature block. */
void bw_signature_encode(const bw_signature_block *sig, uint8_t out[BW_SIGNATURE_BLOCK_SIZE]);

/* ---- crypto (mbedTLS: SHA-256, ECDSA P-256) ---- */

/* Key id of a public key: the first 8 bytes of SHA-256 of its 65 bytes. */
bw_err bw_manifest_key_id(const uint8_t public_key[BW_PUBLIC_KEY_SIZE],
                          uint8_t key_id[BW_KEY_ID_SIZE]);

/* Hash a signer signs: SHA-256(BW_MANIFEST_SIGNING_PREFIX "\0" || manifest). */
bw_err bw_manifest_signing_hash(const uint8_t *manifest, size_t len,
                                uint8_t hash[BW_SHA256_SIZE]);

/* True when public_key is an uncompressed point on P-256 (0x04 || X || Y). */
bool bw_manifest_public_key_valid(const uint8_t public_key[BW_PUBLIC_KEY_SIZE]);

/* ECDSA P-256 check of a SHA-256 hash by public_key (0x04 || X || Y; p256-m,
 * no heap): OK, E_TRUSTED_KEY (the key is not a point on the curve; checked
 * first, whatever the signature holds) or E_BAD_SIGNATURE. The one signature
 * check of the kernel's install path: bundles and key sets (bw_keyset.h). */
bw_manifest_error bw_manifest_ecdsa_check(const uint8_t public_key[BW_PUBLIC_KEY_SIZE],
                                          const uint8_t hash[BW_SHA256_SIZE],
                                          const uint8_t signature[BW_SIGNATURE_SIZE]);

/* Verifies the signature over the manifest bytes against the trusted keys: the
 * key is chosen by key id (none matches: E_UNKNOWN_KEY, BW_E_DENIED), then the
 * ECDSA check (fails: E_BAD_SIGNATURE, BW_E_DENIED). Allocates only through
 * mbedTLS (in the secure world: the static arena of bw_crypto_init). */
bw_err bw_manifest_verify_signature(const uint8_t *manifest, size_t len,
                                    const bw_signature_block *signature,
                                    const bw_trusted_key *keys, size_t key_count,
                                    bw_manifest_diag *why);

/* Compares SHA-256 of a layer's bytes (computed by the caller while receiving
 * them) with the layer's fetch hash. */
bw_err bw_manifest_check_layer_hash(const bw_manifest *m, unsigned index,
                                    const uint8_t digest[BW_SHA256_SIZE], bw_manifest_diag *why);

/* Reads region bytes [offset, offset+len) into buf; returns BW_OK or the read's error. */
typedef bw_err (*bw_region_read_fn)(void *context, uint32_t offset, uint8_t *buf, uint32_t len);

/* SHA-256 of size bytes read through read_fn in scratch-sized pieces (the
 * measurement of an installed region). scratch is caller-owned, >= 1 byte. */
bw_err bw_region_measure(bw_region_read_fn read_fn, void *context, uint32_t size,
                         uint8_t *scratch, size_t scratch_len, uint8_t digest[BW_SHA256_SIZE]);

/* bw_manifest_signing_hash of a manifest of len bytes read through read_fn in
 * scratch-sized pieces (a manifest stored in flash): the bundle's identity. */
bw_err bw_manifest_signing_hash_read(bw_region_read_fn read_fn, void *context, uint32_t len,
                                     uint8_t *scratch, size_t scratch_len,
                                     uint8_t hash[BW_SHA256_SIZE]);

/* Compares a measured digest with region `index`'s expected measurement. */
bw_err bw_manifest_check_measurement(const bw_manifest *m, unsigned index,
                                     const uint8_t digest[BW_SHA256_SIZE], bw_manifest_diag *why);

/* ---- device policy ---- */

/* Is the bundle for this device: board, minimum kernel version, app-slot size? */
bw_err bw_manifest_check_device(const bw_manifest *m, uint16_t board, uint32_t kernel_version,
                                uint32_t app_slot_size, bw_manifest_diag *why);

/* Anti-rollback: the app version must be >= floor (the device's installed or
 * recorded minimum). E_ROLLBACK, BW_E_DENIED otherwise. */
bw_err bw_manifest_check_rollback(const bw_manifest *m, uint32_t floor, bw_manifest_diag *why);

/* ---- text ---- */

/* Short fixed text for a reason, e.g. "layer extends past the end of its region". */
const char *bw_manifest_error_text(bw_manifest_error error);

/* One line with the numbers, e.g. "layer 2 extends past the end of its region
 * (ends at 0x100010, region is 0x100000 bytes)". Writes at most size bytes,
 * NUL-terminated when size > 0; returns the length written. */
size_t bw_manifest_describe(const bw_manifest_diag *why, char *out, size_t size);

/* Board name ("qemu-an505", "stm32u585") or NULL for an unknown id. */
const char *bw_manifest_board_name(uint16_t board);

#endif
