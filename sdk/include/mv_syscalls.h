/*
 * mv_syscalls.h - the Bulwark application ABI: every system call an app may make
 * into the secure kernel, with the enums and structs they exchange. Source-compatible
 * with the public Microvisor application API (names, numeric values, struct layouts).
 *
 * - Every call returns enum MvStatus (MV_STATUS_OKAY on success); results are written
 *   through app-supplied pointers. Calls are short and, except the external-flash
 *   *Blocking ones, never wait: slow work finishes later and is announced through a
 *   notification center.
 * - Every pointer (and every pointer nested in a struct) is validated by the kernel;
 *   memory the app may not access yields MV_STATUS_PARAMETERFAULT (or LATEFAULT once
 *   the call has had an effect), never a fault.
 * - Handles are 32-bit values chosen at random by the kernel, declared here as pointers
 *   to incomplete structs for type safety; 0 is never a valid handle. Calls that
 *   destroy a handle take its address and write 0 back on success.
 * - Versioned structs carry `uint32_t version` (apps set 1) and an anonymous union
 *   holding `v1`; an unknown version gives MV_STATUS_UNSUPPORTEDSTRUCTUREVERSION.
 * - Enums whose __MAX is 0xffffffff are 4 bytes; those with __MAX 0xff are 1 byte under
 *   arm-none-eabi's default short enums, which the ABI relies on.
 * - Gate order is sdk/syscalls.def; which calls the kernel implements (the others
 *   return MV_STATUS_UNAVAILABLE) is listed in docs/SYSCALLS.md.
 *
 * Needs C11 (anonymous unions; GCC/Clang also accept C99) or C++.
 */
#ifndef MV_SYSCALLS_H
#define MV_SYSCALLS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Anonymous unions are C11; let GCC/Clang accept them quietly in C99 mode too. */
#if !defined(__cplusplus) && defined(__GNUC__) && \
    (!defined(__STDC_VERSION__) || __STDC_VERSION__ < 201112L)
#define MV_ANON_UNION __extension__ union
#else
#define MV_ANON_UNION union
#endif

/* Strict C++ disallows the unnamed `v1` struct types inside those anonymous unions and
 * clang says so under -pedantic; the shape is the public API, so keep it quietly. */
#if defined(__cplusplus) && defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wnested-anon-types"
#endif

/* Before C23, ISO C wants enumerators to fit in int; the 0xffffffff sentinels that fix
 * the enums' size are intended, so silence -Wpedantic for the enum definitions only. */
#if !defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#endif

/* ------------------------------------------------------------------------------------
 * Status codes (4 bytes)
 */
enum MvStatus {
    MV_STATUS_OKAY = 0x0,
    MV_STATUS_TIMENOTSET = 0x1,
    MV_STATUS_PARAMETERFAULT = 0x2,
    MV_STATUS_INVALIDBUFFERSIZE = 0x3,
    MV_STATUS_PERIPHERALACCESSFAULT = 0x4,
    MV_STATUS_BUFFERALREADYINUSE = 0x5,
    MV_STATUS_INVALIDINTERRUPT = 0x6,
    MV_STATUS_INVALIDHANDLE = 0x7,
    MV_STATUS_TOOMANYNOTIFICATIONBUFFERS = 0x8,
    MV_STATUS_INVALIDVECTOR = 0x9,
    MV_STATUS_UNAVAILABLE = 0xa,
    MV_STATUS_UNSUPPORTEDSTRUCTUREVERSION = 0xb,
    MV_STATUS_TOOMANYCHANNELS = 0xc,
    MV_STATUS_UNKNOWNCHANNELENDPOINT = 0xd,
    MV_STATUS_UNKNOWNCHANNELTYPE = 0xe,
    MV_STATUS_CHANNELCLOSED = 0xf,
    MV_STATUS_NETWORKNOTCONNECTED = 0x10,
    MV_STATUS_RATELIMITED = 0x11,
    MV_STATUS_INVALIDBUFFERALIGNMENT = 0x12,
    MV_STATUS_LATEFAULT = 0x13,
    MV_STATUS_RESPONSENOTPRESENT = 0x14,
    MV_STATUS_INDEXINVALID = 0x15,
    MV_STATUS_OFFSETINVALID = 0x16,
    MV_STATUS_REQUESTALREADYSENT = 0x17,
    MV_STATUS_REQUESTUNSUCCESSFUL = 0x18,
    MV_STATUS_LOGMESSAGETOOLONG = 0x19,
    MV_STATUS_LOGGINGDISABLEDBYSERVER = 0x1a,
    MV_STATUS_TOOMANYCONFIGKEYS = 0x1b,
    MV_STATUS_UNKNOWNCONFIGSTORE = 0x1c,
    MV_STATUS_UNKNOWNCONFIGSCOPE = 0x1d,
    MV_STATUS_INVALIDCONFIGKEY = 0x1e,
    MV_STATUS_INVALIDAUTHENTICATION = 0x1f,
    MV_STATUS_WRONGDATAREQUESTED = 0x20,
    MV_STATUS_INTERNALERROR = 0x21,
    MV_STATUS_TOOMANYELEMENTS = 0x22,
    MV_STATUS_REQUIREDELEMENTMISSING = 0x23,
    MV_STATUS_MICROVISORBUSY = 0x24,
    MV_STATUS_ADDRESSOUTOFRANGE = 0x25,
    MV_STATUS_INPUTTOOLONG = 0x26,
    MV_STATUS__MAX = 0xffffffff
};

