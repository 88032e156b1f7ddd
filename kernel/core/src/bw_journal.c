/* The journal ring (bw_journal.h). */
#include "bw_journal.h"

#include "bw_bytes.h"

static bool valid(const bw_journal *j, const uint8_t r[BW_JOURNAL_RECORD_SIZE])
{
    return r[4] == j->magic && r[5] == j->format && bw_get32(r + 28) == bw_crc32(r, 28);
}

static bool blank(const uint8_t *r, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        if (r[i] != 0xFFu) {
            return false;
        }
    }
    return true;
}

/* Sets where the next record goes, given the newest record's slot: the first
 * blank slot after it in its sector, else the start of the next sector (to be
 * erased first). */
static bw_err place_next(bw_journal *j, uint32_t newest_offset, bool have_newest)
{
    uint32_t sector = j->partition->device->sector_size;
    if (!have_newest) {
        j->next_offset = 0;
        j->next_needs_erase = 1;   /* an empty journal starts on a freshly erased sector */
        return BW_OK;
    }
    uint32_t sector_end = (newest_offset / sector + 1u) * sector;
    for (uint32_t offset = newest_offset + BW_JOURNAL_RECORD_SIZE; offset < sector_end;
         offset += BW_JOURNAL_RECORD_SIZE) {
        uint8_t r[BW_JOURNAL_RECORD_SIZE];
        bw_err err = bw_flash_read(j->partition, offset, r, sizeof r);
        if (err == BW_E_TORN) {
            continue;   /* a torn slot: not blank */
        }
        if (err != BW_OK) {
            return err;
        }
        if (blank(r, sizeof r)) {
            j->next_offset = offset;
            j->next_needs_erase = 0;
            return BW_OK;
        }
    }
    j->next_offset = sector_end % j->partition->size;
    j->next_needs_erase = 1;
    return BW_OK;
}

bw_err bw_journal_load(bw_journal *journal, const bw_flash_partition *partition, uint8_t magic,
                       uint8_t format, uint8_t newest[BW_JOURNAL_RECORD_SIZE], bool *found)
{
    *found = false;
    if (partition == NULL || partition->device == NULL) {
        return BW_E_UNAVAILABLE;
    }
    uint32_t sector = partition->device->sector_size;
    if (partition->size / sector < 2u || sector < BW_JOURNAL_RECORD_SIZE) {
        return BW_E_SIZE;
    }
    *journal = (bw_journal){ .partition = partition, .magic = magic, .format = format };
    uint32_t newest_offset = 0;
    for (uint32_t offset = 0; offset + BW_JOURNAL_RECORD_SIZE <= partition->size;
         offset += BW_JOURNAL_RECORD_SIZE) {
        uint8_t r[BW_JOURNAL_RECORD_SIZE];
        bw_err err = bw_flash_read(partition, offset, r, sizeof r);
        if (err == BW_E_TORN) {
            continue;   /* a record whose append was cut: skipped like any torn record */
        }
        if (err != BW_OK) {
            return err;
        }
        if (valid(journal, r) && (!*found || bw_get32(r) > journal->last_seq)) {
            for (uint32_t i = 0; i < BW_JOURNAL_RECORD_SIZE; i++) {
                newest[i] = r[i];
            }
            journal->last_seq = bw_get32(r);
            newest_offset = offset;
            *found = true;
        }
    }
    return place_next(journal, newest_offset, *found);
}

bw_err bw_journal_append(bw_journal *journal, uint8_t record[BW_JOURNAL_RECORD_SIZE], uint32_t *seq)
{
    uint32_t sector = journal->partition->device->sector_size;
    uint32_t next_seq = journal->last_seq + 1u;
    bw_put32(record, next_seq);
    record[4] = journal->magic;
    record[5] = journal->format;
    bw_put32(record + 28, bw_crc32(record, 28));

    /* Bounded: at worst every slot of one sector is garbage, then a fresh sector. */
    for (uint32_t attempt = 0; attempt <= sector / BW_JOURNAL_RECORD_SIZE + 1u; attempt++) {
        if (journal->next_needs_erase) {
            bw_err err = bw_flash_erase_sector(journal->partition, journal->next_offset);
            if (err != BW_OK) {
                return err;
            }
            journal->next_needs_erase = 0;
        }
        bw_err err = bw_flash_program(journal->partition, journal->next_offset, record,
                                      BW_JOURNAL_RECORD_SIZE);
        if (err == BW_OK) {
            journal->last_seq = next_seq;
            *seq = next_seq;
            return place_next(journal, journal->next_offset, true);
        }
        if (err != BW_E_INVALID) {
            return err;
        }
        /* The slot was not blank after all: try the next blank one. */
        err = place_next(journal, journal->next_offset, true);
        if (err != BW_OK) {
            return err;
        }
    }
    return BW_E_IO;
}
