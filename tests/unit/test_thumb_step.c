/*
 * The GDB server's single-step candidates (cli/lib_thumb_step.c): a table of
 * Thumb-2 encodings, each with the registers and memory it needs, against
 * the set of next addresses worked out by hand from the Armv8-M ARM. Every
 * row must give exactly that set (order free): a missing candidate lets a
 * `stepi` run away, an extra one stops somewhere the code cannot go.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib_thumb_step.h"

#define PC 0x00201000u      /* the instruction's address in every row */
#define SP 0x20002000u
#define R2 0x20001000u
#define LR 0x00201235u
#define XPSR_T 0x01000000u  /* Thumb bit, no IT block */
#define IT_EQ 0x00000800u   /* xPSR ITSTATE right after `it eq` (IT[7:0] = 0x08) */
#define IT_NE 0x00001800u   /* after `it ne` (0x18) */

/* The target's memory: aligned words; any other address is unreadable. */
static const struct { uint32_t addr, value; } memory[] = {
    { SP + 0, 0x00201101u },  { SP + 4, 0x00201201u },  { SP + 8, 0x00201301u },
    { SP + 12, 0x00201401u }, { SP + 16, 0x00201501u }, { SP + 20, 0x00201601u },
    { SP + 24, 0x00201701u }, { SP + 28, 0x00201801u }, { SP + 32, 0x00201901u },
    { R2 - 4, 0x00202001u },  { R2 + 4, 0x00000700u },  { R2 + 8, 0x00202101u },
    { PC + 4, 0x44332211u },  { PC + 8, 0x00202201u },  { PC + 12, 0x00300010u },
};

static bool read_word(void *ctx, uint32_t addr, uint32_t *value)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof memory / sizeof memory[0]; i++) {
        if (memory[i].addr == addr) {
            *value = memory[i].value;
            return true;
        }
    }
    return false;
}

typedef struct row {
    const char *what;
    uint16_t hw0, hw1;
    uint32_t xpsr;           /* 0: XPSR_T */
    int reg;                 /* a register set for this row (-1: none) */
    uint32_t value;
    unsigned n;
    uint32_t next[2];
} row;

static const row rows[] = {
    /* straight-line code: the next instruction, by size */
    { "movs r0, #1", 0x2001, 0, 0, -1, 0, 1, { PC + 2 } },
    { "adds r0, r1, r2", 0x1888, 0, 0, -1, 0, 1, { PC + 2 } },
    { "svc #0", 0xDF00, 0, 0, -1, 0, 1, { PC + 2 } },
    { "udf #0", 0xDE00, 0, 0, -1, 0, 1, { PC + 2 } },
    { "mov.w r0, #1", 0xF04F, 0x0001, 0, -1, 0, 1, { PC + 4 } },
    { "ldr.w r0, [r1, #4]", 0xF8D1, 0x0004, 0, -1, 0, 1, { PC + 4 } },
    { "msr msp, r0 (not B<c>.W: cond 0b111x)", 0xF380, 0x8808, 0, -1, 0, 1, { PC + 4 } },
    { "dsb sy", 0xF3BF, 0x8F4F, 0, -1, 0, 1, { PC + 4 } },
    { "pop {r4} (no pc)", 0xBC10, 0, 0, -1, 0, 1, { PC + 2 } },
    { "ldmia.w sp!, {r4, r5} (no pc)", 0xE8BD, 0x0030, 0, -1, 0, 1, { PC + 4 } },
    /* B: T1 (conditional), T2, T3 (conditional), T4 */
    { "beq.n +0x20", 0xD010, 0, 0, -1, 0, 2, { PC + 2, PC + 4 + 0x20 } },
    { "bne.n -4 (to itself)", 0xD1FE, 0, 0, -1, 0, 2, { PC + 2, PC } },
    { "b.n +10", 0xE005, 0, 0, -1, 0, 1, { PC + 4 + 10 } },
    { "b.n . (to itself)", 0xE7FE, 0, 0, -1, 0, 1, { PC } },
    { "beq.w +0x1000", 0xF001, 0x8000, 0, -1, 0, 2, { PC + 4, PC + 4 + 0x1000 } },
    { "bne.w -0x100", 0xF47F, 0xAF80, 0, -1, 0, 2, { PC + 4, PC + 4 - 0x100 } },
    { "b.w +0x2000", 0xF002, 0xB800, 0, -1, 0, 1, { PC + 4 + 0x2000 } },
    { "b.w -0x4000", 0xF7FC, 0xB800, 0, -1, 0, 1, { PC + 4 - 0x4000 } },
    /* BL: into the callee (stepi follows the call) */
    { "bl +0x100", 0xF000, 0xF880, 0, -1, 0, 1, { PC + 4 + 0x100 } },
    { "bl -0x10", 0xF7FF, 0xFFF8, 0, -1, 0, 1, { PC + 4 - 0x10 } },
    /* BX / BLX register */
    { "bx lr", 0x4770, 0, 0, -1, 0, 1, { LR & ~1u } },
    { "blx r3", 0x4798, 0, 0, 3, 0x00205001u, 1, { 0x00205000u } },
    /* CBZ / CBNZ */
    { "cbz r0, +0x10", 0xB140, 0, 0, -1, 0, 2, { PC + 2, PC + 4 + 0x10 } },
    { "cbnz r2, +0x7e", 0xBBFA, 0, 0, -1, 0, 2, { PC + 2, PC + 4 + 0x7E } },
    /* MOV / ADD into pc */
    { "mov pc, lr", 0x46F7, 0, 0, -1, 0, 1, { LR & ~1u } },
    { "add pc, r3", 0x449F, 0, 0, 3, 6, 1, { PC + 4 + 6 } },
    /* LDR pc, [...]: every addressing form */
    { "ldr pc, [sp], #4", 0xF85D, 0xFB04, 0, -1, 0, 1, { 0x00201100u } },
    { "ldr.w pc, [r2, #8]", 0xF8D2, 0xF008, 0, -1, 0, 1, { 0x00202100u } },
    { "ldr pc, [r2, #-4]", 0xF852, 0xFC04, 0, -1, 0, 1, { 0x00202000u } },
    { "ldr pc, [r2, #4]! (pre-indexed)", 0xF852, 0xFF04, 0, -1, 0, 1, { 0x00000700u } },
    { "ldr pc, [r2, r3, lsl #2]", 0xF852, 0xF023, 0, 3, 2, 1, { 0x00202100u } },
    { "ldr.w pc, [pc, #4] (literal)", 0xF8DF, 0xF004, 0, -1, 0, 1, { 0x00202200u } },
    /* POP / LDM with pc */
    { "pop {pc}", 0xBD00, 0, 0, -1, 0, 1, { 0x00201100u } },
    { "pop {r4, pc}", 0xBD10, 0, 0, -1, 0, 1, { 0x00201200u } },
    { "pop.w {r4-r11, pc}", 0xE8BD, 0x8FF0, 0, -1, 0, 1, { 0x00201900u } },
    { "ldm r2, {r0, r1, pc}", 0xE892, 0x8003, 0, -1, 0, 1, { 0x00202100u } },
    { "ldmdb r2!, {r4, pc}", 0xE932, 0x8010, 0, -1, 0, 1, { 0x00202000u } },
    { "pop {pc} from unreadable memory: left out", 0xBD00, 0, 0, 13, 0x30000000u, 0, { 0 } },
    /* TBB / TBH */
    { "tbb [pc, r3]", 0xE8DF, 0xF003, 0, 3, 2, 1, { PC + 4 + 2 * 0x33 } },
    { "tbh [pc, r1, lsl #1]", 0xE8DF, 0xF011, 0, 1, 5, 1, { PC + 4 + 2 * 0x30 } },
    { "tbb [r2, r1]", 0xE8D2, 0xF001, 0, 1, 5, 1, { PC + 4 + 2 * 0x07 } },
    /* inside an IT block: a conditional jump may also fall through */
    { "it eq", 0xBF08, 0, 0, -1, 0, 1, { PC + 2 } },
    { "moveq r0, #1 (in IT)", 0x2001, 0, XPSR_T | IT_EQ, -1, 0, 1, { PC + 2 } },
    { "bxeq lr (in IT)", 0x4770, 0, XPSR_T | IT_EQ, -1, 0, 2, { LR & ~1u, PC + 2 } },
    { "popne {r4, pc} (in IT)", 0xBD10, 0, XPSR_T | IT_NE, -1, 0, 2, { 0x00201200u, PC + 2 } },
    { "beq.n +10 (b T2 in IT)", 0xE005, 0, XPSR_T | IT_EQ, -1, 0, 2, { PC + 4 + 10, PC + 2 } },
    { "ldreq.w pc, [r2, #8] (in IT)", 0xF8D2, 0xF008, XPSR_T | IT_EQ, -1, 0, 2, { 0x00202100u, PC + 4 } },
};

