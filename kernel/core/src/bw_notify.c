/*
 * Notification centers (see bw_notify.h).
 *
 * State: a fixed array of centers, each FREE, RESERVED (being set up: its irq
 * and ring are claimed but it has no handle yet) or OPEN. Invariants, true
 * whenever port_irq_lock is not held:
 *  - no two non-FREE centers share an irq or have overlapping rings;
 *  - an OPEN center's handle is live in the handle table with kind
 *    NOTIFICATION and object = its index; write_index < slot_count.
 * A handle may briefly outlive its center (close frees the center first); so
 * every use re-checks under the lock that the center is OPEN and still holds
 * that very handle value.
 *
 * App memory: the kernel reads only the event_type of the slot at the write
 * index (and only compares it with NOEVENT), and writes only that slot; the
 * slot is re-checked as app read-write memory right before each access.
 */
#include <inttypes.h>
#include <stdbool.h>

#include "bw_app_mem.h"
#include "bw_config.h"
#include "bw_handles.h"
#include "bw_log.h"
#include "bw_notify.h"
#include "bw_port.h"

#define RECORD_SIZE ((uint32_t)sizeof(struct MvNotification))

_Static_assert(sizeof(struct MvNotification) == 16, "the ABI's notification record is 16 bytes");
_Static_assert(BW_NOTIFICATION_BUFFER_MIN % 16 == 0 && BW_NOTIFICATION_BUFFER_MIN >= 16,
               "BW_NOTIFICATION_BUFFER_MIN must be whole records");

typedef enum center_state { CENTER_FREE = 0, CENTER_RESERVED, CENTER_OPEN } center_state;

typedef struct notification_center {
    center_state state;
    uint32_t handle;        /* meaningful when OPEN */
    uint32_t irq;
    uintptr_t ring;         /* app address of slot 0 */
    uint32_t ring_size;     /* bytes */
    uint32_t slot_count;
    uint32_t write_index;
    uint32_t overruns;      /* records dropped; saturates */
} notification_center;

static notification_center centers[BW_MAX_NOTIFICATION_CENTERS];

static const notification_center free_center = { .state = CENTER_FREE };

static bool ranges_overlap(uintptr_t a, uint32_t a_len, uintptr_t b, uint32_t b_len)
{
    /* Both ranges passed bw_app_check_range, so neither end wraps. */
    return a < b + b_len && b < a + a_len;
}

/* The center an open handle names, or NULL. Caller holds the lock; `index`
 * comes from the handle table. */
static notification_center *open_center_locked(uint32_t handle, uint32_t index)
{
    if (index >= BW_MAX_NOTIFICATION_CENTERS) {
        return NULL;
    }
    notification_center *c = &centers[index];
    return (c->state == CENTER_OPEN && c->handle == handle) ? c : NULL;
}

static void report_overruns(uint32_t irq, uint32_t overruns)
{
    if (overruns != 0) {
        bw_log("notification center on irq %" PRIu32 " closed: %" PRIu32
               " notifications dropped (ring full)", irq, overruns);
    }
}

void bw_notify_reset(void)
{
    uint32_t state = port_irq_lock();
    for (size_t i = 0; i < BW_MAX_NOTIFICATION_CENTERS; i++) {
        centers[i] = free_center;
    }
    port_irq_unlock(state);
}

/* Claims a FREE center for irq and ring, marking it RESERVED; *index_out gets it. */
static bw_err reserve_center(uint32_t irq, uintptr_t ring, uint32_t ring_size, size_t *index_out)
{
    bool irq_taken = false;
    bool ring_taken = false;
    size_t free_index = BW_MAX_NOTIFICATION_CENTERS;
    bw_err err = BW_OK;

    uint32_t state = port_irq_lock();
    for (size_t i = 0; i < BW_MAX_NOTIFICATION_CENTERS; i++) {
        const notification_center *c = &centers[i];
        if (c->state == CENTER_FREE) {
            if (free_index == BW_MAX_NOTIFICATION_CENTERS) {
                free_index = i;
            }
            continue;
        }
        irq_taken = irq_taken || c->irq == irq;
        ring_taken = ring_taken || ranges_overlap(ring, ring_size, c->ring, c->ring_size);
    }
    if (irq_taken) {
        err = BW_E_IRQ;
    } else if (ring_taken) {
        err = BW_E_IN_USE;
    } else if (free_index == BW_MAX_NOTIFICATION_CENTERS) {
        err = BW_E_FULL;
    } else {
        centers[free_index] = (notification_center){
            .state = CENTER_RESERVED,
            .handle = 0,
            .irq = irq,
            .ring = ring,
            .ring_size = ring_size,
            .slot_count = ring_size / RECORD_SIZE,
            .write_index = 0,
            .overruns = 0,
        };
        *index_out = free_index;
    }
    port_irq_unlock(state);
    return err;
}

static void release_reserved(size_t index)
{
    uint32_t state = port_irq_lock();
    centers[index] = free_center;
    port_irq_unlock(state);
}

