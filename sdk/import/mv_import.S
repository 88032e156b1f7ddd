/*
 * The import library: every system call as an absolute Thumb function symbol
 * at its gate entry, BW_GATE_BASE + 8 * slot, the slot from the board's gate
 * layout (port/<board>/gate_layout.def), so an app links calls by name and
 * the linker adds a long-branch veneer where the gate is out of BL range.
 */
    .syntax unified
    .thumb

#define BW_GATE_SLOT(slot, name) \
    .global name; .type name, %function; .set name, BW_GATE_BASE + 8 * slot + 1

#include "gate_layout.def"
