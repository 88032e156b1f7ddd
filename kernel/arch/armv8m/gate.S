/*
 * The system-call gate: the only way from the app into the kernel.
 *
 * Entry N of the table (sdk/syscalls.def) sits at the fixed address
 * BOARD_GATE_BASE + 8*N in a Non-Secure-Callable region: "sg; b.w thunk".
 * Each thunk calls the C implementation with the app's r0-r3 unchanged, then
 * clears every caller-saved register and the flags except the MvStatus in r0
 * (callee-saved registers are restored by the C code itself) and returns to
 * the app with bxns. No call takes more than four arguments, so the kernel
 * never reads the app's stack here.
 */
    .syntax unified
    .thumb

.macro gate_entry index, name, impl
    .section .gate, "ax", %progbits
    .org \index * 8
    .global bw_gate_\name
    .type bw_gate_\name, %function
bw_gate_\name:
    sg
    b.w     bw_thunk_\name

    .section .text.bw_thunk_\name, "ax", %progbits
    .type bw_thunk_\name, %function
    .thumb_func
bw_thunk_\name:
    push    {r4, lr}
    bl      \impl
    pop     {r4, lr}
    movs    r1, #0
    mov     r2, r1
    mov     r3, r1
    mov     r12, r1
    msr     APSR_nzcvq, r1
    bxns    lr
.endm

#define MV_SYSCALL(index, name, impl) gate_entry index, name, impl
#include "syscalls.def"

    .section .gate, "ax", %progbits
    .global bw_gate_end
bw_gate_end:
