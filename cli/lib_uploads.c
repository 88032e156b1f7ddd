/* Uploads to bulwarkd, apps or kernels (lib_uploads.h). */
#include "lib_uploads.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib_api.h"
#include "lib_api_json.h"
#include "lib_bundle.h"
#include "lib_file.h"

/* Parses [--json] and the positional arguments (want of them) after the API options. */
static int parse(const upload_kind *kind, const char *verb, int *argc, char **argv, bw_api *api, bool *json, int want)
{
    int rc = bw_api_setup(api, argc, argv);
    if (rc != 0) return rc;
    static const struct option options[] = { { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(*argc, argv, "", options, NULL)) != -1;) {
        if (c != 'j') return cli_usage_error("%s %s: unknown option '%s'", kind->group, verb, argv[optind - 1]);
        *json = true;
    }
    if (*argc - optind != want) {
        return cli_usage_error("%s %s: expected %d argument%s", kind->group, verb, want, want == 1 ? "" : "s");
    }
    return 0;
}

int uploads_upload(const upload_kind *kind, int argc, char **argv)
{
    bw_api api;
    bool json = false;
    int rc = parse(kind, "upload", &argc, argv, &api, &json, 1);
    if (rc != 0) return rc;
    uint8_t *data = NULL;
    size_t len = 0;
    char reason[512];
    if (!file_read_all(argv[optind], BUNDLE_FILE_MAX, &data, &len, reason, sizeof reason)) {
        return cli_usage_error("%s", reason);
    }
    char *text = NULL;
    long status = 0;
    rc = bw_api_upload(&api, kind->path, data, len, !json, &text, &status);
    free(data);
    if (rc != 0) return rc;
    json_t *one = json_loads(text, 0, NULL);
    free(text);
    if (one == NULL) return cli_fail("the server's answer is not JSON");
    if (json) {
        api_print_json(one);
    } else {
        printf("%s ", status == 201 ? "uploaded" : "already uploaded:");
        kind->print(one);
    }
    json_decref(one);
    return 0;
}

int uploads_list(const upload_kind *kind, int argc, char **argv)
{
    bw_api api;
    bool json = false;
    int rc = parse(kind, "list", &argc, argv, &api, &json, 0);
    json_t *page = NULL;
    if (rc != 0 || (rc = api_json(&api, "GET", kind->path, NULL, &page)) != 0) return rc;
    size_t i;
    json_t *one;
    json_array_foreach(json_object_get(page, kind->group), i, one) {
        if (json) {
            api_print_json(one);
        } else {
            kind->print(one);
        }
    }
    json_decref(page);
    return 0;
}

int uploads_show(const upload_kind *kind, int argc, char **argv)
{
    bw_api api;
    bool json = false;
    int rc = parse(kind, "show", &argc, argv, &api, &json, 1);
    if (rc != 0) return rc;
    if (strspn(argv[optind], "0123456789") != strlen(argv[optind]) || strlen(argv[optind]) > 18) {
        return cli_usage_error("%s show: '%s' is not %s %s ID", kind->group, argv[optind],
                               kind->noun[0] == 'a' ? "an" : "a", kind->noun);
    }
    char path[64];
    snprintf(path, sizeof path, "%s/%s", kind->path, argv[optind]);
    json_t *one = NULL;
    if ((rc = api_json(&api, "GET", path, NULL, &one)) != 0) return rc;
    if (json) {
        api_print_json(one);
    } else {
        kind->print(one);
    }
    json_decref(one);
    return 0;
}
