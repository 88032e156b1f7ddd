/*
 * The CLI's end of the debug session (lib_debug_client.h, SPEC §21).
 */
#include <stdio.h>
#include <string.h>

#include "bw_bytes.h"
#include "lib_debug_client.h"
#include "mbedtls/ecp.h"
#include "mbedtls/oid.h"
#include "mbedtls/x509_crt.h"
#include "p256-m/p256-m.h"
#include "psa/crypto.h"

#define FAIL(...) (snprintf(err, errcap, __VA_ARGS__), -1)

int debug_client_init(debug_client *c, const char *device_id, const uint8_t private_key[32], const uint8_t *ca,
                      size_t ca_len, char *err, size_t errcap)
{
    memset(c, 0, sizeof *c);
    if (strlen(device_id) != BW_DEBUG_ID_LEN) {
        return FAIL("a device ID has %u characters", (unsigned)BW_DEBUG_ID_LEN);
    }
    if (ca == NULL || ca_len == 0) {
        return FAIL("no fleet CA certificate to check the device against");
    }
    memcpy(c->device_id, device_id, BW_DEBUG_ID_LEN);
    memcpy(c->key, private_key, 32);
    c->ca = ca;
    c->ca_len = ca_len;
    return 0;
}

bool debug_client_busy(const uint8_t *answer, size_t len)
{
    return len == 2 && answer[0] == BW_DEBUG_REFUSED && answer[1] == BW_DEBUG_REFUSED_BUSY;
}

size_t debug_client_hello(uint8_t *out)
{
    out[0] = BW_DEBUG_HELLO;
    out[1] = BW_DEBUG_VERSION;
    return BW_DEBUG_HELLO_SIZE;
}

const char *debug_client_refusal_text(uint8_t kind, uint8_t reason)
{
    static const char *const refused[] = {
        "refused", "the app's bundle has no debug key", "wrong debug key",
        "no challenge pending (stale or replayed OPEN)", "malformed message", "device error",
        "the device is busy with other debug handshakes", "the device is not provisioned (no certificate)",
    };
    static const char *const dropped[] = {
        "record dropped", "no session open on the device", "record replayed or out of order",
        "record not authentic (tampered or wrong keys)", "record malformed",
    };
    if (kind == BW_DEBUG_REFUSED) {
        return reason < sizeof refused / sizeof refused[0] ? refused[reason] : refused[0];
    }
    if (kind == BW_DEBUG_DROPPED) {
        return reason < sizeof dropped / sizeof dropped[0] ? dropped[reason] : dropped[0];
    }
    return "unexpected answer";
}

/* -1 with the reason if answer is REFUSED/DROPPED or not expected_kind. */
static int expect(const uint8_t *answer, size_t len, uint8_t expected_kind, size_t expected_len, char *err,
                  size_t errcap)
{
    if (len == 2 && (answer[0] == BW_DEBUG_REFUSED || answer[0] == BW_DEBUG_DROPPED)) {
        return FAIL("device %s: %s", answer[0] == BW_DEBUG_REFUSED ? "refused the session" : "dropped the record",
                    debug_client_refusal_text(answer[0], answer[1]));
    }
    if (len == 0 || answer[0] != expected_kind || (expected_len != 0 && len != expected_len)) {
        return FAIL("unexpected answer from the device (kind 0x%02x, %zu bytes)", len > 0 ? answer[0] : 0u, len);
    }
    return 0;
}

int debug_client_open(debug_client *c, const uint8_t *answer, size_t len, uint8_t *out, size_t *out_len,
                      char *err, size_t errcap)
{
    if (expect(answer, len, BW_DEBUG_CHALLENGE, BW_DEBUG_CHALLENGE_SIZE, err, errcap) != 0) {
        return -1;
    }
    const uint8_t *qd = answer + 1;
    memcpy(c->nd, qd + BW_DEBUG_POINT_SIZE, BW_DEBUG_NONCE_SIZE);
    uint8_t z[32], sig[BW_DEBUG_SIG_SIZE];
    int rc = -1;
    if (p256_validate_pubkey(qd) != P256_SUCCESS) {
        (void)FAIL("the device's ephemeral key is not a P-256 point");
    } else if (psa_generate_random(c->nc, sizeof c->nc) != PSA_SUCCESS
               || p256_gen_keypair(c->dc, c->qc) != P256_SUCCESS) {
        (void)FAIL("no random numbers for the ephemeral key");
    } else if (bw_debug_transcript_hash(c->device_id, qd, c->nd, c->qc, c->nc, c->transcript) != BW_OK
               || p256_ecdsa_sign(sig, c->key, c->transcript, sizeof c->transcript) != P256_SUCCESS) {
        (void)FAIL("cannot sign OPEN with the debug key");
    } else if (p256_ecdh_shared_secret(z, c->dc, qd) != P256_SUCCESS
               || bw_debug_derive_keys(z, c->nd, c->nc, c->transcript, &c->keys) != BW_OK) {
        (void)FAIL("key agreement failed");
    } else {
        out[0] = BW_DEBUG_OPEN;
        memcpy(out + 1, c->qc, BW_DEBUG_POINT_SIZE);
        memcpy(out + 1 + BW_DEBUG_POINT_SIZE, c->nc, BW_DEBUG_NONCE_SIZE);
        memcpy(out + 1 + BW_DEBUG_POINT_SIZE + BW_DEBUG_NONCE_SIZE, sig, sizeof sig);
        *out_len = BW_DEBUG_OPEN_SIZE;
        c->keyed = true;
        c->open = false;
        c->proving = false;
        c->next_out = 0;
        c->any_in = false;
        rc = 0;
    }
    bw_debug_wipe(z, sizeof z);
    bw_debug_wipe(c->dc, sizeof c->dc);
    return rc;
}

