/*
 * Compile-only test of sdk/include/mv_syscalls.h (it is never linked: the calls live in
 * the kernel). Promises checked:
 *  1. the header is warning-free C11 and C++17, on the host and on the Cortex-M33 target;
 *  2. it declares exactly the calls of sdk/syscalls.def, each with the argument types of
 *     MICROVISOR-API.md (a typed pointer per call; a wrong type does not compile), in
 *     gate order (member offset == index), with nothing missing and nothing extra;
 *  3. every struct and enum type is complete, enum sentinels keep their sizes, and on the
 *     target every struct has the size measured for this ABI;
 *  4. code written for Microvisor compiles against it unchanged (app_style_usage below).
 *
 * Target: arm-none-eabi-gcc -mcpu=cortex-m33 -mthumb -std=c11 -Wall -Wextra -Werror \
 *             -pedantic -c tests/abi/header_compile.c -o /dev/null
 * Host:   gcc -std=c11 -Wall -Wextra -Werror -pedantic -c tests/abi/header_compile.c -o /dev/null
 * C++:    g++ -x c++ -std=c++17 -Wall -Wextra -Werror -pedantic -fsyntax-only tests/abi/header_compile.c
 * Define MV_HEADER_COMPILE_NO_MAIN to leave out main() (e.g. when linked into another test).
 */
#include "../../sdk/include/mv_syscalls.h"
/* Bulwark's own calls (gate index 71 on) are declared apart, in bulwark_ext.h. */
#include "../../sdk/include/bulwark_ext.h"

#include <stddef.h>

#if defined(__cplusplus)
#define CHECK(cond, msg) static_assert(cond, msg)
#else
#define CHECK(cond, msg) _Static_assert(cond, msg)
#endif

/* The generic code pointer every function pointer converts to without -Wcast-function-type. */
typedef void (*any_fn)(void);

