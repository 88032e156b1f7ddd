/*
 * Arm semihosting calls used by the QEMU port (emulation only: on hardware
 * without a debugger these would fault). Entropy comes from the host's
 * /dev/urandom; test runs end with an exit code.
 */
#ifndef SEMIHOSTING_H
#define SEMIHOSTING_H

#include <stddef.h>
#include <stdint.h>

/* Reads len bytes of host entropy; returns 0 on success. */
int semihosting_entropy(void *buf, size_t len);

/* Ends the emulation with an exit code (SYS_EXIT_EXTENDED). */
void semihosting_exit(uint32_t code) __attribute__((noreturn));

#endif
