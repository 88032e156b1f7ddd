/*
 * Bundle header, manifest and signature block (bw_manifest.h, docs/SPEC.md §6).
 *
 * Parsing reads fixed little-endian fields at offsets checked against the
 * length handed in, before any read; every count and size is bounded before it
 * is used in arithmetic, and sums are formed in 64 bits, so no input can make
 * an index or an offset wrap. Reserved bytes must be zero, so a v1 parser never
 * silently ignores what a later version meant. The parsed bw_manifest keeps no
 * pointer into the input. The crypto half (key ids, signature, hashes) uses
 * mbedTLS and allocates only through it.
 */
#include <string.h>

#include "bw_bytes.h"
#include "bw_format.h"
#include "mbedtls/sha256.h"
#include "bw_p256_verify.h"
#include "psa/crypto.h"

#include "bw_manifest.h"

/* Manifest v1 field offsets (SPEC §6.3). */
enum {
    MF_MAGIC = 0,
    MF_VERSION = 4,
    MF_SIZE = 6,
    MF_APP_VERSION = 8,
    MF_MIN_KERNEL = 12,
    MF_BOARD = 16,
    MF_REGION_COUNT = 18,
    MF_LAYER_COUNT = 19,
    MF_RESTART_MIN = 20,
    MF_RESTART_MAX = 24,
    MF_STACK_BYTES = 28,
    MF_POLITE = 32,
    MF_GRACE = 36,
    MF_CHECKIN = 40,
    MF_DEBUG_FLAGS = 44,
    MF_RESERVED_1 = 45,   /* 3 bytes */
    MF_DEBUG_KEY = 48,    /* 65 bytes */
    MF_RESERVED_2 = 113,  /* 3 bytes */
};

static bool all_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

/* Records a reason and returns err, so every failure is one `return fail(...)`. */
static bw_err fail(bw_manifest_diag *why, bw_err err, bw_manifest_error error, uint32_t index,
                   uint32_t other, uint32_t value, uint32_t limit)
{
    if (why != NULL) {
        memset(why, 0, sizeof *why);
        why->error = error;
        why->index = index;
        why->other = other;
        why->value = value;
        why->limit = limit;
    }
    return err;
}

static bw_err ok(bw_manifest_diag *why)
{
    if (why != NULL) {
        memset(why, 0, sizeof *why);
    }
    return BW_OK;
}

static size_t clamp_size(size_t len)
{
    return len > UINT32_MAX ? UINT32_MAX : len;
}

/* ---- container header ---- */

bw_err bw_bundle_parse_header(const uint8_t *bytes, size_t len, bw_bundle_layout *out,
                              bw_manifest_diag *why)
{
    if (bytes == NULL || out == NULL) {
        return fail(why, BW_E_INVALID, BW_MANIFEST_E_TRUNCATED, 0, 0, 0, BW_BUNDLE_HEADER_SIZE);
    }
    /* The magic is checked first so that garbage shorter than a header is named as such. */
    if (len >= 4 && bw_get32(bytes) != BW_BUNDLE_MAGIC) {
        return fail(why, BW_E_INVALID, BW_MANIFEST_E_BUNDLE_MAGIC, 0, 0, bw_get32(bytes), 0);
    }
    if (len < BW_BUNDLE_HEADER_SIZE) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_TRUNCATED, 0, 0, (uint32_t)len,
                    BW_BUNDLE_HEADER_SIZE);
    }
    uint16_t format = bw_get16(bytes + 4);
    uint16_t header_size = bw_get16(bytes + 6);
    uint32_t manifest_size = bw_get32(bytes + 8);
    uint32_t signature_size = bw_get32(bytes + 12);
    uint32_t bundle_size = bw_get32(bytes + 16);
    uint32_t reserved = bw_get32(bytes + 20);

    if (format != BW_BUNDLE_FORMAT_VERSION) {
        return fail(why, BW_E_VERSION, BW_MANIFEST_E_FORMAT_VERSION, 0, 0, format,
                    BW_BUNDLE_FORMAT_VERSION);
    }
    if (header_size != BW_BUNDLE_HEADER_SIZE) {
        return fail(why, BW_E_INVALID, BW_MANIFEST_E_HEADER_SIZE, 0, 0, header_size,
                    BW_BUNDLE_HEADER_SIZE);
    }
    if (reserved != 0) {
        return fail(why, BW_E_INVALID, BW_MANIFEST_E_HEADER_RESERVED, 20, 0, reserved, 0);
    }
    if (manifest_size < BW_MANIFEST_FIXED_SIZE || manifest_size > BW_MANIFEST_MAX_SIZE) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_MANIFEST_SIZE, 0, 0, manifest_size,
                    BW_MANIFEST_MAX_SIZE);
    }
    if (signature_size != BW_SIGNATURE_BLOCK_SIZE) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_SIGNATURE_SIZE, 0, 0, signature_size,
                    BW_SIGNATURE_BLOCK_SIZE);
    }
    uint32_t layers_offset = BW_BUNDLE_HEADER_SIZE + manifest_size + signature_size;
    if (bundle_size <= layers_offset) {
        /* A bundle has at least one non-empty layer. */
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_BUNDLE_SIZE, 0, 0, bundle_size,
                    layers_offset + 1);
    }
    out->manifest_offset = BW_BUNDLE_HEADER_SIZE;
    out->manifest_size = manifest_size;
    out->signature_offset = BW_BUNDLE_HEADER_SIZE + manifest_size;
    out->layers_offset = layers_offset;
    out->bundle_size = bundle_size;
    return ok(why);
}

/* ---- manifest ---- */

