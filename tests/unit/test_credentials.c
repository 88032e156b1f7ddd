/*
 * The device credentials store (kernel/net/bw_credentials.c; docs/SPEC.md
 * §12) on the NOR model: the record's format and CRCs as the spec writes
 * them, one key made on the first boot and kept, A/B selection of the newest
 * valid record (sequence numbers wrap), records with a bad CRC or field
 * refused, commit checks (chain, key, broker, completeness) that change
 * nothing when they refuse, and provisioning again keeping the key; key
 * sets (§12.4): taken when signed by the stored fleet CA and newer, the
 * replaced keys kept as retired, every refusal leaving flash unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "bw_bytes.h"
#include "bw_credentials.h"
#include "bw_crypto.h"
#include "bw_keyset.h"
#include "bw_random.h"
#include "cred_fixture.h"
#include "nor_sim.h"
#include "port_host.h"

#define SECTOR 8192u

static nor_sim *sim;
static bw_flash_partition part;
static uint8_t csr[BW_CRED_CSR_MAX], cert[2048], ca[2048];
static size_t csr_len, cert_len, ca_len;

static int setup(void **state)
{
    (void)state;
    cred_fixture_init();
    port_host_reset();
    assert_int_equal(bw_crypto_init(), BW_OK);
    assert_int_equal(bw_random_init(), BW_OK);
    sim = nor_sim_create(&(nor_sim_config){ .size = 4 * SECTOR, .sector_size = SECTOR,
                                            .program_unit = 16, .seed = 1 });
    part = (bw_flash_partition){ nor_sim_device(sim), 0, 2 * SECTOR };
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nor_sim_destroy(sim);
    return 0;
}

static void boot_ok(bool want_created)
{
    bool created = !want_created;
    assert_int_equal(bw_credentials_boot(&part, &created), BW_OK);
    assert_int_equal(created, want_created);
    assert_true(bw_credentials_have_key());
}

static void put_item(bw_cred_item item, const void *data, size_t len)
{
    uint32_t held = 0;
    assert_int_equal(bw_credentials_draft_put(item, 0, data, len, &held), BW_OK);
    assert_int_equal(held, len);
}

/* The device's request signed by ca_name, into cert. */
static void make_cert(const char *ca_name, unsigned serial)
{
    assert_int_equal(bw_credentials_csr(CRED_FIXTURE_ID, csr, sizeof csr, &csr_len), BW_OK);
    cert_len = cred_fixture_sign(ca_name, csr, csr_len, serial, cert, sizeof cert);
    ca_len = cred_fixture_ca_der(ca, sizeof ca);
}

static bw_err commit(const char *broker, char *reason)
{
    put_item(BW_CRED_ITEM_CERTIFICATE, cert, cert_len);
    put_item(BW_CRED_ITEM_CA, ca, ca_len);
    put_item(BW_CRED_ITEM_BROKER, broker, strlen(broker));
    bw_err err = bw_credentials_commit(CRED_FIXTURE_ID, reason, 200);
    if (err != BW_OK) {
        print_message("commit: %s\n", reason);
    }
    return err;
}

static void test_first_boot_makes_one_key(void **state)
{
    (void)state;
    boot_ok(true);
    assert_false(bw_credentials_provisioned());
    assert_int_equal(bw_credentials_sequence(), 1);
    uint8_t key[BW_CRED_PUBLIC_SIZE];
    memcpy(key, bw_credentials_public_key(), sizeof key);
    const uint8_t *raw = nor_sim_raw(sim);
    /* SPEC §12 header */
    assert_int_equal(bw_get32(raw), 0x52435742u);
    assert_int_equal(raw[4] | raw[5] << 8, 1);
    assert_int_equal(raw[6] | raw[7] << 8, 32);
    assert_int_equal(bw_get32(raw + 8), 1);
    assert_int_equal(bw_get32(raw + 12), BW_CRED_BODY_FIXED);
    assert_int_equal(bw_get32(raw + 16), 0);
    assert_int_equal(bw_get32(raw + 20), (uint32_t)crc32(0, raw + 32, BW_CRED_BODY_FIXED));
    assert_int_equal(bw_get32(raw + 28), (uint32_t)crc32(0, raw, 28));
    assert_memory_equal(raw + 32 + 32, key, sizeof key);
    assert_int_equal(raw[32 + 32], 0x04);
    assert_int_equal(raw[SECTOR], 0xFF);   /* B untouched */
    boot_ok(false);
    assert_memory_equal(bw_credentials_public_key(), key, sizeof key);
    /* The private key pairs with the public key: a CSR verifies under openssl. */
    make_cert("ca", 1);
}

