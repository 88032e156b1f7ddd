/*
 * Over-the-air updates in bulwarkd (docs/SPEC.md §15, docs/DESIGN.md
 * "Over-the-air updates: the cloud side"):
 * - upload: a bundle is checked by the CLI's checker (cli/lib_bundle.c over
 *   the kernel's bw_manifest.c) against the fleet's update keys (update.pub
 *   and update-keys/NAME.pub, read at every upload), then its head (header,
 *   manifest, signature block) and each layer are stored once each, named by
 *   their SHA-256, in <db>.blobs/ (temp file, fsync, rename);
 * - DEPLOY to a device whose current deployment is neither installed nor final;
 * - FETCH answered with CHUNK read from the blobs by bundle offset: the head
 *   blob then the layer blobs in manifest order are the bundle's bytes;
 * - UPDATE applied to the deployment (store_apply_update).
 * - a signed kernel (SPEC §19.7) is checked by the CLI's checker over the
 *   boot stub's (cli/lib_kernel_image.c, boot/bw_kernel_seal.c) and stored
 *   the same way: its seal as the head blob, its image as the one layer;
 * Invariants: a blob file, once at its final name, holds exactly the bytes
 * whose SHA-256 names it (checked at upload; never rewritten). Nothing is
 * checked when serving: the device's engine checks everything.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bulwarkd.h"
#include "bw_update.h"
#include "lib_bundle.h"
#include "lib_kernel_image.h"
#include "lib_keys.h"

#define UPDATE_KEYS_MAX 16u

static void blob_dir(const bwd *d, char *out, size_t size)
{
    snprintf(out, size, "%s.blobs", d->config.db_path);
}

static void blob_path(const bwd *d, const uint8_t hash[32], char *out, size_t size)
{
    char hex[65], dir[BWD_PATH_MAX + 8];
    hex_encode(hash, 32, hex);
    blob_dir(d, dir, sizeof dir);
    snprintf(out, size, "%s/%s", dir, hex);
}

int bwd_blobs_init(bwd *d, char *err, size_t err_size)
{
    char dir[BWD_PATH_MAX + 8];
    blob_dir(d, dir, sizeof dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_size, "%s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* Stores bytes as the blob named hash unless it is there already. 1 written, 0 shared, -1 error. */
static int put_blob(const bwd *d, const uint8_t hash[32], const uint8_t *bytes, size_t len)
{
    char path[BWD_PATH_MAX + 80], tmp[BWD_PATH_MAX + 96];
    blob_path(d, hash, path, sizeof path);
    struct stat st;
    if (stat(path, &st) == 0 && (size_t)st.st_size == len) {
        return 0;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, bytes + done, len - done);
        if (n <= 0) {
            break;
        }
        done += (size_t)n;
    }
    bool ok = done == len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 1;
}

/* The fleet's trusted update keys: update.pub, then every update-keys/NAME.pub. */
static size_t load_update_keys(const bwd *d, bw_trusted_key *keys, char *reason, size_t reason_size)
{
    char path[BWD_PATH_MAX + 300];
    size_t n = 0;
    snprintf(path, sizeof path, "%s/update.pub", d->config.fleet_dir);
    if (access(path, F_OK) == 0) {
        if (!keys_load_public(path, keys[n].public_key, reason, reason_size)) {
            fprintf(stderr, "bulwarkd: %s: %s (ignored)\n", path, reason);
        } else {
            n++;
        }
    }
    snprintf(path, sizeof path, "%s/update-keys", d->config.fleet_dir);
    struct dirent **names = NULL;
    int count = scandir(path, &names, NULL, alphasort);
    for (int i = 0; i < count; i++) {
        size_t len = strlen(names[i]->d_name);
        if (n < UPDATE_KEYS_MAX && len > 4 && strcmp(names[i]->d_name + len - 4, ".pub") == 0) {
            snprintf(path, sizeof path, "%s/update-keys/%s", d->config.fleet_dir, names[i]->d_name);
            if (keys_load_public(path, keys[n].public_key, reason, reason_size)) {
                n++;
            } else {
                fprintf(stderr, "bulwarkd: %s: %s (ignored)\n", path, reason);
            }
        }
        free(names[i]);
    }
    free(names);
    return n;
}

