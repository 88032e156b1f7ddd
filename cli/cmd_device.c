/*
 * `bulwark device`: talk to a device over its local delivery link
 * (docs/SPEC.md §9). The device's modem UART reaches us as a TCP connection
 * (on QEMU, `bulwark-emu run --link-port N` makes the emulated UART2 a TCP
 * client of 127.0.0.1:N), so these commands listen, accept one connection
 * and then speak the framed protocol (kernel/core/src/bw_link.c, the same
 * code the device uses) one request at a time: send, wait for the answer
 * with the same sequence number, resend if none comes in time.
 *
 * deliver: HELLO, HEAD (the bundle head in pieces), BEGIN, DATA from the
 * offset the device names (so a second run resumes an interrupted download),
 * FINISH, INSTALL. The device judges the bundle; this side only reads the
 * header far enough to know how long the head is.
 * provision (docs/SPEC.md §12): HELLO (the device ID), CSR_READ (the
 * device's certificate request, checked here), a certificate signed with
 * the fleet CA, PROV_DATA (certificate, CA, broker, update key), PROV_COMMIT;
 * the device checks everything again before it stores anything.
 * Exit codes: 0 done, 1 the device refused (its reason is printed), 2 bad
 * usage or input, 3 the link failed (no connection, no answer in time,
 * connection lost): run again to resume.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "bw_bytes.h"
#include "bw_keyset.h"
#include "bw_link.h"
#include "bw_manifest.h"
#include "bw_update.h"
#include "cli.h"
#include "lib_api.h"
#include "lib_api_json.h"
#include "lib_args.h"
#include "lib_bundle.h"
#include "lib_file.h"
#include "lib_kernel_image.h"
#include "lib_keys.h"
#include "lib_link_session.h"
#include "lib_x509.h"

#define DEFAULT_TIMEOUT_S 30u
#define MAX_OFFSET_RESYNCS 16   /* DATA NACKs in a row that name another offset */
#define MAX_RESTARTS 3          /* sessions lost (device restarted) within one run */

enum { OPT_LISTEN = 256, OPT_TIMEOUT, OPT_NO_INSTALL };

static const char *op_name(uint8_t op)
{
    switch (op) {
    case BW_UPDATE_OP_NONE: return "idle";
    case BW_UPDATE_OP_DOWNLOADING: return "downloading";
    case BW_UPDATE_OP_DOWNLOADED: return "downloaded (verified, not installed)";
    case BW_UPDATE_OP_BACKUP: return "backing up";
    case BW_UPDATE_OP_INSTALLING: return "installing";
    case BW_UPDATE_OP_ROLLING_BACK: return "rolling back";
    default: return "unknown";
    }
}

/* ---- listening ---- */

/* "HOST:PORT" (port 0: any free port). */
static int parse_listen(const char *text, char *host, size_t host_size, char *port, size_t port_size)
{
    const char *colon = strrchr(text, ':');
    uint32_t number;
    if (colon == NULL || colon == text || (size_t)(colon - text) >= host_size
        || !args_uint32(colon + 1, &number) || number > 65535 || strlen(colon + 1) >= port_size) {
        return cli_usage_error("device: --listen needs HOST:PORT (e.g. 127.0.0.1:5555; port 0 = "
                               "any free port), not '%s'", text);
    }
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    strcpy(port, colon + 1);
    return 0;
}

static int link_failure(link_result r, const char *what, uint32_t timeout_ms)
{
    if (r == LINK_TIMEOUT) {
        fprintf(stderr, "bulwark: no answer to %s within %u s (run again to resume)\n", what,
                (unsigned)(timeout_ms / 1000u));
    } else {
        fprintf(stderr, "bulwark: connection lost during %s (run again to resume)\n", what);
    }
    return EXIT_LINK;
}

/* A NACK's text as a C string. */
static void nack_text(const answer *a, char *out, size_t size)
{
    size_t n = a->len > BW_LINK_NACK_FIXED ? a->len - BW_LINK_NACK_FIXED : 0;
    n = n < size - 1 ? n : size - 1;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = a->payload[BW_LINK_NACK_FIXED + i];
        out[i] = c >= 0x20 && c < 0x7F ? (char)c : '?';
    }
    out[n] = '\0';
}

/* Prints the device's refusal and returns 1; or, for an answer that is not
 * a NACK where an ACK was expected, reports a protocol error. */
static int refused(const answer *a, const char *what)
{
    if (a->type != BW_LINK_NACK || a->len < BW_LINK_NACK_FIXED) {
        fprintf(stderr, "bulwark: unexpected answer 0x%02x to %s\n", a->type, what);
        return EXIT_LINK;
    }
    char text[BW_LINK_REASON_MAX + 1];
    nack_text(a, text, sizeof text);
    fprintf(stderr, "bulwark: the device refused %s: %s\n", what, text);
    return 1;
}