/* A flash read error at boot (not a torn record) leaves the key unknown:
 * no key this boot, and no new one made over the real one. */
static void test_read_error_makes_no_key(void **state)
{
    (void)state;
    boot_ok(true);
    uint8_t *before = malloc(2 * SECTOR);
    memcpy(before, nor_sim_raw(sim), 2 * SECTOR);
    for (uint64_t n = 0; n < 4; n++) {   /* each read of the boot's load fails in turn */
        nor_sim_arm_read_error(sim, n, BW_E_IO);
        bool created = true;
        assert_int_equal(bw_credentials_boot(&part, &created), BW_E_IO);
        assert_false(created);
        assert_false(bw_credentials_have_key());
        assert_memory_equal(nor_sim_raw(sim), before, 2 * SECTOR);
    }
    nor_sim_arm_read_error(sim, 0, BW_OK);
    boot_ok(false);
    free(before);
}

static void test_bad_records_refused(void **state)
{
    (void)state;
    static const uint32_t spoil[] = { 0, 4, 6, 12, 16, 24, 28, 32, 32 + 32, 32 + 100 };
    boot_ok(true);
    uint8_t image[2 * SECTOR], key[BW_CRED_PUBLIC_SIZE];
    memcpy(image, nor_sim_raw(sim), sizeof image);
    memcpy(key, bw_credentials_public_key(), sizeof key);
    for (size_t i = 0; i < sizeof spoil / sizeof spoil[0]; i++) {
        memcpy(nor_sim_raw(sim), image, sizeof image);
        nor_sim_raw(sim)[spoil[i]] ^= 0x01;
        boot_ok(true);   /* nothing valid: a new key */
        assert_memory_not_equal(bw_credentials_public_key(), key, sizeof key);
    }
}

static void test_commit_and_ab_selection(void **state)
{
    (void)state;
    char reason[200];
    boot_ok(true);
    uint8_t key[BW_CRED_PUBLIC_SIZE];
    memcpy(key, bw_credentials_public_key(), sizeof key);
    make_cert("ca", 2);
    assert_int_equal(commit("broker.example:8883", reason), BW_OK);
    assert_true(bw_credentials_provisioned());
    assert_int_equal(bw_credentials_sequence(), 2);
    assert_string_equal(bw_credentials_broker_host(), "broker.example");
    assert_int_equal(bw_credentials_broker_port(), 8883);
    size_t len;
    assert_memory_equal(bw_credentials_certificate(&len), cert, cert_len);
    assert_int_equal(len, cert_len);
    assert_memory_equal(bw_credentials_ca_certificate(&len), ca, ca_len);
    assert_int_equal(bw_get32(nor_sim_raw(sim) + SECTOR + 8), 2);   /* B holds the new one */
    assert_int_equal(bw_get32(nor_sim_raw(sim) + 16 + SECTOR), BW_CRED_FLAG_PROVISIONED);

    /* Provision again: the certificate changes, the key never. */
    make_cert("ca", 3);
    assert_int_equal(commit("other.example:1", reason), BW_OK);
    assert_int_equal(bw_credentials_sequence(), 3);
    assert_memory_equal(bw_credentials_public_key(), key, sizeof key);
    assert_string_equal(bw_credentials_broker_host(), "other.example");

    /* The newest record (3, in A) spoiled: the older one (2, in B) is used. */
    nor_sim_raw(sim)[40] ^= 0x80;   /* A's body: record 3 spoiled */
    boot_ok(false);
    assert_int_equal(bw_credentials_sequence(), 2);
    assert_string_equal(bw_credentials_broker_host(), "broker.example");
    assert_memory_equal(bw_credentials_public_key(), key, sizeof key);
}

