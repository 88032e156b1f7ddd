/*
 * The kernel's TLS 1.2 client (bw_tls.h) on mbedTLS 3.6.
 *
 * State: one connection (the mbedTLS context, config, parsed certificates
 * and key; `live` while they are initialised) and one saved session that
 * outlives connections. Invariants: the mbedTLS objects are initialised
 * exactly while `live`; FAILED and IDLE never hold them (a failure releases
 * everything at once, so the arena is free for the next try); the saved
 * session is replaced only by a handshake that completed, and dropped when a
 * handshake that offered it fails at the TLS level (the server may no longer
 * accept it); a link that closes mid-handshake says nothing against it, so
 * the next try still resumes.
 *
 * Two private mbedTLS fields are read, each in one helper: the output still
 * to flush (out_left) and the handshake state right after the ServerHello
 * (which tells a resumed handshake from a full one); mbedTLS 3.6 has no
 * public accessor for either.
 */
#include <string.h>

#include "mbedtls/ecp.h"
#include "mbedtls/error.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

#include "bw_config.h"
#include "bw_random.h"
#include "bw_tls.h"

#define P256_SCALAR_BYTES 32

static struct {
    bw_tls_state state;
    const char *reason;
    int mbedtls_err;
    uint32_t verify_flags;
    bool resumed;
    bool offered_session;
    bool saw_server_hello;
    bool lower_failed;
    uint32_t polls;
    uint32_t ecc_slices;
    uint64_t deadline_ms;
    uint64_t wall_time_s;
    const bw_stream *below;
    bool live;
} tls;

static mbedtls_ssl_context ssl;
static mbedtls_ssl_config conf;
static mbedtls_x509_crt ca_cert;
static mbedtls_x509_crt device_cert;
static mbedtls_pk_context device_key;

static mbedtls_ssl_session saved_session;
static bool have_saved_session;

/* ---- glue: randomness, the lower stream, certificate dates ---- */

