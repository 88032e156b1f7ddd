/*
 * The update engine's persistent state: a journal of whole-state snapshots in
 * the UPDATE_STATE partition (docs/SPEC.md "Update state journal").
 *
 * Every change of state is one appended 32-byte record carrying the complete
 * state and a sequence number, committed by its CRC: a power cut during the
 * append leaves the previous record the newest valid one, so every change is
 * atomic. Records fill the partition's sectors in turn; a sector is erased
 * just before the first record goes into it, which never touches the sector
 * holding the newest record. Flash contents are untrusted: only records with
 * the right magic, version and CRC count; torn or garbage slots are skipped.
 */
#ifndef BW_UPDATE_STATE_H
#define BW_UPDATE_STATE_H

#include <stdint.h>

#include "bw_err.h"
#include "bw_flash.h"
#include "bw_journal.h"

#define BW_BANK_A     0u
#define BW_BANK_B     1u
#define BW_BANK_KERNEL 2u     /* op bank of a kernel download: the staged-kernel area (SPEC §19.6) */
#define BW_BANK_NONE  0xFFu   /* no bank: the app slot holds the provisioned app */

typedef enum bw_update_op {
    BW_UPDATE_OP_NONE = 0,
    BW_UPDATE_OP_DOWNLOADING = 1,   /* op_bank receives a bundle; op_progress sectors written */
    BW_UPDATE_OP_DOWNLOADED = 2,    /* op_bank holds a verified bundle, not installed */
    BW_UPDATE_OP_BACKUP = 3,        /* copying the provisioned app into op_bank before an install */
    BW_UPDATE_OP_INSTALLING = 4,    /* app slot <- op_bank; op_progress sectors done */
    BW_UPDATE_OP_ROLLING_BACK = 5,  /* app slot <- op_bank (the last-known-good); op_progress */
} bw_update_op;

/* Why the last rollback happened (readable by the app, reported to the cloud). */
typedef enum bw_rollback_cause {
    BW_ROLLBACK_NONE = 0,
    BW_ROLLBACK_CRASH_LOOP = 1,     /* the new app crashed before it was healthy */
    BW_ROLLBACK_INSTALL_FAILED = 2, /* the installed image did not verify */
} bw_rollback_cause;

typedef struct bw_update_state {
    uint32_t seq;               /* sequence number of the record (set by save) */
    uint8_t op;                 /* bw_update_op */
    uint8_t op_bank;            /* the bank op works on */
    uint8_t current_bank;       /* bank whose image is in the app slot, or BW_BANK_NONE */
    uint8_t lkg_bank;           /* bank holding the last-known-good app, or BW_BANK_NONE */
    uint16_t op_progress;       /* sectors of op done */
    uint8_t trial;              /* 1 while the current app has not yet proved healthy */
    uint8_t rollback_cause;     /* bw_rollback_cause of the last rollback */
    uint32_t current_version;   /* version of the app in the app slot (0: provisioned) */
    uint32_t lkg_version;       /* version of the last-known-good app */
    uint32_t highest_version;   /* anti-rollback floor: no bundle at or below it installs */
} bw_update_state;

#define BW_UPDATE_STATE_RECORD_SIZE BW_JOURNAL_RECORD_SIZE

/* The journal's place and where its next record goes (cached by load). */
typedef bw_journal bw_update_journal;

/* The state of a device that has never updated: the provisioned app runs. */
bw_update_state bw_update_state_initial(void);

/* Finds the newest valid record (or the initial state when there is none) and
 * where the next one goes. BW_E_SIZE if the partition cannot hold a journal
 * (fewer than 2 sectors, or a sector smaller than a record); a slot that reads
 * BW_E_TORN is a torn record (skipped); any other read error is returned
 * (BW_E_IO): the state is then unknown, never "initial". */
bw_err bw_update_state_load(bw_update_journal *journal, const bw_flash_partition *partition,
                            bw_update_state *state);

/* Appends state as the newest record (state->seq is set). Atomic across power
 * cuts: afterwards load returns either the previous state or this one. */
bw_err bw_update_state_save(bw_update_journal *journal, bw_update_state *state);

#endif
