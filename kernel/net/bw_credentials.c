/*
 * The device credentials store (bw_credentials.h; format: docs/SPEC.md §12).
 *
 * State, all static:
 *  - record: the record in use, as read back from flash (header + body),
 *    and where it lives (sector, sequence); have_key says it is valid;
 *  - draft: what provisioning requests brought so far, item by item, in
 *    RAM only until a commit checks and stores it.
 * A commit builds the new record in `record` itself (the key fields stay
 * where they are, so the key is carried over byte for byte), writes it to
 * the other sector, and then reloads `record` from flash whatever happened:
 * RAM always mirrors the newest valid record in flash.
 */
#include <string.h>

#include "bw_bytes.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/oid.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/x509_csr.h"

#include "bw_credentials.h"
#include "bw_identity.h"
#include "bw_keyset.h"
#include "bw_log.h"
#include "bw_random.h"

#define SECTORS        2u
#define UNIT_MAX       32u     /* the header is one program of 32 bytes */

/* Header fields (docs/SPEC.md §12). */
#define H_MAGIC        0u
#define H_FORMAT       4u      /* u16 */
#define H_HEADER_SIZE  6u      /* u16 */
#define H_SEQUENCE     8u
#define H_BODY_LEN     12u
#define H_FLAGS        16u
#define H_BODY_CRC     20u
#define H_KEY_SET      24u     /* key-set sequence (§12.4) */
#define H_CRC          28u

/* Body fields, relative to the body. */
#define B_PRIVATE      0u
#define B_PUBLIC       32u
#define B_KEY_COUNT    97u
#define B_PORT         98u     /* u16 */
#define B_CERT_LEN     100u    /* u16 */
#define B_CA_LEN       102u    /* u16 */
#define B_HOST_LEN     104u
#define B_RETIRED      105u    /* retired key count */
#define B_RESERVED     106u    /* 2 bytes */

#define BROKER_TEXT_MAX (BW_CRED_HOST_MAX - 1u + 6u)   /* "host:65535" */

_Static_assert(B_PUBLIC + BW_CRED_PUBLIC_SIZE == B_KEY_COUNT, "body layout");
_Static_assert(B_RESERVED + 2u == BW_CRED_BODY_FIXED, "body layout");
_Static_assert(BW_CRED_HOST_MAX <= 256 && BW_CRED_CERT_MAX <= 65535 && BW_CRED_CA_MAX <= 65535,
               "lengths fit their fields");

typedef struct record_view {
    uint32_t body_len;
    uint32_t flags;
    uint32_t key_set;        /* sequence of the key set held (0: none) */
    uint32_t key_count;
    uint32_t retired_count;  /* keys the last key set replaced, after the trusted ones */
    uint32_t host_len, cert_len, ca_len;
    uint16_t port;
} record_view;

static struct {
    const bw_flash_partition *part;
    uint32_t sector_size;
    uint32_t program_unit;
    bool have_key;
    unsigned sector;
    uint32_t sequence;
    record_view view;
    char host[BW_CRED_HOST_MAX];
    /* +UNIT_MAX: the body is programmed in whole units, padded with 0xFF */
    uint8_t record[BW_CRED_RECORD_MAX + UNIT_MAX] __attribute__((aligned(4)));
    struct {
        uint32_t cert_len, ca_len, broker_len, keys_len;
        uint8_t cert[BW_CRED_CERT_MAX];
        uint8_t ca[BW_CRED_CA_MAX];
        char broker[BROKER_TEXT_MAX];
        uint8_t keys[BW_CRED_UPDATE_KEYS_MAX * BW_CRED_PUBLIC_SIZE];
    } draft;
} store;

/* ---- little-endian fields ---- */

static uint8_t *body(void)
{
    return store.record + BW_CRED_HEADER_SIZE;
}

/* mbedTLS's RNG callback over the kernel DRBG. */
static int drbg(void *context, unsigned char *out, size_t len)
{
    (void)context;
    return bw_random_bytes(out, len) == BW_OK ? 0 : MBEDTLS_ERR_ECP_RANDOM_FAILED;
}

/* ---- reading and checking a record ---- */

