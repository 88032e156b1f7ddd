/*
 * notify: notification centers end to end (bw_notify.h, mv_syscalls.h).
 *  - A triggered notification reaches the app's ISR on the center's IRQ with
 *    its event type and tag; timestamps are on the mvGetMicroseconds base,
 *    within readings taken around the trigger, and non-decreasing.
 *  - mvSetupNotifications zeroes the ring; the kernel writes in ring order and
 *    wraps: trigger 3, consume, repeated over more than 10 wraps of a 4-slot
 *    ring, arrives exactly once each, in order.
 *  - Overrun: 6 triggers into a 4-slot ring nobody drains keep the first 4
 *    (the rest are dropped, and counted in the kernel log on close); the ISR
 *    then gets exactly those 4 and the ring works again.
 *  - Setup errors: IRQ out of range, kernel-owned, or used by another open
 *    center is INVALIDINTERRUPT; bad sizes INVALIDBUFFERSIZE; misaligned ring
 *    INVALIDBUFFERALIGNMENT; a ring overlapping an open center's
 *    BUFFERALREADYINUSE (an adjacent one is fine); a failed setup writes no
 *    handle; 32 centers open and the 33rd is TOOMANYNOTIFICATIONBUFFERS.
 *  - Close writes 0 to the handle; trigger or close on a closed, zero or
 *    made-up handle is INVALIDHANDLE (and writes nothing); a closed center
 *    pends nothing; its IRQ and ring can be used again.
 *  - mvRestart closes every center: after the restart the old handles are
 *    INVALIDHANDLE and all 32 centers can be opened again on the same IRQs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bulwark_board.h"
#include "check.h"
#include "mv_syscalls.h"

#define NVIC_ISER(n) (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_ICER(n) (*(volatile uint32_t *)(0xE000E180u + 4u * (n)))
#define NVIC_ISPR(n) (*(volatile uint32_t *)(0xE000E200u + 4u * (n)))
#define NVIC_ICPR(n) (*(volatile uint32_t *)(0xE000E280u + 4u * (n)))
#define NVIC_IPR(n)  (*(volatile uint8_t *)(0xE000E400u + (n)))

#define MAX_CENTERS 32u
#define FIRST_BULK_IRQ 40u      /* 40..72 are all the app's on the an505 */
#define RUN_MAGIC 0x4E4F5446u
#define SPIN_LIMIT 1000000

/* One ring with an ISR consuming it: records what arrives and checks order. */
#define LOG_RECORDS 16u
typedef struct receiver {
    struct MvNotification *ring;
    uint32_t slots;
    uint32_t read_index;
    volatile uint32_t count;        /* records consumed */
    volatile uint32_t drains;       /* ISR runs that consumed something */
    volatile uint32_t last_batch;   /* records in the last such run */
    volatile uint32_t batch_errors; /* runs whose batch was not `want_batch` */
    uint32_t want_batch;            /* 0: any */
    uint32_t next_tag;              /* the tag expected next */
    volatile uint32_t tag_errors;
    volatile uint32_t time_errors;  /* timestamp went backwards */
    uint64_t last_us;
    struct MvNotification log[LOG_RECORDS];
} receiver;

static struct MvNotification ring_a[8] __attribute__((aligned(8)));
static struct MvNotification ring_b[4] __attribute__((aligned(8)));
static struct MvNotification ring_c[4] __attribute__((aligned(8)));
static struct MvNotification spare[2] __attribute__((aligned(8)));
static struct MvNotification shared[8] __attribute__((aligned(8)));
static struct MvNotification bulk[MAX_CENTERS + 1][2] __attribute__((aligned(8)));

static receiver rx_a = { .ring = ring_a, .slots = 8 };
static receiver rx_b = { .ring = ring_b, .slots = 4, .want_batch = 3 };
static receiver rx_c = { .ring = ring_c, .slots = 4 };

/* Carried across the mvRestart in the middle of the test. */
static struct {
    uint32_t magic;
    uint32_t checks;
    uint32_t failures;
    MvNotificationHandle handles[MAX_CENTERS];
} carried __attribute__((section(".noinit")));

