/*
 * The kernel's use of the update engine (update_service.h). Trusted keys come
 * from the device credentials (bw_credentials.h) or else the provisioning
 * sector (bw_identity.h); partitions from the port. Without keys the engine
 * still runs (journal, trial, rollback) and updates are unavailable until
 * provisioning brings keys, which take effect at once.
 */
#include <stdbool.h>

#include "arch.h"
#include "board.h"
#include "bw_crash.h"
#include "bw_credentials.h"
#include "bw_identity.h"
#include "bw_kernel_seal.h"
#include "bw_kernel_slots.h"
#include "bw_log.h"
#include "bw_ota.h"
#include "bw_port.h"
#include "bw_update.h"
#include "bw_version.h"
#include "update_service.h"

static bw_trusted_key keys[2u * BW_KEYS_MAX];   /* trusted, then retired (bw_update.h) */
static size_t retired_count;
static bw_update_config config;
static bool engine_ready;
static bool reset_for_kernel;   /* a kernel is staged: reset at the next poll */

static void log_failure(const char *what, const bw_update_diag *why)
{
    char text[160];
    bw_update_describe(why, text, sizeof text);
    bw_log("update: %s: %s", what, text);
}

/* The keys provisioning or a key set stored with the credentials (docs/SPEC.md
 * §12), with the retired ones after them; else those of the identity sector (§3). */
static bool load_keys(size_t *count)
{
    uint8_t record[BW_KEYS_RECORD_MAX];
    uint8_t points[BW_KEYS_MAX][BW_KEY_POINT_SIZE];
    _Static_assert(BW_CRED_UPDATE_KEYS_MAX == BW_KEYS_MAX && BW_CRED_PUBLIC_SIZE == BW_KEY_POINT_SIZE,
                   "one key format");
    bw_credentials_update_keys(points, count);
    retired_count = 0;
    if (*count != 0) {
        uint8_t retired[BW_KEYS_MAX][BW_KEY_POINT_SIZE];
        bw_credentials_retired_keys(retired, &retired_count);
        for (size_t i = 0; i < retired_count; i++) {
            __builtin_memcpy(keys[*count + i].public_key, retired[i], BW_KEY_POINT_SIZE);
        }
        bw_log("update: trusted keys from the device credentials (%u)", (unsigned)*count);
        if (bw_credentials_key_set() != 0) {
            bw_log("update: key set %u: %u retired key(s) still check the apps accepted before it",
                   (unsigned)bw_credentials_key_set(), (unsigned)retired_count);
        }
    } else if (port_provisioning_read(BW_KEYS_RECORD_OFFSET, record, sizeof record) != BW_OK
        || bw_trusted_keys_parse(record, points, count) != BW_OK) {
        return false;
    }
    for (size_t i = 0; i < *count; i++) {
        __builtin_memcpy(keys[i].public_key, points[i], BW_KEY_POINT_SIZE);
    }
    return true;
}

/* The running app's bundle carries its crash policy: restart backoff and
 * the stack bytes kept in crash records (the provisioned app: defaults). */
static void apply_app_policy(void)
{
    bw_manifest m;
    bw_crash_policy policy;
    bw_crash_get_policy(&policy);
    if (bw_update_current_manifest(&m) != BW_OK) {
        return;
    }
    policy.restart_min_ms = m.crash.restart_min_ms;
    policy.restart_max_ms = m.crash.restart_max_ms;
    policy.stack_bytes = m.crash.stack_bytes;
    if (bw_crash_set_policy(&policy) != BW_OK) {
        bw_log("update: the bundle's crash policy is out of range: defaults kept");
        return;
    }
    bw_log("update: crash policy of app version %u: restart after %u..%u ms, %u stack bytes",
           (unsigned)m.app_version, (unsigned)policy.restart_min_ms,
           (unsigned)policy.restart_max_ms, (unsigned)policy.stack_bytes);
}

