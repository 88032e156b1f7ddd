/*
 * The over-the-air update client (see bw_ota.h).
 *
 * Phases: IDLE (no target) → HEAD (fetching [0, H) into the engine's staged
 * head) → DATA (fetching [expected, S) into the engine) → VERIFY (complete:
 * finish on the next poll) → POLITE (verified, waiting for the app or the
 * window) → INSTALL (report installing) → ANNOUNCE (install once that
 * report is acknowledged, or after BW_OTA_NOTICE_MS) → DONE (an outcome
 * was reported; an installed app's trial end is reported later, healthy). WAITING: the engine cannot take a bundle now (app on trial);
 * retried when that changes.
 *
 * Requests: `req` holds the FETCHes in flight, consecutive ranges in order
 * from the offset the phase expects next (the staged head's length in HEAD,
 * bw_update_expected_offset in DATA); `asked` is where the next FETCH
 * starts. A range is settled when the expected offset passes its end. When
 * the oldest has waited BW_OTA_RETRY_MS, or the link came back, every range
 * is forgotten and the window is asked again from the expected offset. So
 * the window is never exceeded and no byte is written twice or out of order.
 *
 * A kernel deployment (DEPLOY kind 1, SPEC §19.7) takes the same phases: its
 * head is the seal, the engine's begin dispatches on the seal's magic, and
 * the install stages the kernel for the boot stub and the chip resets. What
 * happened across that reset is read back, not remembered: the DEPLOY that
 * bulwarkd repeats after the next STATUS finds the new kernel running (on
 * trial: installed; confirmed: healthy) or the stub's journal naming that
 * version refused or reverted (refused / rolled back, with its reason).
 */
#include <string.h>

#include "bw_bytes.h"
#include "bw_cloud.h"
#include "bw_kernel_seal.h"
#include "bw_kernel_slots.h"
#include "bw_ota.h"
#include "mbedtls/sha256.h"

typedef enum phase { IDLE, HEAD, DATA, VERIFY, POLITE, INSTALL, ANNOUNCE, DONE, WAITING } phase;

typedef struct request {
    uint32_t offset;
    uint32_t end;
    uint64_t sent_ms;
} request;

static struct {
    bw_ota_hooks hooks;
    phase phase;
    bw_cloud_deploy deploy;
    bool online;
    request req[BW_OTA_WINDOW];
    unsigned req_count;
    uint32_t asked;
    uint64_t polite_until_ms;
    uint64_t notice_until_ms;
    uint32_t installed_deployment;   /* the deployment whose app was installed (for a rollback) */
    uint32_t last_report_held;
    uint64_t last_report_ms;
    bool rollback_pending;
    uint32_t rollback_version;
    uint8_t rollback_cause;
    uint32_t rollback_crash;
    bool healthy_pending;
    uint32_t healthy_version;
    uint32_t kernel_deployment;      /* the kernel deployment found on trial (for its healthy) */
    uint32_t kernel_version;
    bool stub_revert_told;           /* report_stub_revert ran this boot */
    bw_ota_counters counters;
} ota;

void bw_ota_init(const bw_ota_hooks *hooks)
{
    ota.hooks = *hooks;
}

void bw_ota_reset(void)
{
    bw_ota_hooks hooks = ota.hooks;
    memset(&ota, 0, sizeof ota);
    ota.hooks = hooks;
}

const bw_ota_counters *bw_ota_stats(void)
{
    return &ota.counters;
}

bool bw_ota_install_pending(void)
{
    return ota.phase == POLITE;
}

bool bw_ota_downloading(uint32_t *held, uint32_t *size)
{
    if (ota.phase != HEAD && ota.phase != DATA) {
        return false;
    }
    *held = ota.phase == HEAD ? 0u : bw_update_expected_offset();
    *size = ota.deploy.bundle_size;
    return true;
}

/* ---- reports ---- */

