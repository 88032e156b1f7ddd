/*
 * `bulwark kernel sign`: seals a kernel image (docs/SPEC.md §19) with a
 * kernel-signing key and its certificate (`bulwark keys kernel-signer`),
 * naming the root the certificate chains to. The output file is the seal then
 * the image; `bundle inspect` and `bundle verify --root` show and check it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "lib_args.h"
#include "lib_bundle.h"
#include "lib_file.h"
#include "lib_keys.h"
#include "lib_kernel_image.h"
#include "mbedtls/x509_crt.h"

enum { OPT_KEY = 256, OPT_CERT, OPT_ROOT, OPT_VERSION, OPT_BOARD, OPT_FORCE, OPT_SIGNED_AT, OPT_GATE };

typedef struct sign_args {
    const char *image, *key, *cert, *root, *out, *board, *gate;
    uint32_t version, signed_at;
    bool have_version, force;
} sign_args;

/* The signing time: SOURCE_DATE_EPOCH when set (reproducible builds), else now. */
static bool default_signed_at(uint32_t *out)
{
    const char *epoch = getenv("SOURCE_DATE_EPOCH");
    if (epoch != NULL && *epoch != '\0') {
        return args_uint32(epoch, out);
    }
    time_t now = time(NULL);
    *out = (uint32_t)now;
    return now > 0 && (uint64_t)now <= UINT32_MAX;
}

static int parse_sign(int argc, char **argv, sign_args *a)
{
    static const struct option options[] = {
        { "key", required_argument, NULL, OPT_KEY },
        { "cert", required_argument, NULL, OPT_CERT },
        { "root", required_argument, NULL, OPT_ROOT },
        { "version", required_argument, NULL, OPT_VERSION },
        { "board", required_argument, NULL, OPT_BOARD },
        { "force", no_argument, NULL, OPT_FORCE },
        { "signed-at", required_argument, NULL, OPT_SIGNED_AT },
        { "gate", required_argument, NULL, OPT_GATE },
        { NULL, 0, NULL, 0 },
    };
    memset(a, 0, sizeof *a);
    a->board = "qemu-an505";
    if (!default_signed_at(&a->signed_at)) {
        return cli_usage_error("kernel sign: SOURCE_DATE_EPOCH must be seconds since 1970 (32 bits)");
    }
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "o:", options, NULL)) != -1;) {
        switch (c) {
        case OPT_KEY: a->key = optarg; break;
        case OPT_CERT: a->cert = optarg; break;
        case OPT_ROOT: a->root = optarg; break;
        case OPT_BOARD: a->board = optarg; break;
        case OPT_GATE: a->gate = optarg; break;
        case OPT_FORCE: a->force = true; break;
        case 'o': a->out = optarg; break;
        case OPT_SIGNED_AT:
            if (!args_uint32(optarg, &a->signed_at)) {
                return cli_usage_error("kernel sign: --signed-at needs seconds since 1970 (32 bits), not '%s'",
                                       optarg);
            }
            break;
        case OPT_VERSION:
            if (!args_kernel_version(optarg, &a->version)) {
                return cli_usage_error("kernel sign: --version needs X.Y.Z (X, Y <= 255, Z <= 65535), "
                                       "not '%s'", optarg);
            }
            a->have_version = true;
            break;
        default:
            return cli_usage_error("kernel sign: unknown option or missing value at '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc) {
        return cli_usage_error("kernel sign: give one kernel image (a raw binary from the slot's start)");
    }
    a->image = argv[optind];
    if (!a->key || !a->cert || !a->root || !a->out || !a->have_version) {
        return cli_usage_error("kernel sign: --key, --cert, --root, --version and -o are required");
    }
    return 0;
}

/* The first certificate of a PEM or DER file, as DER. */
static bool load_cert(const char *path, uint8_t *der, size_t *der_len, char *reason, size_t size)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    bool ok = mbedtls_x509_crt_parse_file(&crt, path) == 0 && crt.raw.len <= BW_SEAL_CERT_MAX;
    if (ok) {
        memcpy(der, crt.raw.p, crt.raw.len);
        *der_len = crt.raw.len;
    } else {
        snprintf(reason, size, "%s: not a certificate (PEM or DER, at most %u bytes)", path, BW_SEAL_CERT_MAX);
    }
    mbedtls_x509_crt_free(&crt);
    return ok;
}

