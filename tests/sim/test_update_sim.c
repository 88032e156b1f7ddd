/*
 * Power-cut sweep of the update engine (bw_update.c) on the NOR model.
 *
 * Promise: no update, interrupted at any instant, leaves a device that does
 * not boot a good app, and no flash error during the recovery starts an
 * unverified slot. For a scenario (an update from the provisioned app, an
 * update from an installed app, a rollback), the whole job runs once per
 * flash operation N with the power cut during operation N, torn with several
 * patterns (see sweep_cuts); then, after each cut:
 *   1. reboot (bw_update_boot finishes an interrupted copy): the outcome is
 *      one the scenario allows and names the app the slot holds, byte for
 *      byte; the power is cut again during that recovery, and read, program
 *      and erase errors are injected into it (see after_cut);
 *   2. a download resumed after the cut lost at most BW_UPDATE_PROGRESS_PAGES
 *      + 1 pages (256 B) of what was delivered, i.e. less than one OTA chunk
 *      (1792 B); on ECC flash, a torn program in the resumed sector may
 *      later send the stream back once more, to that sector's start (the
 *      engine answers BW_UPDATE_E_OFFSET), and never elsewhere;
 *   3. the job is finished: the new app is installed and verified.
 * On the ECC geometry a unit a cut left half-written reads as BW_E_TORN (the
 * U585's ECC NMI); the recovery boots that hit one are counted.
 * Prints the number of cases; any failure aborts with the case.
 *
 * Usage: test_update_sim <fixtures> <sector> <unit> <program_once 0|1> <scenario>
 *        [<cases> [<shard> <shards>]]
 * scenario: provisioned (v1 provisioned -> v2), installed (v2 -> v3),
 *           rollback (v3 on trial, found crash-looping -> v2);
 *           program_error and switch: see program_error_sweep and
 *           switch_sweep (switch takes its exact number of cases);
 * for the first three, <cases> is the least number of flash operations the
 * job must make, and the sweep does the first cuts c with c % shards == shard.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bw_config.h"
#include "bw_crypto.h"
#include "bw_update.h"
#include "mbedtls/sha256.h"
#include "nor_sim.h"
#include "sim_cover.h"

#define APP_SLOT_SIZE (1024u * 1024u)
#define CHUNK 1000u

typedef struct blob {
    uint8_t *data;
    size_t len;
} blob;

static nor_sim *sim;
static bw_flash_partition app_slot, bank[2], state_part;
static bw_trusted_key trusted;
static bw_update_config config;
static blob bundle_v[4];
static jmp_buf power_lost;
static volatile uint32_t delivered;      /* bundle bytes the job handed over */
static volatile int in_download;
static const char *scenario;
static int unit_ecc;               /* the model is ECC flash (program once) */
static unsigned rewinds;           /* resumed downloads sent back to a sector's start */

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

static blob load(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, "cannot open %s", path);
    blob b = { malloc(4u << 20), 0 };
    b.len = fread(b.data, 1, 4u << 20, f);
    fclose(f);
    return b;
}

/*
 * Signature checks are memoised: this test is about power cuts, and the same
 * few manifests are verified thousands of times. The first check of each
 * (manifest, signature) pair is the real one (linked with
 * -Wl,--wrap=bw_manifest_verify_signature); later ones return its result.
 */
bw_err __real_bw_manifest_verify_signature(const uint8_t *manifest, size_t len,
                                           const bw_signature_block *signature,
                                           const bw_trusted_key *keys, size_t key_count,
                                           bw_manifest_diag *why);
bw_err __wrap_bw_manifest_verify_signature(const uint8_t *manifest, size_t len,
                                           const bw_signature_block *signature,
                                           const bw_trusted_key *keys, size_t key_count,
                                           bw_manifest_diag *why);
bw_err __wrap_bw_manifest_verify_signature(const uint8_t *manifest, size_t len,
                                           const bw_signature_block *signature,
                                           const bw_trusted_key *keys, size_t key_count,
                                           bw_manifest_diag *why)
{
    static struct { uint8_t key[32]; bw_err result; } memo[8];
    static unsigned used;
    uint8_t key[32];
    mbedtls_sha256_context sha;
    mbedtls_sha256_init(&sha);
    mbedtls_sha256_starts(&sha, 0);
    mbedtls_sha256_update(&sha, manifest, len);
    mbedtls_sha256_update(&sha, (const uint8_t *)signature, sizeof *signature);
    mbedtls_sha256_finish(&sha, key);
    mbedtls_sha256_free(&sha);
    for (unsigned i = 0; i < used; i++) {
        if (memcmp(memo[i].key, key, 32) == 0 && memo[i].result == BW_OK) {
            return BW_OK;
        }
    }
    bw_err result = __real_bw_manifest_verify_signature(manifest, len, signature, keys, key_count, why);
    if (used < 8) {
        memcpy(memo[used].key, key, 32);
        memo[used++].result = result;
    }
    return result;
}

static void sha256_of(const uint8_t *data, size_t len, uint8_t out[32])
{
    CHECK(mbedtls_sha256(data, len, out, 0) == 0, "sha256");
}

