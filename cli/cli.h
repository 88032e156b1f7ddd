/*
 * The bulwark CLI's command model: `bulwark <group> <verb> [options]`.
 * A group may name a default verb, run when the word after the group is an
 * option or absent (`bulwark logs --device D`).
 * Each group lives in cli/cmd_<group>.c and defines
 *   const cli_group cli_group_<group>;
 * The build finds those files and lists the groups (cli/CMakeLists.txt), so
 * adding a group touches no shared file. Commands return a process exit code:
 * 0 success, 1 a check failed (e.g. a bad signature), 2 bad usage or input.
 */
#ifndef BULWARK_CLI_H
#define BULWARK_CLI_H

#include <stdbool.h>
#include <stdio.h>

typedef struct cli_command {
    const char *verb;
    const char *usage;     /* one line: arguments and options */
    const char *summary;   /* one line: what it does */
    int (*run)(int argc, char **argv);   /* argv[0] is the verb */
} cli_command;

typedef struct cli_group {
    const char *name;
    const char *summary;
    const cli_command *commands;
    unsigned command_count;
    /* Optional: the verb run when none is given (`bulwark logs --device D`
     * runs `bulwark logs show --device D`): when argv after the group is empty
     * or starts with '-'. NULL: a verb is required. */
    const char *default_verb;
} cli_group;

/* Prints "bulwark: <message>\n" to stderr and returns 2 (for `return cli_usage_error(...)`). */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "bulwark: <message>\n" to stderr and returns 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