typedef struct device_status {
    uint8_t op;
    uint8_t flags;
    uint32_t app_version;
    uint32_t highest_version;
    uint32_t expected_offset;
    uint32_t kernel_version;
    char device_id[BW_LINK_STATUS_SIZE];
} device_status;

/* A STATUS answer into *st: 0, or an exit code with the reason printed. */
static int hello_parse(const answer *a, device_status *st)
{
    if (a->type != BW_LINK_STATUS || a->len < BW_LINK_STATUS_SIZE) {
        return refused(a, "HELLO");
    }
    if (a->payload[0] != BW_LINK_VERSION) {
        fprintf(stderr, "bulwark: the device speaks link protocol version %u, not %u\n",
                a->payload[0], BW_LINK_VERSION);
        return EXIT_LINK;
    }
    st->op = a->payload[1];
    st->flags = a->payload[2];
    st->app_version = bw_get32(a->payload + 4);
    st->highest_version = bw_get32(a->payload + 8);
    st->expected_offset = bw_get32(a->payload + 12);
    st->kernel_version = bw_get32(a->payload + 20);
    memset(st->device_id, 0, sizeof st->device_id);
    for (size_t i = 0; i < 34u; i++) {
        uint8_t c = a->payload[28 + i];
        st->device_id[i] = c >= 0x20 && c < 0x7F ? (char)c : '\0';
    }
    return 0;
}

static int hello(link_session *s, device_status *st, bool print)
{
    answer a;
    link_result r = link_request(s, BW_LINK_HELLO, NULL, 0, &a);
    if (r != LINK_OK) {
        return link_failure(r, "HELLO", s->timeout_ms);
    }
    int rc = hello_parse(&a, st);
    if (rc != 0) {
        return rc;
    }
    if (print) {
        printf("device %s: kernel %u.%u.%u%s, app version %u%s, update engine %s",
               st->device_id[0] ? st->device_id : "(not provisioned)",
               (unsigned)(st->kernel_version >> 24), (unsigned)((st->kernel_version >> 16) & 0xFFu),
               (unsigned)(st->kernel_version & 0xFFFFu),
               (st->flags & BW_LINK_STATUS_KERNEL_TRIAL) ? " (on trial)" : "", (unsigned)st->app_version,
               (st->flags & 1u) ? " (on trial)" : "", op_name(st->op));
        if (st->flags & 2u) {
            printf(", expects offset %u", (unsigned)st->expected_offset);
        }
        if (!(st->flags & 4u)) {
            printf(" (updates unavailable: no update storage or no trusted key)");
        }
        printf("\n");
        fflush(stdout);
    }
    return 0;
}

/* ---- deliver ---- */

typedef struct delivery {
    const uint8_t *bundle;
    size_t len;
    uint32_t head_len;      /* bytes before the first layer, as the header says (clamped) */
    uint32_t end;           /* bytes to send: the file, or the header's bundle size if shorter */
    uint32_t version;       /* from the manifest, when it can be read (0 otherwise) */
    bool kernel;            /* a signed kernel file (docs/SPEC.md §19.2): version is its seal's */
} delivery;

#define BEGIN_ON_TRIAL (-2)

/* Sends the head and BEGIN; on success *resume is the offset to continue
 * from. BEGIN_ON_TRIAL: the device's app has not yet proved healthy. */
static int begin(link_session *s, const delivery *d, uint32_t *resume)
{
    answer a;
    for (uint32_t at = 0; at < d->head_len;) {
        uint32_t n = d->head_len - at < BW_LINK_DATA_MAX ? d->head_len - at : BW_LINK_DATA_MAX;
        uint8_t p[4 + BW_LINK_DATA_MAX];
        bw_put32(p, at);
        memcpy(p + 4, d->bundle + at, n);
        link_result r = link_request(s, BW_LINK_HEAD, p, 4u + n, &a);
        if (r != LINK_OK) {
            return link_failure(r, "HEAD", s->timeout_ms);
        }
        if (a.type != BW_LINK_ACK) {
            return refused(&a, "the bundle head");
        }
        at += n;
    }
    uint8_t p[4];
    bw_put32(p, d->head_len);
    link_result r = link_request(s, BW_LINK_BEGIN, p, sizeof p, &a);
    if (r != LINK_OK) {
        return link_failure(r, "BEGIN", s->timeout_ms);
    }
    if (a.type == BW_LINK_NACK && a.len >= BW_LINK_NACK_FIXED && a.payload[0] == BW_LINK_NACK_ENGINE
        && a.payload[1] == BW_UPDATE_E_ON_TRIAL) {
        return BEGIN_ON_TRIAL;
    }
    if (a.type != BW_LINK_ACK || a.len < BW_LINK_ACK_SIZE) {
        return refused(&a, "the bundle");
    }
    *resume = bw_get32(a.payload);
    if (*resume < d->head_len || *resume > d->end) {
        fprintf(stderr, "bulwark: the device asks for offset %u, outside the bundle's %u bytes\n",
                (unsigned)*resume, (unsigned)d->end);
        return EXIT_LINK;
    }
    printf("device accepted the bundle head: %s offset %u of %u\n",
           *resume > d->head_len ? "resuming at" : "sending from", (unsigned)*resume,
           (unsigned)d->end);
    fflush(stdout);
    return 0;
}

