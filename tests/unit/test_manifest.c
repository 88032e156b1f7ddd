/*
 * Bundle manifests (bw_manifest.h, docs/SPEC.md §6). Promises checked:
 *  - a manifest encodes and parses back to the same fields; the layer data
 *    offsets and file offsets follow the layer table order;
 *  - every malformed header, manifest or signature block is rejected with its
 *    own reason (not just "invalid"), including sizes chosen to overflow;
 *  - layers outside their region or overlapping are rejected even when the
 *    manifest is properly signed;
 *  - the signature check tells an unknown key from a bad signature and runs
 *    inside the kernel's static crypto arena;
 *  - device checks (board, kernel version, slot size, anti-rollback), layer
 *    hashes and the streamed region measurement;
 *  - every reason has text, and the text carries the numbers.
 * Keys are made and manifests signed here with the kernel's own p256-m
 * (p256-m.c holds signing too; the kernel image never links it), its
 * randomness from bw_random over the host port's entropy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bw_bytes.h"
#include "mbedtls/sha256.h"
#include "p256-m/p256-m.h"
#include "psa/crypto.h"

#include "bw_crypto.h"
#include "bw_manifest.h"
#include "bw_random.h"

#define MIB (1024u * 1024u)

/* ---- helpers ---- */

static void good_manifest(bw_manifest *m, unsigned layers)
{
    memset(m, 0, sizeof *m);
    m->app_version = 7;
    m->min_kernel_version = BW_KERNEL_VERSION_PACK(0, 1, 0);
    m->board = BW_BOARD_QEMU_AN505;
    m->crash.restart_min_ms = 100;
    m->crash.restart_max_ms = 30000;
    m->crash.stack_bytes = 256;
    m->update.polite_seconds = 600;
    m->connectivity.grace_seconds = 3600;
    m->connectivity.min_checkin_seconds = 60;
    m->region_count = 1;
    m->regions[0].id = BW_REGION_APP_SLOT;
    m->regions[0].size = MIB;
    memset(m->regions[0].measurement, 0xAB, BW_SHA256_SIZE);
    m->layer_count = (uint8_t)layers;
    for (unsigned i = 0; i < layers; i++) {
        m->layers[i].type = BW_LAYER_FULL;
        m->layers[i].region = BW_REGION_APP_SLOT;
        m->layers[i].region_offset = i * 0x10000u;
        m->layers[i].length = 0x100u + i;
        memset(m->layers[i].fetch_hash, (int)(0x10 + i), BW_SHA256_SIZE);
    }
}

static size_t encode(const bw_manifest *m, uint8_t *out)
{
    size_t n = bw_manifest_encode(m, out, BW_MANIFEST_MAX_SIZE);
    assert_true(n > 0);
    return n;
}

/* Parses and returns the reason (BW_MANIFEST_OK on success). */
static bw_manifest_error parse_reason(const uint8_t *bytes, size_t len, bw_manifest_diag *why)
{
    bw_manifest m;
    bw_err err = bw_manifest_parse(bytes, len, &m, why);
    assert_true((err == BW_OK) == (why->error == BW_MANIFEST_OK));
    return why->error;
}

/* Encodes m and expects the parser to reject it with `expected`. */
static void expect_manifest_error(const bw_manifest *m, bw_manifest_error expected,
                                  bw_err expected_err)
{
    uint8_t bytes[BW_MANIFEST_MAX_SIZE];
    size_t n = encode(m, bytes);
    bw_manifest parsed;
    bw_manifest_diag why;
    assert_int_equal(bw_manifest_parse(bytes, n, &parsed, &why), expected_err);
    assert_int_equal(why.error, expected);
}

static void describe_has(const bw_manifest_diag *why, const char *text)
{
    char line[256];
    bw_manifest_describe(why, line, sizeof line);
    if (strstr(line, text) == NULL) {
        fail_msg("\"%s\" does not contain \"%s\"", line, text);
    }
}

/* ---- parsing ---- */

