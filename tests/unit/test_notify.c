/*
 * bw_notify: notification centers, the public Microvisor notification contract.
 * Promises checked:
 *  - setup zeroes the ring (apps fill theirs with 0xFF first) and returns a handle;
 *  - a record holds port time, the tag and the event type; event_type is
 *    written after the timestamp is taken and the record is complete after;
 *  - the ring wraps: over many cycles every trigger the app had room for is
 *    delivered, in order, exactly once;
 *  - when the app has not consumed the slot at the write index, the record is
 *    dropped and counted, earlier records stay intact, and consumption frees
 *    the slot again;
 *  - timestamps equal port time and never decrease;
 *  - the center's IRQ is pended on every trigger, written or dropped;
 *  - a slot that is no longer app memory is not touched: dropped and counted;
 *  - setup validation: size, alignment, IRQ (range, kernel-owned, taken),
 *    ring memory (fault, read-only, overlap), the 32-center limit, in the
 *    documented order, and a failed setup changes nothing;
 *  - close stops records and pends, retires the handle, frees IRQ and ring
 *    for reuse, and reports overruns in the kernel log; close_all closes all;
 *  - a kernel call from an app interrupt preempting setup cannot make two
 *    centers share an IRQ or a ring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "bw_config.h"
#include "bw_handles.h"
#include "bw_notify.h"
#include "test_support.h"

#define RECORD 16u
#define APP_IRQ 17u

static volatile struct MvNotification *ring_at(size_t byte_offset)
{
    return (volatile struct MvNotification *)(void *)(app_ram + byte_offset);
}

static uint32_t open_center(uint32_t irq, size_t byte_offset, uint32_t size)
{
    uint32_t handle = 0;
    assert_int_equal(bw_notify_setup(irq, addr_of(app_ram) + byte_offset, size, &handle), BW_OK);
    assert_int_not_equal(handle, 0);
    return handle;
}

static uint32_t overruns_of(uint32_t handle)
{
    uint32_t overruns = UINT32_MAX;
    assert_int_equal(bw_notify_overruns(handle, &overruns), BW_OK);
    return overruns;
}

/* ---- setup and records ---- */

static void setup_zeroes_the_ring_and_opens(void **state)
{
    (void)state;
    memset(app_ram, 0xFF, 4 * RECORD);
    uint32_t handle = open_center(APP_IRQ, 0, 4 * RECORD);
    for (size_t i = 0; i < 4 * RECORD; i++) {
        assert_int_equal(app_ram[i], 0);
    }
    assert_int_equal(app_ram[4 * RECORD], 0xA5);   /* not one byte more */
    assert_int_equal(bw_notify_open_count(), 1);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_NOTIFICATION), 1);
    assert_int_equal(overruns_of(handle), 0);
    assert_int_equal(port_host_pend_total(), 0);
}

static void record_holds_time_type_and_tag(void **state)
{
    (void)state;
    uint32_t handle = open_center(APP_IRQ, 0, 2 * RECORD);
    port_host_set_time_us(0x123456789ull);
    assert_int_equal(bw_notify_trigger(handle, MV_EVENTTYPE_CHANNELDATAREADABLE, 0xCAFEF00D), BW_OK);
    volatile struct MvNotification *ring = ring_at(0);
    assert_true(ring[0].microseconds == 0x123456789ull);
    assert_int_equal(ring[0].event_type, MV_EVENTTYPE_CHANNELDATAREADABLE);
    assert_int_equal(ring[0].tag, 0xCAFEF00D);
    assert_int_equal(ring[1].event_type, MV_EVENTTYPE_NOEVENT);
    assert_int_equal(port_host_pend_count(APP_IRQ), 1);
    assert_int_equal(port_host_pend_total(), 1);
}

static volatile enum MvEventType type_seen_when_time_read;
static void observe_slot0(void *context)
{
    (void)context;
    type_seen_when_time_read = ring_at(0)[0].event_type;
}