/* DATA from `from` to the end. Returns 0, 1 (refused), EXIT_LINK, or -1
 * when the device lost the download session (it restarted): begin again. */
static int send_data(link_session *s, const delivery *d, uint32_t from)
{
    uint32_t at = from, resyncs = 0;
    uint32_t total = d->end - d->head_len, step = total / 10u + 1u;
    uint32_t next_report = d->head_len + step;
    while (at < d->end) {
        uint32_t n = d->end - at < BW_LINK_DATA_MAX ? d->end - at : BW_LINK_DATA_MAX;
        uint8_t p[4 + BW_LINK_DATA_MAX];
        bw_put32(p, at);
        memcpy(p + 4, d->bundle + at, n);
        answer a;
        link_result r = link_request(s, BW_LINK_DATA, p, 4u + n, &a);
        if (r != LINK_OK) {
            return link_failure(r, "DATA", s->timeout_ms);
        }
        if (a.type == BW_LINK_ACK && a.len >= BW_LINK_ACK_SIZE) {
            at += n;
            resyncs = 0;
            if (at >= next_report || at == d->end) {
                printf("sent %u of %u bytes (%u%%)\n", (unsigned)at, (unsigned)d->end,
                       (unsigned)((uint64_t)(at - d->head_len) * 100u / (total ? total : 1u)));
                fflush(stdout);
                next_report = at + step;
            }
            continue;
        }
        if (a.type == BW_LINK_NACK && a.len >= BW_LINK_NACK_FIXED && a.payload[0] == BW_LINK_NACK_ENGINE) {
            uint32_t expected = bw_get32(a.payload + 4);
            if (a.payload[1] == BW_UPDATE_E_NO_DOWNLOAD) {
                return -1;
            }
            if (a.payload[1] == BW_UPDATE_E_OFFSET && expected != at && expected >= d->head_len
                && expected <= d->end && ++resyncs <= MAX_OFFSET_RESYNCS) {
                at = expected;   /* the device already has (or lost) bytes: follow it */
                continue;
            }
        }
        return refused(&a, "the bundle data");
    }
    return 0;
}

/* A signed kernel file: the head is the seal (its size at offset 6), the
 * image's N bytes (offset 12) follow; the device judges the rest. */
static bool prepare_kernel(const uint8_t *file, size_t len, delivery *d)
{
    d->kernel = true;
    uint32_t head = len >= 16u ? bw_get16(file + 6) : (uint32_t)len;
    head = head < len ? head : (uint32_t)len;
    d->head_len = head < BW_BUNDLE_HEAD_MAX ? head : BW_BUNDLE_HEAD_MAX;
    uint64_t end = len >= 16u ? (uint64_t)d->head_len + bw_get32(file + 12) : len;
    d->end = end < len ? (uint32_t)end : (uint32_t)len;
    d->version = len >= 16u ? bw_get32(file + 8) : 0u;
    return len >= 16u && d->end > d->head_len;
}

static bool prepare(const uint8_t *bundle, size_t len, delivery *d)
{
    d->bundle = bundle;
    d->len = len;
    uint64_t head = len;
    d->end = (uint32_t)len;
    d->version = 0;
    d->kernel = false;
    if (kernel_image_is(bundle, len)) {
        return prepare_kernel(bundle, len, d);
    }
    if (len >= BW_BUNDLE_HEADER_SIZE) {
        head = (uint64_t)BW_BUNDLE_HEADER_SIZE + bw_get32(bundle + 8) + BW_SIGNATURE_BLOCK_SIZE;
        uint32_t stated = bw_get32(bundle + 16);
        if (stated < d->end && stated >= head) {
            d->end = stated;    /* trailing bytes are not the device's business */
        }
    }
    head = head < len ? head : len;
    head = head < BW_BUNDLE_HEAD_MAX ? head : BW_BUNDLE_HEAD_MAX;
    d->head_len = (uint32_t)head;
    bundle_check c;
    if (bundle_open_file(bundle, len, &c)) {
        d->version = c.manifest.app_version;
        return true;
    }
    return false;
}

