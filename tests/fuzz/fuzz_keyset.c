/*
 * libFuzzer target for the key-set reader (bw_keyset.h, docs/SPEC.md §12.4):
 * any bytes, as a link's KEYS request brings them.
 *
 * Promises checked beyond "no crash, no UB" (ASan + UBSan):
 *  - an accepted set has the exact length for its 1..4 keys, sequence >= 1,
 *    the keys byte for byte as in the record, each a P-256 point, none twice;
 *  - a refusal says why in one bounded, terminated line and leaves the
 *    output zeroed (nothing half-parsed is kept);
 *  - a signature check of an accepted set under an arbitrary key from the
 *    input ends in OK or a refusal with its line, never a crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bw_keyset.h"

#define CHECK(cond)         \
    do {                    \
        if (!(cond)) {      \
            abort();        \
        }                   \
    } while (0)

static void check_line(const char *line, size_t size)
{
    const char *end = memchr(line, '\0', size);
    CHECK(end != NULL && end != line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const bw_keyset zero;
    bw_keyset set;
    char reason[160];
    memset(reason, 0, sizeof reason);
    if (bw_keyset_parse(data, size, &set, reason, sizeof reason) != BW_OK) {
        check_line(reason, sizeof reason);
        CHECK(memcmp(&set, &zero, sizeof set) == 0);
        return 0;
    }
    CHECK(set.key_count >= 1 && set.key_count <= BW_KEYSET_KEYS_MAX);
    CHECK(size == BW_KEYSET_SIZE(set.key_count) && set.sequence >= 1);
    for (uint32_t i = 0; i < set.key_count; i++) {
        CHECK(memcmp(set.keys[i], data + BW_KEYSET_FIXED + i * BW_PUBLIC_KEY_SIZE, BW_PUBLIC_KEY_SIZE) == 0);
        CHECK(bw_manifest_public_key_valid(set.keys[i]));
        for (uint32_t j = 0; j < i; j++) {
            CHECK(memcmp(set.keys[i], set.keys[j], BW_PUBLIC_KEY_SIZE) != 0);
        }
    }
    memset(reason, 0, sizeof reason);
    if (bw_keyset_verify(&set, set.keys[0], reason, sizeof reason) != BW_OK) {
        check_line(reason, sizeof reason);
    }
    return 0;
}