static bw_err parse_policies(const uint8_t *b, bw_manifest *m, bw_manifest_diag *why)
{
    m->crash.restart_min_ms = bw_get32(b + MF_RESTART_MIN);
    m->crash.restart_max_ms = bw_get32(b + MF_RESTART_MAX);
    m->crash.stack_bytes = bw_get32(b + MF_STACK_BYTES);
    m->update.polite_seconds = bw_get32(b + MF_POLITE);
    m->connectivity.grace_seconds = bw_get32(b + MF_GRACE);
    m->connectivity.min_checkin_seconds = bw_get32(b + MF_CHECKIN);

    if (m->crash.restart_max_ms > BW_RESTART_MS_MAX) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_RESTART_LIMIT, 0, 0, m->crash.restart_max_ms,
                    BW_RESTART_MS_MAX);
    }
    if (m->crash.restart_min_ms > m->crash.restart_max_ms) {
        return fail(why, BW_E_INVALID, BW_MANIFEST_E_RESTART_ORDER, 0, 0, m->crash.restart_min_ms,
                    m->crash.restart_max_ms);
    }
    if (m->crash.stack_bytes > BW_CRASH_STACK_BYTES_MAX || m->crash.stack_bytes % 4 != 0) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_STACK_BYTES, 0, 0, m->crash.stack_bytes,
                    BW_CRASH_STACK_BYTES_MAX);
    }
    if (m->update.polite_seconds > BW_POLITE_SECONDS_MAX) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_POLITE_LIMIT, 0, 0, m->update.polite_seconds,
                    BW_POLITE_SECONDS_MAX);
    }
    if (m->connectivity.grace_seconds > BW_CONNECTIVITY_SECONDS_MAX) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_GRACE_LIMIT, 0, 0,
                    m->connectivity.grace_seconds, BW_CONNECTIVITY_SECONDS_MAX);
    }
    if (m->connectivity.min_checkin_seconds > BW_CONNECTIVITY_SECONDS_MAX) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_CHECKIN_LIMIT, 0, 0,
                    m->connectivity.min_checkin_seconds, BW_CONNECTIVITY_SECONDS_MAX);
    }

    uint8_t flags = b[MF_DEBUG_FLAGS];
    if ((flags & ~BW_DEBUG_FLAG_DEBUGGABLE) != 0) {
        return fail(why, BW_E_INVALID, BW_MANIFEST_E_DEBUG_FLAGS, 0, 0, flags, 0);
    }
    m->debug.debuggable = (flags & BW_DEBUG_FLAG_DEBUGGABLE) != 0;
    const uint8_t *key = b + MF_DEBUG_KEY;
    /* Debuggable needs an uncompressed point; not debuggable needs no key at all. */
    if (m->debug.debuggable ? key[0] != 0x04 : !all_zero(key, BW_PUBLIC_KEY_SIZE)) {
        return fail(why, BW_E_INVALID, BW_MANIFEST_E_DEBUG_KEY, 0, 0, flags, 0);
    }
    memcpy(m->debug.public_key, key, BW_PUBLIC_KEY_SIZE);
    return BW_OK;
}

static bw_err parse_regions(const uint8_t *table, bw_manifest *m, bw_manifest_diag *why)
{
    for (unsigned i = 0; i < m->region_count; i++) {
        const uint8_t *e = table + i * BW_MANIFEST_REGION_ENTRY_SIZE;
        bw_manifest_region *r = &m->regions[i];
        r->id = e[0];
        r->size = bw_get32(e + 4);
        memcpy(r->measurement, e + 8, BW_SHA256_SIZE);
        uint32_t entry_offset = BW_MANIFEST_FIXED_SIZE + i * BW_MANIFEST_REGION_ENTRY_SIZE;
        if (!all_zero(e + 1, 3)) {
            return fail(why, BW_E_INVALID, BW_MANIFEST_E_RESERVED, entry_offset + 1, 0, 0, 0);
        }
        if (r->id != BW_REGION_APP_SLOT) {
            return fail(why, BW_E_INVALID, BW_MANIFEST_E_REGION_ID, i, 0, r->id, 0);
        }
        for (unsigned j = 0; j < i; j++) {
            if (m->regions[j].id == r->id) {
                return fail(why, BW_E_INVALID, BW_MANIFEST_E_REGION_DUPLICATE, j, i, r->id, 0);
            }
        }
        if (r->size == 0 || r->size > BW_REGION_SIZE_MAX || r->size % BW_REGION_SIZE_UNIT != 0) {
            return fail(why, BW_E_SIZE, BW_MANIFEST_E_REGION_SIZE, i, 0, r->size,
                        BW_REGION_SIZE_MAX);
        }
    }
    return BW_OK;
}

static const bw_manifest_region *find_region(const bw_manifest *m, uint8_t id)
{
    for (unsigned i = 0; i < m->region_count; i++) {
        if (m->regions[i].id == id) {
            return &m->regions[i];
        }
    }
    return NULL;
}

static bw_err parse_layers(const uint8_t *table, uint32_t table_offset, bw_manifest *m,
                           bw_manifest_diag *why)
{
    uint64_t data_offset = 0;
    for (unsigned i = 0; i < m->layer_count; i++) {
        const uint8_t *e = table + i * BW_MANIFEST_LAYER_ENTRY_SIZE;
        bw_manifest_layer *l = &m->layers[i];
        l->type = e[0];
        l->region = e[1];
        l->region_offset = bw_get32(e + 4);
        l->length = bw_get32(e + 8);
        memcpy(l->fetch_hash, e + 12, BW_SHA256_SIZE);
        if (!all_zero(e + 2, 2)) {
            return fail(why, BW_E_INVALID, BW_MANIFEST_E_RESERVED,
                        table_offset + i * BW_MANIFEST_LAYER_ENTRY_SIZE + 2, 0, 0, 0);
        }
        if (l->type != BW_LAYER_FULL) {
            return fail(why, BW_E_INVALID, BW_MANIFEST_E_LAYER_TYPE, i, 0, l->type, 0);
        }
        const bw_manifest_region *r = find_region(m, l->region);
        if (r == NULL) {
            return fail(why, BW_E_INVALID, BW_MANIFEST_E_LAYER_REGION, i, 0, l->region, 0);
        }
        if (l->length == 0) {
            return fail(why, BW_E_SIZE, BW_MANIFEST_E_LAYER_EMPTY, i, 0, 0, 0);
        }
        uint64_t end = (uint64_t)l->region_offset + l->length;
        if (end > r->size) {
            return fail(why, BW_E_SIZE, BW_MANIFEST_E_LAYER_OUTSIDE, i, 0,
                        end > UINT32_MAX ? UINT32_MAX : (uint32_t)end, r->size);
        }
        for (unsigned j = 0; j < i; j++) {
            const bw_manifest_layer *p = &m->layers[j];
            if (p->region == l->region && p->region_offset < end
                && l->region_offset < (uint64_t)p->region_offset + p->length) {
                return fail(why, BW_E_INVALID, BW_MANIFEST_E_LAYER_OVERLAP, j, i, 0, 0);
            }
        }
        /* Non-overlapping layers inside regions of at most 16 MiB: the sum stays small. */
        l->data_offset = (uint32_t)data_offset;
        data_offset += l->length;
    }
    m->layer_data_size = (uint32_t)data_offset;
    return BW_OK;
}