/* "X.Y.Z" of a packed kernel version, in one of two buffers (two per line). */
static const char *kv(uint32_t version)
{
    static char text[2][16];
    static unsigned next;
    char *out = text[next++ % 2u];
    kernel_version_text(version, out);
    return out;
}

/* After a kernel's INSTALL the device resets; its boot stub verifies the
 * staged kernel again and swaps it in (§19.5). HELLO until STATUS names the
 * new kernel, or the timeout: then the stub refused it or reverted it (the
 * device's console says why) and the old kernel runs on. */
static int await_kernel(link_session *s, const delivery *d)
{
    printf("kernel %s staged: the device resets into its boot stub, which checks and swaps it in\n",
           kv(d->version));
    fflush(stdout);
    uint64_t deadline = link_now_ms() + s->timeout_ms;
    device_status st = { 0 };
    bool answered = false;
    while (link_now_ms() < deadline) {
        answer a;
        if (link_request(s, BW_LINK_HELLO, NULL, 0, &a) == LINK_OK && a.type == BW_LINK_STATUS) {
            if (hello_parse(&a, &st) == 0) {
                answered = true;
                if (st.kernel_version == d->version) {
                    printf("installed: the device now runs kernel %s%s\n", kv(d->version),
                           (st.flags & BW_LINK_STATUS_KERNEL_TRIAL)
                               ? " (on trial until it confirms itself)" : "");
                    return 0;
                }
            }
        }
        usleep(500u * 1000u);
    }
    if (!answered) {
        fprintf(stderr, "bulwark: the device did not answer after the reset (waited %u s)\n",
                (unsigned)(s->timeout_ms / 1000u));
        return EXIT_LINK;
    }
    fprintf(stderr, "bulwark: the device still runs kernel %s, not %s: its boot stub refused or "
            "reverted the new kernel (the device's console says why)\n",
            kv(st.kernel_version), kv(d->version));
    return 1;
}

static int deliver(link_session *s, const delivery *d, bool install)
{
    device_status st;
    int rc = hello(s, &st, true);
    if (rc != 0) {
        return rc;
    }
    if (d->kernel && st.kernel_version == d->version) {
        printf("the device already runs kernel %s: nothing to deliver\n", kv(d->version));
        return 0;
    }
    if (!d->kernel && d->version != 0 && st.app_version == d->version && st.op == BW_UPDATE_OP_NONE) {
        printf("the device already runs app version %u: nothing to deliver\n", (unsigned)d->version);
        return 0;
    }
    uint64_t trial_deadline = link_now_ms() + s->timeout_ms;
    for (int restarts = 0;; restarts++) {
        uint32_t resume = 0;
        rc = begin(s, d, &resume);
        for (bool said = false; rc == BEGIN_ON_TRIAL && link_now_ms() < trial_deadline; said = true) {
            if (!said) {
                printf("the device's app is on trial (not yet proved healthy): waiting up to "
                       "%u s\n", (unsigned)(s->timeout_ms / 1000u));
                fflush(stdout);
            }
            usleep(1000u * 1000u);
            rc = begin(s, d, &resume);
        }
        if (rc == BEGIN_ON_TRIAL) {
            fprintf(stderr, "bulwark: the device refused the bundle: the running app has not yet "
                    "proved healthy (waited %u s)\n", (unsigned)(s->timeout_ms / 1000u));
            return 1;
        }
        if (rc != 0) {
            return rc;
        }
        rc = send_data(s, d, resume);
        if (rc != -1) {
            break;
        }
        if (restarts == MAX_RESTARTS) {
            fprintf(stderr, "bulwark: the device keeps losing the download session\n");
            return EXIT_LINK;
        }
        printf("the device lost the download session (it restarted?): beginning again\n");
    }
    if (rc != 0) {
        return rc;
    }
    answer a;
    link_result r = link_request(s, BW_LINK_FINISH, NULL, 0, &a);
    if (r != LINK_OK) {
        return link_failure(r, "FINISH", s->timeout_ms);
    }
    if (a.type != BW_LINK_ACK) {
        return refused(&a, "the bundle");
    }
    if (d->kernel) {
        printf("device verified the kernel (%s)\n", kv(d->version));
    } else {
        printf("device verified the bundle (app version %u)\n", (unsigned)d->version);
    }
    if (!install) {
        printf("not installing (--no-install): the device keeps it until an INSTALL\n");
        return 0;
    }
    r = link_request(s, BW_LINK_INSTALL, NULL, 0, &a);
    if (r != LINK_OK) {
        return link_failure(r, "INSTALL", s->timeout_ms);
    }
    if (a.type != BW_LINK_ACK || a.len < BW_LINK_ACK_SIZE) {
        return refused(&a, "the install");
    }
    if (d->kernel) {
        return await_kernel(s, d);
    }
    printf("installed: the device now runs app version %u\n", (unsigned)bw_get32(a.payload));
    return 0;
}

