/*
 * The debug session (docs/SPEC.md §21): the kernel's end
 * (bw_debug_session.c) against the CLI's (cli/lib_debug_client.c) in one
 * process, with a test monitor that echoes. Handshake, every refusal, the
 * device's proof (certificates from tests/unit/debug_certs.h: a relay
 * posing as the device is refused), the HELLO rate limit, the sequence
 * windows both ways, tampering, the idle end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include <cmocka.h>

#include "bw_crypto.h"
#include "bw_debug_session.h"
#include "bw_random.h"
#include "debug_certs.h"
#include "lib_debug_client.h"
#include "p256-m/p256-m.h"
#include "psa/crypto.h"

static const char device_id[] = "BW0123456789ABCDEF0123456789ABCDEF";
static const char other_id[] = "BWFFFF456789ABCDEF0123456789ABCDEF";

static uint8_t debug_priv[32], debug_pub[BW_PUBLIC_KEY_SIZE];
static bool debuggable;
/* What the device end proves itself with: a certificate and the key it signs with. */
static const uint8_t *dev_cert, *dev_sign_key;
static size_t dev_cert_len;
/* The fleet CA the CLI checks against. */
static const uint8_t *cli_ca;
static size_t cli_ca_len;
static unsigned monitor_calls, peer_lost_calls;

psa_status_t psa_generate_random(uint8_t *output, size_t output_size)
{
    return getrandom(output, output_size, 0) == (ssize_t)output_size ? PSA_SUCCESS
                                                                      : PSA_ERROR_INSUFFICIENT_ENTROPY;
}

/* Test monitor: answers 'A' followed by the request. */
static size_t monitor(const uint8_t *req, size_t len, uint8_t *answer, size_t cap)
{
    monitor_calls++;
    assert_true(cap >= BW_DEBUG_PACKET_MAX);
    size_t n = len < cap - 1 ? len : cap - 1;
    answer[0] = 'A';
    memcpy(answer + 1, req, n);
    return n + 1;
}

static void peer_lost(void)
{
    peer_lost_calls++;
}

static bool debug_key(uint8_t key[BW_PUBLIC_KEY_SIZE])
{
    if (!debuggable) {
        return false;
    }
    memcpy(key, debug_pub, BW_PUBLIC_KEY_SIZE);
    return true;
}

static const uint8_t *device_certificate(size_t *len)
{
    *len = dev_cert_len;
    return dev_cert;
}

static bool device_sign(const uint8_t hash[BW_DEBUG_HASH_SIZE], uint8_t sig[BW_DEBUG_SIG_SIZE])
{
    return p256_ecdsa_sign(sig, dev_sign_key, hash, BW_DEBUG_HASH_SIZE) == P256_SUCCESS;
}

/* The device end proves itself with cert and signs with key. */
static void device_is(const uint8_t *cert, size_t len, const uint8_t *key)
{
    dev_cert = cert;
    dev_cert_len = len;
    dev_sign_key = key;
}

static uint64_t now;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(bw_crypto_init(), BW_OK);
    assert_int_equal(bw_random_init(), BW_OK);
    debug_pub[0] = 0x04;
    assert_int_equal(p256_gen_keypair(debug_priv, debug_pub + 1), P256_SUCCESS);
    bw_debug_session_hooks hooks = { .monitor_request = monitor, .monitor_peer_lost = peer_lost,
                                     .debug_key = debug_key, .device_certificate = device_certificate,
                                     .device_sign = device_sign };
    device_is(dev_der, sizeof dev_der, dev_key);
    cli_ca = fleet_ca_der;
    cli_ca_len = sizeof fleet_ca_der;
    bw_debug_session_init(&hooks, device_id);
    debuggable = true;
    monitor_calls = 0;
    peer_lost_calls = 0;
    now = 1000;
    return 0;
}

/* One exchange with the kernel's end. */
static size_t device(const uint8_t *in, size_t len, uint8_t out[BW_DEBUG_WIRE_MAX])
{
    size_t n = bw_debug_session_input(in, len, now, out, BW_DEBUG_WIRE_MAX);
    assert_true(n >= 2 && n <= BW_DEBUG_WIRE_MAX);
    return n;
}

