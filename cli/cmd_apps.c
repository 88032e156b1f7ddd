/*
 * `bulwark apps upload|list|show`: bundles uploaded to bulwarkd (docs/API.md,
 * /v1/apps). upload sends the file as it is; bulwarkd checks it against the
 * fleet's update keys and refuses it with a reason (exit 1). A progress bar
 * is drawn on stderr when it is a terminal; --json prints the app as JSON.
 * Exit codes: 0 done, 1 refused or unreachable, 2 bad usage.
 */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "lib_uploads.h"

static void print_app(const json_t *a)
{
    printf("app %" JSON_INTEGER_FORMAT ": version %" JSON_INTEGER_FORMAT ", board %s, %" JSON_INTEGER_FORMAT
           " bytes, key %s, head %s\n",
           json_integer_value(json_object_get(a, "id")), json_integer_value(json_object_get(a, "app_version")),
           json_string_value(json_object_get(a, "board")), json_integer_value(json_object_get(a, "size")),
           json_string_value(json_object_get(a, "key_id")), json_string_value(json_object_get(a, "head_hash")));
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(a, "layers"), i, l) {
        printf("  layer %zu: %" JSON_INTEGER_FORMAT " bytes, sha256 %s\n", i,
               json_integer_value(json_object_get(l, "length")), json_string_value(json_object_get(l, "hash")));
    }
}

static const upload_kind apps = { .group = "apps", .noun = "app", .path = "/v1/apps", .print = print_app };

static int apps_upload(int argc, char **argv) { return uploads_upload(&apps, argc, argv); }
static int apps_list(int argc, char **argv) { return uploads_list(&apps, argc, argv); }
static int apps_show(int argc, char **argv) { return uploads_show(&apps, argc, argv); }

static const cli_command apps_commands[] = {
    { "upload", "BUNDLE.bwb [--json] [--server URL] [--token T]",
      "upload a signed bundle; bulwarkd checks it against the fleet's update keys", apps_upload },
    { "list", "[--json] [--server URL] [--token T]", "the uploaded apps, newest first", apps_list },
    { "show", "ID [--json] [--server URL] [--token T]", "one uploaded app and its layers", apps_show },
};

const cli_group cli_group_apps = {
    .name = "apps",
    .summary = "app bundles uploaded to bulwarkd for over-the-air updates",
    .commands = apps_commands,
    .command_count = sizeof apps_commands / sizeof apps_commands[0],
};
