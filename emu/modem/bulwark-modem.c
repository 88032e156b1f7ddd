/*
 * bulwark-modem: a cellular modem for emulation. It speaks the subset of the
 * Quectel BG96's AT commands that the kernel's driver uses (docs/SPEC.md §11)
 * to one UART client (QEMU's UART2 chardev connects to it as a TCP client)
 * and carries the socket's bytes over real TCP connections, to loopback
 * addresses only. Faults for tests (drop at byte N, drop now, stall,
 * corrupt a byte, throttle, network lost/back) come from the command line
 * and from a control socket; `stats` (and SIGTERM) report the bytes moved.
 *
 * One thread, one poll(2) loop, no busy waiting: the poll timeout is the
 * nearest of a stall's end and the throttle's next token. One TCP socket at
 * a time (connect IDs 0-11 are accepted). "Up" is device to network (bytes
 * written to the TCP peer), "down" network to device (bytes read from it).
 * Usage: see usage() and docs/SPEC.md §11.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SEND_MAX       1460u     /* AT+QISEND limit (BG96) */
#define READ_MAX       1500u     /* AT+QIRD limit (BG96) */
#define UP_BUFFER      16384u    /* unsent bytes the module holds; beyond: SEND FAIL */
#define DOWN_BUFFER    65536u    /* received bytes held for AT+QIRD; beyond: TCP backpressure */
#define UART_OUT_MAX   (256u * 1024u)
#define LINE_MAX_LEN   512u
#define CONTROL_MAX    8
#define CONNECT_IDS    12u
#define UP 0
#define DOWN 1

enum conn_state { CONN_NONE, CONN_CONNECTING, CONN_OPEN, CONN_CLOSED };

static struct {
    /* sockets */
    int uart_listen, uart, control_listen, wake[2];
    int control[CONTROL_MAX];
    char control_line[CONTROL_MAX][LINE_MAX_LEN];
    size_t control_len[CONTROL_MAX];

    /* the module */
    bool echo;
    int cmee, cereg_mode;
    bool pdp_active, network_lost;
    char line[LINE_MAX_LEN];
    size_t line_len;
    bool line_overflow;
    uint32_t data_left;            /* bytes of an AT+QISEND still to come */
    uint32_t data_len;
    uint8_t data[SEND_MAX];
    uint8_t out[UART_OUT_MAX];
    size_t out_len;

    /* the one TCP connection */
    enum conn_state conn;
    int conn_fd;
    unsigned conn_id;
    uint8_t up[UP_BUFFER];
    size_t up_len;
    uint8_t down[DOWN_BUFFER];
    size_t down_len;
    bool recv_reported;            /* "recv" URC sent since the buffer was last read empty */
    uint64_t conn_bytes[2];

    /* faults: offsets count from the first byte of the connection they apply to */
    int64_t drop_at[2], corrupt_at[2];
    uint64_t stall_until, stall_ms_first;
    uint32_t throttle;             /* bytes/s each way; 0: none */
    double tokens[2];
    double refilled_at;            /* seconds, monotonic */

    /* stats */
    uint64_t bytes[2], uart_in, uart_out, connections, drops, corruptions, stalls, refused;
} s;

static volatile sig_atomic_t stopping;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bulwark-modem: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        die("fcntl");
    }
}

/* ---- the UART side ---- */

static void emit_bytes(const void *data, size_t len)
{
    if (len > UART_OUT_MAX - s.out_len) {
        fprintf(stderr, "bulwark-modem: UART output full, %zu bytes lost\n", len);
        return;
    }
    memcpy(s.out + s.out_len, data, len);
    s.out_len += len;
}

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
    char text[LINE_MAX_LEN];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n > 0) {
        emit_bytes(text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1u);
    }
}

static void result_error(unsigned code)
{
    if (s.cmee > 0) {
        emit("\r\n+CME ERROR: %u\r\n", code);
    } else {
        emit("\r\nERROR\r\n");
    }
}

