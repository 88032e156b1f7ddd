/*
 * libFuzzer target for the kernel's decoder of the cloud's messages
 * (kernel/net/bw_cloud_proto.c, docs/SPEC.md §13.2 and §15): every payload
 * that can arrive on bw/D/down/#, from the broker or anyone who can publish
 * there. Each decode either refuses the bytes or returns fields that agree
 * with them: a CHUNK's bytes lie inside the payload and fill it exactly, are
 * at most BW_CLOUD_CHUNK_MAX, and only come with status OK; a DEPLOY's head
 * fits §6's bounds and lies inside its bundle (or it names no target); an
 * HTTP_RESPONSE or MQTT_DOWN piece (§16.1, §18.1) has a request ID,
 * 1..BW_CLOUD_HTTP_PIECE_MAX bytes that fill the payload exactly, and ends
 * inside its stream; a DEBUG_DOWN (§21.5) has an exchange ID and 1..
 * BW_CLOUD_DEBUG_MAX session bytes that fill the payload exactly; a KEY_SET
 * (§13.5) carries BW_CLOUD_KEY_SET_MIN..MAX bytes that fill it exactly.
 */
#include <stdint.h>
#include <stdlib.h>

#include "bw_cloud_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bw_cloud_down down;
    if (bw_cloud_decode_down(data, size, &down) != BW_OK) {
        return 0;
    }
    if (down.type == BW_CLOUD_TYPE_CHUNK) {
        const bw_cloud_chunk *c = &down.chunk;
        if (c->data != data + BW_CLOUD_CHUNK_HEADER || BW_CLOUD_CHUNK_HEADER + (size_t)c->length != size
            || c->length > BW_CLOUD_CHUNK_MAX || (c->status != BW_CLOUD_CHUNK_OK) != (c->length == 0)
            || c->status > BW_CLOUD_CHUNK_UNREADABLE) {
            abort();
        }
    } else if (down.type == BW_CLOUD_TYPE_HTTP_RESPONSE || down.type == BW_CLOUD_TYPE_CONFIG_RESPONSE
               || down.type == BW_CLOUD_TYPE_MQTT_DOWN) {
        const bw_cloud_http_piece *h = &down.http;
        if (h->data != data + BW_CLOUD_HTTP_HEADER || BW_CLOUD_HTTP_HEADER + (size_t)h->length != size
            || h->length == 0 || h->length > BW_CLOUD_HTTP_PIECE_MAX || h->request_id == 0
            || (uint64_t)h->offset + h->length > h->total) {
            abort();
        }
    } else if (down.type == BW_CLOUD_TYPE_DEPLOY) {
        const bw_cloud_deploy *d = &down.deploy;
        if (size != BW_CLOUD_DEPLOY_SIZE
            || (d->deployment_id != 0
                && (d->head_len <= 100u || d->head_len > BW_CLOUD_HEAD_MAX || d->bundle_size <= d->head_len))
            || (d->deployment_id == 0 && (d->head_len != 0 || d->bundle_size != 0))) {
            abort();
        }
    } else if (down.type == BW_CLOUD_TYPE_DEBUG_DOWN) {
        if (down.debug.data != data + BW_CLOUD_DEBUG_HEADER || BW_CLOUD_DEBUG_HEADER + (size_t)down.debug.length != size
            || down.debug.length == 0 || down.debug.length > BW_CLOUD_DEBUG_MAX || down.debug.exchange == 0) {
            abort();
        }
    } else if (down.type == BW_CLOUD_TYPE_KEY_SET) {
        if (down.key_set.data != data + BW_CLOUD_KEY_SET_HEADER
            || BW_CLOUD_KEY_SET_HEADER + (size_t)down.key_set.length != size
            || down.key_set.length < BW_CLOUD_KEY_SET_MIN || down.key_set.length > BW_CLOUD_KEY_SET_MAX) {
            abort();
        }
    } else if (down.type != BW_CLOUD_TYPE_TIME || size != BW_CLOUD_TIME_SIZE
               || down.utc_ms < BW_CLOUD_TIME_MIN_MS) {
        abort();
    }
    return 0;
}
