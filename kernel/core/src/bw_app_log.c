/*
 * The app's server-log queue (see bw_app_log.h).
 *
 * The app's buffer is a byte ring: `used` bytes, in ring order, end at
 * `write`; each line takes its text's bytes plus, when it would run past
 * the end, the bytes it skipped there (its `span`), so the free bytes are
 * always the `size - used` that follow `write`. The index is a ring of
 * BW_APP_LOG_LINES entries in sequence order, oldest at `first`; every
 * field is changed under port_irq_lock.
 *
 * The carry holds lines saved from earlier app runs at detach: their text
 * packed from carry.text[0] in sequence order (entry offsets index it),
 * oldest first; it is only touched by detach and the kernel loop's reader,
 * and the queue's lines always come after it.
 */
#include <string.h>

#include "bw_app_log.h"
#include "bw_app_mem.h"
#include "bw_config.h"
#include "bw_port.h"

typedef enum entry_state { ENTRY_WRITING, ENTRY_READY, ENTRY_DROPPED } entry_state;

typedef struct entry {
    uint32_t sequence;
    uint32_t uptime_ms;
    uint32_t offset;
    uint32_t length;
    uint32_t span;
    entry_state state;
} entry;

static struct {
    bool attached;
    uintptr_t base;
    uint32_t size;
    uint32_t write;
    uint32_t used;
    entry entries[BW_APP_LOG_LINES];
    uint32_t first;
    uint32_t count;
    uint32_t next_sequence;
    uint32_t lost;
} q;

static struct {
    entry entries[BW_APP_LOG_CARRY_LINES];
    uint32_t count;
    uint32_t used;
    uint8_t text[BW_APP_LOG_CARRY_BYTES];
} carry;

static entry *entry_at(uint32_t nth)
{
    return &q.entries[(q.first + nth) % BW_APP_LOG_LINES];
}

static void pop_locked(void);

/* Drops every queued line (lock held); those not yet dropped count as lost. */
static void drop_all(void)
{
    for (uint32_t i = 0; i < q.count; i++) {
        if (entry_at(i)->state != ENTRY_DROPPED) {
            q.lost++;
        }
    }
    q.first = 0;
    q.count = 0;
    q.write = 0;
    q.used = 0;
}

void bw_app_log_reset(void)
{
    uint32_t state = port_irq_lock();
    memset(&q, 0, sizeof q);
    memset(&carry, 0, sizeof carry);
    port_irq_unlock(state);
}

bw_err bw_app_log_attach(uintptr_t base, uint32_t size)
{
    bw_err err = BW_E_IN_USE;
    uint32_t state = port_irq_lock();
    if (!q.attached) {
        drop_all();
        q.attached = true;
        q.base = base;
        q.size = size;
        err = BW_OK;
    }
    port_irq_unlock(state);
    return err;
}

bool bw_app_log_attached(void)
{
    return q.attached;
}

/* Copies the queue's committed lines into the carry while they fit, each
 * popped from the queue once copied; stops at the first that does not fit
 * or is not committed (lock held). */
static void carry_queued(void)
{
    while (q.count > 0 && carry.count < BW_APP_LOG_CARRY_LINES) {
        entry *e = entry_at(0);
        if (e->state == ENTRY_DROPPED) {
            pop_locked();
            continue;
        }
        if (e->state != ENTRY_READY || e->length > BW_APP_LOG_CARRY_BYTES - carry.used
            || bw_app_copy_in(carry.text + carry.used, q.base + e->offset, e->length) != BW_OK) {
            return;
        }
        entry *c = &carry.entries[carry.count++];
        *c = *e;
        c->offset = carry.used;
        carry.used += e->length;
        pop_locked();
    }
}

uint32_t bw_app_log_detach(void)
{
    uint32_t state = port_irq_lock();
    uint32_t before = q.lost;
    if (q.attached) {
        carry_queued();
    }
    drop_all();
    uint32_t dropped = q.lost - before;
    q.attached = false;
    q.base = 0;
    q.size = 0;
    port_irq_unlock(state);
    return dropped;
}

/* Where a line of length bytes goes and the span it takes (lock held). */
static bool place(uint32_t length, uint32_t *offset, uint32_t *span)
{
    uint32_t free_bytes = q.size - q.used;
    if (q.write + length <= q.size) {
        *offset = q.write;
        *span = length;
    } else {
        *offset = 0;
        *span = (q.size - q.write) + length;
    }
    return *span <= free_bytes;
}

