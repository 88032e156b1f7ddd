/*
 * bw_p256_verify (kernel/crypto) against mbedTLS's own ECP and ECDSA, the
 * host tools' build of mbedTLS: thousands of signatures by random keys
 * accepted and each one-bit change refused; r, s and keys out of range;
 * and signatures built with chosen u1 = e/s, u2 = r/s that drive the joint
 * multiplication u1 G + u2 Q through its edge cases (a doubling inside an
 * addition, infinity in the middle and at the end, x(R) >= n). Random
 * numbers come from a CTR_DRBG with a fixed seed: every run is the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bw_p256_verify.h"
#include "bw_p256_gtable.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"

#define RANDOM_SIGNATURES 2000
#define EDGE_CASES 200

static mbedtls_ecp_group grp;
static mbedtls_ctr_drbg_context drbg;

/* The DRBG's "entropy": a fixed sequence, so every run draws the same numbers. */
static int fixed_entropy(void *state, unsigned char *out, size_t len)
{
    uint8_t *counter = state;
    for (size_t i = 0; i < len; i++) {
        out[i] = (uint8_t)(*counter)++;
    }
    return 0;
}

static int setup(void **state)
{
    static uint8_t counter;
    (void)state;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ctr_drbg_init(&drbg);
    if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) != 0
        || mbedtls_ctr_drbg_seed(&drbg, fixed_entropy, &counter, (const uint8_t *)"p256", 4) != 0) {
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_ecp_group_free(&grp);
    return 0;
}