static void test_round_trip(void **state)
{
    (void)state;
    bw_manifest m, parsed;
    bw_manifest_diag why;
    uint8_t bytes[BW_MANIFEST_MAX_SIZE];
    good_manifest(&m, 3);
    m.debug.debuggable = true;
    m.debug.public_key[0] = 0x04;
    memset(m.debug.public_key + 1, 0x5A, 64);
    size_t n = encode(&m, bytes);
    assert_int_equal(n, BW_MANIFEST_FIXED_SIZE + 40 + 3 * 44);

    assert_int_equal(bw_manifest_parse(bytes, n, &parsed, &why), BW_OK);
    assert_int_equal(why.error, BW_MANIFEST_OK);
    assert_int_equal(parsed.size, n);
    assert_int_equal(parsed.app_version, 7);
    assert_int_equal(parsed.min_kernel_version, 0x00010000u);
    assert_int_equal(parsed.board, BW_BOARD_QEMU_AN505);
    assert_int_equal(parsed.crash.restart_max_ms, 30000);
    assert_int_equal(parsed.crash.stack_bytes, 256);
    assert_int_equal(parsed.update.polite_seconds, 600);
    assert_int_equal(parsed.connectivity.grace_seconds, 3600);
    assert_int_equal(parsed.connectivity.min_checkin_seconds, 60);
    assert_true(parsed.debug.debuggable);
    assert_memory_equal(parsed.debug.public_key, m.debug.public_key, BW_PUBLIC_KEY_SIZE);
    assert_int_equal(parsed.regions[0].size, MIB);
    assert_memory_equal(parsed.regions[0].measurement, m.regions[0].measurement, 32);
    assert_int_equal(parsed.layer_count, 3);
    assert_int_equal(parsed.layers[2].region_offset, 0x20000);
    assert_int_equal(parsed.layers[2].length, 0x102);
    assert_memory_equal(parsed.layers[2].fetch_hash, m.layers[2].fetch_hash, 32);
    /* Layer data is laid out in table order, back to back. */
    assert_int_equal(parsed.layers[0].data_offset, 0);
    assert_int_equal(parsed.layers[1].data_offset, 0x100);
    assert_int_equal(parsed.layers[2].data_offset, 0x201);
    assert_int_equal(parsed.layer_data_size, 0x303);

    /* Encoding the parsed form gives the same bytes. */
    uint8_t again[BW_MANIFEST_MAX_SIZE];
    assert_int_equal(bw_manifest_encode(&parsed, again, sizeof again), n);
    assert_memory_equal(again, bytes, n);
    /* Too small an output buffer is refused, not overrun. */
    assert_int_equal(bw_manifest_encode(&m, again, n - 1), 0);
}

static void test_manifest_structure_errors(void **state)
{
    (void)state;
    bw_manifest m;
    bw_manifest_diag why;
    uint8_t bytes[BW_MANIFEST_MAX_SIZE];
    good_manifest(&m, 2);
    size_t n = encode(&m, bytes);

    bytes[0] ^= 1;
    assert_int_equal(parse_reason(bytes, n, &why), BW_MANIFEST_E_MANIFEST_MAGIC);
    bytes[0] ^= 1;
    bytes[4] = 2;
    assert_int_equal(parse_reason(bytes, n, &why), BW_MANIFEST_E_MANIFEST_VERSION);
    bytes[4] = 1;
    /* Every truncation is caught, whichever field it cuts. */
    for (size_t cut = 0; cut < n; cut++) {
        bw_manifest_error e = parse_reason(bytes, cut, &why);
        assert_true(e == BW_MANIFEST_E_TRUNCATED || e == BW_MANIFEST_E_MANIFEST_LENGTH);
    }
    /* The size field must match the bytes given and the counts. */
    bytes[6] ^= 4;
    assert_int_equal(parse_reason(bytes, n, &why), BW_MANIFEST_E_MANIFEST_LENGTH);
    bytes[6] ^= 4;
    bytes[19] = 3;   /* layer count 3 with a table of 2 */
    assert_int_equal(parse_reason(bytes, n, &why), BW_MANIFEST_E_MANIFEST_LENGTH);
    bytes[19] = 2;
    /* Reserved bytes in the fixed part, a region entry and a layer entry. */
    static const size_t reserved[] = { 45, 47, 113, 115, 117, 119, 116 + 40 + 2, 116 + 40 + 44 + 3 };
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        bytes[reserved[i]] = 1;
        assert_int_equal(parse_reason(bytes, n, &why), BW_MANIFEST_E_RESERVED);
        assert_int_equal(why.index, reserved[i] == 47   ? 45
                                    : reserved[i] == 115 ? 113
                                    : reserved[i] == 119 ? 117
                                    : reserved[i] == 116 + 40 + 44 + 3 ? 116 + 40 + 44 + 2
                                                                        : reserved[i]);
        bytes[reserved[i]] = 0;
    }
    assert_int_equal(parse_reason(bytes, n, &why), BW_MANIFEST_OK);
    /* Larger than any manifest may be. */
    uint8_t big[BW_MANIFEST_MAX_SIZE + 1];
    memcpy(big, bytes, n);
    assert_int_equal(parse_reason(big, sizeof big, &why), BW_MANIFEST_E_MANIFEST_SIZE);
    assert_int_equal(bw_manifest_parse(NULL, 0, &m, &why), BW_E_INVALID);
}