static void test_sequence_wraps(void **state)
{
    (void)state;
    char reason[200];
    boot_ok(true);
    make_cert("ca", 4);
    assert_int_equal(commit("b:1", reason), BW_OK);   /* A: 1 unprovisioned, B: 2 provisioned */
    uint8_t *raw = nor_sim_raw(sim);
    uint32_t seqs[2] = { 0xFFFFFFFFu, 0u };   /* B (0) is newer than A (0xFFFFFFFF) */
    for (unsigned s = 0; s < 2; s++) {
        uint8_t *h = raw + s * SECTOR;
        memcpy(h + 8, &seqs[s], 4);
        uint32_t crc = (uint32_t)crc32(0, h, 28);
        memcpy(h + 28, &crc, 4);
    }
    boot_ok(false);
    assert_true(bw_credentials_provisioned());
    assert_int_equal(bw_credentials_sequence(), 0);
}

static void test_commit_refusals_change_nothing(void **state)
{
    (void)state;
    char reason[200];
    boot_ok(true);
    make_cert("ca", 5);
    assert_int_equal(commit("good:8883", reason), BW_OK);
    uint8_t image[2 * SECTOR];
    memcpy(image, nor_sim_raw(sim), sizeof image);

    make_cert("rogue", 6);
    assert_int_equal(commit("evil:1", reason), BW_E_INVALID);
    assert_non_null(strstr(reason, "does not chain to the CA given"));
    make_cert("ca", 7);
    assert_int_equal(commit("no-port", reason), BW_E_INVALID);
    assert_non_null(strstr(reason, "HOST:PORT"));
    assert_int_equal(commit("host:70000", reason), BW_E_INVALID);
    ca[ca_len / 2] ^= 0xFF;
    assert_int_equal(commit("good:1", reason), BW_E_INVALID);
    put_item(BW_CRED_ITEM_CERTIFICATE, cert, cert_len);
    assert_int_equal(bw_credentials_commit(CRED_FIXTURE_ID, reason, sizeof reason), BW_E_INVALID);
    assert_non_null(strstr(reason, "incomplete"));
    /* the CN must be this device's ID */
    ca_len = cred_fixture_ca_der(ca, sizeof ca);
    put_item(BW_CRED_ITEM_CERTIFICATE, cert, cert_len);
    put_item(BW_CRED_ITEM_CA, ca, ca_len);
    put_item(BW_CRED_ITEM_BROKER, "b:1", 3);
    assert_int_equal(bw_credentials_commit("BW00000000000000000000000000000000", reason, sizeof reason),
                     BW_E_INVALID);
    assert_non_null(strstr(reason, "subject CN"));
    /* out-of-order and oversized draft writes */
    uint32_t held;
    assert_int_equal(bw_credentials_draft_put(BW_CRED_ITEM_CA, 5, ca, 4, &held), BW_E_INVALID);
    assert_int_equal(bw_credentials_draft_put((bw_cred_item)9, 0, ca, 4, &held), BW_E_INVALID);
    static uint8_t big[BW_CRED_CERT_MAX + 1];
    assert_int_equal(bw_credentials_draft_put(BW_CRED_ITEM_CERTIFICATE, 0, big, sizeof big, &held),
                     BW_E_SIZE);

    assert_memory_equal(nor_sim_raw(sim), image, sizeof image);
    assert_string_equal(bw_credentials_broker_host(), "good");
}

static void test_update_keys(void **state)
{
    (void)state;
    char reason[200];
    boot_ok(true);
    uint8_t keys[BW_CRED_UPDATE_KEYS_MAX][BW_CRED_PUBLIC_SIZE];
    size_t count = 9;
    bw_credentials_update_keys(keys, &count);
    assert_int_equal(count, 0);
    uint8_t point[2 * BW_CRED_PUBLIC_SIZE];
    memset(point, 0x5A, sizeof point);
    point[0] = point[BW_CRED_PUBLIC_SIZE] = 0x04;
    make_cert("ca", 8);
    put_item(BW_CRED_ITEM_UPDATE_KEYS, point, sizeof point);
    assert_int_equal(commit("b:1", reason), BW_OK);
    bw_credentials_update_keys(keys, &count);
    assert_int_equal(count, 2);
    assert_memory_equal(keys[1], point + BW_CRED_PUBLIC_SIZE, BW_CRED_PUBLIC_SIZE);
    assert_int_equal(commit("b:2", reason), BW_OK);   /* no keys sent: kept */
    bw_credentials_update_keys(keys, &count);
    assert_int_equal(count, 2);
    point[0] = 0x02;
    put_item(BW_CRED_ITEM_UPDATE_KEYS, point, BW_CRED_PUBLIC_SIZE);
    assert_int_equal(commit("b:3", reason), BW_E_INVALID);
}

