/*
 * Apps' config values and secrets (docs/API.md "Config and secrets",
 * docs/SPEC.md §17): validation, sealing of secrets, and the cloud side of
 * the config fetch relay.
 *
 * Secrets are sealed with AES-256-GCM (OpenSSL's EVP, which bulwarkd links)
 * under a 32-byte key in appconfig.key next to the database (mode 0600,
 * created on first use). A sealed value is 1 byte format (1), a 12-byte
 * random nonce, the ciphertext and the 16-byte tag; the additional data is
 * "secret\0<device or empty>\0<key>", so a sealed value moved to another
 * entry does not open. Plaintext leaves this file only towards the device
 * that fetched it, over its TLS link; no REST answer carries a secret.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "bulwarkd.h"
#include "bw_bytes.h"
#include "cloud_proto.h"

#define KEY_BYTES 32u
#define NONCE_BYTES 12u
#define TAG_BYTES 16u
#define SEALED_FORMAT 1u
#define SEALED_OVERHEAD (1u + NONCE_BYTES + TAG_BYTES)

/* §17.2/§17.3 */
#define REQUEST_HEAD 8u
#define RESPONSE_HEAD 8u
#define ITEM_ENTRY 4u
#define ITEMS_MAX 16u
#define SCOPE_ACCOUNT 0u
#define SCOPE_DEVICE 1u
#define STORE_SECRET 0u
#define STORE_CONFIG 1u
#define RESULT_TOO_LARGE 1u
#define ITEM_OK 0u
#define ITEM_NOT_FOUND 1u
#define ITEM_SERVER_ERROR 2u

static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t sealing_key[KEY_BYTES];
static bool key_loaded;

static bool fail(bwd_appconfig_error *e, unsigned status, const char *code, const char *message)
{
    e->status = status;
    e->code = code;
    snprintf(e->message, sizeof e->message, "%s", message);
    return false;
}

/* 1..100 of A-Z a-z 0-9 . _ - (a subset of the printable ASCII apps may ask for). */
static bool valid_key(const char *key)
{
    size_t n = strlen(key);
    return n >= 1 && n <= BWD_APPCONFIG_KEY_MAX
           && strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* Text: no NUL and no control character but tab, LF and CR; at most 4096 bytes. */
static bool valid_value(const char *value, size_t len)
{
    if (len > BWD_APPCONFIG_VALUE_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
            return false;
        }
    }
    return true;
}

static bool check_entry(bwd *d, const char *kind, const char *device, const char *key, bwd_appconfig_error *e)
{
    if (strcmp(kind, "config") != 0 && strcmp(kind, "secret") != 0) {
        return fail(e, 404, "not_found", "no such store");
    }
    if (!valid_key(key)) {
        return fail(e, 400, "bad_key", "a key is 1..100 characters of A-Z a-z 0-9 . _ -");
    }
    if (device != NULL && !bwd_valid_device_id(device)) {
        return fail(e, 400, "bad_device_id", "a device ID is \"BW\" and 32 uppercase hex digits");
    }
    if (device != NULL && !store_device_exists(d->store, device)) {
        return fail(e, 404, "not_found", "the device is not registered");
    }
    return true;
}