bw_err bw_manifest_parse(const uint8_t *bytes, size_t len, bw_manifest *out,
                         bw_manifest_diag *why)
{
    if (bytes == NULL || out == NULL) {
        return fail(why, BW_E_INVALID, BW_MANIFEST_E_TRUNCATED, 0, 0, 0, BW_MANIFEST_FIXED_SIZE);
    }
    if (len >= 4 && bw_get32(bytes) != BW_MANIFEST_MAGIC) {
        return fail(why, BW_E_INVALID, BW_MANIFEST_E_MANIFEST_MAGIC, 0, 0, bw_get32(bytes), 0);
    }
    if (len >= 6 && bw_get16(bytes + MF_VERSION) != BW_MANIFEST_VERSION) {
        return fail(why, BW_E_VERSION, BW_MANIFEST_E_MANIFEST_VERSION, 0, 0,
                    bw_get16(bytes + MF_VERSION), BW_MANIFEST_VERSION);
    }
    if (len < BW_MANIFEST_FIXED_SIZE) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_TRUNCATED, 0, 0, (uint32_t)clamp_size(len),
                    BW_MANIFEST_FIXED_SIZE);
    }
    if (len > BW_MANIFEST_MAX_SIZE) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_MANIFEST_SIZE, 0, 0, (uint32_t)clamp_size(len),
                    BW_MANIFEST_MAX_SIZE);
    }
    memset(out, 0, sizeof *out);
    out->version = BW_MANIFEST_VERSION;
    out->size = bw_get16(bytes + MF_SIZE);
    if (out->size != len) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_MANIFEST_LENGTH, 0, 0, out->size, (uint32_t)len);
    }
    out->app_version = bw_get32(bytes + MF_APP_VERSION);
    out->min_kernel_version = bw_get32(bytes + MF_MIN_KERNEL);
    out->board = bw_get16(bytes + MF_BOARD);
    out->region_count = bytes[MF_REGION_COUNT];
    out->layer_count = bytes[MF_LAYER_COUNT];

    if (bw_manifest_board_name(out->board) == NULL) {
        return fail(why, BW_E_INVALID, BW_MANIFEST_E_BOARD, 0, 0, out->board, 0);
    }
    if (out->region_count == 0 || out->region_count > BW_MANIFEST_MAX_REGIONS) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_REGION_COUNT, 0, 0, out->region_count,
                    BW_MANIFEST_MAX_REGIONS);
    }
    if (out->layer_count == 0 || out->layer_count > BW_MANIFEST_MAX_LAYERS) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_LAYER_COUNT, 0, 0, out->layer_count,
                    BW_MANIFEST_MAX_LAYERS);
    }
    uint32_t layer_table =
        BW_MANIFEST_FIXED_SIZE + out->region_count * BW_MANIFEST_REGION_ENTRY_SIZE;
    uint32_t expected = layer_table + out->layer_count * BW_MANIFEST_LAYER_ENTRY_SIZE;
    if (expected != len) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_MANIFEST_LENGTH, 0, 0, expected, (uint32_t)len);
    }
    if (!all_zero(bytes + MF_RESERVED_1, 3)) {
        return fail(why, BW_E_INVALID, BW_MANIFEST_E_RESERVED, MF_RESERVED_1, 0, 0, 0);
    }
    if (!all_zero(bytes + MF_RESERVED_2, 3)) {
        return fail(why, BW_E_INVALID, BW_MANIFEST_E_RESERVED, MF_RESERVED_2, 0, 0, 0);
    }
    bw_err err = parse_policies(bytes, out, why);
    if (err == BW_OK) {
        err = parse_regions(bytes + BW_MANIFEST_FIXED_SIZE, out, why);
    }
    if (err == BW_OK) {
        err = parse_layers(bytes + layer_table, layer_table, out, why);
    }
    return err == BW_OK ? ok(why) : err;
}

/* ---- signature block and the whole head ---- */

bw_err bw_signature_parse(const uint8_t *bytes, size_t len, bw_signature_block *out,
                          bw_manifest_diag *why)
{
    if (bytes == NULL || out == NULL || len < BW_SIGNATURE_BLOCK_SIZE) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_TRUNCATED, 0, 0, (uint32_t)clamp_size(len),
                    BW_SIGNATURE_BLOCK_SIZE);
    }
    if (len != BW_SIGNATURE_BLOCK_SIZE) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_SIGNATURE_SIZE, 0, 0, (uint32_t)clamp_size(len),
                    BW_SIGNATURE_BLOCK_SIZE);
    }
    out->algorithm = bw_get16(bytes);
    if (out->algorithm != BW_SIGNATURE_ALG_ECDSA_P256_SHA256) {
        return fail(why, BW_E_VERSION, BW_MANIFEST_E_SIGNATURE_ALG, 0, 0, out->algorithm,
                    BW_SIGNATURE_ALG_ECDSA_P256_SHA256);
    }
    if (bw_get16(bytes + 2) != 0) {
        return fail(why, BW_E_INVALID, BW_MANIFEST_E_SIGNATURE_RESERVED, 0, 0,
                    bw_get16(bytes + 2), 0);
    }
    memcpy(out->key_id, bytes + 4, BW_KEY_ID_SIZE);
    memcpy(out->signature, bytes + 12, BW_SIGNATURE_SIZE);
    return ok(why);
}

