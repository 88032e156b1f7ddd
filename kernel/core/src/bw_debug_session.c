/*
 * The kernel's end of the debug session (bw_debug_session.h, SPEC §21).
 *
 * State: the HELLO rate window, at most one pending challenge (ephemeral
 * key pair, challenge, when) and at most one open session (keys, the last sequence accepted from the
 * CLI, the next one to send, the time of the last accepted record). Inputs
 * are checked completely before any of it changes. The plaintext buffers
 * live here rather than on the secure stack.
 */
#include <string.h>

#include "bw_bytes.h"
#include "bw_debug_session.h"
#include "bw_log.h"
#include "bw_random.h"
#include "p256-m/p256-m.h"

static struct {
    bw_debug_session_hooks hooks;
    char device_id[BW_DEBUG_ID_LEN];
    /* the HELLO rate window (§21.4) */
    bool window_open;
    uint64_t window_at_ms;
    uint32_t window_hellos;
    /* the pending challenge */
    bool pending;
    uint64_t pending_at_ms;
    uint8_t dd[32];
    uint8_t qd[BW_DEBUG_POINT_SIZE];
    uint8_t nd[BW_DEBUG_NONCE_SIZE];
    /* the open session */
    bool open;
    bw_debug_keys keys;
    bool any_in;            /* a record from the CLI was accepted */
    uint64_t last_in;       /* its sequence */
    uint64_t next_out;
    uint64_t last_ms;
    uint8_t inner[BW_DEBUG_INNER_MAX];
    uint8_t reply[BW_DEBUG_INNER_MAX];
    bw_debug_session_counters counters;
} s;

void bw_debug_session_init(const bw_debug_session_hooks *hooks, const char device_id[BW_DEBUG_ID_LEN])
{
    bw_debug_wipe(&s, sizeof s);
    s.hooks = *hooks;
    memcpy(s.device_id, device_id, BW_DEBUG_ID_LEN);
}

bool bw_debug_session_open(void)
{
    return s.open;
}

const bw_debug_session_counters *bw_debug_session_stats(void)
{
    return &s.counters;
}

/* Ends the open session (if any) and tells the monitor. */
static void end_session(const char *why)
{
    if (!s.open) {
        return;
    }
    bw_debug_wipe(&s.keys, sizeof s.keys);
    s.open = false;
    bw_log("debug: session %s", why);
    if (s.hooks.monitor_peer_lost != NULL) {
        s.hooks.monitor_peer_lost();
    }
}

static void drop_challenge(void)
{
    bw_debug_wipe(s.dd, sizeof s.dd);
    s.pending = false;
}

void bw_debug_session_poll(uint64_t now_ms)
{
    if (s.open && now_ms - s.last_ms >= BW_DEBUG_IDLE_MS) {
        s.counters.idle_ends++;
        end_session("ended (idle 30 s)");
    }
    if (s.pending && now_ms - s.pending_at_ms >= BW_DEBUG_CHALLENGE_MS) {
        drop_challenge();
    }
}

/* A two-byte answer: kind and reason. */
static size_t short_answer(uint8_t kind, uint8_t reason, uint8_t *out)
{
    out[0] = kind;
    out[1] = reason;
    return 2;
}

static size_t refuse(uint8_t reason, uint8_t *out)
{
    s.counters.refused++;
    return short_answer(BW_DEBUG_REFUSED, reason, out);
}

/* Counts a HELLO in the rate window; false when it is over the limit. */
static bool hello_allowed(uint64_t now_ms)
{
    if (!s.window_open || now_ms - s.window_at_ms >= BW_DEBUG_HELLO_WINDOW_MS) {
        s.window_open = true;
        s.window_at_ms = now_ms;
        s.window_hellos = 0;
    }
    if (s.window_hellos >= BW_DEBUG_HELLOS_PER_WINDOW) {
        return false;
    }
    s.window_hellos++;
    return true;
}

/* The device certificate, NULL unless it is 1 .. BW_DEBUG_CERT_MAX bytes. */
static const uint8_t *device_certificate(size_t *len)
{
    *len = 0;
    const uint8_t *cert = s.hooks.device_certificate != NULL ? s.hooks.device_certificate(len) : NULL;
    return cert != NULL && *len > 0 && *len <= BW_DEBUG_CERT_MAX ? cert : NULL;
}