static bool printable(const uint8_t *text, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        if (text[i] <= 0x20u || text[i] >= 0x7Fu) {
            return false;
        }
    }
    return true;
}

/* Checks the header at rec (HEADER_SIZE bytes read). */
static bool header_ok(const uint8_t *rec, record_view *v)
{
    v->body_len = bw_get32(rec + H_BODY_LEN);
    v->flags = bw_get32(rec + H_FLAGS);
    v->key_set = bw_get32(rec + H_KEY_SET);
    return bw_get32(rec + H_MAGIC) == BW_CRED_MAGIC && bw_get16(rec + H_FORMAT) == BW_CRED_FORMAT
        && bw_get16(rec + H_HEADER_SIZE) == BW_CRED_HEADER_SIZE
        && bw_get32(rec + H_CRC) == bw_crc32(rec, H_CRC)
        && (v->flags & ~BW_CRED_FLAG_PROVISIONED) == 0
        && v->body_len >= BW_CRED_BODY_FIXED && v->body_len <= BW_CRED_BODY_MAX
        && BW_CRED_HEADER_SIZE + v->body_len <= store.sector_size;
}

/* Checks the body (v->body_len bytes at b) against the header's fields. */
static bool body_ok(const uint8_t *rec, record_view *v)
{
    const uint8_t *b = rec + BW_CRED_HEADER_SIZE;
    v->key_count = b[B_KEY_COUNT];
    v->port = bw_get16(b + B_PORT);
    v->cert_len = bw_get16(b + B_CERT_LEN);
    v->ca_len = bw_get16(b + B_CA_LEN);
    v->host_len = b[B_HOST_LEN];
    v->retired_count = b[B_RETIRED];
    if (bw_get32(rec + H_BODY_CRC) != bw_crc32(b, v->body_len) || b[B_PUBLIC] != 0x04u
        || b[B_RESERVED] != 0 || b[B_RESERVED + 1u] != 0
        || v->key_count > BW_CRED_UPDATE_KEYS_MAX || v->retired_count > BW_CRED_UPDATE_KEYS_MAX
        || v->cert_len > BW_CRED_CERT_MAX
        || v->ca_len > BW_CRED_CA_MAX || v->host_len >= BW_CRED_HOST_MAX
        || v->body_len != BW_CRED_BODY_FIXED + v->host_len + v->cert_len + v->ca_len
                          + (v->key_count + v->retired_count) * BW_CRED_PUBLIC_SIZE
        || !printable(b + BW_CRED_BODY_FIXED, v->host_len)) {
        return false;
    }
    bool provisioned = (v->flags & BW_CRED_FLAG_PROVISIONED) != 0;
    bool all = v->cert_len != 0 && v->ca_len != 0 && v->host_len != 0 && v->port != 0;
    bool none = v->cert_len == 0 && v->ca_len == 0 && v->host_len == 0 && v->port == 0;
    return provisioned ? all : none;
}

/* Reads the record of a sector into store.record: BW_OK if it is valid,
 * BW_E_INVALID if not (blank, garbage, or torn by a cut: a BW_E_TORN read
 * too), any other error if the flash failed (nothing is known then). */
static bw_err read_sector(unsigned sector, record_view *v)
{
    uint32_t at = sector * store.sector_size;
    bw_err err = bw_flash_read(store.part, at, store.record, BW_CRED_HEADER_SIZE);
    if (err == BW_OK && !header_ok(store.record, v)) {
        return BW_E_INVALID;
    }
    if (err == BW_OK) {
        err = bw_flash_read(store.part, at + BW_CRED_HEADER_SIZE, body(), v->body_len);
    }
    if (err == BW_OK && !body_ok(store.record, v)) {
        return BW_E_INVALID;
    }
    return err == BW_E_TORN ? BW_E_INVALID : err;
}