/* mbedTLS RNG: the kernel's CTR_DRBG, seeded from port_entropy (bw_random.c). */
static int tls_random(void *unused, unsigned char *out, size_t len)
{
    (void)unused;
    return bw_random_bytes(out, len) == BW_OK ? 0 : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int lower_result(int32_t n, size_t len, int would_block)
{
    if (n > 0 && (size_t)n <= len) {
        return (int)n;
    }
    if (n == 0) {
        return would_block;
    }
    if (n == BW_STREAM_CLOSED) {
        return MBEDTLS_ERR_SSL_CONN_EOF;
    }
    tls.lower_failed = true;   /* BW_STREAM_FAILED, or a count the stream cannot have moved */
    return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int lower_send(void *unused, const unsigned char *buf, size_t len)
{
    (void)unused;
    return lower_result(tls.below->send(tls.below->ctx, buf, len), len, MBEDTLS_ERR_SSL_WANT_WRITE);
}

static int lower_recv(void *unused, unsigned char *buf, size_t len)
{
    (void)unused;
    int32_t n = tls.below->recv(tls.below->ctx, buf, len);
    /* mbedTLS reads 0 as the end of the stream. */
    return n == BW_STREAM_CLOSED ? 0 : lower_result(n, len, MBEDTLS_ERR_SSL_WANT_READ);
}

/* UTC seconds to a calendar date (proleptic Gregorian, days from 1970-01-01). */
static void x509_time_from_unix(uint64_t seconds, mbedtls_x509_time *out)
{
    int64_t days = (int64_t)(seconds / 86400u);
    uint32_t rest = (uint32_t)(seconds % 86400u);
    int64_t z = days + 719468;                   /* days since 0000-03-01 */
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;              /* day of the 400-year era */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;            /* month from March = 0 */
    out->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    out->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    out->year = (int)(yoe + era * 400 + (out->mon <= 2));
    out->hour = (int)(rest / 3600u);
    out->min = (int)(rest / 60u % 60u);
    out->sec = (int)(rest % 60u);
}

static int x509_time_cmp(const mbedtls_x509_time *a, const mbedtls_x509_time *b)
{
    const int ka[] = { a->year, a->mon, a->day, a->hour, a->min, a->sec };
    const int kb[] = { b->year, b->mon, b->day, b->hour, b->min, b->sec };
    for (size_t i = 0; i < sizeof ka / sizeof ka[0]; i++) {
        if (ka[i] != kb[i]) {
            return ka[i] < kb[i] ? -1 : 1;
        }
    }
    return 0;
}

/* Chain verification callback: each certificate's dates against the caller's
 * wall time (mbedTLS has no clock here). Unknown time: dates not checked. */
static int verify_dates(void *unused, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    (void)unused;
    (void)depth;
    if (tls.wall_time_s != 0) {
        mbedtls_x509_time now;
        x509_time_from_unix(tls.wall_time_s, &now);
        if (x509_time_cmp(&crt->valid_to, &now) < 0) {
            *flags |= MBEDTLS_X509_BADCERT_EXPIRED;
        }
        if (x509_time_cmp(&crt->valid_from, &now) > 0) {
            *flags |= MBEDTLS_X509_BADCERT_FUTURE;
        }
    }
    return 0;
}

/* ---- connection life ---- */

static void release(void)
{
    if (tls.live) {
        mbedtls_ssl_free(&ssl);
        mbedtls_ssl_config_free(&conf);
        mbedtls_x509_crt_free(&ca_cert);
        mbedtls_x509_crt_free(&device_cert);
        mbedtls_pk_free(&device_key);
        tls.live = false;
    }
}

static bool is_alloc_error(int err)
{
    return err == MBEDTLS_ERR_SSL_ALLOC_FAILED || err == MBEDTLS_ERR_ECP_ALLOC_FAILED ||
           err == MBEDTLS_ERR_MPI_ALLOC_FAILED || err == MBEDTLS_ERR_X509_ALLOC_FAILED ||
           err == MBEDTLS_ERR_PK_ALLOC_FAILED;
}

static const char *reason_for(int err, uint32_t flags)
{
    if (is_alloc_error(err)) {
        return "the mbedTLS arena is too small";
    }
    if (tls.lower_failed) {
        return "the stream below failed";
    }
    switch (err) {
    case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
        if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
            return "server certificate not issued by the fleet CA";
        }
        if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) {
            return "server certificate does not name the expected server";
        }
        if (flags & MBEDTLS_X509_BADCERT_EXPIRED) {
            return "server certificate expired";
        }
        if (flags & MBEDTLS_X509_BADCERT_FUTURE) {
            return "server certificate not valid yet";
        }
        return "server certificate rejected";
    case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
        return "the server refused the handshake (fatal alert)";
    case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE:
    case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION:
    case MBEDTLS_ERR_SSL_BAD_CERTIFICATE:
        return "the server does not speak this profile (version, suite, curve, key)";
    case MBEDTLS_ERR_SSL_CONN_EOF:
        return "the link closed during the handshake";
    case MBEDTLS_ERR_SSL_INVALID_MAC:
    case MBEDTLS_ERR_SSL_INVALID_RECORD:
    case MBEDTLS_ERR_SSL_DECODE_ERROR:
    case MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE:
    case MBEDTLS_ERR_SSL_UNEXPECTED_RECORD:
    case MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER:
        return "corrupted or malformed data from the server";
    case MBEDTLS_ERR_ECP_VERIFY_FAILED:
    case MBEDTLS_ERR_PK_BAD_INPUT_DATA:
        return "the server's signature does not verify";
    case MBEDTLS_ERR_SSL_TIMEOUT:
        return "the handshake timed out";
    default:
        return "TLS failed";
    }
}

/* Ends the connection as FAILED with `err`; a handshake that offered the
 * saved session and failed at the TLS level drops it. */
static void fail(int err, const char *reason)
{
    if (tls.state == BW_TLS_HANDSHAKING && tls.offered_session && err != MBEDTLS_ERR_SSL_CONN_EOF) {
        bw_tls_forget_session();
    }
    if (tls.live && err == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        tls.verify_flags = mbedtls_ssl_get_verify_result(&ssl);
    }
    tls.mbedtls_err = err;
    tls.reason = reason != NULL ? reason : reason_for(err, tls.verify_flags);
    tls.state = BW_TLS_FAILED;
    release();
}

static void end_closed(const char *reason)
{
    tls.state = BW_TLS_CLOSED;
    tls.reason = reason;
    release();
}

static int load_device_key(const bw_tls_credentials *creds)
{
    if (creds->device_key_len == P256_SCALAR_BYTES) {
        int rc = mbedtls_pk_setup(&device_key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
        return rc != 0 ? rc : mbedtls_ecp_read_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(device_key),
                                                   creds->device_key, P256_SCALAR_BYTES);
    }
    return mbedtls_pk_parse_key(&device_key, creds->device_key, creds->device_key_len, NULL, 0,
                                tls_random, NULL);
}

static bool creds_present(const bw_tls_credentials *creds)
{
    return creds != NULL && creds->device_key != NULL && creds->device_cert != NULL &&
           creds->ca_cert != NULL && creds->server_name != NULL && creds->server_name[0] != '\0';
}

/* Parses the credentials and sets up mbedTLS; 0 or the failing mbedTLS code,
 * with *reason naming what did not parse. */
