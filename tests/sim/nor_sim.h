/*
 * nor_sim: a NOR flash model for host tests, with power-cut injection.
 *
 * It implements bw_flash_device (kernel/core/include/bw_flash.h) over a heap
 * buffer and enforces the same NOR rules a real driver does, returning the
 * same errors: program needs unit-aligned offset and length (BW_E_ALIGN) and
 * may only clear bits (BW_E_INVALID, nothing written); erase needs a sector
 * start (BW_E_ALIGN) and sets the whole sector to 0xFF; anything past the end
 * of the device is BW_E_SIZE. A fresh model is fully erased (0xFF).
 *
 * Operations. Every program call and every erase call is one operation, valid
 * or not (reads are not operations). Operations are numbered from creation on,
 * across power cycles (nor_sim_ops).
 *
 * Power cuts. nor_sim_arm_cut(sim, n) makes the n-th operation from now
 * (0 = the very next) the one during which power is lost. That operation does
 * part of its work (below), the model records the cut and powers off, then
 * longjmp()s to the jmp_buf given with nor_sim_set_cut_handler (value 1): the
 * code under test stops dead, as on a real power loss. Until
 * nor_sim_power_on() any further read/program/erase is a test bug: the model
 * prints a message and aborts. After power-on another cut can be armed (a cut
 * during recovery), any number of times.
 *
 * What a cut operation leaves (deterministic from the seed and the number of
 * the operation; nor_sim_last_cut tells which pattern was chosen):
 *  - program (valid request): bytes outside [offset, offset+len) never change;
 *    inside, every bit that was 0 stays 0, every bit the data keeps at 1 stays
 *    1, and each requested 1->0 transition is done or not: none of them, all
 *    of them, those in a prefix (up to a random bit position), a random
 *    subset, all but one, or those in a suffix (the end of the range written
 *    before its start). Seeded choices pick among the first four;
 *    nor_sim_set_tear picks any one.
 *  - erase (valid request): bytes outside the sector never change; inside,
 *    one of: a random-length prefix erased (0xFF) and the rest old (length 0:
 *    nothing happened); random bytes everywhere (any bit either way, as NOR
 *    pre-programs to 0 before erasing); fully erased yet reported cut.
 *  - an invalid request (it would have returned an error): nothing changes.
 *
 * Usage, a cut at every operation of a workload. Locals changed between
 * setjmp and the longjmp must be volatile (GCC's -Wclobbered, part of -Wextra,
 * flags them); simplest is a small function that holds the jmp_buf and the
 * setjmp and has no such locals (see program_cut in test_nor_sim.c).
 *
 *     nor_sim *sim = nor_sim_create(&(nor_sim_config){
 *         .size = 64 * 1024, .sector_size = 8192, .program_unit = 16, .seed = 1 });
 *     bw_flash_partition part = { nor_sim_device(sim), 0, 64 * 1024 };
 *     jmp_buf power_lost;
 *     nor_sim_set_cut_handler(sim, &power_lost);
 *     for (volatile uint32_t cut = 0;; cut++) {
 *         memset(nor_sim_raw(sim), 0xFF, nor_sim_size(sim));   // or a saved image
 *         if (setjmp(power_lost) == 0) {
 *             nor_sim_arm_cut(sim, cut);
 *             workload(&part);                 // stops dead at the cut
 *             if (nor_sim_disarm_cut(sim)) {
 *                 break;                       // finished before op `cut`: all tried
 *             }
 *         }
 *         nor_sim_power_on(sim);               // contents as the cut left them
 *         if (setjmp(power_lost) == 0) {       // optional: a second cut
 *             nor_sim_arm_cut(sim, cut2);      // during recovery (cut2: your choice)
 *             recover(&part);
 *             nor_sim_disarm_cut(sim);
 *         } else {
 *             nor_sim_power_on(sim);
 *             recover(&part);
 *         }
 *         check_old_or_new(&part);
 *     }
 *     nor_sim_destroy(sim);
 *
 * ECC flash (config.program_once): like the STM32U5's, a unit can be
 * programmed only once between erases, even where the new data would only
 * clear bits; a second program of it is BW_E_INVALID. After a torn erase, a
 * unit that reads all 0xFF counts as erased. A unit that a cut operation
 * left holding neither its old contents nor what the operation asked for
 * (partly programmed, partly erased) has ECC that no longer matches its
 * data: any read that touches it fails with BW_E_TORN (the chip raises an
 * ECC NMI) until its sector is erased (stats.ecc_errors counts such reads).
 *
 * Single-threaded; one model per simulated chip; heap-allocated (test code only).
 */
