/*
 * lib_api.h over libcurl: the bulwark CLI's client of bulwarkd's REST API.
 * The token goes only into the Authorization header; answers are read into
 * memory with a cap (MAX_RESPONSE) so a hostile server cannot exhaust it.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli.h"
#include "lib_api.h"

#define MAX_RESPONSE (64u * 1024u * 1024u)

typedef struct buffer {
    char *data;
    size_t len;
    bool too_big;
} buffer;

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    buffer *b = userdata;
    size_t n = size * nmemb;
    if (b->len + n > MAX_RESPONSE) {
        b->too_big = true;
        return 0;
    }
    char *grown = realloc(b->data, b->len + n + 1);
    if (grown == NULL) {
        return 0;
    }
    b->data = grown;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static void trim(char *t)
{
    size_t n = strlen(t);
    while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' ' || t[n - 1] == '\t')) t[--n] = '\0';
}

/* Fills the fields still empty from the config file's "server = " / "token = " lines. */
static int read_config(bw_api *api)
{
    char path[1024];
    const char *explicit_path = getenv("BULWARK_CONFIG");
    const char *home = getenv("HOME");
    if (explicit_path != NULL && *explicit_path != '\0') {
        snprintf(path, sizeof path, "%s", explicit_path);
    } else if (home != NULL) {
        snprintf(path, sizeof path, "%s/.config/bulwark/config", home);
    } else {
        return 0;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (explicit_path != NULL && *explicit_path != '\0') {
            return cli_usage_error("config file %s: %s", path, strerror(errno));
        }
        return 0;
    }
    char line[1024];
    while (fgets(line, sizeof line, f) != NULL) {
        char *eq = strchr(line, '=');
        if (line[0] == '#' || eq == NULL) continue;
        *eq = '\0';
        char *key = line, *value = eq + 1;
        while (*key == ' ' || *key == '\t') key++;
        trim(key);
        while (*value == ' ' || *value == '\t') value++;
        trim(value);
        if (strcmp(key, "server") == 0 && api->server[0] == '\0') {
            snprintf(api->server, sizeof api->server, "%s", value);
        } else if (strcmp(key, "token") == 0 && api->token[0] == '\0') {
            snprintf(api->token, sizeof api->token, "%s", value);
        }
    }
    fclose(f);
    return 0;
}

int bw_api_take_options(bw_api *api, int *argc, char **argv)
{
    memset(api, 0, sizeof *api);
    int out = 0;
    for (int i = 0; i < *argc; i++) {
        const char *value = NULL;
        char *target = NULL;
        size_t target_size = 0;
        if (strcmp(argv[i], "--server") == 0 || strncmp(argv[i], "--server=", 9) == 0) {
            target = api->server;
            target_size = sizeof api->server;
        } else if (strcmp(argv[i], "--token") == 0 || strncmp(argv[i], "--token=", 8) == 0) {
            target = api->token;
            target_size = sizeof api->token;
        }
        if (target == NULL) {
            argv[out++] = argv[i];
            continue;
        }
        const char *eq = strchr(argv[i], '=');
        if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < *argc) {
            value = argv[++i];
        } else {
            return cli_usage_error("%s needs a value", argv[i]);
        }
        snprintf(target, target_size, "%s", value);
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

int bw_api_resolve(bw_api *api, const char *fallback_server, const char *fallback_token)
{
    const char *env_server = getenv("BULWARK_SERVER"), *env_token = getenv("BULWARK_TOKEN");
    if (api->server[0] == '\0' && env_server != NULL) snprintf(api->server, sizeof api->server, "%s", env_server);
    if (api->token[0] == '\0' && env_token != NULL) snprintf(api->token, sizeof api->token, "%s", env_token);
    int rc = read_config(api);
    if (rc != 0) return rc;
    if (api->server[0] == '\0' && fallback_server != NULL) {
        snprintf(api->server, sizeof api->server, "%s", fallback_server);
    }
    if (api->token[0] == '\0' && fallback_token != NULL) {
        snprintf(api->token, sizeof api->token, "%s", fallback_token);
    }
    size_t n = strlen(api->server);
    while (n > 0 && api->server[n - 1] == '/') api->server[--n] = '\0';
    if (api->server[0] == '\0') {
        return cli_usage_error("no server: give --server URL, set BULWARK_SERVER, or put \"server = URL\" in "
                               "~/.config/bulwark/config");
    }
    if (api->token[0] == '\0') {
        return cli_usage_error("no token: give --token T, set BULWARK_TOKEN, or put \"token = T\" in "
                               "~/.config/bulwark/config");
    }
    return 0;
}

int bw_api_setup(bw_api *api, int *argc, char **argv)
{
    int rc = bw_api_take_options(api, argc, argv);
    return rc != 0 ? rc : bw_api_resolve(api, NULL, NULL);
}

/* What a request sends: no body (data NULL), JSON text, or raw bytes. */
typedef struct body_spec {
    const char *data;
    size_t len;
    const char *content_type;
    bool progress;   /* a progress bar on stderr while sending */
} body_spec;

/* libcurl's transfer callback: one line redrawn on stderr. */
static int show_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    int *last = clientp;
    if (ultotal <= 0) {
        return 0;
    }
    int percent = (int)(ulnow * 100 / ultotal);
    if (percent != *last) {
        enum { WIDTH = 40 };
        char bar[WIDTH + 1];
        int fill = percent * WIDTH / 100;
        for (int i = 0; i < WIDTH; i++) bar[i] = i < fill ? '#' : '.';
        bar[WIDTH] = '\0';
        fprintf(stderr, "\rupload [%s] %3d%% %lld/%lld KiB", bar, percent, (long long)(ulnow / 1024),
                (long long)(ultotal / 1024));
        *last = percent;
    }
    return 0;
}