static void report(uint8_t state, const bw_update_diag *why, uint32_t held, const char *text)
{
    char described[BW_CLOUD_UPDATE_TEXT_MAX + 1];
    bw_cloud_update u = {
        .state = state,
        .deployment_id = ota.deploy.deployment_id,
        .app_version = ota.deploy.app_version,
        .held = held,
        .bundle_size = ota.deploy.bundle_size,
    };
    if (why != NULL) {
        u.engine_error = (uint8_t)why->error;
        u.manifest_error = (uint8_t)why->manifest.error;
        if (text == NULL) {
            (void)bw_update_describe(why, described, sizeof described);
            text = described;
        }
    }
    bw_cloud_report_update(&u, text);
    ota.counters.reports++;
}

static void report_progress(uint64_t now_ms, bool force)
{
    uint32_t held = bw_update_expected_offset();
    uint32_t size = ota.deploy.bundle_size;
    bool new_tenth = (uint64_t)held * 10u / size > (uint64_t)ota.last_report_held * 10u / size;
    bool due = now_ms - ota.last_report_ms >= BW_OTA_PROGRESS_MS;
    if (force || (held != ota.last_report_held && (due || new_tenth))) {
        report(BW_CLOUD_UPDATE_DOWNLOADING, NULL, held, NULL);
        ota.last_report_held = held;
        ota.last_report_ms = now_ms;
    }
}

/* A final outcome for this deployment: nothing more is fetched for it. */
static void final(uint8_t state, const bw_update_diag *why, uint32_t held, const char *text)
{
    report(state, why, held, text);
    ota.phase = DONE;
    ota.req_count = 0;
}

/* The engine refused or failed at begin, write or finish. */
static void engine_refused(const bw_update_diag *why)
{
    if (why->error == BW_UPDATE_E_ON_TRIAL || why->error == BW_UPDATE_E_STORAGE
        || why->error == BW_UPDATE_E_KERNEL_BUSY) {
        ota.phase = WAITING;
        ota.req_count = 0;
        report(BW_CLOUD_UPDATE_WAITING, why, 0,
               why->error == BW_UPDATE_E_STORAGE
               ? "updates unavailable on this device (no update storage, or no trusted key provisioned)"
               : NULL);
        return;
    }
    final(why->error == BW_UPDATE_E_FLASH ? BW_CLOUD_UPDATE_FAILED : BW_CLOUD_UPDATE_REFUSED, why,
          bw_update_expected_offset(), NULL);
}

/* ---- requests ---- */

static uint32_t expected(void)
{
    if (ota.phase == HEAD) {
        uint32_t held = 0;
        (void)bw_update_head_staged(&held);
        return held;
    }
    return bw_update_expected_offset();
}

static uint32_t phase_end(void)
{
    return ota.phase == HEAD ? ota.deploy.head_len : ota.deploy.bundle_size;
}

static void restart_window(void)
{
    ota.req_count = 0;
    ota.asked = expected();
}

/* Settles answered ranges, restarts a stale window, asks for more. */
static void pump(uint64_t now_ms)
{
    if (ota.phase != HEAD && ota.phase != DATA) {
        return;
    }
    uint32_t at = expected();
    unsigned settled = 0;
    while (settled < ota.req_count && ota.req[settled].end <= at) {
        settled++;
    }
    if (settled > 0) {
        memmove(ota.req, ota.req + settled, (ota.req_count - settled) * sizeof ota.req[0]);
        ota.req_count -= settled;
    }
    if (ota.req_count == 0 ? ota.asked != at
                           : now_ms - ota.req[0].sent_ms >= BW_OTA_RETRY_MS || ota.req[0].offset != at) {
        if (ota.req_count > 0) {
            ota.counters.refetch_rounds++;
        }
        restart_window();
    }
    uint32_t end = phase_end();
    while (ota.online && ota.req_count < BW_OTA_WINDOW && ota.asked < end) {
        uint32_t len = end - ota.asked < BW_OTA_CHUNK ? end - ota.asked : BW_OTA_CHUNK;
        uint8_t fetch[BW_CLOUD_FETCH_SIZE];
        bw_cloud_encode_fetch(ota.deploy.deployment_id, ota.asked, (uint16_t)len, fetch);
        if (bw_cloud_fetch(fetch, sizeof fetch) != BW_OK) {
            break;   /* the session takes nothing now: the next pass asks */
        }
        ota.req[ota.req_count++] = (request){ .offset = ota.asked, .end = ota.asked + len,
                                              .sent_ms = now_ms };
        ota.asked += len;
        ota.counters.fetches++;
    }
}