/* Loads the sealing key, creating it on first use (key_lock held). */
static bool load_key(bwd *d)
{
    if (key_loaded) {
        return true;
    }
    char path[BWD_PATH_MAX + 32];
    const char *slash = strrchr(d->config.db_path, '/');
    int dir_len = slash != NULL ? (int)(slash - d->config.db_path) : 1;
    snprintf(path, sizeof path, "%.*s/appconfig.key", dir_len, slash != NULL ? d->config.db_path : ".");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        uint8_t fresh[KEY_BYTES];
        char tmp[sizeof path + 8];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        int w = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        bool ok = w >= 0 && RAND_bytes(fresh, sizeof fresh) == 1 && write(w, fresh, sizeof fresh) == KEY_BYTES
                  && fsync(w) == 0;
        ok = w >= 0 && close(w) == 0 && ok;
        OPENSSL_cleanse(fresh, sizeof fresh);
        /* link() fails if another bulwarkd made one meanwhile: then use that. */
        if (ok && link(tmp, path) != 0 && errno != EEXIST) {
            ok = false;
        }
        unlink(tmp);
        if (!ok) {
            fprintf(stderr, "bulwarkd: cannot create %s: %s\n", path, strerror(errno));
            return false;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    struct stat st;
    bool ok = fd >= 0 && fstat(fd, &st) == 0 && st.st_size == KEY_BYTES && (st.st_mode & 077) == 0
              && read(fd, sealing_key, KEY_BYTES) == KEY_BYTES;
    if (fd >= 0) {
        close(fd);
    }
    if (!ok) {
        fprintf(stderr, "bulwarkd: %s: not a 32-byte key file readable by its owner only\n", path);
    }
    key_loaded = ok;
    return ok;
}

static int aad_of(const char *device, const char *key, uint8_t *out, size_t cap)
{
    return snprintf((char *)out, cap, "secret%c%s%c%s", 0, device != NULL ? device : "", 0, key);
}

/* Seals len bytes into out (len + SEALED_OVERHEAD bytes). */
static bool seal(bwd *d, const char *device, const char *key, const uint8_t *plain, size_t len, uint8_t *out)
{
    uint8_t aad[8 + BWD_DEVICE_ID_LEN + 1 + BWD_APPCONFIG_KEY_MAX + 1];
    int aad_len = aad_of(device, key, aad, sizeof aad);
    pthread_mutex_lock(&key_lock);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0;
    out[0] = SEALED_FORMAT;
    bool ok = load_key(d) && c != NULL && RAND_bytes(out + 1, NONCE_BYTES) == 1
              && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, sealing_key, out + 1) == 1
              && EVP_EncryptUpdate(c, NULL, &n, aad, aad_len) == 1
              && EVP_EncryptUpdate(c, out + 1 + NONCE_BYTES, &n, plain, (int)len) == 1
              && EVP_EncryptFinal_ex(c, out + 1 + NONCE_BYTES + n, &fin) == 1
              && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, out + 1 + NONCE_BYTES + len) == 1;
    EVP_CIPHER_CTX_free(c);
    pthread_mutex_unlock(&key_lock);
    return ok;
}

/* Opens a sealed value into out (at least sealed_len - SEALED_OVERHEAD bytes); *len. */
static bool unseal(bwd *d, const char *device, const char *key, const uint8_t *sealed, size_t sealed_len,
                   uint8_t *out, size_t *len)
{
    if (sealed_len < SEALED_OVERHEAD || sealed[0] != SEALED_FORMAT) {
        return false;
    }
    size_t n_plain = sealed_len - SEALED_OVERHEAD;
    uint8_t aad[8 + BWD_DEVICE_ID_LEN + 1 + BWD_APPCONFIG_KEY_MAX + 1];
    int aad_len = aad_of(device, key, aad, sizeof aad);
    uint8_t tag[TAG_BYTES];
    memcpy(tag, sealed + 1 + NONCE_BYTES + n_plain, TAG_BYTES);
    pthread_mutex_lock(&key_lock);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0;
    bool ok = load_key(d) && c != NULL
              && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, sealing_key, sealed + 1) == 1
              && EVP_DecryptUpdate(c, NULL, &n, aad, aad_len) == 1
              && EVP_DecryptUpdate(c, out, &n, sealed + 1 + NONCE_BYTES, (int)n_plain) == 1
              && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tag) == 1
              && EVP_DecryptFinal_ex(c, out + n, &fin) == 1;
    EVP_CIPHER_CTX_free(c);
    pthread_mutex_unlock(&key_lock);
    *len = n_plain;
    if (!ok) {
        OPENSSL_cleanse(out, n_plain);
    }
    return ok;
}