static void expect_keys(const uint8_t (*want)[BW_CRED_PUBLIC_SIZE], size_t want_count,
                        const uint8_t (*want_retired)[BW_CRED_PUBLIC_SIZE], size_t retired_count)
{
    uint8_t keys[BW_CRED_UPDATE_KEYS_MAX][BW_CRED_PUBLIC_SIZE];
    size_t count = 99;
    bw_credentials_update_keys(keys, &count);
    assert_int_equal(count, want_count);
    assert_memory_equal(keys, want, want_count * BW_CRED_PUBLIC_SIZE);
    bw_credentials_retired_keys(keys, &count);
    assert_int_equal(count, retired_count);
    if (retired_count != 0) {
        assert_memory_equal(keys, want_retired, retired_count * BW_CRED_PUBLIC_SIZE);
    }
}

static void test_key_rotation(void **state)
{
    (void)state;
    char reason[200];
    uint8_t k[4][BW_CRED_PUBLIC_SIZE], set[BW_KEYSET_MAX];
    cred_fixture_new_key("k1", k[0]);
    cred_fixture_new_key("k2", k[1]);
    cred_fixture_new_key("k3", k[2]);
    boot_ok(true);
    make_cert("ca", 9);
    put_item(BW_CRED_ITEM_UPDATE_KEYS, k[0], BW_CRED_PUBLIC_SIZE);
    assert_int_equal(commit("b:1", reason), BW_OK);
    assert_int_equal(bw_credentials_key_set(), 0);

    /* Key set 1 = {k2}: k2 trusted, k1 retired, S in the header's word 24. */
    size_t len = cred_fixture_keyset("ca", 1, &k[1], 1, set, sizeof set);
    assert_int_equal(len, BW_KEYSET_SIZE(1));
    assert_int_equal(bw_credentials_rotate_keys(set, len, reason, sizeof reason), BW_OK);
    assert_int_equal(bw_credentials_key_set(), 1);
    assert_int_equal(bw_credentials_sequence(), 3);
    expect_keys(&k[1], 1, &k[0], 1);
    assert_int_equal(bw_get32(nor_sim_raw(sim) + 24), 1);   /* record 3 went to A */
    boot_ok(false);                                          /* and it is what a boot reads */
    assert_int_equal(bw_credentials_key_set(), 1);
    expect_keys(&k[1], 1, &k[0], 1);

    /* Refusals change nothing in flash. */
    uint8_t image[2 * SECTOR];
    memcpy(image, nor_sim_raw(sim), sizeof image);
    assert_int_equal(bw_credentials_rotate_keys(set, len, reason, sizeof reason), BW_E_INVALID);
    assert_non_null(strstr(reason, "key set 1 is not newer than the one held (1)"));
    uint8_t other[BW_KEYSET_MAX];
    size_t other_len = cred_fixture_keyset("rogue", 2, &k[2], 1, other, sizeof other);
    assert_int_equal(bw_credentials_rotate_keys(other, other_len, reason, sizeof reason), BW_E_DENIED);
    assert_non_null(strstr(reason, "does not verify under the fleet CA"));
    other_len = cred_fixture_keyset("ca", 2, &k[2], 1, other, sizeof other);
    other[other_len - 1] ^= 0x01;   /* the signature's last byte */
    assert_int_equal(bw_credentials_rotate_keys(other, other_len, reason, sizeof reason), BW_E_DENIED);
    other[other_len - 1] ^= 0x01;
    other[8] = 3;                   /* the sequence, after signing */
    assert_int_equal(bw_credentials_rotate_keys(other, other_len, reason, sizeof reason), BW_E_DENIED);
    other[8] = 2;
    assert_int_equal(bw_credentials_rotate_keys(other, other_len - 1, reason, sizeof reason), BW_E_INVALID);
    assert_non_null(strstr(reason, "is 145 bytes, not 144"));
    other[6] = 5;                   /* five keys */
    assert_int_equal(bw_credentials_rotate_keys(other, other_len, reason, sizeof reason), BW_E_INVALID);
    assert_non_null(strstr(reason, "1 to 4 keys, not 5"));
    other[6] = 1;
    other[20] ^= 0x40;              /* key 1 off the curve */
    assert_int_equal(bw_credentials_rotate_keys(other, other_len, reason, sizeof reason), BW_E_INVALID);
    assert_non_null(strstr(reason, "key 1 is not an uncompressed P-256 point"));
    other[20] ^= 0x40;
    assert_int_equal(bw_credentials_rotate_keys(other, 3, reason, sizeof reason), BW_E_INVALID);
    uint8_t twice[2][BW_CRED_PUBLIC_SIZE];
    memcpy(twice[0], k[2], sizeof twice[0]);
    memcpy(twice[1], k[2], sizeof twice[1]);
    size_t twice_len = cred_fixture_keyset("ca", 2, twice, 2, set, sizeof set);
    assert_int_equal(bw_credentials_rotate_keys(set, twice_len, reason, sizeof reason), BW_E_INVALID);
    assert_non_null(strstr(reason, "key 2 is listed twice"));
    assert_memory_equal(nor_sim_raw(sim), image, sizeof image);

    /* Provisioning again keeps the key set; keys sent with it replace the trusted ones. */
    make_cert("ca", 10);
    assert_int_equal(commit("b:2", reason), BW_OK);
    assert_int_equal(bw_credentials_key_set(), 1);
    expect_keys(&k[1], 1, &k[0], 1);
    put_item(BW_CRED_ITEM_UPDATE_KEYS, k[2], BW_CRED_PUBLIC_SIZE);
    assert_int_equal(commit("b:3", reason), BW_OK);
    expect_keys(&k[2], 1, &k[0], 1);

    /* Key set 2 = {k3, k2}: k3 stays trusted, so nothing is retired. */
    memcpy(twice[0], k[2], sizeof twice[0]);
    memcpy(twice[1], k[1], sizeof twice[1]);
    len = cred_fixture_keyset("ca", 2, twice, 2, set, sizeof set);
    assert_int_equal(bw_credentials_rotate_keys(set, len, reason, sizeof reason), BW_OK);
    assert_int_equal(bw_credentials_key_set(), 2);
    expect_keys(twice, 2, NULL, 0);
    boot_ok(false);
    expect_keys(twice, 2, NULL, 0);
}

