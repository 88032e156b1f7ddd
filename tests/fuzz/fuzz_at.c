/*
 * libFuzzer target for the modem's AT parser (kernel/net/bw_at.c): every
 * byte a modem can send. The first two input bytes set the +QIRD length the
 * parser is told to expect; the rest is fed byte by byte. Checks that no
 * payload runs past what was announced and that lines stay in their buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bw_at.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bw_at_parser p;
    bw_at_init(&p);
    if (size < 2) {
        return 0;
    }
    uint32_t announced = (uint32_t)data[0] << 8 | data[1];
    bw_at_expect_payload(&p, announced);
    uint32_t payload = 0;
    for (size_t i = 2; i < size; i++) {
        bw_at_event e = bw_at_feed(&p, data[i]);
        if (e == BW_AT_EV_DATA) {
            payload++;
        }
        if (e == BW_AT_EV_LINE && p.msg.kind == BW_AT_QIRD && p.msg.a > announced) {
            abort();
        }
        if (p.len >= sizeof p.line) {
            abort();
        }
        if (e == BW_AT_EV_LINE && data[i] != '\n') {
            abort();   /* a line ends only at LF */
        }
    }
    if (payload > announced || payload > BW_MODEM_READ_MAX) {
        abort();
    }
    return 0;
}
