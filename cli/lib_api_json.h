/*
 * Small helpers for the CLI's REST commands (cmd_devices.c, cmd_logs.c,
 * cmd_crashes.c): a request whose answer is parsed as JSON, and the
 * device-ID check the server applies too.
 */
#ifndef BULWARK_LIB_API_JSON_H
#define BULWARK_LIB_API_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "lib_api.h"

/* bw_api_request, then the answer parsed. On success returns 0 and *out (the
 * caller decrefs); otherwise the exit code (the error is printed). */
int api_json(const bw_api *api, const char *method, const char *path, const char *body, json_t **out);

/* The body of POST /v1/devices (docs/API.md) as compact JSON text (caller
 * frees), or NULL when pem is not text. */
char *api_device_body(const char *id, const char *pem, size_t len);

/* "BW" + 32 uppercase hex digits (docs/SPEC.md §3). */
bool api_valid_device_id(const char *id);

/* Prints value as one compact JSON line on stdout. */
void api_print_json(const json_t *value);

/* What a Deployment (docs/API.md) targets, for a person: "app 1 (version 2)"
 * or "kernel 1.1.0 (upload 4)". */
void api_deployment_target(const json_t *deployment, char *out, size_t size);

#endif