/* Options shared by the verbs; returns 0 or an exit code. */
static int parse_common(int argc, char **argv, const char *verb, bool want_bundle, char *host,
                        char *port, uint32_t *timeout_ms, bool *install, const char **bundle_path)
{
    static const struct option options[] = {
        { "listen", required_argument, NULL, OPT_LISTEN },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "no-install", no_argument, NULL, OPT_NO_INSTALL },
        { NULL, 0, NULL, 0 },
    };
    const char *listen_text = NULL;
    uint32_t timeout_s = DEFAULT_TIMEOUT_S;
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        switch (c) {
        case OPT_LISTEN: listen_text = optarg; break;
        case OPT_TIMEOUT:
            if (!args_uint32(optarg, &timeout_s) || timeout_s == 0 || timeout_s > 86400u) {
                return cli_usage_error("device %s: --timeout needs whole seconds, 1 to 86400, not '%s'",
                                       verb, optarg);
            }
            break;
        case OPT_NO_INSTALL:
            if (!want_bundle) {
                return cli_usage_error("device %s: unknown option '--no-install'", verb);
            }
            *install = false;
            break;
        default:
            return cli_usage_error("device %s: unknown option or missing value at '%s'", verb,
                                   argv[optind - 1]);
        }
    }
    if (want_bundle && optind + 1 != argc) {
        return cli_usage_error("device %s: give one bundle file", verb);
    }
    if (!want_bundle && optind != argc) {
        return cli_usage_error("device %s: unexpected argument '%s'", verb, argv[optind]);
    }
    if (listen_text == NULL) {
        return cli_usage_error("device %s: --listen HOST:PORT is required", verb);
    }
    *timeout_ms = timeout_s * 1000u;
    if (want_bundle) {
        *bundle_path = argv[optind];
    }
    return parse_listen(listen_text, host, 256, port, 16);
}

static int device_deliver(int argc, char **argv)
{
    char host[256], port[16];
    uint32_t timeout_ms;
    bool install = true;
    const char *path = NULL;
    int rc = parse_common(argc, argv, "deliver", true, host, port, &timeout_ms, &install, &path);
    if (rc != 0) {
        return rc;
    }
    uint8_t *bundle = NULL;
    size_t len = 0;
    char reason[512];
    if (!file_read_all(path, BUNDLE_FILE_MAX, &bundle, &len, reason, sizeof reason)) {
        return cli_usage_error("%s", reason);
    }
    if (len == 0) {
        free(bundle);
        return cli_usage_error("%s: empty file", path);
    }
    delivery d;
    bool parsed = prepare(bundle, len, &d);
    if (parsed && d.kernel) {
        printf("signed kernel %s: kernel %s, %zu bytes (seal %u)\n", path, kv(d.version), len,
               (unsigned)d.head_len);
    } else if (parsed) {
        printf("bundle %s: app version %u, %zu bytes (head %u)\n", path, (unsigned)d.version, len,
               (unsigned)d.head_len);
    } else {
        printf("bundle %s: %zu bytes, does not parse here: sending it anyway, the device judges\n",
               path, len);
    }
    int fd = -1;
    rc = link_listen_and_accept(host, port, timeout_ms, &fd);
    if (rc == 0) {
        static link_session s;
        link_session_init(&s, fd, timeout_ms);
        rc = deliver(&s, &d, install);
        close(fd);
    }
    free(bundle);
    return rc;
}

static int device_status_cmd(int argc, char **argv)
{
    char host[256], port[16];
    uint32_t timeout_ms;
    bool install = true;
    int rc = parse_common(argc, argv, "status", false, host, port, &timeout_ms, &install, NULL);
    if (rc != 0) {
        return rc;
    }
    int fd = -1;
    rc = link_listen_and_accept(host, port, timeout_ms, &fd);
    if (rc == 0) {
        static link_session s;
        link_session_init(&s, fd, timeout_ms);
        device_status st;
        rc = hello(&s, &st, true);
        close(fd);
    }
    return rc;
}

/* ---- key sets ---- */

/* KEYS (docs/SPEC.md §12.4): a key set made by `bulwark keys rotate`. The
 * device checks everything; this side only checks the length fits a frame. */
