/*
 * Power-safe flash breakpoints (bw_debug_patch.h; record: SPEC §20.1).
 *
 * The store partition: record ring = every sector but the last; scratch =
 * the last sector. Record number s goes to ring slot s mod slots; a slot
 * that starts a sector has that sector erased first (the newest record is
 * then in the sector before, since the ring has >= 2 sectors); a slot that
 * is not blank (torn, garbage) is skipped by taking the next number.
 * Sectors are copied in CHUNK-byte pieces, so any sector size works with
 * only a small static buffer.
 *
 * State, all static: the partitions, the list of flash breakpoints the
 * newest record names, and the next record number.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bw_bytes.h"
#include "bw_config.h"
#include "bw_debug_packets.h"
#include "bw_debug_patch.h"

#define RECORD_MAGIC   0xD8u
#define RECORD_FORMAT  1u
#define STATE_IDLE     0u
#define STATE_PATCHING 1u
#define ENTRY_AT       16u
#define ENTRY_SIZE     8u
#define CRC_AT         (BW_DEBUG_PATCH_RECORD_SIZE - 4u)
#define CHUNK          256u

typedef struct entry {
    uint32_t offset;
    uint16_t original;
} entry;

typedef struct patch_list {
    uint32_t count;
    entry e[BW_DEBUG_BREAKPOINTS_MAX];
} patch_list;

typedef struct record {
    uint32_t seq;
    uint8_t state;
    uint32_t sector;        /* slot offset of the sector in doubt (PATCHING) */
    uint32_t scratch_crc;   /* CRC-32 of the scratch sector (PATCHING) */
    patch_list list;
} record;

static struct {
    const bw_flash_partition *slot;
    const bw_flash_partition *store;
    bool ready;
    uint32_t next_seq;
    patch_list list;
    uint8_t chunk[CHUNK];
} pt;

_Static_assert(ENTRY_AT + ENTRY_SIZE * BW_DEBUG_BREAKPOINTS_MAX <= CRC_AT, "record holds the list");

static uint32_t sector_size(void)
{
    return pt.store->device->sector_size;
}

/* Record slots in the ring. */
static uint32_t ring_slots(void)
{
    return (pt.store->size - sector_size()) / BW_DEBUG_PATCH_RECORD_SIZE;
}

static uint32_t scratch_at(void)
{
    return pt.store->size - sector_size();
}

/* ---- records ---- */

static void encode(const record *r, uint8_t out[BW_DEBUG_PATCH_RECORD_SIZE])
{
    memset(out, 0, BW_DEBUG_PATCH_RECORD_SIZE);
    bw_put32(out, r->seq);
    out[4] = RECORD_MAGIC;
    out[5] = RECORD_FORMAT;
    out[6] = r->state;
    out[7] = (uint8_t)r->list.count;
    bw_put32(out + 8, r->sector);
    bw_put32(out + 12, r->scratch_crc);
    for (uint32_t i = 0; i < r->list.count; i++) {
        bw_put32(out + ENTRY_AT + ENTRY_SIZE * i, r->list.e[i].offset);
        bw_put16(out + ENTRY_AT + ENTRY_SIZE * i + 4u, r->list.e[i].original);
    }
    bw_put32(out + CRC_AT, bw_crc32(out, CRC_AT));
}

/* Decodes a record read from flash (untrusted): magic, format, CRC, a known
 * state, a count within the table, entries even and inside the slot, a
 * sector in doubt that starts a slot sector. */
static bool decode(const uint8_t in[BW_DEBUG_PATCH_RECORD_SIZE], record *r)
{
    if (in[4] != RECORD_MAGIC || in[5] != RECORD_FORMAT || in[6] > STATE_PATCHING
        || in[7] > BW_DEBUG_BREAKPOINTS_MAX || bw_get32(in + CRC_AT) != bw_crc32(in, CRC_AT)) {
        return false;
    }
    *r = (record){ .seq = bw_get32(in), .state = in[6], .sector = bw_get32(in + 8),
                   .scratch_crc = bw_get32(in + 12), .list.count = in[7] };
    uint32_t slot_sector = pt.slot->device->sector_size;
    if (r->state == STATE_PATCHING
        && (r->sector % slot_sector != 0 || r->sector >= pt.slot->size)) {
        return false;
    }
    for (uint32_t i = 0; i < r->list.count; i++) {
        entry *e = &r->list.e[i];
        e->offset = bw_get32(in + ENTRY_AT + ENTRY_SIZE * i);
        e->original = bw_get16(in + ENTRY_AT + ENTRY_SIZE * i + 4u);
        if ((e->offset & 1u) != 0 || e->offset >= pt.slot->size - 1u) {
            return false;
        }
    }
    return true;
}