static void test_manifest_field_bounds(void **state)
{
    (void)state;
    bw_manifest m;

    good_manifest(&m, 1);
    m.board = 3;
    expect_manifest_error(&m, BW_MANIFEST_E_BOARD, BW_E_INVALID);
    good_manifest(&m, 1);
    m.region_count = 0;
    expect_manifest_error(&m, BW_MANIFEST_E_REGION_COUNT, BW_E_SIZE);
    good_manifest(&m, 1);
    m.layer_count = 0;
    expect_manifest_error(&m, BW_MANIFEST_E_LAYER_COUNT, BW_E_SIZE);
    /* Nine layers cannot even be encoded; forge the count byte instead. */
    good_manifest(&m, 8);
    uint8_t bytes[BW_MANIFEST_MAX_SIZE];
    size_t n = encode(&m, bytes);
    bw_manifest_diag why;
    assert_int_equal(parse_reason(bytes, n, &why), BW_MANIFEST_OK);
    bytes[19] = 9;
    assert_int_equal(parse_reason(bytes, n, &why), BW_MANIFEST_E_LAYER_COUNT);
    bytes[19] = 255;
    assert_int_equal(parse_reason(bytes, n, &why), BW_MANIFEST_E_LAYER_COUNT);
    good_manifest(&m, 0);
    m.layer_count = 9;
    assert_int_equal(bw_manifest_encode(&m, bytes, sizeof bytes), 0);

    good_manifest(&m, 1);
    m.regions[0].id = 1;
    expect_manifest_error(&m, BW_MANIFEST_E_REGION_ID, BW_E_INVALID);
    static const uint32_t bad_sizes[] = { 0, 4095, MIB + 1, BW_REGION_SIZE_MAX + 4096, UINT32_MAX };
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        good_manifest(&m, 1);
        m.regions[0].size = bad_sizes[i];
        expect_manifest_error(&m, BW_MANIFEST_E_REGION_SIZE, BW_E_SIZE);
    }

    good_manifest(&m, 1);
    m.crash.restart_min_ms = 30001;
    expect_manifest_error(&m, BW_MANIFEST_E_RESTART_ORDER, BW_E_INVALID);
    good_manifest(&m, 1);
    m.crash.restart_max_ms = BW_RESTART_MS_MAX + 1;
    expect_manifest_error(&m, BW_MANIFEST_E_RESTART_LIMIT, BW_E_SIZE);
    good_manifest(&m, 1);
    m.crash.stack_bytes = BW_CRASH_STACK_BYTES_MAX + 4;
    expect_manifest_error(&m, BW_MANIFEST_E_STACK_BYTES, BW_E_SIZE);
    m.crash.stack_bytes = 6;
    expect_manifest_error(&m, BW_MANIFEST_E_STACK_BYTES, BW_E_SIZE);
    good_manifest(&m, 1);
    m.update.polite_seconds = BW_POLITE_SECONDS_MAX + 1;
    expect_manifest_error(&m, BW_MANIFEST_E_POLITE_LIMIT, BW_E_SIZE);
    good_manifest(&m, 1);
    m.connectivity.grace_seconds = UINT32_MAX;
    expect_manifest_error(&m, BW_MANIFEST_E_GRACE_LIMIT, BW_E_SIZE);
    good_manifest(&m, 1);
    m.connectivity.min_checkin_seconds = BW_CONNECTIVITY_SECONDS_MAX + 1;
    expect_manifest_error(&m, BW_MANIFEST_E_CHECKIN_LIMIT, BW_E_SIZE);

    /* Debug policy: the flag and the key go together. */
    good_manifest(&m, 1);
    m.debug.debuggable = true;   /* no key */
    expect_manifest_error(&m, BW_MANIFEST_E_DEBUG_KEY, BW_E_INVALID);
    good_manifest(&m, 1);
    m.debug.public_key[10] = 1;  /* key without the flag */
    expect_manifest_error(&m, BW_MANIFEST_E_DEBUG_KEY, BW_E_INVALID);
    good_manifest(&m, 1);
    n = encode(&m, bytes);
    bytes[44] = 0x02;
    assert_int_equal(parse_reason(bytes, n, &why), BW_MANIFEST_E_DEBUG_FLAGS);
}