static uint32_t random32(void)
{
    uint8_t b[4];
    assert_int_equal(mbedtls_ctr_drbg_random(&drbg, b, sizeof b), 0);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* v = a random number in [1, n). */
static void random_scalar(mbedtls_mpi *v)
{
    assert_int_equal(mbedtls_mpi_random(v, 1, &grp.N, mbedtls_ctr_drbg_random, &drbg), 0);
}

static void write32(const mbedtls_mpi *v, uint8_t out[32])
{
    assert_int_equal(mbedtls_mpi_write_binary(v, out, 32), 0);
}

/* out = X || Y of point (no 0x04 prefix). */
static void write_point(const mbedtls_ecp_point *point, uint8_t out[64])
{
    uint8_t raw[65];
    size_t len;
    assert_int_equal(mbedtls_ecp_point_write_binary(&grp, point, MBEDTLS_ECP_PF_UNCOMPRESSED, &len, raw, sizeof raw), 0);
    assert_int_equal(len, 65);
    memcpy(out, raw + 1, 64);
}

/* A signature with chosen u1 = e/s and u2 = r/s under key Q (any point, not
 * infinity): R = u1 G + u2 Q, r = x(R) mod n, s = r/u2, e = u1 s. Returns
 * false if R is infinity or r is 0 (no such signature). */
static bool signature_for(const mbedtls_mpi *u1, const mbedtls_mpi *u2, const mbedtls_ecp_point *q,
                          uint8_t sig[64], uint8_t hash[32], uint8_t key[64])
{
    mbedtls_ecp_point r_point;
    mbedtls_mpi r, s, e, t;
    mbedtls_ecp_point_init(&r_point);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    mbedtls_mpi_init(&e);
    mbedtls_mpi_init(&t);
    assert_int_equal(mbedtls_ecp_muladd(&grp, &r_point, u1, &grp.G, u2, q), 0);
    bool ok = mbedtls_ecp_is_zero(&r_point) == 0;
    if (ok) {
        uint8_t xy[64];
        write_point(&r_point, xy);
        assert_int_equal(mbedtls_mpi_read_binary(&r, xy, 32), 0);
        assert_int_equal(mbedtls_mpi_mod_mpi(&r, &r, &grp.N), 0);
        ok = mbedtls_mpi_cmp_int(&r, 0) != 0;
    }
    if (ok) {
        assert_int_equal(mbedtls_mpi_inv_mod(&t, u2, &grp.N), 0);
        assert_int_equal(mbedtls_mpi_mul_mpi(&s, &r, &t), 0);
        assert_int_equal(mbedtls_mpi_mod_mpi(&s, &s, &grp.N), 0);
        assert_int_equal(mbedtls_mpi_mul_mpi(&e, u1, &s), 0);
        assert_int_equal(mbedtls_mpi_mod_mpi(&e, &e, &grp.N), 0);
        write32(&r, sig);
        write32(&s, sig + 32);
        write32(&e, hash);
        write_point(q, key);
    }
    mbedtls_mpi_free(&t);
    mbedtls_mpi_free(&e);
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ecp_point_free(&r_point);
    return ok;
}

/* q = k G. */
static void multiple_of_g(mbedtls_ecp_point *q, const mbedtls_mpi *k)
{
    assert_int_equal(mbedtls_ecp_mul(&grp, q, k, &grp.G, mbedtls_ctr_drbg_random, &drbg), 0);
}

/* mbedTLS's verdict on the same inputs. */
static bool mbedtls_accepts(const uint8_t sig[64], const uint8_t key[64], const uint8_t hash[32])
{
    uint8_t raw[65] = {0x04};
    mbedtls_ecp_point q;
    mbedtls_mpi r, s;
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    memcpy(raw + 1, key, 64);
    bool ok = mbedtls_ecp_point_read_binary(&grp, &q, raw, sizeof raw) == 0
              && mbedtls_ecp_check_pubkey(&grp, &q) == 0
              && mbedtls_mpi_read_binary(&r, sig, 32) == 0 && mbedtls_mpi_read_binary(&s, sig + 32, 32) == 0
              && mbedtls_ecdsa_verify(&grp, hash, 32, &q, &r, &s) == 0;
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ecp_point_free(&q);
    return ok;
}

/* Every entry of the generator table is (2i + 1) G, coordinates x 2^256 mod p. */
static void test_generator_table(void **state)
{
    (void)state;
    mbedtls_mpi k, v;
    mbedtls_ecp_point point;
    mbedtls_mpi_init(&k);
    mbedtls_mpi_init(&v);
    mbedtls_ecp_point_init(&point);
    for (unsigned i = 0; i < sizeof bw_p256_g_odd / sizeof bw_p256_g_odd[0]; i++) {
        uint8_t xy[64];
        assert_int_equal(mbedtls_mpi_lset(&k, 2 * (int)i + 1), 0);
        multiple_of_g(&point, &k);
        write_point(&point, xy);
        for (unsigned c = 0; c < 2; c++) {
            uint8_t want[32], got[32];
            assert_int_equal(mbedtls_mpi_read_binary(&v, xy + 32 * c, 32), 0);
            assert_int_equal(mbedtls_mpi_shift_l(&v, 256), 0);
            assert_int_equal(mbedtls_mpi_mod_mpi(&v, &v, &grp.P), 0);
            write32(&v, want);
            for (unsigned limb = 0; limb < 8; limb++) {
                uint32_t w = bw_p256_g_odd[i][c][limb];
                for (unsigned b = 0; b < 4; b++) {
                    got[31 - 4 * limb - b] = (uint8_t)(w >> (8 * b));
                }
            }
            assert_memory_equal(got, want, 32);
        }
    }
    mbedtls_ecp_point_free(&point);
    mbedtls_mpi_free(&v);
    mbedtls_mpi_free(&k);
}

/* Random keys sign random hashes with mbedTLS: each signature verifies, and
 * one flipped bit anywhere in r, s, the hash or the key is refused. */
static void test_random_signatures(void **state)
{
    (void)state;
    mbedtls_mpi d, r, s;
    mbedtls_ecp_point q;
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    mbedtls_ecp_point_init(&q);
    for (unsigned i = 0; i < RANDOM_SIGNATURES; i++) {
        uint8_t sig[64], key[64], hash[32];
        assert_int_equal(mbedtls_ecp_gen_keypair(&grp, &d, &q, mbedtls_ctr_drbg_random, &drbg), 0);
        assert_int_equal(mbedtls_ctr_drbg_random(&drbg, hash, sizeof hash), 0);
        assert_int_equal(mbedtls_ecdsa_sign(&grp, &r, &s, &d, hash, 32, mbedtls_ctr_drbg_random, &drbg), 0);
        write32(&r, sig);
        write32(&s, sig + 32);
        write_point(&q, key);
        assert_int_equal(bw_p256_verify(sig, key, hash), BW_P256_OK);

        uint32_t bit = random32();
        uint8_t *target[] = {sig, sig + 32, hash, key};
        unsigned size[] = {32, 32, 32, 64};
        unsigned which = bit % 4, at = (bit >> 2) % (size[which] * 8);
        target[which][at / 8] ^= (uint8_t)(1u << (at % 8));
        assert_int_not_equal(bw_p256_verify(sig, key, hash), BW_P256_OK);
        assert_false(mbedtls_accepts(sig, key, hash));
    }
    mbedtls_ecp_point_free(&q);
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&d);
}

