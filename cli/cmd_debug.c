/*
 * `bulwark debug`: debugging an app (issue 11). `ping` checks a debug
 * session through the cloud (lib_debug_ping.c); the GDB server's verbs join
 * this table.
 */
#include "cli.h"
#include "lib_debug_ping.h"

static const cli_command commands[] = {
    { "ping", DEBUG_PING_USAGE, DEBUG_PING_SUMMARY, debug_ping_run },
};

const cli_group cli_group_debug = {
    .name = "debug",
    .summary = "debug an app on a device",
    .commands = commands,
    .command_count = sizeof commands / sizeof commands[0],
    .default_verb = NULL,
};
