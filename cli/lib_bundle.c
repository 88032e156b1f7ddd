/*
 * Host-side bundles (lib_bundle.h). The bytes are laid out by bw_manifest's
 * encoders and checked by its parser, so the CLI and the kernel share one
 * definition of the format; this file adds what only the host does: reading
 * an ELF into an app-slot image, signing, and checking the layers and the
 * measurement of a whole file held in memory.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/sha256.h"

#include "bw_board_maps.h"
#include "lib_bundle.h"
#include "lib_keys.h"

/* The gate's bytes sealed after the kernel image: its region when the map puts
 * it outside the kernel slot, else none (docs/SPEC.md §19.2). */
#define GATE_EXTENT(B) \
    (B##_GATE_BASE >= B##_KERNEL_SLOT_BASE && B##_GATE_BASE + B##_GATE_SIZE <= B##_KERNEL_SLOT_BASE + B##_KERNEL_SLOT_SIZE \
         ? 0u : B##_GATE_SIZE)

/* Slots from each board's memory_map.def (bw_board_maps.h is generated). */
static const bundle_board boards[] = {
    { BW_BOARD_QEMU_AN505, "qemu-an505", BW_MAP_QEMU_AN505_APP_SLOT_BASE, BW_MAP_QEMU_AN505_APP_SLOT_SIZE,
      BW_MAP_QEMU_AN505_KERNEL_SLOT_SIZE, GATE_EXTENT(BW_MAP_QEMU_AN505) },
    { BW_BOARD_STM32U585, "stm32u585", BW_MAP_STM32U585_APP_SLOT_BASE, BW_MAP_STM32U585_APP_SLOT_SIZE,
      BW_MAP_STM32U585_KERNEL_SLOT_SIZE, GATE_EXTENT(BW_MAP_STM32U585) },
};

#define BOARD_COUNT (sizeof boards / sizeof boards[0])

const bundle_board *bundle_board_by_name(const char *name)
{
    for (size_t i = 0; i < BOARD_COUNT; i++) {
        if (strcmp(boards[i].name, name) == 0) {
            return &boards[i];
        }
    }
    return NULL;
}

const bundle_board *bundle_board_by_id(uint16_t id)
{
    for (size_t i = 0; i < BOARD_COUNT; i++) {
        if (boards[i].id == id) {
            return &boards[i];
        }
    }
    return NULL;
}

const bundle_board *bundle_board_for_address(uint32_t address)
{
    for (size_t i = 0; i < BOARD_COUNT; i++) {
        if (address >= boards[i].app_slot_base
            && address - boards[i].app_slot_base < boards[i].app_slot_size) {
            return &boards[i];
        }
    }
    return NULL;
}

void bundle_reason(const bw_manifest_diag *diag, char *out, size_t size)
{
    bw_manifest_describe(diag, out, size);
}

static bool sha256(const uint8_t *data, size_t len, uint8_t digest[BW_SHA256_SIZE])
{
    return mbedtls_sha256(data, len, digest, 0) == 0;
}

/* ---- building ---- */

typedef struct run {
    uint32_t start;   /* region offset */
    uint32_t end;
} run;

static int by_address(const void *a, const void *b)
{
    const elf_segment *x = a, *y = b;
    return x->load_address < y->load_address ? -1 : x->load_address > y->load_address;
}

/* Places the segments into image (slot_size bytes, pre-filled with 0xFF) and
 * computes the layer runs; false with a reason for a segment outside the slot
 * or two overlapping segments. */
static bool place_segments(const uint8_t *elf, elf_image *img, const bundle_board *board,
                           uint8_t *image, run *runs, unsigned *run_count, char *reason,
                           size_t reason_size)
{
    for (unsigned i = 0; i < img->count; i++) {
        const elf_segment *s = &img->segments[i];
        uint64_t end = (uint64_t)s->load_address + s->size;
        if (s->load_address < board->app_slot_base
            || end > (uint64_t)board->app_slot_base + board->app_slot_size) {
            snprintf(reason, reason_size,
                     "ELF segment at 0x%08" PRIx32 " (%" PRIu32 " bytes) lies outside the %s app "
                     "slot (0x%08" PRIx32 "..0x%08" PRIx32 ")",
                     s->load_address, s->size, board->name, board->app_slot_base,
                     board->app_slot_base + board->app_slot_size - 1);
            return false;
        }
    }
    qsort(img->segments, img->count, sizeof img->segments[0], by_address);
    unsigned n = 0;
    for (unsigned i = 0; i < img->count; i++) {
        const elf_segment *s = &img->segments[i];
        uint32_t start = s->load_address - board->app_slot_base;
        if (n > 0 && start < runs[n - 1].end) {
            snprintf(reason, reason_size, "ELF segments overlap at 0x%08" PRIx32, s->load_address);
            return false;
        }
        memcpy(image + start, elf + s->file_offset, s->size);
        if (n > 0 && start == runs[n - 1].end) {
            runs[n - 1].end = start + s->size;
        } else {
            runs[n++] = (run){ start, start + s->size };
        }
    }
    if (n > BW_MANIFEST_MAX_LAYERS) {
        runs[0].end = runs[n - 1].end;   /* one layer of the used extent */
        n = 1;
    }
    *run_count = n;
    return true;
}

bool bundle_build(const uint8_t *elf, size_t elf_len, const bundle_options *options,
                  mbedtls_pk_context *key, uint8_t **bundle, size_t *bundle_len,
                  bw_manifest *manifest, char *reason, size_t reason_size)
{
    elf_image img;
    if (!elf_read_segments(elf, elf_len, &img, reason, reason_size)) {
        return false;
    }
    const bundle_board *board = options->board;
    if (board == NULL) {
        board = bundle_board_for_address(img.segments[0].load_address);
        if (board == NULL) {
            snprintf(reason, reason_size,
                     "no board's app slot holds the ELF's first segment (0x%08" PRIx32
                     "); name one with --board", img.segments[0].load_address);
            return false;
        }
    }
    uint8_t *image = malloc(board->app_slot_size);
    if (image == NULL) {
        snprintf(reason, reason_size, "out of memory");
        return false;
    }
    memset(image, 0xFF, board->app_slot_size);
    run runs[ELF_MAX_SEGMENTS];
    unsigned run_count = 0;
    bool ok = place_segments(elf, &img, board, image, runs, &run_count, reason, reason_size);

    bw_manifest *m = manifest;
    memset(m, 0, sizeof *m);
    m->app_version = options->app_version;
    m->min_kernel_version = options->min_kernel_version;
    m->board = board->id;
    m->crash.restart_min_ms = options->restart_min_ms;
    m->crash.restart_max_ms = options->restart_max_ms;
    m->crash.stack_bytes = options->stack_bytes;
    m->debug.debuggable = options->debuggable;
    if (options->debuggable) {
        memcpy(m->debug.public_key, options->debug_key, BW_PUBLIC_KEY_SIZE);
    }
    m->update.polite_seconds = options->polite_seconds;
    m->connectivity.grace_seconds = options->grace_seconds;
    m->connectivity.min_checkin_seconds = options->checkin_seconds;
    m->region_count = 1;
    m->regions[0].id = BW_REGION_APP_SLOT;
    m->regions[0].size = board->app_slot_size;
    m->layer_count = (uint8_t)run_count;
    uint32_t data_size = 0;
    for (unsigned i = 0; ok && i < run_count; i++) {
        bw_manifest_layer *l = &m->layers[i];
        l->type = BW_LAYER_FULL;
        l->region = BW_REGION_APP_SLOT;
        l->region_offset = runs[i].start;
        l->length = runs[i].end - runs[i].start;
        ok = sha256(image + l->region_offset, l->length, l->fetch_hash);
        data_size += l->length;
    }
    ok = ok && sha256(image, board->app_slot_size, m->regions[0].measurement);

    /* Encode, then parse back: the parser's checks give policy errors their words. */
    uint8_t mbytes[BW_MANIFEST_MAX_SIZE];
    size_t msize = ok ? bw_manifest_encode(m, mbytes, sizeof mbytes) : 0;
    bw_manifest_diag diag;
    if (ok && (msize == 0 || bw_manifest_parse(mbytes, msize, m, &diag) != BW_OK)) {
        if (msize == 0) {
            snprintf(reason, reason_size, "manifest does not fit the format");
        } else {
            bundle_reason(&diag, reason, reason_size);
        }
        ok = false;
    }

    bw_signature_block sig = { .algorithm = BW_SIGNATURE_ALG_ECDSA_P256_SHA256 };
    uint8_t public_key[BW_PUBLIC_KEY_SIZE], hash[BW_SHA256_SIZE];
    if (ok) {
        ok = keys_raw_public(key, public_key) && bw_manifest_key_id(public_key, sig.key_id) == BW_OK
             && bw_manifest_signing_hash(mbytes, msize, hash) == BW_OK;
        if (!ok) {
            snprintf(reason, reason_size, "cannot hash the manifest");
        }
    }
    ok = ok && keys_sign_hash(key, hash, sig.signature, reason, reason_size);

    uint8_t *out = NULL;
    size_t total = BW_BUNDLE_HEADER_SIZE + msize + BW_SIGNATURE_BLOCK_SIZE + data_size;
    if (ok) {
        out = malloc(total);
        if (out == NULL) {
            snprintf(reason, reason_size, "out of memory");
            ok = false;
        }
    }
    if (ok) {
        bw_bundle_encode_header((uint32_t)msize, (uint32_t)total, out);
        memcpy(out + BW_BUNDLE_HEADER_SIZE, mbytes, msize);
        bw_signature_encode(&sig, out + BW_BUNDLE_HEADER_SIZE + msize);
        uint8_t *p = out + BW_BUNDLE_HEADER_SIZE + msize + BW_SIGNATURE_BLOCK_SIZE;
        for (unsigned i = 0; i < m->layer_count; i++) {
            memcpy(p + m->layers[i].data_offset, image + m->layers[i].region_offset,
                   m->layers[i].length);
        }
        *bundle = out;
        *bundle_len = total;
    }
    free(image);
    return ok;
}

/* ---- checking ---- */

static bool set_diag(bundle_check *c, bw_manifest_error error, uint32_t value, uint32_t limit)
{
    memset(&c->diag, 0, sizeof c->diag);
    c->diag.error = error;
    c->diag.value = value;
    c->diag.limit = limit;
    return false;
}

bool bundle_open_file(const uint8_t *data, size_t len, bundle_check *c)
{
    memset(c, 0, sizeof *c);
    if (bw_bundle_open(data, len, &c->layout, &c->manifest, &c->signature, &c->diag) != BW_OK) {
        return false;
    }
    c->opened = true;
    uint32_t file_len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
    if (len < c->layout.bundle_size) {
        return set_diag(c, BW_MANIFEST_E_TRUNCATED, file_len, c->layout.bundle_size);
    }
    if (len > c->layout.bundle_size) {
        return set_diag(c, BW_MANIFEST_E_TRAILING_DATA, file_len, c->layout.bundle_size);
    }
    return true;
}

typedef struct memory_region {
    const uint8_t *bytes;
} memory_region;

static bw_err read_memory(void *context, uint32_t offset, uint8_t *buf, uint32_t len)
{
    memcpy(buf, ((memory_region *)context)->bytes + offset, len);
    return BW_OK;
}

/* Installs the layers into a 0xFF image of each region and compares its measurement. */
static bool check_measurements(const uint8_t *data, bundle_check *c)
{
    const bw_manifest *m = &c->manifest;
    for (unsigned r = 0; r < m->region_count; r++) {
        uint8_t *image = malloc(m->regions[r].size);
        if (image == NULL) {
            return set_diag(c, BW_MANIFEST_E_CRYPTO, 0, 0);
        }
        memset(image, 0xFF, m->regions[r].size);
        for (unsigned i = 0; i < m->layer_count; i++) {
            const bw_manifest_layer *l = &m->layers[i];
            if (l->region == m->regions[r].id) {
                memcpy(image + l->region_offset,
                       data + bw_bundle_layer_file_offset(&c->layout, m, i), l->length);
            }
        }
        uint8_t digest[BW_SHA256_SIZE], scratch[4096];
        memory_region mem = { image };
        bw_err err = bw_region_measure(read_memory, &mem, m->regions[r].size, scratch,
                                       sizeof scratch, digest);
        free(image);
        if (err != BW_OK) {
            return set_diag(c, BW_MANIFEST_E_CRYPTO, 0, 0);
        }
        if (bw_manifest_check_measurement(m, r, digest, &c->diag) != BW_OK) {
            return false;
        }
    }
    return true;
}

bool bundle_verify_file(const uint8_t *data, size_t len, const bw_trusted_key *keys,
                        size_t key_count, uint32_t min_version, bundle_check *c)
{
    if (!bundle_open_file(data, len, c)) {
        return false;
    }
    const bw_manifest *m = &c->manifest;
    if (bw_manifest_verify_signature(data + c->layout.manifest_offset, c->layout.manifest_size,
                                     &c->signature, keys, key_count, &c->diag) != BW_OK) {
        return false;
    }
    if (bw_manifest_check_rollback(m, min_version, &c->diag) != BW_OK) {
        return false;
    }
    for (unsigned i = 0; i < m->layer_count; i++) {
        uint8_t digest[BW_SHA256_SIZE];
        if (!sha256(data + bw_bundle_layer_file_offset(&c->layout, m, i), m->layers[i].length,
                    digest)) {
            return set_diag(c, BW_MANIFEST_E_CRYPTO, 0, 0);
        }
        if (bw_manifest_check_layer_hash(m, i, digest, &c->diag) != BW_OK) {
            return false;
        }
    }
    return check_measurements(data, c);
}

/* ---- printing ---- */

static void kernel_version_text(uint32_t v, char *out, size_t size)
{
    snprintf(out, size, "%" PRIu32 ".%" PRIu32 ".%" PRIu32, v >> 24, (v >> 16) & 0xFFu,
             v & 0xFFFFu);
}

void bundle_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            fprintf(out, "\\%c", ch);
        } else if (ch < 0x20 || ch >= 0x7F) {
            fprintf(out, "\\u%04x", ch);
        } else {
            fputc(ch, out);
        }
    }
    fputc('"', out);
}

