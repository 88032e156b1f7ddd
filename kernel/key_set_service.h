/*
 * Taking a key set (docs/SPEC.md §12.4), whichever way it came: the local
 * link's KEYS (link_service.c) and the cloud's KEY_SET (§13.5, through
 * bw_cloud.h) both end here, so a set is judged, logged and put to use the
 * same way. Kernel loop only.
 */
#ifndef KEY_SET_SERVICE_H
#define KEY_SET_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"

/* Checks set[0..len) and keeps it (bw_credentials_rotate_keys), logs the
 * outcome on the kernel console and, when taken, hands the new keys to the
 * update engine at once. BW_OK, or the store's error with one line in
 * reason (size bytes) and nothing changed. */
bw_err key_set_service_take(const uint8_t *set, size_t len, char *reason, size_t size);

#endif
