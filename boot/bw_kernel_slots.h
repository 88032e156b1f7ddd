/*
 * The kernel's copies and its trial (docs/SPEC.md §19.5): the execution slot,
 * a staged kernel (KERNEL_NEW), a backup (KERNEL_OLD) and the kernel-state
 * journal (KERNEL_STATE). The boot stub runs bw_kslots_boot at every reset:
 * it swaps a staged kernel in, counts its trial boots, goes back to the
 * backup when the trial fails, and raises the anti-rollback counter once a
 * kernel has confirmed itself. The kernel calls bw_kslots_confirm.
 *
 * Portable and heap-free: flash through bw_flash partitions, the §19.3 checks
 * and the counter through callbacks, so the host sweeps it on the NOR model
 * (tests/sim/test_kslots_sim.c). Every byte read from flash is untrusted.
 */
#ifndef BW_KERNEL_SLOTS_H
#define BW_KERNEL_SLOTS_H

#include <stdbool.h>
#include <stdint.h>

#include "bw_err.h"
#include "bw_flash.h"
#include "bw_journal.h"

/* Boots a kernel on trial gets before the stub goes back to the backup. */
#define BW_KSLOTS_TRIAL_BOOTS 3u

/* Journal states (SPEC §19.5); IDLE, CONFIRMED, REFUSED, REVERTED are resting. */
typedef enum bw_kstate_kind {
    BW_KSTATE_IDLE = 0,
    BW_KSTATE_STAGED = 1,     /* KERNEL_NEW holds a complete kernel to try */
    BW_KSTATE_BACKUP = 2,     /* copying the slot into KERNEL_OLD */
    BW_KSTATE_INSTALL = 3,    /* copying KERNEL_NEW into the slot */
    BW_KSTATE_TRIAL = 4,      /* the slot's kernel is on trial */
    BW_KSTATE_REVERT = 5,     /* copying KERNEL_OLD back into the slot */
    BW_KSTATE_CONFIRMED = 6,  /* the trial kernel confirmed itself */
    BW_KSTATE_REFUSED = 7,    /* the staged kernel failed verification */
    BW_KSTATE_REVERTED = 8,   /* the slot holds the backup again */
} bw_kstate_kind;

/* Why a staged kernel was refused or a trial abandoned. */
typedef enum bw_kreason {
    BW_KREASON_NONE = 0,
    BW_KREASON_NEVER_CONFIRMED = 1,
    BW_KREASON_INSTALL_FAILED = 2,   /* the installed kernel failed verification */
    BW_KREASON_SLOT_INVALID = 3,     /* the slot failed verification at rest */
    BW_KREASON_REFUSED = 16,         /* + the verify error of the staged kernel */
} bw_kreason;

typedef struct bw_kstate {
    uint32_t seq;            /* set by load and save */
    uint8_t state;           /* bw_kstate_kind */
    uint8_t boots;           /* trial boots counted */
    uint8_t reason;          /* bw_kreason */
    uint8_t has_backup;      /* KERNEL_OLD holds the kernel to go back to */
    uint32_t version;        /* staged / trial / confirmed kernel */
    uint32_t old_version;    /* the kernel in KERNEL_OLD, 0 if none */
    uint32_t tag;            /* who staged it: a cloud deployment ID, 0 for the local link */
} bw_kstate;

/* The newest kernel-state record in partition (IDLE when there is none);
 * errors as bw_journal_load. */
bw_err bw_kstate_load(bw_journal *journal, const bw_flash_partition *partition, bw_kstate *state);
/* Appends *state as the newest record (state->seq set); atomic across cuts. */
bw_err bw_kstate_save(bw_journal *journal, bw_kstate *state);

/* The stub's view of one board. slot, staged and backup are the same size:
 * image_size bytes of image, then the seal. */
typedef struct bw_kslots {
    bw_flash_partition slot, staged, backup, state;
    uint32_t image_size;
    /* The §19.3 checks of the kernel in area with counter floor: 0 and
     * *version, or a nonzero error that describe names in one line. */
    int (*verify)(void *ctx, const bw_flash_partition *area, uint32_t floor, uint32_t *version);
    const char *(*describe)(int error);
    int error_empty;          /* verify's error for an erased area (nothing there) */
    /* The anti-rollback counter, and raising it to version (one-way). */
    uint32_t (*floor)(void *ctx);
    bw_err (*raise)(void *ctx, uint32_t version);
    /* Console text, no newline added. */
    void (*say)(void *ctx, const char *text);
    void *ctx;
} bw_kslots;

/* At every reset: runs the journal's steps (SPEC §19.5) and ends with the
 * slot verified: true with its version in *version. False when neither the
 * slot nor the backup verifies (each reason already printed): the caller
 * halts and starts nothing. Never starts anything itself. */
bool bw_kslots_boot(const bw_kslots *k, uint32_t *version);

/* The kernel on trial confirms itself: appends CONFIRMED when the newest
 * record is TRIAL (*confirmed true); any other state is left alone (false).
 * Errors as bw_journal_load / bw_journal_append. */
bw_err bw_kslots_confirm(const bw_flash_partition *state_partition, bool *confirmed);

/* major.minor.patch of a packed version into text (at least 16 bytes), NUL-terminated. */
void bw_kslots_version_text(uint32_t version, char text[16]);

/* One line for a revert reason (BW_KREASON_NEVER_CONFIRMED ... _SLOT_INVALID);
 * a refusal (BW_KREASON_REFUSED + n) is bw_seal_describe(n). */
const char *bw_kslots_reason_text(uint8_t reason);

#endif
