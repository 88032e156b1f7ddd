/*
 * The cloud protocol's binary messages (docs/SPEC.md §13.2), as bulwarkd sees
 * them: strict decoders for what devices send (STATUS, LOG, CRASH) and the
 * encoder for TIME. Pure functions over caller buffers: no allocation, no I/O,
 * so the fuzz target (tests/fuzz/fuzz_cloud_proto.c) runs them as they are.
 *
 * A decoder accepts a payload whole or refuses it whole: wrong version or
 * type, a length that disagrees with the type, or a field out of range.
 */
#ifndef BW_CLOUD_PROTO_H
#define BW_CLOUD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define CP_VERSION 1u
#define CP_TYPE_STATUS 1u
#define CP_TYPE_LOG 2u
#define CP_TYPE_CRASH 3u
#define CP_TYPE_TIME 0x81u

#define CP_STATUS_SIZE 40u
#define CP_LOG_HEADER 12u
#define CP_LOG_LINE_HEADER 6u
#define CP_LOG_MAX 1400u
#define CP_LOG_LINE_MAX 1024u
#define CP_CRASH_RECORD_SIZE 448u
#define CP_CRASH_SIZE (8u + CP_CRASH_RECORD_SIZE)
#define CP_TIME_SIZE 12u
#define CP_WAKE_REASON_MAX 64u   /* enum MvWakeReason values stay far below this */

typedef enum cp_result {
    CP_OK = 0,
    CP_ERR_SHORT,      /* shorter than its header */
    CP_ERR_VERSION,    /* protocol version not 1 */
    CP_ERR_TYPE,       /* unknown type, or not the type the topic carries */
    CP_ERR_LENGTH,     /* the length disagrees with the type or its counts */
    CP_ERR_RANGE,      /* a field out of range */
} cp_result;

typedef struct cp_status {
    uint8_t online;            /* 0 offline (the will), 1 online */
    uint8_t wake_reason;
    uint32_t boot_id, connection_id;
    uint32_t kernel_version, app_version;
    uint32_t uptime_s, lost_lines, crash_count, newest_crash_seq;
} cp_status;

typedef struct cp_log_line {
    uint32_t uptime_ms;
    uint16_t length;           /* <= CP_LOG_LINE_MAX */
    const uint8_t *text;       /* points into the payload; not terminated */
} cp_log_line;

typedef struct cp_log {
    uint16_t count;            /* >= 1 */
    uint32_t boot_id, first_seq;
    const uint8_t *lines;      /* the payload's line area, already validated */
    size_t lines_len;
} cp_log;

typedef struct cp_crash {
    uint32_t boot_id;
    const uint8_t *record;     /* CP_CRASH_RECORD_SIZE bytes in the payload; §7 checks are the caller's */
} cp_crash;

/* A short name for a result ("bad length", ...), for logs and counters. */
const char *cp_result_text(cp_result r);

/* Decodes a STATUS payload (exactly 40 bytes, state 0/1, reserved 0). */
cp_result cp_decode_status(const uint8_t *p, size_t len, cp_status *out);

/* Decodes a LOG payload: count >= 1, every line <= 256 bytes, the lines fill
 * the payload exactly, total <= 2048 bytes, first_seq + count without overflow. */
cp_result cp_decode_log(const uint8_t *p, size_t len, cp_log *out);

/* Line i (< log->count) of a decoded batch; walks from the start (batches are small). */
void cp_log_line_at(const cp_log *log, unsigned i, cp_log_line *out);

/* Decodes a CRASH payload (exactly 456 bytes, reserved 0). */
cp_result cp_decode_crash(const uint8_t *p, size_t len, cp_crash *out);

/* Writes a TIME message (12 bytes) for utc_ms into out. */
void cp_encode_time(uint64_t utc_ms, uint8_t out[CP_TIME_SIZE]);

#endif
