/*
 * libFuzzer target for bulwarkd's decoders of the over-the-air messages a
 * device sends (cloud/bulwarkd/cloud_proto.c, docs/SPEC.md §15): FETCH and
 * UPDATE. Each decoder refuses the bytes or returns fields that agree with
 * them and with §15's bounds: a FETCH asks for 1..1792 bytes; an UPDATE's
 * state is known, its bytes held are at most its size, and its text is
 * printable ASCII inside the payload, which it ends exactly. The encoders of
 * DEPLOY and CHUNK are run on the decoded fields as well (no overrun).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloud_proto.h"

/* Bounds as bulwarkd passes them (bw_update_error, bw_manifest_error counts). */
#define ENGINE_ERRORS 11u
#define MANIFEST_ERRORS 48u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cp_fetch f;
    if (cp_decode_fetch(data, size, &f) == CP_OK) {
        if (size != CP_FETCH_SIZE || f.length == 0 || f.length > CP_CHUNK_MAX) {
            abort();
        }
        uint8_t header[CP_CHUNK_HEADER];
        cp_encode_chunk_header(CP_CHUNK_OK, f.deployment_id, f.offset, f.length, header);
        if (header[1] != CP_TYPE_CHUNK || (header[12] | header[13] << 8) != f.length) {
            abort();
        }
    }
    cp_update u;
    if (cp_decode_update(data, size, ENGINE_ERRORS, MANIFEST_ERRORS, &u) == CP_OK) {
        if (u.state < CP_UPDATE_DOWNLOADING || u.state > CP_UPDATE_STATE_MAX || u.bytes_held > u.size
            || u.text_length > CP_UPDATE_TEXT_MAX || u.text + u.text_length != data + size
            || u.engine_error >= ENGINE_ERRORS || u.manifest_error >= MANIFEST_ERRORS || u.rollback_cause > 2) {
            abort();
        }
        for (unsigned i = 0; i < u.text_length; i++) {
            if (u.text[i] < 0x20 || u.text[i] > 0x7E) {
                abort();
            }
        }
        cp_deploy d = { .deployment_id = u.deployment_id, .app_version = u.app_version, .size = u.size };
        uint8_t msg[CP_DEPLOY_SIZE];
        cp_encode_deploy(&d, msg);
        if (msg[1] != CP_TYPE_DEPLOY || memcmp(msg + 8, data + 8, 4) != 0) {
            abort();
        }
    }
    return 0;
}
