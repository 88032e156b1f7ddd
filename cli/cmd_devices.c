/*
 * `bulwark devices list|show|register|remove`: the device registry in
 * bulwarkd (docs/API.md), with --json for scripts. Server and token from
 * --server/--token, BULWARK_SERVER/BULWARK_TOKEN or the config file (lib_api.h).
 * Exit codes: 0 done, 1 the server refused or could not be reached, 2 bad usage.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "lib_api.h"
#include "lib_api_json.h"
#include "lib_file.h"

#define MAX_CERT_BYTES (64u * 1024u)

typedef struct devices_args {
    bw_api api;
    bool json;
    const char *cert_path;
    const char *id;
} devices_args;

/* Parses [--json] [--cert FILE] [ID] after the API options; need_id says whether ID is required. */
static int parse(const char *verb, int argc, char **argv, devices_args *a, bool need_id, bool takes_cert)
{
    int rc = bw_api_setup(&a->api, &argc, argv);
    if (rc != 0) return rc;
    static const struct option options[] = {
        { "json", no_argument, NULL, 'j' },
        { "cert", required_argument, NULL, 'c' },
        { NULL, 0, NULL, 0 },
    };
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        if (c == 'j') {
            a->json = true;
        } else if (c == 'c' && takes_cert) {
            a->cert_path = optarg;
        } else {
            return cli_usage_error("devices %s: unknown or incomplete option '%s'", verb, argv[optind - 1]);
        }
    }
    if (need_id) {
        if (optind + 1 != argc) return cli_usage_error("devices %s: give one device ID", verb);
        a->id = argv[optind];
        if (!api_valid_device_id(a->id)) {
            return cli_usage_error("devices %s: '%s' is not a device ID (\"BW\" + 32 uppercase hex digits)", verb, a->id);
        }
    } else if (optind != argc) {
        return cli_usage_error("devices %s: unexpected argument '%s'", verb, argv[optind]);
    }
    if (takes_cert && a->cert_path == NULL) return cli_usage_error("devices %s: give --cert FILE", verb);
    return 0;
}