static unsigned cert_exchanges;   /* CERTs in the last handshake */
static size_t handshake_bytes;    /* session bytes of the last handshake */

/* HELLO, CHALLENGE, OPEN, OPENED and CERTs: returns 0 or -1 with the CLI's
 * reason in err. */
static int handshake_as(debug_client *c, const char *id, const uint8_t key[32], char *err, size_t errcap)
{
    uint8_t msg[BW_DEBUG_WIRE_MAX], answer[BW_DEBUG_WIRE_MAX];
    size_t len = 0;
    cert_exchanges = 0;
    assert_int_equal(debug_client_init(c, id, key, cli_ca, cli_ca_len, err, errcap), 0);
    size_t n = device(msg, debug_client_hello(msg), answer);
    handshake_bytes = BW_DEBUG_HELLO_SIZE + n;
    if (debug_client_open(c, answer, n, msg, &len, err, errcap) != 0) {
        return -1;
    }
    for (unsigned i = 0;; i++) {
        assert_true(i <= 3);   /* a certificate of at most 1024 bytes */
        n = device(msg, len, answer);
        handshake_bytes += len + n;
        if (debug_client_opened(c, answer, n, msg, sizeof msg, &len, err, errcap) != 0) {
            return -1;
        }
        if (len == 0) {
            return 0;
        }
        cert_exchanges++;
    }
}

static void handshake(debug_client *c)
{
    char err[160] = "";
    assert_int_equal(handshake_as(c, device_id, debug_priv, err, sizeof err), 0);
    assert_true(bw_debug_session_open());
    assert_int_equal(c->idle_ms, BW_DEBUG_IDLE_MS);
}

/* Seals type+body, hands it to the device; the answer in answer/alen. */
static void send_record(debug_client *c, uint8_t type, const void *body, size_t n, uint8_t *record, size_t *rlen,
                        uint8_t *answer, size_t *alen)
{
    char err[160];
    assert_int_equal(debug_client_seal(c, type, body, n, record, BW_DEBUG_WIRE_MAX, rlen, err, sizeof err), 0);
    *alen = device(record, *rlen, answer);
}

static void expect_inner(debug_client *c, const uint8_t *answer, size_t alen, uint8_t type, const void *body,
                         size_t n)
{
    char err[160];
    uint8_t got[BW_DEBUG_PACKET_MAX], t = 0;
    size_t m = 0;
    assert_int_equal(debug_client_unseal(c, answer, alen, &t, got, sizeof got, &m, err, sizeof err), 0);
    assert_int_equal(t, type);
    assert_int_equal(m, n);
    assert_memory_equal(got, body, n);
}

static void test_ping_monitor_close(void **state)
{
    (void)state;
    debug_client c;
    uint8_t rec[BW_DEBUG_WIRE_MAX], ans[BW_DEBUG_WIRE_MAX];
    size_t rlen, alen;
    handshake(&c);
    send_record(&c, BW_DEBUG_IN_PING, "hi", 2, rec, &rlen, ans, &alen);
    assert_int_equal(rlen, 9 + 3 + 16);
    expect_inner(&c, ans, alen, BW_DEBUG_IN_PONG, "hi", 2);
    uint8_t big[BW_DEBUG_PACKET_MAX];
    memset(big, 0x5a, sizeof big);
    send_record(&c, BW_DEBUG_IN_MONITOR, big, sizeof big - 1, rec, &rlen, ans, &alen);
    assert_int_equal(rlen, BW_DEBUG_RECORD_MAX - 1);
    uint8_t expect[BW_DEBUG_PACKET_MAX] = { 'A' };
    memset(expect + 1, 0x5a, sizeof expect - 1);
    expect_inner(&c, ans, alen, BW_DEBUG_IN_ANSWER, expect, sizeof expect);
    assert_int_equal(monitor_calls, 1);
    send_record(&c, BW_DEBUG_IN_CLOSE, NULL, 0, rec, &rlen, ans, &alen);
    expect_inner(&c, ans, alen, BW_DEBUG_IN_CLOSED, "", 0);
    assert_false(bw_debug_session_open());
    assert_int_equal(peer_lost_calls, 1);
    assert_int_equal(bw_debug_session_stats()->records, 4);   /* the handshake's CERT, PING, MONITOR, CLOSE */
}

