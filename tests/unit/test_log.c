/*
 * bw_log: the kernel's formatter and console lines.
 * Promises checked:
 *  - each supported conversion (%s %c %d %i %u %x %X %p %% with hh h l ll z)
 *    prints what C's printf would, including extreme values;
 *  - field width, '0' padding (after the sign) and '-' justification;
 *  - NULL strings print "(null)", an unknown conversion is copied verbatim;
 *  - the formatter never writes past its buffer, always terminates it, and
 *    returns the untruncated length;
 *  - a kernel line is "[kernel] " + text + "\n" in one console write, at most
 *    BW_LOG_LINE_MAX bytes, and a cut line ends in "...\n";
 *  - an app message prints as "[app-log] " + text + "\n", every byte that is
 *    not printable ASCII (and the backslash) as \xNN, never truncated;
 *  - a line logged by a context that preempts a console write comes out
 *    whole, after the interrupted one (lines never interleave); lines that
 *    find the queue full are dropped, counted and announced; an app restart
 *    frees a console an abandoned writer held; a fatal line (the kernel
 *    resets next) is written at once even over a preempted write.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "bw_config.h"
#include "bw_log.h"
#include "test_support.h"

static char out[256];

#define EXPECT_FORMAT(expected, ...)                                        \
    do {                                                                    \
        size_t len_ = bw_format(out, sizeof out, __VA_ARGS__);              \
        assert_string_equal(out, expected);                                 \
        assert_int_equal(len_, strlen(expected));                           \
    } while (0)

static void strings_and_characters(void **state)
{
    (void)state;
    EXPECT_FORMAT("plain text", "plain text");
    EXPECT_FORMAT("a hello b", "a %s b", "hello");
    static const char *volatile no_string = NULL;   /* volatile: GCC flags a known-NULL %s */
    bw_format(out, sizeof out, "%s", no_string);
    assert_string_equal(out, "(null)");
    EXPECT_FORMAT("   ab|", "%5s|", "ab");
    EXPECT_FORMAT("ab   |", "%-5s|", "ab");
    EXPECT_FORMAT("toolong", "%3s", "toolong");
    EXPECT_FORMAT("x=Q", "x=%c", 'Q');
    EXPECT_FORMAT("100%", "100%%");
    EXPECT_FORMAT("", "%s", "");
}

static void signed_decimals(void **state)
{
    (void)state;
    EXPECT_FORMAT("0", "%d", 0);
    EXPECT_FORMAT("-42", "%d", -42);
    EXPECT_FORMAT("42", "%i", 42);
    EXPECT_FORMAT("2147483647", "%d", INT_MAX);
    EXPECT_FORMAT("-2147483648", "%d", INT_MIN);
    EXPECT_FORMAT("-9223372036854775808", "%lld", LLONG_MIN);
    EXPECT_FORMAT("9223372036854775807", "%lld", LLONG_MAX);
    char expected[32];
    snprintf(expected, sizeof expected, "%ld", LONG_MIN);
    EXPECT_FORMAT(expected, "%ld", LONG_MIN);
    EXPECT_FORMAT("-1", "%hhd", (signed char)-1);
    EXPECT_FORMAT("-300", "%hd", (short)-300);
    /* The value is cut to the modifier's width, as printf does (a non-literal
     * format: compilers reject a mismatched literal). */
    const char *short_format = "%hd";
    bw_format(out, sizeof out, short_format, 70000);
    assert_string_equal(out, "4464");
    EXPECT_FORMAT("-123", "%zd", (ptrdiff_t)-123);
}

