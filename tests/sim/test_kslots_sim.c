/*
 * The kernel's copies and trial (boot/bw_kernel_slots.c, docs/SPEC.md §19.5)
 * on the NOR model: a power-cut sweep of a kernel swap and of a revert, for
 * one flash geometry per run, and the refusal and halt cases.
 *
 * Sweep promise: with a cut at every flash operation of the scenario, under
 * each of the 6 tear patterns (torn program and torn erase), and with a
 * second cut at every operation of every distinct recovery boot
 * (sim_cover.h), every boot that follows ends with a
 * verified kernel in the slot, exactly the old or the new one, the one the
 * journal says; and the scenario then still ends as it must: a swap with the
 * new kernel confirmed and the counter raised to it, a revert with the old
 * kernel back and the counter unchanged. A "brick" is any boot that finds no
 * kernel to start or breaks these; there must be none.
 *
 * The seal here is a small stand-in for §19.3 (version, length, CRC-32 of
 * the image; the real checks are in the QEMU tests): the logic under test is
 * the journal and the copies, and a CRC catches every torn image or seal.
 * Usage: test_kslots_sim <sector> <unit> <ecc 0|1> swap|revert <min ops>
 *        test_kslots_sim <sector> <unit> <ecc 0|1> cases
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bw_bytes.h"
#include "bw_kernel_slots.h"
#include "bw_rollback.h"
#include "kslots_sim_board.h"
#include "nor_sim.h"
#include "sim_cover.h"
#include "sim_check.h"

#define SEAL_SIZE   256u
#define SEAL_MAGIC  0x534D4953u   /* "SIMS" */
enum { E_EMPTY = 1, E_MALFORMED, E_ROLLBACK, E_TAMPERED };

static nor_sim *sim;
static bw_kslots slots;
static uint32_t area_size;
static uint8_t *kernel[2];          /* a whole area: image, 0xFF, seal */
static kslots_sim_board board;
static jmp_buf power_lost;
static int ecc_flash;

/* ---- the stand-in seal and the callbacks ---- */

static int sim_verify(void *ctx, const bw_flash_partition *area, uint32_t floor, uint32_t *version)
{
    (void)ctx;
    uint8_t seal[20];
    if (bw_flash_read(area, slots.image_size, seal, sizeof seal) != BW_OK) {
        return E_MALFORMED;
    }
    uint32_t blank = 0;
    for (size_t i = 0; i < sizeof seal; i++) {
        blank += seal[i] == 0xFFu;
    }
    if (blank == sizeof seal) {
        return E_EMPTY;
    }
    uint32_t len = bw_get32(seal + 8);
    if (bw_get32(seal) != SEAL_MAGIC || bw_get32(seal + 16) != bw_crc32(seal, 16) || len > slots.image_size) {
        return E_MALFORMED;
    }
    if (bw_get32(seal + 4) < floor) {
        return E_ROLLBACK;
    }
    uint32_t crc = 0;
    for (uint32_t at = 0; at < len; at += 256) {
        uint8_t piece[256];
        uint32_t n = len - at < 256 ? len - at : 256;
        if (bw_flash_read(area, at, piece, n) != BW_OK) {
            return E_TAMPERED;
        }
        crc = bw_crc32_update(crc, piece, n);
    }
    if (crc != bw_get32(seal + 12)) {
        return E_TAMPERED;
    }
    *version = bw_get32(seal + 4);
    return 0;
}

static const char *sim_describe(int error)
{
    static const char *const text[] = { "ok", "empty", "malformed", "rollback", "tampered" };
    return error >= 0 && error <= E_TAMPERED ? text[error] : "?";
}

/* ---- fixtures ---- */

/* A kernel area of the given version: len pseudo-random image bytes, then its seal. */
static uint8_t *make_kernel(uint32_t version, uint32_t len, uint32_t seed)
{
    uint8_t *k = malloc(area_size);
    CHECK(k != NULL, "memory");
    memset(k, 0xFF, area_size);
    for (uint32_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        k[i] = (uint8_t)(seed >> 16);
    }
    uint8_t *seal = k + slots.image_size;
    bw_put32(seal, SEAL_MAGIC);
    bw_put32(seal + 4, version);
    bw_put32(seal + 8, len);
    bw_put32(seal + 12, bw_crc32(k, len));
    bw_put32(seal + 16, bw_crc32(seal, 16));
    return k;
}