static void conn_forget(void)
{
    if (s.conn == CONN_OPEN || s.conn == CONN_CLOSED) {
        /* One line per connection, for tests that account for every byte. */
        fprintf(stderr, "bulwark-modem: connection %" PRIu64 " ended: up %" PRIu64 ", down %" PRIu64
                " bytes, %zu received and never read\n", s.connections, s.conn_bytes[UP], s.conn_bytes[DOWN],
                s.down_len);
    }
    if (s.conn_fd >= 0) {
        close(s.conn_fd);
    }
    s.conn_fd = -1;
    s.conn = CONN_NONE;
    s.up_len = s.down_len = 0;
    s.recv_reported = false;
}

/* The TCP side ended (peer, fault or error): the module keeps the ID and the
 * unread bytes until AT+QICLOSE, and says so. */
static void conn_closed(void)
{
    if (s.conn_fd >= 0) {
        close(s.conn_fd);
        s.conn_fd = -1;
    }
    s.conn = CONN_CLOSED;
    s.up_len = 0;
    emit("\r\n+QIURC: \"closed\",%u\r\n", s.conn_id);
}

static void module_reset(void)
{
    conn_forget();
    s.echo = true;
    s.cmee = 0;
    s.cereg_mode = 0;
    s.pdp_active = false;
    s.line_len = 0;
    s.line_overflow = false;
    s.data_left = 0;
    s.out_len = 0;
}

static bool parse_uint(const char **p, uint64_t max, uint64_t *out)
{
    const char *q = *p;
    uint64_t v = 0;
    if (!isdigit((unsigned char)*q)) {
        return false;
    }
    while (isdigit((unsigned char)*q)) {
        v = v * 10u + (uint64_t)(*q - '0');
        if (v > max) {
            return false;
        }
        q++;
    }
    *p = q;
    *out = v;
    return true;
}

static bool parse_quoted(const char **p, char *out, size_t cap)
{
    const char *q = *p;
    if (*q++ != '"') {
        return false;
    }
    size_t n = 0;
    while (*q && *q != '"') {
        if (n + 1 >= cap) {
            return false;
        }
        out[n++] = *q++;
    }
    if (*q++ != '"') {
        return false;
    }
    out[n] = '\0';
    *p = q;
    return true;
}

/* 0: loopback, connect to *addr; else the module's +QIOPEN error. */
static unsigned resolve(const char *host, struct in_addr *addr)
{
    if (strcmp(host, "localhost") == 0) {
        addr->s_addr = htonl(INADDR_LOOPBACK);
        return 0;
    }
    if (inet_pton(AF_INET, host, addr) != 1) {
        return 565;   /* DNS parse failed: the emulator resolves no names */
    }
    if ((ntohl(addr->s_addr) >> 24) != 127u) {
        return 566;   /* socket connect failed: only loopback is reachable */
    }
    return 0;
}

static void at_qiopen(const char *args)
{
    uint64_t ctx, id, port, local_port = 0, mode = 0;
    char service[8], host[128];
    const char *p = args;
    if (!parse_uint(&p, 16, &ctx) || *p++ != ',' || !parse_uint(&p, CONNECT_IDS - 1u, &id)
        || *p++ != ',' || !parse_quoted(&p, service, sizeof service) || *p++ != ','
        || !parse_quoted(&p, host, sizeof host) || *p++ != ',' || !parse_uint(&p, 65535, &port)) {
        result_error(552);
        return;
    }
    if (*p == ',' && (p++, !parse_uint(&p, 65535, &local_port))) {
        result_error(552);
        return;
    }
    if (*p == ',' && (p++, !parse_uint(&p, 2, &mode))) {
        result_error(552);
        return;
    }
    if (*p != '\0' || ctx != 1 || strcmp(service, "TCP") != 0 || mode != 0 || port == 0) {
        result_error(*p == '\0' && (strcmp(service, "TCP") != 0 || mode != 0) ? 555 : 552);
        return;
    }
    emit("\r\nOK\r\n");
    unsigned err = 0;
    struct in_addr addr;
    if (s.conn != CONN_NONE) {
        err = s.conn_id == id ? 563 : 553;   /* ID in use; the emulator has one socket */
    } else if (s.network_lost || !s.pdp_active) {
        err = 561;   /* open PDP context failed */
    } else {
        err = resolve(host, &addr);
    }
    if (err == 0) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                  .sin_addr = addr };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = 554;
        } else if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
            close(fd);
            err = 566;
        } else {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            s.conn_fd = fd;
            s.conn = CONN_CONNECTING;
            s.conn_id = (unsigned)id;
            return;   /* the URC comes when the connect completes */
        }
    }
    if (err == 565 || err == 566) {
        s.refused++;
    }
    emit("\r\n+QIOPEN: %u,%u\r\n", (unsigned)id, err);
}