/* The API error code for a bundle refusal and its HTTP status. */
static unsigned refusal(const bundle_check *c, const char **code)
{
    switch (c->diag.error) {
    case BW_MANIFEST_E_TRUNCATED:
        *code = "truncated";
        return 400;
    case BW_MANIFEST_E_BOARD:
        *code = "unknown_board";
        return 400;
    case BW_MANIFEST_E_SIGNATURE_ALG:
    case BW_MANIFEST_E_SIGNATURE_RESERVED:
        /* algorithm 0: no signature at all */
        *code = c->diag.error == BW_MANIFEST_E_SIGNATURE_ALG && c->diag.value == 0 ? "unsigned" : "bad_bundle";
        return 422;
    case BW_MANIFEST_E_UNKNOWN_KEY:
        *code = "unknown_key";
        return 422;
    case BW_MANIFEST_E_BAD_SIGNATURE:
        *code = "bad_signature";
        return 422;
    case BW_MANIFEST_E_LAYER_HASH:
    case BW_MANIFEST_E_MEASUREMENT:
        *code = "bad_content";
        return 422;
    default:
        *code = "bad_bundle";
        return 400;
    }
}

static bool sha256(const uint8_t *bytes, size_t len, uint8_t out[32])
{
    unsigned n = 0;
    return EVP_Digest(bytes, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32;
}

/* An upload whose blobs were stored (ok) gets its row: 201 new, 200 the same
 * head uploaded before (*answer either way), 500 when blobs or row failed. */
static unsigned add_upload(bwd *d, store_app *app, bool ok, json_t **answer, const char **code, char *reason,
                           size_t reason_size)
{
    store_result r = ok ? store_app_add(d->store, app, bwd_now_ms()) : STORE_ERROR;
    if (r != STORE_OK && r != STORE_EXISTS) {
        *code = "internal";
        snprintf(reason, reason_size, "could not store the %s", app->kernel ? "kernel" : "bundle");
        return 500;
    }
    d->counters.uploads++;
    *answer = store_app_json(d->store, app->id);
    return r == STORE_OK ? 201 : 200;
}

unsigned bwd_upload(bwd *d, const uint8_t *bundle, size_t len, json_t **answer, const char **code, char *reason,
                    size_t reason_size)
{
    *answer = NULL;
    bw_trusted_key keys[UPDATE_KEYS_MAX];
    size_t key_count = load_update_keys(d, keys, reason, reason_size);
    if (key_count == 0) {
        *code = "no_update_keys";
        snprintf(reason, reason_size, "the fleet has no update key (%s/update.pub or update-keys/NAME.pub)",
                 d->config.fleet_dir);
        return 503;
    }
    bundle_check check, *c = &check;
    if (!bundle_verify_file(bundle, len, keys, key_count, 0, c)) {
        bundle_reason(&c->diag, reason, reason_size);
        return refusal(c, code);
    }
    store_app app = { .app_version = c->manifest.app_version, .size = c->layout.bundle_size,
                      .head_length = c->layout.layers_offset, .board = c->manifest.board,
                      .layer_count = c->manifest.layer_count };
    keys_id_hex(c->signature.key_id, app.key_id);
    bool ok = sha256(bundle, app.head_length, app.head_hash)
              && put_blob(d, app.head_hash, bundle, app.head_length) >= 0;
    for (unsigned i = 0; ok && i < app.layer_count; i++) {
        const bw_manifest_layer *layer = &c->manifest.layers[i];
        memcpy(app.layers[i].hash, layer->fetch_hash, 32);   /* checked equal to the bytes' SHA-256 */
        app.layers[i].length = layer->length;
        ok = put_blob(d, layer->fetch_hash, bundle + bw_bundle_layer_file_offset(&c->layout, &c->manifest, i),
                      layer->length) >= 0;
    }
    return add_upload(d, &app, ok, answer, code, reason, reason_size);
}

/* The API error code and HTTP status for a refused kernel file. */
static unsigned kernel_refusal(kernel_file_error e, bw_seal_error seal, const char **code)
{
    if (e == KERNEL_FILE_TRUNCATED) {
        *code = "truncated";
        return 400;
    }
    switch (e == KERNEL_FILE_SEAL ? seal : BW_SEAL_E_MALFORMED) {
    case BW_SEAL_E_BOARD:
        *code = "unknown_board";
        return 400;
    case BW_SEAL_E_UNKNOWN_ROOT:
        *code = "unknown_root";
        return 422;
    case BW_SEAL_E_CERTIFICATE:
    case BW_SEAL_E_NOT_BY_ROOT:
    case BW_SEAL_E_USAGE:
    case BW_SEAL_E_EXPIRED:
        *code = "bad_chain";
        return 422;
    case BW_SEAL_E_SIGNATURE:
        *code = "bad_signature";
        return 422;
    case BW_SEAL_E_TAMPERED:
        *code = "bad_content";
        return 422;
    default:
        *code = "bad_kernel";
        return 400;
    }
}

/* FLEET/kernel-root.pub, the root the devices' stubs trust, if the fleet has
 * it: *root_hash its SHA-256. -1 when the file is there but unreadable. */
static int load_kernel_root(const bwd *d, uint8_t root_hash[BW_SEAL_HASH_SIZE], char *reason, size_t reason_size)
{
    char path[BWD_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/kernel-root.pub", d->config.fleet_dir);
    if (access(path, F_OK) != 0) {
        return 0;
    }
    uint8_t key[BW_SEAL_KEY_SIZE];
    if (!keys_load_public(path, key, reason, reason_size) || !sha256(key, sizeof key, root_hash)) {
        return -1;
    }
    return 1;
}

unsigned bwd_upload_kernel(bwd *d, const uint8_t *file, size_t len, json_t **answer, const char **code, char *reason,
                           size_t reason_size)
{
    *answer = NULL;
    uint8_t root_hash[BW_SEAL_HASH_SIZE];
    int root = load_kernel_root(d, root_hash, reason, reason_size);
    if (root < 0) {
        *code = "internal";
        return 500;
    }
    bw_seal seal;
    bw_seal_error seal_error;
    const char *why = NULL;
    kernel_file_error e = kernel_image_is(file, len)
                          ? kernel_image_check(file, len, root > 0 ? root_hash : NULL, &seal, &seal_error, &why)
                          : KERNEL_FILE_SEAL;
    if (e != KERNEL_FILE_OK) {
        snprintf(reason, reason_size, "%s", why != NULL ? why : "not a signed kernel file (no seal magic \"BWKS\")");
        return kernel_refusal(e, why != NULL ? seal_error : BW_SEAL_E_MALFORMED, code);
    }
    uint32_t seal_size = BW_SEAL_CERT_OFFSET + seal.cert_len;
    uint8_t seal_root[BW_SEAL_HASH_SIZE];
    store_app k = { .kernel = true, .root_checked = root > 0, .app_version = seal.version, .size = (uint32_t)len,
                    .head_length = seal_size, .board = seal.board, .layer_count = 1 };
    bool ok = sha256(seal.root_key, BW_SEAL_KEY_SIZE, seal_root);
    hex_encode(seal_root, 8, k.key_id);
    memcpy(k.layers[0].hash, seal.image_hash, 32);   /* checked equal to the image's SHA-256 */
    k.layers[0].length = seal.image_size;
    ok = ok && sha256(file, seal_size, k.head_hash) && put_blob(d, k.head_hash, file, seal_size) >= 0
         && put_blob(d, k.layers[0].hash, file + seal_size, seal.image_size) >= 0;
    return add_upload(d, &k, ok, answer, code, reason, reason_size);
}

/* Reads bundle bytes [offset, offset + len) of app from its blobs. */
static bool read_bundle(const bwd *d, const store_app *app, uint32_t offset, uint8_t *out, uint32_t len)
{
    uint32_t start = 0;
    for (unsigned part = 0; part <= app->layer_count && len > 0; part++) {
        const uint8_t *hash = part == 0 ? app->head_hash : app->layers[part - 1].hash;
        uint32_t size = part == 0 ? app->head_length : app->layers[part - 1].length;
        if (offset < start + size) {
            uint32_t at = offset - start, n = size - at < len ? size - at : len;
            char path[BWD_PATH_MAX + 80];
            blob_path(d, hash, path, sizeof path);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            ssize_t got = fd >= 0 ? pread(fd, out, n, at) : -1;
            if (fd >= 0) {
                close(fd);
            }
            if (got != (ssize_t)n) {
                return false;
            }
            out += n;
            offset += n;
            len -= n;
        }
        start += size;
    }
    return len == 0;
}

static void publish(bwd *d, const char *device, const char *kind, const void *msg, size_t len, int qos)
{
    char topic[64];
    snprintf(topic, sizeof topic, "bw/%s/down/%s", device, kind);
    broker_publish(d->broker, topic, msg, len, qos);
}

void bwd_send_deploy(bwd *d, const char *device)
{
    store_deployment dep;
    store_app app;
    if (store_current_deployment(d->store, device, &dep, &app) != STORE_OK || dep.delivered) {
        return;
    }
    cp_deploy m = { .kind = app.kernel ? CP_DEPLOY_KERNEL : CP_DEPLOY_APP,
                    .deployment_id = (uint32_t)dep.id, .app_version = app.app_version, .size = app.size,
                    .head_length = app.head_length };
    memcpy(m.head_hash, app.head_hash, 32);
    uint8_t msg[CP_DEPLOY_SIZE];
    cp_encode_deploy(&m, msg);
    publish(d, device, "deploy", msg, sizeof msg, 1);
    d->counters.deploy_sent++;
}

void bwd_handle_fetch(bwd *d, const char *device, const uint8_t *payload, size_t len)
{
    cp_fetch f;
    cp_result r = cp_decode_fetch(payload, len, &f);
    if (r != CP_OK) {
        d->counters.bad_fetch++;
        fprintf(stderr, "bulwarkd: %s: FETCH ignored: %s\n", device, cp_result_text(r));
        return;
    }
    d->counters.fetches++;
    static _Thread_local uint8_t msg[CP_CHUNK_HEADER + CP_CHUNK_MAX];
    store_deployment dep;
    store_app app;
    cp_chunk_status status = CP_CHUNK_OK;
    if (store_current_deployment(d->store, device, &dep, &app) != STORE_OK || dep.id != (int64_t)f.deployment_id) {
        status = CP_CHUNK_NO_DEPLOYMENT;
    } else if ((uint64_t)f.offset + f.length > app.size) {
        status = CP_CHUNK_RANGE;
    } else if (!read_bundle(d, &app, f.offset, msg + CP_CHUNK_HEADER, f.length)) {
        status = CP_CHUNK_UNREADABLE;
        fprintf(stderr, "bulwarkd: %s: cannot read app %lld's blobs\n", device, (long long)app.id);
    }
    cp_encode_chunk_header(status, f.deployment_id, f.offset, f.length, msg);
    publish(d, device, "chunk", msg, CP_CHUNK_HEADER + (status == CP_CHUNK_OK ? f.length : 0u), 0);
    if (status == CP_CHUNK_OK) {
        d->counters.chunks_sent++;
    } else {
        d->counters.chunks_refused++;
    }
}

void bwd_handle_update(bwd *d, const char *device, const uint8_t *payload, size_t len)
{
    cp_update u;
    cp_result r = cp_decode_update(payload, len, BW_UPDATE_E_COUNT, BW_MANIFEST_E_COUNT, &u);
    if (r != CP_OK) {
        d->counters.bad_update++;
        fprintf(stderr, "bulwarkd: %s: UPDATE ignored: %s\n", device, cp_result_text(r));
        return;
    }
    switch (store_apply_update(d->store, device, &u, bwd_now_ms())) {
    case STORE_OK: d->counters.updates++; break;
    case STORE_EXISTS: d->counters.stale_update++; break;
    default:
        d->counters.unmatched_update++;
        fprintf(stderr, "bulwarkd: %s: UPDATE for deployment %u (app version %u) matches none\n", device,
                u.deployment_id, u.app_version);
        break;
    }
}
