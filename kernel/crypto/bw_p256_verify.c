/*
 * ECDSA P-256 verify for public inputs (docs/DESIGN.md, Boot; SEC 1 4.1.4).
 *
 * u1 G + u2 Q in one pass (Straus): the two scalars in width-w NAF, one
 * chain of doublings shared by both, additions of odd multiples of G from a
 * table in flash (bw_p256_gtable.h, affine) and of Q from a table built on
 * the stack (Jacobian). Nothing is secret, so the code branches on the data
 * (p256-m's own verify runs two constant-time ladders, one per scalar): 1/s
 * by the binary extended Euclid, and the last step compares x without an
 * inversion: r Z^2 == X (mod p).
 *
 * The field arithmetic and the point doubling are p256-m's (mbedTLS
 * 3rdparty), reached by compiling p256-m.c inside this unit: its helpers are
 * static. Its exported functions (and the randomness it asks PSA for) are
 * renamed here, unused, so they never clash with the library's own copy.
 * Built as part of every mbedTLS library (cmake/mbedtls.cmake), with that
 * library's configuration, always at -O3.
 */
#include "bw_p256_verify.h"

#include <string.h>

#define p256_generate_random bw_p256m_unused_generate_random
#define p256_gen_keypair bw_p256m_unused_gen_keypair
#define p256_ecdh_shared_secret bw_p256m_unused_ecdh_shared_secret
#define p256_ecdsa_sign bw_p256m_unused_ecdsa_sign
#define p256_ecdsa_verify bw_p256m_unused_ecdsa_verify
#define p256_validate_pubkey bw_p256m_unused_validate_pubkey
#define p256_validate_privkey bw_p256m_unused_validate_privkey
#define p256_public_from_private bw_p256m_unused_public_from_private
#define psa_generate_random bw_p256m_unused_random
#include "p256-m/p256-m.c"

/* p256-m's randomness, for the unused key generation and signing above: none
 * (this unit needs no PSA core). */
psa_status_t bw_p256m_unused_random(uint8_t *output, size_t output_size)
{
    (void)output;
    (void)output_size;
    return PSA_ERROR_NOT_SUPPORTED;
}

#include "bw_p256_gtable.h"

#define Q_WINDOW 4                              /* wNAF width of u2 (5: 1.6 % faster, 384 B more stack) */
#define Q_COUNT (1 << (Q_WINDOW - 2))           /* Q, 3Q, ..., 7Q */
#define NAF_DIGITS 257

/* A point in Jacobian coordinates (x/z^2, y/z^3), Montgomery domain; z = 0 is
 * the point at infinity. */
typedef struct {
    uint32_t x[8], y[8], z[8];
} jacobian;

static int is_infinity(const jacobian *p)
{
    return u256_diff0(p->z) == 0;
}

/* sum += (x2 : y2 : z2), z2 NULL meaning 1 (an affine point). Every case is
 * handled: either point at infinity (z2 all zero), equal points (a doubling)
 * and opposite points (infinity). 11 multiplications (affine) or 16. */
static void jacobian_add(jacobian *sum, const uint32_t x2[8], const uint32_t y2[8], const uint32_t *z2)
{
    if (z2 != NULL && u256_diff0(z2) == 0) {
        return;
    }
    if (is_infinity(sum)) {
        memcpy(sum->x, x2, 32);
        memcpy(sum->y, y2, 32);
        if (z2 != NULL) {
            memcpy(sum->z, z2, 32);
        } else {
            m256_set32(sum->z, 1, &p256_p);
        }
        return;
    }
    uint32_t u1[8], s1[8], u2[8], s2[8], t[8], h[8], r[8];
    m256_mul_p(t, sum->z, sum->z);
    m256_mul_p(u2, x2, t);                  /* U2 = X2 Z1^2 */
    m256_mul_p(t, t, sum->z);
    m256_mul_p(s2, y2, t);                  /* S2 = Y2 Z1^3 */
    if (z2 != NULL) {
        m256_mul_p(t, z2, z2);
        m256_mul_p(u1, sum->x, t);          /* U1 = X1 Z2^2 */
        m256_mul_p(t, t, z2);
        m256_mul_p(s1, sum->y, t);          /* S1 = Y1 Z2^3 */
    } else {
        memcpy(u1, sum->x, 32);
        memcpy(s1, sum->y, 32);
    }
    m256_sub_p(h, u2, u1);
    m256_sub_p(r, s2, s1);
    if (u256_diff0(h) == 0) {               /* same x: the same point, or its negative */
        if (u256_diff0(r) == 0) {
            point_double(sum->x, sum->y, sum->z);
        } else {
            u256_set32(sum->z, 0);
        }
        return;
    }
    m256_mul_p(sum->z, sum->z, h);          /* Z3 = Z1 Z2 H */
    if (z2 != NULL) {
        m256_mul_p(sum->z, sum->z, z2);
    }
    m256_mul_p(t, h, h);
    m256_mul_p(u1, u1, t);                  /* V = U1 H^2 */
    m256_mul_p(t, t, h);                    /* H^3 */
    m256_mul_p(s1, s1, t);                  /* S1 H^3 */
    m256_mul_p(sum->x, r, r);
    m256_sub_p(sum->x, sum->x, t);
    m256_sub_p(sum->x, sum->x, u1);
    m256_sub_p(sum->x, sum->x, u1);         /* X3 = R^2 - H^3 - 2 V */
    m256_sub_p(u1, u1, sum->x);
    m256_mul_p(u1, u1, r);
    m256_sub_p(sum->y, u1, s1);             /* Y3 = R (V - X3) - S1 H^3 */
}