static int device_keys_cmd(int argc, char **argv)
{
    char host[256], port[16], reason[512];
    uint32_t timeout_ms;
    bool install = true;
    const char *path = NULL;
    int rc = parse_common(argc, argv, "keys", true, host, port, &timeout_ms, &install, &path);
    if (rc != 0) {
        return rc;
    }
    uint8_t *set = NULL;
    size_t len = 0;
    if (!file_read_all(path, BW_KEYSET_MAX, &set, &len, reason, sizeof reason)) {
        return cli_usage_error("device keys: %s", reason);
    }
    if (len < BW_KEYSET_SIZE(1)) {
        free(set);
        return cli_usage_error("device keys: %s is %zu bytes; a key set is %u to %u", path, len,
                               (unsigned)BW_KEYSET_SIZE(1), (unsigned)BW_KEYSET_MAX);
    }
    int fd = -1;
    rc = link_listen_and_accept(host, port, timeout_ms, &fd);
    if (rc != 0) {
        free(set);
        return rc;
    }
    static link_session s;
    link_session_init(&s, fd, timeout_ms);
    answer a;
    link_result r = link_request(&s, BW_LINK_KEYS, set, len, &a);
    close(fd);
    free(set);
    if (r != LINK_OK) {
        return link_failure(r, "KEYS", timeout_ms);
    }
    if (a.type != BW_LINK_ACK || a.len < 4) {
        return refused(&a, "the key set");
    }
    printf("the device now trusts the update keys of key set %u\n", (unsigned)bw_get32(a.payload));
    return 0;
}

/* ---- provision ---- */

typedef struct fleet {
    mbedtls_pk_context ca_key;
    mbedtls_x509_crt ca;
    char ca_subject[256];
    uint8_t update_key[BW_PUBLIC_KEY_SIZE];
} fleet;

static int load_fleet(const char *dir, fleet *f)
{
    char path[4096], reason[512];
    snprintf(path, sizeof path, "%s/ca.key", dir);
    if (!keys_load_private(path, &f->ca_key, reason, sizeof reason)) {
        return cli_usage_error("device provision: %s", reason);
    }
    snprintf(path, sizeof path, "%s/ca.crt", dir);
    if (mbedtls_x509_crt_parse_file(&f->ca, path) != 0 || f->ca.next != NULL
        || !x509_subject_text(&f->ca, f->ca_subject, sizeof f->ca_subject)) {
        return cli_usage_error("device provision: %s is not one certificate", path);
    }
    snprintf(path, sizeof path, "%s/update.pub", dir);
    if (!keys_load_public(path, f->update_key, reason, sizeof reason)) {
        return cli_usage_error("device provision: %s", reason);
    }
    return 0;
}

/* Reads the device's certificate request (CSR_READ from offset 0). */
static int read_request(link_session *s, uint8_t *csr, size_t max, size_t *len)
{
    uint32_t total = 0;
    for (uint32_t at = 0; at == 0 || at < total;) {
        uint8_t p[4];
        answer a;
        bw_put32(p, at);
        link_result r = link_request(s, BW_LINK_CSR_READ, p, sizeof p, &a);
        if (r != LINK_OK) {
            return link_failure(r, "CSR_READ", s->timeout_ms);
        }
        if (a.type != BW_LINK_CHUNK || a.len <= BW_LINK_CHUNK_FIXED) {
            return refused(&a, "to give its certificate request");
        }
        uint32_t n = a.len - BW_LINK_CHUNK_FIXED;
        total = bw_get32(a.payload);
        if (total > max || n > total - at) {
            fprintf(stderr, "bulwark: the device's certificate request is too long (%u bytes)\n",
                    (unsigned)total);
            return EXIT_LINK;
        }
        memcpy(csr + at, a.payload + BW_LINK_CHUNK_FIXED, n);
        at += n;
    }
    *len = total;
    return 0;
}

/* Sends one provisioning item in PROV_DATA chunks. */
static int send_item(link_session *s, uint8_t item, const uint8_t *data, size_t len, const char *what)
{
    const size_t step = BW_LINK_PAYLOAD_MAX - BW_LINK_PROV_FIXED;
    for (size_t at = 0; at < len; at += step) {
        size_t n = len - at < step ? len - at : step;
        uint8_t p[BW_LINK_PAYLOAD_MAX] = { item };
        bw_put32(p + 4, (uint32_t)at);
        memcpy(p + BW_LINK_PROV_FIXED, data + at, n);
        answer a;
        link_result r = link_request(s, BW_LINK_PROV_DATA, p, BW_LINK_PROV_FIXED + n, &a);
        if (r != LINK_OK) {
            return link_failure(r, "PROV_DATA", s->timeout_ms);
        }
        if (a.type != BW_LINK_ACK) {
            return refused(&a, what);
        }
    }
    return 0;
}

