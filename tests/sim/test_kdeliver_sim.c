/*
 * Kernel delivery (docs/SPEC.md §19.6) under power cuts, on the NOR model: a
 * signed kernel file received by the update engine into KERNEL_NEW, staged
 * for the stub, swapped in by the stub (boot/bw_kernel_slots.c), confirmed by
 * the new kernel and counted by the stub. Real seals (made by the CLI, see
 * make_update_fixtures.py) and the real §19.3 checks 1-6 (bw_seal_verify).
 *
 * Sweep promise: a cut at every flash operation of the whole job, under each
 * of the 6 tear patterns (torn program and torn erase); the device's life
 * after it run uncut, then cut again in its recovery (the first reset: the
 * stub's and the engine's boot) until every operation of every distinct
 * recovery has been cut (sim_cover.h). After
 * every reset the stub starts a verified kernel that fills the slot exactly
 * (the old or the new one), the engine's boot never parks the app, and the
 * device's life then ends as it must: the host's next delivery (which
 * resumes where the journal says) installs the new kernel, which confirms
 * itself, and the counter rises to it. A brick is
 * any reset that breaks one of these; there must be none. The case count is
 * exactly operations x tears, and the job's operation count is asserted.
 * Usage: test_kdeliver_sim <fixtures dir> <sector> <unit> <ecc 0|1> <ops>
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bw_bytes.h"
#include "bw_kernel_seal.h"
#include "bw_kernel_slots.h"
#include "bw_rollback.h"
#include "bw_update.h"
#include "kslots_sim_board.h"
#include "nor_sim.h"
#include "sim_cover.h"
#include "sim_check.h"

#define BOARD        1u        /* qemu-an505, as the fixtures are signed */
#define DATA_CHUNK   512u      /* a link DATA frame's bytes */

static nor_sim *sim;
static bw_kslots slots;
static bw_flash_partition app_slot, bank_a, bank_b, update_state;
static uint32_t area_size, seal_area;
static uint8_t root_hash[BW_SEAL_HASH_SIZE];
static uint8_t *file[2];            /* the signed kernel files 0.1.0 and 0.2.0 */
static size_t file_len[2];
static uint32_t version[2];
static uint8_t *area[2];            /* each as a kernel area: image, 0xFF, seal, 0xFF */
static uint8_t *buf_image, *buf_seal;
static kslots_sim_board board;
static jmp_buf power_lost;
static int ecc_flash;

/* ---- the stub's callbacks: the real checks ---- */

static int real_verify(void *ctx, const bw_flash_partition *a, uint32_t floor, uint32_t *v)
{
    (void)ctx;
    if (bw_flash_read(a, slots.image_size, buf_seal, seal_area) != BW_OK
        || bw_flash_read(a, 0, buf_image, slots.image_size) != BW_OK) {
        return BW_SEAL_E_MALFORMED;   /* unreadable (torn on ECC flash) */
    }
    bw_seal seal;
    bw_seal_error e = bw_seal_verify(buf_seal, seal_area, buf_image, slots.image_size, NULL, 0, BOARD, root_hash,
                                     floor, &seal);
    if (e == BW_SEAL_OK) {
        *v = seal.version;
    }
    return (int)e;
}

static const char *real_describe(int error)
{
    return bw_seal_describe((bw_seal_error)error);
}

/* ---- fixtures and the flash ---- */

static uint8_t *read_file(const char *dir, const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, "fixture %s (run sim.update_fixtures first)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)n);
    CHECK(data != NULL && fread(data, 1, (size_t)n, f) == (size_t)n, "read %s", path);
    fclose(f);
    *len = (size_t)n;
    return data;
}

/* A signed kernel file laid out as a kernel area (what the slot holds). */
static uint8_t *as_area(const uint8_t *f, size_t len)
{
    uint32_t s = bw_get16(f + 6), n = bw_get32(f + 12);
    CHECK(s + (size_t)n == len && n <= slots.image_size && s <= seal_area, "fixture layout");
    uint8_t *a = malloc(area_size);
    CHECK(a != NULL, "memory");
    memset(a, 0xFF, area_size);
    memcpy(a, f + s, n);
    memcpy(a + slots.image_size, f, s);
    return a;
}

