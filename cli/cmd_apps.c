/*
 * `bulwark apps upload|list|show`: bundles uploaded to bulwarkd (docs/API.md,
 * /v1/apps). upload sends the file as it is; bulwarkd checks it against the
 * fleet's update keys and refuses it with a reason (exit 1). A progress bar
 * is drawn on stderr when it is a terminal; --json prints the app as JSON.
 * Exit codes: 0 done, 1 refused or unreachable, 2 bad usage.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib_api.h"
#include "lib_api_json.h"
#include "lib_bundle.h"
#include "lib_file.h"

/* Parses [--json] and the positional arguments (want of them) after the API options. */
static int parse(const char *verb, int *argc, char **argv, bw_api *api, bool *json, int want)
{
    int rc = bw_api_setup(api, argc, argv);
    if (rc != 0) return rc;
    static const struct option options[] = { { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(*argc, argv, "", options, NULL)) != -1;) {
        if (c != 'j') return cli_usage_error("apps %s: unknown option '%s'", verb, argv[optind - 1]);
        *json = true;
    }
    if (*argc - optind != want) {
        return cli_usage_error("apps %s: expected %d argument%s", verb, want, want == 1 ? "" : "s");
    }
    return 0;
}

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

static int apps_upload(int argc, char **argv)
{
    bw_api api;
    bool json = false;
    int rc = parse("upload", &argc, argv, &api, &json, 1);
    if (rc != 0) return rc;
    uint8_t *data = NULL;
    size_t len = 0;
    char reason[512];
    if (!file_read_all(argv[optind], BUNDLE_FILE_MAX, &data, &len, reason, sizeof reason)) {
        return cli_usage_error("%s", reason);
    }
    char *text = NULL;
    long status = 0;
    rc = bw_api_upload(&api, "/v1/apps", data, len, !json, &text, &status);
    free(data);
    if (rc != 0) return rc;
    json_t *app = json_loads(text, 0, NULL);
    free(text);
    if (app == NULL) return cli_fail("the server's answer is not JSON");
    if (json) {
        api_print_json(app);
    } else {
        printf("%s ", status == 201 ? "uploaded" : "already uploaded:");
        print_app(app);
    }
    json_decref(app);
    return 0;
}

static int apps_list(int argc, char **argv)
{
    bw_api api;
    bool json = false;
    int rc = parse("list", &argc, argv, &api, &json, 0);
    json_t *page = NULL;
    if (rc != 0 || (rc = api_json(&api, "GET", "/v1/apps", NULL, &page)) != 0) return rc;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(page, "apps"), i, a) {
        if (json) {
            api_print_json(a);
        } else {
            print_app(a);
        }
    }
    json_decref(page);
    return 0;
}

static int apps_show(int argc, char **argv)
{
    bw_api api;
    bool json = false;
    int rc = parse("show", &argc, argv, &api, &json, 1);
    if (rc != 0) return rc;
    if (strspn(argv[optind], "0123456789") != strlen(argv[optind]) || strlen(argv[optind]) > 18) {
        return cli_usage_error("apps show: '%s' is not an app ID", argv[optind]);
    }
    char path[64];
    snprintf(path, sizeof path, "/v1/apps/%s", argv[optind]);
    json_t *a = NULL;
    if ((rc = api_json(&api, "GET", path, NULL, &a)) != 0) return rc;
    if (json) {
        api_print_json(a);
    } else {
        print_app(a);
    }
    json_decref(a);
    return 0;
}

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
