/*
 * Power-cut sweep of the crash log (bw_crash_log.c) on the NOR model.
 *
 * Promise: a power cut at any instant of a record write never corrupts an
 * older record: after the cut and a restart, every record committed before
 * the write is still there byte for byte (except those in the sector the
 * write was entitled to recycle), the record being written is either absent
 * or whole, nothing else appears, and the log goes on: the next record is
 * stored and numbered after the newest one found.
 *
 * For each flash geometry and each starting state (an empty log; a full,
 * wrapped ring whose next writes cross into a sector of old records), a
 * workload of several appends runs once per flash operation N with the power
 * cut during operation N, torn with every pattern the model has (6 for a
 * program: none, all, prefix, random, all but one bit, the end before the
 * start; 3 for an erase). After each cut the log is reopened and checked,
 * then one more append is cut at each of its own operations in turn (a
 * second cut before the first one's debris is cleared, its tear varying)
 * and the log is checked again. Geometries: 8 KiB sectors with 16-byte
 * units as ECC flash (the U585: a torn unit reads as BW_E_TORN), 8 KiB / 16
 * and 4 KiB / 8 without ECC. Every operation of the workload is cut with
 * every pattern (asserted per sweep), and the total number of cases is
 * asserted against a minimum. Prints the cases and the ECC hits.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bw_crash_log.h"
#include "nor_sim.h"
#include "sim_check.h"

#define SECTORS 4u
#define WORKLOAD 4u
#define MAX_RECORDS 4096u

static nor_sim *sim;
static bw_flash_partition part;
static jmp_buf power_lost;
static uint32_t slot_size, per_sector;

/* What the log held before the workload: sequence -> the record's bytes. */
typedef struct known {
    bool present;
    bw_crash_record record;
} known;
static known committed[MAX_RECORDS];
static bw_crash_record held[MAX_RECORDS];   /* scratch for read_all */

static bw_crash_record tagged(uint32_t tag)
{
    bw_crash_record r;
    memset(&r, 0, sizeof r);
    r.pc = tag;
    r.crash_class = (uint8_t)(tag % BW_CRASH_CLASS_COUNT);
    r.stack_len = (uint16_t)(tag % 64u) * 4u;
    for (uint32_t i = 0; i < r.stack_len; i++) {
        r.stack[i] = (uint8_t)(tag * 31u + i);
    }
    return r;
}

static uint32_t sector_of_slot(uint32_t slot)
{
    return slot / per_sector;
}

/* Records the log actually holds, in order, into out[]; returns how many. */
static uint32_t read_all(const bw_crash_log *log, bw_crash_record *out, uint32_t max)
{
    uint32_t n = 0, after = 0;
    bw_crash_record r;
    while (n < max && bw_crash_log_next(log, after, &r) == BW_OK) {
        out[n++] = r;
        after = r.sequence;
    }
    return n;
}

/* Where each record lives: the log's slot of a sequence number, from a
 * clean-run trace (slot_of[sequence]). */
static uint32_t slot_of[MAX_RECORDS];

/*
 * Checks the log after a cut during append number `in_progress` (0-based) of
 * `appended` planned ones that started at sequence `first_new`:
 *  - old records (sequence < first_new) are intact unless their sector was
 *    recycled by one of appends 0..in_progress;
 *  - new records before in_progress are intact;
 *  - the in-progress one is absent or whole;
 *  - nothing unknown appears.
 */
static void check_after_cut(const bw_crash_log *log, uint32_t first_new, uint32_t in_progress,
                            const bw_crash_record *planned, const char *where)
{
    bool recycled[SECTORS] = { false };
    for (uint32_t k = 0; k <= in_progress; k++) {
        uint32_t slot = slot_of[first_new + k];
        if (slot % per_sector == 0) {
            recycled[sector_of_slot(slot)] = true;
        }
    }
    uint32_t n = read_all(log, held, MAX_RECORDS);
    bool seen[MAX_RECORDS] = { false };
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = held[i].sequence;
        CHECK(s > 0 && s < MAX_RECORDS, "%s: sequence %u", where, s);
        seen[s] = true;
        if (s < first_new) {
            CHECK(committed[s].present, "%s: record %u was never written", where, s);
            CHECK(memcmp(&held[i], &committed[s].record, sizeof held[i]) == 0, "%s: old record %u changed", where, s);
        } else {
            uint32_t k = s - first_new;
            CHECK(k <= in_progress, "%s: record %u from the future", where, s);
            bw_crash_record want = planned[k];
            want.sequence = s;
            bw_crash_record_seal(&want);
            CHECK(memcmp(&held[i], &want, sizeof want) == 0, "%s: new record %u not whole", where, s);
        }
    }
    for (uint32_t s = 1; s < first_new; s++) {
        if (committed[s].present && !recycled[sector_of_slot(slot_of[s])]) {
            CHECK(seen[s], "%s: old record %u lost (its sector was not recycled)", where, s);
        }
    }
    for (uint32_t k = 0; k < in_progress; k++) {
        CHECK(seen[first_new + k], "%s: committed new record %u lost", where, first_new + k);
    }
}