/* ---- the download ---- */

static void start_data(uint32_t resume, uint64_t now_ms)
{
    if (resume >= ota.deploy.bundle_size) {
        ota.phase = VERIFY;   /* already wholly received */
        return;
    }
    ota.phase = DATA;
    restart_window();
    report_progress(now_ms, true);
    pump(now_ms);
}

/* The head is complete: check it against DEPLOY, then begin. */
static void head_complete(uint64_t now_ms)
{
    uint32_t held = 0;
    const uint8_t *head = bw_update_head_staged(&held);
    uint8_t digest[BW_CLOUD_SHA256_SIZE];
    if (mbedtls_sha256(head, held, digest, 0) != 0
        || memcmp(digest, ota.deploy.head_sha256, sizeof digest) != 0) {
        bw_update_diag why = { .error = BW_UPDATE_E_BUNDLE };
        final(BW_CLOUD_UPDATE_REFUSED, &why, 0,
              "the bundle head does not match the deployment's SHA-256");
        return;
    }
    /* The engine dispatches on the head's magic: it must be what DEPLOY says. */
    bool sealed = held >= 4u && bw_get32(head) == BW_SEAL_MAGIC;
    if (sealed != (ota.deploy.kind == BW_CLOUD_DEPLOY_KERNEL)) {
        bw_update_diag why = { .error = sealed ? BW_UPDATE_E_BUNDLE : BW_UPDATE_E_KERNEL };
        final(BW_CLOUD_UPDATE_REFUSED, &why, 0,
              sealed ? "an app deployment whose bytes are a signed kernel"
                     : "a kernel deployment whose bytes are not a signed kernel");
        return;
    }
    uint32_t resume = 0;
    bw_update_diag why;
    if (bw_update_begin_staged(held, &resume, &why) != BW_OK) {
        engine_refused(&why);
        return;
    }
    start_data(resume, now_ms);
}

/* "the boot stub refused kernel X.Y.Z: <reason>" or "... went back from
 * kernel X.Y.Z: <reason>" for k's stub record, cut to fit text. */
static void stub_judgement_text(const bw_ota_kernel_view *k, char text[BW_CLOUD_UPDATE_TEXT_MAX + 1])
{
    char v[16];
    bw_kslots_version_text(k->stub_version, v);
    const char *lead = k->stub_reverted ? "the boot stub went back from kernel " : "the boot stub refused kernel ";
    size_t at = 0;
    const char *parts[] = { lead, v, ": ", k->stub_reason != NULL ? k->stub_reason : "" };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t n = strlen(parts[i]);
        n = n < BW_CLOUD_UPDATE_TEXT_MAX - at ? n : BW_CLOUD_UPDATE_TEXT_MAX - at;
        memcpy(text + at, parts[i], n);
        at += n;
    }
    text[at] = '\0';
}

/* A kernel deployment already decided: its kernel runs (installed on trial,
 * or healthy), or the boot stub refused it or went back from it (§19.5).
 * False when it is still to be downloaded. */