/* ---- 2. Signatures, one member per call in gate order ------------------------------ */
struct mv_signatures {
    enum MvStatus (*mvNoOp)(void);
    enum MvStatus (*mvGetMicroseconds)(uint64_t *);
    enum MvStatus (*mvGetWallTime)(uint64_t *);
    enum MvStatus (*mvGetSysClk)(uint32_t *);
    enum MvStatus (*mvGetHClk)(uint32_t *);
    enum MvStatus (*mvGetPClk1)(uint32_t *);
    enum MvStatus (*mvGetPClk2)(uint32_t *);
    enum MvStatus (*mvGetDeviceId)(uint8_t *, uint32_t);
    enum MvStatus (*mvGetWakeReason)(enum MvWakeReason *);
    enum MvStatus (*mvRestart)(enum MvRestartMode);
    enum MvStatus (*mvPeriphPeek32)(uint32_t, uint32_t *);
    enum MvStatus (*mvPeriphPoke32)(uint32_t, uint32_t, uint32_t);
    enum MvStatus (*mvSystemLedEnable)(uint32_t);
    enum MvStatus (*mvSetFastInterrupt)(uint32_t);
    enum MvStatus (*mvClearFastInterrupt)(uint32_t);
    enum MvStatus (*mvEnableFastInterrupt)(uint32_t);
    enum MvStatus (*mvDisableFastInterrupt)(uint32_t);
    enum MvStatus (*mvDisableAllFastInterrupts)(void);
    enum MvStatus (*mvEnableAllFastInterrupts)(void);
    enum MvStatus (*mvPowerSave)(enum MvPowerSavingMode);
    enum MvStatus (*mvDeepSleep)(enum MvDeepSleepMode);
    enum MvStatus (*mvSetupNotifications)(const struct MvNotificationSetup *,
                                          MvNotificationHandle *);
    enum MvStatus (*mvCloseNotifications)(MvNotificationHandle *);
    enum MvStatus (*mvTempTriggerNotification)(MvNotificationHandle, enum MvEventType, uint32_t);
    enum MvStatus (*mvOpenSystemNotification)(const struct MvOpenSystemNotificationParams *,
                                              MvSystemEventHandle *);
    enum MvStatus (*mvCloseSystemNotification)(MvSystemEventHandle *);
    enum MvStatus (*mvServerLoggingInit)(uint8_t *, uint32_t);
    enum MvStatus (*mvServerLog)(const uint8_t *, uint16_t);
    enum MvStatus (*mvTestingComplete)(uint32_t);
    enum MvStatus (*mvTestLoggingInit)(uint8_t *, uint32_t);
    enum MvStatus (*mvTestLog)(const uint8_t *, uint16_t);
    enum MvStatus (*mvExternalFlashOpen)(MvExternalFlashHandle *);
    enum MvStatus (*mvExternalFlashClose)(MvExternalFlashHandle *);
    enum MvStatus (*mvExternalFlashReadBlocking)(MvExternalFlashHandle, uint32_t, uint32_t,
                                                 uint8_t *);
    enum MvStatus (*mvExternalFlashWriteBlocking)(MvExternalFlashHandle, uint32_t, uint32_t,
                                                  const uint8_t *);
    enum MvStatus (*mvExternalFlashEraseBlocking)(MvExternalFlashHandle, uint32_t, uint32_t);
    enum MvStatus (*mvExternalFlashGetInfo)(MvExternalFlashHandle, struct MvExternalFlashInfo *);
    enum MvStatus (*mvSetWifiConfig)(const struct MvWifiConfig *);
    enum MvStatus (*mvGetWifiConfig)(const struct MvWifiConfigOut *);
    enum MvStatus (*mvRequestNetwork)(const struct MvRequestNetworkParams *, MvNetworkHandle *);
    enum MvStatus (*mvReleaseNetwork)(MvNetworkHandle *);
    enum MvStatus (*mvGetNetworkStatus)(MvNetworkHandle, enum MvNetworkStatus *);
    enum MvStatus (*mvGetNetworkReasons)(enum MvNetworkReason *, uint32_t *);
    enum MvStatus (*mvOpenChannel)(const struct MvOpenChannelParams *, MvChannelHandle *);
    enum MvStatus (*mvReadChannel)(MvChannelHandle, uint8_t **, uint32_t *);
    enum MvStatus (*mvReadChannelComplete)(MvChannelHandle, uint32_t);
    enum MvStatus (*mvWriteChannelStream)(MvChannelHandle, const uint8_t *, uint32_t, uint32_t *);
    enum MvStatus (*mvWriteChannel)(MvChannelHandle, const uint8_t *, uint32_t, uint32_t *);
    enum MvStatus (*mvCloseChannel)(MvChannelHandle *);
    enum MvStatus (*mvGetChannelClosureReason)(MvChannelHandle, enum MvClosureReason *);
    enum MvStatus (*mvSendHttpRequest)(MvChannelHandle, const struct MvHttpRequest *);
    enum MvStatus (*mvReadHttpResponseData)(MvChannelHandle, struct MvHttpResponseData *);
    enum MvStatus (*mvReadHttpResponseHeader)(MvChannelHandle, uint32_t, uint8_t *, uint32_t);
    enum MvStatus (*mvReadHttpResponseBody)(MvChannelHandle, uint32_t, uint8_t *, uint32_t);
    enum MvStatus (*mvSendConfigFetchRequest)(MvChannelHandle,
                                              const struct MvConfigKeyFetchParams *);
    enum MvStatus (*mvReadConfigFetchResponseData)(MvChannelHandle,
                                                   struct MvConfigResponseData *);
    enum MvStatus (*mvReadConfigResponseItem)(MvChannelHandle,
                                              const struct MvConfigResponseReadItemParams *);
    enum MvStatus (*mvMqttRequestConnect)(MvChannelHandle, const struct MvMqttConnectRequest *);
    enum MvStatus (*mvMqttReadConnectResponse)(MvChannelHandle, struct MvMqttConnectResponse *);
    enum MvStatus (*mvMqttRequestSubscribe)(MvChannelHandle,
                                            const struct MvMqttSubscribeRequest *);
    enum MvStatus (*mvMqttReadSubscribeResponse)(MvChannelHandle,
                                                 const struct MvMqttSubscribeResponse *);
    enum MvStatus (*mvMqttRequestUnsubscribe)(MvChannelHandle,
                                              const struct MvMqttUnsubscribeRequest *);
    enum MvStatus (*mvMqttReadUnsubscribeResponse)(MvChannelHandle,
                                                   const struct MvMqttUnsubscribeResponse *);
    enum MvStatus (*mvMqttRequestPublish)(MvChannelHandle, const struct MvMqttPublishRequest *);
    enum MvStatus (*mvMqttReadPublishResponse)(MvChannelHandle, struct MvMqttPublishResponse *);
    enum MvStatus (*mvMqttRequestDisconnect)(MvChannelHandle);
    enum MvStatus (*mvMqttReadDisconnectResponse)(MvChannelHandle,
                                                  struct MvMqttDisconnectResponse *);
    enum MvStatus (*mvMqttReceiveMessage)(MvChannelHandle, const struct MvMqttMessage *);
    enum MvStatus (*mvMqttReceiveLostMessageInfo)(MvChannelHandle,
                                                  const struct MvMqttLostMessageInfo *);
    enum MvStatus (*mvMqttAcknowledgeMessage)(MvChannelHandle, uint32_t);
    enum MvStatus (*mvMqttGetNextReadableDataType)(MvChannelHandle,
                                                   enum MvMqttReadableDataType *);
    /* bulwark_ext.h */
    enum MvStatus (*bwAppConfirmHealthy)(void);
    enum MvStatus (*bwGetLastCrash)(struct BwCrashInfo *);
    enum MvStatus (*bwGetUpdateInfo)(struct BwUpdateInfo *);
};

