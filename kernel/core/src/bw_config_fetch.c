/*
 * Config fetch over a channel (see bw_config_fetch.h; streams in
 * docs/SPEC.md §17). The exchange's state is the channel entry's (shared
 * with HTTP, bw_channel_table.h) and changes under port_irq_lock. Keys are
 * read from app memory through a kernel buffer of BW_CONFIG_KEY_MAX bytes,
 * checked on the copy, and written to the send buffer from that copy.
 */
#include "bw_app_mem.h"
#include "bw_bytes.h"
#include "bw_channel_table.h"
#include "bw_config_fetch.h"
#include "bw_notify.h"
#include "bw_port.h"

static bw_channel_entry *lock_config(uint32_t handle, uint32_t *state, bw_err *err)
{
    return bw_channel_lock(handle, MV_CHANNELTYPE_CONFIGFETCH, state, err);
}

/* Copies key i into buf (BW_CONFIG_KEY_MAX bytes) and checks it. */
static bw_err copy_key(const struct MvConfigKeyToFetch *k, uint8_t *buf)
{
    if (k->key.length == 0 || k->key.length > BW_CONFIG_KEY_MAX) {
        return BW_E_KEY;
    }
    bw_err err = bw_app_copy_in(buf, (uintptr_t)k->key.data, k->key.length);
    for (uint32_t i = 0; i < k->key.length && err == BW_OK; i++) {
        err = buf[i] > 0x20 && buf[i] < 0x7f ? BW_OK : BW_E_KEY;
    }
    return err;
}

/* Writes the request stream (§17.2) to the send buffer at tx. */
static bw_err serialize(uintptr_t tx, const struct MvConfigKeyToFetch *keys, uint32_t count, uint32_t capacity)
{
    uint8_t head[BW_CONFIG_REQUEST_HEAD + BW_CONFIG_ITEM_ENTRY * BW_CONFIG_KEYS_MAX] = { 0 };
    head[0] = (uint8_t)count;
    bw_put32(head + 4, capacity);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *entry = head + BW_CONFIG_REQUEST_HEAD + BW_CONFIG_ITEM_ENTRY * i;
        entry[0] = (uint8_t)keys[i].scope;
        entry[1] = (uint8_t)keys[i].store;
        bw_put16(entry + 2, keys[i].key.length);
    }
    uint32_t at = BW_CONFIG_REQUEST_HEAD + BW_CONFIG_ITEM_ENTRY * count;
    bw_err err = bw_app_copy_out(tx, head, at);
    uint8_t key[BW_CONFIG_KEY_MAX];
    for (uint32_t i = 0; i < count && err == BW_OK; i++) {
        err = copy_key(&keys[i], key);   /* again: the app may have changed it */
        if (err == BW_OK) {
            err = bw_app_copy_out(tx + at, key, keys[i].key.length);
        }
        at += keys[i].key.length;
    }
    return err;
}

bw_err bw_config_fetch_send(uint32_t handle, const struct MvConfigKeyToFetch *keys, uint32_t count,
                            uint64_t now_us)
{
    uint32_t state;
    bw_err err;
    bw_channel_entry *e = lock_config(handle, &state, &err);
    if (e == NULL) {
        return err;
    }
    err = !e->connected ? BW_E_CLOSED : e->http.state != HTTP_IDLE ? BW_E_ALREADY : BW_OK;
    uintptr_t tx = e->tx;
    uint32_t tx_len = e->tx_len;
    uint32_t rx_len = e->rx_len;
    port_irq_unlock(state);
    uint32_t total = BW_CONFIG_REQUEST_HEAD + BW_CONFIG_ITEM_ENTRY * count;
    uint8_t key[BW_CONFIG_KEY_MAX];
    for (uint32_t i = 0; i < count && err == BW_OK; i++) {
        err = copy_key(&keys[i], key);
        total += keys[i].key.length;
    }
    if (err == BW_OK && total > tx_len) {
        err = BW_E_SIZE;
    }
    if (err != BW_OK) {
        return err;
    }
    state = port_irq_lock();
    if (e->handle != handle || e->http.state != HTTP_IDLE) {
        err = e->handle != handle ? BW_E_HANDLE : BW_E_ALREADY;   /* a preempting call */
    } else {
        e->http.state = HTTP_BUILDING;
    }
    port_irq_unlock(state);
    if (err != BW_OK) {
        return err;
    }
    err = serialize(tx, keys, count, rx_len);
    uint32_t request_id = bw_exchange_request_id();
    state = port_irq_lock();
    bool live = e->handle == handle && e->http.state == HTTP_BUILDING;
    if (live && err != BW_OK) {
        e->http.state = HTTP_IDLE;
    } else if (live) {
        e->http = (bw_http_exchange){ .state = HTTP_SENDING, .request_id = request_id, .request_len = total,
                                      .deadline_us = now_us + 1000u * (uint64_t)BW_CONFIG_FETCH_DEADLINE_MS,
                                      .config = { .num_items = count } };
    }
    port_irq_unlock(state);
    return live ? err : BW_E_HANDLE;
}