/* ------------------------------------------------------------------------------------
 * Enumerations used by the calls below
 */

/* Why a notification record was written (4 bytes). */
enum MvEventType {
    MV_EVENTTYPE_NOEVENT = 0x0,
    MV_EVENTTYPE_NETWORKSTATUSCHANGED = 0x1,
    MV_EVENTTYPE_CHANNELDATAREADABLE = 0x2,
    MV_EVENTTYPE_CHANNELDATAWRITESPACE = 0x3,
    MV_EVENTTYPE_CHANNELNOTCONNECTED = 0x4,
    MV_EVENTTYPE_UPDATEDOWNLOADED = 0x5,
    MV_EVENTTYPE__MAX = 0xffffffff
};

/* Which system-wide event stream mvOpenSystemNotification subscribes to (4 bytes). */
enum MvSystemNotificationSource {
    MV_SYSTEMNOTIFICATIONSOURCE_NETWORK = 0x0,
    MV_SYSTEMNOTIFICATIONSOURCE_UPDATE = 0x1,
    MV_SYSTEMNOTIFICATIONSOURCE__MAX = 0xffffffff
};

/* Why the app (or the device) last started (1 byte). */
enum MvWakeReason {
    MV_WAKEREASON_COLDBOOT = 0x0,
    MV_WAKEREASON_REMOTEMICROVISORRESTART = 0x1,
    MV_WAKEREASON_REMOTEAPPLICATIONRESTART = 0x2,
    MV_WAKEREASON_DEBUGGERRESTART = 0x3,
    MV_WAKEREASON_MICROVISORCRASH = 0x4,
    MV_WAKEREASON_MICROVISORWATCHDOG = 0x5,
    MV_WAKEREASON_MICROVISOROUTOFMEMORY = 0x6,
    MV_WAKEREASON_MICROVISORERROR = 0x7,
    MV_WAKEREASON_APPLICATIONCRASH = 0x8,
    MV_WAKEREASON_APPLICATIONUPDATE = 0x9,
    MV_WAKEREASON_MICROVISORUPDATE = 0xa,
    MV_WAKEREASON_OPTIONBYTES = 0xb,
    MV_WAKEREASON_DEEPSLEEPCHECKIN = 0xc,
    MV_WAKEREASON_DEEPSLEEPAPPLICATION = 0xd,
    MV_WAKEREASON_DEEPSLEEPMODEM = 0xe,
    MV_WAKEREASON_DEEPSLEEPAPPLICATIONRTC = 0xf,
    MV_WAKEREASON_DEEPSLEEPOTHER = 0x10,
    MV_WAKEREASON__MAX = 0xff
};

/* What mvRestart restarts (4 bytes). */
enum MvRestartMode {
    MV_RESTARTMODE_AUTOAPPLYUPDATE = 0x0,
    MV_RESTARTMODE__MAX = 0xffffffff
};

/* Low-power modes for mvPowerSave (STM32U5 naming; 1 byte). */
enum MvPowerSavingMode {
    MV_POWERSAVINGMODE_SLEEP = 0x0,
    MV_POWERSAVINGMODE_STOP0 = 0x1,
    MV_POWERSAVINGMODE_STOP1 = 0x2,
    MV_POWERSAVINGMODE_STOP2 = 0x3,
    MV_POWERSAVINGMODE_STOP3 = 0x4,
    MV_POWERSAVINGMODE__MAX = 0xff
};

/* Modes for mvDeepSleep (1 byte). */
enum MvDeepSleepMode {
    MV_DEEPSLEEPMODE_STANDBY = 0x0,
    MV_DEEPSLEEPMODE_SHUTDOWN = 0x1,
    MV_DEEPSLEEPMODE__MAX = 0xff
};

/* How mvSetWifiConfig applies its settings (1 byte). */
enum MvWifiConfigMode {
    MV_WIFICONFIGMODE_APPLYNOW = 0x0,
    MV_WIFICONFIGMODE_CLEARNOW = 0x1,
    MV_WIFICONFIGMODE__MAX = 0xff
};

/* State of the kernel's link to the cloud (4 bytes). */
enum MvNetworkStatus {
    MV_NETWORKSTATUS_DELIBERATELYOFFLINE = 0x0,
    MV_NETWORKSTATUS_CONNECTED = 0x1,
    MV_NETWORKSTATUS_CONNECTING = 0x2,
    MV_NETWORKSTATUS_DISCONNECTEDWITHLINKUP = 0x3,
    MV_NETWORKSTATUS__MAX = 0xffffffff
};