static void consume(receiver *r)
{
    uint32_t batch = 0;
    struct MvNotification *slot = &r->ring[r->read_index];
    while (slot->event_type != MV_EVENTTYPE_NOEVENT) {
        uint32_t n = r->count;
        if (n < LOG_RECORDS) {
            r->log[n] = *slot;
        }
        if (slot->tag != r->next_tag) {
            r->tag_errors++;
        }
        r->next_tag = slot->tag + 1u;
        if (slot->microseconds < r->last_us) {
            r->time_errors++;
        }
        r->last_us = slot->microseconds;
        slot->event_type = MV_EVENTTYPE_NOEVENT;
        r->read_index = (r->read_index + 1u) % r->slots;
        slot = &r->ring[r->read_index];
        r->count = n + 1u;
        batch++;
    }
    if (batch != 0) {
        r->drains++;
        r->last_batch = batch;
        if (r->want_batch != 0 && batch != r->want_batch) {
            r->batch_errors++;
        }
    }
}

void IRQ64_Handler(void);
void IRQ64_Handler(void) { consume(&rx_a); }
void IRQ65_Handler(void);
void IRQ65_Handler(void) { consume(&rx_b); }
void IRQ66_Handler(void);
void IRQ66_Handler(void) { consume(&rx_c); }

static void irq_enable(uint32_t irq)
{
    NVIC_IPR(irq) = 0x80u;
    NVIC_ISER(irq / 32u) = 1u << (irq % 32u);
}

static void irq_disable(uint32_t irq)
{
    NVIC_ICER(irq / 32u) = 1u << (irq % 32u);
    __asm volatile("dsb\n isb");
}

static bool irq_pending(uint32_t irq)
{
    return (NVIC_ISPR(irq / 32u) >> (irq % 32u)) & 1u;
}

static void wait_count(const receiver *r, uint32_t count)
{
    for (int i = 0; i < SPIN_LIMIT && r->count < count; i++) {
    }
}

static enum MvStatus setup(uint32_t irq, void *buffer, uint32_t size, MvNotificationHandle *handle)
{
    struct MvNotificationSetup s = { .irq = irq, .buffer = buffer, .buffer_size = size };
    return mvSetupNotifications(&s, handle);
}

static uint64_t now_us(void)
{
    uint64_t t = 0;
    (void)mvGetMicroseconds(&t);
    return t;
}