static size_t hello(const uint8_t *in, size_t len, uint64_t now_ms, uint8_t *out)
{
    uint8_t key[BW_PUBLIC_KEY_SIZE];
    size_t cert_len = 0;
    if (len != BW_DEBUG_HELLO_SIZE || in[1] != BW_DEBUG_VERSION) {
        return refuse(BW_DEBUG_REFUSED_MALFORMED, out);
    }
    if (!hello_allowed(now_ms)) {
        s.counters.busy++;
        return refuse(BW_DEBUG_REFUSED_BUSY, out);
    }
    if (device_certificate(&cert_len) == NULL) {
        return refuse(BW_DEBUG_REFUSED_NOT_PROVISIONED, out);
    }
    if (!s.hooks.debug_key(key)) {
        return refuse(BW_DEBUG_REFUSED_NOT_DEBUGGABLE, out);
    }
    drop_challenge();
    if (bw_random_bytes(s.nd, sizeof s.nd) != BW_OK || p256_gen_keypair(s.dd, s.qd) != P256_SUCCESS) {
        drop_challenge();
        return refuse(BW_DEBUG_REFUSED_DEVICE_ERROR, out);
    }
    s.pending = true;
    s.pending_at_ms = now_ms;
    out[0] = BW_DEBUG_CHALLENGE;
    memcpy(out + 1, s.qd, BW_DEBUG_POINT_SIZE);
    memcpy(out + 1 + BW_DEBUG_POINT_SIZE, s.nd, BW_DEBUG_NONCE_SIZE);
    return BW_DEBUG_CHALLENGE_SIZE;
}

/* Seals inner[0..len) as the next device record into out; 0 if it cannot. */
static size_t seal_reply(const uint8_t *inner, size_t len, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (bw_debug_seal(&s.keys.to_cli, s.next_out, inner, len, out, cap, &n) != BW_OK) {
        return 0;
    }
    s.next_out++;
    return n;
}

/* OPENED (§21.3) into s.reply: the idle time, the device's signature over
 * the transcript hash and the certificate's first part. Its length, or 0
 * when the device cannot prove itself. */
static size_t opened(const uint8_t transcript[BW_DEBUG_HASH_SIZE])
{
    uint8_t hash[BW_DEBUG_HASH_SIZE];
    size_t cert_len = 0;
    const uint8_t *cert = device_certificate(&cert_len);
    if (cert == NULL || s.hooks.device_sign == NULL || bw_debug_device_hash(transcript, hash) != BW_OK
        || !s.hooks.device_sign(hash, s.reply + 5)) {
        return 0;
    }
    size_t first = cert_len < BW_DEBUG_OPENED_CERT_MAX ? cert_len : BW_DEBUG_OPENED_CERT_MAX;
    s.reply[0] = BW_DEBUG_IN_OPENED;
    bw_put32(s.reply + 1, BW_DEBUG_IDLE_MS);
    bw_put16(s.reply + 5 + BW_DEBUG_SIG_SIZE, (uint32_t)cert_len);
    memcpy(s.reply + BW_DEBUG_OPENED_FIXED, cert, first);
    return BW_DEBUG_OPENED_FIXED + first;
}

static size_t open_session(const uint8_t *in, size_t len, uint64_t now_ms, uint8_t *out, size_t cap)
{
    uint8_t key[BW_PUBLIC_KEY_SIZE], hash[BW_DEBUG_HASH_SIZE], z[32];
    size_t proof = 0;
    if (len != BW_DEBUG_OPEN_SIZE) {
        return refuse(BW_DEBUG_REFUSED_MALFORMED, out);
    }
    if (!s.pending || now_ms - s.pending_at_ms >= BW_DEBUG_CHALLENGE_MS) {
        drop_challenge();
        return refuse(BW_DEBUG_REFUSED_NO_CHALLENGE, out);
    }
    const uint8_t *qc = in + 1;
    const uint8_t *nc = qc + BW_DEBUG_POINT_SIZE;
    const uint8_t *sig = nc + BW_DEBUG_NONCE_SIZE;
    uint8_t dd[32];
    memcpy(dd, s.dd, sizeof dd);   /* the challenge is used up whatever follows */
    drop_challenge();
    size_t answer = 0;
    bw_debug_keys keys;
    if (!s.hooks.debug_key(key) || key[0] != 0x04) {
        answer = refuse(BW_DEBUG_REFUSED_NOT_DEBUGGABLE, out);
    } else if (bw_debug_transcript_hash(s.device_id, s.qd, s.nd, qc, nc, hash) != BW_OK) {
        answer = refuse(BW_DEBUG_REFUSED_DEVICE_ERROR, out);
    } else if (p256_ecdsa_verify(sig, key + 1, hash, sizeof hash) != P256_SUCCESS) {
        answer = refuse(BW_DEBUG_REFUSED_WRONG_KEY, out);
    } else if (p256_ecdh_shared_secret(z, dd, qc) != P256_SUCCESS
               || bw_debug_derive_keys(z, s.nd, nc, hash, &keys) != BW_OK) {
        /* The signature covers Qc, so a bad point here is the CLI's own bug. */
        answer = refuse(BW_DEBUG_REFUSED_MALFORMED, out);
    } else if ((proof = opened(hash)) == 0) {
        answer = refuse(BW_DEBUG_REFUSED_DEVICE_ERROR, out);
    }
    bw_debug_wipe(dd, sizeof dd);
    bw_debug_wipe(z, sizeof z);
    if (answer != 0) {
        bw_debug_wipe(&keys, sizeof keys);
        return answer;
    }
    end_session("replaced by a new one");
    s.keys = keys;
    bw_debug_wipe(&keys, sizeof keys);
    s.open = true;
    s.any_in = false;
    s.next_out = 0;
    s.last_ms = now_ms;
    s.counters.opens++;
    size_t n = seal_reply(s.reply, proof, out, cap);
    if (n == 0) {
        end_session("failed (cannot seal)");
        return refuse(BW_DEBUG_REFUSED_DEVICE_ERROR, out);
    }
    bw_log("debug: session opened");
    return n;
}