static void test_not_debuggable(void **state)
{
    (void)state;
    debug_client c;
    char err[160] = "";
    debuggable = false;
    assert_int_equal(handshake_as(&c, device_id, debug_priv, err, sizeof err), -1);
    assert_non_null(strstr(err, "the app's bundle has no debug key"));
    assert_false(bw_debug_session_open());
}

static void test_wrong_key(void **state)
{
    (void)state;
    debug_client c;
    char err[160] = "";
    uint8_t other_priv[32], other_pub[64];
    assert_int_equal(p256_gen_keypair(other_priv, other_pub), P256_SUCCESS);
    assert_int_equal(handshake_as(&c, device_id, other_priv, err, sizeof err), -1);
    assert_non_null(strstr(err, "wrong debug key"));
    assert_false(bw_debug_session_open());
    /* An OPEN signed for another device's ID is refused the same way. */
    assert_int_equal(handshake_as(&c, other_id, debug_priv, err, sizeof err), -1);
    assert_non_null(strstr(err, "wrong debug key"));
    assert_int_equal(bw_debug_session_stats()->refused, 2);
}

static void test_open_replayed(void **state)
{
    (void)state;
    debug_client c;
    char err[160];
    uint8_t msg[BW_DEBUG_WIRE_MAX], open[BW_DEBUG_WIRE_MAX], ans[BW_DEBUG_WIRE_MAX];
    size_t len = 0;
    size_t more = 0;
    assert_int_equal(debug_client_init(&c, device_id, debug_priv, fleet_ca_der, sizeof fleet_ca_der, err,
                                       sizeof err), 0);
    size_t n = device(msg, debug_client_hello(msg), ans);
    assert_int_equal(debug_client_open(&c, ans, n, open, &len, err, sizeof err), 0);
    n = device(open, len, ans);
    assert_int_equal(debug_client_opened(&c, ans, n, msg, sizeof msg, &more, err, sizeof err), 0);
    n = device(msg, more, ans);
    assert_int_equal(debug_client_opened(&c, ans, n, msg, sizeof msg, &more, err, sizeof err), 0);
    assert_int_equal(more, 0);
    assert_true(c.open);
    /* The same OPEN again: the challenge is used up. */
    n = device(open, len, ans);
    assert_int_equal(n, 2);
    assert_int_equal(ans[0], BW_DEBUG_REFUSED);
    assert_int_equal(ans[1], BW_DEBUG_REFUSED_NO_CHALLENGE);
    /* ... and after a new HELLO, it does not match the new challenge. */
    (void)device(msg, debug_client_hello(msg), ans);
    n = device(open, len, ans);
    assert_int_equal(ans[1], BW_DEBUG_REFUSED_WRONG_KEY);
    assert_true(bw_debug_session_open());   /* the session stays */
    assert_int_equal(peer_lost_calls, 0);
    /* A stale challenge: 30 s later. */
    (void)device(msg, debug_client_hello(msg), ans);
    now += BW_DEBUG_CHALLENGE_MS;
    n = device(open, len, ans);
    assert_int_equal(ans[1], BW_DEBUG_REFUSED_NO_CHALLENGE);
}

