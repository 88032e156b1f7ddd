/*
 * config-demo: an app that reads its config values and secrets through the
 * kernel's cloud link (docs/SPEC.md §17), notification-driven like
 * http-demo, bare metal or under FreeRTOS (apps/common/demo.h): a
 * notification center on IRQ 66 whose handler only counts events
 * (CHANNELDATAREADABLE, CHANNELNOTCONNECTED, NETWORKSTATUSCHANGED), wakes
 * the steps (demo_woken) and never calls the kernel; the steps sleep
 * (demo_wait) between them.
 *
 * Steps, each on a fresh CONFIGFETCH channel once the network is connected:
 *   values  fetches greeting (account), greeting (device: its override),
 *           interval (device: none, so the account's), api_token (secret,
 *           account) and missing (account): prints each item's result and
 *           value; the missing key is KEYNOTFOUND (1);
 *   errors  the calls' error paths: no keys (PARAMETERFAULT), 17 keys
 *           (TOOMANYCONFIGKEYS), scope 7 (UNKNOWNCONFIGSCOPE), store 7
 *           (UNKNOWNCONFIGSTORE), "bad key" (INVALIDCONFIGKEY), a stale
 *           handle (INVALIDHANDLE), a read before any fetch
 *           (RESPONSENOTPRESENT), then after a fetch: index past the end
 *           (INDEXINVALID) and a buffer too small (INVALIDBUFFERSIZE), with
 *           the app's result, length and value buffers checked untouched.
 * Every line goes to the app's console (UART0), prefixed "config-demo:".
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "demo.h"
#include "mv_syscalls.h"

#define NOTIFY_IRQ 66u
#define NOTIFY_SLOTS 16u
#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_IPR(n)  (*(volatile uint8_t *)(0xE000E400u + (n)))
#define TAG_NETWORK 1u
#define TAG_CHANNEL 2u
#define UNTOUCHED 0x5Au

static struct MvNotification notifications[NOTIFY_SLOTS] __attribute__((aligned(8)));
static uint8_t rx_buffer[8192] __attribute__((aligned(512)));
static uint8_t tx_buffer[2048] __attribute__((aligned(512)));
static volatile uint32_t notify_index;
static volatile uint32_t network_events;
static volatile uint32_t readable_events;
static volatile uint32_t notconnected_events;
static MvNetworkHandle network;
static MvNotificationHandle center;

void IRQ66_Handler(void);
void IRQ66_Handler(void)
{
    struct MvNotification *slot = &notifications[notify_index];
    while (slot->event_type != MV_EVENTTYPE_NOEVENT) {
        if (slot->event_type == MV_EVENTTYPE_CHANNELDATAREADABLE) {
            readable_events++;
        } else if (slot->event_type == MV_EVENTTYPE_CHANNELNOTCONNECTED) {
            notconnected_events++;
        } else if (slot->event_type == MV_EVENTTYPE_NETWORKSTATUSCHANGED) {
            network_events++;
        }
        slot->event_type = MV_EVENTTYPE_NOEVENT;
        notify_index = (notify_index + 1u) % NOTIFY_SLOTS;
        slot = &notifications[notify_index];
    }
    demo_woken();
}

static void wait_connected(void)
{
    for (;;) {
        uint32_t seen = network_events;
        enum MvNetworkStatus status = MV_NETWORKSTATUS_DELIBERATELYOFFLINE;
        if (mvGetNetworkStatus(network, &status) == MV_STATUS_OKAY && status == MV_NETWORKSTATUS_CONNECTED) {
            return;
        }
        while (network_events == seen) {
            demo_wait();
        }
    }
}

static MvChannelHandle open_channel(const char *step)
{
    wait_connected();
    struct MvOpenChannelParams params = { .version = 1 };
    params.v1.notification_handle = center;
    params.v1.notification_tag = TAG_CHANNEL;
    params.v1.network_handle = network;
    params.v1.receive_buffer = rx_buffer;
    params.v1.receive_buffer_len = sizeof rx_buffer;
    params.v1.send_buffer = tx_buffer;
    params.v1.send_buffer_len = sizeof tx_buffer;
    params.v1.channel_type = MV_CHANNELTYPE_CONFIGFETCH;
    MvChannelHandle channel = 0;
    enum MvStatus status = mvOpenChannel(&params, &channel);
    printf("config-demo: %s: open status %u\n", step, (unsigned)status);
    return status == MV_STATUS_OKAY ? channel : 0;
}

static struct MvConfigKeyToFetch key(enum MvConfigKeyFetchScope scope, enum MvConfigKeyFetchStore store,
                                     const char *name)
{
    return (struct MvConfigKeyToFetch){ .scope = scope, .store = store,
                                        .key = { (const uint8_t *)name, (uint32_t)strlen(name) } };
}

/* Sends the fetch and sleeps until it is answered (or the channel drops). */
static enum MvStatus fetch(const char *step, MvChannelHandle channel, const struct MvConfigKeyToFetch *keys,
                           uint32_t count)
{
    struct MvConfigKeyFetchParams request = { .num_items = count, .keys_to_fetch = keys };
    uint32_t readable = readable_events;
    uint32_t notconnected = notconnected_events;
    enum MvStatus status = mvSendConfigFetchRequest(channel, &request);
    printf("config-demo: %s: sent %" PRIu32 " keys (status %u)\n", step, count, (unsigned)status);
    while (status == MV_STATUS_OKAY && readable_events == readable && notconnected_events == notconnected) {
        demo_wait();
    }
    if (notconnected_events != notconnected) {
        printf("config-demo: %s: channel not connected\n", step);
        return MV_STATUS_CHANNELCLOSED;
    }
    return status;
}