static void test_layer_rules(void **state)
{
    (void)state;
    bw_manifest m;
    bw_manifest_diag why;
    uint8_t bytes[BW_MANIFEST_MAX_SIZE];

    good_manifest(&m, 3);
    m.layers[1].type = 2;
    expect_manifest_error(&m, BW_MANIFEST_E_LAYER_TYPE, BW_E_INVALID);
    good_manifest(&m, 3);
    m.layers[1].region = 1;
    expect_manifest_error(&m, BW_MANIFEST_E_LAYER_REGION, BW_E_INVALID);
    good_manifest(&m, 3);
    m.layers[2].length = 0;
    expect_manifest_error(&m, BW_MANIFEST_E_LAYER_EMPTY, BW_E_SIZE);

    /* Exactly filling the region is fine; one byte more is not. */
    good_manifest(&m, 3);
    m.layers[2].region_offset = MIB - m.layers[2].length;
    expect_manifest_error(&m, BW_MANIFEST_OK, BW_OK);
    m.layers[2].region_offset++;
    expect_manifest_error(&m, BW_MANIFEST_E_LAYER_OUTSIDE, BW_E_SIZE);
    size_t n = encode(&m, bytes);
    parse_reason(bytes, n, &why);
    assert_int_equal(why.index, 2);
    assert_int_equal(why.value, MIB + 1);
    assert_int_equal(why.limit, MIB);
    describe_has(&why, "layer 2 extends past the end of its region");
    /* Offset + length wrapping 32 bits is still outside, not "small". */
    good_manifest(&m, 1);
    m.layers[0].region_offset = 0xFFFFFF00u;
    m.layers[0].length = 0x200u;
    expect_manifest_error(&m, BW_MANIFEST_E_LAYER_OUTSIDE, BW_E_SIZE);
    good_manifest(&m, 1);
    m.layers[0].length = UINT32_MAX;
    expect_manifest_error(&m, BW_MANIFEST_E_LAYER_OUTSIDE, BW_E_SIZE);

    /* Overlaps in either order, and containment; adjacency is fine. */
    good_manifest(&m, 3);
    m.layers[2].region_offset = m.layers[0].region_offset + m.layers[0].length;   /* adjacent */
    expect_manifest_error(&m, BW_MANIFEST_OK, BW_OK);
    m.layers[2].region_offset--;
    expect_manifest_error(&m, BW_MANIFEST_E_LAYER_OVERLAP, BW_E_INVALID);
    n = encode(&m, bytes);
    parse_reason(bytes, n, &why);
    assert_int_equal(why.index, 0);
    assert_int_equal(why.other, 2);
    describe_has(&why, "layers 0 and 2 overlap");
    good_manifest(&m, 2);
    m.layers[0].region_offset = 0x10010;   /* inside layer 1, listed first */
    m.layers[0].length = 4;
    expect_manifest_error(&m, BW_MANIFEST_E_LAYER_OVERLAP, BW_E_INVALID);
    good_manifest(&m, 2);
    m.layers[1].region_offset = 0;
    m.layers[1].length = MIB;              /* contains layer 0 */
    expect_manifest_error(&m, BW_MANIFEST_E_LAYER_OVERLAP, BW_E_INVALID);
}

/* A whole head: header + manifest + signature block, with layer bytes counted. */
static size_t make_head(uint8_t *out, const bw_manifest *m)
{
    uint8_t mbytes[BW_MANIFEST_MAX_SIZE];
    size_t n = encode(m, mbytes);
    uint32_t data = 0;
    for (unsigned i = 0; i < m->layer_count; i++) {
        data += m->layers[i].length;
    }
    bw_bundle_encode_header((uint32_t)n, (uint32_t)(100 + n + data), out);
    memcpy(out + 24, mbytes, n);
    bw_signature_block sig = { .algorithm = BW_SIGNATURE_ALG_ECDSA_P256_SHA256 };
    memset(sig.key_id, 0x42, sizeof sig.key_id);
    bw_signature_encode(&sig, out + 24 + n);
    return 24 + n + 76;
}