static void setup(uint32_t sector, uint32_t unit, int ecc)
{
    ecc_flash = ecc;
    area_size = sector * 2u > 64u * 1024u ? sector * 2u : 64u * 1024u;
    uint32_t size = 3u * area_size + 3u * sector;
    sim = nor_sim_create(&(nor_sim_config){
        .size = size, .sector_size = sector, .program_unit = unit, .seed = 7, .program_once = ecc });
    CHECK(sim != NULL, "model");
    const bw_flash_device *dev = nor_sim_device(sim);
    slots = (bw_kslots){
        .slot = { dev, 0, area_size }, .staged = { dev, area_size, area_size },
        .backup = { dev, 2u * area_size, area_size }, .state = { dev, 3u * area_size, 2u * sector },
        .image_size = area_size - SEAL_SIZE, .verify = sim_verify, .describe = sim_describe,
        .error_empty = E_EMPTY, .floor = kslots_sim_floor, .raise = kslots_sim_raise, .say = kslots_sim_say,
        .ctx = &board,
    };
    board.sim = sim;
    board.rollback = (bw_flash_partition){ dev, 3u * area_size + 2u * sector, sector };
    kernel[0] = make_kernel(1, 12000, 1);
    kernel[1] = make_kernel(2, 10000, 2);
}

/* Flash as before a swap: kernel 1 in the slot and counted, kernel 2 staged. */
static void start_state(const uint8_t *staged)
{
    memset(nor_sim_raw(sim), 0xFF, nor_sim_size(sim));
    memcpy(nor_sim_raw(sim), kernel[0], area_size);
    memcpy(nor_sim_raw(sim) + area_size, staged, area_size);
    nor_sim_raw_written(sim);
    CHECK(bw_rollback_raise(&board.rollback, 1) == BW_OK, "counter");
    bw_journal j;
    bw_kstate st;
    CHECK(bw_kstate_load(&j, &slots.state, &st) == BW_OK, "load");
    st = (bw_kstate){ .state = BW_KSTATE_STAGED };
    CHECK(bw_kstate_save(&j, &st) == BW_OK, "stage");
}

static bw_kstate journal_state(void)
{
    return kslots_sim_journal(&slots.state);
}

static int slot_holds(void)
{
    return kslots_sim_slot_holds(sim, kernel, area_size);
}

/* ---- the scenarios ---- */

static bool boot(void)
{
    uint32_t version;
    board.console[0] = '\0';
    return bw_kslots_boot(&slots, &version);
}

static void confirm(void)
{
    bool done;
    CHECK(bw_kslots_confirm(&slots.state, &done) == BW_OK, "confirm");
}

/* The scenario as the device would live it, without cuts. */
static void workload(int revert)
{
    if (revert) {
        for (unsigned i = 1; i <= BW_KSLOTS_TRIAL_BOOTS; i++) {
            (void)boot();
            CHECK(journal_state().boots == i, "trial boot %u", i);
        }
        (void)boot();
    } else {
        (void)boot();
        confirm();
        (void)boot();
    }
}

static void run_cut(int revert, uint64_t cut, bool *finished)
{
    if (setjmp(power_lost) == 0) {
        nor_sim_arm_cut(sim, cut);
        workload(revert);
        *finished = nor_sim_disarm_cut(sim);
    } else {
        *finished = false;
    }
}

/* A boot with a cut armed at its op-th operation; true if the cut fired. */
static bool boot_cut(uint64_t op)
{
    if (setjmp(power_lost) == 0) {
        nor_sim_arm_cut(sim, op);
        (void)boot();
        return !nor_sim_disarm_cut(sim);
    }
    return true;
}

static uint64_t bricks;

/* After a boot: a verified kernel in the slot, the one the journal names. */
static void check_boot(bool ok, const char *where, uint64_t cut, unsigned tear)
{
    bw_kstate st = journal_state();
    int holds = slot_holds();
    int expect = st.state == BW_KSTATE_TRIAL || st.state == BW_KSTATE_CONFIRMED ? 1 : 0;
    if (!ok || holds != expect) {
        bricks++;
        fprintf(stderr, "BRICK %s cut %llu tear %u: boot %d, slot %d, state %u boots %u\n%s", where,
                (unsigned long long)cut, tear, ok, holds, st.state, st.boots, board.console);
    }
}

/* The scenario from start with the power cut at its operation `cut`, torn
 * with pattern `tear`; the flash as the cut left it (powered on again). */
static nor_sim_snapshot *first_cut(const nor_sim_snapshot *start, int revert, uint64_t cut, unsigned tear)
{
    nor_sim_snapshot_restore(sim, start);
    nor_sim_set_tear(sim, tear);
    bool finished;
    run_cut(revert, cut, &finished);
    CHECK(!finished, "cut %llu never fired", (unsigned long long)cut);
    nor_sim_power_on(sim);
    return nor_sim_snapshot_take(sim);
}

/* The rest of the device's life after the recovery boot, without cuts; it
 * must end as the scenario does. */
