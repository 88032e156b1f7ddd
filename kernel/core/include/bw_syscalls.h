/*
 * The system-call layer: the kernel side of every implemented call in
 * sdk/syscalls.def, with exactly the prototype the app sees in mv_syscalls.h
 * (the gate passes the app's registers through unchanged).
 *
 * This is the only layer that speaks enum MvStatus; below it everything
 * returns bw_err. Every argument is untrusted: any value, any pointer (NULL,
 * secure, unmapped, wrapping, unaligned) yields a status, never a fault, and a
 * failed call changes no kernel state and writes no app memory.
 *
 * All calls may be made from app thread mode or from an app interrupt handler
 * that preempted another call; none blocks.
 */
#ifndef BW_SYSCALLS_H
#define BW_SYSCALLS_H

#include <stdint.h>

#include "bw_err.h"
#include "bw_syscalls_ext.h"   /* the bw* extension calls of the same gate table */
#include "mv_syscalls.h"

/* The one mapping from the kernel's internal errors to the app's statuses. */
enum MvStatus bw_status_from_err(bw_err err);

/* The 32-bit value an app handle carries; BW_E_HANDLE if it has none. */
bw_err bw_sys_handle_value(const void *app_handle, uint32_t *value);

/* The close calls' shape: *app_handle (app read-write) names a handle that
 * close() retires; then 0 is written back. PARAMETERFAULT, or close's error. */
enum MvStatus bw_sys_close_app_handle(uintptr_t app_handle, bw_err (*close)(uint32_t handle));

/* Writes a new handle to the app's handle_out (checked writable already). */
enum MvStatus bw_sys_give_handle(uintptr_t app_handle_out, uint32_t handle);

/* Fails the build unless impl has exactly the prototype of app_call. */
#define BW_SAME_PROTOTYPE(app_call, impl) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&app_call), __typeof__(&impl)), \
                   #impl " must match the prototype of " #app_call)

/* mvNoOp: OKAY. */
enum MvStatus bw_sys_no_op(void);

/* mvGetMicroseconds: port_time_us() into *usec_out. PARAMETERFAULT. */
enum MvStatus bw_sys_get_microseconds(uint64_t *usec_out);

/* mvGetWallTime: the UTC time in µs the cloud set (bw_network.h). PARAMETERFAULT
 * for a bad pointer, TIMENOTSET (nothing written) before the cloud set it. */
enum MvStatus bw_sys_get_wall_time(uint64_t *usec_out);

/* mvGetSysClk/HClk/PClk1/PClk2: the clock's frequency in Hz. PARAMETERFAULT. */
enum MvStatus bw_sys_get_sys_clk(uint32_t *hz_out);
enum MvStatus bw_sys_get_hclk(uint32_t *hz_out);
enum MvStatus bw_sys_get_pclk1(uint32_t *hz_out);
enum MvStatus bw_sys_get_pclk2(uint32_t *hz_out);

/* mvGetDeviceId: "BW" + 32 uppercase hex digits of the 16-byte identity, no
 * terminator. INVALIDBUFFERSIZE unless len == 34; PARAMETERFAULT; UNAVAILABLE
 * if the device has no identity. */
enum MvStatus bw_sys_get_device_id(uint8_t *buf, uint32_t len);

/* mvGetWakeReason: why this run of the app started. PARAMETERFAULT. */
enum MvStatus bw_sys_get_wake_reason(enum MvWakeReason *reason_out);

/* mvRestart: asks the port to restart the app (takes effect when the call
 * returns). PARAMETERFAULT for an unknown mode; UNAVAILABLE from an interrupt. */
enum MvStatus bw_sys_restart(enum MvRestartMode mode);

/* mvPeriphPeek32: a mediated register ANDed with its read mask.
 * PERIPHERALACCESSFAULT if reg is not mediated; PARAMETERFAULT. */