/* The request; an HTTP error's message goes to message when it is not NULL,
 * else it is printed. */
static int request(const bw_api *api, const char *method, const char *path, const body_spec *send, char **response,
                   long *http_status, char *message, size_t message_size)
{
    if (response != NULL) *response = NULL;
    if (http_status != NULL) *http_status = 0;
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        return cli_fail("cannot start libcurl");
    }
    char url[2048], auth[300];
    snprintf(url, sizeof url, "%s%s", api->server, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", api->token);
    struct curl_slist *headers = curl_slist_append(NULL, auth);
    int last_percent = -1;
    if (send->data != NULL) {
        char type[128];
        snprintf(type, sizeof type, "Content-Type: %s", send->content_type);
        headers = curl_slist_append(headers, type);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)send->len);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, send->data);
    }
    if (send->progress) {
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, show_progress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &last_percent);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    }
    buffer body = { 0 };
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (last_percent >= 0) {
        fputc('\n', stderr);
    }
    if (http_status != NULL) *http_status = status;
    if (cc != CURLE_OK) {
        free(body.data);
        return cli_fail("%s %s: %s", method, url, body.too_big ? "answer too large" : curl_easy_strerror(cc));
    }
    if (status < 200 || status > 299) {
        json_t *err = body.data != NULL ? json_loads(body.data, 0, NULL) : NULL;
        const char *text = json_string_value(json_object_get(json_object_get(err, "error"), "message"));
        if (message != NULL) {
            snprintf(message, message_size, "%s", text != NULL ? text : "");
        } else {
            cli_fail("%s (HTTP %ld)", text != NULL ? text : "the server gave no error message", status);
        }
        json_decref(err);
        free(body.data);
        return 1;
    }
    if (response != NULL) {
        *response = body.data != NULL ? body.data : strdup("");
    } else {
        free(body.data);
    }
    return 0;
}

static body_spec json_spec(const char *json_body)
{
    return (body_spec){ .data = json_body, .len = json_body != NULL ? strlen(json_body) : 0,
                        .content_type = "application/json" };
}

int bw_api_request(const bw_api *api, const char *method, const char *path, const char *json_body, char **response,
                   long *http_status)
{
    body_spec b = json_spec(json_body);
    return request(api, method, path, &b, response, http_status, NULL, 0);
}

int bw_api_request_quiet(const bw_api *api, const char *method, const char *path, const char *json_body,
                         char **response, long *http_status, char *message, size_t message_size)
{
    body_spec b = json_spec(json_body);
    return request(api, method, path, &b, response, http_status, message, message_size);
}

int bw_api_upload(const bw_api *api, const char *path, const void *data, size_t len, bool progress, char **response,
                  long *http_status)
{
    body_spec b = { .data = data, .len = len, .content_type = "application/octet-stream",
                    .progress = progress && isatty(STDERR_FILENO) };
    return request(api, "POST", path, &b, response, http_status, NULL, 0);
}
