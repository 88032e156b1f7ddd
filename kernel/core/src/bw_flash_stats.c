/* Flash work per partition since boot (bw_flash.h: bw_flash_stats_get, bw_flash_count). */
#include "bw_flash.h"
#include "bw_port.h"

#include <stdbool.h>
#include <stddef.h>

/* Flash work per board partition since boot (bw_flash_stats_get). Only the
 * kernel loop, boot code and the supervisor thread (with the loop held off)
 * program or erase, so plain counters suffice. */
static bw_flash_stats stats[BW_PARTITION_COUNT];

void bw_flash_count(const bw_flash_partition *p, uint32_t erased, uint32_t programmed)
{
    for (unsigned id = 0; id < BW_PARTITION_COUNT; id++) {
        if (port_flash_partition((bw_partition_id)id) == p) {
            stats[id].sectors_erased += erased;
            stats[id].bytes_programmed += programmed;
            return;
        }
    }
}

bool bw_flash_stats_get(bw_partition_id id, bw_flash_stats *out)
{
    if ((unsigned)id >= BW_PARTITION_COUNT || port_flash_partition(id) == NULL) {
        *out = (bw_flash_stats){ 0, 0 };
        return false;
    }
    *out = stats[id];
    return true;
}
