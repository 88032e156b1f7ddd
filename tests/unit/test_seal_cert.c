/*
 * The boot stub's reading of a kernel-signing certificate's validity
 * (boot/bw_kernel_seal.c, docs/SPEC.md §19.3): UTCTime and GeneralizedTime
 * become seconds since 1970-01-01 UTC, and a date the calendar does not have
 * makes the certificate unreadable rather than some other day. The input is
 * the fuzz corpus's signer certificate (notBefore UTCTime 261206025827Z,
 * notAfter GeneralizedTime 20991231235959Z) with its date text replaced; the
 * parse checks structure only, so the broken signature does not matter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bw_kernel_seal.h"

static uint8_t cert_der[1024];
static size_t cert_len;

/* The certificate with the first occurrence of `from` replaced by `to`
 * (same length), parsed into *cert. */
static bw_seal_error parse_with(const char *from, const char *to, bw_seal_cert *cert)
{
    static uint8_t der[sizeof cert_der];
    size_t n = strlen(from);
    assert_int_equal(n, strlen(to));
    memcpy(der, cert_der, cert_len);
    uint8_t *at = NULL;
    for (size_t i = 0; i + n <= cert_len && at == NULL; i++) {
        at = memcmp(der + i, from, n) == 0 ? der + i : NULL;
    }
    assert_non_null(at);
    memcpy(at, to, n);
    return bw_seal_cert_parse(der, cert_len, cert);
}

static void reads_both_time_forms(void **state)
{
    (void)state;
    bw_seal_cert cert;
    assert_int_equal(bw_seal_cert_parse(cert_der, cert_len, &cert), BW_SEAL_OK);
    assert_int_equal(cert.not_before, 1796525907u);   /* 2026-12-06 02:58:27 */
    assert_int_equal(cert.not_after, 4102444799u);    /* 2099-12-31 23:59:59 */
}

static void leap_days_read_as_themselves(void **state)
{
    (void)state;
    bw_seal_cert cert;
    assert_int_equal(parse_with("20991231235959Z", "20960229120000Z", &cert), BW_SEAL_OK);
    assert_int_equal(cert.not_after, 3981355200u);    /* 2096-02-29 12:00:00 */
    assert_int_equal(parse_with("261206025827Z", "000229000000Z", &cert), BW_SEAL_OK);
    assert_int_equal(cert.not_before, 951782400u);    /* 2000-02-29: 400 divides 2000 */
    assert_int_equal(parse_with("261206025827Z", "240229000000Z", &cert), BW_SEAL_OK);
    assert_int_equal(cert.not_before, 1709164800u);   /* 2024-02-29 */
}

static void dates_that_do_not_exist_are_refused(void **state)
{
    (void)state;
    static const char *const after[] = {
        "20970229000000Z",   /* 2097 is not a leap year */
        "21000229000000Z",   /* nor is 2100: 100 divides it, 400 does not */
        "20960230000000Z",   /* 30 February */
        "20960431000000Z",   /* 31 April */
        "20961301000000Z",   /* month 13 */
        "20960100000000Z",   /* day 0 */
        "20960101240000Z",   /* hour 24 */
        "20960101006000Z",   /* minute 60 */
        "20960101000060Z",   /* second 60 */
    };
    bw_seal_cert cert;
    for (size_t i = 0; i < sizeof after / sizeof after[0]; i++) {
        print_message("notAfter %s\n", after[i]);
        assert_int_equal(parse_with("20991231235959Z", after[i], &cert), BW_SEAL_E_CERTIFICATE);
    }
    assert_int_equal(parse_with("261206025827Z", "250229000000Z", &cert), BW_SEAL_E_CERTIFICATE);
    assert_int_equal(parse_with("261206025827Z", "270229000000Z", &cert), BW_SEAL_E_CERTIFICATE);
}

int main(int argc, char **argv)
{
    FILE *f = argc == 2 ? fopen(argv[1], "rb") : NULL;
    if (f == NULL) {
        fprintf(stderr, "usage: test_seal_cert SIGNER-CERT.der (readable)\n");
        return 2;
    }
    cert_len = fread(cert_der, 1, sizeof cert_der, f);
    fclose(f);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_both_time_forms),
        cmocka_unit_test(leap_days_read_as_themselves),
        cmocka_unit_test(dates_that_do_not_exist_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
