/*
 * The update engine: receives a bundle into an image bank, verifies it,
 * installs it into the app slot power-safely, keeps the previous app as
 * last-known-good and rolls back to it (docs/DESIGN.md "Updates").
 *
 * Storage: two image banks (A, B) and a state journal (bw_update_state.h).
 * A bank holds the bundle's head (header, manifest, signature) in its first
 * sectors and, after that, an image of the app slot exactly as it will be
 * installed (erased bytes 0xFF). At any time one bank may hold the running
 * app's image (current_bank), the other the last-known-good app or a
 * download. The running app on trial (not yet healthy) protects its
 * last-known-good: no download starts until it is healthy. Crash-loop
 * detection is crash supervision's (bw_crash.h); it calls
 * bw_update_rollback, and reports health with bw_update_app_healthy.
 *
 * Every step journals its progress: a power cut at any instant leaves a state
 * from which bw_update_boot finishes the job, and the app slot only ever
 * receives bytes from a verified bank. Callers: the kernel loop (never an
 * interrupt or a system call); the engine keeps no pointer to caller data.
 * Entry points for delivery (local or OTA): begin, write, finish.
 */
#ifndef BW_UPDATE_H
#define BW_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"
#include "bw_flash.h"
#include "bw_manifest.h"
#include "bw_update_state.h"

/* Where the engine works and what it trusts. */
typedef struct bw_update_config {
    const bw_flash_partition *app_slot;
    const bw_flash_partition *bank[2];
    const bw_flash_partition *state;
    const bw_trusted_key *keys;     /* bundle signing keys; the engine keeps the pointer */
    size_t key_count;
    /* keys[key_count .. key_count + retired_count): replaced by a key set
     * (docs/SPEC.md §12.4); they re-check only bundles accepted before it
     * (the running app's, the last-known-good's), never a new one. */
    size_t retired_count;
    uint16_t board;                 /* BW_BOARD_* of this device */
    uint32_t kernel_version;        /* BW_KERNEL_VERSION_PACK of the running kernel */
    /* Kernel delivery (docs/SPEC.md §19.6): a signed kernel file is received
     * into kernel_staged (image area of kernel_slot_size bytes, then the
     * seal) and handed to the boot stub through its journal, kernel_state.
     * kernel_staged NULL: the board cannot stage a kernel. */
    const bw_flash_partition *kernel_staged;
    const bw_flash_partition *kernel_state;
    uint32_t kernel_slot_size;
    uint8_t kernel_root_hash[BW_SHA256_SIZE];   /* the root the stub trusts */
    uint32_t kernel_running_version;            /* the running kernel's sealed version */
} bw_update_config;

/* Why the engine refused or failed, for logs and the delivery link. */
typedef enum bw_update_error {
    BW_UPDATE_OK = 0,
    BW_UPDATE_E_BUNDLE,             /* the bundle itself: see the manifest diag */
    BW_UPDATE_E_STORAGE,            /* the board has no banks/journal or they are too small */
    BW_UPDATE_E_FLASH,              /* a flash operation failed */
    BW_UPDATE_E_ON_TRIAL,           /* the running app is not yet healthy */
    BW_UPDATE_E_NO_DOWNLOAD,        /* write/finish/install without a download in progress */
    BW_UPDATE_E_OFFSET,             /* data not at the offset the engine expects */
    BW_UPDATE_E_LAYER_ORDER,        /* layers not in region order or not 256-byte aligned */
    BW_UPDATE_E_INCOMPLETE,         /* finish before every layer byte arrived */
    BW_UPDATE_E_VERIFY,             /* the installed app slot did not measure as expected */
    BW_UPDATE_E_NO_LKG,             /* rollback asked for with no last-known-good app */
    BW_UPDATE_E_KERNEL,             /* the kernel file itself: see the seal diag */
    BW_UPDATE_E_KERNEL_NOT_NEWER,   /* the kernel is not newer than the running one */
    BW_UPDATE_E_KERNEL_BUSY,        /* the running kernel is on trial (not yet confirmed) */
    BW_UPDATE_E_COUNT
} bw_update_error;

