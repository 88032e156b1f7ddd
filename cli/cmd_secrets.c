/*
 * `bulwark secrets set|list|delete`: write-only values apps fetch with
 * mvSendConfigFetchRequest from the SECRET store (docs/API.md "Config and
 * secrets"). Nothing reads a secret back: list shows names only. `set KEY`
 * without a value reads it from standard input (so it stays out of shell
 * history and process lists), without one trailing newline.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lib_appconfig.h"

#define SECRET_READ_MAX 4097u   /* one more than the server takes: it says why */

static int secrets_set(int argc, char **argv)
{
    appconfig_args a;
    int rc = appconfig_parse("secrets", "set", &argc, argv, 1, 2, &a);
    if (rc != 0) return rc;
    if (argc - a.first == 2) {
        return appconfig_set(&a, "secrets", argv[a.first], argv[a.first + 1]);
    }
    static char value[SECRET_READ_MAX + 2];
    size_t n = fread(value, 1, SECRET_READ_MAX + 1, stdin);
    if (n > SECRET_READ_MAX) return cli_usage_error("secrets set: the value on standard input is too long");
    n -= n > 0 && value[n - 1] == '\n' ? 1u : 0u;
    value[n] = '\0';
    if (strlen(value) != n) return cli_usage_error("secrets set: the value contains a NUL byte");
    rc = appconfig_set(&a, "secrets", argv[a.first], value);
    memset(value, 0, sizeof value);
    return rc;
}

static int secrets_list(int argc, char **argv)
{
    appconfig_args a;
    int rc = appconfig_parse("secrets", "list", &argc, argv, 0, 0, &a);
    return rc != 0 ? rc : appconfig_list(&a, "secrets", false);
}

static int secrets_delete(int argc, char **argv)
{
    appconfig_args a;
    int rc = appconfig_parse("secrets", "delete", &argc, argv, 1, 1, &a);
    return rc != 0 ? rc : appconfig_delete(&a, "secrets", argv[a.first]);
}

#define SCOPE_OPTIONS "[--device D] [--json] [--server URL] [--token T]"

static const cli_command secrets_commands[] = {
    { "set", "KEY [VALUE] " SCOPE_OPTIONS, "set a secret (VALUE, else standard input); it is never shown again",
      secrets_set },
    { "list", SCOPE_OPTIONS, "the names of one scope's secrets (never their values)", secrets_list },
    { "delete", "KEY " SCOPE_OPTIONS, "delete a secret from one scope", secrets_delete },
};

const cli_group cli_group_secrets = {
    .name = "secrets",
    .summary = "write-only secrets apps fetch over a CONFIGFETCH channel",
    .commands = secrets_commands,
    .command_count = sizeof secrets_commands / sizeof secrets_commands[0],
};
