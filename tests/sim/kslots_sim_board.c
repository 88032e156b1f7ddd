/* The boot stub's board side on the NOR model (kslots_sim_board.h). */
#include "kslots_sim_board.h"

#include <stdio.h>
#include <string.h>

#include "bw_rollback.h"
#include "sim_check.h"

uint32_t kslots_sim_floor(void *board)
{
    kslots_sim_board *b = board;
    return bw_rollback_floor(nor_sim_raw(b->sim) + b->rollback.offset, b->rollback.size);
}

bw_err kslots_sim_raise(void *board, uint32_t version)
{
    kslots_sim_board *b = board;
    return bw_rollback_raise(&b->rollback, version);
}

void kslots_sim_say(void *board, const char *text)
{
    kslots_sim_board *b = board;
    size_t used = strlen(b->console);
    snprintf(b->console + used, sizeof b->console - used, "%s", text);
}

bw_kstate kslots_sim_journal(const bw_flash_partition *state)
{
    bw_journal j;
    bw_kstate st;
    CHECK(bw_kstate_load(&j, state, &st) == BW_OK, "load");
    return st;
}

int kslots_sim_slot_holds(nor_sim *sim, uint8_t *const kernels[2], uint32_t area_size)
{
    for (int i = 0; i < 2; i++) {
        if (memcmp(nor_sim_raw(sim), kernels[i], area_size) == 0) {
            return i;
        }
    }
    return -1;
}