static void event_type_is_written_after_the_timestamp_is_taken(void **state)
{
    (void)state;
    uint32_t handle = open_center(APP_IRQ, 0, 2 * RECORD);
    type_seen_when_time_read = MV_EVENTTYPE__MAX;
    port_host_set_time_hook(observe_slot0, NULL);
    assert_int_equal(bw_notify_trigger(handle, MV_EVENTTYPE_UPDATEDOWNLOADED, 5), BW_OK);
    port_host_set_time_hook(NULL, NULL);
    assert_int_equal(type_seen_when_time_read, MV_EVENTTYPE_NOEVENT);
    assert_int_equal(ring_at(0)[0].event_type, MV_EVENTTYPE_UPDATEDOWNLOADED);
    assert_int_equal(ring_at(0)[0].tag, 5);
}

/* The app side: reads at its own index, consumes by writing NOEVENT. */
typedef struct app_reader {
    volatile struct MvNotification *ring;
    uint32_t slots;
    uint32_t index;
    uint32_t consumed;
} app_reader;

static bool app_consume(app_reader *r, uint32_t *tag, uint64_t *when)
{
    volatile struct MvNotification *slot = &r->ring[r->index];
    if (slot->event_type == MV_EVENTTYPE_NOEVENT) {
        return false;
    }
    *tag = slot->tag;
    *when = slot->microseconds;
    slot->event_type = MV_EVENTTYPE_NOEVENT;
    r->index = (r->index + 1) % r->slots;
    r->consumed++;
    return true;
}

static void ring_wraps_over_many_cycles(void **state)
{
    (void)state;
    const uint32_t slots = 5;
    uint32_t handle = open_center(APP_IRQ, 512, slots * RECORD);
    app_reader reader = { ring_at(512), slots, 0, 0 };
    uint32_t next_tag = 0;
    uint32_t expected_tag = 0;

    /* Batches of 1..slots triggers, each drained before the next: never full. */
    for (uint32_t round = 0; round < 400; round++) {
        uint32_t batch = 1 + round % slots;
        for (uint32_t i = 0; i < batch; i++) {
            port_host_set_time_us(1000u * next_tag);
            assert_int_equal(bw_notify_trigger(handle, MV_EVENTTYPE_NETWORKSTATUSCHANGED, next_tag++), BW_OK);
        }
        uint32_t tag;
        uint64_t when;
        while (app_consume(&reader, &tag, &when)) {
            assert_int_equal(tag, expected_tag);
            assert_true(when == 1000u * (uint64_t)expected_tag);
            expected_tag++;
        }
    }
    assert_int_equal(reader.consumed, next_tag);
    assert_int_equal(expected_tag, next_tag);
    assert_int_equal(overruns_of(handle), 0);
    assert_int_equal(port_host_pend_count(APP_IRQ), next_tag);
}

static void full_ring_drops_and_counts_and_keeps_earlier_records(void **state)
{
    (void)state;
    uint32_t handle = open_center(APP_IRQ, 0, 2 * RECORD);
    volatile struct MvNotification *ring = ring_at(0);
    port_host_set_time_us(10);
    assert_int_equal(bw_notify_trigger(handle, MV_EVENTTYPE_CHANNELDATAREADABLE, 1), BW_OK);
    port_host_set_time_us(20);
    assert_int_equal(bw_notify_trigger(handle, MV_EVENTTYPE_CHANNELNOTCONNECTED, 2), BW_OK);
    port_host_set_time_us(30);
    assert_int_equal(bw_notify_trigger(handle, MV_EVENTTYPE_UPDATEDOWNLOADED, 3), BW_OK);
    assert_int_equal(bw_notify_trigger(handle, MV_EVENTTYPE_UPDATEDOWNLOADED, 4), BW_OK);

    assert_int_equal(overruns_of(handle), 2);
    assert_int_equal(port_host_pend_count(APP_IRQ), 4);   /* pended even when dropped */
    assert_true(ring[0].microseconds == 10);
    assert_int_equal(ring[0].event_type, MV_EVENTTYPE_CHANNELDATAREADABLE);
    assert_int_equal(ring[0].tag, 1);
    assert_true(ring[1].microseconds == 20);
    assert_int_equal(ring[1].event_type, MV_EVENTTYPE_CHANNELNOTCONNECTED);
    assert_int_equal(ring[1].tag, 2);

    /* The app consumes slot 0: the next record goes there; slot 1 still blocks. */
    ring[0].event_type = MV_EVENTTYPE_NOEVENT;
    port_host_set_time_us(40);
    assert_int_equal(bw_notify_trigger(handle, MV_EVENTTYPE_CHANNELDATAWRITESPACE, 5), BW_OK);
    assert_int_equal(ring[0].tag, 5);
    assert_int_equal(ring[0].event_type, MV_EVENTTYPE_CHANNELDATAWRITESPACE);
    assert_true(ring[0].microseconds == 40);
    assert_int_equal(bw_notify_trigger(handle, MV_EVENTTYPE_CHANNELDATAWRITESPACE, 6), BW_OK);
    assert_int_equal(overruns_of(handle), 3);
    assert_int_equal(ring[1].tag, 2);

    /* Consuming slot 1 lets the writer continue there. */
    ring[1].event_type = MV_EVENTTYPE_NOEVENT;
    assert_int_equal(bw_notify_trigger(handle, MV_EVENTTYPE_NETWORKSTATUSCHANGED, 7), BW_OK);
    assert_int_equal(ring[1].tag, 7);
    assert_int_equal(overruns_of(handle), 3);
    assert_int_equal(port_host_pend_count(APP_IRQ), 7);
}