/* SHA-256 of the app slot, as raw flash. */
static void app_slot_digest(uint8_t out[32])
{
    sha256_of(nor_sim_raw(sim) + app_slot.offset, APP_SLOT_SIZE, out);
}

/* The region image a bundle installs: its layers at their offsets, 0xFF elsewhere. */
static void bundle_image_digest(const blob *b, uint8_t out[32])
{
    bw_bundle_layout layout;
    bw_manifest m;
    bw_signature_block sig;
    CHECK(bw_bundle_open(b->data, b->len, &layout, &m, &sig, NULL) == BW_OK, "bundle opens");
    memcpy(out, m.regions[0].measurement, 32);
}

static void provision(const blob *b)
{
    bw_bundle_layout layout;
    bw_manifest m;
    bw_signature_block sig;
    CHECK(bw_bundle_open(b->data, b->len, &layout, &m, &sig, NULL) == BW_OK, "bundle opens");
    uint8_t *slot = nor_sim_raw(sim) + app_slot.offset;
    memset(slot, 0xFF, APP_SLOT_SIZE);
    for (unsigned i = 0; i < m.layer_count; i++) {
        memcpy(slot + m.layers[i].region_offset, b->data + layout.layers_offset + m.layers[i].data_offset,
               m.layers[i].length);
    }
    nor_sim_raw_written(sim);
}

static bw_update_outcome boot(void)
{
    bw_update_outcome outcome;
    bw_update_diag why;
    bw_err err = bw_update_boot(&config, &outcome, &why);
    char text[160];
    bw_update_describe(&why, text, sizeof text);
    CHECK(err == BW_OK, "boot: %s", text);
    return outcome;
}

/* Download and install bundle b (resuming whatever was received before). */
static void update_job(const blob *b)
{
    uint32_t resume;
    bw_update_diag why;
    char text[160];
    (void)boot();
    in_download = 1;
    bw_err err = bw_update_begin(b->data, b->len < BW_BUNDLE_HEAD_MAX ? b->len : BW_BUNDLE_HEAD_MAX,
                                 &resume, &why);
    bw_update_describe(&why, text, sizeof text);
    CHECK(err == BW_OK, "begin: %s", text);
    CHECK(resume + (BW_UPDATE_PROGRESS_PAGES + 1u) * 256u >= delivered,
          "resume at %u lost more than %u pages of %u delivered", resume,
          (unsigned)BW_UPDATE_PROGRESS_PAGES + 1u, delivered);
    int rewound = 0;
    for (uint32_t off = resume; off < b->len; off += CHUNK) {
        uint32_t n = b->len - off < CHUNK ? (uint32_t)(b->len - off) : CHUNK;
        err = bw_update_write(off, b->data + off, n, &why);
        bw_update_describe(&why, text, sizeof text);
        if (err != BW_OK && why.error == BW_UPDATE_E_OFFSET && !rewound) {
            /* A spent unit in the resumed sector: from the sector's start. */
            uint32_t back = bw_update_expected_offset();
            uint32_t sector = nor_sim_device(sim)->sector_size;
            CHECK(unit_ecc && back < off && back + sector + CHUNK >= resume,
                  "rewound from %u to %u (resume %u)", off, back, resume);
            rewound = 1;
            rewinds++;
            off = back - CHUNK;   /* the loop adds CHUNK */
            continue;
        }
        CHECK(err == BW_OK, "write at %u: %s", off, text);
        if (off + n > delivered) {
            delivered = off + n;
        }
    }
    err = bw_update_finish(&why);
    bw_update_describe(&why, text, sizeof text);
    CHECK(err == BW_OK, "finish: %s", text);
    in_download = 0;
    bw_update_outcome outcome;
    err = bw_update_install(&outcome, &why);
    bw_update_describe(&why, text, sizeof text);
    CHECK(err == BW_OK && outcome == BW_UPDATE_RUN_NEW_APP, "install: %s", text);
}

/* The new app on trial crash-loops: crash supervision asks for the rollback. */
static void rollback_job(void)
{
    bw_update_outcome outcome = boot();
    if (outcome == BW_UPDATE_RUN_ROLLED_BACK || bw_update_current_state()->trial == 0) {
        return;   /* the rollback finished during boot */
    }
    bw_update_diag why;
    CHECK(bw_update_rollback(BW_ROLLBACK_CRASH_LOOP, &outcome, &why) == BW_OK
          && outcome == BW_UPDATE_RUN_ROLLED_BACK, "rollback");
}

static void job(void)
{
    if (strcmp(scenario, "provisioned") == 0) {
        update_job(&bundle_v[2]);
    } else if (strcmp(scenario, "installed") == 0) {
        update_job(&bundle_v[3]);
    } else {
        rollback_job();
    }
}

static int job_is_done(uint32_t new_version)
{
    return bw_update_current_state()->current_version == new_version
        && bw_update_current_state()->op == BW_UPDATE_OP_NONE;
}

/* Runs f with a cut armed at operation n; true if the cut fired. */
static int run_cut(void (*f)(void), uint64_t n)
{
    if (setjmp(power_lost) == 0) {
        nor_sim_arm_cut(sim, n);
        f();
        return !nor_sim_disarm_cut(sim);
    }
    return 1;
}

