/*
 * Kernel-wide state (see bw_kernel.h).
 *
 * State: the wake reason of the current app run (one byte, written and read
 * without a lock); the server-log buffer belongs to the log queue
 * (bw_app_log.h), which claims it under its lock.
 */
#include "bw_app_log.h"
#include "bw_channel.h"
#include "bw_crash.h"
#include "bw_crypto.h"
#include "bw_handles.h"
#include "bw_identity.h"
#include "bw_kernel.h"
#include "bw_log.h"
#include "bw_network.h"
#include "bw_notify.h"
#include "bw_port.h"
#include "bw_random.h"

static volatile enum MvWakeReason wake_reason = MV_WAKEREASON_COLDBOOT;

static void forget_app_run(enum MvWakeReason reason)
{
    wake_reason = reason;
}

bw_err bw_kernel_init(void)
{
    bw_handles_reset();
    bw_notify_reset();
    bw_app_log_reset();
    bw_network_reset();
    bw_channel_reset();
    forget_app_run(MV_WAKEREASON_COLDBOOT);
    bw_crash_init();
    (void)bw_crypto_init();   /* cannot fail: hands a static arena to mbedTLS */
    return bw_random_init();
}

void bw_kernel_app_starting(enum MvWakeReason reason)
{
    bw_log_console_reset();
    bw_notify_close_all();
    uint32_t dropped = bw_app_log_detach();
    if (dropped != 0) {
        bw_log("app log: %u queued line%s lost with the app's previous run", (unsigned)dropped,
               dropped == 1 ? "" : "s");
    }
    bw_channel_app_starting();
    bw_network_app_starting();
    forget_app_run(reason);
    bw_crash_app_starting();
    bw_log("app starting (wake reason %u)", (unsigned)reason);
}

enum MvWakeReason bw_kernel_wake_reason(void)
{
    return wake_reason;
}

bw_err bw_kernel_server_log_attach(uintptr_t buffer, uint32_t length)
{
    return bw_app_log_attach(buffer, length);
}

bool bw_kernel_server_log_ready(void)
{
    return bw_app_log_attached();
}

bw_err bw_device_identity(uint8_t identity[16])
{
    uint8_t record[BW_IDENTITY_RECORD_SIZE];
    bw_err err = port_provisioning_read(0, record, sizeof record);
    return err == BW_OK ? bw_identity_parse(record, identity) : BW_E_IO;
}

bw_err bw_device_id_text(char id[BW_DEVICE_ID_LEN])
{
    static const char hex[] = "0123456789ABCDEF";
    uint8_t identity[BW_DEVICE_IDENTITY_BYTES];
    if (bw_device_identity(identity) != BW_OK) {
        for (size_t i = 0; i < BW_DEVICE_ID_LEN; i++) {
            id[i] = 0;
        }
        return BW_E_IO;
    }
    _Static_assert(BW_DEVICE_ID_LEN == 2 + 2 * BW_DEVICE_IDENTITY_BYTES, "ID layout");
    id[0] = 'B';
    id[1] = 'W';
    for (size_t i = 0; i < sizeof identity; i++) {
        id[2 + 2 * i] = hex[identity[i] >> 4];
        id[3 + 2 * i] = hex[identity[i] & 0xFu];
    }
    return BW_OK;
}
