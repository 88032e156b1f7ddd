/*
 * Board support for Bulwark apps: the app console (newlib's printf writes to
 * it) and the end of a program. Everything else an app does goes through
 * mv_syscalls.h or its own peripherals.
 */
#ifndef BULWARK_BOARD_H
#define BULWARK_BOARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes bytes to the app's console UART (polled). */
void board_console_write(const char *text, size_t len);

/* Ends the program: on the emulator QEMU exits with this code (semihosting);
 * on hardware the app sleeps forever. Never returns. */
void board_exit(uint32_t code) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif
