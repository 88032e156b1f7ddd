/* Strict option values for the CLI: whole-string decimal numbers, versions. */
#ifndef BULWARK_LIB_ARGS_H
#define BULWARK_LIB_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/* A decimal uint32 (no sign, no spaces, no trailing text, no overflow). */
bool args_uint32(const char *text, uint32_t *out);

/* "X.Y.Z" with X, Y <= 255 and Z <= 65535, packed as BW_KERNEL_VERSION_PACK. */
bool args_kernel_version(const char *text, uint32_t *out);

#endif
