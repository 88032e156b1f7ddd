/*
 * `bulwark crashes --device D [--elf APP.elf] [--json]`: the crash records
 * bulwarkd holds for a device (docs/API.md, GET /v1/devices/{id}/crashes),
 * each decoded and symbolicated exactly as `bulwark crash decode` does
 * (lib_crash_report.c); --json prints the server's answer instead.
 * Exit codes: 0 shown, 1 a record failed its checks or the server refused, 2 bad usage.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bw_crash_record.h"
#include "cli.h"
#include "lib_api.h"
#include "lib_api_json.h"
#include "lib_crash_report.h"
#include "mbedtls/base64.h"

static int crashes_show(int argc, char **argv)
{
    bw_api api;
    int rc = bw_api_setup(&api, &argc, argv);
    if (rc != 0) return rc;
    static const struct option options[] = {
        { "device", required_argument, NULL, 'd' },
        { "elf", required_argument, NULL, 'e' },
        { "no-addr2line", no_argument, NULL, 'n' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    const char *device = NULL;
    bool as_json = false;
    crash_report_options report = { .addr2line = true };
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        switch (c) {
        case 'd': device = optarg; break;
        case 'e': report.elf_path = optarg; break;
        case 'n': report.addr2line = false; break;
        case 'j': as_json = true; break;
        default: return cli_usage_error("crashes: unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc) return cli_usage_error("crashes: unexpected argument '%s'", argv[optind]);
    if (!api_valid_device_id(device)) return cli_usage_error("crashes: give --device ID (\"BW\" + 32 uppercase hex digits)");
    char reason[512];
    if (report.elf_path != NULL && !as_json && !crash_report_load_elf(&report, reason, sizeof reason)) {
        return cli_usage_error("crashes: %s", reason);
    }
    char path[96];
    snprintf(path, sizeof path, "/v1/devices/%s/crashes", device);
    json_t *answer;
    rc = api_json(&api, "GET", path, NULL, &answer);
    if (rc != 0) {
        crash_report_release(&report);
        return rc;
    }
    json_t *crashes = json_object_get(answer, "crashes");
    if (as_json) {
        api_print_json(answer);
    } else if (json_array_size(crashes) == 0) {
        printf("no crash records for %s\n", device);
    }
    size_t i;
    json_t *c;
    json_array_foreach(crashes, i, c) {
        if (as_json) break;
        const char *b64 = json_string_value(json_object_get(c, "record"));
        uint8_t record[BW_CRASH_RECORD_SIZE + 3];
        size_t len = 0;
        if (i > 0) printf("\n");
        printf("== %s, crash record %" JSON_INTEGER_FORMAT " (boot %08" PRIx64 ") ==\n", device,
               json_integer_value(json_object_get(c, "seq")), (uint64_t)json_integer_value(json_object_get(c, "boot_id")));
        if (b64 == NULL || mbedtls_base64_decode(record, sizeof record, &len, (const unsigned char *)b64, strlen(b64)) != 0) {
            rc = cli_fail("crashes: record %zu from the server is not base64", i);
            continue;
        }
        int one = crash_report_print(record, len, &report, "crashes");
        rc = one > rc ? one : rc;
    }
    fflush(stdout);
    json_decref(answer);
    crash_report_release(&report);
    return rc;
}

static const cli_command crashes_commands[] = {
    { "show", "--device ID [--elf APP.elf] [--no-addr2line] [--json] [--server URL] [--token T]",
      "a device's crash records from bulwarkd, decoded and symbolicated as `crash decode` does", crashes_show },
};

const cli_group cli_group_crashes = {
    .name = "crashes",
    .summary = "device crash records stored by bulwarkd",
    .commands = crashes_commands,
    .command_count = sizeof crashes_commands / sizeof crashes_commands[0],
    .default_verb = "show",
};