/* Delivery of single notifications of every type, with timestamps. */
static void check_delivery(void)
{
    MvNotificationHandle h = 0;
    memset(ring_a, 0xFF, sizeof ring_a);
    check_status(setup(64, ring_a, sizeof ring_a, &h), MV_STATUS_OKAY, "setup on IRQ 64, 8 slots");
    check_true(h != 0, "0", "nonzero", "setup writes a handle");
    bool zeroed = true;
    for (size_t i = 0; i < sizeof ring_a; i++) {
        zeroed = zeroed && ((const uint8_t *)ring_a)[i] == 0;
    }
    check_true(zeroed, "not zeroed", "all zero", "setup zeroes the ring");
    irq_enable(64);

    rx_a.next_tag = 0xA001u;
    uint64_t prev = 0;
    for (uint32_t type = MV_EVENTTYPE_NETWORKSTATUSCHANGED; type <= MV_EVENTTYPE_UPDATEDOWNLOADED; type++) {
        uint32_t tag = 0xA000u + type;
        uint64_t before = now_us();
        enum MvStatus status = mvTempTriggerNotification(h, (enum MvEventType)type, tag);
        uint64_t after = now_us();
        check_status(status, MV_STATUS_OKAY, "trigger type %" PRIu32, type);
        uint32_t k = type - 1u;
        wait_count(&rx_a, k + 1u);
        check_u32(rx_a.count, k + 1u, "ISR received notification %" PRIu32, k + 1u);
        check_u32(rx_a.log[k].event_type, type, "notification %" PRIu32 " event type", k + 1u);
        check_u32(rx_a.log[k].tag, tag, "notification %" PRIu32 " tag", k + 1u);
        check_u64_between(rx_a.log[k].microseconds, before, after,
                          "notification %" PRIu32 " timestamp within the trigger call", k + 1u);
        check_true(rx_a.log[k].microseconds >= prev, "earlier", "not earlier",
                   "notification %" PRIu32 " timestamp non-decreasing", k + 1u);
        prev = rx_a.log[k].microseconds;
    }
    check_u32(rx_a.tag_errors, 0, "tags in order");

    check_status(mvTempTriggerNotification(h, MV_EVENTTYPE_NOEVENT, 1), MV_STATUS_PARAMETERFAULT,
                 "trigger with event type NOEVENT");
    check_status(mvTempTriggerNotification(h, (enum MvEventType)6, 1), MV_STATUS_PARAMETERFAULT,
                 "trigger with event type 6");
    for (int i = 0; i < 10000; i++) {
    }
    check_u32(rx_a.count, 5, "refused triggers deliver nothing");

    MvNotificationHandle closed = h;
    check_status(mvCloseNotifications(&h), MV_STATUS_OKAY, "close IRQ 64 center");
    check_u32((uint32_t)(uintptr_t)h, 0, "close writes 0 to the handle");
    irq_disable(64);
    NVIC_ICPR(64 / 32u) = 1u << (64 % 32u);
    check_status(mvTempTriggerNotification(closed, MV_EVENTTYPE_CHANNELDATAREADABLE, 0xA100u),
                 MV_STATUS_INVALIDHANDLE, "trigger on a closed handle");
    check_true(!irq_pending(64), "pending", "not pending", "a closed center pends no IRQ");
    irq_enable(64);
    MvNotificationHandle copy = closed;
    check_status(mvCloseNotifications(&copy), MV_STATUS_INVALIDHANDLE, "close on a closed handle");
    check_u32((uint32_t)(uintptr_t)copy, (uint32_t)(uintptr_t)closed,
              "failed close leaves the handle variable alone");
    MvNotificationHandle zero = 0;
    check_status(mvCloseNotifications(&zero), MV_STATUS_INVALIDHANDLE, "close on handle 0");
    check_status(mvTempTriggerNotification(0, MV_EVENTTYPE_CHANNELDATAREADABLE, 1),
                 MV_STATUS_INVALIDHANDLE, "trigger on handle 0");
    MvNotificationHandle made_up = (MvNotificationHandle)0x12345678u;
    check_status(mvCloseNotifications(&made_up), MV_STATUS_INVALIDHANDLE, "close on a made-up handle");
    check_status(mvTempTriggerNotification(made_up, MV_EVENTTYPE_CHANNELDATAREADABLE, 1),
                 MV_STATUS_INVALIDHANDLE, "trigger on a made-up handle");
    check_u32(rx_a.count, 5, "nothing delivered after close");

    /* IRQ and ring free again. */
    check_status(setup(64, ring_a, sizeof ring_a, &h), MV_STATUS_OKAY, "setup again on IRQ 64, same ring");
    check_true(h != closed, "the old value", "a new value", "a new handle");
    rx_a.read_index = 0;   /* the new center starts at slot 0 */
    rx_a.next_tag = 0xA200u;
    check_status(mvTempTriggerNotification(h, MV_EVENTTYPE_CHANNELDATAWRITESPACE, 0xA200u),
                 MV_STATUS_OKAY, "trigger on the new center");
    wait_count(&rx_a, 6);
    check_u32(rx_a.count, 6, "the new center delivers");
    check_u32(rx_a.log[5].tag, 0xA200u, "the new center's tag");
    check_status(mvTempTriggerNotification(closed, MV_EVENTTYPE_CHANNELDATAREADABLE, 1),
                 MV_STATUS_INVALIDHANDLE, "the old handle stays invalid");
    check_status(mvCloseNotifications(&h), MV_STATUS_OKAY, "close the new center");
    irq_disable(64);
}

