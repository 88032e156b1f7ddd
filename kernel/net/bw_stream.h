/*
 * A byte stream the network layers are stacked on: the modem's socket under
 * TLS, TLS under MQTT. Never blocking: a call that cannot make progress now
 * returns 0 and the caller tries again on a later pass of the kernel loop.
 * Host tests put a TCP socket behind the same struct.
 */
#ifndef BW_STREAM_H
#define BW_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* What a stream call returns when it is not a byte count. */
#define BW_STREAM_CLOSED  (-1)   /* the peer closed it, or the link under it went down */
#define BW_STREAM_FAILED  (-2)   /* a protocol or integrity error; the stream is unusable */

typedef struct bw_stream {
    void *ctx;
    /* Takes up to len bytes for sending; returns how many (0: none now) or
     * BW_STREAM_CLOSED / BW_STREAM_FAILED. Bytes taken are the stream's to send. */
    int32_t (*send)(void *ctx, const uint8_t *data, size_t len);
    /* Moves up to len received bytes into buf; returns how many (0: none
     * now) or BW_STREAM_CLOSED / BW_STREAM_FAILED. */
    int32_t (*recv)(void *ctx, uint8_t *buf, size_t len);
} bw_stream;

#endif
