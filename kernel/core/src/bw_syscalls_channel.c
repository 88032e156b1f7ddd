/*
 * System calls of channels, HTTP and config fetch (bw_syscalls.h;
 * bw_channel.h, bw_http.h, bw_config_fetch.h).
 * Check order as in bw_syscalls.c: by-value arguments, then app pointers for
 * the access the call makes, then the copied struct's fields, then kernel
 * state. Structs are copied in once; only the copies are used.
 */
#include "bw_app_mem.h"
#include "bw_channel.h"
#include "bw_config.h"
#include "bw_config_fetch.h"
#include "bw_http.h"
#include "bw_syscalls.h"

BW_SAME_PROTOTYPE(mvOpenChannel, bw_sys_open_channel);
BW_SAME_PROTOTYPE(mvCloseChannel, bw_sys_close_channel);
BW_SAME_PROTOTYPE(mvGetChannelClosureReason, bw_sys_get_channel_closure_reason);
BW_SAME_PROTOTYPE(mvReadChannel, bw_sys_read_channel);
BW_SAME_PROTOTYPE(mvReadChannelComplete, bw_sys_read_channel_complete);
BW_SAME_PROTOTYPE(mvWriteChannelStream, bw_sys_write_channel_stream);
BW_SAME_PROTOTYPE(mvWriteChannel, bw_sys_write_channel);
BW_SAME_PROTOTYPE(mvSendHttpRequest, bw_sys_send_http_request);
BW_SAME_PROTOTYPE(mvReadHttpResponseData, bw_sys_read_http_response_data);
BW_SAME_PROTOTYPE(mvReadHttpResponseHeader, bw_sys_read_http_response_header);
BW_SAME_PROTOTYPE(mvReadHttpResponseBody, bw_sys_read_http_response_body);
BW_SAME_PROTOTYPE(mvSendConfigFetchRequest, bw_sys_send_config_fetch_request);
BW_SAME_PROTOTYPE(mvReadConfigFetchResponseData, bw_sys_read_config_fetch_response_data);
BW_SAME_PROTOTYPE(mvReadConfigResponseItem, bw_sys_read_config_response_item);

static bw_err writable(const volatile void *app_out, size_t len)
{
    return bw_app_check_range((uintptr_t)app_out, len, BW_ACCESS_READWRITE);
}

enum MvStatus bw_sys_open_channel(const struct MvOpenChannelParams *params, MvChannelHandle *handle_out)
{
    struct MvOpenChannelParams p;
    bw_err err = bw_app_copy_in(&p, (uintptr_t)params, sizeof p);
    if (err == BW_OK) {
        err = writable(handle_out, sizeof *handle_out);
    }
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    if (p.version != 1u) {
        return MV_STATUS_UNSUPPORTEDSTRUCTUREVERSION;
    }
    uint8_t endpoint[BW_CHANNEL_ENDPOINT_MAX];
    bw_channel_open_params open = {
        .tag = p.v1.notification_tag, .rx = (uintptr_t)p.v1.receive_buffer,
        .rx_len = p.v1.receive_buffer_len, .tx = (uintptr_t)p.v1.send_buffer,
        .tx_len = p.v1.send_buffer_len, .type = (uint32_t)p.v1.channel_type,
        .endpoint = endpoint, .endpoint_len = p.v1.endpoint.length,
    };
    /* HTTP ignores the endpoint; a name too long to be served is not read. */
    if (open.type != MV_CHANNELTYPE_HTTP && p.v1.endpoint.length <= sizeof endpoint
        && p.v1.endpoint.length > 0) {
        err = bw_app_copy_in(endpoint, (uintptr_t)p.v1.endpoint.data, p.v1.endpoint.length);
    }
    if (err == BW_OK) {
        err = bw_sys_handle_value(p.v1.notification_handle, &open.notification_handle);
    }
    if (err == BW_OK) {
        err = bw_sys_handle_value(p.v1.network_handle, &open.network_handle);
    }
    uint32_t handle = 0;
    if (err == BW_OK) {
        err = bw_channel_open(&open, port_time_us(), &handle);
    }
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    enum MvStatus status = bw_sys_give_handle((uintptr_t)handle_out, handle);
    if (status != MV_STATUS_OKAY) {
        (void)bw_channel_close(handle);
    }
    return status;
}