static void setup(const char *dir, uint32_t sector, uint32_t unit, int ecc)
{
    ecc_flash = ecc;
    uint32_t image = sector > 32u * 1024u ? sector : 32u * 1024u;   /* whole sectors */
    area_size = image + sector;                                      /* the seal's sector after it */
    seal_area = sector;
    uint32_t app = sector > 8192u ? sector : 8192u;
    uint32_t head_area = (BW_BUNDLE_HEAD_MAX + sector - 1u) / sector * sector;
    uint32_t bank = head_area + app;
    uint32_t at = 0;
    uint32_t size = 3u * area_size + 3u * sector + app + 2u * bank + 2u * sector;
    sim = nor_sim_create(&(nor_sim_config){
        .size = size, .sector_size = sector, .program_unit = unit, .seed = 11, .program_once = ecc });
    CHECK(sim != NULL, "model");
    const bw_flash_device *dev = nor_sim_device(sim);
    slots = (bw_kslots){
        .slot = { dev, 0, area_size }, .staged = { dev, area_size, area_size },
        .backup = { dev, 2u * area_size, area_size }, .state = { dev, 3u * area_size, 2u * sector },
        .image_size = image, .verify = real_verify, .describe = real_describe,
        .error_empty = BW_SEAL_E_EMPTY, .floor = kslots_sim_floor, .raise = kslots_sim_raise, .say = kslots_sim_say,
        .ctx = &board,
    };
    at = 3u * area_size + 2u * sector;
    board.sim = sim;
    board.rollback = (bw_flash_partition){ dev, at, sector };
    at += sector;
    app_slot = (bw_flash_partition){ dev, at, app };
    at += app;
    bank_a = (bw_flash_partition){ dev, at, bank };
    at += bank;
    bank_b = (bw_flash_partition){ dev, at, bank };
    at += bank;
    update_state = (bw_flash_partition){ dev, at, 2u * sector };
    CHECK(at + 2u * sector == size, "layout");

    size_t raw_len;
    uint8_t *raw = read_file(dir, "kernel-root.raw", &raw_len);
    CHECK(raw_len == BW_SEAL_KEY_SIZE && bw_seal_sha256(raw, raw_len, root_hash) == 0, "root");
    free(raw);
    file[0] = read_file(dir, "kernel-0.1.0.signed", &file_len[0]);
    file[1] = read_file(dir, "kernel-0.2.0.signed", &file_len[1]);
    buf_image = malloc(image);
    buf_seal = malloc(sector);
    CHECK(buf_image != NULL && buf_seal != NULL, "memory");
    for (int i = 0; i < 2; i++) {
        area[i] = as_area(file[i], file_len[i]);
        version[i] = bw_get32(file[i] + 8);
    }
}

/* Flash before the job: kernel 0.1.0 in the slot, the counter at it, no journals. */
static void start_state(void)
{
    memset(nor_sim_raw(sim), 0xFF, nor_sim_size(sim));
    memcpy(nor_sim_raw(sim), area[0], area_size);
    nor_sim_raw_written(sim);
    CHECK(bw_rollback_raise(&board.rollback, version[0]) == BW_OK, "counter");
}

static bw_kstate journal_state(void)
{
    return kslots_sim_journal(&slots.state);
}

static int slot_holds(void)
{
    return kslots_sim_slot_holds(sim, area, area_size);
}

/* ---- the device's life ---- */

static uint64_t bricks;
static const char *where;

static void brick(const char *what)
{
    bricks++;
    fprintf(stderr, "BRICK (%s) %s: slot %d, state %u, counter %#x\n%s", where, what, slot_holds(),
            journal_state().state, (unsigned)kslots_sim_floor(&board), board.console);
}

/* A reset: the stub, then the kernel it started and its update engine. The
 * version running, or 0 after a brick. */
static uint32_t reset(void)
{
    uint32_t running = 0;
    board.console[0] = '\0';
    if (!bw_kslots_boot(&slots, &running)) {
        brick("the stub found no kernel to start");
        return 0;
    }
    int holds = slot_holds();
    if (holds < 0 || version[holds] != running) {
        brick("the slot is not exactly the kernel the stub started");
        return 0;
    }
    bw_update_config config = {
        .app_slot = &app_slot, .bank = { &bank_a, &bank_b }, .state = &update_state, .board = BOARD,
        .kernel_staged = &slots.staged, .kernel_state = &slots.state, .kernel_slot_size = slots.image_size,
        .kernel_running_version = running,
    };
    memcpy(config.kernel_root_hash, root_hash, sizeof root_hash);
    bw_update_outcome outcome;
    bw_update_diag why;
    if (bw_update_boot(&config, &outcome, &why) != BW_OK || outcome != BW_UPDATE_RUN_APP) {
        brick("the engine's boot did not let the app run");
        return 0;
    }
    return running;
}