static bw_manifest_error open_reason(const uint8_t *head, size_t len, bw_manifest_diag *why)
{
    bw_bundle_layout layout;
    bw_manifest m;
    bw_signature_block sig;
    bw_bundle_open(head, len, &layout, &m, &sig, why);
    return why->error;
}

static void test_header_and_head(void **state)
{
    (void)state;
    bw_manifest m;
    bw_manifest_diag why;
    bw_bundle_layout layout;
    bw_manifest parsed;
    bw_signature_block sig;
    static uint8_t head[BW_BUNDLE_HEAD_MAX];
    good_manifest(&m, 3);
    size_t len = make_head(head, &m);

    assert_int_equal(bw_bundle_open(head, len, &layout, &parsed, &sig, &why), BW_OK);
    assert_int_equal(layout.manifest_offset, 24);
    assert_int_equal(layout.manifest_size, len - 100);
    assert_int_equal(layout.signature_offset, 24 + layout.manifest_size);
    assert_int_equal(layout.layers_offset, len);
    assert_int_equal(layout.bundle_size, len + 0x303);
    assert_int_equal(bw_bundle_layer_file_offset(&layout, &parsed, 0), len);
    assert_int_equal(bw_bundle_layer_file_offset(&layout, &parsed, 2), len + 0x201);
    assert_int_equal(sig.algorithm, 1);
    assert_memory_equal(sig.key_id, "\x42\x42\x42\x42\x42\x42\x42\x42", 8);

    /* Every prefix of the head is "truncated", never a crash or a pass. */
    for (size_t cut = 4; cut < len; cut++) {
        assert_int_equal(open_reason(head, cut, &why), BW_MANIFEST_E_TRUNCATED);
    }
    assert_int_equal(open_reason(head, 3, &why), BW_MANIFEST_E_TRUNCATED);

    uint8_t bad[BW_BUNDLE_HEAD_MAX];
#define MUTATE(offset, value, expected)                                 \
    do {                                                                \
        memcpy(bad, head, len);                                         \
        bw_put32(bad + (offset), (value));                              \
        assert_int_equal(open_reason(bad, len, &why), (expected));      \
    } while (0)
    MUTATE(0, 0x464D5742u, BW_MANIFEST_E_BUNDLE_MAGIC);
    MUTATE(4, 2u | (24u << 16), BW_MANIFEST_E_FORMAT_VERSION);
    MUTATE(4, 1u | (32u << 16), BW_MANIFEST_E_HEADER_SIZE);
    MUTATE(8, 0xFFFFFFFFu, BW_MANIFEST_E_MANIFEST_SIZE);
    MUTATE(8, 4097u, BW_MANIFEST_E_MANIFEST_SIZE);
    MUTATE(8, 0u, BW_MANIFEST_E_MANIFEST_SIZE);
    MUTATE(8, (uint32_t)(len - 100 + 4), BW_MANIFEST_E_TRUNCATED);   /* head now "longer" */
    MUTATE(12, 0x7FFFFFFFu, BW_MANIFEST_E_SIGNATURE_SIZE);
    MUTATE(16, 0xFFFFFFFFu, BW_MANIFEST_E_BUNDLE_SIZE);
    MUTATE(16, (uint32_t)len, BW_MANIFEST_E_BUNDLE_SIZE);            /* no layer bytes */
    MUTATE(16, (uint32_t)(len + 0x302), BW_MANIFEST_E_BUNDLE_SIZE);
    MUTATE(20, 1u, BW_MANIFEST_E_HEADER_RESERVED);
    MUTATE(len - 76, 2u, BW_MANIFEST_E_SIGNATURE_ALG);
    MUTATE(len - 76, 1u | (1u << 16), BW_MANIFEST_E_SIGNATURE_RESERVED);
#undef MUTATE
    /* Garbage: no magic. */
    memset(bad, 0x5A, sizeof bad);
    assert_int_equal(open_reason(bad, sizeof bad, &why), BW_MANIFEST_E_BUNDLE_MAGIC);
    describe_has(&why, "not a Bulwark bundle");
}

/* ---- signatures ---- */

/* p256-m's randomness for signing here (bw_manifest.c's is a weak stub). */
psa_status_t psa_generate_random(uint8_t *output, size_t output_size)
{
    return bw_random_bytes(output, output_size) == BW_OK ? PSA_SUCCESS
                                                         : PSA_ERROR_INSUFFICIENT_ENTROPY;
}

typedef struct test_key {
    uint8_t priv[32];
    bw_trusted_key trusted;
} test_key;