/* Bit flags: why the kernel is (or is not) connecting (4 bytes). */
enum MvNetworkReason {
    MV_NETWORKREASON_NOTCONNECTING = 0x0,
    MV_NETWORKREASON_USINGNETWORK = 0x1,
    MV_NETWORKREASON_NEVERUSEDNETWORKAPI = 0x2,
    MV_NETWORKREASON_MINIMUMCHECKINEXPIRED = 0x4,
    MV_NETWORKREASON_RTCNOTSET = 0x8,
    MV_NETWORKREASON_KERNELERROR = 0x10,
    MV_NETWORKREASON_APPLICATIONERROR = 0x20,
    MV_NETWORKREASON_COLDBOOTCONNECTION = 0x40,
    MV_NETWORKREASON_FETCHINGUPDATE = 0x80,
    MV_NETWORKREASON_DEBUGGERATTACHED = 0x100,
    MV_NETWORKREASON_NOAPPLICATIONCODE = 0x200,
    MV_NETWORKREASON_ENHANCECALM = 0x800,
    MV_NETWORKREASON__MAX = 0xffffffff
};

/* What a channel carries (4 bytes). */
enum MvChannelType {
    MV_CHANNELTYPE_OPAQUEBYTES = 0x0,
    MV_CHANNELTYPE_MQTT = 0x1,
    MV_CHANNELTYPE_HTTP = 0x2,
    MV_CHANNELTYPE_CONFIGFETCH = 0x3,
    MV_CHANNELTYPE__MAX = 0xffffffff
};

/* Why a channel stopped (4 bytes). */
enum MvClosureReason {
    MV_CLOSUREREASON_NONE = 0x0,
    MV_CLOSUREREASON_CHANNELCLOSEDBYSERVER = 0x1,
    MV_CLOSUREREASON_CHANNELRESETBYSERVER = 0x2,
    MV_CLOSUREREASON_NETWORKDISCONNECTED = 0x3,
    MV_CLOSUREREASON_CONNECTIONTERMINATED = 0x4,
    MV_CLOSUREREASON_NOTYETOPEN = 0x5,
    MV_CLOSUREREASON_CLOSEDBYAPPLICATION = 0x6,
    MV_CLOSUREREASON_UNEXPECTEDLYTERMINATED = 0x7,
    MV_CLOSUREREASON__MAX = 0xffffffff
};

/* Outcome of a relayed HTTP request (4 bytes). */
enum MvHttpResult {
    MV_HTTPRESULT_OK = 0x0,
    MV_HTTPRESULT_UNSUPPORTEDURISCHEME = 0x1,
    MV_HTTPRESULT_UNSUPPORTEDMETHOD = 0x2,
    MV_HTTPRESULT_INVALIDHEADERS = 0x3,
    MV_HTTPRESULT_INVALIDTIMEOUT = 0x4,
    MV_HTTPRESULT_REQUESTFAILED = 0x5,
    MV_HTTPRESULT_RESPONSETOOLARGE = 0x6,
    MV_HTTPRESULT__MAX = 0xffffffff
};

/* Config/secret key addressing and results (all 4 bytes). */
enum MvConfigKeyFetchScope {
    MV_CONFIGKEYFETCHSCOPE_ACCOUNT = 0x0,
    MV_CONFIGKEYFETCHSCOPE_DEVICE = 0x1,
    MV_CONFIGKEYFETCHSCOPE__MAX = 0xffffffff
};

enum MvConfigKeyFetchStore {
    MV_CONFIGKEYFETCHSTORE_SECRET = 0x0,
    MV_CONFIGKEYFETCHSTORE_CONFIG = 0x1,
    MV_CONFIGKEYFETCHSTORE__MAX = 0xffffffff
};

enum MvConfigFetchResult {
    MV_CONFIGFETCHRESULT_OK = 0x0,
    MV_CONFIGFETCHRESULT_RESPONSETOOLARGE = 0x1,
    MV_CONFIGFETCHRESULT__MAX = 0xffffffff
};

enum MvConfigKeyFetchResult {
    MV_CONFIGKEYFETCHRESULT_OK = 0x0,
    MV_CONFIGKEYFETCHRESULT_KEYNOTFOUND = 0x1,
    MV_CONFIGKEYFETCHRESULT_SERVERERROR = 0x2,
    MV_CONFIGKEYFETCHRESULT__MAX = 0xffffffff
};

/* MQTT relay (4 bytes each, except MvMqttAuthenticationMethod: 1 byte). */
enum MvMqttProtocolVersion {
    MV_MQTTPROTOCOLVERSION_V3_1_1 = 0x0,
    MV_MQTTPROTOCOLVERSION_V5 = 0x1,
    MV_MQTTPROTOCOLVERSION__MAX = 0xffffffff
};

enum MvMqttAuthenticationMethod {
    MV_MQTTAUTHENTICATIONMETHOD_NONE = 0x0,
    MV_MQTTAUTHENTICATIONMETHOD_USERNAMEPASSWORD = 0x1,
    MV_MQTTAUTHENTICATIONMETHOD__MAX = 0xff
};

