/* The anti-rollback counter's reader (bw_rollback.h). */
#include "bw_rollback.h"

#include <stdbool.h>

#include "bw_bytes.h"

/* A record is magic, value, ~value, ~magic: a program cut short leaves some
 * bits at 1, and no such partial record has both complementary pairs whole. */
bool bw_rollback_record_whole(const uint8_t *r)
{
    return bw_get32(r) == BW_ROLLBACK_MAGIC && bw_get32(r + 12) == ~BW_ROLLBACK_MAGIC
           && bw_get32(r + 8) == ~bw_get32(r + 4);
}

uint32_t bw_rollback_floor(const uint8_t *region, size_t size)
{
    uint32_t floor = 0;
    for (size_t at = 0; at + BW_ROLLBACK_RECORD_SIZE <= size; at += BW_ROLLBACK_RECORD_SIZE) {
        if (bw_rollback_record_whole(region + at) && bw_get32(region + at + 4) > floor) {
            floor = bw_get32(region + at + 4);
        }
    }
    return floor;
}
