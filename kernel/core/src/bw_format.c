/*
 * The formatter (bw_format.h). It writes through a `sink` that counts every
 * character it is given but stores only while room is left for the
 * terminating NUL, so the count is the untruncated length and the buffer is
 * never overrun. It keeps no state outside the stack: it is reentrant.
 * Portable and free of the port: the host CLI and bulwarkd compile it too
 * (bw_manifest_describe).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "bw_format.h"

typedef struct sink {
    char *buf;
    size_t size;
    size_t len;   /* characters produced so far, stored or not */
} sink;

typedef struct field {
    size_t width;
    bool zero_pad;
    bool left_justify;
} field;

static void put_char(sink *s, char c)
{
    if (s->len + 1 < s->size) {
        s->buf[s->len] = c;
    }
    s->len++;
}

static void put_repeated(sink *s, char c, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        put_char(s, c);
    }
}

static void put_string(sink *s, const char *text, const field *f)
{
    size_t len = strlen(text);
    size_t pad = f->width > len ? f->width - len : 0;
    if (!f->left_justify) {
        put_repeated(s, ' ', pad);
    }
    for (size_t i = 0; i < len; i++) {
        put_char(s, text[i]);
    }
    if (f->left_justify) {
        put_repeated(s, ' ', pad);
    }
}

/* Prints sign, prefix ("0x" or ""), then the digits of magnitude in base 10 or 16. */
static void put_number(sink *s, unsigned long long magnitude, bool negative, bool hex,
                       bool upper, const char *prefix, const field *f)
{
    const char *digit_set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char digits[24];   /* 2^64 has 20 decimal digits */
    size_t count = 0;
    do {
        unsigned digit = hex ? (unsigned)(magnitude & 0xFu) : (unsigned)(magnitude % 10u);
        digits[count++] = digit_set[digit];
        magnitude = hex ? magnitude >> 4 : magnitude / 10u;
    } while (magnitude != 0);

    size_t prefix_len = strlen(prefix);
    size_t body = count + prefix_len + (negative ? 1u : 0u);
    size_t pad = f->width > body ? f->width - body : 0;
    bool zeros = f->zero_pad && !f->left_justify;

    if (!f->left_justify && !zeros) {
        put_repeated(s, ' ', pad);
    }
    if (negative) {
        put_char(s, '-');
    }
    for (size_t i = 0; i < prefix_len; i++) {
        put_char(s, prefix[i]);
    }
    if (zeros) {
        put_repeated(s, '0', pad);
    }
    while (count > 0) {
        put_char(s, digits[--count]);
    }
    if (f->left_justify) {
        put_repeated(s, ' ', pad);
    }
}

typedef enum length_modifier { LEN_CHAR, LEN_SHORT, LEN_INT, LEN_LONG, LEN_LONG_LONG, LEN_SIZE } length_modifier;

static long long take_signed(va_list *args, length_modifier len)
{
    switch (len) {
    case LEN_CHAR:      return (signed char)va_arg(*args, int);
    case LEN_SHORT:     return (short)va_arg(*args, int);
    case LEN_LONG:      return va_arg(*args, long);
    case LEN_LONG_LONG: return va_arg(*args, long long);
    case LEN_SIZE:      return (long long)va_arg(*args, ptrdiff_t);
    case LEN_INT:
    default:            return va_arg(*args, int);
    }
}

static unsigned long long take_unsigned(va_list *args, length_modifier len)
{
    switch (len) {
    case LEN_CHAR:      return (unsigned char)va_arg(*args, unsigned);
    case LEN_SHORT:     return (unsigned short)va_arg(*args, unsigned);
    case LEN_LONG:      return va_arg(*args, unsigned long);
    case LEN_LONG_LONG: return va_arg(*args, unsigned long long);
    case LEN_SIZE:      return va_arg(*args, size_t);
    case LEN_INT:
    default:            return va_arg(*args, unsigned);
    }
}

size_t bw_vformat(char *out, size_t size, const char *fmt, va_list args)
{
    sink s = { .buf = out, .size = size, .len = 0 };
    va_list ap;
    va_copy(ap, args);

    const char *p = fmt;
    while (*p != '\0') {
        if (*p != '%') {
            put_char(&s, *p++);
            continue;
        }
        const char *spec_start = p++;

        field f = { .width = 0, .zero_pad = false, .left_justify = false };
        for (;; p++) {
            if (*p == '0') {
                f.zero_pad = true;
            } else if (*p == '-') {
                f.left_justify = true;
            } else {
                break;
            }
        }
        while (*p >= '0' && *p <= '9') {
            if (f.width < 1000) {   /* a bound, not a feature: widths come from our own strings */
                f.width = f.width * 10u + (size_t)(*p - '0');
            }
            p++;
        }

        length_modifier len = LEN_INT;
        if (p[0] == 'h' && p[1] == 'h') {
            len = LEN_CHAR;
            p += 2;
        } else if (p[0] == 'h') {
            len = LEN_SHORT;
            p++;
        } else if (p[0] == 'l' && p[1] == 'l') {
            len = LEN_LONG_LONG;
            p += 2;
        } else if (p[0] == 'l') {
            len = LEN_LONG;
            p++;
        } else if (p[0] == 'z') {
            len = LEN_SIZE;
            p++;
        }

        char conversion = *p;
        if (conversion != '\0') {
            p++;
        }
        switch (conversion) {
        case 'd':
        case 'i': {
            long long value = take_signed(&ap, len);
            unsigned long long magnitude = value < 0 ? 0ull - (unsigned long long)value
                                                     : (unsigned long long)value;
            put_number(&s, magnitude, value < 0, false, false, "", &f);
            break;
        }
        case 'u':
            put_number(&s, take_unsigned(&ap, len), false, false, false, "", &f);
            break;
        case 'x':
        case 'X':
            put_number(&s, take_unsigned(&ap, len), false, true, conversion == 'X', "", &f);
            break;
        case 'p':
            put_number(&s, (uintptr_t)va_arg(ap, void *), false, true, false, "0x", &f);
            break;
        case 'c': {
            char text[2] = { (char)va_arg(ap, int), '\0' };
            if (text[0] == '\0') {
                put_char(&s, '\0');   /* a NUL character still counts as one */
            } else {
                put_string(&s, text, &f);
            }
            break;
        }
        case 's': {
            const char *text = va_arg(ap, const char *);
            put_string(&s, text != NULL ? text : "(null)", &f);
            break;
        }
        case '%':
            put_char(&s, '%');
            break;
        default:
            /* Unknown or missing conversion: copy the specification verbatim. */
            while (spec_start < p) {
                put_char(&s, *spec_start++);
            }
            break;
        }
    }
    va_end(ap);

    if (size > 0) {
        out[s.len < size ? s.len : size - 1] = '\0';
    }
    return s.len;
}

size_t bw_format(char *out, size_t size, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    size_t len = bw_vformat(out, size, fmt, args);
    va_end(args);
    return len;
}