static void boot_only(void)
{
    (void)boot();
}

/*
 * Scenario program_error (issue 15 item 3): a program fails (injected, flash
 * untouched) at the n-th flash operation of a DATA write, for every n the
 * write makes; the write reports a flash error, the same DATA sent again is
 * accepted, and the download finishes, verifies and installs v2.
 */
static void program_error_sweep(void)
{
    const blob *b = &bundle_v[2];
    uint8_t *start = malloc(nor_sim_size(sim));
    memcpy(start, nor_sim_raw(sim), nor_sim_size(sim));
    unsigned cases = 0;
    for (uint64_t n = 0;; n++) {
        memcpy(nor_sim_raw(sim), start, nor_sim_size(sim));
        nor_sim_raw_written(sim);
        (void)boot();
        uint32_t resume;
        bw_update_diag why;
        CHECK(bw_update_begin(b->data, BW_BUNDLE_HEAD_MAX, &resume, &why) == BW_OK, "begin");
        int failed = 0;
        for (uint32_t off = resume, k = 0; off < b->len; off += CHUNK, k++) {
            uint32_t len = b->len - off < CHUNK ? (uint32_t)(b->len - off) : CHUNK;
            if (k == 3) {
                uint64_t before = nor_sim_ops(sim);
                nor_sim_arm_error(sim, n, BW_E_IO);
                bw_err err = bw_update_write(off, b->data + off, len, &why);
                nor_sim_arm_error(sim, 0, BW_OK);
                if (err == BW_OK) {
                    CHECK(nor_sim_ops(sim) - before <= n, "op %llu failed unseen", (unsigned long long)n);
                    continue;
                }
                CHECK(why.error == BW_UPDATE_E_FLASH, "the failed write says flash (%d)", why.error);
                failed = 1;
            }
            CHECK(bw_update_write(off, b->data + off, len, &why) == BW_OK, "write (again) at %u", off);
        }
        if (!failed) {
            break;   /* the write makes fewer than n+1 operations: all tried */
        }
        cases++;
        char text[160];
        bw_err err = bw_update_finish(&why);
        bw_update_describe(&why, text, sizeof text);
        CHECK(err == BW_OK, "finish after a failed program at op %llu: %s", (unsigned long long)n, text);
        bw_update_outcome outcome;
        CHECK(bw_update_install(&outcome, &why) == BW_OK && outcome == BW_UPDATE_RUN_NEW_APP, "install");
        uint8_t digest[32], expected[32];
        app_slot_digest(digest);
        bundle_image_digest(b, expected);
        CHECK(memcmp(digest, expected, 32) == 0, "v2 installed after a failed program at op %llu",
              (unsigned long long)n);
    }
    CHECK(cases >= 4, "a 1000-byte write programs at least 4 pieces (%u cases)", cases);
    printf("update sim: program error at each of the %u operations of a write: resent, finished, "
           "installed\n", cases);
    free(start);
}

/* Runs bw_update_begin of bundle_v[3] (switch_sweep's cut workload). */
static void begin_v3(void)
{
    uint32_t resume;
    bw_update_diag why;
    (void)bw_update_begin(bundle_v[3].data, BW_BUNDLE_HEAD_MAX, &resume, &why);
}

/* Whether the download bank holds exactly bundle b: its head, and each layer
 * at its region offset after the head area. */
static int bank_holds(const blob *b)
{
    bw_bundle_layout layout;
    bw_manifest m;
    bw_signature_block sig;
    CHECK(bw_bundle_open(b->data, b->len, &layout, &m, &sig, NULL) == BW_OK, "bundle opens");
    uint8_t op_bank = bw_update_current_state()->op_bank;
    CHECK(op_bank == 0 || op_bank == 1, "a download names bank %u", op_bank);
    const uint8_t *at = nor_sim_raw(sim) + bank[op_bank].offset;
    uint32_t sector = nor_sim_device(sim)->sector_size;
    uint32_t head_area = (BW_BUNDLE_HEAD_MAX + sector - 1u) / sector * sector;
    if (memcmp(at, b->data, layout.layers_offset) != 0) {
        return 0;
    }
    for (unsigned i = 0; i < m.layer_count; i++) {
        if (memcmp(at + head_area + m.layers[i].region_offset,
                   b->data + layout.layers_offset + m.layers[i].data_offset, m.layers[i].length) != 0) {
            return 0;
        }
    }
    return 1;
}

/*
 * Scenario switch (issue 15 item 4): bundle v2 is partly delivered (a third
 * of its layer data, journaled), then the delivery switches to bundle v3 and
 * the power is cut during each flash operation of v3's begin, with
 * SWITCH_TEARS tear patterns (seeds) per operation. After each cut: the
 * reboot leaves the provisioned v1 in the slot and reports it runs; v3 is
 * then delivered whole from where begin says; before install the bank holds
 * exactly v3's bytes (so no byte of v2 can pass for v3's); install runs v3
 * on trial (no rollback) and the slot is v3's measured image; a reboot keeps
 * it. The number of cases must be `expected` (argv[6]): every operation of
 * begin is cut, with every tear pattern.
 */
