/*
 * The modem driver (bw_modem.h; the command subset: docs/SPEC.md §11).
 *
 * At most one command is outstanding (m.cmd), with a deadline. When none is,
 * next_command picks what to do from the bring-up level (probe, configure,
 * register, activate PDP, ready) and the socket's state. Answers go through
 * the AT parser (bw_at.c); URCs are handled whatever is outstanding. Any
 * timeout or final result that does not fit the outstanding command resets:
 * the socket is forgotten, the parser emptied, bring-up starts from AT
 * (which also closes a socket left over, AT+QICLOSE=0).
 *
 * Invariants: the receive ring holds rx_head - rx_tail <= BW_MODEM_RX_BUFFER
 * bytes, and an AT+QIRD never asks for more than the free space, so payload
 * bytes always fit; tx holds the bytes of the one send in flight (tx_len > 0
 * until SEND OK); out/out_left is what remains to write of the current
 * command line or data block.
 */
#include "bw_modem.h"

#include <string.h>

#include "bw_at.h"
#include "bw_config.h"

#define CONNECT_ID   0u
#define CONTEXT_ID   1u
#define READ_CHUNK   256u     /* bytes taken from the port per read call */
#define READS_PER_POLL 16u    /* bounds one poll's work */
#define CMD_TEXT_MAX (32u + BW_MODEM_HOST_MAX)
#define READ_MIN_SPACE 256u   /* no AT+QIRD for less free space than this (or all of it) */

_Static_assert((BW_MODEM_RX_BUFFER & (BW_MODEM_RX_BUFFER - 1)) == 0, "ring size is a power of two");

typedef enum level {
    LEVEL_PROBE,       /* AT until OK */
    LEVEL_CONFIG,      /* ATE0, AT+CMEE=1, AT+CEREG=1 (config_step) */
    LEVEL_REGISTER,    /* AT+CEREG? until registered, then AT+QICLOSE=0 */
    LEVEL_PDP,         /* AT+QIACT?, then AT+QIACT=1 if needed */
    LEVEL_READY,
} level;

typedef enum command {
    CMD_NONE,
    CMD_AT, CMD_ATE0, CMD_CMEE, CMD_CEREG_ON, CMD_CEREG_QUERY, CMD_FREE_SOCKET,
    CMD_QIACT_QUERY, CMD_QIACT,
    CMD_QIOPEN,        /* until its OK; the +QIOPEN URC follows with sock OPENING */
    CMD_QISEND,        /* until the prompt */
    CMD_QISEND_DATA,   /* data written, until SEND OK / SEND FAIL */
    CMD_QIRD,
    CMD_QICLOSE,
} command;

typedef enum sock_state {
    SOCK_NONE,       /* no socket; the stream is closed */
    SOCK_WANTED,     /* bw_modem_connect asked, AT+QIOPEN not sent yet */
    SOCK_OPENING,    /* AT+QIOPEN sent */
    SOCK_OPEN,
    SOCK_DRAINING,   /* the peer closed: read what is left, then AT+QICLOSE */
    SOCK_CLOSING,    /* AT+QICLOSE due or sent; the stream is closed */
} sock_state;

static struct {
    bool started;
    bw_modem_port port;
    bw_at_parser at;
    uint32_t now;

    level level;
    unsigned config_step;
    uint32_t tries;
    uint32_t not_before;     /* no new command before this time */
    command cmd;
    uint32_t deadline;
    bool seen_answer;        /* the information line of the outstanding command came */
    uint32_t answer;         /* its value (CEREG stat, QIACT state, QIRD length) */

    char text[CMD_TEXT_MAX];
    const uint8_t *out;
    size_t out_left;

    sock_state sock;
    bool failed;             /* the last connect or socket failed (state FAILED when ready) */
    bool close_asked;        /* bw_modem_close while AT+QIOPEN was outstanding */
    bool reopen;             /* bw_modem_connect while the old socket's AT+QICLOSE was due */
    bool rx_more;            /* the module holds received bytes we have not read */
    bool read_turn;          /* alternates reads and sends while both are due */
    char host[BW_MODEM_HOST_MAX + 1];
    uint16_t port_number;
    uint32_t open_deadline;
    uint32_t send_tries;