static void at_qisend(const char *args)
{
    uint64_t id, len;
    const char *p = args;
    if (!parse_uint(&p, CONNECT_IDS - 1u, &id) || *p++ != ',' || !parse_uint(&p, SEND_MAX, &len)
        || *p != '\0' || len == 0) {
        result_error(552);
        return;
    }
    if (s.conn != CONN_OPEN || s.conn_id != id) {
        emit("\r\nERROR\r\n");   /* no such connection (or it closed) */
        return;
    }
    emit("\r\n> ");
    s.data_left = s.data_len = (uint32_t)len;
}

static void send_data_done(void)
{
    if (s.conn != CONN_OPEN) {
        emit("\r\nERROR\r\n");
    } else if (s.data_len > UP_BUFFER - s.up_len) {
        emit("\r\nSEND FAIL\r\n");
    } else {
        memcpy(s.up + s.up_len, s.data, s.data_len);
        s.up_len += s.data_len;
        emit("\r\nSEND OK\r\n");
    }
}

static void at_qird(const char *args)
{
    uint64_t id, len;
    const char *p = args;
    if (!parse_uint(&p, CONNECT_IDS - 1u, &id) || *p++ != ',' || !parse_uint(&p, READ_MAX, &len)
        || *p != '\0' || len == 0) {
        result_error(552);
        return;
    }
    if (s.conn == CONN_NONE || s.conn == CONN_CONNECTING || s.conn_id != id) {
        emit("\r\nERROR\r\n");
        return;
    }
    size_t n = s.down_len < len ? s.down_len : (size_t)len;
    emit("\r\n+QIRD: %zu\r\n", n);
    emit_bytes(s.down, n);
    memmove(s.down, s.down + n, s.down_len - n);
    s.down_len -= n;
    if (s.down_len == 0) {
        s.recv_reported = false;   /* the next arrival is reported again */
    }
    emit(n > 0 ? "\r\n\r\nOK\r\n" : "\r\nOK\r\n");
}

static void at_command(const char *cmd)
{
    uint64_t v;
    const char *p;
    if (strcmp(cmd, "AT") == 0) {
        emit("\r\nOK\r\n");
    } else if (strcmp(cmd, "ATE0") == 0 || strcmp(cmd, "ATE1") == 0) {
        s.echo = cmd[3] == '1';
        emit("\r\nOK\r\n");
    } else if (strncmp(cmd, "AT+CMEE=", 8) == 0 && (p = cmd + 8, parse_uint(&p, 2, &v)) && !*p) {
        s.cmee = (int)v;
        emit("\r\nOK\r\n");
    } else if (strncmp(cmd, "AT+CEREG=", 9) == 0 && (p = cmd + 9, parse_uint(&p, 2, &v)) && !*p) {
        s.cereg_mode = (int)v;
        emit("\r\nOK\r\n");
    } else if (strcmp(cmd, "AT+CEREG?") == 0) {
        emit("\r\n+CEREG: %d,%d\r\n\r\nOK\r\n", s.cereg_mode, s.network_lost ? 0 : 1);
    } else if (strcmp(cmd, "AT+QIACT?") == 0) {
        if (s.pdp_active) {
            emit("\r\n+QIACT: 1,1,1,\"10.0.0.2\"\r\n");
        }
        emit("\r\nOK\r\n");
    } else if (strcmp(cmd, "AT+QIACT=1") == 0) {
        if (s.network_lost) {
            emit("\r\nERROR\r\n");
        } else {
            s.pdp_active = true;
            emit("\r\nOK\r\n");
        }
    } else if (strncmp(cmd, "AT+QIOPEN=", 10) == 0) {
        at_qiopen(cmd + 10);
    } else if (strncmp(cmd, "AT+QISEND=", 10) == 0) {
        at_qisend(cmd + 10);
    } else if (strncmp(cmd, "AT+QIRD=", 8) == 0) {
        at_qird(cmd + 8);
    } else if (strncmp(cmd, "AT+QICLOSE=", 11) == 0 && (p = cmd + 11, parse_uint(&p, CONNECT_IDS - 1u, &v))
               && (*p == '\0' || (*p == ',' && (p++, parse_uint(&p, 65535, &v)) && !*p))) {
        unsigned id = (unsigned)strtoul(cmd + 11, NULL, 10);
        if (s.conn != CONN_NONE && s.conn_id == id) {
            conn_forget();
        }
        emit("\r\nOK\r\n");
    } else {
        emit("\r\nERROR\r\n");
    }
}