static void format_time(const json_t *ms, char *out, size_t size)
{
    if (!json_is_integer(ms)) {
        snprintf(out, size, "never");
        return;
    }
    time_t t = (time_t)(json_integer_value(ms) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *text_or_dash(const json_t *v, char *buf, size_t size)
{
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    return "-";
}

static void print_device_row(const json_t *d)
{
    char seen[32], kernel[32], app[32], keys[32];
    format_time(json_object_get(d, "last_seen_ms"), seen, sizeof seen);
    printf("%-34s  %-7s  %-10s  %-8s  %-8s  %s\n", json_string_value(json_object_get(d, "id")),
           json_is_true(json_object_get(d, "online")) ? "online" : "offline",
           text_or_dash(json_object_get(d, "kernel_version"), kernel, sizeof kernel),
           text_or_dash(json_object_get(d, "app_version"), app, sizeof app),
           text_or_dash(json_object_get(d, "key_set"), keys, sizeof keys), seen);
}

static int devices_list(int argc, char **argv)
{
    devices_args a = { 0 };
    int rc = parse("list", argc, argv, &a, false, false);
    if (rc != 0) return rc;
    json_t *all = json_array();
    char token[64] = "";
    do {
        char path[160];
        snprintf(path, sizeof path, "/v1/devices?page_size=1000%s%s", token[0] ? "&page_token=" : "", token);
        json_t *page;
        rc = api_json(&a.api, "GET", path, NULL, &page);
        if (rc != 0) {
            json_decref(all);
            return rc;
        }
        json_array_extend(all, json_object_get(page, "devices"));
        const char *next = json_string_value(json_object_get(page, "next_page_token"));
        snprintf(token, sizeof token, "%s", next != NULL && api_valid_device_id(next) ? next : "");
        json_decref(page);
    } while (token[0] != '\0');
    if (a.json) {
        json_t *out = json_pack("{s:o}", "devices", all);
        api_print_json(out);
        json_decref(out);
        return 0;
    }
    printf("%-34s  %-7s  %-10s  %-8s  %-8s  %s\n", "DEVICE", "STATE", "KERNEL", "APP", "KEY SET", "LAST SEEN (UTC)");
    size_t i;
    json_t *d;
    json_array_foreach(all, i, d) {
        print_device_row(d);
    }
    printf("%zu device%s\n", json_array_size(all), json_array_size(all) == 1 ? "" : "s");
    json_decref(all);
    return 0;
}

static int devices_show(int argc, char **argv)
{
    devices_args a = { 0 };
    int rc = parse("show", argc, argv, &a, true, false);
    if (rc != 0) return rc;
    char path[96];
    snprintf(path, sizeof path, "/v1/devices/%s", a.id);
    json_t *d;
    rc = api_json(&a.api, "GET", path, NULL, &d);
    if (rc != 0) return rc;
    if (a.json) {
        api_print_json(d);
        json_decref(d);
        return 0;
    }
    char seen[32], registered[32], buf[32];
    format_time(json_object_get(d, "last_seen_ms"), seen, sizeof seen);
    format_time(json_object_get(d, "registered_at_ms"), registered, sizeof registered);
    printf("device:          %s\n", a.id);
    printf("state:           %s\n", json_is_true(json_object_get(d, "online")) ? "online" : "offline");
    printf("registered:      %s\n", registered);
    printf("last seen:       %s\n", seen);
    static const char *const fields[][2] = {
        { "kernel_version", "kernel version" }, { "app_version", "app version" },
        { "wake_reason", "wake reason" }, { "uptime_s", "uptime (s)" }, { "boot_id", "boot ID" },
        { "lost_lines", "log lines lost" }, { "device_lost_lines", "lost on device" },
        { "crash_count", "crashes (boot)" }, { "crash_records", "crash records" },
        { "key_set", "key set" }, { "key_set_error", "key set refused" },
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        char label[24];
        snprintf(label, sizeof label, "%s:", fields[i][1]);
        printf("%-16s %s\n", label, text_or_dash(json_object_get(d, fields[i][0]), buf, sizeof buf));
    }
    json_decref(d);
    return 0;
}

static int devices_register(int argc, char **argv)
{
    devices_args a = { 0 };
    int rc = parse("register", argc, argv, &a, true, true);
    if (rc != 0) return rc;
    uint8_t *pem = NULL;
    size_t len = 0;
    char reason[512];
    if (!file_read_all(a.cert_path, MAX_CERT_BYTES, &pem, &len, reason, sizeof reason)) {
        return cli_usage_error("devices register: %s", reason);
    }
    char *text = api_device_body(a.id, (const char *)pem, len);
    free(pem);
    if (text == NULL) return cli_usage_error("devices register: %s is not a text (PEM) file", a.cert_path);
    json_t *d;
    rc = api_json(&a.api, "POST", "/v1/devices", text, &d);
    free(text);
    if (rc != 0) return rc;
    if (a.json) {
        api_print_json(d);
    } else {
        printf("registered %s\n", a.id);
    }
    json_decref(d);
    return 0;
}

static int devices_remove(int argc, char **argv)
{
    devices_args a = { 0 };
    int rc = parse("remove", argc, argv, &a, true, false);
    if (rc != 0) return rc;
    char path[96];
    snprintf(path, sizeof path, "/v1/devices/%s", a.id);
    json_t *d;
    rc = api_json(&a.api, "DELETE", path, NULL, &d);
    if (rc != 0) return rc;
    if (a.json) {
        api_print_json(d);
    } else {
        printf("removed %s (the broker now refuses it)\n", a.id);
    }
    json_decref(d);
    return 0;
}

#define API_OPTIONS "[--server URL] [--token T]"

static const cli_command devices_commands[] = {
    { "list", "[--json] " API_OPTIONS, "registered devices: online or offline, versions, last seen", devices_list },
    { "show", "<ID> [--json] " API_OPTIONS, "one device's registry entry", devices_show },
    { "register", "<ID> --cert DEVICE.crt [--json] " API_OPTIONS,
      "register a device with its certificate (CN = ID, signed by the fleet CA)", devices_register },
    { "remove", "<ID> [--json] " API_OPTIONS, "remove a device: its logs and crashes go, the broker refuses it",
      devices_remove },
};

const cli_group cli_group_devices = {
    .name = "devices",
    .summary = "the device registry in bulwarkd",
    .commands = devices_commands,
    .command_count = sizeof devices_commands / sizeof devices_commands[0],
};
