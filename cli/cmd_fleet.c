/*
 * `bulwark fleet init`: makes a fleet directory (docs/SPEC.md §12): the
 * fleet CA, the broker's server certificate, bulwarkd's client certificate,
 * the admin API token, the bundle-signing key pair and fleet.conf. Private
 * keys and the token are written 0600; nothing is overwritten without
 * --force (the check covers every file before any is written).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "lib_file.h"
#include "lib_keys.h"
#include "lib_x509.h"

#define MAX_BROKER_NAMES 15
#define CA_SUBJECT "CN=Bulwark fleet CA,O=Bulwark"

static const char *const fleet_files[] = {
    "ca.key", "ca.crt", "broker.key", "broker.crt", "bulwarkd.key", "bulwarkd.crt",
    "admin.token", "update.key", "update.pub", "fleet.conf",
};

typedef struct fleet_writer {
    const char *dir;
    bool force;
    char reason[512];
} fleet_writer;

static bool fleet_path(const fleet_writer *w, const char *name, char *out, size_t size)
{
    return (size_t)snprintf(out, size, "%s/%s", w->dir, name) < size;
}

static bool put(fleet_writer *w, const char *name, const void *data, size_t len, unsigned mode)
{
    char path[4096];
    if (!fleet_path(w, name, path, sizeof path)) {
        snprintf(w->reason, sizeof w->reason, "fleet directory path too long");
        return false;
    }
    return file_write_all(path, data, len, mode, !w->force, w->reason, sizeof w->reason);
}

/* A new key (written as <name>.key, 0600) and its certificate <name>.crt. */
static bool key_and_cert(fleet_writer *w, const char *name, mbedtls_pk_context *key,
                         const char *subject, mbedtls_pk_context *ca_key, x509_role role,
                         const char *const *dns, size_t dns_count)
{
    static uint8_t der[X509_DER_MAX];
    static char pem[X509_PEM_MAX], key_pem[1024];
    char file[64];
    bool self = ca_key == NULL;
    if (!keys_generate(key, w->reason, sizeof w->reason)
        || !x509_issue(key, subject, self ? key : ca_key, CA_SUBJECT, role, dns, dns_count, der,
                       &(size_t){0}, pem, w->reason, sizeof w->reason)) {
        return false;
    }
    if (!keys_private_pem(key, key_pem, sizeof key_pem)) {
        snprintf(w->reason, sizeof w->reason, "cannot encode the %s key", name);
        return false;
    }
    snprintf(file, sizeof file, "%s.key", name);
    bool ok = put(w, file, key_pem, strlen(key_pem), 0600);
    memset(key_pem, 0, sizeof key_pem);
    snprintf(file, sizeof file, "%s.crt", name);
    return ok && put(w, file, pem, strlen(pem), 0644);
}