static void rest_of_life(int revert, uint64_t cut, unsigned tear)
{
    for (int i = 0; i < 6; i++) {
        bw_kstate st = journal_state();
        if (!revert && st.state == BW_KSTATE_TRIAL) {
            confirm();
        }
        check_boot(boot(), "after", cut, tear);
    }
    bw_kstate st = journal_state();
    uint32_t floor = kslots_sim_floor(&board);
    bool good = revert ? st.state == BW_KSTATE_REVERTED && st.reason == BW_KREASON_NEVER_CONFIRMED
                             && slot_holds() == 0 && floor == 1
                       : st.state == BW_KSTATE_CONFIRMED && slot_holds() == 1 && floor == 2;
    if (!good) {
        bricks++;
        fprintf(stderr, "WRONG END cut %llu tear %u: state %u reason %u slot %d floor %u\n%s",
                (unsigned long long)cut, tear, st.state, st.reason, slot_holds(), floor, board.console);
    }
}

/* The recovery boot from cut_state, uncut, and the life after it, checked;
 * the boot's entry in cover. */
static sim_recovery *recovery(nor_sim_snapshot *cut_state, sim_cover *cover, int revert,
                              uint64_t cut, unsigned tear)
{
    nor_sim_snapshot_restore(sim, cut_state);
    uint64_t ops0 = nor_sim_ops(sim);
    nor_sim_trace_reset(sim);
    check_boot(boot(), "recovery", cut, tear);
    sim_recovery *rec = sim_cover_get(cover, nor_sim_trace(sim), nor_sim_ops(sim) - ops0, cut, tear, cut_state);
    rest_of_life(revert, cut, tear);
    return rec;
}

/* The recovery boot from cut_state cut at its operation r, then a boot and
 * the life after it, checked. */
static void second_cut(const nor_sim_snapshot *cut_state, sim_cover *cover, sim_recovery *rec,
                       int revert, uint64_t r)
{
    nor_sim_snapshot_restore(sim, cut_state);
    CHECK(boot_cut(r), "recovery op %llu of %llu never reached", (unsigned long long)r,
          (unsigned long long)rec->ops);
    sim_cover_mark(cover, rec, r);
    nor_sim_power_on(sim);
    check_boot(boot(), "recovery after a second cut", rec->cut, rec->tear);
    rest_of_life(revert, rec->cut, rec->tear);
}

typedef struct last_pass {
    sim_cover *cover;
    int revert;
} last_pass;

static void last_pass_cut(void *ctx, sim_recovery *rec, uint64_t r)
{
    last_pass *lp = ctx;
    second_cut(rec->state, lp->cover, rec, lp->revert, r);
}

static void sweep(int revert, uint64_t min_ops)
{
    start_state(kernel[1]);
    nor_sim_snapshot *start = nor_sim_snapshot_take(sim);
    uint64_t before = nor_sim_ops(sim);
    workload(revert);
    uint64_t ops = nor_sim_ops(sim) - before;
    /* Uncut: the revert comes exactly after BW_KSLOTS_TRIAL_BOOTS trial boots. */
    bw_kstate end = journal_state();
    CHECK(revert ? end.state == BW_KSTATE_REVERTED && strstr(board.console, "[boot] reverted to kernel 0.0.1: "
                                                              "the new kernel never confirmed itself\n")
                 : end.state == BW_KSTATE_CONFIRMED && kslots_sim_floor(&board) == 2 && slot_holds() == 1,
          "uncut %s: state %u, console %s", revert ? "revert" : "swap", end.state, board.console);
    CHECK(ops >= min_ops, "the scenario makes %llu flash operations, fewer than %llu",
          (unsigned long long)ops, (unsigned long long)min_ops);

    nor_sim_set_cut_handler(sim, &power_lost);
    sim_cover cover = { 0 };
    uint64_t cases = 0;
    for (uint64_t cut = 0; cut < ops; cut++) {
        for (unsigned tear = 1; tear <= NOR_SIM_TEAR_CHOICES; tear++) {
            nor_sim_snapshot *cut_state = first_cut(start, revert, cut, tear);
            cases++;
            /* The recovery boot uncut, then cut at a point that moves with
             * the case (sim_cover_pick: one not cut yet first). */
            sim_recovery *rec = recovery(cut_state, &cover, revert, cut, tear);
            if (rec->ops != 0) {
                second_cut(cut_state, &cover, rec, revert, sim_cover_pick(rec, cut * 7u + tear));
            }
            sim_cover_release(&cover, cut_state);
        }
    }
    /* Every operation of every recovery boot. */
    sim_cover_last_pass(&cover, last_pass_cut, &(last_pass){ &cover, revert });
    size_t recoveries = cover.count;
    uint64_t second_cuts = cover.second_cuts, top_up = cover.top_up_cuts;
    uint64_t recovery_ops = sim_cover_finish(&cover);
    nor_sim_snapshot_free(start);
    printf("kslots %s sector %u unit %u%s: %llu flash operations, %llu cases (x%u tears), "
           "%llu second cuts (every one of the %llu operations of the %zu distinct recovery boots "
           "cut; %llu in the top-up), %llu bricks\n", revert ? "revert" : "swap",
           nor_sim_device(sim)->sector_size, nor_sim_device(sim)->program_unit,
           ecc_flash ? " ECC" : "", (unsigned long long)ops, (unsigned long long)cases,
           NOR_SIM_TEAR_CHOICES, (unsigned long long)second_cuts, (unsigned long long)recovery_ops,
           recoveries, (unsigned long long)top_up, (unsigned long long)bricks);
    CHECK(cases == ops * NOR_SIM_TEAR_CHOICES, "every operation cut with every tear");
    CHECK(bricks == 0, "%llu bricks", (unsigned long long)bricks);
}