static void values(void)
{
    static const char *const names[] = { "greeting", "greeting", "interval", "api_token", "missing" };
    struct MvConfigKeyToFetch keys[5] = {
        key(MV_CONFIGKEYFETCHSCOPE_ACCOUNT, MV_CONFIGKEYFETCHSTORE_CONFIG, names[0]),
        key(MV_CONFIGKEYFETCHSCOPE_DEVICE, MV_CONFIGKEYFETCHSTORE_CONFIG, names[1]),
        key(MV_CONFIGKEYFETCHSCOPE_DEVICE, MV_CONFIGKEYFETCHSTORE_CONFIG, names[2]),
        key(MV_CONFIGKEYFETCHSCOPE_ACCOUNT, MV_CONFIGKEYFETCHSTORE_SECRET, names[3]),
        key(MV_CONFIGKEYFETCHSCOPE_ACCOUNT, MV_CONFIGKEYFETCHSTORE_CONFIG, names[4]),
    };
    MvChannelHandle channel = open_channel("values");
    if (channel == 0 || fetch("values", channel, keys, 5) != MV_STATUS_OKAY) {
        return;
    }
    struct MvConfigResponseData data;
    enum MvStatus status = mvReadConfigFetchResponseData(channel, &data);
    printf("config-demo: values: response status %u result %u items %" PRIu32 "\n", (unsigned)status,
           (unsigned)data.result, data.num_items);
    for (uint32_t i = 0; status == MV_STATUS_OKAY && i < data.num_items; i++) {
        char value[257] = { 0 };
        uint32_t length = 0;
        enum MvConfigKeyFetchResult result = MV_CONFIGKEYFETCHRESULT__MAX;
        struct MvConfigResponseReadItemParams item = {
            .item_index = i, .result = &result,
            .buf = { .data = (uint8_t *)value, .size = sizeof value - 1u, .length = &length } };
        enum MvStatus s = mvReadConfigResponseItem(channel, &item);
        printf("config-demo: values: item %" PRIu32 " %s %s: status %u result %u length %" PRIu32 " value '%s'\n",
               i, keys[i].scope == MV_CONFIGKEYFETCHSCOPE_DEVICE ? "device" : "account", names[i], (unsigned)s,
               (unsigned)result, length, value);
    }
    status = mvCloseChannel(&channel);
    printf("config-demo: values: closed (status %u)\n", (unsigned)status);
}

/* One error-path line: the status a call gave against the one documented. */
static void expect(const char *what, enum MvStatus got, enum MvStatus want)
{
    printf("config-demo: errors: %s: status %u (%s)\n", what, (unsigned)got, got == want ? "as documented" : "WRONG");
}

