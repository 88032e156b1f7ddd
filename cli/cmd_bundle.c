/*
 * `bulwark bundle`: make, show and check update bundles (docs/SPEC.md §6).
 * create: app ELF + signing key + policies -> signed bundle file.
 * inspect: print every manifest field and layer, no key needed.
 * verify: everything the device checks before installing; exit 1 with the
 * precise reason on the first failure.
 * inspect and verify also take a signed kernel image (`bulwark kernel sign`,
 * §19): verify then checks the chain to --root as the boot stub does.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib_args.h"
#include "lib_bundle.h"
#include "lib_file.h"
#include "lib_keys.h"
#include "lib_kernel_image.h"

#define ELF_FILE_MAX (64u * 1024u * 1024u)
#define MAX_TRUSTED_KEYS 16

/* Defaults of the policies a bundle carries when no option names them. */
#define DEFAULT_RESTART_MIN_MS 100u
#define DEFAULT_RESTART_MAX_MS 30000u
#define DEFAULT_CRASH_STACK_BYTES 256u

enum {
    OPT_KEY = 256, OPT_VERSION, OPT_MIN_KERNEL, OPT_BOARD, OPT_RESTART_MIN, OPT_RESTART_MAX,
    OPT_STACK_BYTES, OPT_DEBUG_KEY, OPT_POLITE, OPT_GRACE, OPT_CHECKIN, OPT_PUB, OPT_MIN_VERSION,
    OPT_JSON, OPT_ROOT,
};

/* Parses a uint32 option value or reports which option was wrong. */
static int number_option(const char *verb, const char *name, const char *text, uint32_t *out)
{
    if (!args_uint32(text, out)) {
        return cli_usage_error("bundle %s: --%s needs a whole number (0..4294967295), not '%s'",
                               verb, name, text);
    }
    return 0;
}

static int bad_option(const char *verb, char **argv)
{
    return cli_usage_error("bundle %s: unknown option or missing value at '%s'", verb,
                           argv[optind - 1]);
}

/* `bundle create --kernel <kernel.bin> …`: the signed kernel file that
 * `kernel sign <kernel.bin> …` makes (docs/SPEC.md §19.2), the image taken
 * from --kernel and every other option passed on. */
static int bundle_create_kernel(int argc, char **argv)
{
    char **args = calloc((size_t)argc + 1u, sizeof *args);
    if (args == NULL) {
        return cli_fail("out of memory");
    }
    int n = 0;
    const char *image = NULL;
    args[n++] = argv[0];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--kernel") == 0 && i + 1 < argc && image == NULL) {
            image = argv[++i];
        } else if (strncmp(argv[i], "--kernel=", 9) == 0 && image == NULL) {
            image = argv[i] + 9;
        } else {
            args[n++] = argv[i];
        }
    }
    int rc;
    if (image == NULL) {
        rc = cli_usage_error("bundle create: --kernel needs a kernel image (a raw binary from the slot's start)");
    } else {
        args[n++] = (char *)image;
        rc = kernel_sign_command(n, args);
    }
    free(args);
    return rc;
}

