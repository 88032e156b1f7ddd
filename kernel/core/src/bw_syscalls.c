/*
 * System calls: validate, call the core, map the result (see bw_syscalls.h).
 *
 * Check order, the same in every call, first failure wins:
 *  1. arguments passed by value (enum values, lengths, addresses' alignment);
 *  2. app pointers passed as arguments, each over its whole length for the
 *     access the call will make (a pointer the call writes through is checked
 *     for writing before anything is done);
 *  3. for a struct passed by pointer: it is copied into kernel memory in step
 *     2, then its fields are checked from the copy in the order of 1 and 2;
 *  4. kernel state and calling context (handles, tables, "from an interrupt").
 * Only then does a call change state or write app memory, so a call that
 * fails has done neither.
 *
 * App pointers become uintptr_t at once and are only touched through
 * bw_app_mem. Handles arrive as pointers but are 32-bit values; a pointer
 * that does not fit in 32 bits (64-bit host builds) is not a handle.
 */
#include <stddef.h>

#include "bw_app_mem.h"
#include "bw_config.h"
#include "bw_kernel.h"
#include "bw_log.h"
#include "bw_network.h"
#include "bw_app_log.h"
#include "bw_notify.h"
#include "bw_identity.h"
#include "bw_port.h"
#include "bw_syscalls.h"

#define BW_LOG_APP_PIECE 32u   /* bytes of an app log message copied at a time */

_Static_assert(BW_DEVICE_ID_LEN == 2 + 2 * BW_DEVICE_IDENTITY_BYTES,
               "device ID is \"BW\" + two hex digits per identity byte");

/* Each implementation must have exactly the app's prototype, as the gate
 * passes the app's registers straight through. */
#define SAME_PROTOTYPE(app_call, impl) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&app_call), __typeof__(&impl)), \
                   #impl " must match the prototype of " #app_call)
SAME_PROTOTYPE(mvNoOp, bw_sys_no_op);
SAME_PROTOTYPE(mvGetMicroseconds, bw_sys_get_microseconds);
SAME_PROTOTYPE(mvGetWallTime, bw_sys_get_wall_time);
SAME_PROTOTYPE(mvGetSysClk, bw_sys_get_sys_clk);
SAME_PROTOTYPE(mvGetHClk, bw_sys_get_hclk);
SAME_PROTOTYPE(mvGetPClk1, bw_sys_get_pclk1);
SAME_PROTOTYPE(mvGetPClk2, bw_sys_get_pclk2);
SAME_PROTOTYPE(mvGetDeviceId, bw_sys_get_device_id);
SAME_PROTOTYPE(mvGetWakeReason, bw_sys_get_wake_reason);
SAME_PROTOTYPE(mvRestart, bw_sys_restart);
SAME_PROTOTYPE(mvPeriphPeek32, bw_sys_periph_peek32);
SAME_PROTOTYPE(mvPeriphPoke32, bw_sys_periph_poke32);
SAME_PROTOTYPE(mvSetupNotifications, bw_sys_setup_notifications);
SAME_PROTOTYPE(mvCloseNotifications, bw_sys_close_notifications);
SAME_PROTOTYPE(mvTempTriggerNotification, bw_sys_temp_trigger_notification);
SAME_PROTOTYPE(mvServerLoggingInit, bw_sys_server_logging_init);
SAME_PROTOTYPE(mvServerLog, bw_sys_server_log);

