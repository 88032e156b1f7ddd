/*
 * `bulwark keys`: bundle signing keys. `generate` writes <name>.key (the
 * private key, PEM, mode 0600, never overwritten without --force) and
 * <name>.pub (the public key, PEM); `id` prints the key id a bundle signed
 * with a key carries (docs/SPEC.md §6.4).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lib_bundle.h"
#include "lib_file.h"
#include "lib_keys.h"

static int keys_generate_cmd(int argc, char **argv)
{
    static const struct option options[] = {
        { "out", required_argument, NULL, 'o' },
        { "force", no_argument, NULL, 'f' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    const char *name = NULL;
    bool force = false, json = false;
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "o:", options, NULL)) != -1;) {
        switch (c) {
        case 'o': name = optarg; break;
        case 'f': force = true; break;
        case 'j': json = true; break;
        default:
            return cli_usage_error("keys generate: unknown or incomplete option '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind != argc) {
        return cli_usage_error("keys generate: unexpected argument '%s'", argv[optind]);
    }
    if (name == NULL || *name == '\0') {
        return cli_usage_error("keys generate: -o <name> is required");
    }
    char key_path[4096], pub_path[4096], reason[512];
    if ((size_t)snprintf(key_path, sizeof key_path, "%s.key", name) >= sizeof key_path
        || (size_t)snprintf(pub_path, sizeof pub_path, "%s.pub", name) >= sizeof pub_path) {
        return cli_usage_error("keys generate: name too long");
    }

    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    char private_pem[1024], public_pem[1024];
    uint8_t raw[BW_PUBLIC_KEY_SIZE], id[BW_KEY_ID_SIZE];
    int rc = 0;
    if (!keys_generate(&pk, reason, sizeof reason)) {
        rc = cli_fail("%s", reason);
    } else if (!keys_private_pem(&pk, private_pem, sizeof private_pem)
               || !keys_public_pem(&pk, public_pem, sizeof public_pem) || !keys_raw_public(&pk, raw)
               || bw_manifest_key_id(raw, id) != BW_OK) {
        rc = cli_fail("cannot encode the new key");
    } else if (!file_write_all(key_path, private_pem, strlen(private_pem), 0600, !force, reason,
                               sizeof reason)) {
        rc = cli_usage_error("%s", reason);
    } else if (!file_write_all(pub_path, public_pem, strlen(public_pem), 0644, false, reason,
                               sizeof reason)) {
        rc = cli_fail("%s", reason);
    }
    mbedtls_pk_free(&pk);
    memset(private_pem, 0, sizeof private_pem);
    if (rc != 0) {
        return rc;
    }
    char hex[2 * BW_KEY_ID_SIZE + 1];
    keys_id_hex(id, hex);
    if (json) {
        printf("{\"private_key\": ");
        bundle_json_string(stdout, key_path);
        printf(", \"public_key\": ");
        bundle_json_string(stdout, pub_path);
        printf(", \"key_id\": \"%s\"}\n", hex);
    } else {
        printf("wrote %s (private, keep it secret) and %s\nkey id %s\n", key_path, pub_path, hex);
    }
    return 0;
}

static int keys_id_cmd(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        return cli_usage_error("keys id: give one key file (<name>.pub or <name>.key)");
    }
    uint8_t raw[BW_PUBLIC_KEY_SIZE], id[BW_KEY_ID_SIZE];
    char reason[512], hex[2 * BW_KEY_ID_SIZE + 1];
    if (!keys_load_public(argv[1], raw, reason, sizeof reason)) {
        return cli_usage_error("%s", reason);
    }
    if (bw_manifest_key_id(raw, id) != BW_OK) {
        return cli_fail("cannot hash the key");
    }
    keys_id_hex(id, hex);
    printf("%s\n", hex);
    return 0;
}

static const cli_command commands[] = {
    { "generate", "-o <name> [--force] [--json]",
      "new ECDSA P-256 signing key: <name>.key (private, 0600) and <name>.pub", keys_generate_cmd },
    { "id", "<key.pub|key.key>", "print the key id bundles signed with this key carry", keys_id_cmd },
};

const cli_group cli_group_keys = {
    "keys", "bundle signing keys", commands, sizeof commands / sizeof commands[0], NULL,
};