/* Serial order of sequence numbers: a is newer than b (wraps). */
static bool newer(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

/* Loads the newest valid record into store.record (have_key false if none).
 * A read error other than a torn record is returned: whether a key exists
 * is then unknown, and none may be made (it would overwrite the real one). */
static bw_err load(void)
{
    record_view v[SECTORS];
    bool valid[SECTORS];
    uint32_t seq[SECTORS];
    bw_err failed = BW_OK;
    for (unsigned s = 0; s < SECTORS; s++) {
        bw_err err = read_sector(s, &v[s]);
        valid[s] = err == BW_OK;
        failed = err != BW_OK && err != BW_E_INVALID ? err : failed;
        seq[s] = bw_get32(store.record + H_SEQUENCE);
    }
    store.have_key = false;
    store.sequence = 0;
    memset(store.host, 0, sizeof store.host);
    unsigned pick = valid[1] && (!valid[0] || newer(seq[1], seq[0])) ? 1u : 0u;
    bw_err err = failed;
    if (err == BW_OK && valid[pick]) {
        err = read_sector(pick, &store.view);
    }
    if (err != BW_OK || !valid[pick]) {
        memset(store.record, 0xFF, sizeof store.record);
        return err == BW_E_INVALID ? BW_OK : err;
    }
    store.have_key = true;
    store.sector = pick;
    store.sequence = seq[pick];
    memcpy(store.host, body() + BW_CRED_BODY_FIXED, store.view.host_len);
    return BW_OK;
}

/* ---- writing ---- */

/* Seals store.record (header for the body already in place) with sequence
 * seq, writes it to the sector not in use, and reloads from flash. */
static bw_err write_record(const record_view *v)
{
    uint32_t seq = store.have_key ? store.sequence + 1u : 1u;
    unsigned target = store.have_key ? 1u - store.sector : 0u;
    uint8_t *rec = store.record;
    memset(rec, 0, BW_CRED_HEADER_SIZE);
    bw_put32(rec + H_MAGIC, BW_CRED_MAGIC);
    bw_put16(rec + H_FORMAT, BW_CRED_FORMAT);
    bw_put16(rec + H_HEADER_SIZE, BW_CRED_HEADER_SIZE);
    bw_put32(rec + H_SEQUENCE, seq);
    bw_put32(rec + H_BODY_LEN, v->body_len);
    bw_put32(rec + H_FLAGS, v->flags);
    bw_put32(rec + H_KEY_SET, v->key_set);
    bw_put32(rec + H_BODY_CRC, bw_crc32(body(), v->body_len));
    bw_put32(rec + H_CRC, bw_crc32(rec, H_CRC));
    uint32_t unit = store.program_unit;
    uint32_t padded = (v->body_len + unit - 1u) & ~(unit - 1u);
    memset(body() + v->body_len, 0xFF, padded - v->body_len);

    uint32_t at = target * store.sector_size;
    /* Erased first even if it reads blank (ECC flash, docs/DESIGN.md "Updates");
     * the body, then the header that commits it. */
    bw_err err = bw_flash_erase_sector(store.part, at);
    if (err == BW_OK) {
        err = bw_flash_program(store.part, at + BW_CRED_HEADER_SIZE, body(), padded);
    }
    if (err == BW_OK) {
        err = bw_flash_program(store.part, at, rec, BW_CRED_HEADER_SIZE);
    }
    bw_err reload = load();
    err = err != BW_OK ? err : reload;
    if (err == BW_OK && (!store.have_key || store.sequence != seq)) {
        err = BW_E_IO;   /* it does not read back */
    }
    return err;
}

/* Makes a key pair into the body of store.record. */
static bw_err make_key(void)
{
    mbedtls_ecp_keypair kp;
    mbedtls_ecp_keypair_init(&kp);
    size_t priv_len = 0, pub_len = 0;
    uint8_t *b = body();
    int rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, &kp, drbg, NULL);
    if (rc == 0) {
        rc = mbedtls_ecp_write_key_ext(&kp, &priv_len, b + B_PRIVATE, BW_CRED_PRIVATE_SIZE);
    }
    if (rc == 0) {
        rc = mbedtls_ecp_write_public_key(&kp, MBEDTLS_ECP_PF_UNCOMPRESSED, &pub_len, b + B_PUBLIC,
                                          BW_CRED_PUBLIC_SIZE);
    }
    mbedtls_ecp_keypair_free(&kp);
    return rc == 0 && priv_len == BW_CRED_PRIVATE_SIZE && pub_len == BW_CRED_PUBLIC_SIZE ? BW_OK : BW_E_IO;
}

