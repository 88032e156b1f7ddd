/* The anti-rollback counter's writer (bw_rollback.h), through the flash
 * contract: the boot stub's, and the host sweep's. */
#include "bw_rollback.h"

#include "bw_bytes.h"

/* A place holds one record: 16 bytes, or one program unit where units are larger. */
static uint32_t place_size(const bw_flash_partition *region)
{
    uint32_t unit = region->device->program_unit;
    return unit > BW_ROLLBACK_RECORD_SIZE ? unit : BW_ROLLBACK_RECORD_SIZE;
}

/* The 16-byte place at `at` reads all 0xFF; *floor raised by a whole record there. */
static bool place_blank(const bw_flash_partition *region, uint32_t at, uint32_t *floor)
{
    uint8_t r[BW_ROLLBACK_RECORD_SIZE];
    if (bw_flash_read(region, at, r, sizeof r) != BW_OK) {
        return false;   /* unreadable (torn on ECC flash): neither a record nor blank */
    }
    if (bw_rollback_record_whole(r) && bw_get32(r + 4) > *floor) {
        *floor = bw_get32(r + 4);
    }
    bool blank = true;
    for (uint32_t i = 0; i < sizeof r; i++) {
        blank = blank && r[i] == 0xFFu;
    }
    return blank;
}

bw_err bw_rollback_raise(const bw_flash_partition *region, uint32_t value)
{
    uint32_t floor = 0, step = place_size(region);
    for (uint32_t at = 0; at + step <= region->size; at += step) {
        (void)place_blank(region, at, &floor);
    }
    if (floor >= value) {
        return BW_OK;
    }
    uint8_t r[64];
    if (step > sizeof r) {
        return BW_E_SIZE;
    }
    for (uint32_t i = BW_ROLLBACK_RECORD_SIZE; i < step; i++) {
        r[i] = 0xFFu;
    }
    bw_put32(r, BW_ROLLBACK_MAGIC);
    bw_put32(r + 4, value);
    bw_put32(r + 8, ~value);
    bw_put32(r + 12, ~BW_ROLLBACK_MAGIC);
    /* A place that reads blank yet refuses the program (a unit an earlier
     * cut program spent, on program-once storage) is passed over. */
    for (uint32_t at = 0; at + step <= region->size; at += step) {
        if (!place_blank(region, at, &floor)) {
            continue;
        }
        bw_err err = bw_flash_program(region, at, r, step);
        if (err != BW_E_INVALID) {
            return err;
        }
    }
    return BW_E_SIZE;
}