#define SWITCH_TEARS 8u
static void switch_sweep(unsigned long expected)
{
    const blob *v2 = &bundle_v[2], *v3 = &bundle_v[3];
    uint8_t *old = malloc(APP_SLOT_SIZE), *v3_image = malloc(APP_SLOT_SIZE);
    memcpy(old, nor_sim_raw(sim) + app_slot.offset, APP_SLOT_SIZE);
    (void)boot();
    uint32_t old_version = bw_update_current_state()->current_version;
    uint32_t resume;
    bw_update_diag why;
    CHECK(bw_update_begin(v2->data, BW_BUNDLE_HEAD_MAX, &resume, &why) == BW_OK, "begin v2");
    uint32_t part = resume + (uint32_t)(v2->len - resume) / 3u;
    for (uint32_t off = resume; off < part; off += CHUNK) {
        uint32_t n = part - off < CHUNK ? part - off : CHUNK;
        CHECK(bw_update_write(off, v2->data + off, n, &why) == BW_OK, "write v2 at %u", off);
    }
    CHECK(bw_update_current_state()->op == BW_UPDATE_OP_DOWNLOADING
          && bw_update_current_state()->op_progress > 0, "part of v2 journaled");
    uint8_t *start = malloc(nor_sim_size(sim));
    memcpy(start, nor_sim_raw(sim), nor_sim_size(sim));

    /* The uncut switch: v3's image, and the number of operations of its begin. */
    delivered = 0;
    update_job(v3);
    uint8_t digest[32], measured[32];
    app_slot_digest(digest);
    bundle_image_digest(v3, measured);
    CHECK(memcmp(digest, measured, 32) == 0, "the uncut switch installs v3's measured image");
    memcpy(v3_image, nor_sim_raw(sim) + app_slot.offset, APP_SLOT_SIZE);

    unsigned long cases = 0;
    unsigned tears[NOR_SIM_TEAR_ERASE_ALL + 1] = { 0 };
    for (uint64_t cut = 0;; cut++) {
        unsigned fired = 0;
        for (uint64_t seed = 1; seed <= SWITCH_TEARS; seed++) {
            memcpy(nor_sim_raw(sim), start, nor_sim_size(sim));
            nor_sim_raw_written(sim);
            nor_sim_power_on(sim);
            nor_sim_set_seed(sim, seed * 7919u + cut);
            (void)boot();
            if (!run_cut(begin_v3, cut)) {
                break;
            }
            fired++;
            cases++;
            nor_sim_cut_info info;
            CHECK(nor_sim_last_cut(sim, &info), "cut recorded");
            tears[info.tear]++;
            nor_sim_power_on(sim);
            bw_update_outcome outcome = boot();
            CHECK(outcome == BW_UPDATE_RUN_APP, "after the cut at op %llu (tear %d) boot says %d",
                  (unsigned long long)cut, (int)info.tear, (int)outcome);
            CHECK(memcmp(nor_sim_raw(sim) + app_slot.offset, old, APP_SLOT_SIZE) == 0,
                  "after the cut at op %llu the slot is not the old app", (unsigned long long)cut);
            CHECK(bw_update_current_state()->current_version == old_version
                  && bw_update_current_state()->trial == 0, "the old app, not on trial");
            /* v3 delivered whole from where begin says (no cut). */
            char text[160];
            CHECK(bw_update_begin(v3->data, BW_BUNDLE_HEAD_MAX, &resume, &why) == BW_OK,
                  "begin v3 after the cut at op %llu", (unsigned long long)cut);
            for (uint32_t off = resume; off < v3->len; off += CHUNK) {
                uint32_t n = v3->len - off < CHUNK ? (uint32_t)(v3->len - off) : CHUNK;
                bw_err err = bw_update_write(off, v3->data + off, n, &why);
                bw_update_describe(&why, text, sizeof text);
                CHECK(err == BW_OK, "write v3 at %u after the cut at op %llu (tear %d, resumed at %u): %s",
                      off, (unsigned long long)cut, (int)info.tear, resume, text);
            }
            bw_err err = bw_update_finish(&why);
            bw_update_describe(&why, text, sizeof text);
            CHECK(err == BW_OK, "finish v3 after the cut at op %llu (tear %d, resumed at %u): %s",
                  (unsigned long long)cut, (int)info.tear, resume, text);
            CHECK(bank_holds(v3), "before install, the bank is not v3's exact bytes (cut at op %llu, "
                  "tear %d, resumed at %u)", (unsigned long long)cut, (int)info.tear, resume);
            err = bw_update_install(&outcome, &why);
            bw_update_describe(&why, text, sizeof text);
            CHECK(err == BW_OK && outcome == BW_UPDATE_RUN_NEW_APP, "install v3 (cut at op %llu): %s",
                  (unsigned long long)cut, text);
            CHECK(memcmp(nor_sim_raw(sim) + app_slot.offset, v3_image, APP_SLOT_SIZE) == 0,
                  "after install (cut at op %llu) the slot is not v3", (unsigned long long)cut);
            outcome = boot();
            CHECK(outcome != BW_UPDATE_RUN_ROLLED_BACK && job_is_done(3)
                  && bw_update_current_state()->trial,
                  "after install (cut at op %llu) a reboot does not run v3 on trial (%d)",
                  (unsigned long long)cut, (int)outcome);
        }
        if (fired == 0) {
            break;   /* begin makes fewer than cut+1 operations: all tried */
        }
        CHECK(fired == SWITCH_TEARS, "op %llu cut with some seeds only", (unsigned long long)cut);
    }
    printf("update sim: bundle switch v2 -> v3, sector %u, unit %u%s: %lu power cuts in begin "
           "(%u tear patterns per operation; tears none %u, all %u, prefix %u, random %u; erase "
           "prefix %u, random %u, all %u), 0 bricks\n",
           nor_sim_device(sim)->sector_size, nor_sim_device(sim)->program_unit,
           unit_ecc ? ", ECC" : "", cases, SWITCH_TEARS,
           tears[NOR_SIM_TEAR_PROGRAM_NONE], tears[NOR_SIM_TEAR_PROGRAM_ALL],
           tears[NOR_SIM_TEAR_PROGRAM_PREFIX], tears[NOR_SIM_TEAR_PROGRAM_RANDOM],
           tears[NOR_SIM_TEAR_ERASE_PREFIX], tears[NOR_SIM_TEAR_ERASE_RANDOM],
           tears[NOR_SIM_TEAR_ERASE_ALL]);
    CHECK(cases == expected, "%lu cases, expected %lu", cases, expected);
    free(start);
    free(old);
    free(v3_image);
}

