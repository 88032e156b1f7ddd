/*
 * bulwark: the host CLI. Dispatches `bulwark <group> <verb> ...` to the
 * groups found at build time (cli.h).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define CLI_GROUP(name) extern const cli_group cli_group_##name;
#include "cli_groups.inc"
#undef CLI_GROUP

static const cli_group *const groups[] = {
#define CLI_GROUP(name) &cli_group_##name,
#include "cli_groups.inc"
#undef CLI_GROUP
};

static void vreport(const char *fmt, va_list ap)
{
    fputs("bulwark: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
    return 2;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
    return 1;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: bulwark <group> <verb> [options]\n\n");
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        fprintf(out, "%s: %s\n", groups[g]->name, groups[g]->summary);
        for (unsigned c = 0; c < groups[g]->command_count; c++) {
            const cli_command *cmd = &groups[g]->commands[c];
            bool is_default = groups[g]->default_verb != NULL && strcmp(groups[g]->default_verb, cmd->verb) == 0;
            fprintf(out, "  bulwark %s %s%s%s %s\n      %s\n", groups[g]->name, is_default ? "[" : "", cmd->verb,
                    is_default ? "]" : "", cmd->usage, cmd->summary);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        if (strcmp(argv[1], groups[g]->name) != 0) {
            continue;
        }
        const char *verb = argc >= 3 ? argv[2] : NULL;
        int shift = 2;
        if ((verb == NULL || verb[0] == '-') && groups[g]->default_verb != NULL) {
            /* The group's default verb; argv[1] (the group) stands as argv[0]. */
            verb = groups[g]->default_verb;
            shift = 1;
        }
        if (verb == NULL) {
            return cli_usage_error("'%s' needs a verb (bulwark --help lists them)", argv[1]);
        }
        for (unsigned c = 0; c < groups[g]->command_count; c++) {
            if (strcmp(verb, groups[g]->commands[c].verb) == 0) {
                return groups[g]->commands[c].run(argc - shift, argv + shift);
            }
        }
        return cli_usage_error("unknown command '%s %s' (bulwark --help lists them)", argv[1], verb);
    }
    return cli_usage_error("unknown command group '%s' (bulwark --help lists them)", argv[1]);
}
