/*
 * Certificates for the device-credentials tests (unit and power-cut sweep),
 * made at test time with the openssl CLI in a scratch directory: a fleet CA,
 * a rogue CA, and client certificates for a device's own request signed by
 * either. Test code only; aborts on any failure of openssl.
 */
#ifndef CRED_FIXTURE_H
#define CRED_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#define CRED_FIXTURE_ID "BW00112233445566778899AABBCCDDEEFF"

/* Makes the scratch directory and both CAs (once per process). */
void cred_fixture_init(void);

/* The fleet CA certificate, DER, into out; returns its length. */
size_t cred_fixture_ca_der(uint8_t *out, size_t max);

/* Signs a certificate request (DER) with the fleet CA ("ca") or the rogue
 * one ("rogue"): client auth, the given serial. Returns the DER length. */
size_t cred_fixture_sign(const char *ca, const uint8_t *csr, size_t csr_len, unsigned serial,
                         uint8_t *out, size_t max);

#endif
