/*
 * Whole-file reads and writes for the CLI, with a size cap so a huge or
 * endless input is refused instead of exhausting memory.
 */
#ifndef BULWARK_LIB_FILE_H
#define BULWARK_LIB_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads the file at path (at most max bytes) into a malloc'd buffer the caller
 * frees. On failure returns false with a reason in reason[reason_size]. */
bool file_read_all(const char *path, size_t max, uint8_t **data, size_t *len, char *reason,
                   size_t reason_size);

/* Writes len bytes to path with the given mode. With exclusive, an existing
 * file is left alone and the call fails ("exists"). The mode is applied even
 * when the file existed. False with a reason on failure. */
bool file_write_all(const char *path, const void *data, size_t len, unsigned mode, bool exclusive,
                    char *reason, size_t reason_size);

#endif
