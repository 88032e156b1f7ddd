/*
 * libFuzzer target for bulwarkd's decoders of the HTTP relay (cloud/bulwarkd/
 * cloud_proto.c, docs/SPEC.md §16): an HTTP_REQUEST piece and a whole
 * request stream, as any device can send them. A piece is refused or has a
 * request ID, 1..1792 bytes that end the payload exactly and end inside its
 * stream, which is at most CP_HTTP_STREAM_MAX. A request stream is refused or
 * its fields lie back to back inside it (method, URL, header lines, body,
 * ending the bytes exactly) within §16.2's bounds, and a verdict of OK means
 * an https:// URL, a known method, well-formed header lines and a timeout in
 * range. The response head encoder runs on the decoded lengths (no overrun).
 */
#include <stdint.h>
#include <stdlib.h>

#include "cloud_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cp_http_piece p;
    if (cp_decode_http_piece(data, size, &p) == CP_OK) {
        if (p.request_id == 0 || p.length == 0 || p.length > CP_HTTP_PIECE_MAX || p.data != data + CP_HTTP_HEADER
            || p.data + p.length != data + size || (uint64_t)p.offset + p.length > p.total
            || p.total > CP_HTTP_STREAM_MAX) {
            abort();
        }
    }
    cp_http_request q;
    if (cp_decode_http_request(data, size, &q) != CP_OK) {
        return 0;
    }
    uint32_t lines = 0;
    for (unsigned i = 0; i < q.header_count; i++) {
        if (q.header_length[i] > CP_HTTP_HEADER_LINE_MAX) {
            abort();
        }
        lines += q.header_length[i];
    }
    if (q.header_count > CP_HTTP_HEADERS_MAX || q.method_length > CP_HTTP_METHOD_MAX
        || q.url_length > CP_HTTP_URL_MAX || q.method != data + CP_HTTP_HEAD + 2u * q.header_count
        || q.url != q.method + q.method_length || q.headers != q.url + q.url_length
        || q.body != q.headers + lines || q.body + q.body_length != data + size) {
        abort();
    }
    if (q.verdict == CP_HTTP_OK
        && (q.url_length <= 8 || (q.url[0] | 0x20) != 'h' || q.url[5] != ':' || q.method_length < 3
            || q.timeout_ms < CP_HTTP_TIMEOUT_MIN_MS || q.timeout_ms > CP_HTTP_TIMEOUT_MAX_MS)) {
        abort();
    }
    uint8_t head[CP_HTTP_HEAD + 2 * CP_HTTP_HEADERS_MAX];
    if (cp_encode_http_response_head(CP_HTTP_OK, 200, q.header_count, q.header_length, q.body_length, head)
        != CP_HTTP_HEAD + 2u * q.header_count) {
        abort();
    }
    return 0;
}
