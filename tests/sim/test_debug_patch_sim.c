/*
 * Power-cut sweep of the flash breakpoints (bw_debug_patch.c) on the NOR model.
 *
 * Promises: (1) while a debugger works, the app slot is the original app
 * with exactly the breakpoints asked for; (2) after a power cut at any
 * operation, torn any way, the next boot leaves the slot the original app
 * byte for byte (so it measures as installed) and no breakpoint survives;
 * (3) the same after a second cut anywhere in that boot's recovery; (4) a
 * debugger that vanished with breakpoints set (no peer_lost, the power
 * simply went) leaves none after the next boot.
 *
 * (The 128 KiB geometry, whose cases cost 16 times more, cuts every
 * operation once with a rotating tear pattern, from an empty store.)
 *
 * Workload, one debugging session: set A (slot sector 0), set B (sector 1),
 * set C (the last halfword of sector 0), clear A; then the power goes with
 * B and C set. Every operation of it is cut with each of the 6 tear
 * patterns; after each cut the recovery boot runs uncut, then again with a
 * second cut at a varying operation, then a clean boot; a last pass cuts
 * what is left, so every operation of every distinct recovery is cut
 * (sim_cover.h). Two starting stores: empty, and a ring
 * whose next records cross into its second sector (the erase of a ring
 * sector is cut too). Geometries as the other sweeps: 8 KiB / 16 ECC
 * (U585-like: torn units read BW_E_TORN), 4 KiB / 8, 128 KiB / 32. The
 * number of operations of the workload and of cases is asserted exactly
 * (argv: sector unit ecc ops).
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bw_bytes.h"
#include "bw_debug_packets.h"
#include "bw_debug_patch.h"
#include "nor_sim.h"
#include "sim_cover.h"
#include "sim_check.h"

#define SLOT_SECTORS 3u
#define STORE_SECTORS 3u
#define STEPS 4u

static nor_sim *sim;
static bw_flash_partition slot, store;
static jmp_buf power_lost;
static uint8_t *original;   /* the app, SLOT_SECTORS sectors */
static uint32_t sector_size, slot_size;
static uint32_t bp_at[3];   /* A, B, C slot offsets */
static uint64_t cases, ecc_boots;
static sim_cover cover;     /* second cuts of each distinct recovery */
static bool every_tear;     /* each cut with all 6 patterns, else one rotating pattern */

/* The workload's step k: set A, set B, set C, clear A. */
static void step(uint32_t k)
{
    static const int set[STEPS] = { 1, 1, 1, 0 };
    static const uint32_t which[STEPS] = { 0, 1, 2, 0 };
    uint32_t at = bp_at[which[k]];
    bw_err err = set[k] ? bw_debug_patch_set(at, bw_get16(original + at)) : bw_debug_patch_clear(at);
    CHECK(err == BW_OK, "step %u: error %d", k, (int)err);
}

/* The slot is the original with a BKPT at exactly the offsets in mask (bits: A, B, C). */
static void check_slot(unsigned mask, const char *where)
{
    const uint8_t *raw = nor_sim_raw(sim);
    for (uint32_t i = 0; i < slot_size; i += 2u) {
        uint16_t want = bw_get16(original + i);
        for (unsigned b = 0; b < 3u; b++) {
            if ((mask & (1u << b)) && bp_at[b] == i) {
                want = BW_DBG_BKPT;
            }
        }
        CHECK(bw_get16(raw + i) == want, "%s: slot offset 0x%x holds 0x%04x, want 0x%04x", where,
              i, bw_get16(raw + i), want);
    }
}

static bw_err boot(void)
{
    return bw_debug_patch_boot(&slot, &store, NULL);
}

/* A boot that may be cut at its operation `at`; true when the cut fired. */
static bool boot_cut(uint64_t at)
{
    if (setjmp(power_lost) == 0) {
        nor_sim_arm_cut(sim, at);
        bw_err err = boot();
        CHECK(err == BW_OK, "recovery before its cut: error %d", (int)err);
        return !nor_sim_disarm_cut(sim);
    }
    nor_sim_power_on(sim);
    return true;
}

/* The workload, cut at its operation `at`; true when the cut fired. */
static bool workload_cut(uint64_t at)
{
    if (setjmp(power_lost) == 0) {
        nor_sim_arm_cut(sim, at);
        for (uint32_t k = 0; k < STEPS; k++) {
            step(k);
        }
        return !nor_sim_disarm_cut(sim);
    }
    nor_sim_power_on(sim);
    return true;
}

