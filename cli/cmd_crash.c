/*
 * `bulwark crash decode [--elf APP.elf] [--no-addr2line] <record-hex | file>`:
 * turns a crash record (docs/SPEC.md "Crash record": the hex of a
 * "[kernel] crash record: <hex>" console line, or a file holding such lines,
 * e.g. a kernel log) into the cause spelled out from the fault status bits,
 * the registers, and a backtrace: the PC, the LR, and every stack word that
 * looks like a return address (Thumb bit set, inside an executable segment of
 * the ELF), each with function+offset from the ELF's own symbol table and,
 * when arm-none-eabi-addr2line is on PATH, file:line.
 *
 * The record is untrusted input: length, hex, magic, version, CRC and every
 * length field are checked (bw_crash_record_check) before anything is shown.
 * Exit codes: 0 decoded; 1 a record failed its checks; 2 bad usage or input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <sys/stat.h>

#include "bw_crash_record.h"
#include "cli.h"
#include "lib_crash_report.h"
#include "lib_file.h"

#define RECORD_MARKER "crash record: "
#define MAX_INPUT_BYTES (64u * 1024u * 1024u)

static int hex_value(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parses exactly one record's worth of hex digits from text[0..len). */
static bool parse_hex(const char *text, size_t len, uint8_t out[BW_CRASH_RECORD_SIZE], char *reason,
                      size_t reason_size)
{
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ')) {
        len--;
    }
    if (len != 2u * BW_CRASH_RECORD_SIZE) {
        snprintf(reason, reason_size, "a crash record is %u hex digits, this one has %zu",
                 2u * BW_CRASH_RECORD_SIZE, len);
        return false;
    }
    for (size_t i = 0; i < BW_CRASH_RECORD_SIZE; i++) {
        int hi = hex_value((unsigned char)text[2 * i]), lo = hex_value((unsigned char)text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            snprintf(reason, reason_size, "not a hex digit at position %zu", 2 * i + (hi < 0 ? 0 : 1));
            return false;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* Checks and prints one record given as hex; returns the exit code. */
static int decode_one(const char *hex, size_t len, const crash_report_options *options)
{
    uint8_t bytes[BW_CRASH_RECORD_SIZE];
    char reason[128];
    if (!parse_hex(hex, len, bytes, reason, sizeof reason)) {
        return cli_usage_error("crash decode: %s", reason);
    }
    return crash_report_print(bytes, sizeof bytes, options, "crash decode");
}

/* Decodes every record line in a file (a kernel log); returns the exit code. */
static int decode_file(const char *path, const crash_report_options *options)
{
    uint8_t *data = NULL;
    size_t len = 0;
    char reason[512];
    if (!file_read_all(path, MAX_INPUT_BYTES, &data, &len, reason, sizeof reason)) {
        return cli_usage_error("crash decode: %s", reason);
    }
    int rc = 0;
    unsigned found = 0;
    const char *text = (const char *)data;
    for (size_t at = 0; at < len;) {
        const char *line = text + at;
        const char *end = memchr(line, '\n', len - at);
        size_t line_len = end != NULL ? (size_t)(end - line) : len - at;
        at += line_len + 1u;
        const char *marker = NULL;
        size_t marker_len = strlen(RECORD_MARKER);
        for (size_t i = 0; i + marker_len <= line_len && marker == NULL; i++) {
            if (memcmp(line + i, RECORD_MARKER, marker_len) == 0) {
                marker = line + i + marker_len;
            }
        }
        if (marker == NULL) {
            continue;
        }
        if (found++ > 0) {
            printf("\n");
        }
        int one = decode_one(marker, line_len - (size_t)(marker - line), options);
        if (one > rc) {
            rc = one;
        }
    }
    free(data);
    if (found == 0) {
        return cli_usage_error("crash decode: %s holds no \"%s<hex>\" line", path, RECORD_MARKER);
    }
    return rc;
}

static int crash_decode_cmd(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "elf", required_argument, NULL, 'e' },
        { "no-addr2line", no_argument, NULL, 'n' },
        { NULL, 0, NULL, 0 },
    };
    crash_report_options options = { .addr2line = true };
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", long_options, NULL)) != -1;) {
        switch (c) {
        case 'e': options.elf_path = optarg; break;
        case 'n': options.addr2line = false; break;
        default:
            return cli_usage_error("crash decode: unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc) {
        return cli_usage_error("crash decode: give one record (hex) or one file with record lines");
    }
    const char *input = argv[optind];

    char reason[512];
    if (options.elf_path != NULL && !crash_report_load_elf(&options, reason, sizeof reason)) {
        return cli_usage_error("crash decode: %s", reason);
    }

    struct stat st;
    int rc;
    if (stat(input, &st) == 0) {
        rc = decode_file(input, &options);
    } else {
        const char *hex = strstr(input, RECORD_MARKER);
        hex = hex != NULL ? hex + strlen(RECORD_MARKER) : input;
        rc = decode_one(hex, strlen(hex), &options);
    }
    crash_report_release(&options);
    return rc;
}

static const cli_command crash_commands[] = {
    { "decode", "[--elf APP.elf] [--no-addr2line] <record-hex | file>",
      "cause, registers and symbolicated backtrace of crash records (kernel log lines)",
      crash_decode_cmd },
};

const cli_group cli_group_crash = {
    .name = "crash",
    .summary = "app crash records",
    .commands = crash_commands,
    .command_count = sizeof crash_commands / sizeof crash_commands[0],
};
