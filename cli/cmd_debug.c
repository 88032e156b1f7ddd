/*
 * `bulwark debug`: a GDB server on loopback for the app on a device
 * (issue 11). The command picks a transport to the device's debug monitor
 * (docs/SPEC.md §20) and hands it to the RSP server (lib_debug_rsp.c):
 * today the local link (--link-port N: the CLI listens on 127.0.0.1:N and
 * the device's link UART connects, as for `bulwark device`); the cloud
 * session (--device D --key K, SPEC §21) plugs in the same way.
 * Exit codes: 0 GDB detached, 2 bad usage, 3 the transport failed.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lib_args.h"
#include "lib_debug_link.h"
#include "lib_debug_rsp.h"
#include "lib_link_session.h"

enum { OPT_LINK_PORT = 256, OPT_PORT, OPT_TIMEOUT };

#define DEFAULT_GDB_PORT 8001u
#define DEFAULT_TIMEOUT_S 30u

static int debug_run(int argc, char **argv)
{
    static const struct option options[] = {
        { "link-port", required_argument, NULL, OPT_LINK_PORT },
        { "port", required_argument, NULL, OPT_PORT },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { NULL, 0, NULL, 0 },
    };
    uint32_t link_port = 0, gdb_port = DEFAULT_GDB_PORT, timeout_s = DEFAULT_TIMEOUT_S;
    const char *link_text = NULL;
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
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
    if (link_text == NULL) {
        return cli_usage_error("debug: --link-port N is required (the device's local link)");
    }
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

static const cli_command commands[] = {
    { "serve", "--link-port N [--port 8001] [--timeout S]",
      "serve GDB (target remote :PORT) for the app on the device whose local link connects "
      "to 127.0.0.1:N; exit 3 if the link fails", debug_run },
};

const cli_group cli_group_debug = {
    "debug", "debug the device's app with GDB (docs/SPEC.md §20)", commands,
    sizeof commands / sizeof commands[0], "serve",
};