/* A clean boot after a cut: OK, the original app, no breakpoint kept, and
 * breakpoints work again. */
static void check_recovered(const char *where)
{
    uint64_t ecc_before = nor_sim_get_stats(sim).ecc_errors;
    bw_err err = boot();
    CHECK(err == BW_OK, "%s: boot error %d", where, (int)err);
    ecc_boots += nor_sim_get_stats(sim).ecc_errors != ecc_before;
    check_slot(0, where);
    CHECK(bw_debug_patch_count() == 0, "%s: %u breakpoints kept", where, bw_debug_patch_count());
}

/* The recovery from cut_state cut at its operation r, then a clean boot, checked. */
static void second_cut(const nor_sim_snapshot *cut_state, sim_recovery *rec, uint64_t r, const char *where)
{
    nor_sim_snapshot_restore(sim, cut_state);
    CHECK(boot_cut(r), "%s: recovery op %llu of %llu never reached", where, (unsigned long long)r,
          (unsigned long long)rec->ops);
    sim_cover_mark(&cover, rec, r);
    check_recovered(where);
}

static void last_pass_cut(void *ctx, sim_recovery *rec, uint64_t r)
{
    (void)ctx;
    second_cut(rec->state, rec, r, "the last pass");
}

/* The sweep from the store state `start`; returns the workload's operations. */
static uint64_t sweep(const nor_sim_snapshot *start, const char *name)
{
    /* A clean run: what each step leaves, and the workload's operations. */
    static const unsigned after_step[STEPS] = { 1u, 3u, 7u, 6u };
    nor_sim_snapshot_restore(sim, start);
    CHECK(boot() == BW_OK, "%s: first boot", name);
    uint64_t base = nor_sim_ops(sim);
    for (uint32_t k = 0; k < STEPS; k++) {
        step(k);
        check_slot(after_step[k], name);
    }
    uint64_t ops = nor_sim_ops(sim) - base;
    /* The power goes with B and C set: the next boot removes them. */
    check_recovered(name);

    char where[160];
    for (unsigned pass = 1; pass <= (every_tear ? NOR_SIM_TEAR_CHOICES : 1u); pass++) {
        for (uint64_t cut = 0; cut < ops; cut++) {
            unsigned tear = every_tear ? pass : 1u + (unsigned)(cut % NOR_SIM_TEAR_CHOICES);
            nor_sim_snapshot_restore(sim, start);
            nor_sim_set_tear(sim, tear);
            CHECK(boot() == BW_OK, "%s: boot before the cut", name);
            CHECK(workload_cut(cut), "%s: cut %llu did not fire", name, (unsigned long long)cut);
            nor_sim_cut_info info;
            CHECK(nor_sim_last_cut(sim, &info), "a cut");
            snprintf(where, sizeof where, "%s tear %u cut %llu (%s at 0x%x)", name, tear,
                     (unsigned long long)cut, info.op == NOR_SIM_OP_ERASE ? "erase" : "program",
                     info.offset);
            /* The recovery uncut, then cut at an operation that varies with
             * the case (sim_cover_pick: one not cut yet first). */
            nor_sim_snapshot *cut_state = nor_sim_snapshot_take(sim);
            uint64_t ops0 = nor_sim_ops(sim);
            nor_sim_trace_reset(sim);
            check_recovered(where);
            sim_recovery *rec = sim_cover_get(&cover, nor_sim_trace(sim), nor_sim_ops(sim) - ops0, cut,
                                              tear, cut_state);
            if (rec->ops != 0) {
                second_cut(cut_state, rec, sim_cover_pick(rec, cut * 7u + tear), where);
            }
            sim_cover_release(&cover, cut_state);
            cases++;
        }
    }
    return ops;
}