static void unsigned_and_hex(void **state)
{
    (void)state;
    EXPECT_FORMAT("4294967295", "%u", UINT_MAX);
    EXPECT_FORMAT("deadbeef", "%x", 0xDEADBEEFu);
    EXPECT_FORMAT("DEADBEEF", "%X", 0xDEADBEEFu);
    EXPECT_FORMAT("0", "%x", 0u);
    EXPECT_FORMAT("18446744073709551615", "%llu", ULLONG_MAX);
    EXPECT_FORMAT("ffffffffffffffff", "%llx", ULLONG_MAX);
    EXPECT_FORMAT("FFFFFFFFFFFFFFFF", "%llX", ULLONG_MAX);
    char expected[64];
    snprintf(expected, sizeof expected, "%lu %lx", ULONG_MAX, ULONG_MAX);
    EXPECT_FORMAT(expected, "%lu %lx", ULONG_MAX, ULONG_MAX);
    EXPECT_FORMAT("255", "%hhu", (unsigned char)0xFFu);
    EXPECT_FORMAT("65535", "%hu", (unsigned short)0xFFFFu);
    const char *char_format = "%hhu";
    bw_format(out, sizeof out, char_format, 0x1FFu);
    assert_string_equal(out, "255");
    EXPECT_FORMAT("12345", "%zu", (size_t)12345);
    EXPECT_FORMAT("3039", "%zx", (size_t)12345);
}

static void width_and_padding(void **state)
{
    (void)state;
    EXPECT_FORMAT("0000beef", "%08x", 0xBEEFu);
    EXPECT_FORMAT("    beef", "%8x", 0xBEEFu);
    EXPECT_FORMAT("beef    |", "%-8x|", 0xBEEFu);
    const char *both_flags = "%-08x|";   /* not a literal: the compiler would warn */
    bw_format(out, sizeof out, both_flags, 0xBEEFu);
    assert_string_equal(out, "beef    |");   /* '-' wins over '0' */
    EXPECT_FORMAT("-0042", "%05d", -42);
    EXPECT_FORMAT("  -42", "%5d", -42);
    EXPECT_FORMAT("-42  |", "%-5d|", -42);
    EXPECT_FORMAT("123456", "%3d", 123456);
    EXPECT_FORMAT("00000000000000000001", "%020llu", 1ull);
    EXPECT_FORMAT("0x00c0ffee", "0x%08lx", 0xC0FFEEul);
}

static void pointers(void **state)
{
    (void)state;
    EXPECT_FORMAT("0x1234", "%p", (void *)(uintptr_t)0x1234u);
    EXPECT_FORMAT("0x0", "%p", (void *)NULL);
    EXPECT_FORMAT("    0x1234", "%10p", (void *)(uintptr_t)0x1234u);
}

static void unknown_conversions_are_copied(void **state)
{
    (void)state;
    /* Not literals, so the compiler's format check does not object. */
    const char *unknown = "a%qb";
    size_t len = bw_format(out, sizeof out, unknown, 1);
    assert_string_equal(out, "a%qb");
    assert_int_equal(len, 4);
    const char *trailing = "end%";
    bw_format(out, sizeof out, trailing, 0);
    assert_string_equal(out, "end%");
    const char *width_then_unknown = "[%5q]";
    bw_format(out, sizeof out, width_then_unknown, 0);
    assert_string_equal(out, "[%5q]");
}

static void formatter_never_overruns(void **state)
{
    (void)state;
    char small[8];
    memset(small, '#', sizeof small);
    assert_int_equal(bw_format(small, sizeof small, "%s", "abcdefghij"), 10);
    assert_string_equal(small, "abcdefg");

    memset(small, '#', sizeof small);
    assert_int_equal(bw_format(small, 1, "%d", 12345), 5);
    assert_int_equal(small[0], '\0');
    assert_int_equal(small[1], '#');

    memset(small, '#', sizeof small);
    assert_int_equal(bw_format(small, 0, "%s", "xyz"), 3);
    assert_int_equal(small[0], '#');

    /* A width far larger than the buffer. */
    char guard[16];
    memset(guard, '#', sizeof guard);
    assert_int_equal(bw_format(guard, 8, "%200d", 7), 200);
    assert_int_equal(strlen(guard), 7);
    assert_int_equal(guard[8], '#');

    /* Exactly fitting. */
    assert_int_equal(bw_format(small, sizeof small, "1234567"), 7);
    assert_string_equal(small, "1234567");
}

