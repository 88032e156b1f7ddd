/*
 * `bulwark debug`: a GDB server on loopback for the app on a device
 * (issue 11). The command picks a transport to the device's debug monitor
 * (docs/SPEC.md §20) and hands it to the RSP server (lib_debug_rsp.c):
 *  - the local link (--link-port N: the CLI listens on 127.0.0.1:N and the
 *    device's link UART connects, as for `bulwark device`), for the bench;
 *  - the cloud (--device D --key K --fleet DIR | --ca FILE): an end-to-end
 *    protected debug session (SPEC §21) relayed by bulwarkd
 *    (lib_debug_cloud.c), whose server and token come as for every API
 *    command; the device proves itself under the fleet CA.
 * `ping` checks a cloud session without GDB (lib_debug_ping.c).
 * Exit codes: 0 GDB detached, 1 the device refused the session, 2 bad
 * usage, 3 the transport failed.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lib_api.h"
#include "lib_args.h"
#include "lib_debug_cloud.h"
#include "lib_debug_link.h"
#include "lib_debug_ping.h"
#include "lib_debug_rsp.h"
#include "lib_link_session.h"

enum { OPT_LINK_PORT = 256, OPT_PORT, OPT_TIMEOUT, OPT_DEVICE, OPT_KEY, OPT_FLEET, OPT_CA };

#define DEFAULT_GDB_PORT 8001u
#define DEFAULT_TIMEOUT_S 30u

/* Serves GDB over the local link on 127.0.0.1:link_port. */
static int serve_link(uint32_t link_port, uint32_t gdb_port, uint32_t timeout_s)
{
    char port[16];
    snprintf(port, sizeof port, "%u", (unsigned)link_port);
    int fd = -1;
    int rc = link_listen_and_accept("127.0.0.1", port, timeout_s * 1000u, &fd);
    if (rc != 0) {
        return rc;
    }
    static link_session session;
    link_session_init(&session, fd, timeout_s * 1000u);
    bw_debug_transport t = debug_link_transport(&session);
    rc = debug_rsp_serve(&t, (uint16_t)gdb_port);
    t.close(t.ctx);
    return rc;
}

/* Serves GDB over a debug session with device through bulwarkd. */
static int serve_cloud(const bw_api *api, const char *device, const char *key, const char *ca,
                       uint32_t gdb_port)
{
    char err[300];
    bw_debug_transport t;
    if (debug_cloud_open(api, device, key, ca, &t, err, sizeof err) != 0) {
        return cli_fail("debug session with %s: %s", device, err);
    }
    printf("debug session open with %s\n", device);
    fflush(stdout);
    int rc = debug_rsp_serve(&t, (uint16_t)gdb_port);
    t.close(t.ctx);
    return rc;
}

static int debug_run(int argc, char **argv)
{
    bw_api api;
    int rc = bw_api_take_options(&api, &argc, argv);
    if (rc != 0) {
        return rc;
    }
    static const struct option options[] = {
        { "link-port", required_argument, NULL, OPT_LINK_PORT },
        { "port", required_argument, NULL, OPT_PORT },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "device", required_argument, NULL, OPT_DEVICE },
        { "key", required_argument, NULL, OPT_KEY },
        { "fleet", required_argument, NULL, OPT_FLEET },
        { "ca", required_argument, NULL, OPT_CA },
        { NULL, 0, NULL, 0 },
    };
    uint32_t link_port = 0, gdb_port = DEFAULT_GDB_PORT, timeout_s = DEFAULT_TIMEOUT_S;
    const char *link_text = NULL, *device = NULL, *key = NULL, *fleet = NULL, *ca_file = NULL;
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        if (c == OPT_DEVICE || c == OPT_KEY || c == OPT_FLEET || c == OPT_CA) {
            *(c == OPT_DEVICE ? &device : c == OPT_KEY ? &key : c == OPT_FLEET ? &fleet : &ca_file) = optarg;
            continue;
        }
        uint32_t *into = c == OPT_LINK_PORT ? &link_port : c == OPT_PORT ? &gdb_port : &timeout_s;
        if (c != OPT_LINK_PORT && c != OPT_PORT && c != OPT_TIMEOUT) {
            return cli_usage_error("debug: unknown option or missing value at '%s'", argv[optind - 1]);
        }
        if (!args_uint32(optarg, into) || *into > 65535u || (c == OPT_TIMEOUT && *into == 0)) {
            return cli_usage_error("debug: '%s' is not a port (0..65535) or a timeout (1..65535 s)",
                                   optarg);
        }
        link_text = c == OPT_LINK_PORT ? optarg : link_text;
    }
    if (optind != argc) {
        return cli_usage_error("debug: unexpected argument '%s'", argv[optind]);
    }
    bool cloud = device != NULL || key != NULL;
    if (cloud == (link_text != NULL) || (cloud && (device == NULL || key == NULL))) {
        return cli_usage_error("debug: give --link-port N (the device's local link) or --device D "
                               "--key debug.key (through the cloud), not both");
    }
    if (!cloud) {
        return serve_link(link_port, gdb_port, timeout_s);
    }
    char ca_buf[1024];
    const char *ca = debug_cloud_ca_path(fleet, ca_file, ca_buf, sizeof ca_buf);
    if (ca == NULL) {
        return cli_usage_error("debug: %s", DEBUG_CA_MISSING);
    }
    rc = bw_api_resolve(&api, NULL, NULL);
    return rc != 0 ? rc : serve_cloud(&api, device, key, ca, gdb_port);
}

static const cli_command commands[] = {
    { "serve", "(--link-port N | --device D --key debug.key (--fleet DIR | --ca ca.crt) [--server URL "
      "--token T]) [--port 8001] "
      "[--timeout S]",
      "serve GDB (target remote :PORT) for the app on a device: over its local link (the device's "
      "link connects to 127.0.0.1:N) or through the cloud (an end-to-end protected session); "
      "exit 1 if the device refuses, 3 if the transport fails", debug_run },
    { "ping", DEBUG_PING_USAGE, DEBUG_PING_SUMMARY, debug_ping_run },
};

const cli_group cli_group_debug = {
    "debug", "debug the device's app with GDB (docs/SPEC.md §20, §21)", commands,
    sizeof commands / sizeof commands[0], "serve",
};
