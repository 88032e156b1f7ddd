/*
 * The STM32U585 true random number generator (RNG, secure), clocked by
 * HSI48 (RCC_CCIPR2.RNGSEL at its reset value), in the configuration
 * RM0456/AN4230 give for NIST SP800-90B compliance, with clock-error
 * detection on. The source of port_entropy.
 */
#ifndef U585_RNG_H
#define U585_RNG_H

#include <stddef.h>

#include "bw_err.h"

/* Starts HSI48 and the RNG. BW_E_IO if HSI48 or the RNG's conditioning reset
 * did not come up in time (later reads then fail too). Once, from board_init,
 * after the time base started. */
bw_err u585_rng_init(void);

/* Fills buf with len bytes straight from the RNG. BW_E_IO on a seed or clock
 * error (the RNG is then reset so a later call may succeed) or when a word
 * takes longer than U585_RNG_WORD_TIMEOUT_US. Never blocks longer than that
 * per word; may run with interrupts masked. */
bw_err u585_rng_read(void *buf, size_t len);

#define U585_RNG_WORD_TIMEOUT_US 10000u
#define U585_RNG_START_TIMEOUT_US 1000u

#endif