bw_err bw_bundle_open(const uint8_t *bytes, size_t len, bw_bundle_layout *layout,
                      bw_manifest *manifest, bw_signature_block *signature,
                      bw_manifest_diag *why)
{
    if (layout == NULL || manifest == NULL || signature == NULL) {
        return fail(why, BW_E_INVALID, BW_MANIFEST_E_TRUNCATED, 0, 0, 0, BW_BUNDLE_HEADER_SIZE);
    }
    bw_err err = bw_bundle_parse_header(bytes, len, layout, why);
    if (err != BW_OK) {
        return err;
    }
    if (len < layout->layers_offset) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_TRUNCATED, 0, 0, (uint32_t)len,
                    layout->layers_offset);
    }
    err = bw_manifest_parse(bytes + layout->manifest_offset, layout->manifest_size, manifest, why);
    if (err != BW_OK) {
        return err;
    }
    err = bw_signature_parse(bytes + layout->signature_offset, BW_SIGNATURE_BLOCK_SIZE, signature,
                             why);
    if (err != BW_OK) {
        return err;
    }
    uint64_t expected = (uint64_t)layout->layers_offset + manifest->layer_data_size;
    if (layout->bundle_size != expected) {
        return fail(why, BW_E_SIZE, BW_MANIFEST_E_BUNDLE_SIZE, 0, 0, layout->bundle_size,
                    expected > UINT32_MAX ? UINT32_MAX : (uint32_t)expected);
    }
    return ok(why);
}

uint32_t bw_bundle_layer_file_offset(const bw_bundle_layout *layout, const bw_manifest *m,
                                     unsigned index)
{
    return layout->layers_offset + m->layers[index].data_offset;
}

/* ---- encoding ---- */

size_t bw_manifest_encode(const bw_manifest *m, uint8_t *out, size_t size)
{
    if (m->region_count > BW_MANIFEST_MAX_REGIONS || m->layer_count > BW_MANIFEST_MAX_LAYERS) {
        return 0;
    }
    size_t layer_table = BW_MANIFEST_FIXED_SIZE + m->region_count * BW_MANIFEST_REGION_ENTRY_SIZE;
    size_t total = layer_table + m->layer_count * BW_MANIFEST_LAYER_ENTRY_SIZE;
    if (out == NULL || size < total) {
        return 0;
    }
    memset(out, 0, total);
    bw_put32(out + MF_MAGIC, BW_MANIFEST_MAGIC);
    bw_put16(out + MF_VERSION, BW_MANIFEST_VERSION);
    bw_put16(out + MF_SIZE, (uint16_t)total);
    bw_put32(out + MF_APP_VERSION, m->app_version);
    bw_put32(out + MF_MIN_KERNEL, m->min_kernel_version);
    bw_put16(out + MF_BOARD, m->board);
    out[MF_REGION_COUNT] = m->region_count;
    out[MF_LAYER_COUNT] = m->layer_count;
    bw_put32(out + MF_RESTART_MIN, m->crash.restart_min_ms);
    bw_put32(out + MF_RESTART_MAX, m->crash.restart_max_ms);
    bw_put32(out + MF_STACK_BYTES, m->crash.stack_bytes);
    bw_put32(out + MF_POLITE, m->update.polite_seconds);
    bw_put32(out + MF_GRACE, m->connectivity.grace_seconds);
    bw_put32(out + MF_CHECKIN, m->connectivity.min_checkin_seconds);
    out[MF_DEBUG_FLAGS] = m->debug.debuggable ? BW_DEBUG_FLAG_DEBUGGABLE : 0;
    memcpy(out + MF_DEBUG_KEY, m->debug.public_key, BW_PUBLIC_KEY_SIZE);
    for (unsigned i = 0; i < m->region_count; i++) {
        uint8_t *e = out + BW_MANIFEST_FIXED_SIZE + i * BW_MANIFEST_REGION_ENTRY_SIZE;
        e[0] = m->regions[i].id;
        bw_put32(e + 4, m->regions[i].size);
        memcpy(e + 8, m->regions[i].measurement, BW_SHA256_SIZE);
    }
    for (unsigned i = 0; i < m->layer_count; i++) {
        uint8_t *e = out + layer_table + i * BW_MANIFEST_LAYER_ENTRY_SIZE;
        e[0] = m->layers[i].type;
        e[1] = m->layers[i].region;
        bw_put32(e + 4, m->layers[i].region_offset);
        bw_put32(e + 8, m->layers[i].length);
        memcpy(e + 12, m->layers[i].fetch_hash, BW_SHA256_SIZE);
    }
    return total;
}

void bw_bundle_encode_header(uint32_t manifest_size, uint32_t bundle_size,
                             uint8_t out[BW_BUNDLE_HEADER_SIZE])
{
    memset(out, 0, BW_BUNDLE_HEADER_SIZE);
    bw_put32(out, BW_BUNDLE_MAGIC);
    bw_put16(out + 4, BW_BUNDLE_FORMAT_VERSION);
    bw_put16(out + 6, BW_BUNDLE_HEADER_SIZE);
    bw_put32(out + 8, manifest_size);
    bw_put32(out + 12, BW_SIGNATURE_BLOCK_SIZE);
    bw_put32(out + 16, bundle_size);
}

void bw_signature_encode(const bw_signature_block *sig, uint8_t out[BW_SIGNATURE_BLOCK_SIZE])
{
    memset(out, 0, BW_SIGNATURE_BLOCK_SIZE);
    bw_put16(out, sig->algorithm);
    memcpy(out + 4, sig->key_id, BW_KEY_ID_SIZE);
    memcpy(out + 12, sig->signature, BW_SIGNATURE_SIZE);
}

/* ---- crypto ---- */

bw_err bw_manifest_key_id(const uint8_t public_key[BW_PUBLIC_KEY_SIZE],
                          uint8_t key_id[BW_KEY_ID_SIZE])
{
    uint8_t digest[BW_SHA256_SIZE];
    if (mbedtls_sha256(public_key, BW_PUBLIC_KEY_SIZE, digest, 0) != 0) {
        return BW_E_IO;
    }
    memcpy(key_id, digest, BW_KEY_ID_SIZE);
    return BW_OK;
}

