/*
 * The host end of the local link (lib_link_session.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "lib_link_session.h"

uint64_t link_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Listens on host:port, prints the address actually bound (so a caller can
 * learn a port chosen by the system), and accepts one connection. */
int link_listen_and_accept(const char *host, const char *port, uint32_t timeout_ms, int *out_fd)
{
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0) {
        return cli_usage_error("cannot listen on %s:%s: %s", host, port, gai_strerror(gai));
    }
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0
        || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1) != 0) {
        int e = errno;
        freeaddrinfo(ai);
        if (fd >= 0) {
            close(fd);
        }
        return cli_usage_error("cannot listen on %s:%s: %s", host, port, strerror(e));
    }
    freeaddrinfo(ai);
    struct sockaddr_in bound;
    socklen_t bound_len = sizeof bound;
    getsockname(fd, (struct sockaddr *)&bound, &bound_len);
    char text[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &bound.sin_addr, text, sizeof text);
    printf("listening on %s:%u\n", text, (unsigned)ntohs(bound.sin_port));
    fflush(stdout);

    struct pollfd p = { .fd = fd, .events = POLLIN };
    int ready;
    do {
        ready = poll(&p, 1, (int)timeout_ms);
    } while (ready < 0 && errno == EINTR);
    if (ready <= 0) {
        close(fd);
        fprintf(stderr, "bulwark: no device connected within %u s\n", (unsigned)(timeout_ms / 1000u));
        return EXIT_LINK;
    }
    int conn = accept(fd, NULL, NULL);
    close(fd);
    if (conn < 0) {
        fprintf(stderr, "bulwark: accept failed: %s\n", strerror(errno));
        return EXIT_LINK;
    }
    int nodelay = 1;   /* requests are whole frames; answers must not wait for Nagle */
    setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay);
    *out_fd = conn;
    return 0;
}

/* ---- requests ---- */

bool link_send_all(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/* Sends one request and waits for its answer (same sequence number),
 * resending every RESEND_MS and when the device reports a damaged frame.
 * The answer's payload stays valid until the next request. */
link_result link_request(link_session *s, uint8_t type, const uint8_t *payload, size_t len,
                         answer *out)
{
    s->seq = (uint16_t)(s->seq + 1u == BW_LINK_SEQ_NONE ? 0u : s->seq + 1u);
    size_t n = bw_link_encode(type, s->seq, payload, len, s->wire, sizeof s->wire);
    uint64_t deadline = link_now_ms() + s->timeout_ms;
    uint64_t resend_at = 0;
    for (;;) {
        uint64_t now = link_now_ms();
        if (now >= deadline) {
            return LINK_TIMEOUT;
        }
        if (now >= resend_at) {
            if (!link_send_all(s->fd, s->wire, n)) {
                return LINK_LOST;
            }
            resend_at = now + RESEND_MS;
        }
        uint64_t wait = (resend_at < deadline ? resend_at : deadline) - now;
        struct pollfd p = { .fd = s->fd, .events = POLLIN };
        int ready = poll(&p, 1, (int)wait);
        if (ready < 0 && errno != EINTR) {
            return LINK_LOST;
        }
        if (ready <= 0) {
            continue;
        }
        uint8_t buf[512];
        ssize_t got = recv(s->fd, buf, sizeof buf, 0);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return LINK_LOST;
        }
        for (ssize_t i = 0; i < got; i++) {
            bw_link_frame f;
            bw_link_error error;
            if (bw_link_decode_byte(&s->decoder, buf[i], &f, &error) != BW_LINK_EVENT_FRAME) {
                continue;   /* a damaged answer: the resend brings it again */
            }
            if (f.type == BW_LINK_NACK && f.seq == BW_LINK_SEQ_NONE) {
                resend_at = 0;   /* the device saw a damaged frame: ours, probably */
                continue;
            }
            if (f.seq != s->seq || f.type < 0x80u) {
                continue;        /* an answer to an earlier request, sent again */
            }
            memcpy(s->payload, f.payload, f.len);
            out->type = f.type;
            out->len = f.len;
            out->payload = s->payload;
            return LINK_OK;
        }
    }
}


void link_session_init(link_session *s, int fd, uint32_t timeout_ms)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->timeout_ms = timeout_ms;
    /* A fresh sequence space per run: never mistaken for a previous run's requests. */
    s->seq = (uint16_t)(((uint32_t)getpid() * 2654435761u) ^ (uint32_t)link_now_ms());
    bw_link_decoder_init(&s->decoder);
}

