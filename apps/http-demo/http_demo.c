/*
 * http-demo's steps (demo_run, apps/common/demo.h), linked bare metal and
 * with FreeRTOS: an app that reaches its own HTTPS server
 * through the kernel's cloud link (docs/SPEC.md §16), the flow of
 * Microvisor's HTTP example.
 *
 * A notification center on IRQ 65 (the app's choice) takes every event;
 * its interrupt handler only looks at the event type and sets a flag
 * (CHANNELDATAREADABLE, CHANNELNOTCONNECTED, NETWORKSTATUSCHANGED), tells
 * the variant (demo_woken) and never calls the kernel. The steps run
 * one after the other, each on a fresh HTTP channel once the network is connected: it
 * opens the channel, sends the request, waits for a flag, then reads the
 * response's status, headers and body (or, after CHANNELNOTCONNECTED, the
 * closure reason) and closes the channel. Steps:
 *   hello  GET  /hello (with a header), the server's answer printed;
 *   echo   POST /echo with a body the server sends back;
 *   big    GET  /big, larger than the receive buffer: RESPONSETOOLARGE;
 *   slow   GET  /slow, answered late: a link cut meanwhile ends it with
 *          CHANNELNOTCONNECTED (tests cut it);
 *   again  GET  /hello once the link is back.
 * Every line goes to the app's console (UART0).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "demo.h"
#include "mv_syscalls.h"

#ifndef HTTP_DEMO_HOST
#define HTTP_DEMO_HOST "demo.bulwark.test"
#endif
#ifndef HTTP_DEMO_REPEAT
#define HTTP_DEMO_REPEAT 0   /* > 0 (bench build, tests/bench): the hello step this many times, no others */
#endif
#define NOTIFY_IRQ 65u
#define NOTIFY_SLOTS 16u
#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_IPR(n)  (*(volatile uint8_t *)(0xE000E400u + (n)))
#define TAG_NETWORK 1u
#define TAG_CHANNEL 2u

static struct MvNotification notifications[NOTIFY_SLOTS] __attribute__((aligned(8)));
static uint8_t rx_buffer[2048] __attribute__((aligned(512)));
static uint8_t tx_buffer[1024] __attribute__((aligned(512)));
static volatile uint32_t notify_index;
static volatile uint32_t network_events;
static volatile uint32_t readable_events;
static volatile uint32_t notconnected_events;

void IRQ65_Handler(void);
void IRQ65_Handler(void)
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

typedef struct step {
    const char *name;
    const char *method;
    const char *path;
    const char *body;
} step;

static const step steps[] = {
    { "hello", "GET", "/hello", NULL },
    { "echo", "POST", "/echo", "ping from http-demo" },
    { "big", "GET", "/big", NULL },
    { "slow", "GET", "/slow", NULL },
    { "again", "GET", "/hello", NULL },
};

static MvNetworkHandle network;

static void wait_connected(void)
{
    for (;;) {
        uint32_t seen = network_events;   /* before the check: no change slips between */
        enum MvNetworkStatus status = MV_NETWORKSTATUS_DELIBERATELYOFFLINE;
        if (mvGetNetworkStatus(network, &status) == MV_STATUS_OKAY && status == MV_NETWORKSTATUS_CONNECTED) {
            return;
        }
        while (network_events == seen) {
            demo_wait();
        }
    }
}

static void print_response(const step *s, MvChannelHandle channel)
{
    struct MvHttpResponseData data;
    enum MvStatus status = mvReadHttpResponseData(channel, &data);
    if (status != MV_STATUS_OKAY) {
        printf("http-demo: %s: response data status %u\n", s->name, (unsigned)status);
        return;
    }
    printf("http-demo: %s: result %u status %" PRIu32 " headers %" PRIu32 " body %" PRIu32 "\n", s->name,
           (unsigned)data.result, data.status_code, data.num_headers, data.body_length);
    char text[129];
    for (uint32_t i = 0; i < data.num_headers; i++) {
        memset(text, 0, sizeof text);
        if (mvReadHttpResponseHeader(channel, i, (uint8_t *)text, sizeof text - 1u) == MV_STATUS_OKAY) {
            printf("http-demo: %s: header %s\n", s->name, text);
        }
    }
    memset(text, 0, sizeof text);
    uint32_t n = data.body_length < sizeof text - 1u ? data.body_length : sizeof text - 1u;
    if (n > 0 && mvReadHttpResponseBody(channel, 0, (uint8_t *)text, n) == MV_STATUS_OKAY) {
        printf("http-demo: %s: body %s\n", s->name, text);
    }
}

static void run(const step *s, MvNotificationHandle center)
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
    params.v1.channel_type = MV_CHANNELTYPE_HTTP;
    MvChannelHandle channel = 0;
    enum MvStatus status = mvOpenChannel(&params, &channel);
    if (status != MV_STATUS_OKAY) {
        printf("http-demo: %s: open status %u\n", s->name, (unsigned)status);
        return;
    }
    char url[96];
    int url_len = snprintf(url, sizeof url, "https://" HTTP_DEMO_HOST "%s", s->path);
    static const char header[] = "X-Demo: bulwark";
    struct MvHttpHeader headers[1] = { { sizeof header - 1u, (const uint8_t *)header } };
    struct MvHttpRequest request = {
        .method = { (const uint8_t *)s->method, (uint32_t)strlen(s->method) },
        .url = { (const uint8_t *)url, (uint32_t)url_len },
        .num_headers = 1, .headers = headers,
        .body = { (const uint8_t *)s->body, s->body != NULL ? (uint32_t)strlen(s->body) : 0u },
        .timeout_ms = 20000,
    };
    uint32_t readable = readable_events;
    uint32_t notconnected = notconnected_events;
    status = mvSendHttpRequest(channel, &request);
    printf("http-demo: %s: sent %s %s (status %u)\n", s->name, s->method, url, (unsigned)status);
    while (status == MV_STATUS_OKAY && readable_events == readable && notconnected_events == notconnected) {
        demo_wait();
    }
    if (notconnected_events != notconnected) {
        enum MvClosureReason reason = MV_CLOSUREREASON_NONE;
        (void)mvGetChannelClosureReason(channel, &reason);
        printf("http-demo: %s: channel not connected (closure reason %u)\n", s->name, (unsigned)reason);
    } else if (status == MV_STATUS_OKAY) {
        print_response(s, channel);
    }
    status = mvCloseChannel(&channel);
    printf("http-demo: %s: closed (status %u)\n", s->name, (unsigned)status);
}

const char demo_name[] = "http-demo";

void demo_run(void)
{
    MvNotificationHandle center = 0;
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
    printf("http-demo: started (notifications %u, network request %u)\n", (unsigned)status, (unsigned)request);
    size_t count = HTTP_DEMO_REPEAT > 0 ? (size_t)HTTP_DEMO_REPEAT : sizeof steps / sizeof steps[0];
    for (size_t i = 0; i < count; i++) {
        run(HTTP_DEMO_REPEAT > 0 ? &steps[0] : &steps[i], center);
    }
    printf("http-demo: done\n");
}