bool bwd_appconfig_set(bwd *d, const char *kind, const char *device, const char *key, const char *value,
                       size_t len, bwd_appconfig_error *e)
{
    if (!check_entry(d, kind, device, key, e)) {
        return false;
    }
    if (!valid_value(value, len)) {
        return fail(e, 400, "bad_value",
                    "a value is at most 4096 bytes of text (no control characters but tab, LF, CR)");
    }
    uint8_t sealed[BWD_APPCONFIG_VALUE_MAX + SEALED_OVERHEAD];
    bool secret = strcmp(kind, "secret") == 0;
    if (secret && !seal(d, device, key, (const uint8_t *)value, len, sealed)) {
        return fail(e, 500, "internal", "the secret could not be sealed");
    }
    store_result r = store_appconfig_put(d->store, kind, device != NULL ? device : "", key,
                                         secret ? sealed : (const uint8_t *)value,
                                         secret ? len + SEALED_OVERHEAD : len, bwd_now_ms());
    OPENSSL_cleanse(sealed, sizeof sealed);
    return r == STORE_OK ? true : fail(e, 500, "internal", "the value could not be stored");
}

bool bwd_appconfig_delete(bwd *d, const char *kind, const char *device, const char *key, bwd_appconfig_error *e)
{
    if (!check_entry(d, kind, device, key, e)) {
        return false;
    }
    store_result r = store_appconfig_delete(d->store, kind, device != NULL ? device : "", key);
    if (r == STORE_NOT_FOUND) {
        return fail(e, 404, "not_found", "no such key in this scope");
    }
    return r == STORE_OK ? true : fail(e, 500, "internal", "the value could not be deleted");
}

json_t *bwd_appconfig_get(bwd *d, const char *device, const char *key, bwd_appconfig_error *e)
{
    if (!check_entry(d, "config", device, key, e)) {
        return NULL;
    }
    uint8_t *value = NULL;
    size_t len = 0;
    store_result r = device != NULL ? store_appconfig_get(d->store, "config", device, key, &value, &len)
                                    : STORE_NOT_FOUND;
    bool from_device = r == STORE_OK;
    if (r == STORE_NOT_FOUND) {
        r = store_appconfig_get(d->store, "config", "", key, &value, &len);
    }
    if (r != STORE_OK) {
        fail(e, r == STORE_NOT_FOUND ? 404 : 500, r == STORE_NOT_FOUND ? "not_found" : "internal",
             r == STORE_NOT_FOUND ? "no such key" : "the value could not be read");
        return NULL;
    }
    json_t *out = json_pack("{s:s, s:s%, s:s}", "key", key, "value", (const char *)value, len, "scope",
                            from_device ? "device" : "account");
    if (from_device) {
        json_object_set_new(out, "device", json_string(device));
    }
    free(value);
    return out;
}

/* ---- the fetch relay (§17) ---- */

/* One item's value into out (at most BWD_APPCONFIG_VALUE_MAX bytes); its §17.3 result. */
static uint8_t fetch_item(bwd *d, const char *device, uint8_t scope, uint8_t which, const char *key, uint8_t *out,
                          size_t *len)
{
    const char *kind = which == STORE_SECRET ? "secret" : "config";
    uint8_t *value = NULL;
    size_t n = 0;
    bool from_device = scope == SCOPE_DEVICE;
    store_result r = STORE_NOT_FOUND;
    if (valid_key(key)) {
        r = from_device ? store_appconfig_get(d->store, kind, device, key, &value, &n) : STORE_NOT_FOUND;
        if (r == STORE_NOT_FOUND) {   /* a device's value overrides the account's */
            from_device = false;
            r = store_appconfig_get(d->store, kind, "", key, &value, &n);
        }
    }
    uint8_t result = r == STORE_OK ? ITEM_OK : r == STORE_NOT_FOUND ? ITEM_NOT_FOUND : ITEM_SERVER_ERROR;
    *len = 0;
    if (result == ITEM_OK && which == STORE_SECRET) {
        bool opened = n <= BWD_APPCONFIG_VALUE_MAX + SEALED_OVERHEAD
                      && unseal(d, from_device ? device : NULL, key, value, n, out, len);
        result = opened ? ITEM_OK : ITEM_SERVER_ERROR;
        *len = opened ? *len : 0;
    } else if (result == ITEM_OK) {
        result = n <= BWD_APPCONFIG_VALUE_MAX ? ITEM_OK : ITEM_SERVER_ERROR;
        *len = result == ITEM_OK ? n : 0;
        memcpy(out, value, *len);
    }
    free(value);
    return result;
}