/* Initialising each typed member from the header's declaration is the signature check. */
struct mv_signatures mv_signature_table = {
    mvNoOp, mvGetMicroseconds, mvGetWallTime, mvGetSysClk, mvGetHClk, mvGetPClk1, mvGetPClk2,
    mvGetDeviceId, mvGetWakeReason, mvRestart, mvPeriphPeek32, mvPeriphPoke32,
    mvSystemLedEnable, mvSetFastInterrupt, mvClearFastInterrupt, mvEnableFastInterrupt,
    mvDisableFastInterrupt, mvDisableAllFastInterrupts, mvEnableAllFastInterrupts, mvPowerSave,
    mvDeepSleep, mvSetupNotifications, mvCloseNotifications, mvTempTriggerNotification,
    mvOpenSystemNotification, mvCloseSystemNotification, mvServerLoggingInit, mvServerLog,
    mvTestingComplete, mvTestLoggingInit, mvTestLog, mvExternalFlashOpen, mvExternalFlashClose,
    mvExternalFlashReadBlocking, mvExternalFlashWriteBlocking, mvExternalFlashEraseBlocking,
    mvExternalFlashGetInfo, mvSetWifiConfig, mvGetWifiConfig, mvRequestNetwork,
    mvReleaseNetwork, mvGetNetworkStatus, mvGetNetworkReasons, mvOpenChannel, mvReadChannel,
    mvReadChannelComplete, mvWriteChannelStream, mvWriteChannel, mvCloseChannel,
    mvGetChannelClosureReason, mvSendHttpRequest, mvReadHttpResponseData,
    mvReadHttpResponseHeader, mvReadHttpResponseBody, mvSendConfigFetchRequest,
    mvReadConfigFetchResponseData, mvReadConfigResponseItem, mvMqttRequestConnect,
    mvMqttReadConnectResponse, mvMqttRequestSubscribe, mvMqttReadSubscribeResponse,
    mvMqttRequestUnsubscribe, mvMqttReadUnsubscribeResponse, mvMqttRequestPublish,
    mvMqttReadPublishResponse, mvMqttRequestDisconnect, mvMqttReadDisconnectResponse,
    mvMqttReceiveMessage, mvMqttReceiveLostMessageInfo, mvMqttAcknowledgeMessage,
    mvMqttGetNextReadableDataType, bwAppConfirmHealthy, bwGetLastCrash,
    bwGetUpdateInfo,
};