static void test_records_replayed_reordered_tampered(void **state)
{
    (void)state;
    debug_client c;
    uint8_t rec[BW_DEBUG_WIRE_MAX], rec2[BW_DEBUG_WIRE_MAX], ans[BW_DEBUG_WIRE_MAX];
    size_t rlen, rlen2, alen;
    char err[160];
    handshake(&c);
    send_record(&c, BW_DEBUG_IN_MONITOR, "m", 1, rec, &rlen, ans, &alen);
    assert_int_equal(monitor_calls, 1);
    /* Replay: dropped, not acted on. */
    alen = device(rec, rlen, ans);
    assert_int_equal(alen, 2);
    assert_int_equal(ans[0], BW_DEBUG_DROPPED);
    assert_int_equal(ans[1], BW_DEBUG_DROPPED_REPLAY);
    assert_int_equal(monitor_calls, 1);
    /* Reorder: seal two, deliver the second first. */
    assert_int_equal(debug_client_seal(&c, BW_DEBUG_IN_MONITOR, "x", 1, rec, sizeof rec, &rlen, err, sizeof err), 0);
    assert_int_equal(debug_client_seal(&c, BW_DEBUG_IN_MONITOR, "y", 1, rec2, sizeof rec2, &rlen2, err, sizeof err), 0);
    alen = device(rec2, rlen2, ans);
    expect_inner(&c, ans, alen, BW_DEBUG_IN_ANSWER, "Ay", 2);
    alen = device(rec, rlen, ans);
    assert_int_equal(ans[1], BW_DEBUG_DROPPED_REPLAY);
    assert_int_equal(monitor_calls, 2);
    /* Tamper: every byte of a record, one at a time. */
    assert_int_equal(debug_client_seal(&c, BW_DEBUG_IN_MONITOR, "z", 1, rec, sizeof rec, &rlen, err, sizeof err), 0);
    for (size_t i = 1; i < rlen; i++) {
        rec[i] ^= 0x01;
        alen = device(rec, rlen, ans);
        assert_int_equal(ans[0], BW_DEBUG_DROPPED);
        assert_int_equal(ans[1], BW_DEBUG_DROPPED_NOT_AUTHENTIC);
        rec[i] ^= 0x01;
    }
    assert_int_equal(monitor_calls, 2);
    assert_int_equal(bw_debug_session_stats()->dropped_auth, rlen - 1);
    /* The untouched one still goes through. */
    alen = device(rec, rlen, ans);
    expect_inner(&c, ans, alen, BW_DEBUG_IN_ANSWER, "Az", 2);
    assert_int_equal(bw_debug_session_stats()->dropped_replay, 2);
}

static void test_cli_checks_device_records(void **state)
{
    (void)state;
    debug_client c;
    uint8_t rec[BW_DEBUG_WIRE_MAX], ans[BW_DEBUG_WIRE_MAX], old[BW_DEBUG_WIRE_MAX], body[BW_DEBUG_PACKET_MAX], t;
    size_t rlen, alen, oldlen, n;
    char err[160];
    handshake(&c);
    send_record(&c, BW_DEBUG_IN_PING, "1", 1, rec, &rlen, old, &oldlen);
    expect_inner(&c, old, oldlen, BW_DEBUG_IN_PONG, "1", 1);
    send_record(&c, BW_DEBUG_IN_PING, "2", 1, rec, &rlen, ans, &alen);
    /* A tampered answer is refused and does not move the window. */
    ans[alen - 1] ^= 0x80;
    assert_int_equal(debug_client_unseal(&c, ans, alen, &t, body, sizeof body, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "not authentic"));
    ans[alen - 1] ^= 0x80;
    /* A replayed (older) answer is refused. */
    assert_int_equal(debug_client_unseal(&c, old, oldlen, &t, body, sizeof body, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "replayed"));
    expect_inner(&c, ans, alen, BW_DEBUG_IN_PONG, "2", 1);
    /* A DROPPED answer names the reason. */
    uint8_t dropped[2] = { BW_DEBUG_DROPPED, BW_DEBUG_DROPPED_NOT_AUTHENTIC };
    assert_int_equal(debug_client_unseal(&c, dropped, 2, &t, body, sizeof body, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "tampered"));
}

