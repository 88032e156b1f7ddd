/*
 * `bulwark deployments list [--device D] [--json]` and `bulwark deployments
 * show ID [--watch] [--json]` (docs/API.md, /v1/deployments). --watch
 * long-polls GET /v1/deployments/{id}?after_revision=R&wait=S and prints
 * each change until the deployment is final; its exit code is then 0 for
 * healthy (installed and through its trial), 1 for refused, failed, rolled
 * back or superseded.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib_api.h"
#include "lib_api_json.h"

#define WATCH_WAIT_S 30

static json_int_t field(const json_t *d, const char *name)
{
    return json_integer_value(json_object_get(d, name));
}

static void print_deployment(const json_t *d, bool as_json)
{
    if (as_json) {
        api_print_json(d);
        return;
    }
    json_int_t bytes = field(d, "bytes"), size = field(d, "size");
    const char *reason = json_string_value(json_object_get(d, "reason"));
    char target[64];
    api_deployment_target(d, target, sizeof target);
    printf("deployment %" JSON_INTEGER_FORMAT " %s %s: %s, %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT
           " bytes (%d%%)",
           field(d, "id"), json_string_value(json_object_get(d, "device")), target,
           json_string_value(json_object_get(d, "state")), bytes, size, size > 0 ? (int)(bytes * 100 / size) : 0);
    if (field(d, "engine_error") != 0 || field(d, "manifest_error") != 0 || field(d, "rollback_cause") != 0) {
        printf(" [engine error %" JSON_INTEGER_FORMAT ", manifest error %" JSON_INTEGER_FORMAT
               ", rollback cause %" JSON_INTEGER_FORMAT "]",
               field(d, "engine_error"), field(d, "manifest_error"), field(d, "rollback_cause"));
    }
    if (reason != NULL && reason[0] != '\0') {
        printf(": %s", reason);
    }
    printf("\n");
    fflush(stdout);
}

/* Options common to both verbs; device and watch only where allowed. */
static int parse(const char *verb, int *argc, char **argv, bw_api *api, bool *as_json, const char **device,
                 bool *watch)
{
    int rc = bw_api_setup(api, argc, argv);
    if (rc != 0) return rc;
    static const struct option options[] = {
        { "json", no_argument, NULL, 'j' },
        { "device", required_argument, NULL, 'd' },
        { "watch", no_argument, NULL, 'w' },
        { NULL, 0, NULL, 0 },
    };
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(*argc, argv, "", options, NULL)) != -1;) {
        if (c == 'j') {
            *as_json = true;
        } else if (c == 'd' && device != NULL && api_valid_device_id(optarg)) {
            *device = optarg;
        } else if (c == 'w' && watch != NULL) {
            *watch = true;
        } else {
            return cli_usage_error("deployments %s: bad or unknown option '%s'", verb, argv[optind - 1]);
        }
    }
    return 0;
}

static int deployments_list(int argc, char **argv)
{
    bw_api api;
    bool as_json = false;
    const char *device = NULL;
    int rc = parse("list", &argc, argv, &api, &as_json, &device, NULL);
    if (rc != 0) return rc;
    if (optind != argc) return cli_usage_error("deployments list: unexpected argument '%s'", argv[optind]);
    char path[128] = "/v1/deployments";
    if (device != NULL) snprintf(path, sizeof path, "/v1/deployments?device=%s", device);
    json_t *page = NULL;
    if ((rc = api_json(&api, "GET", path, NULL, &page)) != 0) return rc;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(page, "deployments"), i, d) {
        print_deployment(d, as_json);
    }
    json_decref(page);
    return 0;
}

static int deployments_show(int argc, char **argv)
{
    bw_api api;
    bool as_json = false, watch = false;
    int rc = parse("show", &argc, argv, &api, &as_json, NULL, &watch);
    if (rc != 0) return rc;
    if (optind + 1 != argc || strspn(argv[optind], "0123456789") != strlen(argv[optind])
        || strlen(argv[optind]) > 18 || argv[optind][0] == '\0') {
        return cli_usage_error("deployments show: give one deployment ID");
    }
    json_int_t revision = 0;
    for (;;) {
        char path[160];
        snprintf(path, sizeof path, "/v1/deployments/%s?after_revision=%" JSON_INTEGER_FORMAT "&wait=%d",
                 argv[optind], revision, watch ? WATCH_WAIT_S : 0);
        json_t *d = NULL;
        if ((rc = api_json(&api, "GET", path, NULL, &d)) != 0) return rc;
        if (field(d, "revision") > revision) {
            print_deployment(d, as_json);
            revision = field(d, "revision");
        }
        bool final = json_is_true(json_object_get(d, "final"));
        const char *state = json_string_value(json_object_get(d, "state"));
        bool healthy = state != NULL && strcmp(state, "healthy") == 0;
        json_decref(d);
        if (!watch) return 0;
        if (final) return healthy ? 0 : 1;
    }
}

static const cli_command deployments_commands[] = {
    { "list", "[--device ID] [--json] [--server URL] [--token T]",
      "deployments, newest first (of one device with --device)", deployments_list },
    { "show", "ID [--watch] [--json] [--server URL] [--token T]",
      "one deployment; --watch follows it until final (exit 0 healthy, 1 otherwise)", deployments_show },
};

const cli_group cli_group_deployments = {
    .name = "deployments",
    .summary = "over-the-air update deployments and their progress",
    .commands = deployments_commands,
    .command_count = sizeof deployments_commands / sizeof deployments_commands[0],
};
