/*
 * Host harness for the network tests (net_harness.h): TCP bw_stream,
 * mosquitto broker lifecycle, helpers to run mosquitto's own clients.
 */
#define _GNU_SOURCE
#include "net_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Every broker running, by value (a failed test's stack frame is gone when
 * broker_stop_all cleans up after it). */
#define BROKERS_MAX 4
static broker running[BROKERS_MAX];

static void forget(pid_t pid);

uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("free_port");
        exit(2);
    }
    close(fd);
    return ntohs(a.sin_port);
}

static size_t limit(const tcp_stream *t, size_t len)
{
    return t->max_chunk != 0 && len > t->max_chunk ? t->max_chunk : len;
}

static int32_t tcp_send(void *ctx, const uint8_t *data, size_t len)
{
    tcp_stream *t = ctx;
    ssize_t n = send(t->fd, data, limit(t, len), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : BW_STREAM_CLOSED;
    }
    t->bytes_out += (uint64_t)n;
    return (int32_t)n;
}

static int32_t tcp_recv(void *ctx, uint8_t *buf, size_t len)
{
    tcp_stream *t = ctx;
    ssize_t n = recv(t->fd, buf, limit(t, len), MSG_DONTWAIT);
    if (n == 0) {
        return BW_STREAM_CLOSED;
    }
    if (n < 0) {
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : BW_STREAM_CLOSED;
    }
    t->bytes_in += (uint64_t)n;
    return (int32_t)n;
}

bool tcp_stream_connect(tcp_stream *t, int port, size_t max_chunk)
{
    memset(t, 0, sizeof *t);
    t->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback(port);
    if (t->fd < 0 || connect(t->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (t->fd >= 0) {
            close(t->fd);
        }
        t->fd = -1;
        return false;
    }
    int one = 1;
    setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) | O_NONBLOCK);
    t->max_chunk = max_chunk;
    t->stream.ctx = t;
    t->stream.send = tcp_send;
    t->stream.recv = tcp_recv;
    return true;
}

void tcp_stream_cut(tcp_stream *t)
{
    if (t->fd >= 0) {
        close(t->fd);
        t->fd = -1;
    }
}

static pid_t spawn(char *const argv[], int out_fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (out_fd >= 0) {
        posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
    }
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(rc));
        exit(2);
    }
    return pid;
}

bool broker_start(broker *b, const char *extra_config)
{
    memset(b, 0, sizeof *b);
    snprintf(b->dir, sizeof b->dir, "%s/bw-mqtt-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(b->dir) == NULL) {
        perror("mkdtemp");
        return false;
    }
    b->port = free_port();
    /* Run as root, mosquitto drops to its own user unless told to stay. */
    char path[300];
    snprintf(path, sizeof path, "%s/mosquitto.conf", b->dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return false;
    }
    fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n"
               "log_dest file %s/mosquitto.log\nlog_type all\n%s%s\n",
            b->port, b->dir, geteuid() == 0 ? "user root\n" : "", extra_config ? extra_config : "");
    fclose(f);
    char *argv[] = { "mosquitto", "-c", path, NULL };
    b->pid = spawn(argv, -1);
    for (size_t i = 0; i < BROKERS_MAX; i++) {
        if (running[i].pid == 0) {
            running[i] = *b;
            break;
        }
    }
    /* Wait for the port: connect until it is accepted (or mosquitto died). */
    uint64_t deadline = now_ms() + 30000;
    while (now_ms() < deadline) {
        tcp_stream probe;
        if (tcp_stream_connect(&probe, b->port, 0)) {
            tcp_stream_cut(&probe);
            return true;
        }
        int status;
        if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
            fprintf(stderr, "mosquitto exited (status %d); see %s\n", status, b->dir);
            forget(b->pid);
            b->pid = 0;
            return false;
        }
        poll(NULL, 0, 10);
    }
    fprintf(stderr, "mosquitto did not open port %d\n", b->port);
    broker_stop(b);
    return false;
}

void broker_signal(broker *b, int sig)
{
    if (b->pid > 0) {
        kill(b->pid, sig);
        if (sig == SIGKILL) {
            waitpid(b->pid, NULL, 0);
            forget(b->pid);
            b->pid = 0;
        }
    }
}

static void forget(pid_t pid)
{
    for (size_t i = 0; i < BROKERS_MAX; i++) {
        if (running[i].pid == pid) {
            running[i].pid = 0;
        }
    }
}

void broker_stop_all(void)
{
    for (size_t i = 0; i < BROKERS_MAX; i++) {
        if (running[i].pid != 0) {
            broker b = running[i];
            broker_stop(&b);
        }
    }
}

void broker_stop(broker *b)
{
    if (b->pid > 0) {
        forget(b->pid);
        kill(b->pid, SIGCONT);
        kill(b->pid, SIGTERM);
        waitpid(b->pid, NULL, 0);
        b->pid = 0;
    }
    char path[300];
    snprintf(path, sizeof path, "%s/mosquitto.conf", b->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/mosquitto.log", b->dir);
    unlink(path);
    rmdir(b->dir);
}

bool broker_log_contains(const broker *b, const char *text)
{
    char path[300];
    snprintf(path, sizeof path, "%s/mosquitto.log", b->dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return false;
    }
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        found = strstr(line, text) != NULL;
    }
    fclose(f);
    return found;
}

int run_tool(char *const argv[], char *out, size_t size)
{
    int fds[2] = { -1, -1 };
    if (out != NULL && pipe(fds) != 0) {
        perror("pipe");
        exit(2);
    }
    pid_t pid = spawn(argv, out ? fds[1] : -1);
    if (out != NULL) {
        close(fds[1]);
        size_t got = 0;
        ssize_t n;
        while ((n = read(fds[0], out + got, size - 1 - got)) > 0) {
            got += (size_t)n;
        }
        out[got] = '\0';
        close(fds[0]);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
