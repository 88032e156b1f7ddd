/*
 * The cloud protocol's device side (bw_cloud.h) over a recorded session:
 *  - after each CONNACK, STATUS (online, this session's connection ID) is the
 *    first publish, and the will is the same STATUS offline;
 *  - queued log lines go out in LOG batches of consecutive sequences, a gap
 *    starts a new batch, one batch in flight at a time;
 *  - a batch lost with its session is published again, byte for byte, on
 *    the next one; a PUBACK settles it and counts its lines;
 *  - a session that takes nothing (full) loses nothing;
 *  - TIME on the device's down topic sets the wall time; anything else is
 *    counted and ignored;
 *  - an app restart (a new wake reason, or version) sends STATUS again on
 *    the same session, once;
 *  - a KEY_SET (§13.5) goes whole to the key-set taker and its answer to
 *    up/keys; a bad envelope never reaches the taker; answers made while one
 *    is in flight keep only the latest, sent after the PUBACK, and one lost
 *    with its session is sent again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "bw_app_log.h"
#include "bw_cloud.h"
#include "bw_kernel.h"
#include "bw_network.h"
#include "test_support.h"

#define ID "BW00112233445566778899AABBCCDDEEFF"

typedef struct sent {
    char topic[BW_CLOUD_TOPIC_MAX];
    uint8_t payload[BW_CLOUD_LOG_MAX];
    size_t len;
    uint16_t id;
} sent;

static sent log_of[16];
static size_t sent_count;
static bool session_full;
static uint16_t next_id = 1;

static bw_err record_publish(void *ctx, const char *topic, const uint8_t *payload, size_t len, uint8_t qos,
                             uint16_t *id)
{
    (void)ctx;
    assert_int_equal(qos, 1);
    if (session_full) {
        return BW_E_FULL;
    }
    assert_true(sent_count < 16);
    sent *s = &log_of[sent_count++];
    snprintf(s->topic, sizeof s->topic, "%s", topic);
    assert_true(len <= sizeof s->payload);
    memcpy(s->payload, payload, len);
    s->len = len;
    s->id = next_id++;
    *id = s->id;
    return BW_OK;
}

static int setup(void **state)
{
    test_setup(state);
    sent_count = 0;
    session_full = false;
    bw_cloud_init(ID, 0xB0070001u, 0x00010000u);
    assert_int_equal(bw_app_log_attach((uintptr_t)app_ram, 4096), BW_OK);
    return 0;
}

/* Every line is logged at uptime 7 ms; pumping at LATER is past its linger. */
#define LATER ((7u + BW_CLOUD_LOG_LINGER_MS) * 1000u)

static void log_line(const char *text)
{
    bw_app_log_line line;
    uint32_t len = (uint32_t)strlen(text);
    assert_int_equal(bw_app_log_reserve(len, 7, &line), BW_OK);
    assert_int_equal(bw_app_log_write(&line, 0, (const uint8_t *)text, len), BW_OK);
    bw_app_log_commit(&line, true);
}