/* Reads "key = value" from the fleet's fleet.conf into value ("" if absent). */
static void fleet_conf(const char *dir, const char *key, char *value, size_t size)
{
    char path[4096], line[1024];
    value[0] = '\0';
    snprintf(path, sizeof path, "%s/fleet.conf", dir);
    FILE *f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        char k[64], v[1024];
        if (sscanf(line, " %63[^= \t] = %1023s", k, v) == 2 && strcmp(k, key) == 0) {
            snprintf(value, size, "%s", v);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
}

/* Where registration goes: flags, environment, config file, then the fleet's
 * own api_url (fleet.conf) and admin.token. */
static int fleet_api(const char *dir, bw_api *api)
{
    char server[1024], path[4096], token[128] = "";
    fleet_conf(dir, "api_url", server, sizeof server);
    snprintf(path, sizeof path, "%s/admin.token", dir);
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        if (fscanf(f, "%127s", token) != 1) {
            token[0] = '\0';
        }
        fclose(f);
    }
    int rc = bw_api_resolve(api, server[0] ? server : NULL, token[0] ? token : NULL);
    if (rc != 0) {
        fprintf(stderr, "bulwark: device provision registers the device with bulwarkd; give "
                        "--no-register to only provision it\n");
    }
    return rc;
}

/* Registers the provisioned device with bulwarkd (POST /v1/devices). A
 * device already registered keeps its entry: the broker admits it by its ID
 * and a certificate from the fleet CA. */
static int register_device(const bw_api *api, const char *id, const char *pem, const char *out_path)
{
    char *body = api_device_body(id, pem, strlen(pem));
    if (body == NULL) {
        return cli_fail("cannot build the registration request");
    }
    char message[256] = "";
    long status = 0;
    int rc = bw_api_request_quiet(api, "POST", "/v1/devices", body, NULL, &status, message, sizeof message);
    free(body);
    if (rc == 0) {
        printf("registered %s with %s\n", id, api->server);
        return 0;
    }
    if (status == 409) {
        printf("%s was registered already with %s (entry kept)\n", id, api->server);
        return 0;
    }
    if (status != 0) {
        cli_fail("the device is provisioned, but bulwarkd refused to register it: %s (HTTP %ld)", message,
                 status);
    }
    fprintf(stderr, "bulwark: register it later: bulwark devices register %s --cert %s\n", id, out_path);
    return 1;
}

static int provision(link_session *s, fleet *f, const char *broker, const char *out_path, const bw_api *api)
{
    device_status st;
    int rc = hello(s, &st, true);
    if (rc != 0) {
        return rc;
    }
    if (!x509_device_id_ok(st.device_id)) {
        return cli_fail("the device reports no well-formed device ID ('%s'): give it an identity "
                        "record first", st.device_id);
    }
    static uint8_t csr_der[4096];
    size_t csr_len = 0;
    if ((rc = read_request(s, csr_der, sizeof csr_der, &csr_len)) != 0) {
        return rc;
    }
    mbedtls_x509_csr csr;
    char cn[128], reason[512], subject[160];
    if (!x509_request_check(csr_der, csr_len, &csr, cn, sizeof cn, reason, sizeof reason)) {
        mbedtls_x509_csr_free(&csr);
        return cli_fail("%s", reason);
    }
    if (!x509_device_id_ok(cn) || strcmp(cn, st.device_id) != 0) {
        mbedtls_x509_csr_free(&csr);
        return cli_fail("the certificate request is for CN '%s', not the device's ID %s", cn,
                        st.device_id);
    }
    static uint8_t der[X509_DER_MAX];
    static char pem[X509_PEM_MAX];
    size_t der_len = 0;
    snprintf(subject, sizeof subject, "CN=%s", cn);
    bool issued = x509_issue(&csr.pk, subject, &f->ca_key, f->ca_subject, X509_ROLE_CLIENT, NULL, 0,
                             der, &der_len, pem, reason, sizeof reason);
    mbedtls_x509_csr_free(&csr);
    if (!issued) {
        return cli_fail("%s", reason);
    }
    if ((rc = send_item(s, 1, der, der_len, "the certificate")) != 0
        || (rc = send_item(s, 2, f->ca.raw.p, f->ca.raw.len, "the CA certificate")) != 0
        || (rc = send_item(s, 3, (const uint8_t *)broker, strlen(broker), "the broker")) != 0
        || (rc = send_item(s, 4, f->update_key, sizeof f->update_key, "the update key")) != 0) {
        return rc;
    }
    answer a;
    link_result r = link_request(s, BW_LINK_PROV_COMMIT, NULL, 0, &a);
    if (r != LINK_OK) {
        return link_failure(r, "PROV_COMMIT", s->timeout_ms);
    }
    if (a.type != BW_LINK_ACK) {
        return refused(&a, "the credentials");
    }
    if (!file_write_all(out_path, pem, strlen(pem), 0644, false, reason, sizeof reason)) {
        return cli_fail("the device is provisioned, but %s", reason);
    }
    printf("device %s provisioned for broker %s; certificate written to %s\n", st.device_id, broker,
           out_path);
    return api != NULL ? register_device(api, st.device_id, pem, out_path) : 0;
}