static void uart_byte(uint8_t byte)
{
    if (s.data_left > 0) {
        s.data[s.data_len - s.data_left] = byte;
        if (--s.data_left == 0) {
            send_data_done();
        }
        return;
    }
    if (s.echo) {
        emit_bytes(&byte, 1);
    }
    if (byte == '\n') {
        return;
    }
    if (byte != '\r') {
        if (s.line_len + 1u < sizeof s.line) {
            s.line[s.line_len++] = (char)byte;
        } else {
            s.line_overflow = true;
        }
        return;
    }
    s.line[s.line_len] = '\0';
    bool overflow = s.line_overflow;
    size_t len = s.line_len;
    s.line_len = 0;
    s.line_overflow = false;
    if (len == 0) {
        return;
    }
    if (overflow) {
        emit("\r\nERROR\r\n");
        return;
    }
    at_command(s.line);
}

/* ---- faults ---- */

static void drop_connection(void)
{
    s.drops++;
    conn_closed();
}

static void network_lost(void)
{
    if (s.network_lost) {
        return;
    }
    s.network_lost = true;
    if (s.cereg_mode > 0) {
        emit("\r\n+CEREG: 0\r\n");
    }
    if (s.pdp_active) {
        s.pdp_active = false;
        emit("\r\n+QIURC: \"pdpdeact\",1\r\n");
    }
    conn_forget();   /* the context took every socket with it */
}

static void network_back(void)
{
    if (!s.network_lost) {
        return;
    }
    s.network_lost = false;
    if (s.cereg_mode > 0) {
        emit("\r\n+CEREG: 1\r\n");
    }
}

static void refill(void)
{
    double t = now_s();
    double dt = t - s.refilled_at;
    s.refilled_at = t;
    if (s.throttle == 0) {
        return;
    }
    double cap = s.throttle / 20.0 > 1.0 ? s.throttle / 20.0 : 1.0;   /* 50 ms of burst */
    for (int d = 0; d < 2; d++) {
        s.tokens[d] += dt * s.throttle;
        if (s.tokens[d] > cap) {
            s.tokens[d] = cap;
        }
    }
}

/* How many bytes direction d may move now, given throttle and drop point. */
static size_t allowance(int d, size_t want)
{
    if (s.throttle != 0 && s.tokens[d] < (double)want) {
        want = (size_t)s.tokens[d];
    }
    if (s.drop_at[d] >= 0 && (uint64_t)s.drop_at[d] >= s.conn_bytes[d]
        && (uint64_t)s.drop_at[d] - s.conn_bytes[d] < want) {
        want = (size_t)((uint64_t)s.drop_at[d] - s.conn_bytes[d]);
    }
    return want;
}

/* Flips the armed byte if it lies among the n bytes at bytes, which are the
 * connection's next bytes in direction d. In place: an unsent byte stays
 * flipped in the queue until it goes. */
