/*
 * `bulwark logs --device D [--follow] [--json]`: a device's app log lines as
 * bulwarkd stored them (docs/API.md, GET /v1/devices/{id}/logs), oldest
 * first, each line once; gaps the device reported by its sequence numbers
 * show as "-- N lines lost --". --follow keeps long-polling for new lines
 * (until interrupted); --json prints one JSON object per entry.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib_api.h"
#include "lib_api_json.h"

#define FOLLOW_WAIT_S 30

static void print_entry(const json_t *e, bool as_json)
{
    if (as_json) {
        api_print_json(e);
        return;
    }
    const char *kind = json_string_value(json_object_get(e, "kind"));
    if (kind != NULL && strcmp(kind, "lost") == 0) {
        json_int_t n = json_integer_value(json_object_get(e, "count"));
        json_int_t first = json_integer_value(json_object_get(e, "first_seq"));
        printf("-- %" JSON_INTEGER_FORMAT " line%s lost (boot %08" PRIx64 ", sequence %" JSON_INTEGER_FORMAT
               "..%" JSON_INTEGER_FORMAT ") --\n",
               n, n == 1 ? "" : "s", (uint64_t)json_integer_value(json_object_get(e, "boot_id")), first, first + n - 1);
        return;
    }
    json_int_t ms = json_integer_value(json_object_get(e, "uptime_ms"));
    const char *text = json_string_value(json_object_get(e, "text"));
    printf("[%6" JSON_INTEGER_FORMAT ".%03" JSON_INTEGER_FORMAT "] %s\n", ms / 1000, ms % 1000, text != NULL ? text : "");
}

static int logs_show(int argc, char **argv)
{
    bw_api api;
    int rc = bw_api_setup(&api, &argc, argv);
    if (rc != 0) return rc;
    static const struct option options[] = {
        { "device", required_argument, NULL, 'd' },
        { "follow", no_argument, NULL, 'f' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    const char *device = NULL;
    bool follow = false, as_json = false;
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        switch (c) {
        case 'd': device = optarg; break;
        case 'f': follow = true; break;
        case 'j': as_json = true; break;
        default: return cli_usage_error("logs: unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc) return cli_usage_error("logs: unexpected argument '%s'", argv[optind]);
    if (!api_valid_device_id(device)) return cli_usage_error("logs: give --device ID (\"BW\" + 32 uppercase hex digits)");
    json_int_t cursor = 0;
    for (;;) {
        char path[160];
        bool caught_up = false;
        snprintf(path, sizeof path, "/v1/devices/%s/logs?after=%" JSON_INTEGER_FORMAT "&limit=1000&wait=%d", device,
                 cursor, follow ? FOLLOW_WAIT_S : 0);
        json_t *page;
        rc = api_json(&api, "GET", path, NULL, &page);
        if (rc != 0) return rc;
        json_t *entries = json_object_get(page, "entries");
        size_t i;
        json_t *e;
        json_array_foreach(entries, i, e) {
            print_entry(e, as_json);
        }
        fflush(stdout);
        caught_up = json_array_size(entries) == 0;
        json_int_t next = json_integer_value(json_object_get(page, "next_cursor"));
        cursor = next > cursor ? next : cursor;
        json_decref(page);
        if (caught_up && !follow) {
            return 0;
        }
    }
}

static const cli_command logs_commands[] = {
    { "show", "--device ID [--follow] [--json] [--server URL] [--token T]",
      "a device's app log lines, each once; lost lines reported; --follow waits for new ones", logs_show },
};

const cli_group cli_group_logs = {
    .name = "logs",
    .summary = "device app logs stored by bulwarkd",
    .commands = logs_commands,
    .command_count = sizeof logs_commands / sizeof logs_commands[0],
    .default_verb = "show",
};
