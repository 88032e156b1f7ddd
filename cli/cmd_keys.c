/*
 * `bulwark keys`: bundle signing keys. `generate` writes <name>.key (the
 * private key, PEM, mode 0600, never overwritten without --force) and
 * <name>.pub (the public key, PEM); `id` prints the key id a bundle signed
 * with a key carries (docs/SPEC.md §6.4). `kernel-signer` makes a
 * kernel-signing key with its certificate issued by a kernel root (a key made
 * with `generate`), `root-hash` the root's hash the boot stub trusts (§19).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lib_bundle.h"
#include "lib_file.h"
#include "lib_keys.h"
#include "lib_x509.h"
#include "bw_kernel_seal.h"

/* The distinguished names of kernel-signing certificates and their issuer. */
#define BW_KERNEL_ROOT_DN "CN=Bulwark kernel root"
#define BW_KERNEL_SIGNER_DN "CN=Bulwark kernel signer"

/* Paths <name>.key and <name>.pub (4096 bytes each); false if too long. */
static bool key_paths(const char *name, char key_path[4096], char pub_path[4096])
{
    return (size_t)snprintf(key_path, 4096, "%s.key", name) < 4096
           && (size_t)snprintf(pub_path, 4096, "%s.pub", name) < 4096;
}

/* A fresh key pair into pk, written to key_path (0600; refused if it exists
 * unless force) and pub_path; its key id into id. 0 or an exit code. */
static int new_key_files(mbedtls_pk_context *pk, const char *key_path, const char *pub_path, bool force,
                         uint8_t id[BW_KEY_ID_SIZE])
{
    char private_pem[1024], public_pem[1024], reason[512];
    uint8_t raw[BW_PUBLIC_KEY_SIZE];
    int rc = 0;
    if (!keys_generate(pk, reason, sizeof reason)) {
        rc = cli_fail("%s", reason);
    } else if (!keys_private_pem(pk, private_pem, sizeof private_pem)
               || !keys_public_pem(pk, public_pem, sizeof public_pem) || !keys_raw_public(pk, raw)
               || bw_manifest_key_id(raw, id) != BW_OK) {
        rc = cli_fail("cannot encode the new key");
    } else if (!file_write_all(key_path, private_pem, strlen(private_pem), 0600, !force, reason,
                               sizeof reason)) {
        rc = cli_usage_error("%s", reason);
    } else if (!file_write_all(pub_path, public_pem, strlen(public_pem), 0644, false, reason,
                               sizeof reason)) {
        rc = cli_fail("%s", reason);
    }
    memset(private_pem, 0, sizeof private_pem);
    return rc;
}

/* Options -o NAME, --force, --json and (with want_root) --root KEY; 0 or an exit code. */
static int parse_key_options(const char *verb, int argc, char **argv, const char **name, bool *force,
                             bool *json, const char **root)
{
    static const struct option options[] = {
        { "out", required_argument, NULL, 'o' },
        { "force", no_argument, NULL, 'f' },
        { "json", no_argument, NULL, 'j' },
        { "root", required_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 },
    };
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "o:", options, NULL)) != -1;) {
        switch (c) {
        case 'o': *name = optarg; break;
        case 'f': *force = true; break;
        case 'j': *json = true; break;
        case 'r':
            if (root != NULL) {
                *root = optarg;
                break;
            }
            /* fall through */
        default:
            return cli_usage_error("keys %s: unknown or incomplete option '%s'", verb, argv[optind - 1]);
        }
    }
    if (optind != argc) {
        return cli_usage_error("keys %s: unexpected argument '%s'", verb, argv[optind]);
    }
    if (*name == NULL || **name == '\0') {
        return cli_usage_error("keys %s: -o <name> is required", verb);
    }
    if (root != NULL && *root == NULL) {
        return cli_usage_error("keys %s: --root <root.key> is required", verb);
    }
    return 0;
}

