/*
 * Bundles on the host (docs/SPEC.md §6): building one from an app ELF, checking
 * a whole bundle file the way the device will (bw_manifest.h does the parsing
 * and the checks; this adds the file, the layers and the measurement), and
 * printing a manifest as text or JSON.
 */
#ifndef BULWARK_LIB_BUNDLE_H
#define BULWARK_LIB_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mbedtls/pk.h"

#include "bw_manifest.h"
#include "lib_elf.h"

/* Largest bundle file the CLI reads: the head plus a full region. */
#define BUNDLE_FILE_MAX ((size_t)BW_BUNDLE_HEAD_MAX + BW_REGION_SIZE_MAX)

typedef struct bundle_board {
    uint16_t id;               /* BW_BOARD_* */
    const char *name;
    uint32_t app_slot_base;    /* load address of the app slot */
    uint32_t app_slot_size;
    uint32_t kernel_slot_size; /* largest kernel image (docs/SPEC.md §19) */
    uint32_t kernel_gate_size; /* the gate's region when it lies outside the kernel slot (sealed
                                  after the image, §19.2), else 0 */
} bundle_board;

const bundle_board *bundle_board_by_name(const char *name);
const bundle_board *bundle_board_by_id(uint16_t id);
/* The board whose app slot holds address, or NULL. */
const bundle_board *bundle_board_for_address(uint32_t address);

/* What `bundle create` puts in the manifest besides the layers. */
typedef struct bundle_options {
    uint32_t app_version;
    uint32_t min_kernel_version;     /* BW_KERNEL_VERSION_PACK */
    const bundle_board *board;       /* NULL: the board whose slot holds the ELF */
    uint32_t restart_min_ms;
    uint32_t restart_max_ms;
    uint32_t stack_bytes;
    uint32_t polite_seconds;
    uint32_t grace_seconds;
    uint32_t checkin_seconds;
    bool debuggable;
    uint8_t debug_key[BW_PUBLIC_KEY_SIZE];
} bundle_options;

/* Builds, signs and returns a bundle (malloc'd, caller frees) from the app ELF
 * bytes: the app-slot image (0xFF where the ELF puts nothing), one layer per
 * contiguous run of loaded bytes (one layer of the used extent if there would
 * be more than BW_MANIFEST_MAX_LAYERS). False with a reason on any failure. */
bool bundle_build(const uint8_t *elf, size_t elf_len, const bundle_options *options,
                  mbedtls_pk_context *key, uint8_t **bundle, size_t *bundle_len,
                  bw_manifest *manifest, char *reason, size_t reason_size);

/* The result of checking a bundle file. */
typedef struct bundle_check {
    bool opened;                 /* layout/manifest/signature below are valid */
    bw_bundle_layout layout;
    bw_manifest manifest;
    bw_signature_block signature;
    bw_manifest_diag diag;       /* the first failure, error == BW_MANIFEST_OK if none */
} bundle_check;

/* Structure only (what `inspect` needs): header, manifest, signature block,
 * and the file's length against the header's bundle size. */
bool bundle_open_file(const uint8_t *data, size_t len, bundle_check *out);

/* Everything, in the device's order: structure, signature against keys,
 * anti-rollback (app version >= min_version), each layer's fetch hash, the
 * region measurement recomputed from the layers. */
bool bundle_verify_file(const uint8_t *data, size_t len, const bw_trusted_key *keys,
                        size_t key_count, uint32_t min_version, bundle_check *out);

/* The diag as one line of text. */
void bundle_reason(const bw_manifest_diag *diag, char *out, size_t size);

/* Writes s as a JSON string literal (quoted, escaped). */
void bundle_json_string(FILE *out, const char *s);

/* Prints the manifest as text, or as one JSON object. */
void bundle_print_text(FILE *out, const char *path, const bundle_check *c);
void bundle_print_json(FILE *out, const char *path, const bundle_check *c);

#endif