/* Reopens the log and appends one more record: it must come out newest. */
static void check_goes_on(bw_crash_log *log, uint32_t tag, const char *where)
{
    bw_crash_record newest_before, r = tagged(tag), newest;
    bool had = bw_crash_log_newest(log, &newest_before) == BW_OK;
    CHECK(bw_crash_log_append(log, &r) == BW_OK, "%s: append after recovery", where);
    CHECK(bw_crash_log_newest(log, &newest) == BW_OK, "%s: newest after recovery", where);
    CHECK(newest.pc == tag, "%s: the new record is the newest", where);
    CHECK(newest.sequence == (had ? newest_before.sequence + 1u : 1u), "%s: numbering goes on (%u)", where,
          newest.sequence);
}

static uint64_t cases, first_cuts, ecc_hits;
static nor_sim_snapshot *image_snap, *after_first;

/* One sweep: image_snap is the flash before the workload, whose log's next
 * sequence is first_new; every cut tears with pattern `tear`. */
static void sweep(uint32_t first_new, unsigned tear)
{
    bw_crash_record planned[WORKLOAD];
    for (uint32_t k = 0; k < WORKLOAD; k++) {
        planned[k] = tagged(first_new * 100u + k);
    }
    /* What the log holds before the workload. */
    nor_sim_snapshot_restore(sim, image_snap);
    bw_crash_log log;
    CHECK(bw_crash_log_open(&log, &part) == BW_OK, "open");
    CHECK(log.next_sequence == first_new, "first_new %u != %u", log.next_sequence, first_new);
    memset(committed, 0, sizeof committed);
    uint32_t before = read_all(&log, held, MAX_RECORDS);
    for (uint32_t i = 0; i < before; i++) {
        committed[held[i].sequence].present = true;
        committed[held[i].sequence].record = held[i];
    }
    /* A clean run: where each planned record goes, and each append's operations. */
    uint64_t op_end[WORKLOAD];
    uint64_t base = nor_sim_ops(sim);
    for (uint32_t k = 0; k < WORKLOAD; k++) {
        bw_crash_record r = planned[k];
        CHECK(bw_crash_log_append(&log, &r) == BW_OK, "clean append");
        slot_of[first_new + k] = (log.next_slot + log.slot_count - 1u) % log.slot_count;
        op_end[k] = nor_sim_ops(sim) - base;
    }

    volatile uint64_t cut;
    for (cut = 0;; cut++) {
        nor_sim_snapshot_restore(sim, image_snap);
        nor_sim_set_tear(sim, tear);
        CHECK(bw_crash_log_open(&log, &part) == BW_OK, "open before the cut");
        if (setjmp(power_lost) == 0) {
            nor_sim_arm_cut(sim, cut);
            for (uint32_t k = 0; k < WORKLOAD; k++) {
                bw_crash_record r = planned[k];
                CHECK(bw_crash_log_append(&log, &r) == BW_OK, "append");
            }
            if (nor_sim_disarm_cut(sim)) {
                break;   /* the workload finished before operation `cut`: all tried */
            }
        }
        nor_sim_power_on(sim);
        uint32_t in_progress = 0;
        while (in_progress < WORKLOAD - 1u && cut >= op_end[in_progress]) {
            in_progress++;
        }
        char where[96];
        nor_sim_cut_info info;
        CHECK(nor_sim_last_cut(sim, &info), "a cut happened");
        snprintf(where, sizeof where, "pattern %u cut %llu (%s, tear %d)", tear,
                 (unsigned long long)cut, info.op == NOR_SIM_OP_ERASE ? "erase" : "program", (int)info.tear);
        uint64_t ecc_before = nor_sim_get_stats(sim).ecc_errors;
        bw_crash_log recovered;
        CHECK(bw_crash_log_open(&recovered, &part) == BW_OK, "%s: reopen", where);
        check_after_cut(&recovered, first_new, in_progress, planned, where);
        if (nor_sim_get_stats(sim).ecc_errors > ecc_before) {
            ecc_hits++;
        }
        cases++;
        first_cuts++;

        /* A second cut, at each operation of the next append, before the
         * first cut's debris is dealt with. */
        after_first = nor_sim_snapshot_take(sim);
        CHECK(after_first != NULL, "memory");
        for (volatile uint64_t cut2 = 0;; cut2++) {
            nor_sim_snapshot_restore(sim, after_first);
            nor_sim_set_tear(sim, (unsigned)((tear + cut2) % NOR_SIM_TEAR_CHOICES) + 1u);
            bw_crash_log again;
            CHECK(bw_crash_log_open(&again, &part) == BW_OK, "%s: reopen 2", where);
            volatile bool done = false;
            if (setjmp(power_lost) == 0) {
                nor_sim_arm_cut(sim, cut2);
                bw_crash_record extra = tagged(7777u);
                CHECK(bw_crash_log_append(&again, &extra) == BW_OK, "%s: extra append", where);
                done = nor_sim_disarm_cut(sim);
            }
            nor_sim_power_on(sim);
            /* Whatever the second cut did, the first check still holds and the log goes on. */
            CHECK(bw_crash_log_open(&again, &part) == BW_OK, "%s: reopen 3", where);
            uint32_t n = read_all(&again, held, MAX_RECORDS);
            for (uint32_t i = 0; i < n; i++) {
                uint32_t s = held[i].sequence;
                if (s < first_new) {
                    CHECK(committed[s].present && memcmp(&held[i], &committed[s].record, sizeof held[i]) == 0,
                          "%s, second cut %llu: old record %u changed", where, (unsigned long long)cut2, s);
                } else if (held[i].pc != 7777u) {
                    bw_crash_record want = planned[s - first_new];
                    want.sequence = s;
                    bw_crash_record_seal(&want);
                    CHECK(memcmp(&held[i], &want, sizeof want) == 0, "%s, second cut: record %u not whole",
                          where, s);
                }
            }
            check_goes_on(&again, 8888u, where);
            cases++;
            if (done) {
                break;
            }
        }
        nor_sim_snapshot_free(after_first);
    }
    CHECK(cut == op_end[WORKLOAD - 1u], "every one of the %llu operations cut (%llu)",
          (unsigned long long)op_end[WORKLOAD - 1u], (unsigned long long)cut);
}