static bool blank(const uint8_t *p, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        if (p[i] != 0xFFu) {
            return false;
        }
    }
    return true;
}

/* Finds the newest valid record (none: an idle, empty one) and the next
 * record number. A torn slot (BW_E_TORN) is skipped; other read errors return. */
static bw_err load(record *newest)
{
    bool found = false;
    *newest = (record){ .state = STATE_IDLE };
    for (uint32_t i = 0; i < ring_slots(); i++) {
        uint8_t raw[BW_DEBUG_PATCH_RECORD_SIZE];
        record r;
        bw_err err = bw_flash_read(pt.store, i * BW_DEBUG_PATCH_RECORD_SIZE, raw, sizeof raw);
        if (err == BW_E_TORN) {
            continue;
        }
        if (err != BW_OK) {
            return err;
        }
        if (decode(raw, &r) && (!found || r.seq > newest->seq)) {
            *newest = r;
            found = true;
        }
    }
    pt.next_seq = found ? newest->seq + 1u : 0u;
    return BW_OK;
}

/* Appends r (its seq set here): atomic across power cuts. */
static bw_err save(record *r)
{
    uint8_t raw[BW_DEBUG_PATCH_RECORD_SIZE];
    uint32_t per_sector = sector_size() / BW_DEBUG_PATCH_RECORD_SIZE;
    /* Bounded: at worst every slot of one sector is skipped, then one is erased. */
    for (uint32_t tries = 0; tries <= per_sector; tries++, pt.next_seq++) {
        uint32_t slot = pt.next_seq % ring_slots();
        uint32_t at = slot * BW_DEBUG_PATCH_RECORD_SIZE;
        bw_err err = BW_OK;
        if (slot % per_sector == 0) {
            err = bw_flash_erase_sector(pt.store, at);
        } else {
            err = bw_flash_read(pt.store, at, raw, sizeof raw);
            if (err == BW_E_TORN || (err == BW_OK && !blank(raw, sizeof raw))) {
                continue;
            }
        }
        if (err != BW_OK) {
            return err;
        }
        r->seq = pt.next_seq;
        encode(r, raw);
        err = bw_flash_program(pt.store, at, raw, sizeof raw);
        if (err != BW_E_INVALID) {
            pt.next_seq += err == BW_OK ? 1u : 0u;
            return err;
        }
    }
    return BW_E_IO;
}

/* ---- sector copies ---- */

/* Puts into chunk (slot bytes [at, at+CHUNK)) each listed original whose
 * BKPT is still there (put_bkpt false), or a BKPT at each listed offset. */
static void patch_chunk(uint32_t at, const patch_list *list, bool put_bkpt)
{
    for (uint32_t i = 0; i < list->count; i++) {
        uint32_t k = list->e[i].offset - at;
        if (list->e[i].offset < at || k >= CHUNK) {
            continue;
        }
        if (put_bkpt) {
            bw_put16(pt.chunk + k, BW_DBG_BKPT);
        } else if (bw_get16(pt.chunk + k) == BW_DBG_BKPT) {
            bw_put16(pt.chunk + k, list->e[i].original);
        }
    }
}

/* Copies the slot sector at `sector` into scratch without the breakpoints
 * of list; *crc: CRC-32 of what scratch now holds. */
static bw_err save_original(uint32_t sector, const patch_list *list, uint32_t *crc)
{
    bw_err err = bw_flash_erase_sector(pt.store, scratch_at());
    *crc = 0;
    for (uint32_t k = 0; k < sector_size() && err == BW_OK; k += CHUNK) {
        err = bw_flash_read(pt.slot, sector + k, pt.chunk, CHUNK);
        if (err == BW_OK) {
            patch_chunk(sector + k, list, false);
            *crc = bw_crc32_update(*crc, pt.chunk, CHUNK);
            err = bw_flash_program(pt.store, scratch_at() + k, pt.chunk, CHUNK);
        }
    }
    return err;
}

/* CRC-32 of the scratch sector. */
static bw_err scratch_crc(uint32_t *crc)
{
    bw_err err = BW_OK;
    *crc = 0;
    for (uint32_t k = 0; k < sector_size() && err == BW_OK; k += CHUNK) {
        err = bw_flash_read(pt.store, scratch_at() + k, pt.chunk, CHUNK);
        *crc = bw_crc32_update(*crc, pt.chunk, CHUNK);
    }
    return err;
}

/* Slot sector <- scratch, with a BKPT at each offset of list inside it. */
static bw_err write_back(uint32_t sector, const patch_list *list)
{
    bw_err err = bw_flash_erase_sector(pt.slot, sector);
    for (uint32_t k = 0; k < sector_size() && err == BW_OK; k += CHUNK) {
        err = bw_flash_read(pt.store, scratch_at() + k, pt.chunk, CHUNK);
        if (err == BW_OK) {
            patch_chunk(sector + k, list, true);
            err = bw_flash_program(pt.slot, sector + k, pt.chunk, CHUNK);
        }
    }
    return err;
}

