/*
 * The update engine (bw_update.h).
 *
 * Bank layout: [head area: the bundle's head, or a backup header, padded to
 * whole sectors][image area: the app slot's future contents, erased = 0xFF].
 *
 * Download: layers arrive as one stream (layer data in manifest order) and go
 * to image-area offsets given by their region offsets. Layers must be in
 * region order and 256-byte aligned, so the stream maps monotonically onto
 * the bank and a resume point can be a page (256-byte piece) boundary.
 * Progress p (pages of the image area) is journaled, once at least
 * BW_UPDATE_PROGRESS_PAGES more are complete, when every stream byte before
 * the first byte of page p is programmed. A resume at page p inside sector
 * s requires the rest of s to read blank (pages after p may have been
 * programmed, or torn, after the record): if it does not, progress goes
 * back to the start of s in the journal first, then s is erased. Sectors
 * after s are erased, and the stream restarts at the first byte that maps
 * to page p or later. On ECC flash a torn program can leave a unit that
 * reads blank but refuses a second program: that program fails in sector s,
 * and the engine then does the same (journal back, erase s) and asks the
 * sender for the bytes from the start of s (BW_UPDATE_E_OFFSET).
 *
 * Copies (backup, install, rollback) go destination sector by destination
 * sector: erase, program the source's non-blank pieces, journal the sector.
 * Each is idempotent, so a resume redoes at most one sector.
 *
 * Erasing: a sector that will be programmed is always erased first, even if
 * it reads blank: an interrupted program can leave a unit that reads 0xFF
 * yet cannot be programmed again (ECC flash such as the STM32U5's). A sector
 * that only has to read blank is erased only when it does not.
 */
#include <string.h>

#include "bw_bytes.h"
#include "bw_config.h"
#include "bw_format.h"
#include "bw_identity.h"
#include "bw_kernel_seal.h"
#include "bw_kernel_slots.h"
#include "bw_update.h"
#include "mbedtls/sha256.h"

#define LAYER_ALIGN          256u   /* layers start on a piece boundary */
#define PIECE                256u   /* download data is programmed in aligned pieces */
#define MAX_PROGRAM_UNIT     32u
#define COPY_CHUNK           256u
#define BACKUP_MAGIC         0x4B425742u   /* "BWBK": a bank holding a provisioned app */
#define BACKUP_VERSION       1u
#define BACKUP_HEADER_SIZE   48u
#define NO_SECTOR            0xFFFFFFFFu

static struct {
    bw_update_config cfg;
    bw_update_journal journal;
    bw_update_state state;
    int ready;                      /* storage present and journal loaded */
    /* the download in progress (RAM only; rebuilt by begin after a reset) */
    int receiving;
    int begun;                      /* layout and manifest are those of a begun bundle */
    uint32_t head_fill;             /* bytes of a staged head in head_buf (0: none) */
    bw_bundle_layout layout;
    bw_manifest manifest;
    uint32_t next_stream;           /* next layer-data offset expected */
    uint32_t piece_offset;          /* image-area offset of the piece being filled */
    uint32_t piece_fill;            /* bytes of it received (0: none pending) */
    uint32_t resumed_sector;        /* image offset of a sector resumed mid-way (NO_SECTOR: none) */
    int rewound;                    /* a program there failed: the stream went back to its start */
    uint8_t piece[PIECE];
    uint8_t kernel_seal_hash[BW_SHA256_SIZE];   /* SHA-256 of a begun kernel's seal */
    uint32_t kernel_tag;                        /* for the next kernel install's staged record */
} eng;

static uint8_t head_buf[BW_BUNDLE_HEAD_MAX];
static uint8_t chunk_buf[COPY_CHUNK];
static uint8_t chunk_buf2[COPY_CHUNK];

/* ---- small helpers ---- */

static bw_err fail(bw_update_diag *why, bw_update_error error, bw_err err)
{
    if (why != NULL) {
        why->error = error;
    }
    return err;
}

static uint32_t sector_of(const bw_flash_partition *p)
{
    return p->device->sector_size;
}

static uint32_t unit_of(const bw_flash_partition *p)
{
    return p->device->program_unit;
}

static uint32_t head_area_size(const bw_flash_partition *bank)
{
    uint32_t s = sector_of(bank);
    return (BW_BUNDLE_HEAD_MAX + s - 1u) / s * s;
}

static const bw_flash_partition *bank_part(uint8_t bank)
{
    return bank == BW_BANK_KERNEL ? eng.cfg.kernel_staged : eng.cfg.bank[bank & 1u];
}

/* Where a bank's image area starts: after the head area, or at 0 in the
 * staged-kernel area (its seal follows the image, SPEC §19.5). */
static uint32_t image_base(uint8_t bank)
{
    return bank == BW_BANK_KERNEL ? 0u : head_area_size(bank_part(bank));
}

static int is_blank(const uint8_t *p, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        if (p[i] != 0xFFu) {
            return 0;
        }
    }
    return 1;
}

static bw_err save_state(void)
{
    return bw_update_state_save(&eng.journal, &eng.state);
}

/* Erases [offset, offset+len) of p sector by sector, skipping blank sectors;
 * *erased (if not NULL) says whether any sector was erased. */
static bw_err erase_if_needed(const bw_flash_partition *p, uint32_t offset, uint32_t len, int *erased)
{
    uint32_t s = sector_of(p);
    for (uint32_t at = offset; at < offset + len; at += s) {
        int blank = 1;
        for (uint32_t i = 0; i < s && blank; i += COPY_CHUNK) {
            uint32_t n = s - i < COPY_CHUNK ? s - i : COPY_CHUNK;
            bw_err err = bw_flash_read(p, at + i, chunk_buf, n);
            if (err != BW_OK && err != BW_E_TORN) {
                return err;
            }
            blank = err == BW_OK && is_blank(chunk_buf, n);   /* torn: not blank */
        }
        if (!blank) {
            bw_err err = bw_flash_erase_sector(p, at);
            if (err != BW_OK) {
                return err;
            }
            if (erased != NULL) {
                *erased = 1;
            }
        }
    }
    return BW_OK;
}

/* Prepares a sector: always erased when it will be programmed, else only
 * when it does not read blank; *erased says whether it was. */
static bw_err prepare_sector(const bw_flash_partition *p, uint32_t offset, int will_program,
                             int *erased)
{
    if (will_program) {
        *erased = 1;
        return bw_flash_erase_sector(p, offset);
    }
    return erase_if_needed(p, offset, sector_of(p), erased);
}

/* Programs len bytes (any length) at a unit-aligned offset, padding the last
 * unit with 0xFF. */
static bw_err program_padded(const bw_flash_partition *p, uint32_t offset, const uint8_t *data,
                             uint32_t len)
{
    uint32_t unit = unit_of(p);
    uint32_t whole = len / unit * unit;
    if (whole > 0) {
        bw_err err = bw_flash_program(p, offset, data, whole);
        if (err != BW_OK) {
            return err;
        }
    }
    if (whole < len) {
        uint8_t tail[MAX_PROGRAM_UNIT];
        memset(tail, 0xFF, sizeof tail);
        memcpy(tail, data + whole, len - whole);
        return bw_flash_program(p, offset + whole, tail, unit);
    }
    return BW_OK;
}

/* ---- verification helpers ---- */

typedef struct region_reader {
    const bw_flash_partition *part;
    uint32_t base;
} region_reader;

static bw_err region_read(void *context, uint32_t offset, uint8_t *buf, uint32_t len)
{
    const region_reader *r = context;
    return bw_flash_read(r->part, r->base + offset, buf, len);
}

static bw_err measure(const bw_flash_partition *p, uint32_t base, uint32_t size,
                      uint8_t digest[BW_SHA256_SIZE])
{
    region_reader reader = { p, base };
    return bw_region_measure(region_read, &reader, size, chunk_buf, sizeof chunk_buf, digest);
}

