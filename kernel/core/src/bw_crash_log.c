/*
 * The crash log ring (bw_crash_log.h).
 *
 * Invariants, for every state a power cut can leave:
 *  - a slot counts only if its commit unit is whole (magic, and crc == ~crc_inverse:
 *    a torn program leaves some intended 0 bits at 1, which breaks the pair
 *    or the magic) and agrees with a record that passes bw_crash_record_check;
 *  - nothing is programmed into a slot that is not wholly erased, and a
 *    sector is erased only right before its first slot is written, so a write
 *    never changes a slot other than its own, except by recycling the oldest
 *    sector;
 *  - next_slot is never before the slot after the newest record, so sequence
 *    numbers in flash only grow along the ring.
 */
#include <string.h>

#include "bw_crash_log.h"

typedef struct commit_unit {
    uint32_t magic;          /* BW_CRASH_COMMIT_MAGIC */
    uint32_t sequence;       /* the record's sequence number */
    uint32_t crc;            /* the record's crc32 field */
    uint32_t crc_inverse;    /* ~crc */
} commit_unit;

#define COMMIT_SIZE ((uint32_t)sizeof(commit_unit))
_Static_assert(sizeof(commit_unit) == 16, "commit unit is one 16-byte program unit");
_Static_assert(BW_CRASH_RECORD_SIZE % 16u == 0, "a record is whole 16-byte units");

#define ERASED_BYTE 0xFFu
#define BLANK_CHUNK 64u

static uint32_t slot_offset(const bw_crash_log *log, uint32_t slot)
{
    uint32_t sector = slot / log->slots_per_sector;
    uint32_t index = slot % log->slots_per_sector;
    return sector * log->partition->device->sector_size + index * log->slot_size;
}

/* True when [offset, offset + len) reads as erased; *err set on a read
 * error. Compares words: a sector is checked each time the ring enters it. */
static bool range_blank(const bw_crash_log *log, uint32_t offset, uint32_t len, bw_err *err)
{
    uint32_t chunk[BLANK_CHUNK / 4u];
    for (uint32_t done = 0; done < len;) {
        uint32_t n = len - done < BLANK_CHUNK ? len - done : BLANK_CHUNK;
        *err = bw_flash_read(log->partition, offset + done, chunk, n);
        if (*err == BW_E_TORN) {
            *err = BW_OK;   /* half-written by a cut: not blank */
            return false;
        }
        if (*err != BW_OK) {
            return false;
        }
        for (uint32_t i = 0; i < n / 4u; i++) {
            if (chunk[i] != 0xFFFFFFFFu) {
                return false;
            }
        }
        for (uint32_t i = n & ~3u; i < n; i++) {
            if (((const uint8_t *)chunk)[i] != ERASED_BYTE) {
                return false;
            }
        }
        done += n;
    }
    return true;
}

/* Reads a slot's commit unit: BW_OK and its sequence if it is well formed. */
static bw_err read_commit(const bw_crash_log *log, uint32_t slot, commit_unit *commit)
{
    bw_err err = bw_flash_read(log->partition, slot_offset(log, slot) + BW_CRASH_RECORD_SIZE,
                               commit, COMMIT_SIZE);
    if (err == BW_E_TORN) {
        return BW_E_INVALID;   /* a commit unit the cut tore: not committed */
    }
    if (err != BW_OK) {
        return err;
    }
    if (commit->magic != BW_CRASH_COMMIT_MAGIC || commit->crc != ~commit->crc_inverse) {
        return BW_E_INVALID;
    }
    return BW_OK;
}

/* Reads and checks a whole slot against its (well-formed) commit unit. */
static bw_err read_record(const bw_crash_log *log, uint32_t slot, const commit_unit *commit,
                          bw_crash_record *out)
{
    uint8_t bytes[BW_CRASH_RECORD_SIZE];
    bw_err err = bw_flash_read(log->partition, slot_offset(log, slot), bytes, sizeof bytes);
    if (err == BW_E_TORN) {
        return BW_E_INVALID;   /* a torn record */
    }
    if (err != BW_OK) {
        return err;
    }
    bw_crash_record record;
    err = bw_crash_record_check(bytes, sizeof bytes, &record);
    if (err != BW_OK) {
        return BW_E_INVALID;
    }
    if (record.sequence != commit->sequence || record.crc32 != commit->crc) {
        return BW_E_INVALID;
    }
    *out = record;
    return BW_OK;
}

/* The committed record with the largest (or, with `smallest`, the smallest)
 * sequence number in (lower, upper), into *out and its slot into *slot_out.
 * BW_E_INVALID if there is none. */
static bw_err find_extreme(const bw_crash_log *log, uint32_t lower, uint32_t upper, bool smallest,
                           uint32_t *slot_out, bw_crash_record *out)
{
    /* Each pass picks the best well-formed commit unit, then checks its
     * record; a bad record narrows the range and the search goes on. */
    for (;;) {
        bool found = false;
        uint32_t best_slot = 0, best_sequence = 0;
        commit_unit best = { 0 };
        for (uint32_t slot = 0; slot < log->slot_count; slot++) {
            commit_unit commit;
            bw_err err = read_commit(log, slot, &commit);
            if (err == BW_E_INVALID) {
                continue;
            }
            if (err != BW_OK) {
                return err;
            }
            uint32_t s = commit.sequence;
            if (s <= lower || s >= upper) {
                continue;
            }
            if (!found || (smallest ? s < best_sequence : s > best_sequence)) {
                found = true;
                best_slot = slot;
                best_sequence = s;
                best = commit;
            }
        }
        if (!found) {
            return BW_E_INVALID;
        }
        bw_err err = read_record(log, best_slot, &best, out);
        if (err == BW_OK) {
            *slot_out = best_slot;
            return BW_OK;
        }
        if (err != BW_E_INVALID) {
            return err;
        }
        if (smallest) {
            lower = best_sequence;
        } else {
            upper = best_sequence;
        }
    }
}

