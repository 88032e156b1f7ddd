/*
 * The app's server-log queue (bw_app_log.h): what mvServerLog keeps for the
 * cloud, in the app's own buffer.
 *  - lines come out oldest first with consecutive sequence numbers, their
 *    text byte-exact from the app's buffer, across the ring's wrap;
 *  - a line that finds no room (bytes or index) is counted lost and leaves a
 *    gap in the sequence; so does a line whose copy failed;
 *  - nothing is readable before its commit, nor anything after an
 *    uncommitted line;
 *  - detach (app restart) carries the committed queued lines into kernel RAM
 *    up to BW_APP_LOG_CARRY_BYTES/LINES: they come out first, byte-exact,
 *    whatever the next run does to its buffer; the rest, and uncommitted
 *    lines, are counted lost;
 *  - the app scribbling over its buffer changes only the text read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "bw_app_log.h"
#include "bw_config.h"
#include "test_support.h"

#define BUF_SIZE 1024u

static uintptr_t buf_addr(void)
{
    return (uintptr_t)app_ram;
}

/* Queues one line of text the way mvServerLog does; returns its reserve result. */
static bw_err put_line(const char *text, uint32_t uptime_ms)
{
    bw_app_log_line line;
    uint32_t len = (uint32_t)strlen(text);
    bw_err err = bw_app_log_reserve(len, uptime_ms, &line);
    if (err == BW_OK) {
        assert_int_equal(bw_app_log_write(&line, 0, (const uint8_t *)text, len), BW_OK);
        bw_app_log_commit(&line, true);
    }
    return err;
}

/* Takes the oldest line and checks its sequence and text. */
static void expect_line(uint32_t sequence, const char *text)
{
    bw_app_log_line line;
    assert_true(bw_app_log_peek(&line));
    assert_int_equal(line.sequence, sequence);
    assert_int_equal(line.length, strlen(text));
    uint8_t got[BUF_SIZE];
    assert_int_equal(bw_app_log_read(&line, got), BW_OK);
    assert_memory_equal(got, text, line.length);
    bw_app_log_pop();
}

static void lines_in_order(void **state)
{
    (void)state;
    assert_int_equal(put_line("x", 1), BW_E_UNAVAILABLE);   /* no buffer yet */
    assert_int_equal(bw_app_log_attach(buf_addr(), BUF_SIZE), BW_OK);
    assert_int_equal(bw_app_log_attach(buf_addr(), BUF_SIZE), BW_E_IN_USE);
    assert_int_equal(put_line("first", 10), BW_OK);
    assert_int_equal(put_line("second", 20), BW_OK);
    bw_app_log_line line;
    assert_true(bw_app_log_peek(&line));
    assert_int_equal(line.uptime_ms, 10);
    expect_line(0, "first");
    expect_line(1, "second");
    assert_false(bw_app_log_peek(&line));
    assert_int_equal(bw_app_log_lost(), 0);
    assert_int_equal(bw_app_log_next_sequence(), 2);
}

static void wraps_and_counts_lost(void **state)
{
    (void)state;
    assert_int_equal(bw_app_log_attach(buf_addr(), BUF_SIZE), BW_OK);
    char text[401];
    memset(text, 'a', 400);
    text[400] = '\0';
    assert_int_equal(put_line(text, 0), BW_OK);     /* [0, 400) */
    text[0] = 'b';
    assert_int_equal(put_line(text, 0), BW_OK);     /* [400, 800) */
    text[0] = 'c';
    assert_int_equal(put_line(text, 0), BW_E_FULL); /* 224 left at the end, 0 at the start */
    assert_int_equal(bw_app_log_lost(), 1);
    text[0] = 'a';
    expect_line(0, text);
    text[0] = 'd';
    assert_int_equal(put_line(text, 0), BW_OK);     /* wraps to [0, 400) */
    text[0] = 'b';
    expect_line(1, text);
    text[0] = 'd';
    expect_line(3, text);                           /* sequence 2 was lost: a gap */
    /* A line longer than the whole buffer never fits. */
    char big[BUF_SIZE + 2];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(put_line(big, 0), BW_E_FULL);
    assert_int_equal(bw_app_log_lost(), 2);
}

static void index_limit(void **state)
{
    (void)state;
    assert_int_equal(bw_app_log_attach(buf_addr(), BUF_SIZE), BW_OK);
    for (uint32_t i = 0; i < BW_APP_LOG_LINES; i++) {
        assert_int_equal(put_line("", i), BW_OK);   /* empty lines take no bytes */
    }
    assert_int_equal(put_line("", 0), BW_E_FULL);
    assert_int_equal(bw_app_log_lost(), 1);
    expect_line(0, "");
    assert_int_equal(put_line("again", 0), BW_OK);
}