static bw_err hash_range(const bw_flash_partition *p, uint32_t offset, uint32_t len,
                         uint8_t digest[BW_SHA256_SIZE])
{
    mbedtls_sha256_context sha;
    mbedtls_sha256_init(&sha);
    bw_err err = mbedtls_sha256_starts(&sha, 0) == 0 ? BW_OK : BW_E_IO;
    for (uint32_t done = 0; err == BW_OK && done < len; done += COPY_CHUNK) {
        uint32_t n = len - done < COPY_CHUNK ? len - done : COPY_CHUNK;
        err = bw_flash_read(p, offset + done, chunk_buf, n);
        if (err == BW_OK && mbedtls_sha256_update(&sha, chunk_buf, n) != 0) {
            err = BW_E_IO;
        }
    }
    if (err == BW_OK && mbedtls_sha256_finish(&sha, digest) != 0) {
        err = BW_E_IO;
    }
    mbedtls_sha256_free(&sha);
    return err;
}

/* Erases every sector of [offset, offset+len). */
static bw_err erase_always(const bw_flash_partition *p, uint32_t offset, uint32_t len)
{
    for (uint32_t at = offset; at < offset + len; at += sector_of(p)) {
        bw_err err = bw_flash_erase_sector(p, at);
        if (err != BW_OK) {
            return err;
        }
    }
    return BW_OK;
}

/* Does any layer put bytes into region [at, at+len)? */
static int layers_cover(const bw_manifest *m, uint32_t at, uint32_t len)
{
    for (unsigned i = 0; i < m->layer_count; i++) {
        const bw_manifest_layer *l = &m->layers[i];
        if (l->region_offset < at + len && at < l->region_offset + l->length) {
            return 1;
        }
    }
    return 0;
}

/* Layers in region order, 256-byte aligned: what the stream mapping needs. */
static int layers_in_order(const bw_manifest *m)
{
    uint32_t end = 0;
    for (unsigned i = 0; i < m->layer_count; i++) {
        const bw_manifest_layer *l = &m->layers[i];
        if (l->region_offset % LAYER_ALIGN != 0 || l->region_offset < end) {
            return 0;
        }
        end = l->region_offset + l->length;
    }
    return 1;
}

/* Checks a bundle head: structure, signature, device, anti-rollback. The
 * signature under the trusted keys, or for a bundle the engine accepted
 * before (accepted: the running app's, the last-known-good's) also the
 * retired ones. */
static bw_err check_head(const uint8_t *head, size_t len, bool accepted, bw_bundle_layout *layout,
                         bw_manifest *m, bw_update_diag *why)
{
    bw_signature_block sig;
    bw_manifest_diag *md = why != NULL ? &why->manifest : NULL;
    bw_err err = bw_bundle_open(head, len, layout, m, &sig, md);
    if (err == BW_OK) {
        err = bw_manifest_verify_signature(head + layout->manifest_offset, layout->manifest_size,
                                           &sig, eng.cfg.keys,
                                           eng.cfg.key_count + (accepted ? eng.cfg.retired_count : 0u),
                                           md);
    }
    if (err == BW_OK) {
        err = bw_manifest_check_device(m, eng.cfg.board, eng.cfg.kernel_version,
                                       eng.cfg.app_slot->size, md);
    }
    if (err != BW_OK) {
        return fail(why, BW_UPDATE_E_BUNDLE, err);
    }
    if (!layers_in_order(m)) {
        return fail(why, BW_UPDATE_E_LAYER_ORDER, BW_E_INVALID);
    }
    return BW_OK;
}

static uint32_t rollback_floor(void)
{
    uint32_t v = eng.state.highest_version > eng.state.current_version
               ? eng.state.highest_version : eng.state.current_version;
    return v + 1u;
}

/* Reads and re-checks the bundle head stored in a bank. */
static bw_err load_bank_head(uint8_t bank, bool accepted, bw_bundle_layout *layout, bw_manifest *m,
                             bw_update_diag *why)
{
    eng.head_fill = 0;   /* head_buf is the staged head's too */
    bw_err err = bw_flash_read(bank_part(bank), 0, head_buf, sizeof head_buf);
    if (err != BW_OK) {
        return fail(why, BW_UPDATE_E_FLASH, err);
    }
    return check_head(head_buf, sizeof head_buf, accepted, layout, m, why);
}

/* The measurement a bank's image must have: its bundle's, or a backup header's. */
static bw_err bank_expected_measurement(uint8_t bank, uint8_t digest[BW_SHA256_SIZE],
                                        bw_update_diag *why)
{
    uint8_t header[BACKUP_HEADER_SIZE];
    bw_err err = bw_flash_read(bank_part(bank), 0, header, sizeof header);
    if (err != BW_OK) {
        return fail(why, BW_UPDATE_E_FLASH, err);
    }
    uint32_t magic = (uint32_t)header[0] | (uint32_t)header[1] << 8 | (uint32_t)header[2] << 16
                   | (uint32_t)header[3] << 24;
    if (magic == BACKUP_MAGIC) {
        uint32_t crc = (uint32_t)header[40] | (uint32_t)header[41] << 8 | (uint32_t)header[42] << 16
                     | (uint32_t)header[43] << 24;
        if (header[4] != BACKUP_VERSION || crc != bw_crc32(header, 40)) {
            return fail(why, BW_UPDATE_E_VERIFY, BW_E_IO);
        }
        memcpy(digest, header + 8, BW_SHA256_SIZE);
        return BW_OK;
    }
    bw_bundle_layout layout;
    bw_manifest m;
    err = load_bank_head(bank, true, &layout, &m, why);
    if (err == BW_OK) {
        memcpy(digest, m.regions[0].measurement, BW_SHA256_SIZE);
    }
    return err;
}

/* ---- copies ---- */

/* Copies sectors [from, count) of dst's window from src, journaling each
 * sector as op_progress (the state's op must already say what is copied). */
static bw_err copy_sectors(const bw_flash_partition *dst, uint32_t dst_base,
                           const bw_flash_partition *src, uint32_t src_base, uint32_t size,
                           uint32_t from)
{
    uint32_t s = sector_of(dst);
    for (uint32_t k = from; k * s < size; k++) {
        uint32_t at = k * s;
        int has_data = 0;
        bw_err err = BW_OK;
        for (uint32_t i = 0; err == BW_OK && !has_data && i < s; i += COPY_CHUNK) {
            err = bw_flash_read(src, src_base + at + i, chunk_buf2, COPY_CHUNK);
            has_data = !is_blank(chunk_buf2, COPY_CHUNK);
        }
        int erased = 0;
        if (err == BW_OK) {
            err = prepare_sector(dst, dst_base + at, has_data, &erased);
        }
        for (uint32_t i = 0; err == BW_OK && has_data && i < s; i += COPY_CHUNK) {
            err = bw_flash_read(src, src_base + at + i, chunk_buf2, COPY_CHUNK);
            if (err == BW_OK && !is_blank(chunk_buf2, COPY_CHUNK)) {
                err = bw_flash_program(dst, dst_base + at + i, chunk_buf2, COPY_CHUNK);
            }
        }
        if (err != BW_OK) {
            return err;
        }
        /* Journal only sectors that took work (and the last): redoing a blank
         * one after a reset costs a blank check, and the journal wears less. */
        if (has_data || erased || (k + 1u) * s >= size) {
            eng.state.op_progress = (uint16_t)(k + 1u);
            err = save_state();
            if (err != BW_OK) {
                return err;
            }
        }
    }
    return BW_OK;
}

static bw_err finish_install(bw_update_outcome *outcome, bw_update_diag *why);
static bw_err finish_rollback(bw_update_outcome *outcome, bw_update_diag *why);
static bw_err kernel_boot(void);

/* BACKUP: the provisioned app in the app slot -> op_bank's image, then a
 * backup header; then the install of the other bank starts. */