bw_err bw_manifest_signing_hash_read(bw_region_read_fn read_fn, void *context, uint32_t len,
                                     uint8_t *scratch, size_t scratch_len,
                                     uint8_t hash[BW_SHA256_SIZE])
{
    if (read_fn == NULL || scratch == NULL || scratch_len == 0) {
        return BW_E_INVALID;
    }
    mbedtls_sha256_context sha;
    mbedtls_sha256_init(&sha);
    bw_err err = BW_OK;
    int rc = mbedtls_sha256_starts(&sha, 0);
    if (rc == 0) {
        rc = mbedtls_sha256_update(&sha, (const unsigned char *)BW_MANIFEST_SIGNING_PREFIX,
                                       BW_MANIFEST_SIGNING_PREFIX_SIZE);
    }
    for (uint32_t done = 0; rc == 0 && err == BW_OK && done < len;) {
        uint32_t n = len - done < scratch_len ? len - done : (uint32_t)scratch_len;
        err = read_fn(context, done, scratch, n);
        if (err == BW_OK) {
            rc = mbedtls_sha256_update(&sha, scratch, n);
        }
        done += n;
    }
    if (rc == 0 && err == BW_OK) {
        rc = mbedtls_sha256_finish(&sha, hash);
    }
    mbedtls_sha256_free(&sha);
    return err != BW_OK ? err : rc == 0 ? BW_OK : BW_E_IO;
}

/* Reads a manifest held in memory (bw_manifest_signing_hash). */
static bw_err memory_read(void *context, uint32_t offset, uint8_t *buf, uint32_t len)
{
    memcpy(buf, (const uint8_t *)context + offset, len);
    return BW_OK;
}

bw_err bw_manifest_signing_hash(const uint8_t *manifest, size_t len,
                                uint8_t hash[BW_SHA256_SIZE])
{
    uint8_t scratch[64];
    if (len > UINT32_MAX) {
        return BW_E_SIZE;
    }
    return bw_manifest_signing_hash_read(memory_read, (void *)(uintptr_t)manifest, (uint32_t)len,
                                         scratch, sizeof scratch, hash);
}

/* p256-m (also compiled into bw_p256_verify.c) draws randomness through
 * PSA's psa_generate_random, but only to sign or make keys, which Bulwark's
 * verifier never does (and there is no PSA core in the secure world). Weak:
 * the kernel's debug session makes ephemeral keys, so the kernel links a
 * real one (kernel/psa_random.c), and so may a host test that signs with
 * p256-m. */
__attribute__((weak)) psa_status_t psa_generate_random(uint8_t *output, size_t output_size)
{
    (void)output;
    (void)output_size;
    return PSA_ERROR_NOT_SUPPORTED;
}

bool bw_manifest_public_key_valid(const uint8_t public_key[BW_PUBLIC_KEY_SIZE])
{
    return public_key[0] == 0x04 && bw_p256_key_valid(public_key + 1);
}

bw_manifest_error bw_manifest_ecdsa_check(const uint8_t public_key[BW_PUBLIC_KEY_SIZE],
                                          const uint8_t hash[BW_SHA256_SIZE],
                                          const uint8_t signature[BW_SIGNATURE_SIZE])
{
    if (!bw_manifest_public_key_valid(public_key)) {
        return BW_MANIFEST_E_TRUSTED_KEY;
    }
    switch (bw_p256_verify(signature, public_key + 1, hash)) {
    case BW_P256_OK:
        return BW_MANIFEST_OK;
    case BW_P256_BAD_KEY:
        return BW_MANIFEST_E_TRUSTED_KEY;
    default:
        return BW_MANIFEST_E_BAD_SIGNATURE;
    }
}

bw_err bw_manifest_verify_signature(const uint8_t *manifest, size_t len,
                                    const bw_signature_block *signature,
                                    const bw_trusted_key *keys, size_t key_count,
                                    bw_manifest_diag *why)
{
    if (manifest == NULL || signature == NULL || (keys == NULL && key_count > 0)) {
        return fail(why, BW_E_INVALID, BW_MANIFEST_E_CRYPTO, 0, 0, 0, 0);
    }
    if (signature->algorithm != BW_SIGNATURE_ALG_ECDSA_P256_SHA256) {
        return fail(why, BW_E_VERSION, BW_MANIFEST_E_SIGNATURE_ALG, 0, 0, signature->algorithm,
                    BW_SIGNATURE_ALG_ECDSA_P256_SHA256);
    }
    const bw_trusted_key *key = NULL;
    size_t key_index = 0;
    for (size_t i = 0; i < key_count && key == NULL; i++) {
        uint8_t id[BW_KEY_ID_SIZE];
        if (bw_manifest_key_id(keys[i].public_key, id) != BW_OK) {
            return fail(why, BW_E_IO, BW_MANIFEST_E_CRYPTO, 0, 0, 0, 0);
        }
        if (memcmp(id, signature->key_id, BW_KEY_ID_SIZE) == 0) {
            key = &keys[i];
            key_index = i;
        }
    }
    if (key == NULL) {
        fail(why, BW_E_DENIED, BW_MANIFEST_E_UNKNOWN_KEY, 0, 0, 0, 0);
        if (why != NULL) {
            memcpy(why->key_id, signature->key_id, BW_KEY_ID_SIZE);
        }
        return BW_E_DENIED;
    }
    uint8_t hash[BW_SHA256_SIZE];
    if (bw_manifest_signing_hash(manifest, len, hash) != BW_OK) {
        return fail(why, BW_E_IO, BW_MANIFEST_E_CRYPTO, 0, 0, 0, 0);
    }
    bw_manifest_error result = bw_manifest_ecdsa_check(key->public_key, hash, signature->signature);
    if (result == BW_MANIFEST_OK) {
        return ok(why);
    }
    bw_err err = result == BW_MANIFEST_E_CRYPTO        ? BW_E_FULL
                 : result == BW_MANIFEST_E_TRUSTED_KEY ? BW_E_INVALID
                                                       : BW_E_DENIED;
    fail(why, err, result, (uint32_t)key_index, 0, 0, 0);
    if (why != NULL) {
        memcpy(why->key_id, signature->key_id, BW_KEY_ID_SIZE);
    }
    return err;
}

bw_err bw_manifest_check_layer_hash(const bw_manifest *m, unsigned index,
                                    const uint8_t digest[BW_SHA256_SIZE], bw_manifest_diag *why)
{
    if (index >= m->layer_count) {
        return fail(why, BW_E_INVALID, BW_MANIFEST_E_LAYER_INDEX, index, 0, 0, m->layer_count);
    }
    if (memcmp(digest, m->layers[index].fetch_hash, BW_SHA256_SIZE) != 0) {
        return fail(why, BW_E_DENIED, BW_MANIFEST_E_LAYER_HASH, index, 0, 0, 0);
    }
    return ok(why);
}