static void commit_order(void **state)
{
    (void)state;
    assert_int_equal(bw_app_log_attach(buf_addr(), BUF_SIZE), BW_OK);
    bw_app_log_line outer;
    bw_app_log_line inner;
    assert_int_equal(bw_app_log_reserve(5, 0, &outer), BW_OK);
    /* An app interrupt logs while the outer call is still copying. */
    assert_int_equal(bw_app_log_reserve(5, 0, &inner), BW_OK);
    assert_int_equal(bw_app_log_write(&inner, 0, (const uint8_t *)"inner", 5), BW_OK);
    bw_app_log_commit(&inner, true);
    bw_app_log_line line;
    assert_false(bw_app_log_peek(&line));           /* the older line is not committed */
    assert_int_equal(bw_app_log_write(&outer, 0, (const uint8_t *)"out", 3), BW_OK);
    assert_int_equal(bw_app_log_write(&outer, 3, (const uint8_t *)"er", 2), BW_OK);
    assert_int_equal(bw_app_log_write(&outer, 4, (const uint8_t *)"er", 2), BW_E_SIZE);
    bw_app_log_commit(&outer, true);
    expect_line(0, "outer");
    expect_line(1, "inner");
}

static void failed_copy_is_a_gap(void **state)
{
    (void)state;
    assert_int_equal(bw_app_log_attach(buf_addr(), BUF_SIZE), BW_OK);
    bw_app_log_line line;
    assert_int_equal(bw_app_log_reserve(4, 0, &line), BW_OK);
    bw_app_log_commit(&line, false);
    assert_int_equal(put_line("next", 0), BW_OK);
    expect_line(1, "next");
    assert_int_equal(bw_app_log_lost(), 1);
}

static void detach_carries_queued_lines(void **state)
{
    (void)state;
    assert_int_equal(bw_app_log_attach(buf_addr(), BUF_SIZE), BW_OK);
    assert_int_equal(put_line("one", 5), BW_OK);
    assert_int_equal(put_line("two", 6), BW_OK);
    assert_int_equal(bw_app_log_detach(), 0);
    assert_int_equal(bw_app_log_lost(), 0);
    memset(app_ram, 0xEE, BUF_SIZE);                /* the next run reuses its RAM */
    assert_int_equal(bw_app_log_attach(buf_addr() + 2048, 512), BW_OK);
    assert_int_equal(put_line("three", 7), BW_OK);
    bw_app_log_line line;
    assert_true(bw_app_log_peek(&line));
    assert_true(line.carried);
    assert_int_equal(line.uptime_ms, 5);
    expect_line(0, "one");
    expect_line(1, "two");
    expect_line(2, "three");                        /* sequences go on across app runs */
    assert_false(bw_app_log_peek(&line));
}

static void carry_is_bounded(void **state)
{
    (void)state;
    static char big[BW_APP_LOG_CARRY_BYTES / 2 + 2];   /* a line of more than half the carry */
    memset(big, 'b', sizeof big - 1);
    assert_int_equal(bw_app_log_attach(buf_addr(), 4 * BW_APP_LOG_CARRY_BYTES), BW_OK);
    assert_int_equal(put_line(big, 0), BW_OK);      /* 0: carried */
    assert_int_equal(put_line(big, 0), BW_OK);      /* 1: no room left in the carry: lost */
    assert_int_equal(put_line("small", 0), BW_OK);  /* 2: after a line that did not fit: lost too */
    bw_app_log_line open;
    assert_int_equal(bw_app_log_reserve(4, 0, &open), BW_OK);   /* 3: not committed: lost */
    assert_int_equal(bw_app_log_detach(), 3);
    assert_int_equal(bw_app_log_attach(buf_addr(), BUF_SIZE), BW_OK);
    for (unsigned i = 0; i < BW_APP_LOG_CARRY_LINES + 2u; i++) {
        assert_int_equal(put_line("x", 0), BW_OK);  /* 4..: the carry has one line already */
    }
    assert_int_equal(bw_app_log_detach(), 3);       /* 15 carried, 3 lost */
    expect_line(0, big);
    for (unsigned i = 0; i < BW_APP_LOG_CARRY_LINES - 1u; i++) {
        expect_line(4 + i, "x");
    }
    bw_app_log_line line;
    assert_false(bw_app_log_peek(&line));
    assert_int_equal(bw_app_log_lost(), 6);
}

static void scribbled_buffer_changes_only_text(void **state)
{
    (void)state;
    assert_int_equal(bw_app_log_attach(buf_addr(), BUF_SIZE), BW_OK);
    assert_int_equal(put_line("hello", 0), BW_OK);
    memset(app_ram, 0xEE, BUF_SIZE);                /* the app overwrites its buffer */
    bw_app_log_line line;
    assert_true(bw_app_log_peek(&line));
    assert_int_equal(line.length, 5);
    uint8_t got[5];
    assert_int_equal(bw_app_log_read(&line, got), BW_OK);
    for (size_t i = 0; i < sizeof got; i++) {
        assert_int_equal(got[i], 0xEE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(lines_in_order, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(wraps_and_counts_lost, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(index_limit, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(commit_order, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(failed_copy_is_a_gap, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(detach_carries_queued_lines, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(carry_is_bounded, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(scribbled_buffer_changes_only_text, test_setup, test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
