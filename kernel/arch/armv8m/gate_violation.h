/*
 * What the gate (gate.S) and the C side of its violation path (gate_guard.c)
 * agree on. Plain defines: included by the assembler too.
 */
#ifndef GATE_VIOLATION_H
#define GATE_VIOLATION_H

/* Why the gate refused a call as an app fault (arch_gate_violation's kind). */
#define BW_GATE_BAD_RETURN 1   /* detail: the return address (EXC_RETURN or FNC_RETURN) */
#define BW_GATE_ABANDONED  2   /* detail: calls the kernel had in progress */

/* BASEPRI_S value that masks every app exception (AIRCR.PRIS puts all of
 * them at 0x80 and below) and no kernel one. */
#define BW_GATE_APP_MASK_PRIORITY 0x80

#endif