static int bundle_create(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--kernel") == 0 || strncmp(argv[i], "--kernel=", 9) == 0) {
            return bundle_create_kernel(argc, argv);
        }
    }
    static const struct option options[] = {
        { "key", required_argument, NULL, OPT_KEY },
        { "version", required_argument, NULL, OPT_VERSION },
        { "min-kernel", required_argument, NULL, OPT_MIN_KERNEL },
        { "board", required_argument, NULL, OPT_BOARD },
        { "restart-min-ms", required_argument, NULL, OPT_RESTART_MIN },
        { "restart-max-ms", required_argument, NULL, OPT_RESTART_MAX },
        { "crash-stack-bytes", required_argument, NULL, OPT_STACK_BYTES },
        { "debug-key", required_argument, NULL, OPT_DEBUG_KEY },
        { "polite-seconds", required_argument, NULL, OPT_POLITE },
        { "grace-seconds", required_argument, NULL, OPT_GRACE },
        { "checkin-seconds", required_argument, NULL, OPT_CHECKIN },
        { "out", required_argument, NULL, 'o' },
        { "json", no_argument, NULL, OPT_JSON },
        { NULL, 0, NULL, 0 },
    };
    bundle_options o = {
        .restart_min_ms = DEFAULT_RESTART_MIN_MS,
        .restart_max_ms = DEFAULT_RESTART_MAX_MS,
        .stack_bytes = DEFAULT_CRASH_STACK_BYTES,
    };
    const char *key_path = NULL, *out_path = NULL, *debug_key_path = NULL;
    bool have_version = false, json = false;
    char reason[512];
    int rc = 0;
    opterr = 0;
    optind = 1;
    for (int c; rc == 0 && (c = getopt_long(argc, argv, "o:", options, NULL)) != -1;) {
        switch (c) {
        case OPT_KEY: key_path = optarg; break;
        case 'o': out_path = optarg; break;
        case OPT_JSON: json = true; break;
        case OPT_DEBUG_KEY: debug_key_path = optarg; break;
        case OPT_VERSION:
            rc = number_option("create", "version", optarg, &o.app_version);
            have_version = true;
            break;
        case OPT_MIN_KERNEL:
            if (!args_kernel_version(optarg, &o.min_kernel_version)) {
                rc = cli_usage_error("bundle create: --min-kernel needs X.Y.Z (X, Y <= 255, "
                                     "Z <= 65535), not '%s'", optarg);
            }
            break;
        case OPT_BOARD:
            o.board = bundle_board_by_name(optarg);
            if (o.board == NULL) {
                rc = cli_usage_error("bundle create: unknown board '%s' (qemu-an505, stm32u585)",
                                     optarg);
            }
            break;
        case OPT_RESTART_MIN:
            rc = number_option("create", "restart-min-ms", optarg, &o.restart_min_ms);
            break;
        case OPT_RESTART_MAX:
            rc = number_option("create", "restart-max-ms", optarg, &o.restart_max_ms);
            break;
        case OPT_STACK_BYTES:
            rc = number_option("create", "crash-stack-bytes", optarg, &o.stack_bytes);
            break;
        case OPT_POLITE:
            rc = number_option("create", "polite-seconds", optarg, &o.polite_seconds);
            break;
        case OPT_GRACE:
            rc = number_option("create", "grace-seconds", optarg, &o.grace_seconds);
            break;
        case OPT_CHECKIN:
            rc = number_option("create", "checkin-seconds", optarg, &o.checkin_seconds);
            break;
        default: rc = bad_option("create", argv); break;
        }
    }
    if (rc != 0) {
        return rc;
    }
    if (optind + 1 != argc) {
        return cli_usage_error(optind == argc ? "bundle create: give the app ELF file"
                                              : "bundle create: give exactly one app ELF file");
    }
    const char *elf_path = argv[optind];
    if (key_path == NULL || !have_version || out_path == NULL) {
        return cli_usage_error("bundle create: --key, --version and -o are required");
    }
    if (debug_key_path != NULL) {
        if (!keys_load_public(debug_key_path, o.debug_key, reason, sizeof reason)) {
            return cli_usage_error("%s", reason);
        }
        o.debuggable = true;
    }

    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    uint8_t *elf = NULL, *bundle = NULL;
    size_t elf_len = 0, bundle_len = 0;
    bw_manifest manifest;
    if (!keys_load_private(key_path, &key, reason, sizeof reason)) {
        rc = cli_usage_error("%s", reason);
    } else if (!file_read_all(elf_path, ELF_FILE_MAX, &elf, &elf_len, reason, sizeof reason)) {
        rc = cli_usage_error("%s", reason);
    } else if (!bundle_build(elf, elf_len, &o, &key, &bundle, &bundle_len, &manifest, reason,
                             sizeof reason)) {
        rc = cli_usage_error("%s: %s", elf_path, reason);
    } else if (!file_write_all(out_path, bundle, bundle_len, 0644, false, reason, sizeof reason)) {
        rc = cli_fail("%s", reason);
    }
    if (rc == 0) {
        bundle_check c;
        if (!bundle_open_file(bundle, bundle_len, &c)) {
            bundle_reason(&c.diag, reason, sizeof reason);
            rc = cli_fail("internal error: the new bundle does not parse: %s", reason);
        } else if (json) {
            bundle_print_json(stdout, out_path, &c);
        } else {
            char id[2 * BW_KEY_ID_SIZE + 1];
            keys_id_hex(c.signature.key_id, id);
            printf("wrote %s: app version %u for %s, %u layer(s), %zu bytes, key id %s\n",
                   out_path, (unsigned)manifest.app_version, bw_manifest_board_name(manifest.board),
                   manifest.layer_count, bundle_len, id);
        }
    }
    free(bundle);
    free(elf);
    mbedtls_pk_free(&key);
    return rc;
}

/* Reads a bundle file; on a read error reports it and returns non-zero. */
static int read_bundle(const char *path, uint8_t **data, size_t *len)
{
    char reason[512];
    if (!file_read_all(path, BUNDLE_FILE_MAX, data, len, reason, sizeof reason)) {
        return cli_usage_error("%s", reason);
    }
    return 0;
}

static int bundle_inspect(int argc, char **argv)
{
    static const struct option options[] = {
        { "json", no_argument, NULL, OPT_JSON },
        { NULL, 0, NULL, 0 },
    };
    bool json = false;
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        if (c != OPT_JSON) {
            return bad_option("inspect", argv);
        }
        json = true;
    }
    if (optind + 1 != argc) {
        return cli_usage_error("bundle inspect: give one bundle file");
    }
    const char *path = argv[optind];
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = read_bundle(path, &data, &len);
    if (rc != 0) {
        return rc;
    }
    bundle_check c;
    if (kernel_image_is(data, len)) {
        rc = kernel_image_inspect(stdout, path, data, len, json);
    } else if (!bundle_open_file(data, len, &c)) {
        char reason[256];
        bundle_reason(&c.diag, reason, sizeof reason);
        rc = cli_fail("%s: %s", path, reason);
    } else if (json) {
        bundle_print_json(stdout, path, &c);
    } else {
        bundle_print_text(stdout, path, &c);
    }
    free(data);
    return rc;
}