static bool kernel_settled(void)
{
    bw_ota_kernel_view k = { 0 };
    ota.hooks.kernel_view(ota.hooks.ctx, &k);
    uint32_t version = ota.deploy.app_version;
    if (k.running_version == version) {
        ota.kernel_deployment = k.on_trial ? ota.deploy.deployment_id : 0u;
        ota.kernel_version = version;
        final(k.on_trial ? BW_CLOUD_UPDATE_INSTALLED : BW_CLOUD_UPDATE_HEALTHY, NULL, ota.deploy.bundle_size,
              k.on_trial ? "the new kernel runs, on trial" : "the new kernel runs, confirmed");
        return true;
    }
    if (k.stub_version != version || k.stub_version == 0 || k.stub_tag != ota.deploy.deployment_id) {
        return false;   /* not this deployment's kernel the stub judged: deliver it */
    }
    char text[BW_CLOUD_UPDATE_TEXT_MAX + 1];
    stub_judgement_text(&k, text);
    bw_update_diag why = { .error = BW_UPDATE_E_KERNEL };
    final(k.stub_reverted ? BW_CLOUD_UPDATE_ROLLED_BACK : BW_CLOUD_UPDATE_REFUSED, &why, ota.deploy.bundle_size,
          text);
    return true;
}

/* Starts (or, after a restart, resumes) the deployment in ota.deploy. */
static void start(uint64_t now_ms)
{
    const bw_update_state *st = bw_update_current_state();
    if (ota.deploy.kind == BW_CLOUD_DEPLOY_KERNEL) {
        if (ota.hooks.kernel_view == NULL) {
            bw_update_diag why = { .error = BW_UPDATE_E_STORAGE };
            final(BW_CLOUD_UPDATE_REFUSED, &why, 0, "this device cannot take a kernel over the air");
            return;
        }
        if (kernel_settled()) {
            return;
        }
    } else if (st->current_version == ota.deploy.app_version) {
        ota.installed_deployment = st->trial ? ota.deploy.deployment_id : 0u;
        final(st->trial ? BW_CLOUD_UPDATE_INSTALLED : BW_CLOUD_UPDATE_HEALTHY, NULL,
              ota.deploy.bundle_size, NULL);
        return;
    }
    if (ota.deploy.kind == BW_CLOUD_DEPLOY_APP && (!bw_update_available() || st->trial)) {
        bw_update_diag why = { .error = bw_update_available() ? BW_UPDATE_E_ON_TRIAL
                                                              : BW_UPDATE_E_STORAGE };
        engine_refused(&why);
        return;
    }
    uint32_t resume = 0;
    bw_update_diag why;
    bw_err err = bw_update_begin_from_bank(ota.deploy.head_len, ota.deploy.head_sha256, &resume, &why);
    if (err == BW_OK) {
        start_data(resume, now_ms);
        return;
    }
    if (err != BW_E_UNAVAILABLE) {
        engine_refused(&why);
        return;
    }
    uint32_t held = 0;
    (void)bw_update_head_put(0, NULL, 0, &held);   /* a new, empty head */
    ota.phase = HEAD;
    restart_window();
    pump(now_ms);
}

void bw_ota_deploy(const bw_cloud_deploy *deploy, uint64_t now_ms)
{
    if (deploy->deployment_id == 0) {
        ota.phase = IDLE;   /* no target: a partial download stays in the engine */
        ota.req_count = 0;
        ota.deploy = *deploy;
        return;
    }
    bool same = memcmp(deploy, &ota.deploy, sizeof *deploy) == 0 && ota.phase != IDLE;
    if (same && ota.phase != WAITING) {
        /* The cloud repeats DEPLOY after each STATUS; the reconnect has
         * already asked from where we are (bw_ota_connected), so asking
         * again would fetch the whole window twice. */
        pump(now_ms);
        return;
    }
    ota.deploy = *deploy;
    ota.req_count = 0;
    ota.last_report_held = 0;
    start(now_ms);
}

