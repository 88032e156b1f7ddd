/*
 * `bulwark keys`: bundle signing keys. `generate` writes <name>.key (the
 * private key, PEM, mode 0600, never overwritten without --force) and
 * <name>.pub (the public key, PEM); `id` prints the key id a bundle signed
 * with a key carries (docs/SPEC.md §6.4). `kernel-signer` makes a
 * kernel-signing key with its certificate issued by a kernel root (a key made
 * with `generate`), `root-hash` the root's hash the boot stub trusts (§19).
 * `rotate` makes a key set (§12.4): new trusted update keys signed by the
 * fleet CA, which `bulwark device keys` sends to a device; `show-set` prints
 * one (and checks it against a fleet's CA) with the device's own parser.
 * `push` hands one to bulwarkd (docs/API.md "Key sets"), which checks it
 * and sends it over the cloud to the whole fleet (or one device), the
 * devices offline now when they next connect.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/sha256.h"
#include "mbedtls/x509_crt.h"

#include "cli.h"
#include "lib_api.h"
#include "lib_api_json.h"
#include "lib_args.h"
#include "lib_bundle.h"
#include "lib_file.h"
#include "lib_keys.h"
#include "lib_x509.h"
#include "bw_keyset.h"
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

/* ---- key sets ---- */

/* The fleet's CA key pair from DIR: its private key into ca (for rotate, may
 * be NULL) and its certificate's public key (0x04 || X || Y). 0 or an exit code. */
static int load_fleet_ca(const char *verb, const char *dir, mbedtls_pk_context *ca,
                         uint8_t ca_public[BW_PUBLIC_KEY_SIZE])
{
    char path[4096], reason[512];
    if ((size_t)snprintf(path, sizeof path, "%s/ca.key", dir) >= sizeof path) {
        return cli_usage_error("keys %s: fleet directory name too long", verb);
    }
    if (ca != NULL && !keys_load_private(path, ca, reason, sizeof reason)) {
        return cli_usage_error("keys %s: %s", verb, reason);
    }
    snprintf(path, sizeof path, "%s/ca.crt", dir);
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    bool ok = mbedtls_x509_crt_parse_file(&crt, path) == 0 && crt.next == NULL
              && keys_raw_public(&crt.pk, ca_public);
    mbedtls_x509_crt_free(&crt);
    if (!ok) {
        return cli_usage_error("keys %s: %s is not one P-256 certificate", verb, path);
    }
    uint8_t mine[BW_PUBLIC_KEY_SIZE];
    if (ca != NULL && (!keys_raw_public(ca, mine) || memcmp(mine, ca_public, sizeof mine) != 0)) {
        return cli_usage_error("keys %s: %s/ca.key is not the key of %s", verb, dir, path);
    }
    return 0;
}

static void print_key_ids(const bw_keyset *set)
{
    for (uint32_t i = 0; i < set->key_count; i++) {
        uint8_t id[BW_KEY_ID_SIZE];
        char hex[2 * BW_KEY_ID_SIZE + 1] = "?";
        if (bw_manifest_key_id(set->keys[i], id) == BW_OK) {
            keys_id_hex(id, hex);
        }
        printf("  key %u: id %s\n", (unsigned)(i + 1u), hex);
    }
}