static void any_nonzero_event_type_blocks_the_slot(void **state)
{
    (void)state;
    uint32_t handle = open_center(APP_IRQ, 0, 2 * RECORD);
    /* The app scribbles a value the kernel never writes: still "not consumed". */
    ring_at(0)[0].event_type = (enum MvEventType)0x7777u;
    ring_at(0)[0].tag = 0x1111;
    assert_int_equal(bw_notify_trigger(handle, MV_EVENTTYPE_NETWORKSTATUSCHANGED, 9), BW_OK);
    assert_int_equal(overruns_of(handle), 1);
    assert_int_equal(ring_at(0)[0].tag, 0x1111);
    assert_int_equal(ring_at(16)[0].event_type, MV_EVENTTYPE_NOEVENT);
}

static void timestamps_follow_port_time(void **state)
{
    (void)state;
    uint32_t handle = open_center(APP_IRQ, 0, 8 * RECORD);
    app_reader reader = { ring_at(0), 8, 0, 0 };
    port_host_set_time_us(5000);
    port_host_set_time_step_us(3);
    uint64_t previous = 0;
    for (uint32_t i = 0; i < 100; i++) {
        assert_int_equal(bw_notify_trigger(handle, MV_EVENTTYPE_CHANNELDATAREADABLE, i), BW_OK);
        uint32_t tag;
        uint64_t when;
        assert_true(app_consume(&reader, &tag, &when));
        assert_true(when >= previous);
        assert_true(when >= 5000);
        previous = when;
    }
    /* The timestamp is the port's time at the trigger, one read per record. */
    port_host_set_time_step_us(0);
    port_host_set_time_us(777777);
    assert_int_equal(bw_notify_trigger(handle, MV_EVENTTYPE_CHANNELDATAREADABLE, 0), BW_OK);
    uint32_t tag;
    uint64_t when;
    assert_true(app_consume(&reader, &tag, &when));
    assert_true(when == 777777);
}

static void slot_no_longer_app_memory_is_not_touched(void **state)
{
    (void)state;
    uint32_t handle = open_center(APP_IRQ, 0, 2 * RECORD);
    /* The memory map changes under the center (the port no longer vouches). */
    port_host_clear_app_regions();
    memset(app_ram, 0x00, 2 * RECORD);
    assert_int_equal(bw_notify_trigger(handle, MV_EVENTTYPE_CHANNELDATAREADABLE, 1), BW_OK);
    for (size_t i = 0; i < 2 * RECORD; i++) {
        assert_int_equal(app_ram[i], 0);
    }
    assert_int_equal(overruns_of(handle), 1);
    assert_int_equal(port_host_pend_count(APP_IRQ), 1);
}

/* ---- validation ---- */

static void buffer_size_rules(void **state)
{
    (void)state;
    uint32_t handle = 0xABCD;
    const uint32_t bad_sizes[] = { 0, 8, 16, 17, 40, 63, 0xFFFFFFFFu };
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        assert_int_equal(bw_notify_setup(APP_IRQ, addr_of(app_ram), bad_sizes[i], &handle), BW_E_SIZE);
    }
    assert_int_equal(handle, 0xABCD);
    assert_int_equal(bw_notify_open_count(), 0);
    open_center(APP_IRQ, 0, 32);
    open_center(APP_IRQ + 1, 64, 48);
}

