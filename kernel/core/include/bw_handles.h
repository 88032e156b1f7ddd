/*
 * Handles: the 32-bit values the app holds for kernel objects.
 *
 * One fixed table of BW_MAX_HANDLES entries maps a handle value to (kind,
 * object index). Values are drawn from bw_random, are never 0 and are unique
 * among live handles, so a guessed, stale or forged handle is almost surely
 * unknown; a live handle of another kind is rejected as if unknown.
 *
 * Every function is atomic with respect to preempting kernel calls (each
 * takes port_irq_lock itself), so none may be called while holding that lock.
 */
#ifndef BW_HANDLES_H
#define BW_HANDLES_H

#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"

typedef enum bw_handle_kind {
    BW_HANDLE_KIND_NONE = 0,       /* marks a free table entry; never allocated */
    BW_HANDLE_KIND_NOTIFICATION,
    BW_HANDLE_KIND_SYSTEM_EVENT,
    BW_HANDLE_KIND_NETWORK,
    BW_HANDLE_KIND_CHANNEL,
    BW_HANDLE_KIND_EXTERNAL_FLASH,
} bw_handle_kind;

/* Forgets every handle. Kernel start only (no kernel call may be in progress). */
void bw_handles_reset(void);

/* Issues a new handle for object `object` of `kind` into *handle_out.
 * BW_E_FULL if the table is full, BW_E_INVALID for BW_HANDLE_KIND_NONE, and the
 * bw_random error (or BW_E_IO if every draw was 0 or live) if no value could
 * be drawn; *handle_out is left alone on error. */
bw_err bw_handle_alloc(bw_handle_kind kind, uint32_t object, uint32_t *handle_out);

/* Finds the object a live handle of `kind` names into *object_out.
 * BW_E_HANDLE if the handle is 0, unknown, freed, or of another kind. */
bw_err bw_handle_lookup(uint32_t handle, bw_handle_kind kind, uint32_t *object_out);

/* Retires a live handle of `kind`; the value is unknown from then on.
 * BW_E_HANDLE if the handle is 0, unknown, already freed, or of another kind. */
bw_err bw_handle_free(uint32_t handle, bw_handle_kind kind);

/* Retires every live handle of `kind` (e.g. when the app restarts). */
void bw_handle_free_all_of_kind(bw_handle_kind kind);

/* Number of live handles of `kind` (BW_HANDLE_KIND_NONE: free entries). */
size_t bw_handle_count(bw_handle_kind kind);

#endif
