/*
 * Console lines (see bw_log.h); the formatter is bw_format.c. The
 * console writer's state (`console`) changes only under port_irq_lock:
 * `busy` while one context owns the port; `pending` holds whole pieces
 * queued by contexts that preempted it, in order.
 */
#include <stdbool.h>
#include <string.h>

#include "bw_config.h"
#include "bw_log.h"
#include "bw_port.h"

static const char kernel_prefix[] = "[kernel] ";
static const char app_prefix[] = "[app-log] ";
static const char cut_marker[] = "...";

_Static_assert(BW_LOG_LINE_MAX >= sizeof kernel_prefix + sizeof cut_marker + 1,
               "BW_LOG_LINE_MAX leaves no room for text");
_Static_assert(BW_LOG_CHUNK >= sizeof app_prefix + 4, "BW_LOG_CHUNK too small");

static struct {
    bool busy;
    size_t used;
    uint32_t dropped;
    char pending[BW_LOG_PENDING];
} console;

/* Takes up to size queued bytes into out (lock held by the caller). */
static size_t take_pending(char *out, size_t size)
{
    size_t n = console.used < size ? console.used : size;
    memcpy(out, console.pending, n);
    memmove(console.pending, console.pending + n, console.used - n);
    console.used -= n;
    return n;
}

void bw_log_write(const char *text, size_t len)
{
    uint32_t state = port_irq_lock();
    if (console.busy) {
        if (len <= sizeof console.pending - console.used) {
            memcpy(console.pending + console.used, text, len);
            console.used += len;
        } else {
            console.dropped++;
        }
        port_irq_unlock(state);
        return;
    }
    console.busy = true;
    port_irq_unlock(state);
    port_console_write(text, len);
    for (;;) {
        char chunk[BW_LOG_CHUNK];
        state = port_irq_lock();
        size_t n = take_pending(chunk, sizeof chunk);
        uint32_t dropped = n == 0 ? console.dropped : 0u;
        console.dropped -= dropped;
        console.busy = n > 0 || dropped > 0;
        port_irq_unlock(state);
        if (n > 0) {
            port_console_write(chunk, n);
        } else if (dropped > 0) {
            n = bw_format(chunk, sizeof chunk, "%s(%u console lines dropped)\n", kernel_prefix,
                          (unsigned)dropped);
            port_console_write(chunk, n < sizeof chunk ? n : sizeof chunk - 1u);
        } else {
            return;
        }
    }
}

void bw_log_console_reset(void)
{
    uint32_t state = port_irq_lock();
    console.busy = false;
    port_irq_unlock(state);
}

/* Formats "[kernel] " + text + "\n" into line[BW_LOG_LINE_MAX]; its length. */
static size_t format_line(char *line, const char *fmt, va_list args)
{
    const size_t prefix_len = sizeof kernel_prefix - 1;
    memcpy(line, kernel_prefix, prefix_len);

    /* The text area ends where the newline will go; bw_vformat puts its NUL there. */
    char *text = line + prefix_len;
    const size_t text_size = BW_LOG_LINE_MAX - prefix_len;
    size_t text_len = bw_vformat(text, text_size, fmt, args);
    if (text_len >= text_size) {
        text_len = text_size - 1;
        memcpy(text + text_len - (sizeof cut_marker - 1), cut_marker, sizeof cut_marker - 1);
    }
    text[text_len] = '\n';
    return prefix_len + text_len + 1;
}

void bw_log(const char *fmt, ...)
{
    char line[BW_LOG_LINE_MAX];
    va_list args;
    va_start(args, fmt);
    size_t len = format_line(line, fmt, args);
    va_end(args);
    bw_log_write(line, len);
}

void bw_log_fatal(const char *fmt, ...)
{
    char line[BW_LOG_LINE_MAX];
    va_list args;
    va_start(args, fmt);
    size_t len = format_line(line, fmt, args);
    va_end(args);

    (void)port_irq_lock();   /* never unlocked: the caller stops the kernel */
    if (console.busy) {
        /* The preempted writer never resumes: end its line, then what it queued. */
        port_console_write("\n", 1);
    }
    console.busy = true;
    port_console_write(console.pending, console.used);
    console.used = 0;
    port_console_write(line, len);
}

void bw_log_app_begin(bw_log_app_line *line)
{
    line->used = sizeof app_prefix - 1;
    memcpy(line->chunk, app_prefix, line->used);
}

void bw_log_app_append(bw_log_app_line *line, const uint8_t *bytes, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        if (line->used + 4 > sizeof line->chunk) {
            bw_log_write(line->chunk, line->used);
            line->used = 0;
        }
        uint8_t byte = bytes[i];
        if (byte >= 0x20 && byte < 0x7F && byte != '\\') {
            line->chunk[line->used++] = (char)byte;
        } else {
            line->chunk[line->used++] = '\\';
            line->chunk[line->used++] = 'x';
            line->chunk[line->used++] = hex[byte >> 4];
            line->chunk[line->used++] = hex[byte & 0xFu];
        }
    }
}

void bw_log_app_end(bw_log_app_line *line)
{
    if (line->used + 1 > sizeof line->chunk) {
        bw_log_write(line->chunk, line->used);
        line->used = 0;
    }
    line->chunk[line->used++] = '\n';
    bw_log_write(line->chunk, line->used);
}

void bw_log_app_message(const uint8_t *msg, size_t len)
{
    bw_log_app_line line;
    bw_log_app_begin(&line);
    bw_log_app_append(&line, msg, len);
    bw_log_app_end(&line);
}