enum MvMqttRequestState {
    MV_MQTTREQUESTSTATE_REQUESTCOMPLETED = 0x0,
    MV_MQTTREQUESTSTATE_INVALIDPARAMETERS = 0x1,
    MV_MQTTREQUESTSTATE_ALREADYCONNECTED = 0x2,
    MV_MQTTREQUESTSTATE_NOTCONNECTED = 0x3,
    MV_MQTTREQUESTSTATE_NXDOMAIN = 0x4,
    MV_MQTTREQUESTSTATE_UNKNOWNCA = 0x5,
    MV_MQTTREQUESTSTATE_CERTIFICATEEXPIRED = 0x6,
    MV_MQTTREQUESTSTATE_SOCKETERROR = 0x7,
    MV_MQTTREQUESTSTATE_CONNECTIONCIRCUITBREAKER = 0x8,
    MV_MQTTREQUESTSTATE__MAX = 0xffffffff
};

enum MvMqttLostMessageReason {
    MV_MQTTLOSTMESSAGEREASON_DEVICERECEIVEBUFFERTOOSMALL = 0x0,
    MV_MQTTLOSTMESSAGEREASON__MAX = 0xffffffff
};

enum MvMqttReadableDataType {
    MV_MQTTREADABLEDATATYPE_NONE = 0x0,
    MV_MQTTREADABLEDATATYPE_MESSAGERECEIVED = 0x1,
    MV_MQTTREADABLEDATATYPE_MESSAGELOST = 0x2,
    MV_MQTTREADABLEDATATYPE_CONNECTRESPONSE = 0x3,
    MV_MQTTREADABLEDATATYPE_SUBSCRIBERESPONSE = 0x4,
    MV_MQTTREADABLEDATATYPE_UNSUBSCRIBERESPONSE = 0x5,
    MV_MQTTREADABLEDATATYPE_PUBLISHRESPONSE = 0x6,
    MV_MQTTREADABLEDATATYPE_DISCONNECTRESPONSE = 0x7,
    MV_MQTTREADABLEDATATYPE__MAX = 0xffffffff
};

#if !defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* ------------------------------------------------------------------------------------
 * Handles: opaque 32-bit kernel-chosen values; never dereference; 0 is never valid.
 */
typedef struct MvNotificationHandleOpaque *MvNotificationHandle;
typedef struct MvSystemEventHandleOpaque *MvSystemEventHandle;
typedef struct MvNetworkHandleOpaque *MvNetworkHandle;
typedef struct MvChannelHandleOpaque *MvChannelHandle;
typedef struct MvExternalFlashHandleOpaque *MvExternalFlashHandle;

/* ------------------------------------------------------------------------------------
 * Strings: app-owned bytes, not NUL-terminated.
 */

/* Input: `length` bytes at `data`, read by the kernel during the call only. */
struct MvSizedString {
    const uint8_t *data;
    uint32_t length;
};

/* Output: the kernel writes at most `size` bytes to `data` and the count to *length. */
struct MvSizedStringBuffer {
    uint8_t *data;
    uint32_t size;
    uint32_t *length;
};

/* ------------------------------------------------------------------------------------
 * Notifications
 */

/* One 16-byte record; `microseconds` is on the mvGetMicroseconds time base. */
struct MvNotification {
    uint64_t microseconds;
    enum MvEventType event_type;
    uint32_t tag;
};

/* `buffer`: app-owned ring (8-aligned; size a multiple of 16, at least 32) that the kernel
 * fills at its own write index, pending `irq` after each record. The app configures and
 * enables `irq` itself, and sets event_type to MV_EVENTTYPE_NOEVENT as it consumes. */
struct MvNotificationSetup {
    uint32_t irq;
    struct MvNotification *buffer;
    uint32_t buffer_size;
};

/* Routes a system-wide event stream into an existing notification center. */
struct MvOpenSystemNotificationParams {
    MvNotificationHandle notification_handle;
    uint32_t notification_tag;
    enum MvSystemNotificationSource notification_source;
};

/* Creates a notification center (at most 32). Errors: INVALIDBUFFERSIZE,
 * BUFFERALREADYINUSE, INVALIDINTERRUPT (IRQ not the app's or taken), TOOMANYNOTIFICATIONBUFFERS. */
enum MvStatus mvSetupNotifications(const struct MvNotificationSetup *setup,
                                   MvNotificationHandle *handle_out);
/* Stops new records and IRQ pends (an IRQ already pending stays pending); writes 0 to *handle. */
enum MvStatus mvCloseNotifications(MvNotificationHandle *handle);
/* Appends a record of the given type and tag to a center, as if an event had occurred. */
enum MvStatus mvTempTriggerNotification(MvNotificationHandle handle, enum MvEventType type,
                                        uint32_t tag);
/* Subscribe/unsubscribe to system events; UNAVAILABLE when called from an interrupt. */
enum MvStatus mvOpenSystemNotification(const struct MvOpenSystemNotificationParams *params,
                                       MvSystemEventHandle *handle_out);
enum MvStatus mvCloseSystemNotification(MvSystemEventHandle *handle);

/* ------------------------------------------------------------------------------------
 * Time, clocks, identity
 */