static void test_idle_end_and_replacement(void **state)
{
    (void)state;
    debug_client c, d;
    uint8_t rec[BW_DEBUG_WIRE_MAX], ans[BW_DEBUG_WIRE_MAX];
    size_t rlen, alen;
    handshake(&c);
    handshake(&d);   /* a new valid OPEN replaces the first session */
    assert_int_equal(peer_lost_calls, 1);
    send_record(&c, BW_DEBUG_IN_PING, NULL, 0, rec, &rlen, ans, &alen);
    assert_int_equal(ans[1], BW_DEBUG_DROPPED_NOT_AUTHENTIC);   /* old keys */
    now += BW_DEBUG_IDLE_MS - 1;
    send_record(&d, BW_DEBUG_IN_PING, NULL, 0, rec, &rlen, ans, &alen);   /* keeps it alive */
    expect_inner(&d, ans, alen, BW_DEBUG_IN_PONG, "", 0);
    now += BW_DEBUG_IDLE_MS - 1;
    bw_debug_session_poll(now);
    assert_true(bw_debug_session_open());
    now += 1;
    bw_debug_session_poll(now);
    assert_false(bw_debug_session_open());
    assert_int_equal(peer_lost_calls, 2);
    assert_int_equal(bw_debug_session_stats()->idle_ends, 1);
    send_record(&d, BW_DEBUG_IN_PING, NULL, 0, rec, &rlen, ans, &alen);
    assert_int_equal(ans[0], BW_DEBUG_DROPPED);
    assert_int_equal(ans[1], BW_DEBUG_DROPPED_NO_SESSION);
}

static void test_malformed(void **state)
{
    (void)state;
    debug_client c;
    uint8_t ans[BW_DEBUG_WIRE_MAX], junk[BW_DEBUG_WIRE_MAX] = { 0 };
    uint8_t rec[BW_DEBUG_WIRE_MAX];
    size_t rlen, alen;
    char err[160];
    assert_int_equal(bw_debug_session_input(junk, 1, now, ans, BW_DEBUG_WIRE_MAX - 1), 0);   /* cap too small */
    for (size_t len = 0; len <= sizeof junk; len += 7) {
        for (unsigned kind = 0; kind < 256; kind += 15) {
            junk[0] = (uint8_t)kind;
            alen = device(len == 0 ? NULL : junk, len, ans);
            assert_true(ans[0] == BW_DEBUG_REFUSED || ans[0] == BW_DEBUG_DROPPED || ans[0] == BW_DEBUG_CHALLENGE);
        }
    }
    handshake(&c);
    /* Authentic but unknown inner type: consumed, DROPPED malformed. */
    send_record(&c, 0x77, "q", 1, rec, &rlen, ans, &alen);
    assert_int_equal(ans[1], BW_DEBUG_DROPPED_MALFORMED);
    /* A PING over 32 bytes likewise. */
    uint8_t ping[33] = { 0 };
    send_record(&c, BW_DEBUG_IN_PING, ping, sizeof ping, rec, &rlen, ans, &alen);
    assert_int_equal(ans[1], BW_DEBUG_DROPPED_MALFORMED);
    assert_int_equal(monitor_calls, 0);
    assert_int_equal(debug_client_seal(&c, BW_DEBUG_IN_MONITOR, junk, BW_DEBUG_PACKET_MAX + 1, rec, sizeof rec,
                                       &rlen, err, sizeof err), -1);
    assert_true(bw_debug_session_open());
}

static void test_device_proves_itself(void **state)
{
    (void)state;
    debug_client c;
    char err[160] = "";
    handshake(&c);
    assert_int_equal(cert_exchanges, 1);   /* openssl's 467 bytes: 410 in OPENED, the rest in one CERT_PART */
    assert_int_equal(handshake_bytes, 2 + 81 + 145 + (96 + 410) + (28 + 28 + 467 - 410));
    /* A certificate of 897 bytes: two CERTs. */
    device_is(dev_big_der, sizeof dev_big_der, dev_big_key);
    assert_int_equal(handshake_as(&c, device_id, debug_priv, err, sizeof err), 0);
    assert_int_equal(cert_exchanges, 2);
    assert_int_equal(bw_debug_session_stats()->opens, 2);
}

/* A relay that answers the handshake itself: a real kernel end (the relay
 * can run one) with what it has. The CLI refuses each with its reason. */