/*
 * The main sweep (scenarios provisioned, installed, rollback). For every
 * flash operation c of the job (in this shard: c % shards == shard), the job
 * runs with the power cut during c, then op c is torn with every pattern the
 * model has for it (6 for a program, 3 for an erase: nor_sim_retear; 3 of a
 * program's 6 on the geometries without ECC, rotating). For
 * each such first cut:
 *   - the recovery boot must succeed, its outcome must be one the scenario
 *     allows (no rollback in an update, nothing parked) and name the app the
 *     slot holds, byte for byte (check_recovery);
 *   - the power is cut again during the recovery, and the boot after it
 *     checked the same way, until every operation of every distinct
 *     recovery has been cut (asserted). Recoveries are told apart by their
 *     trace (nor_sim_trace: the operations and bytes they ask for);
 *     neighbouring first cuts in a copy often share one. The first tear
 *     pattern cuts every 16th operation of its recovery from op c % 16 on,
 *     the others one not cut yet; a last pass (top_up) makes a case of each
 *     recovery with operations still uncut again, and cuts those;
 *   - read errors (one in the journal's load, one in the first reads after
 *     it, where a bank's head is read, one anywhere after it; their places
 *     varying from case to case) and a program or
 *     erase error are injected into the recovery, one per boot: it either
 *     succeeds as above or fails with NO_GOOD_APP (parked, never "run");
 *     the next boot then checks as above;
 *   - the job is finished from there: the new app is installed, verified.
 */
static struct {
    const uint8_t *old_image, *new_image;
    uint32_t old_version, new_version;
} sweep;

static struct {
    uint64_t cases, program_cases, erase_cases, read_errors, op_errors, parked, ecc_hits;
} stats;

static sim_cover cover;   /* second cuts of each distinct recovery */

/* A boot's outcome and the slot agree, and the scenario allows the outcome. */
static void check_recovery(bw_update_outcome outcome, const char *when, uint64_t cut, unsigned tear)
{
    const bw_update_state *st = bw_update_current_state();
    int rollback = strcmp(scenario, "rollback") == 0;
    CHECK(st->op != BW_UPDATE_OP_BACKUP && st->op != BW_UPDATE_OP_INSTALLING
          && st->op != BW_UPDATE_OP_ROLLING_BACK,
          "%s (cut at op %llu, tear %u): a copy is left unfinished (op %u)", when,
          (unsigned long long)cut, tear, st->op);
    const uint8_t *want = st->current_version == sweep.new_version ? sweep.new_image
                        : st->current_version == sweep.old_version ? sweep.old_image : NULL;
    CHECK(want != NULL, "%s (cut at op %llu, tear %u): version %u runs", when,
          (unsigned long long)cut, tear, st->current_version);
    CHECK(memcmp(nor_sim_raw(sim) + app_slot.offset, want, APP_SLOT_SIZE) == 0,
          "%s (cut at op %llu, tear %u): the slot is not app version %u's image", when,
          (unsigned long long)cut, tear, st->current_version);
    int ok;
    if (rollback) {   /* v3 on trial until the rollback to v2 is journaled */
        ok = (outcome == BW_UPDATE_RUN_NEW_APP && st->current_version == 3 && st->trial)
          || (outcome == BW_UPDATE_RUN_ROLLED_BACK && st->current_version == 2)
          || (outcome == BW_UPDATE_RUN_APP && st->current_version == 2 && !st->trial);
    } else {
        ok = (outcome == BW_UPDATE_RUN_APP && st->current_version == sweep.old_version && !st->trial)
          || (outcome == BW_UPDATE_RUN_NEW_APP && st->current_version == sweep.new_version && st->trial);
    }
    CHECK(ok, "%s (cut at op %llu, tear %u): outcome %d with version %u (trial %u) is not allowed "
          "in scenario %s", when, (unsigned long long)cut, tear, (int)outcome, st->current_version,
          st->trial, scenario);
}