/* Does nothing; always returns MV_STATUS_OKAY. */
enum MvStatus mvNoOp(void);
/* Monotonic microseconds since the kernel booted. */
enum MvStatus mvGetMicroseconds(uint64_t *usec_out);
/* Unix time in microseconds; TIMENOTSET until the server has supplied the time. */
enum MvStatus mvGetWallTime(uint64_t *usec_out);
/* Current clock frequencies in Hz: core (SYSCLK), AHB, APB1, APB2. */
enum MvStatus mvGetSysClk(uint32_t *hz_out);
enum MvStatus mvGetHClk(uint32_t *hz_out);
enum MvStatus mvGetPClk1(uint32_t *hz_out);
enum MvStatus mvGetPClk2(uint32_t *hz_out);
/* Writes the printable 34-byte device ID; `len` must be exactly 34 (else INVALIDBUFFERSIZE). */
enum MvStatus mvGetDeviceId(uint8_t *buf, uint32_t len);

/* ------------------------------------------------------------------------------------
 * Kernel-mediated peripheral registers, system LED
 */

/* Reads a register the kernel mediates (e.g. clock control); other addresses or
 * unaligned ones give PERIPHERALACCESSFAULT. */
enum MvStatus mvPeriphPeek32(uint32_t reg, uint32_t *value_out);
/* *reg = (*reg & ~mask) ^ xorvalue, restricted to the bits the app may change (others are
 * silently kept); addresses the kernel does not mediate give PERIPHERALACCESSFAULT. */
enum MvStatus mvPeriphPoke32(uint32_t reg, uint32_t mask, uint32_t xorvalue);
/* 0 turns the system LED off, 1 back on; other values are reserved. */
enum MvStatus mvSystemLedEnable(uint32_t enable);

/* ------------------------------------------------------------------------------------
 * Fast (low-latency) interrupts
 */

/* Mark/unmark, enable/disable an app IRQ as fast; INVALIDINTERRUPT if not the app's,
 * INVALIDVECTOR if its vector is not in app memory. */
enum MvStatus mvSetFastInterrupt(uint32_t irqn);
enum MvStatus mvClearFastInterrupt(uint32_t irqn);
enum MvStatus mvEnableFastInterrupt(uint32_t irqn);
enum MvStatus mvDisableFastInterrupt(uint32_t irqn);
/* Mask all fast interrupts / undo that; individual enable states are kept. */
enum MvStatus mvDisableAllFastInterrupts(void);
enum MvStatus mvEnableAllFastInterrupts(void);

/* ------------------------------------------------------------------------------------
 * Power and restart (all return UNAVAILABLE when called from an interrupt)
 */

/* Enters a low-power mode until the next interrupt; MICROVISORBUSY while the network is in use. */
enum MvStatus mvPowerSave(enum MvPowerSavingMode mode);
/* Enters deep sleep; the app restarts on wake (see mvGetWakeReason). */
enum MvStatus mvDeepSleep(enum MvDeepSleepMode mode);
/* Why the app was last started. */
enum MvStatus mvGetWakeReason(enum MvWakeReason *reason_out);
/* AUTOAPPLYUPDATE: restarts the app, or the device if a kernel update is pending;
 * does not return on success. */
enum MvStatus mvRestart(enum MvRestartMode mode);

/* ------------------------------------------------------------------------------------
 * Logging to the server, and factory-test logging
 */

/* Hands the kernel an app-owned buffer for queued log messages; it stays the kernel's
 * until the app restarts. */
enum MvStatus mvServerLoggingInit(uint8_t *buffer, uint32_t length_bytes);
/* Queues one message, best-effort and rate-limited; LOGMESSAGETOOLONG,
 * LOGGINGDISABLEDBYSERVER, UNAVAILABLE before mvServerLoggingInit. */
enum MvStatus mvServerLog(const uint8_t *message, uint16_t length_bytes);
/* Factory-test mode only (else UNAVAILABLE): finish with a status (0 = pass), and log
 * to the provisioning console through an app-owned buffer. */
enum MvStatus mvTestingComplete(uint32_t status);
enum MvStatus mvTestLoggingInit(uint8_t *buffer, uint32_t length_bytes);
enum MvStatus mvTestLog(const uint8_t *message, uint16_t length_bytes);

/* ------------------------------------------------------------------------------------
 * External flash: the app's area of the kernel-owned flash (UNAVAILABLE from an interrupt)
 */

struct MvExternalFlashInfo {
    uint32_t version;
    MV_ANON_UNION {
        struct {
            uint32_t chip_id;
            uint32_t size;        /* bytes available to the app */
            uint32_t num_handles; /* handles currently open */
        } v1;
    };
};

/* Open writes a new handle to *handle_out; close writes 0 back to *handle. */
enum MvStatus mvExternalFlashOpen(MvExternalFlashHandle *handle_out);
enum MvStatus mvExternalFlashClose(MvExternalFlashHandle *handle);
/* Blocking copy of `length` bytes at `address` in the app area; ADDRESSOUTOFRANGE past its end. */
enum MvStatus mvExternalFlashReadBlocking(MvExternalFlashHandle handle, uint32_t address,
                                          uint32_t length, uint8_t *buffer);
enum MvStatus mvExternalFlashWriteBlocking(MvExternalFlashHandle handle, uint32_t address,
                                           uint32_t length, const uint8_t *buffer);
/* `address` and `length` must be multiples of 4096 (else INVALIDBUFFERALIGNMENT). */
enum MvStatus mvExternalFlashEraseBlocking(MvExternalFlashHandle handle, uint32_t address,
                                           uint32_t length);
