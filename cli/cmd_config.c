/*
 * `bulwark config set|get|list|delete`: the config values apps fetch with
 * mvSendConfigFetchRequest (docs/API.md "Config and secrets", SPEC §17), in
 * the account's scope or, with --device D, one device's (which overrides the
 * account's for that device). Exit codes: 0 done, 1 refused or unreachable,
 * 2 bad usage.
 */
#include <stdio.h>

#include "cli.h"
#include "lib_api_json.h"
#include "lib_appconfig.h"

static int config_set(int argc, char **argv)
{
    appconfig_args a;
    int rc = appconfig_parse("config", "set", &argc, argv, 2, 2, &a);
    return rc != 0 ? rc : appconfig_set(&a, "config", argv[a.first], argv[a.first + 1]);
}

static int config_get(int argc, char **argv)
{
    appconfig_args a;
    int rc = appconfig_parse("config", "get", &argc, argv, 1, 1, &a);
    if (rc != 0) return rc;
    char path[256];
    if (!appconfig_path(&a, "config", argv[a.first], path, sizeof path)) {
        return cli_usage_error("'%s' is not a key: 1..100 characters of A-Z a-z 0-9 . _ -", argv[a.first]);
    }
    json_t *item = NULL;
    if ((rc = api_json(&a.api, "GET", path, NULL, &item)) != 0) return rc;
    if (a.json) {
        api_print_json(item);
    } else {
        printf("%s\n", json_string_value(json_object_get(item, "value")));
    }
    json_decref(item);
    return 0;
}

static int config_list(int argc, char **argv)
{
    appconfig_args a;
    int rc = appconfig_parse("config", "list", &argc, argv, 0, 0, &a);
    return rc != 0 ? rc : appconfig_list(&a, "config", true);
}

static int config_delete(int argc, char **argv)
{
    appconfig_args a;
    int rc = appconfig_parse("config", "delete", &argc, argv, 1, 1, &a);
    return rc != 0 ? rc : appconfig_delete(&a, "config", argv[a.first]);
}

#define SCOPE_OPTIONS "[--device D] [--json] [--server URL] [--token T]"

static const cli_command config_commands[] = {
    { "set", "KEY VALUE " SCOPE_OPTIONS, "set a config value (account scope, or one device's)", config_set },
    { "get", "KEY " SCOPE_OPTIONS, "a config value (with --device: the device's, else the account's)", config_get },
    { "list", SCOPE_OPTIONS, "the config values of one scope, KEY=VALUE per line", config_list },
    { "delete", "KEY " SCOPE_OPTIONS, "delete a config value from one scope", config_delete },
};

const cli_group cli_group_config = {
    .name = "config",
    .summary = "config values apps fetch over a CONFIGFETCH channel",
    .commands = config_commands,
    .command_count = sizeof config_commands / sizeof config_commands[0],
};