    uint8_t tx[BW_MODEM_SEND_MAX];
    size_t tx_len;
    uint8_t rx[BW_MODEM_RX_BUFFER];
    uint32_t rx_head, rx_tail;

    bw_modem_status status;
} m;

static bool reached(uint32_t deadline)
{
    return (int32_t)(m.now - deadline) >= 0;
}

static uint32_t rx_fill(void)
{
    return m.rx_head - m.rx_tail;
}

/* Why the socket ended; the stream is closed from now on. */
static void socket_ended(bw_modem_reason reason, uint32_t module_error, bool failure)
{
    m.sock = SOCK_NONE;
    m.tx_len = 0;
    m.rx_more = false;
    m.close_asked = false;
    m.reopen = false;
    m.failed = failure;
    m.status.reason = reason;
    m.status.module_error = module_error;
}

/* A fault: forget the socket and the outstanding command, start from AT. */
static void reset(bw_modem_reason reason)
{
    if (m.sock != SOCK_NONE) {
        socket_ended(reason, 0, true);
    } else {
        m.status.reason = reason;
        m.status.module_error = 0;
    }
    m.status.resets++;
    bw_at_init(&m.at);
    m.level = LEVEL_PROBE;
    m.tries = 0;
    m.cmd = CMD_NONE;
    m.out_left = 0;
    m.not_before = m.now;
}

static void issue(command cmd, uint32_t timeout_ms, size_t len)
{
    m.cmd = cmd;
    m.deadline = m.now + timeout_ms;
    m.seen_answer = false;
    m.answer = 0;
    m.out = (const uint8_t *)m.text;
    m.out_left = len;
}

static void issue_text(command cmd, uint32_t timeout_ms, const char *text)
{
    size_t len = strlen(text);
    memcpy(m.text, text, len);
    m.text[len] = '\r';
    issue(cmd, timeout_ms, len + 1u);
}

/* Appends the decimal digits of v to *p. */
static char *put_number(char *p, uint32_t v)
{
    char digits[10];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    while (n > 0) {
        *p++ = digits[--n];
    }
    return p;
}

static char *put_text(char *p, const char *text)
{
    size_t len = strlen(text);
    memcpy(p, text, len);
    return p + len;
}

/* "AT+<name><id>,<number>\r" for QISEND and QIRD. */
static void issue_id_number(command cmd, uint32_t timeout_ms, const char *name, uint32_t number)
{
    char *p = put_text(m.text, name);
    p = put_number(p, CONNECT_ID);
    *p++ = ',';
    p = put_number(p, number);
    *p++ = '\r';
    issue(cmd, timeout_ms, (size_t)(p - m.text));
}

static void issue_open(void)
{
    char *p = put_text(m.text, "AT+QIOPEN=");
    p = put_number(p, CONTEXT_ID);
    *p++ = ',';
    p = put_number(p, CONNECT_ID);
    p = put_text(p, ",\"TCP\",\"");
    p = put_text(p, m.host);
    p = put_text(p, "\",");
    p = put_number(p, m.port_number);
    p = put_text(p, ",0,0\r");
    issue(CMD_QIOPEN, BW_MODEM_CMD_TIMEOUT_MS, (size_t)(p - m.text));
    m.sock = SOCK_OPENING;
}

static void issue_read(void)
{
    uint32_t space = BW_MODEM_RX_BUFFER - rx_fill();
    uint32_t max = space < BW_MODEM_READ_MAX ? space : BW_MODEM_READ_MAX;
    issue_id_number(CMD_QIRD, BW_MODEM_DATA_TIMEOUT_MS, "AT+QIRD=", max);
    bw_at_expect_payload(&m.at, max);
}

static bool read_due(void)
{
    uint32_t space = BW_MODEM_RX_BUFFER - rx_fill();
    return m.rx_more && (space >= READ_MIN_SPACE || space == BW_MODEM_RX_BUFFER);
}

