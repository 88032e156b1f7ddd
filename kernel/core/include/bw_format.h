/*
 * A small printf-like formatter for the kernel and the tools that share its
 * formats: %d %i %u %x %X %c %s %p %%, with a width, the '0' and '-' flags and
 * the hh, h, l, ll and z length modifiers.
 */
#ifndef BW_FORMAT_H
#define BW_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__)
#define BW_PRINTF_LIKE(format_index, first_arg) \
    __attribute__((format(printf, format_index, first_arg)))
#else
#define BW_PRINTF_LIKE(format_index, first_arg)
#endif

/* Formats into out (size bytes, NUL-terminated when size > 0, never overrun).
 * Returns the length the whole text would have had, as snprintf does, so a
 * result >= size means it was cut. Reentrant; ISR-safe. */
size_t bw_format(char *out, size_t size, const char *fmt, ...) BW_PRINTF_LIKE(3, 4);

/* bw_format with a va_list (consumed). */
size_t bw_vformat(char *out, size_t size, const char *fmt, va_list args) BW_PRINTF_LIKE(3, 0);

#endif