static void corrupt_span(int d, uint8_t *bytes, size_t n)
{
    uint64_t first = s.conn_bytes[d];
    if (s.corrupt_at[d] >= 0 && (uint64_t)s.corrupt_at[d] >= first
        && (uint64_t)s.corrupt_at[d] < first + n) {
        bytes[(uint64_t)s.corrupt_at[d] - first] ^= 0x01u;
        s.corrupt_at[d] = -1;
        s.corruptions++;
    }
}

/* Counts n bytes that moved in direction d, then drops the connection if
 * its drop point is reached. */
static void moved(int d, size_t n)
{
    s.conn_bytes[d] += n;
    s.bytes[d] += n;
    if (s.throttle != 0) {
        s.tokens[d] -= (double)n;
    }
    if (s.drop_at[d] >= 0 && s.conn_bytes[d] >= (uint64_t)s.drop_at[d]) {
        s.drop_at[d] = -1;
        drop_connection();
    }
}

static bool stalled(void)
{
    return now_ms() < s.stall_until;
}

static void stall(uint64_t ms)
{
    s.stall_until = now_ms() + ms;
    s.stalls++;
}

/* ---- the TCP side ---- */

static void conn_connected(void)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s.conn_fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
        conn_forget();
        s.refused++;
        emit("\r\n+QIOPEN: %u,566\r\n", s.conn_id);
        return;
    }
    s.conn = CONN_OPEN;
    s.connections++;
    s.conn_bytes[UP] = s.conn_bytes[DOWN] = 0;
    if (s.stall_ms_first > 0) {
        stall(s.stall_ms_first);   /* --stall: the first connection starts stalled */
        s.stall_ms_first = 0;
    }
    emit("\r\n+QIOPEN: %u,0\r\n", s.conn_id);
}

static void conn_up(void)
{
    size_t n = allowance(UP, s.up_len);
    if (n == 0) {
        if (s.drop_at[UP] >= 0 && (uint64_t)s.drop_at[UP] <= s.conn_bytes[UP]) {
            s.drop_at[UP] = -1;
            drop_connection();   /* armed at or below what already went */
        }
        return;
    }
    corrupt_span(UP, s.up, n);
    ssize_t w = send(s.conn_fd, s.up, n, MSG_NOSIGNAL);
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            conn_closed();
        }
        return;
    }
    memmove(s.up, s.up + w, s.up_len - (size_t)w);
    s.up_len -= (size_t)w;
    moved(UP, (size_t)w);
}

static void conn_down(void)
{
    size_t space = DOWN_BUFFER - s.down_len;
    size_t n = allowance(DOWN, space);
    if (n == 0) {
        if (s.drop_at[DOWN] >= 0 && (uint64_t)s.drop_at[DOWN] <= s.conn_bytes[DOWN]) {
            s.drop_at[DOWN] = -1;
            drop_connection();
        }
        return;
    }
    ssize_t r = recv(s.conn_fd, s.down + s.down_len, n, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return;
    }
    if (r <= 0) {
        conn_closed();   /* the peer closed (or reset) */
        return;
    }
    corrupt_span(DOWN, s.down + s.down_len, (size_t)r);
    s.down_len += (size_t)r;
    if (!s.recv_reported) {
        s.recv_reported = true;
        emit("\r\n+QIURC: \"recv\",%u\r\n", s.conn_id);
    }
    moved(DOWN, (size_t)r);
}

/* ---- control ---- */

static void stats_json(char *out, size_t cap)
{
    snprintf(out, cap,
             "{\"up_bytes\":%" PRIu64 ",\"down_bytes\":%" PRIu64 ",\"conn_up_bytes\":%" PRIu64
             ",\"conn_down_bytes\":%" PRIu64 ",\"connections\":%" PRIu64 ",\"drops\":%" PRIu64
             ",\"corruptions\":%" PRIu64 ",\"stalls\":%" PRIu64 ",\"refused\":%" PRIu64
             ",\"uart_in\":%" PRIu64 ",\"uart_out\":%" PRIu64 ",\"throttle\":%u"
             ",\"network\":\"%s\",\"socket\":\"%s\"}",
             s.bytes[UP], s.bytes[DOWN], s.conn_bytes[UP], s.conn_bytes[DOWN], s.connections,
             s.drops, s.corruptions, s.stalls, s.refused, s.uart_in, s.uart_out, s.throttle,
             s.network_lost ? "lost" : "up",
             s.conn == CONN_OPEN ? "open" : s.conn == CONN_CONNECTING ? "connecting"
             : s.conn == CONN_CLOSED ? "closed" : "none");
}