/* sum += digit_sign * (x : y : z) (z NULL meaning 1): the negative by y -> -y. */
static void add_signed(jacobian *sum, const uint32_t x[8], const uint32_t y[8], const uint32_t *z,
                       int negative)
{
    uint32_t minus_y[8];
    if (negative) {
        uint32_t zero[8];
        u256_set32(zero, 0);
        m256_sub_p(minus_y, zero, y);
        y = minus_y;
    }
    jacobian_add(sum, x, y, z);
}

/* z = (z + top 2^256) / 2, top 0 or 1. */
static void halve(uint32_t z[8], uint32_t top)
{
    for (unsigned j = 0; j < 7; j++) {
        z[j] = (z[j] >> 1) | (z[j + 1] << 31);
    }
    z[7] = (z[7] >> 1) | (top << 31);
}

static int is_one(const uint32_t z[8])
{
    uint32_t one[8];
    u256_set32(one, 1);
    return u256_diff(z, one) == 0;
}

/* z = 1/x mod n for x in [1, n), not in Montgomery form: the binary extended
 * Euclid, its steps depending on x (public here), about 50 000 instructions
 * where Fermat's x^(n-2) takes about 380 multiplications. Keeps a x = u and
 * b x = v (mod n) while u and v shrink to gcd(x, n) = 1. */
static void scalar_invert(uint32_t z[8], const uint32_t x[8])
{
    uint32_t u[8], v[8], a[8], b[8];
    memcpy(u, x, sizeof u);
    memcpy(v, p256_n.m, sizeof v);
    u256_set32(a, 1);
    u256_set32(b, 0);
    while (!is_one(u) && !is_one(v)) {   /* both odd and coprime here: never equal */
        while ((u[0] & 1) == 0) {
            halve(u, 0);
            halve(a, (a[0] & 1) ? u256_add(a, a, p256_n.m) : 0);   /* a / 2 mod n */
        }
        while ((v[0] & 1) == 0) {
            halve(v, 0);
            halve(b, (b[0] & 1) ? u256_add(b, b, p256_n.m) : 0);
        }
        if (u256_sub(z, u, v) == 0) {    /* u >= v */
            memcpy(u, z, sizeof u);
            m256_sub(a, a, b, &p256_n);
        } else {
            (void)u256_sub(v, v, u);
            m256_sub(b, b, a, &p256_n);
        }
    }
    memcpy(z, is_one(u) ? a : b, 32);
}

/* Width-w NAF of k (< n): k = sum of digits[i] 2^i, each digit 0 or odd in
 * (-2^(w-1), 2^(w-1)), at most one non-zero in any w consecutive. Returns the
 * number of digits up to the highest non-zero one (0 for k = 0). */
static unsigned naf(int8_t digits[NAF_DIGITS], const uint32_t scalar[8], unsigned w)
{
    uint32_t k[8], small[8];
    unsigned length = 0;
    memcpy(k, scalar, sizeof k);
    memset(digits, 0, NAF_DIGITS);
    for (unsigned i = 0; i < NAF_DIGITS && u256_diff0(k) != 0; i++) {
        if (k[0] & 1) {
            int digit = (int)(k[0] & ((1u << w) - 1));
            if (digit >= (1 << (w - 1))) {
                digit -= 1 << w;
            }
            u256_set32(small, (uint32_t)(digit < 0 ? -digit : digit));
            if (digit > 0) {
                (void)u256_sub(k, k, small);
            } else {
                (void)u256_add(k, k, small);   /* no carry: k < n, n + 2^w < 2^256 */
            }
            digits[i] = (int8_t)digit;
            length = i + 1;
        }
        halve(k, 0);
    }
    return length;
}

