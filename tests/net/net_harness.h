/*
 * Host harness for the network tests: a bw_stream over a non-blocking TCP
 * socket on 127.0.0.1 (optionally cut into small pieces to exercise partial
 * reads and writes), a real mosquitto broker started on a free port and
 * stopped by the test, and a monotonic millisecond clock.
 */
#ifndef NET_HARNESS_H
#define NET_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bw_stream.h"

typedef struct tcp_stream {
    int fd;
    size_t max_chunk;       /* 0: any size; else at most this many bytes per call */
    uint64_t bytes_out;
    uint64_t bytes_in;
    bw_stream stream;       /* ctx points back here */
} tcp_stream;

/* Connects (blocking) to 127.0.0.1:port, then makes the socket
 * non-blocking. False if the connection was refused. */
bool tcp_stream_connect(tcp_stream *t, int port, size_t max_chunk);

/* Closes the socket without any MQTT goodbye (a cut link). */
void tcp_stream_cut(tcp_stream *t);

typedef struct broker {
    pid_t pid;
    int port;
    char dir[256];          /* scratch directory: mosquitto.conf, mosquitto.log */
} broker;

/* Starts mosquitto on a free port of 127.0.0.1 with a plain-TCP listener
 * (plus extra_config lines, may be NULL) and waits until it accepts
 * connections. False (with a message) if it did not come up in 5 s. */
bool broker_start(broker *b, const char *extra_config);

/* SIGTERM and reap. Safe on a broker already gone. */
void broker_stop(broker *b);

/* Stops every broker still running (a test's teardown: after a failed
 * assertion the test itself never reaches its broker_stop). */
void broker_stop_all(void);

/* Sends sig to the broker (SIGSTOP/SIGCONT freeze and thaw it; SIGKILL
 * kills and reaps it). */
void broker_signal(broker *b, int sig);

/* True when the broker's log holds `text`. */
bool broker_log_contains(const broker *b, const char *text);

/* Runs argv (a mosquitto client) to completion; its stdout (up to size-1
 * bytes, terminated) into out if non-NULL. Returns its exit status. */
int run_tool(char *const argv[], char *out, size_t size);

/* Monotonic milliseconds. */
uint64_t now_ms(void);

/* Picks a free port on 127.0.0.1 (bind to 0, read it back, close). */
int free_port(void);

#endif
