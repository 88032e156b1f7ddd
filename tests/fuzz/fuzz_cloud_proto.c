/*
 * libFuzzer target for bulwarkd's cloud-protocol decoder
 * (cloud/bulwarkd/cloud_proto.c, docs/SPEC.md §13.2): every payload a device
 * (or anyone holding a device certificate) can publish. Each decoder either
 * refuses the bytes or returns fields that agree with them: a LOG batch's
 * lines lie inside the payload and fill it exactly.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cloud_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cp_status status;
    if (cp_decode_status(data, size, &status) == CP_OK && (size != CP_STATUS_SIZE || status.online > 1)) {
        abort();
    }
    cp_log log;
    if (cp_decode_log(data, size, &log) == CP_OK) {
        size_t total = 0;
        for (unsigned i = 0; i < log.count; i++) {
            cp_log_line line;
            cp_log_line_at(&log, i, &line);
            if (line.length > CP_LOG_LINE_MAX || line.text < data || line.text + line.length > data + size) {
                abort();
            }
            total += CP_LOG_LINE_HEADER + line.length;
        }
        if (log.count == 0 || total != log.lines_len || size > CP_LOG_MAX) {
            abort();
        }
    }
    cp_crash crash;
    if (cp_decode_crash(data, size, &crash) == CP_OK && crash.record + CP_CRASH_RECORD_SIZE != data + size) {
        abort();
    }
    return 0;
}
