/*
 * Checks for the QEMU test apps. Every check prints one line on the app
 * console, "ok <what>" or "FAIL <what>: got X want Y", and counts failures;
 * check_finish ends the program with exit code 0 only if none failed.
 * `what` is a printf format followed by its arguments. Not for use from an
 * interrupt handler (printf is not reentrant): ISRs count their own errors and
 * the main thread checks the counts.
 */
#ifndef CHECK_H
#define CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "mv_syscalls.h"

/* Failed and total checks so far in this run of the app. */
extern uint32_t check_failures;
extern uint32_t check_total;

/* The MV_STATUS_ name without its prefix ("OKAY", "PARAMETERFAULT", ...). */
const char *check_status_name(enum MvStatus status);

/* Writes v in decimal into buf (at least 21 bytes); returns buf. newlib-nano's
 * printf may lack %llu. */
char *check_u64_text(char buf[21], uint64_t v);

bool check_status(enum MvStatus got, enum MvStatus want, const char *what, ...)
    __attribute__((format(printf, 3, 4)));
bool check_u32(uint32_t got, uint32_t want, const char *what, ...)
    __attribute__((format(printf, 3, 4)));
bool check_u64(uint64_t got, uint64_t want, const char *what, ...)
    __attribute__((format(printf, 3, 4)));
/* Passes if low <= got <= high. */
bool check_u64_between(uint64_t got, uint64_t low, uint64_t high, const char *what, ...)
    __attribute__((format(printf, 4, 5)));
/* Passes if got and want hold the same len bytes; prints both as text. */
bool check_text(const void *got, const char *want, uint32_t len, const char *what, ...)
    __attribute__((format(printf, 4, 5)));
/* Passes if ok; got_text/want_text describe the values for a failure line. */
bool check_true(bool ok, const char *got_text, const char *want_text, const char *what, ...)
    __attribute__((format(printf, 4, 5)));

/* Prints "<name>: N checks, F failed" (the checks and failures of earlier runs
 * of the app, kept by the caller in .noinit, are added) and ends the program:
 * exit code 0 if nothing failed, else 1. */
void check_finish(const char *name, uint32_t previous_total, uint32_t previous_failures)
    __attribute__((noreturn));

#endif
