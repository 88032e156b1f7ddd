/*
 * The shared half of `bulwark config` and `bulwark secrets` (lib_appconfig.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib_api_json.h"
#include "lib_appconfig.h"

int appconfig_parse(const char *group, const char *verb, int *argc, char **argv, int want_min, int want_max,
                    appconfig_args *a)
{
    *a = (appconfig_args){ 0 };
    int rc = bw_api_setup(&a->api, argc, argv);
    if (rc != 0) return rc;
    static const struct option options[] = { { "device", required_argument, NULL, 'd' },
                                             { "json", no_argument, NULL, 'j' },
                                             { NULL, 0, NULL, 0 } };
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(*argc, argv, "", options, NULL)) != -1;) {
        if (c == 'd') {
            a->device = optarg;
        } else if (c == 'j') {
            a->json = true;
        } else {
            return cli_usage_error("%s %s: unknown option or missing value '%s'", group, verb, argv[optind - 1]);
        }
    }
    if (a->device != NULL && !api_valid_device_id(a->device)) {
        return cli_usage_error("%s %s: '%s' is not a device ID", group, verb, a->device);
    }
    int n = *argc - optind;
    if (n < want_min || n > want_max) {
        return cli_usage_error("%s %s: expected %d%s argument%s", group, verb, want_min,
                               want_max > want_min ? " or more" : "", want_max == 1 ? "" : "s");
    }
    a->first = optind;
    return 0;
}

bool appconfig_path(const appconfig_args *a, const char *collection, const char *key, char *out, size_t size)
{
    /* Keys are A-Z a-z 0-9 . _ - (the server says so otherwise): no escaping needed, but refuse others here. */
    if (key != NULL && (strlen(key) == 0 || strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                        "0123456789._-") != strlen(key))) {
        return false;
    }
    int n = snprintf(out, size, "/v1/%s%s%s%s%s", collection, key != NULL ? "/" : "", key != NULL ? key : "",
                     a->device != NULL ? "?device=" : "", a->device != NULL ? a->device : "");
    return n > 0 && (size_t)n < size;
}

static int bad_key(const char *key)
{
    return cli_usage_error("'%s' is not a key: 1..100 characters of A-Z a-z 0-9 . _ -", key);
}

static const char *scope_text(const appconfig_args *a)
{
    return a->device != NULL ? a->device : "the account";
}

int appconfig_set(const appconfig_args *a, const char *collection, const char *key, const char *value)
{
    char path[256];
    if (!appconfig_path(a, collection, key, path, sizeof path)) return bad_key(key);
    json_t *body = json_pack("{s:s}", "value", value);
    if (body == NULL) return cli_usage_error("the value is not UTF-8 text");
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    json_t *answer = NULL;
    int rc = text != NULL ? api_json(&a->api, "PUT", path, text, &answer) : cli_fail("out of memory");
    free(text);
    if (rc != 0) return rc;
    if (a->json) {
        api_print_json(answer);
    } else {
        printf("set %s for %s\n", key, scope_text(a));
    }
    json_decref(answer);
    return 0;
}

int appconfig_delete(const appconfig_args *a, const char *collection, const char *key)
{
    char path[256];
    if (!appconfig_path(a, collection, key, path, sizeof path)) return bad_key(key);
    json_t *answer = NULL;
    int rc = api_json(&a->api, "DELETE", path, NULL, &answer);
    if (rc != 0) return rc;
    if (a->json) {
        api_print_json(answer);
    } else {
        printf("deleted %s for %s\n", key, scope_text(a));
    }
    json_decref(answer);
    return 0;
}

int appconfig_list(const appconfig_args *a, const char *collection, bool with_values)
{
    char path[256];
    appconfig_path(a, collection, NULL, path, sizeof path);
    json_t *page = NULL;
    int rc = api_json(&a->api, "GET", path, NULL, &page);
    if (rc != 0) return rc;
    if (a->json) {
        api_print_json(page);
    } else {
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(page, "items"), i, item) {
            const char *key = json_string_value(json_object_get(item, "key"));
            if (with_values) {
                printf("%s=%s\n", key, json_string_value(json_object_get(item, "value")));
            } else {
                printf("%s\n", key);
            }
        }
    }
    json_decref(page);
    return 0;
}