enum MvStatus bw_status_from_err(bw_err err)
{
    switch (err) {
    case BW_OK:            return MV_STATUS_OKAY;
    case BW_E_FAULT:       return MV_STATUS_PARAMETERFAULT;
    case BW_E_SIZE:        return MV_STATUS_INVALIDBUFFERSIZE;
    case BW_E_ALIGN:       return MV_STATUS_INVALIDBUFFERALIGNMENT;
    /* The fixed tables the app fills are the notification centers' and the
     * network's; channels have their own status (BW_E_CHANNELS). */
    case BW_E_FULL:        return MV_STATUS_TOOMANYNOTIFICATIONBUFFERS;
    case BW_E_IN_USE:      return MV_STATUS_BUFFERALREADYINUSE;
    case BW_E_HANDLE:      return MV_STATUS_INVALIDHANDLE;
    case BW_E_IRQ:         return MV_STATUS_INVALIDINTERRUPT;
    case BW_E_DENIED:      return MV_STATUS_PERIPHERALACCESSFAULT;
    case BW_E_VERSION:     return MV_STATUS_UNSUPPORTEDSTRUCTUREVERSION;
    case BW_E_UNAVAILABLE: return MV_STATUS_UNAVAILABLE;
    case BW_E_IO:          return MV_STATUS_INTERNALERROR;
    case BW_E_INVALID:     return MV_STATUS_PARAMETERFAULT;
    case BW_E_CHANNELS:    return MV_STATUS_TOOMANYCHANNELS;
    case BW_E_CHANNEL_TYPE: return MV_STATUS_UNKNOWNCHANNELTYPE;
    case BW_E_ENDPOINT:    return MV_STATUS_UNKNOWNCHANNELENDPOINT;
    case BW_E_CLOSED:      return MV_STATUS_CHANNELCLOSED;
    case BW_E_OFFLINE:     return MV_STATUS_NETWORKNOTCONNECTED;
    case BW_E_RATE:        return MV_STATUS_RATELIMITED;
    case BW_E_NOT_PRESENT: return MV_STATUS_RESPONSENOTPRESENT;
    case BW_E_ALREADY:     return MV_STATUS_REQUESTALREADYSENT;
    case BW_E_INDEX:       return MV_STATUS_INDEXINVALID;
    case BW_E_OFFSET:      return MV_STATUS_OFFSETINVALID;
    case BW_E_ELEMENTS:    return MV_STATUS_TOOMANYELEMENTS;
    case BW_E_KEY:         return MV_STATUS_INVALIDCONFIGKEY;
    case BW_E_REQUIRED:    return MV_STATUS_REQUIREDELEMENTMISSING;
    case BW_E_AUTH:        return MV_STATUS_INVALIDAUTHENTICATION;
    case BW_E_WRONG_DATA:  return MV_STATUS_WRONGDATAREQUESTED;
    case BW_E_NOT_ACKABLE: return MV_STATUS_REQUESTUNSUCCESSFUL;
    case BW_E_TORN:        return MV_STATUS_INTERNALERROR;
    }
    return MV_STATUS_INTERNALERROR;
}

static uintptr_t app_address(const volatile void *app_pointer)
{
    return (uintptr_t)app_pointer;
}

bw_err bw_sys_handle_value(const void *app_handle, uint32_t *value)
{
    uintptr_t raw = (uintptr_t)app_handle;
    uint32_t narrow = (uint32_t)raw;
    if ((uintptr_t)narrow != raw) {
        return BW_E_HANDLE;
    }
    *value = narrow;
    return BW_OK;
}

static enum MvStatus copy_out_status(uintptr_t app_dst, const void *src, size_t len)
{
    return bw_status_from_err(bw_app_copy_out(app_dst, src, len));
}

enum MvStatus bw_sys_no_op(void)
{
    return MV_STATUS_OKAY;
}

enum MvStatus bw_sys_get_microseconds(uint64_t *usec_out)
{
    uint64_t now = port_time_us();
    return copy_out_status(app_address(usec_out), &now, sizeof now);
}

enum MvStatus bw_sys_get_wall_time(uint64_t *usec_out)
{
    bw_err err = bw_app_check_range(app_address(usec_out), sizeof *usec_out, BW_ACCESS_READWRITE);
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    uint64_t now;
    if (bw_wall_time_get(&now) != BW_OK) {
        return MV_STATUS_TIMENOTSET;   /* the cloud has not set the time yet */
    }
    return copy_out_status(app_address(usec_out), &now, sizeof now);
}

static enum MvStatus get_clock(bw_clock clock, uint32_t *hz_out)
{
    uint32_t hz = port_clock_hz(clock);
    return copy_out_status(app_address(hz_out), &hz, sizeof hz);
}

enum MvStatus bw_sys_get_sys_clk(uint32_t *hz_out)
{
    return get_clock(BW_CLOCK_SYSCLK, hz_out);
}

enum MvStatus bw_sys_get_hclk(uint32_t *hz_out)
{
    return get_clock(BW_CLOCK_HCLK, hz_out);
}

enum MvStatus bw_sys_get_pclk1(uint32_t *hz_out)
{
    return get_clock(BW_CLOCK_PCLK1, hz_out);
}

enum MvStatus bw_sys_get_pclk2(uint32_t *hz_out)
{
    return get_clock(BW_CLOCK_PCLK2, hz_out);
}

