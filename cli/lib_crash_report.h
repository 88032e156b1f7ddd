/*
 * A crash record (docs/SPEC.md §7) printed for a person, symbolicated from
 * the app's ELF: the one decoder behind `bulwark crash decode` and
 * `bulwark crashes` (lib_crash_report.c).
 */
#ifndef BULWARK_LIB_CRASH_REPORT_H
#define BULWARK_LIB_CRASH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib_elf_symbols.h"

typedef struct crash_report_options {
    const char *elf_path;      /* NULL: no symbols (the backtrace says to give --elf) */
    bool addr2line;            /* file:line from arm-none-eabi-addr2line when on PATH */
    elf_symbols *symbols;      /* set by crash_report_load_elf */
    uint8_t *elf;
    size_t elf_len;
} crash_report_options;

/* Loads options->elf_path's symbols; false with a reason. Free with crash_report_release. */
bool crash_report_load_elf(crash_report_options *options, char *reason, size_t reason_size);
void crash_report_release(crash_report_options *options);

/* Checks the record (len bytes) and prints it to stdout. 0, or 1 after
 * printing "bulwark: <what>: the record failed its checks: <why>". */
int crash_report_print(const uint8_t *bytes, size_t len, const crash_report_options *options, const char *what);

#endif
