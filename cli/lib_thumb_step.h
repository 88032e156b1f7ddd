/*
 * Where a Thumb instruction can go next, for single-stepping a target that
 * has only breakpoints (the GDB server's `s`, lib_debug_rsp.c): the address
 * after it and, for a branch, its target (conditions are not evaluated:
 * both are candidates, and the one not taken is never reached).
 */
#ifndef BULWARK_LIB_THUMB_STEP_H
#define BULWARK_LIB_THUMB_STEP_H

#include <stdbool.h>
#include <stdint.h>

/* Reads one word of target memory at addr; false when unreadable. */
typedef bool (*thumb_read_word)(void *ctx, uint32_t addr, uint32_t *value);

/* Fills next[0..n) (n <= 2, returned) with the addresses execution can
 * reach from the instruction at pc (halfwords hw0, hw1), given r0-r15 and
 * xPSR (regs[16]: its IT bits make a jump conditional). Targets that need
 * memory (POP/LDM/LDR into pc, TBB/TBH) are read through read; an
 * unreadable one is left out. */
unsigned thumb_next_pcs(uint32_t pc, uint16_t hw0, uint16_t hw1, const uint32_t regs[17],
                        thumb_read_word read, void *ctx, uint32_t next[2]);

#endif