static int set_up(const bw_tls_credentials *creds, const char **reason)
{
    int rc;
    *reason = "fleet CA certificate does not parse";
    if ((rc = mbedtls_x509_crt_parse_der_nocopy(&ca_cert, creds->ca_cert, creds->ca_cert_len)) != 0) {
        return rc;
    }
    *reason = "device certificate does not parse";
    if ((rc = mbedtls_x509_crt_parse_der_nocopy(&device_cert, creds->device_cert,
                                                creds->device_cert_len)) != 0) {
        return rc;
    }
    *reason = "device key does not parse or is not P-256";
    if ((rc = load_device_key(creds)) != 0) {
        return rc;
    }
    if (mbedtls_pk_get_type(&device_key) != MBEDTLS_PK_ECKEY ||
        mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(device_key)) != MBEDTLS_ECP_DP_SECP256R1) {
        return MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
    }
    *reason = NULL;   /* from here on, reason_for(rc) */
    if ((rc = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                          MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
        return rc;
    }
    mbedtls_ssl_conf_min_tls_version(&conf, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_max_tls_version(&conf, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&conf, &ca_cert, NULL);
    mbedtls_ssl_conf_verify(&conf, verify_dates, NULL);
    mbedtls_ssl_conf_rng(&conf, tls_random, NULL);
    mbedtls_ssl_conf_session_tickets(&conf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
    if ((rc = mbedtls_ssl_conf_own_cert(&conf, &device_cert, &device_key)) != 0 ||
        (rc = mbedtls_ssl_conf_max_frag_len(&conf, MBEDTLS_SSL_MAX_FRAG_LEN_2048)) != 0 ||
        (rc = mbedtls_ssl_setup(&ssl, &conf)) != 0 ||
        (rc = mbedtls_ssl_set_hostname(&ssl, creds->server_name)) != 0) {
        return rc;
    }
    mbedtls_ssl_set_bio(&ssl, NULL, lower_send, lower_recv, NULL);
    if (have_saved_session && (rc = mbedtls_ssl_set_session(&ssl, &saved_session)) != 0) {
        return rc;
    }
    tls.offered_session = have_saved_session;
    return 0;
}

bw_err bw_tls_start(const bw_stream *below, const bw_tls_credentials *creds, uint64_t now_ms)
{
    if (tls.live) {
        return BW_E_IN_USE;
    }
    memset(&tls, 0, sizeof tls);
    if (below == NULL || below->send == NULL || below->recv == NULL || !creds_present(creds)) {
        tls.state = BW_TLS_FAILED;
        tls.reason = "no lower stream or missing credentials";
        return BW_E_INVALID;
    }
    tls.below = below;
    tls.wall_time_s = creds->wall_time_s;
    tls.deadline_ms = now_ms + BW_TLS_HANDSHAKE_TIMEOUT_MS;

    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&ca_cert);
    mbedtls_x509_crt_init(&device_cert);
    mbedtls_pk_init(&device_key);
    tls.live = true;
    tls.state = BW_TLS_HANDSHAKING;

    const char *reason;
    int rc = set_up(creds, &reason);
    if (rc != 0) {
        tls.offered_session = false;   /* nothing was offered to a server */
        fail(rc, is_alloc_error(rc) ? NULL : reason);
        return is_alloc_error(rc) ? BW_E_FULL : BW_E_INVALID;
    }
    mbedtls_ecp_set_max_ops(BW_TLS_ECP_MAX_OPS);
    return BW_OK;
}

/* True when the handshake, just past the ServerHello, goes straight to the
 * server's ChangeCipherSpec: the server accepted the offered session. */
static bool server_hello_resumed(void)
{
    return ssl.MBEDTLS_PRIVATE(state) == MBEDTLS_SSL_SERVER_CHANGE_CIPHER_SPEC;
}

static void handshake_done(void)
{
    tls.state = BW_TLS_OPEN;
    tls.reason = "";
    /* Keep the newest session (a resumed one may come with a new ticket). */
    mbedtls_ssl_session fresh;
    mbedtls_ssl_session_init(&fresh);
    if (mbedtls_ssl_get_session(&ssl, &fresh) == 0) {
        bw_tls_forget_session();
        saved_session = fresh;
        have_saved_session = true;
    } else {
        mbedtls_ssl_session_free(&fresh);
    }
}

static void handshake_step(uint64_t now_ms)
{
    if (now_ms >= tls.deadline_ms) {
        fail(MBEDTLS_ERR_SSL_TIMEOUT, NULL);
        return;
    }
    tls.polls++;
    bool before_server_hello = (ssl.MBEDTLS_PRIVATE(state) <= MBEDTLS_SSL_SERVER_HELLO);
    int rc = mbedtls_ssl_handshake_step(&ssl);
    if (rc == MBEDTLS_ERR_SSL_CRYPTO_IN_PROGRESS) {
        tls.ecc_slices++;
        return;
    }
    if (rc != 0 && rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE) {
        fail(rc, NULL);
        return;
    }
    if (before_server_hello && ssl.MBEDTLS_PRIVATE(state) > MBEDTLS_SSL_SERVER_HELLO &&
        !tls.saw_server_hello) {
        tls.saw_server_hello = true;
        tls.resumed = server_hello_resumed();
    }
    if (mbedtls_ssl_is_handshake_over(&ssl)) {
        handshake_done();
    }
}

/* Sends what an earlier write left in mbedTLS's output buffer: 1 when
 * nothing is left, 0 when some still is, or an mbedTLS error. */
static int flush_pending(void)
{
    if (ssl.MBEDTLS_PRIVATE(out_left) == 0) {
        return 1;
    }
    int rc = mbedtls_ssl_write(&ssl, NULL, 0);   /* with output pending: only flushes it */
    if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
        return 0;
    }
    return rc < 0 ? rc : 1;
}

