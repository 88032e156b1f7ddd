/*
 * `bulwark debug`'s loopback socket (lib_debug_rsp.h, debug_rsp_serve):
 * accepts one GDB connection and feeds what it sends to an rsp_session
 * (lib_debug_rsp.c), which writes back to the socket. While GDB is idle it
 * sends a STATUS every KEEPALIVE_MS so the device does not take the
 * debugger for lost (SPEC §9.2).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib_debug_rsp.h"
#include "lib_link_session.h"

#define KEEPALIVE_MS 2000

static bool socket_write(void *ctx, const char *data, size_t len)
{
    return link_send_all(*(int *)ctx, (const uint8_t *)data, len);
}

static int socket_read(void *ctx, uint8_t *buf, size_t cap, int timeout_ms)
{
    struct pollfd p = { .fd = *(int *)ctx, .events = POLLIN };
    if (poll(&p, 1, timeout_ms) <= 0) {
        return 0;
    }
    ssize_t n = recv(p.fd, buf, cap, 0);
    return n > 0 ? (int)n : -1;
}

static int listen_loopback(uint16_t port, int *out)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0
        || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1) != 0) {
        fprintf(stderr, "bulwark: cannot listen on 127.0.0.1:%u: %s\n", (unsigned)port, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return 2;
    }
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    printf("GDB server on 127.0.0.1:%u (gdb-multiarch: target remote :%u)\n",
           (unsigned)ntohs(a.sin_port), (unsigned)ntohs(a.sin_port));
    fflush(stdout);
    *out = fd;
    return 0;
}

int debug_rsp_serve(const bw_debug_transport *t, uint16_t port)
{
    int server;
    int rc = listen_loopback(port, &server);
    if (rc != 0) {
        return rc;
    }
    int fd = -1;
    rsp_io io = { .ctx = &fd, .write = socket_write, .read = socket_read };
    rsp_session *s = rsp_session_new(t, &io);
    bool more = s != NULL;
    while (fd < 0 && more) {
        struct pollfd p = { .fd = server, .events = POLLIN };
        if (poll(&p, 1, KEEPALIVE_MS) > 0) {
            fd = accept(server, NULL, NULL);
        } else {
            more = rsp_session_keepalive(s);   /* keeps the device's monitor from timing out */
        }
    }
    close(server);
    if (fd < 0) {
        rsp_session_free(s);
        return EXIT_LINK;
    }
    int nodelay = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay);
    while (more) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int ready = poll(&p, 1, KEEPALIVE_MS);
        if (ready == 0) {
            more = rsp_session_keepalive(s);
            continue;
        }
        uint8_t buf[512];
        ssize_t n = ready > 0 ? recv(fd, buf, sizeof buf, 0) : -1;
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            break;   /* GDB went away */
        }
        more = rsp_session_input(s, buf, (size_t)n);
    }
    rsp_session_end(s);   /* the app runs on */
    close(fd);
    rc = rsp_session_lost(s) ? EXIT_LINK : 0;
    rsp_session_free(s);
    return rc;
}