/* Rewrites the slot sector at `sector` so that it holds the original app
 * with exactly the breakpoints of want in it; want becomes the list. Any
 * error stops further patching until the next boot's recovery (a sector may
 * be in doubt: copying it again would save torn bytes as the original). */
static bw_err rewrite(uint32_t sector, const patch_list *want)
{
    pt.ready = false;
    record r = { .state = STATE_PATCHING, .sector = sector, .list = *want };
    bw_err err = save_original(sector, &pt.list, &r.scratch_crc);
    if (err == BW_OK) {
        err = save(&r);
    }
    if (err != BW_OK) {
        return err;
    }
    pt.list = *want;
    err = write_back(sector, want);
    if (err == BW_OK) {
        r = (record){ .state = STATE_IDLE, .list = *want };
        err = save(&r);
    }
    pt.ready = err == BW_OK;
    return err;
}

static uint32_t sector_of(uint32_t offset)
{
    return offset & ~(sector_size() - 1u);
}

/* list without the entries in the slot sector at `sector` (or at `offset` alone). */
static patch_list without(const patch_list *list, uint32_t sector, bool whole_sector, uint32_t offset)
{
    patch_list out = { 0 };
    for (uint32_t i = 0; i < list->count; i++) {
        bool drop = whole_sector ? sector_of(list->e[i].offset) == sector : list->e[i].offset == offset;
        if (!drop) {
            out.e[out.count++] = list->e[i];
        }
    }
    return out;
}

/* ---- public ---- */

bw_err bw_debug_patch_boot(const bw_flash_partition *slot, const bw_flash_partition *store,
                           uint32_t *undone)
{
    memset(&pt, 0, sizeof pt);
    if (undone != NULL) {
        *undone = 0;
    }
    if (slot == NULL || store == NULL) {
        return BW_E_UNAVAILABLE;
    }
    uint32_t sector = store->device->sector_size;
    if (store->size / sector < 3u || slot->device->sector_size != sector || sector % CHUNK != 0
        || store->device->program_unit > CHUNK || sector < BW_DEBUG_PATCH_RECORD_SIZE
        || store->device->program_unit > BW_DEBUG_PATCH_RECORD_SIZE) {
        return BW_E_SIZE;
    }
    pt.slot = slot;
    pt.store = store;
    record r;
    bw_err err = load(&r);
    if (err != BW_OK) {
        return err;
    }
    pt.list = r.list;
    uint32_t total = r.list.count;
    if (r.state == STATE_PATCHING) {
        uint32_t crc;
        err = scratch_crc(&crc);
        if (err == BW_OK && crc != r.scratch_crc) {
            err = BW_E_IO;
        }
        if (err == BW_OK) {
            err = write_back(r.sector, &(patch_list){ 0 });
        }
        if (err == BW_OK) {
            pt.list = without(&r.list, r.sector, true, 0);
            record idle = { .state = STATE_IDLE, .list = pt.list };
            err = save(&idle);
        }
    }
    while (err == BW_OK && pt.list.count > 0) {
        uint32_t at = sector_of(pt.list.e[0].offset);
        patch_list rest = without(&pt.list, at, true, 0);
        err = rewrite(at, &rest);
    }
    if (undone != NULL) {
        *undone = total - pt.list.count;
    }
    pt.ready = err == BW_OK;
    return err;
}

bw_err bw_debug_patch_set(uint32_t offset, uint16_t original)
{
    if (!pt.ready) {
        return BW_E_UNAVAILABLE;
    }
    if ((offset & 1u) != 0 || offset >= pt.slot->size - 1u) {
        return BW_E_FAULT;
    }
    for (uint32_t i = 0; i < pt.list.count; i++) {
        if (pt.list.e[i].offset == offset) {
            return BW_E_ALREADY;
        }
    }
    if (pt.list.count == BW_DEBUG_BREAKPOINTS_MAX) {
        return BW_E_FULL;
    }
    patch_list want = pt.list;
    want.e[want.count++] = (entry){ .offset = offset, .original = original };
    return rewrite(sector_of(offset), &want);
}

bw_err bw_debug_patch_clear(uint32_t offset)
{
    if (!pt.ready) {
        return BW_E_UNAVAILABLE;
    }
    patch_list want = without(&pt.list, 0, false, offset);
    if (want.count == pt.list.count) {
        return BW_OK;
    }
    return rewrite(sector_of(offset), &want);
}

uint32_t bw_debug_patch_count(void)
{
    return pt.list.count;
}
