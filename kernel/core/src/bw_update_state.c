/*
 * Update state journal (bw_update_state.h): the record of docs/SPEC.md §8 in
 * the shared journal ring (bw_journal.h), which places, skips torn slots and
 * commits by CRC.
 */
#include "bw_bytes.h"
#include "bw_identity.h"
#include "bw_update_state.h"

#define RECORD_MAGIC   0xB7u
#define RECORD_FORMAT  1u

static void encode(const bw_update_state *s, uint8_t r[BW_UPDATE_STATE_RECORD_SIZE])
{
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
}

/* A record the ring found valid (magic, format and CRC checked there). */
static void decode(const uint8_t r[BW_UPDATE_STATE_RECORD_SIZE], bw_update_state *s)
{
    *s = (bw_update_state){
        .seq = bw_get32(r), .op = r[6], .op_bank = r[7], .current_bank = r[8], .lkg_bank = r[9],
        .trial = r[10], .op_progress = (uint16_t)(r[12] | r[13] << 8),
        .rollback_cause = r[14], .current_version = bw_get32(r + 16), .lkg_version = bw_get32(r + 20),
        .highest_version = bw_get32(r + 24),
    };
}

bw_update_state bw_update_state_initial(void)
{
    return (bw_update_state){
        .op = BW_UPDATE_OP_NONE, .op_bank = BW_BANK_NONE, .current_bank = BW_BANK_NONE,
        .lkg_bank = BW_BANK_NONE,
    };
}

bw_err bw_update_state_load(bw_update_journal *journal, const bw_flash_partition *partition,
                            bw_update_state *state)
{
    uint8_t r[BW_UPDATE_STATE_RECORD_SIZE];
    bool found;
    *state = bw_update_state_initial();
    bw_err err = bw_journal_load(journal, partition, RECORD_MAGIC, RECORD_FORMAT, r, &found);
    if (err == BW_OK && found) {
        decode(r, state);
    }
    return err;
}

bw_err bw_update_state_save(bw_update_journal *journal, bw_update_state *state)
{
    uint8_t r[BW_UPDATE_STATE_RECORD_SIZE];
    encode(state, r);
    return bw_journal_append(journal, r, &state->seq);
}
