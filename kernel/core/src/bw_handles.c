/*
 * The handle table (see bw_handles.h).
 *
 * Invariants, true whenever port_irq_lock is not held:
 *  - an entry is free exactly when its kind is BW_HANDLE_KIND_NONE;
 *  - every entry in use has a value != 0, and no two entries in use share a value.
 * Random values are drawn outside the lock (bw_random takes it itself); the
 * uniqueness check and the insertion then happen together under the lock, and
 * a draw that collides is simply thrown away.
 */
#include <stdbool.h>

#include "bw_config.h"
#include "bw_handles.h"
#include "bw_port.h"
#include "bw_random.h"

typedef struct handle_entry {
    uint32_t value;
    bw_handle_kind kind;
    uint32_t object;
} handle_entry;

static handle_entry table[BW_MAX_HANDLES];

/* Index of the live entry holding `value`, or BW_MAX_HANDLES. Caller holds the lock. */
static size_t find_live_locked(uint32_t value)
{
    for (size_t i = 0; i < BW_MAX_HANDLES; i++) {
        if (table[i].kind != BW_HANDLE_KIND_NONE && table[i].value == value) {
            return i;
        }
    }
    return BW_MAX_HANDLES;
}

/* Index of a free entry, or BW_MAX_HANDLES. Caller holds the lock. */
static size_t find_free_locked(void)
{
    for (size_t i = 0; i < BW_MAX_HANDLES; i++) {
        if (table[i].kind == BW_HANDLE_KIND_NONE) {
            return i;
        }
    }
    return BW_MAX_HANDLES;
}

void bw_handles_reset(void)
{
    uint32_t state = port_irq_lock();
    for (size_t i = 0; i < BW_MAX_HANDLES; i++) {
        table[i] = (handle_entry){ .value = 0, .kind = BW_HANDLE_KIND_NONE, .object = 0 };
    }
    port_irq_unlock(state);
}

bw_err bw_handle_alloc(bw_handle_kind kind, uint32_t object, uint32_t *handle_out)
{
    if (kind == BW_HANDLE_KIND_NONE) {
        return BW_E_INVALID;
    }
    for (int attempt = 0; attempt < BW_HANDLE_DRAW_ATTEMPTS; attempt++) {
        uint32_t value;
        bw_err err = bw_random_bytes(&value, sizeof value);
        if (err != BW_OK) {
            return err;
        }
        if (value == 0) {
            continue;
        }

        uint32_t state = port_irq_lock();
        bool table_full = false;
        bool inserted = false;
        if (find_live_locked(value) == BW_MAX_HANDLES) {
            size_t slot = find_free_locked();
            if (slot == BW_MAX_HANDLES) {
                table_full = true;
            } else {
                table[slot] = (handle_entry){ .value = value, .kind = kind, .object = object };
                inserted = true;
            }
        }
        port_irq_unlock(state);

        if (table_full) {
            return BW_E_FULL;
        }
        if (inserted) {
            *handle_out = value;
            return BW_OK;
        }
    }
    return BW_E_IO;
}

bw_err bw_handle_lookup(uint32_t handle, bw_handle_kind kind, uint32_t *object_out)
{
    if (handle == 0 || kind == BW_HANDLE_KIND_NONE) {
        return BW_E_HANDLE;
    }
    bw_err err = BW_E_HANDLE;
    uint32_t state = port_irq_lock();
    size_t i = find_live_locked(handle);
    if (i < BW_MAX_HANDLES && table[i].kind == kind) {
        *object_out = table[i].object;
        err = BW_OK;
    }
    port_irq_unlock(state);
    return err;
}

bw_err bw_handle_free(uint32_t handle, bw_handle_kind kind)
{
    if (handle == 0 || kind == BW_HANDLE_KIND_NONE) {
        return BW_E_HANDLE;
    }
    bw_err err = BW_E_HANDLE;
    uint32_t state = port_irq_lock();
    size_t i = find_live_locked(handle);
    if (i < BW_MAX_HANDLES && table[i].kind == kind) {
        table[i] = (handle_entry){ .value = 0, .kind = BW_HANDLE_KIND_NONE, .object = 0 };
        err = BW_OK;
    }
    port_irq_unlock(state);
    return err;
}

void bw_handle_free_all_of_kind(bw_handle_kind kind)
{
    if (kind == BW_HANDLE_KIND_NONE) {
        return;
    }
    uint32_t state = port_irq_lock();
    for (size_t i = 0; i < BW_MAX_HANDLES; i++) {
        if (table[i].kind == kind) {
            table[i] = (handle_entry){ .value = 0, .kind = BW_HANDLE_KIND_NONE, .object = 0 };
        }
    }
    port_irq_unlock(state);
}

size_t bw_handle_count(bw_handle_kind kind)
{
    size_t count = 0;
    uint32_t state = port_irq_lock();
    for (size_t i = 0; i < BW_MAX_HANDLES; i++) {
        if (table[i].kind == kind) {
            count++;
        }
    }
    port_irq_unlock(state);
    return count;
}