#ifndef NOR_SIM_H
#define NOR_SIM_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "bw_flash.h"

typedef struct nor_sim nor_sim;

typedef struct nor_sim_config {
    uint32_t size;          /* bytes, a whole number of sectors */
    uint32_t sector_size;   /* erase unit, a power of two */
    uint32_t program_unit;  /* program unit, a power of two <= sector_size */
    uint64_t seed;          /* chooses torn outcomes; same seed, same outcomes */
    bool program_once;      /* ECC flash (e.g. the STM32U5): a unit may be programmed
                               only while wholly erased, never again until erased */
} nor_sim_config;

typedef enum nor_sim_op {
    NOR_SIM_OP_PROGRAM,
    NOR_SIM_OP_ERASE,
} nor_sim_op;

/* How a cut operation left the flash (see the file comment). */
typedef enum nor_sim_tear {
    NOR_SIM_TEAR_NOTHING,        /* invalid request: nothing written */
    NOR_SIM_TEAR_PROGRAM_NONE,   /* no requested transition done */
    NOR_SIM_TEAR_PROGRAM_ALL,    /* all done, yet the operation was cut */
    NOR_SIM_TEAR_PROGRAM_PREFIX, /* transitions before a random bit position done */
    NOR_SIM_TEAR_PROGRAM_RANDOM, /* a random subset done */
    NOR_SIM_TEAR_PROGRAM_ALL_BUT_ONE, /* every transition but one done */
    NOR_SIM_TEAR_PROGRAM_SUFFIX, /* transitions from a random bit position on done (end first) */
    NOR_SIM_TEAR_ERASE_PREFIX,   /* a random-length prefix (maybe 0) erased, rest old */
    NOR_SIM_TEAR_ERASE_RANDOM,   /* random bytes over the whole sector */
    NOR_SIM_TEAR_ERASE_ALL,      /* fully erased, yet the operation was cut */
} nor_sim_tear;

typedef struct nor_sim_cut_info {
    uint64_t op_index;      /* nor_sim_ops() numbering of the cut operation */
    nor_sim_op op;
    uint32_t offset;        /* as requested (device offset) */
    uint32_t len;           /* program: bytes requested; erase: the sector size */
    nor_sim_tear tear;
} nor_sim_cut_info;

typedef struct nor_sim_stats {
    uint64_t programs;      /* program calls, valid or not */
    uint64_t erases;        /* erase calls, valid or not */
    uint64_t reads;         /* read calls */
    uint64_t cuts;          /* power cuts so far */
    uint64_t ecc_errors;    /* reads that touched a torn unit (ECC flash) */
} nor_sim_stats;

/* A new fully erased model, or NULL if the geometry is invalid (not powers of
 * two, unit > sector, size 0 or not whole sectors) or memory ran out.
 * Powered on, no cut armed, no cut handler. Free with nor_sim_destroy. */
nor_sim *nor_sim_create(const nor_sim_config *config);
/* Frees the model (NULL is fine). Its device must no longer be used. */
void nor_sim_destroy(nor_sim *sim);

/* The model as a flash device; valid until nor_sim_destroy. */
const bw_flash_device *nor_sim_device(nor_sim *sim);

/* The raw contents (nor_sim_size bytes), to assert on, preload or corrupt.
 * Writes through this pointer bypass the NOR rules and are not operations. */
uint8_t *nor_sim_raw(nor_sim *sim);
uint32_t nor_sim_size(const nor_sim *sim);
/* After writing through nor_sim_raw on a program_once model: every unit that
 * holds a byte other than 0xFF counts as programmed, every other as erased. */