static void test_relay_posing_as_device(void **state)
{
    (void)state;
    debug_client c;
    char err[160] = "";
    /* Its own key, a certificate from another CA naming the device. */
    device_is(dev_other_ca_der, sizeof dev_other_ca_der, dev_other_ca_key);
    assert_int_equal(handshake_as(&c, device_id, debug_priv, err, sizeof err), -1);
    assert_string_equal(err, "the device's certificate does not chain to the fleet CA");
    assert_false(c.open);
    /* Another device of the fleet, with its real certificate and key. */
    device_is(dev_other_id_der, sizeof dev_other_id_der, dev_other_id_key);
    assert_int_equal(handshake_as(&c, device_id, debug_priv, err, sizeof err), -1);
    assert_string_equal(err, "the device's certificate is for device BWFFFF456789ABCDEF0123456789ABCDEF, "
                             "not BW0123456789ABCDEF0123456789ABCDEF");
    /* The device's real certificate (it is public), signed with another key. */
    device_is(dev_der, sizeof dev_der, dev_other_ca_key);
    assert_int_equal(handshake_as(&c, device_id, debug_priv, err, sizeof err), -1);
    assert_string_equal(err, "the device's handshake signature does not verify");
    /* The real device, but the CLI holds another CA. */
    device_is(dev_der, sizeof dev_der, dev_key);
    cli_ca = other_ca_der;
    cli_ca_len = sizeof other_ca_der;
    assert_int_equal(handshake_as(&c, device_id, debug_priv, err, sizeof err), -1);
    assert_string_equal(err, "the device's certificate does not chain to the fleet CA");
    /* A CLI with no CA does not start. */
    assert_int_equal(debug_client_init(&c, device_id, debug_priv, NULL, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "no fleet CA"));
}

/* A signature from an earlier session of the real device does not open a new one. */
static void test_device_signature_bound_to_session(void **state)
{
    (void)state;
    debug_client c;
    uint8_t msg[BW_DEBUG_WIRE_MAX], ans[BW_DEBUG_WIRE_MAX], first_sd[BW_DEBUG_SIG_SIZE];
    char err[160] = "";
    handshake(&c);
    memcpy(first_sd, c.sd, sizeof first_sd);
    /* A relay that kept SD and the certificate runs the handshake itself
     * (its own kernel end, whose signature it swaps for the old one). */
    size_t len = 0, n, more = 0;
    assert_int_equal(debug_client_init(&c, device_id, debug_priv, fleet_ca_der, sizeof fleet_ca_der, err,
                                       sizeof err), 0);
    n = device(msg, debug_client_hello(msg), ans);
    assert_int_equal(debug_client_open(&c, ans, n, msg, &len, err, sizeof err), 0);
    n = device(msg, len, ans);
    assert_int_equal(debug_client_opened(&c, ans, n, msg, sizeof msg, &more, err, sizeof err), 0);
    assert_true(more > 0);
    memcpy(c.sd, first_sd, sizeof first_sd);   /* as if OPENED had carried the old SD */
    n = device(msg, more, ans);
    assert_int_equal(debug_client_opened(&c, ans, n, msg, sizeof msg, &more, err, sizeof err), -1);
    assert_string_equal(err, "the device's handshake signature does not verify");
}

static void test_not_provisioned(void **state)
{
    (void)state;
    debug_client c;
    char err[160] = "";
    device_is(NULL, 0, dev_key);
    assert_int_equal(handshake_as(&c, device_id, debug_priv, err, sizeof err), -1);
    assert_non_null(strstr(err, "the device is not provisioned"));
    device_is(dev_big_der, BW_DEBUG_CERT_MAX + 1, dev_key);   /* over the limit: treated alike */
    assert_int_equal(handshake_as(&c, device_id, debug_priv, err, sizeof err), -1);
    assert_non_null(strstr(err, "the device is not provisioned"));
}