bw_err bw_credentials_boot(const bw_flash_partition *p, bool *created)
{
    *created = false;
    store.part = NULL;
    store.have_key = false;
    if (p == NULL || p->device == NULL) {
        return BW_E_UNAVAILABLE;
    }
    uint32_t sector = p->device->sector_size, unit = p->device->program_unit;
    if (unit > UNIT_MAX || p->size < SECTORS * sector || sector < BW_CRED_RECORD_MAX + UNIT_MAX) {
        return BW_E_UNAVAILABLE;
    }
    store.part = p;
    store.sector_size = sector;
    store.program_unit = unit;
    bw_err loaded = load();
    if (loaded != BW_OK || store.have_key) {
        return loaded;   /* a read error: no key this boot, and none made */
    }
    memset(store.record, 0, BW_CRED_HEADER_SIZE + BW_CRED_BODY_FIXED);
    bw_err err = make_key();
    if (err != BW_OK) {
        memset(store.record, 0xFF, sizeof store.record);
        return err;
    }
    record_view v = { .body_len = BW_CRED_BODY_FIXED, .flags = 0 };
    err = write_record(&v);
    *created = err == BW_OK;
    return err;
}

/* ---- accessors ---- */

bool bw_credentials_have_key(void)
{
    return store.have_key;
}

bool bw_credentials_provisioned(void)
{
    return store.have_key && (store.view.flags & BW_CRED_FLAG_PROVISIONED) != 0;
}

uint32_t bw_credentials_sequence(void)
{
    return store.sequence;
}

const uint8_t *bw_credentials_public_key(void)
{
    return store.have_key ? body() + B_PUBLIC : NULL;
}

bw_err bw_credentials_device_key(mbedtls_pk_context *pk)
{
    if (!store.have_key) {
        return BW_E_UNAVAILABLE;
    }
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    int rc = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (rc == 0) {
        rc = mbedtls_ecp_read_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk), body() + B_PRIVATE,
                                  BW_CRED_PRIVATE_SIZE);
    }
    if (rc == 0) {
        rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    }
    if (rc == 0) {
        rc = mbedtls_ecp_point_read_binary(&grp, &q, body() + B_PUBLIC, BW_CRED_PUBLIC_SIZE);
    }
    if (rc == 0) {
        rc = mbedtls_ecp_set_public_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk), &q);
    }
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    return rc == 0 ? BW_OK : BW_E_IO;
}

bw_err bw_credentials_sign(const uint8_t hash[32], uint8_t sig[64])
{
    if (!store.have_key) {
        return BW_E_UNAVAILABLE;
    }
    mbedtls_ecp_keypair kp;
    mbedtls_ecp_group grp;
    mbedtls_mpi d, r, s;
    mbedtls_ecp_keypair_init(&kp);
    mbedtls_ecp_group_init(&grp);
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int rc = mbedtls_ecp_read_key(MBEDTLS_ECP_DP_SECP256R1, &kp, body() + B_PRIVATE, BW_CRED_PRIVATE_SIZE);
    rc = rc != 0 ? rc : mbedtls_ecp_export(&kp, &grp, &d, NULL);
    rc = rc != 0 ? rc : mbedtls_ecdsa_sign(&grp, &r, &s, &d, hash, 32, drbg, NULL);
    rc = rc != 0 ? rc : mbedtls_mpi_write_binary(&r, sig, 32);
    rc = rc != 0 ? rc : mbedtls_mpi_write_binary(&s, sig + 32, 32);
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&d);
    mbedtls_ecp_group_free(&grp);
    mbedtls_ecp_keypair_free(&kp);
    return rc == 0 ? BW_OK : BW_E_IO;
}

const uint8_t *bw_credentials_certificate(size_t *len)
{
    bool ok = bw_credentials_provisioned();
    *len = ok ? store.view.cert_len : 0;
    return ok ? body() + BW_CRED_BODY_FIXED + store.view.host_len : NULL;
}

