/*
 * The kernel-state journal's record and the kernel's confirm
 * (bw_kernel_slots.h, docs/SPEC.md §19.5): the part of the kernel copies'
 * logic that the kernel links too (the stub links all of it).
 */
#include "bw_kernel_slots.h"

#include "bw_bytes.h"

#define RECORD_MAGIC  0xB9u
#define RECORD_FORMAT 1u

bw_err bw_kstate_load(bw_journal *journal, const bw_flash_partition *partition, bw_kstate *state)
{
    uint8_t r[BW_JOURNAL_RECORD_SIZE];
    bool found;
    *state = (bw_kstate){ .state = BW_KSTATE_IDLE };
    bw_err err = bw_journal_load(journal, partition, RECORD_MAGIC, RECORD_FORMAT, r, &found);
    if (err == BW_OK && found) {
        *state = (bw_kstate){
            .seq = bw_get32(r), .state = r[6], .boots = r[7], .reason = r[8], .has_backup = r[9],
            .version = bw_get32(r + 12), .old_version = bw_get32(r + 16), .tag = bw_get32(r + 20),
        };
    }
    return err;
}

bw_err bw_kstate_save(bw_journal *journal, bw_kstate *state)
{
    uint8_t r[BW_JOURNAL_RECORD_SIZE] = { 0 };
    r[6] = state->state;
    r[7] = state->boots;
    r[8] = state->reason;
    r[9] = state->has_backup;
    bw_put32(r + 12, state->version);
    bw_put32(r + 16, state->old_version);
    bw_put32(r + 20, state->tag);
    return bw_journal_append(journal, r, &state->seq);
}

bw_err bw_kslots_confirm(const bw_flash_partition *state_partition, bool *confirmed)
{
    bw_journal journal;
    bw_kstate state;
    *confirmed = false;
    bw_err err = bw_kstate_load(&journal, state_partition, &state);
    if (err != BW_OK || state.state != BW_KSTATE_TRIAL) {
        return err;
    }
    state.state = BW_KSTATE_CONFIRMED;
    err = bw_kstate_save(&journal, &state);
    *confirmed = err == BW_OK;
    return err;
}

void bw_kslots_version_text(uint32_t version, char text[16])
{
    uint32_t parts[3] = { version >> 24, (version >> 16) & 0xFFu, version & 0xFFFFu };
    size_t len = 0;
    for (int i = 0; i < 3; i++) {
        char digits[5];
        int n = 0;
        do {
            digits[n++] = (char)('0' + parts[i] % 10u);
            parts[i] /= 10u;
        } while (parts[i] != 0);
        while (n > 0) {
            text[len++] = digits[--n];
        }
        text[len++] = i < 2 ? '.' : '\0';
    }
}

const char *bw_kslots_reason_text(uint8_t reason)
{
    switch (reason) {
    case BW_KREASON_NEVER_CONFIRMED:
        return "the new kernel never confirmed itself";
    case BW_KREASON_INSTALL_FAILED:
        return "the installed kernel failed verification";
    default:
        return "the kernel slot failed verification";
    }
}