static void buffer_alignment_rules(void **state)
{
    (void)state;
    uint32_t handle = 0xABCD;
    for (uintptr_t offset = 1; offset < 8; offset++) {
        assert_int_equal(bw_notify_setup(APP_IRQ, addr_of(app_ram) + offset, 32, &handle), BW_E_ALIGN);
    }
    /* Size is checked before alignment. */
    assert_int_equal(bw_notify_setup(APP_IRQ, addr_of(app_ram) + 4, 40, &handle), BW_E_SIZE);
    assert_int_equal(handle, 0xABCD);
    open_center(APP_IRQ, 8, 32);
}

static void irq_rules(void **state)
{
    (void)state;
    uint32_t handle = 0xABCD;
    port_host_set_irq_count(64);
    port_host_set_kernel_irq(20, true);
    assert_int_equal(bw_notify_setup(64, addr_of(app_ram), 32, &handle), BW_E_IRQ);
    assert_int_equal(bw_notify_setup(UINT32_MAX, addr_of(app_ram), 32, &handle), BW_E_IRQ);
    assert_int_equal(bw_notify_setup(20, addr_of(app_ram), 32, &handle), BW_E_IRQ);
    assert_int_equal(handle, 0xABCD);
    open_center(63, 0, 32);
    open_center(0, 32, 32);
    /* Taken by another open center. */
    assert_int_equal(bw_notify_setup(63, addr_of(app_ram) + 64, 32, &handle), BW_E_IRQ);
    assert_int_equal(handle, 0xABCD);
    assert_int_equal(bw_notify_open_count(), 2);
}

static void ring_memory_rules(void **state)
{
    (void)state;
    uint32_t handle = 0xABCD;
    assert_int_equal(bw_notify_setup(APP_IRQ, 0, 32, &handle), BW_E_FAULT);
    assert_int_equal(bw_notify_setup(APP_IRQ, addr_of(kernel_ram), 32, &handle), BW_E_FAULT);
    assert_int_equal(bw_notify_setup(APP_IRQ, addr_of(app_flash), 32, &handle), BW_E_FAULT);
    assert_int_equal(bw_notify_setup(APP_IRQ, addr_of(app_ram) + APP_RAM_SIZE - 16, 32, &handle), BW_E_FAULT);
    assert_int_equal(bw_notify_setup(APP_IRQ, UINTPTR_MAX - 15, 32, &handle), BW_E_FAULT);
    assert_int_equal(handle, 0xABCD);
    assert_int_equal(kernel_ram[0], 0xC3);   /* never zeroed */
    assert_int_equal(app_flash[0], 0x5A);
    assert_int_equal(bw_notify_open_count(), 0);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_NOTIFICATION), 0);
}

static void rings_must_not_overlap(void **state)
{
    (void)state;
    open_center(1, 64, 64);   /* [64, 128) */
    memset(app_ram, 0xEE, 64);
    uint32_t handle = 0xABCD;
    assert_int_equal(bw_notify_setup(2, addr_of(app_ram) + 112, 32, &handle), BW_E_IN_USE);
    assert_int_equal(bw_notify_setup(2, addr_of(app_ram) + 32, 48, &handle), BW_E_IN_USE);
    assert_int_equal(bw_notify_setup(2, addr_of(app_ram), 256, &handle), BW_E_IN_USE);
    assert_int_equal(bw_notify_setup(2, addr_of(app_ram) + 64, 64, &handle), BW_E_IN_USE);
    assert_int_equal(handle, 0xABCD);
    assert_int_equal(app_ram[0], 0xEE);   /* a refused ring is not zeroed */
    /* Touching is not overlapping. */
    open_center(2, 32, 32);   /* [32, 64) */
    open_center(3, 128, 32);  /* [128, 160) */
    /* An IRQ clash is reported before an overlap. */
    assert_int_equal(bw_notify_setup(1, addr_of(app_ram) + 64, 32, &handle), BW_E_IRQ);
}

