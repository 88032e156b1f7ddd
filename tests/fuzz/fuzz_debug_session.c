/*
 * The kernel's end of the debug session (bw_debug_session.c, SPEC §21) on
 * untrusted bytes: each input is a run of messages (u16 length + bytes);
 * a message whose first length bit is set is first sealed as a valid record
 * by a real CLI end (lib_debug_client.c), so the inner messages behind the
 * tag are fuzzed too. Checks: an answer of 2..BW_DEBUG_WIRE_MAX bytes for
 * every message; the monitor never sees a request the session did not open.
 * The CLI's end is fuzzed where a relay posing as the device reaches it:
 * the first message, sealed under a second client's keys, is its OPENED
 * (certificate and signature from untrusted bytes: never accepted).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bw_debug_session.h"
#include "debug_certs.h"
#include "lib_debug_client.h"
#include "mbedtls/platform.h"
#include "p256-m/p256-m.h"
#include "psa/crypto.h"

static const char device_id[] = "BW0123456789ABCDEF0123456789ABCDEF";
static uint8_t priv[32], pub[BW_PUBLIC_KEY_SIZE];
static uint32_t rng = 12345;

/* Deterministic randomness: the fuzzer must reproduce its runs. */
psa_status_t psa_generate_random(uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rng = rng * 1103515245u + 12345u;
        out[i] = (uint8_t)(rng >> 16);
    }
    return PSA_SUCCESS;
}

bw_err bw_random_bytes(void *buf, size_t len)
{
    (void)psa_generate_random(buf, len);
    return BW_OK;
}

void bw_log(const char *fmt, ...)
{
    (void)fmt;
}

/* mbedTLS's snprintf in the kernel's configuration (X.509 names). */
int bw_crypto_snprintf(char *out, size_t size, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(out, size, fmt, args);
    va_end(args);
    return n;
}

static size_t monitor(const uint8_t *req, size_t len, uint8_t *answer, size_t cap)
{
    if (len == 0 || len > BW_DEBUG_PACKET_MAX || cap < BW_DEBUG_PACKET_MAX) {
        abort();
    }
    answer[0] = req[0];
    return 1;
}

static void peer_lost(void)
{
}

static bool debug_key(uint8_t key[BW_PUBLIC_KEY_SIZE])
{
    memcpy(key, pub, BW_PUBLIC_KEY_SIZE);
    return true;
}

static const uint8_t *device_certificate(size_t *len)
{
    *len = sizeof dev_der;
    return dev_der;
}

static bool device_sign(const uint8_t hash[BW_DEBUG_HASH_SIZE], uint8_t sig[BW_DEBUG_SIG_SIZE])
{
    return p256_ecdsa_sign(sig, dev_key, hash, BW_DEBUG_HASH_SIZE) == P256_SUCCESS;
}

static size_t device(const uint8_t *in, size_t len, uint8_t *out, uint64_t now)
{
    size_t n = bw_debug_session_input(in, len, now, out, BW_DEBUG_WIRE_MAX);
    if (n < 2 || n > BW_DEBUG_WIRE_MAX) {
        abort();
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool once;
    if (!once) {
        mbedtls_platform_set_calloc_free(calloc, free);
        pub[0] = 0x04;
        (void)p256_gen_keypair(priv, pub + 1);
        once = true;
    }
    bw_debug_session_hooks hooks = { .monitor_request = monitor, .monitor_peer_lost = peer_lost,
                                     .debug_key = debug_key, .device_certificate = device_certificate,
                                     .device_sign = device_sign };
    bw_debug_session_init(&hooks, device_id);
    /* A real session first, so records can get past the tag. */
    debug_client c;
    char err[200];
    uint8_t msg[BW_DEBUG_WIRE_MAX], answer[BW_DEBUG_WIRE_MAX];
    size_t len = 0;
    uint64_t now = 1;
    if (debug_client_init(&c, device_id, priv, fleet_ca_der, sizeof fleet_ca_der, err, sizeof err) != 0) {
        abort();
    }
    size_t n = device(msg, debug_client_hello(msg), answer, now);
    if (debug_client_open(&c, answer, n, msg, &len, err, sizeof err) != 0) {
        abort();
    }
    for (unsigned i = 0; i < 2; i++) {   /* OPENED, then one CERT for the 467-byte certificate */
        n = device(msg, len, answer, now);
        if (debug_client_opened(&c, answer, n, msg, sizeof msg, &len, err, sizeof err) != 0 || (i == 1) != (len == 0)) {
            abort();
        }
    }
    /* A relay posing as the device: the first message is a second client's
     * OPENED, sealed under that client's keys as only the relay could. */
    if (size >= 2) {
        size_t m = ((size_t)data[0] | (size_t)data[1] << 8) & 0x7fffu;
        m = m < size - 2 ? m : size - 2;
        debug_client d;
        uint8_t challenge[BW_DEBUG_CHALLENGE_SIZE] = { BW_DEBUG_CHALLENGE };
        memcpy(challenge + 1, pub + 1, BW_DEBUG_POINT_SIZE);   /* any point will do */
        size_t rec_len = 0, more = 0;
        if (m >= 1 && m <= BW_DEBUG_INNER_MAX
            && debug_client_init(&d, device_id, priv, fleet_ca_der, sizeof fleet_ca_der, err, sizeof err) == 0
            && debug_client_open(&d, challenge, sizeof challenge, msg, &len, err, sizeof err) == 0
            && bw_debug_seal(&d.keys.to_cli, 0, data + 2, m, answer, sizeof answer, &rec_len) == BW_OK
            && debug_client_opened(&d, answer, rec_len, msg, sizeof msg, &more, err, sizeof err) == 0
            && (more == 0 || d.open)) {
            abort();   /* no proof without the device key */
        }
    }
    while (size >= 2) {
        size_t m = ((size_t)data[0] | (size_t)data[1] << 8) & 0x7fffu;
        bool seal = (data[1] & 0x80u) != 0;
        data += 2;
        size -= 2;
        m = m < size ? m : size;
        now += m;   /* time moves: idle ends and stale challenges happen */
        if (seal && m >= 1 && m <= BW_DEBUG_INNER_MAX) {
            if (debug_client_seal(&c, data[0], data + 1, m - 1, msg, sizeof msg, &len, err, sizeof err) == 0) {
                (void)device(msg, len, answer, now);
            }
        } else {
            (void)device(data, m, answer, now);
        }
        bw_debug_session_poll(now);
        data += m;
        size -= m;
    }
    return 0;
}
