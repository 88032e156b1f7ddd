/* The modem test harness (modem_harness.h). */
#define _GNU_SOURCE
#include "modem_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

const char *h_emulator_path;   /* set by main from argv[1] */

uint32_t h_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static int tcp_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static size_t port_read(void *ctx, uint8_t *buf, size_t len)
{
    ssize_t r = recv(*(int *)ctx, buf, len, MSG_DONTWAIT);
    return r > 0 ? (size_t)r : 0;
}

static size_t port_write(void *ctx, const uint8_t *data, size_t len)
{
    ssize_t w = send(*(int *)ctx, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    return w > 0 ? (size_t)w : 0;
}

static char *read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r <= 0) {
            break;
        }
        if (c == '\n') {
            break;
        }
        buf[n++] = c;
    }
    buf[n] = '\0';
    return buf;
}

void h_start(harness *h, const char *const *extra)
{
    memset(h, 0, sizeof *h);
    int out[2];
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    const char *argv[32] = { h_emulator_path, "--listen", "0", "--control-port", "0" };
    size_t argc = 5;
    for (size_t i = 0; extra && extra[i] && argc < 31; i++) {
        argv[argc++] = extra[i];
    }
    argv[argc] = NULL;
    h->emu_pid = fork();
    assert_true(h->emu_pid >= 0);
    if (h->emu_pid == 0) {
        dup2(out[1], 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    h->emu_stdout = out[0];
    char line[128];
    assert_int_equal(sscanf(read_line(out[0], line, sizeof line), "listening %hu", &h->uart_port), 1);
    assert_int_equal(sscanf(read_line(out[0], line, sizeof line), "control %hu", &h->control_port), 1);
    h->uart_fd = tcp_connect(h->uart_port);

    peer *p = &h->peer;
    p->fd = -1;
    p->echo = true;
    p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sa;
    assert_int_equal(bind(p->listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(p->listen_fd, 4), 0);
    getsockname(p->listen_fd, (struct sockaddr *)&sa, &len);
    p->port = ntohs(sa.sin_port);

    static bw_modem_port port;
    port = (bw_modem_port){ &h->uart_fd, port_read, port_write };
    bw_modem_init(&port, h_now());
}

const char *h_stop(harness *h)
{
    static char line[1024];
    kill(h->emu_pid, SIGTERM);
    read_line(h->emu_stdout, line, sizeof line);
    int status;
    waitpid(h->emu_pid, &status, 0);
    close(h->emu_stdout);
    close(h->uart_fd);
    if (h->peer.fd >= 0) {
        close(h->peer.fd);
    }
    close(h->peer.listen_fd);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return line;
}

const char *h_control(harness *h, const char *command)
{
    static char answer[1024];
    int fd = tcp_connect(h->control_port);
    char text[256];
    int n = snprintf(text, sizeof text, "%s\n", command);
    assert_int_equal(send(fd, text, (size_t)n, 0), n);
    read_line(fd, answer, sizeof answer);
    close(fd);
    return answer;
}

uint64_t h_stat(harness *h, const char *name)
{
    const char *json = h_control(h, "stats");
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *at = strstr(json, key);
    assert_non_null(at);
    return strtoull(at + strlen(key), NULL, 10);
}

static void peer_service(peer *p, short revents_listen, short revents_conn)
{
    if (revents_listen & POLLIN) {
        int fd = accept4(p->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            if (p->fd >= 0) {
                close(p->fd);
            }
            p->fd = fd;
            p->accepted++;
            p->out_len = p->out_sent = 0;
        }
    }
    if (p->fd < 0) {
        return;
    }
    if (revents_conn & (POLLIN | POLLHUP | POLLERR)) {
        uint8_t buf[65536];
        ssize_t r = recv(p->fd, buf, sizeof buf, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN)) {
            close(p->fd);
            p->fd = -1;
            return;
        }
        if (r > 0) {
            size_t n = (size_t)r;
            assert_true(p->got_len + n <= PEER_MAX);
            memcpy(p->got + p->got_len, buf, n);
            p->got_len += n;
            if (p->echo) {
                assert_true(p->out_len + n <= PEER_MAX);
                memcpy(p->out + p->out_len, buf, n);
                p->out_len += n;
            }
        }
    }
    if (p->out_sent < p->out_len) {
        ssize_t w = send(p->fd, p->out + p->out_sent, p->out_len - p->out_sent, MSG_NOSIGNAL);
        if (w > 0) {
            p->out_sent += (size_t)w;
        }
    }
    if (p->close_when_sent && p->out_sent == p->out_len) {
        close(p->fd);
        p->fd = -1;
        p->close_when_sent = false;
    }
}

bool h_run(harness *h, uint32_t ms, bool (*done)(harness *h))
{
    uint32_t start = h_now();
    for (;;) {
        bw_modem_poll(h_now());
        if (done && done(h)) {
            return true;
        }
        peer *p = &h->peer;
        struct pollfd fds[3] = {
            { h->uart_fd, POLLIN, 0 },
            { p->listen_fd, POLLIN, 0 },
            { p->fd, (short)(POLLIN | (p->out_sent < p->out_len ? POLLOUT : 0)), 0 },
        };
        poll(fds, p->fd >= 0 ? 3 : 2, 5);   /* the driver's timers need a pass every few ms */
        peer_service(p, fds[1].revents, p->fd >= 0 ? fds[2].revents : 0);
        if (h_now() - start >= ms) {
            bw_modem_poll(h_now());
            return done ? done(h) : true;
        }
    }
}

bw_modem_state h_state(void)
{
    bw_modem_status st;
    bw_modem_status_get(&st);
    return st.state;
}

static bw_modem_state wanted_state;
static bool state_reached(harness *h)
{
    (void)h;
    return h_state() == wanted_state;
}

void h_wait_state(harness *h, bw_modem_state state, uint32_t ms)
{
    wanted_state = state;
    if (!h_run(h, ms, state_reached)) {
        bw_modem_status st;
        bw_modem_status_get(&st);
        fail_msg("state %d not reached in %u ms: state %d reason %d error %u", (int)state, ms,
                 (int)st.state, (int)st.reason, st.module_error);
    }
}

size_t h_transfer(harness *h, const uint8_t *tx, size_t len, uint8_t *rx, size_t rx_want,
                  uint32_t ms, bool *closed)
{
    const bw_stream *s = bw_modem_stream();
    size_t sent = 0, got = 0;
    uint32_t start = h_now();
    *closed = false;
    while (h_now() - start < ms && got < rx_want && !*closed) {
        if (sent < len) {
            int32_t n = s->send(s->ctx, tx + sent, len - sent);
            if (n > 0) {
                sent += (size_t)n;
            } else if (n < 0) {
                sent = len;
            }
        }
        int32_t r = s->recv(s->ctx, rx + got, rx_want - got);
        if (r > 0) {
            got += (size_t)r;
        } else if (r < 0) {
            *closed = true;
        }
        h_run(h, 0, NULL);
    }
    return got;
}
