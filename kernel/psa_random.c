/*
 * p256-m's randomness (it calls psa_generate_random to make keys): the
 * kernel's DRBG. Only the debug session's ephemeral keys need it
 * (bw_debug_session.c); this strong definition replaces the weak refusal in
 * bw_manifest.c. Kernel images only (host tests supply their own).
 */
#include "bw_random.h"
#include "psa/crypto.h"

psa_status_t psa_generate_random(uint8_t *output, size_t output_size)
{
    return bw_random_bytes(output, output_size) == BW_OK ? PSA_SUCCESS : PSA_ERROR_INSUFFICIENT_ENTROPY;
}
