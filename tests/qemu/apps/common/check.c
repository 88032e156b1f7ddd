/*
 * Check helpers for the QEMU test apps (see check.h).
 */
#include "check.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bulwark_board.h"

uint32_t check_failures;
uint32_t check_total;

const char *check_status_name(enum MvStatus status)
{
    static const char *const names[] = {
        "OKAY", "TIMENOTSET", "PARAMETERFAULT", "INVALIDBUFFERSIZE", "PERIPHERALACCESSFAULT",
        "BUFFERALREADYINUSE", "INVALIDINTERRUPT", "INVALIDHANDLE", "TOOMANYNOTIFICATIONBUFFERS",
        "INVALIDVECTOR", "UNAVAILABLE", "UNSUPPORTEDSTRUCTUREVERSION", "TOOMANYCHANNELS",
        "UNKNOWNCHANNELENDPOINT", "UNKNOWNCHANNELTYPE", "CHANNELCLOSED", "NETWORKNOTCONNECTED",
        "RATELIMITED", "INVALIDBUFFERALIGNMENT", "LATEFAULT", "RESPONSENOTPRESENT",
        "INDEXINVALID", "OFFSETINVALID", "REQUESTALREADYSENT", "REQUESTUNSUCCESSFUL",
        "LOGMESSAGETOOLONG", "LOGGINGDISABLEDBYSERVER", "TOOMANYCONFIGKEYS",
        "UNKNOWNCONFIGSTORE", "UNKNOWNCONFIGSCOPE", "INVALIDCONFIGKEY", "INVALIDAUTHENTICATION",
        "WRONGDATAREQUESTED", "INTERNALERROR", "TOOMANYELEMENTS", "REQUIREDELEMENTMISSING",
        "MICROVISORBUSY", "ADDRESSOUTOFRANGE", "INPUTTOOLONG",
    };
    uint32_t value = (uint32_t)status;
    return value < sizeof names / sizeof names[0] ? names[value] : "(unknown status)";
}

char *check_u64_text(char buf[21], uint64_t v)
{
    char digits[21];
    int n = 0;
    do {
        digits[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0);
    for (int i = 0; i < n; i++) {
        buf[i] = digits[n - 1 - i];
    }
    buf[n] = '\0';
    return buf;
}

/* Prints the result line; got/want are only used on failure. */
static bool report(bool ok, const char *got, const char *want, const char *what, va_list args)
{
    char text[160];
    vsnprintf(text, sizeof text, what, args);
    check_total++;
    if (ok) {
        printf("ok %s\n", text);
    } else {
        check_failures++;
        printf("FAIL %s: got %s want %s\n", text, got, want);
    }
    return ok;
}

bool check_status(enum MvStatus got, enum MvStatus want, const char *what, ...)
{
    char got_text[48], want_text[48];
    snprintf(got_text, sizeof got_text, "%s (0x%" PRIx32 ")", check_status_name(got), (uint32_t)got);
    snprintf(want_text, sizeof want_text, "%s (0x%" PRIx32 ")", check_status_name(want), (uint32_t)want);
    va_list args;
    va_start(args, what);
    bool ok = report(got == want, got_text, want_text, what, args);
    va_end(args);
    return ok;
}

bool check_u32(uint32_t got, uint32_t want, const char *what, ...)
{
    char got_text[32], want_text[32];
    snprintf(got_text, sizeof got_text, "%" PRIu32 " (0x%" PRIx32 ")", got, got);
    snprintf(want_text, sizeof want_text, "%" PRIu32 " (0x%" PRIx32 ")", want, want);
    va_list args;
    va_start(args, what);
    bool ok = report(got == want, got_text, want_text, what, args);
    va_end(args);
    return ok;
}

bool check_u64(uint64_t got, uint64_t want, const char *what, ...)
{
    char got_text[21], want_text[21];
    check_u64_text(got_text, got);
    check_u64_text(want_text, want);
    va_list args;
    va_start(args, what);
    bool ok = report(got == want, got_text, want_text, what, args);
    va_end(args);
    return ok;
}

bool check_u64_between(uint64_t got, uint64_t low, uint64_t high, const char *what, ...)
{
    char got_text[21], low_text[21], high_text[21], want_text[64];
    check_u64_text(got_text, got);
    snprintf(want_text, sizeof want_text, "[%s, %s]", check_u64_text(low_text, low),
             check_u64_text(high_text, high));
    va_list args;
    va_start(args, what);
    bool ok = report(got >= low && got <= high, got_text, want_text, what, args);
    va_end(args);
    return ok;
}

/* Copies len bytes into out as printable text, \xNN for the rest. */
static void printable(char *out, size_t size, const uint8_t *bytes, uint32_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < len && used + 5 < size; i++) {
        uint8_t b = bytes[i];
        if (b >= 0x20 && b < 0x7F) {
            out[used++] = (char)b;
        } else {
            used += (size_t)snprintf(out + used, size - used, "\\x%02x", b);
        }
        out[used] = '\0';
    }
}

bool check_text(const void *got, const char *want, uint32_t len, const char *what, ...)
{
    char got_text[96], want_text[96];
    printable(got_text, sizeof got_text, got, len);
    printable(want_text, sizeof want_text, (const uint8_t *)want, len);
    va_list args;
    va_start(args, what);
    bool ok = report(memcmp(got, want, len) == 0, got_text, want_text, what, args);
    va_end(args);
    return ok;
}

bool check_true(bool ok, const char *got_text, const char *want_text, const char *what, ...)
{
    va_list args;
    va_start(args, what);
    bool result = report(ok, got_text, want_text, what, args);
    va_end(args);
    return result;
}

void check_finish(const char *name, uint32_t previous_total, uint32_t previous_failures)
{
    uint32_t failed = check_failures + previous_failures;
    printf("%s: %" PRIu32 " checks, %" PRIu32 " failed\n", name, check_total + previous_total,
           failed);
    fflush(stdout);
    board_exit(failed == 0 ? 0u : 1u);
}