/* r or s = 0, n, n + 1, 2^256 - 1: refused as a bad signature; s = 1, 2,
 * n - 1 refused after the inversion, n - s accepted; a key off the curve,
 * with a coordinate >= p, or (0, 0): a bad key, checked first. */
static void test_out_of_range(void **state)
{
    (void)state;
    mbedtls_mpi u1, u2, v;
    mbedtls_ecp_point q;
    mbedtls_mpi_init(&u1);
    mbedtls_mpi_init(&u2);
    mbedtls_mpi_init(&v);
    mbedtls_ecp_point_init(&q);
    uint8_t sig[64], key[64], hash[32], bad[64], n[32], n1[32], p[32];
    random_scalar(&u1);
    random_scalar(&u2);
    random_scalar(&v);
    multiple_of_g(&q, &v);
    assert_true(signature_for(&u1, &u2, &q, sig, hash, key));
    assert_int_equal(bw_p256_verify(sig, key, hash), BW_P256_OK);
    write32(&grp.N, n);
    write32(&grp.P, p);
    assert_int_equal(mbedtls_mpi_add_int(&v, &grp.N, 1), 0);
    write32(&v, n1);

    const uint8_t zero[64] = {0};
    uint8_t ones[32];
    memset(ones, 0xFF, sizeof ones);
    const uint8_t *values[] = {zero, n, n1, ones};
    for (unsigned half = 0; half < 2; half++) {
        for (unsigned i = 0; i < 4; i++) {
            memcpy(bad, sig, 64);
            memcpy(bad + 32 * half, values[i], 32);
            assert_int_equal(bw_p256_verify(bad, key, hash), BW_P256_BAD_SIGNATURE);
        }
    }
    /* s = 1, 2, n - 1: in range, inverted (and wrong); (r, n - s) is the same
     * signature (ECDSA's sign ambiguity): accepted, as mbedTLS does. */
    const int small[] = {1, 2, -1};
    for (unsigned i = 0; i < 3; i++) {
        memcpy(bad, sig, 64);
        if (small[i] > 0) {
            assert_int_equal(mbedtls_mpi_lset(&v, small[i]), 0);
        } else {
            assert_int_equal(mbedtls_mpi_sub_int(&v, &grp.N, 1), 0);
        }
        write32(&v, bad + 32);
        assert_int_equal(bw_p256_verify(bad, key, hash), BW_P256_BAD_SIGNATURE);
    }
    assert_int_equal(mbedtls_mpi_read_binary(&v, sig + 32, 32), 0);
    assert_int_equal(mbedtls_mpi_sub_mpi(&v, &grp.N, &v), 0);
    memcpy(bad, sig, 64);
    write32(&v, bad + 32);
    assert_int_equal(bw_p256_verify(bad, key, hash), BW_P256_OK);
    assert_true(mbedtls_accepts(bad, key, hash));

    memcpy(bad, key, 64);
    bad[63] ^= 1;                                   /* y + 1 or y - 1: off the curve */
    assert_int_equal(bw_p256_verify(sig, bad, hash), BW_P256_BAD_KEY);
    memcpy(bad, zero, 32);
    memcpy(bad + 32, zero, 32);                     /* (0, 0): p256-m's infinity */
    assert_int_equal(bw_p256_verify(sig, bad, hash), BW_P256_BAD_KEY);
    memcpy(bad, key, 64);
    memcpy(bad, p, 32);                             /* x = p */
    assert_int_equal(bw_p256_verify(sig, bad, hash), BW_P256_BAD_KEY);
    memcpy(bad, ones, 32);
    memcpy(bad + 32, ones, 32);
    assert_int_equal(bw_p256_verify(zero, bad, hash), BW_P256_BAD_KEY);   /* the key is checked first */

    mbedtls_ecp_point_free(&q);
    mbedtls_mpi_free(&v);
    mbedtls_mpi_free(&u2);
    mbedtls_mpi_free(&u1);
}

/* Q = G and u1 = u2 = u: the sum reaches u G from the table of G, then adds
 * u G from the table of Q, the same point: the addition must double. */
