/*
 * The CLI's client of bulwarkd's REST API (docs/API.md), over libcurl.
 * Where the server and token come from, first found wins: the options
 * --server URL / --token T, the environment BULWARK_SERVER / BULWARK_TOKEN,
 * then the config file ($BULWARK_CONFIG, else ~/.config/bulwark/config;
 * lines "server = URL" and "token = T").
 */
#ifndef BULWARK_LIB_API_H
#define BULWARK_LIB_API_H

#include <stdbool.h>
#include <stddef.h>

typedef struct bw_api {
    char server[512];   /* base URL, e.g. http://127.0.0.1:8080 (no trailing /) */
    char token[256];
} bw_api;

/* Fills api. Removes --server/--token and their values from argv (updating
 * *argc) so the command parses the rest. Returns 0, or prints why
 * ("bulwark: no server: ...") and returns 2. */
int bw_api_setup(bw_api *api, int *argc, char **argv);

/* The two halves of bw_api_setup, for a command that knows a fallback only
 * after parsing its own options: take --server/--token out of argv, then
 * fill what is still empty from the environment, the config file and last
 * the fallbacks (NULL: none), and check. Each returns 0 or 2 (printed). */
int bw_api_take_options(bw_api *api, int *argc, char **argv);
int bw_api_resolve(bw_api *api, const char *fallback_server, const char *fallback_token);

/* Sends METHOD server+path with the bearer token and, if json_body is not
 * NULL, that body as application/json. On a 2xx answer returns 0 and the
 * body, NUL-terminated and malloc'ed, in *response (caller frees; may be
 * NULL when the caller does not want it). Otherwise prints
 * "bulwark: <the server's error message> (HTTP <status>)" or the transport
 * error and returns 1. *http_status (if not NULL) gets the status, 0 when
 * there was no answer. */
int bw_api_request(const bw_api *api, const char *method, const char *path,
                   const char *json_body, char **response, long *http_status);

/* bw_api_request that prints nothing for an HTTP error answer: it returns 1
 * with the status in *http_status and the server's message (or "") in
 * message. Transport errors are printed as by bw_api_request. */
int bw_api_request_quiet(const bw_api *api, const char *method, const char *path,
                         const char *json_body, char **response, long *http_status,
                         char *message, size_t message_size);

/* POSTs len raw bytes to server+path as application/octet-stream, answered
 * as by bw_api_request. With progress, and stderr a terminal, a progress
 * bar is drawn on stderr while the bytes go (libcurl's transfer callback). */
int bw_api_upload(const bw_api *api, const char *path, const void *data, size_t len, bool progress, char **response,
                  long *http_status);

#endif
