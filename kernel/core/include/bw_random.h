/*
 * The kernel's random numbers: one mbedTLS CTR_DRBG, seeded (and reseeded)
 * from the board's entropy source through port_entropy, personalised with
 * "bulwark". Used for handle values; later for TLS and key generation.
 */
#ifndef BW_RANDOM_H
#define BW_RANDOM_H

#include <stddef.h>

#include "bw_err.h"

/* port_entropy is called with port_irq_lock held, at seeding and at the DRBG's
 * periodic reseeds, so it must work with interrupts masked. */

/* (Re)seeds the generator from port_entropy. Thread mode, at kernel start.
 * BW_E_IO if the entropy source failed; the generator then stays unusable. */
bw_err bw_random_init(void);

/* Fills buf with len random bytes. Callable from thread mode and from
 * preempting kernel calls (it serialises itself with port_irq_lock), but never
 * while the caller holds that lock. BW_E_UNAVAILABLE before a successful
 * bw_random_init, BW_E_IO if a reseed failed (buf is then zeroed). */
bw_err bw_random_bytes(void *buf, size_t len);

#endif