static void kernel_line_format(void **state)
{
    (void)state;
    bw_log("x=%d %s", 5, "ok");
    assert_string_equal(port_host_console(), "[kernel] x=5 ok\n");
    assert_int_equal(port_host_console_writes(), 1);
}

static void long_kernel_line_is_cut_with_a_marker(void **state)
{
    (void)state;
    char text[600];
    for (size_t i = 0; i < sizeof text - 1; i++) {
        text[i] = (char)('a' + i % 26);
    }
    text[sizeof text - 1] = '\0';

    bw_log("%s", text);
    const char *line = port_host_console();
    size_t len = port_host_console_len();
    assert_int_equal(len, BW_LOG_LINE_MAX);
    assert_int_equal(port_host_console_writes(), 1);
    assert_memory_equal(line, "[kernel] ", 9);
    assert_memory_equal(line + len - 4, "...\n", 4);
    assert_memory_equal(line + 9, text, len - 9 - 4);
}

static void line_of_exactly_the_maximum_is_not_cut(void **state)
{
    (void)state;
    const size_t fits = BW_LOG_LINE_MAX - 9 - 1;   /* prefix and newline */
    char text[BW_LOG_LINE_MAX + 2];
    memset(text, 'z', sizeof text);
    text[fits] = '\0';
    bw_log("%s", text);
    assert_int_equal(port_host_console_len(), BW_LOG_LINE_MAX);
    assert_int_equal(port_host_console()[BW_LOG_LINE_MAX - 2], 'z');
    assert_int_equal(port_host_console()[BW_LOG_LINE_MAX - 1], '\n');

    port_host_console_clear();
    text[fits] = 'z';
    text[fits + 1] = '\0';
    bw_log("%s", text);
    assert_int_equal(port_host_console_len(), BW_LOG_LINE_MAX);
    assert_memory_equal(port_host_console() + BW_LOG_LINE_MAX - 4, "...\n", 4);
}

static void app_message_plain(void **state)
{
    (void)state;
    const uint8_t msg[] = "hello, world";
    bw_log_app_message(msg, sizeof msg - 1);
    assert_string_equal(port_host_console(), "[app-log] hello, world\n");
    bw_log_app_message(msg, 0);
    assert_string_equal(port_host_console(), "[app-log] hello, world\n[app-log] \n");
}

static void app_message_escapes_unprintable_bytes(void **state)
{
    (void)state;
    const uint8_t msg[] = { 'a', 0x00, 0x1B, '[', '2', 'J', 0x7F, 0x80, 0xFF, '\\', '\n', '\r', '~', ' ' };
    bw_log_app_message(msg, sizeof msg);
    assert_string_equal(port_host_console(),
                        "[app-log] a\\x00\\x1b[2J\\x7f\\x80\\xff\\x5c\\x0a\\x0d~ \n");
}

static void long_app_message_is_printed_whole(void **state)
{
    (void)state;
    uint8_t msg[BW_LOG_MESSAGE_MAX];
    memset(msg, 0xFF, sizeof msg);
    msg[0] = 'S';
    msg[sizeof msg - 1] = 'E';
    bw_log_app_message(msg, sizeof msg);
    const char *text = port_host_console();
    size_t expected = 10 + 1 + 4 * (BW_LOG_MESSAGE_MAX - 2) + 1 + 1;
    assert_int_equal(port_host_console_len(), expected);
    assert_memory_equal(text, "[app-log] S\\xff", 15);
    assert_memory_equal(text + expected - 6, "\\xffE\n", 6);
    /* Exactly one newline, at the end. */
    assert_ptr_equal(strchr(text, '\n'), text + expected - 1);
}

static void preempting_line(void)
{
    bw_log("second");
}