static int direction(const char *word)
{
    return strcmp(word, "up") == 0 ? UP : strcmp(word, "down") == 0 ? DOWN : -1;
}

/* Runs one control line; writes its one-line answer (no newline) to out. */
static void control_command(char *line, char *out, size_t cap)
{
    char verb[16] = "", arg1[16] = "", extra[2] = "";
    unsigned long long n = 0;
    int fields = sscanf(line, "%15s %15s %llu %1s", verb, arg1, &n, extra);
    int d = direction(arg1);
    /* "+N": N bytes past what the open connection has moved that way so far. */
    const char *plus = strchr(line, '+');
    uint64_t relative = plus != NULL && d >= 0 && s.conn == CONN_OPEN ? s.conn_bytes[d] : 0;
    snprintf(out, cap, "ok");
    if (fields == 1 && strcmp(verb, "stats") == 0) {
        stats_json(out, cap);
    } else if (fields == 2 && strcmp(verb, "drop") == 0 && strcmp(arg1, "now") == 0) {
        if (s.conn == CONN_OPEN) {
            drop_connection();
        } else {
            snprintf(out, cap, "error no open connection");
        }
    } else if (fields == 3 && d >= 0 && strcmp(verb, "drop") == 0) {
        s.drop_at[d] = (int64_t)(n + relative);
    } else if (fields == 3 && d >= 0 && strcmp(verb, "corrupt") == 0) {
        s.corrupt_at[d] = (int64_t)(n + relative);
    } else if (sscanf(line, "stall %llu %1s", &n, extra) == 1) {
        stall(n);
    } else if (sscanf(line, "throttle %llu %1s", &n, extra) == 1 && n <= UINT32_MAX) {
        s.throttle = (uint32_t)n;
        s.tokens[UP] = s.tokens[DOWN] = 0;
        s.refilled_at = now_s();
    } else if (fields == 2 && strcmp(verb, "network") == 0 && strcmp(arg1, "lost") == 0) {
        network_lost();
    } else if (fields == 2 && strcmp(verb, "network") == 0 && strcmp(arg1, "back") == 0) {
        network_back();
    } else {
        snprintf(out, cap, "error unknown command");
    }
}

static void control_input(int i)
{
    char buf[512];
    ssize_t r = recv(s.control[i], buf, sizeof buf, 0);
    if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }
        close(s.control[i]);
        s.control[i] = -1;
        return;
    }
    for (ssize_t k = 0; k < r; k++) {
        char c = buf[k];
        if (c != '\n') {
            if (c != '\r' && s.control_len[i] + 1u < LINE_MAX_LEN) {
                s.control_line[i][s.control_len[i]++] = c;
            }
            continue;
        }
        s.control_line[i][s.control_len[i]] = '\0';
        s.control_len[i] = 0;
        char answer[1024];
        control_command(s.control_line[i], answer, sizeof answer - 1u);
        size_t len = strlen(answer);
        answer[len++] = '\n';
        /* Answers are short; a blocking write of one line is bounded. */
        if (send(s.control[i], answer, len, MSG_NOSIGNAL) != (ssize_t)len) {
            close(s.control[i]);
            s.control[i] = -1;
            return;
        }
    }
}

/* ---- main loop ---- */

static int listen_on(unsigned port, unsigned *bound)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        die("socket");
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0) {
        die("bind/listen on 127.0.0.1");
    }
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &len);
    *bound = ntohs(sa.sin_port);
    nonblocking(fd);
    return fd;
}