static bw_err finish_backup(bw_update_outcome *outcome, bw_update_diag *why)
{
    uint8_t bank = eng.state.op_bank;
    const bw_flash_partition *b = bank_part(bank);
    uint32_t image = head_area_size(b);
    uint32_t size = eng.cfg.app_slot->size;
    bw_err err = copy_sectors(b, image, eng.cfg.app_slot, 0, size, eng.state.op_progress);
    uint8_t header[BACKUP_HEADER_SIZE];
    memset(header, 0xFF, sizeof header);
    if (err == BW_OK) {
        memset(header, 0, 44);
        header[0] = (uint8_t)BACKUP_MAGIC;
        header[1] = (uint8_t)(BACKUP_MAGIC >> 8);
        header[2] = (uint8_t)(BACKUP_MAGIC >> 16);
        header[3] = (uint8_t)(BACKUP_MAGIC >> 24);
        header[4] = BACKUP_VERSION;
        err = measure(b, image, size, header + 8);
    }
    if (err == BW_OK) {
        uint32_t crc = bw_crc32(header, 40);
        header[40] = (uint8_t)crc;
        header[41] = (uint8_t)(crc >> 8);
        header[42] = (uint8_t)(crc >> 16);
        header[43] = (uint8_t)(crc >> 24);
        err = erase_always(b, 0, image);
    }
    if (err == BW_OK) {
        err = program_padded(b, 0, header, sizeof header);
    }
    if (err != BW_OK) {
        return fail(why, BW_UPDATE_E_FLASH, err);
    }
    eng.state.lkg_bank = bank;
    eng.state.lkg_version = eng.state.current_version;
    eng.state.op = BW_UPDATE_OP_INSTALLING;
    eng.state.op_bank = (uint8_t)(bank ^ 1u);
    eng.state.op_progress = 0;
    err = save_state();
    if (err != BW_OK) {
        return fail(why, BW_UPDATE_E_FLASH, err);
    }
    return finish_install(outcome, why);
}

/* A copy into the app slot (install, rollback) stopped on a flash error:
 * the slot may be torn and is not verified, so no app may start from it.
 * The journal still names the job: the next boot finishes or reverts it. */
static bw_err slot_in_doubt(bw_update_outcome *outcome, bw_update_diag *why, bw_err err)
{
    *outcome = BW_UPDATE_NO_GOOD_APP;
    return fail(why, BW_UPDATE_E_FLASH, err);
}

/* INSTALLING: op_bank's image -> app slot, verified, committed on trial. */
static bw_err finish_install(bw_update_outcome *outcome, bw_update_diag *why)
{
    uint8_t bank = eng.state.op_bank;
    bw_bundle_layout layout;
    bw_manifest m;
    bw_update_diag head_why = { 0 };
    bw_err err = load_bank_head(bank, false, &layout, &m, &head_why);
    if (err != BW_OK && head_why.error == BW_UPDATE_E_FLASH) {
        return slot_in_doubt(outcome, why, err);   /* unread, not refuted: try again next boot */
    }
    if (err != BW_OK) {
        /* The bank's bundle no longer verifies: put the last-known-good back. */
        if (why != NULL) {
            *why = head_why;
        }
        *outcome = BW_UPDATE_NO_GOOD_APP;
        return eng.state.lkg_bank != BW_BANK_NONE
             ? bw_update_rollback(BW_ROLLBACK_INSTALL_FAILED, outcome, NULL) : err;
    }
    const bw_flash_partition *b = bank_part(bank);
    err = copy_sectors(eng.cfg.app_slot, 0, b, head_area_size(b), eng.cfg.app_slot->size,
                       eng.state.op_progress);
    uint8_t digest[BW_SHA256_SIZE];
    if (err == BW_OK) {
        err = measure(eng.cfg.app_slot, 0, eng.cfg.app_slot->size, digest);
    }
    if (err != BW_OK) {
        return slot_in_doubt(outcome, why, err);
    }
    if (bw_manifest_check_measurement(&m, 0, digest, why != NULL ? &why->manifest : NULL) != BW_OK) {
        if (eng.state.lkg_bank != BW_BANK_NONE) {
            return bw_update_rollback(BW_ROLLBACK_INSTALL_FAILED, outcome, NULL);
        }
        *outcome = BW_UPDATE_NO_GOOD_APP;
        return fail(why, BW_UPDATE_E_VERIFY, BW_E_IO);
    }
    eng.state.op = BW_UPDATE_OP_NONE;
    eng.state.op_bank = BW_BANK_NONE;
    eng.state.op_progress = 0;
    eng.state.current_bank = bank;
    eng.state.current_version = m.app_version;
    if (m.app_version > eng.state.highest_version) {
        eng.state.highest_version = m.app_version;
    }
    eng.state.trial = 1;
    err = save_state();
    if (err != BW_OK) {
        return slot_in_doubt(outcome, why, err);   /* verified, but not journaled */
    }
    *outcome = BW_UPDATE_RUN_NEW_APP;
    return BW_OK;
}

/* ROLLING_BACK: op_bank (the last-known-good) -> app slot, verified. */
static bw_err finish_rollback(bw_update_outcome *outcome, bw_update_diag *why)
{
    uint8_t bank = eng.state.op_bank;
    const bw_flash_partition *b = bank_part(bank);
    uint8_t expected[BW_SHA256_SIZE], digest[BW_SHA256_SIZE];
    bw_update_diag head_why = { 0 };
    bw_err err = bank_expected_measurement(bank, expected, &head_why);
    if (err != BW_OK && head_why.error == BW_UPDATE_E_FLASH) {
        return slot_in_doubt(outcome, why, err);   /* unread, not refuted: keep the job */
    }
    if (err == BW_OK) {
        err = copy_sectors(eng.cfg.app_slot, 0, b, head_area_size(b), eng.cfg.app_slot->size,
                           eng.state.op_progress);
        if (err == BW_OK) {
            err = measure(eng.cfg.app_slot, 0, eng.cfg.app_slot->size, digest);
        }
        if (err != BW_OK) {
            return slot_in_doubt(outcome, why, err);
        }
    }
    int good = err == BW_OK && memcmp(expected, digest, sizeof digest) == 0;
    eng.state.op = BW_UPDATE_OP_NONE;
    eng.state.op_bank = BW_BANK_NONE;
    eng.state.op_progress = 0;
    eng.state.current_bank = good ? bank : BW_BANK_NONE;
    eng.state.current_version = eng.state.lkg_version;
    eng.state.lkg_bank = BW_BANK_NONE;
    eng.state.lkg_version = 0;
    eng.state.trial = 0;
    err = save_state();
    if (err != BW_OK) {
        return slot_in_doubt(outcome, why, err);
    }
    *outcome = good ? BW_UPDATE_RUN_ROLLED_BACK : BW_UPDATE_NO_GOOD_APP;
    return good ? BW_OK : fail(why, BW_UPDATE_E_VERIFY, BW_E_IO);
}

/* ---- public entry points ---- */