typedef struct bw_update_diag {
    bw_update_error error;
    bw_manifest_diag manifest;      /* when error is BW_UPDATE_E_BUNDLE or E_VERIFY */
    uint8_t seal;                   /* bw_seal_error, when error is BW_UPDATE_E_KERNEL */
    uint32_t kernel_version;        /* the kernel's, when error is E_KERNEL_NOT_NEWER */
} bw_update_diag;

/* What the engine tells the kernel after boot or an update action. */
typedef enum bw_update_outcome {
    BW_UPDATE_RUN_APP,              /* start the app normally */
    BW_UPDATE_RUN_NEW_APP,          /* a new app was installed: wake reason APPLICATIONUPDATE */
    BW_UPDATE_RUN_ROLLED_BACK,      /* the last-known-good app was put back */
    BW_UPDATE_NO_GOOD_APP,          /* nothing verified to run: park the app */
    BW_UPDATE_RESET_FOR_KERNEL,     /* a kernel is staged: reset into the boot stub */
} bw_update_outcome;

/* Loads the state and finishes an interrupted backup, install or rollback.
 * Must run before the app starts. *outcome says how to start the app. On any
 * error but BW_UPDATE_E_STORAGE (the board has no update storage: the
 * provisioned app runs) *outcome is BW_UPDATE_NO_GOOD_APP: a journal that
 * cannot be read, or a job that could not be finished, never lets the app
 * slot start unverified (the journal keeps the job for the next boot). */
bw_err bw_update_boot(const bw_update_config *config, bw_update_outcome *outcome,
                      bw_update_diag *why);

/* True once bw_update_boot found update storage and there is a trusted key
 * (updates can run). */
bool bw_update_available(void);

/* Replaces the trusted keys and the retired ones after them (provisioning or
 * a key set stored new ones while the app runs); keys must stay valid while
 * the engine runs. Takes effect at once: a bundle begun, or downloaded and
 * not yet installed, must verify under the new trusted keys. */
void bw_update_set_keys(const bw_trusted_key *keys, size_t count, size_t retired_count);

/* The manifest of the running app's bundle (its policies), re-read and
 * re-checked from its bank. BW_E_UNAVAILABLE when the running app came with
 * no bundle (the provisioned app) or updates are unavailable. */
bw_err bw_update_current_manifest(bw_manifest *out);

/* The state as the journal holds it (for status reports and tests). */
const bw_update_state *bw_update_current_state(void);

/* Starts (or resumes) receiving a bundle. head: the bundle's first bytes,
 * at least header + manifest + signature block (bw_bundle_open). Verifies
 * structure, signature, board, kernel version and anti-rollback. On success
 * *resume_offset is the bundle file offset the sender continues from (the
 * start of the layers, or later when the same bundle was partly received).
 * A head that starts with a kernel seal's magic is a signed kernel file
 * (SPEC §19.2, §19.6): head = exactly the seal, checked for structure, chain
 * to the stub's root and a version above the running kernel's; the image
 * bytes follow as data. One download at a time: a bundle begun drops a
 * kernel download and the other way round. */
bw_err bw_update_begin(const uint8_t *head, size_t len, uint32_t *resume_offset,
                       bw_update_diag *why);

/* The head a delivery stages for begin: one RAM buffer of BW_BUNDLE_HEAD_MAX
 * bytes inside the engine, shared by local and cloud delivery (it is also the
 * engine's own scratch: reading a bank's head, e.g. at an install or a
 * rollback, empties it; the delivery then sends or fetches it again).
 * Appends len bytes at offset: 0 starts a new head, any other offset must
 * equal the bytes held (BW_E_INVALID otherwise, nothing changes); BW_E_SIZE
 * past BW_BUNDLE_HEAD_MAX (the staged head is dropped). *held: bytes held now. */