void bw_ota_chunk(const bw_cloud_chunk *chunk, uint64_t now_ms)
{
    bool ours = (ota.phase == HEAD || ota.phase == DATA)
                && chunk->deployment_id == ota.deploy.deployment_id;
    if (!ours || chunk->status != BW_CLOUD_CHUNK_OK) {
        ota.counters.chunks_ignored++;
        if (ours && chunk->status == BW_CLOUD_CHUNK_NO_DEPLOY) {
            ota.phase = IDLE;   /* no longer this device's target */
            ota.req_count = 0;
        }
        return;
    }
    uint32_t end = phase_end();
    if (chunk->offset > end || chunk->length > end - chunk->offset) {
        ota.counters.chunks_ignored++;
        return;
    }
    if (chunk->offset != expected()) {
        ota.counters.chunks_dropped++;
        return;
    }
    bw_update_diag why = { 0 };
    bw_err err;
    if (ota.phase == HEAD) {
        uint32_t held = 0;
        err = bw_update_head_put(chunk->offset, chunk->data, chunk->length, &held);
    } else {
        err = bw_update_write(chunk->offset, chunk->data, chunk->length, &why);
    }
    if (err != BW_OK) {
        if (ota.phase == HEAD) {
            ota.counters.chunks_dropped++;   /* the staged head went (an install read a bank): refetch */
            start(now_ms);
        } else if (why.error == BW_UPDATE_E_OFFSET) {
            /* The engine went back to a sector's start (a spent unit after
             * a torn program): ask again from there. */
            ota.counters.refetch_rounds++;
            restart_window();
            pump(now_ms);
        } else {
            engine_refused(&why);
        }
        return;
    }
    ota.counters.chunks_written++;
    ota.counters.bytes_written += chunk->length;
    if (ota.phase == HEAD && expected() == ota.deploy.head_len) {
        head_complete(now_ms);
        return;
    }
    if (ota.phase == DATA && expected() == ota.deploy.bundle_size) {
        ota.phase = VERIFY;
        ota.req_count = 0;
        return;
    }
    if (ota.phase == DATA) {
        report_progress(now_ms, false);
    }
    pump(now_ms);
}

/* ---- verify and install ---- */

static void verify(uint64_t now_ms)
{
    bw_update_diag why;
    if (bw_update_finish(&why) != BW_OK) {
        engine_refused(&why);
        return;
    }
    bw_update_download info = { 0 };
    (void)bw_update_download_info(&info);
    report(BW_CLOUD_UPDATE_DOWNLOADED, NULL, ota.deploy.bundle_size, NULL);
    if (info.polite_seconds == 0) {
        ota.phase = INSTALL;
        return;
    }
    ota.phase = POLITE;
    ota.polite_until_ms = now_ms + (uint64_t)info.polite_seconds * 1000u;
    if (ota.hooks.downloaded != NULL) {
        ota.hooks.downloaded(ota.hooks.ctx);
    }
}

static void announce(uint64_t now_ms)
{
    /* A kernel's install resets the chip: this report is the last before it. */
    report(BW_CLOUD_UPDATE_INSTALLING, NULL, ota.deploy.bundle_size,
           ota.deploy.kind == BW_CLOUD_DEPLOY_KERNEL ? "staging the kernel for the boot stub: the device resets to swap it in"
                                                     : NULL);
    ota.phase = ANNOUNCE;
    ota.notice_until_ms = now_ms + BW_OTA_NOTICE_MS;
}