void nor_sim_raw_written(nor_sim *sim);

/* Where a cut longjmp()s to (value 1). Must be set before a cut fires and
 * the frame that called setjmp must still be live; a cut without a handler aborts. */
void nor_sim_set_cut_handler(nor_sim *sim, jmp_buf *handler);
/* Power is lost during the n-th operation from now (0: the next one).
 * Replaces any cut already armed. Aborts if the power is off. */
void nor_sim_arm_cut(nor_sim *sim, uint64_t n);
/* Cancels an armed cut; true if one was armed and had not fired (the code
 * under test finished before reaching it). */
bool nor_sim_disarm_cut(nor_sim *sim);
/* Power back on after a cut (a no-op when already on). Contents stay as the
 * cut left them; no cut is armed afterwards. */
void nor_sim_power_on(nor_sim *sim);
/* False between a cut and nor_sim_power_on. */
bool nor_sim_powered(const nor_sim *sim);
/* The most recent cut; false if there has been none. */
bool nor_sim_last_cut(const nor_sim *sim, nor_sim_cut_info *info);
/* Changes the seed of torn outcomes from now on (e.g. to try several tears
 * at the same cut point). */
void nor_sim_set_seed(nor_sim *sim, uint64_t seed);

/* Operations (program + erase calls) since creation, across power cycles. */
uint64_t nor_sim_ops(const nor_sim *sim);
nor_sim_stats nor_sim_get_stats(const nor_sim *sim);
/* A hash of the operations (kind, offset, length, a program's bytes) asked
 * for since nor_sim_trace_reset: two runs with equal traces asked the flash
 * for the same operations in the same order. Snapshots leave it alone. */
void nor_sim_trace_reset(nor_sim *sim);
uint64_t nor_sim_trace(const nor_sim *sim);
/* Erase calls that erased the sector containing offset (wear), valid ones only. */
uint64_t nor_sim_erase_count(const nor_sim *sim, uint32_t offset);

/* Hardware-error injection: the n-th operation from now returns err (e.g.
 * BW_E_IO) without touching the flash; it still counts as an operation.
 * A cut armed for the same operation wins. BW_OK cancels. */
void nor_sim_arm_error(nor_sim *sim, uint64_t n, bw_err err);
/* The n-th read from now (0: the next) returns err without filling the
 * buffer; BW_OK cancels. */
void nor_sim_arm_read_error(nor_sim *sim, uint64_t n, bw_err err);
/* How cut operations tear from now on: 0, a seeded choice (the default);
 * k >= 1, program pattern (k-1) % 6 (none, all, prefix, random, all but
 * one, suffix) and erase pattern (k-1) % 3 (prefix, random, all). */
void nor_sim_set_tear(nor_sim *sim, unsigned choice);
/* Tear patterns nor_sim_set_tear cycles through for a program (6 covers all). */
#define NOR_SIM_TEAR_CHOICES 6u

/* Tears the last cut operation again with tear choice `choice` (as
 * nor_sim_set_tear), from what its range held before it: the flash is as if
 * that cut had torn this way. Call right after the cut (before power-on and
 * any other device call); the power stays off. False if there was no cut or
 * the cut request was invalid (nothing to tear). */
bool nor_sim_retear(nor_sim *sim, unsigned choice);

/* The whole state a power cut leaves (contents, programmed and torn units),
 * saved and put back, e.g. to try many recoveries of one cut. Restoring
 * powers the model on with no cut armed. */
typedef struct nor_sim_snapshot nor_sim_snapshot;
nor_sim_snapshot *nor_sim_snapshot_take(const nor_sim *sim);
void nor_sim_snapshot_restore(nor_sim *sim, const nor_sim_snapshot *snap);
void nor_sim_snapshot_free(nor_sim_snapshot *snap);

/* Makes every read return err without filling the buffer (BW_OK: reads work). */
void nor_sim_set_read_error(nor_sim *sim, bw_err err);

#endif
