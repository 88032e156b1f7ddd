/*
 * The qemu-an505 flash device (flash_qemu_device.c): the whole file-backed
 * PSRAM window at BOARD_FLASH_BASE with the NOR rules of bw_flash.h, offsets
 * from the window's start. The kernel's partitions (flash_qemu.c) and the
 * boot stub's kernel areas (boot_qemu.c) are windows of it.
 */
#ifndef FLASH_QEMU_H
#define FLASH_QEMU_H

#include "bw_flash.h"

extern const bw_flash_device qemu_flash_device;

#endif