/* Crash supervision found a crash loop of a new app: put the last-known-good back. */
static bw_err rollback_on_crash_loop(void *context, const bw_crash_record *crash)
{
    (void)context;
    uint32_t bad_version = bw_update_current_state()->current_version;
    bw_update_outcome outcome;
    bw_update_diag why;
    /* The supervisor thread runs this; the kernel loop (link requests) must
     * not reach the engine in the middle of it. */
    uint32_t hold = arch_kernel_loop_hold();
    bw_err err = bw_update_rollback(BW_ROLLBACK_CRASH_LOOP, &outcome, &why);
    if (err == BW_OK) {
        bw_ota_rolled_back(bad_version, BW_ROLLBACK_CRASH_LOOP, crash != NULL ? crash->sequence : 0u);
    }
    arch_kernel_loop_release(hold);
    if (err != BW_OK) {
        arch_app_slot_set_verified(outcome != BW_UPDATE_NO_GOOD_APP);
        log_failure("no rollback", &why);
        return err;
    }
    arch_app_slot_set_verified(true);
    bw_log("update: crash loop: rolled back to app version %u",
           (unsigned)bw_update_current_state()->current_version);
    bw_crash_set_app_version(bw_update_current_state()->current_version);
    apply_app_policy();
    return BW_OK;
}

static bw_err install(bw_update_diag *why_out);

/* What kernel delivery needs (docs/SPEC.md §19.6): the staging partitions,
 * and from the running kernel's own seal, which the stub verified before it
 * started us, the root it trusts (the hash of the seal's root key) and our
 * sealed version. A seal that does not parse (a kernel the stub did not
 * check: none on this board) leaves kernel delivery unavailable. */
static void kernel_delivery_config(bw_update_config *c)
{
    bw_seal seal;
    const uint8_t *area = (const uint8_t *)BOARD_KERNEL_SEAL_BASE;
    c->kernel_slot_size = BOARD_KERNEL_SLOT_SIZE;
    c->kernel_running_version = BW_KERNEL_VERSION_PACK(BW_KERNEL_VERSION_MAJOR, BW_KERNEL_VERSION_MINOR,
                                                       BW_KERNEL_VERSION_PATCH);
    if (bw_seal_parse(area, BOARD_KERNEL_SEAL_SIZE, BOARD_BUNDLE_ID, BOARD_KERNEL_SLOT_SIZE, &seal)
            != BW_SEAL_OK
        || bw_seal_sha256(seal.root_key, BW_SEAL_KEY_SIZE, c->kernel_root_hash) != 0) {
        return;
    }
    if (seal.version != c->kernel_running_version) {
        char sealed[16];
        bw_kslots_version_text(seal.version, sealed);
        bw_log("kernel: sealed as version %s (built as %s)", sealed, BW_KERNEL_VERSION_STRING);
    }
    c->kernel_running_version = seal.version;
    c->kernel_staged = port_flash_partition(BW_PARTITION_KERNEL_NEW);
    c->kernel_state = port_flash_partition(BW_PARTITION_KERNEL_STATE);
}

uint32_t update_service_kernel_version(void)
{
    return config.kernel_running_version;
}

bool update_service_boot(enum MvWakeReason *reason)
{
    *reason = MV_WAKEREASON_COLDBOOT;
    size_t key_count = 0;
    if (!load_keys(&key_count)) {
        /* The engine still runs (its journal, trial and rollback): keys may
         * come with provisioning while the app runs. */
        key_count = 0;
        bw_log("update: no trusted update key provisioned: updates unavailable until one is");
    }
    config = (bw_update_config){
        .app_slot = port_flash_partition(BW_PARTITION_APP_SLOT),
        .bank = { port_flash_partition(BW_PARTITION_IMAGE_A), port_flash_partition(BW_PARTITION_IMAGE_B) },
        .state = port_flash_partition(BW_PARTITION_UPDATE_STATE),
        .keys = keys,
        .key_count = key_count,
        .retired_count = retired_count,
        .board = BOARD_BUNDLE_ID,
        .kernel_version = BW_KERNEL_VERSION_PACK(BW_KERNEL_VERSION_MAJOR, BW_KERNEL_VERSION_MINOR,
                                                 BW_KERNEL_VERSION_PATCH),
    };
    kernel_delivery_config(&config);
    bw_update_outcome outcome;
    bw_update_diag why;
    bw_err err = bw_update_boot(&config, &outcome, &why);
    if (err != BW_OK && why.error == BW_UPDATE_E_STORAGE) {
        log_failure("updates unavailable", &why);
        return true;
    }
    engine_ready = true;
    const bw_update_state *state = bw_update_current_state();
    bw_crash_set_app_version(state->current_version);
    bw_crash_set_rollback_handler(rollback_on_crash_loop, NULL);
    if (err != BW_OK) {
        log_failure("boot", &why);
    }
    apply_app_policy();
    switch (outcome) {
    case BW_UPDATE_RUN_NEW_APP:
        bw_log("update: app version %u installed, on trial", (unsigned)state->current_version);
        bw_crash_app_installed(state->current_version);
        *reason = MV_WAKEREASON_APPLICATIONUPDATE;
        return true;
    case BW_UPDATE_RUN_ROLLED_BACK:
        bw_log("update: rolled back to app version %u", (unsigned)state->current_version);
        bw_ota_rolled_back(state->highest_version, state->rollback_cause, 0);
        *reason = MV_WAKEREASON_APPLICATIONCRASH;
        return true;
    case BW_UPDATE_NO_GOOD_APP:
        bw_log("update: no verified app left to run");
        return false;
    default:
        return true;
    }
}