const uint8_t *bw_credentials_ca_certificate(size_t *len)
{
    bool ok = bw_credentials_provisioned();
    *len = ok ? store.view.ca_len : 0;
    return ok ? body() + BW_CRED_BODY_FIXED + store.view.host_len + store.view.cert_len : NULL;
}

const char *bw_credentials_broker_host(void)
{
    return bw_credentials_provisioned() ? store.host : NULL;
}

uint16_t bw_credentials_broker_port(void)
{
    return bw_credentials_provisioned() ? store.view.port : 0;
}

/* The trusted update keys in the body, then the retired ones. */
static uint8_t *body_keys(void)
{
    return body() + BW_CRED_BODY_FIXED + store.view.host_len + store.view.cert_len + store.view.ca_len;
}

void bw_credentials_update_keys(uint8_t keys[BW_CRED_UPDATE_KEYS_MAX][BW_CRED_PUBLIC_SIZE],
                                size_t *count)
{
    *count = store.have_key ? store.view.key_count : 0;
    memcpy(keys, body_keys(), *count * BW_CRED_PUBLIC_SIZE);
}

void bw_credentials_retired_keys(uint8_t keys[BW_CRED_UPDATE_KEYS_MAX][BW_CRED_PUBLIC_SIZE],
                                 size_t *count)
{
    *count = store.have_key ? store.view.retired_count : 0;
    memcpy(keys, body_keys() + store.view.key_count * BW_CRED_PUBLIC_SIZE, *count * BW_CRED_PUBLIC_SIZE);
}

uint32_t bw_credentials_key_set(void)
{
    return store.have_key ? store.view.key_set : 0;
}

/* ---- the certificate request ---- */

bw_err bw_credentials_csr(const char device_id[BW_DEVICE_ID_LEN], uint8_t *out, size_t size,
                          size_t *len)
{
    *len = 0;
    if (!store.have_key) {
        return BW_E_UNAVAILABLE;
    }
    char subject[3 + BW_DEVICE_ID_LEN + 1] = "CN=";
    memcpy(subject + 3, device_id, BW_DEVICE_ID_LEN);
    subject[3 + BW_DEVICE_ID_LEN] = '\0';
    mbedtls_pk_context pk;
    mbedtls_x509write_csr req;
    mbedtls_pk_init(&pk);
    mbedtls_x509write_csr_init(&req);
    bw_err err = bw_credentials_device_key(&pk);
    int n = -1;
    if (err == BW_OK) {
        mbedtls_x509write_csr_set_md_alg(&req, MBEDTLS_MD_SHA256);
        mbedtls_x509write_csr_set_key(&req, &pk);
        n = mbedtls_x509write_csr_set_subject_name(&req, subject);
        if (n == 0) {
            /* written at the end of out */
            n = mbedtls_x509write_csr_der(&req, out, size, drbg, NULL);
        }
        err = n == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL ? BW_E_SIZE : n <= 0 ? BW_E_IO : BW_OK;
    }
    if (err == BW_OK) {
        memmove(out, out + size - (size_t)n, (size_t)n);
        *len = (size_t)n;
    }
    mbedtls_x509write_csr_free(&req);
    mbedtls_pk_free(&pk);
    return err;
}

/* ---- provisioning ---- */

static void draft_clear(void)
{
    memset(&store.draft, 0, sizeof store.draft);
}

bw_err bw_credentials_draft_put(bw_cred_item item, uint32_t offset, const uint8_t *data, size_t len,
                                uint32_t *held)
{
    uint8_t *buf;
    uint32_t *fill, max;
    switch (item) {
    case BW_CRED_ITEM_CERTIFICATE:
        buf = store.draft.cert, fill = &store.draft.cert_len, max = BW_CRED_CERT_MAX;
        break;
    case BW_CRED_ITEM_CA:
        buf = store.draft.ca, fill = &store.draft.ca_len, max = BW_CRED_CA_MAX;
        break;
    case BW_CRED_ITEM_BROKER:
        buf = (uint8_t *)store.draft.broker, fill = &store.draft.broker_len, max = BROKER_TEXT_MAX;
        break;
    case BW_CRED_ITEM_UPDATE_KEYS:
        buf = store.draft.keys, fill = &store.draft.keys_len, max = sizeof store.draft.keys;
        break;
    default:
        *held = 0;
        return BW_E_INVALID;
    }
    if (offset == 0) {
        *fill = 0;
    }
    *held = *fill;
    if (offset != *fill) {
        return BW_E_INVALID;
    }
    if (len > max - *fill) {
        return BW_E_SIZE;
    }
    memcpy(buf + *fill, data, len);
    *fill += (uint32_t)len;
    *held = *fill;
    return BW_OK;
}