/* The socket's next command, when connected (or draining, or closing). */
static void next_socket_command(void)
{
    if (m.sock == SOCK_CLOSING) {
        issue_text(CMD_QICLOSE, BW_MODEM_CLOSE_TIMEOUT_MS, "AT+QICLOSE=0");
        return;
    }
    bool send_due = m.sock == SOCK_OPEN && m.tx_len > 0;
    bool read_now = read_due() && (!send_due || m.read_turn);
    if (read_now) {
        m.read_turn = false;
        issue_read();
    } else if (send_due) {
        m.read_turn = true;
        issue_id_number(CMD_QISEND, BW_MODEM_CMD_TIMEOUT_MS, "AT+QISEND=", (uint32_t)m.tx_len);
    } else if (m.sock == SOCK_DRAINING && !m.rx_more) {
        m.sock = SOCK_CLOSING;
        next_socket_command();
    }
}

static void next_command(void)
{
    static const char *const config[] = { "ATE0", "AT+CMEE=1", "AT+CEREG=1" };
    static const command config_cmd[] = { CMD_ATE0, CMD_CMEE, CMD_CEREG_ON };
    switch (m.level) {
    case LEVEL_PROBE:
        issue_text(CMD_AT, BW_MODEM_CMD_TIMEOUT_MS, "AT");
        break;
    case LEVEL_CONFIG:
        issue_text(config_cmd[m.config_step], BW_MODEM_CMD_TIMEOUT_MS, config[m.config_step]);
        break;
    case LEVEL_REGISTER:
        issue_text(CMD_CEREG_QUERY, BW_MODEM_CMD_TIMEOUT_MS, "AT+CEREG?");
        break;
    case LEVEL_PDP:
        issue_text(CMD_QIACT_QUERY, BW_MODEM_CMD_TIMEOUT_MS, "AT+QIACT?");
        break;
    case LEVEL_READY:
        if (m.sock == SOCK_WANTED) {
            issue_open();
        } else if (m.sock != SOCK_NONE && m.sock != SOCK_OPENING) {
            next_socket_command();
        }
        break;
    }
}

static void command_done(void)
{
    m.cmd = CMD_NONE;
    m.out_left = 0;
}

/* The final result of the outstanding command (OK, ERROR, +CME ERROR). */
static void final_result(const bw_at_msg *msg)
{
    bool ok = msg->kind == BW_AT_OK;
    uint32_t code = msg->kind == BW_AT_CME_ERROR ? msg->a : 0;
    command cmd = m.cmd;
    if (cmd == CMD_NONE || (cmd == CMD_QISEND_DATA && ok)) {
        reset(BW_MODEM_REASON_UNEXPECTED);
        return;
    }
    command_done();
    switch (cmd) {
    case CMD_AT:
        if (!ok) {
            break;   /* an error to AT: try again after the usual pause */
        }
        m.level = LEVEL_CONFIG;
        m.config_step = 0;
        return;
    case CMD_ATE0:
    case CMD_CMEE:
    case CMD_CEREG_ON:
        if (!ok) {
            reset(BW_MODEM_REASON_UNEXPECTED);
            return;
        }
        if (++m.config_step == 3u) {
            m.level = LEVEL_REGISTER;
        }
        return;
    case CMD_CEREG_QUERY:
        if (ok && m.seen_answer && (m.answer == 1u || m.answer == 5u)) {
            issue_text(CMD_FREE_SOCKET, BW_MODEM_CLOSE_TIMEOUT_MS, "AT+QICLOSE=0");
            return;
        }
        m.not_before = m.now + BW_MODEM_REG_POLL_MS;
        return;
    case CMD_FREE_SOCKET:
        m.level = LEVEL_PDP;   /* OK or an error: either way no socket is left */
        return;
    case CMD_QIACT_QUERY:
        if (!ok) {
            reset(BW_MODEM_REASON_UNEXPECTED);
        } else if (m.seen_answer) {
            m.level = LEVEL_READY;
        } else {
            issue_text(CMD_QIACT, BW_MODEM_PDP_TIMEOUT_MS, "AT+QIACT=1");
        }
        return;
    case CMD_QIACT:
        if (ok) {
            m.level = LEVEL_READY;
            return;
        }
        m.status.reason = BW_MODEM_REASON_PDP_REFUSED;
        m.status.module_error = code;
        m.level = LEVEL_REGISTER;
        m.not_before = m.now + BW_MODEM_RETRY_MS;
        return;
    case CMD_QIOPEN:
        if (ok) {
            m.open_deadline = m.now + BW_MODEM_OPEN_TIMEOUT_MS;
            return;
        }
        socket_ended(BW_MODEM_REASON_OPEN_REFUSED, code, true);
        return;
    case CMD_QISEND:
    case CMD_QISEND_DATA:
        /* ERROR instead of the prompt or of SEND OK: the socket is gone. If
         * the module said it closed, what it received is still read first. */
        if (m.sock == SOCK_DRAINING) {
            m.tx_len = 0;
            return;
        }
        socket_ended(BW_MODEM_REASON_SEND_FAILED, code, true);
        m.sock = SOCK_CLOSING;
        return;
    case CMD_QIRD:
        if (!ok || !m.seen_answer) {
            reset(BW_MODEM_REASON_UNEXPECTED);
            return;
        }
        if (m.answer == 0) {
            m.rx_more = false;
        }
        return;
    case CMD_QICLOSE:
        if (m.sock == SOCK_CLOSING) {
            m.sock = m.reopen ? SOCK_WANTED : SOCK_NONE;
            m.reopen = false;
        }
        return;
    default:
        reset(BW_MODEM_REASON_UNEXPECTED);
        return;
    }
    /* AT answered with an error */
    m.not_before = m.now + BW_MODEM_CMD_TIMEOUT_MS;
}

