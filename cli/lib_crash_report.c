/*
 * One crash record shown for a person (docs/SPEC.md §7): the cause spelled
 * out from the fault status bits, the registers, a backtrace (the PC, the LR
 * and every stack word that looks like a return address: Thumb bit set,
 * inside an executable segment of the ELF) with function+offset from the
 * ELF's symbol table and, when arm-none-eabi-addr2line is on PATH, file:line;
 * then the stack copy. Shared by `bulwark crash decode` (records from a
 * kernel log) and `bulwark crashes` (records from bulwarkd).
 *
 * The record is untrusted: bw_crash_record_check runs before any field is used.
 */
#include <errno.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bw_crash_record.h"
#include "cli.h"
#include "lib_crash_report.h"
#include "lib_elf_symbols.h"
#include "lib_file.h"

extern char **environ;

#define MAX_ELF_BYTES (64u * 1024u * 1024u)
#define MAX_FRAMES 64u
#define ADDR2LINE "arm-none-eabi-addr2line"

typedef struct code_frame {
    char source_text[16];   /* "pc", "lr", "sp+0x1c" */
    uint32_t address;
    uint32_t lookup;        /* the address to symbolicate (return addresses: the call) */
    char where[512];        /* file:line from addr2line, or "" */
} code_frame;

static const char *check_reason(bw_err err)
{
    switch (err) {
    case BW_E_SIZE: return "wrong size";
    case BW_E_INVALID: return "not a crash record, or a field is out of range";
    case BW_E_VERSION: return "unsupported record version or size (this bulwark reads version 1)";
    case BW_E_IO: return "corrupt: CRC mismatch";
    default: return "invalid";
    }
}

static void print_status_bit(void *context, const bw_crash_status_bit *bit)
{
    (void)context;
    char name[32];
    snprintf(name, sizeof name, "%s.%s", bit->reg, bit->name);
    printf("    %-20s %s\n", name, bit->meaning);
}

static const char *address_source(const bw_crash_record *r)
{
    if (r->flags & BW_CRASH_FLAG_SFAR_VALID) return "SFAR";
    if (r->flags & BW_CRASH_FLAG_BFAR_VALID) return "BFAR";
    if (r->flags & BW_CRASH_FLAG_MMFAR_VALID) return "MMFAR";
    return NULL;
}

static void print_summary(const bw_crash_record *r)
{
    char context[48];
    bw_crash_context_text(r->app_exception, context, sizeof context);
    printf("crash record %" PRIu32 " (format %u, %u bytes)\n", r->sequence, r->version, r->size);
    printf("  class:         %s in %s\n", bw_crash_class_name(r->crash_class), context);
    printf("  cause:         %s\n", bw_crash_cause_text(r));
    const char *trap = bw_crash_trap_text(r);
    if (trap != NULL) {
        printf("  trap:          %s\n", trap);
    }
    printf("  caught by:     %s\n", r->crash_class == BW_CRASH_CLASS_HANG ? "the supervision tick (hang)"
                                                                         : bw_crash_trigger_name(r->trigger));
    const char *source = address_source(r);
    if (source != NULL) {
        printf("  fault address: 0x%08" PRIx32 " (%s)\n", r->fault_address, source);
    } else {
        printf("  fault address: not given by the hardware\n");
    }
    if (r->flags & BW_CRASH_FLAG_INSN_VALID) {
        printf("  instruction:   0x%04" PRIx32 " (first halfword at pc)\n", r->insn & 0xFFFFu);
    }
    if (r->crash_class == BW_CRASH_CLASS_HANG) {
        printf("  masks:         PRIMASK_NS=%" PRIu32 " FAULTMASK_NS=%" PRIu32 " BASEPRI_NS=0x%02" PRIx32 "\n",
               r->masks_ns & 1u, (r->masks_ns >> 1) & 1u, (r->masks_ns >> 8) & 0xFFu);
    }
    printf("  status bits:%s\n", (r->cfsr | r->cfsr_ns | r->hfsr | r->sfsr) ? "" : " none");
    bw_crash_status_bits(r, print_status_bit, NULL);
    printf("  app version:   %" PRIu32 "%s\n", r->app_version, r->app_version == 0 ? " (unknown)" : "");
    printf("  uptime:        %" PRIu64 ".%06" PRIu64 " s; this run lasted %" PRIu32 " ms\n",
           r->uptime_us / 1000000u, r->uptime_us % 1000000u, r->run_time_ms);
    printf("  crashes:       %" PRIu32 " since the kernel started, %" PRIu32 " since the app was healthy\n",
           r->crash_count, r->crashes_since_healthy);
    if (r->restart_delay_ms == BW_CRASH_NO_RESTART) {
        printf("  restart:       none\n");
    } else {
        printf("  restart:       after %" PRIu32 " ms\n", r->restart_delay_ms);
    }
    if (r->flags & BW_CRASH_FLAG_CRASH_LOOP) {
        printf("  crash loop:    %s\n", r->loop_action == BW_CRASH_LOOP_ROLLED_BACK
                                        ? "rolled back to the last-known-good app"
                                        : "no good app to roll back to: parked at the maximum backoff");
    }
}