bw_err bw_notify_setup(uint32_t irq, uintptr_t buffer, uint32_t buffer_size,
                       uint32_t *handle_out)
{
    if (buffer_size % RECORD_SIZE != 0 || buffer_size < BW_NOTIFICATION_BUFFER_MIN) {
        return BW_E_SIZE;
    }
    if (buffer % BW_NOTIFICATION_BUFFER_ALIGN != 0) {
        return BW_E_ALIGN;
    }
    if (irq >= port_irq_count() || !port_irq_is_app(irq)) {
        return BW_E_IRQ;
    }
    bw_err err = bw_app_check_range(buffer, buffer_size, BW_ACCESS_READWRITE);
    if (err != BW_OK) {
        return err;
    }

    size_t index;
    err = reserve_center(irq, buffer, buffer_size, &index);
    if (err != BW_OK) {
        return err;
    }
    /* RESERVED: no trigger can reach this center, so the ring may be zeroed
     * without the lock. */
    uint32_t handle = 0;
    err = bw_handle_alloc(BW_HANDLE_KIND_NOTIFICATION, (uint32_t)index, &handle);
    if (err == BW_OK) {
        err = bw_app_zero(buffer, buffer_size);
        if (err != BW_OK) {
            (void)bw_handle_free(handle, BW_HANDLE_KIND_NOTIFICATION);
        }
    }
    if (err != BW_OK) {
        release_reserved(index);
        return err;
    }

    uint32_t state = port_irq_lock();
    centers[index].handle = handle;
    centers[index].state = CENTER_OPEN;
    port_irq_unlock(state);

    *handle_out = handle;
    return BW_OK;
}

bw_err bw_notify_close(uint32_t handle)
{
    uint32_t index;
    if (bw_handle_lookup(handle, BW_HANDLE_KIND_NOTIFICATION, &index) != BW_OK) {
        return BW_E_HANDLE;
    }

    uint32_t state = port_irq_lock();
    notification_center *c = open_center_locked(handle, index);
    uint32_t irq = 0;
    uint32_t overruns = 0;
    if (c != NULL) {
        irq = c->irq;
        overruns = c->overruns;
        *c = free_center;
    }
    port_irq_unlock(state);

    if (c == NULL) {
        return BW_E_HANDLE;
    }
    (void)bw_handle_free(handle, BW_HANDLE_KIND_NOTIFICATION);
    report_overruns(irq, overruns);
    return BW_OK;
}

bw_err bw_notify_trigger(uint32_t handle, enum MvEventType event_type, uint32_t tag)
{
    uint32_t index;
    if (bw_handle_lookup(handle, BW_HANDLE_KIND_NOTIFICATION, &index) != BW_OK) {
        return BW_E_HANDLE;
    }

    uint32_t state = port_irq_lock();
    notification_center *c = open_center_locked(handle, index);
    uint32_t irq = 0;
    if (c != NULL) {
        uintptr_t slot_addr = c->ring + (uintptr_t)c->write_index * RECORD_SIZE;
        bool written = false;
        if (bw_app_check_range(slot_addr, RECORD_SIZE, BW_ACCESS_READWRITE) == BW_OK) {
            volatile struct MvNotification *slot = (volatile struct MvNotification *)slot_addr;
            if (slot->event_type == MV_EVENTTYPE_NOEVENT) {
                /* event_type last: the app treats a record as present once it is set. */
                slot->microseconds = port_time_us();
                slot->tag = tag;
                slot->event_type = event_type;
                c->write_index = (c->write_index + 1u == c->slot_count) ? 0u : c->write_index + 1u;
                written = true;
            }
        }
        if (!written && c->overruns != UINT32_MAX) {
            c->overruns++;
        }
        irq = c->irq;
    }
    port_irq_unlock(state);

    if (c == NULL) {
        return BW_E_HANDLE;
    }
    port_irq_pend(irq);
    return BW_OK;
}

bw_err bw_notify_overruns(uint32_t handle, uint32_t *overruns)
{
    uint32_t index;
    if (bw_handle_lookup(handle, BW_HANDLE_KIND_NOTIFICATION, &index) != BW_OK) {
        return BW_E_HANDLE;
    }
    uint32_t state = port_irq_lock();
    const notification_center *c = open_center_locked(handle, index);
    if (c != NULL) {
        *overruns = c->overruns;
    }
    port_irq_unlock(state);
    return c != NULL ? BW_OK : BW_E_HANDLE;
}

void bw_notify_close_all(void)
{
    for (size_t i = 0; i < BW_MAX_NOTIFICATION_CENTERS; i++) {
        uint32_t state = port_irq_lock();
        bool was_open = centers[i].state == CENTER_OPEN;
        uint32_t irq = centers[i].irq;
        uint32_t overruns = centers[i].overruns;
        centers[i] = free_center;
        port_irq_unlock(state);

        if (was_open) {
            report_overruns(irq, overruns);
        }
    }
    bw_handle_free_all_of_kind(BW_HANDLE_KIND_NOTIFICATION);
}

size_t bw_notify_open_count(void)
{
    size_t count = 0;
    uint32_t state = port_irq_lock();
    for (size_t i = 0; i < BW_MAX_NOTIFICATION_CENTERS; i++) {
        if (centers[i].state == CENTER_OPEN) {
            count++;
        }
    }
    port_irq_unlock(state);
    return count;
}