/* The app sets info->version = 1; the kernel fills v1. */
enum MvStatus mvExternalFlashGetInfo(MvExternalFlashHandle handle,
                                     struct MvExternalFlashInfo *info);

/* ------------------------------------------------------------------------------------
 * Wi-Fi credentials (on boards with Wi-Fi)
 */

struct MvWifiConfig {
    uint32_t version;
    MV_ANON_UNION {
        struct {
            enum MvWifiConfigMode config_mode;
            struct MvSizedString wifi_ssid;
            struct MvSizedString wifi_password;
        } v1;
    };
};

/* Every output goes through the pointers inside, so the struct itself is read-only. */
struct MvWifiConfigOut {
    uint32_t version;
    MV_ANON_UNION {
        struct {
            struct MvSizedStringBuffer ssid;
            uint8_t *has_encryption;
        } v1;
    };
};

/* Store (APPLYNOW) or erase (CLEARNOW) the credentials; read back the SSID and whether
 * the network is encrypted (the password is never returned). */
enum MvStatus mvSetWifiConfig(const struct MvWifiConfig *config);
enum MvStatus mvGetWifiConfig(const struct MvWifiConfigOut *config_out);

/* ------------------------------------------------------------------------------------
 * Network requests
 */

struct MvRequestNetworkParams {
    uint32_t version;
    MV_ANON_UNION {
        struct {
            MvNotificationHandle notification_handle;
            uint32_t notification_tag;
        } v1;
    };
};

/* Asks the kernel to bring up and keep up the cloud link; status changes arrive as
 * NETWORKSTATUSCHANGED in the given center. Release writes 0 back to *handle. */
enum MvStatus mvRequestNetwork(const struct MvRequestNetworkParams *params,
                               MvNetworkHandle *handle_out);
enum MvStatus mvReleaseNetwork(MvNetworkHandle *handle);
enum MvStatus mvGetNetworkStatus(MvNetworkHandle handle, enum MvNetworkStatus *status_out);
/* *reasons_out is an OR of MV_NETWORKREASON_* bits; *request_ref_count_out counts open requests. */
enum MvStatus mvGetNetworkReasons(enum MvNetworkReason *reasons_out,
                                  uint32_t *request_ref_count_out);

/* ------------------------------------------------------------------------------------
 * Channels: byte pipes to the cloud through app-owned buffers
 */

/* The two buffers stay app-owned but reserved for the channel until it is closed. */
struct MvOpenChannelParams {
    uint32_t version;
    MV_ANON_UNION {
        struct {
            MvNotificationHandle notification_handle;
            uint32_t notification_tag;
            MvNetworkHandle network_handle;
            uint8_t *receive_buffer;
            uint32_t receive_buffer_len;
            uint8_t *send_buffer;
            uint32_t send_buffer_len;
            enum MvChannelType channel_type;
            struct MvSizedString endpoint;
        } v1;
    };
};

/* Needs a connected network; at most 4 open channels (TOOMANYCHANNELS) and 8 opens per
 * second (RATELIMITED). Close writes 0 back to *handle. */
enum MvStatus mvOpenChannel(const struct MvOpenChannelParams *params,
                            MvChannelHandle *handle_out);
enum MvStatus mvCloseChannel(MvChannelHandle *handle);
/* Points *data_out at the unread bytes inside the receive buffer (no copy) and gives their
 * count; mvReadChannelComplete then releases `consumed` of them. */
enum MvStatus mvReadChannel(MvChannelHandle handle, uint8_t **data_out, uint32_t *length_out);
enum MvStatus mvReadChannelComplete(MvChannelHandle handle, uint32_t consumed);
/* Copies as many of `len` bytes as fit and reports how many were taken. */
enum MvStatus mvWriteChannelStream(MvChannelHandle handle, const uint8_t *data, uint32_t len,
                                   uint32_t *written_out);
/* All-or-nothing copy (INVALIDBUFFERSIZE if it does not fit); *available_out gets the free
 * space, so len 0 just queries it. */
enum MvStatus mvWriteChannel(MvChannelHandle handle, const uint8_t *data, uint32_t len,
                             uint32_t *available_out);
enum MvStatus mvGetChannelClosureReason(MvChannelHandle handle,
                                        enum MvClosureReason *reason_out);

/* ------------------------------------------------------------------------------------
 * HTTP, relayed by the cloud over a channel of type HTTP (one request per channel)
 */

/* One "Name: value" header line; note that length comes first here. */
struct MvHttpHeader {
    uint32_t length;
    const uint8_t *data;
};

/* method: GET HEAD POST PUT DELETE PATCH OPTIONS; url: https:// only; at most 32 headers. */
struct MvHttpRequest {
    struct MvSizedString method;
    struct MvSizedString url;
    uint32_t num_headers;
    const struct MvHttpHeader *headers;
    struct MvSizedString body;
    uint32_t timeout_ms;
};

struct MvHttpResponseData {
    enum MvHttpResult result;
    uint32_t status_code;
    uint32_t num_headers;
    uint32_t body_length;
};

/* Serialises the request into the send buffer (INVALIDBUFFERSIZE if it does not fit,
 * TOOMANYELEMENTS, REQUESTALREADYSENT); the response is announced by CHANNELDATAREADABLE. */