/* "host:port" from the draft into host[] and *port. */
static bool parse_broker(char host[BW_CRED_HOST_MAX], uint32_t *host_len, uint16_t *port)
{
    const char *text = store.draft.broker;
    uint32_t len = store.draft.broker_len, colon = len;
    for (uint32_t i = 0; i < len; i++) {
        if (text[i] == ':') {
            colon = i;   /* the last one */
        }
    }
    if (colon == 0 || colon >= BW_CRED_HOST_MAX || colon + 1u >= len || len - colon - 1u > 5u
        || !printable((const uint8_t *)text, colon)) {
        return false;
    }
    uint32_t value = 0;
    for (uint32_t i = colon + 1u; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return false;
        }
        value = value * 10u + (uint32_t)(text[i] - '0');
    }
    if (value == 0 || value > 65535u) {
        return false;
    }
    memcpy(host, text, colon);
    *host_len = colon;
    *port = (uint16_t)value;
    return true;
}

static bool subject_cn_is(const mbedtls_x509_crt *crt, const char *id)
{
    for (const mbedtls_x509_name *n = &crt->subject; n != NULL; n = n->next) {
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0) {
            return n->val.len == BW_DEVICE_ID_LEN && memcmp(n->val.p, id, BW_DEVICE_ID_LEN) == 0;
        }
    }
    return false;
}

/* The checks of the draft's certificates (see bw_credentials_commit). */
static bw_err check_certificates(const char *id, char *reason, size_t size)
{
    mbedtls_x509_crt ca, crt;
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&crt);
    uint8_t spki[BW_CRED_PUBLIC_SIZE + 32];
    uint8_t *p = spki + sizeof spki;
    uint32_t flags = 0;
    int rc;
    bw_err err = BW_E_INVALID;
    if ((rc = mbedtls_x509_crt_parse_der_nocopy(&ca, store.draft.ca, store.draft.ca_len)) != 0) {
        bw_format(reason, size, "the CA certificate does not parse (mbedTLS error -0x%04x)",
                 (unsigned)-rc);
    } else if ((rc = mbedtls_x509_crt_parse_der_nocopy(&crt, store.draft.cert,
                                                       store.draft.cert_len)) != 0) {
        bw_format(reason, size, "the certificate does not parse (mbedTLS error -0x%04x)",
                 (unsigned)-rc);
    } else if (mbedtls_pk_get_type(&crt.pk) != MBEDTLS_PK_ECKEY
               || mbedtls_pk_write_pubkey(&p, spki, &crt.pk) != (int)BW_CRED_PUBLIC_SIZE
               || memcmp(p, body() + B_PUBLIC, BW_CRED_PUBLIC_SIZE) != 0) {
        bw_format(reason, size, "the certificate's public key is not this device's key");
    } else if (!subject_cn_is(&crt, id)) {
        char text[BW_DEVICE_ID_LEN + 1];
        memcpy(text, id, BW_DEVICE_ID_LEN);
        text[BW_DEVICE_ID_LEN] = '\0';
        bw_format(reason, size, "the certificate's subject CN is not this device's ID %s", text);
    } else if (mbedtls_x509_crt_check_extended_key_usage(
                   &crt, MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)) != 0) {
        bw_format(reason, size, "the certificate is not for TLS client authentication");
    } else if ((rc = mbedtls_x509_crt_verify(&crt, &ca, NULL, NULL, &flags, NULL, NULL)) != 0) {
        if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
            bw_format(reason, size, "the certificate does not chain to the CA given (not signed "
                     "by it, or the CA is not a CA)");
        } else {
            bw_format(reason, size, "the certificate does not verify under the CA given "
                     "(flags 0x%05x)", (unsigned)flags);
        }
    } else {
        err = BW_OK;
    }
    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_crt_free(&ca);
    return err;
}

