/*
 * Power-cut sweep of the device credentials store (bw_credentials.c) on the
 * NOR model, for three flash geometries (8 KiB / 16 B in ECC mode, 4 KiB /
 * 8 B, 128 KiB / 32 B) and 16 torn-outcome seeds at every cut.
 *
 * Promises: (1) first key creation cut at every flash operation: after the
 * cut and a reboot the store holds a valid key (the cut one if its header
 * made it, else a fresh one), and from then on that key never changes;
 * (2) a provisioning commit (a re-issued certificate and another broker over
 * a provisioned store) cut at every operation: after reboot the store holds
 * exactly the old content or exactly the new, never neither, and the key is
 * the one created at first; a second commit then succeeds.
 * Usage: test_credentials_sim <sector> <unit> <ecc 0|1>
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bw_credentials.h"
#include "bw_crypto.h"
#include "bw_random.h"
#include "cred_fixture.h"
#include "nor_sim.h"
#include "sim_check.h"
#include "port_host.h"


#define SEEDS 16u

static nor_sim *sim;
static bw_flash_partition part;
static jmp_buf power_lost;
static uint8_t *image;
static uint8_t cert[2][2048], ca[2048];
static size_t cert_len[2], ca_len;
static uint64_t cases;

static void restore(const uint8_t *from)
{
    memcpy(nor_sim_raw(sim), from, nor_sim_size(sim));
    nor_sim_raw_written(sim);
}

static void boot(bool *created)
{
    CHECK(bw_credentials_boot(&part, created) == BW_OK, "boot");
}

static void draft(int which)
{
    uint32_t held;
    const char *broker = which == 0 ? "old.example:1" : "new.example:2";
    CHECK(bw_credentials_draft_put(BW_CRED_ITEM_CERTIFICATE, 0, cert[which], cert_len[which], &held) == BW_OK
          && bw_credentials_draft_put(BW_CRED_ITEM_CA, 0, ca, ca_len, &held) == BW_OK
          && bw_credentials_draft_put(BW_CRED_ITEM_BROKER, 0, (const uint8_t *)broker, strlen(broker),
                                      &held) == BW_OK, "draft");
}

static int is_content(int which)
{
    size_t len;
    const uint8_t *c = bw_credentials_certificate(&len);
    return bw_credentials_provisioned() && len == cert_len[which] && memcmp(c, cert[which], len) == 0
        && strcmp(bw_credentials_broker_host(), which == 0 ? "old.example" : "new.example") == 0;
}

/* A cut at operation `cut` of the first boot's key creation. */
static bool cut_key_creation(uint64_t cut, uint64_t seed)
{
    bool created;
    memset(nor_sim_raw(sim), 0xFF, nor_sim_size(sim));
    nor_sim_raw_written(sim);
    nor_sim_set_seed(sim, seed);
    if (setjmp(power_lost) == 0) {
        nor_sim_arm_cut(sim, cut);
        bw_err err = bw_credentials_boot(&part, &created);
        if (nor_sim_disarm_cut(sim)) {
            CHECK(err == BW_OK && created, "uncut key creation");
            return false;   /* the workload ended before operation `cut` */
        }
    }
    nor_sim_power_on(sim);
    boot(&created);
    CHECK(bw_credentials_have_key() && !bw_credentials_provisioned(), "cut %llu: a key after reboot",
          (unsigned long long)cut);
    uint8_t key[BW_CRED_PUBLIC_SIZE];
    memcpy(key, bw_credentials_public_key(), sizeof key);
    boot(&created);
    CHECK(!created && memcmp(key, bw_credentials_public_key(), sizeof key) == 0,
          "cut %llu: the key stays", (unsigned long long)cut);
    cases++;
    return true;
}

