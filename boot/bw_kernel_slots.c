/*
 * The kernel's copies and its trial (bw_kernel_slots.h, docs/SPEC.md §19.5).
 *
 * Each step of a swap or a revert is one journal state; the step's source
 * area is never written by it, so after a power cut the step runs again from
 * its start (sectors already equal to the source are skipped). The next
 * record is appended only when the step is whole.
 */
#include "bw_kernel_slots.h"

#include "bw_bytes.h"

#define PIECE         256u   /* copy unit: a multiple of every program unit, divides every sector */

/* ---- text ---- */

/* Says a, then b (if any), then c (if any). */
static void say3(const bw_kslots *k, const char *a, const char *b, const char *c)
{
    k->say(k->ctx, a);
    if (b != NULL) {
        k->say(k->ctx, b);
    }
    if (c != NULL) {
        k->say(k->ctx, c);
    }
}

static void say_version_line(const bw_kslots *k, const char *before, uint32_t version, const char *after)
{
    char text[16];
    bw_kslots_version_text(version, text);
    say3(k, before, text, after);
}

/* ---- copying one area into another ---- */

static bool blank(const uint8_t *p, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        if (p[i] != 0xFFu) {
            return false;
        }
    }
    return true;
}

static bool equal(const uint8_t *a, const uint8_t *b, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        if (a[i] != b[i]) {
            return false;
        }
    }
    return true;
}

/* The sector at offset of dst already holds src's bytes (an unreadable,
 * torn dst unit: no). Source read errors are returned. */
static bw_err sector_equal(const bw_flash_partition *src, const bw_flash_partition *dst,
                           uint32_t offset, uint32_t sector, bool *same)
{
    uint8_t a[PIECE], b[PIECE];
    *same = false;
    for (uint32_t at = offset; at < offset + sector; at += PIECE) {
        bw_err err = bw_flash_read(src, at, a, PIECE);
        if (err != BW_OK) {
            return err;
        }
        err = bw_flash_read(dst, at, b, PIECE);
        if (err == BW_E_TORN || (err == BW_OK && !equal(a, b, PIECE))) {
            return BW_OK;
        }
        if (err != BW_OK) {
            return err;
        }
    }
    *same = true;
    return BW_OK;
}

/* dst <- src, sector by sector in address order (the seal, at the end, last). */
static bw_err copy_area(const bw_flash_partition *src, const bw_flash_partition *dst)
{
    uint32_t sector = dst->device->sector_size;
    if (src->size != dst->size || sector < PIECE) {
        return BW_E_SIZE;
    }
    for (uint32_t offset = 0; offset < dst->size; offset += sector) {
        bool same;
        bw_err err = sector_equal(src, dst, offset, sector, &same);
        if (err != BW_OK || same) {
            if (err != BW_OK) {
                return err;
            }
            continue;
        }
        err = bw_flash_erase_sector(dst, offset);
        for (uint32_t at = offset; err == BW_OK && at < offset + sector; at += PIECE) {
            uint8_t piece[PIECE];
            err = bw_flash_read(src, at, piece, PIECE);
            if (err == BW_OK && !blank(piece, PIECE)) {
                err = bw_flash_program(dst, at, piece, PIECE);
            }
        }
        if (err != BW_OK) {
            return err;
        }
    }
    return BW_OK;
}

/* ---- the steps ---- */

/* A trial ends without its kernel: back to the backup if it verifies, else
 * the slot is kept as it is (settle decides whether it can run). */
static void abandon_trial(const bw_kslots *k, uint32_t floor, bw_kstate *next, uint8_t reason)
{
    uint32_t version;
    next->reason = reason;
    if (next->has_backup && k->verify(k->ctx, &k->backup, floor, &version) == 0) {
        next->state = BW_KSTATE_REVERT;
        next->old_version = version;
        return;
    }
    say3(k, "[boot] no backup kernel to go back to: ", bw_kslots_reason_text(reason), "\n");
    next->state = BW_KSTATE_IDLE;
}

/* The staged kernel verified or not: what comes next. */
static void stage(const bw_kslots *k, uint32_t floor, bw_kstate *next)
{
    uint32_t version, running;
    int error = k->verify(k->ctx, &k->staged, floor, &version);
    if (error != 0) {
        say3(k, "[boot] staged kernel refused: ", k->describe(error), "\n");
        next->state = BW_KSTATE_REFUSED;
        next->reason = (uint8_t)(BW_KREASON_REFUSED + error);
        return;
    }
    bool backup = k->verify(k->ctx, &k->slot, floor, &running) == 0;
    *next = (bw_kstate){
        .state = backup ? BW_KSTATE_BACKUP : BW_KSTATE_INSTALL, .version = version,
        .has_backup = backup, .old_version = backup ? running : 0, .tag = next->tag,
    };
}