enum MvStatus bw_sys_close_channel(MvChannelHandle *handle)
{
    return bw_sys_close_app_handle((uintptr_t)handle, bw_channel_close);
}

enum MvStatus bw_sys_get_channel_closure_reason(MvChannelHandle handle, enum MvClosureReason *reason_out)
{
    bw_err err = writable(reason_out, sizeof *reason_out);
    uint32_t value = 0;
    enum MvClosureReason reason = MV_CLOSUREREASON_NONE;
    if (err == BW_OK) {
        err = bw_sys_handle_value(handle, &value);
    }
    if (err == BW_OK) {
        err = bw_channel_closure_reason(value, &reason);
    }
    if (err == BW_OK) {
        err = bw_app_copy_out((uintptr_t)reason_out, &reason, sizeof reason);
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_read_channel(MvChannelHandle handle, uint8_t **data_out, uint32_t *length_out)
{
    bw_err err = writable(data_out, sizeof *data_out);
    if (err == BW_OK) {
        err = writable(length_out, sizeof *length_out);
    }
    uint32_t value = 0;
    if (err == BW_OK) {
        err = bw_sys_handle_value(handle, &value);
    }
    uintptr_t data = 0;
    uint32_t len = 0;
    if (err == BW_OK) {
        err = bw_channel_read(value, &data, &len);
    }
    if (err == BW_OK) {
        uint8_t *pointer = (uint8_t *)data;
        err = bw_app_copy_out((uintptr_t)data_out, &pointer, sizeof pointer);
    }
    if (err == BW_OK) {
        err = bw_app_copy_out((uintptr_t)length_out, &len, sizeof len);
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_read_channel_complete(MvChannelHandle handle, uint32_t consumed)
{
    uint32_t value = 0;
    bw_err err = bw_sys_handle_value(handle, &value);
    if (err == BW_OK) {
        err = bw_channel_read_complete(value, consumed);
    }
    return bw_status_from_err(err);
}

/* Both write calls: whole says all-or-nothing; *out_value is written or available. */
static enum MvStatus write_channel(MvChannelHandle handle, const uint8_t *data, uint32_t len, bool whole,
                                   uint32_t *app_out)
{
    bw_err err = writable(app_out, sizeof *app_out);
    uint32_t value = 0;
    if (err == BW_OK) {
        err = bw_sys_handle_value(handle, &value);
    }
    uint32_t written = 0;
    uint32_t space = 0;
    if (err == BW_OK) {
        err = bw_channel_write(value, (uintptr_t)data, len, whole, &written, &space);
    }
    if (err == BW_OK) {
        uint32_t out = whole ? space : written;
        err = bw_app_copy_out((uintptr_t)app_out, &out, sizeof out);
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_write_channel_stream(MvChannelHandle handle, const uint8_t *data, uint32_t len,
                                          uint32_t *written_out)
{
    return write_channel(handle, data, len, false, written_out);
}

enum MvStatus bw_sys_write_channel(MvChannelHandle handle, const uint8_t *data, uint32_t len,
                                   uint32_t *available_out)
{
    return write_channel(handle, data, len, true, available_out);
}

enum MvStatus bw_sys_send_http_request(MvChannelHandle handle, const struct MvHttpRequest *request)
{
    struct MvHttpRequest r;
    bw_err err = bw_app_copy_in(&r, (uintptr_t)request, sizeof r);
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    if (r.num_headers > BW_HTTP_HEADERS_MAX) {
        return MV_STATUS_TOOMANYELEMENTS;
    }
    struct MvHttpHeader headers[BW_HTTP_HEADERS_MAX];
    if (r.num_headers > 0) {
        err = bw_app_copy_in(headers, (uintptr_t)r.headers, r.num_headers * sizeof headers[0]);
    }
    uint32_t value = 0;
    if (err == BW_OK) {
        err = bw_sys_handle_value(handle, &value);
    }
    if (err == BW_OK) {
        err = bw_http_send(value, &r, headers, port_time_us());
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_read_http_response_data(MvChannelHandle handle, struct MvHttpResponseData *response_out)
{
    bw_err err = writable(response_out, sizeof *response_out);
    uint32_t value = 0;
    struct MvHttpResponseData data;
    if (err == BW_OK) {
        err = bw_sys_handle_value(handle, &value);
    }
    if (err == BW_OK) {
        err = bw_http_response_data(value, &data);
    }
    if (err == BW_OK) {
        err = bw_app_copy_out((uintptr_t)response_out, &data, sizeof data);
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_read_http_response_header(MvChannelHandle handle, uint32_t index, uint8_t *buf,
                                               uint32_t size)
{
    uint32_t value = 0;
    bw_err err = bw_sys_handle_value(handle, &value);
    if (err == BW_OK) {
        err = bw_http_response_header(value, index, (uintptr_t)buf, size);
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_read_http_response_body(MvChannelHandle handle, uint32_t offset, uint8_t *buf,
                                             uint32_t size)
{
    uint32_t value = 0;
    bw_err err = bw_sys_handle_value(handle, &value);
    if (err == BW_OK) {
        err = bw_http_response_body(value, offset, (uintptr_t)buf, size);
    }
    return bw_status_from_err(err);
}

/* ---- config fetch ---- */

enum MvStatus bw_sys_send_config_fetch_request(MvChannelHandle handle, const struct MvConfigKeyFetchParams *request)
{
    struct MvConfigKeyFetchParams r;
    bw_err err = bw_app_copy_in(&r, (uintptr_t)request, sizeof r);
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    if (r.num_items == 0) {
        return MV_STATUS_PARAMETERFAULT;
    }
    if (r.num_items > BW_CONFIG_KEYS_MAX) {
        return MV_STATUS_TOOMANYCONFIGKEYS;
    }
    struct MvConfigKeyToFetch keys[BW_CONFIG_KEYS_MAX];
    err = bw_app_copy_in(keys, (uintptr_t)r.keys_to_fetch, r.num_items * sizeof keys[0]);
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    for (uint32_t i = 0; i < r.num_items; i++) {
        if ((uint32_t)keys[i].scope > MV_CONFIGKEYFETCHSCOPE_DEVICE) {
            return MV_STATUS_UNKNOWNCONFIGSCOPE;
        }
        if ((uint32_t)keys[i].store > MV_CONFIGKEYFETCHSTORE_CONFIG) {
            return MV_STATUS_UNKNOWNCONFIGSTORE;
        }
    }
    uint32_t value = 0;
    err = bw_sys_handle_value(handle, &value);
    if (err == BW_OK) {
        err = bw_config_fetch_send(value, keys, r.num_items, port_time_us());
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_read_config_fetch_response_data(MvChannelHandle handle,
                                                     struct MvConfigResponseData *response_out)
{
    bw_err err = writable(response_out, sizeof *response_out);
    uint32_t value = 0;
    struct MvConfigResponseData data;
    if (err == BW_OK) {
        err = bw_sys_handle_value(handle, &value);
    }
    if (err == BW_OK) {
        err = bw_config_fetch_response(value, &data);
    }
    if (err == BW_OK) {
        err = bw_app_copy_out((uintptr_t)response_out, &data, sizeof data);
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_read_config_response_item(MvChannelHandle handle,
                                               const struct MvConfigResponseReadItemParams *params)
{
    struct MvConfigResponseReadItemParams p;
    bw_err err = bw_app_copy_in(&p, (uintptr_t)params, sizeof p);
    uint32_t value = 0;
    if (err == BW_OK) {
        err = bw_sys_handle_value(handle, &value);
    }
    if (err == BW_OK) {
        err = bw_config_fetch_item(value, p.item_index, (uintptr_t)p.result, (uintptr_t)p.buf.data, p.buf.size,
                                   (uintptr_t)p.buf.length);
    }
    return bw_status_from_err(err);
}