bw_err bw_app_log_reserve(uint32_t length, uint32_t uptime_ms, bw_app_log_line *line)
{
    bw_err err = BW_OK;
    uint32_t state = port_irq_lock();
    if (!q.attached) {
        err = BW_E_UNAVAILABLE;
    } else {
        uint32_t sequence = q.next_sequence++;
        uint32_t offset = 0;
        uint32_t span = 0;
        if (q.count == BW_APP_LOG_LINES || length > q.size || !place(length, &offset, &span)) {
            q.lost++;
            err = BW_E_FULL;
        } else {
            *entry_at(q.count) = (entry){ .sequence = sequence, .uptime_ms = uptime_ms,
                                          .offset = offset, .length = length, .span = span,
                                          .state = ENTRY_WRITING };
            q.count++;
            q.used += span;
            q.write = offset + length == q.size ? 0 : offset + length;
            *line = (bw_app_log_line){ .sequence = sequence, .uptime_ms = uptime_ms,
                                       .offset = offset, .length = length };
        }
    }
    port_irq_unlock(state);
    return err;
}

bw_err bw_app_log_write(const bw_app_log_line *line, uint32_t at, const uint8_t *bytes, uint32_t n)
{
    if (at > line->length || n > line->length - at) {
        return BW_E_SIZE;
    }
    return bw_app_copy_out(q.base + line->offset + at, bytes, n);
}

/* The queued entry of a line, or NULL (lock held). */
static entry *find(uint32_t sequence)
{
    for (uint32_t i = 0; i < q.count; i++) {
        entry *e = entry_at(i);
        if (e->sequence == sequence) {
            return e;
        }
    }
    return NULL;
}

void bw_app_log_commit(const bw_app_log_line *line, bool complete)
{
    uint32_t state = port_irq_lock();
    entry *e = find(line->sequence);
    if (e != NULL && e->state == ENTRY_WRITING) {
        e->state = complete ? ENTRY_READY : ENTRY_DROPPED;
        q.lost += complete ? 0u : 1u;
    }
    port_irq_unlock(state);
}

/* Removes the oldest entry of the queue (lock held). */
static void pop_locked(void)
{
    if (q.count == 0) {
        return;
    }
    q.used -= entry_at(0)->span;
    q.first = (q.first + 1) % BW_APP_LOG_LINES;
    q.count--;
    if (q.count == 0) {
        q.write = 0;
        q.used = 0;
    }
}

bool bw_app_log_peek(bw_app_log_line *line)
{
    bool found = false;
    uint32_t state = port_irq_lock();
    if (carry.count > 0) {
        const entry *e = &carry.entries[0];
        *line = (bw_app_log_line){ .sequence = e->sequence, .uptime_ms = e->uptime_ms,
                                   .offset = e->offset, .length = e->length, .carried = true };
        port_irq_unlock(state);
        return true;
    }
    while (q.count > 0 && entry_at(0)->state == ENTRY_DROPPED) {
        pop_locked();
    }
    if (q.count > 0 && entry_at(0)->state == ENTRY_READY) {
        const entry *e = entry_at(0);
        *line = (bw_app_log_line){ .sequence = e->sequence, .uptime_ms = e->uptime_ms,
                                   .offset = e->offset, .length = e->length };
        found = true;
    }
    port_irq_unlock(state);
    return found;
}

bw_err bw_app_log_read(const bw_app_log_line *line, uint8_t *dst)
{
    if (line->carried) {
        if (carry.count == 0 || line->sequence != carry.entries[0].sequence) {
            return BW_E_UNAVAILABLE;
        }
        memcpy(dst, carry.text, carry.entries[0].length);
        return BW_OK;
    }
    if (!q.attached || line->offset > q.size || line->length > q.size - line->offset) {
        return BW_E_UNAVAILABLE;
    }
    return bw_app_copy_in(dst, q.base + line->offset, line->length);
}

/* Removes the oldest carried line, moving the rest down. */
static void pop_carried(void)
{
    uint32_t n = carry.entries[0].length;
    memmove(carry.text, carry.text + n, carry.used - n);
    carry.used -= n;
    carry.count--;
    for (uint32_t i = 0; i < carry.count; i++) {
        carry.entries[i] = carry.entries[i + 1u];
        carry.entries[i].offset -= n;
    }
}

void bw_app_log_pop(void)
{
    uint32_t state = port_irq_lock();
    if (carry.count > 0) {
        pop_carried();
    } else {
        pop_locked();
    }
    port_irq_unlock(state);
}

uint32_t bw_app_log_lost(void)
{
    return q.lost;
}

uint32_t bw_app_log_next_sequence(void)
{
    return q.next_sequence;
}