bw_err update_service_install(bw_update_diag *why_out)
{
    bw_update_diag why = { .error = BW_UPDATE_E_STORAGE };
    bw_err err = BW_E_UNAVAILABLE;
    if (engine_ready) {
        err = install(&why);
    }
    if (why_out != NULL) {
        *why_out = why;
    }
    return err;
}

static bw_err install(bw_update_diag *why_out)
{
    bw_update_outcome outcome;
    bw_update_diag why;
    /* The kernel stops the app on purpose: a reset during the install is not its crash. */
    bw_crash_app_pause(true);
    bw_err err = bw_update_install(&outcome, &why);
    const bw_update_state *state = bw_update_current_state();
    if (err == BW_OK && outcome == BW_UPDATE_RESET_FOR_KERNEL) {
        /* The app stays stopped: the chip resets at the next poll, after
         * the caller has answered. */
        reset_for_kernel = true;
        *why_out = why;
        return BW_OK;
    }
    if (err != BW_OK && outcome == BW_UPDATE_NO_GOOD_APP) {
        /* The copy into the slot failed part-way: never resume that app. */
        log_failure("install failed part-way, the app is parked", &why);
        arch_app_slot_set_verified(false);
        arch_app_restart(MV_WAKEREASON_APPLICATIONUPDATE);
        *why_out = why;
        return err;
    }
    if (err != BW_OK && outcome != BW_UPDATE_RUN_ROLLED_BACK) {
        bw_crash_app_pause(false);
        log_failure("install failed, the app keeps running", &why);
        *why_out = why;
        return err;
    }
    arch_app_slot_set_verified(true);
    if (outcome == BW_UPDATE_RUN_ROLLED_BACK) {
        bw_log("update: the installed app did not verify: rolled back to version %u",
               (unsigned)state->current_version);
        bw_crash_set_app_version(state->current_version);
        apply_app_policy();
        arch_app_restart(MV_WAKEREASON_APPLICATIONCRASH);
        *why_out = why;
        return err != BW_OK ? err : BW_E_IO;
    }
    bw_log("update: app version %u installed, on trial", (unsigned)state->current_version);
    bw_crash_app_installed(state->current_version);
    apply_app_policy();
    arch_app_restart(MV_WAKEREASON_APPLICATIONUPDATE);
    *why_out = why;
    return BW_OK;
}

void update_service_credentials_changed(void)
{
    size_t key_count = 0;
    if (!engine_ready || !load_keys(&key_count)) {
        return;
    }
    bw_update_set_keys(keys, key_count, retired_count);
}

bool update_service_kernel_staged(void)
{
    return reset_for_kernel;
}

void update_service_poll(void)
{
    if (reset_for_kernel) {
        bw_log("update: resetting into the boot stub to swap the kernel in");
        arch_reset_for_kernel_update();
    }
    if (engine_ready && bw_update_current_state()->trial && bw_crash_app_healthy()) {
        if (bw_update_app_healthy() == BW_OK) {
            uint32_t version = bw_update_current_state()->current_version;
            bw_log("update: app version %u is healthy: trial over", (unsigned)version);
            bw_ota_trial_over(version);
        }
    }
}