static void errors(void)
{
    MvChannelHandle channel = open_channel("errors");
    if (channel == 0) {
        return;
    }
    struct MvConfigKeyToFetch keys[17];
    for (size_t i = 0; i < 17; i++) {
        keys[i] = key(MV_CONFIGKEYFETCHSCOPE_ACCOUNT, MV_CONFIGKEYFETCHSTORE_CONFIG, "greeting");
    }
    struct MvConfigKeyFetchParams request = { .num_items = 0, .keys_to_fetch = keys };
    expect("no keys", mvSendConfigFetchRequest(channel, &request), MV_STATUS_PARAMETERFAULT);
    request.num_items = 17;
    expect("17 keys", mvSendConfigFetchRequest(channel, &request), MV_STATUS_TOOMANYCONFIGKEYS);
    request.num_items = 1;
    keys[0].scope = (enum MvConfigKeyFetchScope)7;
    expect("scope 7", mvSendConfigFetchRequest(channel, &request), MV_STATUS_UNKNOWNCONFIGSCOPE);
    keys[0] = key(MV_CONFIGKEYFETCHSCOPE_ACCOUNT, (enum MvConfigKeyFetchStore)7, "greeting");
    expect("store 7", mvSendConfigFetchRequest(channel, &request), MV_STATUS_UNKNOWNCONFIGSTORE);
    keys[0] = key(MV_CONFIGKEYFETCHSCOPE_ACCOUNT, MV_CONFIGKEYFETCHSTORE_CONFIG, "bad key");
    expect("key with a space", mvSendConfigFetchRequest(channel, &request), MV_STATUS_INVALIDCONFIGKEY);
    keys[0] = key(MV_CONFIGKEYFETCHSCOPE_ACCOUNT, MV_CONFIGKEYFETCHSTORE_CONFIG, "greeting");
    expect("stale handle", mvSendConfigFetchRequest((MvChannelHandle)(uintptr_t)0x7777u, &request),
           MV_STATUS_INVALIDHANDLE);
    struct MvConfigResponseData data = { .result = (enum MvConfigFetchResult)UNTOUCHED, .num_items = UNTOUCHED };
    expect("read before a fetch", mvReadConfigFetchResponseData(channel, &data), MV_STATUS_RESPONSENOTPRESENT);
    bool untouched = data.result == (enum MvConfigFetchResult)UNTOUCHED && data.num_items == UNTOUCHED;
    if (fetch("errors", channel, keys, 1) != MV_STATUS_OKAY) {
        return;
    }
    expect("second fetch", mvSendConfigFetchRequest(channel, &request), MV_STATUS_REQUESTALREADYSENT);
    uint8_t small[4];
    memset(small, UNTOUCHED, sizeof small);
    uint32_t length = UNTOUCHED;
    enum MvConfigKeyFetchResult result = (enum MvConfigKeyFetchResult)UNTOUCHED;
    struct MvConfigResponseReadItemParams item = {
        .item_index = 1, .result = &result, .buf = { .data = small, .size = sizeof small, .length = &length } };
    expect("index 1 of 1", mvReadConfigResponseItem(channel, &item), MV_STATUS_INDEXINVALID);
    item.item_index = 0;
    expect("4-byte buffer", mvReadConfigResponseItem(channel, &item), MV_STATUS_INVALIDBUFFERSIZE);
    for (size_t i = 0; i < sizeof small; i++) {
        untouched = untouched && small[i] == UNTOUCHED;
    }
    untouched = untouched && length == UNTOUCHED && result == (enum MvConfigKeyFetchResult)UNTOUCHED;
    printf("config-demo: errors: buffers untouched on error: %s\n", untouched ? "yes" : "NO");
    enum MvStatus status = mvCloseChannel(&channel);
    expect("read after close", mvReadConfigFetchResponseData(channel, &data), MV_STATUS_INVALIDHANDLE);
    printf("config-demo: errors: closed (status %u)\n", (unsigned)status);
}

const char demo_name[] = "config-demo";

void demo_run(void)
{
    struct MvNotificationSetup setup = {
        .irq = NOTIFY_IRQ, .buffer = notifications, .buffer_size = sizeof notifications,
    };
    enum MvStatus status = mvSetupNotifications(&setup, &center);
    NVIC_IPR(NOTIFY_IRQ) = 0x80u;
    NVIC_ISER(NOTIFY_IRQ / 32u) = 1u << (NOTIFY_IRQ % 32u);
    struct MvRequestNetworkParams params = { .version = 1 };
    params.v1.notification_handle = center;
    params.v1.notification_tag = TAG_NETWORK;
    enum MvStatus request = mvRequestNetwork(&params, &network);
    printf("config-demo: started (notifications %u, network request %u)\n", (unsigned)status, (unsigned)request);
    values();
    errors();
    printf("config-demo: done\n");
}
