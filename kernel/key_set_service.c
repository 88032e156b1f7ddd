/*
 * Taking a key set from the link or the cloud (key_set_service.h).
 */
#include <inttypes.h>

#include "bw_credentials.h"
#include "bw_log.h"
#include "key_set_service.h"
#include "update_service.h"

bw_err key_set_service_take(const uint8_t *set, size_t len, char *reason, size_t size)
{
    bw_err err = bw_credentials_rotate_keys(set, len, reason, size);
    if (err != BW_OK) {
        bw_log("credentials: key set refused: %s", reason);
        return err;
    }
    size_t count = 0;
    uint8_t keys[BW_CRED_UPDATE_KEYS_MAX][BW_CRED_PUBLIC_SIZE];
    bw_credentials_update_keys(keys, &count);
    bw_log("credentials: update keys rotated to key set %" PRIu32 " (%u key(s))", bw_credentials_key_set(),
           (unsigned)count);
    update_service_credentials_changed();
    return BW_OK;
}
