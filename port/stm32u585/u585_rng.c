/*
 * RNG driver (see u585_rng.h), after RM0456's RNG chapter: configure with
 * CONDRST set, release CONDRST and wait for it to clear, then set RNGEN;
 * read RNG_DR only after RNG_SR.DRDY with no error status, and reject a 0
 * word (RNG_DR reads 0 when a seed error struck between the two reads).
 * Any error fails the current draw; a seed error also gets the RM's
 * recovery (a conditioning reset) so a later draw can succeed.
 */
#include "u585_rng.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "u585_regs.h"
#include "u585_timebase.h"

#define RNG_REG(offset) U585_REG(BOARD_RNG + (offset))
#define RCC_REG(offset) U585_REG(BOARD_RCC + (offset))

#define RNG_ERRORS (RNG_SR_SECS | RNG_SR_CECS | RNG_SR_SEIS | RNG_SR_CEIS)

/* Waits until (*reg & mask) == want, at most timeout_us; true if it did. */
static bool wait_bits(uint32_t reg_address, uint32_t mask, uint32_t want, uint32_t timeout_us)
{
    uint64_t deadline = u585_timebase_us() + timeout_us;
    while ((U585_REG(reg_address) & mask) != want) {
        if (u585_timebase_us() > deadline) {
            return false;
        }
    }
    return true;
}

bw_err u585_rng_init(void)
{
    RCC_REG(RCC_CR) |= RCC_CR_HSI48ON;
    if (!wait_bits(BOARD_RCC + RCC_CR, RCC_CR_HSI48RDY, RCC_CR_HSI48RDY, U585_RNG_START_TIMEOUT_US)) {
        return BW_E_IO;
    }
    RCC_REG(RCC_AHB2ENR1) |= RCC_AHB2ENR1_RNGEN;
    (void)RCC_REG(RCC_AHB2ENR1);   /* read back: the clock is on before the RNG is touched */

    RNG_REG(RNG_CR) = RNG_CR_NIST_CONFIG | RNG_CR_CONDRST;   /* CED = 0: clock errors detected */
    RNG_REG(RNG_HTCR) = RNG_HTCR_NIST_VALUE;
    RNG_REG(RNG_NSCR) = RNG_NSCR_NIST_VALUE;
    RNG_REG(RNG_CR) = RNG_CR_NIST_CONFIG;
    if (!wait_bits(BOARD_RNG + RNG_CR, RNG_CR_CONDRST, 0u, U585_RNG_START_TIMEOUT_US)) {
        return BW_E_IO;
    }
    RNG_REG(RNG_CR) = RNG_CR_NIST_CONFIG | RNG_CR_RNGEN;
    return BW_OK;
}

/* Fails the current draw; after a seed error starts the RM0456 recovery. */
static bw_err rng_failed(uint32_t status)
{
    if (status & RNG_SR_SECS) {
        RNG_REG(RNG_CR) |= RNG_CR_CONDRST;
        RNG_REG(RNG_CR) &= ~RNG_CR_CONDRST;   /* completes on its own; the next draw waits for DRDY */
    }
    RNG_REG(RNG_SR) = ~(RNG_SR_SEIS | RNG_SR_CEIS);   /* rc_w0: clear the two error flags */
    return BW_E_IO;
}

static bw_err rng_word(uint32_t *word)
{
    uint64_t deadline = u585_timebase_us() + U585_RNG_WORD_TIMEOUT_US;
    for (;;) {
        uint32_t status = RNG_REG(RNG_SR);
        if (status & RNG_ERRORS) {
            return rng_failed(status);
        }
        if (status & RNG_SR_DRDY) {
            uint32_t value = RNG_REG(RNG_DR);
            if (value != 0u) {
                *word = value;
                return BW_OK;
            }
        }
        if (u585_timebase_us() > deadline) {
            return BW_E_IO;
        }
    }
}

bw_err u585_rng_read(void *buf, size_t len)
{
    uint8_t *out = buf;
    while (len > 0u) {
        uint32_t word;
        bw_err err = rng_word(&word);
        if (err != BW_OK) {
            return err;
        }
        size_t take = len < sizeof word ? len : sizeof word;
        memcpy(out, &word, take);
        out += take;
        len -= take;
    }
    return BW_OK;
}
