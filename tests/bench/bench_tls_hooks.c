/*
 * Bench-only hooks of bulwark-kernel-benchtls (tests/bench/CMakeLists.txt),
 * for exact TLS handshake and relayed-HTTP figures (tests/bench/bench_tls.py,
 * bench_http_device.py); never in bulwark-kernel. Linked with --wrap of
 * port_entropy, bw_tls_start and
 * bw_tls_poll:
 *
 *  - port_entropy gives fixed bytes, and bw_tls_start seeds the kernel's DRBG
 *    again from them, so the device key, the client random, the ECDHE key
 *    and the signature's nonce are the same every run;
 *  - the handshake runs on a staging stream (bench_stream_send/_recv) instead
 *    of the modem's: what TLS sends is taken whole, and what the server sends
 *    reaches TLS one whole flight at a time (a flight ends with
 *    ServerHelloDone, with the record after a ChangeCipherSpec, or with an
 *    alert), only once TLS has asked for input and found none. While TLS
 *    waits, bw_tls_poll is not called. So TLS sees the same bytes in the same
 *    pieces at the same polls on every run, however the host's bytes arrive.
 *    Bytes move between the staging buffers and the modem outside TLS's
 *    calls; the bench leaves the two staging callbacks out of its count.
 *  - once the handshake is over the stream stays (bench_http_device.py):
 *    what TLS sends is still taken whole, and the server's records reach TLS
 *    one whole record at a time, each only once TLS has asked and found
 *    none. So each record is read in the same pieces by one pass, however
 *    the host's bytes arrive.
 *
 * State: one connection's staging buffers; rx holds [0, rx_len) from the
 * modem, TLS has read [0, rx_read), may read up to rx_released;
 * flights_end is the end of the last whole flight found.
 */
#include <string.h>

#include "bw_port.h"
#include "bw_random.h"
#include "bw_tls.h"

#define STAGE_BYTES 4096u
#define RECORD_HEADER 5u
#define TYPE_CHANGE_CIPHER_SPEC 20u
#define TYPE_ALERT 21u
#define TYPE_HANDSHAKE 22u
#define HANDSHAKE_SERVER_HELLO_DONE 14u

bw_err __real_bw_tls_start(const bw_stream *below, const bw_tls_credentials *creds, uint64_t now_ms);
bw_tls_state __real_bw_tls_poll(uint64_t now_ms);
bw_err __wrap_port_entropy(void *buf, size_t len);
bw_err __wrap_bw_tls_start(const bw_stream *below, const bw_tls_credentials *creds, uint64_t now_ms);
bw_tls_state __wrap_bw_tls_poll(uint64_t now_ms);

static struct {
    const bw_stream *below;
    bool staging;                 /* the handshake is on */
    bool open;                    /* the handshake is over: records one at a time */
    bool starved;                 /* TLS asked for input and found none */
    int32_t below_end;            /* BW_STREAM_CLOSED/FAILED once the modem stream ended, else 0 */
    uint8_t rx[STAGE_BYTES];
    size_t rx_len, rx_read, rx_released, scanned, flights_end;
    uint8_t last_type;            /* of the record before `scanned` */
    uint8_t tx[STAGE_BYTES];
    size_t tx_len, tx_sent;
} st;

/* Fixed "entropy": the same bytes on every call (bench only). */
bw_err __wrap_port_entropy(void *buf, size_t len)
{
    uint8_t *out = buf;
    for (size_t i = 0; i < len; i++) {
        out[i] = (uint8_t)(i * 13u + 5u);
    }
    return BW_OK;
}

/* True if the handshake record body [at, at+len) holds a ServerHelloDone. */
static bool holds_server_hello_done(size_t at, size_t len)
{
    for (size_t p = at; p + 4u <= at + len;) {
        if (st.rx[p] == HANDSHAKE_SERVER_HELLO_DONE) {
            return true;
        }
        p += 4u + ((size_t)st.rx[p + 1] << 16 | (size_t)st.rx[p + 2] << 8 | st.rx[p + 3]);
    }
    return false;
}

/* Moves `scanned` over the whole records staged, noting where flights end. */
static void scan_records(void)
{
    while (st.scanned + RECORD_HEADER <= st.rx_len) {
        uint8_t type = st.rx[st.scanned];
        size_t len = (size_t)st.rx[st.scanned + 3] << 8 | st.rx[st.scanned + 4];
        size_t end = st.scanned + RECORD_HEADER + len;
        if (end > st.rx_len) {
            return;
        }
        bool encrypted = st.last_type == TYPE_CHANGE_CIPHER_SPEC;
        if (type == TYPE_ALERT || type != TYPE_HANDSHAKE || encrypted ||
            holds_server_hello_done(st.scanned + RECORD_HEADER, len)) {
            if (type != TYPE_CHANGE_CIPHER_SPEC) {
                st.flights_end = end;
            }
        }
        st.last_type = type;
        st.scanned = end;
    }
}

