/*
 * The OTA client (bw_ota.h) against a scripted cloud: DEPLOY and CHUNK go in
 * through bw_cloud_received, FETCH and UPDATE come out through the session's
 * publish function; the real update engine (bw_update.c) writes real signed
 * bundles (tests/sim/make_update_fixtures.py) into a NOR flash model.
 * Promises checked:
 *  - a deployment downloads (head, hash check, begin, data), verifies,
 *    installs and reports downloading → downloaded → installing → installed
 *    (→ healthy when its trial ends);
 *  - no FETCH ever reaches past the expected offset + BW_OTA_WINDOW chunks,
 *    every FETCH names the deployment and lies inside the bundle;
 *  - chunks served out of order, twice, for another deployment, truncated,
 *    beyond the bundle, or with a server error are dropped or ignored and
 *    counted, and the download still completes (asking again after
 *    BW_OTA_RETRY_MS);
 *  - after a lost session the device asks from the engine's expected offset;
 *  - after a restart it resumes from the bank's head without fetching it;
 *  - bytes altered in the server's storage end as UPDATE refused with the
 *    engine's and the manifest's reasons; a head that does not hash to
 *    DEPLOY's is refused; a DEPLOY of the running version answers installed;
 *  - the polite window: the app is told and the install waits for
 *    mvRestart's request, or for the window's end;
 *  - UPDATE installing reaches the cloud before the install starts (or
 *    BW_OTA_NOTICE_MS passes without its PUBACK, or the link is down);
 *  - an app on trial makes the device wait; a rollback is reported; the
 *    trial's end is reported healthy (by version after a restart);
 *  - a kernel deployment the cloud no longer sends still ends: a kernel
 *    confirmed after a restart reports healthy for the stub record's tag,
 *    and a trial the stub went back from is reported rolled back unasked,
 *    once a boot (not for a refusal, nor for the local link's kernels).
 *
 * Usage: test_ota <fixtures directory> (made by the sim.update_fixtures test).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "bw_cloud.h"
#include "bw_crypto.h"
#include "bw_ota.h"
#include "bw_update.h"
#include "mbedtls/sha256.h"
#include "nor_sim.h"
#include "test_support.h"

#define ID "BW00112233445566778899AABBCCDDEEFF"
#define APP_SLOT_SIZE (1024u * 1024u)
#define SECTOR 8192u
#define MAX_FETCHES 4096u
#define MAX_REPORTS 512u

typedef struct blob {
    uint8_t *data;
    size_t len;
} blob;

typedef struct fetch {
    uint32_t deployment;
    uint32_t offset;
    uint32_t len;
} fetch;

static const char *fixtures;
static blob v1, v2, v3, v2_polite, stranger;
static nor_sim *sim;
static bw_flash_partition app_slot, bank[2], state_part;
static bw_trusted_key trusted;
static bw_update_config config;

static fetch fetches[MAX_FETCHES];
static size_t fetch_count;      /* FETCHes published */
static size_t fetch_served;     /* of which the script has answered (or dropped) */
static uint8_t reports[MAX_REPORTS][BW_CLOUD_UPDATE_MAX];
static size_t report_len[MAX_REPORTS];
static size_t report_count;
static uint16_t next_id = 1;
static uint16_t unacked[8];
static size_t unacked_count;
static uint64_t now_ms;
static bool session_up;
static int installs, downloaded_calls;
static bool apply_request;

static blob load(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", fixtures, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("cannot open %s", path);
    }
    blob b = { malloc(1u << 20), 0 };
    b.len = fread(b.data, 1, 1u << 20, f);
    fclose(f);
    return b;
}

