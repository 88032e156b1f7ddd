/*
 * CTR_DRBG over port_entropy (see bw_random.h).
 *
 * State: one static DRBG context and a ready flag. Every use of the context
 * happens under port_irq_lock, because a kernel call from an app interrupt can
 * preempt one from app thread mode; the DRBG calls back into port_entropy on
 * reseed, which never takes the lock, so the lock is never nested.
 */
#include <stdbool.h>
#include <string.h>

#include "mbedtls/ctr_drbg.h"

#include "bw_port.h"
#include "bw_random.h"

static mbedtls_ctr_drbg_context drbg;
static bool drbg_ready;

static const unsigned char personalization[] = "bulwark";

/* mbedTLS entropy callback: 0 on success, as mbedTLS expects. */
static int entropy_from_port(void *unused, unsigned char *out, size_t len)
{
    (void)unused;
    return port_entropy(out, len) == BW_OK ? 0 : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

bw_err bw_random_init(void)
{
    uint32_t state = port_irq_lock();
    drbg_ready = false;
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_ctr_drbg_init(&drbg);
    int rc = mbedtls_ctr_drbg_seed(&drbg, entropy_from_port, NULL, personalization,
                                   sizeof personalization - 1);
    drbg_ready = (rc == 0);
    port_irq_unlock(state);
    return rc == 0 ? BW_OK : BW_E_IO;
}

bw_err bw_random_bytes(void *buf, size_t len)
{
    unsigned char *out = buf;
    bw_err err = BW_OK;

    uint32_t state = port_irq_lock();
    if (!drbg_ready) {
        err = BW_E_UNAVAILABLE;
    }
    while (err == BW_OK && len > 0) {
        size_t chunk = len < MBEDTLS_CTR_DRBG_MAX_REQUEST ? len : MBEDTLS_CTR_DRBG_MAX_REQUEST;
        if (mbedtls_ctr_drbg_random(&drbg, out, chunk) != 0) {
            err = BW_E_IO;
        }
        out += chunk;
        len -= chunk;
    }
    port_irq_unlock(state);

    if (err != BW_OK) {
        memset(buf, 0, (size_t)(out - (unsigned char *)buf) + len);
    }
    return err;
}
