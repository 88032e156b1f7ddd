/*
 * Thumb next-instruction candidates (lib_thumb_step.h). Covers what
 * compiled Armv8-M code uses to leave straight-line flow: B (T1-T4), BL,
 * CBZ/CBNZ, BX/BLX register, POP/LDM with pc, LDR pc,[sp],#4, MOV/ADD
 * into pc, TBB/TBH. Anything else falls through.
 */
#include "lib_thumb_step.h"

static uint32_t sign_extend(uint32_t value, unsigned bits)
{
    uint32_t m = 1u << (bits - 1u);
    return (value ^ m) - m;
}

static unsigned popcount16(uint32_t v)
{
    unsigned n = 0;
    for (; v != 0; v &= v - 1u) {
        n++;
    }
    return n;
}

/* The pc loaded by a pop of reglist from sp (pc last). */
static unsigned pop_pc(uint32_t sp, uint32_t reglist, thumb_read_word read, void *ctx,
                       uint32_t *next)
{
    uint32_t value;
    if (!read(ctx, sp + 4u * (popcount16(reglist) - 1u), &value)) {
        return 0;
    }
    *next = value & ~1u;
    return 1;
}

static unsigned branch32(uint32_t pc, uint16_t hw0, uint16_t hw1, uint32_t *next)
{
    uint32_t s = (hw0 >> 10) & 1u, j1 = (hw1 >> 13) & 1u, j2 = (hw1 >> 11) & 1u;
    if ((hw1 & 0x5000u) == 0x0000u) {       /* T3: conditional, 20-bit */
        uint32_t cond = (hw0 >> 6) & 0xFu;
        if (cond >= 0xEu) {
            return 0;
        }
        uint32_t imm = s << 20 | j2 << 19 | j1 << 18 | (hw0 & 0x3Fu) << 12 | (hw1 & 0x7FFu) << 1;
        *next = pc + 4u + sign_extend(imm, 21);
        return 1;
    }
    uint32_t i1 = !(j1 ^ s), i2 = !(j2 ^ s);
    uint32_t imm = s << 24 | i1 << 23 | i2 << 22 | (hw0 & 0x3FFu) << 12 | (hw1 & 0x7FFu) << 1;
    uint32_t target = pc + 4u + sign_extend(imm, 25);
    if ((hw1 & 0x5000u) == 0x4000u) {       /* BLX immediate: to Arm state, not on M */
        return 0;
    }
    *next = target;                          /* B.W T4 or BL */
    return 1;
}

unsigned thumb_next_pcs(uint32_t pc, uint16_t hw0, uint16_t hw1, const uint32_t regs[16],
                        thumb_read_word read, void *ctx, uint32_t next[2])
{
    bool wide = (hw0 & 0xF800u) >= 0xE800u;
    next[0] = pc + (wide ? 4u : 2u);
    uint32_t *target = &next[1];
    unsigned extra = 0;
    uint32_t sp = regs[13];
    if (!wide) {
        if ((hw0 & 0xF000u) == 0xD000u && (hw0 & 0x0F00u) < 0x0E00u) {        /* B<c> T1 */
            *target = pc + 4u + sign_extend((hw0 & 0xFFu) << 1, 9);
            extra = 1;
        } else if ((hw0 & 0xF800u) == 0xE000u) {                               /* B T2 */
            next[0] = pc + 4u + sign_extend((hw0 & 0x7FFu) << 1, 12);
        } else if ((hw0 & 0xF500u) == 0xB100u) {                               /* CBZ/CBNZ */
            *target = pc + 4u + (((hw0 >> 9) & 1u) << 6 | ((hw0 >> 3) & 0x1Fu) << 1);
            extra = 1;
        } else if ((hw0 & 0xFF00u) == 0x4700u) {                               /* BX/BLX Rm */
            next[0] = regs[(hw0 >> 3) & 0xFu] & ~1u;
        } else if ((hw0 & 0xFF00u) == 0xBD00u) {                               /* POP {..pc} */
            return pop_pc(sp, (hw0 & 0xFFu) | 0x8000u, read, ctx, next);
        } else if ((hw0 & 0xFD87u) == 0x4487u) {                               /* ADD/MOV pc, Rm */
            uint32_t rm = regs[(hw0 >> 3) & 0xFu] + ((hw0 >> 3 & 0xFu) == 15u ? 4u : 0u);
            next[0] = ((hw0 & 0x0200u) ? rm : pc + 4u + rm) & ~1u;
        }
        return 1u + extra;
    }
    if ((hw0 & 0xF800u) == 0xF000u && (hw1 & 0x8000u) == 0x8000u) {           /* B.W, BL */
        uint32_t to;
        if (branch32(pc, hw0, hw1, &to) == 0) {
            return 1;
        }
        if ((hw1 & 0x5000u) == 0x0000u) {
            *target = to;
            return 2;
        }
        next[0] = to;
        return 1;
    }
    if ((hw0 == 0xE8BDu || hw0 == 0xE89Du) && (hw1 & 0x8000u)) {               /* POP.W/LDM {..pc} */
        return pop_pc(sp, hw1, read, ctx, next);
    }
    if (hw0 == 0xF85Du && hw1 == 0xFB04u) {                                    /* LDR pc, [sp], #4 */
        return pop_pc(sp, 0x8000u, read, ctx, next);
    }
    if ((hw0 & 0xFFF0u) == 0xE8D0u && (hw1 & 0xFFE0u) == 0xF000u) {            /* TBB/TBH */
        uint32_t base = regs[hw0 & 0xFu] + ((hw0 & 0xFu) == 15u ? 4u : 0u);
        uint32_t index = regs[hw1 & 0xFu];
        bool half = (hw1 & 0x10u) != 0;
        uint32_t at = base + (half ? 2u * index : index);
        uint32_t word;
        if (!read(ctx, at & ~3u, &word)) {
            return 1;
        }
        uint32_t entry = half ? (word >> (8u * (at & 2u))) & 0xFFFFu : (word >> (8u * (at & 3u))) & 0xFFu;
        next[0] = pc + 4u + 2u * entry;
        return 1;
    }
    return 1;
}