static void accept_uart(void)
{
    int fd = accept4(s.uart_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        return;
    }
    if (s.uart >= 0) {
        close(s.uart);   /* a new QEMU (or a reconnect) replaces the old peer */
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    s.uart = fd;
    module_reset();
    emit("\r\nRDY\r\n");
}

static void uart_input(void)
{
    uint8_t buf[4096];
    ssize_t r = recv(s.uart, buf, sizeof buf, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (r <= 0) {
        close(s.uart);
        s.uart = -1;
        module_reset();   /* the device went away: so does its modem's state */
        return;
    }
    s.uart_in += (uint64_t)r;
    for (ssize_t i = 0; i < r; i++) {
        uart_byte(buf[i]);
    }
}

static void uart_output(void)
{
    ssize_t w = send(s.uart, s.out, s.out_len, MSG_NOSIGNAL);
    if (w > 0) {
        memmove(s.out, s.out + w, s.out_len - (size_t)w);
        s.out_len -= (size_t)w;
        s.uart_out += (uint64_t)w;
    }
}

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
    char c = 0;
    ssize_t ignored = write(s.wake[1], &c, 1);
    (void)ignored;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bulwark-modem --listen PORT [--control-port PORT] [--drop-up N] [--drop-down N]\n"
            "                     [--corrupt-up N] [--corrupt-down N] [--stall MS] [--throttle BYTES_PER_S]\n"
            "                     [--network-lost]\n"
            "PORT 0 picks a free port; stdout's first lines say which: \"listening P\", \"control P\".\n"
            "Control lines: drop up|down [+]N, drop now, corrupt up|down [+]N (+N: N bytes from now),\n"
            "stall MS, throttle R,\n"
            "network lost|back, stats. docs/SPEC.md section 11.\n");
    exit(2);
}

static uint64_t option_number(const char *text)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || text[0] == '-' || text[0] == '\0') {
        usage();
    }
    return v;
}

