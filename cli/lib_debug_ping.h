/*
 * `bulwark debug ping --device D --key debug.key --fleet DIR [--count N]` (issue 11,
 * docs/SPEC.md §21): opens a debug session through the cloud, sends N PINGs
 * (each 16 bytes), prints each round trip and the session bytes on the
 * wire, closes. A verb of the `debug` group (cmd_debug.c lists it).
 */
#ifndef BULWARK_LIB_DEBUG_PING_H
#define BULWARK_LIB_DEBUG_PING_H

#define DEBUG_PING_USAGE \
    "--device ID --key DEBUG_KEY (--fleet DIR | --ca CA_CERT) [--count N] [--server URL] [--token T] [--test-fault replay|tamper]"
/* The usage error when the cloud transport has no fleet CA. */
#define DEBUG_CA_MISSING \
    "the cloud transport needs the fleet CA to check the device: --fleet DIR (its ca.crt) or --ca FILE"
#define DEBUG_PING_SUMMARY "open a debug session through the cloud and time PINGs"

/* argv[0] is "ping". Exit code: 0 every PING answered, 1 refused or lost, 2 bad usage. */
int debug_ping_run(int argc, char **argv);

#endif