bw_err bw_update_boot(const bw_update_config *config, bw_update_outcome *outcome,
                      bw_update_diag *why)
{
    memset(&eng, 0, sizeof eng);
    eng.cfg = *config;
    eng.state = bw_update_state_initial();
    *outcome = BW_UPDATE_RUN_APP;
    if (why != NULL) {
        memset(why, 0, sizeof *why);
    }
    const bw_flash_partition *app = config->app_slot;
    for (int i = 0; i < 2; i++) {
        const bw_flash_partition *b = config->bank[i];
        if (app == NULL || b == NULL || config->state == NULL
            || b->size < head_area_size(b) + app->size || unit_of(b) > MAX_PROGRAM_UNIT
            || COPY_CHUNK % unit_of(app) != 0 || COPY_CHUNK % unit_of(b) != 0
            || app->size / PIECE > UINT16_MAX || sector_of(b) % PIECE != 0) {
            return fail(why, BW_UPDATE_E_STORAGE, BW_E_SIZE);
        }
    }
    bw_err err = bw_update_state_load(&eng.journal, config->state, &eng.state);
    if (err == BW_E_SIZE) {
        return fail(why, BW_UPDATE_E_STORAGE, err);
    }
    if (err != BW_OK) {
        /* The journal could not be read: which app the slot holds, and
         * whether a copy into it was cut, is unknown. */
        *outcome = BW_UPDATE_NO_GOOD_APP;
        return fail(why, BW_UPDATE_E_FLASH, err);
    }
    eng.ready = 1;
    err = kernel_boot();
    if (err != BW_OK) {
        *outcome = BW_UPDATE_NO_GOOD_APP;   /* the journal could not be written or read */
        return fail(why, BW_UPDATE_E_FLASH, err);
    }
    switch (eng.state.op) {
    case BW_UPDATE_OP_BACKUP:
        err = finish_backup(outcome, why);
        break;
    case BW_UPDATE_OP_INSTALLING:
        err = finish_install(outcome, why);
        break;
    case BW_UPDATE_OP_ROLLING_BACK:
        err = finish_rollback(outcome, why);
        break;
    default:
        break;
    }
    if (err != BW_OK) {
        *outcome = BW_UPDATE_NO_GOOD_APP;   /* any doubt: no app starts from an unfinished job */
        return err;
    }
    if (*outcome != BW_UPDATE_RUN_APP) {
        return BW_OK;
    }
    if (eng.state.trial) {
        *outcome = BW_UPDATE_RUN_NEW_APP;   /* first run(s) of a new app, until healthy */
    }
    return BW_OK;
}

bool bw_update_available(void)
{
    return eng.ready != 0 && eng.cfg.key_count != 0;
}

void bw_update_set_keys(const bw_trusted_key *keys, size_t count, size_t retired_count)
{
    eng.cfg.keys = keys;
    eng.cfg.key_count = count;
    eng.cfg.retired_count = retired_count;
}

bw_err bw_update_current_manifest(bw_manifest *out)
{
    if (!eng.ready || eng.state.current_bank == BW_BANK_NONE) {
        return BW_E_UNAVAILABLE;
    }
    bw_bundle_layout layout;
    return load_bank_head(eng.state.current_bank, true, &layout, out, NULL);
}

const bw_update_state *bw_update_current_state(void)
{
    return &eng.state;
}

/* The layer that stream offset s (< layer_data_size) falls in. */
static const bw_manifest_layer *stream_layer(uint32_t s)
{
    for (unsigned i = 0; i < eng.manifest.layer_count; i++) {
        const bw_manifest_layer *l = &eng.manifest.layers[i];
        if (s < l->data_offset + l->length) {
            return l;
        }
    }
    return NULL;
}

/* Image-area offset of stream offset s; the region's end for s at the end. */
static uint32_t stream_to_image(uint32_t s)
{
    const bw_manifest_layer *l = stream_layer(s);
    return l != NULL ? l->region_offset + (s - l->data_offset) : eng.manifest.regions[0].size;
}

/* First stream offset whose bytes go to image sector k or later. */
static uint32_t stream_resume_point(uint32_t k, uint32_t sector)
{
    uint32_t at = k * sector;
    for (unsigned i = 0; i < eng.manifest.layer_count; i++) {
        const bw_manifest_layer *l = &eng.manifest.layers[i];
        if (l->region_offset + l->length > at) {
            return l->data_offset + (at > l->region_offset ? at - l->region_offset : 0u);
        }
    }
    return eng.manifest.layer_data_size;
}

static uint8_t download_bank(void)
{
    return eng.state.current_bank == BW_BANK_NONE ? BW_BANK_A : (uint8_t)(eng.state.current_bank ^ 1u);
}

/* Whether flash [offset, offset+len) of p holds exactly data. */
static bw_err flash_equals(const bw_flash_partition *p, uint32_t offset, const uint8_t *data,
                           uint32_t len, int *equal)
{
    *equal = 1;
    for (uint32_t i = 0; *equal && i < len; i += COPY_CHUNK) {
        uint32_t n = len - i < COPY_CHUNK ? len - i : COPY_CHUNK;
        bw_err err = bw_flash_read(p, offset + i, chunk_buf2, n);
        if (err == BW_E_TORN) {
            *equal = 0;   /* half-written: not these bytes */
            return BW_OK;
        }
        if (err != BW_OK) {
            return err;
        }
        *equal = memcmp(chunk_buf2, data + i, n) == 0;
    }
    return BW_OK;
}

/* Whether the journal's download in `bank` is of the bundle whose head is
 * `head`: the bank holds the same bundle header and a manifest with the same
 * signed digest (bw_manifest_signing_hash: what the signature covers, and
 * through the layer hashes every image byte). *identical: the whole head,
 * signature block included, is the same too. The journal names a bank's
 * download only once its head is wholly written (bw_update_begin). */
static bw_err bank_holds_bundle(uint8_t bank, const uint8_t *head, const bw_bundle_layout *layout,
                                int *same, int *identical)
{
    *same = 0;
    *identical = 0;
    if ((eng.state.op != BW_UPDATE_OP_DOWNLOADING && eng.state.op != BW_UPDATE_OP_DOWNLOADED)
        || eng.state.op_bank != bank) {
        return BW_OK;
    }
    const bw_flash_partition *b = bank_part(bank);
    int header_same = 0;
    bw_err err = flash_equals(b, 0, head, layout->manifest_offset, &header_same);
    if (err != BW_OK || !header_same) {
        return err;
    }
    uint8_t want[BW_SHA256_SIZE], have[BW_SHA256_SIZE];
    region_reader reader = { b, layout->manifest_offset };
    err = bw_manifest_signing_hash(head + layout->manifest_offset, layout->manifest_size, want);
    if (err == BW_OK) {
        err = bw_manifest_signing_hash_read(region_read, &reader, layout->manifest_size, chunk_buf2,
                                            sizeof chunk_buf2, have);
    }
    if (err == BW_E_TORN) {
        return BW_OK;   /* a manifest the cut tore: not the same bundle */
    }
    if (err != BW_OK) {
        return err;
    }
    *same = memcmp(want, have, sizeof want) == 0;
    return *same ? flash_equals(b, 0, head, layout->layers_offset, identical) : BW_OK;
}

/* Journals that `bank` holds nothing the engine relies on (no download, no
 * last-known-good app) before it is rewritten; no record when none named it. */
static bw_err release_bank(uint8_t bank)
{
    int download = (eng.state.op == BW_UPDATE_OP_DOWNLOADING || eng.state.op == BW_UPDATE_OP_DOWNLOADED)
                   && eng.state.op_bank == bank;
    if (!download && eng.state.lkg_bank != bank) {
        return BW_OK;
    }
    eng.state.op = BW_UPDATE_OP_NONE;
    eng.state.op_bank = BW_BANK_NONE;
    eng.state.op_progress = 0;
    if (eng.state.lkg_bank == bank) {
        eng.state.lkg_bank = BW_BANK_NONE;
        eng.state.lkg_version = 0;
    }
    return save_state();
}

static bw_err open_stream(uint8_t bank, uint32_t *resume_offset, bw_update_diag *why);
static bw_err kernel_begin(const uint8_t *head, size_t len, uint32_t *resume_offset,
                           bw_update_diag *why);