static int device_provision(int argc, char **argv)
{
    enum { OPT_FLEET = 300, OPT_LINK_PORT, OPT_BROKER, OPT_OUT, OPT_NO_REGISTER };
    bool registering = true;
    static bw_api api;
    int api_rc = bw_api_take_options(&api, &argc, argv);
    if (api_rc != 0) {
        return api_rc;
    }
    static const struct option options[] = {
        { "no-register", no_argument, NULL, OPT_NO_REGISTER },
        { "fleet", required_argument, NULL, OPT_FLEET },
        { "listen", required_argument, NULL, OPT_LISTEN },
        { "link-port", required_argument, NULL, OPT_LINK_PORT },
        { "broker", required_argument, NULL, OPT_BROKER },
        { "out", required_argument, NULL, OPT_OUT },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { NULL, 0, NULL, 0 },
    };
    const char *fleet_dir = NULL, *listen_text = NULL, *broker = NULL, *out_path = "device.crt";
    char listen_buf[32];
    uint32_t timeout_s = DEFAULT_TIMEOUT_S, number;
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        switch (c) {
        case OPT_FLEET: fleet_dir = optarg; break;
        case OPT_LISTEN: listen_text = optarg; break;
        case OPT_LINK_PORT:
            if (!args_uint32(optarg, &number) || number > 65535) {
                return cli_usage_error("device provision: --link-port needs a port, not '%s'", optarg);
            }
            snprintf(listen_buf, sizeof listen_buf, "127.0.0.1:%u", (unsigned)number);
            listen_text = listen_buf;
            break;
        case OPT_BROKER: broker = optarg; break;
        case OPT_OUT: out_path = optarg; break;
        case OPT_NO_REGISTER: registering = false; break;
        case OPT_TIMEOUT:
            if (!args_uint32(optarg, &timeout_s) || timeout_s == 0 || timeout_s > 86400u) {
                return cli_usage_error("device provision: --timeout needs whole seconds, 1 to 86400");
            }
            break;
        default:
            return cli_usage_error("device provision: unknown option or missing value at '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind != argc) {
        return cli_usage_error("device provision: unexpected argument '%s'", argv[optind]);
    }
    if (fleet_dir == NULL || listen_text == NULL || broker == NULL) {
        return cli_usage_error("device provision: --fleet DIR, --link-port N (or --listen "
                               "HOST:PORT) and --broker HOST:PORT are required");
    }
    const char *colon = strrchr(broker, ':');
    if (colon == NULL || colon == broker || !args_uint32(colon + 1, &number) || number == 0
        || number > 65535 || (size_t)(colon - broker) > 63) {
        return cli_usage_error("device provision: --broker needs HOST:PORT (host at most 63 "
                               "characters), not '%s'", broker);
    }
    char host[256], port[16];
    int rc = parse_listen(listen_text, host, sizeof host, port, sizeof port);
    if (rc != 0) {
        return rc;
    }
    if (registering && (rc = fleet_api(fleet_dir, &api)) != 0) {
        return rc;
    }
    static fleet f;
    mbedtls_pk_init(&f.ca_key);
    mbedtls_x509_crt_init(&f.ca);
    rc = load_fleet(fleet_dir, &f);
    int fd = -1;
    if (rc == 0) {
        rc = link_listen_and_accept(host, port, timeout_s * 1000u, &fd);
    }
    if (rc == 0) {
        static link_session s;
        link_session_init(&s, fd, timeout_s * 1000u);
        rc = provision(&s, &f, broker, out_path, registering ? &api : NULL);
        close(fd);
    }
    mbedtls_x509_crt_free(&f.ca);
    mbedtls_pk_free(&f.ca_key);
    return rc;
}

static const cli_command commands[] = {
    { "deliver", "<bundle> --listen HOST:PORT [--timeout S] [--no-install]",
      "send a bundle over the device's local link (resumes), verify and install it; "
      "exit 1 with the device's reason if it refuses, 3 if the link fails", device_deliver },
    { "status", "--listen HOST:PORT [--timeout S]",
      "print what the device reports over its local link (versions, update state)",
      device_status_cmd },
    { "keys", "<keyset> --listen HOST:PORT [--timeout S]",
      "send a key set (`keys rotate`) over the local link: the device trusts its update keys from "
      "then on (exit 1 with the device's reason if it refuses)", device_keys_cmd },
    { "provision", "--fleet DIR (--link-port N | --listen HOST:PORT) --broker HOST:PORT "
      "[--out device.crt] [--timeout S] [--no-register | --server URL --token T]",
      "sign the device's certificate request with the fleet CA, store its credentials and "
      "register it with bulwarkd (exit 1 with the device's reason if it refuses)", device_provision },
};

const cli_group cli_group_device = {
    "device", "a device's local delivery link (docs/SPEC.md §9)", commands,
    sizeof commands / sizeof commands[0], NULL,
};
