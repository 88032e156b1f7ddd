/*
 * How `bulwark debug`'s GDB server reaches a device's debug monitor
 * (issue 11): one monitor packet (SPEC §20) out, its answer back. Two
 * implementations: the local link (SPEC §9) and the cloud-relayed,
 * end-to-end encrypted debug session (SPEC §21).
 */
#ifndef BULWARK_LIB_DEBUG_TRANSPORT_H
#define BULWARK_LIB_DEBUG_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

typedef struct bw_debug_transport {
    void *ctx;
    /* Sends request[0..len) and waits for its answer (at most cap bytes,
     * length in *answer_len). Returns 0, or -1 when the transport is lost
     * (no answer in its timeout, connection closed, session refused), with
     * a one-line reason in err. After -1 the transport is unusable. */
    int (*exchange)(void *ctx, const uint8_t *request, size_t len,
                    uint8_t *answer, size_t cap, size_t *answer_len,
                    char *err, size_t errcap);
    /* Ends the session (tells the device when it still can) and frees ctx. */
    void (*close)(void *ctx);
} bw_debug_transport;

#endif