static bool write_fleet(fleet_writer *w, const char *const *names, size_t name_count)
{
    const char *dns[1 + MAX_BROKER_NAMES] = { "localhost" };
    for (size_t i = 0; i < name_count; i++) {
        dns[1 + i] = names[i];
    }
    mbedtls_pk_context ca, broker, daemon, update;
    mbedtls_pk_init(&ca);
    mbedtls_pk_init(&broker);
    mbedtls_pk_init(&daemon);
    mbedtls_pk_init(&update);
    uint8_t token[32];
    char token_hex[2 * sizeof token + 2];
    char update_pem[1024], update_pub[1024], conf[512];
    bool ok = key_and_cert(w, "ca", &ca, CA_SUBJECT, NULL, X509_ROLE_CA, NULL, 0)
           && key_and_cert(w, "broker", &broker, "CN=Bulwark broker,O=Bulwark", &ca, X509_ROLE_SERVER,
                           dns, 1 + name_count)
           && key_and_cert(w, "bulwarkd", &daemon, "CN=bulwarkd,O=Bulwark", &ca, X509_ROLE_CLIENT,
                           NULL, 0);
    if (ok && keys_rng(NULL, token, sizeof token) != 0) {
        snprintf(w->reason, sizeof w->reason, "no random bytes for the admin token");
        ok = false;
    }
    if (ok) {
        hex_encode(token, sizeof token, token_hex);
        strcat(token_hex, "\n");
        ok = put(w, "admin.token", token_hex, strlen(token_hex), 0600);
        memset(token_hex, 0, sizeof token_hex);
    }
    /* The bundle-signing pair, as `bulwark keys generate` writes it. */
    if (ok && (!keys_generate(&update, w->reason, sizeof w->reason)
               || !keys_private_pem(&update, update_pem, sizeof update_pem)
               || !keys_public_pem(&update, update_pub, sizeof update_pub))) {
        snprintf(w->reason, sizeof w->reason, "cannot make the update key");
        ok = false;
    }
    ok = ok && put(w, "update.key", update_pem, strlen(update_pem), 0600)
            && put(w, "update.pub", update_pub, strlen(update_pub), 0644);
    memset(update_pem, 0, sizeof update_pem);
    snprintf(conf, sizeof conf,
             "# Bulwark fleet, made by `bulwark fleet init` (docs/SPEC.md §12). Edit to suit.\n"
             "broker_host = %s\n"
             "broker_port = 8883\n"
             "api_url = http://127.0.0.1:8470\n", name_count > 0 ? names[0] : "localhost");
    ok = ok && put(w, "fleet.conf", conf, strlen(conf), 0644);
    mbedtls_pk_free(&ca);
    mbedtls_pk_free(&broker);
    mbedtls_pk_free(&daemon);
    mbedtls_pk_free(&update);
    return ok;
}

static int fleet_init(int argc, char **argv)
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' },
        { "broker-name", required_argument, NULL, 'b' },
        { "force", no_argument, NULL, 'f' },
        { NULL, 0, NULL, 0 },
    };
    fleet_writer w = { .dir = NULL, .force = false };
    const char *names[MAX_BROKER_NAMES];
    size_t name_count = 0;
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        switch (c) {
        case 'd': w.dir = optarg; break;
        case 'f': w.force = true; break;
        case 'b':
            if (name_count == MAX_BROKER_NAMES || *optarg == '\0' || strlen(optarg) > 253
                || strpbrk(optarg, " ,=:/\\\"") != NULL) {
                return cli_usage_error("fleet init: --broker-name takes a host name (at most %d), "
                                       "not '%s'", MAX_BROKER_NAMES, optarg);
            }
            names[name_count++] = optarg;
            break;
        default:
            return cli_usage_error("fleet init: unknown option or missing value at '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind != argc) {
        return cli_usage_error("fleet init: unexpected argument '%s'", argv[optind]);
    }
    if (w.dir == NULL || *w.dir == '\0') {
        return cli_usage_error("fleet init: --dir DIR is required");
    }
    if (mkdir(w.dir, 0700) != 0 && errno != EEXIST) {
        return cli_usage_error("fleet init: cannot make %s: %s", w.dir, strerror(errno));
    }
    for (size_t i = 0; i < sizeof fleet_files / sizeof fleet_files[0] && !w.force; i++) {
        char path[4096];
        struct stat st;
        if (fleet_path(&w, fleet_files[i], path, sizeof path) && stat(path, &st) == 0) {
            return cli_usage_error("fleet init: %s already holds a fleet (%s exists); --force "
                                   "replaces it", w.dir, fleet_files[i]);
        }
    }
    if (!write_fleet(&w, names, name_count)) {
        return cli_fail("fleet init: %s", w.reason);
    }
    printf("fleet made in %s: ca.crt, broker.crt (localhost, 127.0.0.1", w.dir);
    for (size_t i = 0; i < name_count; i++) {
        printf(", %s", names[i]);
    }
    printf("), bulwarkd.crt, admin.token, update.key/update.pub, fleet.conf\n");
    return 0;
}

static const cli_command commands[] = {
    { "init", "--dir DIR [--broker-name NAME ...] [--force]",
      "make a fleet: CA, broker and bulwarkd certificates, admin token, update key, fleet.conf",
      fleet_init },
};

const cli_group cli_group_fleet = {
    "fleet", "the fleet's CA, certificates and keys (docs/SPEC.md §12)", commands,
    sizeof commands / sizeof commands[0], NULL,
};