/* Runs steps until a resting state or a trial boot. False on a flash error
 * (printed): the journal could not move on, the slot is settled as it is.
 * *verified (with *version) when a trial boot's check of the slot stands. */
static bool run_steps(const bw_kslots *k, bw_journal *journal, bw_kstate *st, uint32_t floor,
                      bool *verified, uint32_t *version)
{
    *verified = false;
    for (;;) {
        bw_kstate next = *st;
        bw_err err = BW_OK;
        switch (st->state) {
        case BW_KSTATE_STAGED:
            stage(k, floor, &next);
            break;
        case BW_KSTATE_BACKUP:
            err = copy_area(&k->slot, &k->backup);
            next.state = BW_KSTATE_INSTALL;
            break;
        case BW_KSTATE_INSTALL:
            err = copy_area(&k->staged, &k->slot);
            next.state = BW_KSTATE_TRIAL;
            next.boots = 0;
            break;
        case BW_KSTATE_TRIAL:
            if (st->boots >= BW_KSLOTS_TRIAL_BOOTS) {
                abandon_trial(k, floor, &next, BW_KREASON_NEVER_CONFIRMED);
            } else if (k->verify(k->ctx, &k->slot, floor, version) != 0) {
                abandon_trial(k, floor, &next, BW_KREASON_INSTALL_FAILED);
            } else {
                next.boots++;
            }
            break;
        case BW_KSTATE_REVERT:
            err = copy_area(&k->backup, &k->slot);
            next.state = BW_KSTATE_REVERTED;
            break;
        default:
            return true;   /* resting */
        }
        if (err == BW_OK) {
            err = bw_kstate_save(journal, &next);
        }
        if (err != BW_OK) {
            k->say(k->ctx, "[boot] kernel copy or journal: flash error\n");
            return false;
        }
        if (next.state == BW_KSTATE_REVERTED) {
            say_version_line(k, "[boot] reverted to kernel ", next.old_version, ": ");
            say3(k, bw_kslots_reason_text(next.reason), "\n", NULL);
        }
        bool trial_boot = st->state == BW_KSTATE_TRIAL && next.state == BW_KSTATE_TRIAL;
        *st = next;
        if (trial_boot) {
            *verified = true;
            char text[16], boot[2] = { (char)('0' + st->boots), '\0' };
            bw_kslots_version_text(st->version, text);
            say3(k, "[boot] kernel ", text, " on trial (boot ");
            say3(k, boot, " of 3)\n", NULL);
            _Static_assert(BW_KSLOTS_TRIAL_BOOTS == 3, "the trial line says 3");
            return true;
        }
    }
}

/* A confirmed kernel about to start: the counter rises to its version, and
 * only to the version of the kernel in the slot (a slot written outside the
 * journal never raises it past itself). A cut raise is redone next reset. */
static void raise_if_confirmed(const bw_kslots *k, const bw_kstate *st, uint32_t floor, uint32_t version)
{
    if (st->state == BW_KSTATE_CONFIRMED && st->version == version && version > floor
        && k->raise(k->ctx, version) != BW_OK) {
        k->say(k->ctx, "[boot] anti-rollback counter: flash error\n");
    }
}

bool bw_kslots_boot(const bw_kslots *k, uint32_t *version)
{
    bw_journal journal;
    bw_kstate st;
    bool journal_ok = bw_kstate_load(&journal, &k->state, &st) == BW_OK;
    if (!journal_ok) {
        k->say(k->ctx, "[boot] kernel journal unreadable\n");
    }
    uint32_t floor = k->floor(k->ctx);
    bool verified = false;
    if (journal_ok) {
        journal_ok = run_steps(k, &journal, &st, floor, &verified, version);
    }
    int error = verified ? 0 : k->verify(k->ctx, &k->slot, floor, version);
    if (error == 0) {
        raise_if_confirmed(k, &st, floor, *version);
        return true;
    }
    say3(k, "[boot] kernel refused: ", k->describe(error), "\n");
    uint32_t old;
    int backup_error = k->verify(k->ctx, &k->backup, floor, &old);
    if (backup_error == 0 && journal_ok) {
        bw_kstate revert = st;
        revert.state = BW_KSTATE_REVERT;
        revert.reason = BW_KREASON_SLOT_INVALID;
        revert.has_backup = 1;
        revert.old_version = old;
        if (bw_kstate_save(&journal, &revert) == BW_OK) {
            st = revert;
            (void)run_steps(k, &journal, &st, floor, &verified, version);
            error = k->verify(k->ctx, &k->slot, floor, version);
            if (error == 0) {
                return true;
            }
            say3(k, "[boot] kernel refused: ", k->describe(error), "\n");
        }
    } else if (backup_error != k->error_empty) {
        say3(k, "[boot] backup kernel refused: ", k->describe(backup_error), "\n");
    }
    return false;
}