static void at_most_32_centers(void **state)
{
    (void)state;
    uint32_t handles[BW_MAX_NOTIFICATION_CENTERS];
    for (uint32_t i = 0; i < BW_MAX_NOTIFICATION_CENTERS; i++) {
        handles[i] = open_center(i, i * 32u, 32);
    }
    assert_int_equal(bw_notify_open_count(), 32);
    uint32_t handle = 0xABCD;
    memset(app_ram + 2048, 0xEE, 32);
    assert_int_equal(bw_notify_setup(40, addr_of(app_ram) + 2048, 32, &handle), BW_E_FULL);
    assert_int_equal(handle, 0xABCD);
    assert_int_equal(app_ram[2048], 0xEE);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_NOTIFICATION), 32);
    /* Each center still works and pends its own IRQ. */
    for (uint32_t i = 0; i < BW_MAX_NOTIFICATION_CENTERS; i++) {
        assert_int_equal(bw_notify_trigger(handles[i], MV_EVENTTYPE_CHANNELDATAREADABLE, i), BW_OK);
        assert_int_equal(port_host_pend_count(i), 1);
        assert_int_equal(ring_at(i * 32u)[0].tag, i);
    }
    /* Closing one makes room. */
    assert_int_equal(bw_notify_close(handles[7]), BW_OK);
    open_center(40, 2048, 32);
}

/* ---- close ---- */

static void close_stops_records_and_frees_irq_and_ring(void **state)
{
    (void)state;
    uint32_t handle = open_center(APP_IRQ, 0, 2 * RECORD);
    assert_int_equal(bw_notify_close(handle), BW_OK);
    assert_int_equal(bw_notify_open_count(), 0);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_NOTIFICATION), 0);

    assert_int_equal(bw_notify_trigger(handle, MV_EVENTTYPE_CHANNELDATAREADABLE, 1), BW_E_HANDLE);
    assert_int_equal(port_host_pend_total(), 0);
    assert_int_equal(ring_at(0)[0].event_type, MV_EVENTTYPE_NOEVENT);
    assert_int_equal(bw_notify_close(handle), BW_E_HANDLE);
    uint32_t overruns;
    assert_int_equal(bw_notify_overruns(handle, &overruns), BW_E_HANDLE);

    /* Same IRQ, same ring: both free again. */
    uint32_t again = open_center(APP_IRQ, 0, 2 * RECORD);
    assert_int_not_equal(again, handle);
    assert_int_equal(bw_notify_trigger(again, MV_EVENTTYPE_CHANNELDATAREADABLE, 2), BW_OK);
    assert_int_equal(port_host_pend_count(APP_IRQ), 1);
    assert_int_equal(bw_notify_trigger(handle, MV_EVENTTYPE_CHANNELDATAREADABLE, 3), BW_E_HANDLE);
}

static void handle_of_another_kind_is_not_a_center(void **state)
{
    (void)state;
    open_center(APP_IRQ, 0, 32);
    uint32_t channel = 0;
    assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_CHANNEL, 0, &channel), BW_OK);
    assert_int_equal(bw_notify_trigger(channel, MV_EVENTTYPE_CHANNELDATAREADABLE, 1), BW_E_HANDLE);
    assert_int_equal(bw_notify_close(channel), BW_E_HANDLE);
    assert_int_equal(bw_notify_trigger(0, MV_EVENTTYPE_CHANNELDATAREADABLE, 1), BW_E_HANDLE);
    assert_int_equal(port_host_pend_total(), 0);
    assert_int_equal(bw_notify_open_count(), 1);
}

static void close_reports_overruns_in_the_kernel_log(void **state)
{
    (void)state;
    uint32_t quiet = open_center(3, 64, 32);
    uint32_t handle = open_center(APP_IRQ, 0, 32);
    for (uint32_t i = 0; i < 5; i++) {
        assert_int_equal(bw_notify_trigger(handle, MV_EVENTTYPE_CHANNELDATAREADABLE, i), BW_OK);
    }
    assert_int_equal(overruns_of(handle), 3);
    port_host_console_clear();
    assert_int_equal(bw_notify_close(quiet), BW_OK);
    assert_int_equal(port_host_console_len(), 0);   /* nothing to report */
    assert_int_equal(bw_notify_close(handle), BW_OK);
    assert_string_equal(port_host_console(),
                        "[kernel] notification center on irq 17 closed: 3 notifications dropped (ring full)\n");
}