static uint32_t u32_at(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Where the device is: the staged head's length, then the engine's offset. */
static uint32_t device_expected(void)
{
    uint32_t at = bw_update_expected_offset();
    if (at == 0) {
        (void)bw_update_head_staged(&at);
    }
    return at;
}

/* ---- the session ---- */

static bw_err publish(void *ctx, const char *topic, const uint8_t *payload, size_t len, uint8_t qos,
                      uint16_t *id)
{
    (void)ctx;
    assert_true(session_up);
    if (strcmp(topic, "bw/" ID "/up/fetch") == 0) {
        assert_int_equal(qos, 0);
        assert_int_equal(len, BW_CLOUD_FETCH_SIZE);
        assert_int_equal(payload[0], 1);
        assert_int_equal(payload[1], BW_CLOUD_TYPE_FETCH);
        fetch f = { u32_at(payload + 4), u32_at(payload + 8), (uint32_t)(payload[2] | payload[3] << 8) };
        assert_true(f.len >= 1 && f.len <= BW_OTA_CHUNK);
        /* The window: never more than BW_OTA_WINDOW chunks past what the device holds. */
        assert_true(f.offset + f.len <= device_expected() + BW_OTA_WINDOW * BW_OTA_CHUNK);
        assert_true(fetch_count < MAX_FETCHES);
        fetches[fetch_count++] = f;
        return BW_OK;
    }
    assert_int_equal(qos, 1);
    *id = next_id++;
    assert_true(unacked_count < 8);
    unacked[unacked_count++] = *id;
    if (strcmp(topic, "bw/" ID "/up/update") == 0) {
        assert_true(report_count < MAX_REPORTS && len <= BW_CLOUD_UPDATE_MAX);
        memcpy(reports[report_count], payload, len);
        report_len[report_count++] = len;
    }
    return BW_OK;
}

static bool hold_acks;   /* the cloud acknowledges nothing */

/* One kernel-loop pass: the OTA client, the cloud layer, PUBACKs for all. */
static void pass(void)
{
    bw_ota_poll(now_ms);
    bw_cloud_pump(now_ms * 1000u);
    if (hold_acks) {
        return;
    }
    for (size_t i = 0; i < unacked_count; i++) {
        bw_cloud_acked(unacked[i]);
    }
    unacked_count = 0;
    bw_cloud_pump(now_ms * 1000u);
}

static void connect(void)
{
    session_up = true;
    bw_cloud_connected(0x1234u, publish, NULL);
    pass();
}

static void disconnect(void)
{
    session_up = false;
    unacked_count = 0;
    bw_cloud_disconnected();
}

static void deliver(const char *suffix, const uint8_t *payload, size_t len)
{
    char topic[BW_CLOUD_TOPIC_MAX];
    assert_true(bw_cloud_topic(topic, ID, suffix) > 0);
    bw_cloud_received(topic, payload, len, now_ms * 1000u);
}

static uint32_t head_len_of(const blob *b)
{
    bw_bundle_layout layout;
    bw_manifest m;
    bw_signature_block sig;
    assert_int_equal(bw_bundle_open(b->data, b->len, &layout, &m, &sig, NULL), BW_OK);
    return layout.layers_offset;
}

static void deploy(uint32_t deployment, uint32_t version, const blob *b)
{
    uint8_t p[BW_CLOUD_DEPLOY_SIZE] = { 1, BW_CLOUD_TYPE_DEPLOY };
    uint32_t head = head_len_of(b);
    put32(p + 4, deployment);
    put32(p + 8, version);
    put32(p + 12, (uint32_t)b->len);
    put32(p + 16, head);
    assert_int_equal(mbedtls_sha256(b->data, head, p + 20, 0), 0);
    deliver("down/deploy", p, sizeof p);
}

/* A CHUNK for [offset, offset+len) of b (status OK), as the cloud builds it. */
static void chunk(uint32_t deployment, const blob *b, uint32_t offset, uint32_t len)
{
    static uint8_t p[BW_CLOUD_CHUNK_HEADER + BW_CLOUD_CHUNK_MAX];
    memset(p, 0, BW_CLOUD_CHUNK_HEADER);
    p[0] = 1;
    p[1] = BW_CLOUD_TYPE_CHUNK;
    put32(p + 4, deployment);
    put32(p + 8, offset);
    p[12] = (uint8_t)len;
    p[13] = (uint8_t)(len >> 8);
    memcpy(p + BW_CLOUD_CHUNK_HEADER, b->data + offset, len);
    deliver("down/chunk", p, BW_CLOUD_CHUNK_HEADER + len);
}

typedef enum serve_mode { IN_ORDER, REVERSED, TWICE } serve_mode;

/* Answers every FETCH not yet served (in the given way), then one pass;
 * repeats until no FETCH is left. Returns the passes made. A complete
 * download ends announced (UPDATE installing queued), not yet installed. */
static unsigned serve_download(const blob *b, serve_mode mode, unsigned max_rounds)
{
    unsigned rounds = 0;
    while (fetch_served < fetch_count && rounds < max_rounds) {
        size_t from = fetch_served, to = fetch_count;
        fetch_served = to;
        for (size_t k = 0; k < to - from; k++) {
            const fetch *f = &fetches[mode == REVERSED ? to - 1u - k : from + k];
            chunk(f->deployment, b, f->offset, f->len);
            if (mode == TWICE) {
                chunk(f->deployment, b, f->offset, f->len);
            }
        }
        now_ms += 10;
        pass();
        if (fetch_served == fetch_count) {
            /* Nothing asked: maybe waiting out BW_OTA_RETRY_MS. */
            now_ms += BW_OTA_RETRY_MS;
            pass();
        }
        rounds++;
    }
    return rounds;
}

/* serve_download, then the passes that install (the installing report is
 * acknowledged by the next pass). */
static unsigned serve(const blob *b, serve_mode mode, unsigned max_rounds)
{
    unsigned rounds = serve_download(b, mode, max_rounds);
    pass();
    pass();
    return rounds;
}

static uint8_t state_of(size_t i)
{
    return reports[i][2];
}

static uint8_t last_state(void)
{
    assert_true(report_count > 0);
    return state_of(report_count - 1u);
}

static bool reported(uint8_t state)
{
    for (size_t i = 0; i < report_count; i++) {
        if (state_of(i) == state) {
            return true;
        }
    }
    return false;
}

/* ---- the kernel's hooks ---- */

static bw_err install(void *ctx, bw_update_diag *why)
{
    (void)ctx;
    installs++;
    bw_update_outcome outcome;
    return bw_update_install(&outcome, why);
}

static void downloaded(void *ctx)
{
    (void)ctx;
    downloaded_calls++;
}

static bool take_apply(void *ctx)
{
    (void)ctx;
    bool asked = apply_request;
    apply_request = false;
    return asked;
}

/* ---- set-up ---- */

static void engine_boot(void)
{
    bw_update_outcome outcome;
    bw_update_diag why;
    assert_int_equal(bw_update_boot(&config, &outcome, &why), BW_OK);
}

static int setup(void **state)
{
    test_setup(state);
    uint32_t head = (BW_BUNDLE_HEAD_MAX + SECTOR - 1u) / SECTOR * SECTOR;
    uint32_t bank_size = head + APP_SLOT_SIZE;
    uint32_t total = APP_SLOT_SIZE + 2u * bank_size + 4u * SECTOR;
    sim = nor_sim_create(&(nor_sim_config){ .size = total, .sector_size = SECTOR, .program_unit = 16,
                                            .seed = 3, .program_once = true });
    assert_non_null(sim);
    const bw_flash_device *dev = nor_sim_device(sim);
    app_slot = (bw_flash_partition){ dev, 0, APP_SLOT_SIZE };
    bank[0] = (bw_flash_partition){ dev, APP_SLOT_SIZE, bank_size };
    bank[1] = (bw_flash_partition){ dev, APP_SLOT_SIZE + bank_size, bank_size };
    state_part = (bw_flash_partition){ dev, APP_SLOT_SIZE + 2u * bank_size, 4u * SECTOR };
    config = (bw_update_config){
        .app_slot = &app_slot, .bank = { &bank[0], &bank[1] }, .state = &state_part,
        .keys = &trusted, .key_count = 1, .board = BW_BOARD_QEMU_AN505,
        .kernel_version = BW_KERNEL_VERSION_PACK(0, 1, 0),
    };
    engine_boot();
    fetch_count = fetch_served = report_count = unacked_count = 0;
    installs = downloaded_calls = 0;
    apply_request = false;
    hold_acks = false;
    now_ms = 1000;
    bw_cloud_init(ID, 0xB0070001u, 0x00010000u);
    bw_ota_reset();
    bw_ota_init(&(bw_ota_hooks){ .install = install, .downloaded = downloaded,
                                 .take_apply_request = take_apply });
    connect();
    return 0;
}

static int teardown(void **state)
{
    nor_sim_destroy(sim);
    return test_teardown(state);
}

/* ---- tests ---- */

static void downloads_verifies_installs(void **state)
{
    (void)state;
    deploy(7, 2, &v2);
    assert_true(fetch_count >= 1);       /* the head first, from 0 */
    assert_int_equal(fetches[0].offset, 0);
    assert_int_equal(fetches[0].len, head_len_of(&v2) < BW_OTA_CHUNK ? head_len_of(&v2) : BW_OTA_CHUNK);
    assert_int_equal(fetches[0].deployment, 7);
    serve(&v2, IN_ORDER, 1000);
    assert_int_equal(installs, 1);
    assert_int_equal(bw_update_current_state()->current_version, 2);
    assert_int_equal(last_state(), BW_CLOUD_UPDATE_INSTALLED);
    assert_true(reported(BW_CLOUD_UPDATE_DOWNLOADING));
    assert_true(reported(BW_CLOUD_UPDATE_DOWNLOADED));
    assert_int_equal(state_of(report_count - 2u), BW_CLOUD_UPDATE_INSTALLING);   /* went out first */
    assert_int_equal(u32_at(reports[report_count - 1] + 4), 7);
    assert_int_equal(u32_at(reports[report_count - 1] + 8), 2);
    const bw_ota_counters *c = bw_ota_stats();
    assert_int_equal(c->bytes_written, v2.len);   /* every byte crossed once */
    assert_int_equal(c->chunks_dropped, 0);
    /* Progress reports are bounded: one per tenth, plus start and the rest. */
    size_t downloading = 0;
    for (size_t i = 0; i < report_count; i++) {
        downloading += state_of(i) == BW_CLOUD_UPDATE_DOWNLOADING;
    }
    assert_true(downloading >= 2 && downloading <= 12);
}

static void out_of_order_and_duplicates(void **state)
{
    (void)state;
    deploy(8, 2, &v2);
    serve(&v2, REVERSED, 2000);
    assert_int_equal(bw_update_current_state()->current_version, 2);
    assert_int_equal(last_state(), BW_CLOUD_UPDATE_INSTALLED);
    assert_true(bw_ota_stats()->chunks_dropped > 0);
    assert_true(bw_ota_stats()->refetch_rounds > 0);
}

static void duplicates_are_dropped(void **state)
{
    (void)state;
    deploy(9, 2, &v2);
    serve(&v2, TWICE, 1000);
    assert_int_equal(last_state(), BW_CLOUD_UPDATE_INSTALLED);
    assert_true(bw_ota_stats()->chunks_dropped >= fetch_count - 1u);
    assert_int_equal(bw_ota_stats()->bytes_written, v2.len);
}

static void foreign_truncated_and_malicious_chunks(void **state)
{
    (void)state;
    deploy(10, 2, &v2);
    serve(&v2, IN_ORDER, 1);   /* the head; data FETCHes are out */
    uint32_t at = bw_update_expected_offset();
    assert_true(at > 0);
    uint32_t bad_before = bw_cloud_stats()->bad_messages;
    chunk(11, &v2, at, 100);                     /* another deployment */
    uint8_t p[BW_CLOUD_CHUNK_HEADER + 64] = { 1, BW_CLOUD_TYPE_CHUNK };
    put32(p + 4, 10);
    put32(p + 8, at);
    p[12] = 64;
    deliver("down/chunk", p, sizeof p - 1u);     /* truncated: length disagrees */
    p[12] = 0;
    p[13] = 0x08;                                /* 2048 > BW_OTA_CHUNK */
    deliver("down/chunk", p, sizeof p);
    put32(p + 8, (uint32_t)v2.len - 10u);        /* beyond the bundle's end */
    p[12] = 64;
    p[13] = 0;
    deliver("down/chunk", p, sizeof p);
    p[2] = BW_CLOUD_CHUNK_UNREADABLE;            /* a server error carrying bytes: malformed */
    deliver("down/chunk", p, sizeof p);
    deliver("down/deploy", p, 3);                /* a DEPLOY of 3 bytes */
    assert_int_equal(bw_update_expected_offset(), at);   /* nothing written */
    assert_int_equal(bw_cloud_stats()->bad_messages - bad_before, 4);
    assert_int_equal(bw_ota_stats()->chunks_ignored, 2);
    serve(&v2, IN_ORDER, 1000);
    assert_int_equal(last_state(), BW_CLOUD_UPDATE_INSTALLED);
}

static void tampered_bundle_is_refused(void **state)
{
    (void)state;
    blob evil = { malloc(v2.len), v2.len };
    memcpy(evil.data, v2.data, v2.len);
    evil.data[v2.len - 100u] ^= 0x40;            /* a layer byte altered in storage */
    deploy(12, 2, &evil);
    serve(&evil, IN_ORDER, 1000);
    assert_int_equal(installs, 0);
    assert_int_equal(bw_update_current_state()->current_version, 0);
    const uint8_t *r = reports[report_count - 1];
    assert_int_equal(r[2], BW_CLOUD_UPDATE_REFUSED);
    assert_int_equal(r[3], BW_UPDATE_E_BUNDLE);
    assert_int_not_equal(r[20], 0);               /* the manifest's reason (a layer hash) */
    size_t text = (size_t)(r[22] | r[23] << 8);
    assert_true(text > 0 && text <= BW_CLOUD_UPDATE_TEXT_MAX);
    assert_int_equal(report_len[report_count - 1], BW_CLOUD_UPDATE_HEADER + text);
    free(evil.data);

    /* A head that is not the one DEPLOY names: refused before begin. */
    report_count = 0;
    uint8_t p[BW_CLOUD_DEPLOY_SIZE] = { 1, BW_CLOUD_TYPE_DEPLOY };
    put32(p + 4, 13);
    put32(p + 8, 3);
    put32(p + 12, (uint32_t)v3.len);
    put32(p + 16, head_len_of(&v3));
    deliver("down/deploy", p, sizeof p);         /* hash all zeros */
    serve(&v3, IN_ORDER, 10);
    assert_int_equal(last_state(), BW_CLOUD_UPDATE_REFUSED);
    assert_int_equal(bw_update_expected_offset(), 0);

    /* A bundle signed by a key the device does not trust. */
    report_count = 0;
    deploy(14, 3, &stranger);
    serve(&stranger, IN_ORDER, 10);
    assert_int_equal(last_state(), BW_CLOUD_UPDATE_REFUSED);
    assert_int_equal(reports[report_count - 1][3], BW_UPDATE_E_BUNDLE);
}

static void resumes_after_reconnect(void **state)
{
    (void)state;
    deploy(15, 2, &v2);
    serve(&v2, IN_ORDER, 8);
    uint32_t at = bw_update_expected_offset();
    assert_true(at > 0 && at < v2.len);
    uint64_t written = bw_ota_stats()->bytes_written;
    disconnect();
    fetch_served = fetch_count;                  /* what was asked is lost with the session */
    now_ms += 5000;
    pass();                                      /* offline: nothing asked */
    assert_int_equal(fetch_served, fetch_count);
    connect();
    assert_true(fetch_count > fetch_served);
    assert_int_equal(fetches[fetch_served].offset, at);   /* from where the engine is */
    deploy(15, 2, &v2);                          /* the cloud repeats DEPLOY after STATUS */
    serve(&v2, IN_ORDER, 1000);
    assert_int_equal(last_state(), BW_CLOUD_UPDATE_INSTALLED);
    /* Nothing was written twice: each byte went to the engine once. */
    assert_int_equal(bw_ota_stats()->bytes_written, v2.len);
    (void)written;
}

static void resumes_after_restart_without_the_head(void **state)
{
    (void)state;
    deploy(16, 2, &v2);
    serve(&v2, IN_ORDER, 10);
    uint32_t head = head_len_of(&v2);
    uint32_t at = bw_update_expected_offset();
    assert_true(at > head && at < v2.len);
    /* Restart: RAM gone, flash kept. */
    disconnect();
    engine_boot();
    bw_cloud_init(ID, 0xB0070002u, 0x00010000u);
    bw_ota_reset();
    size_t first = fetch_count;
    fetch_served = fetch_count;
    connect();
    deploy(16, 2, &v2);
    assert_true(fetch_count > first);
    assert_true(fetches[first].offset >= head);  /* the head came from the bank */
    assert_true(fetches[first].offset + BW_OTA_CHUNK >= at);   /* at most one chunk again */
    serve(&v2, IN_ORDER, 1000);
    assert_int_equal(last_state(), BW_CLOUD_UPDATE_INSTALLED);
}

static void polite_window_waits_for_the_app(void **state)
{
    (void)state;
    deploy(17, 2, &v2_polite);
    serve(&v2_polite, IN_ORDER, 1000);
    pass();
    assert_int_equal(downloaded_calls, 1);
    assert_int_equal(installs, 0);
    assert_true(bw_ota_install_pending());
    assert_int_equal(last_state(), BW_CLOUD_UPDATE_DOWNLOADED);
    now_ms += 10000;
    pass();
    assert_int_equal(installs, 0);               /* 10 s of a 30 s window */
    apply_request = true;                        /* mvRestart(MV_RESTARTMODE_AUTOAPPLYUPDATE) */
    pass();
    pass();
    assert_int_equal(installs, 0);               /* installing is on its way to the cloud */
    pass();
    assert_int_equal(installs, 1);
    assert_int_equal(bw_update_current_state()->current_version, 2);
    assert_int_equal(last_state(), BW_CLOUD_UPDATE_INSTALLED);
}

static void polite_window_expires(void **state)
{
    (void)state;
    deploy(18, 2, &v2_polite);
    serve(&v2_polite, IN_ORDER, 1000);
    pass();
    assert_int_equal(downloaded_calls, 1);
    now_ms += 29000;
    pass();
    assert_int_equal(installs, 0);
    now_ms += 1500;
    pass();
    pass();
    pass();
    assert_int_equal(installs, 1);
    assert_int_equal(last_state(), BW_CLOUD_UPDATE_INSTALLED);
}

static void running_version_trial_and_rollback(void **state)
{
    (void)state;
    deploy(19, 2, &v2);
    serve(&v2, IN_ORDER, 1000);
    assert_int_equal(bw_update_current_state()->current_version, 2);
    assert_int_equal(bw_update_current_state()->trial, 1);

    /* A DEPLOY of the running version: installed at once, nothing fetched. */
    report_count = 0;
    size_t before = fetch_count;
    deploy(19, 2, &v2);
    deploy(20, 2, &v2);
    pass();
    assert_int_equal(fetch_count, before);
    assert_int_equal(last_state(), BW_CLOUD_UPDATE_INSTALLED);
    assert_int_equal(u32_at(reports[report_count - 1] + 4), 20);

    /* v3 while v2 is on trial: waiting, with the reason. */
    deploy(21, 3, &v3);
    pass();
    assert_int_equal(fetch_count, before);
    assert_int_equal(last_state(), BW_CLOUD_UPDATE_WAITING);
    assert_int_equal(reports[report_count - 1][3], BW_UPDATE_E_ON_TRIAL);

    /* v2 crash-loops: rolled back, reported with the deployment that installed it. */
    bw_update_outcome outcome;
    bw_update_diag why;
    assert_int_equal(bw_update_rollback(BW_ROLLBACK_CRASH_LOOP, &outcome, &why), BW_OK);
    bw_ota_rolled_back(2, BW_ROLLBACK_CRASH_LOOP, 5);
    pass();
    pass();
    bool found = false;
    for (size_t i = 0; i < report_count; i++) {
        const uint8_t *r = reports[i];
        if (r[2] == BW_CLOUD_UPDATE_ROLLED_BACK) {
            found = true;
            assert_int_equal(u32_at(r + 4), 20);
            assert_int_equal(u32_at(r + 8), 2);
            assert_int_equal(r[21], BW_ROLLBACK_CRASH_LOOP);
            assert_memory_equal(r + 24, "crash loop", 10);
        }
    }
    assert_true(found);
    /* The trial is over (the provisioned app runs again): v3 now downloads. */
    serve(&v3, IN_ORDER, 1000);
    assert_int_equal(bw_update_current_state()->current_version, 3);
}

static void installing_waits_for_its_ack_at_most_the_notice(void **state)
{
    (void)state;
    hold_acks = true;
    deploy(22, 2, &v2);
    serve_download(&v2, IN_ORDER, 1000);
    pass();
    assert_true(bw_cloud_update_in_flight());    /* reports queue behind the first one */
    assert_int_equal(installs, 0);               /* no PUBACK yet */
    now_ms += BW_OTA_NOTICE_MS - 1u;
    pass();
    assert_int_equal(installs, 0);
    now_ms += 1u;
    pass();
    assert_int_equal(installs, 1);               /* the notice is over: install anyway */
    assert_int_equal(bw_update_current_state()->current_version, 2);
}

static void installing_offline_does_not_wait(void **state)
{
    (void)state;
    deploy(23, 2, &v2);
    serve_download(&v2, IN_ORDER, 1000);
    disconnect();
    pass();
    assert_int_equal(installs, 1);
    connect();
    assert_int_equal(last_state(), BW_CLOUD_UPDATE_INSTALLED);   /* the latest report, once online */
}

static void trial_end_is_reported_healthy(void **state)
{
    (void)state;
    deploy(24, 2, &v2);
    serve(&v2, IN_ORDER, 1000);
    assert_int_equal(last_state(), BW_CLOUD_UPDATE_INSTALLED);
    assert_int_equal(bw_update_app_healthy(), BW_OK);
    bw_ota_trial_over(2);
    pass();
    const uint8_t *r = reports[report_count - 1];
    assert_int_equal(r[2], BW_CLOUD_UPDATE_HEALTHY);
    assert_int_equal(u32_at(r + 4), 24);
    assert_int_equal(u32_at(r + 8), 2);
    assert_int_equal(u32_at(r + 12), v2.len);
    /* The same target again (a reconnect): healthy at once, nothing fetched. */
    size_t before = fetch_count;
    deploy(25, 2, &v2);
    pass();
    assert_int_equal(fetch_count, before);
    assert_int_equal(last_state(), BW_CLOUD_UPDATE_HEALTHY);
    assert_int_equal(u32_at(reports[report_count - 1] + 4), 25);
}

static void trial_end_after_a_restart_names_the_version(void **state)
{
    (void)state;
    deploy(26, 2, &v2);
    serve(&v2, IN_ORDER, 1000);
    bw_ota_reset();                              /* a kernel restart: the deployment is forgotten */
    bw_ota_init(&(bw_ota_hooks){ .install = install });
    bw_ota_trial_over(2);
    pass();
    const uint8_t *r = reports[report_count - 1];
    assert_int_equal(r[2], BW_CLOUD_UPDATE_HEALTHY);
    assert_int_equal(u32_at(r + 4), 0);          /* the cloud matches it by version */
    assert_int_equal(u32_at(r + 8), 2);
}

/* ---- a kernel deployment the cloud no longer sends ---- */

static bw_ota_kernel_view kernel_seen;   /* what kernel_view answers */

static void kernel_view(void *ctx, bw_ota_kernel_view *out)
{
    (void)ctx;
    *out = kernel_seen;
}

/* A kernel restart with the kernel hooks: RAM forgotten, then online. */
static void kernel_restart(void)
{
    disconnect();
    bw_ota_reset();
    bw_ota_init(&(bw_ota_hooks){ .install = install, .kernel_view = kernel_view });
    connect();
}

static void kernel_confirmed_after_a_restart_names_its_deployment(void **state)
{
    (void)state;
    uint32_t v = BW_KERNEL_VERSION_PACK(0, 2, 0);
    kernel_seen = (bw_ota_kernel_view){ .running_version = v, .on_trial = true };
    kernel_restart();                    /* no DEPLOY names it this boot: an app's is current */
    size_t before = report_count;
    bw_ota_kernel_confirmed(v, 41, now_ms);
    pass();
    assert_int_equal(report_count, before + 1u);
    const uint8_t *r = reports[report_count - 1];
    assert_int_equal(r[2], BW_CLOUD_UPDATE_HEALTHY);
    assert_int_equal(u32_at(r + 4), 41);           /* the stub record's tag */
    assert_int_equal(u32_at(r + 8), v);
    /* Staged over the local link (tag 0): no deployment to report on. */
    kernel_restart();
    before = report_count;
    bw_ota_kernel_confirmed(v, 0, now_ms);
    pass();
    assert_int_equal(report_count, before);
}

static void stub_revert_is_reported_unasked_once_a_boot(void **state)
{
    (void)state;
    uint32_t old = BW_KERNEL_VERSION_PACK(0, 1, 0), v = BW_KERNEL_VERSION_PACK(0, 2, 0);
    kernel_seen = (bw_ota_kernel_view){ .running_version = old, .stub_version = v, .stub_tag = 43,
                                        .stub_reverted = true,
                                        .stub_reason = "the new kernel never confirmed itself" };
    size_t before = report_count;
    kernel_restart();
    assert_int_equal(report_count, before + 1u);
    const uint8_t *r = reports[report_count - 1];
    static const char text[] = "the boot stub went back from kernel 0.2.0: the new kernel never confirmed itself";
    assert_int_equal(r[2], BW_CLOUD_UPDATE_ROLLED_BACK);
    assert_int_equal(r[3], BW_UPDATE_E_KERNEL);
    assert_int_equal(u32_at(r + 4), 43);
    assert_int_equal(u32_at(r + 8), v);
    assert_int_equal(report_len[report_count - 1], BW_CLOUD_UPDATE_HEADER + sizeof text - 1u);
    assert_memory_equal(reports[report_count - 1] + BW_CLOUD_UPDATE_HEADER, text, sizeof text - 1u);
    /* A new session in the same boot: not again. */
    disconnect();
    connect();
    assert_int_equal(report_count, before + 1u);
    /* The next boot says it once more (the cloud ignores it once final). */
    kernel_restart();
    assert_int_equal(report_count, before + 2u);
    /* A stub refusal, and a revert of a kernel the local link staged: nothing unasked. */
    kernel_seen.stub_reverted = false;
    kernel_restart();
    kernel_seen.stub_reverted = true;
    kernel_seen.stub_tag = 0;
    kernel_restart();
    assert_int_equal(report_count, before + 2u);
}

static void latest_report_wins(void **state)
{
    (void)state;
    /* Offline: three reports queue, the last one is what goes out. */
    disconnect();
    bw_cloud_update u = { .state = BW_CLOUD_UPDATE_DOWNLOADING, .deployment_id = 1 };
    bw_cloud_report_update(&u, NULL);
    u.state = BW_CLOUD_UPDATE_DOWNLOADED;
    bw_cloud_report_update(&u, NULL);
    u.state = BW_CLOUD_UPDATE_INSTALLED;
    bw_cloud_report_update(&u, "done");
    connect();
    assert_int_equal(report_count, 1);
    assert_int_equal(last_state(), BW_CLOUD_UPDATE_INSTALLED);
    assert_int_equal(report_len[0], BW_CLOUD_UPDATE_HEADER + 4u);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_ota <fixtures directory>\n");
        return 2;
    }
    fixtures = argv[1];
    assert_int_equal(bw_crypto_init(), BW_OK);
    v1 = load("app-v1.bwb");
    v2 = load("app-v2.bwb");
    v3 = load("app-v3.bwb");
    v2_polite = load("app-v2-polite.bwb");
    stranger = load("app-v3-stranger.bwb");
    blob raw = load("signer.raw");
    assert_int_equal(raw.len, 65);
    memcpy(trusted.public_key, raw.data, 65);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(downloads_verifies_installs, setup, teardown),
        cmocka_unit_test_setup_teardown(installing_waits_for_its_ack_at_most_the_notice, setup, teardown),
        cmocka_unit_test_setup_teardown(installing_offline_does_not_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(trial_end_is_reported_healthy, setup, teardown),
        cmocka_unit_test_setup_teardown(trial_end_after_a_restart_names_the_version, setup, teardown),
        cmocka_unit_test_setup_teardown(out_of_order_and_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicates_are_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(foreign_truncated_and_malicious_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(tampered_bundle_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(resumes_after_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(resumes_after_restart_without_the_head, setup, teardown),
        cmocka_unit_test_setup_teardown(polite_window_waits_for_the_app, setup, teardown),
        cmocka_unit_test_setup_teardown(polite_window_expires, setup, teardown),
        cmocka_unit_test_setup_teardown(running_version_trial_and_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(latest_report_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(kernel_confirmed_after_a_restart_names_its_deployment, setup, teardown),
        cmocka_unit_test_setup_teardown(stub_revert_is_reported_unasked_once_a_boot, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