static int keys_generate_cmd(int argc, char **argv)
{
    const char *name = NULL;
    bool force = false, json = false;
    char key_path[4096], pub_path[4096];
    int rc = parse_key_options("generate", argc, argv, &name, &force, &json, NULL);
    if (rc != 0) {
        return rc;
    }
    if (!key_paths(name, key_path, pub_path)) {
        return cli_usage_error("keys generate: name too long");
    }
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    uint8_t id[BW_KEY_ID_SIZE];
    rc = new_key_files(&pk, key_path, pub_path, force, id);
    mbedtls_pk_free(&pk);
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

/* A kernel-signing key and its certificate (code signing, not a CA) issued by
 * the kernel root's key (docs/SPEC.md §19.1). */
static int keys_kernel_signer_cmd(int argc, char **argv)
{
    const char *name = NULL, *root = NULL;
    bool force = false, json = false;
    char key_path[4096], pub_path[4096], crt_path[4096], reason[512];
    int rc = parse_key_options("kernel-signer", argc, argv, &name, &force, &json, &root);
    if (rc != 0) {
        return rc;
    }
    if (!key_paths(name, key_path, pub_path) || (size_t)snprintf(crt_path, sizeof crt_path, "%s.crt", name)
                                                    >= sizeof crt_path) {
        return cli_usage_error("keys kernel-signer: name too long");
    }
    mbedtls_pk_context root_key, pk;
    mbedtls_pk_init(&root_key);
    mbedtls_pk_init(&pk);
    uint8_t id[BW_KEY_ID_SIZE], der[X509_DER_MAX];
    size_t der_len = 0;
    static char pem[X509_PEM_MAX];
    if (!keys_load_private(root, &root_key, reason, sizeof reason)) {
        rc = cli_usage_error("%s", reason);
    } else if ((rc = new_key_files(&pk, key_path, pub_path, force, id)) != 0) {
        /* reported */
    } else if (!x509_issue(&pk, BW_KERNEL_SIGNER_DN, &root_key, BW_KERNEL_ROOT_DN, X509_ROLE_CODE_SIGNING,
                           NULL, 0, der, &der_len, pem, reason, sizeof reason)) {
        rc = cli_fail("%s", reason);
    } else if (!file_write_all(crt_path, pem, strlen(pem), 0644, false, reason, sizeof reason)) {
        rc = cli_fail("%s", reason);
    }
    mbedtls_pk_free(&pk);
    mbedtls_pk_free(&root_key);
    if (rc != 0) {
        return rc;
    }
    if (json) {
        printf("{\"private_key\": ");
        bundle_json_string(stdout, key_path);
        printf(", \"certificate\": ");
        bundle_json_string(stdout, crt_path);
        printf("}\n");
    } else {
        printf("wrote %s (private, keep it secret), %s and %s (issued by %s)\n", key_path, pub_path, crt_path,
               root);
    }
    return 0;
}

/* The SHA-256 of a root's public key: what the boot stub trusts (built into
 * the qemu-an505 stub, in OTP on the STM32U585). */
static int keys_root_hash_cmd(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        return cli_usage_error("keys root-hash: give one key file (<name>.pub or <name>.key)");
    }
    uint8_t raw[BW_PUBLIC_KEY_SIZE], hash[BW_SEAL_HASH_SIZE];
    char reason[512], hex[2 * BW_SEAL_HASH_SIZE + 1];
    if (!keys_load_public(argv[1], raw, reason, sizeof reason)) {
        return cli_usage_error("%s", reason);
    }
    if (bw_seal_sha256(raw, sizeof raw, hash) != 0) {
        return cli_fail("cannot hash the key");
    }
    hex_encode(hash, sizeof hash, hex);
    printf("%s\n", hex);
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
    { "kernel-signer", "--root <root.key> -o <name> [--force] [--json]",
      "new kernel-signing key <name>.key/.pub and its certificate <name>.crt issued by the kernel root",
      keys_kernel_signer_cmd },
    { "root-hash", "<root.pub|root.key>", "print the SHA-256 of a kernel root key, as the boot stub trusts it",
      keys_root_hash_cmd },
};

const cli_group cli_group_keys = {
    "keys", "bundle signing keys", commands, sizeof commands / sizeof commands[0], NULL,
};