void bundle_print_text(FILE *out, const char *path, const bundle_check *c)
{
    const bw_manifest *m = &c->manifest;
    char hex[2 * BW_PUBLIC_KEY_SIZE + 1], kv[32];
    const char *board = bw_manifest_board_name(m->board);
    kernel_version_text(m->min_kernel_version, kv, sizeof kv);
    fprintf(out, "bundle           %s (%" PRIu32 " bytes, format %u)\n", path, c->layout.bundle_size,
            BW_BUNDLE_FORMAT_VERSION);
    fprintf(out, "manifest         version %u, %" PRIu32 " bytes\n", m->version, m->size);
    fprintf(out, "app version      %" PRIu32 "\n", m->app_version);
    fprintf(out, "min kernel       %s\n", kv);
    fprintf(out, "board            %s\n", board != NULL ? board : "?");
    keys_id_hex(c->signature.key_id, hex);
    fprintf(out, "signature        ECDSA P-256 / SHA-256, key id %s\n", hex);
    fprintf(out, "crash policy     restart after %" PRIu32 "..%" PRIu32 " ms, %" PRIu32
                 " stack bytes in reports\n",
            m->crash.restart_min_ms, m->crash.restart_max_ms, m->crash.stack_bytes);
    if (m->debug.debuggable) {
        hex_encode(m->debug.public_key, BW_PUBLIC_KEY_SIZE, hex);
        fprintf(out, "debug policy     debuggable, debug key %s\n", hex);
    } else {
        fprintf(out, "debug policy     not debuggable\n");
    }
    fprintf(out, "update policy    polite window %" PRIu32 " s\n", m->update.polite_seconds);
    fprintf(out, "connectivity     grace %" PRIu32 " s, minimum check-in %" PRIu32 " s\n",
            m->connectivity.grace_seconds, m->connectivity.min_checkin_seconds);
    for (unsigned r = 0; r < m->region_count; r++) {
        hex_encode(m->regions[r].measurement, BW_SHA256_SIZE, hex);
        fprintf(out, "region %u         app slot, %" PRIu32 " bytes, measurement %s\n", r,
                m->regions[r].size, hex);
    }
    for (unsigned i = 0; i < m->layer_count; i++) {
        const bw_manifest_layer *l = &m->layers[i];
        hex_encode(l->fetch_hash, BW_SHA256_SIZE, hex);
        fprintf(out, "layer %u          region %u, offset 0x%06" PRIx32 ", %" PRIu32
                     " bytes, at file offset %" PRIu32 ", sha256 %s\n",
                i, l->region, l->region_offset, l->length,
                bw_bundle_layer_file_offset(&c->layout, m, i), hex);
    }
}