/* 4-slot ring: 3 records per round, consumed together, over 30 wraps. */
static void check_wraps(void)
{
    enum { ROUNDS = 40, PER_ROUND = 3 };
    MvNotificationHandle h = 0;
    check_status(setup(65, ring_b, sizeof ring_b, &h), MV_STATUS_OKAY, "setup on IRQ 65, 4 slots");
    irq_enable(65);
    uint32_t tag = 1000;
    rx_b.next_tag = tag;
    uint32_t status_errors = 0, count_errors = 0;
    for (uint32_t round = 0; round < ROUNDS; round++) {
        __asm volatile("cpsid i" : : : "memory");
        for (uint32_t i = 0; i < PER_ROUND; i++) {
            if (mvTempTriggerNotification(h, MV_EVENTTYPE_CHANNELDATAREADABLE, tag++) != MV_STATUS_OKAY) {
                status_errors++;
            }
        }
        __asm volatile("cpsie i" : : : "memory");
        wait_count(&rx_b, (round + 1u) * PER_ROUND);
        if (rx_b.count != (round + 1u) * PER_ROUND) {
            count_errors++;
        }
    }
    check_u32(status_errors, 0, "wraps: every trigger OKAY");
    check_u32(count_errors, 0, "wraps: each round's 3 records consumed");
    check_u32(rx_b.count, ROUNDS * PER_ROUND, "wraps: exact total (%u records, %u wraps)",
              ROUNDS * PER_ROUND, ROUNDS * PER_ROUND / 4);
    check_u32(rx_b.drains, ROUNDS, "wraps: one ISR run per round");
    check_u32(rx_b.batch_errors, 0, "wraps: each ISR run consumed 3");
    check_u32(rx_b.tag_errors, 0, "wraps: tags exactly once each, in order");
    check_u32(rx_b.time_errors, 0, "wraps: timestamps non-decreasing");
    check_status(mvCloseNotifications(&h), MV_STATUS_OKAY, "close IRQ 65 center");
    irq_disable(65);
}

/* 6 triggers into a 4-slot ring that nobody drains. */
static void check_overrun(void)
{
    MvNotificationHandle h = 0;
    check_status(setup(66, ring_c, sizeof ring_c, &h), MV_STATUS_OKAY, "setup on IRQ 66, 4 slots");
    NVIC_ICPR(66 / 32u) = 1u << (66 % 32u);
    uint32_t status_errors = 0;
    for (uint32_t tag = 100; tag < 106; tag++) {
        if (mvTempTriggerNotification(h, MV_EVENTTYPE_CHANNELNOTCONNECTED, tag) != MV_STATUS_OKAY) {
            status_errors++;
        }
    }
    check_u32(status_errors, 0, "overrun: every trigger OKAY (drops are silent)");
    uint32_t present = 0;
    for (uint32_t i = 0; i < 4; i++) {
        if (ring_c[i].event_type != MV_EVENTTYPE_NOEVENT) {
            present++;
        }
    }
    check_u32(present, 4, "overrun: 4 records present");
    for (uint32_t i = 0; i < 4; i++) {
        check_u32(ring_c[i].tag, 100 + i, "overrun: slot %" PRIu32 " keeps the first tags", i);
        check_u32(ring_c[i].event_type, MV_EVENTTYPE_CHANNELNOTCONNECTED, "overrun: slot %" PRIu32 " type", i);
    }
    check_true(irq_pending(66), "not pending", "pending", "overrun: IRQ 66 pending");
    check_u32(rx_c.count, 0, "overrun: nothing consumed while the IRQ is disabled");

    rx_c.next_tag = 100;
    irq_enable(66);
    wait_count(&rx_c, 4);
    for (int i = 0; i < 10000; i++) {
    }
    check_u32(rx_c.count, 4, "overrun: the ISR gets exactly 4");
    check_u32(rx_c.drains, 1, "overrun: in one ISR run");
    check_u32(rx_c.tag_errors, 0, "overrun: tags 100-103 in order");

    check_status(mvTempTriggerNotification(h, MV_EVENTTYPE_CHANNELNOTCONNECTED, 104), MV_STATUS_OKAY,
                 "overrun: trigger after draining");
    wait_count(&rx_c, 5);
    check_u32(rx_c.count, 5, "overrun: the ring works again");
    check_u32(rx_c.log[4].tag, 104, "overrun: next record after the drained ones");
    check_u32(rx_c.tag_errors, 0, "overrun: still in order");
    /* The kernel logs "... irq 66 closed: 2 notifications dropped" (the test checks). */
    check_status(mvCloseNotifications(&h), MV_STATUS_OKAY, "close IRQ 66 center");
    irq_disable(66);
}

