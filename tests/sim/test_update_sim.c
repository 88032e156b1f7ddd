/*
 * Power-cut sweep of the update engine (bw_update.c) on the NOR model.
 *
 * Promise: no update, interrupted at any instant, leaves a device that does
 * not boot a good app. For a scenario (an update from the provisioned app,
 * an update from an installed app, a rollback), the whole job runs once per
 * flash operation N with the power cut during operation N (torn program or
 * torn erase); then, after each cut:
 *   1. reboot (bw_update_boot finishes an interrupted copy): the app slot
 *      measures as exactly the old or the new app; optionally the power is
 *      cut a second time during that recovery, and the reboot repeated;
 *   2. a download resumed after the cut lost at most BW_UPDATE_PROGRESS_PAGES
 *      + 1 pages (256 B) of what was delivered, i.e. less than one OTA chunk
 *      (1792 B); on ECC flash, a torn program in the resumed sector may
 *      later send the stream back once more, to that sector's start (the
 *      engine answers BW_UPDATE_E_OFFSET), and never elsewhere;
 *   3. the job is finished: the new app is installed and verified.
 * Prints the number of cases; any failure aborts with the case.
 *
 * Usage: test_update_sim <fixtures> <sector> <unit> <program_once 0|1> <scenario>
 * scenario: provisioned (v1 provisioned -> v2), installed (v2 -> v3),
 *           rollback (v3 on trial, found crash-looping -> v2).
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

/* Compares raw images (as fast as memcmp; the digests were checked once). */
static void check_old_or_new(const uint8_t *old, const uint8_t *fresh, uint64_t cut)
{
    const uint8_t *now = nor_sim_raw(sim) + app_slot.offset;
    CHECK(memcmp(now, old, APP_SLOT_SIZE) == 0 || memcmp(now, fresh, APP_SLOT_SIZE) == 0,
          "after the cut at operation %llu the app slot is neither the old nor the new app",
          (unsigned long long)cut);
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

int main(int argc, char **argv)
{
    CHECK(argc == 6, "usage: test_update_sim <fixtures> <sector> <unit> <program_once> <scenario>");
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

    uint8_t *start = malloc(total);
    memcpy(start, nor_sim_raw(sim), total);
    delivered = 0;
    job();
    uint8_t digest[32], expected[32];
    app_slot_digest(digest);
    bundle_image_digest(&bundle_v[new_version], expected);
    CHECK(memcmp(digest, expected, 32) == 0, "the uncut job installs the bundle's measured image");
    memcpy(fresh, nor_sim_raw(sim) + app_slot.offset, APP_SLOT_SIZE);
    uint64_t cases = 0, second_cuts = 0;
    for (uint64_t cut = 0;; cut++) {
        memcpy(nor_sim_raw(sim), start, total);
        nor_sim_raw_written(sim);
        nor_sim_power_on(sim);
        delivered = 0;
        in_download = 0;
        if (!run_cut(job, cut)) {
            CHECK(job_is_done(new_version), "the uncut job did not finish");
            break;
        }
        cases++;
        nor_sim_power_on(sim);
        /* A second cut during recovery, at a point that varies with the case. */
        if (cut % 3 == 0 && run_cut(boot_only, cut % 41)) {
            second_cuts++;
            nor_sim_power_on(sim);
        }
        boot_only();
        check_old_or_new(old, fresh, cut);
        if (!job_is_done(new_version)) {
            job();
        }
        CHECK(job_is_done(new_version), "the job did not complete after the cut at %llu",
              (unsigned long long)cut);
        CHECK(memcmp(nor_sim_raw(sim) + app_slot.offset, fresh, APP_SLOT_SIZE) == 0,
              "after the cut at %llu the new app is not in place", (unsigned long long)cut);
    }
    printf("update sim: scenario %s, sector %u, unit %u%s: %llu power cuts (%llu with a second cut "
           "during recovery), %u resumed downloads sent back to a sector's start, 0 bricks\n",
           scenario, sector, unit, argv[4][0] == '1' ? ", ECC" : "",
           (unsigned long long)cases, (unsigned long long)second_cuts, rewinds);
    nor_sim_destroy(sim);
    return 0;
}
