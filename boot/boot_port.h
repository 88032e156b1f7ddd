/*
 * The boot stub's port contract: what a board gives the portable stub
 * (boot/boot.c). Addresses come from the board's memory map (memory_map.h):
 * the kernel slot, its seal (KERNEL_SEAL) and the anti-rollback counter
 * (ROLLBACK); the functions here are the rest. The stub runs with no heap and
 * no RAM state (boot.ld), on its 4 KiB stack.
 */
#ifndef BOOT_PORT_H
#define BOOT_PORT_H

#include <stddef.h>
#include <stdint.h>

/* Makes the kernel console ready; called once, first. */
void boot_port_init(void);

/* Writes len bytes to the kernel console. */
void boot_port_console(const char *text, size_t len);

/* The SHA-256 of the trusted kernel root's public key (0x04 || X || Y):
 * immutable, from the stub's own image (qemu-an505) or OTP (STM32U585). */
const uint8_t *boot_port_root_hash(void);

/* Stops for good after a refusal, never starting the kernel. */
_Noreturn void boot_port_halt(void);

#endif
