/*
 * libFuzzer target for the bundle parsers (bw_manifest.h): any bytes, as a
 * bundle head (bw_bundle_open) and as a bare manifest (bw_manifest_parse).
 * No signature check: the parser must be safe before any crypto runs.
 *
 * Promises checked beyond "no crash, no UB" (ASan + UBSan):
 *  - success and failure agree with the diag (error == OK exactly on BW_OK);
 *  - an accepted manifest re-encodes to exactly the input bytes, has 1..8
 *    layers, each non-empty, inside its region, not overlapping another, with
 *    data offsets in table order; an accepted head's sizes add up;
 *  - every diag describes into a bounded, terminated line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bw_manifest.h"

#define CHECK(cond)         \
    do {                    \
        if (!(cond)) {      \
            abort();        \
        }                   \
    } while (0)

static void check_describe(const bw_manifest_diag *why)
{
    char line[160];
    memset(line, 'x', sizeof line);
    size_t n = bw_manifest_describe(why, line, sizeof line);
    CHECK(n < sizeof line && line[n] == '\0' && strlen(line) == n);
}

static void check_manifest(const bw_manifest *m, const uint8_t *bytes, size_t len)
{
    CHECK(m->layer_count >= 1 && m->layer_count <= BW_MANIFEST_MAX_LAYERS);
    CHECK(m->region_count == 1);
    uint32_t data = 0;
    for (unsigned i = 0; i < m->layer_count; i++) {
        const bw_manifest_layer *l = &m->layers[i];
        CHECK(l->length > 0);
        CHECK((uint64_t)l->region_offset + l->length <= m->regions[0].size);
        CHECK(l->data_offset == data);
        data += l->length;
        for (unsigned j = 0; j < i; j++) {
            const bw_manifest_layer *p = &m->layers[j];
            CHECK(l->region_offset >= p->region_offset + p->length
                  || p->region_offset >= l->region_offset + l->length);
        }
    }
    CHECK(m->layer_data_size == data && data <= m->regions[0].size);
    uint8_t again[BW_MANIFEST_MAX_SIZE];
    size_t n = bw_manifest_encode(m, again, sizeof again);
    CHECK(n == len && memcmp(again, bytes, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bw_bundle_layout layout;
    bw_manifest manifest;
    bw_signature_block signature;
    bw_manifest_diag why;

    bw_err err = bw_bundle_open(data, size, &layout, &manifest, &signature, &why);
    CHECK((err == BW_OK) == (why.error == BW_MANIFEST_OK));
    check_describe(&why);
    if (err == BW_OK) {
        CHECK(layout.layers_offset == BW_BUNDLE_HEADER_SIZE + layout.manifest_size
                                          + BW_SIGNATURE_BLOCK_SIZE);
        CHECK(layout.layers_offset <= size);
        CHECK(layout.bundle_size == layout.layers_offset + manifest.layer_data_size);
        check_manifest(&manifest, data + layout.manifest_offset, layout.manifest_size);
        CHECK(bw_bundle_layer_file_offset(&layout, &manifest, manifest.layer_count - 1u)
              + manifest.layers[manifest.layer_count - 1u].length == layout.bundle_size);
    }

    err = bw_manifest_parse(data, size, &manifest, &why);
    CHECK((err == BW_OK) == (why.error == BW_MANIFEST_OK));
    check_describe(&why);
    if (err == BW_OK) {
        check_manifest(&manifest, data, size);
    }
    return 0;
}