bw_err bw_update_begin(const uint8_t *head, size_t len, uint32_t *resume_offset,
                       bw_update_diag *why)
{
    if (why != NULL) {
        memset(why, 0, sizeof *why);
    }
    if (len >= 4u && bw_get32(head) == BW_SEAL_MAGIC) {
        return kernel_begin(head, len, resume_offset, why);
    }
    if (!bw_update_available()) {   /* no storage, or no trusted key yet */
        return fail(why, BW_UPDATE_E_STORAGE, BW_E_UNAVAILABLE);
    }
    if (eng.state.trial) {
        return fail(why, BW_UPDATE_E_ON_TRIAL, BW_E_IN_USE);
    }
    bw_bundle_layout layout;
    bw_manifest m;
    bw_err err = check_head(head, len, false, &layout, &m, why);
    if (err == BW_OK) {
        err = bw_manifest_check_rollback(&m, rollback_floor(), why != NULL ? &why->manifest : NULL);
        if (err != BW_OK) {
            return fail(why, BW_UPDATE_E_BUNDLE, err);
        }
    }
    if (err != BW_OK) {
        return err;
    }
    uint32_t head_len = layout.layers_offset;
    uint8_t bank = download_bank();
    const bw_flash_partition *b = bank_part(bank);
    uint32_t image = head_area_size(b);

    int same = 0, identical = 0;
    err = bank_holds_bundle(bank, head, &layout, &same, &identical);
    if (err != BW_OK) {
        return fail(why, BW_UPDATE_E_FLASH, err);
    }
    eng.layout = layout;
    eng.manifest = m;
    eng.piece_fill = 0;
    if (!identical) {
        /* Journal first: the bank's old download (or last-known-good) is
         * released before its head changes, so no record ever names a bank
         * whose head is not the bundle its image belongs to. The same bundle
         * under another head (re-signed) keeps its progress. */
        bw_update_state kept = eng.state;
        err = release_bank(bank);
        if (err == BW_OK) {
            err = erase_always(b, 0, image);
        }
        if (err == BW_OK) {
            err = program_padded(b, 0, head, head_len);
        }
        if (err == BW_OK) {
            eng.state.op = same ? kept.op : BW_UPDATE_OP_DOWNLOADING;
            eng.state.op_bank = bank;
            eng.state.op_progress = same ? kept.op_progress : 0u;
            err = save_state();
        }
        if (err != BW_OK) {
            return fail(why, BW_UPDATE_E_FLASH, err);
        }
    }
    return open_stream(bank, resume_offset, why);
}

/* The journal names the download of eng.layout / eng.manifest in bank:
 * gets its image area ready to receive from the journaled progress on (or
 * nothing left to receive, when it is downloaded). */
static bw_err open_stream(uint8_t bank, uint32_t *resume_offset, bw_update_diag *why)
{
    const bw_manifest *m = &eng.manifest;
    if (eng.state.op == BW_UPDATE_OP_DOWNLOADED) {
        eng.begun = 1;
        eng.receiving = 0;
        eng.next_stream = m->layer_data_size;
        *resume_offset = eng.layout.bundle_size;
        return BW_OK;
    }
    /* Progress is in pages. The sector holding the resume page keeps its
     * pages (flush_piece checks those it is asked to program again); the
     * sectors after it are erased. */
    const bw_flash_partition *b = bank_part(bank);
    uint32_t image = image_base(bank);
    uint32_t sector = sector_of(b);
    uint32_t page = eng.state.op_progress;
    uint32_t first = page * PIECE / sector;
    eng.resumed_sector = NO_SECTOR;
    if (page * PIECE % sector != 0) {
        eng.resumed_sector = first * sector;
        first++;
    }
    bw_err err = BW_OK;
    for (uint32_t k = first; k * sector < m->regions[0].size && err == BW_OK; k++) {
        int erased = 0;
        err = prepare_sector(b, image + k * sector, layers_cover(m, k * sector, sector), &erased);
    }
    if (err != BW_OK) {
        return fail(why, BW_UPDATE_E_FLASH, err);
    }
    eng.begun = 1;
    eng.receiving = 1;
    eng.rewound = 0;
    eng.next_stream = stream_resume_point(page, PIECE);
    *resume_offset = eng.layout.layers_offset + eng.next_stream;
    return BW_OK;
}

/* ---- kernel delivery (docs/SPEC.md §19.6) ----
 *
 * A signed kernel file (seal, then image) is one more kind of download: the
 * staged-kernel area is its "bank" (BW_BANK_KERNEL), its image area starts at
 * 0 and the seal (the file's head) goes after it, where §19.5 keeps a
 * kernel area's seal. The stream code above does the rest with a one-layer
 * manifest made from the seal. The engine never trusts the stub's journal
 * to hold anything it did not check: at install it only appends *staged*,
 * and the stub verifies the area again before it swaps. */

static bool kernel_storage(void)
{
    const bw_flash_partition *k = eng.cfg.kernel_staged;
    return eng.ready && k != NULL && eng.cfg.kernel_state != NULL
           && eng.cfg.kernel_slot_size % sector_of(k) == 0 && eng.cfg.kernel_slot_size < k->size
           && eng.cfg.kernel_slot_size / PIECE <= UINT16_MAX && sector_of(k) % PIECE == 0
           && unit_of(k) <= MAX_PROGRAM_UNIT;
}

static bw_err kernel_refused(bw_update_diag *why, bw_seal_error error)
{
    if (why != NULL) {
        why->seal = (uint8_t)error;
    }
    return fail(why, BW_UPDATE_E_KERNEL, BW_E_INVALID);
}

static bw_err kernel_not_newer(bw_update_diag *why, uint32_t version)
{
    if (why != NULL) {
        why->kernel_version = version;
    }
    return fail(why, BW_UPDATE_E_KERNEL_NOT_NEWER, BW_E_DENIED);
}

/* The stub's journal must be at rest (no kernel on trial) before a kernel is
 * received or staged; *state is its newest record. */
static bw_err kernel_journal_at_rest(bw_journal *journal, bw_kstate *state, bw_update_diag *why)
{
    bw_err err = bw_kstate_load(journal, eng.cfg.kernel_state, state);
    if (err != BW_OK) {
        return fail(why, BW_UPDATE_E_FLASH, err);
    }
    switch (state->state) {
    case BW_KSTATE_IDLE:
    case BW_KSTATE_STAGED:
    case BW_KSTATE_CONFIRMED:
    case BW_KSTATE_REFUSED:
    case BW_KSTATE_REVERTED:
        return BW_OK;
    default:
        return fail(why, BW_UPDATE_E_KERNEL_BUSY, BW_E_IN_USE);
    }
}

static bw_err kernel_begin(const uint8_t *head, size_t len, uint32_t *resume_offset,
                           bw_update_diag *why)
{
    if (!kernel_storage()) {
        return fail(why, BW_UPDATE_E_STORAGE, BW_E_UNAVAILABLE);
    }
    const bw_flash_partition *k = eng.cfg.kernel_staged;
    uint32_t slot = eng.cfg.kernel_slot_size;
    bw_seal seal;
    bw_seal_error se = bw_seal_parse(head, len, eng.cfg.board, slot, &seal);
    if (se == BW_SEAL_OK && (len != BW_SEAL_CERT_OFFSET + (size_t)seal.cert_len || len > k->size - slot)) {
        se = BW_SEAL_E_MALFORMED;   /* the head is exactly the seal, and it fits the seal area */
    }
    if (se == BW_SEAL_OK) {
        se = bw_seal_check_chain(&seal, eng.cfg.kernel_root_hash);
    }
    if (se != BW_SEAL_OK) {
        return kernel_refused(why, se);
    }
    if (seal.version <= eng.cfg.kernel_running_version) {
        return kernel_not_newer(why, seal.version);
    }
    bw_journal journal;
    bw_kstate ks;
    bw_err err = kernel_journal_at_rest(&journal, &ks, why);
    if (err != BW_OK) {
        return err;
    }
    int same = 0;
    if ((eng.state.op == BW_UPDATE_OP_DOWNLOADING || eng.state.op == BW_UPDATE_OP_DOWNLOADED)
        && eng.state.op_bank == BW_BANK_KERNEL) {
        err = flash_equals(k, slot, head, (uint32_t)len, &same);
        if (err != BW_OK) {
            return fail(why, BW_UPDATE_E_FLASH, err);
        }
    }
    if (!same) {
        /* Journal first, as for a bank: no record names the area, and the
         * stub's journal does not name it as staged, before it is erased. */
        if (eng.state.op == BW_UPDATE_OP_DOWNLOADING || eng.state.op == BW_UPDATE_OP_DOWNLOADED) {
            eng.state.op = BW_UPDATE_OP_NONE;
            eng.state.op_bank = BW_BANK_NONE;
            eng.state.op_progress = 0;
            err = save_state();
        }
        if (err == BW_OK && ks.state == BW_KSTATE_STAGED) {
            ks.state = BW_KSTATE_IDLE;
            err = bw_kstate_save(&journal, &ks);
        }
        if (err == BW_OK) {
            err = erase_always(k, slot, k->size - slot);
        }
        if (err == BW_OK) {
            err = program_padded(k, slot, head, (uint32_t)len);
        }
        if (err == BW_OK) {
            eng.state.op = BW_UPDATE_OP_DOWNLOADING;
            eng.state.op_bank = BW_BANK_KERNEL;
            eng.state.op_progress = 0;
            err = save_state();
        }
        if (err != BW_OK) {
            return fail(why, BW_UPDATE_E_FLASH, err);
        }
    }
    /* The stream: one layer, the image, at the area's start. */
    memset(&eng.manifest, 0, sizeof eng.manifest);
    eng.manifest.app_version = seal.version;
    eng.manifest.region_count = 1;
    eng.manifest.regions[0].size = slot;
    eng.manifest.layer_count = 1;
    eng.manifest.layers[0].length = seal.image_size;
    memcpy(eng.manifest.layers[0].fetch_hash, seal.image_hash, BW_SHA256_SIZE);
    eng.manifest.layer_data_size = seal.image_size;
    eng.layout = (bw_bundle_layout){ .layers_offset = (uint32_t)len,
                                     .bundle_size = (uint32_t)len + seal.image_size };
    eng.piece_fill = 0;
    if (mbedtls_sha256(head, len, eng.kernel_seal_hash, 0) != 0) {
        return fail(why, BW_UPDATE_E_FLASH, BW_E_IO);
    }
    return open_stream(BW_BANK_KERNEL, resume_offset, why);
}