/* Acts on an accepted inner message; the reply's inner message goes into
 * s.reply, its length returned (0: malformed, nothing done). *close is set
 * for CLOSE. */
static size_t act(const uint8_t *inner, size_t len, bool *close)
{
    switch (inner[0]) {
    case BW_DEBUG_IN_MONITOR: {
        if (len < 2 || s.hooks.monitor_request == NULL) {
            return 0;   /* no monitor linked: answered DROPPED malformed */
        }
        size_t n = s.hooks.monitor_request(inner + 1, len - 1, s.reply + 1, BW_DEBUG_PACKET_MAX);
        if (n == 0 || n > BW_DEBUG_PACKET_MAX) {
            return 0;
        }
        s.reply[0] = BW_DEBUG_IN_ANSWER;
        return 1 + n;
    }
    case BW_DEBUG_IN_PING:
        if (len > 1 + BW_DEBUG_PING_MAX) {
            return 0;
        }
        s.reply[0] = BW_DEBUG_IN_PONG;
        memcpy(s.reply + 1, inner + 1, len - 1);
        return len;
    case BW_DEBUG_IN_CERT: {
        size_t cert_len = 0;
        const uint8_t *cert = device_certificate(&cert_len);
        size_t offset = len == 3 ? bw_get16(inner + 1) : 0;
        if (cert == NULL || offset == 0 || offset >= cert_len) {
            return 0;
        }
        size_t part = cert_len - offset < BW_DEBUG_CERT_PART_MAX ? cert_len - offset : BW_DEBUG_CERT_PART_MAX;
        s.reply[0] = BW_DEBUG_IN_CERT_PART;
        bw_put16(s.reply + 1, (uint32_t)offset);
        memcpy(s.reply + 3, cert + offset, part);
        return 3 + part;
    }
    case BW_DEBUG_IN_CLOSE:
        if (len != 1) {
            return 0;
        }
        *close = true;
        s.reply[0] = BW_DEBUG_IN_CLOSED;
        return 1;
    default:
        return 0;
    }
}

static size_t drop(uint8_t reason, uint32_t *counter, uint8_t *out)
{
    (*counter)++;
    return short_answer(BW_DEBUG_DROPPED, reason, out);
}

static size_t record(const uint8_t *in, size_t len, uint64_t now_ms, uint8_t *out, size_t cap)
{
    if (!s.open) {
        return drop(BW_DEBUG_DROPPED_NO_SESSION, &s.counters.dropped_malformed, out);
    }
    uint64_t seq = 0;
    size_t n = 0;
    bw_err err = bw_debug_open(&s.keys.to_device, in, len, &seq, s.inner, sizeof s.inner, &n);
    if (err == BW_E_DENIED) {
        return drop(BW_DEBUG_DROPPED_NOT_AUTHENTIC, &s.counters.dropped_auth, out);
    }
    if (err != BW_OK) {
        return drop(BW_DEBUG_DROPPED_MALFORMED, &s.counters.dropped_malformed, out);
    }
    if (s.any_in && seq <= s.last_in) {
        return drop(BW_DEBUG_DROPPED_REPLAY, &s.counters.dropped_replay, out);
    }
    s.any_in = true;
    s.last_in = seq;
    s.last_ms = now_ms;
    bool close = false;
    size_t reply = act(s.inner, n, &close);
    if (reply == 0) {
        return drop(BW_DEBUG_DROPPED_MALFORMED, &s.counters.dropped_malformed, out);
    }
    s.counters.records++;
    size_t sealed = seal_reply(s.reply, reply, out, cap);
    if (close) {
        end_session("closed by the CLI");
    }
    return sealed != 0 ? sealed : short_answer(BW_DEBUG_DROPPED, BW_DEBUG_DROPPED_MALFORMED, out);
}

size_t bw_debug_session_input(const uint8_t *in, size_t len, uint64_t now_ms, uint8_t *out, size_t cap)
{
    if (cap < BW_DEBUG_WIRE_MAX) {
        return 0;
    }
    if (in == NULL || len == 0) {
        return refuse(BW_DEBUG_REFUSED_MALFORMED, out);
    }
    switch (in[0]) {
    case BW_DEBUG_HELLO:
        return hello(in, len, now_ms, out);
    case BW_DEBUG_OPEN:
        return open_session(in, len, now_ms, out, cap);
    case BW_DEBUG_RECORD:
        return record(in, len, now_ms, out, cap);
    default:
        return refuse(BW_DEBUG_REFUSED_MALFORMED, out);
    }
}