/* ---- refusals and the halt ---- */

static void cases(void)
{
    /* A tampered staged kernel: refused with its reason, the slot kept. */
    uint8_t *bad = malloc(area_size);
    memcpy(bad, kernel[1], area_size);
    bad[100] ^= 1u;
    start_state(bad);
    CHECK(boot() && slot_holds() == 0, "tampered: old kernel boots");
    CHECK(strstr(board.console, "[boot] staged kernel refused: tampered\n") != NULL, "reason: %s", board.console);
    CHECK(journal_state().state == BW_KSTATE_REFUSED
          && journal_state().reason == BW_KREASON_REFUSED + E_TAMPERED, "refused record");
    CHECK(boot() && board.console[0] == '\0', "the refusal is not repeated");

    /* A staged kernel older than the counter. */
    start_state(kernel[1]);
    CHECK(bw_rollback_raise(&board.rollback, 3) == BW_OK, "counter 3");
    uint8_t *old = make_kernel(3, 12000, 1);   /* the slot's kernel at version 3 */
    memcpy(nor_sim_raw(sim), old, area_size);
    nor_sim_raw_written(sim);
    CHECK(boot(), "rollback: old kernel boots");
    CHECK(strstr(board.console, "[boot] staged kernel refused: rollback\n") != NULL, "reason: %s", board.console);

    /* A confirmed record for version 2, but the slot holds version 1 (written
     * outside the journal): the counter does not rise past the slot's kernel. */
    start_state(kernel[1]);
    CHECK(boot() && slot_holds() == 1, "swap");
    confirm();
    memcpy(nor_sim_raw(sim), kernel[0], area_size);
    nor_sim_raw_written(sim);
    CHECK(boot() && slot_holds() == 0 && kslots_sim_floor(&board) == 1, "counter stays at the slot's version");

    /* Garbage in the slot, a good backup: restored, reason printed. */
    start_state(kernel[1]);
    CHECK(boot() && slot_holds() == 1, "swap");
    memset(nor_sim_raw(sim) + 4096, 0x00, 64);   /* a flash fault in the new kernel */
    CHECK(boot() && slot_holds() == 0, "back to the backup");
    CHECK(strstr(board.console, "[boot] reverted to kernel 0.0.1: the installed kernel failed verification\n")
                 != NULL, "reason: %s", board.console);

    /* Garbage in both: no kernel, both reasons printed. */
    memset(nor_sim_raw(sim), 0x5A, 3u * area_size);
    nor_sim_raw_written(sim);
    CHECK(!boot(), "both bad: halt");
    CHECK(strstr(board.console, "[boot] kernel refused: malformed\n") != NULL
          && strstr(board.console, "[boot] backup kernel refused: malformed\n") != NULL, "reasons: %s", board.console);

    /* An empty backup is not reported (the single-slot boards' refusal stays one line). */
    start_state(kernel[1]);
    memset(nor_sim_raw(sim), 0x5A, 2u * area_size);
    nor_sim_raw_written(sim);
    CHECK(!boot() && strstr(board.console, "backup") == NULL, "one line: %s", board.console);
    free(bad);
    free(old);
    printf("kslots cases: refused tampered, refused rollback, counter held to the slot, slot restored, "
           "both bad halt, empty backup\n");
}

int main(int argc, char **argv)
{
    CHECK(argc >= 5, "usage: test_kslots_sim <sector> <unit> <ecc> swap|revert <min ops> | cases");
    setup((uint32_t)strtoul(argv[1], NULL, 0), (uint32_t)strtoul(argv[2], NULL, 0), atoi(argv[3]));
    if (strcmp(argv[4], "cases") == 0) {
        cases();
    } else {
        CHECK(argc == 6, "min ops");
        sweep(strcmp(argv[4], "revert") == 0, strtoull(argv[5], NULL, 0));
    }
    nor_sim_destroy(sim);
    free(kernel[0]);
    free(kernel[1]);
    return 0;
}