/* The received image hashes to the seal's hash, and the seal in flash is the
 * one begun (a cut or a flash fault never leaves another). */
static bw_err kernel_finish(bw_update_diag *why)
{
    const bw_flash_partition *k = eng.cfg.kernel_staged;
    uint8_t digest[BW_SHA256_SIZE];
    bw_err err = hash_range(k, 0, eng.manifest.layers[0].length, digest);
    bool good = err == BW_OK && memcmp(digest, eng.manifest.layers[0].fetch_hash, sizeof digest) == 0;
    if (err == BW_OK && good) {
        err = hash_range(k, eng.cfg.kernel_slot_size, eng.layout.layers_offset, digest);
        good = err == BW_OK && memcmp(digest, eng.kernel_seal_hash, sizeof digest) == 0;
    }
    if (err != BW_OK && err != BW_E_TORN) {
        return fail(why, BW_UPDATE_E_FLASH, err);   /* unread, not refuted: FINISH again */
    }
    eng.receiving = 0;
    if (!good) {
        eng.state.op = BW_UPDATE_OP_NONE;
        eng.state.op_bank = BW_BANK_NONE;
        eng.state.op_progress = 0;
        (void)save_state();
        return kernel_refused(why, BW_SEAL_E_TAMPERED);
    }
    eng.state.op = BW_UPDATE_OP_DOWNLOADED;
    err = save_state();
    return err == BW_OK ? BW_OK : fail(why, BW_UPDATE_E_FLASH, err);
}

/* The seal of the kernel downloaded into the staged area (read into
 * head_buf): its version. BW_E_INVALID when it no longer parses. */
static bw_err kernel_downloaded_version(uint32_t *version)
{
    const bw_flash_partition *k = eng.cfg.kernel_staged;
    uint32_t area = k->size - eng.cfg.kernel_slot_size;
    uint32_t n = area < sizeof head_buf ? area : (uint32_t)sizeof head_buf;
    eng.head_fill = 0;   /* head_buf is the staged head's too */
    bw_err err = bw_flash_read(k, eng.cfg.kernel_slot_size, head_buf, n);
    if (err == BW_E_TORN) {
        return BW_E_INVALID;
    }
    bw_seal seal;
    if (err == BW_OK && bw_seal_parse(head_buf, n, eng.cfg.board, eng.cfg.kernel_slot_size, &seal)
                            != BW_SEAL_OK) {
        return BW_E_INVALID;
    }
    *version = seal.version;
    return err;
}

/* Drops the journal's kernel download (nothing left to install). */
static bw_err kernel_drop(void)
{
    eng.state.op = BW_UPDATE_OP_NONE;
    eng.state.op_bank = BW_BANK_NONE;
    eng.state.op_progress = 0;
    return save_state();
}

/* INSTALL of a downloaded kernel: a *staged* record for the stub, then the
 * download is over; the caller resets into the stub. */
static bw_err kernel_install(bw_update_outcome *outcome, bw_update_diag *why)
{
    uint32_t tag = eng.kernel_tag;   /* this install's, whatever comes of it */
    eng.kernel_tag = 0;
    if (!kernel_storage()) {
        return fail(why, BW_UPDATE_E_STORAGE, BW_E_UNAVAILABLE);
    }
    uint32_t version = 0;
    bw_err err = kernel_downloaded_version(&version);
    if (err == BW_E_INVALID) {
        (void)kernel_drop();
        return kernel_refused(why, BW_SEAL_E_MALFORMED);
    }
    if (err != BW_OK) {
        return fail(why, BW_UPDATE_E_FLASH, err);
    }
    if (version <= eng.cfg.kernel_running_version) {
        (void)kernel_drop();
        return kernel_not_newer(why, version);
    }
    bw_journal journal;
    bw_kstate ks;
    err = kernel_journal_at_rest(&journal, &ks, why);
    if (err != BW_OK) {
        return err;
    }
    ks.state = BW_KSTATE_STAGED;
    ks.boots = 0;
    ks.reason = BW_KREASON_NONE;
    ks.version = version;
    ks.tag = tag;
    err = bw_kstate_save(&journal, &ks);
    if (err == BW_OK) {
        err = kernel_drop();   /* a cut before it: boot drops the stale download (below) */
    }
    if (err != BW_OK) {
        return fail(why, BW_UPDATE_E_FLASH, err);
    }
    *outcome = BW_UPDATE_RESET_FOR_KERNEL;
    return BW_OK;
}

/* At boot: a kernel download is kept for a resume only while it can still
 * be installed (storage, and a version above the running kernel's: after
 * the stub took it, it is the running kernel). */
static bw_err kernel_boot(void)
{
    if (eng.state.op_bank != BW_BANK_KERNEL
        || (eng.state.op != BW_UPDATE_OP_DOWNLOADING && eng.state.op != BW_UPDATE_OP_DOWNLOADED)) {
        return BW_OK;
    }
    if (!kernel_storage()) {
        return kernel_drop();
    }
    uint32_t version = 0;
    bw_err err = kernel_downloaded_version(&version);
    if (err == BW_E_INVALID || (err == BW_OK && version <= eng.cfg.kernel_running_version)) {
        return kernel_drop();
    }
    return err;
}

void bw_update_set_kernel_tag(uint32_t tag)
{
    eng.kernel_tag = tag;
}

bw_err bw_update_head_put(uint32_t offset, const uint8_t *data, size_t len, uint32_t *held)
{
    if (offset == 0) {
        eng.head_fill = 0;
    }
    if (offset != eng.head_fill) {
        *held = eng.head_fill;
        return BW_E_INVALID;
    }
    if (len > sizeof head_buf - eng.head_fill) {
        eng.head_fill = 0;
        *held = 0;
        return BW_E_SIZE;
    }
    memcpy(head_buf + eng.head_fill, data, len);
    eng.head_fill += (uint32_t)len;
    *held = eng.head_fill;
    return BW_OK;
}

const uint8_t *bw_update_head_staged(uint32_t *held)
{
    *held = eng.head_fill;
    return head_buf;
}