static void make_key(test_key *k)
{
    assert_int_equal(bw_random_init(), BW_OK);
    k->trusted.public_key[0] = 0x04;
    assert_int_equal(p256_gen_keypair(k->priv, k->trusted.public_key + 1), P256_SUCCESS);
}

static void sign(test_key *k, const uint8_t *manifest, size_t len, bw_signature_block *sig)
{
    uint8_t hash[32];
    assert_int_equal(bw_manifest_signing_hash(manifest, len, hash), BW_OK);
    assert_int_equal(p256_ecdsa_sign(sig->signature, k->priv, hash, 32), P256_SUCCESS);
    sig->algorithm = BW_SIGNATURE_ALG_ECDSA_P256_SHA256;
    assert_int_equal(bw_manifest_key_id(k->trusted.public_key, sig->key_id), BW_OK);
}

static void test_signing_hash_and_key_id(void **state)
{
    (void)state;
    /* The signed hash is SHA-256 of the 20-byte prefix (with its NUL) then the manifest. */
    uint8_t expected[32], got[32], message[20 + 3];
    memcpy(message, "BULWARK-MANIFEST-V1", 20);
    memcpy(message + 20, "abc", 3);
    assert_int_equal(mbedtls_sha256(message, sizeof message, expected, 0), 0);
    assert_int_equal(bw_manifest_signing_hash((const uint8_t *)"abc", 3, got), BW_OK);
    assert_memory_equal(got, expected, 32);

    uint8_t key[65], id[8];
    memset(key, 7, sizeof key);
    assert_int_equal(mbedtls_sha256(key, sizeof key, expected, 0), 0);
    assert_int_equal(bw_manifest_key_id(key, id), BW_OK);
    assert_memory_equal(id, expected, 8);
}

static void test_signature(void **state)
{
    (void)state;
    assert_int_equal(bw_crypto_init(), BW_OK);
    test_key signer, other;
    make_key(&signer);
    make_key(&other);

    bw_manifest m;
    uint8_t bytes[BW_MANIFEST_MAX_SIZE];
    good_manifest(&m, 2);
    size_t n = encode(&m, bytes);
    bw_signature_block sig;
    sign(&signer, bytes, n, &sig);
    bw_manifest_diag why;

    bw_trusted_key both[2] = { other.trusted, signer.trusted };
    assert_int_equal(bw_manifest_verify_signature(bytes, n, &sig, both, 2, &why), BW_OK);
    assert_int_equal(why.error, BW_MANIFEST_OK);

    /* Unknown key: the key id matches none, and the message names it. */
    assert_int_equal(bw_manifest_verify_signature(bytes, n, &sig, &other.trusted, 1, &why),
                     BW_E_DENIED);
    assert_int_equal(why.error, BW_MANIFEST_E_UNKNOWN_KEY);
    assert_memory_equal(why.key_id, sig.key_id, 8);
    char hex[17];
    for (int i = 0; i < 8; i++) {
        snprintf(hex + 2 * i, 3, "%02x", sig.key_id[i]);
    }
    describe_has(&why, hex);
    describe_has(&why, "unknown key");
    assert_int_equal(bw_manifest_verify_signature(bytes, n, &sig, NULL, 0, &why), BW_E_DENIED);
    assert_int_equal(why.error, BW_MANIFEST_E_UNKNOWN_KEY);

    /* Bad signature: a manifest bit, a signature bit, or the wrong key behind the id. */
    bytes[8] ^= 1;
    assert_int_equal(bw_manifest_verify_signature(bytes, n, &sig, both, 2, &why), BW_E_DENIED);
    assert_int_equal(why.error, BW_MANIFEST_E_BAD_SIGNATURE);
    describe_has(&why, "bad signature");
    bytes[8] ^= 1;
    sig.signature[40] ^= 0x80;
    assert_int_equal(bw_manifest_verify_signature(bytes, n, &sig, both, 2, &why), BW_E_DENIED);
    assert_int_equal(why.error, BW_MANIFEST_E_BAD_SIGNATURE);
    sig.signature[40] ^= 0x80;
    bw_signature_block forged = sig;
    memset(forged.signature, 0, 64);   /* r = s = 0 is out of range, still "bad signature" */
    assert_int_equal(bw_manifest_verify_signature(bytes, n, &forged, both, 2, &why), BW_E_DENIED);
    assert_int_equal(why.error, BW_MANIFEST_E_BAD_SIGNATURE);
    /* Prefix matters: a signature over the bare manifest does not verify. */
    {
        uint8_t hash[32];
        assert_int_equal(mbedtls_sha256(bytes, n, hash, 0), 0);
        bw_signature_block bare = sig;
        assert_int_equal(p256_ecdsa_sign(bare.signature, signer.priv, hash, 32), P256_SUCCESS);
        assert_int_equal(bw_manifest_verify_signature(bytes, n, &bare, both, 2, &why), BW_E_DENIED);
        assert_int_equal(why.error, BW_MANIFEST_E_BAD_SIGNATURE);
    }
    /* A trusted "key" that is not a curve point. */
    bw_trusted_key junk;
    memset(junk.public_key, 0x33, sizeof junk.public_key);
    junk.public_key[0] = 0x04;
    bw_signature_block to_junk = sig;
    assert_int_equal(bw_manifest_key_id(junk.public_key, to_junk.key_id), BW_OK);
    assert_int_equal(bw_manifest_verify_signature(bytes, n, &to_junk, &junk, 1, &why), BW_E_INVALID);
    assert_int_equal(why.error, BW_MANIFEST_E_TRUSTED_KEY);

    /* Signed, yet out of bounds: the parser rejects it, whatever the signature. */
    good_manifest(&m, 2);
    m.layers[1].region_offset = MIB - 0x10;
    n = encode(&m, bytes);
    sign(&signer, bytes, n, &sig);
    assert_int_equal(bw_manifest_verify_signature(bytes, n, &sig, both, 2, &why), BW_OK);
    bw_manifest parsed;
    assert_int_equal(bw_manifest_parse(bytes, n, &parsed, &why), BW_E_SIZE);
    assert_int_equal(why.error, BW_MANIFEST_E_LAYER_OUTSIDE);

}