static void test_doubling_inside_addition(void **state)
{
    (void)state;
    mbedtls_mpi u, k;
    mbedtls_ecp_point q;
    mbedtls_mpi_init(&u);
    mbedtls_mpi_init(&k);
    mbedtls_ecp_point_init(&q);
    assert_int_equal(mbedtls_mpi_lset(&k, 1), 0);
    multiple_of_g(&q, &k);
    for (int i = 1; i <= EDGE_CASES; i++) {
        uint8_t sig[64], key[64], hash[32];
        assert_int_equal(mbedtls_mpi_lset(&u, i), 0);
        assert_true(signature_for(&u, &u, &q, sig, hash, key));
        assert_int_equal(bw_p256_verify(sig, key, hash), BW_P256_OK);
        assert_true(mbedtls_accepts(sig, key, hash));
        sig[63] ^= 1;
        assert_int_equal(bw_p256_verify(sig, key, hash), BW_P256_BAD_SIGNATURE);
    }
    mbedtls_ecp_point_free(&q);
    mbedtls_mpi_free(&k);
    mbedtls_mpi_free(&u);
}

/* Q = -G and u1 = 2^200 + a, u2 = 2^200 + b: the two top digits cancel (the
 * sum is infinity in the middle of the pass), then (a - b) G is built. */
static void test_infinity_in_the_middle(void **state)
{
    (void)state;
    mbedtls_mpi u1, u2, k;
    mbedtls_ecp_point q;
    mbedtls_mpi_init(&u1);
    mbedtls_mpi_init(&u2);
    mbedtls_mpi_init(&k);
    mbedtls_ecp_point_init(&q);
    assert_int_equal(mbedtls_mpi_sub_int(&k, &grp.N, 1), 0);
    multiple_of_g(&q, &k);
    for (unsigned i = 0; i < EDGE_CASES; i++) {
        uint8_t sig[64], key[64], hash[32];
        assert_int_equal(mbedtls_mpi_lset(&u1, (int)(random32() >> 2)), 0);
        assert_int_equal(mbedtls_mpi_lset(&u2, (int)(random32() >> 2)), 0);
        assert_int_equal(mbedtls_mpi_set_bit(&u1, 200, 1), 0);
        assert_int_equal(mbedtls_mpi_set_bit(&u2, 200, 1), 0);
        if (!signature_for(&u1, &u2, &q, sig, hash, key)) {
            continue;                               /* a == b */
        }
        assert_int_equal(bw_p256_verify(sig, key, hash), BW_P256_OK);
        assert_true(mbedtls_accepts(sig, key, hash));
    }
    mbedtls_ecp_point_free(&q);
    mbedtls_mpi_free(&k);
    mbedtls_mpi_free(&u2);
    mbedtls_mpi_free(&u1);
}

/* Q = k G and e = -r k: u1 G + u2 Q = (e + r k) / s G is infinity, refused. */
static void test_infinity_at_the_end(void **state)
{
    (void)state;
    mbedtls_mpi k, r, s, e;
    mbedtls_ecp_point q;
    mbedtls_mpi_init(&k);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    mbedtls_mpi_init(&e);
    mbedtls_ecp_point_init(&q);
    for (unsigned i = 0; i < EDGE_CASES; i++) {
        uint8_t sig[64], key[64], hash[32];
        random_scalar(&r);
        random_scalar(&s);
        if (i == 0) {
            assert_int_equal(mbedtls_mpi_lset(&k, 1), 0);
        } else {
            random_scalar(&k);
        }
        multiple_of_g(&q, &k);
        assert_int_equal(mbedtls_mpi_mul_mpi(&e, &r, &k), 0);
        assert_int_equal(mbedtls_mpi_mod_mpi(&e, &e, &grp.N), 0);
        assert_int_equal(mbedtls_mpi_sub_mpi(&e, &grp.N, &e), 0);
        write32(&r, sig);
        write32(&s, sig + 32);
        write32(&e, hash);
        write_point(&q, key);
        assert_int_equal(bw_p256_verify(sig, key, hash), BW_P256_BAD_SIGNATURE);
        assert_false(mbedtls_accepts(sig, key, hash));
    }
    mbedtls_ecp_point_free(&q);
    mbedtls_mpi_free(&e);
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&k);
}

/* Hashes >= n (reduced mod n) and R with x(R) >= n (r = x - n, only r + n
 * matches): both accepted, as mbedTLS does; r = x (>= n) refused. */