/* Opens a device record in order; -1 with the reason. */
static int open_record(debug_client *c, const uint8_t *answer, size_t len, uint8_t *inner, size_t *n, char *err,
                       size_t errcap)
{
    if (expect(answer, len, BW_DEBUG_RECORD, 0, err, errcap) != 0) {
        return -1;
    }
    uint64_t seq = 0;
    bw_err e = bw_debug_open(&c->keys.to_cli, answer, len, &seq, inner, BW_DEBUG_INNER_MAX, n);
    if (e != BW_OK) {
        return FAIL("the device's record %s", e == BW_E_DENIED ? "is not authentic (tampered)" : "is malformed");
    }
    if (c->any_in && seq <= c->last_in) {
        return FAIL("the device's record %llu is replayed or out of order", (unsigned long long)seq);
    }
    c->any_in = true;
    c->last_in = seq;
    return 0;
}

/* The subject CN of crt into cn (NUL-terminated, cut to size); false if none. */
static bool subject_cn(const mbedtls_x509_crt *crt, char *cn, size_t size)
{
    for (const mbedtls_x509_name *n = &crt->subject; n != NULL; n = n->next) {
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0) {
            size_t m = n->val.len < size - 1 ? n->val.len : size - 1;
            memcpy(cn, n->val.p, m);
            cn[m] = '\0';
            return true;
        }
    }
    return false;
}

/* The device's proof (§21.2 step 5): its certificate chains to the fleet
 * CA, names the device asked for, and its key made SD over this session. */
static int check_device(debug_client *c, char *err, size_t errcap)
{
    mbedtls_x509_crt ca, crt;
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&crt);
    uint32_t flags = 0;
    uint8_t pub[1 + BW_DEBUG_POINT_SIZE], hash[BW_DEBUG_HASH_SIZE];
    size_t pub_len = 0;
    char cn[80] = "";
    int rc = -1;
    if (mbedtls_x509_crt_parse_der(&ca, c->ca, c->ca_len) != 0) {
        (void)FAIL("the fleet CA certificate does not parse");
    } else if (mbedtls_x509_crt_parse_der(&crt, c->cert, c->cert_len) != 0) {
        (void)FAIL("the device's certificate does not parse");
    } else if (mbedtls_x509_crt_verify(&crt, &ca, NULL, NULL, &flags, NULL, NULL) != 0) {
        (void)FAIL("the device's certificate does not chain to the fleet CA");
    } else if (!subject_cn(&crt, cn, sizeof cn) || strlen(cn) != BW_DEBUG_ID_LEN
               || memcmp(cn, c->device_id, BW_DEBUG_ID_LEN) != 0) {
        (void)FAIL("the device's certificate is for device %s, not %.*s", cn[0] != '\0' ? cn : "(no CN)",
                   (int)BW_DEBUG_ID_LEN, c->device_id);
    } else if (mbedtls_pk_get_type(&crt.pk) != MBEDTLS_PK_ECKEY
               || mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(crt.pk)) != MBEDTLS_ECP_DP_SECP256R1
               || mbedtls_ecp_write_public_key(mbedtls_pk_ec(crt.pk), MBEDTLS_ECP_PF_UNCOMPRESSED, &pub_len, pub,
                                               sizeof pub) != 0
               || pub_len != sizeof pub) {
        (void)FAIL("the device's certificate does not hold a P-256 key");
    } else if (bw_debug_device_hash(c->transcript, hash) != BW_OK
               || p256_ecdsa_verify(c->sd, pub + 1, hash, sizeof hash) != P256_SUCCESS) {
        (void)FAIL("the device's handshake signature does not verify");
    } else {
        rc = 0;
    }
    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_crt_free(&ca);
    return rc;
}