bw_err bw_update_begin_staged(size_t len, uint32_t *resume_offset, bw_update_diag *why)
{
    uint32_t held = eng.head_fill;
    eng.head_fill = 0;
    if (len != held || len == 0) {
        if (why != NULL) {
            memset(why, 0, sizeof *why);
        }
        return BW_E_INVALID;
    }
    return bw_update_begin(head_buf, len, resume_offset, why);
}

bw_err bw_update_begin_from_bank(uint32_t head_len, const uint8_t head_sha256[BW_SHA256_SIZE],
                                 uint32_t *resume_offset, bw_update_diag *why)
{
    if (why != NULL) {
        memset(why, 0, sizeof *why);
    }
    uint8_t bank = download_bank();
    if (!eng.ready || head_len == 0 || head_len > sizeof head_buf
        || (eng.state.op != BW_UPDATE_OP_DOWNLOADING && eng.state.op != BW_UPDATE_OP_DOWNLOADED)
        || eng.state.op_bank != bank) {
        return BW_E_UNAVAILABLE;
    }
    eng.head_fill = 0;
    bw_err err = bw_flash_read(bank_part(bank), 0, head_buf, head_len);
    if (err != BW_OK) {
        return fail(why, BW_UPDATE_E_FLASH, err);
    }
    uint8_t digest[BW_SHA256_SIZE];
    if (mbedtls_sha256(head_buf, head_len, digest, 0) != 0
        || memcmp(digest, head_sha256, sizeof digest) != 0) {
        return BW_E_UNAVAILABLE;
    }
    return bw_update_begin(head_buf, head_len, resume_offset, why);
}

bw_err bw_update_download_info(bw_update_download *out)
{
    if (!eng.begun) {
        return BW_E_UNAVAILABLE;
    }
    *out = (bw_update_download){ .kernel = eng.state.op_bank == BW_BANK_KERNEL,
                                 .app_version = eng.manifest.app_version,
                                 .bundle_size = eng.layout.bundle_size,
                                 .polite_seconds = eng.manifest.update.polite_seconds };
    return BW_OK;
}

uint32_t bw_update_expected_offset(void)
{
    return eng.receiving ? eng.layout.layers_offset + eng.next_stream : 0u;
}

/* Pages of the image area complete: every stream byte before them programmed. */
static uint32_t pages_done(void)
{
    if (eng.piece_fill != 0) {
        return eng.piece_offset / PIECE;
    }
    return (stream_to_image(eng.next_stream) + PIECE - 1u) / PIECE;
}

/* A program failed in the sector resumed mid-way (ECC flash: a torn program
 * there left a unit that reads blank but is spent): journal the progress
 * back to the sector's start, erase it, and restart the stream there. */
static bw_err rewind_resumed_sector(void)
{
    const bw_flash_partition *b = bank_part(eng.state.op_bank);
    uint32_t at = eng.resumed_sector;
    eng.resumed_sector = NO_SECTOR;
    eng.state.op_progress = (uint16_t)(at / PIECE);
    bw_err err = save_state();
    if (err == BW_OK) {
        err = bw_flash_erase_sector(b, image_base(eng.state.op_bank) + at);
    }
    eng.piece_fill = 0;
    eng.next_stream = stream_resume_point(at / PIECE, PIECE);
    eng.rewound = err == BW_OK;
    return err;
}

/* Programs the pending piece (padded with 0xFF). In the sector resumed mid-way
 * a piece may have been programmed after the journal's record: one that
 * already holds exactly these bytes is left alone. On a failure the piece
 * stays pending (its bytes are still held), unless the stream was rewound. */
static bw_err flush_piece(void)
{
    if (eng.piece_fill == 0) {
        return BW_OK;
    }
    const bw_flash_partition *b = bank_part(eng.state.op_bank);
    uint32_t at = image_base(eng.state.op_bank) + eng.piece_offset;
    bool resumed = eng.resumed_sector != NO_SECTOR && eng.piece_offset - eng.resumed_sector < sector_of(b);
    memset(eng.piece + eng.piece_fill, 0xFF, PIECE - eng.piece_fill);
    bw_err err = BW_OK;
    int done = 0;
    if (resumed) {
        _Static_assert(PIECE == COPY_CHUNK, "a piece is read in one chunk");
        err = bw_flash_read(b, at, chunk_buf, PIECE);
        done = err == BW_OK && memcmp(chunk_buf, eng.piece, PIECE) == 0;   /* programmed before the cut */
        if (err == BW_E_TORN) {
            err = BW_OK;   /* torn by the cut: the program below is refused, and rewinds */
        }
    }
    if (err == BW_OK && !done) {
        err = bw_flash_program(b, at, eng.piece, PIECE);
    }
    if (err == BW_OK) {
        eng.piece_fill = 0;
    } else if (err == BW_E_INVALID && resumed) {
        bw_err rewind = rewind_resumed_sector();
        return rewind == BW_OK ? BW_E_INVALID : rewind;
    }
    return err;
}

/* Journals the progress once BW_UPDATE_PROGRESS_PAGES more pages are
 * complete, or all of them. */
static bw_err journal_progress(void)
{
    uint32_t done = pages_done();
    bool complete = eng.next_stream == eng.manifest.layer_data_size;
    if (done > eng.state.op_progress
        && (done - eng.state.op_progress >= BW_UPDATE_PROGRESS_PAGES || complete)) {
        uint16_t before = eng.state.op_progress;
        eng.state.op_progress = (uint16_t)done;
        bw_err err = save_state();
        if (err != BW_OK) {
            eng.state.op_progress = before;   /* not recorded: the next write tries again */
        }
        return err;
    }
    return BW_OK;
}

/* A flush failed: a rewound stream asks the sender to go back (E_OFFSET). */
static bw_err write_failed(bw_update_diag *why, bw_err err)
{
    if (eng.rewound) {
        eng.rewound = 0;
        return fail(why, BW_UPDATE_E_OFFSET, BW_E_INVALID);
    }
    return fail(why, BW_UPDATE_E_FLASH, err);
}

bw_err bw_update_write(uint32_t offset, const uint8_t *data, size_t len, bw_update_diag *why)
{
    if (why != NULL) {
        memset(why, 0, sizeof *why);
    }
    if (!eng.receiving || eng.state.op != BW_UPDATE_OP_DOWNLOADING) {
        return fail(why, BW_UPDATE_E_NO_DOWNLOAD, BW_E_UNAVAILABLE);
    }
    /* A resend of data the engine partly holds (a write that failed midway)
     * is taken from the first byte it does not hold. */
    uint32_t expected = eng.layout.layers_offset + eng.next_stream;
    if (offset < expected && len >= expected - offset) {
        data += expected - offset;
        len -= expected - offset;
        offset = expected;
    }
    if (offset != expected || len > eng.manifest.layer_data_size - eng.next_stream) {
        return fail(why, BW_UPDATE_E_OFFSET, BW_E_INVALID);
    }
    while (len > 0) {
        const bw_manifest_layer *l = stream_layer(eng.next_stream);
        uint32_t pos = l->region_offset + (eng.next_stream - l->data_offset);
        uint32_t piece_start = pos / PIECE * PIECE;
        if (eng.piece_fill != 0 && piece_start != eng.piece_offset) {
            bw_err err = flush_piece();
            if (err != BW_OK) {
                return write_failed(why, err);
            }
        }
        if (eng.piece_fill == 0) {
            eng.piece_offset = piece_start;
        }
        uint32_t in_piece = pos - piece_start;
        uint32_t layer_left = l->data_offset + l->length - eng.next_stream;
        uint32_t n = PIECE - in_piece;
        n = n < layer_left ? n : layer_left;
        n = n < len ? n : (uint32_t)len;
        memcpy(eng.piece + in_piece, data, n);
        eng.piece_fill = in_piece + n;
        if (eng.piece_fill == PIECE || n == layer_left) {
            bw_err err = flush_piece();
            if (err != BW_OK) {
                if (!eng.rewound) {
                    eng.piece_fill = in_piece;   /* these n bytes are not held: expected again */
                }
                return write_failed(why, err);
            }
        }
        eng.next_stream += n;   /* held: programmed, or pending in the piece */
        data += n;
        len -= n;
    }
    bw_err err = journal_progress();
    return err == BW_OK ? BW_OK : fail(why, BW_UPDATE_E_FLASH, err);
}