static void fill_regs(const row *r, uint32_t regs[17])
{
    for (unsigned i = 0; i < 13; i++) {
        regs[i] = 0;
    }
    regs[1] = 5;
    regs[2] = R2;
    regs[3] = 2;
    regs[13] = SP;
    regs[14] = LR;
    regs[15] = PC;
    regs[16] = r->xpsr != 0 ? r->xpsr : XPSR_T;
    if (r->reg >= 0) {
        regs[r->reg] = r->value;
    }
}

static bool contains(const uint32_t *set, unsigned n, uint32_t value)
{
    for (unsigned i = 0; i < n; i++) {
        if (set[i] == value) {
            return true;
        }
    }
    return false;
}

static void test_every_row(void **state)
{
    (void)state;
    unsigned failed = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row *r = &rows[i];
        uint32_t regs[17], next[2] = { 0xDEADBEEFu, 0xDEADBEEFu };
        fill_regs(r, regs);
        unsigned n = thumb_next_pcs(PC, r->hw0, r->hw1, regs, read_word, NULL, next);
        bool ok = n == r->n;
        for (unsigned k = 0; ok && k < n; k++) {
            ok = contains(r->next, r->n, next[k]) && contains(next, n, r->next[k]);
        }
        if (!ok) {
            print_error("%-44s got %u {%08x %08x}, want %u {%08x %08x}\n", r->what, n,
                        n > 0 ? next[0] : 0, n > 1 ? next[1] : 0, r->n, r->next[0], r->next[1]);
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}

/* TBB/TBH and LDR read their target through the callback, at the table entry's
 * word: an unreadable table leaves the branch out but still has no fall-through
 * through a jump table (the instruction always branches). */
static void test_unreadable_table(void **state)
{
    (void)state;
    uint32_t regs[17], next[2];
    row r = { "tbb [r2, r3]", 0xE8D2, 0xF003, 0, 2, 0x30000000u, 0, { 0 } };
    fill_regs(&r, regs);
    assert_int_equal(thumb_next_pcs(PC, r.hw0, r.hw1, regs, read_word, NULL, next), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_row),
        cmocka_unit_test(test_unreadable_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