static void print_registers(const bw_crash_record *r)
{
    bool frame_valid = (r->flags & BW_CRASH_FLAG_FRAME_VALID) != 0;
    printf("registers:%s\n", frame_valid ? "" : " (exception frame lost: r0-r3, r12, lr, pc, xpsr unknown)");
    for (unsigned i = 0; i < 12; i += 4) {
        printf("  r%-2u 0x%08" PRIx32 "  r%-2u 0x%08" PRIx32 "  r%-2u 0x%08" PRIx32 "  r%-2u 0x%08" PRIx32 "\n",
               i, r->r[i], i + 1, r->r[i + 1], i + 2, r->r[i + 2], i + 3, r->r[i + 3]);
    }
    printf("  r12 0x%08" PRIx32 "  sp  0x%08" PRIx32 "  lr  0x%08" PRIx32 "  pc  0x%08" PRIx32 "\n",
           r->r[12], r->sp, r->lr, r->pc);
    printf("  xpsr 0x%08" PRIx32 "  exc_return 0x%08" PRIx32 "  control_ns 0x%08" PRIx32 "%s\n",
           r->xpsr, r->exc_return, r->control_ns, (r->flags & BW_CRASH_FLAG_FP_FRAME) ? "  (FP frame)" : "");
    printf("  msp_ns 0x%08" PRIx32 "  psp_ns 0x%08" PRIx32 "  msplim_ns 0x%08" PRIx32 "  psplim_ns 0x%08" PRIx32 "\n",
           r->msp_ns, r->psp_ns, r->msplim_ns, r->psplim_ns);
    printf("  cfsr 0x%08" PRIx32 "  cfsr_ns 0x%08" PRIx32 "  hfsr 0x%08" PRIx32 "  sfsr 0x%08" PRIx32 "\n",
           r->cfsr, r->cfsr_ns, r->hfsr, r->sfsr);
    printf("  sfar 0x%08" PRIx32 "  bfar 0x%08" PRIx32 "  mmfar_ns 0x%08" PRIx32 "\n", r->sfar, r->bfar,
           r->mmfar_ns);
}