static void check_setup_errors(void)
{
    /* An open center on IRQ 70 with its ring in slots 2-5 of `shared`. */
    MvNotificationHandle open = 0, h;
    check_status(setup(70, &shared[2], 64, &open), MV_STATUS_OKAY, "setup on IRQ 70 (ring of 4 slots)");

    static const uint32_t bad_irqs[] = { 96, 97, 1000, 0xFFFFFFFFu, 2, 4, 9, 10, 34, 35, 36, 37 };
    for (size_t i = 0; i < sizeof bad_irqs / sizeof bad_irqs[0]; i++) {
        h = (MvNotificationHandle)0x5A5A5A5Au;
        check_status(setup(bad_irqs[i], spare, 32, &h), MV_STATUS_INVALIDINTERRUPT,
                     "setup on IRQ %" PRIu32, bad_irqs[i]);
        check_u32((uint32_t)(uintptr_t)h, 0x5A5A5A5Au, "failed setup on IRQ %" PRIu32 " writes no handle",
                  bad_irqs[i]);
    }
    check_status(setup(70, spare, 32, &h), MV_STATUS_INVALIDINTERRUPT, "setup on an IRQ another center uses");

    static const uint32_t bad_sizes[] = { 0, 16, 40, 33, 31, 0xFFFFFFF0u + 8u };
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        h = (MvNotificationHandle)0x5A5A5A5Au;
        check_status(setup(71, spare, bad_sizes[i], &h), MV_STATUS_INVALIDBUFFERSIZE,
                     "setup with buffer size %" PRIu32, bad_sizes[i]);
        check_u32((uint32_t)(uintptr_t)h, 0x5A5A5A5Au, "failed setup (size %" PRIu32 ") writes no handle",
                  bad_sizes[i]);
    }
    check_status(setup(71, (uint8_t *)spare + 4, 32, &h), MV_STATUS_INVALIDBUFFERALIGNMENT,
                 "setup with the ring 4 bytes off 8-alignment");
    check_status(setup(71, (uint8_t *)spare + 1, 32, &h), MV_STATUS_INVALIDBUFFERALIGNMENT,
                 "setup with the ring 1 byte off 8-alignment");

    /* Overlaps with the open ring, slots 2-5 of `shared`. */
    h = (MvNotificationHandle)0x5A5A5A5Au;
    check_status(setup(71, &shared[2], 64, &h), MV_STATUS_BUFFERALREADYINUSE, "setup on the same ring");
    check_u32((uint32_t)(uintptr_t)h, 0x5A5A5A5Au, "failed setup (ring in use) writes no handle");
    check_status(setup(71, &shared[3], 32, &h), MV_STATUS_BUFFERALREADYINUSE, "setup on a ring inside it");
    check_status(setup(71, &shared[5], 32, &h), MV_STATUS_BUFFERALREADYINUSE,
                 "setup on a ring overlapping its last slot");
    check_status(setup(71, &shared[1], 32, &h), MV_STATUS_BUFFERALREADYINUSE,
                 "setup on a ring overlapping its first slot");
    check_status(setup(71, &shared[0], 128, &h), MV_STATUS_BUFFERALREADYINUSE,
                 "setup on a ring containing it");

    /* The documented order: size, alignment, IRQ, pointer, IRQ in use, ring in use. */
    check_status(setup(4, &shared[2], 40, &h), MV_STATUS_INVALIDBUFFERSIZE, "order: size before IRQ");
    check_status(setup(4, (uint8_t *)&shared[2] + 4, 32, &h), MV_STATUS_INVALIDBUFFERALIGNMENT,
                 "order: alignment before IRQ");
    check_status(setup(4, &shared[2], 64, &h), MV_STATUS_INVALIDINTERRUPT, "order: IRQ before ring in use");
    check_status(setup(70, &shared[2], 64, &h), MV_STATUS_INVALIDINTERRUPT,
                 "order: IRQ in use before ring in use");

    /* Right next to it, on either side, is fine. */
    MvNotificationHandle after = 0, before = 0;
    check_status(setup(71, &shared[6], 32, &after), MV_STATUS_OKAY, "setup on the ring right after it");
    check_status(setup(72, &shared[0], 32, &before), MV_STATUS_OKAY, "setup on the ring right before it");
    check_true(after != open && before != open && after != before, "a repeated handle", "distinct handles",
               "each center has its own handle");
    check_status(mvCloseNotifications(&after), MV_STATUS_OKAY, "close the center after");
    check_status(mvCloseNotifications(&before), MV_STATUS_OKAY, "close the center before");
    check_status(mvCloseNotifications(&open), MV_STATUS_OKAY, "close IRQ 70 center");
}

