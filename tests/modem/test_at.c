/*
 * The AT response parser (kernel/net/bw_at.c) on vectors: every line of the
 * subset, numbers at and past their limits, the '>' prompt, +QIRD payloads
 * (binary, with CR/LF inside) only up to the length announced, over-long lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "bw_at.h"

static bw_at_msg classify(const char *line)
{
    bw_at_msg msg;
    bw_at_classify(line, strlen(line), &msg);
    return msg;
}

#define EXPECT(line, kind_, a_, b_) do {                 \
        bw_at_msg m_ = classify(line);                    \
        assert_int_equal(m_.kind, (kind_));               \
        assert_int_equal(m_.a, (a_));                     \
        assert_int_equal(m_.b, (b_));                     \
    } while (0)

static void test_lines(void **state)
{
    (void)state;
    EXPECT("OK", BW_AT_OK, 0, 0);
    EXPECT("ERROR", BW_AT_ERROR, 0, 0);
    EXPECT("SEND OK", BW_AT_SEND_OK, 0, 0);
    EXPECT("SEND FAIL", BW_AT_SEND_FAIL, 0, 0);
    EXPECT("RDY", BW_AT_RDY, 0, 0);
    EXPECT("+CME ERROR: 566", BW_AT_CME_ERROR, 566, 0);
    EXPECT("+CEREG: 1,5", BW_AT_CEREG, 5, 0);
    EXPECT("+CEREG: 2,1,\"1A2B\",\"01A2B3C4\",8", BW_AT_CEREG, 1, 0);
    EXPECT("+CEREG: 0", BW_AT_CEREG_URC, 0, 0);
    EXPECT("+CEREG: 1,\"1A2B\",\"01A2B3C4\",8", BW_AT_CEREG_URC, 1, 0);
    EXPECT("+QIACT: 1,1,1,\"10.0.0.2\"", BW_AT_QIACT, 1, 1);
    EXPECT("+QIOPEN: 0,0", BW_AT_QIOPEN, 0, 0);
    EXPECT("+QIOPEN: 11,565", BW_AT_QIOPEN, 11, 565);
    EXPECT("+QIRD: 1500", BW_AT_QIRD, 1500, 0);
    EXPECT("+QIURC: \"recv\",0", BW_AT_URC_RECV, 0, 0);
    EXPECT("+QIURC: \"closed\",3", BW_AT_URC_CLOSED, 3, 0);
    EXPECT("+QIURC: \"pdpdeact\",1", BW_AT_URC_PDPDEACT, 1, 0);
    EXPECT("AT+QIRD=0,1500", BW_AT_ECHO, 0, 0);
    EXPECT("+QIND: \"csq\",20", BW_AT_OTHER, 0, 0);
    EXPECT("OK ", BW_AT_OTHER, 0, 0);
}

static void test_numbers_and_fields_are_checked(void **state)
{
    (void)state;
    EXPECT("+QIRD: 1501", BW_AT_MALFORMED, 0, 0);
    EXPECT("+QIRD: 4294967296", BW_AT_MALFORMED, 0, 0);
    EXPECT("+QIRD: 00000000001", BW_AT_MALFORMED, 0, 0);   /* 11 digits */
    EXPECT("+QIRD: -1", BW_AT_MALFORMED, 0, 0);
    EXPECT("+QIRD: ", BW_AT_MALFORMED, 0, 0);
    EXPECT("+QIRD: 5x", BW_AT_MALFORMED, 0, 0);
    EXPECT("+QIOPEN: 12,0", BW_AT_MALFORMED, 0, 0);
    EXPECT("+QIOPEN: 0,65536", BW_AT_MALFORMED, 0, 0);
    EXPECT("+QIOPEN: 0,0,1", BW_AT_MALFORMED, 0, 0);
    EXPECT("+QIOPEN: 0", BW_AT_MALFORMED, 0, 0);
    EXPECT("+QIURC: \"recv\",12", BW_AT_MALFORMED, 0, 0);
    EXPECT("+QIURC: \"recv\",0,100", BW_AT_MALFORMED, 0, 0);
    EXPECT("+CME ERROR: 99999", BW_AT_MALFORMED, 0, 0);
    EXPECT("+CEREG: 11", BW_AT_MALFORMED, 0, 0);
    EXPECT("+CEREG: 1,x", BW_AT_MALFORMED, 0, 0);
    EXPECT("+QIACT: 1,2,1", BW_AT_MALFORMED, 0, 0);
}

