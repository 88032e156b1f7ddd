/*
 * The over-the-air update client (docs/SPEC.md §15, docs/DESIGN.md
 * "Over-the-air updates: the device side"): turns the cloud's DEPLOY and
 * CHUNK messages into update-engine calls (bw_update.h) and reports UPDATE.
 *
 * It fetches the bundle's head into the engine's staged head, checks it
 * against DEPLOY's hash, begins, then fetches the rest from the engine's
 * expected offset with at most BW_OTA_WINDOW FETCHes unanswered; a CHUNK is
 * written straight from the MQTT receive buffer when its offset is the one
 * the engine expects next, and dropped otherwise. Everything about what was
 * received lives in the engine (journaled); this client keeps only the
 * deployment and the requests in flight, in static RAM. FETCH and UPDATE
 * leave through bw_cloud (bw_cloud_fetch, bw_cloud_report_update); the
 * install and the app's notification through the hooks. Kernel loop only.
 */
#ifndef BW_OTA_H
#define BW_OTA_H

#include <stdbool.h>
#include <stdint.h>

#include "bw_cloud_proto.h"
#include "bw_err.h"
#include "bw_net_config.h"
#include "bw_update.h"

/* A kernel deployment's view of the running kernel and of the boot stub's
 * journal (docs/SPEC.md §19.5, §19.7). */
typedef struct bw_ota_kernel_view {
    uint32_t running_version;   /* the running kernel's sealed version */
    bool on_trial;              /* it has not confirmed itself yet */
    uint32_t stub_version;      /* the kernel the stub last refused or went back from (0: none) */
    uint32_t stub_tag;          /* the deployment that had staged it (0: the local link) */
    bool stub_reverted;         /* went back from it (it never confirmed or failed); else refused it */
    const char *stub_reason;    /* why, one line (static) */
} bw_ota_kernel_view;

/* What the kernel does for the client. */
typedef struct bw_ota_hooks {
    /* Installs the downloaded bundle now and restarts the app (the new one,
     * or the old one if the install failed). BW_OK once installed. */
    bw_err (*install)(void *ctx, bw_update_diag *why);
    /* A verified bundle waits for its polite window: tell the app
     * (MV_EVENTTYPE_UPDATEDOWNLOADED) and accept mvRestart(AUTOAPPLYUPDATE). */
    void (*downloaded)(void *ctx);
    /* True once (then false) when the app asked to apply the update now. */
    bool (*take_apply_request)(void *ctx);
    /* Fills *out for a kernel deployment; NULL: kernels are not deployable here. */
    void (*kernel_view)(void *ctx, bw_ota_kernel_view *out);
    void *ctx;
} bw_ota_hooks;

/* Sets the hooks (copied). Keeps any state already recorded (a rollback
 * reported by bw_ota_rolled_back before the cloud link started). */
void bw_ota_init(const bw_ota_hooks *hooks);

/* Forgets the deployment and the requests (tests; a kernel start is zeroed RAM). */
void bw_ota_reset(void);

/* The cloud link is up (after its STATUS) or gone: requests in flight are
 * asked again on the next session. The first time up in a boot, a kernel
 * trial the boot stub went back from is reported rolled back for the
 * deployment that staged it (its record's tag), asked or not. */
void bw_ota_connected(uint64_t now_ms);
void bw_ota_disconnected(void);

/* A decoded DEPLOY or CHUNK from the cloud (bw_cloud_received). */
void bw_ota_deploy(const bw_cloud_deploy *deploy, uint64_t now_ms);
void bw_ota_chunk(const bw_cloud_chunk *chunk, uint64_t now_ms);

/* Kernel loop, every pass: asks for more, asks again, reports progress,
 * finishes a complete download and installs (now, or when the polite
 * window ends or the app asks). */
void bw_ota_poll(uint64_t now_ms);

/* Crash supervision (or the boot step) rolled back from app version
 * `version`: reports UPDATE rolled back with cause and the crash's sequence
 * (0: none). Callable from the supervisor with the kernel loop held. */
void bw_ota_rolled_back(uint32_t version, uint8_t cause, uint32_t crash_sequence);

/* The update service ended the trial of app `version`: it proved healthy.
 * Reports UPDATE healthy (for the deployment that installed it, or by
 * version after a restart). */
void bw_ota_trial_over(uint32_t version);

/* The running kernel confirmed itself after its trial (kernel_trial.c):
 * reports UPDATE healthy for the kernel deployment that installed it (the
 * one this boot's DEPLOY named, else staged_by, the stub record's tag; 0:
 * the local link, nothing reported), and a kernel deployment waiting for
 * the trial to end starts. */
void bw_ota_kernel_confirmed(uint32_t version, uint32_t staged_by, uint64_t now_ms);

/* True while a verified bundle waits for its polite window. */
bool bw_ota_install_pending(void);

/* True while a download is under way: *held of *size bundle bytes are in. */
bool bw_ota_downloading(uint32_t *held, uint32_t *size);

typedef struct bw_ota_counters {
    uint32_t fetches;            /* FETCHes sent (repeats included) */
    uint32_t chunks_written;     /* CHUNKs handed to the engine */
    uint32_t bytes_written;
    uint32_t chunks_dropped;     /* well-formed but not at the expected offset (late, overtaken) */
    uint32_t chunks_ignored;     /* another deployment, out of range, not asked for, or a server error */
    uint32_t refetch_rounds;     /* the window restarted from the expected offset (timeout, reconnect) */
    uint32_t reports;            /* UPDATE messages queued */
} bw_ota_counters;

const bw_ota_counters *bw_ota_stats(void);

#endif