static void network_lost(void)
{
    if (m.level < LEVEL_REGISTER) {
        return;
    }
    if (m.sock != SOCK_NONE) {
        socket_ended(BW_MODEM_REASON_NETWORK_LOST, 0, true);
    } else {
        m.status.reason = BW_MODEM_REASON_NETWORK_LOST;
        m.status.module_error = 0;
    }
    m.level = LEVEL_REGISTER;   /* after the outstanding command's answer */
}

static void on_urc(const bw_at_msg *msg)
{
    switch (msg->kind) {
    case BW_AT_URC_RECV:
        if (msg->a == CONNECT_ID && (m.sock == SOCK_OPEN || m.sock == SOCK_DRAINING)) {
            m.rx_more = true;
        }
        break;
    case BW_AT_URC_CLOSED:
        if (msg->a == CONNECT_ID && m.sock == SOCK_OPEN) {
            m.sock = SOCK_DRAINING;
            m.rx_more = true;   /* what arrived before the close may still wait */
            m.tx_len = 0;
            m.failed = false;
            m.status.reason = BW_MODEM_REASON_PEER_CLOSED;
            m.status.module_error = 0;
        }
        break;
    case BW_AT_URC_PDPDEACT:
        network_lost();
        break;
    case BW_AT_CEREG_URC:
        if (msg->a != 1u && msg->a != 5u) {
            network_lost();
        }
        break;
    case BW_AT_RDY:
        if (m.level > LEVEL_PROBE) {
            reset(BW_MODEM_REASON_RESTARTED);
        }
        break;
    default:
        break;
    }
}

static void on_open_result(const bw_at_msg *msg)
{
    if (m.sock != SOCK_OPENING || m.cmd == CMD_QIOPEN || msg->a != CONNECT_ID) {
        reset(BW_MODEM_REASON_UNEXPECTED);
        return;
    }
    if (m.close_asked) {
        socket_ended(BW_MODEM_REASON_CLOSED, 0, false);
        m.sock = SOCK_CLOSING;
        return;
    }
    if (msg->b == 0) {
        m.sock = SOCK_OPEN;
        m.failed = false;
        m.status.reason = BW_MODEM_REASON_NONE;
        m.status.module_error = 0;
        return;
    }
    /* The module wants a failed socket closed before its ID is used again. */
    socket_ended(BW_MODEM_REASON_OPEN_REFUSED, msg->b, true);
    m.sock = SOCK_CLOSING;
}

