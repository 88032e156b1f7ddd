/* Signed kernel image files (lib_kernel_image.h, docs/SPEC.md §19.2). */
#include "lib_kernel_image.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bw_bytes.h"
#include "lib_bundle.h"
#include "lib_keys.h"
#include "mbedtls/x509_crt.h"

static void set_reason(char *reason, size_t size, const char *text)
{
    snprintf(reason, size, "%s", text);
}

bool kernel_image_seal(const kernel_sign_input *in, mbedtls_pk_context *signer,
                       uint8_t seal[BW_SEAL_MAX], size_t *seal_len, char *reason, size_t reason_size)
{
    const bundle_board *board = bundle_board_by_id(in->board);
    uint8_t signer_key[BW_SEAL_KEY_SIZE];
    bw_seal_cert cert;
    if (board == NULL) {
        set_reason(reason, reason_size, "unknown board");
        return false;
    }
    if (in->image_len < BW_SEAL_IMAGE_MIN || in->image_len > board->kernel_slot_size) {
        snprintf(reason, reason_size, "kernel image of %zu bytes does not fit the %s kernel slot (%u bytes)",
                 in->image_len, board->name, (unsigned)board->kernel_slot_size);
        return false;
    }
    if (in->cert_len == 0 || in->cert_len > BW_SEAL_CERT_MAX
        || bw_seal_cert_parse(in->cert, in->cert_len, &cert) != BW_SEAL_OK) {
        set_reason(reason, reason_size, "the certificate is not a P-256 certificate the stub can read "
                                        "(DER, at most 1024 bytes)");
        return false;
    }
    if (!keys_raw_public(signer, signer_key) || memcmp(signer_key, cert.public_key, BW_SEAL_KEY_SIZE) != 0) {
        set_reason(reason, reason_size, "the signing key is not the certificate's key");
        return false;
    }
    if (in->signed_at < cert.not_before || in->signed_at > cert.not_after) {
        snprintf(reason, reason_size, "the certificate is not valid at the signing time %u (expired or "
                 "not yet valid): the stub would refuse the kernel", (unsigned)in->signed_at);
        return false;
    }
    memset(seal, 0, BW_SEAL_CERT_OFFSET);
    bw_put32(seal, BW_SEAL_MAGIC);
    bw_put16(seal + 4, BW_SEAL_FORMAT_VERSION);
    bw_put16(seal + 6, BW_SEAL_CERT_OFFSET + (uint32_t)in->cert_len);
    bw_put32(seal + 8, in->version);
    bw_put32(seal + 12, (uint32_t)in->image_len);
    bw_put16(seal + 16, in->board);
    bw_put16(seal + 18, (uint32_t)in->cert_len);
    bw_put32(seal + 20, in->signed_at);
    if ((in->gate != NULL) != (board->kernel_gate_size != 0)) {
        snprintf(reason, reason_size, board->kernel_gate_size != 0
                 ? "the %s gate lies outside the kernel slot: give its %u bytes (--gate)"
                 : "the %s gate lies inside the kernel slot: no separate gate (--gate) to seal",
                 board->name, (unsigned)board->kernel_gate_size);
        return false;
    }
    if (bw_seal_image_hash(in->image, in->image_len, in->gate, board->kernel_gate_size, seal + 24) != 0) {
        set_reason(reason, reason_size, "cannot hash the image");
        return false;
    }
    memcpy(seal + 56, in->root_key, BW_SEAL_KEY_SIZE);
    uint8_t hash[BW_SEAL_HASH_SIZE];
    bw_seal_signed_hash(seal, hash);
    if (!keys_sign_hash(signer, hash, seal + BW_SEAL_SIGNATURE_OFFSET, reason, reason_size)) {
        return false;
    }
    memcpy(seal + BW_SEAL_CERT_OFFSET, in->cert, in->cert_len);
    *seal_len = BW_SEAL_CERT_OFFSET + in->cert_len;
    return true;
}

bool kernel_image_is(const uint8_t *data, size_t len)
{
    return len >= 4 && bw_get32(data) == BW_SEAL_MAGIC;
}