/* Opens MAX_CENTERS centers on IRQs FIRST_BULK_IRQ.. with bulk rings. */
static void open_all(MvNotificationHandle handles[MAX_CENTERS], const char *when)
{
    uint32_t ok = 0, distinct = 1;
    for (uint32_t i = 0; i < MAX_CENTERS; i++) {
        handles[i] = 0;
        if (setup(FIRST_BULK_IRQ + i, bulk[i], sizeof bulk[i], &handles[i]) == MV_STATUS_OKAY &&
            handles[i] != 0) {
            ok++;
        }
        for (uint32_t j = 0; j < i; j++) {
            if (handles[j] == handles[i]) {
                distinct = 0;
            }
        }
    }
    check_u32(ok, MAX_CENTERS, "%s: %u centers open", when, MAX_CENTERS);
    check_u32(distinct, 1, "%s: handles distinct", when);
    MvNotificationHandle extra = (MvNotificationHandle)0x5A5A5A5Au;
    check_status(setup(FIRST_BULK_IRQ + MAX_CENTERS, bulk[MAX_CENTERS], sizeof bulk[MAX_CENTERS], &extra),
                 MV_STATUS_TOOMANYNOTIFICATIONBUFFERS, "%s: the 33rd center", when);
    check_u32((uint32_t)(uintptr_t)extra, 0x5A5A5A5Au, "%s: the 33rd writes no handle", when);
}

static void check_capacity(void)
{
    MvNotificationHandle handles[MAX_CENTERS];
    open_all(handles, "capacity");
    uint32_t closed = 0, zeroed = 0;
    for (uint32_t i = 0; i < MAX_CENTERS; i++) {
        closed += mvCloseNotifications(&handles[i]) == MV_STATUS_OKAY;
        zeroed += handles[i] == 0;
    }
    check_u32(closed, MAX_CENTERS, "capacity: all closed");
    check_u32(zeroed, MAX_CENTERS, "capacity: every closed handle zeroed");
    MvNotificationHandle h = 0;
    check_status(setup(FIRST_BULK_IRQ + MAX_CENTERS, bulk[MAX_CENTERS], sizeof bulk[MAX_CENTERS], &h),
                 MV_STATUS_OKAY, "capacity: a center opens again after closing");
    check_status(mvCloseNotifications(&h), MV_STATUS_OKAY, "capacity: close it");
}