bw_err bw_region_measure(bw_region_read_fn read_fn, void *context, uint32_t size,
                         uint8_t *scratch, size_t scratch_len, uint8_t digest[BW_SHA256_SIZE])
{
    if (read_fn == NULL || scratch == NULL || scratch_len == 0) {
        return BW_E_INVALID;
    }
    mbedtls_sha256_context sha;
    mbedtls_sha256_init(&sha);
    bw_err err = mbedtls_sha256_starts(&sha, 0) == 0 ? BW_OK : BW_E_IO;
    for (uint32_t done = 0; err == BW_OK && done < size;) {
        uint32_t chunk = size - done < scratch_len ? size - done : (uint32_t)scratch_len;
        err = read_fn(context, done, scratch, chunk);
        if (err == BW_OK && mbedtls_sha256_update(&sha, scratch, chunk) != 0) {
            err = BW_E_IO;
        }
        done += chunk;
    }
    if (err == BW_OK && mbedtls_sha256_finish(&sha, digest) != 0) {
        err = BW_E_IO;
    }
    mbedtls_sha256_free(&sha);
    return err;
}

bw_err bw_manifest_check_measurement(const bw_manifest *m, unsigned index,
                                     const uint8_t digest[BW_SHA256_SIZE], bw_manifest_diag *why)
{
    if (index >= m->region_count) {
        return fail(why, BW_E_INVALID, BW_MANIFEST_E_MEASUREMENT, index, 0, 0, 0);
    }
    if (memcmp(digest, m->regions[index].measurement, BW_SHA256_SIZE) != 0) {
        return fail(why, BW_E_DENIED, BW_MANIFEST_E_MEASUREMENT, index, 0, 0, 0);
    }
    return ok(why);
}

/* ---- device policy ---- */

bw_err bw_manifest_check_device(const bw_manifest *m, uint16_t board, uint32_t kernel_version,
                                uint32_t app_slot_size, bw_manifest_diag *why)
{
    if (m->board != board) {
        return fail(why, BW_E_DENIED, BW_MANIFEST_E_BOARD_MISMATCH, 0, 0, m->board, board);
    }
    if (m->min_kernel_version > kernel_version) {
        return fail(why, BW_E_DENIED, BW_MANIFEST_E_KERNEL_TOO_OLD, 0, 0, m->min_kernel_version,
                    kernel_version);
    }
    for (unsigned i = 0; i < m->region_count; i++) {
        if (m->regions[i].id == BW_REGION_APP_SLOT && m->regions[i].size != app_slot_size) {
            return fail(why, BW_E_SIZE, BW_MANIFEST_E_REGION_MISMATCH, i, 0, m->regions[i].size,
                        app_slot_size);
        }
    }
    return ok(why);
}

bw_err bw_manifest_check_rollback(const bw_manifest *m, uint32_t floor, bw_manifest_diag *why)
{
    if (m->app_version < floor) {
        return fail(why, BW_E_DENIED, BW_MANIFEST_E_ROLLBACK, 0, 0, m->app_version, floor);
    }
    return ok(why);
}

/* ---- text ---- */

const char *bw_manifest_board_name(uint16_t board)
{
    switch (board) {
    case BW_BOARD_QEMU_AN505:
        return "qemu-an505";
    case BW_BOARD_STM32U585:
        return "stm32u585";
    default:
        return NULL;
    }
}

static const char *const error_texts[BW_MANIFEST_E_COUNT] = {
    [BW_MANIFEST_OK] = "ok",
    [BW_MANIFEST_E_TRUNCATED] = "bundle is truncated",
    [BW_MANIFEST_E_TRAILING_DATA] = "bundle has bytes after its last layer",
    [BW_MANIFEST_E_BUNDLE_MAGIC] = "not a Bulwark bundle (bad magic)",
    [BW_MANIFEST_E_FORMAT_VERSION] = "unsupported bundle format version",
    [BW_MANIFEST_E_HEADER_SIZE] = "bundle header size is wrong",
    [BW_MANIFEST_E_HEADER_RESERVED] = "bundle header reserved field is not zero",
    [BW_MANIFEST_E_MANIFEST_SIZE] = "manifest size out of range",
    [BW_MANIFEST_E_SIGNATURE_SIZE] = "signature block size is wrong",
    [BW_MANIFEST_E_BUNDLE_SIZE] = "bundle size disagrees with its layers",
    [BW_MANIFEST_E_MANIFEST_MAGIC] = "manifest has a bad magic",
    [BW_MANIFEST_E_MANIFEST_VERSION] = "unsupported manifest version",
    [BW_MANIFEST_E_MANIFEST_LENGTH] = "manifest length is inconsistent",
    [BW_MANIFEST_E_RESERVED] = "manifest reserved field is not zero",
    [BW_MANIFEST_E_BOARD] = "unknown target board",
    [BW_MANIFEST_E_REGION_COUNT] = "region count out of range",
    [BW_MANIFEST_E_REGION_ID] = "unknown region id",
    [BW_MANIFEST_E_REGION_DUPLICATE] = "region listed twice",
    [BW_MANIFEST_E_REGION_SIZE] = "region size out of range",
    [BW_MANIFEST_E_LAYER_COUNT] = "layer count out of range",
    [BW_MANIFEST_E_LAYER_TYPE] = "unknown layer type",
    [BW_MANIFEST_E_LAYER_REGION] = "layer targets an undefined region",
    [BW_MANIFEST_E_LAYER_EMPTY] = "layer is empty",
    [BW_MANIFEST_E_LAYER_OUTSIDE] = "layer extends past the end of its region",
    [BW_MANIFEST_E_LAYER_OVERLAP] = "layers overlap",
    [BW_MANIFEST_E_RESTART_ORDER] = "crash restart minimum delay exceeds the maximum",
    [BW_MANIFEST_E_RESTART_LIMIT] = "crash restart delay too long",
    [BW_MANIFEST_E_STACK_BYTES] = "crash report stack bytes out of range",
    [BW_MANIFEST_E_DEBUG_FLAGS] = "unknown debug policy flags",
    [BW_MANIFEST_E_DEBUG_KEY] = "debug key does not match the debuggable flag",
    [BW_MANIFEST_E_POLITE_LIMIT] = "polite-update window too long",
    [BW_MANIFEST_E_GRACE_LIMIT] = "connectivity grace too long",
    [BW_MANIFEST_E_CHECKIN_LIMIT] = "minimum check-in interval too long",
    [BW_MANIFEST_E_SIGNATURE_ALG] = "unsupported signature algorithm",
    [BW_MANIFEST_E_SIGNATURE_RESERVED] = "signature block reserved field is not zero",
    [BW_MANIFEST_E_UNKNOWN_KEY] = "signed by an unknown key",
    [BW_MANIFEST_E_BAD_SIGNATURE] = "bad signature",
    [BW_MANIFEST_E_TRUSTED_KEY] = "trusted key is not a valid P-256 public key",
    [BW_MANIFEST_E_CRYPTO] = "crypto check could not run (mbedTLS failure or out of memory)",
    [BW_MANIFEST_E_BOARD_MISMATCH] = "bundle is for another board",
    [BW_MANIFEST_E_KERNEL_TOO_OLD] = "bundle needs a newer kernel",
    [BW_MANIFEST_E_REGION_MISMATCH] = "region size differs from the device's",
    [BW_MANIFEST_E_ROLLBACK] = "app version is older than allowed (anti-rollback)",
    [BW_MANIFEST_E_LAYER_INDEX] = "no such layer",
    [BW_MANIFEST_E_LAYER_HASH] = "layer bytes do not match its fetch hash",
    [BW_MANIFEST_E_MEASUREMENT] = "installed region does not match its measurement",
};

