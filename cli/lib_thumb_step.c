/*
 * Thumb next-instruction candidates (lib_thumb_step.h). Covers what
 * compiled Armv8-M code uses to leave straight-line flow: B (T1-T4), BL,
 * CBZ/CBNZ, BX/BLX register, POP and LDM/LDMDB with pc, LDR pc (every
 * addressing form), MOV/ADD into pc, TBB/TBH. Anything else falls
 * through. Inside an IT block (xPSR's ITSTATE) a jump is conditional, so
 * its fall-through is a candidate too.
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

/* The pc loaded from the word at addr (bit 0, the Thumb bit, dropped). */
static unsigned load_pc(uint32_t addr, thumb_read_word read, void *ctx, uint32_t *next)
{
    uint32_t value;
    if (!read(ctx, addr, &value)) {
        return 0;
    }
    *next = value & ~1u;
    return 1;
}

/* The pc loaded by a load-multiple of reglist upwards from base (pc last). */
static unsigned pop_pc(uint32_t base, uint32_t reglist, thumb_read_word read, void *ctx,
                       uint32_t *next)
{
    return load_pc(base + 4u * (popcount16(reglist) - 1u), read, ctx, next);
}

/* A register as an operand: pc reads as the instruction's address + 4. */
static uint32_t operand(const uint32_t regs[17], uint32_t pc, unsigned r)
{
    return r == 15u ? pc + 4u : regs[r];
}

/* LDR (immediate T3/T4, literal, register) with Rt = pc: the word's address
 * into *addr; false for any other instruction. */
static bool ldr_pc_address(uint32_t pc, uint16_t hw0, uint16_t hw1, const uint32_t regs[17],
                           uint32_t *addr)
{
    unsigned rn = hw0 & 0xFu;
    if ((hw1 & 0xF000u) != 0xF000u || (hw0 & 0xFF70u) != 0xF850u) {
        return false;                                  /* not LDR(.W) into pc */
    }
    if (rn == 15u) {                                   /* literal: U is bit 7 */
        uint32_t base = (pc + 4u) & ~3u, imm = hw1 & 0xFFFu;
        *addr = (hw0 & 0x80u) ? base + imm : base - imm;
        return true;
    }
    uint32_t base = regs[rn];
    if ((hw0 & 0x80u) != 0) {                          /* T3: [Rn, #imm12] */
        *addr = base + (hw1 & 0xFFFu);
        return true;
    }
    if ((hw1 & 0x0FC0u) == 0) {                        /* register: [Rn, Rm, LSL #imm2] */
        *addr = base + (regs[hw1 & 0xFu] << ((hw1 >> 4) & 3u));
        return true;
    }
    if ((hw1 & 0x0800u) != 0) {                        /* T4: 1PUW imm8 */
        uint32_t imm = hw1 & 0xFFu;
        uint32_t offset = (hw1 & 0x200u) ? base + imm : base - imm;
        *addr = (hw1 & 0x400u) ? offset : base;
        return true;
    }
    return false;
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

/* The candidates as if the instruction were unconditional (IT aside). */
static unsigned next_pcs(uint32_t pc, uint16_t hw0, uint16_t hw1, const uint32_t regs[17],
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
            uint32_t rm = operand(regs, pc, (hw0 >> 3) & 0xFu);
            next[0] = ((hw0 & 0x0200u) ? rm : pc + 4u + rm) & ~1u;
        }
        return 1u + extra;
    }
    uint32_t addr;
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
    if ((hw0 & 0xFFD0u) == 0xE890u && (hw1 & 0x8000u)) {                       /* LDM(IA)/POP.W {..pc} */
        return pop_pc(regs[hw0 & 0xFu], hw1, read, ctx, next);
    }
    if ((hw0 & 0xFFD0u) == 0xE910u && (hw1 & 0x8000u)) {                       /* LDMDB {..pc}: pc at Rn-4 */
        return load_pc(regs[hw0 & 0xFu] - 4u, read, ctx, next);
    }
    if (ldr_pc_address(pc, hw0, hw1, regs, &addr)) {                           /* LDR pc, [...] */
        return load_pc(addr, read, ctx, next);
    }
    if ((hw0 & 0xFFF0u) == 0xE8D0u && (hw1 & 0xFFE0u) == 0xF000u) {            /* TBB/TBH */
        uint32_t base = operand(regs, pc, hw0 & 0xFu);
        uint32_t index = regs[hw1 & 0xFu];
        bool half = (hw1 & 0x10u) != 0;
        uint32_t at = base + (half ? 2u * index : index);
        uint32_t word;
        if (!read(ctx, at & ~3u, &word)) {
            return 0;                                  /* it always branches: nothing sure */
        }
        uint32_t entry = half ? (word >> (8u * (at & 2u))) & 0xFFFFu : (word >> (8u * (at & 3u))) & 0xFFu;
        next[0] = pc + 4u + 2u * entry;
        return 1;
    }
    return 1;
}

/* xPSR's ITSTATE: IT[7:2] in bits 15:10, IT[1:0] in bits 26:25; inside an
 * IT block when IT[3:0] is not zero. */
static bool in_it_block(uint32_t xpsr)
{
    uint32_t it = ((xpsr >> 8) & 0xFCu) | ((xpsr >> 25) & 3u);
    return (it & 0xFu) != 0;
}

unsigned thumb_next_pcs(uint32_t pc, uint16_t hw0, uint16_t hw1, const uint32_t regs[17],
                        thumb_read_word read, void *ctx, uint32_t next[2])
{
    unsigned n = next_pcs(pc, hw0, hw1, regs, read, ctx, next);
    uint32_t fall = pc + ((hw0 & 0xF800u) >= 0xE800u ? 4u : 2u);
    /* B<c>, CBZ and B<c>.W (the two-candidate ones) cannot be in an IT block. */
    if (in_it_block(regs[16]) && n < 2u && (n == 0u || next[0] != fall)) {
        next[n++] = fall;
    }
    return n;
}