/* The host delivers 0.2.0 (HEAD+BEGIN, DATA from the offset named, FINISH,
 * INSTALL); true when the engine staged it (the device then resets). */
static bool deliver(void)
{
    uint32_t s = bw_get16(file[1] + 6);
    uint32_t at = 0;
    bw_update_diag why;
    if (bw_update_begin(file[1], s, &at, &why) != BW_OK) {
        return false;
    }
    while (at < file_len[1]) {
        uint32_t n = file_len[1] - at < DATA_CHUNK ? (uint32_t)(file_len[1] - at) : DATA_CHUNK;
        bw_err err = bw_update_write(at, file[1] + at, n, &why);
        if (err == BW_OK) {
            at += n;
        } else if (why.error == BW_UPDATE_E_OFFSET) {
            at = bw_update_expected_offset();   /* the engine went back (ECC: a spent unit) */
        } else {
            return false;
        }
    }
    bw_update_outcome outcome;
    return bw_update_finish(&why) == BW_OK && bw_update_install(&outcome, &why) == BW_OK
           && outcome == BW_UPDATE_RESET_FOR_KERNEL;
}

static void confirm(void)
{
    bool done;
    CHECK(bw_kslots_confirm(&slots.state, &done) == BW_OK, "confirm");
}

/* The job from any state: reset, and as the running kernel and the host would,
 * deliver, confirm, reset, until 0.2.0 runs confirmed and counted (or a brick;
 * at most `steps` resets). */
/* Set to have live() note its first reset's flash operations (the recovery
 * after a cut) and their trace; cleared by it. */
static bool measure_first_reset;
static uint64_t first_reset_ops, first_reset_trace;

static void live(int steps)
{
    for (int i = 0; i < steps; i++) {
        uint64_t ops0 = nor_sim_ops(sim);
        nor_sim_trace_reset(sim);
        uint32_t running = reset();
        if (measure_first_reset) {
            measure_first_reset = false;
            first_reset_ops = nor_sim_ops(sim) - ops0;
            first_reset_trace = nor_sim_trace(sim);
        }
        if (running == 0) {
            return;
        }
        bw_kstate st = journal_state();
        if (running == version[1] && st.state == BW_KSTATE_CONFIRMED && kslots_sim_floor(&board) == version[1]) {
            return;
        }
        if (running == version[1] && st.state == BW_KSTATE_TRIAL) {
            confirm();
        } else if (running == version[0] && !deliver()) {
            brick("the host's delivery failed");
            return;
        }
    }
}

static void run_cut(uint64_t cut, bool *finished)
{
    if (setjmp(power_lost) == 0) {
        nor_sim_arm_cut(sim, cut);
        live(8);
        *finished = nor_sim_disarm_cut(sim);
    } else {
        *finished = false;
    }
}

/* A recovery with a cut armed at its op-th operation; true if it fired. */
static bool recovery_cut(uint64_t op)
{
    if (setjmp(power_lost) == 0) {
        nor_sim_arm_cut(sim, op);
        live(8);
        return !nor_sim_disarm_cut(sim);
    }
    return true;
}

/* The job from start with the power cut at its operation `cut`, torn with
 * pattern `tear`; the flash as the cut left it (powered on again). */
static nor_sim_snapshot *first_cut(const nor_sim_snapshot *start, uint64_t cut, unsigned tear)
{
    nor_sim_snapshot_restore(sim, start);
    nor_sim_set_tear(sim, tear);
    bool finished;
    where = "first cut";
    run_cut(cut, &finished);
    CHECK(!finished, "cut %llu never fired", (unsigned long long)cut);
    nor_sim_power_on(sim);
    return nor_sim_snapshot_take(sim);
}

/* After the device's life from here: 0.2.0 runs, confirmed and counted. */
static void check_end(uint64_t cut, unsigned tear)
{
    if (slot_holds() != 1 || journal_state().state != BW_KSTATE_CONFIRMED
        || kslots_sim_floor(&board) != version[1]) {
        fprintf(stderr, "cut %llu tear %u: ", (unsigned long long)cut, tear);
        brick("the job did not end on 0.2.0 confirmed and counted");
    }
}

/* The device's life from cut_state without a second cut, checked; the entry
 * in cover of its recovery (the first reset: the stub's and the engine's boot). */