/* The seal of a file, its board's kernel slot size as the bound. */
static bw_seal_error open_file(const uint8_t *data, size_t len, bw_seal *seal)
{
    const bundle_board *board = len >= BW_SEAL_CERT_OFFSET ? bundle_board_by_id(bw_get16(data + 16)) : NULL;
    if (board == NULL) {
        return len >= BW_SEAL_CERT_OFFSET ? BW_SEAL_E_BOARD : BW_SEAL_E_MALFORMED;
    }
    return bw_seal_parse(data, len, board->id, board->kernel_slot_size, seal);
}

/* "YYYY-MM-DD HH:MM:SS UTC" of seconds since 1970 ("?" if out of range). */
static void time_text(uint64_t seconds, char out[32])
{
    time_t t = (time_t)seconds;
    struct tm tm;
    if ((uint64_t)t != seconds || gmtime_r(&t, &tm) == NULL
        || strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
        strcpy(out, "?");
    }
}

static size_t image_offset(const bw_seal *seal)
{
    return BW_SEAL_CERT_OFFSET + seal->cert_len;
}

/* The gate bytes a file for this seal's board carries after the image. */
static size_t gate_size(const bw_seal *seal)
{
    const bundle_board *board = bundle_board_by_id(seal->board);
    return board != NULL ? board->kernel_gate_size : 0u;
}

void kernel_version_text(uint32_t v, char out[16])
{
    snprintf(out, 16, "%u.%u.%u", (unsigned)(v >> 24), (unsigned)((v >> 16) & 0xFFu), (unsigned)(v & 0xFFFFu));
}

int kernel_image_inspect(FILE *out, const char *path, const uint8_t *data, size_t len, bool json)
{
    bw_seal seal;
    bw_seal_error err = open_file(data, len, &seal);
    if (err != BW_SEAL_OK) {
        fprintf(stderr, "bulwark: %s: %s\n", path, bw_seal_describe(err));
        return 1;
    }
    char version[16], image_hash[65], root_hash_hex[65], subject[256] = "?", issuer[256] = "?";
    char signed_at[32], not_before[32] = "?", not_after[32] = "?";
    bw_seal_cert parsed;
    time_text(seal.signed_at, signed_at);
    if (bw_seal_cert_parse(seal.cert, seal.cert_len, &parsed) == BW_SEAL_OK) {
        time_text(parsed.not_before, not_before);
        time_text(parsed.not_after, not_after);
    }
    uint8_t root_hash[BW_SEAL_HASH_SIZE];
    bw_seal_sha256(seal.root_key, BW_SEAL_KEY_SIZE, root_hash);
    kernel_version_text(seal.version, version);
    hex_encode(seal.image_hash, BW_SEAL_HASH_SIZE, image_hash);
    hex_encode(root_hash, BW_SEAL_HASH_SIZE, root_hash_hex);
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    if (mbedtls_x509_crt_parse_der(&crt, seal.cert, seal.cert_len) == 0) {
        mbedtls_x509_dn_gets(subject, sizeof subject, &crt.subject);
        mbedtls_x509_dn_gets(issuer, sizeof issuer, &crt.issuer);
    }
    mbedtls_x509_crt_free(&crt);
    const char *board = bw_manifest_board_name(seal.board);
    if (json) {
        fprintf(out, "{\"file\": ");
        bundle_json_string(out, path);
        fprintf(out, ", \"type\": \"kernel\", \"board\": \"%s\", \"version\": \"%s\", \"version_number\": %u, "
                "\"image_size\": %u, \"image_sha256\": \"%s\", \"root_key_sha256\": \"%s\", \"certificate\": {"
                "\"subject\": ", board, version, (unsigned)seal.version, (unsigned)seal.image_size, image_hash,
                root_hash_hex);
        bundle_json_string(out, subject);
        fprintf(out, ", \"issuer\": ");
        bundle_json_string(out, issuer);
        fprintf(out, ", \"size\": %u, \"not_before\": \"%s\", \"not_after\": \"%s\"}, \"signed_at\": \"%s\"}\n",
                (unsigned)seal.cert_len, not_before, not_after, signed_at);
    } else {
        fprintf(out, "%s: signed kernel image (seal format %u)\n", path, BW_SEAL_FORMAT_VERSION);
        fprintf(out, "  board         %s\n  version       %s (%u)\n", board, version, (unsigned)seal.version);
        fprintf(out, "  image         %u bytes, sha256 %s\n", (unsigned)seal.image_size, image_hash);
        fprintf(out, "  root key      sha256 %s\n", root_hash_hex);
        fprintf(out, "  certificate   subject %s, issuer %s, %u bytes\n", subject, issuer,
                (unsigned)seal.cert_len);
        fprintf(out, "  valid         %s to %s\n  signed at     %s\n", not_before, not_after, signed_at);
        fprintf(out, "  file          %zu image bytes after the seal", len - image_offset(&seal));
        if (gate_size(&seal) != 0) {
            fprintf(out, " (the last %zu the gate's, sealed with the image)", gate_size(&seal));
        }
        fprintf(out, "\n");
    }
    return 0;
}

