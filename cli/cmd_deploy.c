/*
 * `bulwark deploy --app A|--kernel K --device D [--device E ...] [--json]`:
 * makes app A, or uploaded kernel K (`bulwark kernels upload`), the target of
 * each device (docs/API.md, POST /v1/deployments); a device's
 * earlier deployment, unless final, is superseded. Prints the new deployment
 * IDs (`bulwark deployments show ID --watch` follows one).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib_api.h"
#include "lib_api_json.h"

#define DEPLOY_DEVICES_MAX 1000

static int deploy_create(int argc, char **argv)
{
    bw_api api;
    int rc = bw_api_setup(&api, &argc, argv);
    if (rc != 0) return rc;
    static const struct option options[] = {
        { "app", required_argument, NULL, 'a' },
        { "kernel", required_argument, NULL, 'k' },
        { "device", required_argument, NULL, 'd' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    json_t *devices = json_array();
    const char *app = NULL;
    const char *what = "app";
    bool as_json = false;
    opterr = 0;
    optind = 1;
    for (int c; rc == 0 && (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        if ((c == 'a' || c == 'k') && app != NULL) {
            rc = cli_usage_error("deploy: give one --app or --kernel");
        } else if (c == 'a' || c == 'k') {
            app = optarg;
            what = c == 'a' ? "app" : "kernel";
        } else if (c == 'd' && api_valid_device_id(optarg) && json_array_size(devices) < DEPLOY_DEVICES_MAX) {
            json_array_append_new(devices, json_string(optarg));
        } else if (c == 'd') {
            rc = cli_usage_error("deploy: '%s' is not a device ID (\"BW\" + 32 uppercase hex digits)", optarg);
        } else if (c == 'j') {
            as_json = true;
        } else {
            rc = cli_usage_error("deploy: unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    char *end = NULL;
    long long app_id = app != NULL ? strtoll(app, &end, 10) : 0;
    if (rc == 0 && (app == NULL || *end != '\0' || app_id < 1 || optind != argc || json_array_size(devices) == 0)) {
        rc = cli_usage_error("deploy: give --app ID or --kernel ID, and at least one --device ID");
    }
    json_t *result = NULL;
    if (rc == 0) {
        json_t *body = json_pack("{s:I, s:O}", what, (json_int_t)app_id, "devices", devices);
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        rc = api_json(&api, "POST", "/v1/deployments", text, &result);
        free(text);
    }
    json_decref(devices);
    if (rc != 0) return rc;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(result, "deployments"), i, d) {
        if (as_json) {
            api_print_json(d);
        } else {
            char target[64];
            api_deployment_target(d, target, sizeof target);
            printf("deployment %" JSON_INTEGER_FORMAT ": %s to %s, %s\n", json_integer_value(json_object_get(d, "id")),
                   target, json_string_value(json_object_get(d, "device")),
                   json_string_value(json_object_get(d, "state")));
        }
    }
    json_decref(result);
    return 0;
}

static const cli_command deploy_commands[] = {
    { "create", "--app ID|--kernel ID --device ID [--device ID ...] [--json] [--server URL] [--token T]",
      "make an uploaded app or kernel the target of devices (each gets a new deployment)", deploy_create },
};

const cli_group cli_group_deploy = {
    .name = "deploy",
    .summary = "give devices a target app (over-the-air update)",
    .commands = deploy_commands,
    .command_count = sizeof deploy_commands / sizeof deploy_commands[0],
    .default_verb = "create",
};