static int bundle_verify(int argc, char **argv)
{
    static const struct option options[] = {
        { "pub", required_argument, NULL, OPT_PUB },
        { "min-version", required_argument, NULL, OPT_MIN_VERSION },
        { "json", no_argument, NULL, OPT_JSON },
        { "root", required_argument, NULL, OPT_ROOT },
        { NULL, 0, NULL, 0 },
    };
    bw_trusted_key keys[MAX_TRUSTED_KEYS];
    uint8_t root_key[BW_PUBLIC_KEY_SIZE], root_hash[BW_SEAL_HASH_SIZE];
    bool have_root = false;
    size_t key_count = 0;
    uint32_t min_version = 0;
    bool json = false;
    char reason[512];
    int rc = 0;
    opterr = 0;
    optind = 1;
    for (int c; rc == 0 && (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        switch (c) {
        case OPT_PUB:
            if (key_count == MAX_TRUSTED_KEYS) {
                rc = cli_usage_error("bundle verify: at most %d --pub keys", MAX_TRUSTED_KEYS);
            } else if (!keys_load_public(optarg, keys[key_count].public_key, reason, sizeof reason)) {
                rc = cli_usage_error("%s", reason);
            } else {
                key_count++;
            }
            break;
        case OPT_MIN_VERSION:
            rc = number_option("verify", "min-version", optarg, &min_version);
            break;
        case OPT_JSON: json = true; break;
        case OPT_ROOT:
            if (!keys_load_public(optarg, root_key, reason, sizeof reason)) {
                rc = cli_usage_error("%s", reason);
            } else {
                have_root = bw_seal_sha256(root_key, sizeof root_key, root_hash) == 0;
            }
            break;
        default: rc = bad_option("verify", argv); break;
        }
    }
    if (rc != 0) {
        return rc;
    }
    if (optind + 1 != argc) {
        return cli_usage_error("bundle verify: give one bundle file");
    }
    const char *path = argv[optind];
    uint8_t *data = NULL;
    size_t len = 0;
    rc = read_bundle(path, &data, &len);
    if (rc != 0) {
        return rc;
    }
    if (kernel_image_is(data, len)) {
        rc = have_root ? kernel_image_verify(stdout, path, data, len, root_hash, min_version, json)
                       : cli_usage_error("bundle verify: a kernel image needs the trusted root with --root");
        free(data);
        return rc;
    }
    if (key_count == 0) {
        free(data);
        return cli_usage_error("bundle verify: give at least one trusted key with --pub");
    }
    bundle_check c;
    bool ok = bundle_verify_file(data, len, keys, key_count, min_version, &c);
    free(data);
    char id[2 * BW_KEY_ID_SIZE + 1];
    keys_id_hex(c.signature.key_id, id);
    bundle_reason(&c.diag, reason, sizeof reason);
    if (json) {
        printf("{\"file\": ");
        bundle_json_string(stdout, path);
        printf(", \"ok\": %s", ok ? "true" : "false");
        if (!ok) {
            printf(", \"reason\": ");
            bundle_json_string(stdout, reason);
        }
        if (c.opened) {
            printf(", \"app_version\": %u, \"key_id\": \"%s\"", (unsigned)c.manifest.app_version, id);
        }
        printf("}\n");
    }
    if (!ok) {
        return cli_fail("%s: %s", path, reason);
    }
    if (!json) {
        printf("OK: %s: app version %u for %s, signed by key id %s, %u layer(s) and the "
               "measurement match\n",
               path, (unsigned)c.manifest.app_version, bw_manifest_board_name(c.manifest.board), id,
               c.manifest.layer_count);
    }
    return 0;
}

static const cli_command commands[] = {
    { "create",
      "<app.elf> --key <name.key> --version N [--min-kernel X.Y.Z] [--board qemu-an505|stm32u585] "
      "[--restart-min-ms N] [--restart-max-ms N] [--crash-stack-bytes N] [--debug-key <pub>] "
      "[--polite-seconds N] [--grace-seconds N] [--checkin-seconds N] [--json] -o <file>; or "
      "--kernel <kernel.bin> and the options of `kernel sign`",
      "build and sign an update bundle from an app ELF, or a signed kernel file (= kernel sign)", bundle_create },
    { "inspect", "<file> [--json]",
      "print a bundle's manifest and layers, or a signed kernel image's seal and certificate (no key needed)",
      bundle_inspect },
    { "verify", "<file> (--pub <key.pub>... | --root <root.pub>) [--min-version N] [--json]",
      "check signature, layers, measurement, bounds and anti-rollback, or a kernel image's chain to --root; "
      "exit 1 with the reason",
      bundle_verify },
};

const cli_group cli_group_bundle = {
    "bundle", "update bundles (docs/SPEC.md)", commands, sizeof commands / sizeof commands[0], NULL,
};
