/*
 * Notification centers: the kernel's way of telling the app that something
 * happened, without ever blocking or calling into app code.
 *
 * A center is an app-owned ring of struct MvNotification records plus an app
 * interrupt. The kernel appends records at its own write index and pends the
 * interrupt; the app reads with its own index and sets event_type back to
 * MV_EVENTTYPE_NOEVENT as it consumes. A slot at the write index that is not
 * NOEVENT means the app has not caught up: the record is dropped and counted
 * as an overrun (the interrupt is still pended so the app drains the ring).
 *
 * Centers are named by handles of kind BW_HANDLE_KIND_NOTIFICATION. Every
 * function here is safe against preemption by another kernel call (changes to
 * shared state happen under port_irq_lock), and none may be called while
 * holding that lock.
 */
#ifndef BW_NOTIFY_H
#define BW_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"
#include "mv_syscalls.h"

/* Forgets every center without touching app memory. Kernel start only. */
void bw_notify_reset(void);

/* Opens a center on app interrupt `irq` with the ring at app address `buffer`
 * of `buffer_size` bytes, zeroes the whole ring (so every slot starts as
 * NOEVENT: Microvisor apps fill theirs with 0xFF before setup), and writes its
 * handle to *handle_out. Checks, in this order:
 *  BW_E_SIZE   buffer_size not a multiple of 16 or below BW_NOTIFICATION_BUFFER_MIN;
 *  BW_E_ALIGN  buffer not a multiple of BW_NOTIFICATION_BUFFER_ALIGN;
 *  BW_E_IRQ    irq >= port_irq_count() or not routed to the app;
 *  BW_E_FAULT  the ring is not wholly app read-write memory;
 *  BW_E_IRQ    irq already used by another open center;
 *  BW_E_IN_USE the ring overlaps another open center's;
 *  BW_E_FULL   BW_MAX_NOTIFICATION_CENTERS are open (or the handle table is full);
 *  or the bw_handle_alloc error. On error nothing changed. */
bw_err bw_notify_setup(uint32_t irq, uintptr_t buffer, uint32_t buffer_size,
                       uint32_t *handle_out);

/* Closes a center: no record is written and no interrupt pended for it after
 * this returns (an interrupt already pending stays pending), and its handle is
 * retired. Logs its overrun count if nonzero. BW_E_HANDLE if not an open center. */
bw_err bw_notify_close(uint32_t handle);

/* Appends one record {port_time_us(), event_type, tag} at the write index,
 * writing event_type last, and pends the center's interrupt. If the slot is
 * not NOEVENT, or is no longer app read-write memory, the record is dropped and
 * the center's overrun count grows; the interrupt is pended all the same and
 * the result is still BW_OK. BW_E_HANDLE if not an open center. ISR-safe. */
bw_err bw_notify_trigger(uint32_t handle, enum MvEventType event_type, uint32_t tag);

/* Number of records dropped by a center since it opened, into *overruns.
 * BW_E_HANDLE if not an open center. */
bw_err bw_notify_overruns(uint32_t handle, uint32_t *overruns);

/* Closes every center and retires every notification handle, logging overrun
 * counts as bw_notify_close does. For app start/restart. */
void bw_notify_close_all(void);

/* Number of open centers. */
size_t bw_notify_open_count(void);

#endif