enum MvStatus bw_sys_get_device_id(uint8_t *buf, uint32_t len)
{
    if (len != BW_DEVICE_ID_LEN) {
        return MV_STATUS_INVALIDBUFFERSIZE;
    }
    uintptr_t app_buf = app_address(buf);
    bw_err err = bw_app_check_range(app_buf, BW_DEVICE_ID_LEN, BW_ACCESS_READWRITE);
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    char id[BW_DEVICE_ID_LEN];
    if (bw_device_id_text(id) != BW_OK) {
        return MV_STATUS_UNAVAILABLE;   /* not provisioned */
    }
    return copy_out_status(app_buf, id, sizeof id);
}

enum MvStatus bw_sys_get_wake_reason(enum MvWakeReason *reason_out)
{
    enum MvWakeReason reason = bw_kernel_wake_reason();
    return copy_out_status(app_address(reason_out), &reason, sizeof reason);
}

enum MvStatus bw_sys_restart(enum MvRestartMode mode)
{
    if ((uint32_t)mode != MV_RESTARTMODE_AUTOAPPLYUPDATE) {
        return MV_STATUS_PARAMETERFAULT;
    }
    if (port_app_in_interrupt()) {
        return MV_STATUS_UNAVAILABLE;
    }
    /* An update waiting for its polite window: the kernel loop installs it
     * now and restarts the app itself (wake reason APPLICATIONUPDATE). */
    if (bw_system_update_waiting()) {
        bw_system_update_apply_request();
        return MV_STATUS_OKAY;
    }
    /* Else AUTOAPPLYUPDATE restarts the app. The
     * port restarts it with wake reason MV_WAKEREASON_REMOTEAPPLICATIONRESTART:
     * the public enum has no value for "the app asked to be restarted", and
     * REMOTEAPPLICATIONRESTART ("the application was restarted on request") is
     * the closest; apps written for Microvisor read no more into it. */
    port_app_restart_request();
    return MV_STATUS_OKAY;
}

/* The table entry for a mediated register the app names, or NULL. */
static const bw_mediated_reg *mediated_reg(uint32_t app_address_of_reg)
{
    size_t count = 0;
    const bw_mediated_reg *table = port_mediated_regs(&count);
    for (size_t i = 0; table != NULL && i < count; i++) {
        if (table[i].app_address == app_address_of_reg) {
            return &table[i];
        }
    }
    return NULL;
}

enum MvStatus bw_sys_periph_peek32(uint32_t reg, uint32_t *value_out)
{
    const bw_mediated_reg *entry = mediated_reg(reg);
    if (entry == NULL) {
        return MV_STATUS_PERIPHERALACCESSFAULT;
    }
    uintptr_t app_out = app_address(value_out);
    bw_err err = bw_app_check_range(app_out, sizeof *value_out, BW_ACCESS_READWRITE);
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    uint32_t value = port_mediated_read(entry->app_address) & entry->read_mask;
    return copy_out_status(app_out, &value, sizeof value);
}

enum MvStatus bw_sys_periph_poke32(uint32_t reg, uint32_t mask, uint32_t xorvalue)
{
    const bw_mediated_reg *entry = mediated_reg(reg);
    if (entry == NULL) {
        return MV_STATUS_PERIPHERALACCESSFAULT;
    }
    uint32_t clear = mask & entry->write_mask;
    uint32_t flip = xorvalue & entry->write_mask;

    /* Read-modify-write as one step: a preempting poke must not be lost. */
    uint32_t state = port_irq_lock();
    uint32_t old = port_mediated_read(entry->app_address);
    port_mediated_write(entry->app_address, (old & ~clear) ^ flip);
    port_irq_unlock(state);
    return MV_STATUS_OKAY;
}

