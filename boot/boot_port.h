/*
 * The boot stub's port contract: what a board gives the portable stub
 * (boot/boot.c). Addresses come from the board's memory map (memory_map.h):
 * the kernel slot, its seal (KERNEL_SEAL) and the anti-rollback counter
 * (ROLLBACK); the functions here are the rest, among them the flash areas
 * of the two kernel copies (docs/SPEC.md §19.5) where the board has them. The stub runs with no heap and
 * no RAM state (boot.ld), on its 4 KiB stack.
 */
#ifndef BOOT_PORT_H
#define BOOT_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_flash.h"

/* Makes the kernel console ready; called once, first. */
void boot_port_init(void);

/* Writes len bytes to the kernel console. */
void boot_port_console(const char *text, size_t len);

/* The SHA-256 of the trusted kernel root's public key (0x04 || X || Y):
 * immutable, from the stub's own image (qemu-an505) or OTP (STM32U585). */
const uint8_t *boot_port_root_hash(void);

/* The kernel areas of docs/SPEC.md §19.5 as windows of the board's flash
 * device: the slot (KERNEL_SLOT then KERNEL_SEAL), KERNEL_NEW, KERNEL_OLD
 * (the same size), KERNEL_STATE, and the ROLLBACK counter; mapped is the
 * address of the device's offset 0 (the stub verifies kernels in place). */
typedef struct boot_kernel_areas {
    bw_flash_partition slot, staged, backup, state, rollback;
    uintptr_t mapped;
} boot_kernel_areas;

/* Fills *areas and returns true, or false when the board has no room for
 * them (it boots its one slot, with no trial and no fallback). */
bool boot_port_kernel_areas(boot_kernel_areas *areas);

/* Stops for good after a refusal, never starting the kernel. */
_Noreturn void boot_port_halt(void);

#endif