static void on_line(const bw_at_msg *msg)
{
    switch (msg->kind) {
    case BW_AT_OK:
    case BW_AT_ERROR:
    case BW_AT_CME_ERROR:
        final_result(msg);
        return;
    case BW_AT_SEND_OK:
    case BW_AT_SEND_FAIL:
        if (m.cmd != CMD_QISEND_DATA) {
            reset(BW_MODEM_REASON_UNEXPECTED);
            return;
        }
        command_done();
        if (msg->kind == BW_AT_SEND_OK) {
            m.tx_len = 0;
            m.send_tries = 0;
        } else if (++m.send_tries >= BW_MODEM_SEND_TRIES) {
            socket_ended(BW_MODEM_REASON_SEND_FAILED, 0, true);
            m.sock = SOCK_CLOSING;
        } else {
            m.not_before = m.now + BW_MODEM_SEND_RETRY_MS;   /* the same bytes again */
        }
        return;
    case BW_AT_CEREG:
    case BW_AT_QIACT:
    case BW_AT_QIRD: {
        command expected = msg->kind == BW_AT_CEREG ? CMD_CEREG_QUERY
                         : msg->kind == BW_AT_QIACT ? CMD_QIACT_QUERY : CMD_QIRD;
        if (m.cmd != expected || (msg->kind == BW_AT_QIRD && m.seen_answer)) {
            reset(BW_MODEM_REASON_UNEXPECTED);
            return;
        }
        if (msg->kind == BW_AT_QIACT) {
            if (msg->a == CONTEXT_ID && msg->b == 1u) {
                m.seen_answer = true;   /* our context is active */
            }
            return;
        }
        m.seen_answer = true;
        m.answer = msg->a;
        return;
    }
    case BW_AT_QIOPEN:
        on_open_result(msg);
        return;
    case BW_AT_MALFORMED:
        reset(BW_MODEM_REASON_UNEXPECTED);
        return;
    case BW_AT_ECHO:
    case BW_AT_OTHER:
    case BW_AT_TOO_LONG:
        m.status.lines_ignored++;
        return;
    default:
        on_urc(msg);
        return;
    }
}

static void on_prompt(void)
{
    if (m.cmd != CMD_QISEND || m.out_left != 0) {
        reset(BW_MODEM_REASON_UNEXPECTED);
        return;
    }
    m.cmd = CMD_QISEND_DATA;
    m.deadline = m.now + BW_MODEM_DATA_TIMEOUT_MS;
    m.out = m.tx;
    m.out_left = m.tx_len;
}

static void on_data(uint8_t byte)
{
    /* bw_at only lets through what AT+QIRD asked for, and it asked for no
     * more than the free space. */
    m.rx[m.rx_head & (BW_MODEM_RX_BUFFER - 1u)] = byte;
    m.rx_head++;
}

static void receive(void)
{
    uint8_t buf[READ_CHUNK];
    for (unsigned round = 0; round < READS_PER_POLL; round++) {
        size_t n = m.port.read(m.port.ctx, buf, sizeof buf);
        for (size_t i = 0; i < n; i++) {
            switch (bw_at_feed(&m.at, buf[i])) {
            case BW_AT_EV_LINE:
                on_line(&m.at.msg);
                break;
            case BW_AT_EV_PROMPT:
                on_prompt();
                break;
            case BW_AT_EV_DATA:
                on_data(m.at.data);
                break;
            default:
                break;
            }
        }
        if (n < sizeof buf) {
            return;
        }
    }
}

static void transmit(void)
{
    while (m.out_left > 0) {
        size_t n = m.port.write(m.port.ctx, m.out, m.out_left);
        if (n == 0) {
            return;
        }
        n = n < m.out_left ? n : m.out_left;
        m.out += n;
        m.out_left -= n;
    }
}

static void check_timeouts(void)
{
    if (m.cmd != CMD_NONE && reached(m.deadline)) {
        if (m.cmd == CMD_AT) {
            command_done();
            if (++m.tries >= BW_MODEM_AT_TRIES) {
                m.tries = 0;
                m.status.reason = BW_MODEM_REASON_NO_ANSWER;
                m.not_before = m.now + BW_MODEM_RETRY_MS;
            }
            return;
        }
        reset(BW_MODEM_REASON_TIMEOUT);
        return;
    }
    if (m.cmd == CMD_NONE && m.sock == SOCK_OPENING && reached(m.open_deadline)) {
        reset(BW_MODEM_REASON_TIMEOUT);
    }
}

void bw_modem_init(const bw_modem_port *port, uint32_t now_ms)
{
    memset(&m, 0, sizeof m);
    m.port = *port;
    m.now = now_ms;
    m.not_before = now_ms;
    m.started = true;
    bw_at_init(&m.at);
}