static void install(void)
{
    bw_update_diag why = { 0 };
    if (ota.deploy.kind == BW_CLOUD_DEPLOY_KERNEL) {
        bw_update_set_kernel_tag(ota.deploy.deployment_id);   /* the stub's journal names this deployment */
    }
    bw_err err = ota.hooks.install != NULL ? ota.hooks.install(ota.hooks.ctx, &why) : BW_E_UNAVAILABLE;
    const bw_update_state *st = bw_update_current_state();
    if (ota.deploy.kind == BW_CLOUD_DEPLOY_KERNEL) {
        if (err == BW_OK) {
            ota.phase = DONE;   /* staged: the chip resets; the outcome is read back after it */
            return;
        }
        final(why.error == BW_UPDATE_E_FLASH ? BW_CLOUD_UPDATE_FAILED : BW_CLOUD_UPDATE_REFUSED, &why,
              ota.deploy.bundle_size, NULL);
        return;
    }
    if (err == BW_OK && st->current_version == ota.deploy.app_version) {
        ota.installed_deployment = ota.deploy.deployment_id;
        final(BW_CLOUD_UPDATE_INSTALLED, NULL, ota.deploy.bundle_size, NULL);
        return;
    }
    if (st->rollback_cause == BW_ROLLBACK_INSTALL_FAILED && st->current_version != ota.deploy.app_version) {
        ota.installed_deployment = ota.deploy.deployment_id;
        bw_ota_rolled_back(ota.deploy.app_version, BW_ROLLBACK_INSTALL_FAILED, 0);
        ota.phase = DONE;
        return;
    }
    final(BW_CLOUD_UPDATE_FAILED, &why, ota.deploy.bundle_size, NULL);
}

void bw_ota_trial_over(uint32_t version)
{
    ota.healthy_pending = true;
    ota.healthy_version = version;
}

static void report_healthy(void)
{
    bool ours = ota.installed_deployment != 0 && ota.installed_deployment == ota.deploy.deployment_id;
    bw_cloud_update u = {
        .state = BW_CLOUD_UPDATE_HEALTHY,
        .deployment_id = ota.installed_deployment,
        .app_version = ota.healthy_version,
        .held = ours ? ota.deploy.bundle_size : 0u,
        .bundle_size = ours ? ota.deploy.bundle_size : 0u,
    };
    bw_cloud_report_update(&u, "the new app proved healthy: trial over");
    ota.counters.reports++;
    ota.healthy_pending = false;
    ota.installed_deployment = 0;
}

void bw_ota_kernel_confirmed(uint32_t version, uint32_t staged_by, uint64_t now_ms)
{
    /* The deployment found on trial by its DEPLOY this boot, else the one
     * the stub's record names: the cloud may have stopped sending it (an
     * app deployment replaced it) and this boot may not be the one that
     * reported it installed. */
    uint32_t deployment = ota.kernel_deployment != 0 && ota.kernel_version == version ? ota.kernel_deployment
                                                                                     : staged_by;
    if (deployment != 0) {
        bw_cloud_update u = {
            .state = BW_CLOUD_UPDATE_HEALTHY,
            .deployment_id = deployment,
            .app_version = version,
        };
        bw_cloud_report_update(&u, "the new kernel confirmed itself after its trial");
        ota.counters.reports++;
    }
    ota.kernel_deployment = 0;
    if (ota.phase == WAITING && ota.deploy.kind == BW_CLOUD_DEPLOY_KERNEL) {
        start(now_ms);   /* it waited for this trial to end */
    }
}

void bw_ota_rolled_back(uint32_t version, uint8_t cause, uint32_t crash_sequence)
{
    ota.rollback_pending = true;
    ota.rollback_version = version;
    ota.rollback_cause = cause;
    ota.rollback_crash = crash_sequence;
}