/* A cut at operation `cut` of a commit that replaces content 0 by content 1. */
static bool cut_commit(uint64_t cut, uint64_t seed, const uint8_t key[BW_CRED_PUBLIC_SIZE])
{
    bool created;
    char reason[200];
    restore(image);
    boot(&created);
    CHECK(is_content(0), "the starting image");
    draft(1);
    nor_sim_set_seed(sim, seed);
    if (setjmp(power_lost) == 0) {
        nor_sim_arm_cut(sim, cut);
        bw_err err = bw_credentials_commit(CRED_FIXTURE_ID, reason, sizeof reason);
        if (nor_sim_disarm_cut(sim)) {
            CHECK(err == BW_OK && is_content(1), "uncut commit: %s", reason);
            return false;
        }
    }
    nor_sim_power_on(sim);
    boot(&created);
    CHECK(!created, "cut %llu: no new key", (unsigned long long)cut);
    CHECK(memcmp(bw_credentials_public_key(), key, BW_CRED_PUBLIC_SIZE) == 0, "cut %llu: same key",
          (unsigned long long)cut);
    CHECK(is_content(0) || is_content(1), "cut %llu seed %llu: old or new content",
          (unsigned long long)cut, (unsigned long long)seed);
    draft(1);
    CHECK(bw_credentials_commit(CRED_FIXTURE_ID, reason, sizeof reason) == BW_OK && is_content(1),
          "cut %llu: a commit after recovery: %s", (unsigned long long)cut, reason);
    cases++;
    return true;
}

int main(int argc, char **argv)
{
    CHECK(argc == 4, "usage: test_credentials_sim <sector> <unit> <ecc>");
    uint32_t sector = (uint32_t)strtoul(argv[1], NULL, 0), unit = (uint32_t)strtoul(argv[2], NULL, 0);
    bool ecc = strcmp(argv[3], "1") == 0;
    cred_fixture_init();
    port_host_reset();
    CHECK(bw_crypto_init() == BW_OK && bw_random_init() == BW_OK, "crypto");
    sim = nor_sim_create(&(nor_sim_config){ .size = 2 * sector, .sector_size = sector,
                                            .program_unit = unit, .seed = 1, .program_once = ecc });
    CHECK(sim != NULL, "model");
    part = (bw_flash_partition){ nor_sim_device(sim), 0, 2 * sector };
    nor_sim_set_cut_handler(sim, &power_lost);

    for (uint64_t cut = 0;; cut++) {
        bool more = false;
        for (uint64_t seed = 1; seed <= SEEDS; seed++) {
            more = cut_key_creation(cut, seed) || more;
        }
        if (!more) {
            break;
        }
    }
    /* The starting image: a key, provisioned with content 0. */
    bool created;
    char reason[200];
    memset(nor_sim_raw(sim), 0xFF, nor_sim_size(sim));
    nor_sim_raw_written(sim);
    boot(&created);
    uint8_t key[BW_CRED_PUBLIC_SIZE], csr[BW_CRED_CSR_MAX];
    memcpy(key, bw_credentials_public_key(), sizeof key);
    size_t csr_len;
    CHECK(bw_credentials_csr(CRED_FIXTURE_ID, csr, sizeof csr, &csr_len) == BW_OK, "csr");
    for (int i = 0; i < 2; i++) {
        cert_len[i] = cred_fixture_sign("ca", csr, csr_len, 10u + (unsigned)i, cert[i], sizeof cert[i]);
    }
    ca_len = cred_fixture_ca_der(ca, sizeof ca);
    draft(0);
    CHECK(bw_credentials_commit(CRED_FIXTURE_ID, reason, sizeof reason) == BW_OK, "%s", reason);
    image = malloc(nor_sim_size(sim));
    memcpy(image, nor_sim_raw(sim), nor_sim_size(sim));
    for (uint64_t cut = 0;; cut++) {
        bool more = false;
        for (uint64_t seed = 1; seed <= SEEDS; seed++) {
            more = cut_commit(cut, seed, key) || more;
        }
        if (!more) {
            break;
        }
    }
    printf("credentials sweep %u/%u%s: %llu cut cases, all old-or-new\n", sector, unit,
           ecc ? " (ECC)" : "", (unsigned long long)cases);
    free(image);
    nor_sim_destroy(sim);
    return 0;
}