static void preempted_lines_never_interleave(void **state)
{
    (void)state;
    port_host_console_preempt(preempting_line);
    bw_log("first line");
    assert_string_equal(port_host_console(), "[kernel] first line\n[kernel] second\n");
}

static void flood(void)
{
    for (unsigned i = 0; i < BW_LOG_PENDING; i++) {
        bw_log("flood %u", i);   /* more than the queue holds */
    }
}

static void full_queue_drops_whole_lines_and_says_so(void **state)
{
    (void)state;
    port_host_console_preempt(flood);
    bw_log("first");
    const char *text = port_host_console();
    size_t queued = BW_LOG_PENDING / strlen("[kernel] flood 10\n");   /* about: lines of 17-20 bytes */
    assert_non_null(strstr(text, "[kernel] first\n[kernel] flood 0\n[kernel] flood 1\n"));
    const char *notice = strstr(text, "[kernel] (");
    assert_non_null(notice);
    unsigned dropped = 0;
    assert_int_equal(sscanf(notice, "[kernel] (%u console lines dropped)\n", &dropped), 1);
    unsigned printed = 0;
    for (const char *p = text; (p = strstr(p, "[kernel] flood ")) != NULL; p++) {
        printed++;
    }
    assert_int_equal(printed + dropped, BW_LOG_PENDING);
    assert_true(printed >= queued / 2u && printed <= queued + 1u);
    assert_ptr_equal(strchr(notice, '\n') + 1, text + port_host_console_len());   /* the last line */
    /* Every line is whole: each starts with the prefix. */
    for (const char *p = text; *p != '\0'; p = strchr(p, '\n') + 1) {
        assert_memory_equal(p, "[kernel] ", 9);
    }
}

static void abandoned_writer(void)
{
    bw_log_console_reset();   /* the app restarted while its kernel call was writing */
    bw_log("after the restart");
}

static void app_restart_frees_the_console(void **state)
{
    (void)state;
    port_host_console_preempt(abandoned_writer);
    bw_log("cut short");
    assert_non_null(strstr(port_host_console(), "[kernel] after the restart\n"));
}

static void fatal_in_a_preempting_context(void)
{
    bw_log("queued before");   /* waits for the preempted writer */
    bw_log_fatal("KERNEL FAULT: %s", "UsageFault");
    assert_int_equal(port_host_lock_depth(), 1);   /* interrupts stay masked for the reset */
    port_irq_unlock(0);   /* the reset would clear it; the host goes on instead */
}

static void fatal_line_is_written_although_a_write_was_preempted(void **state)
{
    (void)state;
    /* A kernel fault preempts a kernel call's write; the writer never
     * resumes (the chip resets), so the fault's line and the queued one
     * must be out before the fatal call returns to its caller's reset. */
    port_host_console_preempt(fatal_in_a_preempting_context);
    bw_log("cut short");
    const char *text = port_host_console();
    const char *fatal = strstr(text, "\n[kernel] queued before\n[kernel] KERNEL FAULT: UsageFault\n");
    assert_non_null(fatal);
    assert_true(strstr(text, "rt\n") > fatal);   /* the preempted rest came after: it never would */
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, test_setup, test_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(strings_and_characters),
        TEST(signed_decimals),
        TEST(unsigned_and_hex),
        TEST(width_and_padding),
        TEST(pointers),
        TEST(unknown_conversions_are_copied),
        TEST(formatter_never_overruns),
        TEST(kernel_line_format),
        TEST(long_kernel_line_is_cut_with_a_marker),
        TEST(line_of_exactly_the_maximum_is_not_cut),
        TEST(app_message_plain),
        TEST(app_message_escapes_unprintable_bytes),
        TEST(long_app_message_is_printed_whole),
        TEST(preempted_lines_never_interleave),
        TEST(full_queue_drops_whole_lines_and_says_so),
        TEST(app_restart_frees_the_console),
        TEST(fatal_line_is_written_although_a_write_was_preempted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