enum MvStatus bw_sys_periph_peek32(uint32_t reg, uint32_t *value_out);

/* mvPeriphPoke32: reg = (reg & ~(mask & W)) ^ (xorvalue & W), W the register's
 * write mask, atomically. PERIPHERALACCESSFAULT if reg is not mediated. */
enum MvStatus bw_sys_periph_poke32(uint32_t reg, uint32_t mask, uint32_t xorvalue);

/* mvSetupNotifications (see bw_notify_setup). PARAMETERFAULT, INVALIDBUFFERSIZE,
 * INVALIDBUFFERALIGNMENT, INVALIDINTERRUPT, BUFFERALREADYINUSE,
 * TOOMANYNOTIFICATIONBUFFERS. */
enum MvStatus bw_sys_setup_notifications(const struct MvNotificationSetup *setup,
                                         MvNotificationHandle *handle_out);

/* mvCloseNotifications: closes *handle and writes 0 to it. PARAMETERFAULT,
 * INVALIDHANDLE (then *handle is left alone). */
enum MvStatus bw_sys_close_notifications(MvNotificationHandle *handle);

/* mvTempTriggerNotification (see bw_notify_trigger). PARAMETERFAULT unless
 * type is 1..5; INVALIDHANDLE. */
enum MvStatus bw_sys_temp_trigger_notification(MvNotificationHandle handle,
                                               enum MvEventType type, uint32_t tag);

/* mvServerLoggingInit: reserves the buffer for the cloud log queue until the
 * app restarts. INVALIDBUFFERSIZE unless length is a nonzero multiple of 512;
 * INVALIDBUFFERALIGNMENT unless buffer is 512-aligned; PARAMETERFAULT;
 * BUFFERALREADYINUSE on a second call. */
enum MvStatus bw_sys_server_logging_init(uint8_t *buffer, uint32_t length_bytes);

/* mvServerLog: prints the message on the kernel console as an [app-log] line
 * (the cloud queue comes later). LOGMESSAGETOOLONG above BW_LOG_MESSAGE_MAX
 * bytes; PARAMETERFAULT; UNAVAILABLE before mvServerLoggingInit; LATEFAULT if
 * the message stops being readable while it is copied (32 bytes at a time:
 * no message-sized stack buffer). */
enum MvStatus bw_sys_server_log(const uint8_t *message, uint16_t length_bytes);

/* Every call the kernel does not implement yet: UNAVAILABLE. */
enum MvStatus bw_sys_unavailable(void);

/* ---- the cloud link (bw_syscalls_net.c; bw_network.h) ---- */

/* mvRequestNetwork: v1 params name a live notification center; a new network
 * handle into *handle_out. PARAMETERFAULT, UNSUPPORTEDSTRUCTUREVERSION,
 * INVALIDHANDLE (the center), TOOMANYNOTIFICATIONBUFFERS (table full). */
enum MvStatus bw_sys_request_network(const struct MvRequestNetworkParams *params,
                                     MvNetworkHandle *handle_out);
/* mvReleaseNetwork: retires *handle and writes 0 back. PARAMETERFAULT, INVALIDHANDLE. */
enum MvStatus bw_sys_release_network(MvNetworkHandle *handle);
/* mvGetNetworkStatus: the link's status. PARAMETERFAULT, INVALIDHANDLE. */
enum MvStatus bw_sys_get_network_status(MvNetworkHandle handle, enum MvNetworkStatus *status_out);
/* mvGetNetworkReasons: the reason bits and the open request count. PARAMETERFAULT. */
enum MvStatus bw_sys_get_network_reasons(enum MvNetworkReason *reasons_out,
                                         uint32_t *request_ref_count_out);
/* mvOpenSystemNotification: source NETWORK or UPDATE into a live center.
 * PARAMETERFAULT (pointers, source), INVALIDHANDLE, TOOMANYNOTIFICATIONBUFFERS. */
