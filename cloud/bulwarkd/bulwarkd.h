/*
 * bulwarkd's shared pieces: its configuration (config.c: flags, environment,
 * config file, the fleet's fleet.conf, defaults, first found wins), the
 * running daemon's state the REST layer (api.c) and the message handling
 * (bulwarkd.c) both use, and the device certificate check (certcheck.c).
 */
#ifndef BULWARKD_H
#define BULWARKD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "store.h"

#define BWD_PATH_MAX 4096
#define BWD_DEVICE_ID_LEN 34u   /* "BW" + 32 uppercase hex digits (SPEC §3) */

typedef struct bwd_config {
    char fleet_dir[BWD_PATH_MAX];
    char api_host[64];
    int api_port;                     /* 0: any free port (printed at start) */
    char db_path[BWD_PATH_MAX];
    char registry_path[BWD_PATH_MAX]; /* identities the broker admits (bw_registry_plugin) */
    char broker_host[256];
    int broker_port;
    unsigned log_retention;           /* log entries kept per device */
    unsigned time_interval_s;         /* TIME to online devices at least this often */
    char token[256];                  /* admin token (fleet admin.token) */
    char client_id[24];               /* MQTT client ID: its persistent session on the broker */
    char share_group[65];             /* "": subscribe bw/+/up/#; else $share/<group>/bw/+/up/# */
} bwd_config;

typedef struct bwd_counters {
    atomic_ulong messages, unregistered, invalid, unknown_topic, log_lines, duplicate_lines, lost_lines,
        crashes, bad_crash_records, time_sent;
} bwd_counters;

typedef struct bwd {
    bwd_config config;
    store *store;
    broker *broker;
    bwd_counters counters;
} bwd;

/* Fills config from argv, the environment (BULWARKD_*), the config file
 * (--config, $BULWARKD_CONFIG), the fleet's fleet.conf and defaults, and
 * reads the admin token. 0, or 2 after printing why (bad usage / files). */
int bwd_config_load(bwd_config *config, int argc, char **argv);

/* True if id is a device ID: "BW" + 32 uppercase hex digits. */
bool bwd_valid_device_id(const char *id);

/* Checks a device certificate: PEM, one X.509 certificate, CN = id, signed
 * by (and valid under) the CA in ca_file. 0, or -1 with a reason. */
int bwd_check_certificate(const char *pem, size_t len, const char *id, const char *ca_file, char *reason,
                          size_t reason_size);

/* Rewrites the broker's registry file (every device + "bulwarkd") atomically. 0 or -1. */
int bwd_write_registry(bwd *d);

/* Starts the REST server (api.c); NULL + reason on failure. *port gets the bound port. */
struct MHD_Daemon *bwd_api_start(bwd *d, int *port, char *err, size_t err_size);

/* Wall clock, ms since 1970. */
int64_t bwd_now_ms(void);

#endif
