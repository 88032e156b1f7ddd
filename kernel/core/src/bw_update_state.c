/*
 * Update state journal (bw_update_state.h).
 *
 * Layout: the partition is a ring of sectors, each a run of 32-byte slots.
 * A slot is blank (all 0xFF), a valid record (magic, format, CRC), or
 * anything else (torn or garbage, or unreadable: BW_E_TORN, an ECC error;
 * skipped, never programmed over). The newest
 * valid record by sequence number is the state. The next record goes to the
 * first blank slot after the newest record in its sector; when none is left
 * the following sector is erased and its first slot used.
 */
#include <string.h>

#include "bw_bytes.h"
#include "bw_identity.h"
#include "bw_update_state.h"

#define RECORD_MAGIC   0xB7u
#define RECORD_FORMAT  1u

static void encode(const bw_update_state *s, uint8_t r[BW_UPDATE_STATE_RECORD_SIZE])
{
    bw_put32(r, s->seq);
    r[4] = RECORD_MAGIC;
    r[5] = RECORD_FORMAT;
    r[6] = s->op;
    r[7] = s->op_bank;
    r[8] = s->current_bank;
    r[9] = s->lkg_bank;
    r[10] = s->trial;
    r[11] = 0;   /* reserved */
    r[12] = (uint8_t)s->op_progress;
    r[13] = (uint8_t)(s->op_progress >> 8);
    r[14] = s->rollback_cause;
    r[15] = 0;
    bw_put32(r + 16, s->current_version);
    bw_put32(r + 20, s->lkg_version);
    bw_put32(r + 24, s->highest_version);
    bw_put32(r + 28, bw_crc32(r, 28));
}

static int decode(const uint8_t r[BW_UPDATE_STATE_RECORD_SIZE], bw_update_state *s)
{
    if (r[4] != RECORD_MAGIC || r[5] != RECORD_FORMAT || bw_get32(r + 28) != bw_crc32(r, 28)) {
        return 0;
    }
    *s = (bw_update_state){
        .seq = bw_get32(r), .op = r[6], .op_bank = r[7], .current_bank = r[8], .lkg_bank = r[9],
        .trial = r[10], .op_progress = (uint16_t)(r[12] | r[13] << 8),
        .rollback_cause = r[14], .current_version = bw_get32(r + 16), .lkg_version = bw_get32(r + 20),
        .highest_version = bw_get32(r + 24),
    };
    return 1;
}

static int blank(const uint8_t *r, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        if (r[i] != 0xFFu) {
            return 0;
        }
    }
    return 1;
}

bw_update_state bw_update_state_initial(void)
{
    return (bw_update_state){
        .op = BW_UPDATE_OP_NONE, .op_bank = BW_BANK_NONE, .current_bank = BW_BANK_NONE,
        .lkg_bank = BW_BANK_NONE,
    };
}

/* Sets where the next record goes, given the newest record's slot: the first
 * blank slot after it in its sector, else the start of the next sector (to be
 * erased first). */
static bw_err place_next(bw_update_journal *j, uint32_t newest_offset, int have_newest)
{
    uint32_t sector = j->partition->device->sector_size;
    if (!have_newest) {
        j->next_offset = 0;
        j->next_needs_erase = 1;   /* an empty journal starts on a freshly erased sector */
        return BW_OK;
    }
    uint32_t sector_end = (newest_offset / sector + 1u) * sector;
    for (uint32_t offset = newest_offset + BW_UPDATE_STATE_RECORD_SIZE; offset < sector_end;
         offset += BW_UPDATE_STATE_RECORD_SIZE) {
        uint8_t r[BW_UPDATE_STATE_RECORD_SIZE];
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

bw_err bw_update_state_load(bw_update_journal *journal, const bw_flash_partition *partition,
                            bw_update_state *state)
{
    uint32_t sector = partition->device->sector_size;
    if (partition->size / sector < 2u || sector < BW_UPDATE_STATE_RECORD_SIZE) {
        return BW_E_SIZE;
    }
    *journal = (bw_update_journal){ .partition = partition };
    *state = bw_update_state_initial();

    int have_newest = 0;
    uint32_t newest_offset = 0;
    for (uint32_t offset = 0; offset + BW_UPDATE_STATE_RECORD_SIZE <= partition->size;
         offset += BW_UPDATE_STATE_RECORD_SIZE) {
        uint8_t r[BW_UPDATE_STATE_RECORD_SIZE];
        bw_update_state candidate;
        bw_err err = bw_flash_read(partition, offset, r, sizeof r);
        if (err == BW_E_TORN) {
            continue;   /* a record whose append was cut: skipped like any torn record */
        }
        if (err != BW_OK) {
            return err;
        }
        if (decode(r, &candidate) && (!have_newest || candidate.seq > state->seq)) {
            *state = candidate;
            newest_offset = offset;
            have_newest = 1;
        }
    }
    journal->last_seq = have_newest ? state->seq : 0;
    return place_next(journal, newest_offset, have_newest);
}

bw_err bw_update_state_save(bw_update_journal *journal, bw_update_state *state)
{
    uint32_t sector = journal->partition->device->sector_size;
    state->seq = journal->last_seq + 1u;
    uint8_t r[BW_UPDATE_STATE_RECORD_SIZE];
    encode(state, r);

    /* Bounded: at worst every slot of one sector is garbage, then a fresh sector. */
    for (uint32_t attempt = 0; attempt <= sector / BW_UPDATE_STATE_RECORD_SIZE + 1u; attempt++) {
        if (journal->next_needs_erase) {
            bw_err err = bw_flash_erase_sector(journal->partition, journal->next_offset);
            if (err != BW_OK) {
                return err;
            }
            journal->next_needs_erase = 0;
        }
        bw_err err = bw_flash_program(journal->partition, journal->next_offset, r, sizeof r);
        if (err == BW_OK) {
            journal->last_seq = state->seq;
            return place_next(journal, journal->next_offset, 1);
        }
        if (err != BW_E_INVALID) {
            return err;
        }
        /* The slot was not blank after all: try the next blank one. */
        err = place_next(journal, journal->next_offset, 1);
        if (err != BW_OK) {
            return err;
        }
    }
    return BW_E_IO;
}