/* ---- device, layers, measurement ---- */

static void test_device_checks(void **state)
{
    (void)state;
    bw_manifest m;
    bw_manifest_diag why;
    good_manifest(&m, 1);
    uint32_t k010 = BW_KERNEL_VERSION_PACK(0, 1, 0), k009 = BW_KERNEL_VERSION_PACK(0, 0, 9);

    assert_int_equal(bw_manifest_check_device(&m, BW_BOARD_QEMU_AN505, k010, MIB, &why), BW_OK);
    assert_int_equal(bw_manifest_check_device(&m, BW_BOARD_STM32U585, k010, MIB, &why), BW_E_DENIED);
    assert_int_equal(why.error, BW_MANIFEST_E_BOARD_MISMATCH);
    describe_has(&why, "bundle is for qemu-an505, this device is stm32u585");
    assert_int_equal(bw_manifest_check_device(&m, BW_BOARD_QEMU_AN505, k009, MIB, &why), BW_E_DENIED);
    assert_int_equal(why.error, BW_MANIFEST_E_KERNEL_TOO_OLD);
    describe_has(&why, "needs kernel 0.1.0 or newer, this kernel is 0.0.9");
    assert_int_equal(bw_manifest_check_device(&m, BW_BOARD_QEMU_AN505, k010, 2 * MIB, &why),
                     BW_E_SIZE);
    assert_int_equal(why.error, BW_MANIFEST_E_REGION_MISMATCH);

    /* Anti-rollback: equal is allowed (reinstall), older is not. */
    assert_int_equal(bw_manifest_check_rollback(&m, 7, &why), BW_OK);
    assert_int_equal(bw_manifest_check_rollback(&m, 0, &why), BW_OK);
    assert_int_equal(bw_manifest_check_rollback(&m, 8, &why), BW_E_DENIED);
    assert_int_equal(why.error, BW_MANIFEST_E_ROLLBACK);
    describe_has(&why, "app version 7 is older than the minimum 8");
}

typedef struct fake_region {
    const uint8_t *bytes;
    uint32_t reads;
} fake_region;

static bw_err read_fake(void *context, uint32_t offset, uint8_t *buf, uint32_t len)
{
    fake_region *r = context;
    memcpy(buf, r->bytes + offset, len);
    r->reads++;
    return BW_OK;
}

static bw_err read_failing(void *context, uint32_t offset, uint8_t *buf, uint32_t len)
{
    (void)context;
    (void)offset;
    (void)buf;
    (void)len;
    return BW_E_IO;
}