void bw_modem_poll(uint32_t now_ms)
{
    if (!m.started) {
        return;
    }
    m.now = now_ms;
    receive();
    check_timeouts();
    if (m.cmd == CMD_NONE && reached(m.not_before)) {
        next_command();
    }
    transmit();
}

bw_err bw_modem_connect(const char *host, uint16_t port)
{
    if (!m.started) {
        return BW_E_UNAVAILABLE;
    }
    size_t len = 0;
    while (len <= BW_MODEM_HOST_MAX && host[len] != '\0') {
        char c = host[len];
        if (c <= ' ' || c > '~' || c == '"') {
            return BW_E_INVALID;   /* would break out of the quoted AT argument */
        }
        len++;
    }
    if (len == 0 || len > BW_MODEM_HOST_MAX || port == 0) {
        return BW_E_INVALID;
    }
    if ((m.sock != SOCK_NONE && m.sock != SOCK_CLOSING) || m.reopen) {
        return BW_E_IN_USE;
    }
    memcpy(m.host, host, len);
    m.host[len] = '\0';
    m.port_number = port;
    if (m.sock == SOCK_CLOSING) {
        m.reopen = true;   /* opens once the old socket's AT+QICLOSE is answered */
    } else {
        m.sock = SOCK_WANTED;
    }
    m.failed = false;
    m.rx_head = m.rx_tail = 0;
    m.tx_len = 0;
    m.send_tries = 0;
    return BW_OK;
}

void bw_modem_close(void)
{
    m.rx_tail = m.rx_head;
    m.reopen = false;
    switch (m.sock) {
    case SOCK_WANTED:
        socket_ended(BW_MODEM_REASON_CLOSED, 0, false);
        break;
    case SOCK_OPENING:
        m.close_asked = true;
        break;
    case SOCK_OPEN:
    case SOCK_DRAINING:
        socket_ended(BW_MODEM_REASON_CLOSED, 0, false);
        m.sock = SOCK_CLOSING;
        break;
    default:
        break;
    }
}

/* A connect is asked for or under way (and not cancelled). */
static bool connecting(void)
{
    return ((m.sock == SOCK_WANTED || m.sock == SOCK_OPENING) && !m.close_asked) || m.reopen;
}

void bw_modem_status_get(bw_modem_status *out)
{
    *out = m.status;
    if (!m.started || m.level == LEVEL_PROBE) {
        out->state = BW_MODEM_DOWN;
    } else if (m.level < LEVEL_READY) {
        out->state = BW_MODEM_REGISTERING;
    } else if (m.sock == SOCK_OPEN) {
        out->state = BW_MODEM_CONNECTED;
    } else if (connecting()) {
        out->state = BW_MODEM_CONNECTING;
    } else {
        out->state = m.failed ? BW_MODEM_FAILED : BW_MODEM_READY;
    }
}

static int32_t stream_send(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    if (connecting() || m.sock == SOCK_DRAINING) {
        return 0;   /* draining: what came before the peer's close is read first */
    }
    if (m.sock != SOCK_OPEN) {
        return BW_STREAM_CLOSED;
    }
    if (m.tx_len > 0 || len == 0) {
        return 0;
    }
    size_t n = len < BW_MODEM_SEND_MAX ? len : BW_MODEM_SEND_MAX;
    memcpy(m.tx, data, n);
    m.tx_len = n;
    return (int32_t)n;
}

static int32_t stream_recv(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    uint32_t fill = rx_fill();
    if (fill == 0) {
        bool open = m.sock == SOCK_OPEN || m.sock == SOCK_DRAINING || connecting();
        return open ? 0 : BW_STREAM_CLOSED;
    }
    size_t n = len < fill ? len : fill;
    if (n > (size_t)INT32_MAX) {
        n = (size_t)INT32_MAX;
    }
    for (size_t i = 0; i < n; i++) {
        buf[i] = m.rx[(m.rx_tail + i) & (BW_MODEM_RX_BUFFER - 1u)];
    }
    m.rx_tail += (uint32_t)n;
    return (int32_t)n;
}

static const bw_stream modem_stream = { NULL, stream_send, stream_recv };

const bw_stream *bw_modem_stream(void)
{
    return &modem_stream;
}