bw_tls_state bw_tls_poll(uint64_t now_ms)
{
    if (tls.state == BW_TLS_HANDSHAKING) {
        handshake_step(now_ms);
    } else if (tls.state == BW_TLS_OPEN) {
        int rc = flush_pending();
        if (rc < 0) {
            fail(rc, NULL);
        }
    }
    return tls.state;
}

void bw_tls_status_get(bw_tls_status *out)
{
    *out = (bw_tls_status){
        .state = tls.state,
        .reason = tls.reason != NULL ? tls.reason : "",
        .mbedtls_err = tls.mbedtls_err,
        .verify_flags = tls.verify_flags,
        .resumed = tls.resumed,
        .polls = tls.polls,
        .ecc_slices = tls.ecc_slices,
    };
}

/* ---- the stream above ---- */

static int32_t stream_result_when_not_open(void)
{
    switch (tls.state) {
    case BW_TLS_HANDSHAKING:
        return 0;
    case BW_TLS_FAILED:
        return BW_STREAM_FAILED;
    default:
        return BW_STREAM_CLOSED;
    }
}

static int32_t upper_send(void *unused, const uint8_t *data, size_t len)
{
    (void)unused;
    if (tls.state != BW_TLS_OPEN) {
        return stream_result_when_not_open();
    }
    int rc = flush_pending();
    if (rc <= 0 || len == 0) {
        if (rc < 0) {
            fail(rc, NULL);
            return BW_STREAM_FAILED;
        }
        return 0;
    }
    int max = mbedtls_ssl_get_max_out_record_payload(&ssl);
    size_t chunk = (max > 0 && len > (size_t)max) ? (size_t)max : len;
    rc = mbedtls_ssl_write(&ssl, data, chunk);
    if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
        return (int32_t)chunk;   /* sealed into a record; later calls and polls flush it */
    }
    if (rc < 0) {
        fail(rc, NULL);
        return BW_STREAM_FAILED;
    }
    return rc;
}

static int32_t upper_recv(void *unused, uint8_t *buf, size_t len)
{
    (void)unused;
    if (tls.state != BW_TLS_OPEN) {
        return stream_result_when_not_open();
    }
    if (len == 0) {
        return 0;
    }
    int rc = mbedtls_ssl_read(&ssl, buf, len);
    if (rc > 0) {
        return rc;
    }
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
        return 0;
    }
    if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        end_closed("the server closed the connection (close_notify)");
        return BW_STREAM_CLOSED;
    }
    if ((rc == 0 || rc == MBEDTLS_ERR_SSL_CONN_EOF) && !tls.lower_failed) {
        end_closed("the link closed without close_notify");
        return BW_STREAM_CLOSED;
    }
    fail(rc, NULL);
    return BW_STREAM_FAILED;
}

static const bw_stream upper = { .ctx = NULL, .send = upper_send, .recv = upper_recv };

const bw_stream *bw_tls_stream(void)
{
    return &upper;
}

void bw_tls_close(void)
{
    if (tls.live && tls.state == BW_TLS_OPEN && flush_pending() == 1) {
        (void)mbedtls_ssl_close_notify(&ssl);
    }
    release();
    tls.state = BW_TLS_IDLE;
    tls.reason = "";
}

void bw_tls_forget_session(void)
{
    if (have_saved_session) {
        mbedtls_ssl_session_free(&saved_session);
        have_saved_session = false;
    }
}