static int keys_rotate_cmd(int argc, char **argv)
{
    static const struct option options[] = {
        { "fleet", required_argument, NULL, 'F' },
        { "sequence", required_argument, NULL, 's' },
        { "out", required_argument, NULL, 'o' },
        { "force", no_argument, NULL, 'f' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = NULL, *out = NULL;
    uint32_t sequence = 0;
    bool force = false;
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "o:", options, NULL)) != -1;) {
        switch (c) {
        case 'F': dir = optarg; break;
        case 'o': out = optarg; break;
        case 'f': force = true; break;
        case 's':
            if (!args_uint32(optarg, &sequence) || sequence == 0) {
                return cli_usage_error("keys rotate: --sequence needs a number 1 to 4294967295, not '%s'",
                                       optarg);
            }
            break;
        default:
            return cli_usage_error("keys rotate: unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    uint32_t count = (uint32_t)(argc - optind);
    if (dir == NULL || out == NULL || sequence == 0 || count < 1 || count > BW_KEYSET_KEYS_MAX) {
        return cli_usage_error("keys rotate: --fleet DIR --sequence S -o FILE and 1 to %u key files",
                               (unsigned)BW_KEYSET_KEYS_MAX);
    }
    uint8_t keys[BW_KEYSET_KEYS_MAX][BW_PUBLIC_KEY_SIZE], ca_public[BW_PUBLIC_KEY_SIZE];
    char reason[512];
    for (uint32_t i = 0; i < count; i++) {
        if (!keys_load_public(argv[optind + (int)i], keys[i], reason, sizeof reason)) {
            return cli_usage_error("keys rotate: %s", reason);
        }
    }
    mbedtls_pk_context ca;
    mbedtls_pk_init(&ca);
    int rc = load_fleet_ca("rotate", dir, &ca, ca_public);
    uint8_t rec[BW_KEYSET_MAX], hash[BW_SHA256_SIZE];
    size_t signed_len = rc == 0 ? bw_keyset_write_signed_part(sequence, keys, count, rec, sizeof rec) : 0;
    bw_keyset set;
    if (rc != 0) {
        /* reported */
    } else if (signed_len == 0 || mbedtls_sha256(rec, signed_len, hash, 0) != 0
               || !keys_sign_hash(&ca, hash, rec + signed_len, reason, sizeof reason)) {
        rc = cli_fail("cannot sign the key set");
    } else if (bw_keyset_parse(rec, signed_len + BW_SIGNATURE_SIZE, &set, reason, sizeof reason) != BW_OK) {
        rc = cli_usage_error("keys rotate: %s", reason);   /* e.g. a key given twice */
    } else if (!file_write_all(out, rec, signed_len + BW_SIGNATURE_SIZE, 0644, !force, reason,
                               sizeof reason)) {
        rc = cli_usage_error("keys rotate: %s", reason);
    } else {
        printf("wrote %s: key set %u, %u key(s), signed by the fleet CA of %s\n", out, (unsigned)sequence,
               (unsigned)count, dir);
        print_key_ids(&set);
    }
    mbedtls_pk_free(&ca);
    return rc;
}

static int keys_show_set_cmd(int argc, char **argv)
{
    static const struct option options[] = {
        { "fleet", required_argument, NULL, 'F' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = NULL;
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        if (c != 'F') {
            return cli_usage_error("keys show-set: unknown or incomplete option '%s'", argv[optind - 1]);
        }
        dir = optarg;
    }
    if (optind + 1 != argc) {
        return cli_usage_error("keys show-set: give one key-set file");
    }
    uint8_t *rec = NULL, ca_public[BW_PUBLIC_KEY_SIZE];
    size_t len = 0;
    char reason[512];
    bw_keyset set;
    if (!file_read_all(argv[optind], BW_KEYSET_MAX, &rec, &len, reason, sizeof reason)) {
        return cli_usage_error("keys show-set: %s", reason);
    }
    bw_err err = bw_keyset_parse(rec, len, &set, reason, sizeof reason);
    free(rec);
    if (err != BW_OK) {
        return cli_fail("%s: %s", argv[optind], reason);
    }
    printf("key set %u: %u key(s)\n", (unsigned)set.sequence, (unsigned)set.key_count);
    print_key_ids(&set);
    if (dir == NULL) {
        printf("signature: not checked (give --fleet DIR)\n");
        return 0;
    }
    int rc = load_fleet_ca("show-set", dir, NULL, ca_public);
    if (rc != 0) {
        return rc;
    }
    if (bw_keyset_verify(&set, ca_public, reason, sizeof reason) != BW_OK) {
        return cli_fail("%s: %s of %s", argv[optind], reason, dir);
    }
    printf("signature: good (the fleet CA of %s)\n", dir);
    return 0;
}

/* Sends the file as it is: bulwarkd judges it (and the device again). */
static int keys_push_cmd(int argc, char **argv)
{
    bw_api api;
    int rc = bw_api_setup(&api, &argc, argv);
    if (rc != 0) return rc;
    static const struct option options[] = {
        { "device", required_argument, NULL, 'd' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    const char *device = NULL;
    bool json = false;
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        if (c == 'd') {
            device = optarg;
        } else if (c == 'j') {
            json = true;
        } else {
            return cli_usage_error("keys push: unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc) return cli_usage_error("keys push: give one key-set file");
    if (device != NULL && !api_valid_device_id(device)) {
        return cli_usage_error("keys push: '%s' is not a device ID (\"BW\" + 32 uppercase hex digits)", device);
    }
    uint8_t *rec = NULL;
    size_t len = 0;
    char reason[512], path[128] = "/v1/keysets";
    if (!file_read_all(argv[optind], 4096, &rec, &len, reason, sizeof reason)) {
        return cli_usage_error("keys push: %s", reason);
    }
    if (device != NULL) snprintf(path, sizeof path, "/v1/keysets?device=%s", device);
    char *text = NULL;
    long status = 0;
    rc = bw_api_upload(&api, path, rec, len, false, &text, &status);
    free(rec);
    if (rc != 0) return rc;
    json_t *set = json_loads(text, 0, NULL);
    free(text);
    if (set == NULL) return cli_fail("the server's answer is not JSON");
    if (json) {
        api_print_json(set);
    } else {
        printf("%s key set %" JSON_INTEGER_FORMAT " for %s: %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
               " device(s) hold it; the others get it when they are online\n",
               status == 201 ? "pushed" : "already pushed:", json_integer_value(json_object_get(set, "sequence")),
               device != NULL ? device : "the fleet", json_integer_value(json_object_get(set, "devices_holding")),
               json_integer_value(json_object_get(set, "devices_targeted")));
    }
    json_decref(set);
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
    { "rotate", "--fleet DIR --sequence S -o FILE [--force] <key.pub>...",
      "new key set: 1 to 4 trusted update keys signed by the fleet CA (send it with `device keys`)",
      keys_rotate_cmd },
    { "show-set", "<keyset> [--fleet DIR]", "print a key set; with --fleet, check its signature",
      keys_show_set_cmd },
    { "push", "<keyset> [--device D] [--json] [--server URL] [--token T]",
      "send a key set through bulwarkd to every device (or one), now or when it next connects", keys_push_cmd },
};

const cli_group cli_group_keys = {
    "keys", "bundle signing keys", commands, sizeof commands / sizeof commands[0], NULL,
};