static void test_key_set_needs_a_fleet_ca(void **state)
{
    (void)state;
    char reason[200];
    uint8_t k[BW_CRED_PUBLIC_SIZE], set[BW_KEYSET_MAX];
    cred_fixture_new_key("k1", k);
    boot_ok(true);
    size_t len = cred_fixture_keyset("ca", 1, &k, 1, set, sizeof set);
    assert_int_equal(bw_credentials_rotate_keys(set, len, reason, sizeof reason), BW_E_UNAVAILABLE);
    assert_non_null(strstr(reason, "not provisioned"));
    assert_int_equal(bw_credentials_key_set(), 0);
}

static void test_unusable_partitions(void **state)
{
    (void)state;
    bool created;
    assert_int_equal(bw_credentials_boot(NULL, &created), BW_E_UNAVAILABLE);
    bw_flash_partition one = { nor_sim_device(sim), 0, SECTOR };
    assert_int_equal(bw_credentials_boot(&one, &created), BW_E_UNAVAILABLE);
    assert_false(bw_credentials_have_key());
    assert_null(bw_credentials_public_key());
    size_t len = 1;
    assert_int_equal(bw_credentials_csr(CRED_FIXTURE_ID, csr, sizeof csr, &len), BW_E_UNAVAILABLE);
    char reason[100];
    assert_int_equal(bw_credentials_commit(CRED_FIXTURE_ID, reason, sizeof reason), BW_E_UNAVAILABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_boot_makes_one_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_records_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_error_makes_no_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_and_ab_selection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence_wraps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_refusals_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_set_needs_a_fleet_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unusable_partitions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