static uint32_t u32_at(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void status_first_and_will(void **state)
{
    (void)state;
    char topic[BW_CLOUD_TOPIC_MAX];
    uint8_t will[BW_CLOUD_STATUS_SIZE];
    bw_cloud_will(0xC0FFEEu, topic, will);
    assert_string_equal(topic, "bw/" ID "/up/status");
    assert_int_equal(will[2], 0);                       /* offline */
    assert_int_equal(u32_at(will + 4), 0xB0070001u);
    assert_int_equal(u32_at(will + 8), 0xC0FFEEu);
    bw_cloud_subscription(topic);
    assert_string_equal(topic, "bw/" ID "/down/#");

    log_line("one");
    bw_cloud_pump(LATER);                               /* not connected: nothing */
    assert_int_equal(sent_count, 0);
    bw_cloud_connected(0xC0FFEEu, record_publish, NULL);
    bw_cloud_pump(LATER);
    assert_int_equal(sent_count, 2);
    assert_string_equal(log_of[0].topic, "bw/" ID "/up/status");
    assert_int_equal(log_of[0].payload[2], 1);          /* online */
    assert_int_equal(u32_at(log_of[0].payload + 8), 0xC0FFEEu);
    assert_string_equal(log_of[1].topic, "bw/" ID "/up/log");
    bw_cloud_pump(LATER + 1000);                        /* everything in flight: nothing new */
    assert_int_equal(sent_count, 2);
}

static void batches_resend_and_gaps(void **state)
{
    (void)state;
    bw_cloud_connected(1, record_publish, NULL);
    log_line("alpha");
    log_line("beta");
    bw_cloud_pump(LATER);
    assert_int_equal(sent_count, 2);
    sent first = log_of[1];
    assert_int_equal(first.payload[2], 2);              /* two lines */
    assert_int_equal(u32_at(first.payload + 8), 0);     /* from sequence 0 */
    log_line("gamma");                                  /* waits: one batch in flight */
    bw_cloud_pump(LATER);
    assert_int_equal(sent_count, 2);

    bw_cloud_disconnected();                            /* lost in flight */
    bw_cloud_connected(2, record_publish, NULL);
    bw_cloud_pump(LATER);
    assert_int_equal(sent_count, 4);                    /* STATUS, then the same batch */
    assert_string_equal(log_of[2].topic, "bw/" ID "/up/status");
    assert_int_equal(log_of[3].len, first.len);
    assert_memory_equal(log_of[3].payload, first.payload, first.len);
    bw_cloud_acked(log_of[1].id);                       /* a PUBACK of the old session: ignored */
    assert_int_equal(bw_cloud_stats()->log_lines_sent, 0);
    bw_cloud_acked(log_of[3].id);
    assert_int_equal(bw_cloud_stats()->log_lines_sent, 2);

    /* A line lost to a full index makes a gap: gamma (2) goes alone. */
    bw_app_log_line lost;
    assert_int_equal(bw_app_log_reserve(3, 0, &lost), BW_OK);
    bw_app_log_commit(&lost, false);                    /* sequence 3 lost */
    log_line("delta");                                  /* sequence 4 */
    bw_cloud_pump(LATER);
    assert_int_equal(sent_count, 5);
    assert_int_equal(log_of[4].payload[2], 1);
    assert_int_equal(u32_at(log_of[4].payload + 8), 2);
    bw_cloud_acked(log_of[4].id);
    bw_cloud_pump(LATER);
    assert_int_equal(sent_count, 6);
    assert_int_equal(u32_at(log_of[5].payload + 8), 4);
}

static void full_session_loses_nothing(void **state)
{
    (void)state;
    bw_cloud_connected(3, record_publish, NULL);
    session_full = true;
    log_line("kept");
    bw_cloud_pump(LATER);
    assert_int_equal(sent_count, 0);
    session_full = false;
    bw_cloud_pump(LATER);
    assert_int_equal(sent_count, 2);
    assert_memory_equal(log_of[1].payload + 18, "kept", 4);
}

/* Lines linger up to BW_CLOUD_LOG_LINGER_MS to share a batch, unless
 * BW_CLOUD_LOG_BATCH_LINES of them are queued. */
static void lines_linger_to_share_a_batch(void **state)
{
    (void)state;
    bw_cloud_connected(4, record_publish, NULL);
    log_line("first");
    bw_cloud_pump(8000);                                /* STATUS only: "first" is 1 ms old */
    assert_int_equal(sent_count, 1);
    log_line("second");
    bw_cloud_pump(LATER - 1000);                        /* 1 ms short of the linger */
    assert_int_equal(sent_count, 1);
    bw_cloud_pump(LATER);
    assert_int_equal(sent_count, 2);
    assert_int_equal(log_of[1].payload[2], 2);          /* both lines in one batch */
    bw_cloud_acked(log_of[1].id);
    for (unsigned i = 0; i < BW_CLOUD_LOG_BATCH_LINES - 1u; i++) {
        log_line("burst");
    }
    bw_cloud_pump(8000);                                /* one short of a full batch: waits */
    assert_int_equal(sent_count, 2);
    log_line("burst");
    bw_cloud_pump(8000);                                /* a full batch goes at once */
    assert_int_equal(sent_count, 3);
    assert_int_equal(log_of[2].payload[2], BW_CLOUD_LOG_BATCH_LINES);
}

static void time_from_the_cloud(void **state)
{
    (void)state;
    bw_cloud_connected(4, record_publish, NULL);
    bw_cloud_pump(1000000);                             /* STATUS at t = 1 s */
    uint8_t msg[BW_CLOUD_TIME_SIZE] = { 1, 0x81, 0, 0 };
    uint64_t ms = 1800000000000ull;
    for (int i = 0; i < 8; i++) {
        msg[4 + i] = (uint8_t)(ms >> (8 * i));
    }
    bw_cloud_received("bw/BW00000000000000000000000000000000/down/time", msg, sizeof msg, 1200000);
    assert_int_equal(bw_cloud_stats()->bad_messages, 1);
    uint64_t wall;
    assert_int_equal(bw_wall_time_get(&wall), BW_E_UNAVAILABLE);
    bw_cloud_received("bw/" ID "/down/time", msg, sizeof msg - 1, 1200000);
    assert_int_equal(bw_cloud_stats()->bad_messages, 2);
    port_host_set_time_us(1200000);
    bw_cloud_received("bw/" ID "/down/time", msg, sizeof msg, 1200000);
    assert_int_equal(bw_cloud_stats()->time_sets, 1);
    assert_int_equal(bw_wall_time_get(&wall), BW_OK);
    assert_true(wall == ms * 1000u + 100000u);          /* + half of the 200 ms round trip */
    bw_cloud_received("bw/" ID "/down/time", msg, sizeof msg, 5000000);
    assert_int_equal(bw_wall_time_get(&wall), BW_OK);
    assert_true(wall == ms * 1000u);                    /* later ones are taken as they are */
}

static void status_again_when_the_app_changes(void **state)
{
    (void)state;
    bw_kernel_app_starting(MV_WAKEREASON_COLDBOOT);
    bw_cloud_connected(5, record_publish, NULL);
    bw_cloud_pump(1000000);
    assert_int_equal(sent_count, 1);
    assert_int_equal(log_of[0].payload[3], MV_WAKEREASON_COLDBOOT);
    bw_cloud_acked(log_of[0].id);
    bw_cloud_pump(2000000);
    assert_int_equal(sent_count, 1);                    /* nothing changed: no second STATUS */
    bw_kernel_app_starting(MV_WAKEREASON_APPLICATIONUPDATE);
    bw_cloud_pump(3000000);
    assert_int_equal(sent_count, 2);
    assert_string_equal(log_of[1].topic, "bw/" ID "/up/status");
    assert_int_equal(log_of[1].payload[2], 1);          /* online, same session */
    assert_int_equal(log_of[1].payload[3], MV_WAKEREASON_APPLICATIONUPDATE);
    assert_int_equal(u32_at(log_of[1].payload + 8), 5u);
    bw_cloud_acked(log_of[1].id);
    bw_cloud_pump(4000000);
    assert_int_equal(sent_count, 2);                    /* once */
}

static unsigned takes;
static size_t taken_len;

/* Takes the first set, refuses every later one as a device holding it would. */
static bw_err fake_taker(const uint8_t *set, size_t len, char *reason, size_t size)
{
    taken_len = len;
    if (takes++ == 0) {
        return BW_OK;
    }
    snprintf(reason, size, "key set %u is not newer than the one held (%u)", (unsigned)u32_at(set + 8),
             (unsigned)u32_at(set + 8));
    return BW_E_INVALID;
}

static void key_set_message(uint8_t *msg, uint16_t n, uint32_t sequence)
{
    memset(msg, 0, BW_CLOUD_KEY_SET_HEADER + n);
    msg[0] = 1;
    msg[1] = BW_CLOUD_TYPE_KEY_SET;
    msg[2] = (uint8_t)n;
    msg[3] = (uint8_t)(n >> 8);
    for (int i = 0; i < 4; i++) {
        msg[BW_CLOUD_KEY_SET_HEADER + 8 + i] = (uint8_t)(sequence >> (8 * i));
    }
}

static void key_sets_judged_and_answered(void **state)
{
    (void)state;
    takes = 0;
    bw_cloud_set_key_set_taker(fake_taker);
    bw_cloud_connected(6, record_publish, NULL);
    bw_cloud_pump(1000000);
    bw_cloud_acked(log_of[0].id);                       /* STATUS */
    uint8_t msg[BW_CLOUD_KEY_SET_HEADER + BW_CLOUD_KEY_SET_MAX];
    key_set_message(msg, 80, 3);
    bw_cloud_received("bw/" ID "/down/keys", msg, 8 + 79, 1100000);            /* N disagrees */
    bw_cloud_received("bw/" ID "/down/keys", msg, 8 + 80, 1100000);            /* taken */
    bw_cloud_received("bw/" ID "/down/deploy", msg, 8 + 80, 1100000);          /* not its topic */
    assert_int_equal(bw_cloud_stats()->bad_messages, 2);
    assert_int_equal(takes, 1);
    assert_int_equal(taken_len, 80);
    bw_cloud_pump(1200000);
    assert_int_equal(sent_count, 2);
    assert_string_equal(log_of[1].topic, "bw/" ID "/up/keys");
    assert_int_equal(log_of[1].len, BW_CLOUD_KEYS_ANSWER_HEADER);
    assert_int_equal(log_of[1].payload[1], BW_CLOUD_TYPE_KEYS_ANSWER);
    assert_int_equal(log_of[1].payload[2], 0);          /* taken */
    assert_int_equal(u32_at(log_of[1].payload + 4), 3u);

    /* Two repeats while the answer is in flight: the latest waits for its PUBACK. */
    key_set_message(msg, 145, 4);
    bw_cloud_received("bw/" ID "/down/keys", msg, 8 + 145, 1300000);
    key_set_message(msg, 145, 5);
    bw_cloud_received("bw/" ID "/down/keys", msg, 8 + 145, 1300000);
    assert_int_equal(takes, 3);
    bw_cloud_pump(1400000);
    assert_int_equal(sent_count, 2);
    bw_cloud_acked(log_of[1].id);
    bw_cloud_pump(1500000);
    assert_int_equal(sent_count, 3);
    assert_int_equal(log_of[2].payload[2], 1);          /* refused, with its reason */
    assert_int_equal(u32_at(log_of[2].payload + 4), 5u);
    const char *why = "key set 5 is not newer than the one held (5)";
    assert_int_equal(log_of[2].len, BW_CLOUD_KEYS_ANSWER_HEADER + strlen(why));
    assert_memory_equal(log_of[2].payload + BW_CLOUD_KEYS_ANSWER_HEADER, why, strlen(why));

    /* Lost with its session: sent again, byte for byte, after the next STATUS. */
    bw_cloud_disconnected();
    bw_cloud_connected(7, record_publish, NULL);
    bw_cloud_pump(2000000);
    assert_int_equal(sent_count, 5);
    assert_string_equal(log_of[4].topic, "bw/" ID "/up/keys");
    assert_memory_equal(log_of[4].payload, log_of[2].payload, log_of[2].len);
    bw_cloud_set_key_set_taker(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(status_first_and_will, setup, test_teardown),
        cmocka_unit_test_setup_teardown(batches_resend_and_gaps, setup, test_teardown),
        cmocka_unit_test_setup_teardown(full_session_loses_nothing, setup, test_teardown),
        cmocka_unit_test_setup_teardown(lines_linger_to_share_a_batch, setup, test_teardown),
        cmocka_unit_test_setup_teardown(time_from_the_cloud, setup, test_teardown),
        cmocka_unit_test_setup_teardown(status_again_when_the_app_changes, setup, test_teardown),
        cmocka_unit_test_setup_teardown(key_sets_judged_and_answered, setup, test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
