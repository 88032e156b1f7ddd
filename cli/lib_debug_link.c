/*
 * Monitor packets over the local link (lib_debug_link.h).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib_debug_link.h"

static int link_exchange(void *ctx, const uint8_t *request, size_t len, uint8_t *answer_out,
                         size_t cap, size_t *answer_len, char *err, size_t errcap)
{
    link_session *s = ctx;
    answer a;
    link_result r = link_request(s, BW_LINK_DEBUG, request, len, &a);
    if (r != LINK_OK) {
        snprintf(err, errcap, r == LINK_TIMEOUT ? "no answer over the link within %u s"
                                                : "the link connection closed",
                 (unsigned)(s->timeout_ms / 1000u));
        return -1;
    }
    if (a.type != BW_LINK_DEBUG_ANSWER || a.len == 0 || a.len > cap) {
        size_t n = a.type == BW_LINK_NACK && a.len > BW_LINK_NACK_FIXED ? a.len - BW_LINK_NACK_FIXED : 0;
        snprintf(err, errcap, "the device does not serve DEBUG (answer 0x%02x%s%.*s)", a.type,
                 n ? ": " : "", (int)n, (const char *)a.payload + BW_LINK_NACK_FIXED);
        return -1;
    }
    memcpy(answer_out, a.payload, a.len);
    *answer_len = a.len;
    return 0;
}

static void link_close(void *ctx)
{
    link_session *s = ctx;
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
}

bw_debug_transport debug_link_transport(link_session *s)
{
    return (bw_debug_transport){ .ctx = s, .exchange = link_exchange, .close = link_close };
}