enum MvStatus bw_sys_open_system_notification(const struct MvOpenSystemNotificationParams *params,
                                              MvSystemEventHandle *handle_out);
/* mvCloseSystemNotification: retires *handle and writes 0 back. */
enum MvStatus bw_sys_close_system_notification(MvSystemEventHandle *handle);

/* ---- channels and HTTP (bw_syscalls_channel.c; bw_channel.h, bw_http.h) ---- */

/* mvOpenChannel: PARAMETERFAULT (params, handle_out), UNSUPPORTEDSTRUCTUREVERSION,
 * then bw_channel_open's checks: UNKNOWNCHANNELTYPE, UNKNOWNCHANNELENDPOINT,
 * INVALIDBUFFERSIZE, INVALIDBUFFERALIGNMENT, PARAMETERFAULT, BUFFERALREADYINUSE,
 * INVALIDHANDLE, NETWORKNOTCONNECTED, RATELIMITED, TOOMANYCHANNELS. */
enum MvStatus bw_sys_open_channel(const struct MvOpenChannelParams *params, MvChannelHandle *handle_out);
/* mvCloseChannel: retires *handle and writes 0 back. PARAMETERFAULT, INVALIDHANDLE. */
enum MvStatus bw_sys_close_channel(MvChannelHandle *handle);
/* mvGetChannelClosureReason. PARAMETERFAULT, INVALIDHANDLE. */
enum MvStatus bw_sys_get_channel_closure_reason(MvChannelHandle handle, enum MvClosureReason *reason_out);
/* mvReadChannel / mvReadChannelComplete / mvWriteChannelStream / mvWriteChannel
 * (OPAQUEBYTES; UNAVAILABLE on an HTTP channel): PARAMETERFAULT, INVALIDHANDLE,
 * CHANNELCLOSED, INVALIDBUFFERSIZE (complete: more than unread; write: does not fit). */
enum MvStatus bw_sys_read_channel(MvChannelHandle handle, uint8_t **data_out, uint32_t *length_out);
enum MvStatus bw_sys_read_channel_complete(MvChannelHandle handle, uint32_t consumed);
enum MvStatus bw_sys_write_channel_stream(MvChannelHandle handle, const uint8_t *data, uint32_t len,
                                          uint32_t *written_out);
enum MvStatus bw_sys_write_channel(MvChannelHandle handle, const uint8_t *data, uint32_t len,
                                   uint32_t *available_out);
/* mvSendHttpRequest: PARAMETERFAULT, TOOMANYELEMENTS (> BW_HTTP_HEADERS_MAX
 * headers), then bw_http_send's: INVALIDHANDLE, UNAVAILABLE, CHANNELCLOSED,
 * REQUESTALREADYSENT, PARAMETERFAULT, INVALIDBUFFERSIZE. */
enum MvStatus bw_sys_send_http_request(MvChannelHandle handle, const struct MvHttpRequest *request);
/* mvReadHttpResponseData/Header/Body: PARAMETERFAULT, INVALIDHANDLE, UNAVAILABLE,
 * RESPONSENOTPRESENT, CHANNELCLOSED, INDEXINVALID, OFFSETINVALID. */
enum MvStatus bw_sys_read_http_response_data(MvChannelHandle handle, struct MvHttpResponseData *response_out);
enum MvStatus bw_sys_read_http_response_header(MvChannelHandle handle, uint32_t index, uint8_t *buf,
                                               uint32_t size);
enum MvStatus bw_sys_read_http_response_body(MvChannelHandle handle, uint32_t offset, uint8_t *buf,
                                             uint32_t size);

/* ---- config fetch (bw_config_fetch.h, SPEC §17) ---- */
/* mvSendConfigFetchRequest: PARAMETERFAULT (num_items 0, unreadable arrays
 * or keys), TOOMANYCONFIGKEYS (> BW_CONFIG_KEYS_MAX), UNKNOWNCONFIGSCOPE,
 * UNKNOWNCONFIGSTORE, INVALIDCONFIGKEY, then INVALIDHANDLE, UNAVAILABLE,
 * CHANNELCLOSED, REQUESTALREADYSENT, INVALIDBUFFERSIZE. */