static void close_all_closes_every_center(void **state)
{
    (void)state;
    uint32_t handles[5];
    for (uint32_t i = 0; i < 5; i++) {
        handles[i] = open_center(i, i * 64u, 32);
    }
    uint32_t channel = 0;
    assert_int_equal(bw_handle_alloc(BW_HANDLE_KIND_CHANNEL, 0, &channel), BW_OK);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(bw_notify_trigger(handles[4], MV_EVENTTYPE_CHANNELDATAREADABLE, i), BW_OK);
    }
    port_host_console_clear();
    bw_notify_close_all();
    assert_int_equal(bw_notify_open_count(), 0);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_NOTIFICATION), 0);
    assert_int_equal(bw_handle_count(BW_HANDLE_KIND_CHANNEL), 1);
    assert_non_null(strstr(port_host_console(), "irq 4 closed: 1 notifications dropped"));
    uint32_t pends = port_host_pend_total();
    for (uint32_t i = 0; i < 5; i++) {
        assert_int_equal(bw_notify_trigger(handles[i], MV_EVENTTYPE_CHANNELDATAREADABLE, 9), BW_E_HANDLE);
    }
    assert_int_equal(port_host_pend_total(), pends);
    /* Everything is free again. */
    for (uint32_t i = 0; i < 5; i++) {
        open_center(i, i * 64u, 32);
    }
}

/* ---- preemption ---- */

static uint32_t isr_handle;
static bw_err isr_result;

static void isr_claims_irq_17(void *context)
{
    (void)context;
    isr_result = bw_notify_setup(APP_IRQ, addr_of(app_ram) + 1024, 32, &isr_handle);
}

static void isr_claims_overlapping_ring(void *context)
{
    (void)context;
    isr_result = bw_notify_setup(APP_IRQ + 1, addr_of(app_ram) + 16, 32, &isr_handle);
}

static void preempting_setup_cannot_share_an_irq(void **state)
{
    (void)state;
    /* The interrupt arrives while the thread-mode setup checks its ring. */
    port_host_set_preempt_hook(isr_claims_irq_17, NULL, 0);
    uint32_t handle = 0xABCD;
    assert_int_equal(bw_notify_setup(APP_IRQ, addr_of(app_ram), 32, &handle), BW_E_IRQ);
    assert_int_equal(isr_result, BW_OK);
    assert_int_equal(handle, 0xABCD);
    assert_int_equal(bw_notify_open_count(), 1);
}

static void preempting_setup_cannot_share_a_ring(void **state)
{
    (void)state;
    port_host_set_preempt_hook(isr_claims_overlapping_ring, NULL, 0);
    uint32_t handle = 0xABCD;
    assert_int_equal(bw_notify_setup(APP_IRQ, addr_of(app_ram), 32, &handle), BW_E_IN_USE);
    assert_int_equal(isr_result, BW_OK);
    assert_int_equal(bw_notify_open_count(), 1);
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, test_setup, test_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(setup_zeroes_the_ring_and_opens),
        TEST(record_holds_time_type_and_tag),
        TEST(event_type_is_written_after_the_timestamp_is_taken),
        TEST(ring_wraps_over_many_cycles),
        TEST(full_ring_drops_and_counts_and_keeps_earlier_records),
        TEST(any_nonzero_event_type_blocks_the_slot),
        TEST(timestamps_follow_port_time),
        TEST(slot_no_longer_app_memory_is_not_touched),
        TEST(buffer_size_rules),
        TEST(buffer_alignment_rules),
        TEST(irq_rules),
        TEST(ring_memory_rules),
        TEST(rings_must_not_overlap),
        TEST(at_most_32_centers),
        TEST(close_stops_records_and_frees_irq_and_ring),
        TEST(handle_of_another_kind_is_not_a_center),
        TEST(close_reports_overruns_in_the_kernel_log),
        TEST(close_all_closes_every_center),
        TEST(preempting_setup_cannot_share_an_irq),
        TEST(preempting_setup_cannot_share_a_ring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