bw_err bw_crash_log_open(bw_crash_log *log, const bw_flash_partition *partition)
{
    memset(log, 0, sizeof *log);
    if (partition == NULL || partition->device == NULL) {
        return BW_E_UNAVAILABLE;
    }
    const bw_flash_device *device = partition->device;
    uint32_t slot_size = BW_CRASH_RECORD_SIZE + COMMIT_SIZE;
    if (device->program_unit == 0 || COMMIT_SIZE % device->program_unit != 0
        || device->sector_size < slot_size || partition->size / device->sector_size < 2u) {
        return BW_E_SIZE;
    }
    bw_crash_log probe = {
        .partition = partition,
        .slot_size = slot_size,
        .slots_per_sector = device->sector_size / slot_size,
    };
    probe.slot_count = probe.slots_per_sector * (partition->size / device->sector_size);

    uint32_t newest_slot = 0;
    bw_crash_record newest;
    bw_err err = find_extreme(&probe, 0, UINT32_MAX, false, &newest_slot, &newest);
    if (err == BW_OK) {
        probe.next_slot = (newest_slot + 1u) % probe.slot_count;
        probe.next_sequence = newest.sequence + 1u;
        probe.has_newest = true;
        probe.newest_slot = newest_slot;
    } else if (err == BW_E_INVALID) {
        probe.next_slot = 0;
        probe.next_sequence = 1;
    } else {
        return err;
    }
    *log = probe;
    return BW_OK;
}

/* Moves next_slot to a slot that may be programmed: the first slot of a
 * sector once the sector is erased, or an erased slot inside one. */
static bw_err prepare_next_slot(bw_crash_log *log)
{
    for (uint32_t tries = 0; tries <= log->slot_count; tries++) {
        uint32_t slot = log->next_slot;
        uint32_t offset = slot_offset(log, slot);
        bw_err err = BW_OK;
        if (slot % log->slots_per_sector == 0) {
            uint32_t sector_size = log->partition->device->sector_size;
            if (!range_blank(log, offset, sector_size, &err)) {
                if (err != BW_OK) {
                    return err;
                }
                err = bw_flash_erase_sector(log->partition, offset);
            }
            return err;   /* on an erase error this slot is tried again next time */
        }
        if (range_blank(log, offset, log->slot_size, &err)) {
            return BW_OK;
        }
        if (err != BW_OK) {
            return err;
        }
        log->next_slot = (slot + 1u) % log->slot_count;   /* left over from a cut write */
    }
    return BW_E_IO;   /* unreachable: a sector start comes round within one lap */
}

/* Writes the sealed record and its commit unit into next_slot (prepared). */
static bw_err write_slot(bw_crash_log *log, const bw_crash_record *record)
{
    uint32_t slot = log->next_slot;
    uint32_t offset = slot_offset(log, slot);
    commit_unit commit = {
        .magic = BW_CRASH_COMMIT_MAGIC,
        .sequence = record->sequence,
        .crc = record->crc32,
        .crc_inverse = ~record->crc32,
    };
    /* Whatever happens next, this slot is used: a failed write leaves it
     * dirty and the next record goes to the slot after. */
    log->next_slot = (slot + 1u) % log->slot_count;
    bw_err err = bw_flash_program(log->partition, offset, record, BW_CRASH_RECORD_SIZE);
    if (err == BW_OK) {
        err = bw_flash_program(log->partition, offset + BW_CRASH_RECORD_SIZE, &commit, COMMIT_SIZE);
    }
    if (err == BW_OK) {
        log->next_sequence++;
        log->has_newest = true;
        log->newest_slot = slot;
    }
    return err;
}

bw_err bw_crash_log_append(bw_crash_log *log, bw_crash_record *record)
{
    if (log->partition == NULL) {
        return BW_E_UNAVAILABLE;
    }
    record->sequence = log->next_sequence;
    bw_crash_record_seal(record);
    /* On ECC flash a program cut before it changed a bit leaves units that
     * read blank yet refuse a program (BW_E_INVALID): the record goes to the
     * next slot. Bounded: one lap of the ring. */
    bw_err err = BW_E_INVALID;
    for (uint32_t tries = 0; err == BW_E_INVALID && tries < log->slot_count; tries++) {
        err = prepare_next_slot(log);
        if (err == BW_OK) {
            err = write_slot(log, record);
        }
    }
    return err;
}

bw_err bw_crash_log_next(const bw_crash_log *log, uint32_t after, bw_crash_record *out)
{
    if (log->partition == NULL) {
        return BW_E_UNAVAILABLE;
    }
    uint32_t slot;
    return find_extreme(log, after, UINT32_MAX, true, &slot, out);
}

bw_err bw_crash_log_newest(const bw_crash_log *log, bw_crash_record *out)
{
    if (log->partition == NULL) {
        return BW_E_UNAVAILABLE;
    }
    if (!log->has_newest) {
        return BW_E_INVALID;
    }
    commit_unit commit;
    bw_err err = read_commit(log, log->newest_slot, &commit);
    return err == BW_OK ? read_record(log, log->newest_slot, &commit, out) : err;
}