/* sum = u1 G + u2 Q, Q = (qx, qy) affine on the curve (Montgomery), u1 and
 * u2 in [0, n). */
static void joint_multiply(jacobian *sum, const uint32_t u1[8], const uint32_t u2[8],
                           const uint32_t qx[8], const uint32_t qy[8])
{
    int8_t naf_g[NAF_DIGITS], naf_q[NAF_DIGITS];
    unsigned length_g = naf(naf_g, u1, BW_P256_G_WINDOW);
    unsigned length_q = naf(naf_q, u2, Q_WINDOW);

    jacobian q_odd[Q_COUNT], q2;                /* Q, 3Q, ..., 7Q; 2Q */
    memcpy(q_odd[0].x, qx, 32);
    memcpy(q_odd[0].y, qy, 32);
    m256_set32(q_odd[0].z, 1, &p256_p);
    q2 = q_odd[0];
    point_double(q2.x, q2.y, q2.z);
    for (unsigned i = 1; i < Q_COUNT; i++) {
        q_odd[i] = q_odd[i - 1];
        jacobian_add(&q_odd[i], q2.x, q2.y, q2.z);
    }

    memset(sum, 0, sizeof *sum);
    for (unsigned i = length_g > length_q ? length_g : length_q; i-- > 0;) {
        if (!is_infinity(sum)) {
            point_double(sum->x, sum->y, sum->z);
        }
        int g = naf_g[i], q = naf_q[i];
        if (g != 0) {
            const uint32_t (*entry)[8] = bw_p256_g_odd[(g < 0 ? -g : g) / 2];
            add_signed(sum, entry[0], entry[1], NULL, g < 0);
        }
        if (q != 0) {
            const jacobian *entry = &q_odd[(q < 0 ? -q : q) / 2];
            add_signed(sum, entry->x, entry->y, entry->z, q < 0);
        }
    }
}

/* True if r == x(sum) mod n, sum not infinity: x = X / Z^2 with x in [0, p),
 * so x mod n == r means x == r or x == r + n (when r + n < p); each checked
 * as r' Z^2 == X (mod p), without an inversion. */
static int x_matches(const jacobian *sum, const uint32_t r[8])
{
    uint32_t zz[8], candidate[8], t[8];
    if (is_infinity(sum)) {
        return 0;
    }
    m256_mul_p(zz, sum->z, sum->z);
    memcpy(candidate, r, sizeof candidate);
    for (;;) {
        memcpy(t, candidate, sizeof t);
        m256_prep(t, &p256_p);
        m256_mul_p(t, t, zz);
        if (u256_diff(t, sum->x) == 0) {
            return 1;
        }
        if (u256_add(candidate, candidate, p256_n.m) != 0 || u256_sub(t, candidate, p256_p.m) == 0) {
            return 0;       /* r + n >= p: no second candidate (or the second done) */
        }
    }
}

int bw_p256_key_valid(const uint8_t key[64])
{
    uint32_t qx[8], qy[8];
    return point_from_bytes(qx, qy, key) == 0;
}

bw_p256_result bw_p256_verify(const uint8_t signature[64], const uint8_t key[64], const uint8_t hash[32])
{
    uint32_t qx[8], qy[8], r[8], s[8], e[8], u1[8], u2[8], w[8];
    if (point_from_bytes(qx, qy, key) != 0) {
        return BW_P256_BAD_KEY;
    }
    if (scalar_from_bytes(r, signature) != 0 || scalar_from_bytes(s, signature + 32) != 0) {
        return BW_P256_BAD_SIGNATURE;
    }
    ecdsa_m256_from_hash(e, hash, 32);      /* e R mod n (Montgomery) */
    scalar_invert(w, s);                    /* 1/s, plain */
    m256_mul(u1, e, w, &p256_n);            /* e R (1/s) / R: u1 = e / s */
    memcpy(u2, r, sizeof u2);
    m256_prep(u2, &p256_n);
    m256_mul(u2, u2, w, &p256_n);           /* u2 = r / s */

    jacobian sum;
    joint_multiply(&sum, u1, u2, qx, qy);
    return x_matches(&sum, r) ? BW_P256_OK : BW_P256_BAD_SIGNATURE;
}
