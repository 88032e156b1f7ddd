/*
 * A journal of whole-state records in a flash partition: the ring shared by
 * the update engine's journal (docs/SPEC.md §8 "Update state journal") and
 * the kernel-state journal (§19.5).
 *
 * A record is 32 bytes: u32 sequence number at 0, the journal's magic byte
 * at 4 and format byte at 5, the owner's fields in 6..27, CRC-32 of bytes
 * 0..27 at 28. A slot is blank (all 0xFF), valid (magic, format, CRC), or
 * anything else (torn, garbage or unreadable, BW_E_TORN: skipped, never
 * programmed over). The newest valid record by sequence number is the state.
 * The next record goes to the first blank slot after the newest one in its
 * sector; when none is left the following sector is erased and its first
 * slot used, which never touches the sector holding the newest record. So an
 * append cut by a power loss leaves the previous record the newest: every
 * change is atomic. Portable, heap-free (the boot stub links it too).
 */
#ifndef BW_JOURNAL_H
#define BW_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "bw_err.h"
#include "bw_flash.h"

#define BW_JOURNAL_RECORD_SIZE 32u

/* The journal's place, its record type and where its next record goes. */
typedef struct bw_journal {
    const bw_flash_partition *partition;
    uint32_t next_offset;       /* slot the next record goes to */
    uint32_t last_seq;
    int next_needs_erase;       /* the slot starts a sector that must be erased first */
    uint8_t magic;              /* record bytes 4 and 5 */
    uint8_t format;
} bw_journal;

/* Finds the newest valid record with magic/format in partition: *found says
 * whether there is one (then newest holds it). BW_E_SIZE if the partition
 * cannot hold a journal (fewer than 2 sectors, or a sector smaller than a
 * record); a slot that reads BW_E_TORN is skipped; any other read error is
 * returned (BW_E_IO): the state is then unknown, never "none". A NULL
 * partition (the board has none): BW_E_UNAVAILABLE. */
bw_err bw_journal_load(bw_journal *journal, const bw_flash_partition *partition, uint8_t magic,
                       uint8_t format, uint8_t newest[BW_JOURNAL_RECORD_SIZE], bool *found);

/* Appends record (bytes 6..27 the caller's): stamps the next sequence number,
 * magic, format and CRC into it, and returns the sequence number in *seq.
 * Atomic across power cuts: afterwards load finds the previous record or this one. */
bw_err bw_journal_append(bw_journal *journal, uint8_t record[BW_JOURNAL_RECORD_SIZE], uint32_t *seq);

#endif
