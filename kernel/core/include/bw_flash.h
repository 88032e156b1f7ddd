/*
 * The flash contract: how the kernel core reads, programs and erases
 * persistent storage, with NOR rules that every implementation enforces:
 *  - erase works on whole sectors and leaves every byte 0xFF;
 *  - program works on whole program units (offset and length multiples of
 *    program_unit) and can only clear bits (1 -> 0): programming a unit that
 *    is not erased where the new data has a 1 is an error, never a silent AND;
 *  - a power cut during program leaves the unit with any subset of its
 *    intended 1->0 transitions done (torn program); during erase, the sector
 *    with any mixture of old bytes, 0xFF and random bits (torn erase).
 * On ECC flash a unit torn that way may not read at all: a read that
 * touches it fails with BW_E_TORN (as a torn record, it is never data).
 * Code above this contract must be correct for every such outcome: it writes
 * a record's commit marker last, validates everything it reads back, and
 * treats BW_E_TORN as "not a valid record / not blank", never as data.
 *
 * A device is a caller-filled struct (context + operations + geometry), as
 * littlefs does; a partition is a window of one device. Offsets are relative
 * to the partition. Implementations: port/<board>/ (real or emulated flash)
 * and tests/sim/ (the host NOR model with power-cut injection).
 */
#ifndef BW_FLASH_H
#define BW_FLASH_H

#include <stdbool.h>
#include <stdint.h>

#include "bw_err.h"

typedef struct bw_flash_device {
    void *context;
    uint32_t size;           /* bytes */
    uint32_t sector_size;    /* erase unit, bytes, a power of two */
    uint32_t program_unit;   /* program unit, bytes, a power of two <= sector_size */
    /* Reads len bytes at offset. BW_E_TORN when the range touches a program
     * unit an interrupted program or erase left half-written, whose ECC no
     * longer matches (ECC flash: the STM32U5 raises an NMI, which the port
     * turns into this error); such a unit reads so until its sector is
     * erased. BW_E_IO on any other hardware error. */
    bw_err (*read)(void *context, uint32_t offset, void *buf, uint32_t len);
    /* Programs whole units (see the NOR rules). BW_E_ALIGN for a misaligned
     * range, BW_E_INVALID for a 0->1 transition, BW_E_IO on a hardware error. */
    bw_err (*program)(void *context, uint32_t offset, const void *buf, uint32_t len);
    /* Erases the sector that starts at offset. BW_E_ALIGN if offset is not a sector start. */
    bw_err (*erase)(void *context, uint32_t offset);
} bw_flash_device;

typedef struct bw_flash_partition {
    const bw_flash_device *device;
    uint32_t offset;         /* sector-aligned start within the device */
    uint32_t size;           /* a whole number of sectors */
} bw_flash_partition;

/* The partitions the kernel uses; a board gives each a place (port_flash_partition). */
typedef enum bw_partition_id {
    BW_PARTITION_APP_SLOT,      /* the app the kernel runs (execute in place) */
    BW_PARTITION_IMAGE_A,       /* update image banks: staging and last-known-good */
    BW_PARTITION_IMAGE_B,
    BW_PARTITION_UPDATE_STATE,  /* the update engine's journal */
    BW_PARTITION_CRASH_LOG,     /* the ring of crash records */
    BW_PARTITION_CREDENTIALS,   /* the device key and certificates (bw_credentials.h) */
    BW_PARTITION_DEBUG_PATCH,   /* power-safe flash breakpoints: records and a scratch sector (bw_debug_patch.h) */
    BW_PARTITION_KERNEL_NEW,    /* a staged kernel, image then seal (docs/SPEC.md §19.5) */
    BW_PARTITION_KERNEL_OLD,    /* the backup kernel (written by the boot stub only) */
    BW_PARTITION_KERNEL_STATE,  /* the kernel-state journal (bw_kernel_slots.h) */
    BW_PARTITION_COUNT
} bw_partition_id;

/* Partition-relative operations: range-checked against the partition (BW_E_SIZE
 * when out of it), then passed to the device. A NULL partition (the board has
 * none) or one not inside its device: BW_E_UNAVAILABLE. program checks unit
 * alignment and erase_sector sector alignment here (BW_E_ALIGN) before the
 * device; a zero length succeeds without calling the device. */
bw_err bw_flash_read(const bw_flash_partition *p, uint32_t offset, void *buf, uint32_t len);
bw_err bw_flash_program(const bw_flash_partition *p, uint32_t offset, const void *buf, uint32_t len);
bw_err bw_flash_erase_sector(const bw_flash_partition *p, uint32_t offset);
/* Erases every sector that overlaps [offset, offset+len). */
bw_err bw_flash_erase_range(const bw_flash_partition *p, uint32_t offset, uint32_t len);

/* Flash work on one of the board's partitions since boot (programs and
 * erases through the functions above), for logs and benchmarks. */
typedef struct bw_flash_stats {
    uint32_t sectors_erased;
    uint32_t bytes_programmed;
} bw_flash_stats;

/* Fills *out for a partition the board has; false (and zeros) otherwise. */
bool bw_flash_stats_get(bw_partition_id id, bw_flash_stats *out);

/* Called by the operations above after each successful erase or program of
 * p (bw_flash_stats.c adds it to the board partition's counts). */
void bw_flash_count(const bw_flash_partition *p, uint32_t erased, uint32_t programmed);

#endif
