/*
 * Partition-relative flash operations (bw_flash.h): every request is checked
 * against its partition before the device sees it, so a bad offset or length
 * from a caller (often computed from flash contents read back after a power
 * cut) can never reach another partition. The device enforces the NOR rules
 * itself; this layer only adds the window and the alignment checks that make
 * the error independent of the device. No state.
 */
#include "bw_flash.h"
#include "bw_port.h"

#include <stdbool.h>
#include <stddef.h>

/* A partition is usable when it names a device and lies wholly inside it. */
static bool partition_ok(const bw_flash_partition *p)
{
    return p != NULL && p->device != NULL && p->offset <= p->device->size &&
           p->size <= p->device->size - p->offset;
}

/* [offset, offset+len) inside the partition, without overflow. */
static bool in_partition(const bw_flash_partition *p, uint32_t offset, uint32_t len)
{
    return offset <= p->size && len <= p->size - offset;
}

static bw_err check(const bw_flash_partition *p, uint32_t offset, uint32_t len)
{
    if (!partition_ok(p)) {
        return BW_E_UNAVAILABLE;
    }
    return in_partition(p, offset, len) ? BW_OK : BW_E_SIZE;
}

bw_err bw_flash_read(const bw_flash_partition *p, uint32_t offset, void *buf, uint32_t len)
{
    bw_err err = check(p, offset, len);
    if (err != BW_OK || len == 0) {
        return err;
    }
    return p->device->read(p->device->context, p->offset + offset, buf, len);
}

/* Flash work per board partition since boot (bw_flash_stats_get). Only the
 * kernel loop, boot code and the supervisor thread (with the loop held off)
 * program or erase, so plain counters suffice. */
static bw_flash_stats stats[BW_PARTITION_COUNT];

static void count(const bw_flash_partition *p, uint32_t erased, uint32_t programmed)
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

bw_err bw_flash_program(const bw_flash_partition *p, uint32_t offset, const void *buf, uint32_t len)
{
    bw_err err = check(p, offset, len);
    if (err != BW_OK) {
        return err;
    }
    uint32_t unit_mask = p->device->program_unit - 1u;
    if ((offset & unit_mask) != 0 || (len & unit_mask) != 0) {
        return BW_E_ALIGN;
    }
    if (len == 0) {
        return BW_OK;
    }
    err = p->device->program(p->device->context, p->offset + offset, buf, len);
    if (err == BW_OK) {
        count(p, 0, len);
    }
    return err;
}

bw_err bw_flash_erase_sector(const bw_flash_partition *p, uint32_t offset)
{
    bw_err err = check(p, offset, 0);
    if (err != BW_OK) {
        return err;
    }
    if (offset >= p->size) {
        return BW_E_SIZE;
    }
    if ((offset & (p->device->sector_size - 1u)) != 0) {
        return BW_E_ALIGN;
    }
    err = p->device->erase(p->device->context, p->offset + offset);
    if (err == BW_OK) {
        count(p, 1, 0);
    }
    return err;
}

bw_err bw_flash_erase_range(const bw_flash_partition *p, uint32_t offset, uint32_t len)
{
    bw_err err = check(p, offset, len);
    if (err != BW_OK || len == 0) {
        return err;
    }
    uint32_t sector = p->device->sector_size;
    uint32_t first = offset & ~(sector - 1u);
    uint32_t last = (offset + (len - 1u)) & ~(sector - 1u);   /* no overflow: checked above */
    for (uint32_t at = first;; at += sector) {
        err = p->device->erase(p->device->context, p->offset + at);
        if (err != BW_OK || at == last) {
            return err;
        }
    }
}