static void test_layers_and_measurement(void **state)
{
    (void)state;
    static uint8_t region[64 * 1024];
    memset(region, 0xFF, sizeof region);
    for (size_t i = 0; i < 1000; i++) {
        region[0x100 + i] = (uint8_t)(i * 7);
    }
    bw_manifest m;
    bw_manifest_diag why;
    good_manifest(&m, 1);
    m.regions[0].size = sizeof region;
    m.layers[0].region_offset = 0x100;
    m.layers[0].length = 1000;
    assert_int_equal(mbedtls_sha256(region + 0x100, 1000, m.layers[0].fetch_hash, 0), 0);
    assert_int_equal(mbedtls_sha256(region, sizeof region, m.regions[0].measurement, 0), 0);

    uint8_t digest[32];
    assert_int_equal(mbedtls_sha256(region + 0x100, 1000, digest, 0), 0);
    assert_int_equal(bw_manifest_check_layer_hash(&m, 0, digest, &why), BW_OK);
    digest[31] ^= 1;
    assert_int_equal(bw_manifest_check_layer_hash(&m, 0, digest, &why), BW_E_DENIED);
    assert_int_equal(why.error, BW_MANIFEST_E_LAYER_HASH);
    describe_has(&why, "layer 0 was tampered with");
    assert_int_equal(bw_manifest_check_layer_hash(&m, 1, digest, &why), BW_E_INVALID);
    assert_int_equal(why.error, BW_MANIFEST_E_LAYER_INDEX);

    /* Streaming in odd-sized pieces gives the one-shot hash. */
    uint8_t scratch[7];
    fake_region fake = { region, 0 };
    assert_int_equal(bw_region_measure(read_fake, &fake, sizeof region, scratch, sizeof scratch,
                                       digest), BW_OK);
    assert_int_equal(fake.reads, (sizeof region + 6) / 7);
    assert_int_equal(bw_manifest_check_measurement(&m, 0, digest, &why), BW_OK);
    region[sizeof region - 1] = 0;
    assert_int_equal(bw_region_measure(read_fake, &fake, sizeof region, scratch, sizeof scratch,
                                       digest), BW_OK);
    assert_int_equal(bw_manifest_check_measurement(&m, 0, digest, &why), BW_E_DENIED);
    assert_int_equal(why.error, BW_MANIFEST_E_MEASUREMENT);
    assert_int_equal(bw_region_measure(read_failing, NULL, 16, scratch, sizeof scratch, digest),
                     BW_E_IO);
    assert_int_equal(bw_region_measure(read_fake, &fake, 16, scratch, 0, digest), BW_E_INVALID);
}

static void test_every_reason_has_text(void **state)
{
    (void)state;
    char line[256];
    for (int e = 0; e < BW_MANIFEST_E_COUNT; e++) {
        bw_manifest_diag why = { .error = (bw_manifest_error)e, .index = 2, .other = 3,
                                 .value = 0x100010, .limit = 0x100000 };
        const char *text = bw_manifest_error_text(why.error);
        assert_non_null(text);
        assert_true(strlen(text) > 1);
        assert_string_not_equal(text, "unknown manifest error");
        size_t n = bw_manifest_describe(&why, line, sizeof line);
        assert_true(n > 0 && n == strlen(line));
        /* Short buffers are cut and terminated, never overrun. */
        char tiny[6] = "xxxxx";
        size_t cut = bw_manifest_describe(&why, tiny, 4);
        assert_true(cut <= 3);
        assert_int_equal(tiny[cut], '\0');
        assert_int_equal(tiny[4], 'x');
    }
    assert_string_equal(bw_manifest_error_text(BW_MANIFEST_E_COUNT), "unknown manifest error");
    bw_manifest_diag why = { .error = BW_MANIFEST_E_LAYER_OUTSIDE, .index = 2, .value = 0x100010,
                             .limit = 0x100000 };
    bw_manifest_describe(&why, line, sizeof line);
    assert_string_equal(line, "layer 2 extends past the end of its region (ends at 0x100010, "
                              "region is 0x100000 bytes)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_manifest_structure_errors),
        cmocka_unit_test(test_manifest_field_bounds),
        cmocka_unit_test(test_layer_rules),
        cmocka_unit_test(test_header_and_head),
        cmocka_unit_test(test_signing_hash_and_key_id),
        cmocka_unit_test(test_signature),
        cmocka_unit_test(test_device_checks),
        cmocka_unit_test(test_layers_and_measurement),
        cmocka_unit_test(test_every_reason_has_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