static bw_at_event feed_text(bw_at_parser *p, const char *text, size_t len)
{
    bw_at_event last = BW_AT_EV_NONE;
    for (size_t i = 0; i < len; i++) {
        bw_at_event e = bw_at_feed(p, (uint8_t)text[i]);
        if (e != BW_AT_EV_NONE) {
            last = e;
        }
    }
    return last;
}

static void test_stream_with_echo_prompt_and_payload(void **state)
{
    (void)state;
    bw_at_parser p;
    bw_at_init(&p);
    assert_int_equal(feed_text(&p, "AT\r\r\n", 5), BW_AT_EV_LINE);
    assert_int_equal(p.msg.kind, BW_AT_ECHO);
    assert_int_equal(feed_text(&p, "\r\nOK\r\n", 6), BW_AT_EV_LINE);
    assert_int_equal(p.msg.kind, BW_AT_OK);
    assert_int_equal(feed_text(&p, "\r\n>", 3), BW_AT_EV_PROMPT);
    assert_int_equal(feed_text(&p, " \r\nSEND OK\r\n", 12), BW_AT_EV_LINE);
    assert_int_equal(p.msg.kind, BW_AT_SEND_OK);

    /* A payload with every byte value, CR and LF and '>' among them. */
    uint8_t payload[256];
    for (unsigned i = 0; i < 256; i++) {
        payload[i] = (uint8_t)(255u - i);
    }
    bw_at_expect_payload(&p, 300);
    assert_int_equal(feed_text(&p, "\r\n+QIRD: 256\r\n", 14), BW_AT_EV_LINE);
    assert_int_equal(p.msg.kind, BW_AT_QIRD);
    for (unsigned i = 0; i < 256; i++) {
        assert_int_equal(bw_at_feed(&p, payload[i]), BW_AT_EV_DATA);
        assert_int_equal(p.data, payload[i]);
    }
    assert_int_equal(feed_text(&p, "\r\n\r\nOK\r\n", 8), BW_AT_EV_LINE);
    assert_int_equal(p.msg.kind, BW_AT_OK);
}

static void test_payload_length_never_trusted(void **state)
{
    (void)state;
    bw_at_parser p;
    bw_at_init(&p);
    /* Not announced: malformed, and the bytes after it are lines again. */
    assert_int_equal(feed_text(&p, "+QIRD: 4\r\n", 10), BW_AT_EV_LINE);
    assert_int_equal(p.msg.kind, BW_AT_MALFORMED);
    assert_int_equal(feed_text(&p, "OK\r\n", 4), BW_AT_EV_LINE);
    assert_int_equal(p.msg.kind, BW_AT_OK);
    /* More than announced. */
    bw_at_expect_payload(&p, 100);
    assert_int_equal(feed_text(&p, "+QIRD: 101\r\n", 12), BW_AT_EV_LINE);
    assert_int_equal(p.msg.kind, BW_AT_MALFORMED);
    /* The announcement is used up by one answer. */
    bw_at_expect_payload(&p, 100);
    assert_int_equal(feed_text(&p, "+QIRD: 0\r\n", 10), BW_AT_EV_LINE);
    assert_int_equal(p.msg.kind, BW_AT_QIRD);
    assert_int_equal(feed_text(&p, "+QIRD: 1\r\n", 10), BW_AT_EV_LINE);
    assert_int_equal(p.msg.kind, BW_AT_MALFORMED);
    /* Announcements are capped at the module's limit. */
    bw_at_expect_payload(&p, 100000);
    assert_int_equal(p.payload_max, BW_MODEM_READ_MAX);
}

static void test_long_line(void **state)
{
    (void)state;
    bw_at_parser p;
    bw_at_init(&p);
    for (unsigned i = 0; i < 3u * BW_AT_LINE_MAX; i++) {
        assert_int_equal(bw_at_feed(&p, 'x'), BW_AT_EV_NONE);
    }
    assert_int_equal(bw_at_feed(&p, '\n'), BW_AT_EV_LINE);
    assert_int_equal(p.msg.kind, BW_AT_TOO_LONG);
    assert_int_equal(feed_text(&p, "OK\r\n", 4), BW_AT_EV_LINE);
    assert_int_equal(p.msg.kind, BW_AT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_numbers_and_fields_are_checked),
        cmocka_unit_test(test_stream_with_echo_prompt_and_payload),
        cmocka_unit_test(test_payload_length_never_trusted),
        cmocka_unit_test(test_long_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