static void test_reductions_mod_n(void **state)
{
    (void)state;
    mbedtls_mpi d, r, s, x, y, t, u1, u2, w;
    mbedtls_ecp_point q, big;
    mbedtls_mpi *all[] = {&d, &r, &s, &x, &y, &t, &u1, &u2, &w};
    for (unsigned i = 0; i < 9; i++) {
        mbedtls_mpi_init(all[i]);
    }
    mbedtls_ecp_point_init(&q);
    mbedtls_ecp_point_init(&big);

    /* hash = e + n, e < 2^256 - n */
    for (unsigned i = 0; i < EDGE_CASES; i++) {
        uint8_t sig[64], key[64], hash[32];
        assert_int_equal(mbedtls_ecp_gen_keypair(&grp, &d, &q, mbedtls_ctr_drbg_random, &drbg), 0);
        assert_int_equal(mbedtls_mpi_fill_random(&t, 27, mbedtls_ctr_drbg_random, &drbg), 0);
        assert_int_equal(mbedtls_mpi_add_mpi(&t, &t, &grp.N), 0);
        write32(&t, hash);
        assert_int_equal(mbedtls_ecdsa_sign(&grp, &r, &s, &d, hash, 32, mbedtls_ctr_drbg_random, &drbg), 0);
        write32(&r, sig);
        write32(&s, sig + 32);
        write_point(&q, key);
        assert_int_equal(bw_p256_verify(sig, key, hash), BW_P256_OK);
    }

    /* R = (x, y) with n <= x < p: Q = (R - u1 G) / u2 for random u1, u2. */
    unsigned found = 0;
    for (unsigned i = 0; found < 20 && i < 400; i++) {
        uint8_t raw[65] = {0x04}, sig[64], key[64], hash[32];
        assert_int_equal(mbedtls_mpi_sub_mpi(&t, &grp.P, &grp.N), 0);
        assert_int_equal(mbedtls_mpi_random(&x, 0, &t, mbedtls_ctr_drbg_random, &drbg), 0);
        assert_int_equal(mbedtls_mpi_add_mpi(&x, &x, &grp.N), 0);
        /* y^2 = x^3 - 3x + b; p = 3 mod 4, so y = (y^2)^((p + 1) / 4) if a square */
        assert_int_equal(mbedtls_mpi_mul_mpi(&t, &x, &x), 0);
        assert_int_equal(mbedtls_mpi_sub_int(&t, &t, 3), 0);
        assert_int_equal(mbedtls_mpi_mul_mpi(&t, &t, &x), 0);
        assert_int_equal(mbedtls_mpi_add_mpi(&t, &t, &grp.B), 0);
        assert_int_equal(mbedtls_mpi_mod_mpi(&t, &t, &grp.P), 0);
        assert_int_equal(mbedtls_mpi_add_int(&w, &grp.P, 1), 0);
        assert_int_equal(mbedtls_mpi_shift_r(&w, 2), 0);
        assert_int_equal(mbedtls_mpi_exp_mod(&y, &t, &w, &grp.P, NULL), 0);
        write32(&x, raw + 1);
        write32(&y, raw + 33);
        if (mbedtls_ecp_point_read_binary(&grp, &big, raw, sizeof raw) != 0
            || mbedtls_ecp_check_pubkey(&grp, &big) != 0) {
            continue;                               /* not a square: no point with this x */
        }
        found++;
        random_scalar(&u1);
        random_scalar(&u2);
        assert_int_equal(mbedtls_mpi_inv_mod(&w, &u2, &grp.N), 0);           /* 1/u2 */
        assert_int_equal(mbedtls_mpi_mul_mpi(&t, &u1, &w), 0);
        assert_int_equal(mbedtls_mpi_mod_mpi(&t, &t, &grp.N), 0);
        assert_int_equal(mbedtls_mpi_sub_mpi(&t, &grp.N, &t), 0);            /* -u1/u2 */
        assert_int_equal(mbedtls_ecp_muladd(&grp, &q, &w, &big, &t, &grp.G), 0);
        assert_true(signature_for(&u1, &u2, &q, sig, hash, key));
        assert_int_equal(bw_p256_verify(sig, key, hash), BW_P256_OK);
        assert_true(mbedtls_accepts(sig, key, hash));
        write32(&x, sig);                                                    /* r = x >= n */
        assert_int_equal(bw_p256_verify(sig, key, hash), BW_P256_BAD_SIGNATURE);
    }
    assert_int_equal(found, 20);

    mbedtls_ecp_point_free(&big);
    mbedtls_ecp_point_free(&q);
    for (unsigned i = 0; i < 9; i++) {
        mbedtls_mpi_free(all[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generator_table),
        cmocka_unit_test(test_random_signatures),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_doubling_inside_addition),
        cmocka_unit_test(test_infinity_in_the_middle),
        cmocka_unit_test(test_infinity_at_the_end),
        cmocka_unit_test(test_reductions_mod_n),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
