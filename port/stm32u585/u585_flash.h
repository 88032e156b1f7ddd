/*
 * The STM32U585 internal flash as a bw_flash_device (bw_flash.h), driven
 * through the FLASH controller, and the board's flash partitions.
 *
 * UNTESTED ON HARDWARE. The register sequence follows RM0456 and ST's HAL for
 * the U5 and runs on the host against a model of the controller
 * (tests/unit/test_u585_flash.c); no chip has run it.
 *
 * The device is the whole 2 MiB array, offset 0 = the first byte of bank 1:
 * 8 KiB sectors (pages), 16-byte program units (quad-words). Only the
 * partitions are handed to the core: the app slot (bank 1), the update
 * journal and the crash log (bank 2); boot stub, kernel slot and identity
 * page are never reachable through bw_flash.
 *
 * Register and memory access goes through a u585_flash_io, so the same code
 * runs on the chip (board_u585.c passes plain loads and stores) and against
 * the host model.
 */
#ifndef U585_FLASH_H
#define U585_FLASH_H

#include <stdbool.h>
#include <stdint.h>

#include "bw_err.h"
#include "bw_flash.h"

/* Bounds on waiting for the controller (FLASH_xxSR.BSY/WDW). Far above the
 * datasheet's quad-word program and page erase times; a controller still
 * busy after them fails the operation with BW_E_IO. */
#define U585_FLASH_PROGRAM_TIMEOUT_US 10000u
#define U585_FLASH_ERASE_TIMEOUT_US   100000u

/* How the driver reaches the chip. Every function is required. */
typedef struct u585_flash_io {
    /* One 32-bit load / store at an absolute address (register or flash word). */
    uint32_t (*read32)(uint32_t address);
    void (*write32)(uint32_t address, uint32_t value);
    /* Copies len bytes of flash from address (any alignment) into buf. */
    void (*read)(uint32_t address, void *buf, uint32_t len);
    /* Microseconds since boot, monotonic (bounds the waits). */
    uint64_t (*now_us)(void);
    /* Masks interrupts and returns the previous state / restores it: the four
     * word writes of a quad-word are not interleaved with anything. */
    uint32_t (*irq_lock)(void);
    void (*irq_unlock)(uint32_t state);
} u585_flash_io;

/* Binds the driver to io (kept by pointer: static storage) and checks the
 * option bytes as loaded (FLASH_OPTR, SECWM1R1, SECWM2R1) through it.
 * BW_OK: the map holds, partitions are available. BW_E_UNAVAILABLE: a finding
 * of U585_FLASH_OPTION_BLOCKERS (*findings receives every finding, the
 * u585_option_finding bits): port_flash_partition then gives NULL for every
 * partition and the device refuses all work. Call once from board_init
 * before the flash is used (host tests call it again with their model);
 * counters restart at zero. Kernel loop / boot code only, as every call here. */
bw_err u585_flash_init(const u585_flash_io *io, uint32_t *findings);

/* The board's NMI handler calls this first: true when FLASH_ECCR says an
 * ECC double error (ECCD) happened during a kernel read through this driver;
 * ECCD is cleared and that read returns BW_E_TORN (a quad-word a power cut
 * left half-written, bw_flash.h). False otherwise (ECCD outside such a read,
 * e.g. an instruction fetch, stays for the NMI's reset path to report). */
bool u585_flash_ecc_nmi(void);

/* The whole array as one device (partitions are windows of it). Its
 * operations return BW_E_UNAVAILABLE until u585_flash_init succeeded. */
const bw_flash_device *u585_flash_device(void);

#endif
