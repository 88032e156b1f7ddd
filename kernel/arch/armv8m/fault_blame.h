/*
 * Whose fault is it: the kernel's or the app's? The decision alone, as a pure
 * function over what the secure fault handler read (faults.c gathers it), so
 * the host unit tests can put every case to it (tests/unit/test_fault_blame.c).
 * No register access here: it builds for the host too.
 */
#ifndef FAULT_BLAME_H
#define FAULT_BLAME_H

#include <stdbool.h>
#include <stdint.h>

/* What the secure fault handler saw at entry, before it changed anything. */
typedef struct fault_evidence {
    uint32_t exc_return;    /* LR at fault entry */
    bool frame_found;       /* a whole exception frame lies on the kernel stack at SP */
    uint32_t pc;            /* that frame's return address (when frame_found) */
    uint32_t xpsr;          /* that frame's xPSR (when frame_found) */
    uint32_t cfsr, cfsr_ns, hfsr, sfsr;  /* fault status, secure and app banks */
    uint32_t shcsr;         /* SHCSR, secure bank: which secure system exceptions are active */
    bool irq_secure_active; /* the IRQ the frame's IPSR names (>= 16) is the kernel's (ITNS = 0) and active */
    uint32_t text_start, text_end;  /* kernel .text: [start, end) */
} fault_evidence;

/* True when the evidence says secure kernel code faulted on its own (the
 * chip must reset); false for an app crash. Rules: docs/DESIGN.md, "The
 * gate and the fault path" and "Kernel faults outside kernel text". */
bool fault_blame_kernels(const fault_evidence *e);

#endif
