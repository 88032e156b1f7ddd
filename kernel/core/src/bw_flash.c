/*
 * Partition-relative flash operations (bw_flash.h): every request is checked
 * against its partition before the device sees it, so a bad offset or length
 * from a caller (often computed from flash contents read back after a power
 * cut) can never reach another partition. The device enforces the NOR rules
 * itself; this layer only adds the window and the alignment checks that make
 * the error independent of the device. No state: the work done is reported
 * to bw_flash_count (bw_flash_stats.c in the kernel; the boot stub, which
 * keeps no RAM state, gives its own that counts nothing).
 */
#include "bw_flash.h"

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
        bw_flash_count(p, 0, len);
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
        bw_flash_count(p, 1, 0);
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
