/*
 * The reset marker (bw_reset_marker.h; format: docs/SPEC.md §10).
 *
 * Two copies of six words: magic, info (format, flags), sequence, app
 * version, crashes since healthy, CRC-32 of the five words before it as
 * little-endian bytes. Invariant kept by bw_reset_marker_write: it only ever
 * writes the copy that is not the newest valid one, so whatever a reset cuts
 * short, the other copy still holds the state before that write.
 */
#include <stddef.h>

#include "bw_bytes.h"
#include "bw_identity.h"
#include "bw_reset_marker.h"

enum { W_MAGIC, W_INFO, W_SEQUENCE, W_VERSION, W_CRASHES, W_CHECK };

#define FLAG_RUNNING (1u << 0)
#define FLAG_PARKED  (1u << 1)
#define FLAGS_KNOWN  (FLAG_RUNNING | FLAG_PARKED)

typedef enum copy_kind { COPY_NONE, COPY_OTHER_FORMAT, COPY_DAMAGED, COPY_VALID } copy_kind;

static uint32_t check_of(const uint32_t *copy)
{
    uint8_t bytes[4u * W_CHECK];
    for (size_t i = 0; i < W_CHECK; i++) {
        bytes[4u * i] = (uint8_t)copy[i];
        bytes[4u * i + 1u] = (uint8_t)(copy[i] >> 8);
        bytes[4u * i + 2u] = (uint8_t)(copy[i] >> 16);
        bytes[4u * i + 3u] = (uint8_t)(copy[i] >> 24);
    }
    return bw_crc32(bytes, sizeof bytes);
}

static copy_kind classify(const uint32_t *copy)
{
    if (copy[W_MAGIC] != BW_RESET_MARKER_MAGIC) {
        return COPY_NONE;
    }
    if ((copy[W_INFO] & 0xFFu) != BW_RESET_MARKER_FORMAT) {
        return COPY_OTHER_FORMAT;
    }
    if (copy[W_CHECK] != check_of(copy) || ((copy[W_INFO] >> 8) & ~FLAGS_KNOWN) != 0) {
        return COPY_DAMAGED;
    }
    return COPY_VALID;
}

/* Index (0, 1) of the newest valid copy, or -1; *kinds receives both kinds. */
static int newest_valid(const uint32_t *words, copy_kind kinds[2])
{
    kinds[0] = classify(words);
    kinds[1] = classify(words + BW_RESET_MARKER_COPY_WORDS);
    if (kinds[0] == COPY_VALID && kinds[1] == COPY_VALID) {
        uint32_t s0 = words[W_SEQUENCE], s1 = words[BW_RESET_MARKER_COPY_WORDS + W_SEQUENCE];
        return (int32_t)(s1 - s0) > 0 ? 1 : 0;   /* serial order: survives wrap-around */
    }
    return kinds[0] == COPY_VALID ? 0 : kinds[1] == COPY_VALID ? 1 : -1;
}

void bw_reset_marker_write(uint32_t *words, const bw_reset_marker_state *s)
{
    copy_kind kinds[2];
    int newest = newest_valid(words, kinds);
    uint32_t sequence = newest < 0 ? 1u : words[(size_t)newest * BW_RESET_MARKER_COPY_WORDS + W_SEQUENCE] + 1u;
    uint32_t *copy = words + (newest == 0 ? BW_RESET_MARKER_COPY_WORDS : 0u);
    uint32_t flags = (s->app_running ? FLAG_RUNNING : 0u) | (s->parked ? FLAG_PARKED : 0u);
    copy[W_MAGIC] = BW_RESET_MARKER_MAGIC;
    copy[W_INFO] = BW_RESET_MARKER_FORMAT | flags << 8;
    copy[W_SEQUENCE] = sequence;
    copy[W_VERSION] = s->app_version;
    copy[W_CRASHES] = s->crashes_since_healthy;
    copy[W_CHECK] = check_of(copy);
}

bw_err bw_reset_marker_read(const uint32_t *words, bw_reset_marker_state *out)
{
    copy_kind kinds[2];
    int newest = newest_valid(words, kinds);
    if (newest < 0) {
        if (kinds[0] == COPY_OTHER_FORMAT || kinds[1] == COPY_OTHER_FORMAT) {
            return BW_E_VERSION;
        }
        return kinds[0] == COPY_DAMAGED || kinds[1] == COPY_DAMAGED ? BW_E_IO : BW_E_INVALID;
    }
    const uint32_t *copy = words + (size_t)newest * BW_RESET_MARKER_COPY_WORDS;
    uint32_t flags = copy[W_INFO] >> 8;
    *out = (bw_reset_marker_state){
        .app_running = (flags & FLAG_RUNNING) != 0,
        .parked = (flags & FLAG_PARKED) != 0,
        .app_version = copy[W_VERSION],
        .crashes_since_healthy = copy[W_CRASHES],
    };
    return BW_OK;
}

void bw_reset_marker_clear(uint32_t *words)
{
    words[W_MAGIC] = 0;
    words[BW_RESET_MARKER_COPY_WORDS + W_MAGIC] = 0;
}