int main(int argc, char **argv)
{
    CHECK(argc == 6, "usage: test_debug_patch_sim SECTOR UNIT ECC OPS EVERY_TEAR");
    every_tear = strtoul(argv[5], NULL, 0) != 0;
    sector_size = (uint32_t)strtoul(argv[1], NULL, 0);
    uint32_t unit = (uint32_t)strtoul(argv[2], NULL, 0);
    bool ecc = strtoul(argv[3], NULL, 0) != 0;
    uint64_t want_ops = strtoull(argv[4], NULL, 0);
    slot_size = SLOT_SECTORS * sector_size;
    uint32_t size = slot_size + STORE_SECTORS * sector_size;
    sim = nor_sim_create(&(nor_sim_config){ .size = size, .sector_size = sector_size,
                                            .program_unit = unit, .seed = 11, .program_once = ecc });
    CHECK(sim != NULL, "model");
    nor_sim_set_cut_handler(sim, &power_lost);
    slot = (bw_flash_partition){ nor_sim_device(sim), 0, slot_size };
    store = (bw_flash_partition){ nor_sim_device(sim), slot_size, STORE_SECTORS * sector_size };

    /* The app: pseudo-random code, no BKPT where the breakpoints go. */
    original = malloc(slot_size);
    CHECK(original != NULL, "memory");
    uint32_t x = 12345u;
    for (uint32_t i = 0; i < slot_size; i++) {
        x = x * 1103515245u + 12345u;
        original[i] = (uint8_t)(x >> 16);
    }
    bp_at[0] = 0x100u;
    bp_at[1] = sector_size + 2u;
    bp_at[2] = sector_size - 2u;
    for (unsigned b = 0; b < 3u; b++) {
        bw_put16(original + bp_at[b], (uint16_t)(0x4600u + b));   /* mov r0, r0 and the like */
    }
    memcpy(nor_sim_raw(sim), original, slot_size);
    nor_sim_raw_written(sim);

    /* Start 1: an empty store. */
    nor_sim_snapshot *empty = nor_sim_snapshot_take(sim);
    uint64_t ops = sweep(empty, "empty store");

    /* (The large geometry: one rotating pattern, the empty store only.) */
    uint64_t ops2 = 0;
    if (every_tear) {
        /* Start 2: earlier sessions filled the first ring sector but for 3
         * records, so this session's records erase and enter the second. */
        nor_sim_snapshot_restore(sim, empty);
        CHECK(boot() == BW_OK, "boot");
        uint32_t per_sector = sector_size / BW_DEBUG_PATCH_RECORD_SIZE;
        for (uint32_t k = 0; k < (per_sector - 3u) / 4u; k++) {
            CHECK(bw_debug_patch_set(bp_at[1], bw_get16(original + bp_at[1])) == BW_OK, "fill");
            CHECK(bw_debug_patch_clear(bp_at[1]) == BW_OK, "fill");
        }
        check_slot(0, "after the fill");
        nor_sim_snapshot *filled = nor_sim_snapshot_take(sim);
        ops2 = sweep(filled, "filled ring");
        CHECK(ops2 == ops, "both workloads erase one ring sector: %llu vs %llu operations",
              (unsigned long long)ops2, (unsigned long long)ops);
        nor_sim_snapshot_free(filled);
    }

    sim_cover_last_pass(&cover, last_pass_cut, NULL);   /* every operation of every recovery */
    size_t recoveries = cover.count;
    uint64_t second_cuts = cover.second_cuts, top_up = cover.top_up_cuts;
    uint64_t recovery_ops = sim_cover_finish(&cover);
    printf("debug patch power-cut sweep, %u-byte sectors, %u-byte units%s: workload %llu operations,"
           " %llu cases (every operation x %s x %s), %llu second cuts during recovery (every one"
           " of the %llu operations of the %zu distinct recoveries cut; %llu in the last pass),"
           " %llu boots met ECC errors; after every one the slot is the original"
           " app byte for byte, no breakpoint kept\n", sector_size, unit, ecc ? " (ECC)" : "",
           (unsigned long long)ops, (unsigned long long)cases,
           every_tear ? "6 tear patterns" : "1 rotating tear pattern",
           every_tear ? "2 starting stores" : "an empty store",
           (unsigned long long)second_cuts, (unsigned long long)recovery_ops, recoveries,
           (unsigned long long)top_up, (unsigned long long)ecc_boots);
    CHECK(ops == want_ops, "the workload made %llu operations, expected %llu",
          (unsigned long long)ops, (unsigned long long)want_ops);
    CHECK(cases == (every_tear ? (ops + ops2) * NOR_SIM_TEAR_CHOICES : ops), "cases");
    nor_sim_snapshot_free(empty);
    nor_sim_destroy(sim);
    free(original);
    return 0;
}