/* Runs addr2line once for every frame; fills frame->where. Silent if the tool is missing. */
static void add_source_lines(code_frame *frames, unsigned count, const char *elf_path)
{
    char addresses[MAX_FRAMES][16];
    char *args[MAX_FRAMES + 4];
    unsigned n = 0;
    args[n++] = (char *)ADDR2LINE;
    args[n++] = (char *)"-e";
    args[n++] = (char *)elf_path;
    for (unsigned i = 0; i < count; i++) {
        snprintf(addresses[i], sizeof addresses[i], "0x%08" PRIx32, frames[i].lookup);
        args[n++] = addresses[i];
    }
    args[n] = NULL;

    int pipe_fds[2];
    if (count == 0 || pipe(pipe_fds) != 0) {
        return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", 0, 0);
    pid_t pid;
    int spawned = posix_spawnp(&pid, ADDR2LINE, &actions, NULL, args, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    if (spawned != 0) {
        close(pipe_fds[0]);
        return;
    }
    FILE *out = fdopen(pipe_fds[0], "r");
    char line[512];
    for (unsigned i = 0; out != NULL && i < count && fgets(line, sizeof line, out) != NULL; i++) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "??", 2) == 0) {
            continue;
        }
        const char *base = strrchr(line, '/');
        snprintf(frames[i].where, sizeof frames[i].where, "%s", base != NULL ? base + 1 : line);
    }
    if (out != NULL) {
        fclose(out);
    } else {
        close(pipe_fds[0]);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

/* A return address: odd (Thumb) and inside code; symbolicated at the call. */
static bool add_frame(code_frame *frames, unsigned *count, const char *source, uint32_t address,
                      bool return_address, const elf_symbols *symbols)
{
    if (*count == MAX_FRAMES) {
        return false;
    }
    uint32_t lookup = return_address ? (address & ~1u) - 2u : address & ~1u;
    if (return_address && ((address & 1u) == 0 || !elf_symbols_in_code(symbols, lookup))) {
        return false;
    }
    code_frame *f = &frames[(*count)++];
    memset(f, 0, sizeof *f);
    snprintf(f->source_text, sizeof f->source_text, "%s", source);
    f->address = address;
    f->lookup = lookup;
    return true;
}

static void print_backtrace(const bw_crash_record *r, const crash_report_options *options)
{
    if (options->symbols == NULL) {
        printf("backtrace: give --elf APP.elf to find and name the code addresses\n");
        return;
    }
    code_frame frames[MAX_FRAMES];
    unsigned count = 0;
    if (r->flags & BW_CRASH_FLAG_FRAME_VALID) {
        add_frame(frames, &count, "pc", r->pc, false, options->symbols);
        add_frame(frames, &count, "lr", r->lr, true, options->symbols);
    }
    for (uint32_t at = 0; at + 4u <= r->stack_len; at += 4u) {
        uint32_t word = (uint32_t)r->stack[at] | (uint32_t)r->stack[at + 1] << 8
                      | (uint32_t)r->stack[at + 2] << 16 | (uint32_t)r->stack[at + 3] << 24;
        char source[16];
        snprintf(source, sizeof source, "sp+0x%02" PRIx32, at);
        add_frame(frames, &count, source, word, true, options->symbols);
    }
    if (options->addr2line) {
        add_source_lines(frames, count, options->elf_path);
    }
    printf("backtrace (pc, lr, then stack words that are return addresses):\n");
    if (count == 0) {
        printf("  (no code address found)\n");
    }
    for (unsigned i = 0; i < count; i++) {
        const code_frame *f = &frames[i];
        uint32_t offset = 0;
        const char *name = elf_symbols_lookup(options->symbols, f->lookup, &offset);
        char symbol[160] = "??";
        if (name != NULL) {
            /* For a return address the offset shown is that of the address itself. */
            snprintf(symbol, sizeof symbol, "%s+0x%" PRIx32, name, offset + ((f->address & ~1u) - f->lookup));
        }
        printf("  #%-2u %-7s 0x%08" PRIx32 "  %s%s%s\n", i, f->source_text, f->address, symbol,
               f->where[0] ? "  " : "", f->where);
    }
}

static void print_stack(const bw_crash_record *r)
{
    printf("stack (%u bytes from 0x%08" PRIx32 "%s):\n", r->stack_len, r->stack_base,
           (r->flags & BW_CRASH_FLAG_STACK_TRUNCATED) ? ", cut at the end of app memory" : "");
    for (uint32_t at = 0; at < r->stack_len; at += 16u) {
        printf("  0x%08" PRIx32 ":", r->stack_base + at);
        for (uint32_t i = at; i < at + 16u && i + 4u <= r->stack_len; i += 4u) {
            printf(" %02x%02x%02x%02x", r->stack[i + 3], r->stack[i + 2], r->stack[i + 1], r->stack[i]);
        }
        printf("\n");
    }
}

bool crash_report_load_elf(crash_report_options *options, char *reason, size_t reason_size)
{
    char why[448];
    if (!file_read_all(options->elf_path, MAX_ELF_BYTES, &options->elf, &options->elf_len, why, sizeof why)) {
        snprintf(reason, reason_size, "%s", why);
        return false;
    }
    options->symbols = elf_symbols_load(options->elf, options->elf_len, why, sizeof why);
    if (options->symbols == NULL) {
        snprintf(reason, reason_size, "%s: %s", options->elf_path, why);
        free(options->elf);
        options->elf = NULL;
        return false;
    }
    return true;
}

void crash_report_release(crash_report_options *options)
{
    elf_symbols_free(options->symbols);
    free(options->elf);
    options->symbols = NULL;
    options->elf = NULL;
}

int crash_report_print(const uint8_t *bytes, size_t len, const crash_report_options *options, const char *what)
{
    bw_crash_record r;
    bw_err err = bw_crash_record_check(bytes, len, &r);
    if (err != BW_OK) {
        return cli_fail("%s: the record failed its checks: %s", what, check_reason(err));
    }
    print_summary(&r);
    print_registers(&r);
    print_backtrace(&r, options);
    print_stack(&r);
    return 0;
}
