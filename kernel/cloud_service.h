/*
 * The kernel's cloud link (docs/DESIGN.md "Cloud link"): the board's modem
 * UART → bw_modem (AT) → bw_tls → bw_mqtt → bw_cloud (SPEC §11–14).
 * Kernel loop only.
 */
#ifndef CLOUD_SERVICE_H
#define CLOUD_SERVICE_H

#include <stdbool.h>

/* Starts the modem and, once the device holds cloud credentials, keeps a
 * session to the broker up, reconnecting with backoff. Every kernel loop pass. */
void cloud_service_work(void);

/* True when the device has no cloud credentials (no cloud configured) or its
 * link has been online since boot: what a kernel on trial waits for. */
bool cloud_service_reached(void);

#endif