bw_err bw_update_finish(bw_update_diag *why)
{
    if (why != NULL) {
        memset(why, 0, sizeof *why);
    }
    if (eng.state.op == BW_UPDATE_OP_DOWNLOADED && !eng.receiving) {
        return BW_OK;
    }
    if (!eng.receiving || eng.state.op != BW_UPDATE_OP_DOWNLOADING) {
        return fail(why, BW_UPDATE_E_NO_DOWNLOAD, BW_E_UNAVAILABLE);
    }
    if (eng.next_stream != eng.manifest.layer_data_size) {
        return fail(why, BW_UPDATE_E_INCOMPLETE, BW_E_INVALID);
    }
    if (eng.state.op_bank == BW_BANK_KERNEL) {
        return kernel_finish(why);
    }
    const bw_flash_partition *b = bank_part(eng.state.op_bank);
    uint32_t image = head_area_size(b);
    bw_manifest_diag *md = why != NULL ? &why->manifest : NULL;
    uint8_t digest[BW_SHA256_SIZE];
    bw_err err = BW_OK;
    for (unsigned i = 0; err == BW_OK && i < eng.manifest.layer_count; i++) {
        const bw_manifest_layer *l = &eng.manifest.layers[i];
        err = hash_range(b, image + l->region_offset, l->length, digest);
        if (err != BW_OK) {
            return fail(why, BW_UPDATE_E_FLASH, err);
        }
        err = bw_manifest_check_layer_hash(&eng.manifest, i, digest, md);
    }
    if (err == BW_OK) {
        err = measure(b, image, eng.manifest.regions[0].size, digest);
        if (err != BW_OK) {
            return fail(why, BW_UPDATE_E_FLASH, err);
        }
        err = bw_manifest_check_measurement(&eng.manifest, 0, digest, md);
    }
    eng.receiving = 0;
    if (err != BW_OK) {
        /* A bad bundle is dropped: the next begin starts afresh. */
        eng.state.op = BW_UPDATE_OP_NONE;
        eng.state.op_bank = BW_BANK_NONE;
        eng.state.op_progress = 0;
        (void)save_state();
        return fail(why, BW_UPDATE_E_BUNDLE, err);
    }
    eng.state.op = BW_UPDATE_OP_DOWNLOADED;
    err = save_state();
    return err == BW_OK ? BW_OK : fail(why, BW_UPDATE_E_FLASH, err);
}

bw_err bw_update_install(bw_update_outcome *outcome, bw_update_diag *why)
{
    if (why != NULL) {
        memset(why, 0, sizeof *why);
    }
    *outcome = BW_UPDATE_RUN_APP;
    if (!eng.ready || eng.state.op != BW_UPDATE_OP_DOWNLOADED) {
        return fail(why, BW_UPDATE_E_NO_DOWNLOAD, BW_E_UNAVAILABLE);
    }
    uint8_t bank = eng.state.op_bank;
    if (bank == BW_BANK_KERNEL) {
        return kernel_install(outcome, why);
    }
    bw_bundle_layout layout;
    bw_manifest m;
    bw_err err = load_bank_head(bank, false, &layout, &m, why);
    if (err == BW_OK) {
        err = bw_manifest_check_rollback(&m, rollback_floor(), why != NULL ? &why->manifest : NULL);
        if (err != BW_OK) {
            (void)fail(why, BW_UPDATE_E_BUNDLE, err);
        }
    }
    if (err != BW_OK) {
        return err;
    }
    if (eng.state.current_bank == BW_BANK_NONE) {
        eng.state.op = BW_UPDATE_OP_BACKUP;
        eng.state.op_bank = (uint8_t)(bank ^ 1u);
        eng.state.op_progress = 0;
        err = save_state();
        return err == BW_OK ? finish_backup(outcome, why) : fail(why, BW_UPDATE_E_FLASH, err);
    }
    eng.state.lkg_bank = eng.state.current_bank;
    eng.state.lkg_version = eng.state.current_version;
    eng.state.op = BW_UPDATE_OP_INSTALLING;
    eng.state.op_progress = 0;
    err = save_state();
    return err == BW_OK ? finish_install(outcome, why) : fail(why, BW_UPDATE_E_FLASH, err);
}

bw_err bw_update_rollback(bw_rollback_cause cause, bw_update_outcome *outcome,
                          bw_update_diag *why)
{
    if (why != NULL) {
        memset(why, 0, sizeof *why);
    }
    *outcome = BW_UPDATE_RUN_APP;
    if (!eng.ready || eng.state.lkg_bank == BW_BANK_NONE) {
        return fail(why, BW_UPDATE_E_NO_LKG, BW_E_UNAVAILABLE);
    }
    eng.state.op = BW_UPDATE_OP_ROLLING_BACK;
    eng.state.op_bank = eng.state.lkg_bank;
    eng.state.op_progress = 0;
    eng.state.rollback_cause = (uint8_t)cause;
    bw_err err = save_state();
    return err == BW_OK ? finish_rollback(outcome, why) : fail(why, BW_UPDATE_E_FLASH, err);
}

bw_err bw_update_app_healthy(void)
{
    if (!eng.ready || !eng.state.trial) {
        return BW_OK;
    }
    eng.state.trial = 0;
    return save_state();
}

const char *bw_update_error_text(bw_update_error error)
{
    static const char *const text[BW_UPDATE_E_COUNT] = {
        [BW_UPDATE_OK] = "ok",
        [BW_UPDATE_E_BUNDLE] = "bundle rejected",
        [BW_UPDATE_E_STORAGE] = "this device has no update storage",
        [BW_UPDATE_E_FLASH] = "flash operation failed",
        [BW_UPDATE_E_ON_TRIAL] = "the running app has not yet proved healthy",
        [BW_UPDATE_E_NO_DOWNLOAD] = "no download in progress",
        [BW_UPDATE_E_OFFSET] = "data not at the expected offset",
        [BW_UPDATE_E_LAYER_ORDER] = "layers not in region order or not 256-byte aligned",
        [BW_UPDATE_E_INCOMPLETE] = "the bundle is not complete",
        [BW_UPDATE_E_VERIFY] = "the installed app did not verify",
        [BW_UPDATE_E_NO_LKG] = "no last-known-good app to roll back to",
        [BW_UPDATE_E_KERNEL] = "kernel refused",
        [BW_UPDATE_E_KERNEL_NOT_NEWER] = "the kernel is not newer than the running one",
        [BW_UPDATE_E_KERNEL_BUSY] = "the running kernel is on trial (not yet confirmed): no new kernel until it is",
    };
    return (unsigned)error < BW_UPDATE_E_COUNT && text[error] != NULL ? text[error] : "unknown error";
}

size_t bw_update_describe(const bw_update_diag *why, char *out, size_t size)
{
    if (size == 0) {
        return 0;
    }
    if (why->error == BW_UPDATE_E_BUNDLE && why->manifest.error != BW_MANIFEST_OK) {
        return bw_manifest_describe(&why->manifest, out, size);
    }
    if (why->error == BW_UPDATE_E_KERNEL) {
        return bw_format(out, size, "kernel refused: %s", bw_seal_describe((bw_seal_error)why->seal));
    }
    if (why->error == BW_UPDATE_E_KERNEL_NOT_NEWER) {
        char v[16], r[16];
        bw_kslots_version_text(why->kernel_version, v);
        bw_kslots_version_text(eng.cfg.kernel_running_version, r);
        return bw_format(out, size, "kernel %s is not newer than the running kernel %s", v, r);
    }
    const char *text = bw_update_error_text(why->error);
    size_t n = strlen(text);
    n = n < size - 1u ? n : size - 1u;
    memcpy(out, text, n);
    out[n] = '\0';
    return n;
}