static bw_err commit(const char id[BW_DEVICE_ID_LEN], char *reason, size_t size)
{
    char host[BW_CRED_HOST_MAX] = {0};
    uint32_t host_len = 0;
    uint16_t port = 0;
    if (!store.have_key) {
        bw_format(reason, size, "the device has no key (credentials storage unavailable)");
        return BW_E_UNAVAILABLE;
    }
    if (store.draft.cert_len == 0 || store.draft.ca_len == 0 || store.draft.broker_len == 0) {
        bw_format(reason, size, "incomplete: send the certificate, the CA certificate and the "
                 "broker before COMMIT");
        return BW_E_INVALID;
    }
    if (!parse_broker(host, &host_len, &port)) {
        bw_format(reason, size, "the broker must be HOST:PORT (host 1..%u printable characters, "
                 "port 1..65535)", (unsigned)(BW_CRED_HOST_MAX - 1));
        return BW_E_INVALID;
    }
    if (store.draft.keys_len % BW_CRED_PUBLIC_SIZE != 0) {
        bw_format(reason, size, "update keys must be 65-byte uncompressed P-256 points");
        return BW_E_INVALID;
    }
    for (uint32_t i = 0; i < store.draft.keys_len; i += BW_CRED_PUBLIC_SIZE) {
        if (store.draft.keys[i] != 0x04u) {
            bw_format(reason, size, "update key %u is not an uncompressed P-256 point",
                     (unsigned)(i / BW_CRED_PUBLIC_SIZE + 1u));
            return BW_E_INVALID;
        }
    }
    bw_err err = check_certificates(id, reason, size);
    if (err != BW_OK) {
        return err;
    }
    /* The new body: the key fields stay; everything after them is replaced. */
    uint8_t *b = body();
    uint32_t key_count = store.view.key_count, retired_count = store.view.retired_count;
    uint8_t keys[2u * BW_CRED_UPDATE_KEYS_MAX * BW_CRED_PUBLIC_SIZE];
    memcpy(keys, body_keys(), (key_count + retired_count) * BW_CRED_PUBLIC_SIZE);
    if (store.draft.keys_len != 0) {
        /* Keys sent with provisioning replace the trusted ones; retired stay. */
        memmove(keys + store.draft.keys_len, keys + key_count * BW_CRED_PUBLIC_SIZE,
                retired_count * BW_CRED_PUBLIC_SIZE);
        key_count = store.draft.keys_len / BW_CRED_PUBLIC_SIZE;
        memcpy(keys, store.draft.keys, store.draft.keys_len);
    }
    b[B_KEY_COUNT] = (uint8_t)key_count;
    b[B_RETIRED] = (uint8_t)retired_count;
    bw_put16(b + B_PORT, port);
    bw_put16(b + B_CERT_LEN, (uint16_t)store.draft.cert_len);
    bw_put16(b + B_CA_LEN, (uint16_t)store.draft.ca_len);
    b[B_HOST_LEN] = (uint8_t)host_len;
    memset(b + B_RESERVED, 0, 2);
    uint8_t *at = b + BW_CRED_BODY_FIXED;
    memcpy(at, host, host_len);
    at += host_len;
    memcpy(at, store.draft.cert, store.draft.cert_len);
    at += store.draft.cert_len;
    memcpy(at, store.draft.ca, store.draft.ca_len);
    at += store.draft.ca_len;
    memcpy(at, keys, (key_count + retired_count) * BW_CRED_PUBLIC_SIZE);
    at += (key_count + retired_count) * BW_CRED_PUBLIC_SIZE;
    record_view v = { .body_len = (uint32_t)(at - b), .flags = BW_CRED_FLAG_PROVISIONED,
                      .key_set = store.view.key_set };
    err = write_record(&v);
    if (err != BW_OK) {
        bw_format(reason, size, "writing the credentials to flash failed (error %d); the previous "
                 "ones stay", (int)err);
    }
    return err;
}

