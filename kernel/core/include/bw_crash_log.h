/*
 * The crash log: a power-safe ring of crash records in a flash partition
 * (BW_PARTITION_CRASH_LOG), so records survive reboots and power cuts and
 * can be reported later.
 *
 * Layout (docs/SPEC.md, "Crash record"): the partition is cut into sectors,
 * each sector into slots of one record (BW_CRASH_RECORD_SIZE bytes) followed
 * by a commit unit {magic, sequence, crc, ~crc} padded to the program unit.
 * A write programs the record, then the commit unit: a record counts only
 * once its commit unit is whole and matches it, so a cut at any instant
 * leaves the new record absent or whole and never touches older slots.
 * Slots are used in order; the first slot of a sector is only written after
 * erasing that sector, which drops the oldest records (at least one whole
 * sector of older records always remains). Sequence numbers grow by one per
 * record; the newest is the highest committed one.
 *
 * Everything read back is untrusted (a torn program or erase leaves any
 * bits): every slot is validated before use and garbage is skipped.
 * Single-threaded: the caller serialises calls (the kernel's supervisor
 * thread). The log holds no pointer to caller memory between calls.
 */
#ifndef BW_CRASH_LOG_H
#define BW_CRASH_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "bw_crash_record.h"
#include "bw_err.h"
#include "bw_flash.h"

#define BW_CRASH_COMMIT_MAGIC 0x54494D43u   /* bytes "CMIT" */

typedef struct bw_crash_log {
    const bw_flash_partition *partition;  /* NULL: not open */
    uint32_t slot_size;          /* record + commit unit, in bytes */
    uint32_t slots_per_sector;
    uint32_t slot_count;
    uint32_t next_slot;          /* where the next record goes */
    uint32_t next_sequence;      /* the sequence number it gets */
    bool has_newest;             /* a committed record exists: ... */
    uint32_t newest_slot;        /* ... and this slot holds the newest */
} bw_crash_log;

/* Opens the log on a partition and recovers its state from flash: finds the
 * newest committed record and the slot after it. Writes nothing. BW_E_UNAVAILABLE
 * for a NULL partition; BW_E_SIZE if the geometry cannot hold a ring (a slot
 * must fit in a sector and the partition needs at least two sectors);
 * BW_E_IO if reading failed (the log stays closed on any error). */
bw_err bw_crash_log_open(bw_crash_log *log, const bw_flash_partition *partition);

/* Appends a record: sets record->sequence to the log's next number, seals it
 * (bw_crash_record_seal) and writes it power-safely. BW_E_UNAVAILABLE if the
 * log is not open; a flash error otherwise (the record may then be absent,
 * never corrupt, and the next append goes to a fresh slot). */
bw_err bw_crash_log_append(bw_crash_log *log, bw_crash_record *record);

/* The committed record with the smallest sequence number greater than
 * `after` (0: the oldest kept) into *out. BW_E_INVALID when there is none
 * (the end of the log); BW_E_UNAVAILABLE if not open; BW_E_IO on read errors. */
bw_err bw_crash_log_next(const bw_crash_log *log, uint32_t after, bw_crash_record *out);

/* The newest committed record into *out; BW_E_INVALID if the log is empty. */
bw_err bw_crash_log_newest(const bw_crash_log *log, bw_crash_record *out);

#endif