bw_err bw_update_head_put(uint32_t offset, const uint8_t *data, size_t len, uint32_t *held);

/* The staged head's bytes (read-only, valid until the next engine call) and
 * how many are held (0: none). */
const uint8_t *bw_update_head_staged(uint32_t *held);

/* bw_update_begin on the staged head, which must hold exactly len bytes
 * (BW_E_INVALID otherwise); the staged head is emptied either way. */
bw_err bw_update_begin_staged(size_t len, uint32_t *resume_offset, bw_update_diag *why);

/* Resumes the download already in the staging bank (journal op downloading
 * or downloaded) if its first head_len bytes hash to head_sha256: begins
 * from the bank's head, so a restart does not fetch it again. BW_E_UNAVAILABLE
 * when there is no such download (fetch the head and begin), else as begin. */
bw_err bw_update_begin_from_bank(uint32_t head_len, const uint8_t head_sha256[BW_SHA256_SIZE],
                                 uint32_t *resume_offset, bw_update_diag *why);

/* What was begun: the bundle's app version, size and polite install window
 * (manifest, seconds); for a kernel file its sealed version and size.
 * BW_E_UNAVAILABLE when nothing was begun since boot. */
typedef struct bw_update_download {
    bool kernel;                    /* a signed kernel file, not an app bundle */
    uint32_t app_version;           /* the kernel's version when kernel */
    uint32_t bundle_size;
    uint32_t polite_seconds;
} bw_update_download;
bw_err bw_update_download_info(bw_update_download *out);

/* Receives bundle bytes at file offset `offset`, which must be the offset the
 * engine expects next (resume_offset, then consecutive). */
bw_err bw_update_write(uint32_t offset, const uint8_t *data, size_t len, bw_update_diag *why);

/* The bundle file offset the engine expects next (0 when not downloading). */
uint32_t bw_update_expected_offset(void);

/* Verifies every layer hash and the measurement of the received image; on
 * success the bank is DOWNLOADED and ready to install. */
bw_err bw_update_finish(bw_update_diag *why);

/* Installs the downloaded bundle (the app must be stopped). Keeps the current
 * app as last-known-good, copying a provisioned app into the free bank first.
 * A downloaded kernel is staged instead (a *staged* record in kernel_state)
 * and *outcome is BW_UPDATE_RESET_FOR_KERNEL: the caller resets, and the
 * boot stub verifies it again, swaps it in and starts its trial (§19.5).
 * On an error *outcome is BW_UPDATE_RUN_APP when the slot was not touched
 * (the app may go on), BW_UPDATE_RUN_ROLLED_BACK when the last-known-good
 * replaced it, BW_UPDATE_NO_GOOD_APP when the copy stopped part-way (park). */
bw_err bw_update_install(bw_update_outcome *outcome, bw_update_diag *why);

/* Puts the last-known-good app back (the app must be stopped). On an error
 * during the copy *outcome is BW_UPDATE_NO_GOOD_APP (park; the next boot
 * finishes the rollback). */
bw_err bw_update_rollback(bw_rollback_cause cause, bw_update_outcome *outcome,
                          bw_update_diag *why);

/* The tag the next kernel install writes into the stub's *staged* record
 * (docs/SPEC.md §19.5: the cloud deployment staging it); one install uses it,
 * then it is 0 again (the local link's). */
void bw_update_set_kernel_tag(uint32_t tag);

/* The running app proved healthy (ran long enough, or confirmed itself). */
bw_err bw_update_app_healthy(void);

/* Short text for an engine error. */
const char *bw_update_error_text(bw_update_error error);

/* One line for a log or the delivery link: the engine's reason and, for
 * bundle errors, the manifest's precise reason. */
size_t bw_update_describe(const bw_update_diag *why, char *out, size_t size);

#endif