void bwd_handle_config(bwd *d, const char *device, const uint8_t *payload, size_t len)
{
    cp_http_piece p;
    cp_result r = cp_decode_piece(payload, len, CP_TYPE_CONFIG_REQUEST, &p);
    /* A request is one piece (§17.2); its head and table must add up. */
    const uint8_t *q = p.data;
    unsigned count = r == CP_OK && p.length >= REQUEST_HEAD ? q[0] : 0;
    size_t keys_at = REQUEST_HEAD + ITEM_ENTRY * (size_t)count;
    size_t want = keys_at;
    bool ok = r == CP_OK && p.offset == 0 && p.length == p.total && count >= 1 && count <= ITEMS_MAX
              && q[1] == 0 && bw_get16(q + 2) == 0 && p.length >= keys_at;
    for (unsigned i = 0; ok && i < count; i++) {
        const uint8_t *entry = q + REQUEST_HEAD + ITEM_ENTRY * i;
        unsigned key_len = bw_get16(entry + 2);
        ok = entry[0] <= SCOPE_DEVICE && entry[1] <= STORE_CONFIG && key_len >= 1
             && key_len <= BWD_APPCONFIG_KEY_MAX;
        want += key_len;
    }
    if (!ok || want != p.length) {
        d->counters.config_bad_request++;
        fprintf(stderr, "bulwarkd: %s: CONFIG_REQUEST ignored: %s\n", device,
                r != CP_OK ? cp_result_text(r) : "malformed request stream");
        return;   /* the device's deadline ends it (§17.4) */
    }
    uint32_t capacity = bw_get32(q + 4);
    size_t cap = RESPONSE_HEAD + ITEM_ENTRY * (size_t)count + (size_t)count * BWD_APPCONFIG_VALUE_MAX;
    uint8_t *stream = malloc(cap);
    if (stream == NULL) {
        return;
    }
    memset(stream, 0, RESPONSE_HEAD + ITEM_ENTRY * (size_t)count);
    size_t at = RESPONSE_HEAD + ITEM_ENTRY * (size_t)count;
    const uint8_t *key = q + keys_at;
    for (unsigned i = 0; i < count; i++) {
        const uint8_t *entry = q + REQUEST_HEAD + ITEM_ENTRY * i;
        char name[BWD_APPCONFIG_KEY_MAX + 1];
        unsigned key_len = bw_get16(entry + 2);
        memcpy(name, key, key_len);
        name[key_len] = '\0';
        key += key_len;
        size_t n = 0;
        uint8_t *item = stream + RESPONSE_HEAD + ITEM_ENTRY * i;
        item[0] = strlen(name) == key_len ? fetch_item(d, device, entry[0], entry[1], name, stream + at, &n)
                                          : ITEM_NOT_FOUND;
        bw_put16(item + 2, (uint16_t)n);
        at += n;
    }
    uint32_t value_bytes = (uint32_t)(at - RESPONSE_HEAD - ITEM_ENTRY * count);
    stream[1] = (uint8_t)count;
    bw_put32(stream + 4, value_bytes);
    if (value_bytes > capacity) {
        OPENSSL_cleanse(stream, at);
        memset(stream, 0, RESPONSE_HEAD);
        stream[0] = RESULT_TOO_LARGE;
        at = RESPONSE_HEAD;
    }
    d->counters.config_fetches++;
    d->counters.config_items += count;
    unsigned pieces;
    (void)bwd_publish_stream(d, device, "config", CP_TYPE_CONFIG_RESPONSE, p.request_id, stream, (uint32_t)at,
                             &pieces);
    OPENSSL_cleanse(stream, at);
    free(stream);
}