int kernel_sign_command(int argc, char **argv)
{
    sign_args a;
    int rc = parse_sign(argc, argv, &a);
    if (rc != 0) {
        return rc;
    }
    const bundle_board *board = bundle_board_by_name(a.board);
    if (board == NULL) {
        return cli_usage_error("kernel sign: unknown board '%s'", a.board);
    }
    if ((a.gate != NULL) != (board->kernel_gate_size != 0)) {
        return board->kernel_gate_size != 0
             ? cli_usage_error("kernel sign: the %s gate lies outside the kernel slot: give its region's "
                               "%u bytes with --gate (objcopy -O binary -j .gate)", board->name,
                               (unsigned)board->kernel_gate_size)
             : cli_usage_error("kernel sign: the %s gate lies inside the kernel slot: --gate does not apply",
                               board->name);
    }
    char reason[512];
    uint8_t root_key[BW_SEAL_KEY_SIZE], cert[BW_SEAL_CERT_MAX], seal[BW_SEAL_MAX];
    size_t cert_len = 0, seal_len = 0, image_len = 0, gate_len = 0;
    uint8_t *image = NULL, *gate_file = NULL;
    uint8_t *gate = board->kernel_gate_size != 0 ? malloc(board->kernel_gate_size) : NULL;
    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    if (!keys_load_public(a.root, root_key, reason, sizeof reason) || !load_cert(a.cert, cert, &cert_len, reason, sizeof reason)
        || !keys_load_private(a.key, &key, reason, sizeof reason)
        || !file_read_all(a.image, (size_t)board->kernel_slot_size + 1u, &image, &image_len, reason, sizeof reason)
        || (a.gate != NULL && !file_read_all(a.gate, (size_t)board->kernel_gate_size + 1u, &gate_file, &gate_len,
                                             reason, sizeof reason))) {
        rc = cli_usage_error("%s", reason);
    } else if (a.gate != NULL && (gate == NULL || gate_len == 0 || gate_len > board->kernel_gate_size)) {
        rc = cli_usage_error("kernel sign: %s: the gate must be 1 to %u bytes (its region; erased bytes "
                             "are added up to it)", a.gate, (unsigned)board->kernel_gate_size);
    } else {
        if (gate != NULL) {
            memset(gate, 0xFF, board->kernel_gate_size);   /* the region as flashed: erased past the code */
            memcpy(gate, gate_file, gate_len);
        }
        kernel_sign_input in = { image, image_len, gate, a.version, a.signed_at, board->id, root_key, cert,
                                 cert_len };
        if (!kernel_image_seal(&in, &key, seal, &seal_len, reason, sizeof reason)) {
            rc = cli_fail("kernel sign: %s", reason);
        }
    }
    if (rc == 0) {
        size_t file_len = seal_len + image_len + board->kernel_gate_size;
        uint8_t *file = malloc(file_len);
        if (file == NULL) {
            rc = cli_fail("out of memory");
        } else {
            memcpy(file, seal, seal_len);
            memcpy(file + seal_len, image, image_len);
            if (gate != NULL) {
                memcpy(file + seal_len + image_len, gate, board->kernel_gate_size);
            }
            if (!file_write_all(a.out, file, file_len, 0644, !a.force, reason, sizeof reason)) {
                rc = cli_usage_error("%s", reason);
            } else {
                printf("wrote %s: kernel image of %zu bytes for %s, sealed (%zu bytes)\n", a.out, image_len,
                       board->name, seal_len);
            }
            free(file);
        }
    }
    free(image);
    free(gate_file);
    free(gate);
    mbedtls_pk_free(&key);
    return rc;
}

static const cli_command commands[] = {
    { "sign",
      "<kernel.bin> --key <signer.key> --cert <signer.crt> --root <root.pub> --version X.Y.Z "
      "[--board qemu-an505|stm32u585] [--gate <gate.bin>: stm32u585] [--signed-at SECONDS] [--force] -o <file>",
      "seal a kernel image for the boot stub (docs/SPEC.md §19)", kernel_sign_command },
};

const cli_group cli_group_kernel = {
    "kernel", "signed kernel images", commands, sizeof commands / sizeof commands[0], NULL,
};