enum MvStatus bw_sys_setup_notifications(const struct MvNotificationSetup *setup,
                                         MvNotificationHandle *handle_out)
{
    struct MvNotificationSetup request;
    bw_err err = bw_app_copy_in(&request, app_address(setup), sizeof request);
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    uintptr_t app_handle_out = app_address(handle_out);
    err = bw_app_check_range(app_handle_out, sizeof *handle_out, BW_ACCESS_READWRITE);
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }

    uint32_t handle = 0;
    err = bw_notify_setup(request.irq, app_address(request.buffer), request.buffer_size, &handle);
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    MvNotificationHandle app_handle = (MvNotificationHandle)(uintptr_t)handle;
    err = bw_app_copy_out(app_handle_out, &app_handle, sizeof app_handle);
    if (err != BW_OK) {
        /* Checked above, so unreachable unless the memory map changed under
         * us; undo rather than leak a center the app cannot name. */
        (void)bw_notify_close(handle);
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_close_app_handle(uintptr_t app_handle, bw_err (*close)(uint32_t handle))
{
    bw_err err = bw_app_check_range(app_handle, sizeof(void *), BW_ACCESS_READWRITE);
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    void *held;
    err = bw_app_copy_in(&held, app_handle, sizeof held);
    uint32_t value = 0;
    if (err == BW_OK) {
        err = bw_sys_handle_value(held, &value);
    }
    if (err == BW_OK) {
        err = close(value);
    }
    if (err == BW_OK) {
        void *none = NULL;
        err = bw_app_copy_out(app_handle, &none, sizeof none);
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_close_notifications(MvNotificationHandle *handle)
{
    return bw_sys_close_app_handle(app_address(handle), bw_notify_close);
}

enum MvStatus bw_sys_temp_trigger_notification(MvNotificationHandle handle,
                                               enum MvEventType type, uint32_t tag)
{
    uint32_t type_value = (uint32_t)type;
    if (type_value < MV_EVENTTYPE_NETWORKSTATUSCHANGED || type_value > MV_EVENTTYPE_UPDATEDOWNLOADED) {
        return MV_STATUS_PARAMETERFAULT;
    }
    uint32_t value = 0;
    bw_err err = bw_sys_handle_value(handle, &value);
    if (err == BW_OK) {
        err = bw_notify_trigger(value, type, tag);
    }
    return bw_status_from_err(err);
}

enum MvStatus bw_sys_server_logging_init(uint8_t *buffer, uint32_t length_bytes)
{
    if (length_bytes < BW_LOG_BUFFER_MIN || length_bytes % BW_LOG_BUFFER_MIN != 0) {
        return MV_STATUS_INVALIDBUFFERSIZE;
    }
    uintptr_t app_buffer = app_address(buffer);
    if (app_buffer % BW_LOG_BUFFER_ALIGN != 0) {
        return MV_STATUS_INVALIDBUFFERALIGNMENT;
    }
    bw_err err = bw_app_check_range(app_buffer, length_bytes, BW_ACCESS_READWRITE);
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    return bw_status_from_err(bw_kernel_server_log_attach(app_buffer, length_bytes));
}

enum MvStatus bw_sys_server_log(const uint8_t *message, uint16_t length_bytes)
{
    if (length_bytes > BW_LOG_MESSAGE_MAX) {
        return MV_STATUS_LOGMESSAGETOOLONG;
    }
    uintptr_t app_message = app_address(message);
    bw_err err = bw_app_check_range(app_message, length_bytes, BW_ACCESS_READ);
    if (err != BW_OK) {
        return bw_status_from_err(err);
    }
    if (!bw_kernel_server_log_ready()) {
        return MV_STATUS_UNAVAILABLE;
    }
    /* Copied a piece at a time, each piece checked again as it is copied:
     * no message-sized buffer on the kernel's one stack, where nested calls
     * from app interrupts pile up (docs/DESIGN.md, "The gate and the fault
     * path"). The app may change its bytes meanwhile: it changes only what
     * is printed, and every byte is escaped. */
    bw_log_app_line line;
    bw_log_app_begin(&line);
    /* Queued for the cloud as well, if the app's log buffer has room
     * (bw_app_log.h); a line that finds none is counted lost, and the call
     * still succeeds: delivery is best-effort. */
    bw_app_log_line queued;
    bool queue = bw_app_log_reserve(length_bytes, (uint32_t)(port_time_us() / 1000u), &queued) == BW_OK;
    uint8_t piece[BW_LOG_APP_PIECE];
    for (uint32_t done = 0; done < length_bytes;) {
        uint32_t n = length_bytes - done < sizeof piece ? length_bytes - done : (uint32_t)sizeof piece;
        if (bw_app_copy_in(piece, app_message + done, n) != BW_OK) {
            bw_log_app_end(&line);
            if (queue) {
                bw_app_log_commit(&queued, false);
            }
            return MV_STATUS_LATEFAULT;
        }
        bw_log_app_append(&line, piece, n);
        if (queue && bw_app_log_write(&queued, done, piece, n) != BW_OK) {
            bw_app_log_commit(&queued, false);
            queue = false;
        }
        done += n;
    }
    bw_log_app_end(&line);
    if (queue) {
        bw_app_log_commit(&queued, true);
    }
    return MV_STATUS_OKAY;
}

enum MvStatus bw_sys_unavailable(void)
{
    return MV_STATUS_UNAVAILABLE;
}
