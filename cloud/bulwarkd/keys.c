/*
 * Key sets from the cloud in bulwarkd (docs/SPEC.md §12.4, §13.5;
 * docs/API.md "Key sets"): a pushed key set is checked as the device will
 * check it (the kernel's own parser, kernel/core/src/bw_keyset.c, and its
 * signature under the fleet CA of ca.crt, read at every push), stored, and
 * sent as KEY_SET to the devices that want it and are online; every STATUS
 * online of a device holding an older set than it wants sends it again, so
 * a device offline at the push gets it when it next connects. A device's
 * KEYS_ANSWER records the sequence it holds and why it refused a set.
 * Nothing here is trusted by the device: it checks the set itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/x509_crt.h"

#include "bulwarkd.h"
#include "bw_keyset.h"
#include "lib_keys.h"

/* The fleet CA's public key (0x04 || X || Y) from ca.crt. 0, or -1 with a reason. */
static int fleet_ca_key(const bwd *d, uint8_t key[BW_PUBLIC_KEY_SIZE], char *reason, size_t size)
{
    char path[BWD_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/ca.crt", d->config.fleet_dir);
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    bool ok = mbedtls_x509_crt_parse_file(&crt, path) == 0 && crt.next == NULL && keys_raw_public(&crt.pk, key);
    mbedtls_x509_crt_free(&crt);
    if (!ok) {
        snprintf(reason, size, "%s is not one P-256 certificate", path);
        return -1;
    }
    return 0;
}

/* The set's key IDs as a JSON array text (caller frees). */
static char *key_ids_json(const bw_keyset *set)
{
    json_t *ids = json_array();
    for (uint32_t i = 0; i < set->key_count; i++) {
        uint8_t id[BW_KEY_ID_SIZE];
        char hex[2 * BW_KEY_ID_SIZE + 1] = "?";
        if (bw_manifest_key_id(set->keys[i], id) == BW_OK) {
            keys_id_hex(id, hex);
        }
        json_array_append_new(ids, json_string(hex));
    }
    char *text = json_dumps(ids, JSON_COMPACT);
    json_decref(ids);
    return text;
}

void bwd_send_key_set(bwd *d, const char *device)
{
    uint8_t record[CP_KEY_SET_MAX];
    size_t len = sizeof record;
    uint32_t sequence = 0;
    if (!store_key_set_due(d->store, device, record, &len, &sequence) || len < CP_KEY_SET_MIN) {
        return;
    }
    uint8_t msg[CP_KEY_SET_HEADER + CP_KEY_SET_MAX];
    char topic[64];
    snprintf(topic, sizeof topic, "bw/%s/down/keys", device);
    if (broker_publish(d->broker, topic, msg, cp_encode_key_set(record, len, msg), 1) == 0) {
        d->counters.key_sets_sent++;
    }
}

/* store_device_each holds the store: the IDs are collected, then served. */
static void collect_device(void *ctx, const char *device)
{
    json_array_append_new(ctx, json_string(device));
}

unsigned bwd_push_key_set(bwd *d, const uint8_t *record, size_t len, const char *device, json_t **answer,
                          const char **code, char *reason, size_t reason_size)
{
    bw_keyset set;
    uint8_t ca[BW_PUBLIC_KEY_SIZE];
    *answer = NULL;
    *code = "bad_key_set";
    if (bw_keyset_parse(record, len, &set, reason, reason_size) != BW_OK) {
        return 400;
    }
    if (fleet_ca_key(d, ca, reason, reason_size) != 0) {
        *code = "no_fleet_ca";
        return 500;
    }
    if (bw_keyset_verify(&set, ca, reason, reason_size) != BW_OK) {
        *code = "bad_signature";
        return 400;
    }
    char *ids = key_ids_json(&set);
    store_result r = ids != NULL ? store_key_set_add(d->store, set.sequence, record, len, ids, device, bwd_now_ms(),
                                                     reason, reason_size)
                                 : STORE_ERROR;
    free(ids);
    if (r == STORE_CONFLICT) {
        *code = "conflict";
        return 409;
    }
    if (r != STORE_OK && r != STORE_EXISTS) {
        *code = "internal";
        snprintf(reason, reason_size, "the key set could not be stored");
        return 500;
    }
    if (device != NULL) {
        bwd_send_key_set(d, device);   /* offline: at its next STATUS online */
    } else {
        json_t *online = json_array();
        store_device_each(d->store, true, collect_device, online);
        size_t i;
        json_t *id;
        json_array_foreach(online, i, id) {
            bwd_send_key_set(d, json_string_value(id));
        }
        json_decref(online);
    }
    json_t *list = store_key_sets_json(d->store, set.sequence);
    *answer = json_incref(json_array_get(list, 0));
    json_decref(list);
    return r == STORE_OK ? 201 : 200;
}

void bwd_handle_keys_answer(bwd *d, const char *device, const uint8_t *payload, size_t len)
{
    cp_keys_answer a;
    cp_result r = cp_decode_keys_answer(payload, len, &a);
    if (r != CP_OK) {
        d->counters.invalid++;
        fprintf(stderr, "bulwarkd: %s: KEYS_ANSWER ignored: %s\n", device, cp_result_text(r));
        return;
    }
    d->counters.key_set_answers++;
    if (a.refused && a.held < a.offered) {
        fprintf(stderr, "bulwarkd: %s: key set %u refused: %.*s\n", device, (unsigned)a.offered,
                (int)a.text_length, (const char *)a.text);
    }
    store_apply_keys_answer(d->store, device, &a);
}