static void first_run(void)
{
    enum MvWakeReason reason = (enum MvWakeReason)0x55;
    check_status(mvGetWakeReason(&reason), MV_STATUS_OKAY, "mvGetWakeReason");
    check_u32(reason, MV_WAKEREASON_COLDBOOT, "first run: COLDBOOT");
    check_delivery();
    check_wraps();
    check_overrun();
    check_setup_errors();
    check_capacity();

    /* Leave every center open (and one IRQ pending) across an app restart. */
    open_all(carried.handles, "before restart");
    check_status(mvTempTriggerNotification(carried.handles[0], MV_EVENTTYPE_CHANNELDATAREADABLE, 1),
                 MV_STATUS_OKAY, "before restart: trigger");
    carried.magic = RUN_MAGIC;
    carried.checks = check_total;
    carried.failures = check_failures;
    printf("notify: restarting with %u centers open\n", MAX_CENTERS);
    fflush(stdout);
    enum MvStatus status = mvRestart(MV_RESTARTMODE_AUTOAPPLYUPDATE);
    carried.magic = 0;
    check_true(false, check_status_name(status), "no return", "mvRestart restarts the app");
    check_finish("notify", 0, 0);
}

static void second_run(enum MvWakeReason reason)
{
    carried.magic = 0;
    check_u32(reason, MV_WAKEREASON_REMOTEAPPLICATIONRESTART, "second run: REMOTEAPPLICATIONRESTART");
    uint32_t trigger_invalid = 0, close_invalid = 0, untouched = 0;
    for (uint32_t i = 0; i < MAX_CENTERS; i++) {
        MvNotificationHandle old = carried.handles[i];
        trigger_invalid += mvTempTriggerNotification(old, MV_EVENTTYPE_CHANNELDATAREADABLE, 2) ==
                           MV_STATUS_INVALIDHANDLE;
        close_invalid += mvCloseNotifications(&carried.handles[i]) == MV_STATUS_INVALIDHANDLE;
        untouched += carried.handles[i] == old;
    }
    check_u32(trigger_invalid, MAX_CENTERS, "after restart: trigger on every old handle INVALIDHANDLE");
    check_u32(close_invalid, MAX_CENTERS, "after restart: close on every old handle INVALIDHANDLE");
    check_u32(untouched, MAX_CENTERS, "after restart: failed closes leave the handles alone");
    check_true(!irq_pending(FIRST_BULK_IRQ), "pending", "not pending",
               "after restart: the IRQ pending before it was cleared");

    MvNotificationHandle handles[MAX_CENTERS];
    open_all(handles, "after restart");
    uint32_t closed = 0;
    for (uint32_t i = 0; i < MAX_CENTERS; i++) {
        closed += mvCloseNotifications(&handles[i]) == MV_STATUS_OKAY;
    }
    check_u32(closed, MAX_CENTERS, "after restart: all closed");

    /* And delivery works in the new run. */
    MvNotificationHandle h = 0;
    check_status(setup(64, ring_a, sizeof ring_a, &h), MV_STATUS_OKAY, "after restart: setup on IRQ 64");
    irq_enable(64);
    rx_a.next_tag = 0xB000u;
    check_status(mvTempTriggerNotification(h, MV_EVENTTYPE_UPDATEDOWNLOADED, 0xB000u), MV_STATUS_OKAY,
                 "after restart: trigger");
    wait_count(&rx_a, 1);
    check_u32(rx_a.count, 1, "after restart: delivered");
    check_u32(rx_a.log[0].tag, 0xB000u, "after restart: tag");
    check_u32(rx_a.log[0].event_type, MV_EVENTTYPE_UPDATEDOWNLOADED, "after restart: type");
    check_status(mvCloseNotifications(&h), MV_STATUS_OKAY, "after restart: close");
    check_finish("notify", carried.checks, carried.failures);
}

int main(void)
{
    enum MvWakeReason reason = (enum MvWakeReason)0x55;
    (void)mvGetWakeReason(&reason);
    printf("notify: started, wake reason %u\n", (unsigned)reason);
    if (carried.magic == RUN_MAGIC) {
        second_run(reason);
    }
    if (reason != MV_WAKEREASON_COLDBOOT) {
        check_u32(reason, MV_WAKEREASON_COLDBOOT, "no unexpected restart");
        check_finish("notify", 0, 0);
    }
    first_run();
}
