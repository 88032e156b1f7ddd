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

/* A fresh P-256 key pair named name (kept in the scratch directory): its
 * public key, 0x04 || X || Y, into point. */
void cred_fixture_new_key(const char *name, uint8_t point[65]);

/* A key set (docs/SPEC.md §12.4) of count keys with the given sequence,
 * signed with the fleet CA ("ca") or the rogue one ("rogue"). Returns its
 * length. */
size_t cred_fixture_keyset(const char *ca, uint32_t sequence, const uint8_t (*keys)[65], uint32_t count,
                           uint8_t *out, size_t max);

#endif