enum MvStatus mvSendHttpRequest(MvChannelHandle handle, const struct MvHttpRequest *request);
/* RESPONSENOTPRESENT until the response has arrived; it must fit the receive buffer. */
enum MvStatus mvReadHttpResponseData(MvChannelHandle handle,
                                     struct MvHttpResponseData *response_out);
/* Copies up to `size` bytes of header `index` (INDEXINVALID) or of the body from `offset`
 * (OFFSETINVALID); no terminator is added. */
enum MvStatus mvReadHttpResponseHeader(MvChannelHandle handle, uint32_t index, uint8_t *buf,
                                       uint32_t size);
enum MvStatus mvReadHttpResponseBody(MvChannelHandle handle, uint32_t offset, uint8_t *buf,
                                     uint32_t size);

/* ------------------------------------------------------------------------------------
 * Config and secrets, over a channel of type CONFIGFETCH
 */

/* Keys: printable ASCII, at most 100 characters. Values: at most 4096 bytes. */
struct MvConfigKeyToFetch {
    enum MvConfigKeyFetchScope scope;
    enum MvConfigKeyFetchStore store;
    struct MvSizedString key;
};

struct MvConfigKeyFetchParams {
    uint32_t num_items;
    const struct MvConfigKeyToFetch *keys_to_fetch;
};

struct MvConfigResponseData {
    enum MvConfigFetchResult result;
    uint32_t num_items;
};

/* Outputs go through `result` and `buf`, so the struct itself is read-only. */
struct MvConfigResponseReadItemParams {
    uint32_t item_index;
    enum MvConfigKeyFetchResult *result;
    struct MvSizedStringBuffer buf;
};

/* One fetch per channel (REQUESTALREADYSENT); items come back in request order. */
enum MvStatus mvSendConfigFetchRequest(MvChannelHandle handle,
                                       const struct MvConfigKeyFetchParams *request);
enum MvStatus mvReadConfigFetchResponseData(MvChannelHandle handle,
                                            struct MvConfigResponseData *response_out);
enum MvStatus mvReadConfigResponseItem(MvChannelHandle handle,
                                       const struct MvConfigResponseReadItemParams *params);

/* ------------------------------------------------------------------------------------
 * MQTT, over a channel of type MQTT (the kernel and cloud act as the client of the
 * app's broker). Requests complete later: on CHANNELDATAREADABLE, ask
 * mvMqttGetNextReadableDataType what arrived, then read it with the matching call.
 */

struct MvUsernamePassword {
    struct MvSizedString username;
    struct MvSizedString password;
};

struct MvMqttAuthentication {
    enum MvMqttAuthenticationMethod method;
    struct MvUsernamePassword username_password;
};

struct MvTlsCertificateChain {
    uint32_t num_certs;
    const struct MvSizedString *certs;
};

struct MvOwnTlsCertificateChain {
    struct MvTlsCertificateChain chain;
    struct MvSizedString key;
};

/* At most 8 certificates in each chain. */
struct MvTlsCredentials {
    struct MvTlsCertificateChain cacert;
    struct MvOwnTlsCertificateChain clientcert;
};

struct MvMqttWill {
    struct MvSizedString topic;
    struct MvSizedString payload;
    uint32_t qos;
    uint8_t retain;
};

/* tls_credentials and will may be NULL. */
struct MvMqttConnectRequest {
    enum MvMqttProtocolVersion protocol_version;
    struct MvSizedString host;
    uint16_t port;
    struct MvSizedString clientid;
    struct MvMqttAuthentication authentication;
    const struct MvTlsCredentials *tls_credentials;
    uint32_t keepalive;
    uint8_t clean_start;
    const struct MvMqttWill *will;
};

struct MvMqttConnectResponse {
    enum MvMqttRequestState request_state;
    uint32_t reason_code;
};

struct MvMqttSubscription {
    struct MvSizedString topic;
    uint32_t desired_qos;
    uint32_t nl;  /* MQTT 5 no-local */
    uint32_t rap; /* MQTT 5 retain-as-published */
    uint32_t rh;  /* MQTT 5 retain handling */
};

/* At most 8 subscriptions (or topics) per request. */
struct MvMqttSubscribeRequest {
    uint32_t correlation_id;
    const struct MvMqttSubscription *subscriptions;
    uint32_t num_subscriptions;
};

/* All outputs go through the pointers; reason_codes_size is in bytes. */
struct MvMqttSubscribeResponse {
    enum MvMqttRequestState *request_state;
    uint32_t *correlation_id;
    uint32_t *reason_codes;
    uint32_t reason_codes_size;
    uint32_t *reason_codes_len;
};

struct MvMqttUnsubscribeRequest {
    uint32_t correlation_id;
    const struct MvSizedString *topics;
    uint32_t num_topics;
};

struct MvMqttUnsubscribeResponse {
    enum MvMqttRequestState *request_state;
    uint32_t *correlation_id;
    uint32_t *reason_codes;
    uint32_t reason_codes_size;
    uint32_t *reason_codes_len;
};