/* A boot that may fail (injected errors): BW_OK, or an error that parks. */
static bw_err boot_may_fail(bw_update_outcome *outcome)
{
    bw_update_diag why;
    bw_err err = bw_update_boot(&config, outcome, &why);
    if (err != BW_OK) {
        CHECK(*outcome == BW_UPDATE_NO_GOOD_APP, "a failed boot says %d, not NO_GOOD_APP", (int)*outcome);
    }
    return err;
}

static uint64_t armed_read_error, armed_op_error;
#define SECOND_CUT_STRIDE 16u

/* A recovery boot with one injected error; then a clean boot. */
static void recovery_with_error(const nor_sim_snapshot *cut_state, uint64_t cut, unsigned tear, int read)
{
    nor_sim_snapshot_restore(sim, cut_state);
    if (read) {
        nor_sim_arm_read_error(sim, armed_read_error, BW_E_IO);
    } else {
        nor_sim_arm_error(sim, armed_op_error, BW_E_IO);
    }
    bw_update_outcome outcome;
    bw_err err = boot_may_fail(&outcome);
    nor_sim_arm_read_error(sim, 0, BW_OK);
    nor_sim_arm_error(sim, 0, BW_OK);
    if (err == BW_OK) {
        check_recovery(outcome, read ? "recovery with a read error" : "recovery with an op error", cut, tear);
    } else {
        stats.parked++;
    }
    check_recovery(boot(), "the boot after an injected error", cut, tear);
}

/* Reads a load of the journal makes from the flash as `at` holds it. */
static uint64_t journal_reads(const nor_sim_snapshot *at)
{
    nor_sim_snapshot_restore(sim, at);
    bw_update_journal journal;
    bw_update_state state;
    uint64_t before = nor_sim_get_stats(sim).reads;
    CHECK(bw_update_state_load(&journal, &state_part, &state) == BW_OK, "journal load");
    return nor_sim_get_stats(sim).reads - before;
}

/* Everything after the first cut at op `cut` (torn with pattern `tear`). */
/* Cuts the recovery from cut_state at its operation r, then checks the boot after it. */
static void second_cut(const nor_sim_snapshot *cut_state, sim_recovery *rec, uint64_t r, uint64_t cut,
                       unsigned tear)
{
    nor_sim_snapshot_restore(sim, cut_state);
    CHECK(run_cut(boot_only, r), "recovery op %llu not reached", (unsigned long long)r);
    nor_sim_power_on(sim);
    check_recovery(boot(), "the boot after a second cut", cut, tear);
    sim_cover_mark(&cover, rec, r);
}

static void after_cut(uint64_t cut, unsigned tear, unsigned tear_choice)
{
    nor_sim_snapshot *cut_state = nor_sim_snapshot_take(sim);
    nor_sim_power_on(sim);
    nor_sim_stats before = nor_sim_get_stats(sim);
    uint64_t ops0 = nor_sim_ops(sim);
    nor_sim_trace_reset(sim);
    bw_update_outcome outcome = boot();
    nor_sim_stats after = nor_sim_get_stats(sim);
    uint64_t recovery_ops = nor_sim_ops(sim) - ops0;
    if (after.ecc_errors > before.ecc_errors) {
        stats.ecc_hits++;
    }
    check_recovery(outcome, "the recovery boot", cut, tear);

    /* Second cuts: pattern 1 at every SECOND_CUT_STRIDE-th operation of the
     * recovery from cut % stride on (neighbouring first cuts of a copy
     * share a recovery, so together they cut most of it); the others at one
     * operation not cut yet, from a point that varies from case to case (or
     * at that point, when all have been). top_up cuts what is left. */
    sim_recovery *rec = sim_cover_get(&cover, nor_sim_trace(sim), recovery_ops, cut, tear_choice, cut_state);
    if (tear == 1) {
        for (uint64_t r = cut % SECOND_CUT_STRIDE; r < recovery_ops; r += SECOND_CUT_STRIDE) {
            second_cut(cut_state, rec, r, cut, tear);
        }
    } else if (recovery_ops != 0) {
        second_cut(cut_state, rec, sim_cover_pick(rec, cut * 13u + tear), cut, tear);
    }

    /* Read errors: one in the journal's load, one in the rest of the recovery
     * (the journal's reads would otherwise take nearly every one). */
    uint64_t reads = after.reads - before.reads;
    uint64_t journal = journal_reads(cut_state);
    armed_read_error = (cut + tear) % journal;
    recovery_with_error(cut_state, cut, tear, 1);
    stats.read_errors++;
    if (reads > journal) {
        /* the job's first reads (a bank's head: is it trusted?), then anywhere */
        uint64_t after_journal[2] = { (cut + tear) % 4u, (cut * 7u + tear) % (reads - journal) };
        for (unsigned i = 0; i < 2; i++) {
            armed_read_error = journal + after_journal[i] % (reads - journal);
            recovery_with_error(cut_state, cut, tear, 1);
            stats.read_errors++;
        }
    }
    if (recovery_ops != 0) {
        armed_op_error = (cut * 3u + tear) % recovery_ops;
        recovery_with_error(cut_state, cut, tear, 0);
        stats.op_errors++;
    }

    if (!job_is_done(sweep.new_version)) {
        job();
    }
    CHECK(job_is_done(sweep.new_version), "the job did not complete after the cut at %llu, tear %u",
          (unsigned long long)cut, tear);
    CHECK(memcmp(nor_sim_raw(sim) + app_slot.offset, sweep.new_image, APP_SLOT_SIZE) == 0,
          "after the cut at %llu the new app is not in place", (unsigned long long)cut);
    sim_cover_release(&cover, cut_state);
}