static void report_rollback(void)
{
    static const char *const causes[] = {
        [BW_ROLLBACK_NONE] = "rolled back",
        [BW_ROLLBACK_CRASH_LOOP] = "crash loop: the new app crashed before it proved healthy",
        [BW_ROLLBACK_INSTALL_FAILED] = "the installed app did not verify",
    };
    char text[BW_CLOUD_UPDATE_TEXT_MAX + 1];
    const char *what = ota.rollback_cause <= BW_ROLLBACK_INSTALL_FAILED ? causes[ota.rollback_cause]
                                                                        : "rolled back";
    size_t n = strlen(what);
    memcpy(text, what, n + 1u);
    if (ota.rollback_crash != 0) {
        /* "; crash record N": the cloud has the record itself (CRASH). */
        static const char tail[] = "; crash record ";
        char digits[11];
        size_t d = 0;
        for (uint32_t v = ota.rollback_crash; v != 0; v /= 10u) {
            digits[d++] = (char)('0' + v % 10u);
        }
        memcpy(text + n, tail, sizeof tail - 1u);
        n += sizeof tail - 1u;
        while (d > 0) {
            text[n++] = digits[--d];
        }
        text[n] = '\0';
    }
    bw_cloud_update u = {
        .state = BW_CLOUD_UPDATE_ROLLED_BACK,
        .deployment_id = ota.installed_deployment,
        .app_version = ota.rollback_version,
        .rollback_cause = ota.rollback_cause,
    };
    bw_cloud_report_update(&u, text);
    ota.counters.reports++;
    ota.rollback_pending = false;
    ota.installed_deployment = 0;
}

void bw_ota_poll(uint64_t now_ms)
{
    if (ota.rollback_pending) {
        report_rollback();
    }
    if (ota.healthy_pending) {
        report_healthy();
    }
    switch (ota.phase) {
    case WAITING:   /* a kernel deployment waits for bw_ota_kernel_confirmed */
        if (ota.deploy.kind == BW_CLOUD_DEPLOY_APP && bw_update_available()
            && !bw_update_current_state()->trial) {
            start(now_ms);
        }
        break;
    case HEAD:
    case DATA:
        if (ota.phase == DATA) {
            report_progress(now_ms, false);
        }
        pump(now_ms);
        break;
    case VERIFY:
        verify(now_ms);
        break;
    case POLITE: {
        bool asked = ota.hooks.take_apply_request != NULL && ota.hooks.take_apply_request(ota.hooks.ctx);
        if (asked || now_ms >= ota.polite_until_ms) {
            ota.phase = INSTALL;
        }
        break;
    }
    case INSTALL:
        announce(now_ms);
        break;
    case ANNOUNCE:
        if (!bw_cloud_update_in_flight() || now_ms >= ota.notice_until_ms) {
            install();
        }
        break;
    default:
        break;
    }
}

/* Once per boot, the first time online: a trial the boot stub ended by
 * going back is reported for the deployment that staged it, asked or not,
 * since the cloud sends that deployment's DEPLOY no more once another
 * replaced it. The cloud ignores it for a deployment already final. A
 * refusal needs no such report: a deployment replaced before its install
 * is superseded, and one still current is answered from its DEPLOY. */
static void report_stub_revert(void)
{
    bw_ota_kernel_view k = { 0 };
    if (ota.stub_revert_told || ota.hooks.kernel_view == NULL) {
        return;
    }
    ota.stub_revert_told = true;
    ota.hooks.kernel_view(ota.hooks.ctx, &k);
    if (!k.stub_reverted || k.stub_version == 0 || k.stub_tag == 0) {
        return;
    }
    char text[BW_CLOUD_UPDATE_TEXT_MAX + 1];
    stub_judgement_text(&k, text);
    bw_cloud_update u = {
        .state = BW_CLOUD_UPDATE_ROLLED_BACK,
        .deployment_id = k.stub_tag,
        .app_version = k.stub_version,
        .engine_error = (uint8_t)BW_UPDATE_E_KERNEL,
    };
    bw_cloud_report_update(&u, text);
    ota.counters.reports++;
}

void bw_ota_connected(uint64_t now_ms)
{
    ota.online = true;
    report_stub_revert();
    if (ota.phase == HEAD || ota.phase == DATA) {
        restart_window();
        pump(now_ms);
    }
}

void bw_ota_disconnected(void)
{
    ota.online = false;
    ota.req_count = 0;
}