struct MvMqttPublishRequest {
    uint32_t correlation_id;
    struct MvSizedString topic;
    struct MvSizedString payload;
    uint32_t desired_qos;
    uint32_t retain;
};

struct MvMqttPublishResponse {
    enum MvMqttRequestState request_state;
    uint32_t correlation_id;
    uint32_t reason_code;
};

/* All outputs go through the pointers and buffers. */
struct MvMqttMessage {
    uint32_t *correlation_id;
    struct MvSizedStringBuffer topic;
    struct MvSizedStringBuffer payload;
    uint32_t *qos;
    uint8_t *retain;
};

struct MvMqttLostMessageInfo {
    enum MvMqttLostMessageReason *reason;
    struct MvSizedStringBuffer topic;
    uint32_t *message_len;
};

struct MvMqttDisconnectResponse {
    enum MvMqttRequestState request_state;
    uint32_t disconnect_code;
};

/* What the next unread item on the channel is (NONE if nothing is waiting). */
enum MvStatus mvMqttGetNextReadableDataType(MvChannelHandle handle,
                                            enum MvMqttReadableDataType *type_out);
/* One connect per channel (REQUESTALREADYSENT); INVALIDAUTHENTICATION, TOOMANYELEMENTS,
 * REQUIREDELEMENTMISSING check the request before anything is sent. */
enum MvStatus mvMqttRequestConnect(MvChannelHandle handle,
                                   const struct MvMqttConnectRequest *request);
enum MvStatus mvMqttReadConnectResponse(MvChannelHandle handle,
                                        struct MvMqttConnectResponse *response_out);
/* One subscribe (and one unsubscribe) in flight at a time (RATELIMITED); responses carry
 * the request's correlation_id and one reason code per topic. */
enum MvStatus mvMqttRequestSubscribe(MvChannelHandle handle,
                                     const struct MvMqttSubscribeRequest *request);
enum MvStatus mvMqttReadSubscribeResponse(MvChannelHandle handle,
                                          const struct MvMqttSubscribeResponse *response);
enum MvStatus mvMqttRequestUnsubscribe(MvChannelHandle handle,
                                       const struct MvMqttUnsubscribeRequest *request);
enum MvStatus mvMqttReadUnsubscribeResponse(MvChannelHandle handle,
                                            const struct MvMqttUnsubscribeResponse *response);
enum MvStatus mvMqttRequestPublish(MvChannelHandle handle,
                                   const struct MvMqttPublishRequest *request);
enum MvStatus mvMqttReadPublishResponse(MvChannelHandle handle,
                                        struct MvMqttPublishResponse *response_out);
enum MvStatus mvMqttRequestDisconnect(MvChannelHandle handle);
enum MvStatus mvMqttReadDisconnectResponse(MvChannelHandle handle,
                                           struct MvMqttDisconnectResponse *response_out);
/* Copy out a received message (INVALIDBUFFERSIZE if a buffer is too small) or the details
 * of one dropped because it did not fit the receive buffer. */
enum MvStatus mvMqttReceiveMessage(MvChannelHandle handle, const struct MvMqttMessage *message);
enum MvStatus mvMqttReceiveLostMessageInfo(MvChannelHandle handle,
                                           const struct MvMqttLostMessageInfo *info);
/* Acknowledges a message received with QoS > 0, or the broker will redeliver it. */
enum MvStatus mvMqttAcknowledgeMessage(MvChannelHandle handle, uint32_t correlation_id);

/* ------------------------------------------------------------------------------------
 * Layout checks for the real target (Cortex-M, AAPCS, short enums)
 */
#if defined(__ARM_EABI__) && defined(__GNUC__)
#if defined(__cplusplus) && __cplusplus >= 201103L
#define MV_ABI_ASSERT(cond, msg) static_assert(cond, msg)
#elif !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define MV_ABI_ASSERT(cond, msg) _Static_assert(cond, msg)
#else /* C99 / C++98: a negative array size stops the build instead */
#define MV_ABI_CAT2(a, b) a##b
#define MV_ABI_CAT(a, b) MV_ABI_CAT2(a, b)
#define MV_ABI_ASSERT(cond, msg) \
    typedef char MV_ABI_CAT(mv_abi_assert_line_, __LINE__)[(cond) ? 1 : -1]
#endif
MV_ABI_ASSERT(sizeof(struct MvNotification) == 16, "MvNotification must be 16 bytes");
MV_ABI_ASSERT(sizeof(struct MvHttpRequest) == 36, "MvHttpRequest must be 36 bytes");
MV_ABI_ASSERT(sizeof(struct MvOpenChannelParams) == 44, "MvOpenChannelParams must be 44 bytes");
MV_ABI_ASSERT(sizeof(enum MvStatus) == 4, "MvStatus must be 4 bytes");
MV_ABI_ASSERT(sizeof(enum MvWakeReason) == 1,
              "1-byte enums need short enums (the arm-none-eabi default); "
              "do not build apps with -fno-short-enums");
#undef MV_ABI_ASSERT
#undef MV_ABI_CAT
#undef MV_ABI_CAT2
#endif

#undef MV_ANON_UNION
#if defined(__cplusplus) && defined(__clang__)
#pragma clang diagnostic pop
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MV_SYSCALLS_H */