/* Returns the number of first cuts (operations cut). */
static uint64_t sweep_cuts(const nor_sim_snapshot *start, unsigned shard, unsigned shards)
{
    uint64_t first_cuts = 0;
    for (uint64_t cut = shard;; cut += shards) {
        nor_sim_snapshot_restore(sim, start);
        delivered = 0;
        in_download = 0;
        nor_sim_set_tear(sim, 1);
        if (!run_cut(job, cut)) {
            CHECK(job_is_done(sweep.new_version), "the uncut job did not finish");
            return first_cuts;
        }
        first_cuts++;
        nor_sim_set_tear(sim, 0);
        uint32_t delivered_at_cut = delivered;
        nor_sim_cut_info info;
        CHECK(nor_sim_last_cut(sim, &info), "cut recorded");
        /* The patterns of op c: on ECC flash (the U585) all of them; on the
         * others 3 of a program's 6 (none, then two of the other five
         * rotating with c: consecutive cuts cover all), and all 3 of an
         * erase's. Each taken before any other cut
         * replaces the model's record of op c. */
        unsigned all = info.op == NOR_SIM_OP_PROGRAM ? NOR_SIM_TEAR_CHOICES : 3u;
        unsigned patterns = info.tear == NOR_SIM_TEAR_NOTHING ? 1u : unit_ecc ? all : 3u;
        nor_sim_snapshot *torn[NOR_SIM_TEAR_CHOICES];
        unsigned tear_choice[NOR_SIM_TEAR_CHOICES];
        for (unsigned k = 0; k < patterns; k++) {
            unsigned choice = k == 0 ? 1u : patterns == all ? k + 1u
                            : 2u + (unsigned)((cut + k - 1u) % (all - 1u));
            CHECK(k == 0 || nor_sim_retear(sim, choice), "retear");
            torn[k] = nor_sim_snapshot_take(sim);
            tear_choice[k] = choice;
        }
        for (unsigned tear = 1; tear <= patterns; tear++) {
            nor_sim_snapshot_restore(sim, torn[tear - 1]);
            stats.cases++;
            if (info.op == NOR_SIM_OP_PROGRAM) {
                stats.program_cases++;
            } else {
                stats.erase_cases++;
            }
            delivered = delivered_at_cut;
            in_download = 0;
            after_cut(cut, tear, tear_choice[tear - 1]);
            nor_sim_snapshot_free(torn[tear - 1]);
        }
    }
}

static void last_pass_cut(void *ctx, sim_recovery *rec, uint64_t r)
{
    (void)ctx;
    second_cut(rec->state, rec, r, rec->cut, rec->tear);
}

