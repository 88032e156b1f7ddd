/*
 * Which operations of each recovery a power-cut sweep has cut a second time.
 *
 * A sweep cuts the power at every operation of a job; the boot after each
 * such first cut runs a recovery, which a second cut must also hit at every
 * operation. Many first cuts share a recovery (neighbouring cuts in one copy
 * redo the same work), so recoveries are told apart by their trace
 * (nor_sim_trace: the operations and bytes they ask the flash for), and a
 * sweep cuts each distinct recovery at each of its operations at least once:
 * some during the sweep (sim_cover_pick prefers an operation not cut yet),
 * the rest in a last pass from the flash its first case left
 * (sim_recovery.state) at each operation still uncut (sim_recovery.uncut > 0).
 */
#ifndef SIM_COVER_H
#define SIM_COVER_H

#include <stddef.h>
#include <stdint.h>

#include "nor_sim.h"

typedef struct sim_recovery {
    uint64_t trace;    /* nor_sim_trace of the uncut recovery */
    uint64_t ops;      /* its flash operations */
    uint64_t uncut;    /* of those, how many no second cut has hit yet */
    uint64_t cut;      /* the first case that ran it: the first cut's operation */
    unsigned tear;     /*   and the tear (nor_sim_set_tear / nor_sim_retear choice) */
    nor_sim_snapshot *state;   /* the flash that case's cut left (NULL: no operations) */
    uint8_t *done;     /* ops bytes: 1 once a second cut hit that operation */
} sim_recovery;

typedef struct sim_cover {
    sim_recovery *items;
    size_t count, cap;
    uint64_t second_cuts;    /* sim_cover_mark calls */
    uint64_t top_up_cuts;    /* of them, made by sim_cover_last_pass (which counts them) */
} sim_cover;

/* The recovery with this trace, added (nothing cut yet) when new; a trace
 * seen before with another operation count fails the test. cut_state is the
 * flash the case's cut left (the recovery starts from it): a new recovery
 * keeps it (to be given back with sim_cover_release). */
sim_recovery *sim_cover_get(sim_cover *cover, uint64_t trace, uint64_t ops, uint64_t cut, unsigned tear,
                            nor_sim_snapshot *cut_state);

/* Frees a case's cut_state, unless a recovery keeps it. */
void sim_cover_release(sim_cover *cover, nor_sim_snapshot *cut_state);

/* The operation to cut next, ops > 0: the first not cut yet from `from`
 * (mod ops) on, or `from` itself when every one has been. */
uint64_t sim_cover_pick(const sim_recovery *r, uint64_t from);

/* A second cut hit operation op of r. */
void sim_cover_mark(sim_cover *cover, sim_recovery *r, uint64_t op);

/* The last pass: cut(ctx, r, op) for every operation op of every recovery r
 * not cut yet; cut restores r->state, cuts the power at op, checks what
 * follows and calls sim_cover_mark. Counted in top_up_cuts. */
void sim_cover_last_pass(sim_cover *cover, void (*cut)(void *ctx, sim_recovery *r, uint64_t op), void *ctx);

/* Fails the test unless every operation of every recovery was cut; returns
 * their total, and frees the table and the states it keeps. */
uint64_t sim_cover_finish(sim_cover *cover);

#endif