/* Fills the log with `count` records from an erased flash. */
static void fill(uint32_t count)
{
    memset(nor_sim_raw(sim), 0xFF, nor_sim_size(sim));
    nor_sim_raw_written(sim);
    bw_crash_log log;
    CHECK(bw_crash_log_open(&log, &part) == BW_OK, "open empty");
    for (uint32_t i = 1; i <= count; i++) {
        bw_crash_record r = tagged(i);
        CHECK(bw_crash_log_append(&log, &r) == BW_OK, "fill");
        CHECK(r.sequence == i, "fill numbering");
        slot_of[i] = (log.next_slot + log.slot_count - 1u) % log.slot_count;
    }
}

static void run_geometry(uint32_t sector, uint32_t unit, bool ecc)
{
    sim = nor_sim_create(&(nor_sim_config){ .size = SECTORS * sector, .sector_size = sector,
                                            .program_unit = unit, .seed = 1, .program_once = ecc });
    CHECK(sim != NULL, "model");
    nor_sim_set_cut_handler(sim, &power_lost);
    part = (bw_flash_partition){ nor_sim_device(sim), 0, SECTORS * sector };
    slot_size = BW_CRASH_RECORD_SIZE + 16u;
    per_sector = sector / slot_size;
    uint32_t slots = per_sector * SECTORS;

    /* 1. an empty log; 2. a wrapped ring whose next records cross into a
     * sector of old records (two slots before a sector end); 3. the ring
     * wrapping from its last sector back to the first. */
    uint32_t fills[3] = { 0, slots + 2u * per_sector - 2u, 2u * slots - 2u };
    for (unsigned f = 0; f < 3; f++) {
        fill(fills[f]);
        image_snap = nor_sim_snapshot_take(sim);
        for (unsigned tear = 1; tear <= NOR_SIM_TEAR_CHOICES; tear++) {
            sweep(fills[f] + 1u, tear);
        }
        nor_sim_snapshot_free(image_snap);
    }
    nor_sim_destroy(sim);
}

/* The sweep's size: first cuts (every operation x 6 patterns) and all cases
 * (with the second cuts) must reach these (lowered only with a reason). */
#define MIN_FIRST_CUTS 468u
#define MIN_CASES 2066u

int main(void)
{
    run_geometry(8192u, 16u, true);
    run_geometry(8192u, 16u, false);
    run_geometry(4096u, 8u, false);
    printf("crash log power-cut sweep: %llu cases (%llu first cuts, every operation x %u tear "
           "patterns), %llu reopenings hit an ECC error, every older record intact, every torn "
           "record absent or whole\n", (unsigned long long)cases, (unsigned long long)first_cuts,
           NOR_SIM_TEAR_CHOICES, (unsigned long long)ecc_hits);
    CHECK(first_cuts >= MIN_FIRST_CUTS && cases >= MIN_CASES, "too few cases");
    return 0;
}