/* Takes OPENED (inner[0..n)): the idle time, SD and the certificate's first part. */
static int take_opened(debug_client *c, const uint8_t *inner, size_t n, char *err, size_t errcap)
{
    if (n < BW_DEBUG_OPENED_FIXED || inner[0] != BW_DEBUG_IN_OPENED) {
        return FAIL("the device's first record is not OPENED");
    }
    size_t total = bw_get16(inner + 5 + BW_DEBUG_SIG_SIZE);
    size_t first = total < BW_DEBUG_OPENED_CERT_MAX ? total : BW_DEBUG_OPENED_CERT_MAX;
    if (total == 0 || total > BW_DEBUG_CERT_MAX || n != BW_DEBUG_OPENED_FIXED + first) {
        return FAIL("the device's OPENED is malformed (certificate of %zu bytes, record of %zu)", total, n);
    }
    c->idle_ms = bw_get32(inner + 1);
    memcpy(c->sd, inner + 5, BW_DEBUG_SIG_SIZE);
    memcpy(c->cert, inner + BW_DEBUG_OPENED_FIXED, first);
    c->cert_len = total;
    c->cert_have = first;
    c->proving = true;
    return 0;
}

/* Takes CERT_PART (inner[0..n)): the bytes the CLI asked for, and no others. */
static int take_cert_part(debug_client *c, const uint8_t *inner, size_t n, char *err, size_t errcap)
{
    size_t want = c->cert_len - c->cert_have;
    size_t part = want < BW_DEBUG_CERT_PART_MAX ? want : BW_DEBUG_CERT_PART_MAX;
    if (n != 3 + part || inner[0] != BW_DEBUG_IN_CERT_PART || bw_get16(inner + 1) != c->cert_have) {
        return FAIL("the device's answer to CERT is not the certificate part asked for");
    }
    memcpy(c->cert + c->cert_have, inner + 3, part);
    c->cert_have += part;
    return 0;
}

/* Seals inner[0..n) as the CLI's next record. */
static int seal_next(debug_client *c, const uint8_t *inner, size_t n, uint8_t *out, size_t cap, size_t *out_len,
                     char *err, size_t errcap)
{
    if (bw_debug_seal(&c->keys.to_device, c->next_out, inner, n, out, cap, out_len) != BW_OK) {
        return FAIL("cannot seal the record");
    }
    c->next_out++;
    return 0;
}

int debug_client_opened(debug_client *c, const uint8_t *answer, size_t len, uint8_t *out, size_t cap,
                        size_t *out_len, char *err, size_t errcap)
{
    uint8_t inner[BW_DEBUG_INNER_MAX];
    size_t n = 0;
    *out_len = 0;
    if (!c->keyed || c->open) {
        return FAIL(c->open ? "the session is already open" : "no OPEN sent");
    }
    if (open_record(c, answer, len, inner, &n, err, errcap) != 0) {
        return -1;
    }
    int rc = c->proving ? take_cert_part(c, inner, n, err, errcap) : take_opened(c, inner, n, err, errcap);
    if (rc != 0) {
        return -1;
    }
    if (c->cert_have < c->cert_len) {
        uint8_t cert[3] = { BW_DEBUG_IN_CERT };
        bw_put16(cert + 1, (uint32_t)c->cert_have);
        return seal_next(c, cert, sizeof cert, out, cap, out_len, err, errcap);
    }
    if (check_device(c, err, errcap) != 0) {
        return -1;
    }
    c->proving = false;
    c->open = true;
    return 0;
}

int debug_client_seal(debug_client *c, uint8_t type, const void *body, size_t n, uint8_t *out, size_t cap,
                      size_t *out_len, char *err, size_t errcap)
{
    uint8_t inner[BW_DEBUG_INNER_MAX];
    if (!c->open) {
        return FAIL("no session open");
    }
    if (n + 1 > sizeof inner) {
        return FAIL("message of %zu bytes is over %u", n, (unsigned)BW_DEBUG_PACKET_MAX);
    }
    inner[0] = type;
    if (n > 0) {
        memcpy(inner + 1, body, n);
    }
    return seal_next(c, inner, n + 1, out, cap, out_len, err, errcap);
}

int debug_client_unseal(debug_client *c, const uint8_t *answer, size_t len, uint8_t *type, uint8_t *body,
                        size_t cap, size_t *n, char *err, size_t errcap)
{
    uint8_t inner[BW_DEBUG_INNER_MAX];
    size_t m = 0;
    if (open_record(c, answer, len, inner, &m, err, errcap) != 0) {
        return -1;
    }
    if (m - 1 > cap) {
        return FAIL("answer of %zu bytes is over %zu", m - 1, cap);
    }
    *type = inner[0];
    memcpy(body, inner + 1, m - 1);
    *n = m - 1;
    return 0;
}

void debug_client_wipe(debug_client *c)
{
    bw_debug_wipe(c, sizeof *c);
}