bw_err bw_credentials_commit(const char device_id[BW_DEVICE_ID_LEN], char *reason, size_t size)
{
    bw_err err = commit(device_id, reason, size);
    draft_clear();
    return err;
}

/* ---- update-key rotation ---- */

/* The stored fleet CA certificate's P-256 key, 0x04 || X || Y. */
static bw_err ca_public_key(uint8_t key[BW_CRED_PUBLIC_SIZE], char *reason, size_t size)
{
    size_t ca_len = 0;
    const uint8_t *ca_der = bw_credentials_ca_certificate(&ca_len);
    mbedtls_x509_crt ca;
    mbedtls_x509_crt_init(&ca);
    uint8_t spki[BW_CRED_PUBLIC_SIZE + 32];
    uint8_t *p = spki + sizeof spki;
    bw_err err = BW_E_UNAVAILABLE;
    if (ca_der == NULL) {
        bw_format(reason, size, "the device is not provisioned: no fleet CA to check a key set with");
    } else if (mbedtls_x509_crt_parse_der_nocopy(&ca, ca_der, ca_len) != 0
               || mbedtls_pk_get_type(&ca.pk) != MBEDTLS_PK_ECKEY
               || mbedtls_pk_write_pubkey(&p, spki, &ca.pk) != (int)BW_CRED_PUBLIC_SIZE) {
        bw_format(reason, size, "the fleet CA certificate holds no P-256 key");
    } else {
        memcpy(key, p, BW_CRED_PUBLIC_SIZE);
        err = BW_OK;
    }
    mbedtls_x509_crt_free(&ca);
    return err;
}

bw_err bw_credentials_rotate_keys(const uint8_t *rec, size_t len, char *reason, size_t size)
{
    bw_keyset set;
    uint8_t ca_key[BW_CRED_PUBLIC_SIZE];
    bw_err err = bw_keyset_parse(rec, len, &set, reason, size);
    if (err == BW_OK) {
        err = ca_public_key(ca_key, reason, size);
    }
    if (err == BW_OK) {
        err = bw_keyset_verify(&set, ca_key, reason, size);
    }
    if (err == BW_OK && set.sequence <= store.view.key_set) {
        bw_format(reason, size, "key set %u is not newer than the one held (%u)",
                  (unsigned)set.sequence, (unsigned)store.view.key_set);
        err = BW_E_INVALID;
    }
    if (err != BW_OK) {
        return err;
    }
    /* Retired: the keys this set replaces (not in it). They follow the trusted ones. */
    uint8_t *keys = body_keys();
    uint8_t old[BW_CRED_UPDATE_KEYS_MAX * BW_CRED_PUBLIC_SIZE];
    uint32_t old_count = store.view.key_count, retired = 0;
    memcpy(old, keys, old_count * BW_CRED_PUBLIC_SIZE);
    memcpy(keys, set.keys, set.key_count * BW_CRED_PUBLIC_SIZE);
    for (uint32_t i = 0; i < old_count; i++) {
        const uint8_t *key = old + i * BW_CRED_PUBLIC_SIZE;
        bool kept = false;
        for (uint32_t j = 0; j < set.key_count; j++) {
            kept = kept || memcmp(set.keys[j], key, BW_CRED_PUBLIC_SIZE) == 0;
        }
        if (!kept) {
            memcpy(keys + (set.key_count + retired++) * BW_CRED_PUBLIC_SIZE, key, BW_CRED_PUBLIC_SIZE);
        }
    }
    uint8_t *b = body();
    b[B_KEY_COUNT] = (uint8_t)set.key_count;
    b[B_RETIRED] = (uint8_t)retired;
    record_view v = store.view;
    v.key_set = set.sequence;
    v.body_len = (uint32_t)(keys - b) + (set.key_count + retired) * BW_CRED_PUBLIC_SIZE;
    err = write_record(&v);
    if (err != BW_OK) {
        bw_format(reason, size, "writing the credentials to flash failed (error %d); the previous "
                  "keys stay", (int)err);
    }
    return err;
}
