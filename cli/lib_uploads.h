/*
 * What `bulwark apps` and `bulwark kernels` share (docs/API.md, /v1/apps and
 * /v1/kernels): upload a file as it is (bulwarkd checks it and refuses it
 * with a reason, exit 1), list the uploads newest first, show one. Only the
 * path, the noun and how one upload is printed differ.
 * Exit codes: 0 done, 1 refused or unreachable, 2 bad usage.
 */
#ifndef BULWARK_LIB_UPLOADS_H
#define BULWARK_LIB_UPLOADS_H

#include <jansson.h>

typedef struct upload_kind {
    const char *group;                 /* "apps", "kernels": the CLI group and the list's key */
    const char *noun;                  /* "app", "kernel" */
    const char *path;                  /* "/v1/apps", "/v1/kernels" */
    void (*print)(const json_t *one);  /* one line (and details) for a person */
} upload_kind;

int uploads_upload(const upload_kind *kind, int argc, char **argv);
int uploads_list(const upload_kind *kind, int argc, char **argv);
int uploads_show(const upload_kind *kind, int argc, char **argv);

#endif
