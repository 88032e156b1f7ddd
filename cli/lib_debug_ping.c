/*
 * `bulwark debug ping` (lib_debug_ping.h). Output, one line each:
 *   session open with BW... (handshake N ms, H bytes)
 *   ping 1: R ms, W bytes on the wire
 *   closed
 * --test-fault (tests only, docs/README "Debugging an app"): before the
 * second PING, arm a replayed or tampered record and print the device's
 * answer to it ("fault: device: record replayed or out of order").
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "bw_debug_wire.h"
#include "lib_debug_cloud.h"
#include "lib_debug_ping.h"

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

int debug_ping_run(int argc, char **argv)
{
    bw_api api;
    int rc = bw_api_take_options(&api, &argc, argv);
    if (rc != 0) return rc;
    static const struct option options[] = {
        { "device", required_argument, NULL, 'd' },
        { "key", required_argument, NULL, 'k' },
        { "count", required_argument, NULL, 'n' },
        { "test-fault", required_argument, NULL, 'f' },
        { "fleet", required_argument, NULL, 'F' },
        { "ca", required_argument, NULL, 'c' },
        { NULL, 0, NULL, 0 },
    };
    const char *device = NULL, *key = NULL, *fleet = NULL, *ca_file = NULL;
    long count = 3;
    debug_cloud_fault fault = DEBUG_CLOUD_FAULT_NONE;
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        char *end = NULL;
        switch (c) {
        case 'd': device = optarg; break;
        case 'k': key = optarg; break;
        case 'F': fleet = optarg; break;
        case 'c': ca_file = optarg; break;
        case 'n':
            count = strtol(optarg, &end, 10);
            if (*end != '\0' || count < 1 || count > 10000) {
                return cli_usage_error("--count takes 1..10000");
            }
            break;
        case 'f':
            if (strcmp(optarg, "replay") == 0) fault = DEBUG_CLOUD_FAULT_REPLAY;
            else if (strcmp(optarg, "tamper") == 0) fault = DEBUG_CLOUD_FAULT_TAMPER;
            else return cli_usage_error("--test-fault takes replay or tamper");
            break;
        default:
            return cli_usage_error("usage: bulwark debug ping %s", DEBUG_PING_USAGE);
        }
    }
    if (device == NULL || key == NULL || optind != argc) {
        return cli_usage_error("usage: bulwark debug ping %s", DEBUG_PING_USAGE);
    }
    char ca_buf[1024];
    const char *ca = debug_cloud_ca_path(fleet, ca_file, ca_buf, sizeof ca_buf);
    if (ca == NULL) {
        return cli_usage_error("debug ping: %s", DEBUG_CA_MISSING);
    }
    rc = bw_api_resolve(&api, NULL, NULL);
    if (rc != 0) return rc;
    char err[300];
    bw_debug_transport t;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (debug_cloud_open(&api, device, key, ca, &t, err, sizeof err) != 0) {
        return cli_fail("debug session with %s: %s", device, err);
    }
    printf("session open with %s (handshake %.1f ms, %zu bytes)\n", device, ms_since(&t0),
           debug_cloud_handshake_bytes(&t));
    fflush(stdout);
    rc = 0;
    for (long i = 1; i <= count && rc == 0; i++) {
        uint8_t data[16];
        for (size_t j = 0; j < sizeof data; j++) {
            data[j] = (uint8_t)(i + (long)j);
        }
        if (i == 2 && fault != DEBUG_CLOUD_FAULT_NONE) {
            debug_cloud_set_fault(&t, fault);
        }
        size_t wire = 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (debug_cloud_ping(&t, data, sizeof data, &wire, err, sizeof err) != 0) {
            rc = cli_fail("debug session with %s lost: %s", device, err);
            break;
        }
        printf("ping %ld: %.1f ms, %zu bytes on the wire\n", i, ms_since(&t0), wire);
        if (i == 2 && fault != DEBUG_CLOUD_FAULT_NONE) {
            printf("fault: device: %s\n", debug_cloud_fault_answer(&t));
        }
        fflush(stdout);
    }
    t.close(t.ctx);
    if (rc == 0) {
        printf("closed\n");
    }
    return rc;
}