int main(int argc, char **argv)
{
    CHECK(argc == 6 || argc == 7 || argc == 9,
          "usage: test_update_sim <fixtures> <sector> <unit> <program_once> <scenario> "
          "[<cases> [<shard> <shards>]]");
    uint32_t sector = (uint32_t)strtoul(argv[2], NULL, 0);
    uint32_t unit = (uint32_t)strtoul(argv[3], NULL, 0);
    scenario = argv[5];
    unit_ecc = argv[4][0] == '1';
    CHECK(bw_crypto_init() == BW_OK, "crypto arena");
    for (int v = 1; v <= 3; v++) {
        char name[32];
        snprintf(name, sizeof name, "app-v%d.bwb", v);
        bundle_v[v] = load(argv[1], name);
    }
    blob raw = load(argv[1], "signer.raw");
    CHECK(raw.len == 65, "signer.raw is 65 bytes");
    memcpy(trusted.public_key, raw.data, 65);

    uint32_t head = (BW_BUNDLE_HEAD_MAX + sector - 1u) / sector * sector;
    uint32_t bank_size = head + APP_SLOT_SIZE;
    uint32_t state_size = sector * (sector >= 65536u ? 2u : 4u);
    uint32_t total = APP_SLOT_SIZE + 2u * bank_size + state_size;
    sim = nor_sim_create(&(nor_sim_config){ .size = total, .sector_size = sector, .program_unit = unit,
                                            .seed = 7, .program_once = argv[4][0] == '1' });
    CHECK(sim != NULL, "nor_sim_create");
    nor_sim_set_cut_handler(sim, &power_lost);
    const bw_flash_device *dev = nor_sim_device(sim);
    app_slot = (bw_flash_partition){ dev, 0, APP_SLOT_SIZE };
    bank[0] = (bw_flash_partition){ dev, APP_SLOT_SIZE, bank_size };
    bank[1] = (bw_flash_partition){ dev, APP_SLOT_SIZE + bank_size, bank_size };
    state_part = (bw_flash_partition){ dev, APP_SLOT_SIZE + 2u * bank_size, state_size };
    config = (bw_update_config){
        .app_slot = &app_slot, .bank = { &bank[0], &bank[1] }, .state = &state_part,
        .keys = &trusted, .key_count = 1, .board = BW_BOARD_QEMU_AN505,
        .kernel_version = BW_KERNEL_VERSION_PACK(0, 1, 0),
    };

    /* The starting point of the scenario, built without cuts. */
    provision(&bundle_v[1]);
    if (strcmp(scenario, "program_error") == 0) {
        program_error_sweep();
        nor_sim_destroy(sim);
        return 0;
    }
    if (strcmp(scenario, "switch") == 0) {
        CHECK(argc == 7, "scenario switch: the expected number of cases");
        switch_sweep(strtoul(argv[6], NULL, 0));
        nor_sim_destroy(sim);
        return 0;
    }
    unsigned long min_cases = argc >= 7 ? strtoul(argv[6], NULL, 0) : 1u;
    unsigned shard = argc == 9 ? (unsigned)strtoul(argv[7], NULL, 0) : 0u;
    unsigned shards = argc == 9 ? (unsigned)strtoul(argv[8], NULL, 0) : 1u;
    CHECK(shards >= 1 && shard < shards, "shard %u of %u", shard, shards);
    uint32_t new_version = 2;
    if (strcmp(scenario, "installed") == 0 || strcmp(scenario, "rollback") == 0) {
        update_job(&bundle_v[2]);
        CHECK(bw_update_app_healthy() == BW_OK, "healthy");
        new_version = 3;
    }
    if (strcmp(scenario, "rollback") == 0) {
        delivered = 0;
        update_job(&bundle_v[3]);
        new_version = 2;
    }
    /* The old app is what the slot holds now; the new app's image is taken
     * once from an uncut run and checked against its bundle's measurement. */
    uint8_t *old = malloc(APP_SLOT_SIZE), *fresh = malloc(APP_SLOT_SIZE);
    memcpy(old, nor_sim_raw(sim) + app_slot.offset, APP_SLOT_SIZE);
    sweep.old_image = old;
    sweep.old_version = bw_update_current_state()->current_version;
    sweep.new_version = new_version;

    nor_sim_snapshot *start = nor_sim_snapshot_take(sim);
    delivered = 0;
    uint64_t ops_before = nor_sim_ops(sim);
    job();
    uint64_t job_ops = nor_sim_ops(sim) - ops_before;
    uint8_t digest[32], expected[32];
    app_slot_digest(digest);
    bundle_image_digest(&bundle_v[new_version], expected);
    CHECK(memcmp(digest, expected, 32) == 0, "the uncut job installs the bundle's measured image");
    memcpy(fresh, nor_sim_raw(sim) + app_slot.offset, APP_SLOT_SIZE);
    sweep.new_image = fresh;
    uint64_t first_cuts = sweep_cuts(start, shard, shards);
    sim_cover_last_pass(&cover, last_pass_cut, NULL);   /* every operation of every recovery */
    size_t recovery_count = cover.count;
    uint64_t second_cuts = cover.second_cuts, top_up_cuts = cover.top_up_cuts;
    uint64_t recovery_ops_total = sim_cover_finish(&cover);
    /* Every operation of the job in this shard was cut, with every pattern. */
    CHECK(first_cuts == (job_ops - shard + shards - 1u) / shards, "%llu first cuts of %llu operations",
          (unsigned long long)first_cuts, (unsigned long long)job_ops);
    CHECK(stats.cases == stats.program_cases + stats.erase_cases
          && stats.cases >= first_cuts && stats.read_errors >= stats.cases, "case counts");
    printf("update sim: scenario %s, sector %u, unit %u%s, shard %u/%u: the job makes %llu flash "
           "operations; %llu power cuts (%llu cases of a first "
           "cut and a tear pattern: %llu program, %llu erase), %llu second cuts during recovery "
           "(every one of the %llu operations of the %zu distinct recoveries cut; %llu of the "
           "second cuts in the top-up), %llu recoveries with an injected read error, %llu with an "
           "injected program/erase error (%llu parked, then finished), %llu recovery boots hit an "
           "ECC error (torn unit), %u resumed downloads sent back to a sector's start, 0 bricks\n",
           scenario, sector, unit, unit_ecc ? ", ECC" : "", shard, shards, (unsigned long long)job_ops,
           (unsigned long long)(stats.cases + second_cuts), (unsigned long long)stats.cases,
           (unsigned long long)stats.program_cases, (unsigned long long)stats.erase_cases,
           (unsigned long long)second_cuts, (unsigned long long)recovery_ops_total, recovery_count,
           (unsigned long long)top_up_cuts, (unsigned long long)stats.read_errors,
           (unsigned long long)stats.op_errors, (unsigned long long)stats.parked,
           (unsigned long long)stats.ecc_hits, rewinds);
    CHECK(job_ops >= min_cases, "the job makes %llu operations, at least %lu expected",
          (unsigned long long)job_ops, min_cases);
    nor_sim_snapshot_free(start);
    nor_sim_destroy(sim);
    return 0;
}