static void test_cert_requests_checked(void **state)
{
    (void)state;
    debug_client c;
    uint8_t rec[BW_DEBUG_WIRE_MAX], ans[BW_DEBUG_WIRE_MAX];
    size_t rlen, alen;
    handshake(&c);
    uint8_t part[3];
    uint16_t offsets[] = { 0, (uint16_t)sizeof dev_der, 0xffff };
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        part[0] = (uint8_t)offsets[i];
        part[1] = (uint8_t)(offsets[i] >> 8);
        send_record(&c, BW_DEBUG_IN_CERT, part, 2, rec, &rlen, ans, &alen);
        assert_int_equal(ans[1], BW_DEBUG_DROPPED_MALFORMED);
    }
    send_record(&c, BW_DEBUG_IN_CERT, part, 3, rec, &rlen, ans, &alen);   /* one byte too many */
    assert_int_equal(ans[1], BW_DEBUG_DROPPED_MALFORMED);
    /* A good one inside the session answers the bytes asked for. */
    part[0] = 7;
    part[1] = 0;
    send_record(&c, BW_DEBUG_IN_CERT, part, 2, rec, &rlen, ans, &alen);
    uint8_t expect[3 + sizeof dev_der - 7] = { 7, 0 };
    memcpy(expect + 2, dev_der + 7, sizeof dev_der - 7);
    expect_inner(&c, ans, alen, BW_DEBUG_IN_CERT_PART, expect, 2 + sizeof dev_der - 7);
}

static void test_hello_rate_limit(void **state)
{
    (void)state;
    uint8_t msg[BW_DEBUG_WIRE_MAX], ans[BW_DEBUG_WIRE_MAX];
    uint8_t bad[2] = { BW_DEBUG_HELLO, 1 };   /* version 1: refused, not counted */
    for (unsigned i = 0; i < 10; i++) {
        (void)device(bad, sizeof bad, ans);
        assert_int_equal(ans[1], BW_DEBUG_REFUSED_MALFORMED);
    }
    for (unsigned i = 0; i < BW_DEBUG_HELLOS_PER_WINDOW; i++) {
        assert_int_equal(device(msg, debug_client_hello(msg), ans), BW_DEBUG_CHALLENGE_SIZE);
        now += 100;
    }
    size_t n = device(msg, debug_client_hello(msg), ans);
    assert_int_equal(n, 2);
    assert_int_equal(ans[0], BW_DEBUG_REFUSED);
    assert_int_equal(ans[1], BW_DEBUG_REFUSED_BUSY);
    assert_true(debug_client_busy(ans, n));
    assert_int_equal(bw_debug_session_stats()->busy, 1);
    /* The window ends 1 s after its first HELLO. */
    now = 1000 + BW_DEBUG_HELLO_WINDOW_MS - 1;
    assert_int_equal(device(msg, debug_client_hello(msg), ans), 2);
    now = 1000 + BW_DEBUG_HELLO_WINDOW_MS;
    assert_int_equal(device(msg, debug_client_hello(msg), ans), BW_DEBUG_CHALLENGE_SIZE);
    assert_int_equal(bw_debug_session_stats()->busy, 2);
    /* A whole handshake after a busy answer. */
    debug_client c;
    for (unsigned i = 1; i < BW_DEBUG_HELLOS_PER_WINDOW; i++) {
        (void)device(msg, debug_client_hello(msg), ans);
    }
    char err[160] = "";
    assert_int_equal(handshake_as(&c, device_id, debug_priv, err, sizeof err), -1);
    assert_non_null(strstr(err, "busy"));
    now += BW_DEBUG_HELLO_WINDOW_MS;
    handshake(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ping_monitor_close, setup),
        cmocka_unit_test_setup(test_not_debuggable, setup),
        cmocka_unit_test_setup(test_wrong_key, setup),
        cmocka_unit_test_setup(test_open_replayed, setup),
        cmocka_unit_test_setup(test_records_replayed_reordered_tampered, setup),
        cmocka_unit_test_setup(test_cli_checks_device_records, setup),
        cmocka_unit_test_setup(test_idle_end_and_replacement, setup),
        cmocka_unit_test_setup(test_malformed, setup),
        cmocka_unit_test_setup(test_device_proves_itself, setup),
        cmocka_unit_test_setup(test_relay_posing_as_device, setup),
        cmocka_unit_test_setup(test_device_signature_bound_to_session, setup),
        cmocka_unit_test_setup(test_not_provisioned, setup),
        cmocka_unit_test_setup(test_cert_requests_checked, setup),
        cmocka_unit_test_setup(test_hello_rate_limit, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