/* ---- the shared exchange's CONFIGFETCH parts (lock held) ---- */

bool bw_config_fetch_take_head(bw_channel_entry *e, uint32_t total, const uint8_t *data, size_t len)
{
    if (len < BW_CONFIG_RESPONSE_HEAD) {
        return false;
    }
    uint32_t result = data[0];
    uint32_t count = data[1];
    uint32_t values = bw_get32(data + 4);
    uint32_t prefix = BW_CONFIG_RESPONSE_HEAD + BW_CONFIG_ITEM_ENTRY * count;
    bool head_ok = result <= MV_CONFIGFETCHRESULT_RESPONSETOOLARGE && bw_get16(data + 2) == 0 && len >= prefix
                   && (uint64_t)prefix + values == total
                   && (result == MV_CONFIGFETCHRESULT_OK ? count == e->http.config.num_items
                                                          : count == 0 && values == 0);
    uint32_t sum = 0;
    for (uint32_t i = 0; i < count && head_ok; i++) {
        const uint8_t *entry = data + BW_CONFIG_RESPONSE_HEAD + BW_CONFIG_ITEM_ENTRY * i;
        uint32_t item = entry[0];
        uint32_t value_len = bw_get16(entry + 2);
        head_ok = item <= MV_CONFIGKEYFETCHRESULT_SERVERERROR && entry[1] == 0 && value_len <= BW_CONFIG_VALUE_MAX
                  && (item == MV_CONFIGKEYFETCHRESULT_OK || value_len == 0);
        e->http.item_result[i] = (uint8_t)item;
        e->http.header_len[i] = (uint16_t)value_len;
        sum += value_len;
    }
    if (!head_ok || sum != values) {
        return false;
    }
    e->http.total = total;
    e->http.prefix = prefix;
    e->http.config = (struct MvConfigResponseData){ .result = (enum MvConfigFetchResult)result, .num_items = count };
    return true;
}

void bw_config_fetch_end(bw_channel_entry *e, enum MvHttpResult how)
{
    if (how == MV_HTTPRESULT_RESPONSETOOLARGE) {
        e->http.config = (struct MvConfigResponseData){ .result = MV_CONFIGFETCHRESULT_RESPONSETOOLARGE };
    } else if (how != MV_HTTPRESULT_OK) {
        e->http.config.result = MV_CONFIGFETCHRESULT_OK;   /* num_items: the request's */
        for (uint32_t i = 0; i < BW_CONFIG_KEYS_MAX; i++) {
            e->http.item_result[i] = MV_CONFIGKEYFETCHRESULT_SERVERERROR;
            e->http.header_len[i] = 0;
        }
    }
}

/* ---- reading the response ---- */

bw_err bw_config_fetch_response(uint32_t handle, struct MvConfigResponseData *out)
{
    bw_http_exchange x;
    uintptr_t rx;
    bw_err err = bw_exchange_response(handle, MV_CHANNELTYPE_CONFIGFETCH, &x, &rx);
    if (err == BW_OK) {
        *out = x.config;
    }
    return err;
}

bw_err bw_config_fetch_item(uint32_t handle, uint32_t index, uintptr_t app_result, uintptr_t app_buf,
                            uint32_t size, uintptr_t app_length)
{
    bw_http_exchange x;
    uintptr_t rx;
    bw_err err = bw_exchange_response(handle, MV_CHANNELTYPE_CONFIGFETCH, &x, &rx);
    if (err != BW_OK) {
        return err;
    }
    if (index >= x.config.num_items || x.config.result != MV_CONFIGFETCHRESULT_OK) {
        return BW_E_INDEX;
    }
    uint32_t at = 0;
    for (uint32_t i = 0; i < index; i++) {
        at += x.header_len[i];
    }
    enum MvConfigKeyFetchResult result = (enum MvConfigKeyFetchResult)x.item_result[index];
    uint32_t len = x.header_len[index];
    err = bw_app_check_range(app_result, sizeof result, BW_ACCESS_READWRITE);
    if (err == BW_OK) {
        err = bw_app_check_range(app_length, sizeof len, BW_ACCESS_READWRITE);
    }
    if (err == BW_OK && len > size) {
        err = BW_E_SIZE;
    }
    if (err == BW_OK && len > 0) {
        err = bw_app_check_range(app_buf, len, BW_ACCESS_READWRITE);
    }
    if (err == BW_OK) {
        err = bw_app_copy_within(app_buf, rx + at, len);
    }
    if (err == BW_OK) {
        err = bw_app_copy_out(app_length, &len, sizeof len);
    }
    if (err == BW_OK) {
        err = bw_app_copy_out(app_result, &result, sizeof result);
    }
    return err;
}
