/*
 * The import library: every system call as an absolute Thumb function symbol
 * at its gate entry (BW_GATE_BASE + 8 * index, from sdk/syscalls.def), so an
 * app links calls by name and the linker adds a long-branch veneer where the
 * gate is out of BL range.
 */
    .syntax unified
    .thumb

#define MV_SYSCALL(index, name, impl) \
    .global name; .type name, %function; .set name, BW_GATE_BASE + 8 * index + 1

#include "syscalls.def"