/* Drops the bytes TLS has read from the front of rx. */
static void compact_rx(void)
{
    size_t gone = st.rx_read;
    memmove(st.rx, st.rx + gone, st.rx_len - gone);
    st.rx_len -= gone;
    st.rx_released -= gone;
    st.scanned = st.scanned > gone ? st.scanned - gone : 0;
    st.flights_end = st.flights_end > gone ? st.flights_end - gone : 0;
    st.rx_read = 0;
}

/* The end of the whole record staged right after what TLS may read, or
 * rx_released if that record is not all here yet. */
static size_t next_record_end(void)
{
    size_t at = st.rx_released;
    if (at + RECORD_HEADER > st.rx_len) {
        return at;
    }
    size_t end = at + RECORD_HEADER + ((size_t)st.rx[at + 3] << 8 | st.rx[at + 4]);
    return end <= st.rx_len ? end : at;
}

/* Flushes staged output and stages input, outside TLS's calls. */
static void move_bytes(void)
{
    if (st.rx_read > 0) {
        compact_rx();
    }
    while (st.below_end == 0 && st.tx_sent < st.tx_len) {
        int32_t n = st.below->send(st.below->ctx, st.tx + st.tx_sent, st.tx_len - st.tx_sent);
        if (n <= 0) {
            st.below_end = n < 0 ? n : 0;
            break;
        }
        st.tx_sent += (size_t)n;
    }
    memmove(st.tx, st.tx + st.tx_sent, st.tx_len - st.tx_sent);   /* room for TLS's next record */
    st.tx_len -= st.tx_sent;
    st.tx_sent = 0;
    while (st.below_end == 0 && st.rx_len < sizeof st.rx) {
        int32_t n = st.below->recv(st.below->ctx, st.rx + st.rx_len, sizeof st.rx - st.rx_len);
        if (n <= 0) {
            st.below_end = n < 0 ? n : 0;
            break;
        }
        st.rx_len += (size_t)n;
    }
    scan_records();
    if (st.below_end != 0 || (!st.staging && !st.open)) {
        st.rx_released = st.rx_len;
    } else if (st.starved && st.open) {
        st.rx_released = next_record_end();
    } else if (st.starved && st.flights_end > st.rx_released) {
        st.rx_released = st.flights_end;
    }
    if (st.rx_released > st.rx_read) {
        st.starved = false;
    }
}

static int32_t bench_stream_send(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    if (!st.staging && !st.open && st.tx_len == 0) {
        return st.below->send(st.below->ctx, data, len);
    }
    if (st.below_end != 0) {
        return st.below_end;
    }
    if (len > sizeof st.tx - st.tx_len) {
        return 0;
    }
    memcpy(st.tx + st.tx_len, data, len);
    st.tx_len += len;
    return (int32_t)len;
}

static int32_t bench_stream_recv(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    if (!st.staging && !st.open) {
        st.rx_released = st.rx_len;
    }
    size_t ready = st.rx_released - st.rx_read;
    if (ready == 0) {
        if (!st.staging && !st.open) {
            return st.below->recv(st.below->ctx, buf, len);
        }
        st.starved = true;
        return st.below_end;
    }
    size_t n = len < ready ? len : ready;
    memcpy(buf, st.rx + st.rx_read, n);
    st.rx_read += n;
    return (int32_t)n;
}

static const bw_stream bench_stream = { NULL, bench_stream_send, bench_stream_recv };

bw_err __wrap_bw_tls_start(const bw_stream *below, const bw_tls_credentials *creds, uint64_t now_ms)
{
    memset(&st, 0, sizeof st);
    st.below = below;
    /* The DRBG afresh from the fixed entropy: how much the app and the
     * kernel drew before (handles, backoff, provisioning) follows the host's
     * timing; the handshake's own draws then do not. */
    (void)bw_random_init();
    bw_err err = __real_bw_tls_start(&bench_stream, creds, now_ms);
    /* After the call, never a tail call: the bench counts bw_tls_start until
     * this wrapper runs again. */
    st.staging = err == BW_OK;
    return err;
}

bw_tls_state __wrap_bw_tls_poll(uint64_t now_ms)
{
    if (st.below != NULL) {
        move_bytes();
    }
    if (st.staging && st.starved && st.below_end == 0) {
        return BW_TLS_HANDSHAKING;   /* TLS waits for the next whole flight */
    }
    bw_tls_state state = __real_bw_tls_poll(now_ms);
    st.staging = state == BW_TLS_HANDSHAKING;
    st.open = state == BW_TLS_OPEN;
    if (st.below != NULL) {
        move_bytes();
    }
    return state;
}
