/*
 * What `bulwark config` and `bulwark secrets` share (docs/API.md "Config and
 * secrets"): their options, the REST paths and the set/delete/list calls.
 * A device scope is chosen with --device D; without it, the account's.
 */
#ifndef BULWARK_LIB_APPCONFIG_H
#define BULWARK_LIB_APPCONFIG_H

#include <stdbool.h>

#include "lib_api.h"

typedef struct appconfig_args {
    bw_api api;
    const char *device;   /* NULL: account scope */
    bool json;
    int first;            /* index of the first positional argument in argv */
} appconfig_args;

/* Parses [--device D] [--json] and the API options of `<group> <verb>`,
 * expecting want_min..want_max positional arguments. 0 or 2 (printed). */
int appconfig_parse(const char *group, const char *verb, int *argc, char **argv, int want_min, int want_max,
                    appconfig_args *a);

/* PUT /v1/<collection>/KEY {"value": value}; prints what was set (never the value). */
int appconfig_set(const appconfig_args *a, const char *collection, const char *key, const char *value);

/* DELETE /v1/<collection>/KEY. */
int appconfig_delete(const appconfig_args *a, const char *collection, const char *key);

/* GET /v1/<collection>: one line per key (with "=value" when with_values). */
int appconfig_list(const appconfig_args *a, const char *collection, bool with_values);

/* The path /v1/<collection>[/KEY][?device=D] into out. false if it does not fit. */
bool appconfig_path(const appconfig_args *a, const char *collection, const char *key, char *out, size_t size);

#endif