void bundle_print_json(FILE *out, const char *path, const bundle_check *c)
{
    const bw_manifest *m = &c->manifest;
    char hex[2 * BW_PUBLIC_KEY_SIZE + 1], kv[32];
    const char *board = bw_manifest_board_name(m->board);
    kernel_version_text(m->min_kernel_version, kv, sizeof kv);
    fprintf(out, "{\"file\": ");
    bundle_json_string(out, path);
    fprintf(out, ", \"format_version\": %u, \"bundle_size\": %" PRIu32 ",\n",
            BW_BUNDLE_FORMAT_VERSION, c->layout.bundle_size);
    keys_id_hex(c->signature.key_id, hex);
    fprintf(out, " \"signature\": {\"algorithm\": \"ecdsa-p256-sha256\", \"key_id\": \"%s\"},\n",
            hex);
    fprintf(out, " \"manifest\": {\"version\": %u, \"size\": %" PRIu32 ", \"app_version\": %" PRIu32
                 ", \"min_kernel_version\": \"%s\", \"board\": \"%s\",\n",
            m->version, m->size, m->app_version, kv, board != NULL ? board : "?");
    fprintf(out, "  \"crash\": {\"restart_min_ms\": %" PRIu32 ", \"restart_max_ms\": %" PRIu32
                 ", \"stack_bytes\": %" PRIu32 "},\n",
            m->crash.restart_min_ms, m->crash.restart_max_ms, m->crash.stack_bytes);
    if (m->debug.debuggable) {
        hex_encode(m->debug.public_key, BW_PUBLIC_KEY_SIZE, hex);
        fprintf(out, "  \"debug\": {\"debuggable\": true, \"public_key\": \"%s\"},\n", hex);
    } else {
        fprintf(out, "  \"debug\": {\"debuggable\": false, \"public_key\": null},\n");
    }
    fprintf(out, "  \"update\": {\"polite_seconds\": %" PRIu32 "},\n", m->update.polite_seconds);
    fprintf(out, "  \"connectivity\": {\"grace_seconds\": %" PRIu32
                 ", \"min_checkin_seconds\": %" PRIu32 "},\n",
            m->connectivity.grace_seconds, m->connectivity.min_checkin_seconds);
    fprintf(out, "  \"regions\": [");
    for (unsigned r = 0; r < m->region_count; r++) {
        hex_encode(m->regions[r].measurement, BW_SHA256_SIZE, hex);
        fprintf(out, "%s{\"id\": %u, \"name\": \"app-slot\", \"size\": %" PRIu32
                     ", \"measurement\": \"%s\"}",
                r ? ", " : "", m->regions[r].id, m->regions[r].size, hex);
    }
    fprintf(out, "],\n  \"layers\": [");
    for (unsigned i = 0; i < m->layer_count; i++) {
        const bw_manifest_layer *l = &m->layers[i];
        hex_encode(l->fetch_hash, BW_SHA256_SIZE, hex);
        fprintf(out, "%s\n    {\"index\": %u, \"type\": \"full\", \"region\": %u, \"offset\": %" PRIu32
                     ", \"length\": %" PRIu32 ", \"file_offset\": %" PRIu32 ", \"sha256\": \"%s\"}",
                i ? "," : "", i, l->region, l->region_offset, l->length,
                bw_bundle_layer_file_offset(&c->layout, m, i), hex);
    }
    fprintf(out, "]}}\n");
}
