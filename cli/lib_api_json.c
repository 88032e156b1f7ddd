/* Helpers of lib_api_json.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib_api_json.h"

int api_json(const bw_api *api, const char *method, const char *path, const char *body, json_t **out)
{
    char *text = NULL;
    int rc = bw_api_request(api, method, path, body, &text, NULL);
    if (rc != 0) {
        return rc;
    }
    json_error_t err;
    *out = json_loads(text, 0, &err);
    free(text);
    if (*out == NULL) {
        return cli_fail("the server's answer is not JSON: %s", err.text);
    }
    return 0;
}

char *api_device_body(const char *id, const char *pem, size_t len)
{
    json_t *body = json_pack("{s:s, s:s%}", "id", id, "certificate", pem, len);
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    return text;
}

bool api_valid_device_id(const char *id)
{
    if (id == NULL || strlen(id) != 34 || strncmp(id, "BW", 2) != 0) {
        return false;
    }
    return strspn(id + 2, "0123456789ABCDEF") == 32;
}

void api_print_json(const json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT);
    if (text != NULL) {
        puts(text);
        free(text);
    }
    fflush(stdout);
}

void api_deployment_target(const json_t *d, char *out, size_t size)
{
    json_int_t upload = json_integer_value(json_object_get(d, "app"));
    const char *kernel = json_string_value(json_object_get(d, "kernel_version"));
    if (kernel != NULL) {
        snprintf(out, size, "kernel %s (upload %" JSON_INTEGER_FORMAT ")", kernel, upload);
    } else {
        snprintf(out, size, "app %" JSON_INTEGER_FORMAT " (version %" JSON_INTEGER_FORMAT ")", upload,
                 json_integer_value(json_object_get(d, "app_version")));
    }
}
