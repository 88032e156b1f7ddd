/*
 * The boot stub's board side on the NOR model, shared by the sweeps of the
 * kernel copies (test_kslots_sim.c) and of kernel delivery
 * (test_kdeliver_sim.c): the anti-rollback counter in a partition of the
 * model, and the stub's console into a buffer. Pass the board as bw_kslots'
 * ctx.
 */
#ifndef KSLOTS_SIM_BOARD_H
#define KSLOTS_SIM_BOARD_H

#include <stdint.h>

#include "bw_err.h"
#include "bw_flash.h"
#include "bw_kernel_slots.h"
#include "nor_sim.h"

typedef struct kslots_sim_board {
    nor_sim *sim;
    bw_flash_partition rollback;
    char console[4096];           /* what the stub said since the last clear */
} kslots_sim_board;

/* bw_kslots callbacks; board is a kslots_sim_board. */
uint32_t kslots_sim_floor(void *board);
bw_err kslots_sim_raise(void *board, uint32_t version);
void kslots_sim_say(void *board, const char *text);

/* The newest kernel-state record in state (the test fails if unreadable). */
bw_kstate kslots_sim_journal(const bw_flash_partition *state);

/* Which of the two kernel areas (area_size bytes each) the model's first
 * area_size bytes (the slot) hold exactly: 0, 1, or -1 (neither). */
int kslots_sim_slot_holds(nor_sim *sim, uint8_t *const kernels[2], uint32_t area_size);

#endif