enum MvStatus bw_sys_send_config_fetch_request(MvChannelHandle handle, const struct MvConfigKeyFetchParams *request);
/* mvReadConfigFetchResponseData / mvReadConfigResponseItem: PARAMETERFAULT,
 * INVALIDHANDLE, UNAVAILABLE, RESPONSENOTPRESENT, CHANNELCLOSED, INDEXINVALID,
 * INVALIDBUFFERSIZE (a value longer than buf.size); nothing written on error. */
enum MvStatus bw_sys_read_config_fetch_response_data(MvChannelHandle handle,
                                                     struct MvConfigResponseData *response_out);
enum MvStatus bw_sys_read_config_response_item(MvChannelHandle handle,
                                               const struct MvConfigResponseReadItemParams *params);

/* ---- MQTT (bw_appmqtt.h, SPEC §18) ---- */
/* Requests: PARAMETERFAULT, TOOMANYELEMENTS (> 8
 * topics or certificates), INVALIDHANDLE, UNAVAILABLE (not MQTT),
 * CHANNELCLOSED, RATELIMITED, INVALIDBUFFERSIZE; connect also
 * REQUESTALREADYSENT, INVALIDAUTHENTICATION, REQUIREDELEMENTMISSING. Reads:
 * PARAMETERFAULT, INVALIDHANDLE, UNAVAILABLE, RESPONSENOTPRESENT,
 * WRONGDATAREQUESTED, INVALIDBUFFERSIZE (an output too small: nothing
 * written). Acknowledge: REQUESTUNSUCCESSFUL for an unknown ID. */
enum MvStatus bw_sys_mqtt_request_connect(MvChannelHandle handle, const struct MvMqttConnectRequest *request);
enum MvStatus bw_sys_mqtt_read_connect_response(MvChannelHandle handle, struct MvMqttConnectResponse *response_out);
enum MvStatus bw_sys_mqtt_request_subscribe(MvChannelHandle handle, const struct MvMqttSubscribeRequest *request);
enum MvStatus bw_sys_mqtt_read_subscribe_response(MvChannelHandle handle,
                                                  const struct MvMqttSubscribeResponse *response);
enum MvStatus bw_sys_mqtt_request_unsubscribe(MvChannelHandle handle,
                                              const struct MvMqttUnsubscribeRequest *request);
enum MvStatus bw_sys_mqtt_read_unsubscribe_response(MvChannelHandle handle,
                                                    const struct MvMqttUnsubscribeResponse *response);
enum MvStatus bw_sys_mqtt_request_publish(MvChannelHandle handle, const struct MvMqttPublishRequest *request);
enum MvStatus bw_sys_mqtt_read_publish_response(MvChannelHandle handle, struct MvMqttPublishResponse *response_out);
enum MvStatus bw_sys_mqtt_request_disconnect(MvChannelHandle handle);
enum MvStatus bw_sys_mqtt_read_disconnect_response(MvChannelHandle handle,
                                                   struct MvMqttDisconnectResponse *response_out);
enum MvStatus bw_sys_mqtt_receive_message(MvChannelHandle handle, const struct MvMqttMessage *message);
enum MvStatus bw_sys_mqtt_receive_lost_message_info(MvChannelHandle handle,
                                                    const struct MvMqttLostMessageInfo *info);
enum MvStatus bw_sys_mqtt_acknowledge_message(MvChannelHandle handle, uint32_t correlation_id);
enum MvStatus bw_sys_mqtt_get_next_readable_data_type(MvChannelHandle handle,
                                                      enum MvMqttReadableDataType *type_out);

#endif