static sim_recovery *recovery(nor_sim_snapshot *cut_state, sim_cover *cover, uint64_t cut, unsigned tear)
{
    nor_sim_snapshot_restore(sim, cut_state);
    where = "recovery";
    measure_first_reset = true;
    live(8);
    CHECK(!measure_first_reset, "no reset");
    check_end(cut, tear);
    return sim_cover_get(cover, first_reset_trace, first_reset_ops, cut, tear, cut_state);
}

/* The recovery from cut_state cut at its operation r, then the life after that, checked. */
static void second_cut(const nor_sim_snapshot *cut_state, sim_cover *cover, sim_recovery *rec, uint64_t r)
{
    nor_sim_snapshot_restore(sim, cut_state);
    where = "second cut";
    CHECK(recovery_cut(r), "recovery op %llu of %llu never reached", (unsigned long long)r,
          (unsigned long long)rec->ops);
    sim_cover_mark(cover, rec, r);
    nor_sim_power_on(sim);
    where = "after a second cut";
    live(8);
    check_end(rec->cut, rec->tear);
}

static void last_pass_cut(void *cover, sim_recovery *rec, uint64_t r)
{
    second_cut(rec->state, cover, rec, r);
}

static void sweep(uint64_t want_ops)
{
    start_state();
    nor_sim_snapshot *start = nor_sim_snapshot_take(sim);
    uint64_t before = nor_sim_ops(sim);
    where = "uncut";
    live(8);
    uint64_t ops = nor_sim_ops(sim) - before;
    CHECK(bricks == 0 && slot_holds() == 1 && journal_state().state == BW_KSTATE_CONFIRMED
              && kslots_sim_floor(&board) == version[1],
          "uncut job: slot %d state %u counter %#x", slot_holds(), journal_state().state,
          (unsigned)kslots_sim_floor(&board));
    CHECK(ops == want_ops, "the job makes %llu flash operations, not %llu",
          (unsigned long long)ops, (unsigned long long)want_ops);

    nor_sim_set_cut_handler(sim, &power_lost);
    sim_cover cover = { 0 };
    uint64_t cases = 0;
    for (uint64_t cut = 0; cut < ops; cut++) {
        for (unsigned tear = 1; tear <= NOR_SIM_TEAR_CHOICES; tear++) {
            nor_sim_snapshot *cut_state = first_cut(start, cut, tear);
            cases++;
            /* The device's life uncut, then with a second cut in its
             * recovery, at a point that moves with the case
             * (sim_cover_pick: one not cut yet first). */
            sim_recovery *rec = recovery(cut_state, &cover, cut, tear);
            if (rec->ops != 0) {
                second_cut(cut_state, &cover, rec, sim_cover_pick(rec, cut * 7u + tear * 31u));
            }
            sim_cover_release(&cover, cut_state);
        }
    }
    sim_cover_last_pass(&cover, last_pass_cut, &cover);   /* every operation of every recovery */
    size_t recoveries = cover.count;
    uint64_t second_cuts = cover.second_cuts, top_up = cover.top_up_cuts;
    uint64_t recovery_ops = sim_cover_finish(&cover);
    nor_sim_snapshot_free(start);
    printf("kdeliver sector %u unit %u%s: %llu flash operations, %llu cases (x%u tears), "
           "%llu second cuts (every one of the %llu operations of the %zu distinct recoveries cut; "
           "%llu in the top-up), %llu bricks\n", nor_sim_device(sim)->sector_size,
           nor_sim_device(sim)->program_unit, ecc_flash ? " ECC" : "", (unsigned long long)ops,
           (unsigned long long)cases, NOR_SIM_TEAR_CHOICES, (unsigned long long)second_cuts,
           (unsigned long long)recovery_ops, recoveries, (unsigned long long)top_up,
           (unsigned long long)bricks);
    CHECK(cases == ops * NOR_SIM_TEAR_CHOICES, "every operation cut with every tear");
    CHECK(bricks == 0, "%llu bricks", (unsigned long long)bricks);
}

int main(int argc, char **argv)
{
    CHECK(argc == 6, "usage: test_kdeliver_sim <fixtures> <sector> <unit> <ecc> <ops>");
    setup(argv[1], (uint32_t)strtoul(argv[2], NULL, 0), (uint32_t)strtoul(argv[3], NULL, 0), atoi(argv[4]));
    sweep(strtoull(argv[5], NULL, 0));
    nor_sim_destroy(sim);
    for (int i = 0; i < 2; i++) {
        free(file[i]);
        free(area[i]);
    }
    free(buf_image);
    free(buf_seal);
    return 0;
}