/* The checks of kernel_image_check, with an anti-rollback floor. */
static kernel_file_error check_file(const uint8_t *data, size_t len, const uint8_t *root_hash, uint32_t floor,
                                    bw_seal *seal, bw_seal_error *seal_error, const char **reason)
{
    memset(seal, 0, sizeof *seal);
    *seal_error = open_file(data, len, seal);
    *reason = NULL;
    kernel_file_error e = KERNEL_FILE_OK;
    uint8_t own_root[BW_SEAL_HASH_SIZE];
    size_t gate = *seal_error == BW_SEAL_OK ? gate_size(seal) : 0u;
    if (*seal_error == BW_SEAL_OK && len - image_offset(seal) != seal->image_size + gate) {
        e = len - image_offset(seal) < seal->image_size + gate ? KERNEL_FILE_TRUNCATED : KERNEL_FILE_TRAILING;
        *reason = e == KERNEL_FILE_TRUNCATED ? "truncated kernel image" : "trailing data";
        return e;
    }
    if (*seal_error == BW_SEAL_OK && root_hash == NULL) {
        root_hash = bw_seal_sha256(seal->root_key, BW_SEAL_KEY_SIZE, own_root) == 0 ? own_root : NULL;
        *seal_error = root_hash == NULL ? BW_SEAL_E_MALFORMED : BW_SEAL_OK;
    }
    if (*seal_error == BW_SEAL_OK) {
        const uint8_t *image = data + image_offset(seal);
        *seal_error = bw_seal_verify(data, image_offset(seal), image, seal->image_size, image + seal->image_size,
                                     gate, seal->board, root_hash, floor, seal);
    }
    if (*seal_error != BW_SEAL_OK) {
        *reason = bw_seal_describe(*seal_error);
        return KERNEL_FILE_SEAL;
    }
    return KERNEL_FILE_OK;
}

kernel_file_error kernel_image_check(const uint8_t *data, size_t len, const uint8_t *root_hash, bw_seal *seal,
                                     bw_seal_error *seal_error, const char **reason)
{
    return check_file(data, len, root_hash, 0, seal, seal_error, reason);
}

int kernel_image_verify(FILE *out, const char *path, const uint8_t *data, size_t len,
                        const uint8_t root_hash[BW_SEAL_HASH_SIZE], uint32_t min_version, bool json)
{
    bw_seal seal;
    bw_seal_error err;
    const char *reason = NULL;
    (void)check_file(data, len, root_hash, min_version, &seal, &err, &reason);
    char version[16];
    kernel_version_text(seal.version, version);
    if (json) {
        fprintf(out, "{\"file\": ");
        bundle_json_string(out, path);
        fprintf(out, ", \"type\": \"kernel\", \"ok\": %s", reason == NULL ? "true" : "false");
        if (reason != NULL) {
            fprintf(out, ", \"reason\": ");
            bundle_json_string(out, reason);
        }
        fprintf(out, "}\n");
    }
    if (reason != NULL) {
        fprintf(stderr, "bulwark: %s: %s\n", path, reason);
        return 1;
    }
    if (!json) {
        fprintf(out, "OK: %s: kernel %s for %s, certificate chain to the root, signature, version and "
                "image hash match\n", path, version, bw_manifest_board_name(seal.board));
    }
    return 0;
}