const char *bw_manifest_error_text(bw_manifest_error error)
{
    if ((unsigned)error >= BW_MANIFEST_E_COUNT || error_texts[error] == NULL) {
        return "unknown manifest error";
    }
    return error_texts[error];
}

/* A key ID as lowercase hex, into s. */
static const char *key_id_text(char s[2 * BW_KEY_ID_SIZE + 1], const uint8_t id[BW_KEY_ID_SIZE])
{
    for (unsigned i = 0; i < BW_KEY_ID_SIZE; i++) {
        (void)bw_format(s + 2 * i, 3, "%02x", id[i]);
    }
    return s;
}

/* A board's name, or "board N" for an ID this reader does not know, into s. */
static const char *board_text(char s[24], uint32_t board)
{
    const char *name = board <= UINT16_MAX ? bw_manifest_board_name((uint16_t)board) : NULL;
    if (name != NULL) {
        (void)bw_format(s, 24, "%s", name);
    } else {
        (void)bw_format(s, 24, "board %lu", (unsigned long)board);
    }
    return s;
}

size_t bw_manifest_describe(const bw_manifest_diag *why, char *out, size_t size)
{
    if (size > 0) {
        out[0] = '\0';
    }
    if (why == NULL) {
        return 0;
    }
    const uint32_t v = why->value, lim = why->limit;
    char key[2 * BW_KEY_ID_SIZE + 1];
    char board[2][24];
    size_t n = 0;
    switch (why->error) {
    case BW_MANIFEST_E_TRUNCATED:
        n = bw_format(out, size, "bundle is truncated: %lu bytes where at least %lu are needed",
                      (unsigned long)v, (unsigned long)lim);
        break;
    case BW_MANIFEST_E_TRAILING_DATA:
        n = bw_format(out, size, "bundle has %lu bytes after its last layer (the header says %lu bytes)",
                      (unsigned long)(v - lim), (unsigned long)lim);
        break;
    case BW_MANIFEST_E_BUNDLE_MAGIC:
        n = bw_format(out, size, "not a Bulwark bundle (bad magic 0x%lx)", (unsigned long)v);
        break;
    case BW_MANIFEST_E_FORMAT_VERSION:
        n = bw_format(out, size, "bundle format version %lu is not supported (this reader knows 1)",
                      (unsigned long)v);
        break;
    case BW_MANIFEST_E_HEADER_SIZE:
        n = bw_format(out, size, "bundle header size %lu is wrong (expected 24)", (unsigned long)v);
        break;
    case BW_MANIFEST_E_MANIFEST_SIZE:
        n = bw_format(out, size, "manifest size %lu is out of range (%lu to %lu bytes)",
                      (unsigned long)v, (unsigned long)BW_MANIFEST_FIXED_SIZE, (unsigned long)lim);
        break;
    case BW_MANIFEST_E_SIGNATURE_SIZE:
        n = bw_format(out, size, "signature block size %lu is wrong (expected 76)", (unsigned long)v);
        break;
    case BW_MANIFEST_E_BUNDLE_SIZE:
        n = bw_format(out, size, "bundle size %lu in the header disagrees with its layers (%lu bytes)",
                      (unsigned long)v, (unsigned long)lim);
        break;
    case BW_MANIFEST_E_MANIFEST_VERSION:
        n = bw_format(out, size, "manifest version %lu is not supported (this reader knows 1)",
                      (unsigned long)v);
        break;
    case BW_MANIFEST_E_MANIFEST_LENGTH:
        n = bw_format(out, size, "manifest length is inconsistent (%lu bytes stated or implied, %lu present)",
                      (unsigned long)v, (unsigned long)lim);
        break;
    case BW_MANIFEST_E_RESERVED:
        n = bw_format(out, size, "manifest reserved field at byte %lu is not zero",
                      (unsigned long)why->index);
        break;
    case BW_MANIFEST_E_BOARD:
        n = bw_format(out, size, "unknown target board id %lu", (unsigned long)v);
        break;
    case BW_MANIFEST_E_REGION_COUNT:
        n = bw_format(out, size, "region count %lu is out of range (1 to %lu)",
                      (unsigned long)v, (unsigned long)lim);
        break;
    case BW_MANIFEST_E_REGION_ID:
        n = bw_format(out, size, "region %lu has unknown id %lu",
                      (unsigned long)why->index, (unsigned long)v);
        break;
    case BW_MANIFEST_E_REGION_DUPLICATE:
        n = bw_format(out, size, "regions %lu and %lu name the same region",
                      (unsigned long)why->index, (unsigned long)why->other);
        break;
    case BW_MANIFEST_E_REGION_SIZE:
        n = bw_format(out, size, "region %lu size %lu is out of range (a non-zero multiple of 4096, at most "
                      "%lu)",
                      (unsigned long)why->index, (unsigned long)v, (unsigned long)lim);
        break;
    case BW_MANIFEST_E_LAYER_COUNT:
        n = bw_format(out, size, "layer count %lu is out of range (1 to %lu)",
                      (unsigned long)v, (unsigned long)lim);
        break;
    case BW_MANIFEST_E_LAYER_TYPE:
        n = bw_format(out, size, "layer %lu has unknown type %lu",
                      (unsigned long)why->index, (unsigned long)v);
        break;
    case BW_MANIFEST_E_LAYER_REGION:
        n = bw_format(out, size, "layer %lu targets region %lu, which the manifest does not define",
                      (unsigned long)why->index, (unsigned long)v);
        break;
    case BW_MANIFEST_E_LAYER_EMPTY:
        n = bw_format(out, size, "layer %lu is empty", (unsigned long)why->index);
        break;
    case BW_MANIFEST_E_LAYER_OUTSIDE:
        n = bw_format(out, size, "layer %lu extends past the end of its region (ends at 0x%lx, region is "
                      "0x%lx bytes)",
                      (unsigned long)why->index, (unsigned long)v, (unsigned long)lim);
        break;
    case BW_MANIFEST_E_LAYER_OVERLAP:
        n = bw_format(out, size, "layers %lu and %lu overlap",
                      (unsigned long)why->index, (unsigned long)why->other);
        break;
    case BW_MANIFEST_E_RESTART_ORDER:
        n = bw_format(out, size, "crash restart minimum %lu ms exceeds the maximum %lu ms",
                      (unsigned long)v, (unsigned long)lim);
        break;
    case BW_MANIFEST_E_RESTART_LIMIT:
        n = bw_format(out, size, "crash restart maximum %lu ms is too long (at most %lu ms)",
                      (unsigned long)v, (unsigned long)lim);
        break;
    case BW_MANIFEST_E_STACK_BYTES:
        n = bw_format(out, size, "crash report stack bytes %lu out of range (a multiple of 4, at most %lu)",
                      (unsigned long)v, (unsigned long)lim);
        break;
    case BW_MANIFEST_E_DEBUG_FLAGS:
        n = bw_format(out, size, "unknown debug policy flags 0x%lx", (unsigned long)v);
        break;
    case BW_MANIFEST_E_DEBUG_KEY:
        n = bw_format(out, size, "%s",
                      (v & BW_DEBUG_FLAG_DEBUGGABLE) != 0
                          ? "debuggable but the debug key is not an uncompressed P-256 key"
                          : "not debuggable but a debug key is present");
        break;
    case BW_MANIFEST_E_POLITE_LIMIT:
        n = bw_format(out, size, "polite-update window %lu s is too long (at most %lu s)",
                      (unsigned long)v, (unsigned long)lim);
        break;
    case BW_MANIFEST_E_GRACE_LIMIT:
        n = bw_format(out, size, "connectivity grace %lu s is too long (at most %lu s)",
                      (unsigned long)v, (unsigned long)lim);
        break;
    case BW_MANIFEST_E_CHECKIN_LIMIT:
        n = bw_format(out, size, "minimum check-in interval %lu s is too long (at most %lu s)",
                      (unsigned long)v, (unsigned long)lim);
        break;
    case BW_MANIFEST_E_SIGNATURE_ALG:
        n = bw_format(out, size, "signature algorithm %lu is not supported (this reader knows 1)",
                      (unsigned long)v);
        break;
    case BW_MANIFEST_E_UNKNOWN_KEY:
        n = bw_format(out, size, "unknown key: the bundle is signed by key id %s, which is not trusted",
                      key_id_text(key, why->key_id));
        break;
    case BW_MANIFEST_E_BAD_SIGNATURE:
        n = bw_format(out, size, "bad signature: the manifest does not verify with key id %s",
                      key_id_text(key, why->key_id));
        break;
    case BW_MANIFEST_E_TRUSTED_KEY:
        n = bw_format(out, size, "trusted key %lu is not a valid P-256 public key",
                      (unsigned long)why->index);
        break;
    case BW_MANIFEST_E_BOARD_MISMATCH:
        n = bw_format(out, size, "bundle is for %s, this device is %s",
                      board_text(board[0], v), board_text(board[1], lim));
        break;
    case BW_MANIFEST_E_KERNEL_TOO_OLD:
        n = bw_format(out, size, "bundle needs kernel %lu.%lu.%lu or newer, this kernel is %lu.%lu.%lu",
                      (unsigned long)(v >> 24), (unsigned long)((v >> 16) & 0xFFu),
                      (unsigned long)(v & 0xFFFFu), (unsigned long)(lim >> 24),
                      (unsigned long)((lim >> 16) & 0xFFu), (unsigned long)(lim & 0xFFFFu));
        break;
    case BW_MANIFEST_E_REGION_MISMATCH:
        n = bw_format(out, size, "region %lu is %lu bytes, the device's is %lu",
                      (unsigned long)why->index, (unsigned long)v, (unsigned long)lim);
        break;
    case BW_MANIFEST_E_ROLLBACK:
        n = bw_format(out, size, "app version %lu is older than the minimum %lu (anti-rollback)",
                      (unsigned long)v, (unsigned long)lim);
        break;
    case BW_MANIFEST_E_LAYER_INDEX:
        n = bw_format(out, size, "no layer %lu (the manifest has %lu)",
                      (unsigned long)why->index, (unsigned long)lim);
        break;
    case BW_MANIFEST_E_LAYER_HASH:
        n = bw_format(out, size, "layer %lu was tampered with: its bytes do not match its fetch hash",
                      (unsigned long)why->index);
        break;
    case BW_MANIFEST_E_MEASUREMENT:
        n = bw_format(out, size, "region %lu does not match its measurement hash", (unsigned long)why->index);
        break;
    default:
        n = bw_format(out, size, "%s", bw_manifest_error_text(why->error));
        break;
    }
    return n < size ? n : (size > 0 ? size - 1 : 0);   /* the length written */
}