/* Every name in syscalls.def must be declared by the header (else: implicit declaration). */
#define MV_SYSCALL(index, name, impl) (any_fn)name,
any_fn mv_gate_table[] = {
#include "../../sdk/syscalls.def"
};
#undef MV_SYSCALL

/* ...at its gate index in the signature struct... */
#define MV_SYSCALL(index, name, impl) \
    CHECK(offsetof(struct mv_signatures, name) == (index) * sizeof(any_fn), \
          #name " is not at its syscalls.def index");
#include "../../sdk/syscalls.def"
#undef MV_SYSCALL

/* ...and the signature struct has no call that syscalls.def lacks. */
#define MV_SYSCALL(index, name, impl) +1
enum { MV_DEF_COUNT = 0
#include "../../sdk/syscalls.def"
};
#undef MV_SYSCALL
CHECK(sizeof(struct mv_signatures) == MV_DEF_COUNT * sizeof(any_fn),
      "signature list and syscalls.def differ in length");
CHECK(sizeof(mv_gate_table) == MV_DEF_COUNT * sizeof(any_fn), "gate table length");

/* ---- 3. Every type is complete ------------------------------------------------------ */
struct mv_all_types {
    struct MvSizedString sized_string;
    struct MvSizedStringBuffer sized_string_buffer;
    struct MvNotification notification;
    struct MvNotificationSetup notification_setup;
    struct MvOpenSystemNotificationParams open_system_notification_params;
    struct MvExternalFlashInfo external_flash_info;
    struct MvWifiConfig wifi_config;
    struct MvWifiConfigOut wifi_config_out;
    struct MvRequestNetworkParams request_network_params;
    struct MvOpenChannelParams open_channel_params;
    struct MvHttpHeader http_header;
    struct MvHttpRequest http_request;
    struct MvHttpResponseData http_response_data;
    struct MvConfigKeyToFetch config_key_to_fetch;
    struct MvConfigKeyFetchParams config_key_fetch_params;
    struct MvConfigResponseData config_response_data;
    struct MvConfigResponseReadItemParams config_response_read_item_params;
    struct MvUsernamePassword username_password;
    struct MvMqttAuthentication mqtt_authentication;
    struct MvTlsCertificateChain tls_certificate_chain;
    struct MvOwnTlsCertificateChain own_tls_certificate_chain;
    struct MvTlsCredentials tls_credentials;
    struct MvMqttWill mqtt_will;
    struct MvMqttConnectRequest mqtt_connect_request;
    struct MvMqttConnectResponse mqtt_connect_response;
    struct MvMqttSubscription mqtt_subscription;
    struct MvMqttSubscribeRequest mqtt_subscribe_request;
    struct MvMqttSubscribeResponse mqtt_subscribe_response;
    struct MvMqttUnsubscribeRequest mqtt_unsubscribe_request;
    struct MvMqttUnsubscribeResponse mqtt_unsubscribe_response;
    struct MvMqttPublishRequest mqtt_publish_request;
    struct MvMqttPublishResponse mqtt_publish_response;
    struct MvMqttMessage mqtt_message;
    struct MvMqttLostMessageInfo mqtt_lost_message_info;
    struct MvMqttDisconnectResponse mqtt_disconnect_response;
    enum MvStatus status;
    enum MvEventType event_type;
    enum MvSystemNotificationSource system_notification_source;
    enum MvWakeReason wake_reason;
    enum MvRestartMode restart_mode;
    enum MvPowerSavingMode power_saving_mode;
    enum MvDeepSleepMode deep_sleep_mode;
    enum MvWifiConfigMode wifi_config_mode;
    enum MvNetworkStatus network_status;
    enum MvNetworkReason network_reason;
    enum MvChannelType channel_type;
    enum MvClosureReason closure_reason;
    enum MvHttpResult http_result;
    enum MvConfigKeyFetchScope config_key_fetch_scope;
    enum MvConfigKeyFetchStore config_key_fetch_store;
    enum MvConfigFetchResult config_fetch_result;
    enum MvConfigKeyFetchResult config_key_fetch_result;
    enum MvMqttProtocolVersion mqtt_protocol_version;
    enum MvMqttAuthenticationMethod mqtt_authentication_method;
    enum MvMqttRequestState mqtt_request_state;
    enum MvMqttLostMessageReason mqtt_lost_message_reason;
    enum MvMqttReadableDataType mqtt_readable_data_type;
    MvNotificationHandle notification_handle;
    MvSystemEventHandle system_event_handle;
    MvNetworkHandle network_handle;
    MvChannelHandle channel_handle;
    MvExternalFlashHandle external_flash_handle;
    struct BwCrashInfo crash_info;
    enum BwCrashClass crash_class;
    enum BwCrashLoopAction crash_loop_action;
};
struct mv_all_types mv_all_types_instance;

/* bulwark_ext.h: 4-byte enums, and BwCrashInfo's v1 at offset 8, 96 bytes in all. */
CHECK(sizeof(enum BwCrashClass) == 4 && BW_CRASHCLASS_HANG == 11, "BwCrashClass");
CHECK(sizeof(enum BwCrashLoopAction) == 4 && BW_CRASHLOOPACTION_PARKED == 2, "BwCrashLoopAction");
CHECK(offsetof(struct BwCrashInfo, v1) == 8 && sizeof(struct BwCrashInfo) == 96, "BwCrashInfo");

/* Sentinels fix the enums' sizes; the last value of each guards against a lost entry. */
CHECK(MV_STATUS__MAX == 0xffffffffu && MV_STATUS_INPUTTOOLONG == 0x26, "MvStatus");
CHECK(MV_EVENTTYPE__MAX == 0xffffffffu && MV_EVENTTYPE_UPDATEDOWNLOADED == 5, "MvEventType");
CHECK(MV_SYSTEMNOTIFICATIONSOURCE__MAX == 0xffffffffu &&
      MV_SYSTEMNOTIFICATIONSOURCE_UPDATE == 1, "MvSystemNotificationSource");
CHECK(MV_WAKEREASON__MAX == 0xff && MV_WAKEREASON_DEEPSLEEPOTHER == 0x10, "MvWakeReason");
CHECK(MV_RESTARTMODE__MAX == 0xffffffffu && MV_RESTARTMODE_AUTOAPPLYUPDATE == 0,
      "MvRestartMode");
CHECK(MV_POWERSAVINGMODE__MAX == 0xff && MV_POWERSAVINGMODE_STOP3 == 4, "MvPowerSavingMode");
CHECK(MV_DEEPSLEEPMODE__MAX == 0xff && MV_DEEPSLEEPMODE_SHUTDOWN == 1, "MvDeepSleepMode");
CHECK(MV_WIFICONFIGMODE__MAX == 0xff && MV_WIFICONFIGMODE_CLEARNOW == 1, "MvWifiConfigMode");
CHECK(MV_NETWORKSTATUS__MAX == 0xffffffffu && MV_NETWORKSTATUS_DISCONNECTEDWITHLINKUP == 3,
      "MvNetworkStatus");
CHECK(MV_NETWORKREASON__MAX == 0xffffffffu && MV_NETWORKREASON_NOAPPLICATIONCODE == 0x200 &&
      MV_NETWORKREASON_ENHANCECALM == 0x800, "MvNetworkReason");
CHECK(MV_CHANNELTYPE__MAX == 0xffffffffu && MV_CHANNELTYPE_CONFIGFETCH == 3, "MvChannelType");
CHECK(MV_CLOSUREREASON__MAX == 0xffffffffu && MV_CLOSUREREASON_UNEXPECTEDLYTERMINATED == 7,
      "MvClosureReason");
CHECK(MV_HTTPRESULT__MAX == 0xffffffffu && MV_HTTPRESULT_RESPONSETOOLARGE == 6, "MvHttpResult");
CHECK(MV_CONFIGKEYFETCHSCOPE__MAX == 0xffffffffu && MV_CONFIGKEYFETCHSCOPE_DEVICE == 1,
      "MvConfigKeyFetchScope");
CHECK(MV_CONFIGKEYFETCHSTORE__MAX == 0xffffffffu && MV_CONFIGKEYFETCHSTORE_CONFIG == 1,
      "MvConfigKeyFetchStore");
CHECK(MV_CONFIGFETCHRESULT__MAX == 0xffffffffu && MV_CONFIGFETCHRESULT_RESPONSETOOLARGE == 1,
      "MvConfigFetchResult");
CHECK(MV_CONFIGKEYFETCHRESULT__MAX == 0xffffffffu && MV_CONFIGKEYFETCHRESULT_SERVERERROR == 2,
      "MvConfigKeyFetchResult");
CHECK(MV_MQTTPROTOCOLVERSION__MAX == 0xffffffffu && MV_MQTTPROTOCOLVERSION_V5 == 1,
      "MvMqttProtocolVersion");
CHECK(MV_MQTTAUTHENTICATIONMETHOD__MAX == 0xff &&
      MV_MQTTAUTHENTICATIONMETHOD_USERNAMEPASSWORD == 1, "MvMqttAuthenticationMethod");
CHECK(MV_MQTTREQUESTSTATE__MAX == 0xffffffffu &&
      MV_MQTTREQUESTSTATE_CONNECTIONCIRCUITBREAKER == 8, "MvMqttRequestState");
CHECK(MV_MQTTLOSTMESSAGEREASON__MAX == 0xffffffffu &&
      MV_MQTTLOSTMESSAGEREASON_DEVICERECEIVEBUFFERTOOSMALL == 0, "MvMqttLostMessageReason");
CHECK(MV_MQTTREADABLEDATATYPE__MAX == 0xffffffffu &&
      MV_MQTTREADABLEDATATYPE_DISCONNECTRESPONSE == 7, "MvMqttReadableDataType");

/* Narrow fields hide inside padding, so struct sizes alone would not notice a widening. */
CHECK(sizeof(mv_all_types_instance.mqtt_connect_request.port) == 2, "port is uint16_t");
CHECK(sizeof(mv_all_types_instance.mqtt_connect_request.clean_start) == 1, "clean_start");
CHECK(sizeof(mv_all_types_instance.mqtt_will.retain) == 1, "MvMqttWill.retain is uint8_t");
CHECK(sizeof(*mv_all_types_instance.mqtt_message.retain) == 1, "MvMqttMessage.retain");
CHECK(sizeof(*mv_all_types_instance.wifi_config_out.v1.has_encryption) == 1, "has_encryption");
CHECK(sizeof(mv_all_types_instance.mqtt_publish_request.retain) == 4, "publish retain is 32-bit");
CHECK(sizeof(mv_all_types_instance.notification.microseconds) == 8, "microseconds is 64-bit");

/* On every compiler: 4-byte enums are at least 4 bytes, handles fit in a register. */
CHECK(sizeof(enum MvStatus) == 4 && sizeof(enum MvEventType) == 4, "4-byte enums");
CHECK(sizeof(MvChannelHandle) >= sizeof(uint32_t), "handles hold a 32-bit value");

#if defined(__ARM_EABI__) && defined(__GNUC__)
/* Target layout (AAPCS, short enums). The first three are the original's measured sizes;
 * the rest were measured from this header with arm-none-eabi-gcc 12 and lock it. */
#define SIZE_IS(type, n) CHECK(sizeof(struct type) == (n), #type " size changed");
SIZE_IS(MvNotification, 16)
SIZE_IS(MvHttpRequest, 36)
SIZE_IS(MvOpenChannelParams, 44)
SIZE_IS(MvSizedString, 8)
SIZE_IS(MvSizedStringBuffer, 12)
SIZE_IS(MvNotificationSetup, 12)
SIZE_IS(MvOpenSystemNotificationParams, 12)
SIZE_IS(MvExternalFlashInfo, 16)
SIZE_IS(MvWifiConfig, 24)
SIZE_IS(MvWifiConfigOut, 20)
SIZE_IS(MvRequestNetworkParams, 12)
SIZE_IS(MvHttpHeader, 8)
SIZE_IS(MvHttpResponseData, 16)
SIZE_IS(MvConfigKeyToFetch, 16)
SIZE_IS(MvConfigKeyFetchParams, 8)
SIZE_IS(MvConfigResponseData, 8)
SIZE_IS(MvConfigResponseReadItemParams, 20)
SIZE_IS(MvUsernamePassword, 16)
SIZE_IS(MvMqttAuthentication, 20)
SIZE_IS(MvTlsCertificateChain, 8)
SIZE_IS(MvOwnTlsCertificateChain, 16)
SIZE_IS(MvTlsCredentials, 24)
SIZE_IS(MvMqttWill, 24)
SIZE_IS(MvMqttConnectRequest, 60)
SIZE_IS(MvMqttConnectResponse, 8)
SIZE_IS(MvMqttSubscription, 24)
SIZE_IS(MvMqttSubscribeRequest, 12)
SIZE_IS(MvMqttSubscribeResponse, 20)
SIZE_IS(MvMqttUnsubscribeRequest, 12)
SIZE_IS(MvMqttUnsubscribeResponse, 20)
SIZE_IS(MvMqttPublishRequest, 28)
SIZE_IS(MvMqttPublishResponse, 12)
SIZE_IS(MvMqttMessage, 36)
SIZE_IS(MvMqttLostMessageInfo, 20)
SIZE_IS(MvMqttDisconnectResponse, 8)
#undef SIZE_IS
CHECK(sizeof(MvChannelHandle) == 4, "handles are 32-bit on the target");
CHECK(offsetof(struct MvOpenChannelParams, v1.endpoint) == 36, "endpoint offset");
CHECK(offsetof(struct MvMqttConnectRequest, authentication) == 24 &&
      offsetof(struct MvMqttConnectRequest, will) == 56, "MvMqttConnectRequest layout");
#define ONE_BYTE(type) CHECK(sizeof(enum type) == 1, #type " must be 1 byte (short enums)");
ONE_BYTE(MvWakeReason)
ONE_BYTE(MvPowerSavingMode)
ONE_BYTE(MvDeepSleepMode)
ONE_BYTE(MvMqttAuthenticationMethod)
ONE_BYTE(MvWifiConfigMode)
#undef ONE_BYTE
#define FOUR_BYTES(type) CHECK(sizeof(enum type) == 4, #type " must be 4 bytes");
FOUR_BYTES(MvStatus)
FOUR_BYTES(MvEventType)
FOUR_BYTES(MvSystemNotificationSource)
FOUR_BYTES(MvRestartMode)
FOUR_BYTES(MvNetworkStatus)
FOUR_BYTES(MvNetworkReason)
FOUR_BYTES(MvChannelType)
FOUR_BYTES(MvClosureReason)
FOUR_BYTES(MvHttpResult)
FOUR_BYTES(MvConfigKeyFetchScope)
FOUR_BYTES(MvConfigKeyFetchStore)
FOUR_BYTES(MvConfigFetchResult)
FOUR_BYTES(MvConfigKeyFetchResult)
FOUR_BYTES(MvMqttProtocolVersion)
FOUR_BYTES(MvMqttRequestState)
FOUR_BYTES(MvMqttLostMessageReason)
FOUR_BYTES(MvMqttReadableDataType)
#undef FOUR_BYTES
#endif

/* ---- 4. The way Microvisor apps call the ambiguous ones compiles unchanged ---------- */
enum MvStatus app_style_usage(MvNotificationHandle center, MvNetworkHandle net);
enum MvStatus app_style_usage(MvNotificationHandle center, MvNetworkHandle net)
{
    static uint8_t rx[1536], tx[512];
    static const char endpoint[] = "";
    static const char msg[] = "hello";
    struct MvOpenChannelParams params;
    MvChannelHandle channel = 0;
    uint8_t *data = 0; /* mvReadChannel hands back a non-const pointer */
    uint32_t len = 0;
    uint8_t ssid[33], encrypted = 0;
    uint32_t ssid_len = 0;
    struct MvWifiConfigOut wifi; /* non-const object passed to a const parameter */
    enum MvStatus status;

    params.version = 1;
    params.v1.notification_handle = center;
    params.v1.notification_tag = 7;
    params.v1.network_handle = net;
    params.v1.receive_buffer = rx;
    params.v1.receive_buffer_len = sizeof rx;
    params.v1.send_buffer = tx;
    params.v1.send_buffer_len = sizeof tx;
    params.v1.channel_type = MV_CHANNELTYPE_OPAQUEBYTES;
    params.v1.endpoint.data = (const uint8_t *)endpoint;
    params.v1.endpoint.length = 0;
    status = mvOpenChannel(&params, &channel);
    if (status == MV_STATUS_OKAY && mvReadChannel(channel, &data, &len) == MV_STATUS_OKAY)
        (void)mvReadChannelComplete(channel, len);

    wifi.version = 1;
    wifi.v1.ssid.data = ssid;
    wifi.v1.ssid.size = sizeof ssid;
    wifi.v1.ssid.length = &ssid_len;
    wifi.v1.has_encryption = &encrypted;
    (void)mvGetWifiConfig(&wifi);
    (void)mvServerLog((const uint8_t *)msg, (uint16_t)(sizeof msg - 1));

#ifndef __cplusplus /* C++17 has no designated initialisers; C apps use them throughout */
    {
        static const char host[] = "broker.example.com", id[] = "dev", user[] = "u", pw[] = "p";
        struct MvMqttConnectRequest connect = {
            .protocol_version = MV_MQTTPROTOCOLVERSION_V5,
            .host = { (const uint8_t *)host, sizeof host - 1 },
            .port = 8883,
            .clientid = { (const uint8_t *)id, sizeof id - 1 },
            .authentication = {
                .method = MV_MQTTAUTHENTICATIONMETHOD_USERNAMEPASSWORD,
                .username_password = {
                    .username = { (const uint8_t *)user, sizeof user - 1 },
                    .password = { (const uint8_t *)pw, sizeof pw - 1 },
                },
            },
            .tls_credentials = 0,
            .keepalive = 60,
            .clean_start = 1,
            .will = 0,
        };
        struct MvRequestNetworkParams request = {
            .version = 1,
            .v1 = { .notification_handle = center, .notification_tag = 1 },
        };
        MvNetworkHandle another = 0;
        (void)mvRequestNetwork(&request, &another);
        (void)mvMqttRequestConnect(channel, &connect);
    }
#endif
    (void)mvCloseChannel(&channel);
    return status;
}

#ifndef MV_HEADER_COMPILE_NO_MAIN
int main(void)
{
    return 0;
}
#endif