int main(int argc, char **argv)
{
    long listen_port = -1, control_port = -1;
    s.uart = s.control_listen = s.conn_fd = -1;
    s.drop_at[UP] = s.drop_at[DOWN] = s.corrupt_at[UP] = s.corrupt_at[DOWN] = -1;
    for (int i = 0; i < CONTROL_MAX; i++) {
        s.control[i] = -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--network-lost") == 0) {
            s.network_lost = true;
            continue;
        }
        if (i + 1 >= argc) {
            usage();
        }
        uint64_t v = option_number(argv[++i]);
        if (strcmp(opt, "--listen") == 0 && v <= 65535) {
            listen_port = (long)v;
        } else if (strcmp(opt, "--control-port") == 0 && v <= 65535) {
            control_port = (long)v;
        } else if (strcmp(opt, "--drop-up") == 0) {
            s.drop_at[UP] = (int64_t)v;
        } else if (strcmp(opt, "--drop-down") == 0) {
            s.drop_at[DOWN] = (int64_t)v;
        } else if (strcmp(opt, "--corrupt-up") == 0) {
            s.corrupt_at[UP] = (int64_t)v;
        } else if (strcmp(opt, "--corrupt-down") == 0) {
            s.corrupt_at[DOWN] = (int64_t)v;
        } else if (strcmp(opt, "--stall") == 0) {
            s.stall_ms_first = v;
        } else if (strcmp(opt, "--throttle") == 0 && v <= UINT32_MAX) {
            s.throttle = (uint32_t)v;
        } else {
            usage();
        }
    }
    if (listen_port < 0) {
        usage();
    }
    unsigned bound;
    s.uart_listen = listen_on((unsigned)listen_port, &bound);
    printf("listening %u\n", bound);
    if (control_port >= 0) {
        s.control_listen = listen_on((unsigned)control_port, &bound);
        printf("control %u\n", bound);
    }
    fflush(stdout);
    if (pipe2(s.wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        die("pipe");
    }
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    module_reset();
    s.refilled_at = now_s();

    while (!stopping) {
        struct pollfd fds[6 + CONTROL_MAX];
        int n = 0;
        int i_wake = n, i_ul = -1, i_uart = -1, i_cl = -1, i_conn = -1;
        fds[n++] = (struct pollfd){ .fd = s.wake[0], .events = POLLIN };
        i_ul = n;
        fds[n++] = (struct pollfd){ .fd = s.uart_listen, .events = POLLIN };
        if (s.uart >= 0) {
            i_uart = n;
            fds[n++] = (struct pollfd){ .fd = s.uart, .events = POLLIN | (s.out_len ? POLLOUT : 0) };
        }
        if (s.control_listen >= 0) {
            i_cl = n;
            fds[n++] = (struct pollfd){ .fd = s.control_listen, .events = POLLIN };
        }
        int i_control = n;
        for (int i = 0; i < CONTROL_MAX; i++) {
            fds[n++] = (struct pollfd){ .fd = s.control[i], .events = POLLIN };
        }
        int timeout = -1;
        refill();
        bool stall_now = stalled();
        if (s.conn_fd >= 0 && !stall_now) {
            short events = 0;
            if (s.conn == CONN_CONNECTING) {
                events = POLLOUT;
            } else if (s.conn == CONN_OPEN) {
                bool can_up = s.throttle == 0 || s.tokens[UP] >= 1.0;
                bool can_down = s.throttle == 0 || s.tokens[DOWN] >= 1.0;
                if (s.up_len > 0 && can_up) {
                    events |= POLLOUT;
                }
                if (s.down_len < DOWN_BUFFER && can_down) {
                    events |= POLLIN;
                }
                if ((s.up_len > 0 && !can_up) || (s.down_len < DOWN_BUFFER && !can_down)) {
                    timeout = (int)(1000.0 / s.throttle) + 1;   /* until the next token */
                }
            }
            i_conn = n;
            fds[n++] = (struct pollfd){ .fd = s.conn_fd, .events = events };
        } else if (s.conn_fd >= 0 && stall_now) {
            timeout = (int)(s.stall_until - now_ms()) + 1;
        }
        if (poll(fds, (nfds_t)n, timeout) < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("poll");
        }
        if (fds[i_wake].revents) {
            break;
        }
        if (fds[i_ul].revents & POLLIN) {
            accept_uart();
        }
        if (i_cl >= 0 && (fds[i_cl].revents & POLLIN)) {
            int fd = accept4(s.control_listen, NULL, NULL, SOCK_CLOEXEC);
            for (int i = 0; fd >= 0 && i <= CONTROL_MAX; i++) {
                if (i == CONTROL_MAX) {
                    close(fd);   /* too many control clients */
                } else if (s.control[i] < 0) {
                    s.control[i] = fd;
                    s.control_len[i] = 0;
                    break;
                }
            }
        }
        for (int i = 0; i < CONTROL_MAX; i++) {
            if (s.control[i] >= 0 && fds[i_control + i].fd == s.control[i]
                && (fds[i_control + i].revents & (POLLIN | POLLHUP | POLLERR))) {
                control_input(i);
            }
        }
        if (i_conn >= 0 && fds[i_conn].fd == s.conn_fd && fds[i_conn].revents) {
            refill();
            if (s.conn == CONN_CONNECTING) {
                conn_connected();
            } else if (s.conn == CONN_OPEN) {
                if (fds[i_conn].revents & POLLOUT) {
                    conn_up();
                }
                if (s.conn == CONN_OPEN && (fds[i_conn].revents & (POLLIN | POLLHUP | POLLERR))) {
                    conn_down();
                }
            }
        }
        if (i_uart >= 0 && s.uart >= 0 && fds[i_uart].fd == s.uart) {
            if (fds[i_uart].revents & (POLLIN | POLLHUP | POLLERR)) {
                uart_input();
            }
        }
        if (s.uart >= 0 && s.out_len > 0) {
            uart_output();
        }
        if (s.uart < 0) {
            s.out_len = 0;   /* nobody to tell */
        }
    }
    char line[1024];
    stats_json(line, sizeof line);
    printf("%s\n", line);
    fflush(stdout);
    return 0;
}
